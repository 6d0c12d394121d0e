//! Composition of the served supergraph from every active domain's latest
//! accepted schema (a version held under the strict model is not served). Every attempt is stored; a failed one never replaces the
//! last good supergraph, which is what gateways keep serving.

use std::sync::Arc;

use chrono::Utc;
use entity::composition::{self, CompositionStatus};
use entity::domain;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::json;

use crate::audit::AuditEntry;
use crate::error::CatalogError;
use crate::Catalog;

/// What a recomposition did.
#[derive(Clone, Debug, PartialEq)]
pub enum Recomposed {
    /// No active GraphQL domain has a schema yet.
    NoMembers,
    /// The result equals the latest stored attempt; nothing was stored.
    Unchanged(composition::Model),
    /// A new attempt was stored (check its status).
    Stored(composition::Model),
}

impl Catalog {
    /// The active domains, and the subgraph each one with an accepted
    /// schema takes part with (a REST domain through its derived subgraph,
    /// served by the control plane), with the members' record.
    #[allow(clippy::type_complexity)]
    pub(crate) async fn served_subgraphs(
        &self,
    ) -> Result<
        (
            Vec<domain::Model>,
            Vec<::composition::Subgraph>,
            Vec<serde_json::Value>,
        ),
        CatalogError,
    > {
        let domains = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .order_by_asc(domain::Column::Name)
            .all(&self.db)
            .await?;
        let ids: Vec<i32> = domains.iter().map(|d| d.id).collect();
        let latest = self.served_schema_of(&ids).await?;
        let mut subgraphs = Vec::new();
        let mut members = Vec::new();
        for d in &domains {
            let Some(version) = latest.get(&d.id) else {
                continue;
            };
            let (url, sdl) = match d.kind {
                domain::ApiKind::Graphql => (d.api_url.clone(), version.document.clone()),
                domain::ApiKind::Rest => {
                    let (Some(url), Some(derived)) =
                        (self.rest_url(&d.name), crate::rest::derived_of(version))
                    else {
                        continue;
                    };
                    (url, derived.sdl)
                }
            };
            subgraphs.push(::composition::Subgraph {
                name: d.name.clone(),
                url: url.clone(),
                sdl,
            });
            members.push(json!({
                "domain": d.name,
                "schemaVersionId": version.id,
                "hash": version.hash,
                "url": url,
            }));
        }
        // The catalog itself joins a mesh that serves any domain.
        if !subgraphs.is_empty() {
            if let Some(url) = self.rest_url(crate::graph::BUILTIN) {
                subgraphs.push(::composition::Subgraph {
                    name: crate::graph::BUILTIN.to_string(),
                    url: url.clone(),
                    sdl: self.builtin_sdl().await,
                });
                members.push(json!({
                    "domain": crate::graph::BUILTIN,
                    "builtin": true,
                    "url": url,
                }));
            }
        }
        Ok((domains, subgraphs, members))
    }

