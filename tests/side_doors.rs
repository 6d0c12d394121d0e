//! The side doors of the access layer, replayed over raw HTTP: paths that
//! decode to `/graphql`, methods and `Accept` headers that look like a
//! browser, spoofed identity headers, tokens missing claims, rotated JWKS
//! keys, introspection bombs. Each request either is refused or runs only
//! after authentication: the domain behind the gateway counts what reaches
//! it and reports the identity headers it was sent.
//!
//! Requests are written byte for byte on a TCP socket, because HTTP client
//! libraries normalise paths (`/./graphql` becomes `/graphql`) and would
//! never send what an attacker sends.

mod common;

use std::sync::atomic::Ordering;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "side-doors-hs256-secret-0123456789abcdef";
const ADMIN: &str = "side-doors-admin-token-0123456789abcdef";

/// Paths that are `/graphql` to a lenient router, or look like it.
const PATHS: [&str; 16] = [
    "/graphql",
    "/%67raphql",
    "/%67RAPHQL",
    "/graph%71l",
    "/graph%71L",
    "/%47raphql",
    "//graphql",
    "/graphql/",
    "/./graphql",
    "/x/../graphql",
    "/graphql;x",
    "/graphql%2F",
    "/%2Fgraphql",
    "/graphql%3Fa",
    "/GRAPHQL",
    "/graphq%6c/",
];

use common::{codes, now};

fn token(claims: Value) -> String {
    common::hs256(
        SECRET,
        json!({ "iss": "https://idp.test", "sub": "tester", "exp": now() + 600 }),
        claims,
    )
}

/// The echo domain: reports the identity headers the gateway sent it and
/// counts every request that reaches it.
mod echo {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use async_graphql::{
        Context, EmptyMutation, EmptySubscription, Interface, Object, Schema, SimpleObject, ID,
    };
    use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
    use axum::extract::State;
    use axum::http::HeaderMap;

    /// What the domain saw: requests, and the identity headers of each.
    #[derive(Clone, Default)]
    pub struct Seen {
        pub requests: Arc<AtomicUsize>,
        pub headers: Arc<Mutex<Vec<String>>>,
    }

    struct Identity(String);

    #[derive(SimpleObject)]
    pub struct Book {
        id: ID,
        title: String,
    }

    #[derive(SimpleObject)]
    pub struct Movie {
        id: ID,
        title: String,
    }

    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
    pub enum Media {
        Book(Book),
        Movie(Movie),
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// The identity headers the gateway sent with this request.
        async fn seen(&self, ctx: &Context<'_>) -> String {
            ctx.data::<Identity>()
                .map(|i| i.0.clone())
                .unwrap_or_default()
        }
        /// Protected by a catalog field policy (`hr`).
        async fn secret(&self) -> String {
            "classified".into()
        }
        async fn open(&self) -> String {
            "public".into()
        }
        async fn media(&self) -> Vec<Media> {
            vec![
                Media::Book(Book {
                    id: "b1".into(),
                    title: "Dune".into(),
                }),
                Media::Movie(Movie {
                    id: "m1".into(),
                    title: "Alien".into(),
                }),
            ]
        }
    }

