//! The Hive Router configuration Meshwork generates: the user's router
//! config file (if any), with Meshwork's listen address and supergraph
//! source on top. YAML is a superset of JSON, so the result is written as
//! JSON.

use hive_router::config::HiveRouterConfig;
use serde_json::{json, Map, Value};

use crate::{GatewayError, GatewayOptions, SupergraphSource};

/// The engine's environment variables that would replace what Meshwork
/// sets itself (listen address, supergraph source).
const OWNED_BY_MESHWORK: [&str; 9] = [
    "PORT",
    "HOST",
    "SUPERGRAPH_FILE_PATH",
    "HIVE_CDN_ENDPOINT",
    "HIVE_CDN_KEY",
    "HIVE_CDN_POLL_INTERVAL",
    "APOLLO_KEY",
    "APOLLO_GRAPH_REF",
    "APOLLO_UPLINK_ENDPOINTS",
];

/// The engine's configuration, made once and parsed as often as the engine
/// needs a copy (it is not `Clone`). Without a router config file it is
/// built from Meshwork's settings alone: the engine's environment
/// variables (`LOG_LEVEL`, `PORT`, `SUPERGRAPH_FILE_PATH`, …) do not
/// apply. With one, the file is read the engine's way (its `from_env`
/// placeholders and environment variables apply), except that a variable
/// replacing the listen address or the supergraph source stops the start.
pub(crate) struct RouterConfig {
    text: String,
    file: Option<std::path::PathBuf>,
    /// The latency histograms Meshwork records itself with this config.
    pub(crate) own_latency: Option<OwnLatency>,
}

pub(crate) fn router_config(
    options: &GatewayOptions,
    internal_jwks: Option<(&std::path::Path, &crate::AccessOptions)>,
    plugin_instance: u64,
) -> Result<RouterConfig, GatewayError> {
    let (text, own_latency) = router_config_parts(options, internal_jwks, plugin_instance)?;
    if let Some(path) = &options.router_config {
        let set: Vec<&str> = OWNED_BY_MESHWORK
            .into_iter()
            .filter(|name| std::env::var_os(name).is_some())
            .collect();
        if !set.is_empty() {
            return Err(GatewayError::Config(format!(
                "the environment sets {} , which would replace the listen address or supergraph source Meshwork configures; unset {} (the router config {} is read with the engine's environment variables)",
                set.join(", "),
                if set.len() == 1 { "it" } else { "them" },
                path.display()
            )));
        }
    }
    Ok(RouterConfig {
        text,
        file: options.router_config.clone(),
        own_latency,
    })
}

impl RouterConfig {
    /// The engine's typed configuration (a new copy on every call).
    pub(crate) fn parse(&self) -> Result<HiveRouterConfig, GatewayError> {
        match &self.file {
            Some(path) => hive_router::config::parse_yaml_config(self.text.clone()).map_err(|e| {
                GatewayError::Config(format!("router config {}: {e}", path.display()))
            }),
            None => config::Config::builder()
                .add_source(config::File::from_str(&self.text, config::FileFormat::Yaml))
                .build()
                .and_then(|c| c.try_deserialize::<HiveRouterConfig>())
                .map_err(|e| GatewayError::Config(e.to_string())),
        }
    }
}

