//! The one module that starts the Hive Router engine. Its API moves fast:
//! an upgrade of `hive-router` should only ever touch this file.
//!
//! The server mirrors `hive_router::router_entrypoint`, with three
//! differences: the configuration comes from [`GatewayOptions`], the
//! browser page on `/graphql` is Meshwork's bundled GraphiQL, and paths the
//! engine does not own are served by the [`crate::bridge`].

use std::sync::Arc;

use hive_router::background_tasks::BackgroundTasksManager;
use hive_router::ntex::web;
use hive_router::ntex::SharedCfg;
use hive_router::pipeline::long_lived_client_limit::LongLivedClientLimitService;
use hive_router::pipeline::request_identifiers::RequestIdentifiersService;
use hive_router::pipeline::request_summary::RequestSummaryService;
use hive_router::pipeline::response_compression::ResponseCompressionService;
use hive_router::plugins::plugins_service::PluginService;
use hive_router::telemetry::Telemetry;
use hive_router::{configure_app_from_config, configure_ntex_app, PluginRegistry, RouterPaths};

use crate::limits::{Counted, IntrospectionDepth, SelectionLimit};
use crate::{config, AccessSource, GatewayError, GatewayOptions};

/// Runs the gateway until it is stopped (Ctrl-C or SIGTERM). Blocks the
/// calling thread, which becomes the engine's runtime.
pub fn run(options: GatewayOptions) -> Result<(), GatewayError> {
    hive_router::init_rustls_crypto_provider();
    hive_router::ntex::rt::System::build()
        .name("meshwork-gateway")
        .build(hive_router::ntex::rt::DefaultRuntime)
        .block_on(serve(options))
}

