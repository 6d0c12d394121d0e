//! Operation limits are on by default: a fragment bomb, deep nesting, too
//! many root fields and a gzip bomb are refused before any planning, and
//! the gateway keeps answering.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{json, Value};

fn code(answer: &Value) -> String {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_operations_are_refused_and_the_gateway_keeps_serving() {
    let demo = Server::start_demo();
    let ok = "{ customers { name } }";
    demo.wait_for(ok, |a| a["data"]["customers"].is_array())
        .await;

    // Three levels of fragments, each spreading the level below 100 times:
    // 100^3 = one million selections once expanded, from a query of about
    // 2 KiB that stays within the engine's depth, alias, directive and
    // token limits.
    let bomb = format!(
        "query Bomb {{ customers {{ ...A2 }} }}\nfragment A0 on Customer {{ {} }}\nfragment A1 on Customer {{ {} }}\nfragment A2 on Customer {{ {} }}\n",
        "name ".repeat(100),
        "...A0 ".repeat(100),
        "...A1 ".repeat(100),
    );
    assert!(
        bomb.len() < 3 * 1024,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    let started = Instant::now();
    let answer = demo.mesh(&bomb, json!({})).await;
    let codes: Vec<String> = answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            e["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        codes,
        ["MAX_EXPANDED_SELECTIONS_EXCEEDED"],
        "only Meshwork's rule catches it: {answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusal took {:?}",
        started.elapsed()
    );

    let deep = String::from("{ customers { orders { customer { orders { customer { orders { customer { orders { customer { orders { customer { orders { customer { orders { customer { orders { customer { name } } } } } } } } } } } } } } } } } }");
    let answer = demo.mesh(&deep, json!({})).await;
    assert_eq!(code(&answer), "MAX_DEPTH_EXCEEDED", "{answer}");

    let roots: String = (0..21)
        .map(|i| format!("c{i}: customers {{ name }} "))
        .collect();
    let answer = demo.mesh(&format!("{{ {roots} }}"), json!({})).await;
    assert_eq!(code(&answer), "MAX_ROOT_FIELDS_EXCEEDED", "{answer}");
    let roots: String = (0..20)
        .map(|i| format!("c{i}: customers {{ name }} "))
        .collect();
    let answer = demo.mesh(&format!("{{ {roots} }}"), json!({})).await;
    assert!(
        answer.get("errors").is_none(),
        "20 root fields are allowed: {answer}"
    );

    // 8 MB of JSON whitespace compresses to a few KiB; the 2 MB body limit
    // applies to the decompressed bytes.
    let mut body = String::from("{\"query\": \"{ customers { name } }\"");
    body.push_str(&" ".repeat(8 * 1024 * 1024));
    body.push('}');
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(body.as_bytes()).expect("gzip");
    let compressed = gz.finish().expect("gzip");
    assert!(compressed.len() < 64 * 1024);
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", demo.base))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(compressed)
        .send()
        .await
        .expect("gzip bomb");
    assert_eq!(
        response.status(),
        413,
        "a gzip bomb is refused by the body limit"
    );

    let answer = demo.mesh(ok, json!({})).await;
    assert_eq!(
        answer["data"]["customers"][0]["name"], "Ada Lovelace",
        "still serving: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_a_browser_could_forge_cross_site_need_a_preflight_header() {
    let demo = Server::start_demo();
    let ok = "{ customers { name } }";
    demo.wait_for(ok, |a| a["data"]["customers"].is_array())
        .await;
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", demo.base);

    // GET and text/plain POSTs need no CORS preflight: refused without a
    // preflight header…
    let get = http
        .get(&url)
        .query(&[("query", ok)])
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET");
    assert_eq!(get.status(), 403);
    let body: Value = get.json().await.expect("JSON");
    assert_eq!(code(&body), "CSRF_PREVENTION_FAILED", "{body}");
    let text = http
        .post(&url)
        .header("content-type", "text/plain")
        .body(json!({ "query": ok }).to_string())
        .send()
        .await
        .expect("POST text/plain");
    assert_eq!(text.status(), 403);

    // …and served with one, or as a JSON POST (which browsers preflight).
    let with_header = http
        .get(&url)
        .query(&[("query", ok)])
        .header("accept", "application/json")
        .header("x-meshwork-csrf", "1")
        .send()
        .await
        .expect("GET with header");
    assert_eq!(with_header.status(), 200);
    let json_post = demo.mesh(ok, json!({})).await;
    assert!(json_post["data"]["customers"].is_array(), "{json_post}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_estimated_too_expensive_are_refused_before_any_subgraph_call() {
    let demo = Server::start_demo();
    let ok = "{ customers { name } }";
    demo.wait_for(ok, |a| a["data"]["customers"].is_array())
        .await;
    // Lists nested five deep: 10^5 estimated items and more, under every
    // other limit (depth, aliases, tokens, expanded selections).
    let expensive = "{ ordersByDate(date: \"2026-11-24\") { customer { orders { customer { orders { customer { orders { lines { product { name } } } } } } } } } }";
    let answer = demo.mesh(expensive, json!({})).await;
    assert_eq!(code(&answer), "COST_ESTIMATED_TOO_EXPENSIVE", "{answer}");
    // Ordinary queries are far below the limit.
    let answer = demo.mesh(ok, json!({})).await;
    assert!(answer["data"]["customers"].is_array(), "{answer}");
}

/// The router config's request-head limit is the server's: a head larger
/// than the HTTP server's own 64 KiB parse buffer is read when the limit
/// allows it, and one above the limit is never served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_head_limit_of_the_router_config_holds() {
    let (_customers, supergraph) = common::customers_alone().await;
    let gateway = common::static_gateway(
        &supergraph.sdl,
        Some("limits:\n  max_request_header_size: 256KiB\n"),
        &[],
    )
    .await;
    let http = reqwest::Client::new();
    let ask = |padding: usize| {
        http.post(format!("{}/graphql", gateway.server.base))
            .header("x-padding", "a".repeat(padding))
            .json(&json!({ "query": "{ customers { name } }" }))
            .send()
    };
    let within = ask(100 * 1024).await.expect("a 100 KiB head is read");
    assert_eq!(within.status(), 200);
    let answer: Value = within.json().await.expect("JSON");
    assert!(answer["data"]["customers"].is_array(), "{answer}");
    // Above the limit: refused (or the connection closed), never served.
    if let Ok(above) = ask(300 * 1024).await {
        assert!(above.status().is_client_error(), "{}", above.status());
    }
    // The gateway keeps serving (on a new connection: the refused one may
    // be closed while the client's pool still holds it).
    let again = reqwest::Client::new()
        .post(format!("{}/graphql", gateway.server.base))
        .json(&json!({ "query": "{ customers { name } }" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(again.status(), 200);
}
