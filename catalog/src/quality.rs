//! Measured data products: the gateways' traffic per domain (availability,
//! error rate), quality measurements (OpenLineage facets or
//! `reportQuality`), freshness (the last completed run that wrote the
//! product), SLOs evaluated against them with a history of status
//! changes, observed readers of a domain, and what removing a field would
//! break. Usage older than the retention is pruned here too.

use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{domain, domain_traffic, field_usage, quality_measurement, slo_event};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, ProblemCode};
use crate::spec::{Slo, SloKind};
use crate::usage::Use;
use crate::{Caller, Catalog};

/// One gateway's fetches from a domain since its last report.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traffic {
    #[serde(default)]
    pub fetches: u64,
    /// No answer: a transport error or HTTP 5xx.
    #[serde(default)]
    pub failed: u64,
    /// Answered, with GraphQL errors.
    #[serde(default)]
    pub errors: u64,
}

/// An SLO's status.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloState {
    Ok,
    AtRisk,
    Breached,
    /// Nothing measured yet (no run, no traffic, no value), or the SLO has
    /// no kind and is only declared.
    Unknown,
}

impl SloState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
            Self::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "ok" => Self::Ok,
            "at_risk" => Self::AtRisk,
            "breached" => Self::Breached,
            _ => Self::Unknown,
        }
    }
}

/// An SLO with its current status.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SloStatus {
    pub slo: Slo,
    pub status: SloState,
    /// Minutes of age (freshness), percent (availability, error rate) or
    /// the indicator's value (quality).
    pub value: Option<f64>,
    pub detail: String,
}

/// Share of an error budget used from which an SLO is at risk.
const AT_RISK: f64 = 0.75;

/// Hour bucket of the traffic table.
fn hour_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

