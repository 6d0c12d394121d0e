//! The gateway's command line and start-up, shared by both binaries:
//! `meshwork` (`serve`, `demo` and `gateway` use these flags) and
//! `meshwork-gateway`, the gateway alone in a smaller program (no catalog,
//! database drivers, console or demo domains linked in: less code mapped
//! and touched per process, see ARCHITECTURE.md).

use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use axum::Router;
use gateway::{ExtraRoutes, GatewayOptions, SupergraphSource};

/// Parses durations such as `30s`, `500ms`, `2m`, `1h 30m` (the
/// `humantime` crate's forms); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        return text
            .parse()
            .map(std::time::Duration::from_secs)
            .map_err(|_| format!("`{text}` is too large a number of seconds"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 30s, 500ms or 2m ({e})"))
}

impl GatewayFlags {
    pub fn subgraph_cache(&self) -> anyhow::Result<Option<gateway::SubgraphCacheOptions>> {
        let shared = self
            .subgraph_cache_redis_url
            .clone()
            .filter(|url| !url.trim().is_empty());
        if self.subgraph_cache_mib == 0 {
            if shared.is_some() {
                bail!(
                    "--subgraph-cache-redis-url needs the cache on: set --subgraph-cache-mib \
                     (memory for the in-process tier, e.g. 64)"
                );
            }
            return Ok(None);
        }
        Ok(Some(gateway::SubgraphCacheOptions {
            max_bytes: self.subgraph_cache_mib.saturating_mul(1 << 20),
            default_ttl: self.subgraph_cache_default_ttl,
            max_ttl: self.subgraph_cache_max_ttl,
            shared_redis_url: shared,
        }))
    }
}

/// Settings of the gateway, whichever command runs it.
#[derive(clap::Args)]
pub struct GatewayFlags {
    /// On SIGTERM or SIGINT: how long readiness answers 503 and every
    /// answer closes its connection, while requests are still served,
    /// before the listener stops and running requests finish (then exit
    /// 0). A second signal stops at once.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub shutdown_drain: Duration,
    /// Memory for the subgraph answer cache, in MiB: domains' answers to
    /// queries are kept and served again, keyed by everything the domain
    /// sees (query, variables, the caller's identity headers), for as long
    /// as the domain's `Cache-Control` allows. `0` (the default) turns it
    /// off.
    #[arg(long, env = "MESHWORK_SUBGRAPH_CACHE_MIB", default_value_t = 0)]
    pub subgraph_cache_mib: u64,
    /// How long the cache keeps an answer whose domain sends no
    /// `Cache-Control` (`0s`: such answers are not kept).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub subgraph_cache_default_ttl: Duration,
    /// The longest any answer is kept, whatever its domain says.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub subgraph_cache_max_ttl: Duration,
    /// Share cached answers between gateway replicas through this Redis
    /// (`redis://host:6379/1`): a second tier behind each process's
    /// memory, keyed and checked like it; an unreachable Redis only means
    /// fetches go to their domains. Give that Redis a `maxmemory` and
    /// `maxmemory-policy allkeys-lru`.
    #[arg(long, env = "MESHWORK_SUBGRAPH_CACHE_REDIS_URL")]
    pub subgraph_cache_redis_url: Option<String>,
    /// `text` or `json` (one JSON object per line, each request's with its
    /// request id) for the process's logs.
    #[arg(long, env = "MESHWORK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Path of the Prometheus metrics endpoint on the listen address (the
    /// engine's request, subgraph and supergraph series); an empty value
    /// turns it off.
    #[arg(long, env = "MESHWORK_METRICS_PATH", default_value = "/metrics")]
    pub metrics_path: String,
    /// Send OpenTelemetry traces (a span per request and per domain fetch;
    /// W3C trace context passed on to domains) to this OTLP/HTTP endpoint,
    /// e.g. `http://collector:4318/v1/traces`. Off when not set.
    #[arg(long, env = "MESHWORK_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// The runtime contract check of strict domains: one fetch in N to a
    /// domain under the strict model has its answer checked against the
    /// served schema (types, enum values, non-null fields), reported to the
    /// control plane with field usage. `0` turns it off.
    #[arg(long, default_value_t = 10)]
    pub contract_sample_every: u64,
    /// How often the gateway's engine sends field usage (which schema
    /// coordinates each client's operations used) to the control plane;
    /// buffered in between, and sent on shutdown. `0s` turns usage
    /// reporting off (schema checks then find no use of any field, and no
    /// breaking change becomes safe by usage).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub usage_flush_interval: Duration,
    /// Address to listen on.
    #[arg(long, env = "MESHWORK_LISTEN", default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// A Hive Router configuration file (YAML) for the gateway's other settings.
    #[arg(long, env = "MESHWORK_ROUTER_CONFIG")]
    pub router_config: Option<PathBuf>,
    /// Requests per minute each caller (JWT issuer+subject, else client IP)
    /// may send to /graphql; unlimited when not set.
    #[arg(long, env = "MESHWORK_RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<NonZeroU32>,
    /// Requests a caller may send at once above the sustained rate
    /// (default: a tenth of the per-minute rate).
    #[arg(long, requires = "rate_limit_per_minute")]
    pub rate_limit_burst: Option<NonZeroU32>,
    /// Whether requests without a credential reach the graph (as anonymous
    /// callers, who see only fields without access rules).
    #[arg(long, env = "MESHWORK_ANONYMOUS", value_enum, default_value = "allow")]
    pub anonymous: Anonymous,
    /// What happens to a request that selects fields its caller may not
    /// read: `filter` answers them with null and an error each, `reject`
    /// refuses the whole request.
    #[arg(
        long,
        env = "MESHWORK_UNAUTHORIZED",
        value_enum,
        default_value = "filter"
    )]
    pub unauthorized: Unauthorized,
    /// Count rate limits and quotas in this Redis (`redis://host:6379/0`),
    /// so every gateway replica using it enforces one limit per caller.
    #[arg(long, env = "MESHWORK_REDIS_URL")]
    pub redis_url: Option<String>,
    /// While that Redis cannot be reached: `open` lets requests through
    /// unlimited, `closed` refuses them with 503 (failures are logged once
    /// a minute).
    #[arg(
        long,
        env = "MESHWORK_REDIS_UNAVAILABLE",
        value_enum,
        default_value = "open",
        requires = "redis_url"
    )]
    pub redis_unavailable: RedisUnavailable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RedisUnavailable {
    Open,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Anonymous {
    Allow,
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Unauthorized {
    Filter,
    Reject,
}

impl GatewayFlags {
    pub fn access(&self, source: gateway::AccessSource) -> gateway::AccessOptions {
        gateway::AccessOptions {
            source,
            allow_anonymous: self.anonymous == Anonymous::Allow,
            reject_unauthorized: self.unauthorized == Unauthorized::Reject,
            leeway: Duration::from_secs(30),
        }
    }

    pub fn when_redis_fails(&self) -> gateway::WhenRedisFails {
        match self.redis_unavailable {
            RedisUnavailable::Open => gateway::WhenRedisFails::Open,
            RedisUnavailable::Closed => gateway::WhenRedisFails::Closed,
        }
    }

    pub fn rate_limit(&self) -> Option<gateway::RateLimit> {
        self.rate_limit_per_minute
            .map(|per_minute| gateway::RateLimit {
                per_minute,
                burst: self.rate_limit_burst.unwrap_or_else(|| {
                    NonZeroU32::new(per_minute.get() / 10).unwrap_or(NonZeroU32::MIN)
                }),
            })
    }
}

#[derive(clap::Args)]
pub struct GatewayArgs {
    /// Serve this precomposed supergraph (Apollo, Hive or Meshwork
    /// composition) with no catalog.
    #[arg(long, conflicts_with = "control_plane")]
    pub supergraph: Option<PathBuf>,
    /// Re-read the supergraph file when it changes.
    #[arg(long, requires = "supergraph")]
    pub watch: bool,
    /// Follow a Meshwork control plane, e.g. `http://meshwork:4000`.
    #[arg(long, env = "MESHWORK_CONTROL_PLANE")]
    pub control_plane: Option<String>,
    /// The control plane's key (`MESHWORK_CDN_KEY` there).
    #[arg(long, env = "MESHWORK_CDN_KEY")]
    pub cdn_key: Option<String>,
    /// How often the supergraph (and the access snapshot) is checked for changes.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// With --control-plane: the secret of an HS256 issuer registered in
    /// the catalog, as `NAME=SECRET` (repeat for several). The control
    /// plane never hands out signing secrets; without it, that issuer's
    /// tokens are refused by this replica.
    #[arg(
        long = "issuer-secret",
        env = "MESHWORK_ISSUER_SECRETS",
        value_delimiter = ',',
        hide_env_values = true,
        value_parser = parse_issuer_secret,
        requires = "control_plane"
    )]
    pub issuer_secrets: Vec<(String, String)>,
    /// With --supergraph: an access snapshot file (JSON, the format of the
    /// control plane's /control/access) to authenticate callers with.
    #[arg(long, requires = "supergraph")]
    pub access: Option<PathBuf>,
    #[command(flatten)]
    pub gateway: GatewayFlags,
}

