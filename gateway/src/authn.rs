//! Authentication of every GraphQL request against the catalog's access
//! snapshot, before the engine sees it.
//!
//! A caller presents a JWT of a registered issuer or a consumer's API key
//! (`Authorization: Bearer …`, `Authorization: ApiKey …` or `X-API-Key`).
//! Meshwork verifies it ([`access::Verifier`]: signature, algorithm pinned
//! per issuer, issuer, audience, expiry, `nbf` with leeway, JWKS refetched
//! on an unknown `kid`; key hash, expiry, revocation), adds the scopes of
//! the consumer's live grants, and hands the engine a short-lived token of
//! its own (HS256, a per-process secret) carrying the subject, the consumer
//! and the scopes. The engine's JWT authentication trusts only that secret
//! and enforces `@requiresScopes`/`@authenticated` from the supergraph, into
//! which composition wrote the catalog's grants and field policies. So one
//! mechanism decides every field, and the engine's fast path is unchanged.
//!
//! Verified identities are cached per credential (until the identity stops
//! being valid, at most a minute, and never across a snapshot change), so a
//! repeated token costs one map lookup.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use access::{AccessSnapshot, Credential, Identity, Verifier};
use arc_swap::ArcSwap;
use chrono::Utc;
use hive_router::ntex::http::header::{HeaderName, HeaderValue};
use hive_router::ntex::web::{self, DefaultError, HttpResponse};
use hive_router::plugins::plugin_context::PluginContext;
use jsonwebtoken::{EncodingKey, Header};

/// The issuer of the tokens Meshwork hands the engine.
pub(crate) const INTERNAL_ISSUER: &str = "meshwork-gateway";
const INTERNAL_KID: &str = "meshwork-gateway";
/// Longest life of a cached identity (and of an internal token).
const MAX_CACHE: Duration = Duration::from_secs(60);

/// Headers Meshwork sets for domains; whatever a client sends in them is
/// dropped first.
pub const CONSUMER_HEADER: &str = access::control::CONSUMER_HEADER;

/// The engine's client-name header (usage reporting), default name.
const CLIENT_NAME_HEADER: &str = "graphql-client-name";
pub const SUBJECT_HEADER: &str = access::control::SUBJECT_HEADER;
pub const SCOPES_HEADER: &str = access::control::SCOPES_HEADER;

/// Where a gateway reads the access snapshot.
pub enum AccessSource {
    /// The catalog in this process: every change arrives at once.
    InProcess(tokio::sync::watch::Receiver<Arc<AccessSnapshot>>),
    /// A control plane: `GET {endpoint}/access` with the CDN key, polled.
    /// The control plane never sends HS256 issuers' secrets: a replica
    /// verifies those issuers' tokens only with the secrets it is given
    /// here (issuer name -> secret).
    ControlPlane {
        endpoint: String,
        key: String,
        poll_interval: Duration,
        issuer_secrets: std::collections::BTreeMap<String, String>,
    },
    /// A JSON file holding an [`AccessSnapshot`] (static gateways).
    File(PathBuf),
}

/// Meshwork's access control on a gateway.
pub struct AccessOptions {
    pub source: AccessSource,
    /// Requests without credentials proceed as anonymous (they see only
    /// fields without access rules); when false they get 401.
    pub allow_anonymous: bool,
    /// `true`: a request touching any unauthorized field is refused whole;
    /// `false`: those fields are null with an `UNAUTHORIZED_FIELD_OR_TYPE`
    /// error each.
    pub reject_unauthorized: bool,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

/// What the engine needs to trust Meshwork's internal tokens.
pub(crate) struct InternalKeys {
    encoding: EncodingKey,
    /// A JWKS document with the one HS256 key, for the engine's config.
    pub jwks: String,
}

impl InternalKeys {
    pub fn generate() -> Result<Self, String> {
        use base64::Engine;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| format!("no randomness: {e}"))?;
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let jwks = serde_json::json!({ "keys": [{
            "kty": "oct", "alg": "HS256", "kid": INTERNAL_KID, "use": "sig", "k": k
        }]})
        .to_string();
        Ok(Self {
            encoding: EncodingKey::from_secret(&secret),
            jwks,
        })
    }

