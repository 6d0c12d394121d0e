//! Access control end to end, over real HTTP: the catalog's records
//! (issuers, consumers, API keys, grants, access requests, field policies)
//! decide what the gateway serves, without a restart.

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod cli;
mod credentials;
mod grants;
mod identity;
mod plans;
mod replicas;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Server;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const ADMIN: &str = "test-admin-token-0123456789";
const SECRET: &str = "0123456789abcdef0123456789abcdef-idp";
const ORDERS: &str = r#"{ ordersByDate(date: "2026-11-24") { id total } }"#;

use common::{codes, now};

/// An HS256 token of the test issuer.
fn token(claims: Value) -> String {
    common::hs256(
        SECRET,
        json!({ "iss": "https://idp.test", "exp": now() + 600 }),
        claims,
    )
}

async fn catalog_as(server: &Server, auth: &str, query: &str, variables: Value) -> Value {
    server
        .graphql_with(&[("authorization", auth)], query, variables)
        .await
}

async fn admin(server: &Server, query: &str, variables: Value) -> Value {
    let answer = catalog_as(server, &format!("Bearer {ADMIN}"), query, variables).await;
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer
}

/// POSTs to the federated endpoint with optional extra headers.
async fn mesh_as(server: &Server, headers: &[(&str, &str)], query: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .json(&json!({ "query": query }));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Retries until `accept` holds (access changes reach the gateway at once
/// in-process; the supergraph follows within a poll), at most 20 s.
async fn until(
    server: &Server,
    headers: &[(&str, &str)],
    query: &str,
    accept: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = mesh_as(server, headers, query).await;
        if accept(status, &answer) {
            return (status, answer);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up on {query}: {status} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Registers consumer `name` (owner team `apps`; `extra` adds or overrides
/// spec fields) and creates an API key for it: `(key, prefix)`.
async fn consumer_with_key(server: &Server, name: &str, extra: Value) -> (String, String) {
    let spec = common::merged(
        json!({ "name": name, "ownerTeam": "apps", "contact": "apps@example.com" }),
        extra,
    );
    admin(
        server,
        "mutation($s: ConsumerSpec!) { createConsumer(spec: $s) { name } }",
        json!({ "s": spec }),
    )
    .await;
    let created = admin(
        server,
        "mutation($c: String!) { createApiKey(consumer: $c, name: \"main\") { key apiKey { prefix } } }",
        json!({ "c": name }),
    )
    .await;
    let key = &created["data"]["createApiKey"];
    (
        key["key"].as_str().expect("key").to_string(),
        key["apiKey"]["prefix"]
            .as_str()
            .expect("prefix")
            .to_string(),
    )
}

async fn register_issuer(server: &Server) {
    admin(
        server,
        "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name hasSecret } }",
        json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                       "secret": SECRET, "consumerClaim": "azp", "teamsClaim": "groups" } }),
    )
    .await;
}

async fn start_mesh(database: &str) -> (Server, Vec<domains::Running>) {
    start_mesh_with(database, &[]).await
}

async fn start_mesh_with(database: &str, extra: &[&str]) -> (Server, Vec<domains::Running>) {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--admin-token",
        ADMIN,
    ];
    args.extend(extra);
    let server = Server::start_with(&args);
    for (name, team, url, access) in [
        ("customers", "crm", &customers.url, "OPEN"),
        ("inventory", "logistics", &inventory.url, "OPEN"),
        ("orders", "sales", &orders.url, "RESTRICTED"),
    ] {
        admin(
            &server,
            "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
            json!({ "s": { "name": name, "ownerTeam": team, "contact": format!("{team}@example.com"),
                           "apiUrl": url, "access": access } }),
        )
        .await;
    }
    (server, vec![customers, orders, inventory])
}
