//! Serves Meshwork's axum routes (catalog API, IDE assets, control plane)
//! on the gateway's own address: requests the engine does not route are
//! handed, in-process, to an axum `Router` running on Meshwork's tokio
//! runtime. GraphQL traffic never passes through here.

use axum::body::Body;
use axum::Router;
use hive_router::ntex::util::Bytes;
use hive_router::ntex::web::{self, HttpRequest, HttpResponse};
use tokio::runtime::Handle;

/// Largest response body the bridge passes back (catalog pages are small;
/// the supergraph of a large mesh is a few MB).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// Routes to serve beside `/graphql`, and the runtime to run them on.
#[derive(Clone)]
pub struct ExtraRoutes {
    pub router: Router,
    pub runtime: Handle,
}

struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

pub(crate) async fn handle(
    req: HttpRequest,
    body: Bytes,
    routes: web::types::State<ExtraRoutes>,
) -> HttpResponse {
    let uri = req.uri().to_string();
    let mut builder = axum::http::Request::builder()
        .method(req.method().as_str())
        .uri(&uri);
    for (name, value) in req.headers() {
        if name.as_str() != crate::request_id::HEADER {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    // The id the engine chose (the client's when well-formed), so the
    // catalog's errors name the same request as the response header.
    if let Some(id) = crate::request_id::current() {
        builder = builder.header(crate::request_id::HEADER, id);
    }
    let request = match builder.body(Body::from(body.to_vec())) {
        Ok(request) => request,
        Err(e) => return HttpResponse::BadRequest().body(format!("bad request: {e}")),
    };
    let router = routes.router.clone();
    let answer = routes.runtime.spawn(async move {
        use tower_service::Service;
        let mut router = router;
        let response = match router.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, MAX_RESPONSE)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(Answer {
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
        })
    });
    match answer.await {
        Ok(Ok(answer)) => {
            let status = hive_router::ntex::http::StatusCode::from_u16(answer.status)
                .unwrap_or(hive_router::ntex::http::StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = HttpResponse::build(status);
            for (name, value) in &answer.headers {
                response.header(name.as_str(), value.as_slice());
            }
            response.body(answer.body)
        }
        Ok(Err(e)) => HttpResponse::InternalServerError().body(format!("reading response: {e}")),
        Err(e) => HttpResponse::InternalServerError().body(format!("request failed: {e}")),
    }
}
