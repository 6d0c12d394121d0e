//! OpenLineage: pipelines report their runs (`POST /api/v1/lineage`, the
//! spec's run events), Meshwork keeps each run's latest state and the
//! datasets it read and wrote, matches datasets to domains by each
//! domain's `datasets` mapping, and takes quality measurements from the
//! `dataQualityMetrics`, `dataQualityAssertions` and `outputStatistics`
//! facets. Lineage is exported as OpenLineage run events too.
//!
//! No maintained Rust crate models OpenLineage, so the events are typed
//! serde models of the spec (2-0-2), checked for what its JSON schema
//! requires (required properties, `uuid`, `date-time` and `uri` formats,
//! the base facet's `_producer` and `_schemaURL`); a refusal names the
//! JSON path of every problem.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{domain, lineage_input, lineage_run, lineage_run_dataset, quality_measurement};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{CatalogError, Problem, ProblemCode};
use crate::spec::DatasetRef;
use crate::{Caller, Catalog};

/// The spec version Meshwork reads and writes.
pub const SCHEMA_URL: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
/// The `producer` of the events Meshwork exports.
pub const PRODUCER: &str = "https://github.com/meshwork/meshwork";
/// Most quality measurements one event may add.
const MAX_MEASUREMENTS: usize = 500;
/// Most datasets one event may name.
const MAX_DATASETS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    Start,
    Running,
    Complete,
    Abort,
    Fail,
    Other,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Start => "START",
            Self::Running => "RUNNING",
            Self::Complete => "COMPLETE",
            Self::Abort => "ABORT",
            Self::Fail => "FAIL",
            Self::Other => "OTHER",
        }
    }

    fn terminal(state: &str) -> bool {
        matches!(state, "COMPLETE" | "ABORT" | "FAIL")
    }
}

/// An OpenLineage run event.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
    pub event_time: String,
    pub run: Run,
    pub job: Job,
    #[serde(default)]
    pub inputs: Vec<Dataset>,
    #[serde(default)]
    pub outputs: Vec<Dataset>,
    pub producer: String,
    #[serde(rename = "schemaURL")]
    pub schema_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub facets: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub facets: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub facets: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub input_facets: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub output_facets: Map<String, Value>,
}

/// What one accepted event did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingested {
    pub run_id: String,
    /// The run's state after the event.
    pub state: String,
    /// Domains whose datasets the event named.
    pub domains: Vec<String>,
    pub measurements: usize,
}

