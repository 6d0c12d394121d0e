//! Credential verification: a JWT from a registered issuer, or an API key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use crate::snapshot::{AccessSnapshot, ApiKeyRecord, ConsumerRecord, IssuerRecord, PlanRecord};

/// How often, at most, an issuer's JWKS is fetched again because a token
/// names a key it does not have (a key rotation, or a forged `kid`).
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetched JWKS keys are trusted: the document's
/// `Cache-Control: max-age`, bounded to this range, or the default.
const JWKS_MIN_AGE: Duration = Duration::from_secs(60);
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
const JWKS_DEFAULT_AGE: Duration = Duration::from_secs(300);
/// When a JWKS cannot be fetched again after its keys expired, they are
/// still used for this long (an identity provider's short outage does not
/// lock every caller out); after that its tokens are refused.
const JWKS_STALE_GRACE: Duration = Duration::from_secs(600);

/// One HTTP client for every JWKS fetch of the process. Building it can
/// fail (no TLS roots); then JWKS issuers' tokens are refused with the
/// reason, and nothing panics.
fn http_client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(JWKS_TIMEOUT)
                .build()
                .map_err(|e| format!("no HTTP client for JWKS fetches: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// How long a JWKS response may be used, from its `Cache-Control`.
fn jwks_max_age(cache_control: Option<&str>) -> Duration {
    let Some(value) = cache_control else {
        return JWKS_DEFAULT_AGE;
    };
    let mut age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-cache" || directive == "no-store" {
            return JWKS_MIN_AGE;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            age = seconds.trim_matches('"').parse::<u64>().ok();
        }
    }
    age.map(Duration::from_secs)
        .unwrap_or(JWKS_DEFAULT_AGE)
        .clamp(JWKS_MIN_AGE, JWKS_MAX_AGE)
}

/// A credential found on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    Jwt(&'a str),
    ApiKey(&'a str),
}

impl<'a> Credential<'a> {
    /// Reads an `Authorization` header value: `Bearer <jwt>`, `Bearer mk_…`
    /// (an API key) or `ApiKey mk_…`.
    pub fn from_authorization(value: &'a str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("apikey") {
            return Some(Credential::ApiKey(rest));
        }
        if !scheme.eq_ignore_ascii_case("bearer") || rest.is_empty() {
            return None;
        }
        if rest.starts_with("mk_") {
            Some(Credential::ApiKey(rest))
        } else {
            Some(Credential::Jwt(rest))
        }
    }

    /// The raw text, e.g. to key a cache.
    pub fn text(&self) -> &'a str {
        match self {
            Credential::Jwt(t) | Credential::ApiKey(t) => t,
        }
    }
}

/// Who is calling, as far as Meshwork is concerned.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// The token's subject, or `apikey:<prefix>`.
    pub subject: String,
    /// The issuer's name (JWT) or none (API key).
    pub issuer: Option<String>,
    /// The registered consumer the caller acts for, if any.
    pub consumer: Option<String>,
    /// The token's scopes and the scopes of the consumer's live grants.
    pub scopes: Vec<String>,
    pub teams: Vec<String>,
    /// When this identity stops being valid: the token's expiry, the key's
    /// expiry or the first grant to expire, whichever comes first.
    pub valid_until: Option<DateTime<Utc>>,
    pub introspection: bool,
    pub plan: Option<PlanRecord>,
}

impl Identity {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a credential was refused. `Display` is what the caller is told:
/// what is wrong with the credential and what to do, never how the mesh is
/// configured (issuer names, algorithms, key addresses); [`VerifyError::detail`]
/// has the rest, for the gateway's log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT")]
    Malformed(String),
    #[error("the token's issuer is not trusted by this mesh")]
    UnknownIssuer(String),
    #[error("the token has no `iss` claim")]
    MissingIssuer,
    #[error("the token is not signed the way its issuer signs tokens")]
    AlgorithmMismatch {
        issuer: String,
        expected: String,
        found: String,
    },
    #[error("the token is signed with a key its issuer does not (or no longer) publish; get a new token")]
    UnknownKey { issuer: String, kid: Option<String> },
    #[error("the token's issuer cannot be checked right now; try again later")]
    IssuerKeys(String, String),
    #[error("{0}")]
    Invalid(Refusal),
    #[error("the API key is not valid")]
    UnknownApiKey,
    #[error("the API key has expired")]
    ExpiredApiKey,
}

