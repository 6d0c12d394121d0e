//! Where the catalog sends alerts: a URL, the secret its payloads are
//! signed with (HMAC-SHA256), and the events it wants.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub url: String,
    /// Signs each payload; never returned by the API.
    pub secret: String,
    /// Event names (`composition.failed`, …), a JSON list.
    pub events: Json,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
