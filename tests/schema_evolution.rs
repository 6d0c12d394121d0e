//! Schema evolution end to end: every new version is compared with the
//! accepted ones; under the strict model a breaking version is held (the
//! gateway keeps serving the previous one) until an admin approves it;
//! under the open model it is served at once and reported.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use common::Server;
use serde_json::{json, Value};

const LINK: &str =
    r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])"#;

fn v1() -> String {
    format!("{LINK}\ntype Query {{ order(id: ID!): Order }}\ntype Order @key(fields: \"id\") {{ id: ID! total: Float status: String }}\n")
}

fn v2_breaking() -> String {
    format!("{LINK}\ntype Query {{ order(id: ID!): Order }}\ntype Order @key(fields: \"id\") {{ id: ID! status: String note: String }}\n")
}

/// A domain whose published schema (its `_service { sdl }` endpoint) the
/// test changes; its API (a synthetic subgraph serving both versions'
/// fields) stays up throughout, as a deployment would.
async fn domain(published: Arc<Mutex<String>>) -> (String, String) {
    let both = format!("{LINK}\ntype Query {{ order(id: ID!): Order }}\ntype Order @key(fields: \"id\") {{ id: ID! total: Float status: String note: String }}\n");
    let api = domains::serve(domains::synthetic::router(&both).expect("synthetic"))
        .await
        .expect("serve api");
    let schema = Router::new().route(
        "/graphql",
        post(move || {
            let sdl = published.lock().map(|s| s.clone()).unwrap_or_default();
            async move { Json(json!({ "data": { "_service": { "sdl": sdl } } })) }
        }),
    );
    let schema = domains::serve(schema).await.expect("serve schema");
    (
        format!("http://{}/graphql", api.addr),
        format!("http://{}/graphql", schema.addr),
    )
}

const HISTORY: &str = "query($d: String!) { domain(name: $d) { compatibility schemaHistory { \
    id version status reviewedBy changes { severity kind path } \
    compatibilityViolations { direction change { kind path } } } } }";

