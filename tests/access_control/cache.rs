//! The subgraph answer cache under access control: two consumers holding
//! different grants, under concurrent load, never receive each other's
//! cached answers, and the domain is not called again while its
//! `Cache-Control` allows.

use super::*;

/// A domain whose answer depends on the calling consumer, allows shared
/// caches to keep it for a minute, and counts the consumers' requests it
/// serves.
mod ledger {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
    use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;

    pub struct Caller(pub String);
    pub struct Query;

    #[Object]
    impl Query {
        /// The caller's own balance: what a cache must never show another.
        async fn balance(&self, ctx: &Context<'_>) -> String {
            let who = ctx
                .data::<Caller>()
                .map(|c| c.0.clone())
                .unwrap_or_default();
            format!("balance of {who}")
        }

        async fn currency(&self) -> &'static str {
            "EUR"
        }
    }

    type LedgerSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    async fn handle(
        State((schema, calls)): State<(LedgerSchema, Arc<AtomicUsize>)>,
        headers: HeaderMap,
        request: GraphQLRequest,
    ) -> axum::response::Response {
        // Consumers' requests only: the catalog's schema polls (no
        // consumer) come at any time.
        if headers.contains_key("x-meshwork-consumer") {
            calls.fetch_add(1, Ordering::SeqCst);
        }
        let consumer = headers
            .get("x-meshwork-consumer")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nobody")
            .to_string();
        let response: GraphQLResponse = schema
            .execute(request.into_inner().data(Caller(consumer)))
            .await
            .into();
        ([("cache-control", "public, max-age=60")], response).into_response()
    }

    pub fn router(calls: Arc<AtomicUsize>) -> axum::Router {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        axum::Router::new()
            .route("/graphql", axum::routing::post(handle))
            .with_state((schema, calls))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_never_cross_consumers_with_different_grants_under_load() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let calls = Arc::new(AtomicUsize::new(0));
    let domain = domains::serve(ledger::router(calls.clone()))
        .await
        .expect("ledger domain");
    let (server, _domains) = start_mesh_with(
        &common::databases().await[0].url,
        &["--subgraph-cache-mib", "16"],
    )
    .await;
    let (whole, balance_only, no_grant) = ledger_consumers(&server, &domain.url).await;
    let query = "{ balance }";
    // Until both consumers' answers are served from the cache in the same
    // round (the supergraph may still be reloaded after the registration
    // and the grants, and a new supergraph empties the cache: a reload
    // between two separate waits would leave the first consumer uncached).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut all_hits = true;
        for key in [&whole, &balance_only] {
            let (status, answer) = mesh_as(
                &server,
                &[("x-api-key", key), ("x-meshwork-cache-debug", "1")],
                query,
            )
            .await;
            all_hits &=
                status == 200 && answer["extensions"]["meshwork"]["cache"][0]["hit"] == true;
        }
        if all_hits {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the answers were never served from the cache"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 200 requests, both consumers interleaved, 16 at a time: each answer
    // is the caller's own, and the domain is not called again.
    let before = calls.load(Ordering::SeqCst);
    let wrong = wrong_balances(&[&server.base], &whole, &balance_only, 200, 16, 2).await;
    assert!(
        wrong.is_empty(),
        "answers served across identities: {wrong:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before,
        "every answer after the first of each consumer came from the cache"
    );
    // Whole answers were served: after each consumer's first request the
    // engine did not even assemble the answer again.
    let hits = metric(&server, "meshwork_operation_cache", "outcome=\"hit\"").await;
    assert!(hits >= 150.0, "whole-operation hits under load: {hits}");

    // The debug header says so.
    let (_, traced) = mesh_as(
        &server,
        &[("x-api-key", &whole), ("x-meshwork-cache-debug", "1")],
        query,
    )
    .await;
    assert_eq!(
        traced["data"]["balance"], "balance of whole-ledger",
        "{traced}"
    );
    let cache = &traced["extensions"]["meshwork"]["cache"];
    assert_eq!(cache[0]["domain"], "ledger", "{traced}");
    assert_eq!(cache[0]["hit"], true, "{traced}");

    // Without a grant, or without a credential, nothing cached is served:
    // the refusal comes before any fetch.
    for headers in [vec![("x-api-key", no_grant.as_str())], vec![]] {
        let (_, refused) = mesh_as(&server, &headers, query).await;
        assert!(refused["data"]["balance"].is_null(), "{refused}");
        assert!(
            codes(&refused)
                .iter()
                .any(|c| c == "UNAUTHORIZED_FIELD_OR_TYPE"),
            "{refused}"
        );
    }
    // A field the narrower grant does not cover stays refused to it, while
    // the wider grant reads it (a different query: its own cache entry).
    let (_, narrow) = mesh_as(&server, &[("x-api-key", &balance_only)], "{ currency }").await;
    assert!(narrow["data"]["currency"].is_null(), "{narrow}");
    let (_, wide) = mesh_as(&server, &[("x-api-key", &whole)], "{ currency }").await;
    assert_eq!(wide["data"]["currency"], "EUR", "{wide}");

    // Purges: a key purge drops the answers that mention it (the whole
    // ledger's), not the other consumer's; a whole-domain purge drops all.
    // Each is applied by the gateway with the next access snapshot.
    let hit_for = |key: String| {
        let server = &server;
        async move {
            let (_, answer) = mesh_as(
                server,
                &[("x-api-key", &key), ("x-meshwork-cache-debug", "1")],
                query,
            )
            .await;
            answer["extensions"]["meshwork"]["cache"][0]["hit"] == true
        }
    };
    let purged = admin(
        &server,
        "mutation { purgeDomainCache(domain: \"ledger\", key: \"whole-ledger\") }",
        json!({}),
    )
    .await;
    assert!(
        purged["data"]["purgeDomainCache"].as_i64().is_some(),
        "{purged}"
    );
    assert!(
        !hit_for(whole.clone()).await,
        "the purged answer is fetched again"
    );
    assert!(hit_for(whole.clone()).await, "and cached again");
    assert!(
        hit_for(balance_only.clone()).await,
        "the other consumer's answer stays"
    );
    admin(
        &server,
        "mutation { purgeDomainCache(domain: \"ledger\") }",
        json!({}),
    )
    .await;
    assert!(!hit_for(balance_only.clone()).await);
    // The purge dropped whole answers of the domain as well: the next
    // plain request calls the domain again.
    let before = calls.load(Ordering::SeqCst);
    let (_, again) = mesh_as(&server, &[("x-api-key", &whole)], query).await;
    assert_eq!(
        again["data"]["balance"], "balance of whole-ledger",
        "{again}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
    // Only the domain's owner team or an admin purges.
    register_issuer(&server).await;
    let refused = catalog_as(
        &server,
        &format!(
            "Bearer {}",
            token(json!({ "sub": "mallory", "groups": ["sales"] }))
        ),
        "mutation { purgeDomainCache(domain: \"ledger\") }",
        json!({}),
    )
    .await;
    assert_eq!(codes(&refused), ["FORBIDDEN"], "{refused}");

    // A domain's own lifetime for answers without Cache-Control: checked,
    // stored, shown.
    let bad = catalog_as(
        &server,
        &format!("Bearer {ADMIN}"),
        "mutation { updateDomain(name: \"ledger\", patch: { cacheTtlSeconds: -1 }) { name } }",
        json!({}),
    )
    .await;
    assert_eq!(common::problems(&bad)[0].0, "cacheTtlSeconds", "{bad}");
    let set = admin(
        &server,
        "mutation { updateDomain(name: \"ledger\", patch: { cacheTtlSeconds: 3600 }) { cacheTtlSeconds } }",
        json!({}),
    )
    .await;
    assert_eq!(
        set["data"]["updateDomain"]["cacheTtlSeconds"], 3600,
        "{set}"
    );
}

/// Gateway replicas sharing the cache through Redis: an answer one replica
/// fetched serves the same consumer on another without calling the
/// domain, never another consumer (concurrent load on both replicas), and
/// a catalog purge reaches the shared entries too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_cached_answers_through_redis_never_across_consumers() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let Some(redis) = common::own_redis().await else {
        return;
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let domain = domains::serve(ledger::router(calls.clone()))
        .await
        .expect("ledger domain");
    let key = "shared-cache-cdn-key-0123456789abcdef";
    let (server, _domains) =
        start_mesh_with(&common::databases().await[0].url, &["--cdn-key", key]).await;
    let (whole, balance_only, _) = ledger_consumers(&server, &domain.url).await;
    let replica = || {
        Server::start_program(
            &common::gateway_binary(),
            &[
                "--control-plane",
                &server.base,
                "--cdn-key",
                key,
                "--poll-interval",
                "1s",
                "--listen",
                "127.0.0.1:0",
                "--subgraph-cache-mib",
                "8",
                "--subgraph-cache-redis-url",
                &redis.url,
            ],
            &[("MESHWORK_LOG", "warn")],
        )
    };
    let (first, second) = (replica(), replica());
    // Both replicas serve the ledger to its consumers (another field: its
    // own cache entries).
    for gateway in [&first, &second] {
        until(gateway, &[("x-api-key", &whole)], "{ currency }", |s, a| {
            s == 200 && a["data"]["currency"] == "EUR"
        })
        .await;
    }
    let stored = common::redis_keys(&redis.url, "meshwork:cache:*").await;

    let query = "{ balance }";
    let debug = |key: &str| {
        vec![
            ("x-api-key", key.to_string()),
            ("x-meshwork-cache-debug", "1".to_string()),
        ]
    };
    let ask = |gateway: &Server, key: &str| {
        let headers = debug(key);
        let base = gateway.base.clone();
        async move {
            let mut request = reqwest::Client::new()
                .post(format!("{base}/graphql"))
                .json(&json!({ "query": query }));
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            let answer: Value = request
                .send()
                .await
                .expect("POST")
                .json()
                .await
                .expect("JSON");
            answer
        }
    };
    let before = calls.load(Ordering::SeqCst);
    let fetched = ask(&first, &whole).await;
    assert_eq!(
        fetched["data"]["balance"], "balance of whole-ledger",
        "{fetched}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before + 1, "{fetched}");
    common::wait_redis_keys(&redis.url, "meshwork:cache:*", stored + 1).await;

    // The other replica: the same consumer's answer from Redis.
    let shared = ask(&second, &whole).await;
    assert_eq!(
        shared["data"]["balance"], "balance of whole-ledger",
        "{shared}"
    );
    assert_eq!(
        shared["extensions"]["meshwork"]["cache"][0]["hit"], true,
        "{shared}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before + 1, "{shared}");
    // Another consumer asking the same query: its own answer, fetched.
    let other = ask(&second, &balance_only).await;
    assert_eq!(
        other["data"]["balance"], "balance of balance-only",
        "{other}"
    );
    assert_eq!(
        other["extensions"]["meshwork"]["cache"][0]["hit"], false,
        "{other}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before + 2, "{other}");
    common::wait_redis_keys(&redis.url, "meshwork:cache:*", stored + 2).await;

    // 120 requests, both consumers on both replicas, 12 at a time: each
    // answer is the caller's own, none needs the domain.
    let wrong = wrong_balances(
        &[&first.base, &second.base],
        &whole,
        &balance_only,
        120,
        12,
        3,
    )
    .await;
    assert!(
        wrong.is_empty(),
        "answers served across identities: {wrong:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before + 2,
        "every answer came from a cache"
    );

    // A purge in the catalog: each replica drops its own entries and stops
    // reading the shared ones it had, with its next access snapshot.
    admin(
        &server,
        "mutation { purgeDomainCache(domain: \"ledger\") }",
        json!({}),
    )
    .await;
    // The second replica fetches again once it applied the purge, and
    // stores the answer under the purge's new namespace.
    let headers = [
        ("x-api-key", whole.as_str()),
        ("x-meshwork-cache-debug", "1"),
    ];
    until(&second, &headers, query, |s, a| {
        s == 200 && a["extensions"]["meshwork"]["cache"][0]["hit"] == false
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), before + 3);
    common::wait_redis_keys(&redis.url, "meshwork:cache:*", stored + 3).await;
    // The first replica, once it applied the purge too (it does so on its
    // next lookup), reads that new answer from Redis: no further call.
    let purged = "outcome=\"purge\"";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = ask(&first, &whole).await;
        assert_eq!(
            answer["data"]["balance"], "balance of whole-ledger",
            "{answer}"
        );
        if metric(&first, "meshwork_subgraph_cache", purged).await >= 1.0 {
            assert_eq!(
                answer["extensions"]["meshwork"]["cache"][0]["hit"], true,
                "{answer}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first replica never applied the purge"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), before + 3);
}

/// Sends `total` `{ balance }` requests, `at_once` at a time, to `bases` in
/// turn: every `whole_every`-th from the whole-ledger consumer, the others
/// from the balance-only one. The answers that are not the caller's own.
async fn wrong_balances(
    bases: &[&str],
    whole: &str,
    balance_only: &str,
    total: usize,
    at_once: usize,
    whole_every: usize,
) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut wrong = Vec::new();
    for batch in 0..total.div_ceil(at_once) {
        let mut running = Vec::new();
        for n in (batch * at_once..(batch + 1) * at_once).take_while(|n| *n < total) {
            let (key, want) = if n % whole_every == 0 {
                (whole.to_string(), "balance of whole-ledger")
            } else {
                (balance_only.to_string(), "balance of balance-only")
            };
            let request = client
                .post(format!("{}/graphql", bases[n % bases.len()]))
                .header("x-api-key", key)
                .json(&json!({ "query": "{ balance }" }))
                .send();
            running.push(tokio::spawn(async move {
                let answer: Value = request.await.expect("POST").json().await.expect("JSON");
                (want, answer)
            }));
        }
        for task in running {
            let (want, answer) = task.await.expect("task");
            if answer["data"]["balance"] != want {
                wrong.push(answer);
            }
        }
    }
    wrong
}

/// Registers the ledger domain (restricted) with three consumers: one
/// granted the whole domain, one only `Query.balance`, one nothing; waits
/// until the first two read their balance. Their API keys, in that order.
async fn ledger_consumers(server: &Server, url: &str) -> (String, String, String) {
    admin(
        server,
        "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
        json!({ "s": { "name": "ledger", "ownerTeam": "finance", "contact": "f@example.com",
                       "apiUrl": url, "access": "RESTRICTED" } }),
    )
    .await;
    let (whole, _) = consumer_with_key(server, "whole-ledger", json!({})).await;
    let (balance_only, _) = consumer_with_key(server, "balance-only", json!({})).await;
    let (no_grant, _) = consumer_with_key(server, "no-grant", json!({})).await;
    admin(
        server,
        "mutation { grantAccess(spec: {consumer: \"whole-ledger\", domain: \"ledger\"}) { id } }",
        json!({}),
    )
    .await;
    admin(
        server,
        "mutation { grantAccess(spec: {consumer: \"balance-only\", domain: \"ledger\", fields: [\"Query.balance\"]}) { id } }",
        json!({}),
    )
    .await;
    let query = "{ balance }";
    for (key, want) in [
        (&whole, "balance of whole-ledger"),
        (&balance_only, "balance of balance-only"),
    ] {
        until(server, &[("x-api-key", key)], query, |s, a| {
            s == 200 && a["data"]["balance"] == want
        })
        .await;
    }

    (whole, balance_only, no_grant)
}

/// The sum of a Prometheus series' samples on `/metrics` whose labels
/// include `label` (0 when there is none).
async fn metric(server: &Server, name: &str, label: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics");
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
