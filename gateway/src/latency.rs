//! The two latency histograms of Meshwork's default metrics, recorded by
//! Meshwork instead of the engine: `http.server.request.duration` (each
//! request to the GraphQL path, by route, method, status, operation and
//! outcome) and `http.client.request.duration` (each fetch an operation
//! makes from a domain, by domain, outcome and status), on the engine's
//! Prometheus registry under the names and labels the engine gives them.
//!
//! Why: the engine builds every label of every measurement anew (strings
//! copied, sorted, hashed by the OpenTelemetry SDK, and built again for the
//! in-flight gauges and body sizes it then drops), which cost about 30 K
//! instructions a request on the public benchmark's query (bench/RESULTS.md);
//! these record the same histograms for a few hundred each.
//!
//! Only with Meshwork's defaults (a metrics path and no `telemetry.metrics`
//! in the router config): a router config that configures metrics gets the
//! engine's instruments as it asks. Differences from the engine's own
//! `http.client.request.duration`: a fetch that joined an identical one in
//! flight (deduplication) is counted with the time it waited, the time
//! includes reading the answer, and a fetch that got no answer (transport
//! error, timeout) has `error_type="SUBGRAPH_REQUEST_FAILURE"`.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, Registry};

/// Distinct operation names kept as label values; the rest are counted
/// under [`OVERFLOW`] (as the OpenTelemetry SDK bounds each series family
/// at 2,000 label sets): a client inventing names cannot grow `/metrics`
/// without end.
const MAX_OPERATION_NAMES: usize = 1_000;
/// The operation name of every operation past [`MAX_OPERATION_NAMES`].
pub(crate) const OVERFLOW: &str = "otel_metric_overflow";
/// The engine's operation name for an operation without one.
const UNKNOWN: &str = "UNKNOWN";
/// The error type of a fetch that got no answer.
const NO_ANSWER: &str = "SUBGRAPH_REQUEST_FAILURE";

/// One gateway's two histograms (two gateways in one process keep theirs
/// apart, each on its own registry).
pub(crate) struct Latency {
    requests: HistogramVec,
    fetches: HistogramVec,
    operations: RwLock<HashSet<Box<str>>>,
}

impl Latency {
    /// Both histograms, registered on `registry` with `buckets` (seconds);
    /// the fetches' only when `fetches` (else the engine keeps its own).
    pub(crate) fn register(
        registry: &Registry,
        buckets: Vec<f64>,
        fetches: bool,
    ) -> Result<Arc<Self>, prometheus::Error> {
        let requests = HistogramVec::new(
            HistogramOpts::new(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests",
            )
            .buckets(buckets.clone()),
            &[
                "http_request_method",
                "http_response_status_code",
                "http_route",
                "graphql_response_status",
                "graphql_operation_name",
                "graphql_operation_type",
                "error_type",
            ],
        )?;
        let fetches_too = fetches;
        let fetches = HistogramVec::new(
            HistogramOpts::new(
                "http_client_request_duration_seconds",
                "Duration of HTTP client requests",
            )
            .buckets(buckets),
            &[
                "subgraph_name",
                "graphql_response_status",
                "http_response_status_code",
                "error_type",
            ],
        )?;
        registry.register(Box::new(requests.clone()))?;
        if fetches_too {
            registry.register(Box::new(fetches.clone()))?;
        }
        Ok(Arc::new(Self {
            requests,
            fetches,
            operations: RwLock::new(HashSet::new()),
        }))
    }

    /// A request to the GraphQL path answered after `started`.
    pub(crate) fn request(&self, started: Instant, request: Request<'_>) {
        let operation = match request.operation_name {
            None => UNKNOWN,
            Some(name) => self.operation_label(name),
        };
        let status = request.status.as_str();
        let error_type = if request.status.as_u16() >= 400 {
            status
        } else {
            ""
        };
        self.requests
            .with_label_values(&[
                request.method,
                status,
                request.route,
                if request.ok { "ok" } else { "error" },
                operation,
                request.operation_type.unwrap_or(""),
                error_type,
            ])
            .observe(started.elapsed().as_secs_f64());
    }

    /// The name itself while fewer than [`MAX_OPERATION_NAMES`] are known.
    fn operation_label<'a>(&self, name: &'a str) -> &'a str {
        if let Ok(known) = self.operations.read() {
            if known.contains(name) {
                return name;
            }
            if known.len() >= MAX_OPERATION_NAMES {
                return OVERFLOW;
            }
        }
        match self.operations.write() {
            Ok(mut known) if known.len() < MAX_OPERATION_NAMES || known.contains(name) => {
                known.insert(name.into());
                name
            }
            _ => OVERFLOW,
        }
    }

    /// Starts timing a fetch from `domain`; counted as failed unless
    /// [`Fetch::answered`] is called before it is dropped.
    pub(crate) fn fetch(self: &Arc<Self>, domain: &str) -> Fetch {
        Fetch {
            latency: Arc::clone(self),
            domain: domain.into(),
            started: Instant::now(),
            done: false,
        }
    }
}

