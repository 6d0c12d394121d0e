//! Requests per minute, with a burst, per caller, in-process (GCRA from the
//! `governor` crate), and daily quotas. The caller is the consumer Meshwork
//! authenticated (its plan sets the limits), else the verified subject, else
//! (without Meshwork's authentication) the bearer token's `iss` and `sub`,
//! else the client's IP address. A refused request gets 429 with
//! `Retry-After`. Only the GraphQL endpoint is limited.
//!
//! Without Meshwork's authentication the token is read unverified to pick a
//! bucket: a forged token only buys a fresh bucket for a request the engine
//! then refuses as unauthenticated.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use access::PlanRecord;
use chrono::{Datelike, Utc};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use hive_router::ntex::web::{self, DefaultError, HttpResponse};

/// A plan: sustained requests per minute and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Callers remembered before idle buckets are dropped.
const MAX_TRACKED_CALLERS: usize = 100_000;

type Keyed = DefaultKeyedRateLimiter<String>;

/// What the limiter decided for one request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Allow,
    /// Over the rate: retry after this many seconds.
    Limited(u64),
    /// The daily quota (this many requests) is used up.
    QuotaUsed(u64),
    /// The shared counter cannot be reached and limits fail closed.
    Unavailable,
}

#[derive(Clone)]
pub(crate) struct RateLimiter {
    default: Option<RateLimit>,
    limiter: Option<Arc<Keyed>>,
    /// Counting in Redis instead, shared by every gateway using it.
    redis: Option<crate::redis_limit::RedisLimiter>,
    /// One keyed limiter per plan (by its limits), made on first use.
    plans: Arc<Mutex<HashMap<PlanRecord, Arc<Keyed>>>>,
    /// Requests today per caller: (day number, count).
    daily: Arc<Mutex<HashMap<String, (i32, u64)>>>,
    graphql_path: Arc<str>,
}

fn keyed(per_minute: NonZeroU32, burst: NonZeroU32) -> Arc<Keyed> {
    Arc::new(governor::RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl RateLimiter {
    pub fn new(
        limit: Option<RateLimit>,
        redis: Option<crate::redis_limit::RedisLimiter>,
        graphql_path: &str,
    ) -> Self {
        Self {
            default: limit,
            redis,
            limiter: limit.map(|l| keyed(l.per_minute, l.burst)),
            plans: Arc::default(),
            daily: Arc::default(),
            graphql_path: graphql_path.into(),
        }
    }

    fn plan_limiter(&self, plan: &PlanRecord) -> Option<Arc<Keyed>> {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = plans.get(plan) {
            return Some(l.clone());
        }
        let l = keyed(
            NonZeroU32::new(plan.requests_per_minute)?,
            NonZeroU32::new(plan.burst)?,
        );
        plans.insert(plan.clone(), l.clone());
        Some(l)
    }

    /// Counts a request against a daily quota; false when it is used up.
    fn within_daily(&self, caller: &str, quota: u64) -> bool {
        let today = Utc::now().num_days_from_ce();
        let mut daily = self.daily.lock().unwrap_or_else(|p| p.into_inner());
        if daily.len() > MAX_TRACKED_CALLERS {
            daily.retain(|_, (day, _)| *day == today);
        }
        let entry = daily.entry(caller.to_string()).or_insert((today, 0));
        if entry.0 != today {
            *entry = (today, 0);
        }
        if entry.1 >= quota {
            return false;
        }
        entry.1 += 1;
        true
    }
}

impl RateLimiter {
    /// Counts one request of each `(who, plan)` (in Redis when configured,
    /// in one round trip); a decision for each, in order.
    pub(crate) async fn decide_many(&self, checks: &[(String, PlanRecord)]) -> Vec<Decision> {
        let rate = |plan: &PlanRecord| {
            NonZeroU32::new(plan.requests_per_minute)
                .zip(NonZeroU32::new(plan.burst))
                .map(|(per_minute, burst)| RateLimit { per_minute, burst })
        };
        match &self.redis {
            Some(redis) => {
                let list: Vec<(&str, Option<RateLimit>, Option<u64>)> = checks
                    .iter()
                    .map(|(who, plan)| (who.as_str(), rate(plan), plan.daily_quota))
                    .collect();
                redis.check_many(&list).await
            }
            None => checks
                .iter()
                .map(|(who, plan)| self.check_local(who, Some(plan), plan.daily_quota))
                .collect(),
        }
    }

    /// Counts in this process.
    fn check_local(&self, who: &str, plan: Option<&PlanRecord>, daily: Option<u64>) -> Decision {
        let limiter = match plan {
            Some(plan) => self.plan_limiter(plan),
            None => self.limiter.clone(),
        };
        if let Some(limiter) = limiter {
            if limiter.len() > MAX_TRACKED_CALLERS {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&who.to_string()) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Decision::Limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
            }
        }
        if let Some(quota) = daily {
            if !self.within_daily(who, quota) {
                return Decision::QuotaUsed(quota);
            }
        }
        Decision::Allow
    }
}

pub(crate) fn seconds_to_midnight() -> u64 {
    let now = Utc::now();
    let next = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc());
    next.map(|t| (t - now).num_seconds().max(1) as u64)
        .unwrap_or(3600)
}

fn too_many(
    req: web::WebRequest<DefaultError>,
    seconds: u64,
    code: &str,
    message: String,
) -> web::WebResponse {
    req.into_response(
        HttpResponse::TooManyRequests()
            .header("retry-after", seconds.max(1).to_string())
            .content_type("application/graphql-response+json; charset=utf-8")
            .body(crate::request_id::error_body(&message, code)),
    )
}

