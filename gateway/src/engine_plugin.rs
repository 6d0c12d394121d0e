//! The plan limits only the engine can check, as Meshwork's one engine
//! plugin: a consumer plan's maximum operation cost (against the engine's
//! cost estimate, before any domain is called), per-domain plans (a
//! domain's own limits on each consumer's requests to it: the domains an
//! operation's query plan calls are counted once per request, all in one
//! go, one Redis round trip when limits are shared; a refused domain's
//! fetches are answered with `RATE_LIMITED` or `QUOTA_EXCEEDED`, `service`
//! naming it, and the rest of the answer stands as GraphQL's null rules
//! allow), and grants of a domain's own `@policy` policies named in the
//! caller's scopes.
//!
//! It is enabled whenever Meshwork's access control is (measured: every
//! mesh policy on, this plugin included, about 0.94 to 0.98 of the
//! throughput with them off; a plugin on the HTTP-request hook had cost
//! 14 %: the hook returns at once unless the subgraph cache is on, when
//! it stores whole operations, see `crate::cache`).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use hive_router::executor::execution::plan::PlanExecutionOutput;
use hive_router::executor::response::graphql_error::GraphQLError;
use hive_router::plugins::hooks::on_execute::{
    OnExecuteResponse, OnExecuteStartHookPayload, OnExecuteStartHookResult,
};
use hive_router::plugins::hooks::on_graphql_analysis::{
    OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult,
};
use hive_router::plugins::hooks::on_graphql_error::{
    OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult,
};
use hive_router::plugins::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::plugins::hooks::on_subgraph_http_request::{
    OnSubgraphHttpRequestHookPayload, OnSubgraphHttpRequestHookResult,
};
use hive_router::plugins::hooks::on_supergraph_load::{
    OnSupergraphLoadStartHookPayload, OnSupergraphLoadStartHookResult,
};
use hive_router::plugins::plugin_trait::{EndHookPayload, RouterPlugin, StartHookPayload};

use crate::authn::{Caller, Shared};
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use hive_router::query_planner::planner::plan_nodes::{CustomScalarPaths, PlanNode};

use crate::rate_limit::{Decision, RateLimiter};

pub(crate) const PLUGIN_NAME: &str = "meshwork";

/// What the plugin needs once authentication is ready.
pub(crate) struct PluginState {
    pub access: Arc<Shared>,
    pub limiter: RateLimiter,
}

/// One engine's plugin state. The gateway builds it before its engine
/// starts and the engine's plugin finds it by the number in its
/// configuration ([`Instance::register`]): two gateways in one process
/// never share it.
#[derive(Default)]
pub(crate) struct Instance {
    /// Set once authentication is ready (after the engine built its
    /// plugins).
    pub state: OnceLock<PluginState>,
    /// Where REST domains' derived subgraphs are served, and their key.
    pub rest: Option<crate::RestSubgraphs>,
    /// One fetch in this many to a strict domain has its answer checked
    /// against the served schema (none: no contract check).
    pub contracts: Option<u64>,
    /// What is reported to a control plane, when one is known.
    pub reports: Option<Arc<crate::contract::Reports>>,
    /// Subgraphs answered inside this process.
    pub in_process: Option<Arc<dyn crate::InProcessSubgraphs>>,
    /// Meshwork's access control is on: operations need the
    /// authentication middleware's mark (the gate fails closed).
    pub access_control: bool,
    /// Subgraph answers kept and served again (see `cache`).
    pub cache: Option<Arc<crate::cache::SubgraphCache>>,
    /// In-process fetches in flight, shared by identical requests.
    in_flight: crate::in_process::InFlight,
    /// Whether the served supergraph uses `@policy` at all (most do not):
    /// only then is a request's policy state read.
    schema_has_policies: AtomicBool,
    /// The served supergraph's public fields by type, for suggestions.
    public_fields: hive_router::ArcSwap<HashMap<String, Vec<String>>>,
    /// A supergraph reached the engine (its load hook ran).
    supergraph_loaded: AtomicBool,
    /// "No domain yet" was said in the log.
    said_empty: AtomicBool,
    /// Each fetch from a domain timed, with Meshwork's default metrics
    /// (`crate::latency`; set once the engine's exporter exists).
    pub latency: OnceLock<Arc<crate::latency::Latency>>,
}

/// Instances built but not yet taken by their engine's plugin.
static WAITING: LazyLock<Mutex<HashMap<u64, Arc<Instance>>>> = LazyLock::new(Mutex::default);
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

/// The plugin's configuration: which instance it serves.
#[derive(serde::Deserialize)]
pub(crate) struct PluginConfig {
    instance: u64,
}

impl Instance {
    pub(crate) fn new(
        rest: Option<crate::RestSubgraphs>,
        contracts: Option<u64>,
        reports: Option<Arc<crate::contract::Reports>>,
        in_process: Option<Arc<dyn crate::InProcessSubgraphs>>,
        access_control: bool,
        cache: Option<Arc<crate::cache::SubgraphCache>>,
    ) -> Self {
        Self {
            rest,
            contracts,
            reports,
            in_process,
            access_control,
            cache,
            ..Self::default()
        }
    }

    /// Leaves the instance for the plugin of the engine about to start;
    /// the number goes into that engine's plugin configuration.
    pub(crate) fn register(self: &Arc<Self>) -> u64 {
        let number = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut waiting) = WAITING.lock() {
            waiting.insert(number, self.clone());
        }
        number
    }

    /// Drops a registered instance no plugin took.
    pub(crate) fn forget(number: u64) {
        if let Ok(mut waiting) = WAITING.lock() {
            waiting.remove(&number);
        }
    }

    pub(crate) fn supergraph_loaded(&self) -> bool {
        self.supergraph_loaded.load(Ordering::Relaxed)
    }

    /// Says once in the log that operations are answered "empty mesh".
    pub(crate) fn warn_empty_once(&self) {
        if !self.said_empty.swap(true, Ordering::Relaxed) {
            tracing::warn!("the mesh has no domain with a schema yet: operations are answered 503 NO_SUPERGRAPH_AVAILABLE until one is composed (said once)");
        }
    }
}

