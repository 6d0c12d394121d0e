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
    /// Domains under the strict model: gateways sample their responses
    /// against the served schema (the runtime contract check).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub strict_domains: std::collections::BTreeSet<String>,
    /// No active domain has a schema to serve (none registered, or every
    /// one deregistered or never pulled): gateways refuse operations
    /// rather than serve a graph that no longer has a domain behind it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mesh_empty: bool,
    /// What the catalog knows of each served domain's data product, for
    /// responses that ask (`x-meshwork-products: 1`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub products: std::collections::BTreeMap<String, ProductRecord>,
    /// Saved queries by name, for `/export/{name}.csv` (run with the
    /// caller's own credentials, like any request).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub saved_queries: std::collections::BTreeMap<String, SavedQueryRecord>,
    /// Domains' own cache lifetimes in seconds, for answers that carry no
    /// `Cache-Control` (gateways with the subgraph cache).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub cache_ttls: std::collections::BTreeMap<String, u32>,
    /// Recent purges of cached answers, oldest first: a gateway applies
    /// each one it has not applied yet (by id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_purges: Vec<CachePurgeRecord>,
}

/// How long a purge stays in the access snapshot: longer than any answer
/// is kept by default; a gateway's shared cache tier keeps no answer
/// longer (see `gateway::shared_cache`).
pub const CACHE_PURGE_WINDOW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Cached answers of one domain to drop: all of them, or those that name
/// a type (`__typename`) and/or an entity key value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachePurgeRecord {
    pub id: i64,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A saved query as gateways run it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedQueryRecord {
    /// The GraphQL document (checked to hold a query when saved).
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// Default values of the variables.
    #[serde(default)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// Each declared variable's type as written (`Int!`, `[String]`).
    #[serde(default)]
    pub variable_types: std::collections::BTreeMap<String, String>,
    /// The dotted path of the list that becomes the table's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
}

/// A data product's served schema version, freshness and SLO status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRecord {
    /// The served schema version's number in the domain's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    /// When the last completed run that wrote the product ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_produced_at: Option<DateTime<Utc>>,
    /// Each SLO's last evaluated status (`ok`, `at_risk`, `breached`,
    /// `unknown`), by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub slos: std::collections::BTreeMap<String, String>,
}

impl AccessSnapshot {
    /// SHA-256 of the JSON form, hex: the snapshot's version and ETag.
    pub fn version(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

impl AccessSnapshot {
    /// The form gateway replicas get from `/control/access`: everything
    /// needed to verify, nothing to sign with. An HS256 issuer's secret is
    /// replaced by its SHA-256, so that whoever reads the snapshot cannot
    /// mint tokens; a replica verifies that issuer's tokens only when it is
    /// given the secret itself ([`AccessSnapshot::with_issuer_secrets`]).
    pub fn for_replicas(&self) -> AccessSnapshot {
        let mut replica = self.clone();
        for issuer in &mut replica.issuers {
            if let Some(secret) = issuer.secret.take() {
                issuer.secret_sha256 = Some(hex::encode(Sha256::digest(secret.as_bytes())));
            }
        }
        replica
    }

    /// Puts secrets a replica was configured with (issuer name -> HS256
    /// secret) back into a replica snapshot, each only where its SHA-256
    /// matches. Issuer names whose secret is missing or does not match are
    /// returned: their tokens are refused.
    pub fn with_issuer_secrets(
        &mut self,
        secrets: &std::collections::BTreeMap<String, String>,
    ) -> Vec<String> {
        let mut unusable = Vec::new();
        for issuer in &mut self.issuers {
            let Some(expected) = issuer.secret_sha256.as_deref() else {
                continue;
            };
            match secrets.get(&issuer.name) {
                Some(secret) if hex::encode(Sha256::digest(secret.as_bytes())) == expected => {
                    issuer.secret = Some(secret.clone());
                }
                _ => unusable.push(issuer.name.clone()),
            }
        }
        unusable
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
    /// HS256 shared secret. Never in the form served to replicas
    /// ([`AccessSnapshot::for_replicas`]).
    pub secret: Option<String>,
    /// SHA-256 (hex) of the HS256 secret, in the replicas' form: a replica
    /// configured with the issuer's secret checks it against this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_sha256: Option<String>,
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
