//! Consumers: the applications and teams that call the mesh.

use std::collections::HashMap;

use async_graphql::InputObject;
use chrono::Utc;
use entity::consumer;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::{invalid, unique_violation, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// A consumer's registration.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerSpec {
    /// Slug; the value the issuer's consumer claim carries for it.
    pub name: String,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
    pub owner_team: String,
    pub contact: String,
    /// A plan's name; none: the gateway's default limits.
    #[serde(default)]
    pub plan: Option<String>,
    /// May run introspection queries (default true).
    #[serde(default)]
    pub introspection: Option<bool>,
}

/// A change to a consumer: absent fields stay.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerPatch {
    pub description: Option<String>,
    pub owner_team: Option<String>,
    pub contact: Option<String>,
    /// A plan's name, or `""` for none.
    pub plan: Option<String>,
    pub introspection: Option<bool>,
    /// True disables the consumer (its keys and tokens stop working).
    pub disabled: Option<bool>,
}

impl Catalog {
    pub async fn consumers(&self) -> Result<Vec<consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .order_by_asc(consumer::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn consumers_by_id(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .filter(consumer::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect())
    }

    pub async fn create_consumer(
        &self,
        caller: &Caller,
        spec: ConsumerSpec,
    ) -> Result<consumer::Model, CatalogError> {
        caller.require_admin("registering a consumer")?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        validate::required_text(&mut problems, "ownerTeam", &spec.owner_team);
        validate::required_text(&mut problems, "contact", &spec.contact);
        validate::description(&mut problems, "description", &spec.description);
        let plan = match &spec.plan {
            Some(name) => match self.plan_named(name).await? {
                Some(p) => Some(p.id),
                None => {
                    problems.push(
                        "plan",
                        ProblemCode::UnknownReference,
                        format!("no plan named `{name}`"),
                    );
                    None
                }
            },
            None => None,
        };
        invalid(problems)?;
        let now = Utc::now();
        let change = self.change().await?;
        let model = consumer::ActiveModel {
            id: NotSet,
            name: Set(spec.name.clone()),
            description: Set(spec.description.clone()),
            owner_team: Set(spec.owner_team.trim().to_string()),
            contact: Set(spec.contact.trim().to_string()),
            plan_id: Set(plan),
            introspection: Set(spec.introspection.unwrap_or(true)),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(change.txn())
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("a consumer named `{}` exists", spec.name),
        ))?;
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "consumer.create",
                    format!("consumer:{}", spec.name),
                )
                .after(serde_json::to_value(&spec).ok()),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }

    pub async fn update_consumer(
        &self,
        caller: &Caller,
        name: &str,
        patch: ConsumerPatch,
    ) -> Result<consumer::Model, CatalogError> {
        caller.require_admin("changing a consumer")?;
        let existing = self.consumer_required(name).await?;
        let mut problems = Problems::default();
        if let Some(t) = &patch.owner_team {
            validate::required_text(&mut problems, "ownerTeam", t);
        }
        if let Some(c) = &patch.contact {
            validate::required_text(&mut problems, "contact", c);
        }
        if let Some(d) = &patch.description {
            validate::description(&mut problems, "description", d);
        }
        let plan = match patch.plan.as_deref() {
            None => existing.plan_id,
            Some("") => None,
            Some(p) => match self.plan_named(p).await? {
                Some(p) => Some(p.id),
                None => {
                    problems.push(
                        "plan",
                        ProblemCode::UnknownReference,
                        format!("no plan named `{p}`"),
                    );
                    None
                }
            },
        };
        invalid(problems)?;
        let now = Utc::now();
        let mut row: consumer::ActiveModel = existing.clone().into();
        if let Some(d) = patch.description.clone() {
            row.description = Set(d);
        }
        if let Some(t) = &patch.owner_team {
            row.owner_team = Set(t.trim().to_string());
        }
        if let Some(c) = &patch.contact {
            row.contact = Set(c.trim().to_string());
        }
        row.plan_id = Set(plan);
        if let Some(i) = patch.introspection {
            row.introspection = Set(i);
        }
        if let Some(disabled) = patch.disabled {
            row.disabled_at = Set(match (disabled, existing.disabled_at) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(now),
                (false, _) => None,
            });
        }
        row.updated_at = Set(now);
        let change = self.change().await?;
        let model = row.update(change.txn()).await?;
        change
            .commit(
                AuditEntry::on(&caller.name, "consumer.update", format!("consumer:{name}"))
                    .before(serde_json::to_value(&existing).ok())
                    .after(serde_json::to_value(&model).ok()),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }
}
