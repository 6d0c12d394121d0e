//! One attempt to compose the supergraph from the domains' latest schemas.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "composition")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub status: CompositionStatus,
    /// SHA-256 of the supergraph, when it composed.
    pub hash: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub supergraph: Option<String>,
    /// `[{domain, schemaVersionId, hash}]` of every member.
    pub members: Json,
    /// `[{domain, message}]` when it failed.
    pub errors: Json,
    /// `[{code, coordinate, domains, message}]`: hints of a composition
    /// that succeeded (Apollo Federation's hint codes).
    pub warnings: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum CompositionStatus {
    #[sea_orm(string_value = "success")]
    Success,
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
