//! API keys of consumers: created (shown once), stored as hashes, revoked.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{invalid, random_hex, unique_violation, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// An API key as created: `key` is shown this once.
#[derive(Clone, Debug)]
pub struct CreatedApiKey {
    pub record: api_key::Model,
    pub key: String,
}

impl Catalog {
    /// The API keys of each of these consumers (one query).
    pub async fn api_keys_of_consumers(
        &self,
        consumer_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<api_key::Model>>, CatalogError> {
        let mut by_consumer: HashMap<i32, Vec<api_key::Model>> = HashMap::new();
        for key in api_key::Entity::find()
            .filter(api_key::Column::ConsumerId.is_in(consumer_ids.iter().copied()))
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await?
        {
            by_consumer.entry(key.consumer_id).or_default().push(key);
        }
        Ok(by_consumer)
    }

    pub async fn api_keys_of(&self, consumer_id: i32) -> Result<Vec<api_key::Model>, CatalogError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::ConsumerId.eq(consumer_id))
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Creates an API key for a consumer; the key is returned this once.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        consumer: &str,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiKey, CatalogError> {
        caller.require_admin("creating an API key")?;
        let owner = self.consumer_required(consumer).await?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", name);
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            problems.push("expiresAt", ProblemCode::OutOfRange, "lies in the past");
        }
        invalid(problems)?;
        let prefix = random_hex(6)?;
        let key = format!("mk_{prefix}_{}", random_hex(24)?);
        let now = Utc::now();
        let change = self.change().await?;
        let record = api_key::ActiveModel {
            id: NotSet,
            consumer_id: Set(owner.id),
            name: Set(name.to_string()),
            prefix: Set(prefix.clone()),
            hash: Set(access::api_key_hash(&key)),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            created_by: Set(caller.name.clone()),
            created_at: Set(now),
        }
        .insert(change.txn())
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("consumer `{consumer}` already has a key named `{name}`"),
        ))?;
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "api_key.create",
                    format!("consumer:{consumer}"),
                )
                .after(Some(
                    json!({ "name": name, "prefix": prefix, "expiresAt": expires_at }),
                )),
                Then::Publish,
            )
            .await?;
        Ok(CreatedApiKey { record, key })
    }

    /// Revokes an API key by its prefix; the next request with it is refused.
    pub async fn revoke_api_key(
        &self,
        caller: &Caller,
        prefix: &str,
    ) -> Result<api_key::Model, CatalogError> {
        caller.require_admin("revoking an API key")?;
        let existing = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "API key",
                name: prefix.to_string(),
            })?;
        if existing.revoked_at.is_some() {
            return Ok(existing);
        }
        let mut row: api_key::ActiveModel = existing.into();
        row.revoked_at = Set(Some(Utc::now()));
        let change = self.change().await?;
        let model = row.update(change.txn()).await?;
        change
            .commit(
                AuditEntry::on(&caller.name, "api_key.revoke", format!("api_key:{prefix}")),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }
}
