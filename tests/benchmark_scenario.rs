//! The public gateways benchmark's scenario through Meshwork's gateway: four
//! subgraphs with `@requires` and `@provides`, a deep query with fragments,
//! and one exact expected answer. Served from Apollo's supergraph (static
//! mode) and from Meshwork's own composition of the same subgraphs.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench/fixtures")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("bench/fixtures/{name}: {e}"))
}

async fn gateway_answer(supergraph: &str) -> Value {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, supergraph).expect("write supergraph");
    let server = Server::start_with(&[
        "gateway",
        "--supergraph",
        &file.to_string_lossy(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "gateway never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.mesh(&fixture("query.graphql"), json!({})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_and_meshwork_supergraphs_both_answer_the_benchmark_query_exactly() {
    let subgraphs = domains::serve(domains::bench::all())
        .await
        .expect("subgraphs");
    let expected: Value =
        serde_json::from_str(&fixture("expected-response.json")).expect("expected JSON");

    let mut apollo = fixture("supergraph.graphql");
    for name in domains::bench::SUBGRAPHS {
        apollo = apollo.replace(
            &format!("\"http://0.0.0.0:4200/{name}\""),
            &format!("\"http://{}/{name}/graphql\"", subgraphs.addr),
        );
    }
    let answer = gateway_answer(&apollo).await;
    assert!(
        answer == expected,
        "Apollo supergraph: answer differs from expected-response.json:\n{answer}"
    );

    let http = reqwest::Client::new();
    let mut members = Vec::new();
    for name in domains::bench::SUBGRAPHS {
        let url = format!("http://{}/{name}/graphql", subgraphs.addr);
        let sdl: Value = http
            .post(&url)
            .json(&json!({ "query": "{ _service { sdl } }" }))
            .send()
            .await
            .expect("sdl")
            .json()
            .await
            .expect("sdl json");
        members.push(composition::Subgraph {
            name: name.into(),
            url,
            sdl: sdl["data"]["_service"]["sdl"]
                .as_str()
                .unwrap_or_default()
                .into(),
        });
    }
    let ours = composition::compose(&members).expect("Meshwork composes the benchmark subgraphs");
    let answer = gateway_answer(&ours.sdl).await;
    assert!(
        answer == expected,
        "Meshwork supergraph: answer differs from expected-response.json:\n{answer}"
    );
}
