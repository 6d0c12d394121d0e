//! Schema-governance metrics in Prometheus' text format, read from the
//! catalog at scrape time: schema versions by status (held ones included),
//! breaking changes, drift, and the contract check's findings, per domain.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use entity::schema_version::{self, VersionStatus};
use entity::{composition, contract_check, domain, domain_health};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::CatalogError;
use crate::Catalog;

/// Counters of catalog events, by outcome; exported once the process has
/// a metrics exporter ([`register_metrics`]).
static COUNTS: std::sync::LazyLock<std::sync::Mutex<BTreeMap<(&'static str, &'static str), u64>>> =
    std::sync::LazyLock::new(Default::default);

/// Each counter's description.
const COUNTERS: [(&str, &str); 2] = [
    (
        "meshwork.schema_pulls",
        "Schema pulls of domains, by outcome (ok, failed)",
    ),
    (
        "meshwork.compositions",
        "Composition attempts, by outcome (ok, failed)",
    ),
];

/// Adds one to counter `name{outcome}` (one of [`COUNTERS`]).
pub(crate) fn count(name: &'static str, outcome: &'static str) {
    if let Ok(mut counts) = COUNTS.lock() {
        *counts.entry((name, outcome)).or_default() += 1;
    }
}

/// Exports the catalog's counters through the process's global
/// OpenTelemetry meter: call it after the gateway's engine installed its
/// meter provider (its `/metrics` then shows them, counted from the start).
pub fn register_metrics() {
    register_counters(&opentelemetry::global::meter("meshwork"));
}

impl Catalog {
    /// [`register_metrics`], plus the catalog database's connection pool:
    /// `meshwork_db_pool_connections{state="idle"|"in_use"}` and its
    /// configured maximum.
    pub fn register_metrics(&self) {
        let meter = opentelemetry::global::meter("meshwork");
        register_counters(&meter);
        let db = self.db.clone();
        let max = pool_stats(&self.db).map(|(_, _, max)| max).unwrap_or(0);
        let _ = meter
            .u64_observable_gauge("meshwork.db.pool.connections")
            .with_description("Catalog database connections, by state (idle, in_use)")
            .with_callback(move |observer| {
                if let Some((size, idle, _)) = pool_stats(&db) {
                    let in_use = u64::from(size).saturating_sub(idle as u64);
                    observer.observe(
                        idle as u64,
                        &[opentelemetry::KeyValue::new("state", "idle")],
                    );
                    observer.observe(in_use, &[opentelemetry::KeyValue::new("state", "in_use")]);
                }
            })
            .build();
        let _ = meter
            .u64_observable_gauge("meshwork.db.pool.max")
            .with_description("Catalog database connections the pool may open")
            .with_callback(move |observer| observer.observe(u64::from(max), &[]))
            .build();
    }
}

/// Open, idle and at most connections of the catalog's pool.
fn pool_stats(db: &sea_orm::DatabaseConnection) -> Option<(u32, usize, u32)> {
    use sea_orm::DatabaseConnectionType as Type;
    match &db.inner {
        Type::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        Type::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        _ => None,
    }
}

fn register_counters(meter: &opentelemetry::metrics::Meter) {
    for (name, description) in COUNTERS {
        let _ = meter
            .u64_observable_counter(name)
            .with_description(description)
            .with_callback(move |observer| {
                if let Ok(counts) = COUNTS.lock() {
                    for ((counter, outcome), n) in counts.iter() {
                        if *counter == name {
                            observer
                                .observe(*n, &[opentelemetry::KeyValue::new("outcome", *outcome)]);
                        }
                    }
                }
            })
            .build();
    }
}

/// A label value as Prometheus' text format wants it.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn status_name(status: VersionStatus) -> &'static str {
    match status {
        VersionStatus::Accepted => "accepted",
        VersionStatus::Pending => "pending",
        VersionStatus::Rejected => "rejected",
        VersionStatus::Superseded => "superseded",
    }
}

