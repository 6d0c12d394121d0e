//! What the gateways' runtime contract check found for a strict domain.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "contract_check")]
pub struct Model {
    /// The domain's name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain: String,
    /// Sampled answers checked.
    pub sampled: i64,
    /// Violations found in them.
    pub violations: i64,
    pub last_violation: Option<String>,
    pub last_violation_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