/// Engine instruments off by default: body sizes, in-flight gauges, cache
/// lookup counts and durations, overhead and cost histograms (request and
/// domain-fetch durations, errors, supergraph polls and the rest stay on).
/// Each one on costs every request (the in-flight gauges and cache counts
/// measured together: 0.9 % of a request's instructions on the benchmark
/// query, bench/RESULTS.md); none is used by Meshwork's dashboard or alerts.
/// `bench/gateways.sh` repeats this list (and the cost limit below) for
/// the plain engine with `BENCH_PARITY=1`.
const QUIET_INSTRUMENTS: [&str; 19] = [
    "http.server.request.body.size",
    "http.server.response.body.size",
    "http.client.request.body.size",
    "http.client.response.body.size",
    "http.server.active_requests",
    "http.client.active_requests",
    "hive.router.parse_cache.requests_total",
    "hive.router.validate_cache.requests_total",
    "hive.router.normalize_cache.requests_total",
    "hive.router.plan_cache.requests_total",
    "hive.router.parse_cache.duration",
    "hive.router.validate_cache.duration",
    "hive.router.normalize_cache.duration",
    "hive.router.plan_cache.duration",
    "hive.router.request.overhead.duration",
    "hive.router.request.external_wait.duration",
    "hive.router.demand_control.cost.estimated",
    "hive.router.demand_control.cost.actual",
    "hive.router.demand_control.cost.delta",
];

/// The engine's two latency histograms, which Meshwork records itself
/// with its default metrics (see [`records_latency_in`]).
const SERVER_LATENCY: &str = "http.server.request.duration";
const CLIENT_LATENCY: &str = "http.client.request.duration";

/// Labels left off the two duration histograms Meshwork's dashboard and
/// alerts read (`http_server_request_duration_seconds` by route, operation
/// and outcome; `http_client_request_duration_seconds` by domain and
/// outcome): the protocol, scheme and method of every request, and each
/// domain's address and port, which its name already tells. Every label
/// costs every measurement (six of these per request on the benchmark
/// query): it is made, sorted and hashed each time.
const QUIET_LABELS: [(&str, &[&str]); 2] = [
    (
        "http.server.request.duration",
        &[
            "network.protocol.name",
            "network.protocol.version",
            "url.scheme",
        ],
    ),
    (
        "http.client.request.duration",
        &[
            "http.request.method",
            "server.address",
            "server.port",
            "network.protocol.name",
            "network.protocol.version",
            "url.scheme",
        ],
    ),
];

/// Targets (prefixes) of the crates whose events this process logs, for
/// [`log_settings`].
const KNOWN_TARGETS: [&str; 30] = [
    "meshwork",
    "catalog",
    "gateway",
    "access",
    "composition",
    "domains",
    "entity",
    "migration",
    "ide",
    "hive_router",
    "hive_console",
    "ntex",
    "sea_orm",
    "sea_query",
    "sqlx",
    "hyper",
    "h2",
    "reqwest",
    "tokio",
    "tower",
    "axum",
    "async_graphql",
    "redis",
    "rustls",
    "opentelemetry",
    "mio",
    "want",
    "graphql",
    "moka",
    "governor",
];

/// `https` when the router config file turns TLS on
/// (`traffic_shaping.router.tls`), else `http`: the scheme of the
/// addresses a command prints before the gateway starts (a file that
/// cannot be read is reported by the start itself).
pub fn scheme(router_config: Option<&std::path::Path>) -> &'static str {
    let tls = router_config
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_norway::from_str::<Value>(&text).ok())
        .is_some_and(|config| !config["traffic_shaping"]["router"]["tls"].is_null());
    if tls {
        "https"
    } else {
        "http"
    }
}