async fn history(server: &Server, name: &str) -> Vec<Value> {
    let answer = server.graphql(HISTORY, json!({ "d": name })).await;
    answer["data"]["domain"]["schemaHistory"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{answer}"))
}

async fn wait_history(server: &Server, name: &str, versions: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = history(server, name).await;
        if h.len() >= versions {
            return h;
        }
        assert!(Instant::now() < deadline, "{h:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn cli(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(common::binary())
        .arg("schema")
        .args(["--server", &server.base])
        .args(args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork schema")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_domain_holds_a_breaking_version_until_an_admin_approves_it() {
    let published = Arc::new(Mutex::new(v1()));
    let (api, schema) = domain(published.clone()).await;
    for db in common::databases().await {
        *published.lock().expect("lock") = v1();
        let server = Server::start_fast(&db.url);
        common::register(
            &server,
            json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                    "model": "STRICT", "compatibility": "BACKWARD",
                    "apiUrl": api, "schemaEndpoint": schema }),
        )
        .await;
        let served = server
            .wait_for(r#"{ order(id: "o1") { id total } }"#, |a| {
                a["data"]["order"]["id"].is_string()
            })
            .await;
        assert!(served.get("errors").is_none(), "[{}] {served}", db.label);

        // The domain publishes a version removing `total`.
        *published.lock().expect("lock") = v2_breaking();
        let h = wait_history(&server, "orders", 2).await;
        let held = &h[0];
        assert_eq!(held["status"], "PENDING", "[{}] {h:?}", db.label);
        assert_eq!(held["version"], 2);
        assert!(
            held["changes"].as_array().is_some_and(|c| c.contains(
                &json!({ "severity": "BREAKING", "kind": "FIELD_REMOVED", "path": "Order.total" })
            )),
            "[{}] {held}",
            db.label
        );
        assert_eq!(
            held["compatibilityViolations"],
            json!([{ "direction": "BACKWARD", "change": { "kind": "FIELD_REMOVED", "path": "Order.total" } }]),
            "[{}]",
            db.label
        );
        assert_eq!(h[1]["status"], "ACCEPTED");
        // The strict domain drifts: its API publishes what the mesh does not serve.
        let drift = server
            .graphql(
                "{ domain(name: \"orders\") { schemaDrift health { schemaDrift } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            drift["data"]["domain"]["schemaDrift"],
            drift["data"]["domain"]["health"]["schemaDrift"],
            "{drift}"
        );
        assert!(
            drift["data"]["domain"]["schemaDrift"]
                .as_str()
                .is_some_and(|d| d.contains("held for approval")),
            "[{}] {drift}",
            db.label
        );

        // The gateway keeps serving the accepted version: `total` answers,
        // `note` (only in the held version) is unknown.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let still = server
            .mesh(r#"{ order(id: "o1") { id total } }"#, json!({}))
            .await;
        assert!(still.get("errors").is_none(), "[{}] {still}", db.label);
        let unknown = server
            .mesh(r#"{ order(id: "o1") { note } }"#, json!({}))
            .await;
        assert!(unknown.get("errors").is_some(), "[{}] {unknown}", db.label);

        // `schema check` says the same of the held document, exit code 1.
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), v2_breaking()).expect("write");
        let path = file.path().to_string_lossy().to_string();
        let check = cli(&server, &["check", "--domain", "orders", "--sdl", &path]);
        let out = String::from_utf8_lossy(&check.stdout);
        assert_eq!(check.status.code(), Some(1), "[{}] {out}", db.label);
        assert!(
            out.contains("would NOT be accepted") && out.contains("Order.total"),
            "{out}"
        );
        // A compatible candidate passes (exit code 0); a file that is no
        // schema, or an unknown domain, cannot be checked (exit code 2).
        std::fs::write(
            file.path(),
            v1().replace("status: String", "status: String note: String"),
        )
        .expect("write");
        let ok = cli(&server, &["check", "--domain", "orders", "--sdl", &path]);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "[{}] {}",
            db.label,
            String::from_utf8_lossy(&ok.stdout)
        );
        let json_out = cli(
            &server,
            &[
                "check", "--domain", "orders", "--sdl", &path, "--output", "json",
            ],
        );
        let parsed: Value = serde_json::from_slice(&json_out.stdout).expect("JSON");
        assert_eq!(parsed["accepted"], true);
        assert_eq!(parsed["composes"], true);
        let missing = cli(&server, &["check", "--domain", "nope", "--sdl", &path]);
        assert_eq!(
            missing.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&missing.stderr)
        );
        let unreadable = cli(
            &server,
            &[
                "check",
                "--domain",
                "orders",
                "--sdl",
                "/nonexistent.graphql",
            ],
        );
        assert_eq!(unreadable.status.code(), Some(2));

        // Approving a version that is not held is refused and changes nothing.
        let accepted_id = h[1]["id"].as_i64().unwrap_or_default().to_string();
        let refused = cli(
            &server,
            &["approve", "--domain", "orders", "--version", &accepted_id],
        );
        assert_ne!(refused.status.code(), Some(0));

        // An admin approves: the new schema is served.
        let id = held["id"].as_i64().unwrap_or_default().to_string();
        let approved = cli(
            &server,
            &["approve", "--domain", "orders", "--version", &id],
        );
        assert_eq!(
            approved.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&approved.stderr)
        );
        server
            .wait_for(r#"{ order(id: "o1") { id note } }"#, |a| {
                a["data"]["order"]["id"].is_string()
            })
            .await;
        let h = history(&server, "orders").await;
        assert_eq!(h[0]["status"], "ACCEPTED");
        assert!(h[0]["reviewedBy"].is_string(), "{h:?}");
        let drift = server
            .graphql("{ domain(name: \"orders\") { schemaDrift } }", json!({}))
            .await;
        assert!(drift["data"]["domain"]["schemaDrift"].is_null(), "{drift}");
        // `domain show` and `schema history` show what changed.
        let shown = server.cli(&["show", "orders"]);
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(
            shown.contains("v2 accepted") && shown.contains("1 breaking"),
            "{shown}"
        );
        let listed = cli(&server, &["history", "orders"]);
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(listed.contains("Order.total"), "{listed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_domain_serves_a_breaking_version_at_once_and_reports_it() {
    let published = Arc::new(Mutex::new(v1()));
    let (api, schema) = domain(published.clone()).await;
    let server = Server::start_fast(&common::databases().await[0].url);
    common::register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                "apiUrl": api, "schemaEndpoint": schema }),
    )
    .await;
    wait_history(&server, "orders", 1).await;
    *published.lock().expect("lock") = v2_breaking();
    let h = wait_history(&server, "orders", 2).await;
    assert_eq!(h[0]["status"], "ACCEPTED", "{h:?}");
    assert_eq!(
        h[0]["compatibilityViolations"][0]["change"]["path"], "Order.total",
        "{h:?}"
    );
    server
        .wait_for(r#"{ order(id: "o1") { id note } }"#, |a| {
            a["data"]["order"]["id"].is_string()
        })
        .await;
    let audit = server
        .graphql(
            "{ auditLog(filter: { action: \"schema.breaking\" }) { nodes { action target } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        audit["data"]["auditLog"]["nodes"][0],
        json!({ "action": "schema.breaking", "target": "domain:orders" }),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_domain_is_held_for_an_error_level_governance_rule() {
    let published = Arc::new(Mutex::new(v1()));
    let (api, schema) = domain(published.clone()).await;
    let server = Server::start_fast(&common::databases().await[0].url);
    let set = server
        .graphql(
            "mutation($r: JSON!) { setGovernanceRules(rules: $r) }",
            json!({ "r": { "naming": "ERROR" } }),
        )
        .await;
    assert!(set.get("errors").is_none(), "{set}");
    let bad = server
        .graphql(
            "mutation($r: JSON!) { setGovernanceRules(rules: $r) }",
            json!({ "r": { "naming": "SOMETIMES" } }),
        )
        .await;
    assert!(bad.get("errors").is_some(), "{bad}");
    common::register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                "model": "STRICT", "compatibility": "NONE",
                "apiUrl": api, "schemaEndpoint": schema }),
    )
    .await;
    wait_history(&server, "orders", 1).await;
    // Adding a snake_case field is compatible but breaks the naming rule.
    *published.lock().expect("lock") =
        v1().replace("status: String", "status: String order_note: String");
    let h = wait_history(&server, "orders", 2).await;
    assert_eq!(h[0]["status"], "PENDING", "{h:?}");
    let rules = server
        .graphql(
            "{ domain(name: \"orders\") { schemaHistory { ruleViolations { rule level path } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        rules["data"]["domain"]["schemaHistory"][0]["ruleViolations"],
        json!([{ "rule": "naming", "level": "ERROR", "path": "Order.order_note" }]),
        "{rules}"
    );
}