pub(crate) struct MeshworkPlugin {
    instance: Arc<Instance>,
}

/// Domains refused for this request, with the error to answer their
/// fetches with.
struct RefusedDomains(HashMap<String, (&'static str, String)>);

/// The subgraphs a query plan calls.
fn domains_in<'a>(node: &'a PlanNode, out: &mut BTreeSet<&'a str>) {
    match node {
        PlanNode::Fetch(f) => {
            out.insert(&f.service_name);
        }
        PlanNode::BatchFetch(b) => {
            out.insert(&b.service_name);
        }
        PlanNode::Sequence(s) => s.nodes.iter().for_each(|n| domains_in(n, out)),
        PlanNode::Parallel(p) => p.nodes.iter().for_each(|n| domains_in(n, out)),
        PlanNode::Flatten(f) => domains_in(&f.node, out),
        PlanNode::Condition(c) => {
            for n in [&c.if_clause, &c.else_clause].into_iter().flatten() {
                domains_in(n, out);
            }
        }
        PlanNode::Subscription(s) => {
            out.insert(&s.primary.service_name);
        }
        PlanNode::Defer(d) => {
            if let Some(n) = &d.primary.node {
                domains_in(n, out);
            }
            for deferred in &d.deferred {
                if let Some(n) = &deferred.node {
                    domains_in(n, out);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl RouterPlugin for MeshworkPlugin {
    fn plugin_name() -> &'static str {
        PLUGIN_NAME
    }

    type Config = PluginConfig;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let number = payload.config()?.instance;
        // Fails the engine's start rather than run without the checks.
        let instance = WAITING
            .lock()
            .ok()
            .and_then(|mut waiting| waiting.remove(&number))
            .ok_or_else(|| format!("the Meshwork plugin's instance {number} was not registered"))?;
        payload.initialize_plugin(MeshworkPlugin { instance })
    }

    /// With the cache on: a whole operation that missed the cache and
    /// whose every fetch was kept is stored with its final answer (only
    /// here is the answer's body complete).
    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let Some(cache) = self.instance.cache.clone() else {
                return payload.proceed();
            };
            payload.on_end(move |end| {
                let pending = end
                    .context
                    .get_ref::<Arc<crate::cache::PendingOperation>>()
                    .map(|p| Arc::clone(&p));
                if let Some(pending) = pending {
                    store_operation(&cache, &pending, &end.response);
                }
                end.proceed()
            })
        })
    }

    /// Fetches to the control plane's REST subgraphs carry its key; no
    /// other subgraph ever sees it.
    async fn on_subgraph_http_request<'exec>(
        &'exec self,
        mut payload: OnSubgraphHttpRequestHookPayload<'exec>,
    ) -> OnSubgraphHttpRequestHookResult<'exec> {
        if let Some(rest) = &self.instance.rest {
            if payload.endpoint.to_string().starts_with(&rest.url_prefix) {
                if let Ok(value) = hive_router::http::HeaderValue::from_str(&rest.key) {
                    payload
                        .execution_request
                        .headers
                        .insert(crate::REST_KEY_HEADER, value);
                }
            }
        }
        payload.proceed()
    }

    /// Every error the engine reports names the request it belongs to; an
    /// empty mesh says so in words a new user can act on
    /// (the id in the `x-request-id` response header and the log lines).
    fn on_graphql_error<'req>(
        &'req self,
        mut payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        let code = payload.error.extensions.code.clone().unwrap_or_default();
        match code.as_str() {
            "NO_SUPERGRAPH_AVAILABLE" => payload.error.message = NO_DOMAINS.to_string(),
            "GRAPHQL_PARSE_FAILED" => {
                if let Some((message, line, column)) =
                    crate::errors::parse_failure(&payload.error.message)
                {
                    payload.error.message = message;
                    payload.error.locations = Some(vec![
                        hive_router::executor::response::graphql_error::GraphQLErrorLocation {
                            line,
                            column,
                        },
                    ]);
                }
            }
            "BAD_USER_INPUT" => {
                let body = payload.context.get_ref::<RawBody>();
                if let Some(message) = crate::errors::coercion_failure(
                    &payload.error.message,
                    body.as_deref().map(|b| b.0.as_ref()),
                ) {
                    payload.error.message = message;
                }
            }
            rule if crate::errors::is_rule_name(rule) => {
                // Suggestions name only public fields, and only to callers
                // who may introspect the schema anyway.
                let may_introspect = match payload.context.get_ref::<Caller>().as_deref() {
                    Some(Caller::Admitted(a)) => a.identity.introspection,
                    _ => true,
                };
                if rule == "FieldsOnCorrectType" && may_introspect {
                    if let Some(hint) = crate::errors::did_you_mean(
                        &payload.error.message,
                        &self.instance.public_fields.load(),
                    ) {
                        payload.error.message.push_str(&hint);
                    }
                }
                payload.error.extensions.code = Some("GRAPHQL_VALIDATION_FAILED".to_string());
                payload
                    .error
                    .extensions
                    .extensions
                    .insert("rule".to_string(), hive_router::sonic_rs::Value::from(rule));
            }
            _ => {}
        }
        if let Some(id) = crate::request_id::current() {
            payload.error.extensions.extensions.insert(
                "requestId".to_string(),
                hive_router::sonic_rs::Value::from(id.as_str()),
            );
        }
        // Authorization refusals by consumer (the engine refuses fields its
        // @requiresScopes/@authenticated rules do not let the caller read).
        if payload.error.extensions.code.as_deref() == Some("UNAUTHORIZED_FIELD_OR_TYPE") {
            let consumer = consumer_label(payload.context);
            crate::mesh_metrics::refusal(&consumer, "unauthorized_field");
        }
        payload.proceed()
    }

    fn on_supergraph_reload<'exec>(
        &'exec self,
        payload: OnSupergraphLoadStartHookPayload,
    ) -> OnSupergraphLoadStartHookResult<'exec> {
        let instance = &self.instance;
        instance.supergraph_loaded.store(true, Ordering::Relaxed);
        let sdl = payload.new_ast.to_string();
        if let Some(cache) = &instance.cache {
            cache.clear(&sdl);
        }
        instance
            .public_fields
            .store(Arc::new(crate::errors::public_fields(&payload.new_ast)));
        let composition = crate::contract::composition_of(&payload.new_ast);
        instance
            .schema_has_policies
            .store(sdl.contains("@policy("), Ordering::Relaxed);
        let reports = instance.reports.clone();
        if let (Some(reports), Some(_)) = (&reports, instance.contracts) {
            reports.load_schema(&sdl);
        }
        // Reported once the engine built the new supergraph (its end hook),
        // never before: the control plane must not hear of a version this
        // gateway does not serve yet.
        payload.on_end(move |end| {
            if let Some(reports) = reports {
                reports.served(composition);
            }
            end.proceed()
        })
    }

    /// The gate: no operation runs unless Meshwork's authentication
    /// middleware saw its request (whatever path or method it came by) and
    /// admitted its caller, or found no credential where anonymous callers
    /// are allowed. Fails closed: a request the middleware did not mark is
    /// refused.
    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        if !self.instance.access_control {
            // No access control on this gateway (the plugin serves the
            // cache, contracts or in-process subgraphs): nothing to gate.
            self.note_operation_key(&payload);
            return payload.proceed();
        }
        let allow_anonymous = self
            .instance
            .state
            .get()
            .map(|s| s.access.allows_anonymous());
        let refusal = match (
            payload.context.get_ref::<Caller>().as_deref(),
            allow_anonymous,
        ) {
            (Some(Caller::Admitted(_)), Some(_)) | (Some(Caller::Anonymous), Some(true)) => None,
            (Some(Caller::Anonymous), Some(false)) => Some(
                "This mesh needs a credential: `Authorization: Bearer <JWT>` or an API key."
                    .to_string(),
            ),
            _ => {
                tracing::warn!(
                    path = payload.router_http_request.path,
                    "a GraphQL request reached the engine without passing authentication; refused"
                );
                Some(format!(
                    "Send GraphQL requests to `{}`; this request was not authenticated and is refused.",
                    self.instance
                        .state
                        .get()
                        .map(|s| s.access.graphql_path().to_string())
                        .unwrap_or_else(|| "/graphql".into())
                ))
            }
        };
        if let Some(message) = refusal {
            return payload.end_with_response(crate::authn::unauthenticated(message));
        }
        // Kept (a reference count, no copy) for the error hook to name a
        // variable whose value is refused; only when there are variables.
        if memchr::memmem::find(&payload.body, b"\"variables\"").is_some() {
            payload.context.insert(RawBody(payload.body.clone()));
        }
        // Every domain is gone: the engine still holds the last supergraph,
        // but nothing behind it may be served any more.
        if self
            .instance
            .state
            .get()
            .is_some_and(|s| s.access.mesh_empty())
        {
            return payload.end_with_response(no_domains());
        }
        self.note_operation_key(&payload);
        payload.proceed()
    }

    /// A domain's own `@policy(policies: …)` is granted to callers whose
    /// scopes (token scopes and grants) include the policy's name.
    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        if !self.instance.schema_has_policies.load(Ordering::Relaxed) {
            return OnGraphqlAnalysisHookResult::Proceed;
        }
        let Some(caller) = payload.context.get_ref::<Caller>() else {
            return OnGraphqlAnalysisHookResult::Proceed;
        };
        let Some(scopes) = caller.admitted().map(|a| &a.identity.scopes) else {
            return OnGraphqlAnalysisHookResult::Proceed;
        };
        if scopes.is_empty() {
            return OnGraphqlAnalysisHookResult::Proceed;
        }
        let granted: Vec<String> = match payload.request_context.read() {
            Ok(read) => read
                .authorization()
                .required_policies()
                .map(|required| {
                    required
                        .keys()
                        .filter(|policy| scopes.iter().any(|s| s == policy.as_str()))
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
        // `x-meshwork-cache-debug: 1`: the response tells which domain
        // answers came from the cache.
        let cache_trace = (self.instance.cache.is_some()
            && payload
                .router_http_request
                .headers
                .get(CACHE_DEBUG_HEADER)
                .is_some_and(|v| matches!(v.as_bytes(), b"1" | b"true")))
        .then(|| {
            let trace = CacheTrace::default();
            payload.context.insert(trace.clone());
            trace
        });
        let state = self.instance.state.get();
        let label = state.map(|_| consumer_label(payload.context));
        // `x-meshwork-products: 1`: the response tells each domain's schema
        // version, freshness and SLO status.
        let products = state
            .is_some_and(|_| {
                payload
                    .router_http_request
                    .headers
                    .get(PRODUCTS_HEADER)
                    .is_some_and(|v| matches!(v.as_bytes(), b"1" | b"true"))
            })
            .then(|| {
                let mut domains = BTreeSet::new();
                if let Some(node) = &payload.query_plan.node {
                    domains_in(node, &mut domains);
                }
                domains
                    .into_iter()
                    .map(str::to_string)
                    .collect::<BTreeSet<String>>()
            });
        let mut payload = payload;
        if let Some(state) = state {
            let result = execute_checks(state, payload).await;
            match result.control_flow {
                hive_router::plugins::plugin_trait::StartControlFlow::Proceed => {
                    payload = result.payload;
                }
                _ => {
                    if let Some(label) = &label {
                        crate::mesh_metrics::request(label, false);
                    }
                    return result;
                }
            }
        }
        // The whole-operation cache, once every check has passed; never
        // when the caller asked for per-request extensions.
        let pending = if cache_trace.is_none() && products.is_none() {
            match self.operation_lookup(&payload) {
                Lookup::Hit(body) => {
                    if let Some(label) = &label {
                        crate::mesh_metrics::request(label, true);
                    }
                    return payload.end_with_response(OnExecuteResponse::Output(
                        PlanExecutionOutput {
                            body: body.to_vec(),
                            error_count: 0,
                            status_code: hive_router::http::StatusCode::OK,
                        },
                    ));
                }
                Lookup::Miss(pending) => Some(pending),
                Lookup::Off => None,
            }
        } else {
            None
        };
        if label.is_none() && cache_trace.is_none() && pending.is_none() {
            return payload.proceed();
        }
        payload.on_end(move |mut end| {
            if let Some(pending) = &pending {
                if !end.errors.is_empty() {
                    pending.track.refuse();
                }
            }
            // Every operation counted by consumer and outcome.
            if let Some(label) = &label {
                crate::mesh_metrics::request(label, end.errors.is_empty());
            }
            if products.is_some() || cache_trace.is_some() {
                let products = products
                    .as_ref()
                    .zip(state)
                    .map(|(domains, state)| products_of(&state.access, domains));
                end.extensions.insert(
                    "meshwork".to_string(),
                    meshwork_extension(products, cache_trace.as_ref()),
                );
            }
            end.proceed()
        })
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        mut payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        let refusal = payload
            .context
            .get_ref::<RefusedDomains>()
            .and_then(|r| r.0.get(payload.subgraph_name).cloned());
        let instance = &self.instance;
        // The whole operation this fetch belongs to, when it may be kept.
        let operation = payload
            .context
            .get_ref::<Arc<crate::cache::PendingOperation>>()
            .map(|p| Arc::clone(&p));
        if let Some(operation) = &operation {
            operation.track.started();
        }
        match refusal {
            None => {
                // The cache first: a hit calls no domain (and is no fetch
                // for the traffic counts or the contract check).
                let mut store = None;
                let mut partial = None;
                if let Some(cache) = &instance.cache {
                    // The catalog's purges first, and the domain's own
                    // lifetime for answers without Cache-Control.
                    let (domain_ttl, shared) = match instance.state.get() {
                        Some(state) => {
                            let snapshot = state.access.snapshot();
                            cache.apply_purges(&snapshot.cache_purges);
                            (
                                snapshot
                                    .cache_ttls
                                    .get(payload.subgraph_name)
                                    .map(|s| std::time::Duration::from_secs(u64::from(*s))),
                                cache.shared_namespace(
                                    payload.subgraph_name,
                                    &snapshot.cache_purges,
                                ),
                            )
                        }
                        None => (None, cache.shared_namespace(payload.subgraph_name, &[])),
                    };
                    let epoch = cache.epoch();
                    let request = &payload.execution_request;
                    if let Some(key) = crate::cache::SubgraphCache::key(
                        payload.subgraph_name,
                        request.query,
                        request.operation_name.as_deref(),
                        request.variables.as_ref(),
                        request.raw_variable_values.as_deref(),
                        &request.headers,
                    ) {
                        let trace = payload.context.get_ref::<CacheTrace>();
                        let whole = cache
                            .get(&key)
                            .map(|hit| (hit.bytes.clone(), hit.age(), hit.remaining()));
                        // Else each entity of a batch on its own: a hit
                        // when every one was fetched before, in any batch;
                        // when only some were, the domain is asked for the
                        // others alone (below).
                        let entities = match whole {
                            Some(_) => None,
                            None => cache.entity_keys(
                                payload.subgraph_name,
                                request.query,
                                request.operation_name.as_deref(),
                                request.variables.as_ref(),
                                request.raw_variable_values.as_deref(),
                                &request.headers,
                            ),
                        };
                        let mut some = None;
                        let mut found = whole.or_else(|| {
                            match entities.as_ref().map(|keys| cache.lookup_entities(keys)) {
                                Some(crate::cache::EntityLookup::All(bytes, age, remaining)) => {
                                    Some((bytes, age, remaining))
                                }
                                Some(crate::cache::EntityLookup::Some(cached)) => {
                                    some = Some(cached);
                                    None
                                }
                                _ => None,
                            }
                        });
                        // Then the replicas' shared tier, when there is one.
                        if let (None, Some(namespace)) = (&found, &shared) {
                            found = cache.get_shared(namespace, &key, entities.as_ref()).await;
                        }
                        if let Some((bytes, age, remaining)) = found {
                            if let Ok(response) = SubgraphResponse::deserialize_from_bytes(
                                bytes,
                                request.custom_scalar_paths,
                            ) {
                                if let Some(trace) = trace {
                                    trace.push(payload.subgraph_name, Some(age));
                                }
                                if let Some(operation) = &operation {
                                    operation.track.kept(payload.subgraph_name, remaining);
                                }
                                return payload.end_with_response(response);
                            }
                        }
                        // Part of the batch cached: only the entities
                        // missing are fetched (and kept, each under its
                        // key; the cached ones keep their own lifetimes).
                        let mut entities = entities;
                        let mut cached_remaining = None;
                        if let (Some(some), Some(keys)) = (some, entities.clone()) {
                            if let Some((narrowed, missing)) = some.narrow(
                                payload.execution_request.raw_variable_values.as_mut(),
                                &keys,
                            ) {
                                cached_remaining = Some(narrowed.remaining);
                                entities = Some(missing);
                                partial = Some(narrowed);
                            }
                        }
                        if let Some(trace) = trace {
                            match &partial {
                                Some(p) => trace.push_partial(payload.subgraph_name, p.counts()),
                                None => trace.push(payload.subgraph_name, None),
                            }
                        }
                        store = Some(Store {
                            cache: cache.clone(),
                            key,
                            shared,
                            entities,
                            epoch,
                            domain_ttl,
                            cached_remaining,
                        });
                    }
                }
                // The runtime contract check: a sample of strict domains'
                // answers (fetches the cache answered are not sampled).
                let contract = match (&instance.reports, instance.contracts) {
                    (Some(reports), Some(every))
                        if instance
                            .state
                            .get()
                            .is_some_and(|s| s.access.is_strict(payload.subgraph_name))
                            && reports.sampled(every) =>
                    {
                        Some(Sample {
                            reports: reports.clone(),
                            domain: payload.subgraph_name.to_string(),
                            query: payload.execution_request.query.to_string(),
                        })
                    }
                    _ => None,
                };
                if store.is_none() {
                    if let Some(operation) = &operation {
                        operation.track.refuse();
                    }
                }
                let after = AfterFetch {
                    timing: instance
                        .latency
                        .get()
                        .map(|latency| latency.fetch(payload.subgraph_name)),
                    contract,
                    fetch: instance
                        .reports
                        .as_ref()
                        .and_then(|r| r.traffic.start(payload.subgraph_name)),
                    store: store.map(|store| (store, operation)),
                    partial,
                };
                match &instance.in_process {
                    Some(local) => {
                        answer_in_process(&instance.in_flight, local.as_ref(), payload, after).await
                    }
                    None => on_end_checks(payload, after),
                }
            }
            Some((code, message)) => {
                if let Some(operation) = &operation {
                    operation.track.refuse();
                }
                let error = GraphQLError::from_message_and_code(message, code)
                    .add_subgraph_name(payload.subgraph_name);
                payload.end_with_graphql_error(error, hive_router::http::StatusCode::OK)
            }
        }
    }
}

/// A fetch whose answer is checked against the served schema.
struct Sample {
    reports: Arc<crate::contract::Reports>,
    domain: String,
    query: String,
}

impl Sample {
    fn check(&self, body: &[u8]) {
        self.reports.check(&self.domain, &self.query, body);
    }
}

/// What follows a fetch: the contract check of a sampled answer, the
/// traffic count (a fetch whose end never comes counts as failed when its
/// guard is dropped), and keeping the answer in the cache.
struct AfterFetch {
    /// The fetch's duration, measured when it is answered (or dropped
    /// unanswered).
    timing: Option<crate::latency::Fetch>,
    contract: Option<Sample>,
    fetch: Option<crate::traffic::Fetch>,
    /// Where the answer goes in the cache, and the whole operation told
    /// whether it went.
    store: Option<(Store, Option<Arc<crate::cache::PendingOperation>>)>,
    /// A batch the cache answered in part: the fetched entities are
    /// merged with the cached ones.
    partial: Option<crate::cache::Partial>,
}

/// Where a fetch's answer goes in the cache.
struct Store {
    cache: Arc<crate::cache::SubgraphCache>,
    key: Arc<str>,
    /// The shared tier's namespace when the fetch started.
    shared: Option<Arc<str>>,
    /// For an `_entities` fetch: each entity's key.
    entities: Option<crate::cache::EntityKeys>,
    /// The cache's epoch when the fetch started.
    epoch: crate::cache::Epoch,
    domain_ttl: Option<std::time::Duration>,
    /// A batch the cache answered in part: the shortest remaining
    /// lifetime of the cached entities; only the fetched entities are
    /// kept (the whole answer is not: it would outlive them).
    cached_remaining: Option<std::time::Duration>,
}

impl AfterFetch {
    fn is_empty(&self) -> bool {
        self.timing.is_none()
            && self.contract.is_none()
            && self.fetch.is_none()
            && self.store.is_none()
            && self.partial.is_none()
    }

    /// The fetch's answer, once checked, counted and kept: as the domain
    /// gave it, or, for a batch the cache answered in part, merged with
    /// the cached entities.
    fn finish<'e>(
        mut self,
        response: SubgraphResponse<'e>,
        custom_scalar_paths: Option<&'e CustomScalarPaths>,
    ) -> SubgraphResponse<'e> {
        let partial = self.partial.take();
        self.answered(
            response.status,
            response.errors.as_ref().is_some_and(|e| !e.is_empty()),
            response.headers.as_deref(),
            response.bytes.as_ref(),
        );
        match partial {
            None => response,
            Some(partial) => merged(&partial, response, custom_scalar_paths),
        }
    }

    fn answered(
        self,
        status: Option<hive_router::http::StatusCode>,
        has_errors: bool,
        headers: Option<&hive_router::http::HeaderMap>,
        bytes: Option<&bytes::Bytes>,
    ) {
        if let (Some(sample), Some(bytes)) = (&self.contract, bytes) {
            sample.check(bytes);
        }
        if let Some(timing) = self.timing {
            timing.answered(status, has_errors);
        }
        let ok = status.is_none_or(|s| !s.is_server_error());
        if let Some(fetch) = self.fetch {
            fetch.answered(ok, has_errors);
        }
        if let Some((store, operation)) = self.store {
            // The key names its domain (its first line).
            let key = Arc::clone(&store.key);
            let whole = store.cached_remaining.is_none().then_some(store.key);
            let kept = bytes
                .and_then(|bytes| {
                    store.cache.store(
                        whole,
                        store.entities.as_ref(),
                        store.shared.as_ref(),
                        store.epoch,
                        status,
                        has_errors,
                        headers,
                        store.domain_ttl,
                        bytes,
                    )
                })
                .map(|ttl| store.cached_remaining.map_or(ttl, |r| ttl.min(r)));
            if let Some(operation) = operation {
                match kept {
                    Some(ttl) => operation.track.kept(crate::cache::domain_of(&key), ttl),
                    None => operation.track.refuse(),
                }
            }
        }
    }
}

