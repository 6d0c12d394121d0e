//! `meshwork serve` and `meshwork demo`: process start-up of the control
//! plane (catalog, schema puller, composition) and the gateway, on one
//! address (the gateway's own flags and `meshwork gateway` are in
//! `gateway_cmd.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use catalog::{Catalog, DomainSpec, PullOptions};
use gateway::{ExtraRoutes, GatewayOptions, SupergraphSource};
use meshwork::gateway_cmd::{
    bind, check_cdn_key, contract_reporting, log_filter, metrics_path, otlp_endpoint,
    parse_duration, runtime, GatewayFlags, LogFormat,
};

#[derive(clap::Args)]
pub struct MeshArgs {
    /// `meshwork.db` (an SQLite file, created on first start) or
    /// `postgres://…`. `demo` uses a fresh temporary file unless given.
    #[arg(long, env = "MESHWORK_DATABASE_URL")]
    database: Option<String>,
    /// How often domains' schema endpoints are polled (a domain may set its own).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    schema_poll_interval: Duration,
    /// How often every domain's SLOs are evaluated (freshness, availability,
    /// error rate, quality); each change of status is recorded, and a breach
    /// or recovery alerted.
    #[arg(long, env = "MESHWORK_SLO_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    slo_interval: Duration,
    /// Days of field usage and domain traffic kept (daily and hourly
    /// roll-ups); older rows are deleted once an hour.
    #[arg(long, env = "MESHWORK_USAGE_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    usage_retention_days: u32,
    /// How often this process's gateway checks for a new composition (over
    /// loopback, answered from memory: a new composition is pushed there
    /// when it is stored).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    supergraph_poll_interval: Duration,
    /// Key gateway replicas present to read the supergraph (X-Hive-CDN-Key);
    /// a random one when not set.
    #[arg(long, env = "MESHWORK_CDN_KEY")]
    cdn_key: Option<String>,
    /// A bearer token that acts as platform admin on the catalog API, to
    /// register the first issuers and consumers; none when not set.
    #[arg(long, env = "MESHWORK_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The URL gateways reach this control plane at (REST domains'
    /// subgraphs are served under it), e.g. `http://meshwork:4000`; the
    /// listening address when not set.
    #[arg(long, env = "MESHWORK_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    gateway: GatewayFlags,
}

/// The address this process reaches itself on.
fn loopback(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), local.port())
        }
        _ => local,
    }
}

fn random_key() -> anyhow::Result<String> {
    access::random_hex(24).map_err(|e| anyhow::anyhow!("a key: {e}"))
}

