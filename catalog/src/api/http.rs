//! The discovery API over HTTP: POST and GET GraphQL, GraphiQL for browsers.

use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{Actor, CatalogSchema};
use crate::Caller;

/// Header naming who makes a change, recorded in the audit log until
/// authenticated identities take its place.
pub const ACTOR_HEADER: &str = "x-meshwork-actor";

/// Who may call the discovery API: the bootstrap admin token, and every
/// credential the access snapshot trusts (JWTs of registered issuers, API
/// keys of consumers).
#[derive(Clone)]
pub struct ApiAuth {
    catalog: crate::Catalog,
    admin_token: Option<std::sync::Arc<str>>,
    verifier: std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<access::Verifier>>>>,
}

impl ApiAuth {
    /// `admin_token`: a bearer token that acts as platform admin (to
    /// bootstrap issuers and consumers); none disables it.
    pub fn new(catalog: crate::Catalog, admin_token: Option<String>) -> Self {
        let admin_token: Option<std::sync::Arc<str>> =
            admin_token.filter(|t| !t.is_empty()).map(Into::into);
        if admin_token.is_some() {
            catalog.declare_admin_token();
        }
        Self {
            catalog,
            admin_token,
            verifier: Default::default(),
        }
    }

    pub(crate) fn catalog(&self) -> &crate::Catalog {
        &self.catalog
    }

    fn verifier(&self) -> std::sync::Arc<access::Verifier> {
        let snapshot = self.catalog.subscribe_access().borrow().clone();
        let mut cached = match self.verifier.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(v) = cached.as_ref() {
            if std::sync::Arc::ptr_eq(v.snapshot(), &snapshot) {
                return v.clone();
            }
        }
        let fresh = std::sync::Arc::new(access::Verifier::new(snapshot, 30));
        *cached = Some(fresh.clone());
        fresh
    }

    /// The caller of one request, or why its credential is refused.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, String> {
        let actor = actor(headers).0;
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(Caller::anonymous(actor));
        };
        let credential = access::Credential::from_authorization(value)
            .ok_or("the Authorization header is neither `Bearer <token>` nor `ApiKey <key>`")?;
        if let Some(token) = &self.admin_token {
            if constant_time_eq(credential.text().as_bytes(), token.as_bytes()) {
                return Ok(Caller::admin(if actor == "anonymous" {
                    "admin".to_string()
                } else {
                    actor
                }));
            }
        }
        let identity = self
            .verifier()
            .authenticate(credential)
            .await
            .map_err(|e| e.to_string())?;
        let name = match (&identity.consumer, &identity.issuer) {
            (Some(c), None) => format!("consumer:{c}"),
            (_, Some(issuer)) => format!("{issuer}:{}", identity.subject),
            (None, None) => identity.subject.clone(),
        };
        Ok(Caller {
            name,
            admin: identity.has_scope(access::scopes::ADMIN),
            teams: identity.teams,
            consumer: identity.consumer,
        })
    }
}

/// Routes of the discovery API, mounted at `/catalog/graphql`; GraphiQL's
/// assets are served by `ide::router`.
pub fn router(schema: CatalogSchema, auth: ApiAuth) -> Router {
    Router::new()
        .route("/catalog/graphql", get(get_graphql).post(post_graphql))
        .with_state((schema, auth.clone()))
        .merge(super::openlineage_http::router(auth))
}