/// What a request's measurement is labelled with.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub status: hive_router::http::StatusCode,
    pub route: &'a str,
    /// The answer had no GraphQL error.
    pub ok: bool,
    pub operation_name: Option<&'a str>,
    pub operation_type: Option<&'a str>,
}

/// One fetch in flight.
pub(crate) struct Fetch {
    latency: Arc<Latency>,
    domain: Box<str>,
    started: Instant,
    done: bool,
}

impl Fetch {
    /// The domain answered with `status` (none for an answer from inside
    /// the process), `errors` when the answer carried GraphQL errors.
    pub(crate) fn answered(mut self, status: Option<hive_router::http::StatusCode>, errors: bool) {
        self.done = true;
        let code = status
            .as_ref()
            .map(hive_router::http::StatusCode::as_str)
            .unwrap_or("");
        let error_type = match status {
            Some(s) if s.as_u16() >= 400 => code,
            _ => "",
        };
        self.observe(if errors { "error" } else { "ok" }, code, error_type);
    }

    fn observe(&self, outcome: &str, code: &str, error_type: &str) {
        self.latency
            .fetches
            .with_label_values(&[&self.domain, outcome, code, error_type])
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        if !self.done {
            self.observe("error", "", NO_ANSWER);
        }
    }
}

/// The engine's instruments, each group of them built without a meter
/// when the configuration turns off every instrument in it: the engine
/// then skips the group's measurements whole (with a meter it builds every
/// label of every measurement, then drops it). Groups measured per request
/// only; the others (errors, supergraph polls, circuit breakers,
/// deduplication, subscriptions) keep the meter.
pub(crate) fn engine_metrics(
    meter: Option<&opentelemetry::metrics::Meter>,
    instruments: &hive_router::config::telemetry::metrics::MetricsInstrumentsConfig,
) -> hive_router::telemetry::metrics::Metrics {
    use hive_router::telemetry::metrics::catalog::names;
    use hive_router::telemetry::metrics::{
        cache_metrics::CacheMetrics, circuit_breaker_metrics::CircuitBreakerMetrics,
        coprocessor_metrics::CoprocessorMetrics, demand_control_metrics::DemandControlMetrics,
        graphql_metrics::GraphQLMetrics, http_client_metrics::HttpClientMetrics,
        http_server_metrics::HttpServerMetrics,
        persisted_documents_metrics::PersistedDocumentsMetrics,
        request_dedupe_metrics::RequestDedupeMetrics, subscription_metrics::SubscriptionMetrics,
        supergraph_metrics::SupergraphMetrics, websocket_pool_metrics::WebSocketPoolMetrics,
        Metrics,
    };
    let group = |names: &[&str]| {
        let off = names
            .iter()
            .all(|name| instruments.get(*name).is_some_and(|t| t.is_disabled()));
        if off {
            None
        } else {
            meter
        }
    };
    Metrics {
        http_server: HttpServerMetrics::new(group(&[
            names::HTTP_SERVER_REQUEST_DURATION,
            names::REQUEST_OVERHEAD_DURATION,
            names::REQUEST_EXTERNAL_WAIT_DURATION,
            names::HTTP_SERVER_ACTIVE_REQUESTS,
            names::HTTP_SERVER_REQUEST_BODY_SIZE,
            names::HTTP_SERVER_RESPONSE_BODY_SIZE,
        ])),
        http_client: HttpClientMetrics::new(group(&[
            names::HTTP_CLIENT_REQUEST_DURATION,
            names::HTTP_CLIENT_ACTIVE_REQUESTS,
            names::HTTP_CLIENT_REQUEST_BODY_SIZE,
            names::HTTP_CLIENT_RESPONSE_BODY_SIZE,
        ])),
        graphql: GraphQLMetrics::new(meter),
        demand_control: DemandControlMetrics::new(group(&[
            names::COST_ESTIMATED,
            names::COST_ACTUAL,
            names::COST_DELTA,
        ])),
        supergraph: SupergraphMetrics::new(meter),
        cache: CacheMetrics::new(group(&[
            names::PARSE_CACHE_REQUESTS_TOTAL,
            names::PARSE_CACHE_DURATION,
            names::VALIDATE_CACHE_REQUESTS_TOTAL,
            names::VALIDATE_CACHE_DURATION,
            names::NORMALIZE_CACHE_REQUESTS_TOTAL,
            names::NORMALIZE_CACHE_DURATION,
            names::PLAN_CACHE_REQUESTS_TOTAL,
            names::PLAN_CACHE_DURATION,
        ])),
        circuit_breaker: CircuitBreakerMetrics::new(meter),
        persisted_documents: PersistedDocumentsMetrics::new(meter),
        coprocessor: CoprocessorMetrics::new(meter),
        subscriptions: SubscriptionMetrics::new(meter),
        websocket_pool: WebSocketPoolMetrics::new(meter),
        request_dedupe: RequestDedupeMetrics::new(meter),
    }
}