    fn mint(&self, identity: &Identity, expires: i64) -> Result<String, String> {
        // Only what the engine reads: the engine finds this token in every
        // request's headers and turns its claims into a value per request,
        // so each byte costs every request (callgrind, bench/RESULTS.md).
        // The consumer travels in its own header; `introspection` is written
        // only when refused (the engine's rule reads a missing claim as
        // allowed).
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = None;
        header.kid = Some(INTERNAL_KID.to_string());
        let mut claims = serde_json::json!({
            "iss": INTERNAL_ISSUER,
            "sub": identity.subject,
            "scope": identity.scopes,
            "exp": expires,
        });
        if !identity.introspection {
            claims["introspection"] = serde_json::Value::Bool(false);
        }
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }
}

/// A verified credential, ready to forward.
pub(crate) struct Admitted {
    pub identity: Identity,
    authorization: HeaderValue,
    consumer: Option<HeaderValue>,
    subject: Option<HeaderValue>,
    scopes: Option<HeaderValue>,
    /// Unix seconds after which it must be verified again.
    until: i64,
}

pub(crate) struct Shared {
    verifier: ArcSwap<Verifier>,
    /// The catalog's snapshot when it runs in this process: checked on every
    /// request, so a revocation holds from the very next request.
    live: Option<tokio::sync::watch::Receiver<Arc<AccessSnapshot>>>,
    /// The last snapshot taken from `live`.
    seen: ArcSwap<AccessSnapshot>,
    /// Verified credentials by their text. Keyed with aHash (randomly
    /// seeded, so still resistant to chosen collisions): a bearer token is
    /// hundreds of bytes, hashed on every request.
    cache: moka::sync::Cache<String, Arc<Admitted>, ahash::RandomState>,
    keys: InternalKeys,
    allow_anonymous: bool,
    graphql_path: Arc<str>,
    leeway_seconds: u64,
}

impl Shared {
    pub fn new(
        keys: InternalKeys,
        allow_anonymous: bool,
        leeway: Duration,
        initial: Arc<AccessSnapshot>,
        live: Option<tokio::sync::watch::Receiver<Arc<AccessSnapshot>>>,
        graphql_path: &str,
    ) -> Arc<Self> {
        let leeway_seconds = leeway.as_secs();
        Arc::new(Self {
            seen: ArcSwap::new(initial.clone()),
            verifier: ArcSwap::from_pointee(Verifier::new(initial, leeway_seconds)),
            live,
            cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(MAX_CACHE)
                .build_with_hasher(ahash::RandomState::new()),
            keys,
            allow_anonymous,
            graphql_path: graphql_path.into(),
            leeway_seconds,
        })
    }

    /// Where the engine serves GraphQL.
    pub fn graphql_path(&self) -> &str {
        &self.graphql_path
    }

    /// Whether requests without a credential may run operations.
    pub fn allows_anonymous(&self) -> bool {
        self.allow_anonymous
    }

    /// Whether a domain is under the strict model (its responses are
    /// sampled against the served schema).
    pub fn is_strict(&self, domain: &str) -> bool {
        self.verifier
            .load()
            .snapshot()
            .strict_domains
            .contains(domain)
    }

    /// Whether the catalog has no domain with a schema to serve.
    pub fn mesh_empty(&self) -> bool {
        self.verifier.load().snapshot().mesh_empty
    }

    /// What the catalog last said of a domain's data product.
    pub fn product(&self, domain: &str) -> Option<access::ProductRecord> {
        self.verifier
            .load()
            .snapshot()
            .products
            .get(domain)
            .cloned()
    }

    /// The access snapshot in force.
    pub fn snapshot(&self) -> Arc<AccessSnapshot> {
        self.verifier.load().snapshot().clone()
    }

    /// Whether any domain has a plan of its own.
    pub fn has_domain_plans(&self) -> bool {
        !self.verifier.load().snapshot().domain_plans.is_empty()
    }

