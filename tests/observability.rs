//! Traces: with `--otlp-endpoint`, a cross-domain query is exported to a
//! real OTLP/HTTP receiver (this test's, decoding the protobuf the
//! OpenTelemetry exporter sends) as one trace with a span per domain
//! fetch, and the domains receive the W3C trace context.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attributes: Vec<(String, String)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn value_text(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(V::StringValue(s)) => s.clone(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// An OTLP/HTTP trace receiver on a loopback port.
async fn receiver() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let store = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
                    return axum::http::StatusCode::BAD_REQUEST;
                };
                let mut out = store.lock().expect("spans");
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            out.push(Span {
                                trace_id: hex(&span.trace_id),
                                span_id: hex(&span.span_id),
                                parent: hex(&span.parent_span_id),
                                name: span.name.clone(),
                                attributes: span
                                    .attributes
                                    .iter()
                                    .map(|kv| (kv.key.clone(), value_text(&kv.value)))
                                    .collect(),
                            });
                        }
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1/traces"), spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_domain_query_is_one_trace_with_a_span_per_domain_fetch() {
    let (endpoint, spans) = receiver().await;
    // The customers domain records the trace context it is sent.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let customers = domains::serve(domains::demo::customers().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let record = record.clone();
            async move {
                if let Some(tp) = request
                    .headers()
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                {
                    record.lock().expect("seen").push(tp.to_string());
                }
                next.run(request).await
            }
        },
    )))
    .await
    .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let db = tempfile::tempdir().expect("dir");
    let database = db.path().join("traces.db");
    let server = Server::start_with(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database.to_str().expect("path"),
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--otlp-endpoint",
        &endpoint,
    ]);
    for (name, url) in [("customers", &customers.url), ("orders", &orders.url)] {
        common::register(
            &server,
            json!({ "name": name, "ownerTeam": "t", "contact": "t@example.com", "apiUrl": url }),
        )
        .await;
    }
    let query = "query Traced { ordersByDate(date: \"2026-11-24\") { id customer { name } } }";
    server
        .wait_for(query, |a| {
            a["data"]["ordersByDate"][0]["customer"]["name"].is_string()
        })
        .await;

    // The caller's own trace: the gateway continues it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        answer["data"]["ordersByDate"][0]["customer"]["name"], "Grace Hopper",
        "{answer}"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let ours = loop {
        let ours: Vec<Span> = spans
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect();
        let fetched: std::collections::BTreeSet<String> = ours
            .iter()
            .flat_map(|s| s.attributes.iter())
            .filter(|(k, _)| k == "hive.graphql.subgraph.name")
            .map(|(_, v)| v.clone())
            .collect();
        if fetched.contains("customers") && fetched.contains("orders") {
            break ours;
        }
        assert!(
            Instant::now() < deadline,
            "no span per domain fetch in trace {trace_id}: {ours:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // One span per fetch of each domain (this query fetches each once),
    // with its HTTP call under it, all in the caller's trace.
    for domain in ["customers", "orders"] {
        let fetches: Vec<&Span> = ours
            .iter()
            .filter(|s| {
                s.name == "graphql.subgraph.operation"
                    && s.attributes
                        .iter()
                        .any(|(k, v)| k == "hive.graphql.subgraph.name" && v == domain)
            })
            .collect();
        assert_eq!(fetches.len(), 1, "{domain}: {ours:#?}");
        let calls = ours
            .iter()
            .filter(|s| s.name == "http.client" || s.name == "http.inflight")
            .filter(|s| descends_from(&ours, s, &fetches[0].span_id))
            .count();
        assert!(calls >= 1, "{domain}'s fetch has its HTTP call: {ours:#?}");
    }
    let ids: std::collections::BTreeSet<&str> = ours.iter().map(|s| s.span_id.as_str()).collect();
    let roots: Vec<&Span> = ours
        .iter()
        .filter(|s| !ids.contains(s.parent.as_str()))
        .collect();
    assert!(
        roots.iter().all(|s| s.parent == "00f067aa0ba902b7"),
        "every span hangs under the caller's span: {roots:#?}"
    );
    // Catalog operations are spans too: the discovery API's, in the
    // caller's trace, and the background pulls and compositions.
    let catalog_trace = "0af7651916cd43dd8448eb211c80319c";
    let listed: Value = reqwest::Client::new()
        .post(format!("{}/catalog/graphql", server.base))
        .header(
            "traceparent",
            format!("00-{catalog_trace}-b7ad6b7169203331-01"),
        )
        .json(&json!({ "query": "query Listed { domains { totalCount } }" }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["data"]["domains"]["totalCount"], 2, "{listed}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = spans.lock().expect("spans").clone();
        let api = all.iter().any(|s| {
            s.trace_id == catalog_trace
                && s.name == "catalog.graphql"
                && s.parent == "b7ad6b7169203331"
                && s.attributes
                    .iter()
                    .any(|(k, v)| k == "graphql.operation.name" && v == "Listed")
        });
        let background = ["catalog.schema_pull", "catalog.compose"]
            .iter()
            .all(|name| all.iter().any(|s| s.name == *name));
        if api && background {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "catalog spans missing (api {api}, background {background}): {:#?}",
            all.iter()
                .filter(|s| s.name.starts_with("catalog."))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The domain was sent the same trace.
    let sent = seen.lock().expect("seen").clone();
    assert!(
        sent.iter().any(|tp| tp.contains(trace_id)),
        "customers was sent {sent:?}"
    );
}

fn descends_from(spans: &[Span], span: &Span, ancestor: &str) -> bool {
    let mut parent = span.parent.clone();
    for _ in 0..32 {
        if parent == ancestor {
            return true;
        }
        match spans.iter().find(|s| s.span_id == parent) {
            Some(p) => parent = p.parent.clone(),
            None => return false,
        }
    }
    false
}

/// Requests a receiver got: headers and body of each.
type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A webhook receiver that fails its first request (to see a retry) and
/// keeps every request's headers and body.
async fn webhook_receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let mut all = store.lock().expect("hooks");
                    all.push((headers, body.to_vec()));
                    if all.len() == 1 {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::NO_CONTENT
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

/// HMAC-SHA256 of `t.body`, computed here (not with Meshwork's code).
fn expected_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::Mac;
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_webhooks_signed_retried_and_logged() {
    let (hook_url, got) = webhook_receiver().await;
    let admin = "alerts-admin-token-0123456789";
    let auth = format!("Bearer {admin}");
    let as_admin = [("authorization", auth.as_str())];
    let db = tempfile::tempdir().expect("dir");
    let database = db.path().join("alerts.db");
    let server = Server::start_with_env(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database.to_str().expect("path"),
            "--schema-poll-interval",
            "1s",
            "--supergraph-poll-interval",
            "1s",
        ],
        &[("MESHWORK_LOG", "warn"), ("MESHWORK_ADMIN_TOKEN", admin)],
    );
    let create = "mutation($spec: AlertWebhookSpec!) { createAlertWebhook(spec: $spec) { name url events enabled } }";
    let secret = "webhook-signing-secret-0123456789";

    // Refused: callers who are not admins, and bad settings (each named).
    let anonymous = server
        .graphql(
            create,
            json!({ "spec": { "name": "ops", "url": hook_url, "secret": secret } }),
        )
        .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{anonymous}"
    );
    let bad = server
        .graphql_with(
            &as_admin,
            create,
            json!({ "spec": { "name": "Ops!", "url": "ftp://x", "secret": "short", "events": ["nope"] } }),
        )
        .await;
    let fields: Vec<&str> = bad["errors"][0]["extensions"]["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["name", "url", "secret", "events[0]"], "{bad}");
    let none = server
        .graphql_with(&as_admin, "{ alertWebhooks { name } }", json!({}))
        .await;
    assert_eq!(none["data"]["alertWebhooks"], json!([]), "{none}");

    let created = server
        .graphql_with(
            &as_admin,
            create,
            json!({ "spec": { "name": "ops", "url": hook_url, "secret": secret } }),
        )
        .await;
    assert_eq!(
        created["data"]["createAlertWebhook"]["enabled"], true,
        "{created}"
    );
    let listed = server
        .graphql_with(&as_admin, "{ alertWebhooks { name url } }", json!({}))
        .await;
    assert!(
        !listed.to_string().contains(secret),
        "the secret is never shown: {listed}"
    );

    // Two domains whose schemas conflict: the composition fails. A third
    // whose schema endpoint is down: after 3 failed pulls it is failing.
    let one = domains::serve(domains::synthetic::router("type Query { clash: Int }").expect("sdl"))
        .await
        .expect("one");
    let two =
        domains::serve(domains::synthetic::router("type Query { clash: String }").expect("sdl"))
            .await
            .expect("two");
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let dead = format!("http://{}/graphql", closed.local_addr().expect("addr"));
    drop(closed);
    let register = "mutation($spec: DomainSpec!) { registerDomain(spec: $spec) { name } }";
    for (name, url) in [("one", &one.url), ("two", &two.url), ("down", &dead)] {
        let r = server
            .graphql_with(
                &as_admin,
                register,
                json!({ "spec": { "name": name, "ownerTeam": "t", "contact": "t@example.com", "apiUrl": url } }),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r}");
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let events: Vec<(axum::http::HeaderMap, Vec<u8>)> = got.lock().expect("hooks").clone();
        let names: Vec<String> = events
            .iter()
            .filter_map(|(h, _)| h.get("x-meshwork-event")?.to_str().ok().map(str::to_string))
            .collect();
        // The first request was answered 500; its event comes again.
        let failed = names.iter().filter(|n| *n == "composition.failed").count();
        if failed >= 1 && names.iter().any(|n| n == "domain.schema_failing") && names.len() >= 3 {
            break events;
        }
        assert!(Instant::now() < deadline, "alerts so far: {names:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (headers, body) in &events {
        let signature = headers
            .get("x-meshwork-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            expected_signature(secret, signature, body),
            "signed with the secret: {signature}"
        );
        let payload: Value = serde_json::from_slice(body).expect("JSON body");
        assert_eq!(
            Some(payload["event"].as_str().unwrap_or_default()),
            headers
                .get("x-meshwork-event")
                .and_then(|v| v.to_str().ok())
        );
    }
    let failing: Value = events
        .iter()
        .find(|(h, _)| {
            h.get("x-meshwork-event")
                .is_some_and(|v| v == "domain.schema_failing")
        })
        .map(|(_, b)| serde_json::from_slice(b).expect("JSON"))
        .expect("failing alert");
    assert_eq!(failing["target"], "domain:down", "{failing}");
    assert_eq!(failing["details"]["consecutiveFailures"], 3, "{failing}");
    // The first delivery was retried: its id came twice, and the log says
    // it took two attempts and was delivered.
    let first_id = events[0].0.get("x-meshwork-delivery").cloned();
    assert_eq!(
        events
            .iter()
            .filter(|(h, _)| h.get("x-meshwork-delivery").cloned() == first_id)
            .count(),
        2
    );
    let log = server
        .graphql_with(
            &as_admin,
            "{ alertDeliveries(webhook: \"ops\") { id event status attempts lastStatusCode } }",
            json!({}),
        )
        .await;
    let rows = log["data"]["alertDeliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let retried = rows
        .iter()
        .find(|r| {
            Some(r["id"].to_string())
                == first_id
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(retried["status"], "DELIVERED", "{log}");
    assert_eq!(retried["attempts"], 2, "{log}");
    assert_eq!(retried["lastStatusCode"], 204, "{log}");
    // Each alert is in the audit log too.
    let audit = server
        .graphql(
            "{ auditLog(filter: { action: \"domain.schema_failing\" }) { nodes { target } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        audit["data"]["auditLog"]["nodes"][0]["target"], "domain:down",
        "{audit}"
    );
}

/// The value of the first `{family}_count{…}` line holding every label.
fn histogram_count(text: &str, family: &str, labels: &[&str]) -> Option<u64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}_count{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

async fn metrics_text(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text")
}

async fn ask_names(http: &reqwest::Client, base: &str) -> reqwest::Response {
    http.post(format!("{base}/graphql"))
        .json(&json!({ "query": "query Names { customers { name } }" }))
        .send()
        .await
        .expect("POST /graphql")
}

/// With Meshwork's default metrics the two latency histograms are
/// Meshwork's own (`gateway/src/latency.rs`): each request to the GraphQL
/// path by operation and outcome, refusals before the engine included, and,
/// where its plugin runs, each fetch from a domain by domain and outcome, a
/// domain that does not answer counted as a failure. A router config that configures metrics
/// gets the engine's instruments as it asks (here: no domain latency).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latency_histograms_count_answers_failures_and_refusals() {
    const SERVER: &str = "http_server_request_duration_seconds";
    const CLIENT: &str = "http_client_request_duration_seconds";
    const NAMES: &str = "graphql_operation_name=\"Names\"";
    const CUSTOMERS: &str = "subgraph_name=\"customers\"";
    let (customers, supergraph) = common::customers_alone().await;
    let http = reqwest::Client::new();
    let gateway = common::static_gateway(
        &supergraph.sdl,
        None,
        &["--rate-limit-per-minute", "1", "--rate-limit-burst", "3"],
    )
    .await;
    let base = &gateway.server.base;
    for _ in 0..3 {
        let answer: Value = ask_names(&http, base).await.json().await.expect("json");
        assert!(answer["data"]["customers"].is_array(), "{answer}");
    }
    // The burst is used up: refused before the engine.
    assert_eq!(ask_names(&http, base).await.status().as_u16(), 429);
    let text = metrics_text(base).await;
    let count = |family, labels: &[&str]| histogram_count(&text, family, labels);
    let ok = "graphql_response_status=\"ok\"";
    let error = "graphql_response_status=\"error\"";
    let status_200 = "http_response_status_code=\"200\"";
    assert_eq!(count(SERVER, &[NAMES, ok, status_200]), Some(3), "{text}");
    assert_eq!(
        count(SERVER, &[error, "error_type=\"429\""]),
        Some(1),
        "{text}"
    );
    assert_eq!(
        count(CLIENT, &[CUSTOMERS, ok, status_200]),
        Some(3),
        "{text}"
    );
    // The engine's own instruments stay off: each would cost every request.
    assert!(!text.contains("http_client_active_requests"), "{text}");

    // A domain that does not answer (nothing listens at its address).
    let dead = supergraph
        .sdl
        .replace(&customers.url, "http://127.0.0.1:9/graphql");
    assert_ne!(dead, supergraph.sdl);
    // (With the cache on: where Meshwork's plugin runs, it times each
    // domain fetch; elsewhere the engine does.)
    let gateway = common::static_gateway(&dead, None, &["--subgraph-cache-mib", "1"]).await;
    let base = &gateway.server.base;
    let answer: Value = ask_names(&http, base).await.json().await.expect("json");
    assert!(answer["errors"].is_array(), "{answer}");
    let text = metrics_text(base).await;
    let count = |family, labels: &[&str]| histogram_count(&text, family, labels);
    assert_eq!(
        count(SERVER, &[NAMES, error, status_200]),
        Some(1),
        "{text}"
    );
    let failed = "error_type=\"SUBGRAPH_REQUEST_FAILURE\"";
    assert_eq!(
        count(CLIENT, &[CUSTOMERS, error, failed]),
        Some(1),
        "{text}"
    );
    // The GraphQL path however the router matches it: percent-encoded, with
    // a trailing slash (GETs; the engine still asks the dead domain for
    // `__typename`, so their answers carry its error).
    for path in ["/graph%71l", "/graphql/"] {
        let answer = http
            .get(format!("{base}{path}?query=%7B__typename%7D"))
            .header("apollo-require-preflight", "1")
            .send()
            .await
            .expect("GET");
        assert_eq!(answer.status().as_u16(), 200, "{path}");
        let answer: Value = answer.json().await.expect("json");
        assert_eq!(answer["data"]["__typename"], "Query", "{path}: {answer}");
    }
    let text = metrics_text(base).await;
    let get = "http_request_method=\"GET\"";
    assert_eq!(
        histogram_count(&text, SERVER, &[get, status_200]),
        Some(2),
        "{text}"
    );

    // A router config's own metrics settings: the engine's instruments as
    // it asks, the domain latency off.
    let config = "telemetry:\n  metrics:\n    exporters:\n      - kind: prometheus\n        enabled: true\n        path: /metrics\n    instrumentation:\n      instruments:\n        http.client.request.duration: false\n";
    let gateway = common::static_gateway(&supergraph.sdl, Some(config), &[]).await;
    let base = &gateway.server.base;
    let answer: Value = ask_names(&http, base).await.json().await.expect("json");
    assert!(answer["data"]["customers"].is_array(), "{answer}");
    let text = metrics_text(base).await;
    assert_eq!(
        histogram_count(&text, SERVER, &[NAMES, ok]),
        Some(1),
        "{text}"
    );
    assert!(!text.contains(CLIENT), "{text}");
    drop(customers);
}