    pub type EchoSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    async fn handle(
        State((schema, seen)): State<(EchoSchema, Seen)>,
        headers: HeaderMap,
        request: GraphQLRequest,
    ) -> GraphQLResponse {
        let request = request.into_inner();
        // Schema pulls (`_service`) are the catalog's, not callers'.
        let identity = [
            "x-meshwork-consumer",
            "x-meshwork-subject",
            "x-meshwork-scopes",
        ]
        .iter()
        .map(|h| {
            format!(
                "{h}={}",
                headers.get(*h).and_then(|v| v.to_str().ok()).unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join(";");
        if !request.query.contains("_service") {
            seen.requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut all) = seen.headers.lock() {
                all.push(identity.clone());
            }
        }
        schema
            .execute(request.data(Identity(identity)))
            .await
            .into()
    }

    pub fn router(seen: Seen) -> axum::Router {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        axum::Router::new()
            .route("/graphql", axum::routing::post(handle))
            .with_state((schema, seen))
    }
}

/// One HTTP/1.1 request written as given; (status, headers, body).
async fn raw(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut bytes),
    )
    .await;
    assert!(read.is_ok(), "no answer to {method} {target}");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, head.to_string(), body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

fn post_json(query: &str) -> String {
    json!({ "query": query }).to_string()
}

fn encode_query(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A mesh under test: a gateway (static or `serve`) over the echo domain
/// with `Query.secret` needing scope `hr`, anonymous callers refused.
struct Mesh {
    base: String,
    seen: echo::Seen,
    _hold: Vec<Box<dyn std::any::Any + Send>>,
}

fn access_file(dir: &std::path::Path, audiences: Value) -> String {
    let path = dir.join("access.json");
    std::fs::write(
        &path,
        json!({
            "issuers": [{
                "name": "idp", "issuer": "https://idp.test", "audiences": audiences, "algorithm": "HS256",
                "secret": SECRET, "publicKeys": null, "jwksUrl": null, "subjectClaim": "sub",
                "consumerClaim": "azp", "scopesClaim": "scope", "teamsClaim": "groups"
            }],
            "apiKeys": [],
            "consumers": []
        })
        .to_string(),
    )
    .expect("write access file");
    path.to_string_lossy().into_owned()
}

/// `meshwork gateway --supergraph … --access …` over the echo domain.
async fn static_mesh(audiences: Value, extra: &[&str]) -> Mesh {
    let seen = echo::Seen::default();
    let domain = domains::serve(echo::router(seen.clone()))
        .await
        .expect("echo domain");
    let supergraph = common::compose(&[("echo", &domain.url)]).await;
    let rules = composition::AccessRules {
        restricted: Default::default(),
        field_policies: vec![("Query.secret".into(), vec![vec!["hr".into()]])],
        admin_scope: "mesh:admin".into(),
    };
    let secured = composition::apply_access(&supergraph.sdl, &rules).expect("rules apply");
    let dir = tempfile::tempdir().expect("dir");
    let access = access_file(dir.path(), audiences);
    let mut args = vec!["--access", access.as_str(), "--anonymous", "deny"];
    args.extend(extra);
    let gateway = common::static_gateway(&secured, None, &args).await;
    Mesh {
        base: gateway.server.base.clone(),
        seen,
        _hold: vec![Box::new(gateway), Box::new(domain), Box::new(dir)],
    }
}

async fn catalog_admin(base: &str, query: &str, variables: Value) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/catalog/graphql"))
        .bearer_auth(ADMIN)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /catalog/graphql")
        .json()
        .await
        .expect("JSON");
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer
}

/// `meshwork serve` with the echo domain registered, the issuer trusted
/// and `Query.secret` behind a field policy.
async fn served_mesh(extra: &[&str]) -> Mesh {
    let seen = echo::Seen::default();
    let domain = domains::serve(echo::router(seen.clone()))
        .await
        .expect("echo domain");
    let dir = tempfile::tempdir().expect("dir");
    let db = dir
        .path()
        .join("meshwork.db")
        .to_string_lossy()
        .into_owned();
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        db.as_str(),
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--admin-token",
        ADMIN,
        "--anonymous",
        "deny",
    ];
    args.extend(extra);
    let server = common::Server::start_with(&args);
    let base = server.base.clone();
    catalog_admin(
        &base,
        "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
        json!({ "s": { "name": "echo", "ownerTeam": "platform", "contact": "p@example.com", "apiUrl": domain.url } }),
    )
    .await;
    catalog_admin(
        &base,
        "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name } }",
        json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                       "secret": SECRET, "consumerClaim": "azp", "teamsClaim": "groups" } }),
    )
    .await;
    catalog_admin(
        &base,
        "mutation { setFieldPolicy(spec: {coordinate: \"Query.secret\", scopes: [[\"hr\"]]}) { coordinate } }",
        json!({}),
    )
    .await;
    // Wait for the composition with the policy to be served.
    let hr = token(json!({ "scope": "hr" }));
    let plain = token(json!({}));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, _, with) = raw(
            &base,
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {hr}")),
            ],
            &post_json("{ secret }"),
        )
        .await;
        let (_, _, without) = raw(
            &base,
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {plain}")),
            ],
            &post_json("{ secret }"),
        )
        .await;
        if with.contains("classified") && without.contains("UNAUTHORIZED_FIELD_OR_TYPE") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the policy never reached the gateway: {with} / {without}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    seen.requests.store(0, Ordering::SeqCst);
    if let Ok(mut headers) = seen.headers.lock() {
        headers.clear();
    }
    Mesh {
        base,
        seen,
        _hold: vec![Box::new(server), Box::new(domain), Box::new(dir)],
    }
}

/// One way of sending a request: method, target, headers, body.
type Shape = (&'static str, String, Vec<(&'static str, String)>, String);

/// Every way of sending `query` to `path`: JSON POST, GET with a preflight
/// header, text/plain POST with one, GET asking for HTML but preferring JSON.
fn shapes(path: &str, query: &str) -> Vec<Shape> {
    let get = format!("{path}?query={}", encode_query(query));
    vec![
        (
            "POST",
            path.to_string(),
            vec![("content-type", "application/json".to_string())],
            post_json(query),
        ),
        (
            "GET",
            get.clone(),
            vec![("x-meshwork-csrf", "1".to_string())],
            String::new(),
        ),
        (
            "POST",
            path.to_string(),
            vec![
                ("content-type", "text/plain".to_string()),
                ("graphql-preflight", "1".to_string()),
            ],
            post_json(query),
        ),
        (
            "GET",
            get,
            vec![
                ("accept", "application/json, text/html;q=0.1".to_string()),
                ("x-meshwork-csrf", "1".to_string()),
            ],
            String::new(),
        ),
    ]
}

/// No credential, anonymous refused: nothing reaches the domain by any
/// path or shape, and no answer carries its data.
async fn anonymous_never_passes(mesh: &Mesh, label: &str) {
    let before = mesh.seen.requests.load(Ordering::SeqCst);
    for path in PATHS {
        for (method, target, headers, body) in shapes(path, "{ seen secret open }") {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, answer) = raw(&mesh.base, method, &target, &headers, &body).await;
            assert!(
                !answer.contains("public") && !answer.contains("classified"),
                "[{label}] {method} {target}: data without a credential ({status}): {answer}"
            );
            assert!(
                status == 401 || status == 404 || status == 400 || status == 405,
                "[{label}] {method} {target}: {status} {answer}"
            );
        }
    }
    assert_eq!(
        mesh.seen.requests.load(Ordering::SeqCst),
        before,
        "[{label}] requests without a credential reached the domain"
    );
}