    /// The largest operation cost a consumer's plan accepts, if it sets one.
    pub fn consumer_max_cost(&self, consumer: &str) -> Option<u64> {
        self.verifier
            .load()
            .consumer(consumer)
            .and_then(|c| c.plan.as_ref())
            .and_then(|p| p.max_cost)
            .map(u64::from)
    }

    /// Installs a new snapshot; cached identities are dropped.
    pub fn install(&self, snapshot: Arc<AccessSnapshot>) {
        let current = self.verifier.load();
        if Arc::ptr_eq(current.snapshot(), &snapshot)
            || current.snapshot().as_ref() == snapshot.as_ref()
        {
            return;
        }
        tracing::info!(
            issuers = snapshot.issuers.len(),
            consumers = snapshot.consumers.len(),
            api_keys = snapshot.api_keys.len(),
            "access snapshot installed"
        );
        self.verifier
            .store(Arc::new(Verifier::new(snapshot, self.leeway_seconds)));
        self.cache.invalidate_all();
    }

    /// Takes the in-process catalog's latest snapshot, if it changed.
    fn refresh(&self) {
        if let Some(live) = &self.live {
            let latest = live.borrow().clone();
            if !Arc::ptr_eq(&self.seen.load(), &latest) {
                self.seen.store(latest.clone());
                self.install(latest);
            }
        }
    }

    /// A saved query by name, as the catalog last published it.
    pub fn saved_query(&self, name: &str) -> Option<access::SavedQueryRecord> {
        self.refresh();
        self.verifier
            .load()
            .snapshot()
            .saved_queries
            .get(name)
            .cloned()
    }

    async fn admit(&self, credential: Credential<'_>) -> Result<Arc<Admitted>, String> {
        self.refresh();
        let now = Utc::now().timestamp();
        if let Some(hit) = self.cache.get(credential.text()) {
            if hit.until > now {
                return Ok(hit);
            }
        }
        let verifier = self.verifier.load_full();
        let identity = verifier.authenticate(credential).await.map_err(|e| {
            tracing::debug!(detail = %e.detail(), "credential refused");
            e.to_string()
        })?;
        let cap = now + MAX_CACHE.as_secs() as i64;
        let until = identity
            .valid_until
            .map(|t| t.timestamp().min(cap))
            .unwrap_or(cap);
        // The engine checks `exp` itself; give it the leeway the caller had.
        let token = self
            .keys
            .mint(&identity, until + self.leeway_seconds as i64)?;
        let value = |s: &str| HeaderValue::from_str(s).ok();
        let admitted = Arc::new(Admitted {
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| e.to_string())?,
            consumer: identity.consumer.as_deref().and_then(value),
            subject: value(&identity.subject),
            scopes: value(&identity.scopes.join(" ")),
            identity,
            until,
        });
        // Only a verifier still current may fill the cache.
        if Arc::ptr_eq(&verifier, &self.verifier.load_full()) {
            self.cache
                .insert(credential.text().to_string(), admitted.clone());
        }
        Ok(admitted)
    }
}

/// Follows the access source until the process ends.
pub(crate) async fn follow(shared: Arc<Shared>, source: AccessSource) {
    match source {
        AccessSource::InProcess(mut rx) => loop {
            let snapshot = rx.borrow_and_update().clone();
            shared.install(snapshot);
            if rx.changed().await.is_err() {
                return;
            }
        },
        AccessSource::ControlPlane {
            endpoint,
            key,
            poll_interval,
            issuer_secrets,
        } => {
            let http = match reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
            {
                Ok(http) => http,
                Err(e) => {
                    // Nothing to poll with: the gateway keeps refusing
                    // credentials (an empty snapshot) and says why.
                    tracing::error!(error = %e, "no HTTP client to poll the access snapshot; every credential is refused");
                    return;
                }
            };
            let url = format!("{}/access", endpoint.trim_end_matches('/'));
            let mut etag: Option<String> = None;
            loop {
                match fetch(&http, &url, &key, etag.as_deref()).await {
                    Ok(Some((mut snapshot, tag))) => {
                        let unusable = snapshot.with_issuer_secrets(&issuer_secrets);
                        if !unusable.is_empty() {
                            tracing::warn!(
                                issuers = %unusable.join(", "),
                                "HS256 issuers without their secret on this replica (give it with --issuer-secret NAME=SECRET); their tokens are refused"
                            );
                        }
                        shared.install(Arc::new(snapshot));
                        etag = tag;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "access snapshot poll failed; the last one stays")
                    }
                }
                tokio::time::sleep(poll_interval).await;
            }
        }
        AccessSource::File(_) => {}
    }
}

