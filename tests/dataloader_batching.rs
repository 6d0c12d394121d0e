//! Listing domains with their nested fields costs a fixed number of SQL
//! statements, however many domains the page holds (no N+1).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use catalog::Catalog;
use sea_orm::{ConnectOptions, Database};
use serde_json::{json, Value};

const LISTING: &str = "query($first: Int!) { domains(first: $first) { nodes { \
    name tags plan inputs { name kind domain { name ownerTeam } } latestSchemaVersion { hash } } } }";

const CONSUMERS: &str =
    "{ consumers { name plan { name requestsPerMinute } apiKeys { name prefix } } }";

const ADMIN: &str = "dataloader-test-admin-token";

async fn statements_for_listing(
    catalog: &Catalog,
    counter: &AtomicUsize,
    first: usize,
) -> (usize, Value) {
    statements_for(catalog, counter, LISTING, json!({ "first": first })).await
}

/// Statements the catalog runs for one request (as the admin).
async fn statements_for(
    catalog: &Catalog,
    counter: &AtomicUsize,
    query: &str,
    variables: Value,
) -> (usize, Value) {
    let app = catalog::api::router(
        catalog::api::schema(catalog.clone()),
        catalog::api::ApiAuth::new(catalog.clone(), Some(ADMIN.into())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    counter.store(0, Ordering::SeqCst);
    let response: Value = reqwest::Client::new()
        .post(format!("http://{addr}/catalog/graphql"))
        .bearer_auth(ADMIN)
        .json(&json!({ "query": query, "variables": variables }))
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

/// A catalog on `url` whose SQL statements are counted, with two plans.
async fn counted_catalog(url: &str) -> (Catalog, Arc<AtomicUsize>) {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut options = ConnectOptions::new(catalog::normalize_url(url).expect("url"));
    options.max_connections(1).sqlx_logging(false);
    let mut conn = Database::connect(options).await.expect("connect");
    let seen = counter.clone();
    conn.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let catalog = Catalog::with_connection(conn).await.expect("migrate");
    for p in ["small", "large"] {
        catalog
            .create_plan(
                &catalog::Caller::admin("test"),
                serde_json::from_value(json!({ "name": p, "requestsPerMinute": 60, "burst": 10 }))
                    .expect("plan"),
            )
            .await
            .expect("create plan");
    }
    (catalog, counter)
}

#[tokio::test]
async fn listing_fifty_domains_with_inputs_and_schemas_takes_a_constant_number_of_statements() {
    for db in common::databases().await {
        let (catalog, counter) = counted_catalog(&db.url).await;

        let mut previous: Option<String> = None;
        for i in 0..50 {
            let name = format!("domain-{i:02}");
            let mut spec: catalog::DomainSpec =
                serde_json::from_value(common::spec(&name)).expect("spec");
            spec.tags = vec!["t1".into(), format!("t-{i}")];
            spec.plan = Some(if i % 2 == 0 { "small" } else { "large" }.into());
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
        assert_eq!(nodes[1]["plan"], "large");
        assert!(nodes[49]["latestSchemaVersion"]["hash"].is_string());
        // domains + tags + plans + inputs + upstream domains + latest
        // schema versions
        assert!(
            for_fifty <= 6,
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

#[tokio::test]
async fn listing_consumers_with_plans_and_keys_takes_a_constant_number_of_statements() {
    for db in common::databases().await {
        let (catalog, counter) = counted_catalog(&db.url).await;
        let admin = catalog::Caller::admin("test");
        let mut counts = Vec::new();
        for (from, to) in [(0, 5), (5, 30)] {
            for i in from..to {
                let name = format!("consumer-{i:02}");
                catalog
                    .create_consumer(
                        &admin,
                        serde_json::from_value(json!({
                            "name": name, "ownerTeam": "bi", "contact": "bi@example.com",
                            "plan": if i % 2 == 0 { "small" } else { "large" }
                        }))
                        .expect("consumer"),
                    )
                    .await
                    .expect("create consumer");
                for k in ["a", "b"] {
                    catalog
                        .create_api_key(&admin, &name, &format!("key-{k}"), None)
                        .await
                        .expect("key");
                }
            }
            let (count, response) = statements_for(&catalog, &counter, CONSUMERS, json!({})).await;
            let consumers = response["data"]["consumers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(consumers.len(), to, "[{}] {response}", db.label);
            assert!(
                consumers
                    .iter()
                    .all(|c| c["apiKeys"].as_array().map(Vec::len) == Some(2)
                        && c["plan"]["name"].is_string()),
                "[{}] {response}",
                db.label
            );
            counts.push(count);
        }
        assert_eq!(
            counts[0], counts[1],
            "[{}] statements grow with the number of consumers: {counts:?}",
            db.label
        );
    }
}
