//! A domain registered in the mesh: who owns it, how its API is reached and
//! what its data product promises.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "domain")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub owner_team: String,
    pub contact: String,
    pub model: GovernanceModel,
    pub kind: ApiKind,
    pub api_url: String,
    pub schema_endpoint: Option<String>,
    pub data_format: String,
    pub processing_steps: Json,
    pub quality_indicators: Json,
    pub slos: Json,
    /// Lower-cased text that search matches against: name, display name,
    /// description, tags and the field names of the latest schema.
    pub search_text: String,
    pub status: DomainStatus,
    /// Overrides the schema puller's default interval for this domain.
    pub poll_interval_seconds: Option<i32>,
    /// Whether reading this domain's data needs a grant.
    pub access: DomainAccess,
    /// The plan limiting each consumer's traffic to this domain.
    pub plan_id: Option<i32>,
    /// REST domains: `{restMutations, entities}`, how the subgraph is
    /// derived from the OpenAPI document.
    pub rest_settings: Option<Json>,
    /// The compatibility mode new schema versions are checked against
    /// (`NONE`, `BACKWARD`, `FORWARD`, `FULL`, each `_TRANSITIVE` too).
    pub compatibility: String,
    /// OpenLineage datasets this domain's data product is (`[{namespace,
    /// name}]`, a name may end in `*`): runs writing them make it fresh.
    pub datasets: Option<Json>,
    /// How long gateways keep this domain's answers when it sends no
    /// `Cache-Control` (none: the gateway's default).
    pub cache_ttl_seconds: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The whitepaper's open and strict models of governance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum GovernanceModel {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "strict")]
    Strict,
}

/// How the domain serves its data product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    #[sea_orm(string_value = "graphql")]
    Graphql,
    #[sea_orm(string_value = "rest")]
    Rest,
}

/// Deregistered domains are kept for audit and lineage history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "deregistered")]
    Deregistered,
}

/// Who may read a domain's data through the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum DomainAccess {
    /// Every caller the gateway lets in.
    #[sea_orm(string_value = "open")]
    Open,
    /// Only consumers holding a grant (and platform admins).
    #[sea_orm(string_value = "restricted")]
    Restricted,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::domain_tag::Entity")]
    Tag,
    #[sea_orm(has_many = "super::schema_version::Entity")]
    SchemaVersion,
}

impl Related<super::domain_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tag.def()
    }
}

impl Related<super::schema_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SchemaVersion.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
