//! JWT authentication at the gateway: the engine verifies signature,
//! algorithm, issuer, audience and expiry from the router config's `jwt`
//! section; Meshwork adds the `nbf` check the engine lacks.

mod common;

use std::path::PathBuf;

use base64::Engine;
use common::Server;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    common::fixture(&format!("jwt/{name}"))
}

use common::now;

fn claims(extra: Value) -> Value {
    common::merged(
        json!({ "sub": "analyst-1", "iss": "https://issuer.test", "aud": "meshwork", "exp": now() + 600, "iat": now() }),
        extra,
    )
}

fn rs256(claims: &Value) -> String {
    common::rs256("rsa-private.pem", "test-rsa-1", claims)
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn ask(server: &Server, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .json(&json!({ "query": "{ customers { name } }" }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_verified_and_bad_ones_refused() {
    let (_customers, supergraph) = common::customers_alone().await;
    let config = format!(
        "jwt:\n  enabled: true\n  require_authentication: true\n  jwks_providers:\n    - source: file\n      path: {}\n  issuers: [\"https://issuer.test\"]\n  audiences: [\"meshwork\"]\n",
        fixture("jwks.json").display()
    );
    let gateway = common::static_gateway(&supergraph.sdl, Some(&config), &[]).await;
    let server = &gateway.server;
    let (status, answer) = ask(server, Some(&rs256(&claims(json!({}))))).await;
    assert_eq!(status, 200, "a valid token gets data: {answer}");
    assert_eq!(answer["data"]["customers"][0]["name"], "Ada Lovelace");

    let refused = |status: u16, answer: &Value| {
        answer["data"]["customers"].is_null() && (status == 401 || answer["errors"].is_array())
    };

    let (status, answer) = ask(server, None).await;
    assert!(refused(status, &answer), "no token: {status} {answer}");

    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT" })),
        b64(&claims(json!({})))
    );
    let (status, answer) = ask(server, Some(&none)).await;
    assert!(refused(status, &answer), "alg none: {status} {answer}");

    // Algorithm confusion: HS256 "signed" with the RSA public key as secret.
    let public = std::fs::read(fixture("rsa-public.pem")).expect("public key");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test-rsa-1".into());
    let confused = encode(
        &header,
        &claims(json!({})),
        &EncodingKey::from_secret(&public),
    )
    .expect("sign");
    let (status, answer) = ask(server, Some(&confused)).await;
    assert!(
        refused(status, &answer),
        "HS/RS confusion: {status} {answer}"
    );

    for (case, extra) in [
        ("expired", json!({ "exp": now() - 3600 })),
        ("wrong issuer", json!({ "iss": "https://evil.test" })),
        ("wrong audience", json!({ "aud": "someone-else" })),
        ("not yet valid", json!({ "nbf": now() + 3600 })),
    ] {
        let (status, answer) = ask(server, Some(&rs256(&claims(extra)))).await;
        assert!(refused(status, &answer), "{case}: {status} {answer}");
    }
    let (status, answer) = ask(
        server,
        Some(&rs256(&claims(json!({ "nbf": now() + 3600 })))),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid yet"),
        "{answer}"
    );

    // Within the 30 s leeway a slightly early nbf is accepted.
    let (status, answer) = ask(server, Some(&rs256(&claims(json!({ "nbf": now() + 10 }))))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["customers"][0]["name"], "Ada Lovelace");
}
