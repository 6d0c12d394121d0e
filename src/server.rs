//! `meshwork serve`: opens the catalog database and serves the discovery
//! API, GraphiQL, `/health` and `/ready` on one address.

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use catalog::Catalog;

pub async fn serve(listen: SocketAddr, database: &str) -> anyhow::Result<()> {
    let catalog = Catalog::open(database)
        .await
        .with_context(|| format!("opening the catalog database `{database}`"))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    tracing::info!(database, "catalog database ready");
    println!("Meshwork serving on http://{local}");
    println!("  discovery API and GraphiQL: http://{local}/catalog/graphql");
    println!("  health: http://{local}/health  readiness: http://{local}/ready");
    axum::serve(listener, app(catalog))
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving HTTP")
}

fn app(catalog: Catalog) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(catalog.clone())
        .merge(catalog::api::router(catalog::api::schema(catalog)))
        .merge(ide::router())
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(catalog): State<Catalog>) -> impl IntoResponse {
    match catalog.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({ "status": "unavailable", "reason": "catalog database not reachable or not migrated" }),
                ),
            )
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