/// What the whole-operation cache says of a request.
enum Lookup {
    /// Not cached here (no cache, not a query, refused domains, …).
    Off,
    /// The answer, complete.
    Hit(bytes::Bytes),
    /// Not found: the request's fetches are tracked to store its answer.
    Miss(Arc<crate::cache::PendingOperation>),
}

/// The whole operation's key, noted once the request passed the gate.
struct OperationKey(Arc<str>);

impl MeshworkPlugin {
    /// Notes the key of the request's whole operation when the cache is
    /// on and the caller did not ask for per-request extensions.
    fn note_operation_key(&self, payload: &OnGraphQLParamsStartHookPayload<'_>) {
        if self.instance.cache.is_none() {
            return;
        }
        let request = payload.router_http_request;
        if request.headers.contains_key(CACHE_DEBUG_HEADER)
            || request.headers.contains_key(PRODUCTS_HEADER)
        {
            return;
        }
        // The caller as Meshwork admitted it (its consumer, subject and
        // scopes); the credential itself is among the headers.
        let identity = match payload.context.get_ref::<Caller>().as_deref() {
            Some(Caller::Admitted(a)) => format!(
                "consumer={:?} subject={:?} scopes={:?}",
                a.identity.consumer, a.identity.subject, a.identity.scopes
            ),
            Some(Caller::Anonymous) => "anonymous".to_string(),
            None => "unmarked".to_string(),
        };
        if let Some(key) = crate::cache::SubgraphCache::operation_key(
            request.method.as_str(),
            request.path,
            request.query_string,
            &payload.body,
            request.headers,
            &identity,
        ) {
            payload.context.insert(OperationKey(key));
        }
    }

