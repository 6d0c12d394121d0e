//! Access control end to end, over real HTTP: the catalog's records
//! (issuers, consumers, API keys, grants, access requests, field policies)
//! decide what the gateway serves, without a restart.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Server;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const ADMIN: &str = "test-admin-token-0123456789";
const SECRET: &str = "0123456789abcdef0123456789abcdef-idp";
const ORDERS: &str = r#"{ ordersByDate(date: "2026-11-24") { id total } }"#;

use common::now;

/// An HS256 token of the test issuer.
fn token(claims: Value) -> String {
    common::hs256(
        SECRET,
        json!({ "iss": "https://idp.test", "exp": now() + 600 }),
        claims,
    )
}

async fn catalog_as(server: &Server, auth: &str, query: &str, variables: Value) -> Value {
    server
        .graphql_with(&[("authorization", auth)], query, variables)
        .await
}

async fn admin(server: &Server, query: &str, variables: Value) -> Value {
    let answer = catalog_as(server, &format!("Bearer {ADMIN}"), query, variables).await;
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer
}

/// POSTs to the federated endpoint with optional extra headers.
async fn mesh_as(server: &Server, headers: &[(&str, &str)], query: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .json(&json!({ "query": query }));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
        .collect()
}

/// Retries until `accept` holds (access changes reach the gateway at once
/// in-process; the supergraph follows within a poll), at most 20 s.
async fn until(
    server: &Server,
    headers: &[(&str, &str)],
    query: &str,
    accept: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = mesh_as(server, headers, query).await;
        if accept(status, &answer) {
            return (status, answer);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up on {query}: {status} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Registers consumer `name` (owner team `apps`; `extra` adds or overrides
/// spec fields) and creates an API key for it: `(key, prefix)`.
async fn consumer_with_key(server: &Server, name: &str, extra: Value) -> (String, String) {
    let spec = common::merged(
        json!({ "name": name, "ownerTeam": "apps", "contact": "apps@example.com" }),
        extra,
    );
    admin(
        server,
        "mutation($s: ConsumerSpec!) { createConsumer(spec: $s) { name } }",
        json!({ "s": spec }),
    )
    .await;
    let created = admin(
        server,
        "mutation($c: String!) { createApiKey(consumer: $c, name: \"main\") { key apiKey { prefix } } }",
        json!({ "c": name }),
    )
    .await;
    let key = &created["data"]["createApiKey"];
    (
        key["key"].as_str().expect("key").to_string(),
        key["apiKey"]["prefix"]
            .as_str()
            .expect("prefix")
            .to_string(),
    )
}

async fn register_issuer(server: &Server) {
    admin(
        server,
        "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name hasSecret } }",
        json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                       "secret": SECRET, "consumerClaim": "azp", "teamsClaim": "groups" } }),
    )
    .await;
}

async fn start_mesh(database: &str) -> (Server, Vec<domains::Running>) {
    start_mesh_with(database, &[]).await
}

