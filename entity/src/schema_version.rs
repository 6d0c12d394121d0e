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