    /// Looks the operation up in the cache (queries only, and only when
    /// no domain of it was refused by a per-domain plan).
    fn operation_lookup(&self, payload: &OnExecuteStartHookPayload<'_>) -> Lookup {
        let Some(cache) = &self.instance.cache else {
            return Lookup::Off;
        };
        if !matches!(
            payload.operation_for_plan.operation_kind,
            None | Some(hive_router::query_planner::state::supergraph_state::OperationKind::Query)
        ) || payload.context.get_ref::<RefusedDomains>().is_some()
        {
            return Lookup::Off;
        }
        let Some(key) = payload
            .context
            .get_ref::<OperationKey>()
            .map(|k| Arc::clone(&k.0))
        else {
            return Lookup::Off;
        };
        // Purges first: an operation of a purged domain is not served.
        if let Some(state) = self.instance.state.get() {
            cache.apply_purges(&state.access.snapshot().cache_purges);
        }
        let epoch = cache.epoch();
        if let Some(hit) = cache.get(&key) {
            return Lookup::Hit(hit.bytes);
        }
        let pending = Arc::new(crate::cache::PendingOperation {
            key,
            epoch,
            track: crate::cache::OperationTrack::default(),
        });
        payload.context.insert(Arc::clone(&pending));
        Lookup::Miss(pending)
    }
}

