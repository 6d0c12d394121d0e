use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What gateways need to know to authenticate and authorize callers. Built
/// by the catalog; versioned by the hash of its JSON form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessSnapshot {
    pub issuers: Vec<IssuerRecord>,
    pub api_keys: Vec<ApiKeyRecord>,
    pub consumers: Vec<ConsumerRecord>,
    /// Domains with a plan of their own: limits per consumer per domain.
    #[serde(default)]
    pub domain_plans: std::collections::BTreeMap<String, PlanRecord>,
}

impl AccessSnapshot {
    /// SHA-256 of the JSON form, hex: the snapshot's version and ETag.
    pub fn version(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

/// A trusted JWT issuer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRecord {
    pub name: String,
    /// The `iss` claim.
    pub issuer: String,
    /// Accepted `aud` values; empty: not checked.
    pub audiences: Vec<String>,
    /// `HS256`, `RS256` or `ES256`.
    pub algorithm: String,
    /// HS256 shared secret.
    pub secret: Option<String>,
    /// A PEM public key or a JWKS document.
    pub public_keys: Option<String>,
    pub jwks_url: Option<String>,
    /// Claim paths (dot-separated): the subject, the consumer's name, the
    /// scopes (a space-separated string or a list) and the caller's teams.
    pub subject_claim: String,
    pub consumer_claim: String,
    pub scopes_claim: String,
    pub teams_claim: String,
}

/// An API key, by hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub hash: String,
    pub consumer: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A consumer with what it may read and how much.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerRecord {
    pub name: String,
    pub introspection: bool,
    pub plan: Option<PlanRecord>,
    pub grants: Vec<GrantRecord>,
}

/// The scopes one grant gives, until when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRecord {
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Traffic limits of a consumer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRecord {
    pub name: String,
    pub requests_per_minute: u32,
    pub burst: u32,
    pub daily_quota: Option<u64>,
    pub max_cost: Option<u32>,
}