/// `MESHWORK_LOG` (a `tracing` filter such as `info,catalog=debug`) as the
/// engine's log settings (`log.level`, `log.filter`). The engine filters
/// events twice: with `level` as the ceiling of every target, and with
/// `filter` plus `level` appended as a bare directive, which replaces the
/// filter's own default. So `level` is the most verbose level the filter
/// names; when that is above the filter's default, the default is written
/// out for each known target the filter does not name (events of other
/// crates then log at `level`).
pub(crate) fn log_settings(filter: &str) -> Result<(&'static str, String), GatewayError> {
    use tracing_subscriber::filter::{Directive, LevelFilter};
    let filter = if filter.trim().is_empty() {
        "info"
    } else {
        filter.trim()
    };
    let mut most = LevelFilter::OFF;
    let mut default = LevelFilter::ERROR;
    let mut named: Vec<String> = Vec::new();
    let mut directives = Vec::new();
    for part in filter.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let directive: Directive = part.parse().map_err(|e| {
            GatewayError::Config(format!(
                "log filter `{filter}`: `{part}` is not a directive ({e}); use e.g. `info` or `warn,catalog=debug`"
            ))
        })?;
        match part.split_once('=') {
            None => match part.parse::<LevelFilter>() {
                // A bare level: the default of every target.
                Ok(level) => {
                    default = level;
                    most = most.max(level);
                }
                // A target alone (`catalog`) enables everything for it.
                Err(_) => {
                    most = LevelFilter::TRACE;
                    named.push(part.to_string());
                    directives.push(directive.to_string());
                }
            },
            Some((target, level)) => {
                most = most.max(level.parse::<LevelFilter>().unwrap_or(LevelFilter::TRACE));
                named.push(target.to_string());
                directives.push(directive.to_string());
            }
        }
    }
    most = most.max(default);
    if most > default {
        for target in KNOWN_TARGETS {
            if !named
                .iter()
                .any(|n| n.starts_with(target) || target.starts_with(n.as_str()))
            {
                directives.push(format!("{target}={default}"));
            }
        }
    }
    // Trace exists only in the engine's debug builds.
    let level = match most {
        l if l == LevelFilter::TRACE && cfg!(debug_assertions) => "trace",
        l if l >= LevelFilter::DEBUG => "debug",
        l if l == LevelFilter::INFO => "info",
        l if l == LevelFilter::WARN => "warn",
        _ => "error",
    };
    directives.insert(0, level.to_string());
    Ok((level, directives.join(",")))
}

fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The header the engine reads tokens from on a gateway that
/// authenticates nobody: no JWKS verifies a token sent there.
const UNVERIFIABLE_TOKEN_HEADER: &str = "x-meshwork-no-authentication";

/// The router config file's settings as given (empty without one).
fn user_root(options: &GatewayOptions) -> Result<Map<String, Value>, GatewayError> {
    let Some(path) = &options.router_config else {
        return Ok(Map::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| GatewayError::Config(format!("reading {}: {e}", path.display())))?;
    let value: Value = serde_norway::from_str(&text)
        .map_err(|e| GatewayError::Config(format!("{}: {e}", path.display())))?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(GatewayError::Config(format!(
            "{} must hold a YAML mapping",
            path.display()
        ))),
    }
}

/// Which latency histograms Meshwork records itself (`crate::latency`)
/// instead of the engine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OwnLatency {
    /// Each domain fetch's too, not only each request's: only where
    /// Meshwork's engine plugin runs anyway (it times the fetches; turning
    /// the plugin on for them alone costs more than the engine's
    /// measurements, bench/RESULTS.md).
    pub fetches: bool,
}

/// What Meshwork records itself: with its default metrics (a metrics path
/// and a router config that configures no metrics, `telemetry.metrics`),
/// the request latency, and the domain-fetch latency where its plugin
/// runs. A router config that configures metrics gets the engine's
/// instruments as it asks. `access`: Meshwork's access control is on.
fn records_latency_in(
    options: &GatewayOptions,
    root: &Map<String, Value>,
    access: bool,
) -> Option<OwnLatency> {
    let own = options.metrics_path.is_some()
        && root
            .get("telemetry")
            .and_then(|t| t.get("metrics"))
            .is_none();
    own.then(|| OwnLatency {
        fetches: plugin_runs(options, access),
    })
}

/// Whether the gateway runs Meshwork's engine plugin
/// (`crate::engine_plugin`): for access control, REST or in-process
/// domains, the contract check or the cache.
fn plugin_runs(options: &GatewayOptions, access: bool) -> bool {
    access
        || options.rest_subgraphs.is_some()
        || options.in_process.is_some()
        || options.contracts.is_some()
        || options.subgraph_cache.is_some()
}

