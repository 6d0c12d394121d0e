//! The discovery API over HTTP: POST and GET GraphQL, GraphiQL for browsers.

use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{Actor, CatalogSchema};

/// Header naming who makes a change, recorded in the audit log until
/// authenticated identities take its place.
pub const ACTOR_HEADER: &str = "x-meshwork-actor";

/// Routes of the discovery API, mounted at `/catalog/graphql`; GraphiQL's
/// assets are served by `ide::router`.
pub fn router(schema: CatalogSchema) -> Router {
    Router::new()
        .route("/catalog/graphql", get(get_graphql).post(post_graphql))
        .with_state(schema)
}

/// Header carrying the key gateways use to read the supergraph (the Hive
/// CDN protocol, so unmodified Hive Routers can follow Meshwork too).
pub const CDN_KEY_HEADER: &str = "x-hive-cdn-key";

/// The control-plane endpoint gateways poll: `GET /control/supergraph`
/// with [`CDN_KEY_HEADER`]; `If-None-Match` with the last ETag answers 304
/// while the served supergraph is unchanged.
pub fn control_router(catalog: crate::Catalog, key: String) -> Router {
    Router::new()
        .route("/control/supergraph", get(supergraph))
        .with_state((catalog, std::sync::Arc::new(key)))
}

async fn supergraph(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
) -> Response {
    use axum::http::StatusCode;
    let given = headers
        .get(CDN_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), key.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong X-Hive-CDN-Key").into_response();
    }
    match catalog.served_composition().await {
        Ok(Some(composition)) => {
            let etag = format!("\"{}\"", composition.hash.unwrap_or_default());
            let unchanged = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == etag);
            if unchanged {
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            }
            (
                [
                    (header::ETAG, etag),
                    (
                        header::CONTENT_TYPE,
                        "text/plain; charset=utf-8".to_string(),
                    ),
                ],
                composition.supergraph.unwrap_or_default(),
            )
                .into_response()
        }
        // Nothing composed yet (no GraphQL domain has a schema): "not
        // modified" keeps polling gateways quiet and not ready, without an
        // error in their logs every poll.
        Ok(None) => (
            StatusCode::NOT_MODIFIED,
            "no supergraph composed yet: register a GraphQL domain",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading the served supergraph");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "catalog database unavailable",
            )
                .into_response()
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn actor(headers: &HeaderMap) -> Actor {
    Actor(
        headers
            .get(ACTOR_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.chars().take(200).collect())
            .unwrap_or_else(|| "anonymous".to_string()),
    )
}

async fn post_graphql(
    State(schema): State<CatalogSchema>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    schema
        .execute(request.into_inner().data(actor(&headers)))
        .await
        .into()
}

/// A browser gets GraphiQL; a GraphQL client sending `?query=` gets an answer.
async fn get_graphql(
    State(schema): State<CatalogSchema>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match request {
        Ok(request) if !wants_html => GraphQLResponse::from(
            schema
                .execute(request.into_inner().data(actor(&headers)))
                .await,
        )
        .into_response(),
        _ => Html(ide::page("Catalog", "/catalog/graphql")).into_response(),
    }
}
