//! A derived REST subgraph answering over real HTTP: a REST API written
//! with axum on loopback, the derived subgraph served in front of it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

const DOCUMENT: &str = r##"
openapi: 3.1.0
info: { title: shipments, version: "1" }
paths:
  /shipments:
    get:
      operationId: shipmentsByDate
      parameters:
        - { name: date, in: query, required: true, schema: { type: string, format: date } }
        - { name: status, in: query, schema: { $ref: "#/components/schemas/Status" } }
      responses:
        "200":
          description: shipments of a day
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Shipment" } }
  /shipments/{id}:
    get:
      operationId: shipment
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: one
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Shipment" }
  /broken/{how}:
    get:
      operationId: broken
      parameters:
        - { name: how, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: a shipment, if all goes well
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Shipment" }
components:
  schemas:
    Status: { type: string, enum: [in-transit, delivered] }
    Shipment:
      type: object
      x-meshwork-key: id
      required: [id, status]
      properties:
        id: { type: string }
        shipped_on: { type: string, format: date }
        status: { $ref: "#/components/schemas/Status" }
        grams: { type: integer }
        destination:
          oneOf:
            - $ref: "#/components/schemas/Address"
            - $ref: "#/components/schemas/Locker"
          discriminator: { propertyName: kind }
    Address:
      type: object
      required: [kind]
      properties: { kind: { type: string }, street: { type: string } }
    Locker:
      type: object
      required: [kind]
      properties: { kind: { type: string }, code: { type: string } }
"##;

fn shipment(id: &str) -> Value {
    json!({
        "id": id, "shipped_on": "2026-11-23", "status": "in-transit", "grams": 5_000_000_000_i64,
        "destination": if id == "s1" {
            json!({ "kind": "Address", "street": "Main St 1" })
        } else {
            json!({ "kind": "Locker", "code": "L-7" })
        }
    })
}

struct Api {
    calls: AtomicUsize,
    headers: std::sync::Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

fn rest(api: Arc<Api>) -> Router {
    let list = {
        let api = api.clone();
        move |Query(q): Query<std::collections::HashMap<String, String>>, headers: HeaderMap| {
            let api = api.clone();
            async move {
                api.calls.fetch_add(1, Ordering::SeqCst);
                if let Some(v) = headers
                    .get("x-meshwork-consumer")
                    .and_then(|v| v.to_str().ok())
                {
                    api.headers.lock().expect("lock").push(v.to_string());
                }
                let date = q.get("date").cloned().unwrap_or_default();
                let status = q.get("status").cloned().unwrap_or_default();
                if date != "2026-11-23" || !(status.is_empty() || status == "in-transit") {
                    return Json(json!([]));
                }
                Json(json!([shipment("s1"), shipment("s2")]))
            }
        }
    };
    let one = {
        let api = api.clone();
        move |Path(id): Path<String>| {
            let api = api.clone();
            async move {
                api.calls.fetch_add(1, Ordering::SeqCst);
                let now = api.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                api.most_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                api.in_flight.fetch_sub(1, Ordering::SeqCst);
                if id.starts_with('s') {
                    Json(shipment(&id)).into_response()
                } else {
                    StatusCode::NOT_FOUND.into_response()
                }
            }
        }
    };
    let broken = move |Path(how): Path<String>| async move {
        match how.as_str() {
            "500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Json(shipment("s1")).into_response()
            }
            "html" => "<html>oops</html>".into_response(),
            "enum" => Json(json!({ "id": "x", "status": "lost" })).into_response(),
            "missing" => Json(json!({ "id": "x" })).into_response(),
            _ => {
                Json(json!({ "id": "x", "status": "delivered", "grams": "heavy" })).into_response()
            }
        }
    };
    Router::new()
        .route("/shipments", get(list))
        .route("/shipments/{id}", get(one))
        .route("/broken/{how}", get(broken))
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

async fn subgraph() -> (String, Arc<Api>) {
    let api = Arc::new(Api {
        calls: AtomicUsize::new(0),
        headers: Default::default(),
        in_flight: AtomicUsize::new(0),
        most_in_flight: AtomicUsize::new(0),
    });
    let base = serve(rest(api.clone())).await;
    let derived = openapi::derive(DOCUMENT, &openapi::Settings::default()).expect("derives");
    let router = openapi::serve::router(
        &derived,
        openapi::serve::Upstream {
            domain: "shipments".into(),
            base_url: base,
            timeout: Duration::from_secs(1),
            forward_headers: vec!["x-meshwork-consumer".into()],
        },
    )
    .expect("serves");
    (format!("{}/graphql", serve(router).await), api)
}

async fn ask(url: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("x-meshwork-consumer", "bi-tool")
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn data_by_date_with_enums_unions_and_large_integers() {
    let (url, api) = subgraph().await;
    let answer = ask(
        &url,
        r#"{ shipmentsByDate(date: "2026-11-23", status: IN_TRANSIT) { id shippedOn status grams
             destination { __typename ... on Address { street } ... on Locker { code } } } }"#,
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "shipmentsByDate": [
            { "id": "s1", "shippedOn": "2026-11-23", "status": "IN_TRANSIT", "grams": 5_000_000_000_i64,
              "destination": { "__typename": "Address", "street": "Main St 1" } },
            { "id": "s2", "shippedOn": "2026-11-23", "status": "IN_TRANSIT", "grams": 5_000_000_000_i64,
              "destination": { "__typename": "Locker", "code": "L-7" } }
        ] } })
    );
    assert_eq!(
        *api.headers.lock().expect("lock"),
        ["bi-tool"],
        "identity forwarded"
    );
    let sdl = ask(&url, "{ _service { sdl } }").await;
    assert!(sdl["data"]["_service"]["sdl"]
        .as_str()
        .is_some_and(|s| s.contains("type Shipment @key(fields: \"id\")")));
}

