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

/// Why a credential was refused. The messages are safe to show callers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token's issuer `{0}` is not trusted by this mesh")]
    UnknownIssuer(String),
    #[error("the token has no `iss` claim")]
    MissingIssuer,
    #[error("the token is signed with {found}, but issuer `{issuer}` signs with {expected}")]
    AlgorithmMismatch {
        issuer: String,
        expected: String,
        found: String,
    },
    #[error("no key of issuer `{issuer}` matches the token's key id {kid:?}")]
    UnknownKey { issuer: String, kid: Option<String> },
    #[error("the keys of issuer `{0}` cannot be used: {1}")]
    IssuerKeys(String, String),
    #[error("the token was refused: {0}")]
    Invalid(String),
    #[error("the API key is not valid")]
    UnknownApiKey,
    #[error("the API key has expired")]
    ExpiredApiKey,
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
    fetched_at: Option<Instant>,
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
    http: reqwest::Client,
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
        let http = reqwest::Client::builder()
            .timeout(JWKS_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            version: snapshot.version(),
            snapshot,
            issuers,
            api_keys,
            consumers,
            http,
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
        if record.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&record.audiences);
        }
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let subject = claim(&claims, &record.subject_claim)
            .and_then(Value::as_str)
            .unwrap_or_default()
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
        if let Some(key) = find_key(&keys.list, kid) {
            return Ok(key.clone());
        }
        // Unknown key: fetch the JWKS again (a rotation), at most once per
        // interval whatever callers send.
        if keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL)
        {
            return Err(unknown());
        }
        keys.fetched_at = Some(Instant::now());
        match self.fetch_jwks(url).await {
            Ok(list) => {
                tracing::info!(issuer = %record.name, keys = list.len(), "JWKS fetched");
                keys.list = list;
            }
            Err(e) => {
                tracing::warn!(issuer = %record.name, error = %e, "JWKS fetch failed");
                return Err(VerifyError::IssuerKeys(record.name.clone(), e));
            }
        }
        find_key(&keys.list, kid).cloned().ok_or_else(unknown)
    }

    async fn fetch_jwks(&self, url: &str) -> Result<Vec<(Option<String>, DecodingKey)>, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        let text = response
            .text()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        jwks_keys(&text)
    }
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
    fn claim_paths_and_words() {
        let claims = serde_json::json!({"realm": {"roles": ["a", "b"]}, "scope": "x y"});
        assert_eq!(words(claim(&claims, "realm.roles")), vec!["a", "b"]);
        assert_eq!(words(claim(&claims, "scope")), vec!["x", "y"]);
        assert!(words(claim(&claims, "missing.path")).is_empty());
    }
}