impl Catalog {
    /// Adds a gateway's traffic counts to the current hour.
    pub async fn ingest_traffic(
        &self,
        traffic: HashMap<String, Traffic>,
    ) -> Result<(), CatalogError> {
        let hour = hour_of(Utc::now());
        for (domain, t) in traffic {
            if t.fetches == 0 {
                continue;
            }
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            domain_traffic::Entity::insert(domain_traffic::ActiveModel {
                domain: Set(domain.chars().take(200).collect()),
                hour: Set(hour.clone()),
                fetches: Set(n(t.fetches)),
                failed: Set(n(t.failed)),
                errors: Set(n(t.errors)),
            })
            .on_conflict(
                OnConflict::columns([domain_traffic::Column::Domain, domain_traffic::Column::Hour])
                    .value(
                        domain_traffic::Column::Fetches,
                        Expr::col((domain_traffic::Entity, domain_traffic::Column::Fetches))
                            .add(n(t.fetches)),
                    )
                    .value(
                        domain_traffic::Column::Failed,
                        Expr::col((domain_traffic::Entity, domain_traffic::Column::Failed))
                            .add(n(t.failed)),
                    )
                    .value(
                        domain_traffic::Column::Errors,
                        Expr::col((domain_traffic::Entity, domain_traffic::Column::Errors))
                            .add(n(t.errors)),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        }
        Ok(())
    }

    /// The gateways' fetches from a domain since `since` (whole hours).
    pub async fn traffic_since(
        &self,
        domain: &str,
        since: DateTime<Utc>,
    ) -> Result<Traffic, CatalogError> {
        let rows = domain_traffic::Entity::find()
            .filter(domain_traffic::Column::Domain.eq(domain))
            .filter(domain_traffic::Column::Hour.gte(hour_of(since)))
            .all(&self.db)
            .await?;
        let sum = |f: fn(&domain_traffic::Model) -> i64| {
            rows.iter()
                .map(f)
                .map(|v| u64::try_from(v).unwrap_or(0))
                .sum()
        };
        Ok(Traffic {
            fetches: sum(|r| r.fetches),
            failed: sum(|r| r.failed),
            errors: sum(|r| r.errors),
        })
    }

    /// Records a measured value (or an assertion's outcome) of a domain's
    /// quality indicator; the owner team or an admin on a secured catalog.
    pub async fn report_quality(
        &self,
        caller: &Caller,
        name: &str,
        indicator: &str,
        value: Option<f64>,
        passed: Option<bool>,
        detail: &str,
    ) -> Result<quality_measurement::Model, CatalogError> {
        let d = self
            .get(name)
            .await?
            .ok_or_else(|| CatalogError::DomainNotFound(name.to_string()))?;
        if d.status != domain::DomainStatus::Active {
            return Err(CatalogError::DomainDeregistered(name.to_string()));
        }
        self.may_change_domain(caller, &d.owner_team)?;
        let mut problems = crate::validate::Problems::default();
        crate::validate::required_text(&mut problems, "indicator", indicator);
        if value.is_none() && passed.is_none() {
            problems.push(
                "value",
                ProblemCode::Required,
                "give a value, or `passed` for an assertion",
            );
        }
        if value.is_some_and(|v| !v.is_finite()) {
            problems.push("value", ProblemCode::OutOfRange, "must be a finite number");
        }
        crate::validate::description(&mut problems, "detail", detail);
        if !problems.0.is_empty() {
            return Err(CatalogError::Invalid(problems.0));
        }
        Ok(
            quality_measurement::Entity::insert(quality_measurement::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                domain_id: Set(d.id),
                indicator: Set(indicator.trim().to_string()),
                value: Set(value),
                passed: Set(passed),
                source: Set("api".into()),
                run_id: Set(None),
                detail: Set(detail.to_string()),
                measured_at: Set(Utc::now()),
            })
            .exec_with_returning(&self.db)
            .await?,
        )
    }

    /// A domain's quality measurements, newest first (of one indicator
    /// when given).
    pub async fn quality_of(
        &self,
        domain_id: i32,
        indicator: Option<&str>,
        first: u64,
    ) -> Result<Vec<quality_measurement::Model>, CatalogError> {
        let mut query = quality_measurement::Entity::find()
            .filter(quality_measurement::Column::DomainId.eq(domain_id));
        if let Some(i) = indicator {
            query = query.filter(quality_measurement::Column::Indicator.eq(i));
        }
        Ok(query
            .order_by_desc(quality_measurement::Column::MeasuredAt)
            .order_by_desc(quality_measurement::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?)
    }

    /// Each of the domain's SLOs with its status now.
    pub async fn slo_statuses(&self, d: &domain::Model) -> Result<Vec<SloStatus>, CatalogError> {
        let slos: Vec<Slo> = serde_json::from_value(d.slos.clone()).unwrap_or_default();
        let now = Utc::now();
        let mut out = Vec::new();
        for slo in slos {
            let (status, value, detail) = match slo.kind {
                None => (
                    SloState::Unknown,
                    None,
                    "declared only: give the SLO a kind (freshness, availability, errorRate, quality) to have it measured".to_string(),
                ),
                Some(SloKind::Freshness) => {
                    let max = slo
                        .max_age
                        .as_deref()
                        .and_then(crate::validate::parse_window)
                        .unwrap_or_else(|| Duration::days(1));
                    match self.last_produced(d.id).await? {
                        None => (
                            SloState::Unknown,
                            None,
                            "no completed run has written this data product yet (OpenLineage)".to_string(),
                        ),
                        Some(run) => {
                            let at = run.ended_at.unwrap_or(run.updated_at);
                            let age = now - at;
                            let minutes = age.num_seconds() as f64 / 60.0;
                            let status = if age > max {
                                SloState::Breached
                            } else if age.num_seconds() as f64 > max.num_seconds() as f64 * AT_RISK {
                                SloState::AtRisk
                            } else {
                                SloState::Ok
                            };
                            (
                                status,
                                Some(minutes.max(0.0)),
                                format!(
                                    "{:.0} of at most {} minutes old: last written by {}/{} at {}",
                                    minutes.max(0.0),
                                    max.num_minutes(),
                                    run.job_namespace,
                                    run.job_name,
                                    at.format("%Y-%m-%d %H:%M UTC"),
                                ),
                            )
                        }
                    }
                }
                Some(kind @ (SloKind::Availability | SloKind::ErrorRate)) => {
                    let window = slo
                        .window
                        .as_deref()
                        .and_then(crate::validate::parse_window)
                        .unwrap_or_else(|| Duration::days(30));
                    let target = slo.target.unwrap_or(100.0);
                    let t = self.traffic_since(&d.name, now - window).await?;
                    if t.fetches == 0 {
                        (
                            SloState::Unknown,
                            None,
                            "no gateway fetched from this domain within the window".to_string(),
                        )
                    } else {
                        let total = t.fetches as f64;
                        if kind == SloKind::Availability {
                            let pct = (total - t.failed as f64).max(0.0) / total * 100.0;
                            let budget = 100.0 - target;
                            let used = 100.0 - pct;
                            let status = if pct < target {
                                SloState::Breached
                            } else if budget > 0.0 && used > budget * AT_RISK {
                                SloState::AtRisk
                            } else {
                                SloState::Ok
                            };
                            (
                                status,
                                Some(pct),
                                format!(
                                    "{pct:.3}% of {} fetches answered (target {target}%)",
                                    t.fetches
                                ),
                            )
                        } else {
                            let pct = (t.failed + t.errors) as f64 / total * 100.0;
                            let status = if pct > target {
                                SloState::Breached
                            } else if pct > target * AT_RISK {
                                SloState::AtRisk
                            } else {
                                SloState::Ok
                            };
                            (
                                status,
                                Some(pct),
                                format!(
                                    "{pct:.3}% of {} fetches failed or answered with errors (at most {target}%)",
                                    t.fetches
                                ),
                            )
                        }
                    }
                }
                Some(SloKind::Quality) => {
                    let indicator = slo.indicator.clone().unwrap_or_default();
                    match self.quality_of(d.id, Some(&indicator), 1).await?.pop() {
                        None => (
                            SloState::Unknown,
                            None,
                            format!("no value of `{indicator}` measured yet"),
                        ),
                        Some(m) => {
                            let below = match (m.value, slo.target) {
                                (Some(v), Some(t)) => v < t,
                                _ => false,
                            };
                            // A passing value older than the SLO's window
                            // says little about the data now: at risk.
                            let stale = slo
                                .window
                                .as_deref()
                                .and_then(crate::validate::parse_window)
                                .is_some_and(|w| m.measured_at < now - w);
                            let status = if m.passed == Some(false) || below {
                                SloState::Breached
                            } else if stale {
                                SloState::AtRisk
                            } else {
                                SloState::Ok
                            };
                            let what = match (m.value, m.passed) {
                                (Some(v), _) => format!("{v}"),
                                (None, Some(true)) => "passed".into(),
                                (None, _) => "failed".into(),
                            };
                            (
                                status,
                                m.value,
                                format!(
                                    "`{indicator}` was {what} at {}{}{}",
                                    m.measured_at.format("%Y-%m-%d %H:%M UTC"),
                                    slo.target.map(|t| format!(" (at least {t})")).unwrap_or_default(),
                                    if stale && status == SloState::AtRisk {
                                        format!(", longer ago than the SLO's window ({})", slo.window.as_deref().unwrap_or_default())
                                    } else {
                                        String::new()
                                    }
                                ),
                            )
                        }
                    }
                }
            };
            out.push(SloStatus {
                slo,
                status,
                value,
                detail,
            });
        }
        Ok(out)
    }

    /// The recorded status changes of a domain's SLOs, newest first.
    pub async fn slo_history(
        &self,
        domain_id: i32,
        slo: Option<&str>,
        first: u64,
    ) -> Result<Vec<slo_event::Model>, CatalogError> {
        let mut query = slo_event::Entity::find().filter(slo_event::Column::DomainId.eq(domain_id));
        if let Some(name) = slo {
            query = query.filter(slo_event::Column::Slo.eq(name));
        }
        Ok(query
            .order_by_desc(slo_event::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?)
    }

    /// Evaluates every active domain's SLOs and records each status that
    /// changed (a breach and a recovery are audited, and so alerted).
    /// Returns how many changed.
    pub async fn evaluate_slos(&self) -> Result<usize, CatalogError> {
        let domains = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .all(&self.db)
            .await?;
        let mut changed = 0;
        for d in domains {
            if d.slos.as_array().is_none_or(|a| a.is_empty()) {
                continue;
            }
            for s in self.slo_statuses(&d).await? {
                let last = slo_event::Entity::find()
                    .filter(slo_event::Column::DomainId.eq(d.id))
                    .filter(slo_event::Column::Slo.eq(&s.slo.name))
                    .order_by_desc(slo_event::Column::Id)
                    .one(&self.db)
                    .await?
                    .map(|e| SloState::parse(&e.status));
                if last == Some(s.status) {
                    continue;
                }
                let txn = sea_orm::TransactionTrait::begin(&self.db).await?;
                slo_event::Entity::insert(slo_event::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    domain_id: Set(d.id),
                    slo: Set(s.slo.name.clone()),
                    status: Set(s.status.as_str().into()),
                    value: Set(s.value),
                    detail: Set(s.detail.clone()),
                    at: Set(Utc::now()),
                })
                .exec_without_returning(&txn)
                .await?;
                let action = match (last, s.status) {
                    (_, SloState::Breached) => Some("slo.breached"),
                    (Some(SloState::Breached), SloState::Ok | SloState::AtRisk) => {
                        Some("slo.recovered")
                    }
                    _ => None,
                };
                if let Some(action) = action {
                    crate::audit::AuditEntry::new("meshwork:slo-evaluator", action, &d.name)
                        .after(Some(serde_json::json!({
                            "slo": s.slo.name,
                            "status": s.status.as_str(),
                            "value": s.value,
                            "detail": s.detail,
                        })))
                        .insert(&txn)
                        .await?;
                }
                txn.commit().await?;
                changed += 1;
            }
        }
        if changed > 0 {
            // Responses that report products' status see it at once.
            self.publish_after_change().await;
        }
        Ok(changed)
    }

    /// Consumers and operations the gateways saw reading fields the
    /// domain serves, since `since`, most used first.
    pub async fn domain_readers(
        &self,
        d: &domain::Model,
        since: DateTime<Utc>,
    ) -> Result<Vec<Use>, CatalogError> {
        let coordinates = self.served_coordinates_of(d).await?;
        if coordinates.is_empty() {
            return Ok(Vec::new());
        }
        let rows = field_usage::Entity::find()
            .filter(field_usage::Column::Coordinate.is_in(coordinates))
            .filter(field_usage::Column::Day.gte(since.format("%Y-%m-%d").to_string()))
            .all(&self.db)
            .await?;
        Ok(crate::usage::merge_uses(rows))
    }

    /// The `Type.field` coordinates the domain's served schema resolves.
    pub async fn served_coordinates_of(
        &self,
        d: &domain::Model,
    ) -> Result<Vec<String>, CatalogError> {
        let Some(version) = self.served_schema_of(&[d.id]).await?.remove(&d.id) else {
            return Ok(Vec::new());
        };
        let sdl = match d.kind {
            domain::ApiKind::Graphql => version.document.clone(),
            domain::ApiKind::Rest => match crate::rest::derived_of(&version) {
                Some(derived) => derived.sdl,
                None => return Ok(Vec::new()),
            },
        };
        Ok(crate::schema_doc::served_coordinates(&sdl))
    }

    /// What removing `coordinate` (`Type.field`) would break: the domains
    /// serving it, the consumers and operations that read it since
    /// `since`, and every domain downstream of its servers (declared
    /// lineage, transitively).
    pub async fn impact_of(
        &self,
        coordinate: &str,
        since: DateTime<Utc>,
    ) -> Result<Impact, CatalogError> {
        if coordinate.split('.').count() != 2 || coordinate.split('.').any(str::is_empty) {
            return Err(CatalogError::invalid(
                "coordinate",
                ProblemCode::OutOfRange,
                format!("`{coordinate}` is not a field coordinate such as `Order.total`"),
            ));
        }
        let domains = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .order_by_asc(domain::Column::Name)
            .all(&self.db)
            .await?;
        let mut served_by = Vec::new();
        for d in domains {
            if self
                .served_coordinates_of(&d)
                .await?
                .iter()
                .any(|c| c == coordinate)
            {
                served_by.push(d);
            }
        }
        let uses = self.uses_of(coordinate, since).await?;
        let mut seen: HashSet<i32> = served_by.iter().map(|d| d.id).collect();
        let mut downstream = Vec::new();
        for d in &served_by {
            let walk = self
                .lineage(
                    &d.name,
                    crate::lineage::Direction::Downstream,
                    crate::lineage::MAX_DEPTH,
                )
                .await?;
            for edge in walk.edges {
                if seen.insert(edge.input.domain_id) {
                    if let Some(m) = walk.domains.get(&edge.input.domain_id) {
                        downstream.push(m.clone());
                    }
                }
            }
        }
        Ok(Impact {
            coordinate: coordinate.to_string(),
            served_by,
            uses,
            downstream,
        })
    }

    /// Deletes field usage of days before `keep_days` ago; returns rows
    /// deleted.
    pub async fn prune_usage(&self, keep_days: u32) -> Result<u64, CatalogError> {
        let before = (Utc::now() - Duration::days(i64::from(keep_days)))
            .format("%Y-%m-%d")
            .to_string();
        let usage = field_usage::Entity::delete_many()
            .filter(field_usage::Column::Day.lt(before))
            .exec(&self.db)
            .await?
            .rows_affected;
        let hour = hour_of(Utc::now() - Duration::days(i64::from(keep_days)));
        let traffic = domain_traffic::Entity::delete_many()
            .filter(domain_traffic::Column::Hour.lt(hour))
            .exec(&self.db)
            .await?
            .rows_affected;
        Ok(usage + traffic)
    }
}

impl Catalog {
    /// Each served domain's product record for the access snapshot: its
    /// served schema version, when it was last produced, its SLOs' last
    /// evaluated status. A few bulk queries, whatever the number of domains.
    pub(crate) async fn product_records(
        &self,
        active: &[crate::access::SnapshotDomain],
        served: &HashMap<i32, i32>,
    ) -> Result<std::collections::BTreeMap<String, access::ProductRecord>, CatalogError> {
        // A version's number never changes: counted once per served version.
        let known: HashMap<i32, u32> = self
            .version_numbers
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let mut numbers: HashMap<i32, u32> = HashMap::new();
        for (domain_id, version_id) in served {
            let number = match known.get(version_id) {
                Some(n) => *n,
                None => {
                    use sea_orm::PaginatorTrait;
                    let n = entity::schema_version::Entity::find()
                        .filter(entity::schema_version::Column::DomainId.eq(*domain_id))
                        .filter(entity::schema_version::Column::Id.lte(*version_id))
                        .count(&self.db)
                        .await?;
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    if let Ok(mut m) = self.version_numbers.lock() {
                        m.insert(*version_id, n);
                    }
                    n
                }
            };
            numbers.insert(*domain_id, number);
        }
        let latest: Vec<i32> = slo_event::Entity::find()
            .select_only()
            .column_as(Expr::col(slo_event::Column::Id).max(), "id")
            .group_by(slo_event::Column::DomainId)
            .group_by(slo_event::Column::Slo)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut slos: HashMap<i32, std::collections::BTreeMap<String, String>> = HashMap::new();
        for chunk in latest.chunks(500) {
            for e in slo_event::Entity::find()
                .filter(slo_event::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                slos.entry(e.domain_id).or_default().insert(e.slo, e.status);
            }
        }
        let produced = if active.iter().any(|d| d.has_datasets) {
            self.last_produced_by_domain().await?
        } else {
            HashMap::new()
        };
        let mut out = std::collections::BTreeMap::new();
        for d in active {
            if !served.contains_key(&d.id) {
                continue;
            }
            out.insert(
                d.name.clone(),
                access::ProductRecord {
                    schema_version: numbers.get(&d.id).copied(),
                    last_produced_at: if d.has_datasets {
                        produced.get(&d.id).copied()
                    } else {
                        None
                    },
                    slos: slos.remove(&d.id).unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }
}

/// What removing a field would break.
#[derive(Clone, Debug)]
pub struct Impact {
    pub coordinate: String,
    pub served_by: Vec<domain::Model>,
    pub uses: Vec<Use>,
    pub downstream: Vec<domain::Model>,
}

/// Evaluates SLOs every `interval` and prunes usage older than
/// `usage_retention_days` once an hour, on the current runtime.
pub fn spawn_quality_tasks(catalog: Catalog, interval: StdDuration, usage_retention_days: u32) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.max(StdDuration::from_secs(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            ticker.tick().await;
            if let Err(e) = catalog.evaluate_slos().await {
                tracing::warn!(error = %e, "SLO evaluation failed; trying again at the next interval");
            }
            if last_prune.is_none_or(|t| t.elapsed() > StdDuration::from_secs(3600)) {
                match catalog.prune_usage(usage_retention_days).await {
                    Ok(n) if n > 0 => tracing::info!(
                        rows = n,
                        days = usage_retention_days,
                        "pruned usage older than the retention"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "usage pruning failed"),
                }
                last_prune = Some(std::time::Instant::now());
            }
        }
    });
}
