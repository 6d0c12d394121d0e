//! Request ids: every answer carries the id its log lines carry.
//!
//! The engine picks the id (the client's `x-request-id` when it is a
//! short token, else a new UUID v7) and scopes it for the request; this
//! module returns it in the `x-request-id` response header of every
//! answer, and in `extensions.requestId` of every error Meshwork or the
//! engine reports, so a user can hand an operator the id of a failure.

use hive_router::ntex::http::header::{HeaderName, HeaderValue};
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError};
use hive_router::ntex::{Middleware, SharedCfg};
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

/// Sets the response's `x-request-id`. Sits inside the engine's
/// `RequestIdentifiersService`, which scopes the id.
#[derive(Clone, Copy, Default)]
pub(crate) struct ResponseHeader;

impl<S> Middleware<S, SharedCfg> for ResponseHeader {
    type Service = ResponseHeaderService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        ResponseHeaderService { service }
    }
}

pub(crate) struct ResponseHeaderService<S> {
    service: S,
}

impl<S> Service<web::WebRequest<DefaultError>> for ResponseHeaderService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    async fn call(
        &self,
        req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        let mut response = ctx.call(&self.service, req).await?;
        let id = REQUEST_IDENTIFIERS
            .try_with(|ids| HeaderValue::from_str(ids.req_id()).ok())
            .ok()
            .flatten();
        if let Some(id) = id {
            response
                .headers_mut()
                .insert(HeaderName::from_static(HEADER), id);
        }
        Ok(response)
    }
}