/// The seconds buckets of the engine's histograms in `config`.
pub(crate) fn seconds_buckets(
    config: &hive_router::config::telemetry::metrics::MetricsHistogramConfig,
) -> Result<Vec<f64>, String> {
    use hive_router::config::telemetry::metrics::MetricsHistogramConfig;
    match config {
        MetricsHistogramConfig::Explicit { seconds, .. } => seconds.resolve_seconds_buckets(),
        _ => match MetricsHistogramConfig::default() {
            MetricsHistogramConfig::Explicit { seconds, .. } => seconds.resolve_seconds_buckets(),
            _ => Err("the engine has no default seconds buckets".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hive_router::http::StatusCode;

    /// The text `/metrics` shows for `registry`.
    fn text(registry: &Registry) -> String {
        use prometheus::Encoder;
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&registry.gather(), &mut out)
            .expect("encode");
        String::from_utf8(out).expect("utf-8")
    }

    fn count(text: &str, family: &str, labels: &[&str]) -> Option<u64> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{family}_count{{")))
            .find(|l| labels.iter().all(|label| l.contains(label)))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
    }

    #[test]
    fn requests_and_fetches_are_measured_by_outcome() {
        let registry = Registry::new();
        let latency = Latency::register(&registry, vec![0.1, 1.0], true).expect("register");
        let request = |status, ok, name| Request {
            method: "POST",
            status,
            route: "/graphql",
            ok,
            operation_name: name,
            operation_type: Some("query"),
        };
        latency.request(Instant::now(), request(StatusCode::OK, true, Some("Names")));
        latency.request(Instant::now(), request(StatusCode::OK, true, Some("Names")));
        latency.request(Instant::now(), request(StatusCode::OK, false, None));
        latency.request(
            Instant::now(),
            request(StatusCode::TOO_MANY_REQUESTS, false, Some("Names")),
        );
        latency.fetch("a").answered(Some(StatusCode::OK), false);
        latency.fetch("a").answered(Some(StatusCode::OK), true);
        latency
            .fetch("a")
            .answered(Some(StatusCode::BAD_GATEWAY), false);
        latency.fetch("b").answered(None, false);
        drop(latency.fetch("b"));
        let text = text(&registry);
        let server = "http_server_request_duration_seconds";
        assert_eq!(
            count(
                &text,
                server,
                &[
                    "graphql_operation_name=\"Names\"",
                    "graphql_response_status=\"ok\"",
                    "http_response_status_code=\"200\"",
                    "http_route=\"/graphql\"",
                    "error_type=\"\"",
                ]
            ),
            Some(2),
            "{text}"
        );
        assert_eq!(
            count(
                &text,
                server,
                &[
                    "graphql_operation_name=\"UNKNOWN\"",
                    "graphql_response_status=\"error\""
                ]
            ),
            Some(1),
            "{text}"
        );
        assert_eq!(
            count(&text, server, &["error_type=\"429\""]),
            Some(1),
            "{text}"
        );
        let client = "http_client_request_duration_seconds";
        let fetch = |labels: &[&str]| count(&text, client, labels);
        assert_eq!(
            fetch(&[
                "subgraph_name=\"a\"",
                "graphql_response_status=\"ok\"",
                "=\"200\""
            ]),
            Some(1),
            "{text}"
        );
        assert_eq!(
            fetch(&[
                "subgraph_name=\"a\"",
                "graphql_response_status=\"error\"",
                "=\"200\""
            ]),
            Some(1),
            "{text}"
        );
        assert_eq!(
            fetch(&["subgraph_name=\"a\"", "error_type=\"502\""]),
            Some(1),
            "{text}"
        );
        // In-process answers have no HTTP status; a fetch dropped without
        // an answer is a failure.
        assert_eq!(
            fetch(&[
                "subgraph_name=\"b\"",
                "graphql_response_status=\"ok\"",
                "http_response_status_code=\"\""
            ]),
            Some(1),
            "{text}"
        );
        assert_eq!(
            fetch(&[
                "subgraph_name=\"b\"",
                "graphql_response_status=\"error\"",
                "error_type=\"SUBGRAPH_REQUEST_FAILURE\""
            ]),
            Some(1),
            "{text}"
        );
    }

    #[test]
    fn operation_names_past_the_bound_are_counted_together() {
        let registry = Registry::new();
        let latency = Latency::register(&registry, vec![1.0], true).expect("register");
        let named = |name: &str| {
            latency.request(
                Instant::now(),
                Request {
                    method: "POST",
                    status: StatusCode::OK,
                    route: "/graphql",
                    ok: true,
                    operation_name: Some(name),
                    operation_type: None,
                },
            )
        };
        for i in 0..MAX_OPERATION_NAMES + 5 {
            named(&format!("Op{i}"));
        }
        let shown = text(&registry);
        assert_eq!(
            count(
                &shown,
                "http_server_request_duration_seconds",
                &["graphql_operation_name=\"otel_metric_overflow\""]
            ),
            Some(5),
            "{shown}"
        );
        // A name known before the bound keeps its own series.
        named("Op0");
        assert_eq!(
            count(
                &text(&registry),
                "http_server_request_duration_seconds",
                &["graphql_operation_name=\"Op0\""]
            ),
            Some(2)
        );
    }
}
