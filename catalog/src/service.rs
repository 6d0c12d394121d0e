//! Registration, update and deregistration of domains, and schema versions:
//! every write is one transaction together with its audit entry, and every
//! refused input changes nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use entity::schema_version::VersionStatus;
use entity::{domain, domain_tag, lineage_input, schema_version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionTrait,
};

use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::schema_doc;
use crate::spec::{
    ApiKind, DomainAccess, DomainPatch, DomainSpec, GovernanceModel, InputKind, LineageInputSpec,
};
use crate::validate::{self, Problems};
use crate::Caller;

/// The domain information service over one database.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub(crate) db: DatabaseConnection,
    /// Compositions run one at a time so stored attempts follow each other.
    pub(crate) compose_lock: Arc<tokio::sync::Mutex<()>>,
    /// Client for schema endpoints.
    pub(crate) http: reqwest::Client,
    /// The access snapshot gateways enforce, republished on every change.
    pub(crate) access: Arc<tokio::sync::watch::Sender<Arc<access::AccessSnapshot>>>,
    /// A bootstrap admin token is configured (the catalog is secured).
    pub(crate) admin_token_set: Arc<std::sync::atomic::AtomicBool>,
    /// Where gateways reach REST domains' derived subgraphs (the control
    /// plane's public URL).
    pub(crate) rest: Arc<std::sync::RwLock<Option<crate::rest::RestServing>>>,
    /// Served derived subgraphs: domain id → (stamp of version and derivation, subgraph).
    /// Names of the REST domains in the latest composition.
    pub(crate) rest_members: Arc<std::sync::RwLock<std::collections::HashSet<String>>>,
    /// The supergraph gateways poll, kept in memory: set by every successful
    /// composition (pushed), checked against the database at most every
    /// [`crate::compose::SERVED_RECHECK`] (another control plane may have
    /// composed), and served from memory while the database is down.
    pub(crate) served_supergraph: crate::compose::ServedCache,
    /// Domain name → (when looked up, subgraph): the hot path.
    #[allow(clippy::type_complexity)]
    pub(crate) rest_by_name: Arc<
        std::sync::RwLock<
            std::collections::HashMap<String, (std::time::Instant, openapi::serve::Subgraph)>,
        >,
    >,
    #[allow(clippy::type_complexity)]
    pub(crate) rest_subgraphs:
        Arc<tokio::sync::Mutex<std::collections::HashMap<i32, (u64, openapi::serve::Subgraph)>>>,
    /// Schema version id → its number in its domain's history (never
    /// changes once stored), for the access snapshot's product records.
    pub(crate) version_numbers: Arc<std::sync::Mutex<std::collections::HashMap<i32, u32>>>,
}

/// A registration that passed every check, with upstream domains resolved.
struct Checked {
    spec: DomainSpec,
    inputs: Vec<(LineageInputSpec, Option<i32>)>,
    plan_id: Option<i32>,
}

/// Result of storing a schema document for a domain.
#[derive(Clone, Debug)]
pub struct RecordedSchema {
    pub version: schema_version::Model,
    /// False when the document equals the latest stored version.
    pub is_new: bool,
}

impl Catalog {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, CatalogError> {
        let catalog = Self::from_migrated(crate::db::connect(url).await?)?;
        catalog.backfill_search().await?;
        catalog.publish_access().await?;
        Ok(catalog)
    }

    /// Uses an already opened connection, migrating it first.
    pub async fn with_connection(db: DatabaseConnection) -> Result<Self, CatalogError> {
        use migration::MigratorTrait;
        migration::Migrator::up(&db, None).await?;
        let catalog = Self::from_migrated(db)?;
        catalog.backfill_search().await?;
        catalog.publish_access().await?;
        Ok(catalog)
    }

