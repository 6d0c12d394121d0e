//! What the gateways say they serve. Each gateway that follows this control
//! plane (its own in-process gateway, and replicas) reports with its
//! contract and traffic counts which composition it loaded (the hash the
//! control plane marks in the supergraph it serves), at once when that
//! changes and every report interval otherwise. `servedVersion` comes from
//! these reports, never from "the latest success", so it never names a
//! version no gateway serves yet.

use chrono::{Duration, Utc};
use entity::{composition, gateway_instance};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::{Catalog, CatalogError};

/// A gateway not heard from for this long no longer counts as serving.
pub const LIVE_FOR: Duration = Duration::seconds(60);

/// A gateway as reported, with the composition version of what it serves.
#[derive(Clone, Debug)]
pub struct GatewayState {
    pub gateway: gateway_instance::Model,
    pub served_version: Option<i32>,
    pub live: bool,
}

impl Catalog {
    /// Records a gateway's report about itself.
    pub async fn record_gateway(
        &self,
        report: &access::control::GatewayReport,
    ) -> Result<(), CatalogError> {
        let instance: String = report.instance.chars().take(64).collect();
        if instance.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let hash = report
            .served_hash
            .as_deref()
            .map(|h| h.chars().take(128).collect::<String>());
        let previous = gateway_instance::Entity::find_by_id(instance.clone())
            .one(&self.db)
            .await?;
        if previous.is_none() {
            // A new gateway process: forget those silent for a week, so
            // restarts do not pile up rows.
            gateway_instance::Entity::delete_many()
                .filter(gateway_instance::Column::LastSeenAt.lt(now - Duration::days(7)))
                .exec(&self.db)
                .await?;
        }
        let served_since = match &previous {
            Some(p) if p.served_hash == hash => p.served_since,
            _ => hash.as_ref().map(|_| now),
        };
        let role = if report.role == "in-process" {
            "in-process"
        } else {
            "replica"
        };
        gateway_instance::Entity::insert(gateway_instance::ActiveModel {
            instance: Set(instance),
            role: Set(role.to_string()),
            address: Set(report.address.chars().take(200).collect()),
            served_hash: Set(hash),
            served_since: Set(served_since),
            first_seen_at: Set(previous.as_ref().map_or(now, |p| p.first_seen_at)),
            last_seen_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(gateway_instance::Column::Instance)
                .update_columns([
                    gateway_instance::Column::Role,
                    gateway_instance::Column::Address,
                    gateway_instance::Column::ServedHash,
                    gateway_instance::Column::ServedSince,
                    gateway_instance::Column::LastSeenAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Gateways heard from within a day, the in-process one first, then the
    /// most recently heard from.
    pub async fn gateways(&self) -> Result<Vec<GatewayState>, CatalogError> {
        let now = Utc::now();
        let rows = gateway_instance::Entity::find()
            .filter(gateway_instance::Column::LastSeenAt.gt(now - Duration::days(1)))
            .order_by_desc(gateway_instance::Column::LastSeenAt)
            .all(&self.db)
            .await?;
        let hashes: Vec<String> = rows.iter().filter_map(|g| g.served_hash.clone()).collect();
        let versions: std::collections::HashMap<String, i32> = if hashes.is_empty() {
            Default::default()
        } else {
            composition::Entity::find()
                .filter(composition::Column::Hash.is_in(hashes))
                .filter(composition::Column::Status.eq(composition::CompositionStatus::Success))
                .all(&self.db)
                .await?
                .into_iter()
                .filter_map(|c| Some((c.hash?, c.id)))
                .collect()
        };
        let mut states: Vec<GatewayState> = rows
            .into_iter()
            .map(|g| GatewayState {
                served_version: g
                    .served_hash
                    .as_ref()
                    .and_then(|h| versions.get(h).copied()),
                live: g.last_seen_at > now - LIVE_FOR,
                gateway: g,
            })
            .collect();
        states.sort_by_key(|s| (s.gateway.role != "in-process", !s.live));
        Ok(states)
    }

    /// The composition the gateways serve: the in-process gateway's, when
    /// it is live; else the oldest any live replica serves (every live
    /// gateway serves that one or a newer one). None when no live gateway
    /// has reported a composition.
    pub async fn gateway_served_composition(
        &self,
    ) -> Result<Option<composition::Model>, CatalogError> {
        let states = self.gateways().await?;
        let live: Vec<&GatewayState> = states.iter().filter(|s| s.live).collect();
        let version = match live.iter().find(|s| s.gateway.role == "in-process") {
            Some(own) => own.served_version,
            None => live.iter().filter_map(|s| s.served_version).min(),
        };
        let Some(version) = version else {
            return Ok(None);
        };
        Ok(composition::Entity::find_by_id(version)
            .one(&self.db)
            .await?)
    }
}
