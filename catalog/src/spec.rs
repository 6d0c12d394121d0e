//! What a domain team submits: the registration and the partial update of a
//! domain, and the structured parts of a data product's description.
//!
//! The same types are read from YAML by the CLI and from GraphQL variables by
//! the discovery API, so both speak one vocabulary (camelCase field names).

use async_graphql::{Enum, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

/// The whitepaper's open or strict model of governance for a domain.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(remote = "entity::domain::GovernanceModel")]
pub enum GovernanceModel {
    /// Schema changes accepted; breaking ones reported to consumers.
    #[serde(rename = "OPEN", alias = "open")]
    Open,
    /// Breaking or non-conforming schema versions held until approved.
    #[serde(rename = "STRICT", alias = "strict")]
    Strict,
}

/// What a new schema version must keep (Confluent Schema Registry's
/// modes, read for an API): BACKWARD, serve every operation valid against
/// the previous version; FORWARD, every operation valid against the new
/// version must have worked on the previous one; FULL, both; `_TRANSITIVE`,
/// against every earlier accepted version; NONE, no check.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(remote = "evolution::Compatibility")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

/// How a domain serves its data product.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(remote = "entity::domain::ApiKind")]
pub enum ApiKind {
    /// A GraphQL subgraph (Apollo Federation).
    #[serde(rename = "GRAPHQL", alias = "graphql")]
    Graphql,
    /// A REST API described by an OpenAPI document.
    #[serde(rename = "REST", alias = "rest")]
    Rest,
}

/// Where an input of a data product comes from.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[graphql(remote = "entity::lineage_input::InputKind")]
pub enum InputKind {
    /// Another domain registered in the mesh.
    #[serde(rename = "DOMAIN", alias = "domain")]
    Domain,
    /// A source outside the mesh (an operational database, a vendor feed).
    #[serde(rename = "EXTERNAL", alias = "external")]
    External,
}

/// Who may read a domain's data through the gateway.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(remote = "entity::domain::DomainAccess")]
pub enum DomainAccess {
    /// Every caller the gateway lets in.
    #[serde(rename = "OPEN", alias = "open")]
    Open,
    /// Only consumers holding a grant for the domain (and platform admins).
    #[serde(rename = "RESTRICTED", alias = "restricted")]
    Restricted,
}

/// One input of a domain's data product.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineageInputSpec {
    /// The upstream domain's name, or the external source's name.
    pub name: String,
    #[serde(default = "domain_input")]
    #[graphql(default_with = "InputKind::Domain")]
    pub kind: InputKind,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
}

fn domain_input() -> InputKind {
    InputKind::Domain
}

/// A domain's registration.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainSpec {
    /// Unique slug: lower-case letters, digits and single hyphens, 2 to 63
    /// characters, starting with a letter.
    pub name: String,
    /// Defaults to the name.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
    pub owner_team: String,
    /// E-mail address, chat channel or URL of the owner team.
    pub contact: String,
    #[serde(default)]
    #[graphql(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub model: Option<GovernanceModel>,
    /// BACKWARD when absent.
    #[serde(default)]
    pub compatibility: Option<Compatibility>,
    #[serde(default)]
    pub kind: Option<ApiKind>,
    /// The domain API's address (http or https).
    pub api_url: String,
    /// Where the schema is read: the GraphQL endpoint (defaults to `apiUrl`)
    /// or the OpenAPI document of a REST domain (required for REST).
    #[serde(default)]
    pub schema_endpoint: Option<String>,
    /// Defaults to `json`.
    #[serde(default)]
    pub data_format: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub inputs: Vec<LineageInputSpec>,
    /// A list of `{name, description?, tool?}`.
    #[serde(default)]
    pub processing_steps: Option<serde_json::Value>,
    /// A list of `{name, description?, unit?, target?}`.
    #[serde(default)]
    pub quality_indicators: Option<serde_json::Value>,
    /// A list of `{name, description?, kind?, target?, window?, maxAge?,
    /// indicator?}` (see `Slo`).
    #[serde(default)]
    pub slos: Option<serde_json::Value>,
    /// OpenLineage datasets this domain's data product is.
    #[serde(default)]
    #[graphql(default)]
    pub datasets: Vec<DatasetRef>,
    /// How often the schema endpoint is polled, in seconds (5 to 86400);
    /// the server's default when absent.
    #[serde(default)]
    pub poll_interval_seconds: Option<i32>,
    /// How long gateways with the subgraph cache keep this domain's answers
    /// when it sends no `Cache-Control`, in seconds (0 to 2592000; 0: not
    /// kept); the gateway's `--subgraph-cache-default-ttl` when absent.
    #[serde(default)]
    pub cache_ttl_seconds: Option<i32>,
    /// `OPEN` (default) or `RESTRICTED`: reading needs a grant.
    #[serde(default)]
    pub access: Option<DomainAccess>,
    /// A plan's name: limits each consumer's requests to this domain.
    #[serde(default)]
    pub plan: Option<String>,
    /// REST domains: POST/PUT/PATCH/DELETE operations become mutations.
    #[serde(default)]
    pub rest_mutations: Option<bool>,
    /// REST domains: entities of the derived subgraph, each with its key
    /// and the operation fetching one (besides `x-meshwork-key` in the
    /// document).
    #[serde(default)]
    #[graphql(default)]
    pub entities: Vec<RestEntitySpec>,
    /// REST domains: fields added to other domains' entities, each answered
    /// by an operation called with the entity's key (besides
    /// `x-meshwork-extends` on an operation in the document).
    #[serde(default)]
    #[graphql(default)]
    pub extends: Vec<RestExtensionSpec>,
}

