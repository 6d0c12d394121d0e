//! A pipeline run reported through OpenLineage, in its latest state.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lineage_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The run's id as the producer gave it (a UUID).
    #[sea_orm(unique)]
    pub run_id: String,
    pub job_namespace: String,
    pub job_name: String,
    /// `START`, `RUNNING`, `COMPLETE`, `FAIL`, `ABORT` or `OTHER`.
    pub state: String,
    pub producer: String,
    pub started_at: Option<DateTimeUtc>,
    /// When it completed, failed or was aborted.
    pub ended_at: Option<DateTimeUtc>,
    /// From the `errorMessage` run facet of a failed run.
    pub error_message: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
