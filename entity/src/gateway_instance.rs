//! A gateway as it reports itself to the control plane: which composition
//! it serves, and when it was last heard from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_instance")]
pub struct Model {
    /// Random per gateway process.
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance: String,
    /// `in-process` (the control plane's own gateway) or `replica`.
    pub role: String,
    pub address: String,
    /// The composition hash of the supergraph it serves.
    pub served_hash: Option<String>,
    /// When it reported that hash first.
    pub served_since: Option<DateTimeUtc>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
