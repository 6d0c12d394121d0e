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
//!
//! Whole operations too: when every fetch of a query was answered by this
//! cache or stored in it, the operation's final answer is kept as well
//! (key: the request's method, path, query string, body, headers and the
//! caller's identity; lifetime: the shortest of its fetches'), so the
//! next identical request skips planning's execution, the fetches and the
//! response's assembly. It is looked up only after every check of the
//! request (authentication, rate limits, the consumer's cost limit and
//! the per-domain plans) has passed, is dropped by a purge of any domain
//! it fetched from, and is never served when the caller asked for
//! `extensions.meshwork` (cache trace or products), which are computed
//! per request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hive_router::http;
use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;

mod entities;
pub(crate) use entities::{EntityKeys, EntityLookup, Partial};

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
    /// A Redis shared by the gateway's replicas as a second tier (see
    /// `shared_cache`); none: each process keeps its own answers only.
    pub shared_redis_url: Option<String>,
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
    /// For a whole operation: the domains it fetched from (a purge of
    /// any of them drops it).
    domains: Option<Arc<[String]>>,
}

/// The state an answer is fetched under: a purge or a new supergraph
/// during the fetch means the answer is not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Epoch {
    purge: i64,
    generation: u64,
}

/// The first line of every whole-operation key (no domain is named so:
/// domain names are GraphQL-like identifiers).
const OPERATION: &str = "\u{1}operation";

struct Expiry;

impl moka::Expiry<Arc<str>, Cached> for Expiry {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.remaining())
    }
}

pub(crate) struct SubgraphCache {
    entries: moka::sync::Cache<Arc<str>, Cached>,
    options: SubgraphCacheOptions,
    /// The id of the last catalog purge applied.
    applied: std::sync::atomic::AtomicI64,
    /// Bumped by every [`SubgraphCache::clear`].
    generation: std::sync::atomic::AtomicU64,
    /// The second tier, shared by replicas.
    shared: Option<Arc<crate::shared_cache::SharedTier>>,
    /// The shared tier's name of the served supergraph (a hash of it).
    schema_tag: std::sync::RwLock<Arc<str>>,
    /// The entity lists of each fetch query seen (parsed once; none for
    /// a query that is no entity fetch Meshwork can split).
    entity_lists: moka::sync::Cache<String, Option<Arc<[entities::ListSpec]>>>,
}

/// The second line of every per-entity key (a query never reads so).
const ENTITY: &str = "\u{1}entity";

/// How much query text the remembered entity lists of fetch queries may
/// hold (the least used are forgotten first, and read again when met).
const ENTITY_QUERIES_BYTES: u64 = 2 << 20;

/// A subgraph request as a key: domain, `marker` (per-entity keys), query,
/// operation name, variables in name order (without the representations
/// for a per-entity key) and headers; none for what is not a query.
fn request_key(
    domain: &str,
    marker: Option<&str>,
    query: &str,
    operation_name: Option<&str>,
    variables: Option<&std::collections::HashMap<&str, &hive_router::sonic_rs::Value>>,
    raw_variables: Option<&[(&str, Vec<u8>)]>,
    headers: &http::HeaderMap,
) -> Option<String> {
    let trimmed = query.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with("query")) {
        return None;
    }
    let mut key = String::with_capacity(query.len() + 256);
    key.push_str(domain);
    key.push('\n');
    if let Some(marker) = marker {
        key.push_str(marker);
        key.push('\n');
    }
    key.push_str(query);
    key.push('\n');
    key.push_str(operation_name.unwrap_or_default());
    key.push('\n');
    // Variables in name order, each as JSON: the parsed ones and the raw
    // ones (the representations of an entity fetch).
    enum Variable<'a> {
        Parsed(&'a hive_router::sonic_rs::Value),
        Raw(&'a [u8]),
    }
    let mut sorted: BTreeMap<&str, Variable<'_>> = BTreeMap::new();
    for (name, value) in variables.into_iter().flatten() {
        sorted.insert(name, Variable::Parsed(value));
    }
    for (name, value) in raw_variables.into_iter().flatten() {
        sorted.insert(name, Variable::Raw(value));
    }
    for (name, value) in sorted {
        key.push_str(name);
        key.push('=');
        match value {
            Variable::Parsed(value) => key.push_str(&hive_router::sonic_rs::to_string(value).ok()?),
            Variable::Raw(bytes) => key.push_str(std::str::from_utf8(bytes).ok()?),
        }
        key.push('\n');
    }
    // Headers in name order, every value of each.
    push_headers(&mut key, headers);
    Some(key)
}

/// Whether a cached answer's request or body mentions `needle`.
fn mentions(key: &str, value: &Cached, needle: &str) -> bool {
    key.contains(needle) || memchr::memmem::find(&value.bytes, needle.as_bytes()).is_some()
}

/// The domain a key belongs to (its first line).
pub(crate) fn domain_of(key: &str) -> &str {
    key.split_once('\n').map_or(key, |(d, _)| d)
}

static COUNTER: std::sync::LazyLock<Counter<u64>> = std::sync::LazyLock::new(|| {
    opentelemetry::global::meter("meshwork")
        .u64_counter("meshwork.subgraph_cache")
        .with_description(
            "Subgraph answer cache by domain and outcome (hit, miss, store, entity_hit, entity_store, eviction, purge; shared_hit, shared_miss, shared_store, shared_error for the Redis tier)",
        )
        .build()
});

/// A failed call to the shared tier (no domain: one call may serve several).
pub(crate) fn count_shared_error() {
    COUNTER.add(1, &[KeyValue::new("outcome", "shared_error")]);
}

fn count(domain: &str, outcome: &'static str) {
    if domain == OPERATION {
        return count_operation(outcome);
    }
    COUNTER.add(
        1,
        &[
            KeyValue::new("domain", domain.to_string()),
            KeyValue::new("outcome", outcome),
        ],
    );
}

fn count_operation(outcome: &'static str) {
    static COUNTER: std::sync::LazyLock<Counter<u64>> = std::sync::LazyLock::new(|| {
        opentelemetry::global::meter("meshwork")
            .u64_counter("meshwork.operation_cache")
            .with_description(
                "Whole-operation answer cache by outcome (hit, miss, store, eviction)",
            )
            .build()
    });
    COUNTER.add(1, &[KeyValue::new("outcome", outcome)]);
}

