//! Data products consumers can trust: OpenLineage runs make a product
//! fresh (or late), their facets measure its quality, SLOs are evaluated
//! with a history, the gateways' traffic measures availability, observed
//! readers and field impact; over real HTTP, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use axum::response::IntoResponse;
use common::{databases, register, Server};
use serde_json::{json, Value};

const NAMESPACE: &str = "postgres://warehouse:5432";
const DATASET: &str = "sales.public.orders";

fn start(database: &str, env: &[(&str, &str)]) -> Server {
    let mut all = vec![("MESHWORK_LOG", "warn")];
    all.extend_from_slice(env);
    Server::start_with_env(
        &[
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
            "--slo-interval",
            "1s",
        ],
        &all,
    )
}

fn orders_spec(api_url: &str) -> Value {
    json!({
        "name": "orders", "ownerTeam": "sales", "contact": "sales@example.com",
        "apiUrl": api_url,
        "datasets": [{ "namespace": NAMESPACE, "name": DATASET }],
        "qualityIndicators": [{ "name": "rowCount", "target": 3 }],
        "slos": [
            { "name": "fresh", "kind": "freshness", "maxAge": "1h" },
            { "name": "enough-rows", "kind": "quality", "indicator": "rowCount", "target": 3 },
            { "name": "up", "kind": "availability", "target": 99, "window": "1d" },
            { "name": "declared", "target": 99.9, "window": "30d" }
        ]
    })
}

fn run_event(kind: &str, run_id: &str, at: chrono::DateTime<chrono::Utc>, row_count: u64) -> Value {
    json!({
        "eventType": kind,
        "eventTime": at.to_rfc3339(),
        "run": { "runId": run_id },
        "job": { "namespace": "airflow", "name": "orders.daily_load" },
        "inputs": [{ "namespace": "postgres://shop:5432", "name": "shop.public.order_lines" }],
        "outputs": [{
            "namespace": NAMESPACE, "name": DATASET,
            "outputFacets": { "outputStatistics": {
                "_producer": "https://example.com/loader", "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json",
                "rowCount": row_count, "size": 1000
            } }
        }],
        "producer": "https://example.com/loader",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    })
}

async fn post_event(server: &Server, event: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/lineage", server.base))
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request
        .body(event.to_string())
        .send()
        .await
        .expect("POST /api/v1/lineage");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

const STATUS: &str = r#"query { domain(name: "orders") {
    freshness { lastProducedAt ageSeconds lastRun { runId state jobName outputs { name domainId } } }
    sloStatus { name kind status value detail }
    sloHistory(first: 50) { slo status at }
    quality(indicator: "rowCount") { value source runId }
    runs(first: 10) { runId state inputs { name } outputs { name } }
} }"#;

fn slo<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["data"]["domain"]["sloStatus"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or(&Value::Null)
}

async fn wait_catalog(server: &Server, query: &str, accept: impl Fn(&Value) -> bool) -> Value {
    wait_catalog_with(server, query, json!({}), accept).await
}

