//! Credentials: API keys, JWTs (JWKS rotation, a rotated secret), anonymous access, corrupt records.

use super::*;

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
    let good = bearer(&common::rs256(
        "rsa-private.pem",
        "test-rsa-1",
        &claims(json!({})),
    ));
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
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &claims(json!({ "exp": now() - 120 })),
            ),
        ),
        (
            "not yet valid",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &claims(json!({ "nbf": now() + 300 })),
            ),
        ),
        (
            "wrong audience",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &claims(json!({ "aud": "other" })),
            ),
        ),
        (
            "unknown issuer",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &claims(json!({ "iss": "https://evil.test" })),
            ),
        ),
        (
            "unknown key",
            common::rs256("rsa2-private.pem", "test-rsa-2", &claims(json!({}))),
        ),
        // Missing claims are refused, never skipped.
        (
            "no audience where the issuer lists audiences",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &json!({ "iss": "https://issuer.test", "sub": "analyst", "exp": now() + 600 }),
            ),
        ),
        (
            "no expiry",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &json!({ "iss": "https://issuer.test", "aud": "meshwork", "sub": "analyst" }),
            ),
        ),
        (
            "no issuer",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &json!({ "aud": "meshwork", "sub": "analyst", "exp": now() + 600 }),
            ),
        ),
        (
            "no subject",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &json!({ "iss": "https://issuer.test", "aud": "meshwork", "exp": now() + 600 }),
            ),
        ),
        (
            "issued in the future",
            common::rs256(
                "rsa-private.pem",
                "test-rsa-1",
                &claims(json!({ "iat": now() + 3600 })),
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
    let lenient = bearer(&common::rs256(
        "rsa-private.pem",
        "test-rsa-1",
        &claims(json!({ "exp": now() - 5 })),
    ));
    let (status, answer) = mesh_as(&server, &[("authorization", &lenient)], query).await;
    assert_eq!(status, 200, "{answer}");

    // The provider rotates to a new key: a token with the new `kid` makes
    // the gateway fetch the JWKS again and is accepted, no restart.
    *jwks.lock().expect("lock") =
        std::fs::read_to_string(common::fixture("jwt/jwks-rotated.json")).expect("rotated");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = bearer(&common::rs256(
        "rsa2-private.pem",
        "test-rsa-2",
        &claims(json!({})),
    ));
    let (status, answer) = mesh_as(&server, &[("authorization", &rotated)], query).await;
    assert_eq!(status, 200, "rotated key accepted: {answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    // The fresh document no longer lists the old key: a token signed with
    // it (one not seen before) is refused.
    let retired = bearer(&common::rs256(
        "rsa-private.pem",
        "test-rsa-1",
        &claims(json!({ "sub": "after-rotation" })),
    ));
    let (status, answer) = mesh_as(&server, &[("authorization", &retired)], query).await;
    assert_eq!(status, 401, "retired key refused: {answer}");
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
