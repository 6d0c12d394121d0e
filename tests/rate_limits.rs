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
    let (_customers, supergraph) = common::customers_alone().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_sharing_redis_hold_one_combined_limit() {
    let Some(redis) = common::redis().await else {
        return;
    };
    // A fresh key space per run: the caller's token subject is unique.
    let subject = format!("shared-{}", std::process::id());
    let (_customers, supergraph) = common::customers_alone().await;
    let flags = [
        "--rate-limit-per-minute",
        "6",
        "--rate-limit-burst",
        "4",
        "--redis-url",
        redis.url.as_str(),
    ];
    let a = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let b = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let token = unsigned_token(&subject);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let base = if i % 2 == 0 {
            &a.server.base
        } else {
            &b.server.base
        };
        let (status, retry_after, answer) = post(base, Some(&token)).await;
        if status == 429 {
            assert_eq!(answer["errors"][0]["extensions"]["code"], "RATE_LIMITED");
            let seconds: u64 = retry_after
                .and_then(|v| v.parse().ok())
                .expect("Retry-After");
            assert!((1..=10).contains(&seconds), "Retry-After {seconds}");
        }
        statuses.push(status);
    }
    // A burst of 4 across both gateways, not 4 each.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "{statuses:?}");
    // Another caller is not affected.
    let (status, _, _) = post(
        &b.server.base,
        Some(&unsigned_token(&format!("{subject}-other"))),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_plan_counted_in_redis_holds_across_gateways() {
    let Some(redis) = common::redis().await else {
        return;
    };
    let (_customers, supergraph) = common::customers_alone().await;
    // A consumer with an API key, and the customers domain's own plan:
    // 6 per minute, 2 at once, per consumer.
    let run = std::process::id();
    let key = format!("mk_r{run}_0123456789abcdef0123456789abcdef");
    let dir = tempfile::tempdir().expect("dir");
    let access = dir.path().join("access.json");
    std::fs::write(
        &access,
        json!({
            "issuers": [],
            "apiKeys": [{ "prefix": format!("r{run}"), "hash": access::api_key_hash(&key),
                          "consumer": format!("app-{run}"), "expiresAt": null }],
            "consumers": [{ "name": format!("app-{run}"), "introspection": true, "plan": null, "grants": [] }],
            "domainPlans": { "customers": { "name": "guard", "requestsPerMinute": 6, "burst": 2,
                                            "dailyQuota": null, "maxCost": null } }
        })
        .to_string(),
    )
    .expect("access file");
    let access = access.to_string_lossy().into_owned();
    let flags = [
        "--access",
        access.as_str(),
        "--redis-url",
        redis.url.as_str(),
    ];
    let a = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let b = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let mut refused = Vec::new();
    for i in 0..4 {
        let base = if i % 2 == 0 {
            &a.server.base
        } else {
            &b.server.base
        };
        let answer: Value = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("x-api-key", &key)
            .json(&json!({ "query": "{ customers { name } }" }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        refused.push(
            answer["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("ok")
                .to_string(),
        );
    }
    // The domain's burst of 2 holds across both gateways.
    assert_eq!(
        refused,
        ["ok", "ok", "RATE_LIMITED", "RATE_LIMITED"],
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_goes_away_limits_fail_open_or_closed_as_configured() {
    let Some(mut redis) = common::own_redis().await else {
        return;
    };
    let (_customers, supergraph) = common::customers_alone().await;
    let flags = [
        "--rate-limit-per-minute",
        "600",
        "--redis-url",
        redis.url.as_str(),
    ];
    let open = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let mut closed_flags = flags.to_vec();
    closed_flags.extend(["--redis-unavailable", "closed"]);
    let closed = common::static_gateway(&supergraph.sdl, None, &closed_flags).await;
    let token = unsigned_token("redis-outage");
    for gateway in [&open, &closed] {
        let (status, _, answer) = post(&gateway.server.base, Some(&token)).await;
        assert_eq!(status, 200, "{answer}");
    }
    if let Some(child) = &mut redis.child {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Open: requests go on, unlimited. Closed: refused with 503.
    for _ in 0..3 {
        let (status, _, answer) = post(&open.server.base, Some(&token)).await;
        assert_eq!(status, 200, "fails open: {answer}");
        let (status, retry_after, answer) = post(&closed.server.base, Some(&token)).await;
        assert_eq!(status, 503, "fails closed: {answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"],
            "RATE_LIMIT_UNAVAILABLE"
        );
        assert!(retry_after.is_some());
    }
}