async fn wait_catalog_with(
    server: &Server,
    query: &str,
    variables: Value,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = server.graphql(query, variables.clone()).await;
        if answer.get("errors").is_none() && accept(&answer) {
            return answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: last answer {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_make_a_product_fresh_or_late_and_slos_are_measured_with_a_history() {
    for db in databases().await {
        // The orders API, which answers 503 while `down` is set.
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let switch = down.clone();
        let router = domains::demo::orders().layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let down = switch.clone();
                async move {
                    if down.load(std::sync::atomic::Ordering::Relaxed) {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                    } else {
                        next.run(request).await
                    }
                }
            },
        ));
        let orders = domains::serve(router).await.expect("orders");
        let server = start(&db.url, &[]);
        register(&server, orders_spec(&orders.url)).await;

        // Nothing measured yet: unknown, never "ok".
        let first = server.graphql(STATUS, json!({})).await;
        assert_eq!(slo(&first, "fresh")["status"], "UNKNOWN", "{first}");
        assert_eq!(slo(&first, "enough-rows")["status"], "UNKNOWN");
        assert_eq!(slo(&first, "declared")["status"], "UNKNOWN");
        assert!(first["data"]["domain"]["freshness"]["lastProducedAt"].is_null());

        // A late pipeline: its last completion was two hours ago, max 1h,
        // and it wrote 2 rows where 3 are the minimum.
        let late = "0b8e2b4e-0d5f-4a55-9a39-1e1f5c0c7a01";
        let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
        let (status, body) = post_event(
            &server,
            &run_event(
                "START",
                late,
                two_hours_ago - chrono::Duration::minutes(5),
                0,
            ),
            &[],
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) =
            post_event(&server, &run_event("COMPLETE", late, two_hours_ago, 2), &[]).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["state"], "COMPLETE");
        assert_eq!(body["domains"], json!(["orders"]));
        let breached = wait_catalog(&server, STATUS, |a| {
            a["data"]["domain"]["sloHistory"]
                .as_array()
                .is_some_and(|h| {
                    h.iter()
                        .any(|e| e["slo"] == "fresh" && e["status"] == "BREACHED")
                })
        })
        .await;
        assert_eq!(slo(&breached, "fresh")["status"], "BREACHED", "{breached}");
        let minutes = slo(&breached, "fresh")["value"].as_f64().unwrap_or(0.0);
        assert!((119.0..=125.0).contains(&minutes), "{minutes}");
        assert_eq!(slo(&breached, "enough-rows")["status"], "BREACHED");
        assert_eq!(breached["data"]["domain"]["quality"][0]["value"], 2.0);
        assert_eq!(
            breached["data"]["domain"]["quality"][0]["source"],
            "openlineage"
        );
        // A late START for a finished run never reopens it.
        let (status, _) = post_event(
            &server,
            &run_event("START", late, chrono::Utc::now(), 0),
            &[],
        )
        .await;
        assert_eq!(status, 201);
        let audit = server
            .graphql(
                r#"{ auditLog(filter: {action: "slo.breached"}, first: 10) { nodes { target after } } }"#,
                json!({}),
            )
            .await;
        assert!(
            audit["data"]["auditLog"]["nodes"]
                .as_array()
                .is_some_and(|n| n
                    .iter()
                    .any(|e| e["target"] == "domain:orders" && e["after"]["slo"] == "fresh")),
            "{audit}"
        );

        // The pipeline catches up: fresh again, enough rows, recovered.
        let fresh = "7c1d5b0a-7f4e-4f7e-8a57-2b64b3b0f0c2";
        post_event(
            &server,
            &run_event("START", fresh, chrono::Utc::now(), 0),
            &[],
        )
        .await;
        let (status, _) = post_event(
            &server,
            &run_event("COMPLETE", fresh, chrono::Utc::now(), 5),
            &[],
        )
        .await;
        assert_eq!(status, 201);
        let recovered = wait_catalog(&server, STATUS, |a| {
            let history = a["data"]["domain"]["sloHistory"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            history.first().is_some_and(|_| {
                history
                    .iter()
                    .any(|e| e["slo"] == "fresh" && e["status"] == "OK")
                    && history
                        .iter()
                        .any(|e| e["slo"] == "enough-rows" && e["status"] == "OK")
            })
        })
        .await;
        let d = &recovered["data"]["domain"];
        assert_eq!(slo(&recovered, "fresh")["status"], "OK", "{recovered}");
        assert_eq!(d["freshness"]["lastRun"]["runId"], fresh);
        assert_eq!(d["freshness"]["lastRun"]["outputs"][0]["name"], DATASET);
        assert!(d["freshness"]["ageSeconds"]
            .as_i64()
            .is_some_and(|s| s < 60));
        let runs = d["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r["state"] == "COMPLETE"), "{runs:?}");
        let values: Vec<f64> = recovered["data"]["domain"]["quality"]
            .as_array()
            .expect("quality")
            .iter()
            .filter_map(|q| q["value"].as_f64())
            .collect();
        assert_eq!(values, [5.0, 2.0]);
        let audit = server
            .graphql(
                r#"{ auditLog(filter: {action: "slo.recovered"}, first: 10) { nodes { target } } }"#,
                json!({}),
            )
            .await;
        assert!(
            audit["data"]["auditLog"]["nodes"]
                .as_array()
                .is_some_and(|n| !n.is_empty()),
            "{audit}"
        );

        // reportQuality adds a value by hand.
        let reported = server
            .graphql(
                r#"mutation { reportQuality(domain: "orders", indicator: "rowCount", value: 1, detail: "manual count") { value source } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            reported["data"]["reportQuality"]["source"], "api",
            "{reported}"
        );
        let refused = server
            .graphql(
                r#"mutation { reportQuality(domain: "orders", indicator: " ") { value } }"#,
                json!({}),
            )
            .await;
        let fields: Vec<String> = common::problems(&refused)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(fields, ["indicator", "value"], "{refused}");

        // Availability from the gateway's own fetches.
        let answer = server
            .wait_for(r#"{ ordersByDate(date: "2026-11-24") { id } }"#, |a| {
                a["data"]["ordersByDate"]
                    .as_array()
                    .is_some_and(|o| !o.is_empty())
            })
            .await;
        assert!(answer.get("errors").is_none());
        let up = wait_catalog(&server, STATUS, |a| slo(a, "up")["status"] == "OK").await;
        assert_eq!(slo(&up, "up")["value"], 100.0, "{up}");

        // The domain's API fails: fetches fail, availability drops.
        down.store(true, std::sync::atomic::Ordering::Relaxed);
        for _ in 0..5 {
            server
                .mesh(r#"{ ordersByDate(date: "2026-11-24") { id } }"#, json!({}))
                .await;
        }
        let failing = wait_catalog(&server, STATUS, |a| slo(a, "up")["status"] == "BREACHED").await;
        assert!(
            slo(&failing, "up")["value"]
                .as_f64()
                .is_some_and(|v| v < 99.0),
            "{failing}"
        );
        orders.task.abort();
    }
}

/// Before a breach, a warning: a product past 75% of its `maxAge`, and a
/// quality value older than its SLO's window, are AT_RISK.
#[tokio::test(flavor = "multi_thread")]
async fn slos_turn_at_risk_before_they_breach() {
    for db in databases().await {
        let orders = domains::serve(domains::demo::orders())
            .await
            .expect("orders");
        let server = start(&db.url, &[]);
        let mut spec = orders_spec(&orders.url);
        spec["slos"] = json!([
            { "name": "fresh", "kind": "freshness", "maxAge": "1h" },
            { "name": "enough-rows", "kind": "quality", "indicator": "rowCount", "target": 3, "window": "30m" }
        ]);
        register(&server, spec).await;
        // Completed 50 minutes ago (83% of an hour), with enough rows,
        // measured 50 minutes ago (past the 30-minute window).
        let run = "5a8f7c3e-2b1d-4e6f-9a0b-3c4d5e6f7a8b";
        let at = chrono::Utc::now() - chrono::Duration::minutes(50);
        post_event(
            &server,
            &run_event("START", run, at - chrono::Duration::minutes(1), 0),
            &[],
        )
        .await;
        let (status, body) = post_event(&server, &run_event("COMPLETE", run, at, 5), &[]).await;
        assert_eq!(status, 201, "[{}] {body}", db.label);
        let risky = wait_catalog(&server, STATUS, |a| {
            ["fresh", "enough-rows"]
                .iter()
                .all(|n| slo(a, n)["status"] == "AT_RISK")
        })
        .await;
        let detail = slo(&risky, "enough-rows")["detail"]
            .as_str()
            .unwrap_or_default();
        assert!(
            detail.contains("longer ago than the SLO's window (30m)"),
            "[{}] {detail}",
            db.label
        );
        // A fresh value puts the quality SLO back to OK; a window on a
        // quality SLO that does not read is refused.
        let reported = server
            .graphql(
                r#"mutation { reportQuality(domain: "orders", indicator: "rowCount", value: 4) { value } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            reported["data"]["reportQuality"]["value"], 4.0,
            "[{}] {reported}",
            db.label
        );
        let ok = server.graphql(STATUS, json!({})).await;
        assert_eq!(
            slo(&ok, "enough-rows")["status"],
            "OK",
            "[{}] {ok}",
            db.label
        );
        assert_eq!(
            slo(&ok, "fresh")["status"],
            "AT_RISK",
            "[{}] {ok}",
            db.label
        );
        let refused = server
            .graphql(
                r#"mutation { updateDomain(name: "orders", patch: { slos: [{ name: "q", kind: "quality", indicator: "rowCount", window: "soon" }] }) { name } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "[{}] {refused}",
            db.label
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_events_name_their_json_path_and_change_nothing() {
    let db = tempfile::tempdir().expect("dir");
    let file = db.path().join("catalog.db");
    let database = file.to_string_lossy().to_string();
    let server = start(&database, &[("MESHWORK_ADMIN_TOKEN", "test-admin-token")]);
    let admin = [("authorization", "Bearer test-admin-token")];
    let registered = server
        .graphql_with(
            &admin,
            common::REGISTER,
            json!({ "spec": orders_spec("http://127.0.0.1:9/graphql") }),
        )
        .await;
    assert!(registered.get("errors").is_none(), "{registered}");
    let good = run_event(
        "COMPLETE",
        "3f5e83fa-3480-44ff-99c5-ff943904e5e8",
        chrono::Utc::now(),
        4,
    );

    let mut missing = good.clone();
    missing["run"] = json!({});
    let (status, body) = post_event(&server, &missing, &admin).await;
    assert_eq!(status, 400, "{body}");
    let problems = common::problems(&body);
    assert_eq!(problems[0].0, "$.run", "{body}");
    assert!(problems[0].2.contains("runId"), "{body}");

    let mut wrong = good.clone();
    wrong["run"]["runId"] = json!("run-1");
    wrong["eventTime"] = json!("yesterday");
    wrong["outputs"][0]["outputFacets"]["outputStatistics"]
        .as_object_mut()
        .map(|o| o.remove("_schemaURL"));
    let (status, body) = post_event(&server, &wrong, &admin).await;
    assert_eq!(status, 400);
    let fields: Vec<String> = common::problems(&body).into_iter().map(|p| p.0).collect();
    assert_eq!(
        fields,
        [
            "$.run.runId",
            "$.eventTime",
            "$.outputs[0].outputFacets.outputStatistics._schemaURL"
        ],
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Not JSON by its content type: refused before anything is read.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/lineage", server.base))
        .header("content-type", "text/plain")
        .header("authorization", "Bearer test-admin-token")
        .body(good.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);

    // A secured catalog: anonymous pipelines and wrong tokens are refused.
    let (status, body) = post_event(&server, &good, &[]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (status, body) = post_event(&server, &good, &[("authorization", "Bearer nope")]).await;
    assert_eq!(status, 401, "{body}");

    let runs = server
        .graphql(
            r#"{ domain(name: "orders") { runs { runId } quality { value } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(runs["data"]["domain"]["runs"], json!([]), "{runs}");
    assert_eq!(runs["data"]["domain"]["quality"], json!([]));

    let (status, body) = post_event(&server, &good, &admin).await;
    assert_eq!(status, 201, "{body}");

    // SLO and dataset mistakes in a registration, each named.
    let bad = server
        .graphql_with(
            &admin,
            r#"mutation($p: DomainPatch!) { updateDomain(name: "orders", patch: $p) { name } }"#,
            json!({ "p": {
                "slos": [
                    { "name": "f", "kind": "freshness" },
                    { "name": "q", "kind": "quality", "window": "1d" },
                    { "name": "a", "kind": "availability", "target": 120, "window": "1d", "maxAge": "1h" }
                ],
                "datasets": [{ "namespace": "pg", "name": "*" }, { "namespace": "pg", "name": "*" }]
            } }),
        )
        .await;
    let fields: Vec<String> = common::problems(&bad).into_iter().map(|p| p.0).collect();
    assert_eq!(
        fields,
        [
            "slos[0].maxAge",
            "slos[1].indicator",
            "slos[2].target",
            "slos[2].maxAge",
            "datasets[0].name",
            "datasets[1].name",
            "datasets[1]"
        ],
        "{bad}"
    );
}

/// The Python client OpenLineage publishes, as the pipelines' side and as
/// the oracle of the export's format.
fn python() -> Option<String> {
    let candidates = [
        std::env::var("MESHWORK_PYTHON").ok(),
        Some("python3".to_string()),
    ];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import openlineage.client"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn openlineages_own_client_reports_runs_and_reads_the_export() {
    let Some(python) = python() else {
        common::skipped("OpenLineage's Python client: no python with openlineage-python (pip install openlineage-python, or set MESHWORK_PYTHON)");
        return;
    };
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let dir = tempfile::tempdir().expect("dir");
    let database = dir.path().join("c.db").to_string_lossy().to_string();
    let server = start(&database, &[]);
    register(
        &server,
        json!({ "name": "customers", "ownerTeam": "crm", "contact": "crm@example.com", "apiUrl": customers.url }),
    )
    .await;
    let mut spec = orders_spec(&orders.url);
    spec["inputs"] = json!([{ "name": "customers" }, { "name": "shop-db", "kind": "EXTERNAL" }]);
    register(&server, spec).await;
    // An observed reader, named by the client header the gateway reads.
    server
        .wait_for(
            r#"{ ordersByDate(date: "2026-11-24") { id total } }"#,
            |a| {
                a["data"]["ordersByDate"]
                    .as_array()
                    .is_some_and(|o| !o.is_empty())
            },
        )
        .await;
    wait_catalog(
        &server,
        r#"{ domain(name: "orders") { readers { client } } }"#,
        |a| {
            a["data"]["domain"]["readers"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        },
    )
    .await;
    let run_id = "5d3f4f0e-2f1b-4c8e-9d53-6a8c2f0d9e11";
    let out = tokio::process::Command::new(&python)
        .arg(common::fixture("../openlineage/roundtrip.py"))
        .args([&server.base, "orders", NAMESPACE, DATASET, run_id])
        .output()
        .await
        .expect("run the OpenLineage client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("JSON report");
    let jobs: Vec<String> = report["exported"]
        .as_array()
        .expect("exported")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["job"].as_str().unwrap_or(""),
                e["eventType"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        jobs.contains(&"airflow/orders.daily_load COMPLETE".to_string()),
        "{jobs:?}"
    );
    assert!(
        jobs.contains(&"meshwork/orders COMPLETE".to_string()),
        "{jobs:?}"
    );

    // What the client's facets measured.
    let answer = server
        .graphql(
            r#"{ domain(name: "orders") {
                freshness { lastRun { runId jobName } }
                quality(first: 50) { indicator value passed }
                sloStatus { name status }
            } }"#,
            json!({}),
        )
        .await;
    let d = &answer["data"]["domain"];
    assert_eq!(d["freshness"]["lastRun"]["runId"], run_id, "{answer}");
    let measured: Vec<(String, Value, Value)> = d["quality"]
        .as_array()
        .expect("quality")
        .iter()
        .map(|q| {
            (
                q["indicator"].as_str().unwrap_or("").to_string(),
                q["value"].clone(),
                q["passed"].clone(),
            )
        })
        .collect();
    for expected in [
        ("rowCount".to_string(), json!(5.0), Value::Null),
        ("bytes".to_string(), json!(4096.0), Value::Null),
        (
            "assertion:not_null:total".to_string(),
            Value::Null,
            json!(true),
        ),
        ("assertion:unique:id".to_string(), Value::Null, json!(false)),
    ] {
        assert!(
            measured.contains(&expected),
            "{expected:?} not in {measured:?}"
        );
    }

    // The export as NDJSON: declared inputs and the observed reader.
    let ndjson = reqwest::get(format!(
        "{}/api/v1/lineage?domain=orders&format=ndjson",
        server.base
    ))
    .await
    .expect("GET export")
    .text()
    .await
    .expect("text");
    let events: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).expect("one event per line"))
        .collect();
    let declared = events
        .iter()
        .find(|e| e["job"]["name"] == "orders" && e["job"]["namespace"] == "meshwork")
        .expect("declared job");
    let inputs: Vec<&str> = declared["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(inputs, ["customers", "shop-db"]);
    assert!(
        events
            .iter()
            .any(|e| e["job"]["namespace"] == "meshwork.consumers"),
        "the observed reader is exported: {ndjson}"
    );
    let missing = reqwest::get(format!("{}/api/v1/lineage?domain=nope", server.base))
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn observed_readers_and_the_impact_of_removing_a_field() {
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    for db in databases().await {
        let server = start(&db.url, &[]);
        register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com", "apiUrl": orders.url }),
    )
    .await;
        register(
        &server,
        json!({ "name": "customers", "ownerTeam": "crm", "contact": "c@example.com", "apiUrl": customers.url,
                "inputs": [{ "name": "orders" }] }),
    )
    .await;
        // The sales dashboard reads orders' totals (its client name header).
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let answer: Value = client
            .post(format!("{}/graphql", server.base))
            .header("graphql-client-name", "sales-dashboard")
            .json(&json!({ "query": "query Totals { ordersByDate(date: \"2026-11-24\") { id total } }" }))
            .send()
            .await
            .expect("POST /graphql")
            .json()
            .await
            .expect("JSON");
            if answer["data"]["ordersByDate"]
                .as_array()
                .is_some_and(|o| !o.is_empty())
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{answer}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // More reads, spread over several usage reports (counts add up).
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(1300)).await;
            for _ in 0..3 {
                client
                .post(format!("{}/graphql", server.base))
                .header("graphql-client-name", "sales-dashboard")
                .json(&json!({ "query": "query Totals { ordersByDate(date: \"2026-11-24\") { id total } }" }))
                .send()
                .await
                .expect("POST /graphql");
            }
        }
        let readers = wait_catalog(
            &server,
            r#"{ domain(name: "orders") { readers { coordinate client operation count } } }"#,
            |a| {
                a["data"]["domain"]["readers"].as_array().is_some_and(|r| {
                    r.iter()
                        .any(|u| u["coordinate"] == "Order.total" && u["count"] == 7)
                })
            },
        )
        .await;
        let total = readers["data"]["domain"]["readers"]
            .as_array()
            .and_then(|r| r.iter().find(|u| u["coordinate"] == "Order.total"))
            .cloned()
            .expect("Order.total read");
        assert_eq!(total["client"], "sales-dashboard", "{readers}");
        assert_eq!(total["operation"], "Totals");

        let impact = server
        .graphql(
            r#"{ impact(coordinate: "Order.total") { servedBy { name } consumers { client operation } downstream { name } } }"#,
            json!({}),
        )
        .await;
        let i = &impact["data"]["impact"];
        assert_eq!(i["servedBy"], json!([{ "name": "orders" }]), "{impact}");
        assert_eq!(i["downstream"], json!([{ "name": "customers" }]));
        assert_eq!(i["consumers"][0]["client"], "sales-dashboard");
        let refused = server
            .graphql(
                r#"{ impact(coordinate: "total") { coordinate } }"#,
                json!({}),
            )
            .await;
        assert_eq!(common::problems(&refused)[0].0, "coordinate", "{refused}");

        // `meshwork` is the catalog's own subgraph: no domain may take the name.
        let refused = server
        .graphql(
            common::REGISTER,
            json!({ "spec": { "name": "meshwork", "ownerTeam": "x", "contact": "x@example.com", "apiUrl": "http://127.0.0.1:9/graphql" } }),
        )
        .await;
        assert_eq!(common::problems(&refused)[0].0, "name", "{refused}");
    }
}

/// The README's example: one request to the mesh fetches orders for a
/// date, the orders product's freshness, SLOs and upstream lineage, and
/// (asked by a header) each serving domain's status beside the data.
#[tokio::test(flavor = "multi_thread")]
async fn one_request_returns_data_with_its_freshness_and_lineage() {
    let server = Server::start_demo();
    let query = r#"{
      ordersByDate(date: "2026-11-24") { id total }
      meshwork { dataProduct(name: "orders") {
        owner schemaVersion
        freshness { lastProducedAt ageSeconds job }
        slos { name kind status }
        lineage { upstream { name kind depth } downstream { name } }
      } }
    }"#;
    let answer = server
        .wait_for(query, |a| a["data"]["meshwork"]["dataProduct"].is_object())
        .await;
    assert_eq!(
        answer["data"]["ordersByDate"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    let product = &answer["data"]["meshwork"]["dataProduct"];
    assert_eq!(product["owner"], "sales");
    assert_eq!(product["schemaVersion"], 1);
    assert_eq!(
        product["freshness"]["job"],
        "demo-scheduler/orders.daily_load"
    );
    assert!(
        product["freshness"]["ageSeconds"]
            .as_i64()
            .is_some_and(|s| (100..3600).contains(&s)),
        "{product}"
    );
    let fresh = product["slos"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "fresh"))
        .cloned()
        .expect("fresh SLO");
    assert_eq!(
        fresh,
        json!({ "name": "fresh", "kind": "FRESHNESS", "status": "OK" })
    );
    let upstream: Vec<(&str, i64)> = product["lineage"]["upstream"]
        .as_array()
        .expect("upstream")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap_or(""),
                n["depth"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        upstream,
        [
            ("customers", 1),
            ("inventory", 1),
            ("crm-database", 2),
            ("warehouse-system", 2)
        ]
    );
    assert_eq!(
        product["lineage"]["downstream"],
        json!([{ "name": "shipments" }])
    );
    assert!(
        answer.get("extensions").is_none(),
        "no products unless asked: {answer}"
    );

    // Asked for: each domain that served data, with its status.
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("x-meshwork-products", "1")
        .json(
            &json!({ "query": r#"{ ordersByDate(date: "2026-11-24") { id customer { name } } }"# }),
        )
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let products = answer["extensions"]["meshwork"]["products"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = products
        .iter()
        .filter_map(|p| p["domain"].as_str())
        .collect();
    assert_eq!(names, ["customers", "orders"], "{answer}");
    let orders = &products[1];
    assert_eq!(orders["schemaVersion"], 1);
    assert!(
        orders["freshnessSeconds"]
            .as_i64()
            .is_some_and(|s| s >= 100),
        "{orders}"
    );
    assert_eq!(orders["slos"]["fresh"], "ok");
    assert!(products[0]["lastProducedAt"].is_null());
}

/// Usage is counted off the request path and flushed on a graceful stop:
/// every operation served before SIGTERM is in the catalog after it, with
/// the interval far away (nothing flushed by time).
#[tokio::test(flavor = "multi_thread")]
async fn usage_is_flushed_on_sigterm_and_nothing_is_lost() {
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let dir = tempfile::tempdir().expect("dir");
    let database = dir.path().join("c.db").to_string_lossy().to_string();
    let args = |flush: &'static str| {
        vec![
            "serve".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--database".into(),
            database.clone(),
            "--supergraph-poll-interval".into(),
            "1s".into(),
            "--usage-flush-interval".into(),
            flush.into(),
        ]
    };
    let first = args("60m");
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let mut server = Server::start_with(&first);
    register(
        &server,
        json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com", "apiUrl": orders.url }),
    )
    .await;
    server
        .wait_for(r#"{ ordersByDate(date: "2026-11-24") { id } }"#, |a| {
            a["data"]["ordersByDate"].is_array()
        })
        .await;
    let client = reqwest::Client::new();
    let sent = 40;
    for _ in 0..sent {
        let answer: Value = client
            .post(format!("{}/graphql", server.base))
            .header("graphql-client-name", "sigterm-dashboard")
            .json(&json!({ "query": "query Flushed { ordersByDate(date: \"2026-11-24\") { total } }" }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let status = server
        .terminate(Duration::from_secs(30))
        .expect("meshwork exits within 30 s of SIGTERM");
    assert!(status.success(), "exit status {status}");

    let again = args("1s");
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    let server = Server::start_with(&again);
    let used = server
        .graphql(
            r#"{ fieldUsage(coordinate: "Order.total") { client operation count } }"#,
            json!({}),
        )
        .await;
    let counted: i64 = used["data"]["fieldUsage"]
        .as_array()
        .expect("uses")
        .iter()
        .filter(|u| u["client"] == "sigterm-dashboard" && u["operation"] == "Flushed")
        .filter_map(|u| u["count"].as_i64())
        .sum();
    assert_eq!(counted, sent, "{used}");
}

/// Ranked search finds fields, not only domains, on SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread")]
async fn ranked_search_finds_domains_types_and_fields() {
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    for db in databases().await {
        let server = start(&db.url, &[]);
        register(
            &server,
            json!({ "name": "orders", "ownerTeam": "sales", "contact": "s@example.com",
                    "description": "Every order, by date.", "apiUrl": orders.url }),
        )
        .await;
        register(
            &server,
            json!({ "name": "inventory", "ownerTeam": "logistics", "contact": "l@example.com",
                    "description": "Products and their stock levels.", "apiUrl": inventory.url, "tags": ["warehouse"] }),
        )
        .await;
        const SEARCH: &str = r#"query($t: String!, $k: [SearchKind!]) { search(text: $t, kinds: $k) {
            hits { kind coordinate domain { name } score } kinds { value count } ownerTeams { value count } } }"#;
        let stock = wait_catalog_with(&server, SEARCH, json!({ "t": "stock" }), |a| {
            a["data"]["search"]["hits"]
                .as_array()
                .is_some_and(|h| h.iter().any(|h| h["coordinate"] == "Product.inStock"))
        })
        .await;
        let hits = stock["data"]["search"]["hits"].as_array().expect("hits");
        assert!(
            hits.iter().all(|h| h["domain"]["name"] == "inventory"),
            "[{}] {stock}",
            db.label
        );
        let scores: Vec<f64> = hits.iter().filter_map(|h| h["score"].as_f64()).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "ranked: {scores:?}"
        );

        // Only fields, by two words (prefixes).
        let fields = server
            .graphql(SEARCH, json!({ "t": "order tot", "k": ["FIELD"] }))
            .await;
        let coordinates: Vec<&str> = fields["data"]["search"]["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|h| h["coordinate"].as_str())
            .collect();
        assert_eq!(
            coordinates.first(),
            Some(&"Order.total"),
            "[{}] {fields}",
            db.label
        );
        assert!(fields["data"]["search"]["hits"]
            .as_array()
            .is_some_and(|h| h.iter().all(|h| h["kind"] == "FIELD")));

        // A domain by its name ranks first; facets count every match.
        let named = server.graphql(SEARCH, json!({ "t": "inventory" })).await;
        assert_eq!(
            named["data"]["search"]["hits"][0]["kind"], "DOMAIN",
            "{named}"
        );
        assert_eq!(
            named["data"]["search"]["hits"][0]["coordinate"],
            "inventory"
        );
        let tagged = server.graphql(SEARCH, json!({ "t": "warehouse" })).await;
        assert_eq!(
            tagged["data"]["search"]["ownerTeams"],
            json!([{ "value": "logistics", "count": 1 }]),
            "{tagged}"
        );

        // Nothing to search for, or punctuation only: no hits, no error.
        let empty = server.graphql(SEARCH, json!({ "t": " ;'\" " })).await;
        assert_eq!(empty["data"]["search"]["hits"], json!([]), "{empty}");

        // A deregistered domain leaves the index.
        let gone = server
            .graphql(
                r#"mutation { deregisterDomain(name: "inventory") { status } }"#,
                json!({}),
            )
            .await;
        assert!(gone.get("errors").is_none(), "{gone}");
        let after = server.graphql(SEARCH, json!({ "t": "stock" })).await;
        assert_eq!(
            after["data"]["search"]["hits"],
            json!([]),
            "[{}] {after}",
            db.label
        );
    }
}
