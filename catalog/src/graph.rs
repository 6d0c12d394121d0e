//! The catalog in the graph: a built-in subgraph named `meshwork` that
//! joins every composition (once a domain is served), so one request to the
//! federated endpoint fetches data and what the catalog knows about it:
//!
//! ```graphql
//! { ordersByDate(date: "2026-11-24") { id total }
//!   meshwork { dataProduct(name: "orders") {
//!     owner freshness { ageSeconds } slos { name status } lineage { upstream { name } } } } }
//! ```
//!
//! Everything hangs under the one root field `meshwork` and every type is
//! named `Meshwork…`, so no domain schema collides with it (the domain name
//! `meshwork` is reserved). Gateways fetch it like a REST domain's derived
//! subgraph (`/rest/meshwork/graphql` behind the control key, or in
//! process), so the gateway's access checks apply to it as to any domain.

use std::sync::OnceLock;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
use entity::domain;

use crate::lineage::Direction;
use crate::Catalog;

/// The built-in subgraph's name in compositions.
pub const BUILTIN: &str = "meshwork";

pub(crate) type CatalogSubgraph = Schema<Root, EmptyMutation, EmptySubscription>;

#[derive(Default)]
pub struct Root;

#[Object(name = "Query")]
impl Root {
    /// Meshwork's catalog: the mesh's data products, how fresh they are,
    /// their SLOs and lineage.
    async fn meshwork(&self) -> MeshworkCatalog {
        MeshworkCatalog
    }
}

pub struct MeshworkCatalog;

fn catalog<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Catalog> {
    ctx.data::<Catalog>()
}

fn failed(e: crate::CatalogError) -> async_graphql::Error {
    async_graphql::Error::new(if e.database_unavailable() {
        "the catalog database is unreachable; retry".to_string()
    } else {
        tracing::warn!(error = %e, "the catalog subgraph could not answer");
        "the catalog could not answer this field".to_string()
    })
}

#[Object(name = "Meshwork")]
impl MeshworkCatalog {
    /// An active domain's data product by name; null when none has it.
    async fn data_product(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Option<DataProduct>> {
        Ok(catalog(ctx)?
            .get(&name)
            .await
            .map_err(failed)?
            .filter(|d| d.status == domain::DomainStatus::Active)
            .map(DataProduct))
    }

    /// Every active domain's data product, by name.
    async fn data_products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DataProduct>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        Ok(domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .order_by_asc(domain::Column::Name)
            .all(&catalog(ctx)?.db)
            .await
            .map_err(|e| failed(e.into()))?
            .into_iter()
            .map(DataProduct)
            .collect())
    }
}

pub struct DataProduct(domain::Model);

/// How current a data product is.
#[derive(SimpleObject)]
#[graphql(name = "MeshworkFreshness")]
pub struct Freshness {
    /// When the last completed run that wrote the product ended (RFC 3339).
    last_produced_at: String,
    age_seconds: i64,
    /// `namespace/name` of that run's job.
    job: String,
}

/// What an SLO measures.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "MeshworkSloKind", remote = "crate::spec::SloKind")]
pub enum SloKind {
    Freshness,
    Availability,
    ErrorRate,
    Quality,
}

/// An SLO's status.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "MeshworkSloStatus", remote = "crate::quality::SloState")]
pub enum SloStatus {
    Ok,
    AtRisk,
    Breached,
    /// Nothing measured yet, or only declared.
    Unknown,
}

#[derive(SimpleObject)]
#[graphql(name = "MeshworkSlo")]
pub struct SloView {
    name: String,
    /// Null when the SLO is only declared.
    kind: Option<SloKind>,
    status: SloStatus,
    value: Option<f64>,
    detail: String,
}

#[derive(SimpleObject)]
#[graphql(name = "MeshworkQuality")]
pub struct QualityView {
    indicator: String,
    value: Option<f64>,
    passed: Option<bool>,
    measured_at: String,
}

#[derive(SimpleObject)]
#[graphql(name = "MeshworkLineageNode")]
pub struct LineageNode {
    /// A domain's name, or an external source's.
    name: String,
    /// `domain` or `external`.
    kind: String,
    /// Steps from the product: 1 for direct inputs or readers.
    depth: i32,
}

#[derive(SimpleObject)]
#[graphql(name = "MeshworkLineage")]
pub struct LineageView {
    /// What the product is computed from (declared), transitively.
    upstream: Vec<LineageNode>,
    /// Domains computed from it (declared), transitively.
    downstream: Vec<LineageNode>,
    /// Consumers the gateways saw reading it in the last 30 days (observed).
    readers: Vec<String>,
}