async fn serve(mut options: GatewayOptions) -> Result<(), GatewayError> {
    // This engine's plugin state (see `engine_plugin::Instance`).
    let reports = options
        .contracts
        .as_ref()
        .map(|_| Arc::new(crate::contract::Reports::default()));
    // The subgraph cache, with its Redis tier when one is set.
    let cache = match options.subgraph_cache.clone() {
        Some(cache_options) => {
            let shared = match cache_options.shared_redis_url.clone() {
                Some(url) => Some(
                    options
                        .extra_routes
                        .runtime
                        .spawn(async move { crate::shared_cache::SharedTier::connect(&url).await })
                        .await
                        .map_err(|e| GatewayError::Start(e.to_string()))?
                        .map_err(GatewayError::Start)?,
                ),
                None => None,
            };
            Some(Arc::new(crate::cache::SubgraphCache::new(
                cache_options,
                shared,
            )))
        }
        None => None,
    };
    let instance = Arc::new(crate::engine_plugin::Instance::new(
        options.rest_subgraphs.clone(),
        options
            .contracts
            .as_ref()
            .map(|c| c.sample_every)
            .filter(|every| *every > 0),
        reports.clone(),
        options.in_process.clone(),
        options.access.is_some(),
        cache,
    ));
    let plugin_instance = instance.register();
    if let (Some(contracts), Some(reports)) = (&options.contracts, reports) {
        let address = options
            .listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        crate::contract::start_reporter(
            reports,
            contracts.clone(),
            address,
            options.in_process.is_some(),
        );
    }
    // Meshwork's own authentication: the engine trusts only the tokens it
    // mints, through a JWKS file readable by this process alone.
    let access_options = options.access.take();
    let jwks_dir = match &access_options {
        Some(_) => Some(
            tempfile::Builder::new()
                .prefix("meshwork-gateway-")
                .tempdir()
                .map_err(|e| GatewayError::Start(format!("a folder for the internal JWKS: {e}")))?,
        ),
        None => None,
    };
    let mut internal = None;
    if let (Some(dir), Some(access)) = (&jwks_dir, access_options) {
        let keys = crate::authn::InternalKeys::generate().map_err(GatewayError::Start)?;
        let path = dir.path().join("internal-jwks.json");
        std::fs::write(&path, &keys.jwks)
            .map_err(|e| GatewayError::Start(format!("writing {}: {e}", path.display())))?;
        internal = Some((path, keys, access));
    }
    let internal_jwks = internal
        .as_ref()
        .map(|(path, _, access)| (path.as_path(), access));
    // The router config (the file read once), and the latency histograms
    // Meshwork records itself with it.
    let engine_config = config::router_config(&options, internal_jwks, plugin_instance)?;
    let records_latency = engine_config.own_latency;
    // The telemetry's configuration, metrics exporters included.
    let telemetry_config = engine_config.parse()?.into_static();
    // The application's, without them: with metrics on, the engine keeps a
    // clone of its shared state for its cache-size gauges, and Meshwork
    // could no longer install its validation rules and IDE page in it. The
    // request, subgraph and supergraph series come from the telemetry set
    // up above; only those cache-size gauges are not exported.
    let mut app_config = engine_config.parse()?;
    app_config.telemetry.metrics.exporters.clear();
    let router_config = app_config.into_static();
    let telemetry =
        Telemetry::init_global(telemetry_config).map_err(|e| GatewayError::Start(e.to_string()))?;
    // The engine's per-request instruments a configuration turns off cost
    // nothing (`latency::engine_metrics`).
    let mut app_telemetry = telemetry.context.clone();
    app_telemetry.metrics = Arc::new(crate::latency::engine_metrics(
        telemetry.context.meter(),
        &telemetry_config
            .telemetry
            .metrics
            .instrumentation
            .instruments,
    ));
    // The rest of the process (the catalog's spans) reads W3C trace
    // context with the global propagator; the engine keeps its own.
    if options.otlp_traces.is_some() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
    }
    if let Some(ready) = options.on_metrics.take() {
        ready();
    }
    let prometheus = telemetry.prometheus.as_ref().and_then(|p| p.to_attached());
    // With Meshwork's default metrics, the two latency histograms are
    // Meshwork's (`crate::latency`).
    let latency = match (&prometheus, records_latency) {
        (Some(prometheus), Some(own)) => {
            let buckets = crate::latency::seconds_buckets(
                &telemetry_config
                    .telemetry
                    .metrics
                    .instrumentation
                    .common
                    .histogram,
            )
            .map_err(GatewayError::Config)?;
            let latency =
                crate::latency::Latency::register(&prometheus.registry, buckets, own.fetches)
                    .map_err(|e| GatewayError::Start(format!("the latency histograms: {e}")))?;
            if own.fetches {
                let _ = instance.latency.set(latency.clone());
            }
            Some(latency)
        }
        _ => None,
    };
    let mut tasks = BackgroundTasksManager::new();
    let (mut shared_state, schema_state) = configure_app_from_config(
        router_config,
        app_telemetry,
        &mut tasks,
        PluginRegistry::new().register::<crate::engine_plugin::MeshworkPlugin>(),
    )
    .await
    .map_err(|e| GatewayError::Start(e.to_string()))?;
    // Taken by the plugin when the configuration enables it; else dropped.
    crate::engine_plugin::Instance::forget(plugin_instance);
    // Nothing else holds the shared state before the server starts; if the
    // engine ever shares it earlier, refuse to start without the limits.
    let state = Arc::get_mut(&mut shared_state).ok_or_else(|| {
        GatewayError::Start(
            "the engine's shared state is already in use; cannot install Meshwork's limits".into(),
        )
    })?;
    state.laboratory_html = ide::page("Mesh", router_config.graphql_path())
        .into_bytes()
        .into();
    let plan = Arc::get_mut(&mut state.validation_plan).ok_or_else(|| {
        GatewayError::Start("the engine's validation plan is already in use".into())
    })?;
    for (counted, max) in [
        (Counted::RootFields, options.limits.max_root_fields),
        (
            Counted::ExpandedSelections,
            options.limits.max_expanded_selections,
        ),
    ] {
        plan.add_rule(Box::new(SelectionLimit { counted, max }));
    }
    plan.add_rule(Box::new(IntrospectionDepth { max: 3 }));

    // GraphQL over WebSocket and HTTP-callback subscriptions are routes of
    // their own that Meshwork's admission (credentials, limits, plans) does
    // not cover: a router config that turns them on stops the start rather
    // than have them served unchecked, or silently not at all.
    if router_config.websocket_path().is_some() {
        return Err(GatewayError::Config(
            "the router config turns on GraphQL over WebSocket (`websocket.enabled`), which Meshwork's gateway does not serve; remove it (subscriptions are served over HTTP on the GraphQL path)".into(),
        ));
    }
    if router_config.callback_conf().is_some() {
        return Err(GatewayError::Config(
            "the router config turns on HTTP-callback subscriptions (`subscriptions.callback`), which Meshwork's gateway does not serve; remove it (subscriptions are served over HTTP on the GraphQL path)".into(),
        ));
    }
    let mut paths = RouterPaths::new(router_config.graphql_path().to_string(), None, None);
    if options.health_requires_supergraph {
        paths.readiness = "/health".to_string();
        paths.health = "/live".to_string();
    }
    paths
        .detect_conflicts(&prometheus)
        .map_err(|e| GatewayError::Config(e.to_string()))?;
    let graphql_path = router_config.graphql_path().to_string();
    let long_lived = LongLivedClientLimitService::new(router_config);
    let compression = ResponseCompressionService::new(router_config);
    let extra = crate::ExtraRoutes {
        router: options.extra_routes.router.clone().merge(ide::router()),
        runtime: options.extra_routes.runtime.clone(),
    };
    let listener = options.listener;
    let redis = match &options.redis_url {
        Some(url) => {
            let url = url.clone();
            let when_failing = options.when_redis_fails;
            let connected = options
                .extra_routes
                .runtime
                .spawn(async move {
                    crate::redis_limit::RedisLimiter::connect(&url, when_failing).await
                })
                .await
                .map_err(|e| GatewayError::Start(e.to_string()))?
                .map_err(GatewayError::Start)?;
            Some(connected)
        }
        None => None,
    };
    let rate_limiter = crate::rate_limit::RateLimiter::new(
        options.rate_limit,
        redis,
        router_config.graphql_path(),
    );
    let authn = match internal {
        Some((_, keys, access)) => {
            let initial = match &access.source {
                AccessSource::InProcess(rx) => rx.borrow().clone(),
                AccessSource::File(path) => {
                    Arc::new(crate::authn::read_file(path).map_err(GatewayError::Config)?)
                }
                AccessSource::ControlPlane { .. } => Arc::default(),
            };
            let live = match &access.source {
                AccessSource::InProcess(rx) => Some(rx.clone()),
                _ => None,
            };
            let shared = crate::authn::Shared::new(
                keys,
                access.allow_anonymous,
                access.leeway,
                initial,
                live,
                &graphql_path,
            );
            let follow = crate::authn::follow(shared.clone(), access.source);
            options.extra_routes.runtime.spawn(follow);
            Some(shared)
        }
        None => None,
    };
    if let Some(shared) = &authn {
        let _ = instance.state.set(crate::engine_plugin::PluginState {
            access: shared.clone(),
            limiter: rate_limiter.clone(),
        });
    }
    let export_access = authn.clone();
    let authn = crate::authn::Authn {
        shared: authn,
        instance: instance.clone(),
    };
    let admission = crate::admission::Admission {
        authn,
        limits: rate_limiter,
        not_before: crate::jwt_time::JwtNotBefore {
            leeway_seconds: options.jwt_leeway.as_secs(),
        },
    };
    let server_state = shared_state.clone();
    let readiness_path: Arc<str> = paths.readiness.as_str().into();
    let mut server = web::HttpServer::new(async move || {
        let paths = paths.clone();
        let prometheus = prometheus.clone();
        web::App::new()
            .middleware(admission.clone())
            .middleware(long_lived.clone())
            .middleware(PluginService::new(
                paths.clone(),
                prometheus.as_ref().map(|p| p.endpoint.clone()),
            ))
            .middleware(RequestSummaryService::new(&graphql_path))
            // Outside every check: it only changes what the answer looks
            // like (and sets every answer's `x-request-id`).
            // While stopping, readiness is 503 and every answer closes its
            // connection (this layer, see `crate::shutdown`).
            .middleware(crate::export::Export {
                graphql_path: graphql_path.as_str().into(),
                access: export_access.clone(),
                readiness_path: readiness_path.clone(),
                latency: latency.clone(),
            })
            .middleware(RequestIdentifiersService)
            .middleware(compression.clone())
            .state(server_state.clone())
            .state(schema_state.clone())
            .state(server_state.telemetry_context.clone())
            .state(schema_state.callback_subscriptions.clone())
            .configure(|m| configure_ntex_app(m, &paths, prometheus))
            .state(extra.clone())
            .default_service(web::to(crate::bridge::handle))
    });
    if let Some(workers) = router_config.workers() {
        server = server.workers(workers.get());
    }
    let address = router_config.address();
    // Stop signals are Meshwork's (crate::shutdown): drain first, then stop.
    let running = server
        // The engine's HTTP settings (keep-alive, the client timeout over
        // its request timeout, a parse buffer that fits the request-head
        // limit), as its own entry point applies them.
        .config(
            SharedCfg::new("MESHWORK_GATEWAY")
                .add(hive_router::build_http_service_config(router_config)),
        )
        .shutdown_timeout(router_config.shutdown_timeout())
        .disable_signals();
    // HTTPS when the router config asks for it (`traffic_shaping.router.tls`,
    // the engine's own setting and loader): never plain HTTP in its place.
    let running = match &router_config.traffic_shaping.router.tls {
        Some(tls) => {
            let tls = hive_router::tls::build_rustls_config(tls).map_err(|e| {
                GatewayError::Start(format!(
                    "the router config's TLS (traffic_shaping.router.tls): {e}"
                ))
            })?;
            running.listen_rustls(listener, tls)
        }
        None => running.listen(listener),
    }
    .map_err(|e| GatewayError::Start(format!("listening on {address}: {e}")))?
    .run();
    crate::shutdown::on_stop_signal(
        &options.extra_routes.runtime,
        running.clone(),
        options.shutdown_drain,
    );
    let result = running
        .await
        .map_err(|e| GatewayError::Serve(e.to_string()));
    tasks.graceful_shutdown().await;
    telemetry.graceful_shutdown().await;
    hive_router::invoke_shutdown_hooks(&shared_state).await;
    result
}