    /// Composes the active GraphQL domains' latest schemas and stores the
    /// attempt unless it repeats the latest one. Serialized: one at a time.
    #[tracing::instrument(level = "info", name = "catalog.compose", skip(self))]
    pub async fn recompose(&self, actor: &str) -> Result<Recomposed, CatalogError> {
        let _one_at_a_time = self.compose_lock.lock().await;
        self.forget_rest_subgraphs();
        let (domains, subgraphs, members) = self.served_subgraphs().await?;
        if let Ok(mut rest) = self.rest_members.write() {
            *rest = domains
                .iter()
                .filter(|d| d.kind == domain::ApiKind::Rest)
                .map(|d| d.name.clone())
                .chain(
                    subgraphs
                        .iter()
                        .filter(|s| s.name == crate::graph::BUILTIN)
                        .map(|s| s.name.clone()),
                )
                .collect();
        }
        if subgraphs.is_empty() {
            // Gateways learn from the access snapshot that nothing is left
            // to serve (the last supergraph stays loaded in the engine).
            self.publish_after_change().await;
            return Ok(Recomposed::NoMembers);
        }
        let members = serde_json::Value::Array(members);
        let rules = self.access_rules().await?;
        let composed = ::composition::compose(&subgraphs).and_then(|s| {
            ::composition::apply_access(&s.sdl, &rules)
                .map(|sdl| s.with_sdl(sdl))
                .map_err(|message| {
                    ::composition::CompositionFailed(vec![::composition::CompositionError::new(
                        None,
                        format!("access rules: {message}"),
                    )])
                })
        });
        crate::metrics::count(
            "meshwork.compositions",
            if composed.is_ok() { "ok" } else { "failed" },
        );
        let (status, hash, supergraph, errors, warnings) = match composed {
            Ok(s) => (
                CompositionStatus::Success,
                Some(s.hash),
                Some(s.sdl),
                json!([]),
                serde_json::to_value(&s.warnings).unwrap_or_else(|_| json!([])),
            ),
            Err(failed) => (
                CompositionStatus::Failed,
                None,
                None,
                serde_json::to_value(&failed.0).unwrap_or_else(|_| json!([])),
                json!([]),
            ),
        };
        if let Some(last) = self.latest_composition().await? {
            if last.status == status
                && last.hash == hash
                && last.members == members
                && last.errors == errors
                && last.warnings == warnings
            {
                return Ok(Recomposed::Unchanged(last));
            }
        }
        let txn = self.db.begin().await?;
        let stored = composition::ActiveModel {
            id: NotSet,
            status: Set(status),
            hash: Set(hash.clone()),
            supergraph: Set(supergraph),
            members: Set(members.clone()),
            errors: Set(errors.clone()),
            warnings: Set(warnings.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        let action = match status {
            CompositionStatus::Success => "composition.success",
            CompositionStatus::Failed => "composition.failed",
        };
        AuditEntry::on(actor, action, format!("composition:{}", stored.id))
            .after(Some(
                json!({ "hash": hash, "members": members, "errors": errors, "warnings": warnings }),
            ))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        if status == CompositionStatus::Success {
            // Pushed to what gateways poll: no database read before they
            // see it.
            self.remember_served(&stored);
        }
        // A mesh that was empty is not any more (or the other way round).
        self.publish_after_change().await;
        match status {
            CompositionStatus::Success => {
                tracing::info!(version = stored.id, warnings = %warnings, "supergraph composed")
            }
            CompositionStatus::Failed => {
                tracing::warn!(version = stored.id, errors = %errors, "composition failed; the last good supergraph keeps serving")
            }
        }
        Ok(Recomposed::Stored(stored))
    }

    /// The latest composition attempt, good or not.
    pub async fn latest_composition(&self) -> Result<Option<composition::Model>, CatalogError> {
        Ok(composition::Entity::find()
            .order_by_desc(composition::Column::Id)
            .one(&self.db)
            .await?)
    }

    /// What gateways poll (`/control/supergraph`): the latest successful
    /// composition, marked with its hash, from memory. Checked against the
    /// database at most every [`SERVED_RECHECK`]; while the database cannot
    /// be read, the last one known keeps being served.
    pub async fn supergraph_for_gateways(
        &self,
    ) -> Result<Option<Arc<ServedSupergraph>>, CatalogError> {
        let cached = self.served_supergraph.read().ok().and_then(|c| c.clone());
        if let Some((checked, served)) = &cached {
            if checked.elapsed() < SERVED_RECHECK {
                return Ok(Some(served.clone()));
            }
        }
        let latest = composition::Entity::find()
            .select_only()
            .column(composition::Column::Id)
            .filter(composition::Column::Status.eq(CompositionStatus::Success))
            .order_by_desc(composition::Column::Id)
            .into_tuple::<i32>()
            .one(&self.db)
            .await;
        match (latest, cached) {
            (Ok(Some(id)), Some((_, served))) if id == served.id => {
                if let Ok(mut c) = self.served_supergraph.write() {
                    *c = Some((std::time::Instant::now(), served.clone()));
                }
                Ok(Some(served))
            }
            (Ok(Some(_)), _) => match self.served_composition().await {
                Ok(Some(model)) => Ok(Some(self.remember_served(&model))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            },
            (Ok(None), _) => Ok(None),
            (Err(e), Some((_, served))) => {
                tracing::debug!(error = %e, "the database cannot be read; gateways keep getting the last supergraph known");
                Ok(Some(served))
            }
            (Err(e), None) => Err(e.into()),
        }
    }

    /// Keeps a successful composition as what gateways poll.
    pub(crate) fn remember_served(&self, model: &composition::Model) -> Arc<ServedSupergraph> {
        let hash = model.hash.clone().unwrap_or_default();
        let served = Arc::new(ServedSupergraph {
            id: model.id,
            sdl: access::control::mark_supergraph(
                model.supergraph.as_deref().unwrap_or_default(),
                &hash,
            ),
            hash,
        });
        if let Ok(mut c) = self.served_supergraph.write() {
            let newer = c.as_ref().is_none_or(|(_, s)| s.id <= served.id);
            if newer {
                *c = Some((std::time::Instant::now(), served.clone()));
            }
        }
        served
    }

    /// The supergraph gateways serve: the latest successful composition.
    pub async fn served_composition(&self) -> Result<Option<composition::Model>, CatalogError> {
        Ok(composition::Entity::find()
            .filter(composition::Column::Status.eq(CompositionStatus::Success))
            .order_by_desc(composition::Column::Id)
            .one(&self.db)
            .await?)
    }
}

/// How long the in-memory supergraph is served before the database is
/// asked again whether a newer one exists.
pub const SERVED_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// The in-memory supergraph and when it was last checked.
pub(crate) type ServedCache =
    Arc<std::sync::RwLock<Option<(std::time::Instant, Arc<ServedSupergraph>)>>>;

/// A supergraph as gateways get it: marked with its composition hash.
#[derive(Debug)]
pub struct ServedSupergraph {
    pub id: i32,
    pub hash: String,
    pub sdl: String,
}
