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
