//! REST domains in the federated graph: a domain registered with only its
//! OpenAPI document is derived, composed and queryable through the gateway,
//! joined to GraphQL domains; its derived subgraph is closed to callers
//! without the control key; a document that stops deriving keeps the last
//! good graph and says why on the domain.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use common::Server;
use serde_json::{json, Value};

const README_ORDER_SHIPMENTS: &str =
    r#"{ order(id: "o2") { id customer { name } shipments { id carrier order { total } } } }"#;
const README_QUERY: &str = r#"{ shipmentsByDate(date: "2026-11-25") { id carrier status order { id total customer { name } } } }"#;

/// The README's answer to [`README_QUERY`] over the demo.
fn readme_answer() -> Value {
    json!({ "data": { "shipmentsByDate": [
        { "id": "s2", "carrier": "UPS", "status": "IN_TRANSIT",
          "order": { "id": "o2", "total": 89.5, "customer": { "name": "Grace Hopper" } } },
        { "id": "s3", "carrier": "DHL", "status": "IN_TRANSIT",
          "order": { "id": "o3", "total": 450.0, "customer": { "name": "Ada Lovelace" } } }
    ] } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_joins_its_rest_domain_to_graphql_domains_by_date() {
    let server = Server::start_demo();
    let answer = server
        .wait_for(README_QUERY, |a| a["data"]["shipmentsByDate"].is_array())
        .await;
    assert_eq!(answer, readme_answer());
    // The other way round: the orders domain's `Order` gains `shipments`
    // from the REST domain (`x-meshwork-extends` in its document), which
    // join back to the order by its key.
    let answer = server
        .wait_for(README_ORDER_SHIPMENTS, |a| a["data"]["order"].is_object())
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "order": { "id": "o2", "customer": { "name": "Grace Hopper" },
            "shipments": [{ "id": "s2", "carrier": "UPS", "order": { "total": 89.5 } }] } } })
    );
    // The derived subgraph itself answers only the mesh's gateways.
    let http = reqwest::Client::new();
    for key in [None, Some(""), Some("wrong-key-wrong-key-wrong-key-wrong")] {
        let mut request = http
            .post(format!("{}/rest/shipments/graphql", server.base))
            .json(&json!({ "query": "{ shipmentsByDate(date: \"2026-11-25\") { id } }" }));
        if let Some(key) = key {
            request = request.header("x-meshwork-rest-key", key);
        }
        let status = request.send().await.expect("POST").status().as_u16();
        assert_eq!(status, 401, "key {key:?}");
    }
}

/// A REST API whose OpenAPI document the test can change.
async fn rest_api(document: Arc<Mutex<String>>) -> String {
    let router = Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { document.lock().map(|d| d.clone()).unwrap_or_default() }
            }),
        )
        .route(
            "/invoices",
            get(|| async {
                axum::Json(json!([{ "id": "i1", "amount": 12, "issuedOn": "2026-11-20" }]))
            }),
        );
    let running = domains::serve(router).await.expect("serve");
    format!("http://{}", running.addr)
}

