//! A catalog rule on one field of the supergraph: who may read it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "field_policy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `Type.field`.
    #[sea_orm(unique)]
    pub coordinate: String,
    /// Required scopes, OR of AND-lists (`[["a","b"],["c"]]`: a and b, or c);
    /// `[]`: any authenticated caller.
    pub scopes: Json,
    pub description: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
