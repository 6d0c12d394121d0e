//! Fetches to subgraphs that live in this process (REST domains' derived
//! subgraphs when the control plane runs beside the gateway), answered
//! without an HTTP hop, and deduplicated as the engine deduplicates its HTTP
//! fetches: identical in-flight requests (same subgraph, same body, same
//! headers, so never across callers whose forwarded identity differs) share
//! one answer. The engine's own deduplication sits after the hook that
//! short-circuits the fetch, so without this every concurrent identical
//! request would reach the domain's API (measured: 0.36 of the HTTP path's
//! throughput, see bench/RESULTS.md).
//!
//! Hand-written (about 40 lines over `futures`' `Shared`) because the
//! deduplicating crates key by a hash alone; this one keys by the whole
//! request, so a hash collision can never hand one caller another's answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use hive_router::executor::executors::common::SubgraphExecutionRequest;
use hive_router::executor::executors::http::build_request_body;

use crate::{InProcessRequest, InProcessSubgraphs};

/// Subgraph, body, headers: an in-flight fetch.
type Key = (String, Vec<u8>, Vec<(String, String)>);
type Answer = Result<Bytes, String>;

/// One engine instance's fetches in flight (each gateway has its own: two
/// gateways in one process never share an answer).
#[derive(Default)]
pub(crate) struct InFlight(Arc<Mutex<HashMap<Key, Shared<BoxFuture<'static, Answer>>>>>);

/// `None` when `subgraph` is not served in this process; else its answer
/// (the subgraph's JSON body) or why there is none.
pub(crate) fn fetch(
    in_flight_fetches: &InFlight,
    local: &dyn InProcessSubgraphs,
    subgraph: &str,
    request: &SubgraphExecutionRequest<'_>,
) -> Option<BoxFuture<'static, Answer>> {
    if !local.serves(subgraph) {
        return None;
    }
    let body = match build_request_body(request) {
        Ok(body) => body,
        Err(e) => {
            let message = format!("the request to {subgraph} could not be written: {e}");
            return Some(futures::future::ready(Err(message)).boxed());
        }
    };
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.to_string(), v.to_string())))
        .collect();
    if !request.dedupe {
        let answer = local.answer(subgraph, InProcessRequest { headers, body });
        return Some(answer.map(|bytes| Ok(Bytes::from(bytes))).boxed());
    }
    let key: Key = (subgraph.to_string(), body, headers);
    let Ok(mut in_flight) = in_flight_fetches.0.lock() else {
        return Some(
            futures::future::ready(Err("in-process fetches are unavailable".into())).boxed(),
        );
    };
    if let Some(shared) = in_flight.get(&key) {
        return Some(shared.clone().boxed());
    }
    let answer = local.answer(
        subgraph,
        InProcessRequest {
            headers: key.2.clone(),
            body: key.1.clone(),
        },
    );
    let leader_key = key.clone();
    let map = Arc::clone(&in_flight_fetches.0);
    let shared = async move {
        let bytes = answer.await;
        if let Ok(mut in_flight) = map.lock() {
            in_flight.remove(&leader_key);
        }
        Ok(Bytes::from(bytes))
    }
    .boxed()
    .shared();
    in_flight.insert(key, shared.clone());
    Some(shared.boxed())
}