/// The control plane's runtime: catalog, puller and the routes beside
/// `/graphql`. A gateway alone only serves small routes there: one thread.
pub fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("meshwork-control")
        .enable_all()
        .build()
        .context("starting the control plane's runtime")
}

pub fn bind(listen: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// How the process logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `MESHWORK_LOG` (default `info`): the process's log filter.
pub fn log_filter() -> String {
    std::env::var("MESHWORK_LOG").unwrap_or_else(|_| "info".to_string())
}

/// Shortest CDN key accepted: the key guards the supergraph and the access
/// snapshot (consumers, key hashes, grants).
pub const MIN_CDN_KEY: usize = 32;

pub fn check_cdn_key(key: &str) -> anyhow::Result<()> {
    if key.trim().chars().count() < MIN_CDN_KEY {
        bail!(
            "the CDN key (--cdn-key or MESHWORK_CDN_KEY) must be at least {MIN_CDN_KEY} characters; it guards the supergraph and access snapshot of the mesh (e.g. `openssl rand -hex 24`), or leave it unset on `serve` for a random one"
        );
    }
    Ok(())
}

pub fn parse_issuer_secret(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, secret)) if !name.trim().is_empty() && !secret.is_empty() => {
            Ok((name.trim().to_string(), secret.to_string()))
        }
        _ => Err(
            "expected NAME=SECRET (the issuer's name in the catalog, then its HS256 secret)".into(),
        ),
    }
}