/// Parses and checks one event; every problem names its JSON path.
pub fn parse_event(body: &[u8]) -> Result<RunEvent, Vec<Problem>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let event: RunEvent = match serde_path_to_error::deserialize(&mut de) {
        Ok(event) => event,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let text = inner.to_string();
            let (code, reason) = match text.strip_prefix("missing field ") {
                Some(rest) => (
                    ProblemCode::Required,
                    format!("{} is required", rest.split(" at ").next().unwrap_or(rest)),
                ),
                None => (
                    ProblemCode::MalformedJson,
                    text.split(" at line ").next().unwrap_or(&text).to_string(),
                ),
            };
            let field = if path == "." || path.is_empty() {
                "$".to_string()
            } else {
                format!("$.{path}")
            };
            return Err(vec![Problem::new(field, code, reason)]);
        }
    };
    let mut problems = Vec::new();
    let mut bad = |field: &str, reason: String| {
        problems.push(Problem::new(
            format!("$.{field}"),
            ProblemCode::OutOfRange,
            reason,
        ))
    };
    if uuid::Uuid::parse_str(&event.run.run_id).is_err() {
        bad("run.runId", format!("`{}` is not a UUID", event.run.run_id));
    }
    if DateTime::parse_from_rfc3339(&event.event_time).is_err() {
        bad(
            "eventTime",
            format!(
                "`{}` is not an RFC 3339 date-time such as 2026-11-30T08:00:00Z",
                event.event_time
            ),
        );
    }
    if !is_uri(&event.producer) {
        bad("producer", format!("`{}` is not a URI", event.producer));
    }
    if !is_uri(&event.schema_url) {
        bad("schemaURL", format!("`{}` is not a URI", event.schema_url));
    }
    for (field, text) in [
        ("job.namespace", &event.job.namespace),
        ("job.name", &event.job.name),
    ] {
        if text.trim().is_empty() {
            bad(field, "must not be empty".into());
        }
    }
    if event.inputs.len() + event.outputs.len() > MAX_DATASETS {
        bad(
            "inputs",
            format!("at most {MAX_DATASETS} datasets per event"),
        );
    }
    facets_problems("run.facets", &event.run.facets, &mut bad);
    facets_problems("job.facets", &event.job.facets, &mut bad);
    for (role, list) in [("inputs", &event.inputs), ("outputs", &event.outputs)] {
        for (i, d) in list.iter().enumerate() {
            if d.namespace.trim().is_empty() {
                bad(
                    &format!("{role}[{i}].namespace"),
                    "must not be empty".into(),
                );
            }
            if d.name.trim().is_empty() {
                bad(&format!("{role}[{i}].name"), "must not be empty".into());
            }
            facets_problems(&format!("{role}[{i}].facets"), &d.facets, &mut bad);
            facets_problems(
                &format!("{role}[{i}].inputFacets"),
                &d.input_facets,
                &mut bad,
            );
            facets_problems(
                &format!("{role}[{i}].outputFacets"),
                &d.output_facets,
                &mut bad,
            );
        }
    }
    if problems.is_empty() {
        Ok(event)
    } else {
        Err(problems)
    }
}

fn is_uri(text: &str) -> bool {
    url::Url::parse(text).is_ok()
}

/// Every facet is an object with the base facet's `_producer` and
/// `_schemaURL` (URIs), unless it is a deletion marker (`_deleted: true`).
fn facets_problems(at: &str, facets: &Map<String, Value>, bad: &mut impl FnMut(&str, String)) {
    for (name, facet) in facets {
        let path = format!("{at}.{name}");
        let Some(object) = facet.as_object() else {
            bad(&path, "a facet must be an object".into());
            continue;
        };
        if object.get("_deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        for key in ["_producer", "_schemaURL"] {
            match object.get(key) {
                None => bad(&format!("{path}.{key}"), format!("{key} is required")),
                Some(Value::String(s)) if is_uri(s) => {}
                Some(other) => bad(&format!("{path}.{key}"), format!("{other} is not a URI")),
            }
        }
    }
}

