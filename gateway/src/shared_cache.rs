//! The subgraph cache's shared tier: answers kept in Redis, so gateway
//! replicas answer from what any of them fetched. It stands behind the
//! in-memory cache (`crate::cache`), which stays the first place looked at
//! and which keeps every answer found here for its remaining lifetime.
//!
//! The same rules as in memory, across processes:
//! - **Identity**: an entry is stored under a hash of the whole cache key
//!   (the domain, query, variables and every identity header the domain
//!   sees) and holds that whole key, compared on every read: a hash
//!   collision is a miss, never another caller's answer.
//! - **Freshness**: Redis drops an entry when its lifetime ends (`PX`); the
//!   time it was stored travels with it, for the answer's age.
//! - **Invalidation**: every Redis key names its namespace: the served
//!   supergraph (a hash of its SDL, so replicas serving the same one
//!   share) and, for a domain, the id of the catalog's last purge of it.
//!   A new supergraph or a purge moves every replica to a new namespace at
//!   once; the old entries are never read again and expire. A purge of a
//!   type or key in Redis drops the whole domain (more than it names,
//!   never less).
//! - **Failure**: Redis is an optimization here. A read that fails or
//!   takes longer than [`READ_TIMEOUT`] is a miss (the domain answers);
//!   after a failure the tier is not asked for [`BACKOFF`], so an
//!   unreachable Redis adds no wait to every fetch. Failures are counted
//!   (`meshwork.subgraph_cache{outcome="shared_error"}`) and logged once a
//!   minute. Writes are sent in the background and never delay an answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use sha2::Digest;

use crate::redis_limit::{within, FailureLog};

/// Longest wait for Redis's answer to one read.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// Longest wait for a background write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the tier is skipped after a failed call.
pub(crate) const BACKOFF: Duration = Duration::from_secs(1);

/// An answer read from the shared tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SharedEntry {
    pub bytes: Bytes,
    /// Seconds since a replica stored it.
    pub age: u64,
    /// How much longer it is kept.
    pub remaining: Duration,
}

