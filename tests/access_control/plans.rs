//! Plans: a consumer's limits and a domain's own plan.

use super::*;

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
