//! Requests per minute, with a burst, per caller, in-process (GCRA from the
//! `governor` crate). The caller is the bearer token's `iss` and `sub`, or
//! the client's IP address without a token. A refused request gets 429 with
//! `Retry-After`. Only the GraphQL endpoint is limited.
//!
//! The token is read unverified to pick a bucket: a forged token only buys
//! a fresh bucket for a request the engine then refuses as unauthenticated.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError, HttpResponse};
use hive_router::ntex::{Middleware, SharedCfg};

/// A plan: sustained requests per minute and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Callers remembered before idle buckets are dropped.
const MAX_TRACKED_CALLERS: usize = 100_000;

#[derive(Clone)]
pub(crate) struct RateLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    graphql_path: Arc<str>,
}

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>, graphql_path: &str) -> Self {
        Self {
            limiter: limit.map(|l| {
                Arc::new(governor::RateLimiter::keyed(
                    Quota::per_minute(l.per_minute).allow_burst(l.burst),
                ))
            }),
            graphql_path: graphql_path.into(),
        }
    }
}

fn caller(req: &web::WebRequest<DefaultError>) -> String {
    let claims = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::jwt_time::unverified_claims);
    if let Some(sub) = claims
        .as_ref()
        .and_then(|c| c.get("sub"))
        .and_then(|s| s.as_str())
    {
        let iss = claims
            .as_ref()
            .and_then(|c| c.get("iss"))
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        return format!("jwt:{iss}:{sub}");
    }
    match req.peer_addr() {
        Some(addr) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".to_string(),
    }
}

impl<S> Middleware<S, SharedCfg> for RateLimiter {
    type Service = RateLimitService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        RateLimitService {
            service,
            limits: self.clone(),
        }
    }
}

pub(crate) struct RateLimitService<S> {
    service: S,
    limits: RateLimiter,
}

impl<S> Service<web::WebRequest<DefaultError>> for RateLimitService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    async fn call(
        &self,
        req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        let Some(limiter) = &self.limits.limiter else {
            return ctx.call(&self.service, req).await;
        };
        if !req.path().starts_with(&*self.limits.graphql_path) {
            return ctx.call(&self.service, req).await;
        }
        if limiter.len() > MAX_TRACKED_CALLERS {
            limiter.retain_recent();
        }
        match limiter.check_key(&caller(&req)) {
            Ok(()) => ctx.call(&self.service, req).await,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let body = serde_json::json!({ "errors": [{
                    "message": format!("Rate limit exceeded; retry in {seconds} s."),
                    "extensions": { "code": "RATE_LIMITED" }
                }]});
                Ok(req.into_response(
                    HttpResponse::TooManyRequests()
                        .header("retry-after", seconds.max(1).to_string())
                        .content_type("application/graphql-response+json; charset=utf-8")
                        .body(body.to_string()),
                ))
            }
        }
    }
}