/// Why a well-formed token of a trusted issuer was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("the token has expired; get a new one")]
    Expired,
    #[error("the token is not valid yet (`nbf`)")]
    NotYetValid,
    #[error("the token was issued in the future (`iat`); check the issuer's clock")]
    IssuedInFuture,
    #[error("the token is not meant for this mesh (`aud`)")]
    Audience,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has no `{0}` claim, which this mesh requires")]
    MissingClaim(String),
    #[error("the token's `{0}` claim is not valid")]
    BadClaim(String),
    #[error("the token was refused")]
    Other(String),
}

impl From<jsonwebtoken::errors::Error> for Refusal {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => Refusal::Expired,
            ErrorKind::ImmatureSignature => Refusal::NotYetValid,
            ErrorKind::InvalidAudience => Refusal::Audience,
            ErrorKind::InvalidIssuer => Refusal::BadClaim("iss".into()),
            ErrorKind::InvalidSignature => Refusal::Signature,
            ErrorKind::MissingRequiredClaim(claim) => Refusal::MissingClaim(claim.clone()),
            _ => Refusal::Other(e.to_string()),
        }
    }
}

impl VerifyError {
    /// Everything known about the refusal, for the log (not for callers).
    pub fn detail(&self) -> String {
        format!("{self:?}")
    }
}

/// SHA-256 of an API key, hex: what the catalog stores and gateways compare.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The lookup prefix of an API key `mk_<prefix>_<secret>`.
fn api_key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("mk_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (!prefix.is_empty() && !secret.is_empty()).then_some(prefix)
}

struct Keys {
    list: Vec<(Option<String>, DecodingKey)>,
    /// When the last fetch was tried (successful or not).
    fetched_at: Option<Instant>,
    /// Until when `list` is fresh (from the document's `max-age`).
    fresh_until: Option<Instant>,
}

/// The key a token's `kid` names; a token without `kid`, or an issuer
/// whose one key has none (a PEM key, an HS256 secret), fits only a single
/// key.
fn find_key<'k>(
    list: &'k [(Option<String>, DecodingKey)],
    kid: Option<&str>,
) -> Option<&'k DecodingKey> {
    if let Some(kid) = kid {
        if let Some((_, key)) = list.iter().find(|(k, _)| k.as_deref() == Some(kid)) {
            return Some(key);
        }
    }
    match list {
        [(None, key)] => Some(key),
        [(_, key)] if kid.is_none() => Some(key),
        _ => None,
    }
}

struct IssuerKeys {
    record: IssuerRecord,
    algorithm: Result<Algorithm, String>,
    keys: Mutex<Keys>,
    fixed: Result<Vec<(Option<String>, DecodingKey)>, String>,
}

/// Verifies credentials against one [`AccessSnapshot`]. Cheap to share
/// (`Arc`); build a new one when the snapshot changes.
pub struct Verifier {
    snapshot: Arc<AccessSnapshot>,
    version: String,
    issuers: HashMap<String, IssuerKeys>,
    api_keys: HashMap<String, ApiKeyRecord>,
    consumers: HashMap<String, ConsumerRecord>,
    leeway_seconds: u64,
}

fn algorithm(name: &str) -> Result<Algorithm, String> {
    match name {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(format!("unsupported algorithm {other}")),
    }
}

/// Reads a JWKS document's keys.
fn jwks_keys(text: &str) -> Result<Vec<(Option<String>, DecodingKey)>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("JWKS: {e}"))?;
    set.keys
        .iter()
        .map(|jwk| {
            DecodingKey::from_jwk(jwk)
                .map(|key| (jwk.common.key_id.clone(), key))
                .map_err(|e| format!("JWKS key {:?}: {e}", jwk.common.key_id))
        })
        .collect()
}

