//! Rate limits per caller at the gateway: requests above the plan get 429
//! with Retry-After; other callers and other endpoints are not affected.

mod common;

use serde_json::{json, Value};

async fn post(base: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ customers { name } }" }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn unsigned_token(sub: &str) -> String {
    use base64::Engine;
    let part = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.sig",
        part(json!({ "alg": "HS256" })),
        part(json!({ "sub": sub, "iss": "test" }))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_above_their_plan_get_429_with_retry_after() {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let supergraph = common::compose(&[("customers", &customers.url)]).await;
    let gateway = common::static_gateway(
        &supergraph.sdl,
        None,
        &["--rate-limit-per-minute", "6", "--rate-limit-burst", "3"],
    )
    .await;
    let base = &gateway.server.base;

    for i in 0..3 {
        let (status, _, answer) = post(base, None).await;
        assert_eq!(status, 200, "request {i} within the burst: {answer}");
    }
    let (status, retry_after, answer) = post(base, None).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    let seconds: u64 = retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=10).contains(&seconds), "Retry-After {seconds}");

    // Another caller has a bucket of its own; probes are never limited.
    let (status, _, _) = post(base, Some(&unsigned_token("analyst-2"))).await;
    assert_eq!(status, 200);
    let health = reqwest::get(format!("{base}/health"))
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
}