/// The OTLP endpoint, when set and not empty; a URL that is not http(s) is
/// refused at start rather than silently exporting nothing.
pub fn otlp_endpoint(flag: &Option<String>) -> anyhow::Result<Option<String>> {
    let Some(url) = flag.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("--otlp-endpoint (MESHWORK_OTLP_ENDPOINT) must be an http:// or https:// URL of an OTLP/HTTP receiver, e.g. http://collector:4318/v1/traces; got `{url}`");
    }
    Ok(Some(url.to_string()))
}

/// The metrics endpoint's path, unless turned off (`--metrics-path ""`).
pub fn metrics_path(flag: &str) -> Option<String> {
    let path = flag.trim();
    (!path.is_empty()).then(|| {
        if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        }
    })
}

/// Reporting to the control plane: traffic per domain, and the contract
/// check unless `--contract-sample-every 0`; as often as field usage
/// (every 5 s when that is off).
pub fn contract_reporting(
    endpoint: String,
    token: String,
    flags: &GatewayFlags,
) -> Option<gateway::ContractReporting> {
    Some(gateway::ContractReporting {
        endpoint,
        token,
        interval: if flags.usage_flush_interval.is_zero() {
            Duration::from_secs(5)
        } else {
            flags.usage_flush_interval
        },
        sample_every: flags.contract_sample_every,
    })
}

