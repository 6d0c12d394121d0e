//! Rate limits and daily quotas counted in Redis, so several gateway
//! replicas enforce one limit per caller. The rate is GCRA (the algorithm
//! `governor` uses in-process), run as one Lua script with Redis's own
//! clock, so replicas with skewed clocks still agree. If Redis cannot be
//! reached, [`WhenRedisFails`] decides: let the request through (`open`, the
//! default: limits lapse, authentication and authorization do not depend
//! on Redis) or refuse it with 503 (`closed`). Failures are counted and
//! logged once a minute, not per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::rate_limit::{Decision, RateLimit};

/// Checks one or more limits at once (one round trip). For check `i`
/// (from 0): KEYS[2i+1] its rate key, KEYS[2i+2] its quota key for today;
/// ARGV[3i+1..3i+3] emission interval (µs), burst tolerance (µs), daily
/// quota (0: none). Returns two numbers per check: {0, 0} allowed,
/// {1, wait µs} over the rate, {2, 0} quota used up. Each check stands
/// alone: one refused does not stop the others being counted.
const SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
for i = 0, (#KEYS / 2) - 1 do
  local interval = tonumber(ARGV[3 * i + 1])
  local tolerance = tonumber(ARGV[3 * i + 2])
  local quota = tonumber(ARGV[3 * i + 3])
  local code, wait = 0, 0
  if interval > 0 then
    local tat = tonumber(redis.call('GET', KEYS[2 * i + 1]) or now)
    if tat < now then tat = now end
    local allow_at = tat - tolerance
    if now < allow_at then
      code, wait = 1, allow_at - now
    else
      local new_tat = tat + interval
      redis.call('SET', KEYS[2 * i + 1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
    end
  end
  if code == 0 and quota > 0 then
    local used = redis.call('INCR', KEYS[2 * i + 2])
    if used == 1 then redis.call('EXPIRE', KEYS[2 * i + 2], 90000) end
    if used > quota then code = 2 end
  end
  table.insert(out, code)
  table.insert(out, wait)
end
return out
"#;

/// What a rate-limit check does when Redis cannot answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WhenRedisFails {
    /// The request goes on, unlimited (availability first).
    #[default]
    Open,
    /// The request is refused with 503 (limits first).
    Closed,
}

#[derive(Clone)]
pub struct RedisLimiter {
    connection: ConnectionManager,
    script: redis::Script,
    when_failing: WhenRedisFails,
    failures: FailureLog,
}

/// Failures of one use of Redis, counted and logged at most once a
/// minute (never per request).
#[derive(Clone, Default)]
pub(crate) struct FailureLog {
    /// Failed calls since start.
    failures: Arc<AtomicU64>,
    /// When failures were last logged, and the count then.
    logged: Arc<Mutex<(Option<Instant>, u64)>>,
}

impl FailureLog {
    /// Counts a failure; logs `what` with the counts when the last log is
    /// a minute old.
    pub(crate) fn failed(&self, error: &redis::RedisError, what: &str) {
        let total = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if logged.0.is_none_or(|at| at.elapsed() >= LOG_INTERVAL) {
            tracing::warn!(
                error = %error,
                failed_calls = total - logged.1,
                failed_calls_total = total,
                "{what}"
            );
            *logged = (Some(Instant::now()), total);
        }
    }
}

/// Redis's answer, or an I/O error when it does not come within `limit`
/// (a Redis that does not answer in time counts as unreachable).
pub(crate) async fn within<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, redis::RedisError> {
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(redis::RedisError::from((
            redis::ErrorKind::IoError,
            "no answer from redis",
            format!("within {} ms", limit.as_millis()),
        )))
    })
}

/// Opens a connection to the Redis at `url` that reconnects by itself (on
/// the calling tokio runtime, whose tasks keep it alive); gives up after
/// 10 s.
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, String> {
    let client = redis::Client::open(url).map_err(|e| format!("redis URL {url}: {e}"))?;
    tokio::time::timeout(Duration::from_secs(10), ConnectionManager::new(client))
        .await
        .map_err(|_| format!("connecting to redis at {url}: timed out"))?
        .map_err(|e| format!("connecting to redis at {url}: {e}"))
}

/// Longest wait for Redis's answer to one check.
const CHECK_TIMEOUT: Duration = Duration::from_millis(1000);

/// Failures are logged at most this often.
const LOG_INTERVAL: Duration = Duration::from_secs(60);

