//! Field usage reported by the gateways: the engine's own usage agent
//! (batched, off the request path, bounded buffer, flushed at an interval
//! and on shutdown) posts Hive Console's usage report format to the control
//! plane's `/control/usage`; each report is counted per schema coordinate,
//! client and operation per day. Schema checks ask which consumers and
//! operations used what a new version breaks.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{contract_check, field_usage, setting};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::error::CatalogError;
use crate::Catalog;

/// Settings key: when the first usage report arrived (RFC 3339).
const FIRST_REPORT_KEY: &str = "usage.first_report_at";

/// Hive Console's usage report (version 2), the parts Meshwork reads.
#[derive(Debug, Deserialize)]
pub struct UsageReport {
    #[serde(default)]
    pub map: HashMap<String, OperationRecord>,
    #[serde(default)]
    pub operations: Vec<OperationUse>,
    #[serde(default, rename = "subscriptionOperations")]
    pub subscription_operations: Vec<OperationUse>,
}

#[derive(Debug, Deserialize)]
pub struct OperationRecord {
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct OperationUse {
    #[serde(rename = "operationMapKey")]
    pub operation_map_key: String,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub client: Option<ClientInfo>,
}

#[derive(Debug, Deserialize)]
pub struct ClientInfo {
    #[serde(default)]
    pub name: Option<String>,
}

/// Who used a coordinate, how often, and when last, within a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Use {
    pub coordinate: String,
    pub client: String,
    pub operation: String,
    pub count: i64,
    pub last_seen: DateTime<Utc>,
}

/// Coordinate, client, operation, day.
type UseKey = (String, String, String, String);

/// The longest text stored for a client or operation name.
const MAX_NAME: usize = 200;

fn clip(text: &str) -> String {
    text.chars().take(MAX_NAME).collect()
}