/// `gateway`: a gateway alone, from a file or following a control plane.
pub fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let rest_subgraphs = match (&args.control_plane, &args.cdn_key) {
        (Some(url), Some(key)) => Some(gateway::RestSubgraphs {
            url_prefix: format!("{}/rest/", url.trim_end_matches('/')),
            key: key.clone(),
        }),
        _ => None,
    };
    let contracts_reporting = match (&args.control_plane, &args.cdn_key) {
        (Some(url), Some(key)) => contract_reporting(
            format!(
                "{}{}",
                url.trim_end_matches('/'),
                access::control::CONTRACTS_PATH
            ),
            key.clone(),
            &args.gateway,
        ),
        _ => None,
    };
    // A replica reports field usage to its control plane.
    let usage_reporting = match (&args.control_plane, &args.cdn_key) {
        (Some(url), Some(key)) if !args.gateway.usage_flush_interval.is_zero() => {
            Some(gateway::UsageReporting {
                endpoint: format!(
                    "{}{}",
                    url.trim_end_matches('/'),
                    access::control::USAGE_PATH
                ),
                token: key.clone(),
                flush_interval: args.gateway.usage_flush_interval,
            })
        }
        _ => None,
    };
    let (supergraph, access) = match (args.supergraph, args.control_plane) {
        (Some(path), None) => {
            if !path.is_file() {
                bail!("supergraph file {} does not exist", path.display());
            }
            let access = match args.access {
                Some(file) if !file.is_file() => {
                    bail!("access file {} does not exist", file.display())
                }
                Some(file) => Some(args.gateway.access(gateway::AccessSource::File(file))),
                None => None,
            };
            (
                SupergraphSource::File {
                    path,
                    poll_interval: args.watch.then_some(args.poll_interval),
                },
                access,
            )
        }
        (None, Some(url)) => {
            let endpoint = format!("{}/control", url.trim_end_matches('/'));
            let key = args
                .cdn_key
                .context("--cdn-key (or MESHWORK_CDN_KEY) is needed to follow a control plane")?;
            check_cdn_key(&key)?;
            let access = args.gateway.access(gateway::AccessSource::ControlPlane {
                endpoint: endpoint.clone(),
                key: key.clone(),
                poll_interval: args.poll_interval,
                issuer_secrets: args.issuer_secrets.into_iter().collect(),
            });
            (
                SupergraphSource::ControlPlane {
                    endpoint,
                    key,
                    poll_interval: args.poll_interval,
                },
                Some(access),
            )
        }
        _ => bail!("give either --supergraph FILE or --control-plane URL"),
    };
    let runtime = runtime(1)?;
    let (listener, local) = bind(args.gateway.listen)?;
    let scheme = gateway::scheme(args.gateway.router_config.as_deref());
    println!("Meshwork gateway serving on {scheme}://{local}");
    println!("  federated GraphQL (and GraphiQL): {scheme}://{local}/graphql");
    println!("  /health answers 200 once a supergraph is loaded");
    gateway::run(GatewayOptions {
        shutdown_drain: args.gateway.shutdown_drain,
        subgraph_cache: args.gateway.subgraph_cache()?,
        listener,
        supergraph,
        rate_limit: args.gateway.rate_limit(),
        access,
        redis_url: args.gateway.redis_url.clone(),
        when_redis_fails: args.gateway.when_redis_fails(),
        router_config: args.gateway.router_config,
        extra_routes: ExtraRoutes {
            router: Router::new(),
            runtime: runtime.handle().clone(),
        },
        health_requires_supergraph: true,
        log_filter: log_filter(),
        log_json: args.gateway.log_format == LogFormat::Json,
        limits: gateway::OperationLimits::default(),
        jwt_leeway: Duration::from_secs(30),
        usage: usage_reporting,
        contracts: contracts_reporting,
        metrics_path: metrics_path(&args.gateway.metrics_path),
        otlp_traces: otlp_endpoint(&args.gateway.otlp_endpoint)?,
        on_metrics: None,
        rest_subgraphs,
        in_process: None,
    })?;
    Ok(())
}
