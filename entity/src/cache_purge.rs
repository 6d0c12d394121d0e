//! A purge of cached answers of one domain (all of them, those of one
//! type, or those of one entity key), applied by every gateway that holds
//! them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cache_purge")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub domain_id: i32,
    /// Only answers about this type (`__typename`).
    pub type_name: Option<String>,
    /// Only answers about the entity with this key value.
    pub key: Option<String>,
    pub purged_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