impl Catalog {
    /// Counts a usage report; returns the operations counted.
    pub async fn ingest_usage(&self, report: UsageReport) -> Result<usize, CatalogError> {
        let mut counts: HashMap<UseKey, (i64, DateTime<Utc>)> = HashMap::new();
        let mut operations = 0;
        for used in report
            .operations
            .iter()
            .chain(&report.subscription_operations)
        {
            let Some(record) = report.map.get(&used.operation_map_key) else {
                continue;
            };
            operations += 1;
            let at = DateTime::<Utc>::from_timestamp_millis(used.timestamp)
                .filter(|t| *t <= Utc::now() + Duration::minutes(5))
                .unwrap_or_else(Utc::now);
            let day = at.format("%Y-%m-%d").to_string();
            let client = used
                .metadata
                .as_ref()
                .and_then(|m| m.client.as_ref())
                .and_then(|c| c.name.as_deref())
                .map(clip)
                .unwrap_or_default();
            let operation = clip(
                record
                    .operation_name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&used.operation_map_key),
            );
            for coordinate in &record.fields {
                let entry = counts
                    .entry((
                        clip(coordinate),
                        client.clone(),
                        operation.clone(),
                        day.clone(),
                    ))
                    .or_insert((0, at));
                entry.0 += 1;
                entry.1 = Ord::max(entry.1, at);
            }
        }
        if counts.is_empty() {
            return Ok(operations);
        }
        let txn = self.db.begin().await?;
        for ((coordinate, client, operation, day), (count, last_seen)) in counts {
            field_usage::Entity::insert(field_usage::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                coordinate: Set(coordinate),
                client: Set(client),
                operation: Set(operation),
                day: Set(day),
                count: Set(count),
                last_seen: Set(last_seen),
            })
            .on_conflict(
                OnConflict::columns([
                    field_usage::Column::Coordinate,
                    field_usage::Column::Client,
                    field_usage::Column::Operation,
                    field_usage::Column::Day,
                ])
                .value(
                    field_usage::Column::Count,
                    Expr::col((field_usage::Entity, field_usage::Column::Count)).add(count),
                )
                .value(field_usage::Column::LastSeen, Expr::value(last_seen))
                .to_owned(),
            )
            .exec(&txn)
            .await?;
        }
        if setting::Entity::find_by_id(FIRST_REPORT_KEY.to_string())
            .one(&txn)
            .await?
            .is_none()
        {
            setting::Entity::insert(setting::ActiveModel {
                key: Set(FIRST_REPORT_KEY.to_string()),
                value: Set(serde_json::json!(Utc::now().to_rfc3339())),
                updated_at: Set(Utc::now()),
            })
            .on_conflict(
                OnConflict::column(setting::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(operations)
    }

    /// When usage was first reported, if ever.
    pub async fn usage_recorded_since(&self) -> Result<Option<DateTime<Utc>>, CatalogError> {
        Ok(setting::Entity::find_by_id(FIRST_REPORT_KEY.to_string())
            .one(&self.db)
            .await?
            .and_then(|row| row.value.as_str().map(str::to_string))
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// The uses since `since` of `path` (a change's path: `Type`,
    /// `Type.field`, `Type.field.argument` or `Enum.VALUE`): a type's path
    /// matches every coordinate under it.
    pub async fn uses_of(
        &self,
        path: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Use>, CatalogError> {
        let day = since.format("%Y-%m-%d").to_string();
        let under = format!("{path}.%");
        let rows = field_usage::Entity::find()
            .filter(
                field_usage::Column::Coordinate
                    .eq(path)
                    .or(field_usage::Column::Coordinate.like(&under)),
            )
            .filter(field_usage::Column::Day.gte(day))
            .all(&self.db)
            .await?;
        let rows = rows.into_iter().filter(|row| {
            // LIKE treats `_` in a name as a wildcard: keep exact matches only.
            let under_path = row
                .coordinate
                .strip_prefix(path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'));
            row.last_seen >= since && under_path
        });
        Ok(merge_uses(rows))
    }
}

/// Usage rows summed per coordinate, client and operation over their
/// days, most used first (then by client and coordinate).
pub(crate) fn merge_uses(rows: impl IntoIterator<Item = field_usage::Model>) -> Vec<Use> {
    let mut merged: HashMap<(String, String, String), Use> = HashMap::new();
    for row in rows {
        let entry = merged
            .entry((
                row.coordinate.clone(),
                row.client.clone(),
                row.operation.clone(),
            ))
            .or_insert_with(|| Use {
                coordinate: row.coordinate.clone(),
                client: row.client.clone(),
                operation: row.operation.clone(),
                count: 0,
                last_seen: row.last_seen,
            });
        entry.count += row.count;
        entry.last_seen = Ord::max(entry.last_seen, row.last_seen);
    }
    let mut uses: Vec<Use> = merged.into_values().collect();
    uses.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.client.cmp(&b.client))
            .then(a.coordinate.cmp(&b.coordinate))
    });
    uses
}

/// What one gateway's runtime contract check found since its last report.
#[derive(Debug, Deserialize)]
pub struct ContractReport {
    #[serde(default)]
    pub domains: HashMap<String, ContractFound>,
    /// Every fetch from each domain since the last report (availability
    /// and error rate of the domains' APIs).
    #[serde(default)]
    pub traffic: HashMap<String, crate::quality::Traffic>,
    /// The reporting gateway itself: which composition it serves.
    #[serde(default)]
    pub gateway: Option<access::control::GatewayReport>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractFound {
    #[serde(default)]
    pub sampled: u64,
    #[serde(default)]
    pub violations: u64,
    #[serde(default)]
    pub last_violation: Option<String>,
}

impl Catalog {
    /// Adds a gateway's contract-check findings to each domain's totals.
    pub async fn ingest_contracts(&self, report: ContractReport) -> Result<(), CatalogError> {
        let ContractReport {
            domains,
            traffic,
            gateway,
        } = report;
        if let Some(gateway) = &gateway {
            self.record_gateway(gateway).await?;
        }
        self.ingest_traffic(traffic).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        for (domain, found) in domains {
            let sampled = i64::try_from(found.sampled).unwrap_or(i64::MAX);
            let violations = i64::try_from(found.violations).unwrap_or(i64::MAX);
            let last = found
                .last_violation
                .map(|v| v.chars().take(1000).collect::<String>());
            let mut on_conflict = OnConflict::column(contract_check::Column::Domain);
            on_conflict
                .value(
                    contract_check::Column::Sampled,
                    Expr::col((contract_check::Entity, contract_check::Column::Sampled))
                        .add(sampled),
                )
                .value(
                    contract_check::Column::Violations,
                    Expr::col((contract_check::Entity, contract_check::Column::Violations))
                        .add(violations),
                )
                .value(contract_check::Column::UpdatedAt, Expr::value(now));
            if last.is_some() {
                on_conflict
                    .value(
                        contract_check::Column::LastViolation,
                        Expr::value(last.clone()),
                    )
                    .value(contract_check::Column::LastViolationAt, Expr::value(now));
            }
            contract_check::Entity::insert(contract_check::ActiveModel {
                domain: Set(clip(&domain)),
                sampled: Set(sampled),
                violations: Set(violations),
                last_violation_at: Set(last.as_ref().map(|_| now)),
                last_violation: Set(last),
                updated_at: Set(now),
            })
            .on_conflict(on_conflict.to_owned())
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// The contract check's totals for a domain, if its answers were checked.
    pub async fn contract_check_of(
        &self,
        domain: &str,
    ) -> Result<Option<contract_check::Model>, CatalogError> {
        Ok(contract_check::Entity::find_by_id(domain.to_string())
            .one(&self.db)
            .await?)
    }
}