/// The keys an issuer record carries itself (secret, PEM or JWKS text).
fn fixed_keys(record: &IssuerRecord) -> Result<Vec<(Option<String>, DecodingKey)>, String> {
    let alg = algorithm(&record.algorithm)?;
    if alg == Algorithm::HS256 {
        let secret = record
            .secret
            .as_deref()
            .ok_or("an HS256 issuer needs a secret")?;
        return Ok(vec![(None, DecodingKey::from_secret(secret.as_bytes()))]);
    }
    let Some(text) = record.public_keys.as_deref() else {
        return Ok(Vec::new());
    };
    let text = text.trim();
    if text.starts_with('{') {
        return jwks_keys(text);
    }
    let key = match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(text.as_bytes()),
        _ => DecodingKey::from_ec_pem(text.as_bytes()),
    }
    .map_err(|e| format!("PEM key: {e}"))?;
    Ok(vec![(None, key)])
}

/// Checks an issuer record the way a gateway will use it; the catalog calls
/// this before storing one.
pub fn check_issuer(record: &IssuerRecord) -> Result<(), String> {
    fixed_keys(record).map(|_| ())
}

/// Reads a claim by dot-separated path.
fn claim<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(claims, |value, part| value.get(part))
}

/// A claim holding a list of words: a space-separated string or a list.
fn words(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Verifier {
    /// `leeway_seconds`: clock skew tolerated on `exp` and `nbf`.
    pub fn new(snapshot: Arc<AccessSnapshot>, leeway_seconds: u64) -> Self {
        let issuers = snapshot
            .issuers
            .iter()
            .map(|record| {
                let fixed = fixed_keys(record);
                if let Err(e) = &fixed {
                    tracing::warn!(issuer = %record.name, error = %e, "issuer keys unusable; its tokens are refused");
                }
                (
                    record.issuer.clone(),
                    IssuerKeys {
                        record: record.clone(),
                        algorithm: algorithm(&record.algorithm),
                        keys: Mutex::new(Keys {
                            list: Vec::new(),
                            fetched_at: None,
                            fresh_until: None,
                        }),
                        fixed,
                    },
                )
            })
            .collect();
        let api_keys = snapshot
            .api_keys
            .iter()
            .map(|k| (k.prefix.clone(), k.clone()))
            .collect();
        let consumers = snapshot
            .consumers
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect();
        Self {
            version: snapshot.version(),
            snapshot,
            issuers,
            api_keys,
            consumers,
            leeway_seconds,
        }
    }

    pub fn snapshot(&self) -> &Arc<AccessSnapshot> {
        &self.snapshot
    }

    /// A registered, enabled consumer by name.
    pub fn consumer(&self, name: &str) -> Option<&ConsumerRecord> {
        self.consumers.get(name)
    }

    /// The snapshot's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Verifies a credential and tells who is calling.
    pub async fn authenticate(&self, credential: Credential<'_>) -> Result<Identity, VerifyError> {
        match credential {
            Credential::Jwt(token) => self.jwt(token).await,
            Credential::ApiKey(key) => self.api_key(key),
        }
    }

    fn consumer_identity(
        &self,
        subject: String,
        issuer: Option<String>,
        consumer: Option<&str>,
        mut scopes: Vec<String>,
        teams: Vec<String>,
        mut valid_until: Option<DateTime<Utc>>,
    ) -> Identity {
        let now = Utc::now();
        let record = consumer.and_then(|c| self.consumers.get(c));
        if let Some(record) = record {
            for grant in &record.grants {
                if grant.expires_at.is_some_and(|at| at <= now) {
                    continue;
                }
                valid_until = earliest(valid_until, grant.expires_at);
                scopes.extend(grant.scopes.iter().cloned());
            }
        }
        scopes.sort();
        scopes.dedup();
        Identity {
            subject,
            issuer,
            consumer: record.map(|r| r.name.clone()),
            scopes,
            teams,
            valid_until,
            introspection: record.is_none_or(|r| r.introspection),
            plan: record.and_then(|r| r.plan.clone()),
        }
    }

    fn api_key(&self, key: &str) -> Result<Identity, VerifyError> {
        let record = api_key_prefix(key)
            .and_then(|prefix| self.api_keys.get(prefix))
            .ok_or(VerifyError::UnknownApiKey)?;
        let hash = api_key_hash(key);
        if !bool::from(hash.as_bytes().ct_eq(record.hash.as_bytes())) {
            return Err(VerifyError::UnknownApiKey);
        }
        if record.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(VerifyError::ExpiredApiKey);
        }
        if !self.consumers.contains_key(&record.consumer) {
            return Err(VerifyError::UnknownApiKey);
        }
        Ok(self.consumer_identity(
            format!("apikey:{}", record.prefix),
            None,
            Some(&record.consumer),
            Vec::new(),
            Vec::new(),
            record.expires_at,
        ))
    }

    async fn jwt(&self, token: &str) -> Result<Identity, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let iss = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(VerifyError::MissingIssuer)?;
        let issuer = self
            .issuers
            .get(iss)
            .ok_or_else(|| VerifyError::UnknownIssuer(iss.to_string()))?;
        let record = &issuer.record;
        let alg = issuer
            .algorithm
            .clone()
            .map_err(|e| VerifyError::IssuerKeys(record.name.clone(), e))?;
        if header.alg != alg {
            return Err(VerifyError::AlgorithmMismatch {
                issuer: record.name.clone(),
                expected: record.algorithm.clone(),
                found: format!("{:?}", header.alg),
            });
        }
        let key = self.key_for(issuer, header.kid.as_deref()).await?;
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway_seconds;
        validation.validate_nbf = true;
        validation.set_issuer(&[&record.issuer]);
        // Missing claims are refused, never skipped: `exp` and `iss`
        // always, `aud` whenever the issuer lists audiences.
        if record.audiences.is_empty() {
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "iss"]);
        } else {
            validation.set_audience(&record.audiences);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        }
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| VerifyError::Invalid(e.into()))?;
        let claims = data.claims;
        // `nbf` is checked above when present; `iat` here.
        if let Some(iat) = claims.get("iat") {
            let iat = iat
                .as_f64()
                .ok_or_else(|| VerifyError::Invalid(Refusal::BadClaim("iat".into())))?;
            if iat > (Utc::now().timestamp() as f64) + self.leeway_seconds as f64 {
                return Err(VerifyError::Invalid(Refusal::IssuedInFuture));
            }
        }
        let subject = claim(&claims, &record.subject_claim)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                VerifyError::Invalid(Refusal::MissingClaim(record.subject_claim.clone()))
            })?
            .to_string();
        let consumer = claim(&claims, &record.consumer_claim)
            .and_then(Value::as_str)
            .map(str::to_string);
        let expires = claims
            .get("exp")
            .and_then(Value::as_i64)
            .and_then(|exp| DateTime::from_timestamp(exp, 0));
        Ok(self.consumer_identity(
            subject,
            Some(record.name.clone()),
            consumer.as_deref(),
            words(claim(&claims, &record.scopes_claim)),
            words(claim(&claims, &record.teams_claim)),
            expires,
        ))
    }

    async fn key_for(
        &self,
        issuer: &IssuerKeys,
        kid: Option<&str>,
    ) -> Result<DecodingKey, VerifyError> {
        let record = &issuer.record;
        let fixed = issuer
            .fixed
            .as_ref()
            .map_err(|e| VerifyError::IssuerKeys(record.name.clone(), e.clone()))?;
        if let Some(key) = find_key(fixed, kid) {
            return Ok(key.clone());
        }
        let unknown = || VerifyError::UnknownKey {
            issuer: record.name.clone(),
            kid: kid.map(str::to_string),
        };
        let Some(url) = &record.jwks_url else {
            return Err(unknown());
        };
        let mut keys = issuer.keys.lock().await;
        let now = Instant::now();
        let fresh = keys.fresh_until.is_some_and(|until| now < until);
        if fresh {
            if let Some(key) = find_key(&keys.list, kid) {
                return Ok(key.clone());
            }
        }
        // Expired keys, or an unknown key (a rotation): fetch the JWKS
        // again, at most once per interval whatever callers send.
        let recently = keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL);
        if !recently {
            keys.fetched_at = Some(now);
            match fetch_jwks(url).await {
                Ok((list, max_age)) => {
                    tracing::info!(issuer = %record.name, keys = list.len(), max_age_s = max_age.as_secs(), "JWKS fetched");
                    keys.list = list;
                    keys.fresh_until = Some(Instant::now() + max_age);
                    return find_key(&keys.list, kid).cloned().ok_or_else(unknown);
                }
                Err(e) => {
                    tracing::warn!(issuer = %record.name, error = %e, "JWKS fetch failed");
                }
            }
        }
        // Not refetched (too soon, or the fetch failed): fresh keys answer;
        // expired ones only within the grace period.
        let usable = keys
            .fresh_until
            .is_some_and(|until| now < until + JWKS_STALE_GRACE);
        if !usable {
            return Err(VerifyError::IssuerKeys(
                record.name.clone(),
                "no current keys: the JWKS could not be fetched".into(),
            ));
        }
        find_key(&keys.list, kid).cloned().ok_or_else(unknown)
    }
}

