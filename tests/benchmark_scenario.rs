//! The public gateways benchmark's scenario through Meshwork's gateway: four
//! subgraphs with `@requires` and `@provides`, a deep query with fragments,
//! and one exact expected answer. Served from Apollo's supergraph (static
//! mode) and from Meshwork's own composition of the same subgraphs.

mod common;

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
    let gateway = common::static_gateway(supergraph, None, &[]).await;
    gateway
        .server
        .mesh(&fixture("query.graphql"), json!({}))
        .await
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

    let urls: Vec<(&str, String)> = domains::bench::SUBGRAPHS
        .iter()
        .map(|name| (*name, format!("http://{}/{name}/graphql", subgraphs.addr)))
        .collect();
    let members: Vec<(&str, &str)> = urls.iter().map(|(n, u)| (*n, u.as_str())).collect();
    let ours = common::compose(&members).await;
    let answer = gateway_answer(&ours.sdl).await;
    assert!(
        answer == expected,
        "Meshwork supergraph: answer differs from expected-response.json:\n{answer}"
    );
}
