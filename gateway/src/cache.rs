//! The subgraph answer cache: a domain's answer to one subgraph request
//! (a root field with its arguments, or an `_entities` fetch with its
//! keys) kept in memory and served again without calling the domain.
//!
//! Identity-safe by construction: the key is everything the domain would
//! see of the request (its name, the query, the variables, the operation
//! name and every header the gateway sends it, the identity headers
//! `x-meshwork-consumer/-subject/-scopes` and any forwarded
//! `authorization` included), so two callers share an answer only when
//! the domain could not have told them apart. Only per-request headers
//! that carry no identity (request ids, trace context) are left out; any
//! other header keeps answers apart (fail closed). The whole key is kept
//! and compared, not only its hash.
//!
//! What is cached: answers to queries (never mutations or subscriptions),
//! HTTP 2xx, without GraphQL errors, for as long as the domain's
//! `Cache-Control` allows (`s-maxage`, else `max-age`; `no-store`,
//! `no-cache` and `private` are never cached), or, when the domain sends
//! none, the gateway's default TTL (zero: not cached). A new supergraph
//! empties the cache. Bounded by size in bytes (keys and answers), with
//! W-TinyLFU admission and eviction (`moka`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hive_router::http;
use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;

/// How the gateway caches subgraph answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubgraphCacheOptions {
    /// Most memory held by cached answers and their keys, in bytes.
    pub max_bytes: u64,
    /// How long an answer whose domain sends no `Cache-Control` is kept;
    /// zero: only answers whose `Cache-Control` allows it are cached.
    pub default_ttl: Duration,
    /// The longest time any answer is kept, whatever the domain says.
    pub max_ttl: Duration,
}

/// Headers that differ on every request and say nothing of the caller:
/// left out of the key (any other header is part of it).
const PER_REQUEST_HEADERS: [&str; 8] = [
    "x-request-id",
    "traceparent",
    "tracestate",
    "baggage",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
];

/// One cached answer.
#[derive(Clone)]
pub(crate) struct Cached {
    pub bytes: Bytes,
    ttl: Duration,
    stored: Instant,
}

struct Expiry;

