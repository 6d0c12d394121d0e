//! Example domain APIs: real Apollo Federation subgraphs written with
//! async-graphql, served over HTTP. `meshwork demo` runs the three demo
//! domains; tests and benchmarks run them as real domains of a mesh.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let orders = domains::serve(domains::demo::orders()).await?;
//! println!("orders domain at {}", orders.url);
//! # Ok(()) }
//! ```

pub mod bench;
pub mod demo;
pub mod shipments;
pub mod synthetic;

use std::net::SocketAddr;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::GraphQL;
use axum::routing::post_service;
use axum::Router;

/// A subgraph answering GraphQL at `/graphql`.
pub fn router<Q, M, S>(schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new().route("/graphql", post_service(GraphQL::new(schema)))
}

/// A running domain API on a loopback port.
pub struct Running {
    pub addr: SocketAddr,
    /// The GraphQL endpoint, e.g. `http://127.0.0.1:40123/graphql`.
    pub url: String,
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves `router` on an ephemeral 127.0.0.1 port.
pub async fn serve(router: Router) -> std::io::Result<Running> {
    serve_on(
        "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
        router,
    )
    .await
}

/// Serves `router` on `addr`.
pub async fn serve_on(addr: SocketAddr, router: Router) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("domain API on {addr} stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        url: format!("http://{addr}/graphql"),
        task,
    })
}