pub(crate) struct SharedTier {
    connection: ConnectionManager,
    failures: FailureLog,
    /// Until when (ms since the Unix epoch) the tier is skipped.
    skip_until: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The Redis key of a cache key in a namespace.
fn redis_key(namespace: &str, key: &str) -> String {
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(namespace.len() + 80);
    out.push_str("meshwork:cache:");
    out.push_str(namespace);
    out.push(':');
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// An entry as stored: the time it was stored and its lifetime (ms, 8
/// bytes each, little-endian), the length of its key (4 bytes), the key,
/// then the answer.
fn encode(key: &str, bytes: &[u8], stored_ms: u64, ttl: Duration) -> Vec<u8> {
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    let key_len = u32::try_from(key.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(20 + key.len() + bytes.len());
    out.extend_from_slice(&stored_ms.to_le_bytes());
    out.extend_from_slice(&ttl_ms.to_le_bytes());
    out.extend_from_slice(&key_len.to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(bytes);
    out
}

/// The answer of a stored entry when it was stored under exactly `key`
/// and is still alive at `now_ms`; none for anything else (another key
/// with the same hash, a truncated or foreign value, an expired one).
fn decode(key: &str, value: &[u8], now_ms: u64) -> Option<SharedEntry> {
    let stored_ms = u64::from_le_bytes(value.get(0..8)?.try_into().ok()?);
    let ttl_ms = u64::from_le_bytes(value.get(8..16)?.try_into().ok()?);
    let key_len = usize::try_from(u32::from_le_bytes(value.get(16..20)?.try_into().ok()?)).ok()?;
    let key_end = 20usize.checked_add(key_len)?;
    if value.get(20..key_end)? != key.as_bytes() {
        return None;
    }
    let elapsed = now_ms.saturating_sub(stored_ms);
    let remaining = ttl_ms.checked_sub(elapsed).filter(|r| *r > 0)?;
    Some(SharedEntry {
        bytes: Bytes::copy_from_slice(value.get(key_end..)?),
        age: elapsed / 1000,
        remaining: Duration::from_millis(remaining),
    })
}

impl SharedTier {
    /// Connects to the Redis at `url` (on the calling tokio runtime).
    pub(crate) async fn connect(url: &str) -> Result<Self, String> {
        Ok(Self {
            connection: crate::redis_limit::connect(url).await?,
            failures: FailureLog::default(),
            skip_until: AtomicU64::new(0),
        })
    }

    fn available(&self) -> bool {
        now_ms() >= self.skip_until.load(Ordering::Relaxed)
    }

    fn failed(&self, error: &redis::RedisError) {
        self.skip_until.store(
            now_ms().saturating_add(BACKOFF.as_millis() as u64),
            Ordering::Relaxed,
        );
        crate::cache::count_shared_error();
        self.failures.failed(
            error,
            "shared subgraph cache (redis) failing; fetches go to their domains",
        );
    }

    /// The entries of `keys` (each in its namespace), in order; all none
    /// when Redis fails, is slow or is being skipped after a failure.
    pub(crate) async fn get_many(&self, keys: &[(&str, &str)]) -> Vec<Option<SharedEntry>> {
        let none = || keys.iter().map(|_| None).collect();
        if keys.is_empty() || !self.available() {
            return none();
        }
        let redis_keys: Vec<String> = keys.iter().map(|(ns, k)| redis_key(ns, k)).collect();
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("MGET");
        command.arg(&redis_keys);
        let read: Result<Vec<Option<Vec<u8>>>, redis::RedisError> =
            within(READ_TIMEOUT, command.query_async(&mut connection)).await;
        match read {
            Ok(values) if values.len() == keys.len() => {
                let now = now_ms();
                keys.iter()
                    .zip(values)
                    .map(|((_, key), value)| value.and_then(|v| decode(key, &v, now)))
                    .collect()
            }
            Ok(values) => {
                self.failed(&redis::RedisError::from((
                    redis::ErrorKind::TypeError,
                    "MGET answered",
                    format!("{} values for {} keys", values.len(), keys.len()),
                )));
                none()
            }
            Err(e) => {
                self.failed(&e);
                none()
            }
        }
    }

    /// Stores entries `(namespace, key, answer, lifetime)` in the
    /// background (one round trip); nothing when the tier is being
    /// skipped or no tokio runtime runs this thread.
    pub(crate) fn put_many(self: &Arc<Self>, entries: Vec<(Arc<str>, Arc<str>, Bytes, Duration)>) {
        if entries.is_empty() || !self.available() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let tier = Arc::clone(self);
        runtime.spawn(async move {
            let stored = now_ms();
            let mut pipeline = redis::pipe();
            for (namespace, key, bytes, ttl) in &entries {
                let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                pipeline
                    .cmd("SET")
                    .arg(redis_key(namespace, key))
                    .arg(encode(key, bytes, stored, *ttl))
                    .arg("PX")
                    .arg(ttl_ms)
                    .ignore();
            }
            let mut connection = tier.connection.clone();
            let written: Result<(), redis::RedisError> =
                within(WRITE_TIMEOUT, pipeline.query_async(&mut connection)).await;
            if let Err(e) = written {
                tier.failed(&e);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_read_back_only_under_its_own_key_and_while_alive() {
        let key = "orders\n{ orders { id } }\n\nx-meshwork-consumer:a\n";
        let value = encode(key, br#"{"data":{}}"#, 10_000, Duration::from_secs(60));
        let entry = decode(key, &value, 25_500).expect("alive");
        assert_eq!(entry.bytes, Bytes::from_static(br#"{"data":{}}"#));
        assert_eq!(entry.age, 15);
        assert_eq!(entry.remaining, Duration::from_millis(44_500));
        // Another caller's key (a hash collision, say) never reads it.
        assert_eq!(decode(&key.replace(":a\n", ":b\n"), &value, 25_500), None);
        // Past its lifetime (a replica's clock ahead), truncated, foreign.
        assert_eq!(decode(key, &value, 70_000), None);
        assert_eq!(decode(key, &value[..30], 25_500), None);
        assert_eq!(decode(key, b"1", 25_500), None);
        assert_eq!(decode(key, &[], 25_500), None);
        let mut long = value.clone();
        long[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(key, &long, 25_500), None);
    }

    #[test]
    fn namespaces_keep_keys_apart() {
        let a = redis_key("s1:orders:0", "k");
        assert_ne!(a, redis_key("s1:orders:7", "k"));
        assert_ne!(a, redis_key("s2:orders:0", "k"));
        assert_ne!(a, redis_key("s1:orders:0", "k2"));
        assert!(a.starts_with("meshwork:cache:s1:orders:0:"));
    }
}