/// 503: rate limits cannot be checked and are configured to fail closed.
fn unavailable(req: web::WebRequest<DefaultError>) -> web::WebResponse {
    req.into_response(
        HttpResponse::ServiceUnavailable()
            .header("retry-after", "5")
            .content_type("application/graphql-response+json; charset=utf-8")
            .body(crate::request_id::error_body(
                "Rate limits cannot be checked right now; retry shortly.",
                "RATE_LIMIT_UNAVAILABLE",
            )),
    )
}

fn caller(req: &web::WebRequest<DefaultError>) -> String {
    if let Some(admitted) = crate::authn::identity_of(req) {
        let identity = &admitted.identity;
        return match (&identity.consumer, &identity.issuer) {
            (Some(consumer), _) => format!("consumer:{consumer}"),
            (None, Some(issuer)) => format!("jwt:{issuer}:{}", identity.subject),
            (None, None) => identity.subject.clone(),
        };
    }
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

impl RateLimiter {
    /// The request, or the answer refusing it (over its rate or quota, or
    /// Redis unreachable with `closed`).
    pub(crate) async fn admit(
        &self,
        req: web::WebRequest<DefaultError>,
    ) -> Result<web::WebRequest<DefaultError>, web::WebResponse> {
        if !crate::route::may_reach(req.path(), &self.graphql_path) {
            return Ok(req);
        }
        let plan = crate::authn::identity_of(&req).and_then(|a| a.identity.plan.clone());
        let rate = match &plan {
            Some(p) => NonZeroU32::new(p.requests_per_minute)
                .zip(NonZeroU32::new(p.burst))
                .map(|(per_minute, burst)| RateLimit { per_minute, burst }),
            None => self.default,
        };
        let daily = plan.as_ref().and_then(|p| p.daily_quota);
        if rate.is_none() && daily.is_none() {
            return Ok(req);
        }
        let who = caller(&req);
        let decision = match &self.redis {
            Some(redis) => redis.check(&who, rate, daily).await,
            None => self.check_local(&who, plan.as_ref(), daily),
        };
        match decision {
            Decision::Allow => Ok(req),
            Decision::Limited(seconds) => Err(too_many(
                req,
                seconds,
                "RATE_LIMITED",
                format!("Rate limit exceeded; retry in {seconds} s."),
            )),
            Decision::QuotaUsed(quota) => Err(too_many(
                req,
                seconds_to_midnight(),
                "QUOTA_EXCEEDED",
                format!("Daily quota of {quota} requests used up; it renews at 00:00 UTC."),
            )),
            Decision::Unavailable => Err(unavailable(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(per_minute: u32, burst: u32, daily_quota: Option<u64>) -> PlanRecord {
        PlanRecord {
            name: "p".into(),
            requests_per_minute: per_minute,
            burst,
            daily_quota,
            max_cost: None,
        }
    }

    fn limit(per_minute: u32, burst: u32) -> Option<RateLimit> {
        Some(RateLimit {
            per_minute: NonZeroU32::new(per_minute)?,
            burst: NonZeroU32::new(burst)?,
        })
    }

    #[test]
    fn the_default_limit_admits_the_burst_then_says_when_to_retry() {
        let limiter = RateLimiter::new(limit(60, 3), None, "/graphql");
        for _ in 0..3 {
            assert_eq!(limiter.check_local("a", None, None), Decision::Allow);
        }
        // 60 per minute: the next token comes within a second.
        assert_eq!(limiter.check_local("a", None, None), Decision::Limited(1));
        // Another caller has a bucket of its own.
        assert_eq!(limiter.check_local("b", None, None), Decision::Allow);
    }

    #[test]
    fn without_a_limit_everything_is_admitted() {
        let limiter = RateLimiter::new(None, None, "/graphql");
        for _ in 0..1000 {
            assert_eq!(limiter.check_local("a", None, None), Decision::Allow);
        }
    }

    #[test]
    fn a_plan_counts_apart_from_the_default_and_a_daily_quota_holds() {
        let limiter = RateLimiter::new(limit(60, 1), None, "/graphql");
        let gold = plan(6000, 100, Some(5));
        for _ in 0..5 {
            assert_eq!(
                limiter.check_local("a", Some(&gold), gold.daily_quota),
                Decision::Allow
            );
        }
        assert_eq!(
            limiter.check_local("a", Some(&gold), gold.daily_quota),
            Decision::QuotaUsed(5)
        );
        // The default bucket of the same caller is untouched.
        assert_eq!(limiter.check_local("a", None, None), Decision::Allow);
    }

    #[test]
    fn a_zero_plan_limit_is_no_rate_limit_never_a_panic() {
        // Stored plans are checked (1 or more), but a zero read from a
        // corrupt snapshot must not panic the gateway.
        let limiter = RateLimiter::new(None, None, "/graphql");
        let broken = plan(0, 0, None);
        assert_eq!(
            limiter.check_local("a", Some(&broken), None),
            Decision::Allow
        );
    }

    #[tokio::test]
    async fn decide_many_answers_each_domain_in_order() {
        let limiter = RateLimiter::new(None, None, "/graphql");
        let tight = plan(60, 1, None);
        let loose = plan(6000, 100, None);
        let checks = vec![
            ("a@orders".to_string(), tight.clone()),
            ("a@customers".to_string(), loose.clone()),
        ];
        assert_eq!(
            limiter.decide_many(&checks).await,
            [Decision::Allow, Decision::Allow]
        );
        let second = limiter.decide_many(&checks).await;
        assert!(matches!(second[0], Decision::Limited(_)), "{second:?}");
        assert_eq!(second[1], Decision::Allow);
    }

    #[test]
    fn midnight_is_at_most_a_day_away() {
        let s = seconds_to_midnight();
        assert!((1..=86_400).contains(&s), "{s}");
    }
}