/// `serve` and `demo`: control plane and gateway in one process.
pub fn serve(args: MeshArgs, demo: bool) -> anyhow::Result<()> {
    if let Some(key) = &args.cdn_key {
        check_cdn_key(key)?;
    }
    // The mesh's gateway reads its own control plane and REST domains on
    // its own address over plain HTTP: HTTPS there would cut it off.
    if gateway::scheme(args.gateway.router_config.as_deref()) == "https" {
        bail!(
            "the router config turns on TLS (traffic_shaping.router.tls), which `meshwork serve` does not serve: terminate TLS in front of it, or run `meshwork-gateway` replicas with it"
        );
    }
    let runtime = runtime(2)?;
    let _enter = runtime.enter();
    let subgraph_cache = args.gateway.subgraph_cache()?;
    let (listener, local) = bind(args.gateway.listen)?;
    let demo_dir = if demo && args.database.is_none() {
        Some(tempfile::tempdir().context("creating the demo's database folder")?)
    } else {
        None
    };
    let database = match (&demo_dir, &args.database) {
        (Some(dir), _) => dir
            .path()
            .join("meshwork-demo.db")
            .to_string_lossy()
            .into_owned(),
        (None, Some(url)) => url.clone(),
        (None, None) => "meshwork.db".to_string(),
    };
    let catalog = runtime
        .block_on(Catalog::open(&database))
        .with_context(|| format!("opening the catalog database `{database}`"))?;
    let public_url = match &args.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{}", loopback(local)),
    };
    catalog.serve_rest(catalog::RestServing {
        base: public_url.clone(),
    });
    let demo_domains = if demo {
        runtime.block_on(start_demo(&catalog))?
    } else {
        Vec::new()
    };
    runtime
        .block_on(catalog.recompose("startup"))
        .context("composing the supergraph at start-up")?;
    catalog.spawn_access_refresher(Duration::from_secs(10));
    catalog.spawn_alert_sender();
    catalog::spawn_quality_tasks(
        catalog.clone(),
        args.slo_interval,
        args.usage_retention_days,
    );
    catalog.spawn_puller(PullOptions {
        default_interval: args.schema_poll_interval,
        ..PullOptions::default()
    });
    let key = match args.cdn_key {
        Some(key) => key,
        None => random_key()?,
    };
    let access = args
        .gateway
        .access(gateway::AccessSource::InProcess(catalog.subscribe_access()));
    let rest_key = key.clone();
    let usage_key = key.clone();
    let local_catalog = catalog.clone();
    let metrics_catalog = catalog.clone();
    // The demo always has an admin, so the console's access story works
    // from the browser: a fresh token per run unless one is given.
    let admin_token = match (&args.admin_token, demo) {
        (Some(token), _) => Some(token.clone()),
        (None, true) => Some(format!("demo-admin-{}", random_key()?)),
        (None, false) => None,
    };
    let generated_admin = demo && args.admin_token.is_none();
    let control = catalog::api::control_router(catalog.clone(), key.clone());
    let app = app(catalog, key.clone(), admin_token.clone());
    // The in-process gateway reports usage and contract findings to a
    // loopback listener of the control plane's own runtime, which outlives
    // the gateway's server: the engine's last flush on SIGTERM, sent after
    // its server stopped listening, still arrives (nothing lost).
    let reports = runtime
        .block_on(tokio::net::TcpListener::bind((
            std::net::Ipv4Addr::LOCALHOST,
            0,
        )))
        .context("binding the loopback listener for the gateway's reports")?;
    let reports_addr = reports.local_addr()?;
    // Only the control routes (each behind the control key) listen there.
    runtime.spawn(async move {
        if let Err(e) = axum::serve(reports, control).await {
            tracing::error!(error = %e, "the loopback listener for gateway reports stopped");
        }
    });
    let contracts = contract_reporting(
        format!("http://{reports_addr}{}", access::control::CONTRACTS_PATH),
        key.clone(),
        &args.gateway,
    );
    println!("Meshwork serving on http://{local}");
    println!("  federated GraphQL (and GraphiQL): http://{local}/graphql");
    println!("  catalog discovery API:            http://{local}/catalog/graphql");
    println!("  console:                          http://{local}/");
    println!(
        "  supergraph for gateway replicas:  http://{local}/control/supergraph (X-Hive-CDN-Key)"
    );
    println!("  database: {database}");
    if let (true, Some(token)) = (generated_admin, &admin_token) {
        println!("  console sign-in as platform admin: {token}");
        println!("    (generated for this run; set MESHWORK_ADMIN_TOKEN to choose it)");
    }
    if demo {
        println!("  key for gateway replicas (X-Hive-CDN-Key): {key}");
        println!("  demo domains (real subgraphs on loopback ports):");
        for (name, url) in &demo_domains {
            println!("    {name:<10} {url}");
        }
        println!("\nTry a query joining the REST domain to the GraphQL ones:\n  curl -s http://{local}/graphql -H 'content-type: application/json' \\\n    -d '{{\"query\":\"{{ shipmentsByDate(date: \\\"2026-11-25\\\") {{ id carrier status order {{ id total customer {{ name }} }} }} }}\"}}'");
    }
    gateway::run(GatewayOptions {
        shutdown_drain: args.gateway.shutdown_drain,
        subgraph_cache,
        listener,
        supergraph: SupergraphSource::ControlPlane {
            endpoint: format!("http://{}/control", loopback(local)),
            key,
            poll_interval: args.supergraph_poll_interval,
        },
        rate_limit: args.gateway.rate_limit(),
        access: Some(access),
        redis_url: args.gateway.redis_url.clone(),
        when_redis_fails: args.gateway.when_redis_fails(),
        router_config: args.gateway.router_config,
        extra_routes: ExtraRoutes {
            router: app,
            runtime: runtime.handle().clone(),
        },
        health_requires_supergraph: false,
        log_filter: log_filter(),
        log_json: args.gateway.log_format == LogFormat::Json,
        limits: gateway::OperationLimits::default(),
        jwt_leeway: Duration::from_secs(30),
        contracts,
        metrics_path: metrics_path(&args.gateway.metrics_path),
        otlp_traces: otlp_endpoint(&args.gateway.otlp_endpoint)?,
        on_metrics: Some(Box::new(move || metrics_catalog.register_metrics())),
        usage: (!args.gateway.usage_flush_interval.is_zero()).then(|| gateway::UsageReporting {
            endpoint: format!("http://{reports_addr}{}", access::control::USAGE_PATH),
            token: usage_key,
            flush_interval: args.gateway.usage_flush_interval,
        }),
        rest_subgraphs: Some(gateway::RestSubgraphs {
            url_prefix: format!("{public_url}/rest/"),
            key: rest_key,
        }),
        // MESHWORK_REST_IN_PROCESS=0 sends REST fetches over loopback HTTP
        // like a replica's (for comparison; in-process is the default).
        in_process: (std::env::var("MESHWORK_REST_IN_PROCESS").as_deref() != Ok("0")).then(|| {
            std::sync::Arc::new(LocalRest {
                catalog: local_catalog,
                runtime: runtime.handle().clone(),
            }) as std::sync::Arc<dyn gateway::InProcessSubgraphs>
        }),
    })?;
    drop(demo_dir);
    Ok(())
}