/// A GraphQL error answer: `{"errors": [{message, extensions: {code}}]}`
/// with `status`.
pub(crate) fn error_answer(
    status: axum::http::StatusCode,
    message: impl Into<String>,
    code: &str,
) -> Response {
    let body = crate::error::graphql_error(message, code);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn unauthenticated(reason: String) -> Response {
    error_answer(
        axum::http::StatusCode::UNAUTHORIZED,
        format!("credential refused: {reason}"),
        "UNAUTHENTICATED",
    )
}

/// Header carrying the key gateways use to read the supergraph (the Hive
/// CDN protocol, so unmodified Hive Routers can follow Meshwork too).
pub const CDN_KEY_HEADER: &str = access::control::CDN_KEY_HEADER;

/// The control-plane endpoint gateways poll: `GET /control/supergraph`
/// with [`CDN_KEY_HEADER`]; `If-None-Match` with the last ETag answers 304
/// while the served supergraph is unchanged.
pub fn control_router(catalog: crate::Catalog, key: String) -> Router {
    Router::new()
        .route(access::control::SUPERGRAPH_PATH, get(supergraph))
        .route(access::control::ACCESS_PATH, get(access_snapshot))
        .route("/rest/{domain}/graphql", axum::routing::post(rest_subgraph))
        .route(
            access::control::CONTRACTS_PATH,
            axum::routing::post(contracts),
        )
        .route(access::control::METRICS_PATH, get(metrics))
        .route(
            access::control::USAGE_PATH,
            axum::routing::post(usage)
                .layer(axum::extract::DefaultBodyLimit::max(USAGE_BODY_LIMIT)),
        )
        .with_state((catalog, std::sync::Arc::new(key)))
}

/// The access snapshot gateways enforce (consumers, key hashes, issuers,
/// grants, plans), with the same key and ETag rules as the supergraph.
async fn access_snapshot(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_without_cdn_key(&headers, &key) {
        return refused;
    }
    // Replicas only verify: signing secrets never leave this process.
    let snapshot = catalog.subscribe_access().borrow().for_replicas();
    let etag = format!("\"{}\"", snapshot.version());
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    match serde_json::to_string(&snapshot) {
        Ok(body) => (
            [
                (header::ETAG, etag),
                (header::CONTENT_TYPE, "application/json".to_string()),
            ],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn supergraph(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_without_cdn_key(&headers, &key) {
        return refused;
    }
    match catalog.supergraph_for_gateways().await {
        Ok(Some(served)) => {
            let etag = format!("\"{}\"", served.hash);
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
                // Marked with its hash, so the gateway can say what it loaded.
                served.sdl.clone(),
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

/// 401 unless the request carries the control plane's key.
/// A REST domain's derived subgraph, for the mesh's gateways only (it
/// reaches domain data without the gateway's access checks): the control
/// key in `x-meshwork-rest-key`.
async fn rest_subgraph(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    axum::extract::Path(domain): axum::extract::Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::StatusCode;
    let given = headers
        .get(crate::rest::REST_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key.is_empty() || !constant_time_eq(given.as_bytes(), key.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            "missing or wrong x-meshwork-rest-key",
        )
            .into_response();
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                format!("not a GraphQL request: {e}"),
                "BAD_REQUEST",
            );
        }
    };
    match catalog.answer_rest(&domain, &headers, request).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => error_answer(StatusCode::NOT_FOUND, e.to_string(), e.code()),
    }
}

/// The largest usage report taken (the engine's agent sends at most its
/// buffer, 1,000 operations by default).
const USAGE_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Usage reports of the gateways' engines (Hive Console's usage report
/// format), with the control key as the bearer token.
async fn usage(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_without_bearer_key(&headers, &key) {
        return refused;
    }
    let report: crate::UsageReport = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("not a usage report: {e}")).into_response()
        }
    };
    match catalog.ingest_usage(report).await {
        Ok(operations) => {
            axum::Json(serde_json::json!({ "operations": operations })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "usage report not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "usage report not stored").into_response()
        }
    }
}

/// Schema-governance metrics (Prometheus text format; the control key as
/// bearer token, as Prometheus' `authorization` setting sends it).
async fn metrics(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_without_bearer_key(&headers, &key) {
        return refused;
    }
    match catalog.metrics_text().await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics not read");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response()
        }
    }
}

/// The gateways' runtime contract check findings (control key as bearer).
async fn contracts(
    State((catalog, key)): State<(crate::Catalog, std::sync::Arc<String>)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_without_bearer_key(&headers, &key) {
        return refused;
    }
    let report: crate::ContractReport = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a contract report: {e}"),
            )
                .into_response()
        }
    };
    match catalog.ingest_contracts(report).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "contract report not stored");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "contract report not stored",
            )
                .into_response()
        }
    }
}

/// The gateways' reports and the metrics take the control key as a bearer
/// token (what the engine's usage agent and Prometheus send).
fn refuse_without_bearer_key(headers: &HeaderMap, key: &str) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    (key.is_empty() || !constant_time_eq(given.as_bytes(), key.as_bytes())).then(|| {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token",
        )
            .into_response()
    })
}

