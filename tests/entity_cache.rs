//! The subgraph cache keeps each entity of an `_entities` fetch on its
//! own: an entity fetched for one operation answers another operation's
//! batch (other entities, another order) without calling its domain, as
//! long as the selection and the caller's headers are the same; of a
//! batch kept in part, only the missing entities are fetched.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use serde_json::{json, Value};

/// What the customers domain was asked: how many entity fetches, and the
/// variables of each (their representations).
#[derive(Clone, Default)]
struct Seen {
    calls: Arc<AtomicUsize>,
    representations: Arc<Mutex<Vec<Value>>>,
}

/// The customers domain, counting the entity fetches it answers.
fn counted_customers(seen: Seen) -> axum::Router {
    domains::demo::customers().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                let (parts, body) = request.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
                    return axum::http::StatusCode::BAD_REQUEST.into_response();
                };
                if asks_for_entities(&bytes) {
                    seen.calls.fetch_add(1, Ordering::SeqCst);
                    let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    if let Ok(mut asked) = seen.representations.lock() {
                        asked.push(body["variables"].clone());
                    }
                }
                let request =
                    axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
                next.run(request).await
            }
        },
    ))
}

fn asks_for_entities(body: &[u8]) -> bool {
    body.windows(b"_entities".len()).any(|w| w == b"_entities")
}

async fn post(base: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("x-meshwork-cache-debug", "1")
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON")
}

/// The answer's cache trace entry for `domain` (null when none).
fn traced(answer: &Value, domain: &str) -> Value {
    answer["extensions"]["meshwork"]["cache"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["domain"] == domain)
        .cloned()
        .unwrap_or_default()
}

/// Whether the answer's cache trace says `domain` was answered from the
/// cache.
fn served_from_cache(answer: &Value, domain: &str) -> bool {
    answer["extensions"]["meshwork"]["cache"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["domain"] == domain && f["hit"] == true)
}

/// The demo's orders and customers (counting its entity fetches), and
/// their supergraph; the domains run while the last value lives.
async fn demo_pair() -> (
    Seen,
    composition::Supergraph,
    (domains::Running, domains::Running),
) {
    let seen = Seen::default();
    let customers = domains::serve(counted_customers(seen.clone()))
        .await
        .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let supergraph =
        common::compose(&[("customers", &customers.url), ("orders", &orders.url)]).await;
    (seen, supergraph, (customers, orders))
}

