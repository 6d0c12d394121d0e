//! The discovery API: GraphQL over the catalog (async-graphql), served at
//! `/catalog/graphql` by [`router`].

mod access;
mod alerts;
mod http;
mod loaders;
mod objects;
mod openlineage_http;
mod quality;
mod saved_queries;
mod search;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, MergedObject, Object, Result, Schema,
};

pub use http::{control_router, router, ApiAuth, ACTOR_HEADER, CDN_KEY_HEADER};
use objects::{
    AuditConnection, CompositionView, Domain, DomainConnection, LineageView, PullResult,
};

use crate::audit::AuditFilter;
use crate::lineage::{Direction, MAX_DEPTH};
use crate::search::{DomainFilter, MAX_PAGE};
use crate::spec::{DomainPatch, DomainSpec};
use crate::{Catalog, CatalogError};

pub type CatalogSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Domains, lineage, composition and audit; and access management.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    Query,
    access::AccessQuery,
    alerts::AlertQuery,
    quality::QualityQuery,
    saved_queries::SavedQueryQuery,
    search::SearchQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    Mutation,
    access::AccessMutation,
    alerts::AlertMutation,
    quality::QualityMutation,
    saved_queries::SavedQueryMutation,
);

/// The caller of a request (anonymous, named by the actor header, when the
/// HTTP layer put none in).
fn caller(ctx: &Context<'_>) -> crate::Caller {
    ctx.data_opt::<crate::Caller>()
        .cloned()
        .unwrap_or_else(|| crate::Caller::anonymous(actor(ctx)))
}

/// Who is making a request, as recorded in the audit log.
#[derive(Clone, Debug)]
pub struct Actor(pub String);

/// How long a DataLoader gathers keys before it loads them: long enough
/// that every item of a page registers its key first (1 ms, the default,
/// split a page of 50 into two loads in a debug build), short enough not
/// to be felt.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

fn loader<T: async_graphql::dataloader::Loader<i32>>(inner: T) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn).delay(BATCH_WINDOW)
}

/// Builds the discovery API's schema over `catalog`.
pub fn schema(catalog: Catalog) -> CatalogSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(loader(loaders::Tags(catalog.clone())))
    .data(loader(loaders::Inputs(catalog.clone())))
    .data(loader(loaders::LatestSchema(catalog.clone())))
    .data(loader(loaders::DomainById(catalog.clone())))
    .data(loader(loaders::Health(catalog.clone())))
    .data(loader(loaders::PlanById(catalog.clone())))
    .data(loader(loaders::ApiKeysOf(catalog.clone())))
    .data(catalog)
    .limit_depth(32)
    .limit_complexity(50_000)
    .finish()
}

/// The discovery API's schema as SDL, without a catalog behind it: what
/// typed clients (the CLI's, a consumer's codegen) are generated against.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}

impl ErrorExtensions for CatalogError {
    fn extend(&self) -> async_graphql::Error {
        let message = match self {
            _ if self.database_unavailable() => {
                tracing::warn!(error = %self, "catalog database unreachable");
                "The catalog database is unreachable; nothing was changed. Retry in a few seconds."
                    .to_string()
            }
            // Details of storage failures go to the log, not to callers.
            CatalogError::Database(_)
            | CatalogError::BadDatabaseUrl { .. }
            | CatalogError::Internal(_) => {
                tracing::error!(error = %self, "catalog request failed");
                "internal error in the catalog database".to_string()
            }
            _ => self.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", self.code());
            if let CatalogError::Invalid(problems) = self {
                if let Ok(value) = async_graphql::to_value(problems) {
                    e.set("problems", value);
                }
            }
        })
    }
}

pub(crate) fn fail(e: CatalogError) -> async_graphql::Error {
    e.extend()
}

pub(crate) fn fail_shared(e: Arc<CatalogError>) -> async_graphql::Error {
    e.extend()
}

fn catalog<'a>(ctx: &Context<'a>) -> Result<&'a Catalog> {
    ctx.data::<Catalog>()
}

fn actor(ctx: &Context<'_>) -> String {
    ctx.data_opt::<Actor>()
        .map(|a| a.0.clone())
        .unwrap_or_else(|| "anonymous".to_string())
}