impl Catalog {
    /// The governance metrics of every active domain.
    pub async fn metrics_text(&self) -> Result<String, CatalogError> {
        let domains = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .order_by_asc(domain::Column::Name)
            .all(&self.db)
            .await?;
        let names: BTreeMap<i32, String> = domains.iter().map(|d| (d.id, d.name.clone())).collect();
        let versions = schema_version::Entity::find()
            .filter(schema_version::Column::DomainId.is_in(names.keys().copied()))
            .order_by_asc(schema_version::Column::Id)
            .all(&self.db)
            .await?;
        let mut by_status: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        let mut breaking: BTreeMap<String, u64> = BTreeMap::new();
        let mut latest: BTreeMap<String, VersionStatus> = BTreeMap::new();
        for v in &versions {
            let Some(name) = names.get(&v.domain_id) else {
                continue;
            };
            *by_status
                .entry((name.clone(), status_name(v.status)))
                .or_default() += 1;
            if v.status == VersionStatus::Accepted {
                *breaking.entry(name.clone()).or_default() += crate::schema_evolution::changes_of(v)
                    .iter()
                    .filter(|c| c.severity == evolution::Severity::Breaking)
                    .count() as u64;
            }
            latest.insert(name.clone(), v.status);
        }
        let checks = contract_check::Entity::find().all(&self.db).await?;
        let health: BTreeMap<i32, domain_health::Model> = domain_health::Entity::find()
            .filter(domain_health::Column::DomainId.is_in(names.keys().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.domain_id, h))
            .collect();
        let last_composition = composition::Entity::find()
            .order_by_desc(composition::Column::Id)
            .one(&self.db)
            .await?;
        let mut out = String::new();
        let _ = writeln!(out, "# HELP meshwork_domain_schema_pull_failures Consecutive failed schema pulls of each domain (0: its last pull succeeded).");
        let _ = writeln!(out, "# TYPE meshwork_domain_schema_pull_failures gauge");
        let _ = writeln!(out, "# HELP meshwork_domain_last_success_timestamp_seconds When each domain's schema was last pulled successfully (Unix time).");
        let _ = writeln!(
            out,
            "# TYPE meshwork_domain_last_success_timestamp_seconds gauge"
        );
        for d in &domains {
            let Some(h) = health.get(&d.id) else { continue };
            let _ = writeln!(
                out,
                "meshwork_domain_schema_pull_failures{{domain=\"{}\"}} {}",
                label(&d.name),
                h.consecutive_failures.max(0)
            );
            if let Some(at) = h.last_success_at {
                let _ = writeln!(
                    out,
                    "meshwork_domain_last_success_timestamp_seconds{{domain=\"{}\"}} {}",
                    label(&d.name),
                    at.timestamp()
                );
            }
        }
        if let Some(c) = &last_composition {
            let _ = writeln!(out, "# HELP meshwork_composition_failed 1 when the latest composition attempt failed (the gateway keeps serving the last good one).");
            let _ = writeln!(out, "# TYPE meshwork_composition_failed gauge");
            let _ = writeln!(
                out,
                "meshwork_composition_failed {}",
                u8::from(c.status == composition::CompositionStatus::Failed)
            );
            let _ = writeln!(
                out,
                "# HELP meshwork_composition_version The latest composition attempt's number."
            );
            let _ = writeln!(out, "# TYPE meshwork_composition_version gauge");
            let _ = writeln!(out, "meshwork_composition_version {}", c.id);
        }
        let _ = writeln!(out, "# HELP meshwork_schema_versions Schema versions of each domain by status (pending: held for approval under the strict model).");
        let _ = writeln!(out, "# TYPE meshwork_schema_versions gauge");
        for ((domain, status), n) in &by_status {
            let _ = writeln!(
                out,
                "meshwork_schema_versions{{domain=\"{}\",status=\"{status}\"}} {n}",
                label(domain)
            );
        }
        let _ = writeln!(out, "# HELP meshwork_schema_breaking_changes_total Breaking changes in the accepted versions of each domain.");
        let _ = writeln!(out, "# TYPE meshwork_schema_breaking_changes_total counter");
        for (domain, n) in &breaking {
            let _ = writeln!(
                out,
                "meshwork_schema_breaking_changes_total{{domain=\"{}\"}} {n}",
                label(domain)
            );
        }
        let _ = writeln!(out, "# HELP meshwork_schema_drift 1 when the schema a domain's API publishes is not the one the mesh serves (held or rejected).");
        let _ = writeln!(out, "# TYPE meshwork_schema_drift gauge");
        for d in &domains {
            let drift = matches!(
                latest.get(&d.name),
                Some(VersionStatus::Pending) | Some(VersionStatus::Rejected)
            );
            let _ = writeln!(
                out,
                "meshwork_schema_drift{{domain=\"{}\"}} {}",
                label(&d.name),
                u8::from(drift)
            );
        }
        let _ = writeln!(out, "# HELP meshwork_contract_sampled_total Answers of strict domains the gateways checked against the served schema.");
        let _ = writeln!(out, "# TYPE meshwork_contract_sampled_total counter");
        for c in &checks {
            let _ = writeln!(
                out,
                "meshwork_contract_sampled_total{{domain=\"{}\"}} {}",
                label(&c.domain),
                c.sampled
            );
        }
        let _ = writeln!(out, "# HELP meshwork_contract_violations_total Values in those answers that broke the served schema.");
        let _ = writeln!(out, "# TYPE meshwork_contract_violations_total counter");
        for c in &checks {
            let _ = writeln!(
                out,
                "meshwork_contract_violations_total{{domain=\"{}\"}} {}",
                label(&c.domain),
                c.violations
            );
        }
        Ok(out)
    }
}