impl RedisLimiter {
    /// Connects (on the calling tokio runtime, whose tasks keep the
    /// connection alive).
    pub async fn connect(url: &str, when_failing: WhenRedisFails) -> Result<Self, String> {
        Ok(Self {
            connection: connect(url).await?,
            script: redis::Script::new(SCRIPT),
            when_failing,
            failures: FailureLog::default(),
        })
    }

    fn failed(&self, error: &redis::RedisError) {
        let action = match self.when_failing {
            WhenRedisFails::Open => "requests let through unlimited",
            WhenRedisFails::Closed => "requests refused with 503",
        };
        self.failures
            .failed(error, &format!("redis rate limit checks failing; {action}"));
    }

    pub(crate) async fn check(
        &self,
        who: &str,
        rate: Option<RateLimit>,
        daily: Option<u64>,
    ) -> Decision {
        self.check_many(&[(who, rate, daily)])
            .await
            .pop()
            .unwrap_or(Decision::Allow)
    }

    /// Several limits in one round trip, a decision for each, in order.
    pub(crate) async fn check_many(
        &self,
        checks: &[(&str, Option<RateLimit>, Option<u64>)],
    ) -> Vec<Decision> {
        let day = chrono::Utc::now().format("%Y%m%d").to_string();
        let mut invocation = self.script.prepare_invoke();
        for (who, rate, daily) in checks {
            let (interval, tolerance, rate_key) = match rate {
                Some(r) => {
                    let interval = 60_000_000 / u64::from(r.per_minute.get());
                    let tolerance = interval * u64::from(r.burst.get() - 1);
                    (
                        interval,
                        tolerance,
                        format!("meshwork:rl:{}:{}:{who}", r.per_minute, r.burst),
                    )
                }
                None => (0, 0, format!("meshwork:rl:none:{who}")),
            };
            invocation
                .key(rate_key)
                .key(format!("meshwork:quota:{day}:{who}"))
                .arg(interval)
                .arg(tolerance)
                .arg(daily.unwrap_or(0));
        }
        let mut connection = self.connection.clone();
        // A Redis that does not answer in time counts as unreachable: a
        // request never waits on reconnection attempts.
        let result: Result<Vec<i64>, redis::RedisError> =
            within(CHECK_TIMEOUT, invocation.invoke_async(&mut connection)).await;
        let result = result.and_then(|codes| {
            decisions(checks, &codes).ok_or_else(|| {
                redis::RedisError::from((
                    redis::ErrorKind::TypeError,
                    "the rate-limit script answered",
                    format!("{} numbers for {} checks", codes.len(), checks.len()),
                ))
            })
        });
        match result {
            Ok(decisions) => decisions,
            Err(e) => {
                self.failed(&e);
                let decision = || match self.when_failing {
                    WhenRedisFails::Open => Decision::Allow,
                    WhenRedisFails::Closed => Decision::Unavailable,
                };
                checks.iter().map(|_| decision()).collect()
            }
        }
    }
}

/// The script's answer, two numbers per check (`0`: allowed; `1, wait in
/// µs`: over the rate; `2, _`: quota used up), as decisions; none when it
/// does not have two numbers for every check (then the checks count as
/// failed, never as allowed).
fn decisions(
    checks: &[(&str, Option<RateLimit>, Option<u64>)],
    codes: &[i64],
) -> Option<Vec<Decision>> {
    if codes.len() != checks.len() * 2 {
        return None;
    }
    Some(
        checks
            .iter()
            .zip(codes.chunks(2))
            .map(|((_, _, daily), pair)| match pair {
                [1, wait_us] => {
                    Decision::Limited((*wait_us).max(0).unsigned_abs().div_ceil(1_000_000).max(1))
                }
                [2, _] => Decision::QuotaUsed(daily.unwrap_or(0)),
                _ => Decision::Allow,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_answer_becomes_one_decision_per_check() {
        let checks = [("a", None, None), ("b", None, Some(100)), ("c", None, None)];
        assert_eq!(
            decisions(&checks, &[0, 0, 2, 0, 1, 1_500_000]),
            Some(vec![
                Decision::Allow,
                Decision::QuotaUsed(100),
                Decision::Limited(2)
            ])
        );
        // A wait under a second still says "retry after 1 s"; a negative
        // wait (clock skew) too.
        assert_eq!(
            decisions(&checks[..1], &[1, 10]),
            Some(vec![Decision::Limited(1)])
        );
        assert_eq!(
            decisions(&checks[..1], &[1, -5]),
            Some(vec![Decision::Limited(1)])
        );
        // A short or long answer is no answer: never read as "allowed".
        assert_eq!(decisions(&checks, &[0, 0, 0, 0]), None);
        assert_eq!(decisions(&checks[..1], &[0, 0, 0]), None);
    }
}
