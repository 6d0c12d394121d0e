//! A consumer of the mesh's data: a team, an application or another domain.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "consumer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Slug; also the value of the JWT claim that names the consumer.
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// The team answerable for this consumer.
    pub owner_team: String,
    pub contact: String,
    /// The plan limiting this consumer's traffic (none: the gateway default).
    pub plan_id: Option<i32>,
    /// Whether this consumer may run introspection queries.
    pub introspection: bool,
    /// Disabled consumers keep their history but authenticate no request.
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