/// REST domains' derived subgraphs answered by the catalog in this process
/// (on the control plane's runtime), so the gateway skips the HTTP hop.
struct LocalRest {
    catalog: Catalog,
    runtime: tokio::runtime::Handle,
}

impl gateway::InProcessSubgraphs for LocalRest {
    fn serves(&self, subgraph: &str) -> bool {
        self.catalog.is_rest_member(subgraph)
    }

    fn answer(
        &self,
        subgraph: &str,
        request: gateway::InProcessRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + Send>> {
        let catalog = self.catalog.clone();
        let name = subgraph.to_string();
        let runtime = self.runtime.clone();
        Box::pin(async move {
            // Served a moment ago: answered right here on the engine's
            // runtime (measured: handing every fetch to the control plane's
            // runtime cost a quarter of the throughput).
            if let Some(answer) = catalog
                .answer_rest_body_hot(&name, &request.headers, &request.body)
                .await
            {
                return serde_json::to_vec(&answer).unwrap_or_default();
            }
            // Else the subgraph is looked up in the database, on the
            // control plane's runtime, where the catalog's connections live.
            let task = runtime.spawn(async move {
                let answer = catalog
                    .answer_rest_body(&name, &request.headers, &request.body)
                    .await;
                serde_json::to_vec(&answer).unwrap_or_default()
            });
            task.await.unwrap_or_else(|e| {
                serde_json::to_vec(&serde_json::json!({ "errors": [{ "message": format!("the REST subgraph stopped: {e}") }] }))
                    .unwrap_or_default()
            })
        })
    }
}

/// Routes beside `/graphql`: catalog API, control plane, readiness.
fn app(catalog: Catalog, key: String, admin_token: Option<String>) -> Router {
    let auth = catalog::api::ApiAuth::new(catalog.clone(), admin_token);
    Router::new()
        .route("/ready", get(ready))
        .with_state(catalog.clone())
        .merge(catalog::api::control_router(catalog.clone(), key))
        .merge(catalog::api::router(catalog::api::schema(catalog), auth))
        .merge(console::router())
}

async fn ready(State(catalog): State<Catalog>) -> impl IntoResponse {
    match catalog.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({ "status": "unavailable", "reason": "catalog database not reachable or not migrated" }),
                ),
            )
        }
    }
}