/// Fetches a JWKS document: its keys and how long they may be used.
async fn fetch_jwks(url: &str) -> Result<(Vec<(Option<String>, DecodingKey)>, Duration), String> {
    let response = http_client()?
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    let max_age = jwks_max_age(
        response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
    );
    let text = response
        .text()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok((jwks_keys(&text)?, max_age))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_authorization_headers() {
        assert_eq!(
            Credential::from_authorization("Bearer abc.def.ghi"),
            Some(Credential::Jwt("abc.def.ghi"))
        );
        assert_eq!(
            Credential::from_authorization("bearer mk_ab12_xyz"),
            Some(Credential::ApiKey("mk_ab12_xyz"))
        );
        assert_eq!(
            Credential::from_authorization("ApiKey mk_ab12_xyz"),
            Some(Credential::ApiKey("mk_ab12_xyz"))
        );
        assert_eq!(Credential::from_authorization("Basic dXNlcg=="), None);
        assert_eq!(Credential::from_authorization("Bearer"), None);
    }

    #[test]
    fn api_key_prefixes() {
        assert_eq!(api_key_prefix("mk_ab12cd34_secret"), Some("ab12cd34"));
        assert_eq!(api_key_prefix("mk__secret"), None);
        assert_eq!(api_key_prefix("mk_ab12cd34_"), None);
        assert_eq!(api_key_prefix("ab12cd34_secret"), None);
    }

    fn hs_issuer() -> IssuerRecord {
        IssuerRecord {
            name: "idp".into(),
            issuer: "https://idp.test".into(),
            audiences: vec![],
            algorithm: "HS256".into(),
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            secret_sha256: None,
            public_keys: None,
            jwks_url: None,
            subject_claim: "sub".into(),
            consumer_claim: "azp".into(),
            scopes_claim: "scope".into(),
            teams_claim: "groups".into(),
        }
    }

    #[tokio::test]
    async fn a_single_key_without_kid_verifies_tokens_that_name_one() {
        let verifier = Verifier::new(
            Arc::new(AccessSnapshot {
                issuers: vec![hs_issuer()],
                ..AccessSnapshot::default()
            }),
            0,
        );
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("whatever-the-idp-calls-it".into());
        let claims = serde_json::json!({ "iss": "https://idp.test", "sub": "ann", "scope": "a b",
            "exp": Utc::now().timestamp() + 60 });
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("sign");
        let identity = verifier
            .authenticate(Credential::Jwt(&token))
            .await
            .expect("accepted");
        assert_eq!(identity.subject, "ann");
        assert_eq!(identity.scopes, vec!["a", "b"]);
        assert_eq!(identity.consumer, None);
    }

    #[test]
    fn jwks_lifetimes_follow_cache_control_within_bounds() {
        assert_eq!(jwks_max_age(None), JWKS_DEFAULT_AGE);
        assert_eq!(
            jwks_max_age(Some("public, max-age=120")),
            Duration::from_secs(120)
        );
        assert_eq!(jwks_max_age(Some("max-age=5")), JWKS_MIN_AGE);
        assert_eq!(jwks_max_age(Some("max-age=86400")), JWKS_MAX_AGE);
        assert_eq!(jwks_max_age(Some("no-store")), JWKS_MIN_AGE);
        assert_eq!(jwks_max_age(Some("max-age=abc")), JWKS_DEFAULT_AGE);
    }

    #[test]
    fn claim_paths_and_words() {
        let claims = serde_json::json!({"realm": {"roles": ["a", "b"]}, "scope": "x y"});
        assert_eq!(words(claim(&claims, "realm.roles")), vec!["a", "b"]);
        assert_eq!(words(claim(&claims, "scope")), vec!["x", "y"]);
        assert!(words(claim(&claims, "missing.path")).is_empty());
    }
}