fn page_size(first: Option<i32>) -> Result<u64> {
    match first {
        None => Ok(20),
        Some(n) if n >= 1 && n as u64 <= MAX_PAGE => Ok(n as u64),
        Some(n) => Err(fail(CatalogError::invalid(
            "first",
            crate::ProblemCode::OutOfRange,
            format!("{n} is not between 1 and {MAX_PAGE}"),
        ))),
    }
}

#[derive(Default)]
pub struct Query;

#[Object]
impl Query {
    /// Domains matching the filter, ordered by name.
    async fn domains(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: DomainFilter,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<DomainConnection> {
        let page = catalog(ctx)?
            .search(&filter, page_size(first)?, after.as_deref())
            .await
            .map_err(fail)?;
        Ok(DomainConnection::new(page, filter))
    }

    /// One domain by name, deregistered ones included.
    /// What publishing `document` (SDL, or a REST domain's OpenAPI
    /// document) as domain `domain`'s next version would do: whether it
    /// composes, what changes and how severely, what its compatibility mode
    /// and the governance rules say. Stores nothing.
    async fn check_schema(
        &self,
        ctx: &Context<'_>,
        domain: String,
        document: String,
    ) -> Result<objects::SchemaCheckView> {
        Ok(objects::SchemaCheckView(
            catalog(ctx)?
                .check_schema(&domain, &document)
                .await
                .map_err(fail)?,
        ))
    }

    /// Who used a schema coordinate (`Type.field`, `Type.field.argument`,
    /// `Enum.VALUE`, or `Type` for everything under it) within the last
    /// `seconds` (30 days by default), as the gateways reported: each
    /// client (the consumer, when authenticated) and operation, most used
    /// first.
    async fn field_usage(
        &self,
        ctx: &Context<'_>,
        coordinate: String,
        seconds: Option<i32>,
    ) -> Result<Vec<objects::FieldUse>> {
        let seconds = seconds.unwrap_or(30 * 24 * 3600);
        if seconds <= 0 {
            return Err(fail(CatalogError::invalid(
                "seconds",
                crate::ProblemCode::OutOfRange,
                format!("{seconds} is not a positive number of seconds"),
            )));
        }
        let since = chrono::Utc::now() - chrono::Duration::seconds(i64::from(seconds));
        Ok(catalog(ctx)?
            .uses_of(&coordinate, since)
            .await
            .map_err(fail)?
            .into_iter()
            .map(objects::FieldUse::from)
            .collect())
    }

    /// The mesh's governance rules.
    async fn governance_rules(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<serde_json::Value>> {
        let rules = catalog(ctx)?.governance_rules().await.map_err(fail)?;
        Ok(async_graphql::Json(
            serde_json::to_value(rules).unwrap_or_default(),
        ))
    }

    async fn domain(&self, ctx: &Context<'_>, name: String) -> Result<Option<Domain>> {
        Ok(catalog(ctx)?.get(&name).await.map_err(fail)?.map(Domain))
    }

    /// Domains and external sources feeding a domain (upstream) or fed by it
    /// (downstream), transitively up to `depth` steps.
    async fn lineage(
        &self,
        ctx: &Context<'_>,
        name: String,
        direction: Direction,
        #[graphql(default = 10)] depth: i32,
    ) -> Result<LineageView> {
        if depth < 1 || depth as u32 > MAX_DEPTH {
            return Err(fail(CatalogError::invalid(
                "depth",
                crate::ProblemCode::OutOfRange,
                format!("{depth} is not between 1 and {MAX_DEPTH}"),
            )));
        }
        let lineage = catalog(ctx)?
            .lineage(&name, direction, depth as u32)
            .await
            .map_err(fail)?;
        Ok(LineageView(lineage))
    }

    /// The latest attempt to compose the supergraph, and the served one;
    /// null before any GraphQL domain has a schema.
    async fn composition(&self, ctx: &Context<'_>) -> Result<Option<CompositionView>> {
        let catalog = catalog(ctx)?;
        let Some(latest) = catalog.latest_composition().await.map_err(fail)? else {
            return Ok(None);
        };
        let ready = catalog.served_composition().await.map_err(fail)?;
        let served = catalog.gateway_served_composition().await.map_err(fail)?;
        let gateways = catalog.gateways().await.map_err(fail)?;
        Ok(Some(CompositionView {
            latest,
            ready,
            served,
            gateways,
        }))
    }

    /// Catalog changes, newest first.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: AuditFilter,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditConnection> {
        let page = catalog(ctx)?
            .audit_log(&filter, page_size(first)?, after.as_deref())
            .await
            .map_err(fail)?;
        Ok(AuditConnection(page))
    }
}

#[derive(Default)]
pub struct Mutation;

impl Mutation {
    async fn review(
        &self,
        ctx: &Context<'_>,
        domain: String,
        version_id: i32,
        approve: bool,
    ) -> Result<objects::SchemaVersion> {
        let catalog = catalog(ctx)?;
        let caller = caller(ctx);
        let version = catalog
            .review_schema_version(&caller, &domain, version_id, approve)
            .await
            .map_err(fail)?;
        if approve {
            catalog.recompose(&caller.name).await.map_err(fail)?;
        }
        Ok(objects::SchemaVersion(version, None))
    }
}

#[Object]
impl Mutation {
    /// Registers a domain (or brings back a deregistered one of that name).
    async fn register_domain(&self, ctx: &Context<'_>, spec: DomainSpec) -> Result<Domain> {
        let model = catalog(ctx)?
            .register(&caller(ctx), spec)
            .await
            .map_err(fail)?;
        Ok(Domain(model))
    }

