//! Listing domains with their nested fields costs a fixed number of SQL
//! statements, however many domains the page holds (no N+1).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use catalog::Catalog;
use sea_orm::{ConnectOptions, Database};
use serde_json::{json, Value};

const LISTING: &str = "query($first: Int!) { domains(first: $first) { nodes { \
    name tags inputs { name kind domain { name ownerTeam } } latestSchemaVersion { hash } } } }";

async fn statements_for_listing(
    catalog: &Catalog,
    counter: &AtomicUsize,
    first: usize,
) -> (usize, Value) {
    let app = catalog::api::router(
        catalog::api::schema(catalog.clone()),
        catalog::api::ApiAuth::new(catalog.clone(), None),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    counter.store(0, Ordering::SeqCst);
    let response: Value = reqwest::Client::new()
        .post(format!("http://{addr}/catalog/graphql"))
        .json(&json!({ "query": LISTING, "variables": { "first": first } }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let count = counter.load(Ordering::SeqCst);
    server.abort();
    (count, response)
}

#[tokio::test]
async fn listing_fifty_domains_with_inputs_and_schemas_takes_a_constant_number_of_statements() {
    for db in common::databases().await {
        let counter = Arc::new(AtomicUsize::new(0));
        let mut options = ConnectOptions::new(catalog::normalize_url(&db.url).expect("url"));
        options.max_connections(1).sqlx_logging(false);
        let mut conn = Database::connect(options).await.expect("connect");
        let seen = counter.clone();
        conn.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        let catalog = Catalog::with_connection(conn).await.expect("migrate");

        let mut previous: Option<String> = None;
        for i in 0..50 {
            let name = format!("domain-{i:02}");
            let mut spec: catalog::DomainSpec =
                serde_json::from_value(common::spec(&name)).expect("spec");
            spec.tags = vec!["t1".into(), format!("t-{i}")];
            if let Some(upstream) = &previous {
                spec.inputs = serde_json::from_value(json!([
                    { "name": upstream },
                    { "name": "erp", "kind": "EXTERNAL" }
                ]))
                .expect("inputs");
            }
            catalog
                .register(&catalog::Caller::admin("test"), spec)
                .await
                .expect("register");
            catalog
                .record_schema_version(
                    "test",
                    &name,
                    &format!("type Query {{ f{i}: Int }}"),
                    "http://x",
                    None,
                )
                .await
                .expect("schema");
            previous = Some(name);
        }

        let (for_five, _) = statements_for_listing(&catalog, &counter, 5).await;
        let (for_fifty, response) = statements_for_listing(&catalog, &counter, 50).await;
        let nodes = response["data"]["domains"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(nodes.len(), 50, "[{}] {response}", db.label);
        assert_eq!(nodes[1]["inputs"][0]["domain"]["name"], "domain-00");
        assert_eq!(nodes[1]["tags"], json!(["t-1", "t1"]));
        assert!(nodes[49]["latestSchemaVersion"]["hash"].is_string());
        // domains + tags + inputs + upstream domains + latest schema versions
        assert!(
            for_fifty <= 5,
            "[{}] {for_fifty} statements for 50 domains",
            db.label
        );
        assert_eq!(
            for_fifty, for_five,
            "[{}] statement count grows with page size",
            db.label
        );
    }
}