/// A mesh that reports field usage every second.
fn start_reporting(database: &str) -> Server {
    Server::start_with(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--usage-flush-interval",
        "1s",
    ])
}

async fn ask_as(server: &Server, client: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("graphql-client-name", client)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

const CHECK_AFFECTED: &str =
    "query($d: String!, $doc: String!) { checkSchema(domain: $d, document: $doc) { \
    accepted usageComplete affected { path safeByUsage uses { client operation count } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_changes_name_the_consumers_and_operations_that_used_them() {
    let published = Arc::new(Mutex::new(v1()));
    let (api, schema) = domain(published.clone()).await;
    let server = start_reporting(&common::databases().await[0].url);
    // A short usage window, so the test sees a complete one.
    let set = server
        .graphql(
            "mutation($r: JSON!) { setGovernanceRules(rules: $r) }",
            json!({ "r": { "usageWindowSeconds": 4 } }),
        )
        .await;
    assert!(set.get("errors").is_none(), "{set}");
    common::register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                "model": "STRICT", "apiUrl": api, "schemaEndpoint": schema }),
    )
    .await;
    server
        .wait_for(r#"{ order(id: "o1") { id } }"#, |a| {
            a["data"]["order"].is_object()
        })
        .await;
    // The dashboard reads `total`; nobody reads `status`.
    let deadline = Instant::now() + Duration::from_secs(30);
    let check = loop {
        let answer = ask_as(
            &server,
            "bi-dashboard",
            r#"query Revenue { order(id: "o1") { id total } }"#,
        )
        .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let check = server
            .graphql(
                CHECK_AFFECTED,
                json!({ "d": "orders", "doc": v2_breaking() }),
            )
            .await;
        let uses = &check["data"]["checkSchema"]["affected"][0]["uses"];
        if uses.as_array().is_some_and(|u| !u.is_empty()) {
            break check;
        }
        assert!(Instant::now() < deadline, "usage never arrived: {check}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let affected = &check["data"]["checkSchema"]["affected"][0];
    assert_eq!(affected["path"], "Order.total", "{check}");
    assert_eq!(affected["safeByUsage"], false);
    assert_eq!(affected["uses"][0]["client"], "bi-dashboard", "{check}");
    assert_eq!(affected["uses"][0]["operation"], "Revenue", "{check}");
    assert_eq!(check["data"]["checkSchema"]["accepted"], false);

    // Once usage covers the window, removing the unused `status` is safe by
    // usage and a strict domain accepts it; removing `total` is not.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let without_status = v1().replace(" status: String", "");
    let check = server
        .graphql(
            CHECK_AFFECTED,
            json!({ "d": "orders", "doc": without_status }),
        )
        .await;
    let c = &check["data"]["checkSchema"];
    assert_eq!(c["usageComplete"], true, "{check}");
    assert_eq!(c["affected"][0]["path"], "Order.status", "{check}");
    assert_eq!(c["affected"][0]["safeByUsage"], true, "{check}");
    assert_eq!(c["accepted"], true, "{check}");
    // `total`, used within the window, still holds the version.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        ask_as(
            &server,
            "bi-dashboard",
            r#"query Revenue { order(id: "o1") { id total } }"#,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let check = server
            .graphql(
                CHECK_AFFECTED,
                json!({ "d": "orders", "doc": v2_breaking() }),
            )
            .await;
        let c = &check["data"]["checkSchema"];
        if c["affected"][0]["uses"]
            .as_array()
            .is_some_and(|u| !u.is_empty())
        {
            assert_eq!(c["accepted"], false, "{check}");
            break;
        }
        assert!(Instant::now() < deadline, "{check}");
    }

    // The usage endpoint takes only the control key.
    let refused = reqwest::Client::new()
        .post(format!("{}/control/usage", server.base))
        .header("authorization", "Bearer wrong")
        .json(&json!({ "size": 0, "map": {}, "operations": [] }))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status().as_u16(), 401);
}