async fn fetch(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    etag: Option<&str>,
) -> Result<Option<(AccessSnapshot, Option<String>)>, String> {
    let mut request = http.get(url).header(access::control::CDN_KEY_HEADER, key);
    if let Some(tag) = etag {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    let tag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let snapshot = response
        .json::<AccessSnapshot>()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(Some((snapshot, tag)))
}

/// Reads a snapshot file (JSON).
pub(crate) fn read_file(path: &std::path::Path) -> Result<AccessSnapshot, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Authentication before the engine (run by `crate::admission`).
#[derive(Clone)]
pub(crate) struct Authn {
    pub shared: Option<Arc<Shared>>,
    /// The engine this gateway runs (whether it has a supergraph yet).
    pub instance: Arc<crate::engine_plugin::Instance>,
}

fn refuse(req: web::WebRequest<DefaultError>, message: String) -> web::WebResponse {
    req.into_response(unauthenticated(message))
}

/// A 401 answer in GraphQL's shape.
pub(crate) fn unauthenticated(message: String) -> HttpResponse {
    HttpResponse::Unauthorized()
        .header("www-authenticate", "Bearer")
        .content_type("application/graphql-response+json; charset=utf-8")
        .body(crate::request_id::error_body(&message, "UNAUTHENTICATED"))
}

/// What the middleware decided about the caller of a request that may
/// reach the engine; put in the engine's per-request plugin context, where
/// the engine plugin's gate requires it before any operation runs.
pub(crate) enum Caller {
    /// No credential was sent.
    Anonymous,
    /// A verified credential.
    Admitted(Arc<Admitted>),
}

impl Caller {
    pub(crate) fn admitted(&self) -> Option<&Admitted> {
        match self {
            Caller::Anonymous => None,
            Caller::Admitted(a) => Some(a),
        }
    }
}

/// Records the caller where the engine plugin reads it.
fn mark(req: &web::WebRequest<DefaultError>, caller: Caller) {
    if let Some(context) = req.extensions().get::<Arc<PluginContext>>() {
        context.insert(caller);
    }
}

const OWN_HEADERS: [&str; 3] = [CONSUMER_HEADER, SUBJECT_HEADER, SCOPES_HEADER];

impl Authn {
    /// The request with the caller marked (and the identity headers set
    /// from the verified credential), or the answer refusing it.
    pub(crate) async fn admit(
        &self,
        mut req: web::WebRequest<DefaultError>,
    ) -> Result<web::WebRequest<DefaultError>, web::WebResponse> {
        let Some(shared) = &self.shared else {
            return Ok(req);
        };
        // Identity headers are Meshwork's: a client's copies never pass,
        // whatever the path.
        for name in OWN_HEADERS {
            req.headers_mut().remove(name);
        }
        if !crate::route::may_reach(req.path(), &shared.graphql_path) {
            return Ok(req);
        }
        // Before the first supergraph: anything but a plain GET (a browser
        // opening GraphiQL) gets the empty mesh's answer here, however its
        // operation is spelled (the engine would log an error per request).
        if !self.instance.supergraph_loaded()
            && (req.method() != hive_router::ntex::http::Method::GET
                || !req.query_string().is_empty())
        {
            self.instance.warn_empty_once();
            return Err(req.into_response(crate::engine_plugin::no_domains()));
        }
        // Copied out: the request's headers are changed below.
        let given = match req.headers().get("authorization") {
            Some(v) => Some(header_text(v.as_bytes()).unwrap_or_default().to_string()),
            None => req
                .headers()
                .get("x-api-key")
                .and_then(|v| header_text(v.as_bytes()))
                .map(|k| format!("ApiKey {}", k.trim())),
        };
        // Without a credential the request goes on as anonymous: the engine
        // answers a browser's GraphiQL page itself, and the engine plugin
        // refuses any operation when anonymous callers are not allowed.
        let Some(given) = given else {
            mark(&req, Caller::Anonymous);
            return Ok(req);
        };
        let Some(credential) = Credential::from_authorization(&given) else {
            return Err(refuse(
                req,
                "The Authorization header is neither `Bearer <token>` nor `ApiKey <key>`.".into(),
            ));
        };
        let admitted = match shared.admit(credential).await {
            Ok(a) => a,
            Err(reason) => return Err(refuse(req, format!("Credential refused: {reason}"))),
        };
        let headers = req.headers_mut();
        headers.remove("x-api-key");
        headers.insert(
            HeaderName::from_static("authorization"),
            admitted.authorization.clone(),
        );
        for (name, value) in [
            (CONSUMER_HEADER, &admitted.consumer),
            (SUBJECT_HEADER, &admitted.subject),
            (SCOPES_HEADER, &admitted.scopes),
        ] {
            if let Some(value) = value {
                headers.insert(HeaderName::from_static(name), value.clone());
            }
        }
        // Field usage is counted per client: an authenticated consumer is
        // that client, whatever name it declares.
        if let Some(consumer) = &admitted.consumer {
            headers.insert(
                HeaderName::from_static(CLIENT_NAME_HEADER),
                consumer.clone(),
            );
        }
        mark(&req, Caller::Admitted(admitted.clone()));
        req.extensions_mut().insert(admitted);
        Ok(req)
    }
}

/// A header's value as text when it is visible ASCII (tabs allowed), as
/// `HeaderValue::to_str` decides, but checked without an early exit so the
/// compiler checks many bytes at once: a bearer token is hundreds of bytes,
/// and the byte-at-a-time check cost each request about 7,000 instructions
/// (callgrind, bench/RESULTS.md).
fn header_text(bytes: &[u8]) -> Option<&str> {
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & ((b' '..=b'~').contains(&b) | (b == b'\t'))
    });
    if visible {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// The identity the middleware admitted for this request, if any.
pub(crate) fn identity_of(req: &web::WebRequest<DefaultError>) -> Option<Arc<Admitted>> {
    req.extensions().get::<Arc<Admitted>>().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "mk_abc123_0123456789abcdef0123456789abcdef";

    fn snapshot(with_key: bool, grants: &[&str]) -> Arc<AccessSnapshot> {
        Arc::new(AccessSnapshot {
            api_keys: if with_key {
                vec![access::ApiKeyRecord {
                    prefix: "abc123".into(),
                    hash: access::api_key_hash(KEY),
                    consumer: "dashboard".into(),
                    expires_at: None,
                }]
            } else {
                Vec::new()
            },
            consumers: vec![access::ConsumerRecord {
                name: "dashboard".into(),
                introspection: false,
                plan: None,
                grants: vec![access::GrantRecord {
                    scopes: grants.iter().map(|s| s.to_string()).collect(),
                    expires_at: None,
                }],
            }],
            ..AccessSnapshot::default()
        })
    }

    fn shared(initial: Arc<AccessSnapshot>) -> Arc<Shared> {
        let keys = InternalKeys::generate().expect("keys");
        Shared::new(
            keys,
            false,
            Duration::from_secs(30),
            initial,
            None,
            "/graphql",
        )
    }

    /// The HS256 secret of the internal JWKS, as the engine reads it.
    fn jwks_secret(jwks: &str) -> Vec<u8> {
        use base64::Engine;
        let doc: serde_json::Value = serde_json::from_str(jwks).expect("JWKS");
        let k = doc["keys"][0]["k"].as_str().expect("k");
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(k)
            .expect("base64")
    }

    #[test]
    fn header_text_accepts_exactly_what_to_str_accepts() {
        // Every byte, alone and inside a long value (the checks run many
        // bytes at once), decides as the header type's own `to_str`.
        let long = "Bearer ".to_string() + &"a".repeat(300);
        for b in 0..=u8::MAX {
            for value in [vec![b], [long.as_bytes(), &[b], b"tail"].concat()] {
                let Ok(header) = HeaderValue::from_bytes(&value) else {
                    continue;
                };
                assert_eq!(
                    header_text(header.as_bytes()),
                    header.to_str().ok(),
                    "byte {b:#04x}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_key_is_admitted_once_and_forwarded_as_a_token_the_engine_trusts() {
        let shared = shared(snapshot(true, &["grant:orders"]));
        let admitted = shared
            .admit(Credential::ApiKey(KEY))
            .await
            .expect("admitted");
        assert_eq!(admitted.identity.consumer.as_deref(), Some("dashboard"));
        assert!(admitted.identity.scopes.iter().any(|s| s == "grant:orders"));
        // The second request is served from the cache: the same token.
        let again = shared.admit(Credential::ApiKey(KEY)).await.expect("again");
        assert!(Arc::ptr_eq(&admitted, &again));
        // The forwarded token verifies with the JWKS handed to the engine,
        // and carries the caller's consumer and scopes.
        let token = admitted
            .authorization
            .to_str()
            .expect("text")
            .strip_prefix("Bearer ")
            .expect("bearer")
            .to_string();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[INTERNAL_ISSUER]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(&jwks_secret(&shared.keys.jwks)),
            &validation,
        )
        .expect("the engine's key verifies the internal token");
        // Only what the engine reads: no consumer claim (its header carries
        // it), introspection written only when refused.
        assert_eq!(decoded.claims["sub"], "apikey:abc123");
        assert!(decoded.claims.get("consumer").is_none());
        assert_eq!(decoded.claims["introspection"], false);
        assert!(decoded.claims["scope"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "grant:orders")));
        // A token minted with another gateway's key is not trusted.
        let other = InternalKeys::generate().expect("keys");
        assert!(jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(&jwks_secret(&other.jwks)),
            &validation,
        )
        .is_err());
    }

    #[tokio::test]
    async fn a_new_snapshot_drops_cached_identities_and_a_revoked_key_is_refused() {
        let shared = shared(snapshot(true, &["grant:orders"]));
        shared
            .admit(Credential::ApiKey(KEY))
            .await
            .expect("admitted");
        // The key is revoked: the very next request is refused, cache or not.
        shared.install(snapshot(false, &["grant:orders"]));
        assert!(shared.admit(Credential::ApiKey(KEY)).await.is_err());
        // A changed grant is seen at once.
        shared.install(snapshot(true, &[]));
        let admitted = shared
            .admit(Credential::ApiKey(KEY))
            .await
            .expect("admitted");
        assert!(!admitted.identity.scopes.iter().any(|s| s == "grant:orders"));
        // Unknown and malformed keys are refused.
        assert!(shared
            .admit(Credential::ApiKey("mk_abc123_wrong"))
            .await
            .is_err());
        assert!(shared.admit(Credential::ApiKey("not-a-key")).await.is_err());
        assert!(shared.admit(Credential::Jwt("a.b.c")).await.is_err());
    }

    #[test]
    fn the_snapshot_answers_what_the_plugin_asks() {
        let mut snap = (*snapshot(true, &[])).clone();
        snap.strict_domains.insert("orders".into());
        snap.cache_ttls.insert("orders".into(), 60);
        let shared = shared(Arc::new(snap));
        assert!(shared.is_strict("orders"));
        assert!(!shared.is_strict("customers"));
        assert!(!shared.allows_anonymous());
        assert!(!shared.mesh_empty());
        assert_eq!(shared.snapshot().cache_ttls.get("orders"), Some(&60));
        assert!(!shared.snapshot().domain_plans.contains_key("orders"));
        assert_eq!(shared.graphql_path(), "/graphql");
    }
}