fn invoices_document(amount_type: &str) -> String {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "invoices", "version": "1" },
        "paths": { "/invoices": { "get": {
            "operationId": "invoices",
            "responses": { "200": { "description": "all", "content": { "application/json": { "schema": {
                "type": "array", "items": { "$ref": "#/components/schemas/Invoice" } } } } } }
        } } },
        "components": { "schemas": { "Invoice": {
            "type": "object", "required": ["id"],
            "properties": {
                "id": { "type": "string" },
                "amount": { "type": amount_type, "format": "int32" },
                "issuedOn": { "type": "string", "format": "date" },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } }
            }
        } } }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_domain_registered_with_its_openapi_url_is_queryable_and_keeps_its_last_good_schema()
{
    let document = Arc::new(Mutex::new(invoices_document("integer")));
    let base = rest_api(document.clone()).await;
    for db in common::databases().await {
        *document.lock().expect("lock") = invoices_document("integer");
        let server = Server::start_fast(&db.url);
        common::register(
            &server,
            json!({
                "name": "invoices", "ownerTeam": "finance", "contact": "finance@example.com",
                "kind": "REST", "apiUrl": base, "schemaEndpoint": format!("{base}/openapi.json"),
            }),
        )
        .await;
        let answer = server
            .wait_for("{ invoices { id amount issuedOn } }", |a| {
                a["data"]["invoices"].is_array()
            })
            .await;
        assert_eq!(
            answer["data"]["invoices"],
            json!([{ "id": "i1", "amount": 12, "issuedOn": "2026-11-20" }]),
            "[{}]",
            db.label
        );

        // The derivation's choices are visible on the version and in
        // `domain show`.
        let version = server
            .graphql(
                "{ domain(name: \"invoices\") { latestSchemaVersion { derivedSdl warnings } } }",
                json!({}),
            )
            .await;
        let latest = &version["data"]["domain"]["latestSchemaVersion"];
        assert!(
            latest["derivedSdl"]
                .as_str()
                .is_some_and(|s| s.contains("invoices: [Invoice!]")),
            "[{}] {version}",
            db.label
        );
        assert!(
            latest["warnings"].to_string().contains("InvoiceLabels"),
            "[{}] {version}",
            db.label
        );
        let shown = server.cli(&["show", "invoices"]);
        let shown = String::from_utf8_lossy(&shown.stdout).to_string();
        assert!(
            shown.contains("derivation warnings (1)") && shown.contains("served as JSON"),
            "[{}] {shown}",
            db.label
        );

        // A document that no longer derives: the graph keeps serving, the
        // domain's health says why.
        *document.lock().expect("lock") = r#"{"swagger": "2.0", "info": {}}"#.to_string();
        let refresh = server.cli(&["refresh", "invoices"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&refresh.stdout),
            String::from_utf8_lossy(&refresh.stderr)
        );
        assert!(said.contains("Swagger 2.0"), "[{}] {said}", db.label);
        let health = server
            .graphql(
                "{ domain(name: \"invoices\") { health { lastError } } }",
                json!({}),
            )
            .await;
        assert!(
            health.to_string().contains("does not derive a subgraph"),
            "[{}] {health}",
            db.label
        );
        let answer = server.mesh("{ invoices { id amount } }", json!({})).await;
        assert_eq!(
            answer["data"]["invoices"][0]["amount"], 12,
            "[{}] {answer}",
            db.label
        );

        // A breaking change of the document is a change of the derived
        // schema: `amount` becomes a String.
        *document.lock().expect("lock") = invoices_document("string");
        let refresh = server.cli(&["refresh", "invoices"]);
        assert!(refresh.status.success(), "[{}] {:?}", db.label, refresh);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let introspection: Value = server
                .mesh(
                    "{ __type(name: \"Invoice\") { fields { name type { name } } } }",
                    json!({}),
                )
                .await;
            let amount = introspection["data"]["__type"]["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["name"] == "amount").cloned());
            if amount
                .as_ref()
                .is_some_and(|a| a["type"]["name"] == "String")
            {
                break;
            }
            assert!(Instant::now() < deadline, "[{}] {introspection}", db.label);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Governed through its derived schema: the version's changes are
        // those of the derived SDL, classified as for a GraphQL domain.
        let history = server
            .graphql(
                "{ domain(name: \"invoices\") { schemaHistory { status changes { severity kind path } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            history["data"]["domain"]["schemaHistory"][0]["changes"],
            json!([{ "severity": "BREAKING", "kind": "FIELD_TYPE_CHANGED", "path": "Invoice.amount" }]),
            "[{}] {history}",
            db.label
        );
    }
}

/// A REST API with reads and a write, for the registration's settings.
async fn parcels_api() -> String {
    let document = json!({
        "openapi": "3.1.0",
        "info": { "title": "parcels", "version": "1" },
        "paths": {
            "/parcels/{code}": { "get": {
                "operationId": "parcel",
                "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "one", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Parcel" } } } } }
            } },
            "/senders/{id}/parcels": { "get": {
                "operationId": "parcelsOfSender",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "a sender's", "content": { "application/json": { "schema": {
                    "type": "array", "items": { "$ref": "#/components/schemas/Parcel" } } } } } }
            } },
            "/parcels": { "post": {
                "operationId": "createParcel",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } } } } } },
                "responses": { "201": { "description": "made", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Parcel" } } } } }
            } }
        },
        "components": { "schemas": { "Parcel": {
            "type": "object", "required": ["code"],
            "properties": { "code": { "type": "string" }, "weight": { "type": "integer", "format": "int32" } }
        } } }
    })
    .to_string();
    let router = Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let d = document.clone();
                async move { d }
            }),
        )
        .route(
            "/parcels",
            axum::routing::post(|axum::Json(body): axum::Json<Value>| async move {
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({ "code": body["code"], "weight": 7 })),
                )
            }),
        )
        .route(
            "/parcels/{code}",
            get(
                |axum::extract::Path(code): axum::extract::Path<String>| async move {
                    axum::Json(json!({ "code": code, "weight": 3 }))
                },
            ),
        );
    let running = domains::serve(router).await.expect("serve");
    format!("http://{}", running.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_settings_enable_mutations_and_declare_entities() {
    let base = parcels_api().await;
    let server = Server::start_fast(&common::databases().await[0].url);
    // Settings of REST derivation mean nothing for a GraphQL domain.
    let refused = server
        .graphql(
            common::REGISTER,
            json!({ "spec": { "name": "wrong", "ownerTeam": "t", "contact": "t@example.com",
                              "apiUrl": "http://127.0.0.1:1/graphql", "restMutations": true,
                              "entities": [{ "type": "Parcel", "key": "code", "get": "parcel" }],
                              "extends": [{ "type": "Sender", "key": "id", "field": "parcels", "get": "parcelsOfSender" }] } }),
        )
        .await;
    let fields: Vec<String> = common::problems(&refused)
        .into_iter()
        .map(|(field, _, _)| field)
        .collect();
    assert!(
        ["restMutations", "entities", "extends"]
            .iter()
            .all(|f| fields.contains(&f.to_string())),
        "{refused}"
    );
    common::register(
        &server,
        json!({ "name": "parcels", "ownerTeam": "logistics", "contact": "l@example.com",
                "kind": "REST", "apiUrl": base, "schemaEndpoint": format!("{base}/openapi.json"),
                "entities": [{ "type": "Parcel", "key": "code", "get": "parcel" }] }),
    )
    .await;
    let answer = server
        .wait_for(r#"{ parcel(code: "p1") { code weight } }"#, |a| {
            a["data"]["parcel"].is_object()
        })
        .await;
    assert_eq!(
        answer["data"]["parcel"],
        json!({ "code": "p1", "weight": 3 })
    );
    let version = server
        .graphql(
            "{ domain(name: \"parcels\") { latestSchemaVersion { derivedSdl } } }",
            json!({}),
        )
        .await;
    let sdl = version["data"]["domain"]["latestSchemaVersion"]["derivedSdl"].to_string();
    assert!(
        sdl.contains("type Parcel @key(fields: \\\"code\\\")"),
        "{version}"
    );
    assert!(!sdl.contains("type Mutation"), "{version}");

    // Enabling writes derives again (same document) and serves the mutation.
    let updated = server
        .graphql(
            "mutation { updateDomain(name: \"parcels\", patch: { restMutations: true }) { name } }",
            json!({}),
        )
        .await;
    assert!(updated.get("errors").is_none(), "{updated}");
    let made = server
        .wait_for(
            r#"mutation { createParcel(body: { code: "p9" }) { code weight } }"#,
            |a| a["data"]["createParcel"].is_object(),
        )
        .await;
    assert_eq!(
        made["data"]["createParcel"],
        json!({ "code": "p9", "weight": 7 })
    );

    // Declaring a field of another domain's entity derives it again.
    let updated = server
        .graphql(
            r#"mutation { updateDomain(name: "parcels", patch: { extends: [{ type: "Sender", key: "id", field: "parcels", get: "parcelsOfSender" }] }) { name } }"#,
            json!({}),
        )
        .await;
    assert!(updated.get("errors").is_none(), "{updated}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let version = server
            .graphql(
                "{ domain(name: \"parcels\") { latestSchemaVersion { derivedSdl } } }",
                json!({}),
            )
            .await;
        let sdl = version["data"]["domain"]["latestSchemaVersion"]["derivedSdl"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if sdl.contains("type Sender @key(fields: \"id\") {\n  id: ID!\n  parcels: [Parcel!]\n}") {
            break;
        }
        assert!(Instant::now() < deadline, "{version}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The control plane's own gateway answers REST domains in-process: with
/// the supergraph pointing REST fetches at an address nothing listens on,
/// the demo's REST query still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_gateway_answers_rest_domains_without_the_http_hop() {
    let server = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "http://127.0.0.1:9",
        "--supergraph-poll-interval",
        "1s",
    ]);
    let answer = server
        .wait_for(README_QUERY, |a| a["data"]["shipmentsByDate"].is_array())
        .await;
    assert_eq!(
        answer["data"]["shipmentsByDate"][0]["order"]["customer"]["name"], "Grace Hopper",
        "{answer}"
    );
}

/// A process stopped when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An unmodified Hive Router (the engine started by its own crate's entry
/// point, no Meshwork plugin: `hive-router-plain`) following the control
/// plane with its own CDN poller serves the demo's REST-backed query through
/// the derived subgraph over HTTP. The control key reaches the REST
/// subgraph by a header rule of the router's own config; without it the
/// REST subgraph refuses the router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmodified_hive_router_serves_rest_domains_over_http() {
    let key = "interop-cdn-key-0123456789abcdef-0123";
    let control = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--cdn-key",
        key,
        "--supergraph-poll-interval",
        "1s",
    ]);
    control
        .wait_for(README_QUERY, |a| a["data"]["shipmentsByDate"].is_array())
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let router = |with_key: bool| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut config = format!(
            "log:\n  level: error\nhttp:\n  host: 127.0.0.1\n  port: {port}\n\
             supergraph:\n  source: hive\n  endpoint: {}/control\n  key: {key}\n  poll_interval: 1s\n",
            control.base
        );
        if with_key {
            config.push_str(&format!(
                "headers:\n  subgraphs:\n    shipments:\n      request:\n        - insert:\n            name: x-meshwork-rest-key\n            value: {key}\n"
            ));
        }
        let path = dir.path().join(format!("router-{with_key}.yaml"));
        std::fs::write(&path, config).expect("router config");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_hive-router-plain"))
            .env("ROUTER_CONFIG_FILE_PATH", &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start hive-router-plain");
        (Running(child), format!("http://127.0.0.1:{port}/graphql"))
    };
    let ask = |url: String| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer: Option<Value> = match reqwest::Client::new()
                .post(&url)
                .json(&json!({ "query": README_QUERY }))
                .send()
                .await
            {
                Ok(r) => r.json().await.ok(),
                Err(_) => None,
            };
            if let Some(answer) = answer {
                // Until the first supergraph loads the router answers an error.
                if answer.get("data").is_some() {
                    return answer;
                }
            }
            assert!(Instant::now() < deadline, "no answer from {url}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (_running, url) = router(true);
    assert_eq!(ask(url).await, readme_answer());

    let (_refused, url) = router(false);
    let answer = ask(url).await;
    assert!(
        answer["data"]["shipmentsByDate"].is_null()
            && answer["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{answer}"
    );
}
