//! The gateways' fetches from one domain in one hour: how many, how many
//! got no answer (transport error, HTTP 5xx), how many answered with errors.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "domain_traffic")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain: String,
    /// UTC hour, `2026-11-30T08`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: String,
    pub fetches: i64,
    pub failed: i64,
    pub errors: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
