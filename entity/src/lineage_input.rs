//! One input of a domain's data product: another domain of the mesh or an
//! external source (a database, a feed, a vendor API).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lineage_input")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The domain that consumes this input.
    pub domain_id: i32,
    /// Order of the input as registered.
    pub position: i32,
    pub kind: InputKind,
    /// The upstream domain's slug, or the external source's name.
    pub name: String,
    /// Set when `kind` is `domain`.
    pub upstream_domain_id: Option<i32>,
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    #[sea_orm(string_value = "domain")]
    Domain,
    #[sea_orm(string_value = "external")]
    External,
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