    /// Changes the given fields of an active domain.
    async fn update_domain(
        &self,
        ctx: &Context<'_>,
        name: String,
        patch: DomainPatch,
    ) -> Result<Domain> {
        let model = catalog(ctx)?
            .update(&caller(ctx), &name, patch)
            .await
            .map_err(fail)?;
        Ok(Domain(model))
    }

    /// Pulls a domain's schema now instead of at its next poll.
    async fn refresh_domain(&self, ctx: &Context<'_>, name: String) -> Result<PullResult> {
        let outcome = catalog(ctx)?
            .refresh(&caller(ctx), &name, crate::PullOptions::default().timeout)
            .await
            .map_err(fail)?;
        Ok(outcome.into())
    }

    /// Approves a schema version held under the strict model: it is served
    /// from the recomposition this starts.
    async fn approve_schema_version(
        &self,
        ctx: &Context<'_>,
        domain: String,
        version_id: i32,
    ) -> Result<objects::SchemaVersion> {
        self.review(ctx, domain, version_id, true).await
    }

    /// Rejects a held schema version; the served one stays.
    async fn reject_schema_version(
        &self,
        ctx: &Context<'_>,
        domain: String,
        version_id: i32,
    ) -> Result<objects::SchemaVersion> {
        self.review(ctx, domain, version_id, false).await
    }

    /// Replaces the mesh's governance rules (platform admins): `{naming,
    /// descriptions: ERROR|WARN, provenance: {level, fields}, forbiddenNames:
    /// {level, names}}`, each off unless set. They apply to what versions
    /// published from now on introduce.
    async fn set_governance_rules(
        &self,
        ctx: &Context<'_>,
        rules: async_graphql::Json<serde_json::Value>,
    ) -> Result<async_graphql::Json<serde_json::Value>> {
        let parsed: evolution::Rules = serde_json::from_value(rules.0).map_err(|e| {
            fail(CatalogError::invalid(
                "rules",
                crate::ProblemCode::OutOfRange,
                format!("not governance rules: {e}"),
            ))
        })?;
        let stored = catalog(ctx)?
            .set_governance_rules(&caller(ctx), parsed)
            .await
            .map_err(fail)?;
        Ok(async_graphql::Json(
            serde_json::to_value(stored).unwrap_or_default(),
        ))
    }

    /// Deregisters a domain; it stays visible for audit and lineage history.
    async fn deregister_domain(&self, ctx: &Context<'_>, name: String) -> Result<Domain> {
        let model = catalog(ctx)?
            .deregister(&caller(ctx), &name)
            .await
            .map_err(fail)?;
        Ok(Domain(model))
    }

    /// Drops the gateways' cached answers of a domain (every gateway, at
    /// its next access snapshot): all of them, or only those naming
    /// `typeName` and/or the entity key value `key`. The domain's owner
    /// team (the domain itself, with a credential of that team) or an
    /// admin; the id of the recorded purge.
    async fn purge_domain_cache(
        &self,
        ctx: &Context<'_>,
        domain: String,
        type_name: Option<String>,
        key: Option<String>,
    ) -> Result<i32> {
        Ok(catalog(ctx)?
            .purge_cache(&caller(ctx), &domain, type_name.as_deref(), key.as_deref())
            .await
            .map_err(fail)?
            .id)
    }
}
