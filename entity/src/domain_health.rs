//! How a domain's schema endpoint answered the puller lately.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "domain_health")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain_id: i32,
    pub last_attempt_at: DateTimeUtc,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