#[tokio::test]
async fn entities_are_fetched_by_key_and_a_404_is_null_with_an_error() {
    let (url, _) = subgraph().await;
    let answer = ask(
        &url,
        r#"{ _entities(representations: [{__typename: "Shipment", id: "s2"}, {__typename: "Shipment", id: "nope"}]) { ... on Shipment { id status } } }"#,
    )
    .await;
    assert_eq!(
        answer["data"]["_entities"][0],
        json!({ "id": "s2", "status": "IN_TRANSIT" }),
        "{answer}"
    );
    assert_eq!(answer["data"]["_entities"][1], Value::Null);
    let answer = ask(&url, r#"{ shipment(id: "nope") { id } }"#).await;
    assert_eq!(answer["data"]["shipment"], Value::Null);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("404")),
        "{answer}"
    );
}

#[tokio::test]
async fn failures_are_errors_at_their_path_naming_the_domain() {
    let (url, _) = subgraph().await;
    for (how, expected) in [
        ("500", "answered 500"),
        ("slow", "timed out"),
        ("html", "not JSON"),
        ("enum", "not a value of its enum"),
        ("missing", "no value for non-null"),
        ("types", "which its document says is a"),
    ] {
        let answer = ask(
            &url,
            &format!(r#"{{ ok: shipment(id: "s1") {{ id }} bad: broken(how: "{how}") {{ id status grams }} }}"#),
        )
        .await;
        assert_eq!(
            answer["data"]["ok"],
            json!({ "id": "s1" }),
            "{how}: other data intact: {answer}"
        );
        let errors = answer["errors"].to_string();
        assert!(
            errors.contains(expected) && errors.contains("domain `shipments`"),
            "{how}: {answer}"
        );
    }
}

#[tokio::test]
async fn entity_fetches_run_concurrently_in_order() {
    let (url, api) = subgraph().await;
    let representations: Vec<String> = (1..=20)
        .map(|i| format!(r#"{{__typename: "Shipment", id: "s{i}"}}"#))
        .collect();
    let answer = ask(
        &url,
        &format!(
            "{{ _entities(representations: [{}]) {{ ... on Shipment {{ id }} }} }}",
            representations.join(", ")
        ),
    )
    .await;
    let ids: Vec<String> = answer["data"]["_entities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("s{i}")).collect();
    assert_eq!(ids, expected, "{answer}");
    assert_eq!(api.calls.load(Ordering::SeqCst), 20);
    let most = api.most_in_flight.load(Ordering::SeqCst);
    assert!((2..=8).contains(&most), "{most} fetches at once");
}

const INVOICES: &str = r##"
openapi: 3.1.0
info: { title: invoices, version: "1" }
paths:
  /invoices:
    get:
      operationId: invoicesByIds
      parameters:
        - { name: ids, in: query, required: true, explode: false, schema: { type: array, items: { type: string } } }
      responses:
        "200":
          description: the invoices asked for (unknown ids left out)
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Invoice" } }
  /invoices/{id}:
    get:
      operationId: invoice
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: one
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Invoice" }
  /customers/{customerId}/invoices:
    get:
      operationId: customerInvoices
      x-meshwork-extends: { type: Customer, key: id, field: invoices }
      parameters:
        - { name: customerId, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: a customer's invoices
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Invoice" } }
components:
  schemas:
    Invoice:
      type: object
      x-meshwork-key: id
      x-meshwork-batch: invoicesByIds
      required: [id]
      properties:
        id: { type: string }
        amount: { type: number }
"##;

/// Calls the invoices API saw: (path, query).
type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

async fn invoices_subgraph() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = |seen: &Seen, path: String, query: Option<String>| {
        seen.lock()
            .expect("lock")
            .push((path, query.unwrap_or_default()));
    };
    let batch = {
        let seen = seen.clone();
        move |uri: axum::http::Uri, Query(q): Query<std::collections::HashMap<String, String>>| {
            let seen = seen.clone();
            async move {
                record(&seen, uri.path().into(), uri.query().map(str::to_string));
                let ids = q.get("ids").cloned().unwrap_or_default();
                Json(Value::Array(
                    ids.split(',')
                        .filter(|id| id.starts_with('i'))
                        .map(|id| json!({ "id": id, "amount": 10.5 }))
                        .collect(),
                ))
            }
        }
    };
    let one = {
        let seen = seen.clone();
        move |uri: axum::http::Uri, Path(id): Path<String>| {
            let seen = seen.clone();
            async move {
                record(&seen, uri.path().into(), None);
                Json(json!({ "id": id, "amount": 1.0 }))
            }
        }
    };
    let of_customer = {
        let seen = seen.clone();
        move |uri: axum::http::Uri, Path(customer): Path<String>| {
            let seen = seen.clone();
            async move {
                record(&seen, uri.path().into(), None);
                match customer.as_str() {
                    "c1" => {
                        Json(json!([{ "id": "i1", "amount": 3.5 }, { "id": "i2", "amount": 4 }]))
                            .into_response()
                    }
                    "c2" => Json(json!([])).into_response(),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        }
    };
    let base = serve(
        Router::new()
            .route("/invoices", get(batch))
            .route("/invoices/{id}", get(one))
            .route("/customers/{customer}/invoices", get(of_customer)),
    )
    .await;
    let derived = openapi::derive(INVOICES, &openapi::Settings::default()).expect("derives");
    let router = openapi::serve::router(
        &derived,
        openapi::serve::Upstream {
            domain: "invoices".into(),
            base_url: base,
            timeout: Duration::from_secs(1),
            forward_headers: vec![],
        },
    )
    .expect("serves");
    (format!("{}/graphql", serve(router).await), seen)
}

#[tokio::test]
async fn a_declared_batch_operation_fetches_many_entities_in_one_call() {
    let (url, seen) = invoices_subgraph().await;
    let answer = ask(
        &url,
        r#"{ _entities(representations: [
            {__typename: "Invoice", id: "i1"}, {__typename: "Invoice", id: "x9"},
            {__typename: "Invoice", id: "i2"}, {__typename: "Invoice", id: "i1"}
        ]) { ... on Invoice { id amount } } }"#,
    )
    .await;
    assert_eq!(
        answer["data"]["_entities"],
        json!([{ "id": "i1", "amount": 10.5 }, null, { "id": "i2", "amount": 10.5 }, { "id": "i1", "amount": 10.5 }]),
        "{answer}"
    );
    // The unknown one is null with errors naming the domain and the key.
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    assert!(!errors.is_empty(), "{answer}");
    assert!(
        errors.iter().all(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("`invoices`") && m.contains("x9"))),
        "{answer}"
    );
    // One call for the three distinct keys, comma-separated; no single fetches.
    let calls = seen.lock().expect("lock").clone();
    assert_eq!(
        calls,
        [("/invoices".to_string(), "ids=i1,x9,i2".to_string())],
        "{calls:?}"
    );
}

#[tokio::test]
async fn another_domains_entity_gains_a_field_answered_by_its_key() {
    let (url, seen) = invoices_subgraph().await;
    let answer = ask(
        &url,
        r#"{ _entities(representations: [
            {__typename: "Customer", id: "c1"}, {__typename: "Customer", id: "c2"},
            {__typename: "Customer", id: "c404"}
        ]) { ... on Customer { id invoices { id amount } } } }"#,
    )
    .await;
    let entities = &answer["data"]["_entities"];
    assert_eq!(
        entities[0],
        json!({ "id": "c1", "invoices": [{ "id": "i1", "amount": 3.5 }, { "id": "i2", "amount": 4 }] }),
        "{answer}"
    );
    assert_eq!(
        entities[1],
        json!({ "id": "c2", "invoices": [] }),
        "{answer}"
    );
    // The 404 leaves no invoices, with an error saying so.
    assert_eq!(entities[2]["id"], "c404", "{answer}");
    assert!(entities[2]["invoices"].is_null(), "{answer}");
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{answer}");
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("404")),
        "{answer}"
    );
    let mut paths: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/customers/c1/invoices",
            "/customers/c2/invoices",
            "/customers/c404/invoices"
        ]
    );
}