#[Object(name = "MeshworkDataProduct")]
impl DataProduct {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The owner team.
    async fn owner(&self) -> &str {
        &self.0.owner_team
    }
    async fn contact(&self) -> &str {
        &self.0.contact
    }
    /// The served schema version's number in the domain's history (1 =
    /// the first version pulled).
    async fn schema_version(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let catalog = catalog(ctx)?;
        let Some(served) = catalog
            .served_schema_of(&[self.0.id])
            .await
            .map_err(failed)?
            .remove(&self.0.id)
        else {
            return Ok(None);
        };
        let number = entity::schema_version::Entity::find()
            .filter(entity::schema_version::Column::DomainId.eq(self.0.id))
            .filter(entity::schema_version::Column::Id.lte(served.id))
            .count(&catalog.db)
            .await
            .map_err(|e| failed(e.into()))?;
        Ok(i32::try_from(number).ok())
    }
    /// The served schema's content hash (SHA-256).
    async fn schema_hash(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(catalog(ctx)?
            .served_schema_of(&[self.0.id])
            .await
            .map_err(failed)?
            .remove(&self.0.id)
            .map(|v| v.hash))
    }
    /// Null until a completed OpenLineage run has written the product.
    async fn freshness(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Freshness>> {
        Ok(catalog(ctx)?
            .last_produced(self.0.id)
            .await
            .map_err(failed)?
            .map(|run| {
                let at = run.ended_at.unwrap_or(run.updated_at);
                Freshness {
                    last_produced_at: at.to_rfc3339(),
                    age_seconds: (chrono::Utc::now() - at).num_seconds().max(0),
                    job: format!("{}/{}", run.job_namespace, run.job_name),
                }
            }))
    }
    /// Each SLO with its status now.
    async fn slos(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SloView>> {
        Ok(catalog(ctx)?
            .slo_statuses(&self.0)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|s| SloView {
                kind: s.slo.kind.map(Into::into),
                name: s.slo.name,
                status: s.status.into(),
                value: s.value,
                detail: s.detail,
            })
            .collect())
    }
    /// The latest measurement of each quality indicator.
    async fn quality(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<QualityView>> {
        let all = catalog(ctx)?
            .quality_of(self.0.id, None, 500)
            .await
            .map_err(failed)?;
        let mut seen = std::collections::HashSet::new();
        Ok(all
            .into_iter()
            .filter(|m| seen.insert(m.indicator.clone()))
            .map(|m| QualityView {
                indicator: m.indicator,
                value: m.value,
                passed: m.passed,
                measured_at: m.measured_at.to_rfc3339(),
            })
            .collect())
    }
    /// Declared lineage up to `depth` steps (1 to 10), and observed readers.
    async fn lineage(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 3)] depth: i32,
    ) -> async_graphql::Result<LineageView> {
        let catalog = catalog(ctx)?;
        let depth = depth.clamp(1, 10) as u32;
        let walk = |direction| async move {
            let lineage = catalog
                .lineage(&self.0.name, direction, depth)
                .await
                .map_err(failed)?;
            Ok::<_, async_graphql::Error>(
                lineage
                    .edges
                    .into_iter()
                    .map(|e| {
                        let (name, kind) = match direction {
                            Direction::Upstream => (
                                e.input.name.clone(),
                                match e.input.kind {
                                    entity::lineage_input::InputKind::Domain => "domain",
                                    entity::lineage_input::InputKind::External => "external",
                                },
                            ),
                            Direction::Downstream => (
                                lineage
                                    .domains
                                    .get(&e.input.domain_id)
                                    .map(|d| d.name.clone())
                                    .unwrap_or_default(),
                                "domain",
                            ),
                        };
                        LineageNode {
                            name,
                            kind: kind.to_string(),
                            depth: e.depth as i32,
                        }
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let upstream = walk(Direction::Upstream).await?;
        let downstream = walk(Direction::Downstream).await?;
        let since = chrono::Utc::now() - chrono::Duration::days(30);
        let mut readers: Vec<String> = catalog
            .domain_readers(&self.0, since)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|u| {
                if u.client.is_empty() {
                    "anonymous".to_string()
                } else {
                    u.client
                }
            })
            .collect();
        readers.sort();
        readers.dedup();
        Ok(LineageView {
            upstream,
            downstream,
            readers,
        })
    }
}

impl Catalog {
    pub(crate) fn builtin_subgraph(&self) -> CatalogSubgraph {
        Schema::build(Root, EmptyMutation, EmptySubscription)
            .enable_federation()
            .data(self.clone())
            .limit_depth(16)
            .finish()
    }

    /// The built-in subgraph's SDL (federation), as `_service { sdl }`
    /// gives it.
    pub(crate) async fn builtin_sdl(&self) -> String {
        static SDL: OnceLock<String> = OnceLock::new();
        if let Some(sdl) = SDL.get() {
            return sdl.clone();
        }
        let answer = self
            .builtin_subgraph()
            .execute("{ _service { sdl } }")
            .await
            .data
            .into_json()
            .unwrap_or_default();
        let sdl = answer["_service"]["sdl"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        SDL.get_or_init(|| sdl).clone()
    }

    /// Answers a gateway's fetch of the built-in subgraph.
    pub(crate) async fn answer_builtin(
        &self,
        request: async_graphql::Request,
    ) -> serde_json::Value {
        let response = self.builtin_subgraph().execute(request).await;
        serde_json::to_value(&response).unwrap_or_default()
    }
}
