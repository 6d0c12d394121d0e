//! A consumer's right to read a restricted domain (or some of its fields).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "access_grant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub consumer_id: i32,
    pub domain_id: i32,
    /// `["Type.field", …]`; `[]` grants the whole domain.
    pub fields: Json,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The access request this grant answered, if any.
    pub request_id: Option<i32>,
    pub granted_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
