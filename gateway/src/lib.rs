//! Meshwork's data plane: one federated GraphQL endpoint over every domain.
//!
//! The engine is Hive Router (crate `hive-router`), used as a library: it
//! parses, validates, plans and executes operations against the supergraph,
//! polls for new supergraphs and swaps them atomically. This crate owns how
//! Meshwork starts that engine ([`engine`]), which supergraph it follows
//! ([`SupergraphSource`]), and how the rest of Meshwork's HTTP routes share
//! the gateway's address ([`bridge`]).
//!
//! ```no_run
//! let options = gateway::GatewayOptions {
//!     listener: std::net::TcpListener::bind("127.0.0.1:4000").unwrap(),
//!     supergraph: gateway::SupergraphSource::File {
//!         path: "supergraph.graphql".into(),
//!         poll_interval: None,
//!     },
//!     router_config: None,
//!     extra_routes: gateway::ExtraRoutes {
//!         router: axum::Router::new(),
//!         runtime: tokio::runtime::Runtime::new().unwrap().handle().clone(),
//!     },
//!     health_requires_supergraph: true,
//!     log_filter: "info".into(),
//!     limits: gateway::OperationLimits::default(),
//!     jwt_leeway: std::time::Duration::from_secs(30),
//!     rate_limit: None,
//!     access: None,
//!     redis_url: None,
//!     when_redis_fails: gateway::WhenRedisFails::Open,
//!     rest_subgraphs: None,
//!     usage: None,
//!     contracts: None,
//!     metrics_path: None,
//!     otlp_traces: None,
//!     log_json: false,
//!     on_metrics: None,
//!     in_process: None,
//!     shutdown_drain: std::time::Duration::from_secs(2),
//!     subgraph_cache: None,
//! };
//! gateway::run(options).unwrap();
//! ```

// ntex builds deeply nested middleware types (the engine sets the same limit).
#![recursion_limit = "512"]

mod admission;
mod authn;
pub mod bridge;
mod cache;
mod config;
mod contract;
pub mod engine;
mod engine_plugin;
mod errors;
mod export;
mod in_process;
mod jwt_time;
mod latency;
mod limits;
mod mesh_metrics;
mod rate_limit;
mod redis_limit;
pub mod request_id;
mod route;
mod saved_queries;
mod shared_cache;
mod shutdown;
mod traffic;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

pub use authn::{AccessOptions, AccessSource, CONSUMER_HEADER, SCOPES_HEADER, SUBJECT_HEADER};
pub use bridge::ExtraRoutes;
pub use cache::SubgraphCacheOptions;
pub use config::scheme;
pub use engine::run;
/// The engine's global allocator (mimalloc), for binaries that run the
/// gateway: the engine is tuned with it.
pub use hive_router::RouterGlobalAllocator as GlobalAllocator;
pub use limits::OperationLimits;
pub use rate_limit::RateLimit;
pub use redis_limit::WhenRedisFails;

/// Where the gateway reads its supergraph from.
#[derive(Clone, Debug)]
pub enum SupergraphSource {
    /// A precomposed supergraph file (Apollo's, The Guild's or Meshwork's),
    /// optionally re-read when it changes.
    File {
        path: PathBuf,
        poll_interval: Option<Duration>,
    },
    /// A Meshwork control plane (or any Hive CDN-compatible endpoint):
    /// `GET {endpoint}/supergraph` with `X-Hive-CDN-Key`, polled with ETags.
    ControlPlane {
        endpoint: String,
        key: String,
        poll_interval: Duration,
    },
}