/// A gateway with the subgraph cache on (answers kept 60 s) and one
/// without, over the same supergraph.
async fn cached_and_plain(sdl: &str) -> (common::StaticGateway, common::StaticGateway) {
    let flags = [
        "--subgraph-cache-mib",
        "8",
        "--subgraph-cache-default-ttl",
        "60s",
    ];
    (
        common::static_gateway(sdl, None, &flags).await,
        common::static_gateway(sdl, None, &[]).await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_fetched_once_answers_other_operations_batches() {
    let (seen, supergraph, _domains) = demo_pair().await;
    let calls = seen.calls;
    let gateway = common::static_gateway(
        &supergraph.sdl,
        None,
        &[
            "--subgraph-cache-mib",
            "8",
            "--subgraph-cache-default-ttl",
            "60s",
        ],
    )
    .await;
    let base = &gateway.server.base;
    calls.store(0, Ordering::SeqCst);

    // Orders of the 24th: customers c2 and c1, one batch.
    let day = post(
        base,
        r#"{ ordersByDate(date: "2026-11-24") { id customer { name } } }"#,
    )
    .await;
    assert!(day.get("errors").is_none(), "{day}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "{day}");
    let name_of = |answer: &Value, order: &str| -> Value {
        answer["data"]["ordersByDate"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["id"] == order)
            .map(|o| o["customer"]["name"].clone())
            .unwrap_or(Value::Null)
    };
    let c1 = name_of(&day, "o3");
    assert!(c1.is_string(), "{day}");

    // Another operation needing only c1 (order o1): a batch never fetched
    // as such, answered from the entity kept by the first one.
    let one = post(base, r#"{ order(id: "o1") { id customer { name } } }"#).await;
    assert!(one.get("errors").is_none(), "{one}");
    assert_eq!(one["data"]["order"]["customer"]["name"], c1, "{one}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the customers domain was called again: {one}"
    );
    assert!(served_from_cache(&one, "customers"), "{one}");

    // A selection not fetched before (another field) goes to the domain.
    let other = post(
        base,
        r#"{ order(id: "o1") { id customer { id name email } } }"#,
    )
    .await;
    assert!(other.get("errors").is_none(), "{other}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "{other}");
}

/// A batch the cache holds in part: the domain is asked only for the
/// entities it lacks, and the answer puts every entity in its place, the
/// same as when nothing was cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_cached_in_part_fetches_only_the_missing_entities() {
    let (seen, supergraph, _domains) = demo_pair().await;
    let (cached, plain) = cached_and_plain(&supergraph.sdl).await;
    let day = r#"{ ordersByDate(date: "2026-11-24") { id customer { id name } } }"#;
    // The reference: the day's orders (customers c2 and c1) uncached.
    let reference = post(&plain.server.base, day).await;
    assert!(reference.get("errors").is_none(), "{reference}");
    let asked = |seen: &Seen| {
        seen.representations
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    };
    seen.calls.store(0, Ordering::SeqCst);
    seen.representations.lock().expect("seen").clear();

    // Order o2 keeps customer c2 in the cache.
    let one = post(
        &cached.server.base,
        r#"{ order(id: "o2") { id customer { id name } } }"#,
    )
    .await;
    assert!(one.get("errors").is_none(), "{one}");
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1, "{one}");

    // The day's batch [c2, c1]: only c1 is asked for.
    let answer = post(&cached.server.base, day).await;
    assert_eq!(answer["data"], reference["data"], "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(seen.calls.load(Ordering::SeqCst), 2, "{answer}");
    let representations = asked(&seen);
    let last = representations
        .last()
        .map(|v| v["representations"].clone())
        .unwrap_or_default();
    assert_eq!(
        last.as_array().map(Vec::len),
        Some(1),
        "the domain was asked for more than the missing entity: {last}"
    );
    assert_eq!(last[0]["id"], "c1", "{last}");
    // The cache trace tells the batch was answered in part.
    let customers = traced(&answer, "customers");
    assert_eq!(customers["hit"], false, "{answer}");
    assert_eq!(
        customers["entities"],
        json!({ "cached": 1, "fetched": 1 }),
        "{answer}"
    );

    // Both are cached now: order o1's customer (c1) needs no fetch.
    let again = post(
        &cached.server.base,
        r#"{ order(id: "o1") { id customer { id name } } }"#,
    )
    .await;
    assert!(again.get("errors").is_none(), "{again}");
    assert_eq!(seen.calls.load(Ordering::SeqCst), 2, "{again}");
    assert!(served_from_cache(&again, "customers"), "{again}");
}

/// The engine batches entity fetches to one domain into one request of
/// aliased lists (`_e0: _entities(…) _e1: _entities(…)`): each entity of
/// each list is kept on its own, so a later batch of the same lists asks
/// only for what the cache lacks, list by list, and answers as an
/// uncached gateway does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_list_of_a_batched_fetch_is_cached_per_entity() {
    let (seen, supergraph, _domains) = demo_pair().await;
    let (cached, plain) = cached_and_plain(&supergraph.sdl).await;
    // One order's customer by name, the day's customers by email: two
    // entity lists of the customers domain, fetched side by side.
    let batch = |order: &str| {
        format!(
            r#"{{ order(id: "{order}") {{ id customer {{ id name }} }} ordersByDate(date: "2026-11-24") {{ id customer {{ id email }} }} }}"#
        )
    };
    let asked = |seen: &Seen| -> Vec<Value> {
        seen.representations
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    };
    // How many representations each list of a fetch holds, smallest
    // first.
    let lists = |variables: &Value| -> Vec<usize> {
        let mut sizes: Vec<usize> = variables
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, list)| list.as_array().map(Vec::len))
            .collect();
        sizes.sort();
        sizes
    };

    // Order o2 (c2) and the day (c2, c1): nothing cached yet.
    let first = post(&cached.server.base, &batch("o2")).await;
    assert_eq!(
        first["data"],
        post(&plain.server.base, &batch("o2")).await["data"]
    );
    assert!(first.get("errors").is_none(), "{first}");
    seen.calls.store(0, Ordering::SeqCst);
    seen.representations.lock().expect("seen").clear();
    let reference = post(&plain.server.base, &batch("o1")).await;
    assert!(reference.get("errors").is_none(), "{reference}");
    let plain_asked = asked(&seen);
    assert_eq!(plain_asked.len(), 1, "one batched fetch: {plain_asked:?}");
    assert_eq!(
        lists(&plain_asked[0]),
        [1, 2],
        "the engine batched two lists: {plain_asked:?}"
    );
    seen.calls.store(0, Ordering::SeqCst);
    seen.representations.lock().expect("seen").clear();

    // Order o1 (c1 by name) and the same day: the day's list is cached,
    // o1's customer is not: the domain is asked for c1 in one list alone.
    let second = post(&cached.server.base, &batch("o1")).await;
    assert!(second.get("errors").is_none(), "{second}");
    assert_eq!(second["data"], reference["data"], "{second}");
    let fetched = asked(&seen);
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(
        lists(&fetched[0]),
        [0, 1],
        "more than the missing entity asked: {fetched:?}"
    );
    let customers = traced(&second, "customers");
    assert_eq!(
        customers["entities"],
        json!({ "cached": 2, "fetched": 1 }),
        "{second}"
    );

    // Order o3 (c1 again) and the day: every entity of both lists cached.
    let third = post(&cached.server.base, &batch("o3")).await;
    assert!(third.get("errors").is_none(), "{third}");
    assert_eq!(
        third["data"],
        post(&plain.server.base, &batch("o3")).await["data"]
    );
    assert_eq!(seen.calls.load(Ordering::SeqCst), 2, "{third}");
    assert!(served_from_cache(&third, "customers"), "{third}");
}

/// Replicas share answers through Redis: a root field and the entities
/// one gateway fetched answer the same operation on another gateway
/// without calling the domains; a Redis that goes away only means the
/// domains are called again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_answers_through_redis_and_do_without_it() {
    let Some(mut redis) = common::own_redis().await else {
        return;
    };
    let (seen, supergraph, _domains) = demo_pair().await;
    let calls = seen.calls;
    let flags = [
        "--subgraph-cache-mib",
        "8",
        "--subgraph-cache-default-ttl",
        "60s",
        "--subgraph-cache-redis-url",
        redis.url.as_str(),
    ];
    let first = common::static_gateway(&supergraph.sdl, None, &flags).await;
    let second = common::static_gateway(&supergraph.sdl, None, &flags).await;
    calls.store(0, Ordering::SeqCst);

    let query = r#"{ order(id: "o1") { id customer { name } } }"#;
    let fetched = post(&first.server.base, query).await;
    assert!(fetched.get("errors").is_none(), "{fetched}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "{fetched}");
    // The order's root field, the entity batch and its one entity.
    common::wait_redis_keys(&redis.url, "meshwork:cache:*", 3).await;

    let shared = post(&second.server.base, query).await;
    assert_eq!(shared["data"], fetched["data"], "{shared}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the second gateway called the customers domain: {shared}"
    );
    assert!(served_from_cache(&shared, "customers"), "{shared}");
    assert!(served_from_cache(&shared, "orders"), "{shared}");

    // Another order of the same customer on the second gateway: a new
    // root fetch, its customer from the entity the first one kept.
    let same_customer = post(
        &second.server.base,
        r#"{ order(id: "o3") { id customer { name } } }"#,
    )
    .await;
    assert_eq!(
        same_customer["data"]["order"]["customer"]["name"],
        fetched["data"]["order"]["customer"]["name"],
        "{same_customer}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "{same_customer}");

    // Redis stops: answers still come, from the domains.
    if let Some(child) = &mut redis.child {
        child.kill().expect("stop redis");
        child.wait().expect("redis stopped");
    }
    let without = post(
        &second.server.base,
        r#"{ order(id: "o2") { id customer { id name } } }"#,
    )
    .await;
    assert!(without.get("errors").is_none(), "{without}");
    assert!(
        without["data"]["order"]["customer"]["name"].is_string(),
        "{without}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "{without}");
}