/// A domain's stored dataset mapping.
pub(crate) fn datasets_of(d: &domain::Model) -> Vec<DatasetRef> {
    d.datasets
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// A quality measurement taken from a facet.
struct Measured {
    domain_id: i32,
    indicator: String,
    value: Option<f64>,
    passed: Option<bool>,
    detail: String,
}

/// The measurements of one dataset's facets.
fn measurements(domain_id: i32, dataset: &Dataset, out: &mut Vec<Measured>) {
    let facet = |name: &str| {
        dataset
            .input_facets
            .get(name)
            .or_else(|| dataset.facets.get(name))
            .or_else(|| dataset.output_facets.get(name))
            .and_then(Value::as_object)
    };
    let label = format!("{} {}", dataset.namespace, dataset.name);
    let mut number = |indicator: String, value: Option<&Value>| {
        if let Some(v) = value.and_then(Value::as_f64).filter(|v| v.is_finite()) {
            out.push(Measured {
                domain_id,
                indicator,
                value: Some(v),
                passed: None,
                detail: label.clone(),
            });
        }
    };
    if let Some(metrics) = facet("dataQualityMetrics") {
        for key in ["rowCount", "bytes", "fileCount"] {
            number(key.to_string(), metrics.get(key));
        }
        if let Some(columns) = metrics.get("columnMetrics").and_then(Value::as_object) {
            for (column, m) in columns {
                let Some(m) = m.as_object() else { continue };
                for key in ["nullCount", "distinctCount", "sum", "count", "min", "max"] {
                    number(format!("{column}.{key}"), m.get(key));
                }
            }
        }
    }
    if let Some(stats) = dataset
        .output_facets
        .get("outputStatistics")
        .and_then(Value::as_object)
    {
        number("rowCount".into(), stats.get("rowCount"));
        number("bytes".into(), stats.get("size"));
        number("fileCount".into(), stats.get("fileCount"));
    }
    if let Some(assertions) = facet("dataQualityAssertions")
        .and_then(|f| f.get("assertions"))
        .and_then(Value::as_array)
    {
        for a in assertions {
            let (Some(name), Some(success)) = (
                a.get("assertion").and_then(Value::as_str),
                a.get("success").and_then(Value::as_bool),
            ) else {
                continue;
            };
            let indicator = match a.get("column").and_then(Value::as_str) {
                Some(column) => format!("assertion:{name}:{column}"),
                None => format!("assertion:{name}"),
            };
            out.push(Measured {
                domain_id,
                indicator,
                value: None,
                passed: Some(success),
                detail: label.clone(),
            });
        }
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl Catalog {
    /// Active domains with a dataset mapping.
    async fn mapped_domains(&self) -> Result<Vec<(domain::Model, Vec<DatasetRef>)>, CatalogError> {
        Ok(domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .filter(domain::Column::Datasets.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| {
                let refs = datasets_of(&d);
                (d, refs)
            })
            .filter(|(_, refs)| !refs.is_empty())
            .collect())
    }

    /// Takes one OpenLineage run event. On a secured catalog the caller
    /// must be signed in, and may report a run writing a domain's dataset
    /// only as that domain's owner team or a platform admin.
    pub async fn ingest_openlineage(
        &self,
        caller: &Caller,
        event: RunEvent,
    ) -> Result<Ingested, CatalogError> {
        if self.secured() && !caller.admin && caller.teams.is_empty() && caller.consumer.is_none() {
            return Err(CatalogError::Forbidden(
                "this catalog is secured: sign in (a JWT of the domain's owner team, or the admin token) to report runs".into(),
            ));
        }
        let mapped = self.mapped_domains().await?;
        let domain_of = |d: &Dataset| {
            mapped
                .iter()
                .find(|(_, refs)| refs.iter().any(|r| r.matches(&d.namespace, &d.name)))
                .map(|(m, _)| m)
        };
        for d in &event.outputs {
            if let Some(owner) = domain_of(d) {
                self.may_change_domain(caller, &owner.owner_team)?;
            }
        }
        let at = DateTime::parse_from_rfc3339(&event.event_time)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                CatalogError::invalid("$.eventTime", ProblemCode::OutOfRange, e.to_string())
            })?;
        let kind = event.event_type.unwrap_or(EventType::Other);
        let error_message = event
            .run
            .facets
            .get("errorMessage")
            .and_then(|f| f.get("message"))
            .and_then(Value::as_str)
            .map(|m| clip(m, 2000));

        let mut measured = Vec::new();
        let mut domains = Vec::new();
        for d in event.inputs.iter().chain(&event.outputs) {
            if let Some(owner) = domain_of(d) {
                if !domains.contains(&owner.name) {
                    domains.push(owner.name.clone());
                }
                // A run that is only starting has measured nothing yet.
                if kind != EventType::Start {
                    measurements(owner.id, d, &mut measured);
                }
            }
        }
        measured.truncate(MAX_MEASUREMENTS);

        let txn = self.db.begin().await?;
        let existing = lineage_run::Entity::find()
            .filter(lineage_run::Column::RunId.eq(&event.run.run_id))
            .one(&txn)
            .await?;
        let now = Utc::now();
        let run = match existing {
            None => {
                let row = lineage_run::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    run_id: Set(event.run.run_id.clone()),
                    job_namespace: Set(clip(&event.job.namespace, 500)),
                    job_name: Set(clip(&event.job.name, 500)),
                    state: Set(kind.as_str().to_string()),
                    producer: Set(clip(&event.producer, 500)),
                    started_at: Set(Some(at)),
                    ended_at: Set(EventType::terminal(kind.as_str()).then_some(at)),
                    error_message: Set(error_message),
                    updated_at: Set(now),
                };
                lineage_run::Entity::insert(row)
                    .exec_with_returning(&txn)
                    .await?
            }
            Some(run) => {
                let mut row: lineage_run::ActiveModel = run.clone().into();
                // A late START or RUNNING never reopens a finished run.
                let finished = EventType::terminal(&run.state);
                match kind {
                    EventType::Complete | EventType::Fail | EventType::Abort => {
                        row.state = Set(kind.as_str().to_string());
                        row.ended_at = Set(Some(at));
                    }
                    EventType::Start | EventType::Running if !finished => {
                        row.state = Set(kind.as_str().to_string());
                    }
                    _ => {}
                }
                if kind == EventType::Start || run.started_at.is_none_or(|s| at < s) {
                    row.started_at = Set(Some(run.started_at.map_or(at, |s| Ord::min(s, at))));
                }
                if error_message.is_some() {
                    row.error_message = Set(error_message);
                }
                row.updated_at = Set(now);
                sea_orm::ActiveModelTrait::update(row, &txn).await?
            }
        };
        let known: Vec<(String, String, String)> = lineage_run_dataset::Entity::find()
            .filter(lineage_run_dataset::Column::LineageRunId.eq(run.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|d| (d.role, d.namespace, d.name))
            .collect();
        let mut rows = Vec::new();
        for (role, list) in [("input", &event.inputs), ("output", &event.outputs)] {
            for d in list {
                let key = (
                    role.to_string(),
                    clip(&d.namespace, 500),
                    clip(&d.name, 500),
                );
                if known.contains(&key)
                    || rows.iter().any(|r: &lineage_run_dataset::ActiveModel| {
                        r.role.as_ref() == &key.0
                            && r.namespace.as_ref() == &key.1
                            && r.name.as_ref() == &key.2
                    })
                {
                    continue;
                }
                rows.push(lineage_run_dataset::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    lineage_run_id: Set(run.id),
                    role: Set(key.0),
                    namespace: Set(key.1),
                    name: Set(key.2),
                    domain_id: Set(domain_of(d).map(|m| m.id)),
                });
            }
        }
        if !rows.is_empty() {
            lineage_run_dataset::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        let count = measured.len();
        if !measured.is_empty() {
            quality_measurement::Entity::insert_many(measured.into_iter().map(|m| {
                quality_measurement::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    domain_id: Set(m.domain_id),
                    indicator: Set(clip(&m.indicator, 200)),
                    value: Set(m.value),
                    passed: Set(m.passed),
                    source: Set("openlineage".into()),
                    run_id: Set(Some(run.run_id.clone())),
                    detail: Set(clip(&m.detail, 1000)),
                    measured_at: Set(at),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        if !domains.is_empty() {
            self.publish_after_change().await;
        }
        Ok(Ingested {
            run_id: run.run_id,
            state: run.state,
            domains,
            measurements: count,
        })
    }

    /// When each domain's data product was last produced (the end of the
    /// newest completed run that wrote one of its datasets), for every
    /// domain at once: one query, whatever the number of domains or runs.
    pub(crate) async fn last_produced_by_domain(
        &self,
    ) -> Result<HashMap<i32, DateTime<Utc>>, CatalogError> {
        let produced = Func::coalesce([
            Expr::col((lineage_run::Entity, lineage_run::Column::EndedAt)),
            Expr::col((lineage_run::Entity, lineage_run::Column::UpdatedAt)),
        ]);
        let rows: Vec<(Option<i32>, Option<DateTime<Utc>>)> = lineage_run_dataset::Entity::find()
            .select_only()
            .column(lineage_run_dataset::Column::DomainId)
            .column_as(Expr::expr(produced).max(), "produced")
            .join(
                JoinType::InnerJoin,
                lineage_run_dataset::Relation::Run.def(),
            )
            .filter(lineage_run_dataset::Column::DomainId.is_not_null())
            .filter(lineage_run_dataset::Column::Role.eq("output"))
            .filter(lineage_run::Column::State.eq("COMPLETE"))
            .group_by(lineage_run_dataset::Column::DomainId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(domain, at)| Some((domain?, at?)))
            .collect())
    }

    /// When a completed run last wrote one of the domain's datasets, and
    /// that run.
    pub async fn last_produced(
        &self,
        domain_id: i32,
    ) -> Result<Option<lineage_run::Model>, CatalogError> {
        let run_ids: Vec<i32> = lineage_run_dataset::Entity::find()
            .select_only()
            .column(lineage_run_dataset::Column::LineageRunId)
            .filter(lineage_run_dataset::Column::DomainId.eq(domain_id))
            .filter(lineage_run_dataset::Column::Role.eq("output"))
            .order_by_desc(lineage_run_dataset::Column::LineageRunId)
            .limit(200)
            .into_tuple()
            .all(&self.db)
            .await?;
        if run_ids.is_empty() {
            return Ok(None);
        }
        Ok(lineage_run::Entity::find()
            .filter(lineage_run::Column::Id.is_in(run_ids))
            .filter(lineage_run::Column::State.eq("COMPLETE"))
            .order_by_desc(lineage_run::Column::EndedAt)
            .one(&self.db)
            .await?)
    }

    /// The datasets one stored run read and wrote.
    pub async fn datasets_of_run(
        &self,
        run: i32,
    ) -> Result<Vec<lineage_run_dataset::Model>, CatalogError> {
        Ok(lineage_run_dataset::Entity::find()
            .filter(lineage_run_dataset::Column::LineageRunId.eq(run))
            .order_by_asc(lineage_run_dataset::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The newest runs that read or wrote the domain's datasets.
    pub async fn runs_of(
        &self,
        domain_id: i32,
        first: u64,
    ) -> Result<Vec<(lineage_run::Model, Vec<lineage_run_dataset::Model>)>, CatalogError> {
        let run_ids: Vec<i32> = lineage_run_dataset::Entity::find()
            .select_only()
            .column(lineage_run_dataset::Column::LineageRunId)
            .distinct()
            .filter(lineage_run_dataset::Column::DomainId.eq(domain_id))
            .order_by_desc(lineage_run_dataset::Column::LineageRunId)
            .limit(first)
            .into_tuple()
            .all(&self.db)
            .await?;
        let runs = lineage_run::Entity::find()
            .filter(lineage_run::Column::Id.is_in(run_ids.clone()))
            .order_by_desc(lineage_run::Column::Id)
            .all(&self.db)
            .await?;
        let mut datasets: HashMap<i32, Vec<lineage_run_dataset::Model>> = HashMap::new();
        for d in lineage_run_dataset::Entity::find()
            .filter(lineage_run_dataset::Column::LineageRunId.is_in(run_ids))
            .order_by_asc(lineage_run_dataset::Column::Id)
            .all(&self.db)
            .await?
        {
            datasets.entry(d.lineage_run_id).or_default().push(d);
        }
        Ok(runs
            .into_iter()
            .map(|r| {
                let ds = datasets.remove(&r.id).unwrap_or_default();
                (r, ds)
            })
            .collect())
    }

    /// The domain's lineage as OpenLineage run events: its reported runs
    /// (latest state), its declared inputs as a job `meshwork/<domain>`
    /// reading them and writing the domain's product, and each consumer
    /// the gateways saw reading it as a job `meshwork.consumers/<client>`.
    pub async fn export_openlineage(
        &self,
        name: &str,
        namespace: &str,
    ) -> Result<Vec<RunEvent>, CatalogError> {
        let d = self
            .get(name)
            .await?
            .ok_or_else(|| CatalogError::DomainNotFound(name.to_string()))?;
        let product = |domain: &str| Dataset {
            namespace: namespace.to_string(),
            name: domain.to_string(),
            facets: Map::new(),
            input_facets: Map::new(),
            output_facets: Map::new(),
        };
        let mut events = Vec::new();
        for (run, datasets) in self.runs_of(d.id, 100).await? {
            let pick = |role: &str| -> Vec<Dataset> {
                datasets
                    .iter()
                    .filter(|x| x.role == role)
                    .map(|x| Dataset {
                        namespace: x.namespace.clone(),
                        name: x.name.clone(),
                        facets: Map::new(),
                        input_facets: Map::new(),
                        output_facets: Map::new(),
                    })
                    .collect()
            };
            let mut facets = Map::new();
            if let Some(message) = &run.error_message {
                facets.insert(
                    "errorMessage".into(),
                    serde_json::json!({
                        "_producer": PRODUCER,
                        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
                        "message": message,
                        "programmingLanguage": "unknown",
                    }),
                );
            }
            events.push(RunEvent {
                event_type: Some(match run.state.as_str() {
                    "START" => EventType::Start,
                    "RUNNING" => EventType::Running,
                    "COMPLETE" => EventType::Complete,
                    "ABORT" => EventType::Abort,
                    "FAIL" => EventType::Fail,
                    _ => EventType::Other,
                }),
                event_time: run.ended_at.unwrap_or(run.updated_at).to_rfc3339(),
                run: Run {
                    run_id: run.run_id.clone(),
                    facets,
                },
                job: Job {
                    namespace: run.job_namespace.clone(),
                    name: run.job_name.clone(),
                    facets: Map::new(),
                },
                inputs: pick("input"),
                outputs: pick("output"),
                producer: PRODUCER.into(),
                schema_url: SCHEMA_URL.into(),
            });
        }
        // Declared lineage.
        let inputs = lineage_input::Entity::find()
            .filter(lineage_input::Column::DomainId.eq(d.id))
            .order_by_asc(lineage_input::Column::Position)
            .all(&self.db)
            .await?;
        let mut outputs = vec![product(&d.name)];
        outputs.extend(datasets_of(&d).into_iter().map(|r| Dataset {
            namespace: r.namespace,
            name: r.name,
            facets: Map::new(),
            input_facets: Map::new(),
            output_facets: Map::new(),
        }));
        events.push(RunEvent {
            event_type: Some(EventType::Complete),
            event_time: d.updated_at.to_rfc3339(),
            run: Run {
                run_id: stable_uuid(&format!("declared:{}:{}", d.name, d.updated_at)),
                facets: Map::new(),
            },
            job: Job {
                namespace: namespace.to_string(),
                name: d.name.clone(),
                facets: documentation(&format!(
                    "The {} data product, as registered in Meshwork (owner team {}).",
                    d.display_name, d.owner_team
                )),
            },
            inputs: inputs
                .iter()
                .map(|i| match i.kind {
                    lineage_input::InputKind::Domain => product(&i.name),
                    lineage_input::InputKind::External => Dataset {
                        namespace: format!("{namespace}.external"),
                        name: i.name.clone(),
                        facets: Map::new(),
                        input_facets: Map::new(),
                        output_facets: Map::new(),
                    },
                })
                .collect(),
            outputs,
            producer: PRODUCER.into(),
            schema_url: SCHEMA_URL.into(),
        });
        // Observed readers: one job per consumer over the last 30 days.
        let since = Utc::now() - chrono::Duration::days(30);
        let mut readers: BTreeMap<String, i64> = BTreeMap::new();
        for u in self.domain_readers(&d, since).await? {
            *readers.entry(u.client).or_default() += u.count;
        }
        for (client, _) in readers {
            let client = if client.is_empty() {
                "anonymous".to_string()
            } else {
                client
            };
            events.push(RunEvent {
                event_type: Some(EventType::Complete),
                event_time: Utc::now().to_rfc3339(),
                run: Run {
                    run_id: stable_uuid(&format!("reader:{}:{}", d.name, client)),
                    facets: Map::new(),
                },
                job: Job {
                    namespace: format!("{namespace}.consumers"),
                    name: client,
                    facets: Map::new(),
                },
                inputs: vec![product(&d.name)],
                outputs: Vec::new(),
                producer: PRODUCER.into(),
                schema_url: SCHEMA_URL.into(),
            });
        }
        Ok(events)
    }
}

fn documentation(text: &str) -> Map<String, Value> {
    let mut facets = Map::new();
    facets.insert(
        "documentation".into(),
        serde_json::json!({
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DocumentationJobFacet.json#/$defs/DocumentationJobFacet",
            "description": text,
        }),
    );
    facets
}

/// A UUID (version 4 layout) derived from `seed`, so an export names the
/// same run the same way every time.
fn stable_uuid(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "eventType": "COMPLETE", "eventTime": "2026-11-30T08:00:00.000Z",
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
        "job": {"namespace": "airflow", "name": "orders.load"},
        "inputs": [], "outputs": [{"namespace": "postgres://db", "name": "sales.orders",
          "facets": {"dataQualityAssertions": {"_producer": "https://example.com", "_schemaURL": "https://openlineage.io/x.json",
            "assertions": [{"assertion": "not_null", "success": false, "column": "total"}]}}}],
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    }"#;

    #[test]
    fn a_valid_event_parses_and_measures_its_assertions() {
        let event = parse_event(GOOD.as_bytes()).expect("valid");
        let mut out = Vec::new();
        measurements(7, &event.outputs[0], &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].indicator, "assertion:not_null:total");
        assert_eq!(out[0].passed, Some(false));
    }

    #[test]
    fn problems_name_their_json_path() {
        let missing = GOOD.replace(
            r#""runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8""#,
            r#""id": 1"#,
        );
        let problems = parse_event(missing.as_bytes()).expect_err("refused");
        assert_eq!(problems[0].field, "$.run");
        assert!(problems[0].reason.contains("runId"), "{:?}", problems);

        let bad = GOOD
            .replace("3f5e83fa-3480-44ff-99c5-ff943904e5e8", "not-a-uuid")
            .replace("2026-11-30T08:00:00.000Z", "yesterday")
            .replace(r#""_producer": "https://example.com", "#, "");
        let fields: Vec<String> = parse_event(bad.as_bytes())
            .expect_err("refused")
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "$.run.runId",
                "$.eventTime",
                "$.outputs[0].facets.dataQualityAssertions._producer"
            ]
        );

        let wrong_type = GOOD.replace(r#""eventType": "COMPLETE""#, r#""eventType": "DONE""#);
        let problems = parse_event(wrong_type.as_bytes()).expect_err("refused");
        assert_eq!(problems[0].field, "$.eventType");
    }

    #[test]
    fn dataset_patterns_match_by_prefix_only_with_a_star() {
        let exact = DatasetRef {
            namespace: "pg".into(),
            name: "sales.orders".into(),
        };
        let prefix = DatasetRef {
            namespace: "pg".into(),
            name: "sales.*".into(),
        };
        assert!(exact.matches("pg", "sales.orders"));
        assert!(!exact.matches("pg", "sales.orders_v2"));
        assert!(!exact.matches("other", "sales.orders"));
        assert!(prefix.matches("pg", "sales.returns"));
        assert!(!prefix.matches("pg", "salesy"));
    }
}
