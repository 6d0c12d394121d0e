//! Purges of gateways' cached answers of a domain: asked by the domain's
//! owner team (the domain itself, with a credential of that team) or a
//! platform admin, recorded with an audit entry, and carried to every
//! gateway in the access snapshot, which holds the purges of the last
//! [`access::CACHE_PURGE_WINDOW`] (longer than any answer is kept by
//! default).

use chrono::{Duration, Utc};
use entity::cache_purge;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::access::{graphql_name_ok, invalid, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::Problems;
use crate::{Caller, Catalog};

impl Catalog {
    /// Drops gateways' cached answers of `domain`: all of them, or only
    /// those naming `type_name` and/or the entity key value `key`.
    pub async fn purge_cache(
        &self,
        caller: &Caller,
        domain: &str,
        type_name: Option<&str>,
        key: Option<&str>,
    ) -> Result<cache_purge::Model, CatalogError> {
        let d = self.get_active(domain).await?;
        self.may_change_domain(caller, &d.owner_team)?;
        let mut problems = Problems::default();
        let type_name = type_name.map(str::trim).filter(|t| !t.is_empty());
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        if let Some(t) = type_name.filter(|t| !graphql_name_ok(t)) {
            problems.push(
                "typeName",
                ProblemCode::MalformedJson,
                format!("`{t}` is not a GraphQL type name"),
            );
        }
        if key.is_some_and(|k| k.len() > 500) {
            problems.push("key", ProblemCode::TooLong, "at most 500 characters");
        }
        invalid(problems)?;
        let change = self.change().await?;
        let model = cache_purge::ActiveModel {
            id: NotSet,
            domain_id: Set(d.id),
            type_name: Set(type_name.map(str::to_string)),
            key: Set(key.map(str::to_string)),
            purged_by: Set(caller.name.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(change.txn())
        .await?;
        change
            .commit(
                AuditEntry::new(&caller.name, "domain.cache_purge", &d.name).after(Some(
                    serde_json::json!({ "typeName": type_name, "key": key }),
                )),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }

    /// The purges gateways still apply, oldest first.
    pub(crate) async fn recent_cache_purges(
        &self,
        domain_names: &std::collections::HashMap<i32, String>,
    ) -> Result<Vec<access::CachePurgeRecord>, CatalogError> {
        let window = Duration::from_std(access::CACHE_PURGE_WINDOW)
            .map_err(|e| CatalogError::Internal(format!("purge window: {e}")))?;
        let since = Utc::now() - window;
        Ok(cache_purge::Entity::find()
            .filter(cache_purge::Column::CreatedAt.gt(since))
            .order_by_asc(cache_purge::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|p| {
                Some(access::CachePurgeRecord {
                    id: i64::from(p.id),
                    domain: domain_names.get(&p.domain_id)?.clone(),
                    type_name: p.type_name,
                    key: p.key,
                })
            })
            .collect())
    }
}
