//! OpenLineage over HTTP, at the path Marquez serves it:
//! `POST /api/v1/lineage` takes one run event (the spec's JSON; the same
//! credentials as the discovery API), `GET /api/v1/lineage?domain=NAME`
//! exports a domain's lineage as OpenLineage run events (a JSON array, or
//! one event per line with `format=ndjson`), ready to post to Marquez or
//! any OpenLineage consumer.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::http::ApiAuth;
use crate::CatalogError;

/// Largest event accepted (facets with column metrics can be large).
const MAX_EVENT: usize = 4 * 1024 * 1024;

pub fn router(auth: ApiAuth) -> Router {
    Router::new()
        .route("/api/v1/lineage", get(export).post(ingest))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_EVENT))
        .with_state(auth)
}

/// The error shape of the discovery API and the gateway, with its status.
fn error_response(headers: &HeaderMap, e: &CatalogError) -> Response {
    let status = match e {
        _ if e.database_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        CatalogError::Invalid(_) => StatusCode::BAD_REQUEST,
        CatalogError::Forbidden(_) => StatusCode::FORBIDDEN,
        CatalogError::DomainNotFound(_) | CatalogError::NotFound { .. } => StatusCode::NOT_FOUND,
        CatalogError::DomainDeregistered(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match e {
        _ if e.database_unavailable() => {
            "the catalog database is unreachable; nothing was changed; retry".to_string()
        }
        CatalogError::Database(_) | CatalogError::Corrupt { .. } | CatalogError::Internal(_) => {
            tracing::error!(error = %e, "OpenLineage request failed");
            "internal error in the catalog; see its log".to_string()
        }
        other => other.to_string(),
    };
    let mut extensions = serde_json::json!({ "code": e.code() });
    if let CatalogError::Invalid(problems) = e {
        extensions["problems"] = serde_json::to_value(problems).unwrap_or_default();
    }
    if let Some(id) = headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
        extensions["requestId"] = id.into();
    }
    let body = crate::error::graphql_errors(message, extensions);
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    response
}

fn unauthenticated(headers: &HeaderMap, reason: String) -> Response {
    let mut response = error_response(headers, &CatalogError::Forbidden(String::new()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let mut extensions = serde_json::json!({ "code": "UNAUTHENTICATED" });
    if let Some(id) = headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
        extensions["requestId"] = id.into();
    }
    *response.body_mut() = axum::body::Body::from(
        crate::error::graphql_errors(format!("credential refused: {reason}"), extensions)
            .to_string(),
    );
    response
}

async fn ingest(
    State(auth): State<ApiAuth>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        // Also what keeps a browser form on another site from posting here.
        return error_response(
            &headers,
            &CatalogError::invalid(
                "Content-Type",
                crate::ProblemCode::MalformedJson,
                "send the event as `Content-Type: application/json`",
            ),
        );
    }
    let caller = match auth.caller(&headers).await {
        Ok(c) => c,
        Err(reason) => return unauthenticated(&headers, reason),
    };
    let event = match crate::openlineage::parse_event(&body) {
        Ok(e) => e,
        Err(problems) => return error_response(&headers, &CatalogError::Invalid(problems)),
    };
    match auth.catalog().ingest_openlineage(&caller, event).await {
        Ok(done) => (StatusCode::CREATED, axum::Json(done)).into_response(),
        Err(e) => error_response(&headers, &e),
    }
}

#[derive(serde::Deserialize)]
struct ExportParams {
    domain: Option<String>,
    format: Option<String>,
    namespace: Option<String>,
}

async fn export(
    State(auth): State<ApiAuth>,
    headers: HeaderMap,
    Query(params): Query<ExportParams>,
) -> Response {
    if let Err(reason) = auth.caller(&headers).await {
        return unauthenticated(&headers, reason);
    }
    let Some(domain) = params.domain.filter(|d| !d.trim().is_empty()) else {
        return error_response(
            &headers,
            &CatalogError::invalid(
                "domain",
                crate::ProblemCode::Required,
                "name the domain: /api/v1/lineage?domain=NAME",
            ),
        );
    };
    let ndjson = match params.format.as_deref() {
        None | Some("json") => false,
        Some("ndjson") => true,
        Some(other) => {
            return error_response(
                &headers,
                &CatalogError::invalid(
                    "format",
                    crate::ProblemCode::OutOfRange,
                    format!("`{other}` is neither `json` nor `ndjson`"),
                ),
            )
        }
    };
    let namespace = params
        .namespace
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "meshwork".to_string());
    match auth
        .catalog()
        .export_openlineage(domain.trim(), &namespace)
        .await
    {
        Ok(events) if ndjson => {
            let mut body = String::new();
            for e in &events {
                body.push_str(&serde_json::to_string(e).unwrap_or_default());
                body.push('\n');
            }
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        Ok(events) => axum::Json(events).into_response(),
        Err(e) => error_response(&headers, &e),
    }
}
