//! The mesh end to end: domains registered in the catalog are pulled,
//! composed and served by the gateway; a bad schema never takes the graph
//! down; a new composition is swapped in with no failed request.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};
use axum::response::IntoResponse;
use common::{databases, Server};
use serde_json::{json, Value};

const ORDERS_QUERY: &str = r#"{ ordersByDate(date: "2026-11-24") { id customer { name } } }"#;

fn domain(name: &str, url: &str) -> Value {
    json!({ "name": name, "ownerTeam": "team", "contact": "team@example.com", "apiUrl": url })
}

async fn composition(server: &Server) -> Value {
    let r = server
        .graphql(
            "{ composition { status version servedVersion errors { domain message code locations { domain line } } warnings { code } } }",
            json!({}),
        )
        .await;
    r["data"]["composition"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_domains_are_served_as_one_graph_and_a_recomposition_fails_no_request() {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    for db in databases().await {
        let server = Server::start_fast(&db.url);
        common::register(&server, domain("customers", &customers.url)).await;
        common::register(&server, domain("orders", &orders.url)).await;
        let answer = server
            .wait_for(ORDERS_QUERY, |a| {
                a["data"]["ordersByDate"]
                    .as_array()
                    .is_some_and(|o| !o.is_empty())
            })
            .await;
        assert_eq!(
            answer["data"],
            json!({ "ordersByDate": [
                { "id": "o2", "customer": { "name": "Grace Hopper" } },
                { "id": "o3", "customer": { "name": "Ada Lovelace" } }
            ]}),
            "[{}]",
            db.label
        );

        // A bounded request loop runs while a third domain joins the graph.
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let loop_task = {
            let (stop, sent, failures) = (stop.clone(), sent.clone(), failures.clone());
            let url = format!("{}/graphql", server.base);
            let expected = answer.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let started = Instant::now();
                while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(90) {
                    let result = http
                        .post(&url)
                        .json(&json!({ "query": ORDERS_QUERY }))
                        .send()
                        .await;
                    sent.fetch_add(1, Ordering::SeqCst);
                    let failure = match result {
                        Err(e) => Some(format!("transport: {e}")),
                        Ok(r) if r.status() != 200 => Some(format!("status {}", r.status())),
                        Ok(r) => match r.json::<Value>().await {
                            Ok(body) if body == expected => None,
                            Ok(body) => Some(format!("answer {body}")),
                            Err(e) => Some(format!("body: {e}")),
                        },
                    };
                    if let Some(f) = failure {
                        failures.lock().expect("lock").push(f);
                    }
                }
            })
        };
        let before = composition(&server).await["servedVersion"].clone();
        common::register(&server, domain("inventory", &inventory.url)).await;
        let answer = server
            .wait_for(
                r#"{ ordersByDate(date: "2026-11-23") { lines { product { name inStock } } } }"#,
                |a| a["data"]["ordersByDate"][0]["lines"][0]["product"]["name"].is_string(),
            )
            .await;
        assert_eq!(
            answer["data"]["ordersByDate"][0]["lines"][0]["product"],
            json!({ "name": "Oak table", "inStock": 3 })
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        loop_task.await.expect("request loop");
        let after = composition(&server).await["servedVersion"].clone();
        assert_ne!(before, after, "[{}] a new composition was served", db.label);
        let failures = failures.lock().expect("lock").clone();
        let sent = sent.load(Ordering::SeqCst);
        assert!(
            sent >= 20,
            "[{}] only {sent} requests ran across the swap",
            db.label
        );
        assert!(
            failures.is_empty(),
            "[{}] {} of {sent} requests failed across the swap: {:?}",
            db.label,
            failures.len(),
            &failures[..failures.len().min(5)]
        );
    }
}

/// A `shipping` domain whose schema can be switched at run time: 0 = a
/// schema that conflicts with `customers`, 1 = a good one, 2 = endpoint down.
#[derive(SimpleObject)]
#[graphql(name = "Customer")]
struct ConflictingCustomer {
    id: ID,
    /// `customers` says `name: String!`; this says `Int`.
    name: Option<i32>,
}

struct ConflictingQuery;

#[Object(name = "Query")]
impl ConflictingQuery {
    async fn shipments(&self) -> Vec<String> {
        vec![]
    }
    #[graphql(entity)]
    async fn find_customer_by_id(&self, id: ID) -> ConflictingCustomer {
        ConflictingCustomer { id, name: Some(1) }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Customer")]
struct ShippingCustomer {
    id: ID,
    shipping_address: String,
}

struct ShippingQuery;

#[Object(name = "Query")]
impl ShippingQuery {
    async fn shipments(&self) -> Vec<String> {
        vec!["s1".into()]
    }
    #[graphql(entity)]
    async fn find_customer_by_id(&self, id: ID) -> ShippingCustomer {
        ShippingCustomer {
            id,
            shipping_address: "1 Main St".into(),
        }
    }
}

fn shipping(mode: Arc<AtomicU8>) -> axum::Router {
    let bad = Schema::build(ConflictingQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let good = Schema::build(ShippingQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |request: async_graphql_axum::GraphQLRequest| {
            let (bad, good, mode) = (bad.clone(), good.clone(), mode.clone());
            async move {
                match mode.load(Ordering::SeqCst) {
                    0 => async_graphql_axum::GraphQLResponse::from(
                        bad.execute(request.into_inner()).await,
                    )
                    .into_response(),
                    1 => async_graphql_axum::GraphQLResponse::from(
                        good.execute(request.into_inner()).await,
                    )
                    .into_response(),
                    _ => (axum::http::StatusCode::BAD_GATEWAY, "down").into_response(),
                }
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_schema_keeps_the_last_good_graph_until_the_domain_fixes_it() {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let mode = Arc::new(AtomicU8::new(0));
    let shipping = domains::serve(shipping(mode.clone()))
        .await
        .expect("shipping");
    for db in databases().await {
        mode.store(0, Ordering::SeqCst);
        let server = Server::start_fast(&db.url);
        common::register(&server, domain("customers", &customers.url)).await;
        server
            .wait_for("{ customers { name } }", |a| {
                a["data"]["customers"].is_array()
            })
            .await;
        let good = composition(&server).await;
        assert_eq!(good["status"], "SUCCESS", "[{}] {good}", db.label);

        common::register(&server, domain("shipping", &shipping.url)).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let failed = loop {
            let c = composition(&server).await;
            if c["status"] == "FAILED" {
                break c;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] composition never failed: {c}",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            failed["servedVersion"], good["servedVersion"],
            "[{}] the last good graph keeps serving",
            db.label
        );
        let message = failed["errors"].to_string();
        assert!(
            message.contains("name"),
            "[{}] errors should name the conflicting field: {message}",
            db.label
        );
        // The stored problem names its rule and where it lies.
        let problem = &failed["errors"][0];
        assert!(
            problem["code"].is_string()
                && (problem["domain"].is_string()
                    || problem["locations"]
                        .as_array()
                        .is_some_and(|l| !l.is_empty())),
            "[{}] {problem}",
            db.label
        );
        // The problem shows on the domains it lies in.
        let shown = server
            .graphql(
                r#"{ shipping: domain(name: "shipping") { compositionProblems { message } }
                     customers: domain(name: "customers") { compositionProblems { message } } }"#,
                json!({}),
            )
            .await;
        let involved: Vec<&str> = failed["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| {
                p["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l["domain"].as_str())
                    .chain(p["domain"].as_str())
            })
            .collect();
        for name in ["shipping", "customers"] {
            let problems = shown["data"][name]["compositionProblems"]
                .as_array()
                .map(Vec::len)
                .unwrap_or_default();
            assert_eq!(
                problems > 0,
                involved.contains(&name),
                "[{}] {name}: {shown} (problems name {involved:?})",
                db.label
            );
        }
        assert!(involved.contains(&"shipping"), "[{}] {failed}", db.label);
        let answer = server.mesh("{ customers { name } }", json!({})).await;
        assert_eq!(
            answer["data"]["customers"][0]["name"], "Ada Lovelace",
            "[{}] {answer}",
            db.label
        );
        let audit = server
            .graphql(
                "{ auditLog(filter: { action: \"composition.failed\" }) { nodes { action } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            audit["data"]["auditLog"]["nodes"][0]["action"],
            "composition.failed"
        );
        // A group (no dot) lists every action of it, and only those: `_`
        // and `%` are not wildcards.
        let group = server
            .graphql(
                "{ all: auditLog(filter: { action: \"composition\" }, first: 100) { nodes { action } } \
                   none: auditLog(filter: { action: \"compos_tion\" }) { nodes { action } } \
                   pct: auditLog(filter: { action: \"%\" }) { nodes { action } } }",
                json!({}),
            )
            .await;
        let actions: Vec<&str> = group["data"]["all"]["nodes"]
            .as_array()
            .map(|n| n.iter().filter_map(|e| e["action"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            actions.contains(&"composition.failed")
                && actions.contains(&"composition.success")
                && actions.iter().all(|a| a.starts_with("composition.")),
            "[{}] {group}",
            db.label
        );
        assert_eq!(group["data"]["none"]["nodes"], json!([]), "{group}");
        assert_eq!(group["data"]["pct"]["nodes"], json!([]), "{group}");

        // The endpoint goes down: health says so, the last schema stays.
        mode.store(2, Ordering::SeqCst);
        let out = server.cli(&["refresh", "shipping"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("502"),
            "[{}] {stderr}",
            db.label
        );
        let r = server
            .graphql(
                "{ domain(name: \"shipping\") { health { consecutiveFailures lastError lastSuccessAt } schemaVersions { hash } } }",
                json!({}),
            )
            .await;
        let d = &r["data"]["domain"];
        assert_eq!(d["health"]["consecutiveFailures"], 1, "[{}] {r}", db.label);
        assert!(d["health"]["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("502"));
        assert!(d["health"]["lastSuccessAt"].is_string());
        assert_eq!(d["schemaVersions"].as_array().map(Vec::len), Some(1));

        // The domain fixes its schema: the next pull composes and serves it.
        mode.store(1, Ordering::SeqCst);
        let out = server.cli(&["refresh", "shipping"]);
        assert!(out.status.success(), "[{}] {out:?}", db.label);
        assert!(String::from_utf8_lossy(&out.stdout).contains("new schema version"));
        let answer = server
            .wait_for("{ customers { name shippingAddress } }", |a| {
                a["data"]["customers"].is_array()
            })
            .await;
        assert_eq!(
            answer["data"]["customers"][0],
            json!({ "name": "Ada Lovelace", "shippingAddress": "1 Main St" })
        );
        assert_eq!(composition(&server).await["status"], "SUCCESS");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_serves_a_precomposed_supergraph_file_with_no_catalog() {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let supergraph =
        common::compose(&[("customers", &customers.url), ("orders", &orders.url)]).await;
    let gateway = common::static_gateway(&supergraph.sdl, None, &[]).await;
    let server = &gateway.server;
    let http = reqwest::Client::new();
    let answer = server.mesh(ORDERS_QUERY, json!({})).await;
    assert_eq!(
        answer["data"]["ordersByDate"][1],
        json!({ "id": "o3", "customer": { "name": "Ada Lovelace" } }),
        "{answer}"
    );
    let live = http
        .get(format!("{}/live", server.base))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), 200);
    let page = http
        .get(format!("{}/graphql", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("graphiql");
    assert!(page
        .text()
        .await
        .unwrap_or_default()
        .contains("/ide/assets/graphiql.min.js"));
    let asset = http
        .get(format!("{}/ide/assets/graphiql.min.js", server.base))
        .send()
        .await
        .expect("asset");
    assert_eq!(asset.status(), 200);

    let missing = std::process::Command::new(common::binary())
        .args(["gateway", "--supergraph", "/nonexistent/supergraph.graphql"])
        .output()
        .expect("run gateway");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_replicas_follow_the_control_plane_with_its_key() {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("control.db");
    let control = Server::start_with(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db.to_string_lossy(),
        "--cdn-key",
        "replica-secret-0123456789abcdef-0123",
        "--supergraph-poll-interval",
        "1s",
    ]);
    let replica = Server::start_replica(&control.base, "replica-secret-0123456789abcdef-0123");
    let stranger = Server::start_replica(&control.base, "wrong-key-0123456789abcdef-0123456789");
    common::register(&control, domain("customers", &customers.url)).await;
    let answer = replica
        .wait_for("{ customers { name } }", |a| {
            a["data"]["customers"].is_array()
        })
        .await;
    assert_eq!(answer["data"]["customers"][0]["name"], "Ada Lovelace");

    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/health", stranger.base))
        .send()
        .await
        .expect("health");
    assert_eq!(
        health.status(),
        503,
        "a replica with the wrong key never gets a supergraph"
    );
    let direct = http
        .get(format!("{}/control/supergraph", control.base))
        .send()
        .await
        .expect("supergraph");
    assert_eq!(direct.status(), 401);
    let keyed = http
        .get(format!("{}/control/supergraph", control.base))
        .header("x-hive-cdn-key", "replica-secret-0123456789abcdef-0123")
        .send()
        .await
        .expect("supergraph");
    assert_eq!(keyed.status(), 200);
    let etag = keyed.headers()["etag"].clone();
    let again = http
        .get(format!("{}/control/supergraph", control.base))
        .header("x-hive-cdn-key", "replica-secret-0123456789abcdef-0123")
        .header("if-none-match", etag)
        .send()
        .await
        .expect("supergraph");
    assert_eq!(again.status(), 304);

    // The replica reports what it serves; the one with the wrong key
    // reports nothing (its reports are refused too).
    let state = wait_state(
        &control,
        "{ composition { readyVersion gateways { role live servedVersion } } }",
        |c| {
            c["gateways"].as_array().is_some_and(|g| {
                g.iter().any(|g| {
                    g["role"] == "replica"
                        && g["live"] == true
                        && g["servedVersion"] == c["readyVersion"]
                })
            })
        },
    )
    .await;
    let replicas = state["gateways"]
        .as_array()
        .map(|g| g.iter().filter(|g| g["role"] == "replica").count());
    assert_eq!(replicas, Some(1), "{state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_answers_the_readme_queries() {
    let demo = Server::start_demo();
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README");
    // The README's first two queries, each with the answer shown under it:
    // REST joined to GraphQL, then GraphQL only.
    let queries = [
        (
            r#"{ shipmentsByDate(date: "2026-11-25") { id carrier status order { id total customer { name } } } }"#,
            "shipmentsByDate",
        ),
        (
            r#"{ ordersByDate(date: "2026-11-24") { id total customer { name email } lines { quantity product { name inStock } } } }"#,
            "ordersByDate",
        ),
    ];
    for (i, (query, root)) in queries.into_iter().enumerate() {
        let escaped = query.replace('"', "\\\"");
        assert!(readme.contains(&escaped), "the README shows {query}");
        let answer = demo.wait_for(query, |a| a["data"][root].is_array()).await;
        let shown = readme
            .split("```json")
            .nth(i + 1)
            .and_then(|rest| rest.split("```").next())
            .expect("README shows the answer in a json block");
        let shown: Value = serde_json::from_str(shown).expect("README answer is JSON");
        assert_eq!(
            answer, shown,
            "the README's answer is what the demo returns"
        );
    }

    // The demo's address opens the console, which loads nothing from
    // outside the binary (its content security policy says so too).
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/", demo.base))
        .send()
        .await
        .expect("GET /");
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let html = page.text().await.expect("console page");
    assert!(html.contains("/console/console.js"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let script = http
        .get(format!("{}/console/console.js", demo.base))
        .send()
        .await
        .expect("GET the console's script");
    assert_eq!(script.status(), 200);
    assert_eq!(
        script
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let body = script.bytes().await.expect("script");
    assert!(
        body.len() > 10_000 && body.starts_with(&[0x1f, 0x8b]),
        "the bundled script, gzipped ({} bytes)",
        body.len()
    );
}

/// `meshwork compose` over the demo domains' schema files prints exactly
/// the supergraph the running demo serves (a domain team's CI sees what
/// the mesh will serve).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_prints_the_supergraph_the_running_demo_serves() {
    let key = "demo-compose-cdn-key-0123456789abcdef";
    let server = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--cdn-key",
        key,
        "--supergraph-poll-interval",
        "1s",
    ]);
    let listed = server
        .graphql(
            "{ domains(first: 50) { nodes { name kind apiUrl latestSchemaVersion { document } } } }",
            serde_json::json!({}),
        )
        .await;
    let mut nodes: Vec<serde_json::Value> = listed["data"]["domains"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    nodes.sort_by_key(|n| n["name"].as_str().unwrap_or_default().to_string());
    assert_eq!(nodes.len(), 4, "{listed}");
    let dir = tempfile::tempdir().expect("dir");
    let mut args: Vec<String> = vec!["compose".into()];
    for node in &nodes {
        let name = node["name"].as_str().expect("name");
        let file = dir.path().join(format!("{name}.graphql"));
        std::fs::write(
            &file,
            node["latestSchemaVersion"]["document"]
                .as_str()
                .expect("schema document"),
        )
        .expect("write schema");
        // A REST domain is served through its derived subgraph.
        let url = if node["kind"] == "REST" {
            format!("{}/rest/{name}/graphql", server.base)
        } else {
            node["apiUrl"].as_str().expect("apiUrl").to_string()
        };
        args.extend([
            "--subgraph".into(),
            format!("{name}={}", file.display()),
            "--url".into(),
            format!("{name}={url}"),
        ]);
    }
    // The catalog's own subgraph, as its route gives its schema.
    let builtin: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/rest/meshwork/graphql", server.base))
        .header("x-meshwork-rest-key", key)
        .json(&serde_json::json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .expect("POST the catalog subgraph")
        .json()
        .await
        .expect("JSON");
    let file = dir.path().join("meshwork.graphql");
    std::fs::write(
        &file,
        builtin["data"]["_service"]["sdl"]
            .as_str()
            .expect("the catalog subgraph's SDL"),
    )
    .expect("write schema");
    args.extend([
        "--subgraph".into(),
        format!("meshwork={}", file.display()),
        "--url".into(),
        format!("meshwork={}/rest/meshwork/graphql", server.base),
    ]);
    let output = std::process::Command::new(common::binary())
        .args(&args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("meshwork compose");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let served = reqwest::Client::new()
        .get(format!("{}/control/supergraph", server.base))
        .header("x-hive-cdn-key", key)
        .send()
        .await
        .expect("GET supergraph")
        .text()
        .await
        .expect("body");
    // What is served carries the composition's hash in one description
    // (`access::control::mark_supergraph`); the rest is the same text.
    let served: String = served
        .lines()
        .filter(|l| !l.starts_with("\"meshwork composition "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        served.trim()
    );
}

/// Composition hints are kept as warnings on the stored attempt, which
/// still succeeds and is served: an optional argument one domain has and
/// another lacks is left out of the supergraph, and the catalog says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composition_hints_are_stored_as_warnings_and_the_supergraph_is_served() {
    let link = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])"#;
    let search = domains::serve(
        domains::synthetic::router(&format!(
            "{link}\ntype Query {{ search(text: String, limit: Int): [String!] @shareable }}"
        ))
        .expect("synthetic"),
    )
    .await
    .expect("search");
    let archive = domains::serve(
        domains::synthetic::router(&format!(
            "{link}\ntype Query {{ search(text: String): [String!] @shareable }}"
        ))
        .expect("synthetic"),
    )
    .await
    .expect("archive");
    for db in databases().await {
        let server = Server::start_fast(&db.url);
        common::register(&server, domain("search", &search.url)).await;
        common::register(&server, domain("archive", &archive.url)).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let view = loop {
            let view = server
                .graphql(
                    "{ composition { status members { domain } warnings { code coordinate domains message } } }",
                    json!({}),
                )
                .await;
            // The two domains (the catalog's own subgraph joins them).
            let members = view["data"]["composition"]["members"]
                .as_array()
                .map(|m| m.iter().filter(|m| m["domain"] != "meshwork").count());
            if members == Some(2) {
                break view;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] never composed both: {view}",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let composition = &view["data"]["composition"];
        assert_eq!(composition["status"], "SUCCESS", "[{}] {view}", db.label);
        assert_eq!(
            composition["warnings"],
            json!([{
                "code": "INCONSISTENT_ARGUMENT_PRESENCE",
                "coordinate": "Query.search(limit:)",
                "domains": ["archive", "search"],
                "message": "Optional argument \"Query.search(limit:)\" is defined in \"search\" but not in \"archive\", where \"Query.search\" is also defined; it is left out of the supergraph."
            }]),
            "[{}]",
            db.label
        );
        let answer = server
            .wait_for(r#"{ search(text: "x") }"#, |a| {
                a["data"]["search"].is_array()
            })
            .await;
        assert_eq!(
            answer["data"]["search"][0], "search(text: \"x\")@Query#0",
            "[{}]",
            db.label
        );
    }
}

/// The gateway serves Prometheus metrics on its own address by default:
/// the engine's request, subgraph-call and supergraph series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mesh_serves_prometheus_metrics() {
    let server = Server::start_demo();
    server
        .wait_for("query Names { customers { name } }", |a| {
            a["data"]["customers"].is_array()
        })
        .await;
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    for series in [
        "http_server_request_duration_seconds_count",
        "http_client_request_duration_seconds_count",
        "hive_router_supergraph_poll_total",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
    assert!(text.contains("graphql_operation_name=\"Names\""), "{text}");
    // The latency series by domain and outcome, without the labels that
    // repeat for every request (a cost per measurement).
    let client: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_client_request_duration_seconds_count{"))
        .collect();
    assert!(!client.is_empty(), "{text}");
    for line in &client {
        assert!(
            line.contains("subgraph_name=") && line.contains("graphql_response_status="),
            "{line}"
        );
        assert!(
            !line.contains("server_address=") && !line.contains("url_scheme="),
            "{line}"
        );
    }
    // Meshwork's own series on the same endpoint: operations by consumer
    // and outcome, schema pulls and compositions by outcome.
    for series in [
        "meshwork_requests{consumer=\"anonymous\",outcome=\"ok\"",
        "meshwork_schema_pulls{outcome=\"ok\"",
        "meshwork_compositions{outcome=\"ok\"",
        "meshwork_db_pool_connections{state=\"idle\"",
        "meshwork_db_pool_connections{state=\"in_use\"",
        "meshwork_db_pool_max",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
}

/// `--log-format json`: one JSON object per log line, each request's with
/// its request id and operation name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_can_be_json_lines_with_request_ids() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(common::binary())
        .args(["demo", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("MESHWORK_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start meshwork demo");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a line before the address");
        if let Some((_, rest)) = line.split_once("serving on ") {
            break rest.trim().to_string();
        }
    };
    let http = reqwest::Client::new();
    let request_id = loop {
        let response = http
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "query JsonLogged { customers { name } }" }))
            .send()
            .await
            .expect("POST");
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer: Value = response.json().await.expect("JSON");
        if answer["data"]["customers"].is_array() {
            break id.expect("every answer carries x-request-id");
        }
        assert!(Instant::now() < deadline, "{answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the request's log line");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["operation_name"] == "JsonLogged" && entry["request_id"] == request_id.as_str() {
            break;
        }
    }

    // Errors name their request, whichever part refused it: the engine
    // (validation), Meshwork's authentication, the catalog. A client's own
    // well-formed id is kept; a malformed one is replaced.
    let cases = [
        ("/graphql", "{ nope }", None, Some("client-id-1")),
        (
            "/graphql",
            "{ __typename }",
            Some("Bearer not-a-jwt"),
            Some("client-id-2"),
        ),
        ("/catalog/graphql", "{ nope }", None, Some("client-id-3")),
        ("/graphql", "{ nope }", None, Some("bad id with spaces")),
        ("/graphql", "{ nope }", None, None),
    ];
    for (path, query, authorization, sent) in cases {
        let mut request = http
            .post(format!("{base}{path}"))
            .json(&json!({ "query": query }));
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = request.send().await.expect("POST");
        let header = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_default();
        let body: Value = response.json().await.expect("JSON");
        match sent {
            Some(id) if !id.contains(' ') => assert_eq!(header, id, "{path} {query}"),
            _ => assert!(
                header.len() >= 32 && !header.contains(' '),
                "a fresh id: {header:?}"
            ),
        }
        assert_eq!(
            body["errors"][0]["extensions"]["requestId"],
            header.as_str(),
            "{path} {query}: {body}"
        );
    }
}

/// The Grafana dashboard and the Prometheus alert rules in `deploy/` only
/// use series a running Meshwork exports (on `/metrics` or the control
/// plane's `/control/metrics`), so they cannot silently go stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_dashboard_and_alert_rules_use_series_meshwork_exports() {
    let key = "demo-metrics-cdn-key-0123456789abcdef";
    let server = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--cdn-key",
        key,
        "--supergraph-poll-interval",
        "1s",
    ]);
    server
        .wait_for(
            "query Seen { ordersByDate(date: \"2026-11-24\") { id customer { name } } }",
            |a| a["data"]["ordersByDate"].is_array(),
        )
        .await;
    let http = reqwest::Client::new();
    let mut exported = String::new();
    for (path, bearer) in [("/metrics", None), ("/control/metrics", Some(key))] {
        let mut request = http.get(format!("{}{path}", server.base));
        if let Some(key) = bearer {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("GET metrics");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        exported.push_str(&response.text().await.expect("metrics text"));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    // Exported from their first event only, and checked where a test makes
    // one: refusals in tests/access_control/, contract checks in
    // tests/schema_evolution.rs.
    let on_first_event = [
        "meshwork_refusals",
        "meshwork_contract_violations_total",
        "meshwork_contract_sampled_total",
    ];
    let mut checked = 0;
    for file in ["grafana/meshwork.json", "prometheus/meshwork-alerts.yml"] {
        let text = std::fs::read_to_string(root.join(file)).expect("deploy file");
        let names: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|t| {
                ["meshwork_", "http_server_", "http_client_"]
                    .iter()
                    .any(|p| t.starts_with(p))
            })
            .collect();
        assert!(names.len() > 5, "{file} names too few series: {names:?}");
        for name in names {
            if on_first_event.contains(&name) {
                continue;
            }
            let found = exported
                .lines()
                .any(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")));
            assert!(found, "{file} uses {name}, which Meshwork does not export");
            checked += 1;
        }
    }
    assert!(checked > 15, "{checked}");
}

/// A new user's first changes: pointing a domain at another API moves its
/// schema endpoint along and pulls at once, the CLI says how the pull
/// went, and a domain registered again is served again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_follows_its_api_url_and_a_reregistered_domain_is_served_again() {
    let first = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let second = domains::serve(domains::demo::customers())
        .await
        .expect("customers again");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("first-run.db");
    let server = Server::start_fast(db.to_str().expect("path"));
    // Another domain stays registered throughout, so the mesh is never
    // empty here (an_empty_mesh_… covers that).
    common::register(&server, domain("inventory", &inventory.url)).await;
    let write = |name: &str, value: Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).expect("write spec");
        path.to_string_lossy().into_owned()
    };
    let spec = write("customers.json", domain("customers", &first.url));
    let out = server.cli(&["register", "--file", &spec]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("schema pull: ok"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("schema endpoint health"), "{stdout}");
    server
        .wait_for("{ customers { name } }", |a| {
            a["data"]["customers"].is_array()
        })
        .await;

    // A new apiUrl: the schema endpoint (which was the API URL) follows.
    let patch = write("move.json", json!({ "apiUrl": second.url }));
    let out = server.cli(&["update", "customers", "--file", &patch]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("schema pull: ok"),
        "{stdout}"
    );
    let shown = server
        .graphql(
            "{ domain(name: \"customers\") { apiUrl schemaEndpoint health { lastSuccessAt } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        shown["data"]["domain"]["schemaEndpoint"],
        second.url.as_str(),
        "{shown}"
    );

    // Deregistered, then registered again with the same file: served again
    // without waiting for a schema change.
    let out = server.cli(&["deregister", "customers"]);
    assert!(out.status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = server.mesh("{ customers { name } }", json!({})).await;
        if answer.get("errors").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "still served: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let again = write("again.json", domain("customers", &second.url));
    let out = server.cli(&["register", "--file", &again]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = server
        .wait_for("{ customers { name } }", |a| {
            a["data"]["customers"].is_array()
        })
        .await;
    assert_eq!(
        served["data"]["customers"][0]["name"], "Ada Lovelace",
        "{served}"
    );
    let members = server
        .graphql("{ composition { members { domain } } }", json!({}))
        .await;
    assert!(
        members["data"]["composition"]["members"]
            .to_string()
            .contains("customers"),
        "{members}"
    );

    // A domain whose API does not answer: registered, and the CLI says the
    // pull failed and what to do.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/graphql", closed.local_addr().expect("addr"));
    drop(closed);
    let down = write("down.json", domain("billing", &dead));
    let out = server.cli(&["register", "--file", &down]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && stdout.contains("schema pull FAILED")
            && stdout.contains("refresh billing"),
        "{stdout}"
    );
    let out = server.cli(&["show", "billing"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAILING") && stdout.contains("last error"),
        "{stdout}"
    );
}

/// An empty mesh says so, in words a new user can act on, with a code and
/// a 503 to retry; a mesh emptied by deregistration serves nothing (the
/// engine still holds the last supergraph); a schema that does not parse
/// is a failed pull, never a version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_mesh_says_so_and_serves_nothing_and_unparsable_schemas_are_not_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("empty.db");
    let server = Server::start_fast(db.to_str().expect("path"));
    let post = |query: &'static str| {
        let base = server.base.clone();
        async move {
            let response = reqwest::Client::new()
                .post(format!("{base}/graphql"))
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("POST");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("JSON");
            (status, body)
        }
    };
    let (status, body) = post("{ __typename }").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NO_SUPERGRAPH_AVAILABLE",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Register a domain"), "{body}");
    assert!(
        body["errors"][0]["extensions"]["requestId"].is_string(),
        "{body}"
    );

    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    common::register(&server, domain("customers", &customers.url)).await;
    server
        .wait_for("{ customers { name } }", |a| {
            a["data"]["customers"].is_array()
        })
        .await;
    let out = server.cli(&["deregister", "customers"]);
    assert!(out.status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = post("{ customers { name } }").await;
        if status == 503 && body["errors"][0]["extensions"]["code"] == "NO_SUPERGRAPH_AVAILABLE" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still served after deregistration: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A domain whose endpoint publishes something that is not SDL: the pull
    // fails with where and why, no version is stored.
    let broken = axum::Router::new().route(
        "/graphql",
        axum::routing::post(|| async {
            axum::Json(json!({ "data": { "_service": { "sdl": "type Query {\n  a: Int\n  b: [String\n}\n" } } }))
        }),
    );
    let broken = domains::serve(broken).await.expect("broken");
    common::register(&server, domain("broken", &broken.url)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        let r = server
            .graphql(
                "{ domain(name: \"broken\") { health { lastError consecutiveFailures } schemaVersions { id } } }",
                json!({}),
            )
            .await;
        if r["data"]["domain"]["health"]["consecutiveFailures"]
            .as_i64()
            .unwrap_or(0)
            >= 1
        {
            break r;
        }
        assert!(Instant::now() < deadline, "{r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let error = health["data"]["domain"]["health"]["lastError"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("not valid GraphQL SDL") && error.contains("line 3, column 6"),
        "{health}"
    );
    assert_eq!(
        health["data"]["domain"]["schemaVersions"],
        json!([]),
        "{health}"
    );
}

/// Errors name their cause the same way on both endpoints: parse failures
/// with `GRAPHQL_PARSE_FAILED` and a location, validation failures with
/// `GRAPHQL_VALIDATION_FAILED` (the rule kept), a refused variable by its
/// name and value as the client wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_their_cause_the_same_way_on_the_mesh_and_the_catalog() {
    let demo = Server::start_demo();
    demo.wait_for("{ ordersByDate(date: \"2026-11-24\") { id } }", |a| {
        a["data"]["ordersByDate"].is_array()
    })
    .await;
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: Value| {
        let request = http.post(format!("{}{path}", demo.base)).json(&body);
        async move {
            request
                .send()
                .await
                .expect("POST")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    for path in ["/graphql", "/catalog/graphql"] {
        let parse = post(path, json!({ "query": "{ domains { name " })).await;
        let e = &parse["errors"][0];
        assert_eq!(
            e["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
            "{path}: {parse}"
        );
        assert!(e["extensions"]["requestId"].is_string(), "{path}: {parse}");
        if path == "/graphql" {
            assert_eq!(e["locations"][0]["line"], 1, "{parse}");
            assert!(
                e["message"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Syntax error"),
                "{parse}"
            );
        }
        let unknown = post(path, json!({ "query": "{ nosuchfield }" })).await;
        let e = &unknown["errors"][0];
        assert_eq!(
            e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{path}: {unknown}"
        );
        assert_eq!(e["locations"][0]["column"], 3, "{path}: {unknown}");
        assert!(
            e["extensions"]["requestId"].is_string(),
            "{path}: {unknown}"
        );
    }
    let unknown = post("/graphql", json!({ "query": "{ nosuchfield }" })).await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["rule"], "FieldsOnCorrectType",
        "{unknown}"
    );
    let typo = post(
        "/graphql",
        json!({ "query": "{ ordersByDat(date: \"x\") { id } }" }),
    )
    .await;
    assert!(
        typo["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean \"ordersByDate\""),
        "{typo}"
    );
    let variable = post(
        "/graphql",
        json!({
            "query": "query($date: String!) { ordersByDate(date: $date) { id } }",
            "variables": { "date": 20261124 }
        }),
    )
    .await;
    let message = variable["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        message,
        "Variable \"$date\" got invalid value 20261124: String cannot represent a non string value.",
        "{variable}"
    );
    assert_eq!(
        variable["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

/// `servedVersion` is what the gateway reports serving, never "the latest
/// success" before the gateway has it: whenever the catalog names a version
/// served, the mesh already answers with that graph. A domain removed and
/// registered again is composed and served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_version_is_what_the_gateway_reports_serving() {
    const STATE: &str =
        "{ composition { servedVersion readyVersion gateways { role live servedVersion } } }";
    const INVENTORY: &str = r#"{ products { name inStock } }"#;
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    for db in databases().await {
        let server = Server::start_fast(&db.url);
        common::register(&server, domain("customers", &customers.url)).await;
        let first = wait_state(&server, STATE, |c| c["readyVersion"].is_i64()).await
            ["readyVersion"]
            .clone();
        let state = wait_state(&server, STATE, |c| c["servedVersion"] == first).await;
        let gateways = state["gateways"].as_array().cloned().unwrap_or_default();
        assert!(
            gateways.iter().any(|g| g["role"] == "in-process"
                && g["live"] == true
                && g["servedVersion"] == first),
            "[{}] {state}",
            db.label
        );
        let mut ready = first.as_i64().expect("a first version");
        // Each step changes the graph: while the catalog names the old
        // version served, the new field may be missing; once it names the
        // new one, the field answers.
        for step in ["register", "deregister", "register again"] {
            match step {
                "deregister" => {
                    let r = server
                        .graphql(
                            r#"mutation { deregisterDomain(name: "inventory") { name } }"#,
                            json!({}),
                        )
                        .await;
                    assert!(r.get("errors").is_none(), "[{}] {r}", db.label);
                }
                _ => common::register(&server, domain("inventory", &inventory.url)).await,
            }
            let previous = ready;
            ready = wait_state(&server, STATE, |c| {
                c["readyVersion"].as_i64().is_some_and(|v| v > previous)
            })
            .await["readyVersion"]
                .as_i64()
                .expect("a ready version");
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let served = server.graphql(STATE, json!({})).await["data"]["composition"]
                    ["servedVersion"]
                    .as_i64();
                let answer = server.mesh(INVENTORY, json!({})).await;
                let has_field = answer["data"]["products"][0]["name"].is_string();
                if served == Some(ready) {
                    assert_eq!(
                        has_field,
                        step != "deregister",
                        "[{}] {step}: version {ready} is named served, the mesh answers {answer}",
                        db.label
                    );
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "[{}] {step}: version {ready} never reported served (still {served:?})",
                    db.label
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn wait_state(server: &Server, query: &str, accept: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = server.graphql(query, json!({})).await["data"]["composition"].clone();
        if accept(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
