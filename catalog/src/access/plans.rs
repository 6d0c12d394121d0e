//! Traffic plans: requests per minute, burst, daily quota, largest cost.

use std::collections::HashMap;

use async_graphql::InputObject;
use chrono::Utc;
use entity::plan;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::{invalid, unique_violation, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// A traffic plan.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanSpec {
    pub name: String,
    /// Sustained requests per minute (1 to 1,000,000).
    pub requests_per_minute: i32,
    /// Requests allowed at once above the sustained rate (1 to 100,000).
    pub burst: i32,
    /// Requests per UTC day; none for no daily quota.
    #[serde(default)]
    pub daily_quota: Option<i64>,
    /// Largest operation cost accepted; none for no cost limit.
    #[serde(default)]
    pub max_cost: Option<i32>,
}

impl Catalog {
    pub async fn plans(&self) -> Result<Vec<plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .order_by_asc(plan::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn plans_by_id(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .filter(plan::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    pub async fn create_plan(
        &self,
        caller: &Caller,
        spec: PlanSpec,
    ) -> Result<plan::Model, CatalogError> {
        caller.require_admin("creating a plan")?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        if !(1..=1_000_000).contains(&spec.requests_per_minute) {
            problems.push(
                "requestsPerMinute",
                ProblemCode::OutOfRange,
                format!("{} is not between 1 and 1000000", spec.requests_per_minute),
            );
        }
        if !(1..=100_000).contains(&spec.burst) {
            problems.push(
                "burst",
                ProblemCode::OutOfRange,
                format!("{} is not between 1 and 100000", spec.burst),
            );
        }
        if spec.daily_quota.is_some_and(|q| q < 1) {
            problems.push("dailyQuota", ProblemCode::OutOfRange, "must be at least 1");
        }
        if spec.max_cost.is_some_and(|c| c < 1) {
            problems.push("maxCost", ProblemCode::OutOfRange, "must be at least 1");
        }
        invalid(problems)?;
        let now = Utc::now();
        let change = self.change().await?;
        let model = plan::ActiveModel {
            id: NotSet,
            name: Set(spec.name.clone()),
            requests_per_minute: Set(spec.requests_per_minute),
            burst: Set(spec.burst),
            daily_quota: Set(spec.daily_quota),
            max_cost: Set(spec.max_cost),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(change.txn())
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("a plan named `{}` exists", spec.name),
        ))?;
        change
            .commit(
                AuditEntry::on(&caller.name, "plan.create", format!("plan:{}", spec.name))
                    .after(serde_json::to_value(&spec).ok()),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }
}