/// Stores a whole operation's answer: a complete 200 JSON answer whose
/// every fetch was kept, for the shortest of their lifetimes.
fn store_operation(
    cache: &crate::cache::SubgraphCache,
    pending: &crate::cache::PendingOperation,
    response: &hive_router::ntex::web::WebResponse,
) {
    use hive_router::ntex::http::body::{Body, ResponseBody};
    let Some((ttl, domains)) = pending.track.verdict() else {
        return;
    };
    if response.status() != hive_router::ntex::http::StatusCode::OK {
        return;
    }
    let json = response
        .headers()
        .get(hive_router::ntex::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/graphql-response+json")
        });
    if !json {
        return;
    }
    let body = match response.response().body() {
        ResponseBody::Body(Body::Bytes(b)) | ResponseBody::Other(Body::Bytes(b)) => b,
        _ => return,
    };
    cache.store_operation(
        Arc::clone(&pending.key),
        pending.epoch,
        bytes::Bytes::copy_from_slice(body),
        ttl,
        domains,
    );
}

/// What runs when the engine's fetch ends (see [`AfterFetch`]).
/// A batch answered in part by the cache: the domain's answer to the
/// entities it was asked for, merged with the cached ones, its errors'
/// positions in each list (`_entities`, or a batch's alias) moved to the
/// whole list's. When the answer
/// cannot be merged (no list, or not one entity per entity asked for), the
/// fetch fails with the domain's errors or one saying why: never entities
/// in the wrong places.
fn merged<'e>(
    partial: &crate::cache::Partial,
    fetched: SubgraphResponse<'e>,
    custom_scalar_paths: Option<&'e CustomScalarPaths>,
) -> SubgraphResponse<'e> {
    use hive_router::executor::response::graphql_error::GraphQLErrorPathSegment as Segment;
    let errors = fetched.errors.map(|mut errors| {
        for error in &mut errors {
            if let Some(path) = &mut error.path {
                if let [Segment::String(field), Segment::Index(index), ..] =
                    path.segments.as_mut_slice()
                {
                    if let Some(position) = partial.position(field, *index) {
                        *index = position;
                    }
                }
            }
        }
        errors
    });
    let whole = fetched
        .bytes
        .as_deref()
        .ok_or_else(|| "the domain's answer has no body".to_string())
        .and_then(|bytes| partial.merge(bytes))
        .and_then(|bytes| {
            SubgraphResponse::deserialize_from_bytes(bytes, custom_scalar_paths)
                .map_err(|e| e.to_string())
        });
    match whole {
        Ok(mut response) => {
            response.errors = errors;
            response.headers = fetched.headers;
            response.status = fetched.status;
            response
        }
        Err(message) => {
            let mut errors = errors.unwrap_or_default();
            if errors.is_empty() {
                errors.push(GraphQLError::from_message_and_code(
                    message,
                    "SUBREQUEST_HTTP_ERROR",
                ));
            }
            SubgraphResponse {
                errors: Some(errors),
                headers: fetched.headers,
                status: fetched.status,
                ..Default::default()
            }
        }
    }
}