/// `{type: Product, key: id, get: getProduct}`: a REST domain's `Product`
/// is an entity keyed by `id`, fetched by the operation `getProduct`
/// (its operationId, or the field name derived for it).
#[derive(InputObject, SimpleObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "RestEntityInput")]
#[serde(deny_unknown_fields)]
pub struct RestEntitySpec {
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    pub type_name: String,
    pub key: String,
    pub get: String,
    /// An operation fetching many by their keys at once (e.g. `GET
    /// /products?ids=1,2,3`), used instead of one `get` per entity.
    #[serde(default)]
    pub batch: Option<String>,
}

/// `{type: Customer, key: id, field: invoices, get: customerInvoices}`:
/// another domain's entity `Customer` (keyed by `id`) gains the field
/// `invoices`, answered by this REST domain's operation `customerInvoices`
/// called with the key.
#[derive(InputObject, SimpleObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "RestExtensionInput")]
#[serde(deny_unknown_fields)]
pub struct RestExtensionSpec {
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    pub type_name: String,
    pub key: String,
    pub field: String,
    pub get: String,
}

impl From<&RestEntitySpec> for openapi::EntitySetting {
    fn from(e: &RestEntitySpec) -> Self {
        Self {
            type_name: e.type_name.clone(),
            key: e.key.clone(),
            get: e.get.clone(),
            batch: e.batch.clone(),
        }
    }
}

impl From<openapi::EntitySetting> for RestEntitySpec {
    fn from(e: openapi::EntitySetting) -> Self {
        Self {
            type_name: e.type_name,
            key: e.key,
            get: e.get,
            batch: e.batch,
        }
    }
}

impl From<&RestExtensionSpec> for openapi::ExtensionSetting {
    fn from(e: &RestExtensionSpec) -> Self {
        Self {
            type_name: e.type_name.clone(),
            key: e.key.clone(),
            field: e.field.clone(),
            get: e.get.clone(),
        }
    }
}

impl From<openapi::ExtensionSetting> for RestExtensionSpec {
    fn from(e: openapi::ExtensionSetting) -> Self {
        Self {
            type_name: e.type_name,
            key: e.key,
            field: e.field,
            get: e.get,
        }
    }
}

/// A partial update of a domain: absent fields stay as they are; `tags` and
/// `inputs`, when given, replace the whole list.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner_team: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub model: Option<GovernanceModel>,
    #[serde(default)]
    pub compatibility: Option<Compatibility>,
    #[serde(default)]
    pub kind: Option<ApiKind>,
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub schema_endpoint: Option<String>,
    #[serde(default)]
    pub data_format: Option<String>,
    #[serde(default)]
    pub inputs: Option<Vec<LineageInputSpec>>,
    #[serde(default)]
    pub processing_steps: Option<serde_json::Value>,
    #[serde(default)]
    pub quality_indicators: Option<serde_json::Value>,
    #[serde(default)]
    pub slos: Option<serde_json::Value>,
    /// Replaces the whole list when given.
    #[serde(default)]
    pub datasets: Option<Vec<DatasetRef>>,
    #[serde(default)]
    pub poll_interval_seconds: Option<i32>,
    #[serde(default)]
    pub cache_ttl_seconds: Option<i32>,
    #[serde(default)]
    pub access: Option<DomainAccess>,
    /// A plan's name, or `""` for none.
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub rest_mutations: Option<bool>,
    /// Replaces the whole list when given.
    #[serde(default)]
    pub entities: Option<Vec<RestEntitySpec>>,
    /// Replaces the whole list when given.
    #[serde(default)]
    pub extends: Option<Vec<RestExtensionSpec>>,
}

/// One step that turns the inputs into the data product.
#[derive(SimpleObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessingStep {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The tool or job that runs the step.
    #[serde(default)]
    pub tool: Option<String>,
}

/// A measured quality property of the data product, e.g. completeness.
#[derive(SimpleObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QualityIndicator {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub target: Option<f64>,
}

/// A service-level objective. Its `kind` says what Meshwork measures:
/// `freshness` (the data product is at most `maxAge` old), `availability`
/// (`target` percent of the gateways' fetches within `window` got an
/// answer), `errorRate` (at most `target` percent of them answered with
/// errors) or `quality` (the latest value of `indicator` is at least
/// `target`, and its assertions hold; older than `window`, when given, it
/// is at risk). Without a kind it is declared only. Status: `ok`,
/// `at_risk` (freshness past 75% of `maxAge`, 75% of the error budget
/// used, or a stale quality value), `breached`, or `unknown` (nothing
/// measured yet).
#[derive(SimpleObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Slo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SloKind>,
    /// Percent for availability and error rate; the lowest value for quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// A duration such as `30d`, `12h`, `4w`: availability and error rate
    /// over it; for quality, how old the latest value may be before the
    /// SLO is at risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// Freshness: the oldest the data may be, a duration such as `26h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    /// Quality: the indicator measured (a declared quality indicator or a
    /// name OpenLineage facets report, such as `rowCount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
}

/// What an SLO measures.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SloKind {
    Freshness,
    Availability,
    ErrorRate,
    Quality,
}

/// An OpenLineage dataset that is (part of) a domain's data product: runs
/// writing it make the product fresh, their quality facets measure it.
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(input_name = "DatasetRefInput")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatasetRef {
    /// The dataset's OpenLineage namespace, e.g. `postgres://db:5432`.
    pub namespace: String,
    /// Its name, e.g. `sales.public.orders`; a trailing `*` matches every
    /// name starting with what precedes it.
    pub name: String,
}

impl DatasetRef {
    pub fn matches(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace
            && match self.name.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => self.name == name,
            }
    }
}
