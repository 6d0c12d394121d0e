//! Meshwork's catalog: the domain information service of the data mesh.
//!
//! Every domain that joins the mesh is registered here, and every other part
//! of Meshwork reads from here: who owns a domain, where its API and schema
//! live, what feeds its data product (lineage), what it promises (quality
//! indicators, SLOs), every schema version, and an audit log of each change.
//!
//! ```no_run
//! # async fn demo() -> Result<(), catalog::CatalogError> {
//! let catalog = catalog::Catalog::open("meshwork.db").await?;
//! let spec: catalog::DomainSpec = serde_json::from_value(serde_json::json!({
//!     "name": "orders", "ownerTeam": "sales", "contact": "sales@example.com",
//!     "apiUrl": "http://orders.internal/graphql"
//! })).unwrap();
//! catalog.register(&catalog::Caller::anonymous("alice"), spec).await?;
//! # Ok(()) }
//! ```

mod access;
mod alerts;
pub mod api;
mod audit;
mod cache_purge;
mod compose;
mod db;
mod error;
mod fts;
mod gateways;
mod graph;
mod lineage;
mod metrics;
pub mod openlineage;
pub use metrics::register_metrics;
mod pull;
mod quality;
mod rest;
mod saved_queries;
mod schema_doc;
pub mod schema_evolution;
mod search;
mod service;
mod spec;
mod usage;
mod validate;

pub use access::{
    AccessRequestSpec, Caller, ConsumerPatch, ConsumerSpec, CreatedApiKey, FieldPolicySpec,
    GrantSpec, IssuerSpec, PlanSpec,
};
pub use alerts::{signature as alert_signature, AlertWebhookSpec, ALERT_EVENTS};
pub use audit::AuditFilter;
pub use compose::Recomposed;
pub use db::normalize_url;
pub use error::{CatalogError, Problem, ProblemCode};
pub use fts::{SearchHit, SearchKind, SearchResults};
pub use gateways::{GatewayState, LIVE_FOR};
pub use graph::BUILTIN;
pub use lineage::{Direction, Lineage, LineageEdge, MAX_DEPTH};
pub use pull::{PullOptions, PullOutcome, PULLER};
pub use quality::{spawn_quality_tasks, Impact, SloState, SloStatus, Traffic};
pub use rest::{RestServing, REST_KEY_HEADER};
pub use saved_queries::SavedQuerySpec;
pub use search::{DomainFilter, Page, MAX_PAGE};
pub use service::{Catalog, RecordedSchema};
pub use spec::{
    ApiKind, DatasetRef, DomainAccess, DomainPatch, DomainSpec, GovernanceModel, InputKind,
    LineageInputSpec, ProcessingStep, QualityIndicator, Slo, SloKind,
};
pub use usage::{ContractReport, UsageReport, Use};
