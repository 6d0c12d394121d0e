//! Stopping under load cuts no one off: on SIGTERM readiness turns 503,
//! answers close their connections, requests keep being served through
//! the drain, then the listener stops and the process exits 0.
//!
//! The clients behave as clients behind a load balancer do: the balancer
//! probes readiness and, a moment after it turns 503, stops sending new
//! requests (a client that keeps opening connections up to the very last
//! instant can still have one reset by the kernel when the listener
//! closes; that is what the drain and the readiness answer are for).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::json;

const QUERY: &str = r#"{ ordersByDate(date: "2026-11-24") { id total } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_cuts_off_no_request() {
    let mut server = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--supergraph-poll-interval",
        "1s",
        "--shutdown-drain",
        "1500ms",
    ]);
    server
        .wait_for(QUERY, |a| a["data"]["ordersByDate"].is_array())
        .await;
    let url = format!("{}/graphql", server.base);
    let answered = Arc::new(AtomicUsize::new(0));
    let closing = Arc::new(AtomicUsize::new(0));
    let cut_off = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // The load balancer: probes readiness every 50 ms; 300 ms after the
    // first 503 it routes no new request here.
    let routed_away = Arc::new(AtomicBool::new(false));
    let balancer = {
        let (readiness, routed_away, stop) = (
            format!("{}/readiness", server.base),
            routed_away.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let draining = http
                    .get(&readiness)
                    .send()
                    .await
                    .map_or(true, |r| r.status() == 503);
                if draining {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    routed_away.store(true, Ordering::Relaxed);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut clients = Vec::new();
    // A bounded load loop: 8 keep-alive clients, at most 20 s.
    for _ in 0..8 {
        let (url, answered, closing, cut_off, stop, routed_away) = (
            url.clone(),
            answered.clone(),
            closing.clone(),
            cut_off.clone(),
            stop.clone(),
            routed_away.clone(),
        );
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline
                && !stop.load(Ordering::Relaxed)
                && !routed_away.load(Ordering::Relaxed)
            {
                match http
                    .post(&url)
                    .json(&json!({ "query": QUERY }))
                    .send()
                    .await
                {
                    Ok(response) => {
                        let close = response
                            .headers()
                            .get("connection")
                            .is_some_and(|v| v == "close");
                        let status = response.status();
                        match response.json::<serde_json::Value>().await {
                            Ok(body)
                                if status == 200 && body["data"]["ordersByDate"].is_array() =>
                            {
                                answered.fetch_add(1, Ordering::Relaxed);
                                if close {
                                    closing.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Ok(body) => cut_off
                                .lock()
                                .expect("lock")
                                .push(format!("{status} {body}")),
                            Err(e) => cut_off.lock().expect("lock").push(format!("body: {e}")),
                        }
                    }
                    // The listener has stopped: the request never started.
                    Err(e) if e.is_connect() => break,
                    Err(e) => cut_off.lock().expect("lock").push(format!("{e:?}")),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = answered.load(Ordering::Relaxed);
    assert!(before > 0, "the load loop answered nothing before SIGTERM");
    server.signal_term();
    // While draining: readiness says so, requests are still answered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let readiness = reqwest::get(format!("{}/readiness", server.base))
        .await
        .expect("readiness while draining");
    assert_eq!(readiness.status(), 503);
    // However the path is spelled, a draining gateway never says ready.
    for path in ["/%72eadiness", "/readines%73", "/%2Freadiness"] {
        let disguised = reqwest::get(format!("{}{path}", server.base))
            .await
            .expect("disguised readiness while draining");
        assert_ne!(disguised.status(), 200, "{path} said ready while draining");
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit(Duration::from_secs(30));
        (server, status)
    })
    .await
    .expect("wait");
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client");
    }
    balancer.await.expect("balancer");
    assert!(
        routed_away.load(Ordering::Relaxed),
        "the balancer never saw readiness 503"
    );
    let (_server, status) = status;
    let status = status.expect("meshwork exits within 30 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
    let cut_off = cut_off.lock().expect("lock").clone();
    assert!(
        cut_off.is_empty(),
        "{} requests cut off: {cut_off:?}",
        cut_off.len()
    );
    let after = answered.load(Ordering::Relaxed);
    assert!(after > before, "nothing was answered during the drain");
    assert!(
        closing.load(Ordering::Relaxed) > 0,
        "no answer during the drain closed its connection"
    );
}
