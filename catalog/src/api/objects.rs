//! Output types of the discovery API, wrapping catalog models; nested fields
//! go through the DataLoaders.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{audit_log, composition, domain, domain_health, lineage_input, schema_version};

use super::loaders;
use super::{catalog, fail, fail_shared};
use crate::lineage::{Direction, Lineage};
use crate::search::{DomainFilter, Page};
use crate::spec::{ApiKind, GovernanceModel, InputKind, ProcessingStep, QualityIndicator, Slo};
use crate::CatalogError;

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::domain::DomainStatus")]
pub enum DomainStatus {
    Active,
    Deregistered,
}

pub struct Domain(pub domain::Model);

fn structured<T: serde::de::DeserializeOwned>(
    d: &domain::Model,
    what: &'static str,
    value: &serde_json::Value,
) -> Result<Vec<T>> {
    serde_json::from_value(value.clone()).map_err(|e| {
        fail(CatalogError::Corrupt {
            domain: d.name.clone(),
            what,
            reason: e.to_string(),
        })
    })
}

/// A domain of the mesh and its data product.
#[Object]
impl Domain {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn owner_team(&self) -> &str {
        &self.0.owner_team
    }
    async fn contact(&self) -> &str {
        &self.0.contact
    }
    async fn model(&self) -> GovernanceModel {
        self.0.model.into()
    }
    async fn kind(&self) -> ApiKind {
        self.0.kind.into()
    }
    async fn api_url(&self) -> &str {
        &self.0.api_url
    }
    async fn schema_endpoint(&self) -> Option<&str> {
        self.0.schema_endpoint.as_deref()
    }
    async fn data_format(&self) -> &str {
        &self.0.data_format
    }
    async fn status(&self) -> DomainStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn processing_steps(&self) -> Result<Vec<ProcessingStep>> {
        structured(&self.0, "processing steps", &self.0.processing_steps)
    }
    async fn quality_indicators(&self) -> Result<Vec<QualityIndicator>> {
        structured(&self.0, "quality indicators", &self.0.quality_indicators)
    }
    async fn slos(&self) -> Result<Vec<Slo>> {
        structured(&self.0, "SLOs", &self.0.slos)
    }

    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let loader = ctx.data::<DataLoader<loaders::Tags>>()?;
        Ok(loader
            .load_one(self.0.id)
            .await
            .map_err(fail_shared)?
            .unwrap_or_default())
    }

    /// The inputs of this domain's data product, in registered order.
    async fn inputs(&self, ctx: &Context<'_>) -> Result<Vec<LineageInput>> {
        let loader = ctx.data::<DataLoader<loaders::Inputs>>()?;
        Ok(loader
            .load_one(self.0.id)
            .await
            .map_err(fail_shared)?
            .unwrap_or_default()
            .into_iter()
            .map(LineageInput)
            .collect())
    }

    /// Seconds between schema pulls, when the domain overrides the default.
    async fn poll_interval_seconds(&self) -> Option<i32> {
        self.0.poll_interval_seconds
    }

    /// How long gateways keep its answers when it sends no `Cache-Control`
    /// (none: each gateway's default).
    async fn cache_ttl_seconds(&self) -> Option<i32> {
        self.0.cache_ttl_seconds
    }

    /// The plan limiting each consumer's requests to this domain.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(id) = self.0.plan_id else {
            return Ok(None);
        };
        let plans =
            ctx.data::<async_graphql::dataloader::DataLoader<super::loaders::PlanById>>()?;
        Ok(plans
            .load_one(id)
            .await
            .map_err(super::fail_shared)?
            .map(|p| p.name))
    }

    /// `OPEN` or `RESTRICTED` (reading needs a grant).
    async fn access(&self) -> crate::spec::DomainAccess {
        self.0.access.into()
    }

    /// Problems of the latest composition attempt that lie in this domain
    /// (its own schema, or a conflict with another domain's, which then
    /// lists it too); empty when the latest attempt composed.
    async fn composition_problems(&self, ctx: &Context<'_>) -> Result<Vec<CompositionProblem>> {
        let catalog = ctx.data::<crate::Catalog>()?;
        let Some(latest) = catalog.latest_composition().await.map_err(fail)? else {
            return Ok(Vec::new());
        };
        if latest.status != composition::CompositionStatus::Failed {
            return Ok(Vec::new());
        }
        let name = self.0.name.as_str();
        Ok(stored_list::<CompositionProblem>(&latest.errors)?
            .into_iter()
            .filter(|p| {
                p.domain.as_deref() == Some(name) || p.locations.iter().any(|l| l.domain == name)
            })
            .collect())
    }

    /// How the schema endpoint answered lately; null before the first pull.
    async fn health(&self, ctx: &Context<'_>) -> Result<Option<DomainHealth>> {
        let loader = ctx.data::<DataLoader<loaders::Health>>()?;
        Ok(loader
            .load_one(self.0.id)
            .await
            .map_err(fail_shared)?
            .map(DomainHealth))
    }

    async fn latest_schema_version(&self, ctx: &Context<'_>) -> Result<Option<SchemaVersion>> {
        let loader = ctx.data::<DataLoader<loaders::LatestSchema>>()?;
        Ok(loader
            .load_one(self.0.id)
            .await
            .map_err(fail_shared)?
            .map(|v| SchemaVersion(v, None)))
    }

    /// Every distinct schema version, newest first.
    async fn schema_versions(&self, ctx: &Context<'_>) -> Result<Vec<SchemaVersion>> {
        self.schema_history(ctx).await
    }

    /// The domain's schema history, newest first: each version with its
    /// number, status (served or held), and what changed from the accepted
    /// version before it.
    async fn schema_history(&self, ctx: &Context<'_>) -> Result<Vec<SchemaVersion>> {
        let versions = catalog(ctx)?
            .schema_versions(self.0.id)
            .await
            .map_err(fail)?;
        let count = versions.len() as i32;
        Ok(versions
            .into_iter()
            .enumerate()
            .map(|(i, v)| SchemaVersion(v, Some(count - i as i32)))
            .collect())
    }

    /// The version composition serves: the newest accepted one.
    async fn served_schema_version(&self, ctx: &Context<'_>) -> Result<Option<SchemaVersion>> {
        Ok(catalog(ctx)?
            .served_schema_of(&[self.0.id])
            .await
            .map_err(fail)?
            .remove(&self.0.id)
            .map(|v| SchemaVersion(v, None)))
    }

    /// Drift: the schema the domain's API publishes is not the one the
    /// mesh serves (its newest version is held for approval, or was
    /// rejected); null when they agree.
    async fn schema_drift(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        drift_of(ctx, self.0.id).await
    }

    /// What a new schema version must keep.
    async fn compatibility(&self) -> crate::spec::Compatibility {
        crate::schema_evolution::compatibility_of(&self.0).into()
    }

    /// The gateways' runtime contract check of this strict domain's answers
    /// (a sample, checked against the served schema); null before any.
    /// OpenLineage datasets this domain's data product is.
    async fn datasets(&self) -> Vec<crate::spec::DatasetRef> {
        crate::openlineage::datasets_of(&self.0)
    }

    /// How current the data product is (the last completed OpenLineage
    /// run that wrote one of its datasets).
    async fn freshness(&self, ctx: &Context<'_>) -> Result<super::quality::Freshness> {
        super::quality::freshness(ctx, &self.0).await
    }

    /// Each SLO with its status now (`OK`, `AT_RISK`, `BREACHED`,
    /// `UNKNOWN` when nothing is measured yet).
    async fn slo_status(&self, ctx: &Context<'_>) -> Result<Vec<super::quality::SloStatusView>> {
        super::quality::slo_status(ctx, &self.0).await
    }

    /// The SLOs' status changes, newest first.
    async fn slo_history(
        &self,
        ctx: &Context<'_>,
        slo: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<super::quality::SloEvent>> {
        super::quality::slo_history(ctx, &self.0, slo, first).await
    }

    /// Quality measurements, newest first (of one indicator when given).
    async fn quality(
        &self,
        ctx: &Context<'_>,
        indicator: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<super::quality::QualityMeasurement>> {
        super::quality::quality(ctx, &self.0, indicator, first).await
    }

    /// OpenLineage runs that read or wrote the domain's datasets, newest first.
    async fn runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<Vec<super::quality::LineageRun>> {
        super::quality::runs(ctx, &self.0, first).await
    }

    /// Observed lineage: the consumers and operations the gateways saw
    /// reading this domain's fields within the last `seconds` (30 days by
    /// default), per field, most used first.
    async fn readers(&self, ctx: &Context<'_>, seconds: Option<i32>) -> Result<Vec<FieldUse>> {
        super::quality::readers(ctx, &self.0, seconds).await
    }

    async fn contract_check(&self, ctx: &Context<'_>) -> Result<Option<ContractCheck>> {
        Ok(catalog(ctx)?
            .contract_check_of(&self.0.name)
            .await
            .map_err(fail)?
            .map(|c| ContractCheck {
                sampled: c.sampled,
                violations: c.violations,
                last_violation: c.last_violation,
                last_violation_at: c.last_violation_at,
            }))
    }
}

/// The drift of domain `id`: its newest version held or rejected.
async fn drift_of(ctx: &Context<'_>, id: i32) -> Result<Option<String>> {
    let loader = ctx.data::<DataLoader<loaders::LatestSchema>>()?;
    let Some(latest) = loader.load_one(id).await.map_err(fail_shared)? else {
        return Ok(None);
    };
    let what = match latest.status {
        schema_version::VersionStatus::Pending => "is held for approval",
        schema_version::VersionStatus::Rejected => "was rejected",
        _ => return Ok(None),
    };
    let served = catalog(ctx)?
        .served_schema_of(&[id])
        .await
        .map_err(fail)?
        .remove(&id)
        .map(|v| format!("version id {}", v.id))
        .unwrap_or_else(|| "no version".to_string());
    Ok(Some(format!(
        "the API publishes schema version id {} which {what}; the mesh serves {served}",
        latest.id
    )))
}

pub struct LineageInput(lineage_input::Model);

/// One input of a data product.
#[Object]
impl LineageInput {
    async fn kind(&self) -> InputKind {
        self.0.kind.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The upstream domain, for inputs of kind DOMAIN.
    async fn domain(&self, ctx: &Context<'_>) -> Result<Option<Domain>> {
        let Some(id) = self.0.upstream_domain_id else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<loaders::DomainById>>()?;
        Ok(loader.load_one(id).await.map_err(fail_shared)?.map(Domain))
    }
}

pub struct SchemaVersion(pub schema_version::Model, pub Option<i32>);

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::schema_version::VersionStatus")]
pub enum VersionStatus {
    /// Served (or the newest accepted one is).
    Accepted,
    /// Held for an admin's approval (strict model); not served.
    Pending,
    Rejected,
    /// Held, then replaced by a newer version before anyone reviewed it.
    Superseded,
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "evolution::Severity")]
pub enum ChangeSeverity {
    /// Operations valid before stop working.
    Breaking,
    /// Operations keep working but may see what they did not expect.
    Dangerous,
    Safe,
}

/// One change from the previous accepted version.
#[derive(SimpleObject)]
pub struct SchemaChange {
    severity: ChangeSeverity,
    /// e.g. `FIELD_REMOVED`, `REQUIRED_ARG_ADDED`, `ENUM_VALUE_ADDED`.
    kind: String,
    /// `Type`, `Type.field`, `Type.field.argument` or `Enum.VALUE`.
    path: String,
    message: String,
}

impl From<evolution::Change> for SchemaChange {
    fn from(c: evolution::Change) -> Self {
        Self {
            severity: c.severity.into(),
            kind: c.kind,
            path: c.path,
            message: c.message,
        }
    }
}

/// A breaking change the domain's compatibility mode refuses.
#[derive(SimpleObject)]
pub struct CompatibilityViolation {
    /// The earlier version it breaks.
    against_version_id: i32,
    /// `BACKWARD`: consumers of that version would break on this one;
    /// `FORWARD`: consumers of this one would break on that one.
    direction: String,
    change: SchemaChange,
    /// No consumer used what it breaks within the usage window (it does not
    /// hold a strict domain's version).
    safe_by_usage: bool,
}

/// What the runtime contract check found in a strict domain's answers.
#[derive(SimpleObject)]
pub struct ContractCheck {
    /// Sampled answers checked.
    sampled: i64,
    /// Values that broke the served schema (wrong type, unknown enum value,
    /// null in a non-null field).
    violations: i64,
    last_violation: Option<String>,
    last_violation_at: Option<DateTime<Utc>>,
}

/// A consumer's operation that used a schema coordinate.
#[derive(SimpleObject)]
pub struct FieldUse {
    coordinate: String,
    /// The consumer (or the client's declared name); empty when unknown.
    client: String,
    operation: String,
    count: i64,
    last_seen: DateTime<Utc>,
}

impl From<crate::usage::Use> for FieldUse {
    fn from(u: crate::usage::Use) -> Self {
        Self {
            coordinate: u.coordinate,
            client: u.client,
            operation: u.operation,
            count: u.count,
            last_seen: u.last_seen,
        }
    }
}

/// A breaking change and the uses it would break.
#[derive(SimpleObject)]
pub struct AffectedChange {
    path: String,
    /// Usage was recorded over the whole window and nobody used it.
    safe_by_usage: bool,
    uses: Vec<FieldUse>,
}

pub(crate) fn affected(checks: &crate::schema_evolution::Checks) -> Vec<AffectedChange> {
    checks
        .usage
        .iter()
        .flat_map(|u| u.affected.iter())
        .map(|a| AffectedChange {
            path: a.path.clone(),
            safe_by_usage: a.safe_by_usage,
            uses: a.uses.iter().cloned().map(FieldUse::from).collect(),
        })
        .collect()
}

/// A governance rule a version's changes break.
#[derive(SimpleObject)]
pub struct RuleViolation {
    rule: String,
    /// `ERROR` (holds a strict domain's version) or `WARN`.
    level: String,
    path: String,
    message: String,
}

fn text_of<T: serde::Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub(crate) fn violations(checks: &crate::schema_evolution::Checks) -> Vec<CompatibilityViolation> {
    checks
        .compatibility
        .iter()
        .map(|v| CompatibilityViolation {
            against_version_id: v.against_version_id,
            direction: text_of(v.violation.direction),
            change: v.violation.change.clone().into(),
            safe_by_usage: v.safe_by_usage,
        })
        .collect()
}

pub(crate) fn rule_violations(checks: &crate::schema_evolution::Checks) -> Vec<RuleViolation> {
    checks
        .rules
        .iter()
        .map(|r| RuleViolation {
            rule: r.rule.clone(),
            level: text_of(r.level),
            path: r.path.clone(),
            message: r.message.clone(),
        })
        .collect()
}

/// One distinct version of a domain's schema.
#[Object]
impl SchemaVersion {
    async fn id(&self) -> i32 {
        self.0.id
    }
    /// Its number in the domain's history (1 = the first), where listed.
    async fn version(&self) -> Option<i32> {
        self.1
    }
    async fn status(&self) -> VersionStatus {
        self.0.status.into()
    }
    /// What changed from the accepted version before it.
    async fn changes(&self) -> Vec<SchemaChange> {
        crate::schema_evolution::changes_of(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Breaking changes its domain's compatibility mode refuses.
    async fn compatibility_violations(&self) -> Vec<CompatibilityViolation> {
        violations(&crate::schema_evolution::checks_of(&self.0))
    }
    /// Governance rules its changes break.
    async fn rule_violations(&self) -> Vec<RuleViolation> {
        rule_violations(&crate::schema_evolution::checks_of(&self.0))
    }
    /// Each breaking change with the consumers and operations that used
    /// what it breaks (within the usage window, when it was checked).
    async fn affected(&self) -> Vec<AffectedChange> {
        affected(&crate::schema_evolution::checks_of(&self.0))
    }
    /// Why it could not be compared with earlier versions, if it could not.
    async fn check_error(&self) -> Option<String> {
        crate::schema_evolution::checks_of(&self.0).error
    }
    /// Who approved or rejected it, when it was held.
    async fn reviewed_by(&self) -> Option<&str> {
        self.0.reviewed_by.as_deref()
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// SHA-256 of the document, hex.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// The SDL, or the OpenAPI document of a REST domain.
    async fn document(&self) -> &str {
        &self.0.document
    }
    async fn source_url(&self) -> &str {
        &self.0.source_url
    }
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
    /// REST domains: the federation subgraph (SDL) derived from the
    /// OpenAPI document, which the mesh composes.
    async fn derived_sdl(&self) -> Option<String> {
        crate::rest::derived_of(&self.0).map(|d| d.sdl)
    }
    /// REST domains: every choice the derivation had to make (renames,
    /// operations left out, values served as JSON).
    async fn warnings(&self) -> Vec<String> {
        crate::rest::derived_of(&self.0)
            .map(|d| d.warnings)
            .unwrap_or_default()
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

/// A page of domains.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DomainConnection {
    nodes: Vec<Domain>,
    page_info: PageInfo,
    #[graphql(skip)]
    filter: DomainFilter,
}

impl DomainConnection {
    pub fn new(page: Page<domain::Model>, filter: DomainFilter) -> Self {
        Self {
            nodes: page.items.into_iter().map(Domain).collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                end_cursor: page.end_cursor,
            },
            filter,
        }
    }
}

#[ComplexObject]
impl DomainConnection {
    /// Domains matching the filter on all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        catalog(ctx)?.count(&self.filter).await.map_err(fail)
    }
}

pub struct LineageView(pub Lineage);

/// A node of the lineage graph: a domain or an external source.
pub struct LineageNode {
    kind: InputKind,
    name: String,
    domain: Option<domain::Model>,
}

#[Object]
impl LineageNode {
    async fn kind(&self) -> InputKind {
        self.kind
    }
    async fn name(&self) -> &str {
        &self.name
    }
    async fn domain(&self) -> Option<Domain> {
        self.domain.clone().map(Domain)
    }
}

/// `upstream` feeds `downstream`.
#[derive(SimpleObject)]
pub struct LineageEdge {
    /// Steps from the root domain; 1 for direct neighbours.
    depth: u32,
    upstream: LineageNode,
    downstream: LineageNode,
    description: String,
}

#[Object]
impl LineageView {
    async fn root(&self) -> Domain {
        Domain(self.0.root.clone())
    }
    async fn direction(&self) -> Direction {
        self.0.direction
    }
    /// Relations found, nearest first.
    async fn edges(&self) -> Vec<LineageEdge> {
        let lineage = &self.0;
        let domain_node = |id: i32| LineageNode {
            kind: InputKind::Domain,
            name: lineage
                .domains
                .get(&id)
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            domain: lineage.domains.get(&id).cloned(),
        };
        lineage
            .edges
            .iter()
            .map(|e| LineageEdge {
                depth: e.depth,
                upstream: match e.input.upstream_domain_id {
                    Some(id) => domain_node(id),
                    None => LineageNode {
                        kind: e.input.kind.into(),
                        name: e.input.name.clone(),
                        domain: None,
                    },
                },
                downstream: domain_node(e.input.domain_id),
                description: e.input.description.clone(),
            })
            .collect()
    }
}

pub struct AuditConnection(pub Page<audit_log::Model>);

pub struct AuditEntry(audit_log::Model);

/// One recorded change of the catalog.
#[Object]
impl AuditEntry {
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn target(&self) -> &str {
        &self.0.target
    }
    async fn before(&self) -> Option<&serde_json::Value> {
        self.0.before.as_ref()
    }
    async fn after(&self) -> Option<&serde_json::Value> {
        self.0.after.as_ref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A page of audit entries.
#[Object]
impl AuditConnection {
    async fn nodes(&self) -> Vec<AuditEntry> {
        self.0.items.iter().cloned().map(AuditEntry).collect()
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.0.has_next_page,
            end_cursor: self.0.end_cursor.clone(),
        }
    }
}

pub struct DomainHealth(domain_health::Model);

/// The schema endpoint's recent answers.
#[Object]
impl DomainHealth {
    async fn last_attempt_at(&self) -> DateTime<Utc> {
        self.0.last_attempt_at
    }
    async fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_success_at
    }
    /// Why the last pull failed; null when it succeeded.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// The schema the domain's API publishes is not the one the mesh
    /// serves (held for approval, or rejected); null when they agree.
    async fn schema_drift(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        drift_of(ctx, self.0.domain_id).await
    }
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::composition::CompositionStatus")]
pub enum CompositionStatus {
    Success,
    Failed,
}

/// One domain's part in a composition.
#[derive(SimpleObject, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositionMember {
    domain: String,
    /// Null for the catalog's own built-in subgraph (`meshwork`).
    schema_version_id: Option<i32>,
    hash: Option<String>,
    url: String,
    /// The catalog's own subgraph (the data products under `meshwork`).
    #[serde(default)]
    builtin: bool,
}

/// One reason a composition failed.
#[derive(SimpleObject, serde::Deserialize)]
pub struct CompositionProblem {
    /// The domain it comes from, when it can be told.
    domain: Option<String>,
    message: String,
    /// The line of the domain's schema it is at, when known.
    #[serde(default)]
    line: Option<i32>,
    /// The rule broken (Apollo Federation's error code where it has one).
    #[serde(default)]
    code: Option<String>,
    /// Each domain a problem between several domains lies in, with the line.
    #[serde(default)]
    locations: Vec<ProblemLocation>,
}

/// A domain and the line of its schema a composition problem is at.
#[derive(SimpleObject, serde::Deserialize)]
pub struct ProblemLocation {
    domain: String,
    #[serde(default)]
    line: Option<i32>,
}

/// Something a composition accepted that a domain team should know
/// (Apollo Federation's composition hints).
#[derive(SimpleObject, serde::Deserialize)]
pub struct CompositionWarning {
    /// Apollo Federation's hint code, e.g. `INCONSISTENT_ARGUMENT_PRESENCE`.
    code: String,
    /// `Type`, `Type.field`, `Type.field(arg:)` or `Enum.VALUE`.
    coordinate: String,
    domains: Vec<String>,
    message: String,
}

pub struct CompositionView {
    pub latest: composition::Model,
    /// The latest success: what gateways load next.
    pub ready: Option<composition::Model>,
    /// What the gateways report serving.
    pub served: Option<composition::Model>,
    pub gateways: Vec<crate::GatewayState>,
}

/// A gateway as it reports itself (the control plane's own, or a replica).
#[derive(SimpleObject)]
pub struct GatewayInstance {
    /// Random per gateway process.
    instance: String,
    /// `in-process` (this control plane's own gateway) or `replica`.
    role: String,
    address: String,
    /// The composition version it serves (null: none loaded yet, or one
    /// this catalog does not know).
    served_version: Option<i32>,
    served_hash: Option<String>,
    /// Since when it serves that version.
    served_since: Option<DateTime<Utc>>,
    last_seen_at: DateTime<Utc>,
    /// Heard from within the last minute.
    live: bool,
}

fn stored_list<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<Vec<T>> {
    serde_json::from_value(value.clone())
        .map_err(|e| async_graphql::Error::new(format!("stored composition is unreadable: {e}")))
}

/// The latest attempt to compose the supergraph, and the one being served.
#[Object]
impl CompositionView {
    async fn status(&self) -> CompositionStatus {
        self.latest.status.into()
    }
    /// Number of the latest attempt.
    async fn version(&self) -> i32 {
        self.latest.id
    }
    async fn hash(&self) -> Option<&str> {
        self.latest.hash.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.latest.created_at
    }
    async fn errors(&self) -> Result<Vec<CompositionProblem>> {
        stored_list(&self.latest.errors)
    }
    /// Hints of the latest attempt: it composed, but these deserve a look.
    async fn warnings(&self) -> Result<Vec<CompositionWarning>> {
        stored_list(&self.latest.warnings)
    }
    async fn members(&self) -> Result<Vec<CompositionMember>> {
        stored_list(&self.latest.members)
    }
    /// The version the gateways report serving: the control plane's own
    /// gateway's, else the oldest a live replica serves. Null until a
    /// gateway has loaded one (it never names a version no gateway serves).
    async fn served_version(&self) -> Option<i32> {
        self.served.as_ref().map(|c| c.id)
    }
    async fn served_hash(&self) -> Option<&str> {
        self.served.as_ref().and_then(|c| c.hash.as_deref())
    }
    /// The latest successful composition: what gateways load next (equal
    /// to `servedVersion` once they have).
    async fn ready_version(&self) -> Option<i32> {
        self.ready.as_ref().map(|c| c.id)
    }
    async fn ready_hash(&self) -> Option<&str> {
        self.ready.as_ref().and_then(|c| c.hash.as_deref())
    }
    /// The supergraph SDL of the ready version.
    async fn supergraph(&self) -> Option<&str> {
        self.ready.as_ref().and_then(|c| c.supergraph.as_deref())
    }
    /// Each gateway heard from within a day and what it serves.
    async fn gateways(&self) -> Vec<GatewayInstance> {
        self.gateways
            .iter()
            .map(|s| GatewayInstance {
                instance: s.gateway.instance.clone(),
                role: s.gateway.role.clone(),
                address: s.gateway.address.clone(),
                served_version: s.served_version,
                served_hash: s.gateway.served_hash.clone(),
                served_since: s.gateway.served_since,
                last_seen_at: s.gateway.last_seen_at,
                live: s.live,
            })
            .collect()
    }
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// A new distinct schema version was stored.
    NewVersion,
    /// The endpoint answered the schema already stored.
    Unchanged,
    /// The endpoint failed; the last good schema stays.
    Failed,
}

/// What one forced schema pull did.
#[derive(SimpleObject)]
pub struct PullResult {
    pub status: PullStatus,
    pub hash: Option<String>,
    pub reason: Option<String>,
}

impl From<crate::PullOutcome> for PullResult {
    fn from(outcome: crate::PullOutcome) -> Self {
        match outcome {
            crate::PullOutcome::NewVersion { hash } => Self {
                status: PullStatus::NewVersion,
                hash: Some(hash),
                reason: None,
            },
            crate::PullOutcome::Unchanged { hash } => Self {
                status: PullStatus::Unchanged,
                hash: Some(hash),
                reason: None,
            },
            crate::PullOutcome::Failed { reason } => Self {
                status: PullStatus::Failed,
                hash: None,
                reason: Some(reason),
            },
        }
    }
}

/// What publishing a candidate schema would do (`meshwork schema check`).
pub struct SchemaCheckView(pub crate::schema_evolution::SchemaCheck);

#[Object]
impl SchemaCheckView {
    async fn domain(&self) -> &str {
        &self.0.domain.name
    }
    /// Whether it would be served: it composes with the current graph and,
    /// for a strict domain, passes its compatibility mode and every
    /// error-level rule.
    async fn accepted(&self) -> bool {
        self.0.accepted()
    }
    async fn model(&self) -> GovernanceModel {
        self.0.domain.model.into()
    }
    async fn compatibility(&self) -> crate::spec::Compatibility {
        crate::schema_evolution::compatibility_of(&self.0.domain).into()
    }
    async fn composes(&self) -> bool {
        self.0.composes()
    }
    async fn composition_errors(&self) -> Result<Vec<CompositionProblem>> {
        let value = serde_json::to_value(&self.0.composition_errors)
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        stored_list(&value)
    }
    async fn changes(&self) -> Vec<SchemaChange> {
        self.0
            .assessment
            .changes
            .iter()
            .cloned()
            .map(Into::into)
            .collect()
    }
    async fn compatibility_violations(&self) -> Vec<CompatibilityViolation> {
        violations(&self.0.assessment.checks)
    }
    async fn rule_violations(&self) -> Vec<RuleViolation> {
        rule_violations(&self.0.assessment.checks)
    }
    /// Each breaking change with the consumers and operations that used
    /// what it breaks within the usage window.
    async fn affected(&self) -> Vec<AffectedChange> {
        affected(&self.0.assessment.checks)
    }
    /// Whether usage was recorded over the whole window (else no breaking
    /// change is taken as unused).
    async fn usage_complete(&self) -> bool {
        self.0
            .assessment
            .checks
            .usage
            .as_ref()
            .is_some_and(|u| u.complete)
    }
    /// Why it could not be checked (it does not parse or derive).
    async fn error(&self) -> Option<String> {
        self.0.assessment.checks.error.clone()
    }
    /// REST domains: the derivation's choices.
    async fn derivation_warnings(&self) -> Vec<String> {
        self.0.derivation_warnings.clone()
    }
}
