//! A dataset an OpenLineage run read (`input`) or wrote (`output`), and the
//! domain whose data product it is, when one maps it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lineage_run_dataset")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub lineage_run_id: i32,
    /// `input` or `output`.
    pub role: String,
    pub namespace: String,
    pub name: String,
    pub domain_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The run that read or wrote the dataset.
    #[sea_orm(
        belongs_to = "super::lineage_run::Entity",
        from = "Column::LineageRunId",
        to = "super::lineage_run::Column::Id"
    )]
    Run,
}

impl ActiveModelBehavior for ActiveModel {}
