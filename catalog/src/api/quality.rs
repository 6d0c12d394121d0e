//! The discovery API's face of measured data products: freshness, SLO
//! status and history, quality measurements, OpenLineage runs, observed
//! readers (on `Domain`, resolved here) and field impact.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{domain, lineage_run, lineage_run_dataset, quality_measurement, slo_event};

use super::objects::{Domain, FieldUse};
use super::{caller, catalog, fail};
use crate::quality::SloState;
use crate::spec::{Slo, SloKind};
use crate::CatalogError;

/// How current a data product is: the last completed run that wrote it.
#[derive(SimpleObject)]
pub struct Freshness {
    /// When the last completed run writing one of the domain's datasets
    /// ended; null when none has been reported.
    last_produced_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    age_seconds: Option<i64>,
    last_run: Option<LineageRun>,
}

/// An OpenLineage run, in its latest state.
#[derive(SimpleObject)]
pub struct LineageRun {
    run_id: String,
    job_namespace: String,
    job_name: String,
    /// START, RUNNING, COMPLETE, FAIL, ABORT or OTHER.
    state: String,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    error_message: Option<String>,
    inputs: Vec<RunDataset>,
    outputs: Vec<RunDataset>,
}

#[derive(SimpleObject)]
pub struct RunDataset {
    namespace: String,
    name: String,
    /// The domain whose data product the dataset is, if one maps it.
    domain_id: Option<i32>,
}

fn run_view(run: lineage_run::Model, datasets: Vec<lineage_run_dataset::Model>) -> LineageRun {
    let (inputs, outputs): (Vec<_>, Vec<_>) = datasets.into_iter().partition(|d| d.role == "input");
    let view = |d: lineage_run_dataset::Model| RunDataset {
        namespace: d.namespace,
        name: d.name,
        domain_id: d.domain_id,
    };
    LineageRun {
        run_id: run.run_id,
        job_namespace: run.job_namespace,
        job_name: run.job_name,
        state: run.state,
        started_at: run.started_at,
        ended_at: run.ended_at,
        error_message: run.error_message,
        inputs: inputs.into_iter().map(view).collect(),
        outputs: outputs.into_iter().map(view).collect(),
    }
}

/// An SLO and its status now.
#[derive(SimpleObject)]
pub struct SloStatusView {
    name: String,
    kind: Option<SloKind>,
    status: SloState,
    /// Minutes of age (freshness), percent (availability, error rate) or
    /// the indicator's value (quality).
    value: Option<f64>,
    detail: String,
    slo: Slo,
}

/// A change of an SLO's status.
#[derive(SimpleObject)]
pub struct SloEvent {
    slo: String,
    status: SloState,
    value: Option<f64>,
    detail: String,
    at: DateTime<Utc>,
}

impl From<slo_event::Model> for SloEvent {
    fn from(e: slo_event::Model) -> Self {
        Self {
            slo: e.slo,
            status: match e.status.as_str() {
                "ok" => SloState::Ok,
                "at_risk" => SloState::AtRisk,
                "breached" => SloState::Breached,
                _ => SloState::Unknown,
            },
            value: e.value,
            detail: e.detail,
            at: e.at,
        }
    }
}

/// One measured value of a quality indicator, or an assertion's outcome.
#[derive(SimpleObject)]
pub struct QualityMeasurement {
    indicator: String,
    value: Option<f64>,
    passed: Option<bool>,
    /// `openlineage` or `api`.
    source: String,
    run_id: Option<String>,
    detail: String,
    measured_at: DateTime<Utc>,
}

impl From<quality_measurement::Model> for QualityMeasurement {
    fn from(m: quality_measurement::Model) -> Self {
        Self {
            indicator: m.indicator,
            value: m.value,
            passed: m.passed,
            source: m.source,
            run_id: m.run_id,
            detail: m.detail,
            measured_at: m.measured_at,
        }
    }
}

/// What removing a field would break.
pub struct ImpactView(crate::quality::Impact);

#[Object(name = "Impact")]
impl ImpactView {
    async fn coordinate(&self) -> &str {
        &self.0.coordinate
    }
    /// The domains resolving the field.
    async fn served_by(&self) -> Vec<Domain> {
        self.0.served_by.iter().cloned().map(Domain).collect()
    }
    /// Consumers and operations that read it within the window.
    async fn consumers(&self) -> Vec<FieldUse> {
        self.0.uses.iter().cloned().map(FieldUse::from).collect()
    }
    /// Domains downstream of its servers (declared lineage, transitively).
    async fn downstream(&self) -> Vec<Domain> {
        self.0.downstream.iter().cloned().map(Domain).collect()
    }
}