impl moka::Expiry<Arc<str>, Cached> for Expiry {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct SubgraphCache {
    entries: moka::sync::Cache<Arc<str>, Cached>,
    options: SubgraphCacheOptions,
    /// The id of the last catalog purge applied.
    applied: std::sync::atomic::AtomicI64,
}

/// Whether a cached answer's request or body mentions `needle`.
fn mentions(key: &str, value: &Cached, needle: &str) -> bool {
    key.contains(needle) || memchr::memmem::find(&value.bytes, needle.as_bytes()).is_some()
}

/// The domain a key belongs to (its first line).
fn domain_of(key: &str) -> &str {
    key.split_once('\n').map_or(key, |(d, _)| d)
}

fn count(domain: &str, outcome: &'static str) {
    static COUNTER: std::sync::LazyLock<Counter<u64>> = std::sync::LazyLock::new(|| {
        opentelemetry::global::meter("meshwork")
            .u64_counter("meshwork.subgraph_cache")
            .with_description(
                "Subgraph answer cache by domain and outcome (hit, miss, store, eviction)",
            )
            .build()
    });
    COUNTER.add(
        1,
        &[
            KeyValue::new("domain", domain.to_string()),
            KeyValue::new("outcome", outcome),
        ],
    );
}

impl SubgraphCache {
    pub(crate) fn new(options: SubgraphCacheOptions) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(options.max_bytes)
            .weigher(|key: &Arc<str>, value: &Cached| {
                u32::try_from(key.len() + value.bytes.len() + 96).unwrap_or(u32::MAX)
            })
            .expire_after(Expiry)
            .support_invalidation_closures()
            .eviction_listener(|key: Arc<Arc<str>>, _value, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    count(domain_of(&key), "eviction");
                }
            })
            .build();
        Self {
            entries,
            options,
            applied: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Applies the catalog's purges not applied yet: drops the cached
    /// answers of each purge's domain that mention its type name and/or
    /// key value (in the request or the answer: a purge may drop more
    /// than it names, never less).
    pub(crate) fn apply_purges(&self, purges: &[access::CachePurgeRecord]) {
        use std::sync::atomic::Ordering;
        let applied = self.applied.load(Ordering::Acquire);
        let Some(last) = purges.last().filter(|p| p.id > applied) else {
            return;
        };
        for purge in purges.iter().filter(|p| p.id > applied) {
            let domain = purge.domain.clone();
            let type_name = purge.type_name.as_ref().map(|t| format!("\"{t}\""));
            let key = purge.key.clone();
            let dropped = self.entries.invalidate_entries_if(move |k, v| {
                domain_of(k) == domain
                    && type_name.as_deref().is_none_or(|n| mentions(k, v, n))
                    && key.as_deref().is_none_or(|n| mentions(k, v, n))
            });
            if let Err(e) = dropped {
                // Cannot purge selectively: drop everything (never serve
                // what the domain asked to drop).
                tracing::warn!(error = %e, "selective cache purge failed; the whole cache is emptied");
                self.entries.invalidate_all();
            }
            count(&purge.domain, "purge");
        }
        self.applied.fetch_max(last.id, Ordering::AcqRel);
    }

    /// The purge epoch to pass to [`Self::store`]: an answer fetched
    /// before a purge applied during the fetch is not stored.
    pub(crate) fn epoch(&self) -> i64 {
        self.applied.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The key of a subgraph request, or none when it must not be cached
    /// (not a query).
    pub(crate) fn key(
        domain: &str,
        query: &str,
        operation_name: Option<&str>,
        variables: Option<&std::collections::HashMap<&str, &hive_router::sonic_rs::Value>>,
        headers: &http::HeaderMap,
    ) -> Option<Arc<str>> {
        let trimmed = query.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with("query")) {
            return None;
        }
        let mut key = String::with_capacity(query.len() + 256);
        key.push_str(domain);
        key.push('\n');
        key.push_str(query);
        key.push('\n');
        key.push_str(operation_name.unwrap_or_default());
        key.push('\n');
        // Variables in name order, each as JSON.
        if let Some(variables) = variables {
            let sorted: BTreeMap<&str, &hive_router::sonic_rs::Value> =
                variables.iter().map(|(k, v)| (*k, *v)).collect();
            for (name, value) in sorted {
                key.push_str(name);
                key.push('=');
                key.push_str(&hive_router::sonic_rs::to_string(value).ok()?);
                key.push('\n');
            }
        }
        // Headers in name order, every value of each.
        let mut names: Vec<&str> = headers
            .keys()
            .map(http::HeaderName::as_str)
            .filter(|n| !PER_REQUEST_HEADERS.contains(n))
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            for value in headers.get_all(name) {
                key.push_str(name);
                // A header value holds no line break; one that is not text
                // is kept as its bytes' escape form after another marker,
                // so two different values never read the same.
                match value.to_str() {
                    Ok(text) => {
                        key.push(':');
                        key.push_str(text);
                    }
                    Err(_) => {
                        key.push('#');
                        key.push_str(&format!("{:?}", value.as_bytes()));
                    }
                }
                key.push('\n');
            }
        }
        Some(key.into())
    }

    pub(crate) fn get(&self, key: &Arc<str>) -> Option<Cached> {
        let found = self.entries.get(key);
        count(domain_of(key), if found.is_some() { "hit" } else { "miss" });
        found
    }

    /// Stores an answer if the domain allows it; true when stored.
    /// `domain_ttl` is the domain's own lifetime for answers without
    /// `Cache-Control` (else the gateway's default).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store(
        &self,
        key: Arc<str>,
        epoch: i64,
        status: Option<http::StatusCode>,
        has_errors: bool,
        headers: Option<&http::HeaderMap>,
        domain_ttl: Option<Duration>,
        bytes: &Bytes,
    ) -> bool {
        if has_errors || status.is_some_and(|s| !s.is_success()) || self.epoch() != epoch {
            return false;
        }
        let control = headers.and_then(|h| {
            let values: Vec<&str> = h
                .get_all(http::header::CACHE_CONTROL)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        });
        let ttl = match control {
            Some(control) => match ttl_of(&control) {
                Some(ttl) => ttl,
                None => return false,
            },
            None => domain_ttl.unwrap_or(self.options.default_ttl),
        }
        .min(self.options.max_ttl);
        if ttl.is_zero() {
            return false;
        }
        count(domain_of(&key), "store");
        self.entries.insert(
            key,
            Cached {
                bytes: bytes.clone(),
                ttl,
                stored: Instant::now(),
            },
        );
        true
    }

    /// Empties the cache (a new supergraph: answers may have changed shape).
    pub(crate) fn clear(&self) {
        self.entries.invalidate_all();
    }
}

