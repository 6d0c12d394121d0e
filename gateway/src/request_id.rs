//! Request ids: every answer carries the id its log lines carry.
//!
//! The engine picks the id (the client's `x-request-id` when it is a
//! short token, else a new UUID v7) and scopes it for the request; this
//! module returns it in the `x-request-id` response header of every
//! answer, and in `extensions.requestId` of every error Meshwork or the
//! engine reports, so a user can hand an operator the id of a failure.

use hive_router::ntex::http::header::{HeaderName, HeaderValue};
use hive_router::ntex::web;
use hive_router::telemetry::logging::request_id::REQUEST_IDENTIFIERS;

/// The header the id comes in and goes out with (the engine's default
/// correlation header).
pub const HEADER: &str = "x-request-id";

/// The id of the request being served, when called within one.
pub(crate) fn current() -> Option<String> {
    REQUEST_IDENTIFIERS
        .try_with(|ids| ids.req_id().to_string())
        .ok()
}

/// A GraphQL error response body with one error, its code and the
/// request's id.
pub(crate) fn error_body(message: &str, code: &str) -> String {
    let mut extensions = serde_json::json!({ "code": code });
    if let Some(id) = current() {
        extensions["requestId"] = serde_json::Value::String(id);
    }
    serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] }).to_string()
}

/// Sets the response's `x-request-id` (called by `crate::export`'s layer,
/// which sits inside the engine's `RequestIdentifiersService`, which
/// scopes the id).
pub(crate) fn set_header(response: &mut web::WebResponse) {
    let id = REQUEST_IDENTIFIERS
        .try_with(|ids| HeaderValue::from_str(ids.req_id()).ok())
        .ok()
        .flatten();
    if let Some(id) = id {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), id);
    }
}