fn on_end_checks<'exec>(
    payload: OnSubgraphExecuteStartHookPayload<'exec>,
    after: AfterFetch,
) -> OnSubgraphExecuteStartHookResult<'exec> {
    if after.is_empty() {
        return payload.proceed();
    }
    let paths = payload.execution_request.custom_scalar_paths;
    payload.on_end(move |mut end| {
        let fetched = std::mem::take(&mut end.execution_result);
        end.execution_result = after.finish(fetched, paths);
        end.proceed()
    })
}

/// The request header that asks for the products part of `extensions.meshwork`.
const PRODUCTS_HEADER: &str = "x-meshwork-products";

/// `[{domain, schemaVersion, lastProducedAt, freshnessSeconds, slos:
/// {name: status}}]` for the domains an operation's plan fetched from (the
/// catalog's own subgraph left out).
fn products_of(access: &Shared, domains: &BTreeSet<String>) -> serde_json::Value {
    let now = chrono::Utc::now();
    domains
        .iter()
        .filter(|d| d.as_str() != "meshwork")
        .map(|d| {
            let p = access.product(d).unwrap_or_default();
            serde_json::json!({
                "domain": d,
                "schemaVersion": p.schema_version,
                "lastProducedAt": p.last_produced_at.map(|t| t.to_rfc3339()),
                "freshnessSeconds": p.last_produced_at.map(|t| (now - t).num_seconds().max(0)),
                "slos": p.slos,
            })
        })
        .collect()
}