/// A credential without `hr`, plus spoofed identity headers: whatever the
/// path, the domain hears only who the gateway verified and `secret`
/// stays closed.
async fn spoofed_headers_never_pass(mesh: &Mesh, label: &str) {
    let bearer = format!("Bearer {}", token(json!({ "sub": "ann" })));
    let mut answered = 0;
    for path in PATHS {
        for (method, target, mut headers, body) in shapes(path, "{ seen secret }") {
            headers.push(("authorization", bearer.clone()));
            headers.push(("x-meshwork-scopes", "hr mesh:admin".to_string()));
            headers.push(("x-meshwork-consumer", "evil".to_string()));
            headers.push(("x-meshwork-subject", "root".to_string()));
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, answer) = raw(&mesh.base, method, &target, &headers, &body).await;
            assert!(
                !answer.contains("classified")
                    && !answer.contains("evil")
                    && !answer.contains("root"),
                "[{label}] {method} {target}: spoofed headers honoured ({status}): {answer}"
            );
            if answer.contains("x-meshwork-subject=ann") {
                answered += 1;
            }
        }
    }
    assert!(
        answered >= 4,
        "[{label}] the plain path answers authenticated callers"
    );
    for seen in mesh
        .seen
        .headers
        .lock()
        .map(|h| h.clone())
        .unwrap_or_default()
    {
        assert!(
            seen.contains("x-meshwork-subject=ann")
                && !seen.contains("evil")
                && !seen.contains("hr"),
            "[{label}] the domain was sent {seen}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_gateway_paths_methods_and_headers_never_skip_authentication() {
    let mesh = static_mesh(json!([]), &[]).await;
    anonymous_never_passes(&mesh, "static").await;
    spoofed_headers_never_pass(&mesh, "static").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_mesh_paths_methods_and_headers_never_skip_authentication() {
    let mesh = served_mesh(&[]).await;
    anonymous_never_passes(&mesh, "serve").await;
    spoofed_headers_never_pass(&mesh, "serve").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ide_page_is_served_only_when_it_is_what_the_browser_gets() {
    let mesh = static_mesh(json!([]), &[]).await;
    let (status, _, page) = raw(
        &mesh.base,
        "GET",
        "/graphql",
        &[("accept", "text/html")],
        "",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html"), "{page}");
    // JSON preferred, or an HTML-first browser GET carrying a query that the
    // engine answers with data: authentication first.
    let target = format!("/graphql?query={}", encode_query("{ open }"));
    for accept in [
        "application/json, text/html;q=0.1",
        "application/json, text/html",
        "*/*, text/html",
    ] {
        let (status, _, answer) = raw(
            &mesh.base,
            "GET",
            &target,
            &[("accept", accept), ("x-meshwork-csrf", "1")],
            "",
        )
        .await;
        assert!(!answer.contains("public"), "{accept}: {status} {answer}");
    }
    assert_eq!(mesh.seen.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_counts_every_path() {
    let mesh = static_mesh(
        json!([]),
        &["--rate-limit-per-minute", "1", "--rate-limit-burst", "3"],
    )
    .await;
    let bearer = format!("Bearer {}", token(json!({ "sub": "counted" })));
    let mut passed = 0;
    for path in PATHS {
        let (status, _, answer) = raw(
            &mesh.base,
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            &post_json("{ open }"),
        )
        .await;
        if answer.contains("public") {
            passed += 1;
        } else {
            assert!(
                status != 200 || !answer.contains("data"),
                "{path}: {status} {answer}"
            );
        }
    }
    assert!(passed <= 3, "{passed} requests passed a burst of 3");
    assert_eq!(mesh.seen.requests.load(Ordering::SeqCst), passed);
}

/// A few thousand random requests built from the variants: without a
/// credential none reaches the domain; with one, every request the domain
/// sees carries the verified identity and nothing spoofed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_are_refused_or_authenticated() {
    let mesh = static_mesh(json!([]), &[]).await;
    let bearer = format!("Bearer {}", token(json!({ "sub": "fuzz" })));
    let methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"];
    let accepts = [
        "",
        "text/html",
        "application/json",
        "application/json, text/html;q=0.1",
        "text/html;q=0.9, application/graphql-response+json",
        "*/*",
        "multipart/mixed",
        "text/event-stream",
    ];
    let types = [
        "",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=utf-8",
    ];
    let query = "{ seen secret open }";
    // A small deterministic generator (xorshift): the same run every time.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut with_credential = 0;
    for _ in 0..2_000 {
        let path = PATHS[next(PATHS.len())];
        let method = methods[next(methods.len())];
        let accept = accepts[next(accepts.len())];
        let content_type = types[next(types.len())];
        let credential = next(3) == 0;
        let target = if next(2) == 0 {
            format!("{path}?query={}", encode_query(query))
        } else {
            path.to_string()
        };
        let mut headers: Vec<(&str, &str)> =
            vec![("x-meshwork-scopes", "hr"), ("x-meshwork-consumer", "evil")];
        if !accept.is_empty() {
            headers.push(("accept", accept));
        }
        if !content_type.is_empty() {
            headers.push(("content-type", content_type));
        }
        if next(2) == 0 {
            headers.push(("x-meshwork-csrf", "1"));
        }
        if credential {
            headers.push(("authorization", &bearer));
            with_credential += 1;
        }
        let body = if method == "GET" || method == "HEAD" {
            String::new()
        } else {
            post_json(query)
        };
        let before = mesh.seen.requests.load(Ordering::SeqCst);
        let (status, _, answer) = raw(&mesh.base, method, &target, &headers, &body).await;
        let reached = mesh.seen.requests.load(Ordering::SeqCst) - before;
        assert!(
            !answer.contains("classified") && !answer.contains("evil"),
            "{method} {target} {headers:?}: {status} {answer}"
        );
        if !credential {
            assert_eq!(reached, 0, "{method} {target} {headers:?} reached the domain without a credential: {status} {answer}");
        }
    }
    assert!(with_credential > 300);
    for seen in mesh
        .seen
        .headers
        .lock()
        .map(|h| h.clone())
        .unwrap_or_default()
    {
        assert!(
            seen.contains("x-meshwork-subject=fuzz")
                && !seen.contains("evil")
                && !seen.contains("hr"),
            "the domain was sent {seen}"
        );
    }
}

/// graphql-js's `getIntrospectionQuery()` (what GraphiQL sends), trimmed of
/// descriptions.
const GRAPHIQL_INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name
  fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

async fn ask(base: &str, bearer: &str, query: &str) -> (u16, Value) {
    let (status, _, body) = raw(
        base,
        "POST",
        "/graphql",
        &[
            ("content-type", "application/json"),
            ("authorization", bearer),
        ],
        &post_json(query),
    )
    .await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_introspection_is_refused_before_it_grows() {
    let mesh = static_mesh(json!([]), &[]).await;
    let bearer = format!("Bearer {}", token(json!({})));
    // `Media` has two implementations: each possibleTypes/interfaces pair
    // doubles the answer. 700-odd bytes stood for gigabytes.
    let mut nested = "name".to_string();
    for _ in 0..12 {
        nested = format!("possibleTypes {{ interfaces {{ {nested} }} }}");
    }
    let bomb = format!(
        "{{ a: __type(name: \"Media\") {{ {nested} }} b: __type(name: \"Media\") {{ {nested} }} }}"
    );
    assert!(bomb.len() < 1_000, "{}", bomb.len());
    let (status, answer) = ask(&mesh.base, &bearer, &bomb).await;
    assert!(answer["data"].is_null(), "{status} {answer}");
    assert!(
        codes(&answer).contains(&"MAX_INTROSPECTION_DEPTH_EXCEEDED".to_string()),
        "{answer}"
    );
    // Through fragments too.
    let fragments = "query { __schema { types { ...A } } } fragment A on __Type { fields { type { ...B } } } fragment B on __Type { fields { type { ...C } } } fragment C on __Type { interfaces { name } }";
    let (_, answer) = ask(&mesh.base, &bearer, fragments).await;
    assert!(
        codes(&answer).contains(&"MAX_INTROSPECTION_DEPTH_EXCEEDED".to_string()),
        "{answer}"
    );
    // GraphiQL's own introspection still works.
    let (status, answer) = ask(&mesh.base, &bearer, GRAPHIQL_INTROSPECTION).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    assert!(
        answer["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 5),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_missing_required_claims_are_refused() {
    let mesh = static_mesh(json!(["mesh"]), &[]).await;
    let query = "{ open }";
    let good = token(json!({ "aud": "mesh" }));
    let (status, answer) = ask(&mesh.base, &format!("Bearer {good}"), query).await;
    assert_eq!(status, 200, "{answer}");
    let sign = |claims: Value| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("sign")
    };
    let refused = [
        ("no aud", token(json!({}))),
        ("other aud", token(json!({ "aud": "elsewhere" }))),
        (
            "no exp",
            sign(json!({ "iss": "https://idp.test", "sub": "x", "aud": "mesh" })),
        ),
        (
            "no iss",
            sign(json!({ "sub": "x", "aud": "mesh", "exp": now() + 60 })),
        ),
        (
            "no sub",
            sign(json!({ "iss": "https://idp.test", "aud": "mesh", "exp": now() + 60 })),
        ),
        (
            "iat ahead",
            token(json!({ "aud": "mesh", "iat": now() + 3600 })),
        ),
        (
            "iat not a number",
            token(json!({ "aud": "mesh", "iat": "yesterday" })),
        ),
        (
            "nbf ahead",
            token(json!({ "aud": "mesh", "nbf": now() + 3600 })),
        ),
        (
            "expired",
            token(json!({ "aud": "mesh", "exp": now() - 3600 })),
        ),
    ];
    for (what, token) in refused {
        let (status, answer) = ask(&mesh.base, &format!("Bearer {token}"), query).await;
        assert_eq!(status, 401, "{what}: {answer}");
        let text = answer.to_string();
        assert!(!text.contains("public"), "{what}: {text}");
        for configuration in ["idp\"", "`idp`", "HS256", "https://idp.test"] {
            assert!(
                !text.contains(configuration),
                "{what}: {configuration} in {text}"
            );
        }
    }
    assert_eq!(mesh.seen.requests.load(Ordering::SeqCst), 1);
}

/// A JWKS endpoint whose document can change, served with `max-age=60`.
async fn jwks_server(document: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move {
                (
                    [("cache-control", "public, max-age=60")],
                    document.lock().map(|s| s.clone()).unwrap_or_default(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A static gateway over the echo domain trusting one RS256 issuer
/// (`https://issuer.test`) whose keys are fetched from `jwks_url`.
async fn rs256_mesh(issuer_name: &str, jwks_url: &str) -> Mesh {
    let seen = echo::Seen::default();
    let domain = domains::serve(echo::router(seen.clone()))
        .await
        .expect("echo domain");
    let supergraph = common::compose(&[("echo", &domain.url)]).await;
    let dir = tempfile::tempdir().expect("dir");
    let access = dir.path().join("access.json");
    std::fs::write(
        &access,
        json!({
            "issuers": [{
                "name": issuer_name, "issuer": "https://issuer.test", "audiences": [], "algorithm": "RS256",
                "secret": null, "publicKeys": null, "jwksUrl": jwks_url, "subjectClaim": "sub",
                "consumerClaim": "azp", "scopesClaim": "scope", "teamsClaim": "groups"
            }],
            "apiKeys": [], "consumers": []
        })
        .to_string(),
    )
    .expect("write");
    let access = access.to_string_lossy().into_owned();
    let gateway = common::static_gateway(&supergraph.sdl, None, &["--access", &access]).await;
    Mesh {
        base: gateway.server.base.clone(),
        seen,
        _hold: vec![Box::new(gateway), Box::new(domain), Box::new(dir)],
    }
}

/// A key the provider stops publishing stops working once the document's
/// `max-age` runs out, even if no token ever names a new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_keys_expire_with_their_max_age() {
    let document = std::sync::Arc::new(std::sync::Mutex::new(
        std::fs::read_to_string(common::fixture("jwt/jwks.json")).expect("jwks"),
    ));
    let url = jwks_server(document.clone()).await;
    let mesh = rs256_mesh("corp", &url).await;
    let claims =
        |sub: &str| json!({ "iss": "https://issuer.test", "sub": sub, "exp": now() + 600 });
    let first = common::rs256("rsa-private.pem", "test-rsa-1", &claims("before"));
    let (status, answer) = ask(&mesh.base, &format!("Bearer {first}"), "{ open }").await;
    assert_eq!(status, 200, "{answer}");
    // The provider retires the key; nobody presents the new one.
    *document.lock().expect("lock") =
        std::fs::read_to_string(common::fixture("jwt/jwks-rotated.json")).expect("rotated");
    let later = common::rs256("rsa-private.pem", "test-rsa-1", &claims("within-max-age"));
    let (status, _) = ask(&mesh.base, &format!("Bearer {later}"), "{ open }").await;
    assert_eq!(status, 200, "still within the document's max-age");
    tokio::time::sleep(std::time::Duration::from_secs(62)).await;
    let expired = common::rs256("rsa-private.pem", "test-rsa-1", &claims("after-max-age"));
    let (status, answer) = ask(&mesh.base, &format!("Bearer {expired}"), "{ open }").await;
    assert_eq!(status, 401, "a retired key after max-age: {answer}");
    let rotated = common::rs256("rsa2-private.pem", "test-rsa-2", &claims("new-key"));
    let (status, answer) = ask(&mesh.base, &format!("Bearer {rotated}"), "{ open }").await;
    assert_eq!(status, 200, "{answer}");
}

fn exits_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = std::process::Command::new(common::binary())
        .args(args)
        .envs(env.iter().copied())
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `meshwork gateway` over this supergraph file with this router config,
/// run to its end: whether it succeeded, and what it wrote to stderr.
fn gateway_exits_with_config(supergraph: &str, router_config: &str) -> (bool, String) {
    exits_with(
        &[
            "gateway",
            "--supergraph",
            supergraph,
            "--listen",
            "127.0.0.1:0",
            "--router-config",
            router_config,
        ],
        &[],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_or_short_cdn_keys_are_refused_at_start() {
    for key in ["", "short", "   "] {
        let (ok, stderr) = exits_with(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                ":memory:",
                "--cdn-key",
                key,
            ],
            &[],
        );
        assert!(!ok, "serve started with key {key:?}");
        assert!(stderr.contains("at least 32 characters"), "{stderr}");
        let (ok, stderr) = exits_with(
            &[
                "gateway",
                "--control-plane",
                "http://127.0.0.1:9",
                "--listen",
                "127.0.0.1:0",
            ],
            &[("MESHWORK_CDN_KEY", key)],
        );
        assert!(!ok, "a replica started with key {key:?}");
        assert!(
            stderr.contains("at least 32 characters") || stderr.contains("--cdn-key"),
            "{stderr}"
        );
    }
}

/// Waits (at most 30 s) until the gateway at `base` answers `{ open }`.
async fn answers_open(base: &str) {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = http
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "{ open }" }))
            .send()
            .await;
        if let Ok(answer) = answer {
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            if body["data"]["open"] == "public" {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway at {base} never answered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[test]
fn meshwork_gateway_takes_exactly_the_flags_of_meshwork_gateway() {
    let flags = |program: &std::path::Path, args: &[&str]| -> Vec<String> {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .expect("--help runs");
        assert!(out.status.success());
        let mut flags: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_end_matches([',', '.']).to_string())
            // A program has a version; a subcommand has none of its own.
            .filter(|w| w != "--version")
            .collect();
        flags.sort();
        flags.dedup();
        flags
    };
    let alone = flags(&common::gateway_binary(), &["--help"]);
    let sub = flags(&common::binary(), &["gateway", "--help"]);
    assert!(alone.len() > 20, "{alone:?}");
    assert_eq!(alone, sub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engines_environment_variables_do_not_reconfigure_the_gateway() {
    let seen = echo::Seen::default();
    let domain = domains::serve(echo::router(seen.clone()))
        .await
        .expect("echo domain");
    let supergraph = common::compose(&[("echo", &domain.url)]).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, &supergraph.sdl).expect("write");
    let file = file.to_string_lossy().into_owned();
    let hostile = [
        ("LOG_LEVEL", "trace"),
        ("LOG_FORMAT", "nonsense"),
        ("MESHWORK_LOG", "info,catalog=debug"),
        ("PORT", "1"),
        ("HOST", "203.0.113.1"),
        ("SUPERGRAPH_FILE_PATH", "/nonexistent/supergraph.graphql"),
        ("HIVE_CDN_ENDPOINT", "http://127.0.0.1:9"),
        ("HIVE_CDN_KEY", "x"),
        ("LABORATORY_ENABLED", "maybe"),
    ];
    // A static gateway serves its own supergraph on its own address.
    let gateway = common::Server::start_with_env(
        &["gateway", "--supergraph", &file, "--listen", "127.0.0.1:0"],
        &hostile,
    );
    answers_open(&gateway.base).await;
    // And `meshwork-gateway`, the same gateway alone in its own program.
    let alone = common::Server::start_program(
        &common::gateway_binary(),
        &["--supergraph", &file, "--listen", "127.0.0.1:0"],
        &hostile,
    );
    answers_open(&alone.base).await;
    drop(alone);
    // So does `serve` (the demo's command) with the README's own filter.
    let served = common::Server::start_with_env(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &dir.path().join("m.db").to_string_lossy(),
        ],
        &hostile,
    );
    common::wait_healthy(&served.base).await;
    // A bad filter is refused with a clear message, not an engine error.
    let (ok, stderr) = exits_with_timeout(
        &["gateway", "--supergraph", &file, "--listen", "127.0.0.1:0"],
        &[("MESHWORK_LOG", "info,catalog=loud")],
    );
    assert!(!ok);
    assert!(stderr.contains("catalog=loud"), "{stderr}");
    // With a router config the engine's variables apply, except those that
    // would replace what Meshwork sets: those stop the start, named.
    let config = dir.path().join("router.yaml");
    std::fs::write(&config, "limits:\n  max_depth:\n    n: 10\n").expect("write");
    let config = config.to_string_lossy().into_owned();
    let (ok, stderr) = exits_with_timeout(
        &[
            "gateway",
            "--supergraph",
            &file,
            "--listen",
            "127.0.0.1:0",
            "--router-config",
            &config,
        ],
        &[
            ("SUPERGRAPH_FILE_PATH", "/nonexistent/supergraph.graphql"),
            ("PORT", "1"),
        ],
    );
    assert!(!ok);
    assert!(
        stderr.contains("SUPERGRAPH_FILE_PATH") && stderr.contains("PORT"),
        "{stderr}"
    );
}

/// Runs a command that is expected to stop by itself (within 30 s).
fn exits_with_timeout(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut child = std::process::Command::new(common::binary())
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run meshwork");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.success(), stderr);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("meshwork {args:?} kept running");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

async fn catalog_post(base: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let (status, _, body) = raw(base, "POST", "/catalog/graphql", headers, body).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_refuses_cross_site_writes_and_mutations_over_get() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("m.db").to_string_lossy().into_owned();
    // The `serve` default: an unsecured catalog.
    let server = common::Server::start(&db);
    common::register(&server, common::spec("victim")).await;
    let deregister = post_json("mutation { deregisterDomain(name: \"victim\") { name } }");
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, body) =
            catalog_post(&server.base, &[("content-type", content_type)], &deregister).await;
        assert_eq!(status, 400, "{content_type}: {body}");
        assert!(body.contains("CSRF_PREVENTION"), "{body}");
    }
    let (status, body) = catalog_post(&server.base, &[], &deregister).await;
    assert_eq!(status, 400, "no content type: {body}");
    let target = format!(
        "/catalog/graphql?query={}",
        encode_query("mutation { deregisterDomain(name: \"victim\") { name } }")
    );
    let (status, _, body) = raw(&server.base, "GET", &target, &[], "").await;
    assert_eq!(status, 400, "a plain GET: {body}");
    let (status, _, body) = raw(
        &server.base,
        "GET",
        &target,
        &[("x-meshwork-csrf", "1")],
        "",
    )
    .await;
    assert_eq!(status, 405, "a mutation over GET: {body}");
    let hidden = format!(
        "/catalog/graphql?query={}&operationName=Drop",
        encode_query("query Look { domains { totalCount } } mutation Drop { deregisterDomain(name: \"victim\") { name } }")
    );
    let (status, _, body) = raw(
        &server.base,
        "GET",
        &hidden,
        &[("apollo-require-preflight", "1")],
        "",
    )
    .await;
    assert_eq!(status, 405, "a named mutation over GET: {body}");
    // Nothing changed.
    let answer = server
        .graphql("{ domain(name: \"victim\") { status } }", json!({}))
        .await;
    assert_eq!(answer["data"]["domain"]["status"], "ACTIVE", "{answer}");
    // What clients send still works: a JSON POST, a GET query with a
    // preflight header, a text POST with one.
    let (status, body) = catalog_post(
        &server.base,
        &[("content-type", "text/plain"), ("x-meshwork-csrf", "1")],
        &post_json("{ domains { totalCount } }"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer = server
        .graphql(
            "mutation { deregisterDomain(name: \"victim\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["deregisterDomain"]["status"], "DEREGISTERED",
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secured_catalog_checks_owners_in_the_service_and_lists_only_what_the_caller_may_see() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("m.db").to_string_lossy().into_owned();
    let server = common::Server::start_with(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db,
        "--admin-token",
        ADMIN,
    ]);
    let base = server.base.clone();
    catalog_admin(
        &base,
        "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
        json!({ "s": common::spec("owned") }),
    )
    .await;
    catalog_admin(
        &base,
        "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name } }",
        json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                       "secret": SECRET, "consumerClaim": "azp", "teamsClaim": "groups" } }),
    )
    .await;
    for (name, team) in [("mine", "apps"), ("theirs", "finance")] {
        catalog_admin(
            &base,
            "mutation($s: ConsumerSpec!) { createConsumer(spec: $s) { name } }",
            json!({ "s": { "name": name, "ownerTeam": team, "contact": "c@example.com" } }),
        )
        .await;
    }
    let key = catalog_admin(
        &base,
        "mutation { createApiKey(consumer: \"mine\", name: \"main\") { key } }",
        json!({}),
    )
    .await["data"]["createApiKey"]["key"]
        .as_str()
        .expect("key")
        .to_string();
    let as_key = |query: &str| {
        let base = base.clone();
        let key = key.clone();
        let query = query.to_string();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/catalog/graphql"))
                .header("authorization", format!("ApiKey {key}"))
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("POST")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    // A consumer's key sees its own consumer, not the others, nor issuers.
    let listed = as_key("{ consumers { name } }").await;
    assert_eq!(
        listed["data"]["consumers"],
        json!([{ "name": "mine" }]),
        "{listed}"
    );
    let issuers = as_key("{ jwtIssuers { name } }").await;
    assert_eq!(codes(&issuers), ["FORBIDDEN"], "{issuers}");
    let other = as_key("{ consumer(name: \"theirs\") { name } }").await;
    assert!(other["data"]["consumer"].is_null(), "{other}");
    // Nor may it refresh (or otherwise change) a domain it does not own.
    let refresh = as_key("mutation { refreshDomain(name: \"owned\") { status } }").await;
    assert_eq!(codes(&refresh), ["FORBIDDEN"], "{refresh}");
    let refresh_as = |groups: Value| {
        let base = base.clone();
        let bearer = format!(
            "Bearer {}",
            token(json!({ "sub": "someone", "groups": groups }))
        );
        async move {
            catalog_post(
                &base,
                &[
                    ("content-type", "application/json"),
                    ("authorization", &bearer),
                ],
                &post_json("mutation { refreshDomain(name: \"owned\") { status } }"),
            )
            .await
            .1
        }
    };
    let body = refresh_as(json!(["finance"])).await;
    assert!(body.contains("FORBIDDEN"), "{body}");
    let body = refresh_as(json!(["team-a"])).await;
    assert!(
        !body.contains("FORBIDDEN"),
        "the owner team refreshes: {body}"
    );
}

/// Every caller of the catalog service is checked, not only the GraphQL API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_is_checked_by_the_catalog_service_itself() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("m.db").to_string_lossy().into_owned();
    let catalog = catalog::Catalog::open(&db).await.expect("open");
    let spec = || -> catalog::DomainSpec {
        serde_json::from_value(common::spec("service-owned")).expect("spec")
    };
    let owner_team = spec().owner_team.clone();
    // Unsecured: anyone registers (the `serve` default).
    let anyone = catalog::Caller::anonymous("someone");
    catalog
        .register(&anyone, spec())
        .await
        .expect("open catalog");
    catalog.declare_admin_token();
    let refused = catalog.deregister(&anyone, "service-owned").await;
    assert!(
        matches!(refused, Err(catalog::CatalogError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = catalog
        .update(&anyone, "service-owned", catalog::DomainPatch::default())
        .await;
    assert!(
        matches!(refused, Err(catalog::CatalogError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = catalog
        .refresh(&anyone, "service-owned", std::time::Duration::from_secs(1))
        .await;
    assert!(
        matches!(refused, Err(catalog::CatalogError::Forbidden(_))),
        "{refused:?}"
    );
    let member = catalog::Caller {
        name: "member".into(),
        admin: false,
        teams: vec![owner_team],
        consumer: None,
    };
    catalog
        .deregister(&member, "service-owned")
        .await
        .expect("the owner team deregisters");
}

/// The echo domain's SDL with `Movie` (the type, or its `id`) behind the
/// scope `film`, as a domain team would write it.
fn with_film_rule(sdl: &str, on_type: bool) -> String {
    let mut out = String::new();
    let mut in_movie = false;
    for line in sdl.lines() {
        let mut line = line.to_string();
        if line.starts_with("type Movie") {
            in_movie = true;
            if on_type {
                line = line.replacen(" {", " @requiresScopes(scopes: [[\"film\"]]) {", 1);
            }
        } else if line.starts_with('}') {
            in_movie = false;
        }
        if in_movie && !on_type && line.trim_start().starts_with("id: ID!") {
            line = line.replacen(
                "id: ID!",
                "id: ID! @requiresScopes(scopes: [[\"film\"]])",
                1,
            );
        }
        out.push_str(&line);
        out.push('\n');
    }
    let mut out = out.replacen(
        "import: [\"@key\"",
        "import: [\"@requiresScopes\", \"@key\"",
        1,
    );
    for minor in 0..5 {
        out = out.replace(&format!("federation/v2.{minor}\""), "federation/v2.5\"");
    }
    assert!(
        out.contains("\"@requiresScopes\"") && out.contains("requiresScopes(scopes"),
        "rule added: {out}"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_on_types_and_fields_never_take_authorized_siblings_down() {
    for on_type in [true, false] {
        let seen = echo::Seen::default();
        let domain = domains::serve(echo::router(seen.clone()))
            .await
            .expect("echo domain");
        let sdl = with_film_rule(&common::subgraph_sdl(&domain.url).await, on_type);
        let supergraph = composition::compose(&[composition::Subgraph {
            name: "echo".into(),
            url: domain.url.clone(),
            sdl,
        }])
        .expect("composes");
        let secured =
            composition::apply_access(&supergraph.sdl, &Default::default()).expect("rules apply");
        let dir = tempfile::tempdir().expect("dir");
        let access = access_file(dir.path(), json!([]));
        let gateway = common::static_gateway(&secured, None, &["--access", &access]).await;
        let base = &gateway.server.base;
        let label = if on_type { "type rule" } else { "field rule" };
        let query = "{ media { ... on Book { id title } ... on Movie { id title } } }";
        let (status, answer) = ask(base, &format!("Bearer {}", token(json!({}))), query).await;
        assert_eq!(status, 200, "[{label}] {answer}");
        assert_eq!(
            answer["data"]["media"][0],
            json!({ "id": "b1", "title": "Dune" }),
            "[{label}] the authorized Book stays: {answer}"
        );
        assert!(
            answer["data"]["media"][1]["id"].is_null(),
            "[{label}] the Movie's id is refused: {answer}"
        );
        assert!(
            codes(&answer)
                .iter()
                .all(|c| c == "UNAUTHORIZED_FIELD_OR_TYPE")
                && !codes(&answer).is_empty(),
            "[{label}] {answer}"
        );
        let film = format!("Bearer {}", token(json!({ "scope": "film" })));
        let (_, answer) = ask(base, &film, query).await;
        assert!(answer.get("errors").is_none(), "[{label}] {answer}");
        assert_eq!(answer["data"]["media"][1]["id"], "m1", "[{label}] {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_jwks_is_not_named_to_callers() {
    let internal = "http://127.0.0.1:9/internal/keys.json";
    let mesh = rs256_mesh("corp-idp", internal).await;
    let jwt = common::rs256(
        "rsa-private.pem",
        "test-rsa-1",
        &json!({ "iss": "https://issuer.test", "sub": "x", "exp": now() + 60 }),
    );
    let (status, answer) = ask(&mesh.base, &format!("Bearer {jwt}"), "{ open }").await;
    assert_eq!(status, 401, "{answer}");
    let text = answer.to_string();
    for hidden in ["127.0.0.1", "internal/keys", "corp-idp", "RS256"] {
        assert!(
            !text.contains(hidden),
            "`{hidden}` shown to the caller: {text}"
        );
    }
    assert!(text.contains("try again later"), "{text}");
    assert_eq!(mesh.seen.requests.load(Ordering::SeqCst), 0);
}

/// A gateway that authenticates nobody (no `--access`, no `jwt` in a
/// router config) refuses fields a domain protects with `@authenticated`,
/// `@requiresScopes` or `@policy`: the engine alone would skip the first
/// two without JWT configured and serve them to everyone. A token sent in
/// any header does not change that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_without_authentication_refuses_protected_fields() {
    let sdl = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])
type Query { open: String member: String @authenticated admin: String @requiresScopes(scopes: [["admin"]]) audited: String @policy(policies: [["audit"]]) }"#;
    let domain = domains::serve(domains::synthetic::router(sdl).expect("synthetic domain"))
        .await
        .expect("serve domain");
    let supergraph = composition::compose(&[composition::Subgraph {
        name: "records".into(),
        url: domain.url.clone(),
        sdl: sdl.into(),
    }])
    .expect("composes");
    let gateway = common::static_gateway(&supergraph.sdl, None, &[]).await;
    let http = reqwest::Client::new();
    for header in [
        None,
        Some(("authorization", "Bearer x.y.z")),
        Some(("x-meshwork-no-authentication", "Bearer x.y.z")),
    ] {
        let mut request = http
            .post(format!("{}/graphql", gateway.server.base))
            .json(&json!({ "query": "{ open member admin audited }" }));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let answer: Value = request
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .unwrap_or_default();
        assert_eq!(answer["data"]["open"], "open@Query", "{header:?}: {answer}");
        for protected in ["member", "admin", "audited"] {
            assert!(
                answer["data"][protected].is_null(),
                "{header:?}: {protected} served: {answer}"
            );
        }
    }
}

/// A router config that turns TLS on (`traffic_shaping.router.tls`, the
/// engine's setting) gets HTTPS on the gateway's address, never plain HTTP
/// in its place; a TLS setting that cannot be loaded stops the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_config_with_tls_serves_https_only() {
    let (_customers, supergraph) = common::customers_alone().await;
    let dir = tempfile::tempdir().expect("dir");
    let sdl = dir.path().join("supergraph.graphql");
    std::fs::write(&sdl, &supergraph.sdl).expect("write supergraph");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let tls_config = |key: &std::path::Path| {
        format!(
            "traffic_shaping:\n  router:\n    tls:\n      cert_file: {}\n      key_file: {}\n",
            fixtures.join("cert.pem").display(),
            key.display()
        )
    };
    let config = dir.path().join("router.yaml");
    std::fs::write(&config, tls_config(&fixtures.join("key.pem"))).expect("write config");
    let sdl = sdl.to_string_lossy().into_owned();
    let config_arg = config.to_string_lossy().into_owned();
    let server = common::Server::start_with(&[
        "gateway",
        "--supergraph",
        &sdl,
        "--listen",
        "127.0.0.1:0",
        "--router-config",
        &config_arg,
    ]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let certificate =
        reqwest::Certificate::from_pem(&std::fs::read(fixtures.join("cert.pem")).expect("cert"))
            .expect("a PEM certificate");
    let https = reqwest::Client::builder()
        .add_root_certificate(certificate)
        .build()
        .expect("client");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let health = https.get(format!("{}/health", server.base)).send().await;
        if health.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no HTTPS answer on {}",
            server.base
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let query = json!({ "query": "{ customers { name } }" });
    let answer: Value = https
        .post(format!("{}/graphql", server.base))
        .json(&query)
        .send()
        .await
        .expect("an HTTPS answer")
        .json()
        .await
        .expect("JSON");
    assert!(answer["data"]["customers"].is_array(), "{answer}");
    // Plain HTTP on the same address is never served.
    let plain = server.base.replacen("https://", "http://", 1);
    let refused = reqwest::Client::new()
        .post(format!("{plain}/graphql"))
        .json(&query)
        .send()
        .await;
    if let Ok(response) = refused {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !status.is_success() && !body.contains("customers"),
            "plain HTTP was served: {status} {body}"
        );
    }
    // A key that cannot be loaded stops the start, saying where.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, tls_config(&dir.path().join("missing-key.pem"))).expect("write");
    let broken = broken.to_string_lossy().into_owned();
    let (ok, stderr) = gateway_exits_with_config(&sdl, &broken);
    assert!(!ok, "started with a missing key");
    assert!(stderr.contains("traffic_shaping.router.tls"), "{stderr}");
}

/// Routes Meshwork's admission does not cover (GraphQL over WebSocket,
/// HTTP-callback subscriptions) are refused at start when a router config
/// turns them on: never served unchecked, never silently missing.
#[test]
fn subscription_routes_the_gateway_cannot_check_stop_the_start() {
    let dir = tempfile::tempdir().expect("dir");
    let sdl = dir.path().join("supergraph.graphql");
    std::fs::write(&sdl, "type Query { hello: String }").expect("write");
    let sdl = sdl.to_string_lossy().into_owned();
    for (config, named) in [
        ("websocket:\n  enabled: true\n", "websocket.enabled"),
        (
            "subscriptions:\n  enabled: true\n  callback:\n    public_url: http://127.0.0.1:9/callback\n",
            "subscriptions.callback",
        ),
    ] {
        let file = dir.path().join("router.yaml");
        std::fs::write(&file, config).expect("write config");
        let file = file.to_string_lossy().into_owned();
        let (ok, stderr) = gateway_exits_with_config(&sdl, &file);
        assert!(!ok, "started with {config}");
        assert!(stderr.contains(named), "{stderr}");
    }
}

/// `meshwork serve` reads its own control plane and REST domains over
/// plain HTTP on its address: a router config with TLS is refused there
/// (it would cut the mesh's gateway off), with what to do instead.
#[test]
fn the_mesh_refuses_a_router_config_with_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("router.yaml");
    std::fs::write(
        &config,
        "traffic_shaping:\n  router:\n    tls:\n      cert_file: cert.pem\n      key_file: key.pem\n",
    )
    .expect("write");
    let database = dir.path().join("m.db").to_string_lossy().into_owned();
    let config = config.to_string_lossy().into_owned();
    let (ok, stderr) = exits_with(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
            "--router-config",
            &config,
        ],
        &[],
    );
    assert!(!ok, "served with TLS");
    assert!(stderr.contains("meshwork-gateway"), "{stderr}");
}
