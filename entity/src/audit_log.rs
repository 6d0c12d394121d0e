//! Who changed what in the catalog, and when; written in the same
//! transaction as the change itself.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub actor: String,
    /// Dotted verb, e.g. `domain.register`.
    pub action: String,
    /// What was changed, e.g. `domain:orders`.
    pub target: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