/// The request header that asks for the cache's part of the extension.
const CACHE_DEBUG_HEADER: &str = "x-meshwork-cache-debug";

/// Which subgraph fetches of one request the cache answered, in order:
/// `{domain, hit, ageSeconds}`.
#[derive(Clone, Default)]
struct CacheTrace(Arc<std::sync::Mutex<Vec<serde_json::Value>>>);

impl CacheTrace {
    fn push(&self, domain: &str, age: Option<u64>) {
        self.record(
            serde_json::json!({ "domain": domain, "hit": age.is_some(), "ageSeconds": age }),
        );
    }

    /// A batch the cache answered in part: `{domain, hit: false,
    /// entities: {cached, fetched}}`.
    fn push_partial(&self, domain: &str, (cached, fetched): (usize, usize)) {
        self.record(serde_json::json!({
            "domain": domain,
            "hit": false,
            "ageSeconds": null,
            "entities": { "cached": cached, "fetched": fetched },
        }));
    }

    fn record(&self, fetch: serde_json::Value) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push(fetch);
        }
    }
}

/// `extensions.meshwork`: `products` and/or `cache`, as asked.
fn meshwork_extension(
    products: Option<serde_json::Value>,
    cache: Option<&CacheTrace>,
) -> hive_router::sonic_rs::Value {
    let mut value = serde_json::Map::new();
    if let Some(products) = products {
        value.insert("products".into(), products);
    }
    if let Some(trace) = cache {
        let fetches = trace.0.lock().map(|f| f.clone()).unwrap_or_default();
        value.insert("cache".into(), serde_json::Value::Array(fetches));
    }
    hive_router::sonic_rs::from_str(&serde_json::Value::Object(value).to_string())
        .unwrap_or_default()
}

/// Answers a fetch inside this process when the subgraph lives here,
/// else lets the engine send it over HTTP.
async fn answer_in_process<'exec>(
    in_flight: &crate::in_process::InFlight,
    local: &dyn crate::InProcessSubgraphs,
    payload: OnSubgraphExecuteStartHookPayload<'exec>,
    after: AfterFetch,
) -> OnSubgraphExecuteStartHookResult<'exec> {
    let answer = match crate::in_process::fetch(
        in_flight,
        local,
        payload.subgraph_name,
        &payload.execution_request,
    ) {
        None => return on_end_checks(payload, after),
        Some(answer) => answer.await,
    };
    let parsed = answer.and_then(|bytes| {
        SubgraphResponse::deserialize_from_bytes(
            bytes.clone(),
            payload.execution_request.custom_scalar_paths,
        )
        .map(|response| (response, bytes))
        .map_err(|e| format!("the in-process subgraph answered what the engine cannot read: {e}"))
    });
    match parsed {
        Ok((mut response, bytes)) => {
            response.bytes = Some(bytes);
            let response = after.finish(response, payload.execution_request.custom_scalar_paths);
            payload.end_with_response(response)
        }
        Err(message) => {
            // `after.fetch`, dropped unanswered, counts this as failed.
            drop(after);
            let error = GraphQLError::from_message_and_code(message, "SUBREQUEST_HTTP_ERROR")
                .add_subgraph_name(payload.subgraph_name);
            payload.end_with_graphql_error(error, hive_router::http::StatusCode::OK)
        }
    }
}

