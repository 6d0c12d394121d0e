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

const README_QUERY: &str = r#"{ shipmentsByDate(date: "2026-11-25") { id carrier status order { id total customer { name } } } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_joins_its_rest_domain_to_graphql_domains_by_date() {
    let server = Server::start_demo();
    let answer = server
        .wait_for(README_QUERY, |a| a["data"]["shipmentsByDate"].is_array())
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "shipmentsByDate": [
            { "id": "s2", "carrier": "UPS", "status": "IN_TRANSIT",
              "order": { "id": "o2", "total": 89.5, "customer": { "name": "Grace Hopper" } } },
            { "id": "s3", "carrier": "DHL", "status": "IN_TRANSIT",
              "order": { "id": "o3", "total": 450.0, "customer": { "name": "Ada Lovelace" } } }
        ] } })
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
                              "entities": [{ "type": "Parcel", "key": "code", "get": "parcel" }] } }),
        )
        .await;
    let fields: Vec<String> = common::problems(&refused)
        .into_iter()
        .map(|(field, _, _)| field)
        .collect();
    assert!(
        fields.contains(&"restMutations".to_string()) && fields.contains(&"entities".to_string()),
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
}