fn refuse_without_cdn_key(headers: &HeaderMap, key: &str) -> Option<Response> {
    let given = headers
        .get(CDN_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // An empty key (refused at start-up anyway) opens nothing.
    (key.is_empty() || !constant_time_eq(given.as_bytes(), key.as_bytes())).then(|| {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            "missing or wrong X-Hive-CDN-Key",
        )
            .into_response()
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.ct_eq(b))
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

/// Runs one request as its caller (refused with 401 if its credential is).
async fn execute_as(
    schema: &CatalogSchema,
    auth: &ApiAuth,
    headers: &HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let caller = match auth.caller(headers).await {
        Ok(c) => c,
        Err(reason) => return unauthenticated(reason),
    };
    let caller_name = caller.name.clone();
    let request = request
        .into_inner()
        .data(Actor(caller.name.clone()))
        .data(caller);
    // A span per catalog operation, in the caller's trace when it sends
    // W3C trace context (exported when the process exports traces).
    // Parsed once here for the span's operation name and the error codes
    // below (the executor parses again; catalog calls are not a hot path).
    let parsed = async_graphql::parser::parse_query(&request.query);
    let span = tracing::info_span!(
        "catalog.graphql",
        graphql.operation.name = operation_name(&request, parsed.as_ref().ok()).as_str(),
        meshwork.caller = %caller_name,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let _ = span.set_parent(parent);
    }
    let parses = parsed.is_ok();
    let mut response = {
        use tracing::Instrument;
        schema.execute(request).instrument(span).await
    };
    // Request errors carry the codes the mesh's (and most GraphQL
    // servers') do: parse and validation failures.
    for error in &mut response.errors {
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !coded && error.path.is_empty() {
            let code = if parses {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "GRAPHQL_PARSE_FAILED"
            };
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
    // Errors name the request (the gateway sets the id; see its logs).
    if let Some(id) = headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()) {
        for error in &mut response.errors {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("requestId", id);
        }
    }
    // An unreachable database is the server's condition, not the request's:
    // 503 with a hint when to retry, so clients and proxies retry.
    let unavailable = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from("DATABASE_UNAVAILABLE"))
    });
    let mut http = GraphQLResponse::from(response).into_response();
    if unavailable {
        *http.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        http.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("5"),
        );
    }
    http
}

/// The operation's name: the request's, else the document's named
/// operation ("" for an anonymous one; the parser keeps names only of
/// named operations).
fn operation_name(
    request: &async_graphql::Request,
    parsed: Option<&async_graphql::parser::types::ExecutableDocument>,
) -> String {
    if let Some(name) = &request.operation_name {
        return name.clone();
    }
    match parsed.map(|d| &d.operations) {
        Some(async_graphql::parser::types::DocumentOperations::Multiple(ops)) => {
            ops.keys().next().map(|n| n.to_string()).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// Request headers as OpenTelemetry's propagators read them.
struct Headers<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The request id header the gateway passes in (and returns).
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Headers a browser only sends cross-site after a CORS preflight (the
/// gateway's `/graphql` accepts the same ones).
pub const PREFLIGHT_HEADERS: [&str; 4] = [
    "x-meshwork-csrf",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-preflight",
];

fn has_preflight_header(headers: &HeaderMap) -> bool {
    PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h))
}

/// A JSON body: what GraphQL clients send, and what a browser never sends
/// cross-site without a preflight.
fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
}

fn csrf_refusal() -> Response {
    error_answer(
        axum::http::StatusCode::BAD_REQUEST,
        format!(
            "This request could be a cross-site request forgery and was refused: send a JSON POST (content-type: application/json), or add one of the headers {}.",
            PREFLIGHT_HEADERS.join(", ")
        ),
        "CSRF_PREVENTION",
    )
}

/// Whether the operation a request would run is a mutation (or cannot be
/// told, which counts as one).
fn runs_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false; // not runnable at all: the executor reports the syntax error
    };
    let ty = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => {
            // Ambiguous without a name; refused by the executor, unless
            // every operation is a query.
            if ops.values().all(|op| op.node.ty == OperationType::Query) {
                Some(OperationType::Query)
            } else {
                None
            }
        }
    };
    ty != Some(OperationType::Query)
}

async fn post_graphql(
    State((schema, auth)): State<(CatalogSchema, ApiAuth)>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    // A form or text POST is what a hostile page can send without a
    // preflight: it needs a preflight header, like /graphql (checked
    // before the body is even read).
    if !is_json_body(&headers) && !has_preflight_header(&headers) {
        return csrf_refusal();
    }
    match request {
        Ok(request) => execute_as(&schema, &auth, &headers, request).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// A browser opening the address gets GraphiQL (the page holds no data);
/// a GraphQL client sending `?query=` gets an answer, for queries only and
/// only with a preflight header (a plain GET is what any page can make a
/// browser send).
async fn get_graphql(
    State((schema, auth)): State<(CatalogSchema, ApiAuth)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let has_query = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("query=")));
    if !has_query {
        return Html(ide::page("Catalog", "/catalog/graphql")).into_response();
    }
    if !has_preflight_header(&headers) {
        return csrf_refusal();
    }
    match request {
        Ok(request) if runs_mutation(&request.0) => {
            let mut refused = error_answer(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "Mutations are only accepted over POST.",
                "METHOD_NOT_ALLOWED",
            );
            refused
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            refused
        }
        Ok(request) => execute_as(&schema, &auth, &headers, request).await,
        Err(rejection) => rejection.into_response(),
    }
}