async fn start_mesh_with(database: &str, extra: &[&str]) -> (Server, Vec<domains::Running>) {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let orders = domains::serve(domains::demo::orders())
        .await
        .expect("orders");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
        "--schema-poll-interval",
        "1s",
        "--supergraph-poll-interval",
        "1s",
        "--admin-token",
        ADMIN,
    ];
    args.extend(extra);
    let server = Server::start_with(&args);
    for (name, team, url, access) in [
        ("customers", "crm", &customers.url, "OPEN"),
        ("inventory", "logistics", &inventory.url, "OPEN"),
        ("orders", "sales", &orders.url, "RESTRICTED"),
    ] {
        admin(
            &server,
            "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
            json!({ "s": { "name": name, "ownerTeam": team, "contact": format!("{team}@example.com"),
                           "apiUrl": url, "access": access } }),
        )
        .await;
    }
    (server, vec![customers, orders, inventory])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_grant_no_data_then_request_approval_gives_data_until_the_grant_expires() {
    for db in common::databases().await {
        let (server, _domains) = start_mesh(&db.url).await;
        register_issuer(&server).await;
        admin(
            &server,
            "mutation { createConsumer(spec: {name: \"bi-tool\", ownerTeam: \"analytics\", contact: \"bi@example.com\"}) { name } }",
            json!({}),
        )
        .await;
        let consumer = bearer(&token(
            json!({ "sub": "svc-bi", "azp": "bi-tool", "groups": ["analytics"] }),
        ));
        let owner = bearer(&token(json!({ "sub": "sam", "groups": ["sales"] })));
        let auth = [("authorization", consumer.as_str())];

        // Open domains answer; the restricted one does not, for anyone
        // without a grant (anonymous callers included).
        until(&server, &auth, "{ customers { name } }", |s, a| {
            s == 200 && a.get("errors").is_none()
        })
        .await;
        let (_, refused) = until(&server, &auth, ORDERS, |_, a| !codes(a).is_empty()).await;
        // Protected fields are nullable: the refusal is a null at the field.
        assert_eq!(
            refused["data"],
            json!({ "ordersByDate": null }),
            "{} {refused}",
            db.label
        );
        assert_eq!(codes(&refused), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{refused}");
        let (_, anonymous) = mesh_as(&server, &[], ORDERS).await;
        assert_eq!(
            codes(&anonymous),
            ["UNAUTHORIZED_FIELD_OR_TYPE"],
            "{anonymous}"
        );

        // The consumer asks; a stranger may not decide; the owner team approves.
        let asked = catalog_as(
            &server,
            &consumer,
            "mutation { requestAccess(spec: {consumer: \"bi-tool\", domain: \"orders\", reason: \"weekly revenue report\"}) { id status requestedBy } }",
            json!({}),
        )
        .await;
        assert_eq!(
            asked["data"]["requestAccess"]["status"], "PENDING",
            "{asked}"
        );
        let id = asked["data"]["requestAccess"]["id"].as_i64().expect("id");
        let stranger = catalog_as(
            &server,
            &consumer,
            "mutation($id: Int!) { decideAccessRequest(id: $id, approve: true) { status } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(
            stranger["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{stranger}"
        );
        let (_, still_refused) = mesh_as(&server, &auth, ORDERS).await;
        assert_eq!(codes(&still_refused), ["UNAUTHORIZED_FIELD_OR_TYPE"]);
        // Authorization refusals are counted by consumer on /metrics.
        let metrics = reqwest::get(format!("{}/metrics", server.base))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics");
        for series in [
            "meshwork_refusals{consumer=\"bi-tool\",reason=\"unauthorized_field\"",
            "meshwork_refusals{consumer=\"anonymous\",reason=\"unauthorized_field\"",
        ] {
            assert!(metrics.contains(series), "{series} missing:\n{metrics}");
        }

        let expires = chrono::Utc::now() + chrono::Duration::seconds(5);
        let approved = catalog_as(
            &server,
            &owner,
            "mutation($id: Int!, $at: DateTime) { decideAccessRequest(id: $id, approve: true, note: \"ok for Q4\", expiresAt: $at) { status decidedBy } }",
            json!({ "id": id, "at": expires.to_rfc3339() }),
        )
        .await;
        assert_eq!(
            approved["data"]["decideAccessRequest"]["status"], "APPROVED",
            "{approved}"
        );

        // The same token now reads orders…
        let (_, granted) = mesh_as(&server, &auth, ORDERS).await;
        assert_eq!(
            granted["data"]["ordersByDate"][0]["id"], "o2",
            "{} {granted}",
            db.label
        );
        // …and only it: anonymous callers still get nothing.
        let (_, anonymous) = mesh_as(&server, &[], ORDERS).await;
        assert_eq!(codes(&anonymous), ["UNAUTHORIZED_FIELD_OR_TYPE"]);

        // Once the grant expires it is refused again.
        let wait = (expires - chrono::Utc::now()).num_milliseconds().max(0) as u64 + 500;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (_, expired) = mesh_as(&server, &auth, ORDERS).await;
        assert_eq!(
            codes(&expired),
            ["UNAUTHORIZED_FIELD_OR_TYPE"],
            "{} {expired}",
            db.label
        );

        // Nobody but the owner team (or an admin) opens the domain up.
        let open_up =
            "mutation { updateDomain(name: \"orders\", patch: {access: OPEN}) { access } }";
        let by_consumer = catalog_as(&server, &consumer, open_up, json!({})).await;
        assert_eq!(
            by_consumer["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{by_consumer}"
        );
        let anonymous = server.graphql(open_up, json!({})).await;
        assert_eq!(
            anonymous["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{anonymous}"
        );
        let deregister = server
            .graphql(
                "mutation { deregisterDomain(name: \"orders\") { status } }",
                json!({}),
            )
            .await;
        assert_eq!(
            deregister["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{deregister}"
        );
        let by_owner = catalog_as(
            &server,
            &owner,
            "mutation { updateDomain(name: \"orders\", patch: {description: \"Every order.\"}) { access description } }",
            json!({}),
        )
        .await;
        assert_eq!(
            by_owner["data"]["updateDomain"]["access"], "RESTRICTED",
            "{by_owner}"
        );

        // Every step is in the audit log.
        let audit = admin(
            &server,
            "{ auditLog(filter: {}, first: 50) { nodes { action actor } } }",
            json!({}),
        )
        .await;
        let actions: Vec<&str> = audit["data"]["auditLog"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for action in [
            "jwt_issuer.register",
            "consumer.create",
            "access.request",
            "access.approve",
        ] {
            assert!(
                actions.contains(&action),
                "{action} missing from {actions:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_work_until_revoked_and_only_admins_manage_access() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    // Without the admin scope nothing changes.
    let refused = catalog_as(
        &server,
        "Bearer not-the-admin-token",
        "mutation { createConsumer(spec: {name: \"x\", ownerTeam: \"t\", contact: \"c\"}) { name } }",
        json!({}),
    )
    .await;
    assert!(refused.to_string().contains("UNAUTHENTICATED"), "{refused}");
    let anonymous = server
        .graphql("mutation { createConsumer(spec: {name: \"x\", ownerTeam: \"t\", contact: \"c\"}) { name } }", json!({}))
        .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{anonymous}"
    );
    // Bad inputs are refused with their reasons, all at once.
    let bad = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { registerJwtIssuer(spec: {name: \"Bad Name\", issuer: \"x\", algorithm: \"RS256\", publicKeys: \"not a key\"}) { name } }",
        json!({}),
    )
    .await;
    let problems = common::problems(&bad);
    assert!(problems.iter().any(|p| p.0 == "name"), "{bad}");
    let bad_key = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { registerJwtIssuer(spec: {name: \"rsa\", issuer: \"x\", algorithm: \"RS256\", publicKeys: \"not a key\"}) { name } }",
        json!({}),
    )
    .await;
    assert!(
        common::problems(&bad_key)
            .iter()
            .any(|p| p.0 == "publicKeys" && p.1 == "INVALID_KEY"),
        "{bad_key}"
    );
    let issuers = admin(
        &server,
        "{ jwtIssuers { name } consumers { name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        issuers["data"],
        json!({ "jwtIssuers": [], "consumers": [] })
    );

    let (key, prefix) =
        consumer_with_key(&server, "dashboard", json!({ "ownerTeam": "ops" })).await;
    admin(
        &server,
        "mutation { grantAccess(spec: {consumer: \"dashboard\", domain: \"orders\"}) { id active } }",
        json!({}),
    )
    .await;
    assert!(key.starts_with(&format!("mk_{prefix}_")));

    let (status, answer) = until(&server, &[("x-api-key", &key)], ORDERS, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["ordersByDate"][0]["id"], "o2");
    let (_, via_header) = mesh_as(
        &server,
        &[("authorization", &format!("ApiKey {key}"))],
        ORDERS,
    )
    .await;
    assert_eq!(
        via_header["data"]["ordersByDate"][0]["id"], "o2",
        "{via_header}"
    );
    // A key of the right shape but wrong secret is refused.
    let forged = format!("mk_{prefix}_{}", "0".repeat(48));
    let (status, _) = mesh_as(&server, &[("x-api-key", &forged)], ORDERS).await;
    assert_eq!(status, 401);

    admin(
        &server,
        "mutation($p: String!) { revokeApiKey(prefix: $p) { revokedAt } }",
        json!({ "p": prefix }),
    )
    .await;
    let (status, answer) = mesh_as(&server, &[("x-api-key", &key)], ORDERS).await;
    assert_eq!(
        status, 401,
        "revoked key refused on the next request: {answer}"
    );
    assert_eq!(codes(&answer), ["UNAUTHENTICATED"]);

    // A disabled consumer's keys stop working; enabled again, they work.
    let (other_key, _) = consumer_with_key(&server, "kiosk", json!({})).await;
    let (status, _) = mesh_as(
        &server,
        &[("x-api-key", &other_key)],
        "{ customers { name } }",
    )
    .await;
    assert_eq!(status, 200);
    for (disabled, want) in [(true, 401), (false, 200)] {
        admin(
            &server,
            "mutation($d: Boolean!) { updateConsumer(name: \"kiosk\", patch: {disabled: $d}) { disabled } }",
            json!({ "d": disabled }),
        )
        .await;
        let (status, answer) = mesh_as(
            &server,
            &[("x-api-key", &other_key)],
            "{ customers { name } }",
        )
        .await;
        assert_eq!(status, want, "disabled {disabled}: {answer}");
    }
    let unknown = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { updateConsumer(name: \"nobody\", patch: {plan: \"none-such\"}) { name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{unknown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_policies_follow_or_of_and_scope_semantics() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    register_issuer(&server).await;
    until(&server, &[], "{ customers { name } }", |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    admin(
        &server,
        "mutation { setFieldPolicy(spec: {coordinate: \"Customer.email\", scopes: [[\"pii\", \"read\"], [\"pii-admin\"]]}) { coordinate } }",
        json!({}),
    )
    .await;
    let query = "{ customers { name email } }";
    let as_scopes = |scope: &str| bearer(&token(json!({ "sub": "u", "scope": scope })));
    let only_pii = as_scopes("pii");
    // The policy reaches the gateway with the next supergraph.
    let (_, partial) = until(&server, &[("authorization", &only_pii)], query, |_, a| {
        !codes(a).is_empty()
    })
    .await;
    assert_eq!(
        codes(&partial)[0],
        "UNAUTHORIZED_FIELD_OR_TYPE",
        "{partial}"
    );
    for scope in ["pii read", "pii-admin", "read pii extra"] {
        let auth = as_scopes(scope);
        let (_, answer) = mesh_as(&server, &[("authorization", &auth)], query).await;
        assert!(answer.get("errors").is_none(), "{scope}: {answer}");
        assert!(
            answer["data"]["customers"][0]["email"].is_string(),
            "{scope}: {answer}"
        );
    }
    for scope in ["read", "pii", "admin"] {
        let auth = as_scopes(scope);
        let (_, answer) = mesh_as(&server, &[("authorization", &auth)], query).await;
        assert_eq!(
            codes(&answer)[0],
            "UNAUTHORIZED_FIELD_OR_TYPE",
            "{scope}: {answer}"
        );
    }
    let (_, anonymous) = mesh_as(&server, &[], "{ customers { name } }").await;
    assert!(
        anonymous.get("errors").is_none(),
        "unprotected fields stay open: {anonymous}"
    );
    // Filter mode (the default): refused fields are null, the rest served.
    let (_, mixed) = mesh_as(
        &server,
        &[],
        "{ customers { name } order(id: \"o2\") { id } }",
    )
    .await;
    assert_eq!(codes(&mixed), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{mixed}");
    assert!(mixed["data"]["customers"].is_array(), "{mixed}");
    assert!(mixed["data"]["order"].is_null(), "{mixed}");
}

fn rs256(key_file: &str, kid: &str, claims: Value) -> String {
    common::rs256(key_file, kid, &claims)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_are_verified_and_a_rotated_jwks_key_is_fetched_without_restart() {
    // The identity provider's JWKS endpoint, whose keys rotate mid-test.
    let jwks = Arc::new(Mutex::new(
        std::fs::read_to_string(common::fixture("jwt/jwks.json")).expect("jwks"),
    ));
    let served = jwks.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let served = served.clone();
            async move { served.lock().map(|s| s.clone()).unwrap_or_default() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    admin(
        &server,
        "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name } }",
        json!({ "s": { "name": "corp", "issuer": "https://issuer.test", "audiences": ["meshwork"],
                       "algorithm": "RS256", "jwksUrl": jwks_url } }),
    )
    .await;
    let claims = |extra: Value| {
        common::merged(
            json!({ "iss": "https://issuer.test", "aud": "meshwork", "sub": "analyst", "exp": now() + 600 }),
            extra,
        )
    };
    let query = "{ customers { name } }";
    let ok = |status: u16, a: &Value| status == 200 && a.get("errors").is_none();
    let good = bearer(&rs256("rsa-private.pem", "test-rsa-1", claims(json!({}))));
    until(&server, &[("authorization", &good)], query, ok).await;

    let public_pem = std::fs::read(common::fixture("jwt/rsa-public.pem")).expect("pem");
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims(json!({})),
        &EncodingKey::from_secret(&public_pem),
    )
    .expect("sign");
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(json!({ "alg": "none" })),
        b64(claims(json!({})))
    );
    let refused = [
        ("alg none", none),
        ("HS256 signed with the RSA public key", confused),
        (
            "expired beyond leeway",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                claims(json!({ "exp": now() - 120 })),
            ),
        ),
        (
            "not yet valid",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                claims(json!({ "nbf": now() + 300 })),
            ),
        ),
        (
            "wrong audience",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                claims(json!({ "aud": "other" })),
            ),
        ),
        (
            "unknown issuer",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                claims(json!({ "iss": "https://evil.test" })),
            ),
        ),
        (
            "unknown key",
            rs256("rsa2-private.pem", "test-rsa-2", claims(json!({}))),
        ),
        // Missing claims are refused, never skipped.
        (
            "no audience where the issuer lists audiences",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                json!({ "iss": "https://issuer.test", "sub": "analyst", "exp": now() + 600 }),
            ),
        ),
        (
            "no expiry",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                json!({ "iss": "https://issuer.test", "aud": "meshwork", "sub": "analyst" }),
            ),
        ),
        (
            "no issuer",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                json!({ "aud": "meshwork", "sub": "analyst", "exp": now() + 600 }),
            ),
        ),
        (
            "no subject",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                json!({ "iss": "https://issuer.test", "aud": "meshwork", "exp": now() + 600 }),
            ),
        ),
        (
            "issued in the future",
            rs256(
                "rsa-private.pem",
                "test-rsa-1",
                claims(json!({ "iat": now() + 3600 })),
            ),
        ),
    ];
    for (what, token) in &refused {
        let (status, answer) = mesh_as(&server, &[("authorization", &bearer(token))], query).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(codes(&answer), ["UNAUTHENTICATED"], "{what}");
        // Refusals say what is wrong with the token, not how the mesh is
        // configured: no issuer name, algorithm or key address.
        let text = answer.to_string();
        for secret in ["corp", "RS256", "HS256", &jwks_url, "127.0.0.1"] {
            assert!(!text.contains(secret), "{what}: `{secret}` in {text}");
        }
    }
    // Within the leeway (30 s) an expired token still passes.
    let lenient = bearer(&rs256(
        "rsa-private.pem",
        "test-rsa-1",
        claims(json!({ "exp": now() - 5 })),
    ));
    let (status, answer) = mesh_as(&server, &[("authorization", &lenient)], query).await;
    assert_eq!(status, 200, "{answer}");

    // The provider rotates to a new key: a token with the new `kid` makes
    // the gateway fetch the JWKS again and is accepted, no restart.
    *jwks.lock().expect("lock") =
        std::fs::read_to_string(common::fixture("jwt/jwks-rotated.json")).expect("rotated");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = bearer(&rs256("rsa2-private.pem", "test-rsa-2", claims(json!({}))));
    let (status, answer) = mesh_as(&server, &[("authorization", &rotated)], query).await;
    assert_eq!(status, 200, "rotated key accepted: {answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    // The fresh document no longer lists the old key: a token signed with
    // it (one not seen before) is refused.
    let retired = bearer(&rs256(
        "rsa-private.pem",
        "test-rsa-1",
        claims(json!({ "sub": "after-rotation" })),
    ));
    let (status, answer) = mesh_as(&server, &[("authorization", &retired)], query).await;
    assert_eq!(status, 401, "retired key refused: {answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_limit_each_consumer_and_introspection_follows_the_consumer() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    for plan in [
        json!({ "name": "tight", "requestsPerMinute": 6, "burst": 2 }),
        json!({ "name": "daily", "requestsPerMinute": 600, "burst": 100, "dailyQuota": 3 }),
    ] {
        admin(
            &server,
            "mutation($p: PlanSpec!) { createPlan(spec: $p) { name } }",
            json!({ "p": plan }),
        )
        .await;
    }
    let mut keys = Vec::new();
    for (name, plan, introspection) in [
        ("tight-app", "tight", true),
        ("daily-app", "daily", false),
        ("free-app", "", true),
    ] {
        let mut spec = json!({ "name": name, "ownerTeam": "apps", "contact": "apps@example.com", "introspection": introspection });
        if !plan.is_empty() {
            spec["plan"] = json!(plan);
        }
        keys.push(consumer_with_key(&server, name, spec).await.0);
    }
    let query = "{ customers { name } }";
    let (tight, daily, free) = (&keys[0], &keys[1], &keys[2]);
    until(&server, &[("x-api-key", free)], query, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;

    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(mesh_as(&server, &[("x-api-key", tight)], query).await.0);
        }
        out
    };
    assert_eq!(statuses, [200, 200, 429], "burst of 2 for the tight plan");
    let mut daily_statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..4 {
        let (status, answer) = mesh_as(&server, &[("x-api-key", daily)], query).await;
        daily_statuses.push(status);
        last = answer;
    }
    assert_eq!(daily_statuses, [200, 200, 200, 429], "{last}");
    assert_eq!(codes(&last), ["QUOTA_EXCEEDED"]);
    // Consumers without a plan are not limited by others' plans.
    for _ in 0..5 {
        assert_eq!(mesh_as(&server, &[("x-api-key", free)], query).await.0, 200);
    }

    // A plan's maximum operation cost, against the engine's estimate.
    admin(
        &server,
        "mutation { createPlan(spec: {name: \"cheap\", requestsPerMinute: 600, burst: 100, maxCost: 15}) { name } }",
        json!({}),
    )
    .await;
    let (cheap, _) = consumer_with_key(
        &server,
        "cheap-app",
        json!({ "ownerTeam": "apps", "plan": "cheap" }),
    )
    .await;
    let (_, small) = mesh_as(&server, &[("x-api-key", &cheap)], query).await;
    assert!(small.get("errors").is_none(), "{small}");
    let big = "{ customers { name } products { name inStock } }";
    let (_, refused) = mesh_as(&server, &[("x-api-key", &cheap)], big).await;
    assert_eq!(
        codes(&refused),
        ["COST_ESTIMATED_TOO_EXPENSIVE"],
        "{refused}"
    );
    let (_, others) = mesh_as(&server, &[("x-api-key", free)], big).await;
    assert!(
        others.get("errors").is_none(),
        "no plan, no cost cap: {others}"
    );

    // Introspection is the consumer's setting.
    let introspect = "{ __schema { queryType { name } } }";
    let (_, allowed) = mesh_as(&server, &[("x-api-key", free)], introspect).await;
    assert_eq!(
        allowed["data"]["__schema"]["queryType"]["name"], "Query",
        "{allowed}"
    );
    let (locked, _) = consumer_with_key(
        &server,
        "locked-app",
        json!({ "ownerTeam": "apps", "introspection": false }),
    )
    .await;
    let (_, refused) = mesh_as(&server, &[("x-api-key", &locked)], introspect).await;
    assert!(
        refused["data"].is_null() || refused["data"]["__schema"].is_null(),
        "{refused}"
    );
    assert!(!codes(&refused).is_empty(), "{refused}");
    let (_, data) = mesh_as(&server, &[("x-api-key", &locked)], query).await;
    assert!(
        data.get("errors").is_none(),
        "ordinary queries still work: {data}"
    );
}

/// A domain that answers with the consumer the gateway says is calling,
/// slowly, so identical requests overlap in the gateway.
mod identity_domain {
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
    use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
    use axum::extract::State;
    use axum::http::HeaderMap;

    pub struct Seen(pub Option<String>);
    pub struct Query;

    #[Object]
    impl Query {
        async fn whoami(&self, ctx: &Context<'_>) -> Option<String> {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            ctx.data::<Seen>().ok().and_then(|s| s.0.clone())
        }
    }

    pub type IdentitySchema = Schema<Query, EmptyMutation, EmptySubscription>;

    async fn handle(
        State(schema): State<IdentitySchema>,
        headers: HeaderMap,
        request: GraphQLRequest,
    ) -> GraphQLResponse {
        let consumer = headers
            .get("x-meshwork-consumer")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        schema
            .execute(request.into_inner().data(Seen(consumer)))
            .await
            .into()
    }

    pub fn router() -> axum::Router {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        axum::Router::new()
            .route("/graphql", axum::routing::post(handle))
            .with_state(schema)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_learn_the_consumer_and_identical_requests_are_never_shared_across_callers() {
    let identity = domains::serve(identity_domain::router())
        .await
        .expect("identity domain");
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    admin(
        &server,
        "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
        json!({ "s": { "name": "identity", "ownerTeam": "platform", "contact": "p@example.com", "apiUrl": identity.url } }),
    )
    .await;
    let mut keys = Vec::new();
    for name in ["app-one", "app-two"] {
        keys.push(consumer_with_key(&server, name, json!({})).await.0);
    }
    let query = "{ whoami }";
    until(&server, &[("x-api-key", &keys[0])], query, |s, a| {
        s == 200 && a["data"]["whoami"] == "app-one"
    })
    .await;

    // The same query at the same time from two consumers (and twice from
    // each): each gets its own answer.
    let mut calls = Vec::new();
    for round in 0..2 {
        for (i, key) in keys.iter().enumerate() {
            let base = server.base.clone();
            let key = key.clone();
            calls.push(tokio::spawn(async move {
                let answer: Value = reqwest::Client::new()
                    .post(format!("{base}/graphql"))
                    .header("x-api-key", key)
                    .json(&json!({ "query": "{ whoami }" }))
                    .send()
                    .await
                    .expect("POST")
                    .json()
                    .await
                    .expect("JSON");
                (round, i, answer)
            }));
        }
    }
    for call in calls {
        let (round, i, answer) = call.await.expect("task");
        let want = ["app-one", "app-two"][i];
        assert_eq!(answer["data"]["whoami"], want, "round {round}: {answer}");
    }

    // A client cannot pose as a consumer by sending the header itself.
    let (_, spoofed) = mesh_as(&server, &[("x-meshwork-consumer", "app-one")], query).await;
    assert_eq!(spoofed["data"]["whoami"], Value::Null, "{spoofed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_mode_refuses_the_whole_request() {
    let (server, _domains) = start_mesh_with(
        &common::databases().await[0].url,
        &["--unauthorized", "reject"],
    )
    .await;
    until(&server, &[], "{ customers { name } }", |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    let (_, answer) = until(
        &server,
        &[],
        "{ customers { name } order(id: \"o2\") { id } }",
        |_, a| !codes(a).is_empty(),
    )
    .await;
    assert_eq!(codes(&answer), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{answer}");
    assert!(
        answer["data"].is_null() || answer.get("data").is_none(),
        "nothing served: {answer}"
    );
    assert!(!answer.to_string().contains("Ada"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_follow_the_catalogs_access_snapshot() {
    let key = "replica-test-cdn-key-0123456789abcdef";
    let (server, _domains) =
        start_mesh_with(&common::databases().await[0].url, &["--cdn-key", key]).await;
    let replica = Server::start_replica(&server.base, key);
    let (api_key, prefix) =
        consumer_with_key(&server, "remote-app", json!({ "ownerTeam": "apps" })).await;
    admin(
        &server,
        "mutation { grantAccess(spec: {consumer: \"remote-app\", domain: \"orders\"}) { id } }",
        json!({}),
    )
    .await;
    // The replica learns the key and the grant within its poll interval.
    let (_, answer) = until(&replica, &[("x-api-key", &api_key)], ORDERS, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    assert_eq!(answer["data"]["ordersByDate"][0]["id"], "o2");
    // Without the CDN key nobody reads the snapshot (it holds key hashes).
    let status = reqwest::get(format!("{}/control/access", server.base))
        .await
        .expect("GET")
        .status();
    assert_eq!(status, 401);
    // With it, the snapshot holds nothing to sign with: an HS256 issuer's
    // secret stays in the control plane, and a replica verifies its tokens
    // only when given the secret itself.
    register_issuer(&server).await;
    let snapshot = reqwest::Client::new()
        .get(format!("{}/control/access", server.base))
        .header("x-hive-cdn-key", key)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(!snapshot.contains(SECRET), "{snapshot}");
    assert!(snapshot.contains("secretSha256"), "{snapshot}");
    let with_secret = Server::start_with(&[
        "gateway",
        "--control-plane",
        &server.base,
        "--cdn-key",
        key,
        "--poll-interval",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--issuer-secret",
        &format!("idp={SECRET}"),
    ]);
    let jwt = bearer(&token(json!({ "sub": "sam" })));
    let customers = "{ customers { name } }";
    until(
        &with_secret,
        &[("authorization", &jwt)],
        customers,
        |s, a| s == 200 && a.get("errors").is_none(),
    )
    .await;
    let (status, refused) = mesh_as(&replica, &[("authorization", &jwt)], customers).await;
    assert_eq!(status, 401, "no secret, no HS256 tokens: {refused}");
    admin(
        &server,
        "mutation($p: String!) { revokeApiKey(prefix: $p) { prefix } }",
        json!({ "p": prefix }),
    )
    .await;
    let (status, _) = until(&replica, &[("x-api-key", &api_key)], ORDERS, |s, _| {
        s == 401
    })
    .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_anonymous_access_queries_need_a_credential_but_the_ide_page_loads() {
    let (server, _domains) =
        start_mesh_with(&common::databases().await[0].url, &["--anonymous", "deny"]).await;
    let (key, _) = consumer_with_key(&server, "known", json!({ "ownerTeam": "apps" })).await;
    until(
        &server,
        &[("x-api-key", &key)],
        "{ customers { name } }",
        |s, a| s == 200 && a.get("errors").is_none(),
    )
    .await;
    let (status, answer) = mesh_as(&server, &[], "{ customers { name } }").await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(codes(&answer), ["UNAUTHENTICATED"]);
    let page = reqwest::Client::new()
        .get(format!("{}/graphql", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap_or_default().contains("<html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_on_some_fields_opens_only_those_fields() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    let (key, _) = consumer_with_key(&server, "ids-only", json!({ "ownerTeam": "apps" })).await;
    let grant = admin(
        &server,
        "mutation { grantAccess(spec: {consumer: \"ids-only\", domain: \"orders\", fields: [\"Query.ordersByDate\", \"Order.id\"]}) { fields active } }",
        json!({}),
    )
    .await;
    assert_eq!(
        grant["data"]["grantAccess"]["fields"],
        json!(["Query.ordersByDate", "Order.id"])
    );
    let auth = [("x-api-key", key.as_str())];
    let (_, ids) = until(
        &server,
        &auth,
        r#"{ ordersByDate(date: "2026-11-24") { id } }"#,
        |s, a| s == 200 && a.get("errors").is_none(),
    )
    .await;
    assert_eq!(ids["data"]["ordersByDate"][0]["id"], "o2", "{ids}");
    let (_, totals) = mesh_as(
        &server,
        &auth,
        r#"{ order(id: "o2") { id } ordersByDate(date: "2026-11-24") { id total } }"#,
    )
    .await;
    assert!(!codes(&totals).is_empty(), "{totals}");
    assert!(
        !totals.to_string().contains("89.5"),
        "total leaked: {totals}"
    );
    // Bad grants are refused and change nothing.
    let bad = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { grantAccess(spec: {consumer: \"ids-only\", domain: \"nope\", fields: [\"Order\"]}) { id } }",
        json!({}),
    )
    .await;
    assert!(bad.get("errors").is_some(), "{bad}");
    let grants = admin(&server, "{ grants { consumer domain } }", json!({})).await;
    assert_eq!(
        grants["data"]["grants"].as_array().map(Vec::len),
        Some(1),
        "{grants}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domains_own_plan_limits_each_consumer_at_that_domain_only() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    admin(
        &server,
        "mutation { createPlan(spec: {name: \"inventory-guard\", requestsPerMinute: 6, burst: 2}) { name } }",
        json!({}),
    )
    .await;
    let bad = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { updateDomain(name: \"inventory\", patch: {plan: \"no-such-plan\"}) { plan } }",
        json!({}),
    )
    .await;
    assert!(
        common::problems(&bad)
            .iter()
            .any(|p| p.0 == "plan" && p.1 == "UNKNOWN_REFERENCE"),
        "{bad}"
    );
    let set = admin(
        &server,
        "mutation { updateDomain(name: \"inventory\", patch: {plan: \"inventory-guard\"}) { plan } }",
        json!({}),
    )
    .await;
    assert_eq!(set["data"]["updateDomain"]["plan"], "inventory-guard");
    let mut keys = Vec::new();
    for name in ["shop-a", "shop-b"] {
        keys.push(consumer_with_key(&server, name, json!({})).await.0);
    }
    let customers_only = "{ customers { name } }";
    until(
        &server,
        &[("x-api-key", &keys[0])],
        customers_only,
        |s, a| s == 200 && a.get("errors").is_none(),
    )
    .await;
    // Requests that never reach inventory are not counted against it.
    for _ in 0..4 {
        let (_, answer) = mesh_as(&server, &[("x-api-key", &keys[0])], customers_only).await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let stock = "{ customers { name } products { name inStock } }";
    let mut refused = Value::Null;
    for i in 0..3 {
        let (_, answer) = mesh_as(&server, &[("x-api-key", &keys[0])], stock).await;
        if i < 2 {
            assert!(
                answer.get("errors").is_none(),
                "request {i} within the burst: {answer}"
            );
        } else {
            refused = answer;
        }
    }
    assert_eq!(codes(&refused), ["RATE_LIMITED"], "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["service"], "inventory",
        "{refused}"
    );
    // Within the same request, only inventory was refused: the stock query
    // without inventory fields still answers for this consumer.
    let (_, customers) = mesh_as(&server, &[("x-api-key", &keys[0])], customers_only).await;
    assert!(customers.get("errors").is_none(), "{customers}");
    // Another consumer has its own allowance at the same domain.
    let (_, other) = mesh_as(&server, &[("x-api-key", &keys[1])], stock).await;
    assert!(other.get("errors").is_none(), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_control_planes_on_one_database_enforce_the_same_access() {
    for db in common::databases().await {
        let (first, _domains) = start_mesh(&db.url).await;
        let second = Server::start_with(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &db.url,
            "--supergraph-poll-interval",
            "1s",
            "--admin-token",
            ADMIN,
        ]);
        let (key, prefix) =
            consumer_with_key(&first, "shared-app", json!({ "ownerTeam": "apps" })).await;
        // The other instance learns the key from the shared database.
        until(
            &second,
            &[("x-api-key", &key)],
            "{ customers { name } }",
            |s, a| s == 200 && a.get("errors").is_none(),
        )
        .await;
        admin(
            &first,
            "mutation($p: String!) { revokeApiKey(prefix: $p) { prefix } }",
            json!({ "p": prefix }),
        )
        .await;
        let (status, _) = until(
            &second,
            &[("x-api-key", &key)],
            "{ customers { name } }",
            |s, _| s == 401,
        )
        .await;
        assert_eq!(status, 401, "{}", db.label);
    }
}

fn access_cli(server: &Server, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::binary())
        .args(["access", "--server", &server.base, "--token", token])
        .args(args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork access")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_workflow_runs_from_the_command_line() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    let ok = |o: &std::process::Output| {
        assert!(
            o.status.success(),
            "stdout {} stderr {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    ok(&access_cli(
        &server,
        ADMIN,
        &[
            "add-consumer",
            "reports",
            "--team",
            "finance",
            "--contact",
            "fin@example.com",
        ],
    ));
    let key = ok(&access_cli(
        &server,
        ADMIN,
        &["create-key", "reports", "nightly"],
    ))
    .trim()
    .to_string();
    assert!(key.starts_with("mk_"), "{key}");
    // The consumer asks with its own key; an admin approves.
    let asked = ok(&access_cli(
        &server,
        &key,
        &[
            "request",
            "orders",
            "--consumer",
            "reports",
            "--reason",
            "month-end close",
            "--days",
            "30",
        ],
    ));
    assert!(asked.contains("pending"), "{asked}");
    let listed = ok(&access_cli(
        &server,
        ADMIN,
        &["--output", "json", "requests", "--status", "pending"],
    ));
    let requests: Value = serde_json::from_str(&listed).expect("JSON list");
    let id = requests[0]["id"].as_i64().expect("id").to_string();
    ok(&access_cli(
        &server,
        ADMIN,
        &["approve", &id, "--note", "ok"],
    ));
    let again = access_cli(&server, ADMIN, &["approve", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already decided"));
    let grants = ok(&access_cli(&server, ADMIN, &["grants"]));
    assert!(
        grants.contains("reports") && grants.contains("orders"),
        "{grants}"
    );
    let (_, answer) = until(&server, &[("x-api-key", &key)], ORDERS, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    assert_eq!(answer["data"]["ordersByDate"][0]["id"], "o2");
    // Without the admin scope the command fails with the server's reason.
    let refused = access_cli(
        &server,
        &key,
        &["add-consumer", "other", "--team", "t", "--contact", "c"],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("platform-admin"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_issuer_secret_takes_effect_on_the_next_request() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    register_issuer(&server).await;
    let query = "{ customers { name } }";
    let old = bearer(&token(json!({ "sub": "ann" })));
    until(&server, &[("authorization", &old)], query, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    let new_secret = "fedcba9876543210fedcba9876543210-rotated";
    let updated = admin(
        &server,
        "mutation($s: IssuerSpec!) { updateJwtIssuer(name: \"idp\", spec: $s) { name hasSecret } }",
        json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                       "secret": new_secret, "consumerClaim": "azp", "teamsClaim": "groups" } }),
    )
    .await;
    assert_eq!(updated["data"]["updateJwtIssuer"]["hasSecret"], true);
    let (status, _) = mesh_as(&server, &[("authorization", &old)], query).await;
    assert_eq!(status, 401, "a token of the old secret is refused at once");
    let fresh = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "iss": "https://idp.test", "sub": "ann", "exp": now() + 600 }),
        &EncodingKey::from_secret(new_secret.as_bytes()),
    )
    .expect("sign");
    let (status, answer) = mesh_as(&server, &[("authorization", &bearer(&fresh))], query).await;
    assert_eq!(status, 200, "{answer}");
    // A rename or a short secret is refused and changes nothing.
    let refused = catalog_as(
        &server,
        &bearer(ADMIN),
        "mutation { updateJwtIssuer(name: \"idp\", spec: {name: \"idp\", issuer: \"https://idp.test\", algorithm: \"HS256\", secret: \"short\"}) { name } }",
        json!({}),
    )
    .await;
    assert!(
        common::problems(&refused).iter().any(|p| p.0 == "secret"),
        "{refused}"
    );
    let (status, _) = mesh_as(&server, &[("authorization", &bearer(&fresh))], query).await;
    assert_eq!(status, 200);
}

/// Stored access records that do not read never widen access: a grant's
/// corrupt field list is not taken for "the whole domain", an issuer's
/// corrupt audiences are not taken for "any audience".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_access_records_fail_closed() {
    use sea_orm::ConnectionTrait;
    for db in common::databases().await {
        let (server, _domains) = start_mesh(&db.url).await;
        admin(
            &server,
            "mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name } }",
            json!({ "s": { "name": "idp", "issuer": "https://idp.test", "algorithm": "HS256",
                           "secret": SECRET, "audiences": ["mesh"] } }),
        )
        .await;
        let (key, _) = consumer_with_key(&server, "partial", json!({})).await;
        admin(
            &server,
            "mutation { grantAccess(spec: {consumer: \"partial\", domain: \"orders\", fields: [\"Query.ordersByDate\", \"Order.id\"]}) { id } }",
            json!({}),
        )
        .await;
        let auth = [("x-api-key", key.as_str())];
        let jwt = bearer(&token(json!({ "sub": "ann", "aud": "mesh" })));
        let ids = r#"{ ordersByDate(date: "2026-11-24") { id } }"#;
        until(&server, &auth, ids, |s, a| {
            s == 200 && a.get("errors").is_none()
        })
        .await;
        until(
            &server,
            &[("authorization", &jwt)],
            "{ customers { name } }",
            |s, _| s == 200,
        )
        .await;

        // Someone (a bad migration, a hand edit) breaks the stored JSON.
        let connection =
            sea_orm::Database::connect(catalog::normalize_url(&db.url).expect("database URL"))
                .await
                .expect("open the catalog database");
        for statement in [
            "UPDATE access_grant SET fields = '{\"corrupt\": true}'",
            "UPDATE jwt_issuer SET audiences = '\"mesh\"'",
        ] {
            connection
                .execute_unprepared(statement)
                .await
                .unwrap_or_else(|e| panic!("[{}] {statement}: {e}", db.label));
        }
        // Within the snapshot refresh (10 s) the grant is gone, not widened
        // to the whole domain, and the issuer's tokens are refused.
        let (_, answer) = until(&server, &auth, ids, |s, a| s == 200 && !codes(a).is_empty()).await;
        assert!(
            !answer.to_string().contains("\"o2\""),
            "[{}] {answer}",
            db.label
        );
        let (_, totals) = mesh_as(&server, &auth, ORDERS).await;
        assert!(
            totals["data"]["ordersByDate"].is_null() || !totals.to_string().contains("89.5"),
            "[{}] a corrupt grant opened the whole domain: {totals}",
            db.label
        );
        let (status, answer) = until(
            &server,
            &[("authorization", &jwt)],
            "{ customers { name } }",
            |s, _| s == 401,
        )
        .await;
        assert_eq!(status, 401, "[{}] {answer}", db.label);
    }
}

/// A REST domain's fields are governed like a GraphQL domain's: restricted,
/// nobody reads them without a grant; a field grant opens only those
/// fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_rest_domain_is_governed_like_a_graphql_one() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    let shipments = domains::serve(domains::shipments::router())
        .await
        .expect("shipments");
    let base = format!("http://{}", shipments.addr);
    admin(
        &server,
        "mutation($s: DomainSpec!) { registerDomain(spec: $s) { name } }",
        json!({ "s": { "name": "shipments", "ownerTeam": "logistics", "contact": "l@example.com",
                       "kind": "REST", "apiUrl": base, "schemaEndpoint": format!("{base}/openapi.json"),
                       "access": "RESTRICTED" } }),
    )
    .await;
    let (key, _) = consumer_with_key(&server, "tracker", json!({ "ownerTeam": "apps" })).await;
    let auth = [("x-api-key", key.as_str())];
    let query = r#"{ shipmentsByDate(date: "2026-11-25") { id carrier } }"#;
    let (_, refused) = until(&server, &auth, query, |_, a| {
        codes(a).iter().any(|c| c == "UNAUTHORIZED_FIELD_OR_TYPE")
    })
    .await;
    assert_eq!(codes(&refused), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{refused}");
    assert!(!refused.to_string().contains("UPS"), "{refused}");
    let (_, anonymous) = mesh_as(&server, &[], query).await;
    assert_eq!(
        codes(&anonymous),
        ["UNAUTHORIZED_FIELD_OR_TYPE"],
        "{anonymous}"
    );

    admin(
        &server,
        "mutation { grantAccess(spec: {consumer: \"tracker\", domain: \"shipments\", fields: [\"Query.shipmentsByDate\", \"Shipment.id\"]}) { id } }",
        json!({}),
    )
    .await;
    let (_, ids) = until(
        &server,
        &auth,
        r#"{ shipmentsByDate(date: "2026-11-25") { id } }"#,
        |s, a| s == 200 && a.get("errors").is_none(),
    )
    .await;
    assert_eq!(ids["data"]["shipmentsByDate"][1]["id"], "s3", "{ids}");
    let (_, carriers) = mesh_as(&server, &auth, query).await;
    assert!(!codes(&carriers).is_empty(), "{carriers}");
    assert!(
        !carriers.to_string().contains("UPS"),
        "carrier leaked: {carriers}"
    );
}

/// Field usage is counted per consumer: an authenticated client is its
/// consumer, whatever name it declares in `graphql-client-name`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_usage_names_the_authenticated_consumer() {
    let db = &common::databases().await[0];
    let (server, _domains) = start_mesh_with(&db.url, &["--usage-flush-interval", "1s"]).await;
    let (key, _) = consumer_with_key(&server, "bi-tool", json!({})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/graphql", server.base))
            .header("authorization", format!("ApiKey {key}"))
            .header("graphql-client-name", "someone-else")
            .json(&json!({ "query": "query Names { customers { name } }" }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        let usage = server
            .graphql(
                "{ fieldUsage(coordinate: \"Customer.name\") { client operation count } }",
                json!({}),
            )
            .await;
        let uses = usage["data"]["fieldUsage"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if answer.get("errors").is_none() && !uses.is_empty() {
            assert!(
                uses.iter()
                    .all(|u| u["client"] == "bi-tool" && u["operation"] == "Names"),
                "{usage}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{answer} {usage}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