/// Appends every header but the per-request ones, in name order, each
/// value of each: `name:value` lines.
fn push_headers(key: &mut String, headers: &http::HeaderMap) {
    let mut names: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|n| !PER_REQUEST_HEADERS.contains(n))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        for value in headers.get_all(name) {
            push_header(key, name, value.as_bytes());
        }
    }
}

/// Appends one `name:value` line. A header value holds no line break; one
/// that is not text is kept as its bytes' escape form after another
/// marker, so two different values never read the same.
fn push_header(key: &mut String, name: &str, value: &[u8]) {
    key.push_str(name);
    match std::str::from_utf8(value) {
        Ok(text)
            if value
                .iter()
                .all(|b| (*b >= 0x20 && *b != 0x7f) || *b == b'\t') =>
        {
            key.push(':');
            key.push_str(text);
        }
        _ => {
            key.push('#');
            key.push_str(&format!("{value:?}"));
        }
    }
    key.push('\n');
}

impl SubgraphCache {
    pub(crate) fn new(
        options: SubgraphCacheOptions,
        shared: Option<crate::shared_cache::SharedTier>,
    ) -> Self {
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
            generation: std::sync::atomic::AtomicU64::new(0),
            shared: shared.map(Arc::new),
            schema_tag: std::sync::RwLock::new(Arc::from("")),
            entity_lists: moka::sync::Cache::builder()
                .max_capacity(ENTITY_QUERIES_BYTES)
                .weigher(|query: &String, _| u32::try_from(query.len() + 64).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// The shared tier's namespace of a domain's answers, when the tier is
    /// on: the supergraph served and the domain's last purge among the
    /// access snapshot's `purges` (every replica reads the same list, so
    /// all move to a new namespace with a purge; a purge leaves the list
    /// only after the shared tier's longest lifetime,
    /// [`access::CACHE_PURGE_WINDOW`], so no answer from before it comes
    /// back).
    pub(crate) fn shared_namespace(
        &self,
        domain: &str,
        purges: &[access::CachePurgeRecord],
    ) -> Option<Arc<str>> {
        self.shared.as_ref()?;
        let schema = Arc::clone(&self.schema_tag.read().unwrap_or_else(|p| p.into_inner()));
        Some(namespace(&schema, domain, purges).into())
    }

    /// Looks a fetch up in the shared tier (one round trip for the whole
    /// fetch and each of its entities); what is found is kept in memory
    /// too. The answer, its age and remaining lifetime when the fetch or
    /// every one of its entities is there.
    pub(crate) async fn get_shared(
        &self,
        namespace: &str,
        key: &Arc<str>,
        entities: Option<&EntityKeys>,
    ) -> Option<(Bytes, u64, Duration)> {
        let shared = self.shared.as_ref()?;
        let epoch = self.epoch();
        let mut wanted: Vec<(&str, &str)> = vec![(namespace, key)];
        wanted.extend(
            entities
                .into_iter()
                .flat_map(|e| e.keys.iter())
                .map(|k| (namespace, &**k)),
        );
        let mut found = shared.get_many(&wanted).await.into_iter();
        let domain = domain_of(key);
        let whole = found.next().flatten();
        // Kept in memory unless a purge or a new supergraph came meanwhile.
        let keep = |key: &Arc<str>, entry: &crate::shared_cache::SharedEntry| {
            if self.epoch() == epoch {
                self.entries.insert(
                    Arc::clone(key),
                    Cached {
                        bytes: entry.bytes.clone(),
                        ttl: Duration::from_secs(entry.age) + entry.remaining,
                        stored: Instant::now()
                            .checked_sub(Duration::from_secs(entry.age))
                            .unwrap_or_else(Instant::now),
                        domains: None,
                    },
                );
            }
        };
        if let Some(entry) = whole {
            count(domain, "shared_hit");
            keep(key, &entry);
            return Some((entry.bytes, entry.age, entry.remaining));
        }
        let mut parts = Vec::new();
        for (key, entry) in entities.into_iter().flat_map(|e| e.keys.iter()).zip(found) {
            if let Some(entry) = &entry {
                keep(key, entry);
            }
            parts.push(entry);
        }
        let parts: Option<Vec<_>> = parts.into_iter().collect();
        let Some(parts) = parts.filter(|p| !p.is_empty()) else {
            count(domain, "shared_miss");
            return None;
        };
        count(domain, "shared_hit");
        let age = parts.iter().map(|e| e.age).max()?;
        let remaining = parts.iter().map(|e| e.remaining).min()?;
        let entities = entities?;
        let bytes: Vec<&[u8]> = parts.iter().map(|e| &e.bytes[..]).collect();
        Some((
            entities::join(&entities.specs, &entities.lens, &bytes),
            age,
            remaining,
        ))
    }

    /// Sends answers just stored in memory to the shared tier.
    fn share(&self, namespace: Option<&Arc<str>>, entries: Vec<(Arc<str>, Bytes)>, ttl: Duration) {
        let (Some(shared), Some(namespace)) = (&self.shared, namespace) else {
            return;
        };
        if let Some((key, _)) = entries.first() {
            count(domain_of(key), "shared_store");
        }
        // Never kept longer than a purge stays visible (see
        // `shared_namespace`).
        let ttl = ttl.min(access::CACHE_PURGE_WINDOW);
        shared.put_many(
            entries
                .into_iter()
                .map(|(key, bytes)| (Arc::clone(namespace), key, bytes, ttl))
                .collect(),
        );
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
                if let Some(domains) = &v.domains {
                    // A whole operation: dropped when it used the domain.
                    return domains.contains(&domain);
                }
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

    /// The epoch to pass to [`Self::store`]: an answer fetched before a
    /// purge or a new supergraph that came during the fetch is not stored.
    pub(crate) fn epoch(&self) -> Epoch {
        use std::sync::atomic::Ordering;
        Epoch {
            purge: self.applied.load(Ordering::Acquire),
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    /// The key of a whole operation: everything of the request the
    /// engine reads (method, path, query string, body, every header but
    /// the per-request ones) and the caller's identity as Meshwork
    /// admitted it; none when the body is not text (no lossy key).
    pub(crate) fn operation_key(
        method: &str,
        path: &str,
        query_string: &str,
        body: &[u8],
        headers: &hive_router::ntex::http::HeaderMap,
        identity: &str,
    ) -> Option<Arc<str>> {
        let body = std::str::from_utf8(body).ok()?;
        let mut key = String::with_capacity(body.len() + query_string.len() + 512);
        key.push_str(OPERATION);
        key.push('\n');
        key.push_str(identity);
        key.push('\n');
        key.push_str(method);
        key.push(' ');
        key.push_str(path);
        key.push('?');
        key.push_str(query_string);
        key.push('\n');
        key.push_str(&body.len().to_string());
        key.push('\n');
        key.push_str(body);
        key.push('\n');
        // Headers in name order, every value of each (as for a fetch).
        let mut pairs: Vec<(&str, &hive_router::ntex::http::header::HeaderValue)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value))
            .filter(|(name, _)| !PER_REQUEST_HEADERS.contains(name))
            .collect();
        pairs.sort_by_key(|(name, _)| *name);
        for (name, value) in pairs {
            push_header(&mut key, name, value.as_bytes());
        }
        Some(key.into())
    }

    /// Keeps a whole operation's answer for `ttl` (see [`OperationTrack`]).
    pub(crate) fn store_operation(
        &self,
        key: Arc<str>,
        epoch: Epoch,
        bytes: Bytes,
        ttl: Duration,
        domains: Vec<String>,
    ) -> bool {
        let ttl = ttl.min(self.options.max_ttl);
        if ttl.is_zero() || self.epoch() != epoch {
            return false;
        }
        count_operation("store");
        self.entries.insert(
            key,
            Cached {
                bytes,
                ttl,
                stored: Instant::now(),
                domains: Some(domains.into()),
            },
        );
        true
    }

    /// The key of a subgraph request, or none when it must not be cached
    /// (not a query).
    pub(crate) fn key(
        domain: &str,
        query: &str,
        operation_name: Option<&str>,
        variables: Option<&std::collections::HashMap<&str, &hive_router::sonic_rs::Value>>,
        raw_variables: Option<&[(&str, Vec<u8>)]>,
        headers: &http::HeaderMap,
    ) -> Option<Arc<str>> {
        request_key(
            domain,
            None,
            query,
            operation_name,
            variables,
            raw_variables,
            headers,
        )
        .map(Arc::from)
    }

    /// The keys of each entity an `_entities` fetch asks for: the fetch's
    /// key with one representation in place of its list (so an entity
    /// fetched in one batch answers it in any other batch of the same
    /// selection, caller and headers). A batch of aliased lists (the
    /// engine's batched fetches) has one key per entity of each list,
    /// named by the list's variable. None for other fetches.
    pub(crate) fn entity_keys(
        &self,
        domain: &str,
        query: &str,
        operation_name: Option<&str>,
        variables: Option<&std::collections::HashMap<&str, &hive_router::sonic_rs::Value>>,
        raw_variables: Option<&[(&str, Vec<u8>)]>,
        headers: &http::HeaderMap,
    ) -> Option<EntityKeys> {
        // The engine passes an entity fetch's representations as raw JSON
        // lists, one per variable.
        let raw = raw_variables?;
        if !query.contains("_entities") {
            return None;
        }
        let specs = self
            .entity_lists
            .get_with_by_ref(query, || entities::lists_of(query))?;
        if raw.len() != specs.len() {
            return None;
        }
        let prefix = request_key(
            domain,
            Some(ENTITY),
            query,
            operation_name,
            variables,
            None,
            headers,
        )?;
        let mut keys = Vec::new();
        let mut lens = Vec::with_capacity(specs.len());
        for spec in specs.iter() {
            let (_, list) = raw.iter().find(|(name, _)| *name == &*spec.variable)?;
            let list = std::str::from_utf8(list).ok()?;
            let before = keys.len();
            for representation in hive_router::sonic_rs::to_array_iter(list) {
                let representation = representation.ok()?;
                let mut key = String::with_capacity(prefix.len() + spec.variable.len() + 64);
                key.push_str(&prefix);
                key.push_str(&spec.variable);
                key.push('=');
                key.push_str(representation.as_raw_str());
                keys.push(Arc::from(key));
            }
            lens.push(keys.len() - before);
        }
        (!keys.is_empty()).then(|| EntityKeys {
            keys: keys.into(),
            specs,
            lens: lens.into(),
        })
    }

    pub(crate) fn get(&self, key: &Arc<str>) -> Option<Cached> {
        let found = self.entries.get(key);
        count(domain_of(key), if found.is_some() { "hit" } else { "miss" });
        found
    }

    /// Every entity of a batch from the cache, as the domain would have
    /// answered them (`{"data":{"_entities":[…]}}`), with the oldest
    /// one's age and the shortest remaining lifetime; none unless every
    /// entity is there.
    #[cfg(test)]
    pub(crate) fn get_entities(&self, keys: &EntityKeys) -> Option<(Bytes, u64, Duration)> {
        match self.lookup_entities(keys) {
            EntityLookup::All(bytes, age, remaining) => Some((bytes, age, remaining)),
            _ => None,
        }
    }

    /// The entities of a batch the cache holds: all of them (as
    /// [`Self::get_entities`] answers), some of them (each in its place,
    /// for [`Partial::narrow`]), or none. One look-up per entity.
    pub(crate) fn lookup_entities(&self, keys: &EntityKeys) -> EntityLookup {
        let found: Vec<Option<Cached>> = keys.keys.iter().map(|k| self.entries.get(k)).collect();
        let Some(first) = keys.keys.first() else {
            return EntityLookup::None;
        };
        let hits = found.iter().flatten().count();
        if hits == 0 {
            return EntityLookup::None;
        }
        let age = found.iter().flatten().map(Cached::age).max().unwrap_or(0);
        let remaining = found
            .iter()
            .flatten()
            .map(Cached::remaining)
            .min()
            .unwrap_or_default();
        if hits < found.len() {
            count(domain_of(first), "entity_partial");
            return EntityLookup::Some(Partial {
                specs: Arc::clone(&keys.specs),
                lens: Arc::clone(&keys.lens),
                missing: (0..found.len()).filter(|i| found[*i].is_none()).collect(),
                found: found.into_iter().map(|f| f.map(|c| c.bytes)).collect(),
                remaining,
            });
        }
        count(domain_of(first), "entity_hit");
        let parts: Vec<&[u8]> = found.iter().flatten().map(|c| &c.bytes[..]).collect();
        EntityLookup::All(
            entities::join(&keys.specs, &keys.lens, &parts),
            age,
            remaining,
        )
    }

    /// Keeps each entity of an `_entities` answer under its own key (see
    /// [`Self::entity_keys`]) for `ttl`: entities answered with null are
    /// not kept; nothing is when one of the answer's lists does not match
    /// its representations one for one. What it kept, for the shared tier.
    fn keep_entities(
        &self,
        keys: &EntityKeys,
        ttl: Duration,
        bytes: &Bytes,
    ) -> Option<Vec<(Arc<str>, Bytes)>> {
        let mut entities = Vec::with_capacity(keys.keys.len());
        for (spec, len) in keys.specs.iter().zip(keys.lens.iter()) {
            let list = entities::entities_in(bytes, &spec.field).ok()?;
            if list.len() != *len {
                return None;
            }
            entities.extend(list);
        }
        let mut kept = Vec::with_capacity(keys.keys.len());
        for (key, entity) in keys.keys.iter().zip(entities) {
            if entity == "null" {
                continue;
            }
            count(domain_of(key), "entity_store");
            let bytes = Bytes::from(entity);
            self.entries
                .insert(Arc::clone(key), Cached::fresh(bytes.clone(), ttl));
            kept.push((Arc::clone(key), bytes));
        }
        Some(kept)
    }

    /// The entities of an answer alone, as [`Self::store`] keeps them
    /// without a whole-fetch key (the unit tests check the per-entity
    /// rules so).
    #[cfg(test)]
    #[allow(clippy::too_many_arguments)]
    fn store_entities(
        &self,
        keys: &EntityKeys,
        shared: Option<&Arc<str>>,
        epoch: Epoch,
        status: Option<http::StatusCode>,
        has_errors: bool,
        headers: Option<&http::HeaderMap>,
        domain_ttl: Option<Duration>,
        bytes: &Bytes,
    ) -> Option<Duration> {
        self.store(
            None,
            Some(keys),
            shared,
            epoch,
            status,
            has_errors,
            headers,
            domain_ttl,
            bytes,
        )
    }

    /// A whole answer alone under `key`, fetched now, without the shared
    /// tier (the unit tests check the lifetime rules so).
    #[cfg(test)]
    fn store_whole(
        &self,
        key: Arc<str>,
        status: Option<http::StatusCode>,
        has_errors: bool,
        headers: Option<&http::HeaderMap>,
        domain_ttl: Option<Duration>,
        bytes: &Bytes,
    ) -> Option<Duration> {
        self.store(
            Some(key),
            None,
            None,
            self.epoch(),
            status,
            has_errors,
            headers,
            domain_ttl,
            bytes,
        )
    }

    /// How long an answer may be kept: none when it has errors, is not a
    /// success, came from before a purge or a new supergraph, or its
    /// `Cache-Control` (else the domain's lifetime, else the default)
    /// does not allow it.
    fn lifetime(
        &self,
        epoch: Epoch,
        status: Option<http::StatusCode>,
        has_errors: bool,
        headers: Option<&http::HeaderMap>,
        domain_ttl: Option<Duration>,
    ) -> Option<Duration> {
        if has_errors || status.is_some_and(|s| !s.is_success()) || self.epoch() != epoch {
            return None;
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
            Some(control) => ttl_of(&control)?,
            None => domain_ttl.unwrap_or(self.options.default_ttl),
        }
        .min(self.options.max_ttl);
        (!ttl.is_zero()).then_some(ttl)
    }

    /// Stores an answer if the domain allows it (under `key`; none for
    /// what a batch the cache answered in part fetched: its whole answer
    /// is made of entities kept earlier, which keep their own lifetimes),
    /// and, for an `_entities` fetch, each of its entities (see
    /// [`Self::keep_entities`]); its lifetime when something was stored.
    /// `domain_ttl` is the domain's own lifetime for answers without
    /// `Cache-Control` (else the gateway's default). What was kept goes to
    /// the shared tier in one write.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store(
        &self,
        key: Option<Arc<str>>,
        entities: Option<&EntityKeys>,
        shared: Option<&Arc<str>>,
        epoch: Epoch,
        status: Option<http::StatusCode>,
        has_errors: bool,
        headers: Option<&http::HeaderMap>,
        domain_ttl: Option<Duration>,
        bytes: &Bytes,
    ) -> Option<Duration> {
        let ttl = self.lifetime(epoch, status, has_errors, headers, domain_ttl)?;
        let mut kept = Vec::new();
        let whole = key.is_some();
        if let Some(key) = key {
            count(domain_of(&key), "store");
            self.entries
                .insert(Arc::clone(&key), Cached::fresh(bytes.clone(), ttl));
            kept.push((key, bytes.clone()));
        }
        match entities.and_then(|keys| self.keep_entities(keys, ttl, bytes)) {
            Some(kept_entities) => kept.extend(kept_entities),
            None if !whole => return None,
            None => {}
        }
        self.share(shared, kept, ttl);
        Some(ttl)
    }

    /// Empties the cache for a new supergraph (answers may have changed
    /// shape); the shared tier moves to the new supergraph's namespace.
    pub(crate) fn clear(&self, supergraph_sdl: &str) {
        if self.shared.is_some() {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(supergraph_sdl.as_bytes());
            let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            *self.schema_tag.write().unwrap_or_else(|p| p.into_inner()) = tag.into();
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

impl Cached {
    /// A subgraph answer stored now, kept for `ttl`.
    fn fresh(bytes: Bytes, ttl: Duration) -> Self {
        Self {
            bytes,
            ttl,
            stored: Instant::now(),
            domains: None,
        }
    }

    /// Seconds since the answer was stored.
    pub(crate) fn age(&self) -> u64 {
        self.stored.elapsed().as_secs()
    }

    /// How much longer the answer is kept.
    pub(crate) fn remaining(&self) -> Duration {
        self.ttl.saturating_sub(self.stored.elapsed())
    }
}

/// The shared tier's namespace of `domain` under the supergraph `schema`
/// (its hash) and the access snapshot's `purges`: changes with the
/// domain's latest purge, not with another domain's.
fn namespace(schema: &str, domain: &str, purges: &[access::CachePurgeRecord]) -> String {
    let purge = purges
        .iter()
        .filter(|p| p.domain == domain)
        .map(|p| p.id)
        .max()
        .unwrap_or(0);
    format!("{schema}:{domain}:{purge}")
}

/// What one operation's fetches allow: its whole answer may be kept only
/// when every fetch it started was answered by the cache or stored in
/// it, and no longer than the shortest of their remaining lifetimes.
#[derive(Default)]
pub(crate) struct OperationTrack(std::sync::Mutex<TrackState>);

#[derive(Default)]
struct TrackState {
    started: u32,
    kept: u32,
    refused: bool,
    ttl: Option<Duration>,
    domains: std::collections::BTreeSet<String>,
}

impl OperationTrack {
    /// A fetch of the operation begins.
    pub(crate) fn started(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.started += 1;
        }
    }

    /// A fetch was answered by the cache or stored for `ttl`.
    pub(crate) fn kept(&self, domain: &str, ttl: Duration) {
        if let Ok(mut s) = self.0.lock() {
            s.kept += 1;
            s.ttl = Some(s.ttl.map_or(ttl, |t| t.min(ttl)));
            if !s.domains.contains(domain) {
                s.domains.insert(domain.to_string());
            }
        }
    }

    /// Something of the operation cannot be kept (a fetch not stored, an
    /// error in the answer).
    pub(crate) fn refuse(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.refused = true;
        }
    }

    /// The lifetime and domains of the whole answer, when it may be kept
    /// (at least one fetch, every one kept, nothing refused).
    pub(crate) fn verdict(&self) -> Option<(Duration, Vec<String>)> {
        let s = self.0.lock().ok()?;
        if s.refused || s.started == 0 || s.kept != s.started {
            return None;
        }
        Some((s.ttl?, s.domains.iter().cloned().collect()))
    }
}

/// A whole operation looked up and missed: stored when its answer is
/// complete (see `engine_plugin`'s HTTP hook).
pub(crate) struct PendingOperation {
    pub key: Arc<str>,
    pub epoch: Epoch,
    pub track: OperationTrack,
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
            shared_redis_url: None,
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
        SubgraphCache::key("orders", query, None, None, None, &headers(pairs))
    }

    #[test]
    fn a_purge_moves_its_domain_alone_to_a_new_shared_namespace() {
        let purge = |id, domain: &str| access::CachePurgeRecord {
            id,
            domain: domain.into(),
            type_name: None,
            key: None,
        };
        let none = namespace("s1", "orders", &[]);
        assert_eq!(none, "s1:orders:0");
        // Another domain's purge: the same namespace.
        assert_eq!(namespace("s1", "orders", &[purge(3, "customers")]), none);
        // Its own purges: the latest one names it, in any order.
        let purged = namespace("s1", "orders", &[purge(7, "orders"), purge(3, "orders")]);
        assert_eq!(purged, "s1:orders:7");
        assert_ne!(
            namespace("s1", "orders", &[purge(8, "orders"), purge(7, "orders")]),
            purged
        );
        // Another supergraph: another namespace.
        assert_ne!(namespace("s2", "orders", &[purge(7, "orders")]), purged);
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
        let cache = SubgraphCache::new(options(0), None);
        let body = Bytes::from_static(br#"{"data":{"orders":[]}}"#);
        let k = || key("{ orders { id } }", &[]).expect("key");
        let ok = Some(http::StatusCode::OK);
        // No Cache-Control and no default TTL: not kept.
        assert!(cache
            .store_whole(k(), ok, false, None, None, &body)
            .is_none());
        let allowed = headers(&[("cache-control", "max-age=60")]);
        assert!(
            cache
                .store_whole(k(), ok, true, Some(&allowed), None, &body)
                .is_none(),
            "errors"
        );
        assert!(cache
            .store_whole(
                k(),
                Some(http::StatusCode::BAD_GATEWAY),
                false,
                Some(&allowed),
                None,
                &body
            )
            .is_none());
        let private = headers(&[("cache-control", "private, max-age=60")]);
        assert!(cache
            .store_whole(k(), ok, false, Some(&private), None, &body)
            .is_none());
        assert!(cache.get(&k()).is_none());
        assert!(cache
            .store_whole(k(), ok, false, Some(&allowed), None, &body)
            .is_some());
        assert_eq!(cache.get(&k()).map(|c| c.bytes), Some(body.clone()));
        cache.clear("type Query { a: Int }");
        assert!(cache.get(&k()).is_none());
        // With a default TTL an answer without Cache-Control is kept.
        let cache = SubgraphCache::new(options(30), None);
        assert!(cache
            .store_whole(k(), ok, false, None, None, &body)
            .is_some());
    }

    const ENTITIES_QUERY: &str = "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}";

    #[test]
    fn entity_fetches_of_different_entities_never_share_a_key() {
        // The engine passes representations as raw JSON beside the parsed
        // variables: they are part of the key.
        let fetch = |list: &str| {
            let raw = [("representations", list.as_bytes().to_vec())];
            SubgraphCache::key(
                "products",
                ENTITIES_QUERY,
                None,
                None,
                Some(&raw),
                &headers(&[]),
            )
        };
        let one = fetch(r#"[{"__typename":"Product","upc":"1"}]"#);
        let two = fetch(r#"[{"__typename":"Product","upc":"2"}]"#);
        assert!(one.is_some());
        assert_ne!(one, two);
        assert_eq!(one, fetch(r#"[{"__typename":"Product","upc":"1"}]"#));
        // Raw lists the query does not read, one each: no per-entity keys.
        let raw = [
            ("representations", br#"[{"upc":"1"}]"#.to_vec()),
            ("reps_1", br#"[{"upc":"2"}]"#.to_vec()),
        ];
        let cache = SubgraphCache::new(options(60), None);
        assert!(cache
            .entity_keys(
                "products",
                ENTITIES_QUERY,
                None,
                None,
                Some(&raw),
                &headers(&[])
            )
            .is_none());
    }

    /// Per-entity keys of an `_entities` fetch of these representations.
    fn entity_keys(representations: &str, pairs: &[(&'static str, &'static str)]) -> EntityKeys {
        let raw = [("representations", representations.as_bytes().to_vec())];
        SubgraphCache::new(options(60), None)
            .entity_keys(
                "products",
                ENTITIES_QUERY,
                None,
                None,
                Some(&raw),
                &headers(pairs),
            )
            .expect("entity keys")
    }

    fn entities_of(cache: &SubgraphCache, keys: &EntityKeys) -> Option<String> {
        cache
            .get_entities(keys)
            .map(|(bytes, _, _)| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The representations of these products, as the engine sends them.
    fn batch(upcs: &[&str]) -> String {
        let products: Vec<String> = upcs
            .iter()
            .map(|upc| format!(r#"{{"__typename":"Product","upc":"{upc}"}}"#))
            .collect();
        format!("[{}]", products.join(","))
    }

    #[test]
    fn a_batch_cached_in_part_asks_only_for_the_rest_and_merges_it_in_place() {
        let cache = SubgraphCache::new(options(60), None);
        let ok = Some(http::StatusCode::OK);
        let alice = [("x-meshwork-consumer", "alice")];
        let kept = entity_keys(&batch(&["1", "3"]), &alice);
        let answer = Bytes::from_static(br#"{"data":{"_entities":[{"name":"a"},{"name":"c"}]}}"#);
        cache
            .store_entities(&kept, None, cache.epoch(), ok, false, None, None, &answer)
            .expect("kept");

        // A batch of 1, 2, 3, 4: two cached, two to fetch.
        let list = batch(&["1", "2", "3", "4"]);
        let keys = entity_keys(&list, &alice);
        let EntityLookup::Some(some) = cache.lookup_entities(&keys) else {
            panic!("a partial hit");
        };
        let mut raw = vec![("representations", list.into_bytes())];
        let (partial, missing) = some.narrow(Some(&mut raw), &keys).expect("narrowed");
        // The domain is asked for 2 and 4 alone, in the batch's order.
        assert_eq!(
            String::from_utf8_lossy(&raw[0].1),
            batch(&["2", "4"]),
            "the representations sent"
        );
        assert_eq!(
            &missing.keys[..],
            &[keys.keys[1].clone(), keys.keys[3].clone()]
        );
        assert_eq!(
            (
                partial.position("_entities", 0),
                partial.position("_entities", 1)
            ),
            (Some(1), Some(3))
        );
        assert_eq!(partial.position("_entities", 2), None);
        assert_eq!(partial.position("_e0", 0), None);
        assert_eq!(partial.counts(), (2, 2));
        // Its answer is merged, each entity in its place (a null one too).
        let fetched = br#"{"data":{"_entities":[{"name":"b"},null]},"errors":[{"message":"x"}]}"#;
        assert_eq!(
            String::from_utf8_lossy(&partial.merge(fetched).expect("merged")),
            r#"{"data":{"_entities":[{"name":"a"},{"name":"b"},{"name":"c"},null]}}"#
        );
        // An answer with another count of entities, or none, is refused:
        // entities are never put in another entity's place.
        let short = br#"{"data":{"_entities":[{"name":"b"}]}}"#;
        assert!(partial
            .merge(short)
            .expect_err("one for two")
            .contains("1 entities for 2 representations"));
        assert!(partial.merge(br#"{"data":null}"#).is_err());
        assert!(partial.merge(b"not json").is_err());
        // Representations that cannot be read, or a batch of aliased lists:
        // the fetch is left whole.
        let EntityLookup::Some(again) = cache.lookup_entities(&keys) else {
            panic!("a partial hit");
        };
        let mut unreadable = vec![("representations", b"[{".to_vec())];
        assert!(again.narrow(Some(&mut unreadable), &keys).is_none());
        // Nothing cached, everything cached: no partial hit.
        let none = entity_keys(&batch(&["7", "8"]), &alice);
        assert!(matches!(cache.lookup_entities(&none), EntityLookup::None));
        assert!(matches!(
            cache.lookup_entities(&kept),
            EntityLookup::All(_, _, _)
        ));
    }

    /// The engine's batched fetch: two aliased lists, each from its own
    /// variable.
    const BATCH_QUERY: &str = "query($__batch_reps_0:[_Any!]!,$__batch_reps_1:[_Any!]!){_e0:_entities(representations:$__batch_reps_0){...on Product{name}} _e1:_entities(representations:$__batch_reps_1){...on Product{price}}}";

    fn batch_keys(cache: &SubgraphCache, raw: &[(&str, Vec<u8>)]) -> Option<EntityKeys> {
        cache.entity_keys(
            "products",
            BATCH_QUERY,
            None,
            None,
            Some(raw),
            &headers(&[("x-meshwork-consumer", "alice")]),
        )
    }

    #[test]
    fn each_list_of_a_batched_fetch_is_cached_per_entity() {
        let cache = SubgraphCache::new(options(60), None);
        let ok = Some(http::StatusCode::OK);
        // _e0 asks for products 1 and 2 (names), _e1 for 1 (price).
        let raw = [
            ("__batch_reps_0", batch(&["1", "2"]).into_bytes()),
            ("__batch_reps_1", batch(&["1"]).into_bytes()),
        ];
        let keys = batch_keys(&cache, &raw).expect("keys of both lists");
        assert_eq!(keys.keys.len(), 3);
        // The same product in two lists (two selections): two keys.
        assert_ne!(keys.keys[0], keys.keys[2]);
        let answer = Bytes::from_static(
            br#"{"data":{"_e0":[{"name":"a"},{"name":"b"}],"_e1":[{"price":10}]}}"#,
        );
        cache
            .store_entities(&keys, None, cache.epoch(), ok, false, None, None, &answer)
            .expect("kept");
        // The same batch again: every list from the cache, in order.
        assert_eq!(
            entities_of(&cache, &keys).as_deref(),
            Some(r#"{"data":{"_e0":[{"name":"a"},{"name":"b"}],"_e1":[{"price":10}]}}"#)
        );
        // Another batch of the same query: _e0 [2, 3], _e1 [3, 1]: 2 and
        // 1 are cached, 3 is asked for in each list.
        let mut raw = vec![
            ("__batch_reps_0", batch(&["2", "3"]).into_bytes()),
            ("__batch_reps_1", batch(&["3", "1"]).into_bytes()),
        ];
        let keys = batch_keys(&cache, &raw).expect("keys");
        let EntityLookup::Some(some) = cache.lookup_entities(&keys) else {
            panic!("a partial hit");
        };
        let (partial, missing) = some.narrow(Some(&mut raw), &keys).expect("narrowed");
        assert_eq!(String::from_utf8_lossy(&raw[0].1), batch(&["3"]));
        assert_eq!(String::from_utf8_lossy(&raw[1].1), batch(&["3"]));
        assert_eq!(
            &missing.keys[..],
            &[keys.keys[1].clone(), keys.keys[2].clone()]
        );
        assert_eq!(partial.counts(), (2, 2));
        // Error paths move per list: _e0's 0 is its 1, _e1's 0 its 0.
        assert_eq!(partial.position("_e0", 0), Some(1));
        assert_eq!(partial.position("_e1", 0), Some(0));
        assert_eq!(partial.position("_e1", 1), None);
        assert_eq!(partial.position("_entities", 0), None);
        let fetched = br#"{"data":{"_e0":[{"name":"c"}],"_e1":[{"price":30}]}}"#;
        assert_eq!(
            String::from_utf8_lossy(&partial.merge(fetched).expect("merged")),
            r#"{"data":{"_e0":[{"name":"b"},{"name":"c"}],"_e1":[{"price":30},{"price":10}]}}"#
        );
        // One list missing or of another length: refused, never shifted.
        assert!(partial
            .merge(br#"{"data":{"_e0":[{"name":"c"}]}}"#)
            .expect_err("no _e1")
            .contains("`_e1`"));
        assert!(partial
            .merge(br#"{"data":{"_e0":[{"name":"c"}],"_e1":[]}}"#)
            .is_err());
        // What the domain answers is kept per entity: the next such batch
        // is a hit.
        let answer = Bytes::from_static(br#"{"data":{"_e0":[{"name":"c"}],"_e1":[{"price":30}]}}"#);
        cache
            .store_entities(
                &missing,
                None,
                cache.epoch(),
                ok,
                false,
                None,
                None,
                &answer,
            )
            .expect("kept");
        assert!(matches!(
            cache.lookup_entities(&keys),
            EntityLookup::All(_, _, _)
        ));
        // An answer whose lists do not match the lists asked: nothing kept.
        let other = [
            ("__batch_reps_0", batch(&["7"]).into_bytes()),
            ("__batch_reps_1", batch(&["8"]).into_bytes()),
        ];
        let other = batch_keys(&cache, &other).expect("keys");
        let wrong = Bytes::from_static(br#"{"data":{"_e0":[{"name":"g"}],"_e1":[]}}"#);
        assert!(cache
            .store_entities(&other, None, cache.epoch(), ok, false, None, None, &wrong)
            .is_none());
        assert!(matches!(cache.lookup_entities(&other), EntityLookup::None));
        // A list the query does not read, or one it reads missing: no keys.
        let stray = [
            ("__batch_reps_0", batch(&["1"]).into_bytes()),
            ("__batch_reps_9", batch(&["1"]).into_bytes()),
        ];
        assert!(batch_keys(&cache, &stray).is_none());
        assert!(batch_keys(&cache, &stray[..1]).is_none());
    }

    #[test]
    fn entities_are_kept_one_by_one_and_answer_any_batch_of_the_same_caller() {
        let cache = SubgraphCache::new(options(60), None);
        let ok = Some(http::StatusCode::OK);
        let alice = [("x-meshwork-consumer", "alice")];
        let first = entity_keys(&batch(&["1", "2"]), &alice);
        assert_eq!(first.keys.len(), 2);
        let answer = Bytes::from_static(br#"{"data":{"_entities":[{"name":"a"},{"name":"b"}]}}"#);
        assert!(cache
            .store_entities(&first, None, cache.epoch(), ok, false, None, None, &answer)
            .is_some());
        // Another batch of the same entities, in another order: answered
        // from the cache, each entity in its place.
        assert_eq!(
            entities_of(&cache, &entity_keys(&batch(&["2", "1", "2"]), &alice)).as_deref(),
            Some(r#"{"data":{"_entities":[{"name":"b"},{"name":"a"},{"name":"b"}]}}"#)
        );
        // One entity never fetched: the whole batch goes to the domain.
        assert_eq!(
            entities_of(&cache, &entity_keys(&batch(&["1", "3"]), &alice)),
            None
        );
        // Another caller (headers) or another selection shares nothing.
        let bob = [("x-meshwork-consumer", "bob")];
        assert_eq!(
            entities_of(&cache, &entity_keys(&batch(&["1"]), &bob)),
            None
        );
        let raw = [("representations", batch(&["1"]).into_bytes())];
        let other_selection = cache.entity_keys(
            "products",
            "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{price}}}",
            None,
            None,
            Some(&raw),
            &headers(&alice),
        )
        .expect("keys");
        assert_eq!(entities_of(&cache, &other_selection), None);
        // Nor does a fetch that is no `_entities` fetch have entity keys.
        assert!(cache
            .entity_keys(
                "products",
                "{ top { upc } }",
                None,
                None,
                None,
                &headers(&[])
            )
            .is_none());

        // Entities answered null, answers with errors, answers whose list
        // does not match the representations: not kept.
        let missing = entity_keys(&batch(&["4"]), &alice);
        let null = Bytes::from_static(br#"{"data":{"_entities":[null]}}"#);
        cache.store_entities(&missing, None, cache.epoch(), ok, false, None, None, &null);
        assert_eq!(entities_of(&cache, &missing), None);
        let five = entity_keys(&batch(&["5"]), &alice);
        let five_answer = Bytes::from_static(br#"{"data":{"_entities":[{"name":"e"}]}}"#);
        assert!(cache
            .store_entities(
                &five,
                None,
                cache.epoch(),
                ok,
                true,
                None,
                None,
                &five_answer
            )
            .is_none());
        let short = entity_keys(&batch(&["5", "6"]), &alice);
        assert!(cache
            .store_entities(
                &short,
                None,
                cache.epoch(),
                ok,
                false,
                None,
                None,
                &five_answer
            )
            .is_none());
        assert_eq!(entities_of(&cache, &five), None);
        let private = headers(&[("cache-control", "private, max-age=60")]);
        assert!(cache
            .store_entities(
                &five,
                None,
                cache.epoch(),
                ok,
                false,
                Some(&private),
                None,
                &five_answer
            )
            .is_none());
        assert_eq!(entities_of(&cache, &five), None);

        // A purge of one key drops that entity only.
        cache.apply_purges(&[access::CachePurgeRecord {
            id: 1,
            domain: "products".into(),
            type_name: Some("Product".into()),
            key: Some("2".into()),
        }]);
        cache.entries.run_pending_tasks();
        assert!(entities_of(&cache, &entity_keys(&batch(&["1"]), &alice)).is_some());
        assert_eq!(
            entities_of(&cache, &entity_keys(&batch(&["2"]), &alice)),
            None
        );
    }

    #[test]
    fn a_domains_own_lifetime_and_purges_apply() {
        let cache = SubgraphCache::new(options(0), None);
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
        assert!(cache
            .store_whole(k1.clone(), ok, false, None, ttl, &order)
            .is_some());
        assert!(cache
            .store_whole(k2.clone(), ok, false, None, ttl, &customer)
            .is_some());
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
        assert!(cache
            .store(
                Some(k2.clone()),
                None,
                None,
                before,
                ok,
                false,
                None,
                ttl,
                &customer
            )
            .is_none());
        cache.entries.run_pending_tasks();
        assert!(
            cache.get(&k1).is_none(),
            "a whole-domain purge drops everything"
        );
        // Applied purges are not applied again.
        assert!(cache
            .store_whole(k2.clone(), ok, false, None, ttl, &customer)
            .is_some());
        cache.apply_purges(&[purge(3, None, None)]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k2).is_some());
    }

    fn ntex_headers(pairs: &[(&'static str, &'static str)]) -> hive_router::ntex::http::HeaderMap {
        let mut map = hive_router::ntex::http::HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                hive_router::ntex::http::header::HeaderName::from_static(k),
                hive_router::ntex::http::header::HeaderValue::from_static(v),
            );
        }
        map
    }

    #[test]
    fn whole_operations_are_kept_apart_by_caller_body_and_headers() {
        let op = |identity: &str, body: &[u8], pairs: &[(&'static str, &'static str)]| {
            SubgraphCache::operation_key(
                "POST",
                "/graphql",
                "",
                body,
                &ntex_headers(pairs),
                identity,
            )
        };
        let body = br#"{"query":"{ orders { id } }"}"#;
        let a = op("consumer=a", body, &[("x-api-key", "k1")]);
        let all = [
            a.clone(),
            op("consumer=b", body, &[("x-api-key", "k1")]),
            op("consumer=a", body, &[("x-api-key", "k2")]),
            op(
                "consumer=a",
                br#"{"query":"{ orders { total } }"}"#,
                &[("x-api-key", "k1")],
            ),
            op(
                "consumer=a",
                body,
                &[("x-api-key", "k1"), ("accept", "text/csv")],
            ),
            SubgraphCache::operation_key(
                "GET",
                "/graphql",
                "query=%7Borders%7Bid%7D%7D",
                body,
                &ntex_headers(&[("x-api-key", "k1")]),
                "consumer=a",
            ),
        ];
        for (i, x) in all.iter().enumerate() {
            assert!(x.is_some());
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        // Request ids and trace context do not split it.
        assert_eq!(
            a,
            op(
                "consumer=a",
                body,
                &[("x-api-key", "k1"), ("x-request-id", "r7")]
            )
        );
        // A body that is not text has no key (no lossy key).
        assert!(op("consumer=a", &[0xff, 0xfe], &[]).is_none());
    }

    #[test]
    fn a_whole_operation_is_kept_only_when_every_fetch_was() {
        let ttl = |s| Duration::from_secs(s);
        // No fetch at all: not kept (nothing says how long it is true).
        assert!(OperationTrack::default().verdict().is_none());
        // Two fetches kept: the shorter lifetime, both domains.
        let track = OperationTrack::default();
        track.started();
        track.started();
        track.kept("orders", ttl(60));
        track.kept("customers", ttl(20));
        assert_eq!(
            track.verdict(),
            Some((ttl(20), vec!["customers".to_string(), "orders".to_string()]))
        );
        // A fetch that never reported (dropped, failed): not kept.
        let track = OperationTrack::default();
        track.started();
        track.started();
        track.kept("orders", ttl(60));
        assert!(track.verdict().is_none());
        // Anything refused (an uncacheable fetch, an error): not kept.
        let track = OperationTrack::default();
        track.started();
        track.kept("orders", ttl(60));
        track.refuse();
        assert!(track.verdict().is_none());
    }

    #[test]
    fn whole_operations_go_with_a_purge_of_any_of_their_domains_and_a_new_supergraph() {
        let cache = SubgraphCache::new(options(0), None);
        let body = Bytes::from_static(br#"{"data":{"orders":[]}}"#);
        let k = SubgraphCache::operation_key("POST", "/graphql", "", b"{}", &ntex_headers(&[]), "")
            .expect("key");
        let ttl = Duration::from_secs(60);
        let both = vec!["customers".to_string(), "orders".to_string()];
        assert!(cache.store_operation(k.clone(), cache.epoch(), body.clone(), ttl, both.clone()));
        let purge = |id, domain: &str| access::CachePurgeRecord {
            id,
            domain: domain.into(),
            type_name: Some("Invoice".into()),
            key: None,
        };
        // A purge of a domain it did not use leaves it.
        cache.apply_purges(&[purge(1, "billing")]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k).is_some());
        // A purge of any of its domains drops it (whatever type it names).
        cache.apply_purges(&[purge(1, "billing"), purge(2, "customers")]);
        cache.entries.run_pending_tasks();
        assert!(cache.get(&k).is_none());
        // Fetched before a new supergraph: not stored after it.
        let before = cache.epoch();
        cache.clear("type Query { a: Int }");
        assert!(!cache.store_operation(k.clone(), before, body.clone(), ttl, both.clone()));
        assert!(cache.store_operation(k.clone(), cache.epoch(), body, ttl, both));
        assert!(cache.get(&k).is_some());
    }
}
