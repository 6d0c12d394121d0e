//! Replicas and control planes sharing one database follow the access snapshot.

use super::*;

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