/// The engine's configuration as YAML text.
#[cfg(test)]
pub(crate) fn router_config_text(
    options: &GatewayOptions,
    internal_jwks: Option<(&std::path::Path, &crate::AccessOptions)>,
    plugin_instance: u64,
) -> Result<String, GatewayError> {
    router_config_parts(options, internal_jwks, plugin_instance).map(|(text, _)| text)
}

/// The engine's configuration as text, and which latency histograms
/// Meshwork records itself with it. `internal_jwks`: when Meshwork
/// authenticates callers itself, the JWKS file of its internal tokens, the
/// only ones the engine then trusts.
fn router_config_parts(
    options: &GatewayOptions,
    internal_jwks: Option<(&std::path::Path, &crate::AccessOptions)>,
    plugin_instance: u64,
) -> Result<(String, Option<OwnLatency>), GatewayError> {
    let mut root = user_root(options)?;
    let lean_metrics = records_latency_in(options, &root, internal_jwks.is_some());
    let address = options
        .listener
        .local_addr()
        .map_err(|e| GatewayError::Config(format!("listener address: {e}")))?;
    // The listen address and the supergraph source are Meshwork's: a router
    // config that names others (a host meant to keep the gateway on
    // loopback, say) stops the start rather than be overridden silently.
    if let Some(path) = &options.router_config {
        let file = path.display();
        let listen = [
            ("host", json!(address.ip().to_string())),
            ("port", json!(address.port())),
        ];
        for (name, ours) in listen {
            match root.get("http").and_then(|h| h.get(name)) {
                Some(theirs) if theirs != &ours => {
                    return Err(GatewayError::Config(format!(
                        "{file} sets `http.{name}: {theirs}`, but the gateway listens on {address} (--listen): remove it, or give that address to --listen"
                    )));
                }
                _ => {}
            }
        }
        if root.contains_key("supergraph") {
            return Err(GatewayError::Config(format!(
                "{file} sets `supergraph`, but the supergraph source is Meshwork's (--supergraph FILE or --control-plane URL): remove it"
            )));
        }
    }
    let http = root.entry("http").or_insert_with(|| json!({}));
    if let Value::Object(http) = http {
        http.insert("host".into(), json!(address.ip().to_string()));
        http.insert("port".into(), json!(address.port()));
        http.entry("graphql_endpoint").or_insert(json!("/graphql"));
    }
    let supergraph = match &options.supergraph {
        SupergraphSource::File {
            path,
            poll_interval,
        } => {
            let path = std::path::absolute(path).map_err(|e| {
                GatewayError::Config(format!("supergraph path {}: {e}", path.display()))
            })?;
            let mut source = json!({ "source": "file", "path": path.to_string_lossy() });
            if let Some(interval) = poll_interval {
                source["poll_interval"] = json!(humantime(*interval));
            }
            source
        }
        SupergraphSource::ControlPlane {
            endpoint,
            key,
            poll_interval,
        } => json!({
            "source": "hive",
            "endpoint": endpoint,
            "key": key,
            "poll_interval": humantime(*poll_interval),
            // After an outage of the control plane (or its database) the
            // gateway catches up within seconds: two quick retries per
            // poll, not the engine's default ten with exponential waits
            // (measured: minutes), then the next poll.
            "retry_policy": { "max_retries": 2 },
            "request_timeout": "10s",
            "connect_timeout": "3s",
        }),
    };
    root.insert("supergraph".into(), supergraph);
    // Usage reporting to the control plane: the client is the one named by
    // `graphql-client-name`, which Meshwork's authentication sets to the
    // consumer it admitted (whatever an authenticated client declares).
    if let Some(usage) = &options.usage {
        if let Value::Object(telemetry) = root.entry("telemetry").or_insert_with(|| json!({})) {
            telemetry.insert(
                "hive".into(),
                json!({
                    "token": usage.token,
                    "tracing": { "enabled": false },
                    "usage_reporting": {
                        "enabled": true,
                        "endpoint": usage.endpoint,
                        "flush_interval": humantime(usage.flush_interval),
                    },
                }),
            );
        }
    }
    // Prometheus metrics on the gateway's own address, unless the router
    // config file configures metrics exporters itself.
    if let Some(path) = &options.metrics_path {
        if let Value::Object(telemetry) = root.entry("telemetry").or_insert_with(|| json!({})) {
            if let Value::Object(metrics) = telemetry.entry("metrics").or_insert_with(|| json!({}))
            {
                metrics.entry("exporters").or_insert(json!([
                    { "kind": "prometheus", "enabled": true, "path": path }
                ]));
                // The per-request histograms no dashboard or alert of
                // Meshwork's uses are off unless the config file turns
                // them on (measured: the engine's full set cost about 5 %
                // of requests/s; bench/RESULTS.md).
                if let Value::Object(instrumentation) = metrics
                    .entry("instrumentation")
                    .or_insert_with(|| json!({}))
                {
                    if let Value::Object(instruments) = instrumentation
                        .entry("instruments")
                        .or_insert_with(|| json!({}))
                    {
                        for name in QUIET_INSTRUMENTS {
                            instruments.entry(name).or_insert(json!(false));
                        }
                        // Meshwork records these two itself, cheaper
                        // (`crate::latency`), under the same names.
                        if let Some(own) = lean_metrics {
                            instruments.insert(SERVER_LATENCY.into(), json!(false));
                            if own.fetches {
                                instruments.insert(CLIENT_LATENCY.into(), json!(false));
                            }
                        }
                        for (name, labels) in QUIET_LABELS {
                            let off: serde_json::Map<String, Value> = labels
                                .iter()
                                .map(|l| (l.to_string(), json!(false)))
                                .collect();
                            instruments
                                .entry(name)
                                .or_insert(json!({ "attributes": off }));
                        }
                    }
                }
            }
        }
    }
    // Traces over OTLP/HTTP: a span per request and per domain fetch, with
    // W3C trace context sent to domains (the engine's tracing).
    if let Some(endpoint) = &options.otlp_traces {
        if let Value::Object(telemetry) = root.entry("telemetry").or_insert_with(|| json!({})) {
            if let Value::Object(tracing) = telemetry.entry("tracing").or_insert_with(|| json!({}))
            {
                tracing.entry("exporters").or_insert(json!([{
                    "kind": "otlp",
                    "enabled": true,
                    "protocol": "http",
                    "endpoint": endpoint,
                    "batch_processor": { "scheduled_delay": "1s" },
                }]));
                tracing
                    .entry("propagation")
                    .or_insert(json!({ "trace_context": true, "baggage": true }));
            }
        }
    }
    // Telemetry names this process Meshwork (unless the config file says
    // otherwise).
    if let Value::Object(telemetry) = root.entry("telemetry").or_insert_with(|| json!({})) {
        if let Value::Object(resource) = telemetry.entry("resource").or_insert_with(|| json!({})) {
            if let Value::Object(attributes) =
                resource.entry("attributes").or_insert_with(|| json!({}))
            {
                attributes
                    .entry("service.name")
                    .or_insert(json!("meshwork"));
            }
        }
    }
    // The engine's limits, on by default; a router config file may change
    // each one.
    if let Value::Object(limits) = root.entry("limits").or_insert_with(|| json!({})) {
        limits
            .entry("max_depth")
            .or_insert(json!({ "n": 15, "ignore_introspection": true }));
        limits.entry("max_aliases").or_insert(json!({ "n": 30 }));
        limits.entry("max_directives").or_insert(json!({ "n": 50 }));
        limits.entry("max_tokens").or_insert(json!({ "n": 5_000 }));
        limits
            .entry("max_request_body_size")
            .or_insert(json!("2MB"));
    }
    if plugin_runs(options, internal_jwks.is_some()) {
        // Plan limits only the engine can check (cost, per-domain plans),
        // the key of REST subgraphs, each domain fetch's latency.
        if let Value::Object(plugins) = root.entry("plugins").or_insert_with(|| json!({})) {
            plugins.insert(
                crate::engine_plugin::PLUGIN_NAME.into(),
                json!({ "enabled": true, "config": { "instance": plugin_instance } }),
            );
        }
    }
    if let Some((jwks, access)) = internal_jwks {
        if root.contains_key("jwt") {
            return Err(GatewayError::Config(
                "the router config sets `jwt`, but this gateway authenticates callers from the catalog's issuers and API keys; remove the `jwt` section (register the issuer in the catalog instead)".into(),
            ));
        }
        root.insert(
            "jwt".into(),
            json!({
                "enabled": true,
                "require_authentication": false,
                "issuers": [crate::authn::INTERNAL_ISSUER],
                "allowed_algorithms": ["HS256"],
                "jwks_providers": [{ "source": "file", "path": jwks.to_string_lossy() }],
                "scopes_claim": "scope",
            }),
        );
        if let Value::Object(authz) = root.entry("authorization").or_insert_with(|| json!({})) {
            let directives = authz.entry("directives").or_insert_with(|| json!({}));
            if let Value::Object(directives) = directives {
                directives.entry("enabled").or_insert(json!(true));
                directives.entry("unauthorized").or_insert(json!({
                    "mode": if access.reject_unauthorized { "reject" } else { "filter" }
                }));
            }
        }
        // Introspection follows the consumer's setting (anonymous callers
        // and tokens of no registered consumer keep it).
        root.entry("introspection").or_insert(json!({
            "expression": ".request.jwt.claims.introspection != false"
        }));
        // Domains learn who is asking; the engine's request deduplication
        // keys on these headers, so no response is shared across callers.
        let headers = root.entry("headers").or_insert_with(|| json!({}));
        if let Value::Object(headers) = headers {
            let all = headers.entry("all").or_insert_with(|| json!({}));
            if let Value::Object(all) = all {
                let request = all.entry("request").or_insert_with(|| json!([]));
                if let Value::Array(rules) = request {
                    rules.push(json!({ "propagate": { "named": crate::authn::CONSUMER_HEADER } }));
                    rules.push(json!({ "propagate": { "named": crate::authn::SUBJECT_HEADER } }));
                    rules.push(json!({ "propagate": { "named": crate::authn::SCOPES_HEADER } }));
                }
            }
        }
    } else if !root.contains_key("jwt") {
        // Without Meshwork's access and without a `jwt` section nobody can
        // be authenticated; the engine would then skip `@authenticated` and
        // `@requiresScopes` altogether and serve those fields to everyone.
        // Fail closed instead: the engine looks for tokens where no client's
        // token is ever accepted (a header no key can verify), so every
        // caller is unauthenticated and protected fields are refused.
        root.insert(
            "jwt".into(),
            json!({
                "enabled": true,
                "require_authentication": false,
                "jwks_providers": [],
                "lookup_locations": [{ "source": "header", "name": UNVERIFIABLE_TOKEN_HEADER }],
            }),
        );
    }
    // A cost limit on by default: the engine's demand control estimates an
    // operation's cost from `@cost`/`@listSize` (lists without `@listSize`
    // count as 10 items) and refuses it above 100,000 before any subgraph
    // is called. The gateways benchmark query is estimated at 24,480.
    root.entry("demand_control").or_insert(json!({
        "enabled": true,
        "default_list_size": { "all": 10 },
        "subgraphs_budget": { "mode": "measure" },
        "operation_cost": { "max": 100_000, "mode": "enforce" },
    }));
    // CSRF prevention on by default: a request a browser could send
    // cross-site without a preflight (GET, or a form/text content type)
    // must carry one of these headers.
    root.entry("csrf").or_insert(json!({
        "enabled": true,
        "required_headers": ["x-meshwork-csrf", "apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight"],
    }));
    if let Value::Object(log) = root.entry("log").or_insert_with(|| json!({})) {
        if !log.contains_key("level") && !log.contains_key("filter") {
            let (level, filter) = log_settings(&options.log_filter)?;
            log.insert("level".into(), json!(level));
            log.insert("filter".into(), json!(filter));
        }
        if options.log_json {
            log.entry("format").or_insert(json!("json"));
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(root))
        .map_err(|e| GatewayError::Config(e.to_string()))?;
    Ok((text, lean_metrics))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::EnvFilter;

    use super::log_settings;

    /// Builds the filter the engine builds from `log.filter` and `log.level`.
    fn engine_filter(meshwork_log: &str) -> (&'static str, EnvFilter) {
        let (level, filter) = log_settings(meshwork_log).expect("valid filter");
        let env = EnvFilter::from_str(&filter)
            .expect("the engine parses the filter")
            .add_directive(level.parse().expect("a level"));
        (level, env)
    }

    #[test]
    fn per_target_levels_survive_the_engines_appended_level() {
        let (level, env) = engine_filter("info,catalog=debug");
        assert_eq!(level, "debug");
        tracing::subscriber::with_default(tracing_subscriber::registry().with(env), || {
            assert!(tracing::enabled!(target: "catalog", tracing::Level::DEBUG));
            assert!(tracing::enabled!(target: "catalog::pull", tracing::Level::DEBUG));
            assert!(tracing::enabled!(target: "gateway", tracing::Level::INFO));
            assert!(!tracing::enabled!(target: "gateway", tracing::Level::DEBUG));
        });
    }

    /// Options as `meshwork gateway --supergraph FILE` builds them.
    fn options(
        runtime: &tokio::runtime::Runtime,
        supergraph: crate::SupergraphSource,
    ) -> crate::GatewayOptions {
        crate::GatewayOptions {
            listener: std::net::TcpListener::bind("127.0.0.1:0").expect("bind"),
            supergraph,
            router_config: None,
            extra_routes: crate::ExtraRoutes {
                router: axum::Router::new(),
                runtime: runtime.handle().clone(),
            },
            health_requires_supergraph: true,
            log_filter: "warn".into(),
            log_json: false,
            limits: crate::OperationLimits::default(),
            jwt_leeway: std::time::Duration::from_secs(30),
            rate_limit: None,
            access: None,
            redis_url: None,
            when_redis_fails: crate::WhenRedisFails::Open,
            rest_subgraphs: None,
            usage: None,
            contracts: None,
            metrics_path: Some("/metrics".into()),
            otlp_traces: None,
            on_metrics: None,
            in_process: None,
            shutdown_drain: std::time::Duration::from_secs(2),
            subgraph_cache: None,
        }
    }

    fn built(options: &crate::GatewayOptions) -> serde_json::Value {
        let text = super::router_config_text(options, None, 7).expect("config text");
        serde_json::from_str(&text).expect("JSON")
    }

    #[test]
    fn the_engine_config_follows_the_options_alone() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let file = options(
            &runtime,
            crate::SupergraphSource::File {
                path: "/tmp/supergraph.graphql".into(),
                poll_interval: Some(std::time::Duration::from_millis(1500)),
            },
        );
        let port = file.listener.local_addr().expect("addr").port();
        let config = built(&file);
        assert_eq!(config["http"]["host"], "127.0.0.1");
        assert_eq!(config["http"]["port"], port);
        assert_eq!(config["supergraph"]["source"], "file");
        assert_eq!(config["supergraph"]["poll_interval"], "1500ms");
        // Safe defaults: CSRF prevention, a cost limit, metrics without the
        // per-request histograms, the log level from the filter.
        assert_eq!(config["csrf"]["enabled"], true);
        assert!(config["csrf"]["required_headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h == "x-meshwork-csrf")));
        assert_eq!(config["log"]["level"], "warn");
        assert_eq!(
            config["telemetry"]["metrics"]["exporters"][0]["path"],
            "/metrics"
        );
        // Following a control plane: few quick retries, bounded timeouts.
        let replica = options(
            &runtime,
            crate::SupergraphSource::ControlPlane {
                endpoint: "http://127.0.0.1:4000/control".into(),
                key: "k".into(),
                poll_interval: std::time::Duration::from_secs(1),
            },
        );
        let config = built(&replica);
        assert_eq!(config["supergraph"]["source"], "hive");
        assert_eq!(config["supergraph"]["retry_policy"]["max_retries"], 2);
        assert_eq!(config["supergraph"]["poll_interval"], "1s");
        assert_eq!(config["supergraph"]["connect_timeout"], "3s");
    }

    #[test]
    fn a_router_config_file_keeps_its_settings_and_refuses_non_mappings() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("router.yaml");
        std::fs::write(&file, "log:\n  level: debug\ncsrf:\n  enabled: false\n").expect("write");
        let mut opts = options(
            &runtime,
            crate::SupergraphSource::File {
                path: "/tmp/s.graphql".into(),
                poll_interval: None,
            },
        );
        opts.router_config = Some(file.clone());
        let config = built(&opts);
        assert_eq!(config["log"]["level"], "debug");
        assert_eq!(config["csrf"]["enabled"], false);
        // The listen address is Meshwork's: the file may repeat it, never
        // name another (the gateway would listen elsewhere than it says);
        // nor may it name a supergraph source.
        assert_eq!(config["http"]["host"], "127.0.0.1");
        let port = opts.listener.local_addr().expect("addr").port();
        std::fs::write(&file, format!("http:\n  host: 127.0.0.1\n  port: {port}\n"))
            .expect("write");
        assert_eq!(built(&opts)["http"]["port"], port);
        for (text, named) in [
            ("http:\n  host: 0.0.0.0\n".to_string(), "http.host"),
            (
                format!("http:\n  port: {}\n", port.wrapping_add(1)),
                "http.port",
            ),
            (
                "supergraph:\n  source: file\n  path: other.graphql\n".to_string(),
                "`supergraph`",
            ),
        ] {
            std::fs::write(&file, &text).expect("write");
            let refused = super::router_config_text(&opts, None, 7).expect_err(&text);
            assert!(refused.to_string().contains(named), "{refused}");
        }
        // An instrument the file configures is the file's: Meshwork's
        // label list for it is left out, the others stay.
        std::fs::write(
            &file,
            "telemetry:\n  metrics:\n    instrumentation:\n      instruments:\n        http.client.request.duration: true\n",
        )
        .expect("write");
        let config = built(&opts);
        let instruments = &config["telemetry"]["metrics"]["instrumentation"]["instruments"];
        assert_eq!(instruments["http.client.request.duration"], true);
        assert_eq!(
            instruments["http.server.request.duration"]["attributes"]["url.scheme"],
            false
        );
        std::fs::write(&file, "- a list\n").expect("write");
        let refused = super::router_config_text(&opts, None, 7).expect_err("a list");
        assert!(
            refused.to_string().contains("must hold a YAML mapping"),
            "{refused}"
        );
    }

    #[test]
    fn plain_levels_and_bad_filters() {
        assert_eq!(log_settings("warn").expect("valid").0, "warn");
        assert_eq!(log_settings("").expect("valid").0, "info");
        let (_, env) = engine_filter("warn");
        tracing::subscriber::with_default(tracing_subscriber::registry().with(env), || {
            assert!(tracing::enabled!(target: "catalog", tracing::Level::WARN));
            assert!(!tracing::enabled!(target: "catalog", tracing::Level::INFO));
        });
        let refused = log_settings("info,catalog=loud").expect_err("not a level");
        assert!(refused.to_string().contains("catalog=loud"), "{refused}");
    }
}