/// Meshwork's plan checks of an operation: the consumer plan's cost limit
/// and the per-domain plans.
async fn execute_checks<'exec>(
    state: &PluginState,
    payload: OnExecuteStartHookPayload<'exec>,
) -> OnExecuteStartHookResult<'exec> {
    let admitted = payload.context.get_ref::<Caller>().and_then(|c| match &*c {
        Caller::Admitted(a) => Some(a.clone()),
        Caller::Anonymous => None,
    });
    let identity = admitted.as_ref().map(|a| &a.identity);
    let consumer = identity.and_then(|i| i.consumer.as_deref());
    // The consumer plan's maximum cost, against the engine's estimate.
    if let (Some(estimate), Some(max)) = (
        payload.demand_control_estimate,
        consumer.and_then(|c| state.access.consumer_max_cost(c)),
    ) {
        if estimate.estimated > max {
            crate::mesh_metrics::refusal(consumer.unwrap_or("anonymous"), "cost");
            let error = GraphQLError::from_message_and_code(
                format!(
                    "The operation's estimated cost {} exceeds your plan's maximum of {max}.",
                    estimate.estimated
                ),
                "COST_ESTIMATED_TOO_EXPENSIVE",
            );
            return payload
                .end_with_graphql_error(error, hive_router::http::StatusCode::BAD_REQUEST);
        }
    }
    // Domains with plans this operation will call: counted once per
    // request each, in one go (one Redis round trip when shared).
    if !state.access.has_domain_plans() {
        return payload.proceed();
    }
    let mut domains = BTreeSet::new();
    if let Some(node) = &payload.query_plan.node {
        domains_in(node, &mut domains);
    }
    let caller = consumer
        .map(|c| format!("consumer:{c}"))
        .or_else(|| identity.map(|i| format!("subject:{}", i.subject)))
        .unwrap_or_else(|| "anonymous".to_string());
    let snapshot = state.access.snapshot();
    let planned: Vec<(&str, &access::PlanRecord)> = domains
        .into_iter()
        .filter_map(|d| snapshot.domain_plans.get(d).map(|plan| (d, plan)))
        .collect();
    if planned.is_empty() {
        return payload.proceed();
    }
    let checks: Vec<(String, access::PlanRecord)> = planned
        .iter()
        .map(|(d, plan)| (format!("domain:{d}:{caller}"), (*plan).clone()))
        .collect();
    let decisions = state.limiter.decide_many(&checks).await;
    let mut refused = HashMap::new();
    for ((domain, _), decision) in planned.into_iter().zip(decisions) {
        let (code, message) = match decision {
            Decision::Allow => continue,
            Decision::Limited(seconds) => (
                "RATE_LIMITED",
                format!("Rate limit of domain `{domain}` exceeded; retry in {seconds} s."),
            ),
            Decision::QuotaUsed(quota) => (
                "QUOTA_EXCEEDED",
                format!(
                    "Daily quota of {quota} requests to domain `{domain}` used up; it renews at 00:00 UTC."
                ),
            ),
            Decision::Unavailable => (
                "RATE_LIMIT_UNAVAILABLE",
                format!("Rate limits of domain `{domain}` cannot be checked right now; retry shortly."),
            ),
        };
        crate::mesh_metrics::refusal(
            consumer.unwrap_or("anonymous"),
            match code {
                "RATE_LIMITED" => "rate_limited",
                "QUOTA_EXCEEDED" => "quota_exceeded",
                _ => "limits_unavailable",
            },
        );
        refused.insert(domain.to_string(), (code, message));
    }
    if !refused.is_empty() {
        payload.context.insert(RefusedDomains(refused));
    }
    payload.proceed()
}

/// What an empty mesh answers: no domain has a schema to serve yet.
const NO_DOMAINS: &str = "The mesh has no domain with a schema yet, so there is nothing to query. Register a domain (`meshwork domain register --file DOMAIN.yaml`), then see `meshwork domain list` or the console at / for its schema pull.";

/// 503 for an operation on an empty mesh, with the engine's code for it.
pub(crate) fn no_domains() -> hive_router::ntex::web::HttpResponse {
    hive_router::ntex::web::HttpResponse::ServiceUnavailable()
        .header("retry-after", "10")
        .content_type("application/graphql-response+json; charset=utf-8")
        .body(crate::request_id::error_body(
            NO_DOMAINS,
            "NO_SUPERGRAPH_AVAILABLE",
        ))
}

/// The request body, kept when it carries variables (see `on_graphql_params`).
struct RawBody(hive_router::ntex::util::Bytes);

/// The metrics label of a request's caller: its consumer, else `anonymous`
/// (a bounded set: registered consumers only).
fn consumer_label(context: &hive_router::plugins::plugin_context::PluginContext) -> String {
    context
        .get_ref::<Caller>()
        .and_then(|c| match &*c {
            Caller::Admitted(a) => a.identity.consumer.clone(),
            Caller::Anonymous => None,
        })
        .unwrap_or_else(|| "anonymous".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_found_by_their_number_and_never_shared() {
        let one = Arc::new(Instance::new(None, Some(10), None, None, true, None));
        let two = Arc::new(Instance::new(None, None, None, None, false, None));
        let (a, b) = (one.register(), two.register());
        assert_ne!(a, b);
        let taken = WAITING.lock().ok().and_then(|mut w| w.remove(&a));
        assert!(taken.is_some_and(|t| Arc::ptr_eq(&t, &one)));
        // Taken once: a second engine cannot take the same state.
        assert!(WAITING.lock().ok().and_then(|mut w| w.remove(&a)).is_none());
        Instance::forget(b);
        assert!(WAITING.lock().ok().is_some_and(|w| !w.contains_key(&b)));
        // State set on one instance is not seen by another.
        one.supergraph_loaded.store(true, Ordering::Relaxed);
        assert!(one.supergraph_loaded());
        assert!(!two.supergraph_loaded());
    }

    #[test]
    fn the_extension_carries_what_was_asked() {
        let trace = CacheTrace::default();
        trace.push("orders", Some(3));
        trace.push("customers", None);
        let value: serde_json::Value = serde_json::from_str(
            &hive_router::sonic_rs::to_string(&meshwork_extension(None, Some(&trace)))
                .expect("json"),
        )
        .expect("json");
        assert_eq!(
            value,
            serde_json::json!({ "cache": [
                { "domain": "orders", "hit": true, "ageSeconds": 3 },
                { "domain": "customers", "hit": false, "ageSeconds": null }
            ] })
        );
        let products: serde_json::Value = serde_json::from_str(
            &hive_router::sonic_rs::to_string(&meshwork_extension(
                Some(serde_json::json!([{ "domain": "orders" }])),
                None,
            ))
            .expect("json"),
        )
        .expect("json");
        assert_eq!(
            products,
            serde_json::json!({ "products": [{ "domain": "orders" }] })
        );
    }
}