impl Cached {
    /// Seconds since the answer was stored.
    pub(crate) fn age(&self) -> u64 {
        self.stored.elapsed().as_secs()
    }
}

/// The time a `Cache-Control` value allows a shared cache to keep an
/// answer; none when it forbids it or says nothing of a lifetime.
fn ttl_of(control: &str) -> Option<Duration> {
    let mut max_age = None;
    let mut s_maxage = None;
    for directive in control.split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (
                n.trim().to_string(),
                Some(v.trim().trim_matches('"').to_string()),
            ),
            None => (directive.clone(), None),
        };
        match name.as_str() {
            "no-store" | "no-cache" | "private" => return None,
            "max-age" => max_age = value.and_then(|v| v.parse::<u64>().ok()),
            "s-maxage" => s_maxage = value.and_then(|v| v.parse::<u64>().ok()),
            _ => {}
        }
    }
    s_maxage.or(max_age).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(default_ttl: u64) -> SubgraphCacheOptions {
        SubgraphCacheOptions {
            max_bytes: 1 << 20,
            default_ttl: Duration::from_secs(default_ttl),
            max_ttl: Duration::from_secs(3600),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, http::HeaderValue::from_static(v));
        }
        map
    }

    fn key(query: &str, pairs: &[(&'static str, &'static str)]) -> Option<Arc<str>> {
        SubgraphCache::key("orders", query, None, None, &headers(pairs))
    }

    #[test]
    fn cache_control_decides_the_lifetime() {
        assert_eq!(ttl_of("max-age=60"), Some(Duration::from_secs(60)));
        assert_eq!(
            ttl_of("public, max-age=60, s-maxage=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(ttl_of("private, max-age=60"), None);
        assert_eq!(ttl_of("no-store"), None);
        assert_eq!(ttl_of("No-Cache"), None);
        assert_eq!(ttl_of("public"), None);
        assert_eq!(ttl_of("max-age=abc"), None);
    }

    #[test]
    fn callers_the_domain_can_tell_apart_never_share_a_key() {
        let q = "{ orders { id } }";
        let a = key(
            q,
            &[
                ("x-meshwork-consumer", "a"),
                ("x-meshwork-scopes", "grant:orders"),
            ],
        );
        let b = key(
            q,
            &[
                ("x-meshwork-consumer", "b"),
                ("x-meshwork-scopes", "grant:orders"),
            ],
        );
        let anonymous = key(q, &[]);
        let other_scopes = key(
            q,
            &[("x-meshwork-consumer", "a"), ("x-meshwork-scopes", "")],
        );
        let unknown_header = key(
            q,
            &[
                ("x-meshwork-consumer", "a"),
                ("x-meshwork-scopes", "grant:orders"),
                ("x-tenant", "7"),
            ],
        );
        let all = [&a, &b, &anonymous, &other_scopes, &unknown_header];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        // Trace context and request ids do not split the cache.
        assert_eq!(
            a,
            key(
                q,
                &[
                    ("x-meshwork-consumer", "a"),
                    ("x-meshwork-scopes", "grant:orders"),
                    ("x-request-id", "r1"),
                    ("traceparent", "00-1")
                ]
            )
        );
        // Header order does not matter; values do.
        assert_eq!(
            a,
            key(
                q,
                &[
                    ("x-meshwork-scopes", "grant:orders"),
                    ("x-meshwork-consumer", "a")
                ]
            )
        );
    }

    #[test]
    fn mutations_and_subscriptions_have_no_key() {
        assert!(key("mutation { placeOrder { id } }", &[]).is_none());
        assert!(key("subscription { orders { id } }", &[]).is_none());
        assert!(key(
            "query($r:[_Any!]!){_entities(representations:$r){__typename}}",
            &[]
        )
        .is_some());
    }

    #[test]
    fn only_clean_answers_the_domain_lets_us_keep_are_stored() {
        let cache = SubgraphCache::new(options(0));
        let body = Bytes::from_static(br#"{"data":{"orders":[]}}"#);
        let k = || key("{ orders { id } }", &[]).expect("key");
        let ok = Some(http::StatusCode::OK);
        // No Cache-Control and no default TTL: not kept.
        assert!(!cache.store(k(), 0, ok, false, None, None, &body));
        let allowed = headers(&[("cache-control", "max-age=60")]);
        assert!(
            !cache.store(k(), 0, ok, true, Some(&allowed), None, &body),
            "errors"
        );
        assert!(!cache.store(
            k(),
            0,
            Some(http::StatusCode::BAD_GATEWAY),
            false,
            Some(&allowed),
            None,
            &body
        ));
        let private = headers(&[("cache-control", "private, max-age=60")]);
        assert!(!cache.store(k(), 0, ok, false, Some(&private), None, &body));
        assert!(cache.get(&k()).is_none());
        assert!(cache.store(k(), 0, ok, false, Some(&allowed), None, &body));
        assert_eq!(cache.get(&k()).map(|c| c.bytes), Some(body.clone()));
        cache.clear();
        assert!(cache.get(&k()).is_none());
        // With a default TTL an answer without Cache-Control is kept.
        let cache = SubgraphCache::new(options(30));
        assert!(cache.store(k(), 0, ok, false, None, None, &body));
    }

    #[test]
    fn a_domains_own_lifetime_and_purges_apply() {
        let cache = SubgraphCache::new(options(0));
        let ok = Some(http::StatusCode::OK);
        let order =
            Bytes::from_static(br#"{"data":{"_entities":[{"__typename":"Order","id":"o1"}]}}"#);
        let customer = Bytes::from_static(br#"{"data":{"customer":{"id":"c9"}}}"#);
        let k1 = key(
            "query($r:[_Any!]!){_entities(representations:$r){...on Order{id}}}",
            &[],
        )
        .expect("key");
        let k2 = key("{ customer(id: \"c9\") { id } }", &[]).expect("key");
        // The domain's own lifetime keeps answers without Cache-Control.
        let ttl = Some(Duration::from_secs(60));
        assert!(cache.store(k1.clone(), 0, ok, false, None, ttl, &order));
        assert!(cache.store(k2.clone(), 0, ok, false, None, ttl, &customer));
        let purge = |id, type_name: Option<&str>, key: Option<&str>| access::CachePurgeRecord {
            id,
            domain: "orders".into(),
            type_name: type_name.map(str::to_string),
            key: key.map(str::to_string),
        };
        // A purge of another type's key leaves both.
        cache.apply_purges(&[purge(1, Some("Invoice"), None)]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k1).is_some() && cache.get(&k2).is_some());
        // A purge of one key drops the answers that mention it.
        cache.apply_purges(&[purge(1, Some("Invoice"), None), purge(2, None, Some("c9"))]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k1).is_some());
        assert!(cache.get(&k2).is_none());
        // An answer fetched before a purge is not stored after it.
        let before = cache.epoch();
        cache.apply_purges(&[purge(3, None, None)]);
        assert!(!cache.store(k2.clone(), before, ok, false, None, ttl, &customer));
        cache.entries.run_pending_tasks();
        assert!(
            cache.get(&k1).is_none(),
            "a whole-domain purge drops everything"
        );
        // Applied purges are not applied again.
        assert!(cache.store(k2.clone(), cache.epoch(), ok, false, None, ttl, &customer));
        cache.apply_purges(&[purge(3, None, None)]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k2).is_some());
    }
}