/// Starts the demo domains and registers them (or points the registered
/// ones at their new ports), then pulls their schemas. Returns each
/// domain's name and API URL.
async fn start_demo(catalog: &Catalog) -> anyhow::Result<Vec<(String, String)>> {
    let customers = domains::serve(domains::demo::customers()).await?;
    let orders = domains::serve(domains::demo::orders()).await?;
    let inventory = domains::serve(domains::demo::inventory()).await?;
    let shipments = domains::serve(domains::shipments::router()).await?;
    let shipments_base = format!("http://{}", shipments.addr);
    let specs = [
        serde_json::json!({
            "name": "customers", "displayName": "Customers",
            "description": "Master data of every customer.",
            "ownerTeam": "crm", "contact": "crm@example.com", "tags": ["master-data", "pii"],
            "model": "strict", "apiUrl": customers.url,
            "inputs": [{ "name": "crm-database", "kind": "external", "description": "Nightly CRM export" }],
            "slos": [{ "name": "availability", "kind": "availability", "target": 99.9, "window": "30d" }],
        }),
        serde_json::json!({
            "name": "inventory", "displayName": "Inventory",
            "description": "Products and their stock.",
            "ownerTeam": "logistics", "contact": "logistics@example.com", "tags": ["stock"],
            "apiUrl": inventory.url,
            "inputs": [{ "name": "warehouse-system", "kind": "external", "description": "Stock levels every 5 minutes" }],
        }),
        serde_json::json!({
            "name": "orders", "displayName": "Orders",
            "description": "Every order, by date.",
            "ownerTeam": "sales", "contact": "sales@example.com", "tags": ["transactions"],
            "apiUrl": orders.url,
            "inputs": [
                { "name": "customers", "description": "Who ordered" },
                { "name": "inventory", "description": "What was ordered" }
            ],
            "datasets": [{ "namespace": DEMO_WAREHOUSE, "name": "sales.public.orders" }],
            "qualityIndicators": [{ "name": "rowCount", "description": "Orders loaded by the last run", "target": 1 }],
            "slos": [
                { "name": "fresh", "kind": "freshness", "maxAge": "26h", "description": "Loaded at least daily" },
                { "name": "available", "kind": "availability", "target": 99.5, "window": "1d" },
                { "name": "loaded", "kind": "quality", "indicator": "rowCount", "target": 1 }
            ],
        }),
        serde_json::json!({
            "name": "shipments", "displayName": "Shipments",
            "description": "Every shipment, by the day it left (a REST API with an OpenAPI document).",
            "ownerTeam": "logistics", "contact": "logistics@example.com", "tags": ["transactions"],
            "kind": "rest", "apiUrl": shipments_base,
            "schemaEndpoint": format!("{shipments_base}/openapi.json"),
            "inputs": [{ "name": "orders", "description": "What was shipped" }],
        }),
    ];
    let mut apis = Vec::new();
    for spec in specs {
        let spec: DomainSpec = serde_json::from_value(spec)?;
        let name = spec.name.clone();
        let api_url = spec.api_url.clone();
        let patch = catalog::DomainPatch {
            api_url: Some(spec.api_url.clone()),
            schema_endpoint: Some(
                spec.schema_endpoint
                    .clone()
                    .unwrap_or_else(|| spec.api_url.clone()),
            ),
            ..Default::default()
        };
        let demo = catalog::Caller::admin("demo");
        match catalog.register(&demo, spec).await {
            Ok(_) => {}
            // Registered by an earlier demo on the same database: new ports.
            Err(catalog::CatalogError::Invalid(problems))
                if problems
                    .iter()
                    .any(|p| p.code == catalog::ProblemCode::DuplicateName) =>
            {
                catalog.update(&demo, &name, patch).await?;
            }
            Err(e) => return Err(e.into()),
        }
        let outcome = catalog.pull_schema(&name, Duration::from_secs(10)).await?;
        if let catalog::PullOutcome::Failed { reason } = outcome {
            bail!("demo domain `{name}`: {reason}");
        }
        apis.push((name, api_url));
    }
    demo_pipeline_run(catalog).await?;
    catalog
        .save_query(
            &catalog::Caller::admin("demo"),
            catalog::SavedQuerySpec {
                name: "orders-by-date".into(),
                owner_team: "sales".into(),
                description: "A day's orders with their customer, for spreadsheets and BI tools.".into(),
                query: "query OrdersByDate($date: String!) { ordersByDate(date: $date) { id total placedOn customer { name } } }".into(),
                variables: Some(async_graphql::Json(serde_json::json!({ "date": "2026-11-24" }))),
                ..Default::default()
            },
        )
        .await?;
    Ok(apis)
}

/// Where the demo's orders pipeline writes (an OpenLineage namespace).
const DEMO_WAREHOUSE: &str = "postgres://sales-db:5432";

/// The demo's nightly orders load, reported as OpenLineage would report
/// it (started ten minutes ago, completed two minutes ago, three rows), so
/// the orders product has a freshness and a measured row count.
async fn demo_pipeline_run(catalog: &Catalog) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let run_id = uuid::Uuid::new_v4().to_string();
    for (kind, at) in [
        ("START", now - chrono::Duration::minutes(10)),
        ("COMPLETE", now - chrono::Duration::minutes(2)),
    ] {
        let event = serde_json::json!({
            "eventType": kind,
            "eventTime": at.to_rfc3339(),
            "run": { "runId": run_id },
            "job": { "namespace": "demo-scheduler", "name": "orders.daily_load" },
            "inputs": [{ "namespace": DEMO_WAREHOUSE, "name": "sales.public.order_lines" }],
            "outputs": [{
                "namespace": DEMO_WAREHOUSE, "name": "sales.public.orders",
                "outputFacets": { "outputStatistics": {
                    "_producer": catalog::openlineage::PRODUCER,
                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
                    "rowCount": 3
                } }
            }],
            "producer": catalog::openlineage::PRODUCER,
            "schemaURL": catalog::openlineage::SCHEMA_URL,
        });
        let event = catalog::openlineage::parse_event(event.to_string().as_bytes())
            .map_err(|p| anyhow::anyhow!("the demo's OpenLineage event: {p:?}"))?;
        catalog
            .ingest_openlineage(&catalog::Caller::admin("demo"), event)
            .await?;
    }
    Ok(())
}