/// How to run one gateway.
pub struct GatewayOptions {
    /// The socket to serve on, bound by the caller (so port 0 works and the
    /// caller knows the address before the engine starts).
    pub listener: TcpListener,
    pub supergraph: SupergraphSource,
    /// A Hive Router configuration file (YAML) for everything Meshwork does
    /// not set itself: limits, headers, traffic shaping, telemetry…
    pub router_config: Option<PathBuf>,
    /// Other Meshwork routes served on the same address (catalog API,
    /// control-plane endpoints); the IDE's assets are always added.
    pub extra_routes: ExtraRoutes,
    /// When true, `/health` answers 200 only once a supergraph is loaded
    /// (what orchestrators and test suites wait for) and `/live` tells that
    /// the process is up. When false, the engine's own `/health` (process
    /// up) and `/readiness` (supergraph loaded) are served.
    pub health_requires_supergraph: bool,
    /// The process's log filter (`info`, `warn,gateway=debug`, … the
    /// `tracing` filter syntax), unless the router config file sets `log`.
    pub log_filter: String,
    /// Logs as JSON lines (each request's with its request id) instead of
    /// text, unless the router config file sets `log.format`.
    pub log_json: bool,
    /// Meshwork's own operation limits (the engine's are set in the router
    /// config, with Meshwork's defaults when absent).
    pub limits: OperationLimits,
    /// Clock skew tolerated when checking a JWT's `nbf` claim (the engine
    /// checks the rest of the token when `jwt` is configured).
    pub jwt_leeway: Duration,
    /// Requests per minute per caller on the GraphQL endpoint; none when
    /// not set.
    pub rate_limit: Option<RateLimit>,
    /// Meshwork's authentication and authorization from the catalog's
    /// access snapshot; none leaves callers to the router config's `jwt`.
    pub access: Option<AccessOptions>,
    /// Count rate limits and quotas in this Redis (`redis://host:6379`),
    /// shared by every gateway using it; in-process when none.
    pub redis_url: Option<String>,
    /// What rate-limit checks do while that Redis cannot be reached.
    pub when_redis_fails: WhenRedisFails,
    /// REST domains' derived subgraphs served by the control plane: fetches
    /// to URLs under the prefix carry the control key.
    pub rest_subgraphs: Option<RestSubgraphs>,
    /// Where the engine's usage agent reports which schema coordinates each
    /// client's operations use (a Meshwork control plane's `/control/usage`).
    pub usage: Option<UsageReporting>,
    /// The runtime contract check of strict domains and where it reports.
    pub contracts: Option<ContractReporting>,
    /// Where Prometheus metrics are served on the gateway's address (the
    /// engine's own series); `None`: no metrics endpoint unless a router
    /// config file sets one.
    pub metrics_path: Option<String>,
    /// Where OpenTelemetry traces go (an OTLP/HTTP endpoint such as
    /// `http://collector:4318/v1/traces`); `None`: no traces.
    pub otlp_traces: Option<String>,
    /// Called once the engine's metrics are set up (its global meter
    /// provider installed): where other parts of the process register their
    /// series for the same `/metrics`.
    pub on_metrics: Option<Box<dyn FnOnce() + Send>>,
    /// Subgraphs answered inside this process (REST domains' derived
    /// subgraphs, when the control plane runs here): no HTTP hop.
    pub in_process: Option<std::sync::Arc<dyn InProcessSubgraphs>>,
    /// On SIGTERM or SIGINT: how long readiness answers 503 and answers
    /// close their connections, while requests are still served, before
    /// the listener stops ([`shutdown`]).
    pub shutdown_drain: Duration,
    /// Keep domains' answers and serve them again (identity-safe; see the
    /// `cache` module); none: every fetch goes to its domain.
    pub subgraph_cache: Option<SubgraphCacheOptions>,
}

/// A GraphQL request body and the headers the engine would send with it.
pub struct InProcessRequest {
    pub headers: Vec<(String, String)>,
    /// `{"query", "variables", "operationName"}` as JSON.
    pub body: Vec<u8>,
}

/// Subgraphs this process answers itself.
pub trait InProcessSubgraphs: Send + Sync {
    /// Whether `subgraph` is answered here (else it is fetched over HTTP).
    fn serves(&self, subgraph: &str) -> bool;
    /// The answer's JSON body. The future must not need the engine's
    /// runtime (spawn it on your own and await the handle).
    fn answer(
        &self,
        subgraph: &str,
        request: InProcessRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + Send>>;
}

/// The engine's usage reporting (Hive Console's usage report format): batched
/// in the engine, off the request path, sent every `flush_interval` and on
/// shutdown.
#[derive(Clone, Debug)]
pub struct UsageReporting {
    /// e.g. `http://127.0.0.1:4000/control/usage`.
    pub endpoint: String,
    /// Sent as the bearer token (the control key).
    pub token: String,
    pub flush_interval: std::time::Duration,
}

/// Reports to the control plane every `interval`: each domain's traffic
/// (fetches, failures, answers with errors) and the runtime contract
/// check's findings (one fetch in `sample_every` to a strict domain is
/// validated against the served schema; 0 turns the check off).
#[derive(Clone, Debug)]
pub struct ContractReporting {
    /// e.g. `http://127.0.0.1:4000/control/contracts`.
    pub endpoint: String,
    /// Sent as the bearer token (the control key).
    pub token: String,
    pub interval: std::time::Duration,
    pub sample_every: u64,
}

/// Where the control plane serves REST domains' derived subgraphs, and the
/// key it wants there (sent only to those URLs, never to other domains).
#[derive(Clone, Debug)]
pub struct RestSubgraphs {
    /// e.g. `http://127.0.0.1:4000/rest/`.
    pub url_prefix: String,
    pub key: String,
}

/// The header carrying that key.
pub const REST_KEY_HEADER: &str = access::control::REST_KEY_HEADER;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("router configuration: {0}")]
    Config(String),
    #[error("starting the gateway: {0}")]
    Start(String),
    #[error("gateway stopped with an error: {0}")]
    Serve(String),
}
