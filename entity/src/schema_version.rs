//! One distinct version of a domain's schema (GraphQL SDL or OpenAPI text).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "schema_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub domain_id: i32,
    /// SHA-256 of `document`, hex.
    pub hash: String,
    #[sea_orm(column_type = "Text")]
    pub document: String,
    pub source_url: String,
    pub fetched_at: DateTimeUtc,
    /// REST domains: the subgraph derived from `document` (JSON of
    /// `openapi::Derived`: SDL, plan, warnings).
    #[sea_orm(column_type = "Text", nullable)]
    pub derived: Option<String>,
    /// Whether the version is served: accepted, held for an admin's
    /// approval (strict model), rejected, or superseded while pending.
    pub status: VersionStatus,
    /// JSON list of `evolution::Change` from the previous accepted version.
    #[sea_orm(column_type = "Text", nullable)]
    pub changes: Option<String>,
    /// JSON of the checks run on it (compatibility violations, governance
    /// rule violations).
    #[sea_orm(column_type = "Text", nullable)]
    pub checks: Option<String>,
    /// Who approved or rejected a held version, and when.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "superseded")]
    Superseded,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::domain::Entity",
        from = "Column::DomainId",
        to = "super::domain::Column::Id"
    )]
    Domain,
}

impl Related<super::domain::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Domain.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