    fn from_migrated(db: DatabaseConnection) -> Result<Self, CatalogError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "meshwork-schema-puller/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| CatalogError::Internal(format!("no HTTP client for schema pulls: {e}")))?;
        Ok(Self {
            db,
            compose_lock: Arc::new(tokio::sync::Mutex::new(())),
            http,
            access: Arc::new(tokio::sync::watch::Sender::new(Arc::default())),
            admin_token_set: Arc::default(),
            rest: Arc::default(),
            rest_subgraphs: Arc::default(),
            rest_by_name: Arc::default(),
            rest_members: Arc::default(),
            served_supergraph: Arc::default(),
            version_numbers: Arc::default(),
        })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Ready means the database answers and carries every migration.
    pub async fn ready(&self) -> Result<(), CatalogError> {
        self.db.ping().await?;
        if crate::db::is_migrated(&self.db).await? {
            Ok(())
        } else {
            Err(CatalogError::Database(sea_orm::DbErr::Custom(
                "migrations pending".into(),
            )))
        }
    }

    pub async fn get(&self, name: &str) -> Result<Option<domain::Model>, CatalogError> {
        Ok(domain::Entity::find()
            .filter(domain::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub(crate) async fn get_active(&self, name: &str) -> Result<domain::Model, CatalogError> {
        match self.get(name).await? {
            None => Err(CatalogError::DomainNotFound(name.to_string())),
            Some(d) if d.status == domain::DomainStatus::Deregistered => {
                Err(CatalogError::DomainDeregistered(name.to_string()))
            }
            Some(d) => Ok(d),
        }
    }

    /// Records that a bootstrap admin token is configured: from then on the
    /// catalog is secured.
    pub fn declare_admin_token(&self) {
        self.admin_token_set
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Secured: an admin token is configured or the catalog trusts
    /// credentials (an issuer or an API key exists). From then on a domain
    /// is changed only by a member of its owner team or a platform admin.
    pub fn secured(&self) -> bool {
        if self
            .admin_token_set
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return true;
        }
        let snapshot = self.access.borrow();
        !snapshot.issuers.is_empty() || !snapshot.api_keys.is_empty()
    }

    /// Whether `caller` may change a domain owned by `owner_team`.
    pub(crate) fn may_change_domain(
        &self,
        caller: &Caller,
        owner_team: &str,
    ) -> Result<(), CatalogError> {
        self.may_change_owned(caller, owner_team, "the domain")
    }

    /// Whether `caller` may change `what`, a record owned by `owner_team`:
    /// anyone until the catalog is secured, then its owner team or a
    /// platform admin.
    pub(crate) fn may_change_owned(
        &self,
        caller: &Caller,
        owner_team: &str,
        what: &str,
    ) -> Result<(), CatalogError> {
        if !self.secured() || caller.admin || caller.teams.iter().any(|t| t == owner_team) {
            return Ok(());
        }
        Err(CatalogError::Forbidden(format!(
            "this catalog is secured: only the owner team `{owner_team}` or a platform admin may change {what}"
        )))
    }

    /// Registers a new domain, or brings back a deregistered one of the same
    /// name (its history stays attached). On a secured catalog the caller
    /// must belong to the new owner team (and to the old one, for a
    /// deregistered domain) or be an admin.
    pub async fn register(
        &self,
        caller: &Caller,
        spec: DomainSpec,
    ) -> Result<domain::Model, CatalogError> {
        let actor = caller.name.as_str();
        self.may_change_domain(caller, spec.owner_team.trim())?;
        let existing = self.get(&spec.name).await?;
        if let Some(d) = &existing {
            self.may_change_domain(caller, &d.owner_team)?;
        }
        if let Some(d) = &existing {
            if d.status == domain::DomainStatus::Active {
                return Err(CatalogError::invalid(
                    "name",
                    ProblemCode::DuplicateName,
                    format!("a domain named `{}` is already registered", d.name),
                ));
            }
        }
        let before = match &existing {
            Some(d) => Some(self.snapshot(d).await?),
            None => None,
        };
        let checked = self.check(spec, existing.as_ref().map(|d| d.id)).await?;
        let action = if existing.is_some() {
            "domain.reregister"
        } else {
            "domain.register"
        };
        let txn = self.db.begin().await?;
        let model = write_domain(&txn, existing, &checked)
            .await
            .map_err(duplicate_name(&checked.spec.name))?;
        AuditEntry::new(actor, action, &model.name)
            .before(before)
            .after(Some(snapshot_of(&checked.spec, model.status)))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        // A domain registered again has its stored schema: it joins the
        // composition now, whatever its next pull finds (the puller only
        // recomposes on a new schema).
        if action == "domain.reregister" {
            self.recompose_after_change(actor).await;
        }
        // A domain plan is part of the access snapshot.
        self.publish_after_change().await;
        Ok(model)
    }

    /// Applies a partial update to an active domain.
    pub async fn update(
        &self,
        caller: &Caller,
        name: &str,
        patch: DomainPatch,
    ) -> Result<domain::Model, CatalogError> {
        let actor = caller.name.as_str();
        let current = self.get_active(name).await?;
        self.may_change_domain(caller, &current.owner_team)?;
        let spec = self.spec_of(&current).await?;
        let before = snapshot_of(&spec, current.status);
        let checked = self.check(apply(patch, spec), Some(current.id)).await?;
        let settings_before = current.rest_settings.clone();
        let endpoint_before = current.schema_endpoint.clone();
        let txn = self.db.begin().await?;
        let model = write_domain(&txn, Some(current), &checked).await?;
        AuditEntry::new(actor, "domain.update", &model.name)
            .before(Some(before))
            .after(Some(snapshot_of(&checked.spec, model.status)))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        // A new schema endpoint, or new derivation settings of a REST
        // domain: pull (and derive) again now; the pull records its own
        // failure on the domain's health.
        if model.schema_endpoint != endpoint_before
            || (model.kind == domain::ApiKind::Rest && model.rest_settings != settings_before)
        {
            if let Err(e) = self
                .pull_schema(&model.name, std::time::Duration::from_secs(10))
                .await
            {
                tracing::warn!(domain = %model.name, error = %e, "pulling after a change of endpoint or settings failed");
            }
        }
        // The subgraph URL, kind or access may have changed, or its plan.
        self.recompose_after_change(actor).await;
        self.publish_after_change().await;
        Ok(model)
    }

    /// Marks a domain deregistered; its row, inputs and schema history stay
    /// for audit and lineage.
    pub async fn deregister(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<domain::Model, CatalogError> {
        let actor = caller.name.as_str();
        let current = self.get_active(name).await?;
        self.may_change_domain(caller, &current.owner_team)?;
        let before = self.snapshot(&current).await?;
        let txn = self.db.begin().await?;
        let mut active: domain::ActiveModel = current.into();
        active.status = Set(domain::DomainStatus::Deregistered);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        crate::fts::reindex(&txn, &model).await?;
        let mut after = before.clone();
        after["status"] = serde_json::json!("deregistered");
        AuditEntry::new(actor, "domain.deregister", &model.name)
            .before(Some(before))
            .after(Some(after))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.recompose_after_change(actor).await;
        self.publish_after_change().await;
        Ok(model)
    }

    /// Stores `document` as the domain's newest schema version unless it is
    /// identical to the latest one; field names become searchable.
    pub async fn record_schema_version(
        &self,
        actor: &str,
        name: &str,
        document: &str,
        source_url: &str,
        derived: Option<String>,
    ) -> Result<RecordedSchema, CatalogError> {
        let current = self.get_active(name).await?;
        let hash = schema_doc::content_hash(document);
        let latest = self
            .latest_schema_of(&[current.id])
            .await?
            .remove(&current.id);
        if let Some(latest) = &latest {
            if latest.hash == hash && (derived.is_none() || latest.derived == derived) {
                return Ok(RecordedSchema {
                    version: latest.clone(),
                    is_new: false,
                });
            }
        }
        // The version's API: a GraphQL domain's document, a REST domain's
        // derived subgraph. Compared with the accepted versions.
        let sdl = match current.kind {
            domain::ApiKind::Graphql => Some(document.to_string()),
            domain::ApiKind::Rest => derived
                .as_deref()
                .and_then(|d| serde_json::from_str::<openapi::Derived>(d).ok())
                .map(|d| d.sdl),
        };
        let assessment = match &sdl {
            Some(sdl) => self.assess(&current, sdl).await?,
            None => crate::schema_evolution::Assessment::default(),
        };
        let held = current.model == domain::GovernanceModel::Strict && assessment.checks.refuses();
        let status = if held {
            VersionStatus::Pending
        } else {
            VersionStatus::Accepted
        };
        let changes_json = serde_json::to_string(&assessment.changes).ok();
        let checks_json = serde_json::to_string(&assessment.checks).ok();
        let spec = self.spec_of(&current).await?;
        let txn = self.db.begin().await?;
        let version = match latest.filter(|l| l.hash == hash) {
            // Same document, derived differently (a REST domain's settings
            // changed): the version gets the new derivation, assessed anew.
            Some(latest) => {
                let mut row: schema_version::ActiveModel = latest.into();
                row.derived = Set(derived);
                row.status = Set(status);
                row.changes = Set(changes_json);
                row.checks = Set(checks_json);
                row.update(&txn).await?
            }
            None => {
                schema_version::ActiveModel {
                    id: NotSet,
                    domain_id: Set(current.id),
                    hash: Set(hash.clone()),
                    document: Set(document.to_string()),
                    source_url: Set(source_url.to_string()),
                    fetched_at: Set(Utc::now()),
                    derived: Set(derived),
                    status: Set(status),
                    changes: Set(changes_json),
                    checks: Set(checks_json),
                    reviewed_by: Set(None),
                    reviewed_at: Set(None),
                }
                .insert(&txn)
                .await?
            }
        };
        // An earlier version still waiting for approval is replaced by this one.
        schema_version::Entity::update_many()
            .col_expr(
                schema_version::Column::Status,
                sea_orm::sea_query::Expr::value(VersionStatus::Superseded),
            )
            .filter(schema_version::Column::DomainId.eq(current.id))
            .filter(schema_version::Column::Status.eq(VersionStatus::Pending))
            .filter(schema_version::Column::Id.ne(version.id))
            .exec(&txn)
            .await?;
        let mut active: domain::ActiveModel = current.clone().into();
        active.search_text = Set(search_text(&spec, &schema_doc::searchable_names(document)));
        let updated = active.update(&txn).await?;
        crate::fts::reindex(&txn, &updated).await?;
        let breaking: Vec<&evolution::Change> = assessment
            .changes
            .iter()
            .filter(|c| c.severity == evolution::Severity::Breaking)
            .collect();
        AuditEntry::new(actor, "schema.version", name)
            .after(Some(serde_json::json!({
                "hash": hash,
                "sourceUrl": source_url,
                "versionId": version.id,
                "status": version.status,
                "breakingChanges": breaking.len(),
            })))
            .insert(&txn)
            .await?;
        if held {
            AuditEntry::new(actor, "schema.held", name)
                .after(Some(serde_json::json!({
                    "versionId": version.id,
                    "checks": assessment.checks,
                })))
                .insert(&txn)
                .await?;
        } else if !breaking.is_empty() {
            AuditEntry::new(actor, "schema.breaking", name)
                .after(Some(serde_json::json!({
                    "versionId": version.id,
                    "changes": breaking,
                })))
                .insert(&txn)
                .await?;
        }
        txn.commit().await?;
        if held {
            tracing::warn!(
                domain = name,
                version = version.id,
                "schema version held for approval (strict model)"
            );
        }
        Ok(RecordedSchema {
            version,
            is_new: true,
        })
    }

    /// Approves (or rejects) a version held for approval: approved, it is
    /// served from the next composition on.
    pub async fn review_schema_version(
        &self,
        caller: &Caller,
        name: &str,
        version_id: i32,
        approve: bool,
    ) -> Result<schema_version::Model, CatalogError> {
        if self.secured() && !caller.admin {
            return Err(CatalogError::Forbidden(format!(
                "reviewing a held schema version needs the platform-admin scope `{}`",
                access::scopes::ADMIN
            )));
        }
        let current = self.get_active(name).await?;
        let version = schema_version::Entity::find_by_id(version_id)
            .filter(schema_version::Column::DomainId.eq(current.id))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "schema version of this domain",
                name: version_id.to_string(),
            })?;
        if version.status != VersionStatus::Pending {
            return Err(CatalogError::invalid(
                "versionId",
                ProblemCode::OutOfRange,
                format!(
                    "version {version_id} of `{name}` is {}, not pending; only a held version is approved or rejected",
                    serde_json::to_value(version.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                ),
            ));
        }
        let txn = self.db.begin().await?;
        let mut row: schema_version::ActiveModel = version.into();
        row.status = Set(if approve {
            VersionStatus::Accepted
        } else {
            VersionStatus::Rejected
        });
        row.reviewed_by = Set(Some(caller.name.clone()));
        row.reviewed_at = Set(Some(Utc::now()));
        let version = row.update(&txn).await?;
        AuditEntry::new(
            &caller.name,
            if approve {
                "schema.approved"
            } else {
                "schema.rejected"
            },
            name,
        )
        .after(Some(serde_json::json!({ "versionId": version_id })))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(version)
    }

    /// Every stored schema version of a domain, newest first.
    pub async fn schema_versions(
        &self,
        domain_id: i32,
    ) -> Result<Vec<schema_version::Model>, CatalogError> {
        Ok(schema_version::Entity::find()
            .filter(schema_version::Column::DomainId.eq(domain_id))
            .order_by_desc(schema_version::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The registration as it stands, in the form a user submits it.
    pub async fn spec_of(&self, d: &domain::Model) -> Result<DomainSpec, CatalogError> {
        let tags = self
            .tags_of(&[d.id])
            .await?
            .remove(&d.id)
            .unwrap_or_default();
        let inputs = self
            .inputs_of(&[d.id])
            .await?
            .remove(&d.id)
            .unwrap_or_default();
        let plan = match d.plan_id {
            Some(id) => entity::plan::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|p| p.name),
            None => None,
        };
        let settings = crate::rest::settings_of(d);
        Ok(DomainSpec {
            name: d.name.clone(),
            display_name: Some(d.display_name.clone()),
            description: d.description.clone(),
            owner_team: d.owner_team.clone(),
            contact: d.contact.clone(),
            tags,
            model: Some(d.model.into()),
            compatibility: Some(crate::schema_evolution::compatibility_of(d).into()),
            kind: Some(d.kind.into()),
            api_url: d.api_url.clone(),
            schema_endpoint: d.schema_endpoint.clone(),
            data_format: Some(d.data_format.clone()),
            inputs: inputs
                .into_iter()
                .map(|i| LineageInputSpec {
                    name: i.name,
                    kind: i.kind.into(),
                    description: i.description,
                })
                .collect(),
            processing_steps: Some(d.processing_steps.clone()),
            quality_indicators: Some(d.quality_indicators.clone()),
            slos: Some(d.slos.clone()),
            datasets: crate::openlineage::datasets_of(d),
            poll_interval_seconds: d.poll_interval_seconds,
            cache_ttl_seconds: d.cache_ttl_seconds,
            access: Some(d.access.into()),
            plan,
            rest_mutations: settings.rest_mutations.then_some(true),
            entities: settings.entities.into_iter().map(Into::into).collect(),
            extends: settings.extends.into_iter().map(Into::into).collect(),
        })
    }

    async fn snapshot(&self, d: &domain::Model) -> Result<serde_json::Value, CatalogError> {
        Ok(snapshot_of(&self.spec_of(d).await?, d.status))
    }

    /// Validates a full registration and resolves its upstream domains.
    /// `own_id` is set when the domain already exists (update, re-register).
    async fn check(&self, spec: DomainSpec, own_id: Option<i32>) -> Result<Checked, CatalogError> {
        let spec = normalize(spec);
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        if spec.name == crate::graph::BUILTIN {
            problems.push(
                "name",
                ProblemCode::DuplicateName,
                "`meshwork` is the catalog's own subgraph in the graph; choose another name",
            );
        }
        if let Some(display) = &spec.display_name {
            validate::required_text(&mut problems, "displayName", display);
        }
        validate::description(&mut problems, "description", &spec.description);
        validate::required_text(&mut problems, "ownerTeam", &spec.owner_team);
        validate::required_text(&mut problems, "contact", &spec.contact);
        validate::tags(&mut problems, &spec.tags);
        validate::http_url(&mut problems, "apiUrl", &spec.api_url);
        match spec.schema_endpoint.as_deref() {
            // The default endpoint is the API URL, already checked above.
            Some(endpoint) if endpoint == spec.api_url => {}
            other => validate::schema_endpoint(
                &mut problems,
                spec.kind.unwrap_or(ApiKind::Graphql),
                other,
            ),
        }
        if let Some(format) = &spec.data_format {
            validate::required_text(&mut problems, "dataFormat", format);
        }
        validate::rest_settings(&mut problems, &spec);
        validate::inputs(&mut problems, &spec.name, &spec.inputs);
        if let Some(v) = &spec.processing_steps {
            validate::processing_steps(&mut problems, v);
        }
        if let Some(v) = &spec.quality_indicators {
            validate::quality_indicators(&mut problems, v);
        }
        if let Some(v) = &spec.slos {
            validate::slos(&mut problems, v);
        }
        validate::datasets(&mut problems, &spec.datasets);
        if let Some(seconds) = spec.poll_interval_seconds {
            if !(5..=86_400).contains(&seconds) {
                problems.push(
                    "pollIntervalSeconds",
                    ProblemCode::OutOfRange,
                    format!("{seconds} is not between 5 and 86400 seconds"),
                );
            }
        }
        if let Some(seconds) = spec.cache_ttl_seconds {
            if !(0..=2_592_000).contains(&seconds) {
                problems.push(
                    "cacheTtlSeconds",
                    ProblemCode::OutOfRange,
                    format!("{seconds} is not between 0 and 2592000 seconds (30 days)"),
                );
            }
        }

        let upstream_names: Vec<&str> = spec
            .inputs
            .iter()
            .filter(|i| i.kind == InputKind::Domain)
            .map(|i| i.name.as_str())
            .collect();
        let upstream: HashMap<String, domain::Model> = if upstream_names.is_empty() {
            HashMap::new()
        } else {
            domain::Entity::find()
                .filter(domain::Column::Name.is_in(upstream_names))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|d| (d.name.clone(), d))
                .collect()
        };
        let downstream_of_self = match own_id {
            Some(id) => self.downstream_paths(id).await?,
            None => HashMap::new(),
        };
        let mut inputs = Vec::with_capacity(spec.inputs.len());
        for (i, input) in spec.inputs.iter().enumerate() {
            let field = format!("inputs[{i}].name");
            if input.kind == InputKind::External {
                inputs.push((input.clone(), None));
                continue;
            }
            match upstream.get(&input.name) {
                None if input.name != spec.name => problems.push(
                    field,
                    ProblemCode::UnknownUpstream,
                    format!("no domain named `{}` is registered", input.name),
                ),
                None => {}
                Some(d) if d.status == domain::DomainStatus::Deregistered => problems.push(
                    field,
                    ProblemCode::UnknownUpstream,
                    format!("domain `{}` is deregistered", input.name),
                ),
                Some(d) => {
                    if let Some(path) = downstream_of_self.get(&d.id) {
                        problems.push(
                            field,
                            ProblemCode::LineageCycle,
                            format!(
                                "`{}` already reads from `{}` ({}); using it as an input would make a cycle",
                                d.name,
                                spec.name,
                                path.join(" -> ")
                            ),
                        );
                    }
                    inputs.push((input.clone(), Some(d.id)));
                }
            }
        }
        let mut plan_id = None;
        if let Some(name) = spec.plan.as_deref() {
            match entity::plan::Entity::find()
                .filter(entity::plan::Column::Name.eq(name))
                .one(&self.db)
                .await?
            {
                Some(p) => plan_id = Some(p.id),
                None => problems.push(
                    "plan",
                    ProblemCode::UnknownReference,
                    format!("no plan named `{name}`"),
                ),
            }
        }
        if problems.0.is_empty() {
            Ok(Checked {
                spec,
                inputs,
                plan_id,
            })
        } else {
            Err(CatalogError::Invalid(problems.0))
        }
    }
}

/// Fills defaults so the stored and audited form is explicit.
fn normalize(mut spec: DomainSpec) -> DomainSpec {
    spec.display_name = Some(spec.display_name.unwrap_or_else(|| spec.name.clone()));
    spec.model = Some(spec.model.unwrap_or(GovernanceModel::Open));
    let kind = spec.kind.unwrap_or(ApiKind::Graphql);
    spec.kind = Some(kind);
    if kind == ApiKind::Graphql && spec.schema_endpoint.is_none() {
        spec.schema_endpoint = Some(spec.api_url.clone());
    }
    spec.data_format = Some(spec.data_format.unwrap_or_else(|| "json".to_string()));
    let empty = || Some(serde_json::json!([]));
    spec.processing_steps = spec.processing_steps.or_else(empty);
    spec.quality_indicators = spec.quality_indicators.or_else(empty);
    spec.slos = spec.slos.or_else(empty);
    spec
}

fn apply(patch: DomainPatch, mut spec: DomainSpec) -> DomainSpec {
    let DomainPatch {
        display_name,
        description,
        owner_team,
        contact,
        tags,
        model,
        compatibility,
        kind,
        api_url,
        schema_endpoint,
        data_format,
        inputs,
        processing_steps,
        quality_indicators,
        slos,
        datasets,
        poll_interval_seconds,
        cache_ttl_seconds,
        access,
        plan,
        rest_mutations,
        entities,
        extends,
    } = patch;
    spec.display_name = display_name.or(spec.display_name);
    spec.description = description.unwrap_or(spec.description);
    spec.owner_team = owner_team.unwrap_or(spec.owner_team);
    spec.contact = contact.unwrap_or(spec.contact);
    spec.tags = tags.unwrap_or(spec.tags);
    spec.model = model.or(spec.model);
    spec.compatibility = compatibility.or(spec.compatibility);
    spec.kind = kind.or(spec.kind);
    // A GraphQL domain's schema endpoint that was its API URL (the default)
    // moves with the API URL, unless the patch sets one.
    let endpoint_was_api = spec.kind != Some(ApiKind::Rest)
        && spec
            .schema_endpoint
            .as_deref()
            .is_none_or(|e| e == spec.api_url);
    spec.api_url = api_url.unwrap_or(spec.api_url);
    spec.schema_endpoint = match schema_endpoint {
        Some(endpoint) => Some(endpoint),
        None if endpoint_was_api && kind.or(spec.kind) != Some(ApiKind::Rest) => {
            Some(spec.api_url.clone())
        }
        None => spec.schema_endpoint,
    };
    spec.data_format = data_format.or(spec.data_format);
    spec.inputs = inputs.unwrap_or(spec.inputs);
    spec.processing_steps = processing_steps.or(spec.processing_steps);
    spec.quality_indicators = quality_indicators.or(spec.quality_indicators);
    spec.slos = slos.or(spec.slos);
    spec.datasets = datasets.unwrap_or(spec.datasets);
    spec.poll_interval_seconds = poll_interval_seconds.or(spec.poll_interval_seconds);
    spec.cache_ttl_seconds = cache_ttl_seconds.or(spec.cache_ttl_seconds);
    spec.access = access.or(spec.access);
    spec.plan = match plan.as_deref() {
        None => spec.plan,
        Some("") => None,
        Some(_) => plan,
    };
    spec.rest_mutations = rest_mutations.or(spec.rest_mutations);
    spec.entities = entities.unwrap_or(spec.entities);
    spec.extends = extends.unwrap_or(spec.extends);
    spec
}

fn snapshot_of(spec: &DomainSpec, status: domain::DomainStatus) -> serde_json::Value {
    let mut value = serde_json::to_value(spec).unwrap_or(serde_json::Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "status".into(),
            serde_json::to_value(status).unwrap_or_default(),
        );
    }
    value
}

pub(crate) fn search_text(spec: &DomainSpec, field_names: &[String]) -> String {
    let mut parts = vec![spec.name.as_str(), spec.description.as_str()];
    if let Some(display) = &spec.display_name {
        parts.push(display);
    }
    parts.extend(spec.tags.iter().map(String::as_str));
    parts.extend(field_names.iter().map(String::as_str));
    parts.join("\n").to_lowercase()
}

fn duplicate_name(name: &str) -> impl FnOnce(CatalogError) -> CatalogError + '_ {
    move |e| match &e {
        CatalogError::Database(db)
            if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            CatalogError::invalid(
                "name",
                ProblemCode::DuplicateName,
                format!("a domain named `{name}` is already registered"),
            )
        }
        _ => e,
    }
}

/// Inserts or rewrites the domain row with its tags and inputs.
async fn write_domain<C: ConnectionTrait>(
    txn: &C,
    existing: Option<domain::Model>,
    checked: &Checked,
) -> Result<domain::Model, CatalogError> {
    let spec = &checked.spec;
    let now = Utc::now();
    let field_names = match &existing {
        Some(d) => latest_document(txn, d.id)
            .await?
            .map(|doc| schema_doc::searchable_names(&doc))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let mut row = domain::ActiveModel {
        id: NotSet,
        name: Set(spec.name.clone()),
        display_name: Set(spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.name.clone())),
        description: Set(spec.description.clone()),
        owner_team: Set(spec.owner_team.clone()),
        contact: Set(spec.contact.clone()),
        model: Set(spec.model.unwrap_or(GovernanceModel::Open).into()),
        compatibility: Set(crate::schema_evolution::compatibility_text(
            spec.compatibility
                .map(Into::into)
                .unwrap_or(evolution::Compatibility::Backward),
        )),
        kind: Set(spec.kind.unwrap_or(ApiKind::Graphql).into()),
        api_url: Set(spec.api_url.clone()),
        schema_endpoint: Set(spec.schema_endpoint.clone()),
        data_format: Set(spec.data_format.clone().unwrap_or_else(|| "json".into())),
        processing_steps: Set(spec.processing_steps.clone().unwrap_or_default()),
        quality_indicators: Set(spec.quality_indicators.clone().unwrap_or_default()),
        slos: Set(spec.slos.clone().unwrap_or_default()),
        datasets: Set((!spec.datasets.is_empty())
            .then(|| serde_json::to_value(&spec.datasets).unwrap_or_default())),
        search_text: Set(search_text(spec, &field_names)),
        status: Set(domain::DomainStatus::Active),
        poll_interval_seconds: Set(spec.poll_interval_seconds),
        cache_ttl_seconds: Set(spec.cache_ttl_seconds),
        access: Set(spec.access.unwrap_or(DomainAccess::Open).into()),
        plan_id: Set(checked.plan_id),
        rest_settings: Set(crate::rest::settings_json(spec)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = match existing {
        Some(d) => {
            row.id = Set(d.id);
            row.created_at = Set(d.created_at);
            domain_tag::Entity::delete_many()
                .filter(domain_tag::Column::DomainId.eq(d.id))
                .exec(txn)
                .await?;
            lineage_input::Entity::delete_many()
                .filter(lineage_input::Column::DomainId.eq(d.id))
                .exec(txn)
                .await?;
            row.update(txn).await?
        }
        None => row.insert(txn).await?,
    };
    if !spec.tags.is_empty() {
        let unique: HashSet<&String> = spec.tags.iter().collect();
        domain_tag::Entity::insert_many(unique.into_iter().map(|tag| domain_tag::ActiveModel {
            domain_id: Set(model.id),
            tag: Set(tag.clone()),
        }))
        .exec(txn)
        .await?;
    }
    if !checked.inputs.is_empty() {
        lineage_input::Entity::insert_many(checked.inputs.iter().enumerate().map(
            |(position, (input, upstream))| lineage_input::ActiveModel {
                id: NotSet,
                domain_id: Set(model.id),
                position: Set(position as i32),
                kind: Set(input.kind.into()),
                name: Set(input.name.clone()),
                upstream_domain_id: Set(*upstream),
                description: Set(input.description.clone()),
            },
        ))
        .exec(txn)
        .await?;
    }
    crate::fts::reindex(txn, &model).await?;
    Ok(model)
}

async fn latest_document<C: ConnectionTrait>(
    db: &C,
    domain_id: i32,
) -> Result<Option<String>, CatalogError> {
    Ok(schema_version::Entity::find()
        .filter(schema_version::Column::DomainId.eq(domain_id))
        .order_by_desc(schema_version::Column::Id)
        .one(db)
        .await?
        .map(|v| v.document))
}
