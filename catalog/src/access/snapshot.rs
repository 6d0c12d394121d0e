//! The access snapshot gateways enforce: built from the tables, published
//! to subscribers after every change and periodically.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use access::{AccessSnapshot, ApiKeyRecord, ConsumerRecord, GrantRecord, IssuerRecord, PlanRecord};
use chrono::Utc;
use entity::{access_grant, api_key, consumer, domain, plan};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::CatalogError;
use crate::Catalog;

impl Catalog {
    /// Builds the access snapshot from the tables.
    pub async fn access_snapshot(&self) -> Result<AccessSnapshot, CatalogError> {
        let now = Utc::now();
        let plans: HashMap<i32, PlanRecord> = plan::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    PlanRecord {
                        name: p.name,
                        requests_per_minute: p.requests_per_minute.max(1) as u32,
                        burst: p.burst.max(1) as u32,
                        daily_quota: p.daily_quota.map(|q| q.max(0) as u64),
                        max_cost: p.max_cost.map(|c| c.max(0) as u32),
                    },
                )
            })
            .collect();
        let consumers: Vec<consumer::Model> = consumer::Entity::find()
            .filter(consumer::Column::DisabledAt.is_null())
            .order_by_asc(consumer::Column::Name)
            .all(&self.db)
            .await?;
        let names: HashMap<i32, String> =
            consumers.iter().map(|c| (c.id, c.name.clone())).collect();
        // Only the columns the snapshot needs: a domain's row also holds its
        // search text (every field name), read for every write otherwise.
        let active: Vec<SnapshotDomain> = domain::Entity::find()
            .select_only()
            .columns([
                domain::Column::Id,
                domain::Column::Name,
                domain::Column::PlanId,
                domain::Column::Model,
                domain::Column::CacheTtlSeconds,
            ])
            .column_as(domain::Column::Datasets.is_not_null(), "has_datasets")
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .into_model()
            .all(&self.db)
            .await?;
        let domain_plans = active
            .iter()
            .filter_map(|d| Some((d.name.clone(), plans.get(&d.plan_id?)?.clone())))
            .collect();
        let strict_domains = active
            .iter()
            .filter(|d| d.model == domain::GovernanceModel::Strict)
            .map(|d| d.name.clone())
            .collect();
        let active_ids: HashSet<i32> = active.iter().map(|d| d.id).collect();
        let mut served = self.served_version_ids().await?;
        served.retain(|domain, _| active_ids.contains(domain));
        let mesh_empty = served.is_empty();
        let products = self.product_records(&active, &served).await?;
        let saved_queries = self.saved_query_records().await?;
        let cache_ttls = active
            .iter()
            .filter_map(|d| Some((d.name.clone(), u32::try_from(d.cache_ttl_seconds?).ok()?)))
            .collect();
        let domains: HashMap<i32, String> = active.into_iter().map(|d| (d.id, d.name)).collect();
        let cache_purges = self.recent_cache_purges(&domains).await?;
        let mut grants: HashMap<i32, Vec<GrantRecord>> = HashMap::new();
        for g in access_grant::Entity::find()
            .filter(access_grant::Column::RevokedAt.is_null())
            .order_by_asc(access_grant::Column::Id)
            .all(&self.db)
            .await?
        {
            if g.expires_at.is_some_and(|at| at <= now) {
                continue;
            }
            let Some(domain) = domains.get(&g.domain_id) else {
                continue;
            };
            // A grant whose stored fields do not read is left out (the
            // consumer loses it) rather than read as "the whole domain".
            let fields: Vec<String> = match serde_json::from_value(g.fields.clone()) {
                Ok(fields) => fields,
                Err(e) => {
                    tracing::error!(grant = g.id, error = %e, "stored grant fields are corrupt; the grant is not enforced as given (refused)");
                    continue;
                }
            };
            let scopes = if fields.is_empty() {
                vec![access::scopes::domain(domain)]
            } else {
                fields
                    .iter()
                    .map(|f| access::scopes::field(domain, f))
                    .collect()
            };
            grants.entry(g.consumer_id).or_default().push(GrantRecord {
                scopes,
                expires_at: g.expires_at,
            });
        }
        let api_keys = api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_null())
            .order_by_asc(api_key::Column::Prefix)
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|k| k.expires_at.is_none_or(|at| at > now))
            .filter_map(|k| {
                Some(ApiKeyRecord {
                    consumer: names.get(&k.consumer_id)?.clone(),
                    prefix: k.prefix,
                    hash: k.hash,
                    expires_at: k.expires_at,
                })
            })
            .collect();
        let issuers = self
            .jwt_issuers()
            .await?
            .into_iter()
            .filter_map(|i| {
                // An issuer whose stored audiences do not read is left out
                // (its tokens are refused) rather than trusted for any
                // audience.
                let audiences = match serde_json::from_value(i.audiences) {
                    Ok(audiences) => audiences,
                    Err(e) => {
                        tracing::error!(issuer = %i.name, error = %e, "stored issuer audiences are corrupt; its tokens are refused");
                        return None;
                    }
                };
                Some(IssuerRecord {
                name: i.name,
                issuer: i.issuer,
                audiences,
                algorithm: i.algorithm,
                secret: i.secret,
                secret_sha256: None,
                public_keys: i.public_keys,
                jwks_url: i.jwks_url,
                subject_claim: i.subject_claim,
                consumer_claim: i.consumer_claim,
                scopes_claim: i.scopes_claim,
                teams_claim: i.teams_claim,
                })
            })
            .collect();
        Ok(AccessSnapshot {
            domain_plans,
            strict_domains,
            mesh_empty,
            products,
            saved_queries,
            cache_ttls,
            cache_purges,
            issuers,
            api_keys,
            consumers: consumers
                .into_iter()
                .map(|c| ConsumerRecord {
                    grants: grants.remove(&c.id).unwrap_or_default(),
                    plan: c.plan_id.and_then(|p| plans.get(&p).cloned()),
                    introspection: c.introspection,
                    name: c.name,
                })
                .collect(),
        })
    }

    /// Rebuilds the snapshot and hands it to subscribers if it changed.
    pub async fn publish_access(&self) -> Result<(), CatalogError> {
        let snapshot = Arc::new(self.access_snapshot().await?);
        self.access.send_if_modified(|current| {
            if **current == *snapshot {
                false
            } else {
                *current = snapshot.clone();
                true
            }
        });
        Ok(())
    }

    /// After a committed change: publish the new snapshot. A failure here
    /// must not report the committed change as failed; it is logged, and
    /// the periodic refresh ([`Catalog::spawn_access_refresher`]) publishes
    /// it later.
    pub(crate) async fn publish_after_change(&self) {
        if let Err(e) = self.publish_access().await {
            tracing::error!(error = %e, "publishing the access snapshot failed; the periodic refresh will retry");
        }
    }

    /// After a committed change: compose again. A failure is logged; the
    /// next change or schema pull composes again.
    pub(crate) async fn recompose_after_change(&self, actor: &str) {
        if let Err(e) = self.recompose(actor).await {
            tracing::error!(error = %e, "recomposition after a catalog change failed");
        }
    }

    /// Rebuilds and publishes the access snapshot every `interval`, so
    /// gateways see changes made by another control-plane instance sharing
    /// the database, and any publication that failed.
    pub fn spawn_access_refresher(
        &self,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let catalog = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                catalog.publish_after_change().await;
            }
        })
    }

    /// Follows the access snapshot: the current one now, and every change.
    pub fn subscribe_access(&self) -> tokio::sync::watch::Receiver<Arc<AccessSnapshot>> {
        self.access.subscribe()
    }
}

/// What the access snapshot reads of an active domain.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub(crate) struct SnapshotDomain {
    pub id: i32,
    pub name: String,
    pub plan_id: Option<i32>,
    pub model: domain::GovernanceModel,
    /// It maps OpenLineage datasets, so it has a "last produced" time.
    pub has_datasets: bool,
    pub cache_ttl_seconds: Option<i32>,
}
