//! One measured value of a domain's quality indicator (or the outcome of
//! one quality assertion), from OpenLineage facets or `reportQuality`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "quality_measurement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub domain_id: i32,
    /// The indicator's name, e.g. `rowCount`, `total.nullCount` or an
    /// assertion's `assertion:not_null:total`.
    pub indicator: String,
    pub value: Option<f64>,
    /// Set for assertions: whether it held.
    pub passed: Option<bool>,
    /// `openlineage` or `api`.
    pub source: String,
    pub run_id: Option<String>,
    pub detail: String,
    pub measured_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
