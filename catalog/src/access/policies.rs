//! Field policies: who may read one `Type.field` (composition writes them
//! into the supergraph).

use std::collections::BTreeSet;

use async_graphql::InputObject;
use chrono::Utc;
use entity::{domain, field_policy};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{coordinate_ok, invalid, scope_ok, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// Who may read one field of the supergraph.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldPolicySpec {
    /// `Type.field`.
    pub coordinate: String,
    /// OR of AND-lists of scopes; `[]` means any authenticated caller.
    pub scopes: Vec<Vec<String>>,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
}

const MAX_SCOPE_GROUPS: usize = 32;

impl Catalog {
    pub async fn field_policies(&self) -> Result<Vec<field_policy::Model>, CatalogError> {
        Ok(field_policy::Entity::find()
            .order_by_asc(field_policy::Column::Coordinate)
            .all(&self.db)
            .await?)
    }

    /// Sets (or replaces) the policy of one field; the supergraph is composed
    /// again so gateways enforce it.
    pub async fn set_field_policy(
        &self,
        caller: &Caller,
        spec: FieldPolicySpec,
    ) -> Result<field_policy::Model, CatalogError> {
        caller.require_admin("setting a field policy")?;
        let mut problems = Problems::default();
        if !coordinate_ok(&spec.coordinate) {
            problems.push(
                "coordinate",
                ProblemCode::MalformedJson,
                format!("`{}` is not a `Type.field` coordinate", spec.coordinate),
            );
        }
        if spec.scopes.len() > MAX_SCOPE_GROUPS {
            problems.push(
                "scopes",
                ProblemCode::TooLong,
                format!("at most {MAX_SCOPE_GROUPS} alternatives"),
            );
        }
        for (i, group) in spec.scopes.iter().enumerate() {
            if group.is_empty() {
                problems.push(
                    format!("scopes[{i}]"),
                    ProblemCode::Required,
                    "an alternative needs at least one scope",
                );
            }
            for (j, s) in group.iter().enumerate() {
                if !scope_ok(s) {
                    problems.push(
                        format!("scopes[{i}][{j}]"),
                        ProblemCode::MalformedJson,
                        format!("`{s}` is not a scope (1 to 200 characters, no spaces)"),
                    );
                }
            }
        }
        validate::description(&mut problems, "description", &spec.description);
        invalid(problems)?;
        let existing = field_policy::Entity::find()
            .filter(field_policy::Column::Coordinate.eq(&spec.coordinate))
            .one(&self.db)
            .await?;
        let now = Utc::now();
        let change = self.change().await?;
        let model = match existing.clone() {
            Some(old) => {
                let mut row: field_policy::ActiveModel = old.into();
                row.scopes = Set(json!(spec.scopes));
                row.description = Set(spec.description.clone());
                row.updated_at = Set(now);
                row.update(change.txn()).await?
            }
            None => {
                field_policy::ActiveModel {
                    id: NotSet,
                    coordinate: Set(spec.coordinate.clone()),
                    scopes: Set(json!(spec.scopes)),
                    description: Set(spec.description.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(change.txn())
                .await?
            }
        };
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "field_policy.set",
                    format!("field:{}", spec.coordinate),
                )
                .before(existing.map(|e| e.scopes))
                .after(Some(json!(spec.scopes))),
                Then::Recompose,
            )
            .await?;
        Ok(model)
    }

    pub async fn remove_field_policy(
        &self,
        caller: &Caller,
        coordinate: &str,
    ) -> Result<(), CatalogError> {
        caller.require_admin("removing a field policy")?;
        let existing = field_policy::Entity::find()
            .filter(field_policy::Column::Coordinate.eq(coordinate))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "field policy",
                name: coordinate.to_string(),
            })?;
        let change = self.change().await?;
        field_policy::Entity::delete_by_id(existing.id)
            .exec(change.txn())
            .await?;
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "field_policy.remove",
                    format!("field:{coordinate}"),
                )
                .before(Some(existing.scopes)),
                Then::Recompose,
            )
            .await?;
        Ok(())
    }

    /// The domains restricted to grant holders, and the catalog's field
    /// policies, as composition writes them into the supergraph.
    pub(crate) async fn access_rules(&self) -> Result<::composition::AccessRules, CatalogError> {
        let restricted: BTreeSet<String> = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .filter(domain::Column::Access.eq(domain::DomainAccess::Restricted))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let mut field_policies = Vec::new();
        for p in self.field_policies().await? {
            let scopes: Vec<Vec<String>> =
                serde_json::from_value(p.scopes.clone()).map_err(|e| CatalogError::Corrupt {
                    domain: p.coordinate.clone(),
                    what: "field policy",
                    reason: e.to_string(),
                })?;
            field_policies.push((p.coordinate, scopes));
        }
        Ok(::composition::AccessRules {
            restricted,
            field_policies,
            admin_scope: access::scopes::ADMIN.to_string(),
        })
    }
}
