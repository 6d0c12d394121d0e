//! How often a client's operation used a schema coordinate (`Type.field`,
//! `Type.field.argument`, `Enum.VALUE`) on one day (UTC).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "field_usage")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub coordinate: String,
    /// The client's name (the consumer, when the gateway identified one);
    /// empty when unknown.
    pub client: String,
    /// The operation's name, or its hash when anonymous.
    pub operation: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub count: i64,
    pub last_seen: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