fn bounded(first: Option<i32>, default: u64) -> Result<u64> {
    match first {
        None => Ok(default),
        Some(n) if (1..=500).contains(&n) => Ok(n as u64),
        Some(n) => Err(fail(CatalogError::invalid(
            "first",
            crate::ProblemCode::OutOfRange,
            format!("{n} is not between 1 and 500"),
        ))),
    }
}

fn since(seconds: Option<i32>) -> Result<DateTime<Utc>> {
    let seconds = seconds.unwrap_or(30 * 24 * 3600);
    if seconds <= 0 {
        return Err(fail(CatalogError::invalid(
            "seconds",
            crate::ProblemCode::OutOfRange,
            format!("{seconds} is not a positive number of seconds"),
        )));
    }
    Ok(Utc::now() - chrono::Duration::seconds(i64::from(seconds)))
}

pub(super) async fn freshness(ctx: &Context<'_>, d: &domain::Model) -> Result<Freshness> {
    let catalog = catalog(ctx)?;
    let Some(run) = catalog.last_produced(d.id).await.map_err(fail)? else {
        return Ok(Freshness {
            last_produced_at: None,
            age_seconds: None,
            last_run: None,
        });
    };
    let at = run.ended_at.unwrap_or(run.updated_at);
    let datasets = catalog.datasets_of_run(run.id).await;
    Ok(Freshness {
        last_produced_at: Some(at),
        age_seconds: Some((Utc::now() - at).num_seconds().max(0)),
        last_run: Some(run_view(run, datasets.map_err(fail)?)),
    })
}

pub(super) async fn slo_status(ctx: &Context<'_>, d: &domain::Model) -> Result<Vec<SloStatusView>> {
    Ok(catalog(ctx)?
        .slo_statuses(d)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| SloStatusView {
            name: s.slo.name.clone(),
            kind: s.slo.kind,
            status: s.status,
            value: s.value,
            detail: s.detail,
            slo: s.slo,
        })
        .collect())
}

pub(super) async fn slo_history(
    ctx: &Context<'_>,
    d: &domain::Model,
    slo: Option<String>,
    first: Option<i32>,
) -> Result<Vec<SloEvent>> {
    Ok(catalog(ctx)?
        .slo_history(d.id, slo.as_deref(), bounded(first, 50)?)
        .await
        .map_err(fail)?
        .into_iter()
        .map(SloEvent::from)
        .collect())
}

pub(super) async fn quality(
    ctx: &Context<'_>,
    d: &domain::Model,
    indicator: Option<String>,
    first: Option<i32>,
) -> Result<Vec<QualityMeasurement>> {
    Ok(catalog(ctx)?
        .quality_of(d.id, indicator.as_deref(), bounded(first, 50)?)
        .await
        .map_err(fail)?
        .into_iter()
        .map(QualityMeasurement::from)
        .collect())
}

pub(super) async fn runs(
    ctx: &Context<'_>,
    d: &domain::Model,
    first: Option<i32>,
) -> Result<Vec<LineageRun>> {
    Ok(catalog(ctx)?
        .runs_of(d.id, bounded(first, 20)?)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(r, ds)| run_view(r, ds))
        .collect())
}

pub(super) async fn readers(
    ctx: &Context<'_>,
    d: &domain::Model,
    seconds: Option<i32>,
) -> Result<Vec<FieldUse>> {
    Ok(catalog(ctx)?
        .domain_readers(d, since(seconds)?)
        .await
        .map_err(fail)?
        .into_iter()
        .map(FieldUse::from)
        .collect())
}

#[derive(Default)]
pub struct QualityQuery;

#[Object]
impl QualityQuery {
    /// What removing a field (`Type.field`) would break: the domains
    /// serving it, the consumers and operations that read it within the
    /// last `seconds` (30 days by default), and the domains downstream.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        coordinate: String,
        seconds: Option<i32>,
    ) -> Result<ImpactView> {
        Ok(ImpactView(
            catalog(ctx)?
                .impact_of(coordinate.trim(), since(seconds)?)
                .await
                .map_err(fail)?,
        ))
    }
}

#[derive(Default)]
pub struct QualityMutation;

#[Object]
impl QualityMutation {
    /// Records a measured value of one of the domain's quality indicators
    /// (or, with `passed`, an assertion's outcome); the owner team or an
    /// admin on a secured catalog.
    async fn report_quality(
        &self,
        ctx: &Context<'_>,
        domain: String,
        indicator: String,
        value: Option<f64>,
        passed: Option<bool>,
        #[graphql(default)] detail: String,
    ) -> Result<QualityMeasurement> {
        Ok(catalog(ctx)?
            .report_quality(&caller(ctx), &domain, &indicator, value, passed, &detail)
            .await
            .map_err(fail)?
            .into())
    }
}