/// A strict domain whose answers break its own schema: `total` is a Float
/// in its SDL, its API answers a string.
async fn lying_domain() -> String {
    let router = Router::new().route(
        "/graphql",
        post(|Json(request): Json<Value>| async move {
            let query = request["query"].as_str().unwrap_or_default();
            if query.contains("_service") {
                return Json(json!({ "data": { "_service": { "sdl": v1() } } }));
            }
            Json(json!({ "data": { "order": { "id": "o1", "total": "lots", "status": "OPEN" } } }))
        }),
    );
    let running = domains::serve(router).await.expect("serve");
    format!("http://{}/graphql", running.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_check_a_sample_of_strict_domains_answers_against_the_schema() {
    let api = lying_domain().await;
    let server = Server::start_with(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &common::databases().await[0].url,
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--usage-flush-interval",
        "1s",
        "--contract-sample-every",
        "1",
        "--cdn-key",
        METRICS_KEY,
    ]);
    common::register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                "model": "STRICT", "apiUrl": api }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        server
            .mesh(r#"{ order(id: "o1") { id total status } }"#, json!({}))
            .await;
        let check = server
            .graphql(
                "{ domain(name: \"orders\") { contractCheck { sampled violations lastViolation } } }",
                json!({}),
            )
            .await;
        let c = &check["data"]["domain"]["contractCheck"];
        if c["violations"].as_i64().is_some_and(|v| v > 0) {
            assert!(c["sampled"].as_i64().is_some_and(|s| s > 0), "{check}");
            let last = c["lastViolation"].as_str().unwrap_or_default();
            assert!(
                last.contains("Order.total") && last.contains("lots"),
                "{check}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{check}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The same in the governance metrics, behind the control key.
    let http = reqwest::Client::new();
    let metrics = http
        .get(format!("{}/control/metrics", server.base))
        .bearer_auth(METRICS_KEY)
        .send()
        .await
        .expect("GET");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains("meshwork_schema_versions{domain=\"orders\",status=\"accepted\"} 1")
            && text.contains("meshwork_schema_drift{domain=\"orders\"} 0")
            && text.lines().any(|l| l
                .starts_with("meshwork_contract_violations_total{domain=\"orders\"}")
                && !l.ends_with(" 0")),
        "{text}"
    );
    // Health and composition, for alert rules (deploy/prometheus/).
    assert!(
        text.contains("meshwork_domain_schema_pull_failures{domain=\"orders\"} 0")
            && text.contains("meshwork_domain_last_success_timestamp_seconds{domain=\"orders\"}")
            && text.contains("meshwork_composition_failed 0"),
        "{text}"
    );
    let refused = http
        .get(format!("{}/control/metrics", server.base))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status().as_u16(), 401);
}

const METRICS_KEY: &str = "metrics-test-key-0123456789abcdef-0123";
