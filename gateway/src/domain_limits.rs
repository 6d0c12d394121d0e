//! The plan limits only the engine can check, as Meshwork's one engine
//! plugin: a consumer plan's maximum operation cost (against the engine's
//! cost estimate, before any domain is called), and per-domain plans: a
//! domain's own limits on each consumer's traffic to it, checked when the
//! engine is about to call the domain. A consumer over
//! a domain's plan gets that domain's fetch refused (`RATE_LIMITED` or
//! `QUOTA_EXCEEDED`, `service` naming the domain); its fields are null and
//! nulls propagate by GraphQL's rules, the rest of the answer stands.
//!
//! It is enabled whenever Meshwork's access control is (measured: every
//! mesh policy on, this plugin included, 0.977 of the throughput with them
//! off; a plugin on the HTTP-request hook had cost 14 %).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use hive_router::executor::response::graphql_error::GraphQLError;
use hive_router::plugins::hooks::on_execute::{
    OnExecuteStartHookPayload, OnExecuteStartHookResult,
};
use hive_router::plugins::hooks::on_graphql_analysis::{
    OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult,
};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::plugins::hooks::on_supergraph_load::{
    OnSupergraphLoadStartHookPayload, OnSupergraphLoadStartHookResult,
};
use hive_router::plugins::plugin_trait::{RouterPlugin, StartHookPayload};

use crate::authn::{Shared, CONSUMER_HEADER, SCOPES_HEADER, SUBJECT_HEADER};
use crate::rate_limit::{Decision, RateLimiter};

pub(crate) const PLUGIN_NAME: &str = "meshwork_domain_limits";

/// What the plugin needs, set once before the engine starts (one gateway
/// per process).
pub(crate) struct DomainLimitState {
    pub access: Arc<Shared>,
    pub limiter: RateLimiter,
}

pub(crate) static STATE: OnceLock<DomainLimitState> = OnceLock::new();

/// Whether the served supergraph uses `@policy` at all (most do not): only
/// then is a request's policy state read.
static SCHEMA_HAS_POLICIES: AtomicBool = AtomicBool::new(false);

pub(crate) struct DomainLimits;

#[async_trait::async_trait]
impl RouterPlugin for DomainLimits {
    fn plugin_name() -> &'static str {
        PLUGIN_NAME
    }

    type Config = serde_json::Value;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        payload.initialize_plugin(DomainLimits)
    }

    fn on_supergraph_reload<'exec>(
        &'exec self,
        payload: OnSupergraphLoadStartHookPayload,
    ) -> OnSupergraphLoadStartHookResult<'exec> {
        let uses_policy = payload.new_ast.to_string().contains("@policy(");
        SCHEMA_HAS_POLICIES.store(uses_policy, Ordering::Relaxed);
        payload.proceed()
    }

    /// A domain's own `@policy(policies: …)` is granted to callers whose
    /// scopes (token scopes and grants) include the policy's name.
    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        if !SCHEMA_HAS_POLICIES.load(Ordering::Relaxed) {
            return OnGraphqlAnalysisHookResult::Proceed;
        }
        let Some(scopes) = payload
            .router_http_request
            .headers
            .get(SCOPES_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
        else {
            return OnGraphqlAnalysisHookResult::Proceed;
        };
        let granted: Vec<String> = match payload.request_context.read() {
            Ok(read) => read
                .authorization()
                .required_policies()
                .map(|required| {
                    required
                        .keys()
                        .filter(|policy| scopes.split(' ').any(|s| s == policy.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        if !granted.is_empty() {
            if let Ok(mut write) = payload.request_context.write() {
                let mut authorization = write.authorization();
                for policy in granted {
                    authorization.set_policy_decision(policy, true);
                }
            }
        }
        OnGraphqlAnalysisHookResult::Proceed
    }

    async fn on_execute<'exec>(
        &'exec self,
        payload: OnExecuteStartHookPayload<'exec>,
    ) -> OnExecuteStartHookResult<'exec> {
        let (Some(state), Some(estimate)) = (STATE.get(), payload.demand_control_estimate) else {
            return payload.proceed();
        };
        let max = payload
            .router_http_request
            .headers
            .get(CONSUMER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|consumer| state.access.consumer_max_cost(consumer));
        match max {
            Some(max) if estimate.estimated > max => {
                let error = GraphQLError::from_message_and_code(
                    format!(
                        "The operation's estimated cost {} exceeds your plan's maximum of {max}.",
                        estimate.estimated
                    ),
                    "COST_ESTIMATED_TOO_EXPENSIVE",
                );
                payload.end_with_graphql_error(error, hive_router::http::StatusCode::BAD_REQUEST)
            }
            _ => payload.proceed(),
        }
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        let Some(state) = STATE.get() else {
            return payload.proceed();
        };
        let Some(plan) = state.access.domain_plan(payload.subgraph_name) else {
            return payload.proceed();
        };
        let headers = payload.router_http_request.headers;
        let caller = headers
            .get(CONSUMER_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|c| format!("consumer:{c}"))
            .or_else(|| {
                headers
                    .get(SUBJECT_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| format!("subject:{s}"))
            })
            .unwrap_or_else(|| "anonymous".to_string());
        let who = format!("domain:{}:{caller}", payload.subgraph_name);
        let (code, message) = match state.limiter.decide(&who, &plan).await {
            Decision::Allow => return payload.proceed(),
            Decision::Limited(seconds) => (
                "RATE_LIMITED",
                format!(
                    "Rate limit of domain `{}` exceeded; retry in {seconds} s.",
                    payload.subgraph_name
                ),
            ),
            Decision::QuotaUsed(quota) => (
                "QUOTA_EXCEEDED",
                format!(
                    "Daily quota of {quota} requests to domain `{}` used up; it renews at 00:00 UTC.",
                    payload.subgraph_name
                ),
            ),
        };
        let error = GraphQLError::from_message_and_code(message, code)
            .add_subgraph_name(payload.subgraph_name);
        payload.end_with_graphql_error(error, hive_router::http::StatusCode::OK)
    }
}
