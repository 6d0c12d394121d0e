//! Grants: requested, approved, expiring, on some fields; field policies; a restricted REST domain.

use super::*;

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
