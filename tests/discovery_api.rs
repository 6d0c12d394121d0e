//! The discovery API as consumers use it: search, filters, stable pages,
//! schema versions, deregistration history, audit, health and GraphiQL.

mod common;

use catalog::Catalog;
use common::{databases, register, spec, Server};
use serde_json::{json, Value};

fn names(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

const SEARCH: &str = "query($filter: DomainFilter!, $first: Int, $after: String) { \
    domains(filter: $filter, first: $first, after: $after) { \
      totalCount nodes { name } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn search_filters_and_pages_stay_stable_while_domains_are_added() {
    for db in databases().await {
        let server = Server::start(&db.url);
        for i in 0..25 {
            let mut s = spec(&format!("domain-{i:02}"));
            s["ownerTeam"] = json!(if i % 2 == 0 { "even-team" } else { "odd-team" });
            s["tags"] = json!(if i % 5 == 0 {
                vec!["gold"]
            } else {
                vec!["silver"]
            });
            s["model"] = json!(if i < 3 { "STRICT" } else { "OPEN" });
            s["description"] = json!(format!(
                "Data product number {i}{}",
                if i == 7 {
                    " with Shipment tracking"
                } else {
                    ""
                }
            ));
            if i == 11 {
                s["kind"] = json!("REST");
                s["schemaEndpoint"] = json!("http://127.0.0.1:1/openapi.json");
            }
            register(&server, s).await;
        }
        let search = |filter: Value| {
            let server = &server;
            async move {
                let r = server
                    .graphql(SEARCH, json!({ "filter": filter, "first": 100 }))
                    .await;
                assert!(r.get("errors").is_none(), "{r}");
                names(&r["data"]["domains"]["nodes"])
            }
        };
        assert_eq!(
            search(json!({ "text": "shipment TRACKING" })).await,
            ["domain-07"],
            "[{}]",
            db.label
        );
        assert_eq!(
            search(json!({ "text": "tracking nothing" })).await,
            Vec::<String>::new()
        );
        assert_eq!(
            search(json!({ "text": "100%" })).await,
            Vec::<String>::new(),
            "LIKE wildcards are literal"
        );
        assert_eq!(
            search(json!({ "tag": "gold" })).await,
            [
                "domain-00",
                "domain-05",
                "domain-10",
                "domain-15",
                "domain-20"
            ]
        );
        assert_eq!(
            search(json!({ "model": "STRICT" })).await,
            ["domain-00", "domain-01", "domain-02"]
        );
        assert_eq!(search(json!({ "kind": "REST" })).await, ["domain-11"]);
        assert_eq!(
            search(json!({ "ownerTeam": "odd-team", "tag": "gold" })).await,
            ["domain-05", "domain-15"]
        );

        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let r = server
                .graphql(SEARCH, json!({ "filter": {}, "first": 10, "after": after }))
                .await;
            let page = &r["data"]["domains"];
            assert_eq!(
                page["totalCount"],
                if pages == 0 { 25 } else { 26 },
                "[{}] {r}",
                db.label
            );
            seen.extend(names(&page["nodes"]));
            pages += 1;
            if pages == 1 {
                // A domain added before the cursor must not shift later pages.
                register(&server, spec("aaa-newcomer")).await;
            }
            if page["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let expected: Vec<String> = (0..25).map(|i| format!("domain-{i:02}")).collect();
        assert_eq!(seen, expected, "[{}]", db.label);
        assert_eq!(pages, 3);
    }
}

#[tokio::test]
async fn schema_versions_are_kept_once_per_content_and_their_fields_are_searchable() {
    for db in databases().await {
        let server = Server::start(&db.url);
        register(&server, spec("orders")).await;
        let catalog = Catalog::open(&db.url).await.expect("open catalog");
        let v1 = "type Query { orders: [Order] }\ntype Order { id: ID! totalAmount: Float }";
        let v2 = "type Query { orders: [Order] }\ntype Order { id: ID! totalAmount: Float deliveryWindow: String }";
        let url = "http://127.0.0.1:1/orders/graphql";
        assert!(
            catalog
                .record_schema_version("poller", "orders", v1, url, None)
                .await
                .expect("v1")
                .is_new
        );
        assert!(
            !catalog
                .record_schema_version("poller", "orders", v1, url, None)
                .await
                .expect("v1 again")
                .is_new
        );
        assert!(
            catalog
                .record_schema_version("poller", "orders", v2, url, None)
                .await
                .expect("v2")
                .is_new
        );

        let r = server
            .graphql(SEARCH, json!({ "filter": { "text": "deliverywindow" } }))
            .await;
        assert_eq!(
            names(&r["data"]["domains"]["nodes"]),
            ["orders"],
            "[{}] {r}",
            db.label
        );

        let r = server
            .graphql(
                "{ domain(name: \"orders\") { latestSchemaVersion { hash document } schemaVersions { hash } } }",
                json!({}),
            )
            .await;
        let d = &r["data"]["domain"];
        assert_eq!(d["latestSchemaVersion"]["document"], v2, "[{}]", db.label);
        assert_eq!(d["schemaVersions"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            d["schemaVersions"][0]["hash"],
            d["latestSchemaVersion"]["hash"]
        );

        // Field names stay searchable after an unrelated update.
        let r = server
            .graphql(
                "mutation { updateDomain(name: \"orders\", patch: { description: \"Orders\" }) { name } }",
                json!({}),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        let r = server
            .graphql(SEARCH, json!({ "filter": { "text": "totalamount" } }))
            .await;
        assert_eq!(
            names(&r["data"]["domains"]["nodes"]),
            ["orders"],
            "[{}]",
            db.label
        );
    }
}

#[tokio::test]
async fn deregistered_domains_leave_listings_but_keep_their_history() {
    for db in databases().await {
        let server = Server::start(&db.url);
        register(&server, spec("customers")).await;
        let mut orders = spec("orders");
        orders["inputs"] = json!([{ "name": "customers", "description": "buyers" }]);
        register(&server, orders).await;

        let r = server
            .graphql_as(
                "alice",
                "mutation { deregisterDomain(name: \"customers\") { status } }",
                json!({}),
            )
            .await;
        assert_eq!(
            r["data"]["deregisterDomain"]["status"], "DEREGISTERED",
            "[{}] {r}",
            db.label
        );

        let r = server.graphql(SEARCH, json!({ "filter": {} })).await;
        assert_eq!(names(&r["data"]["domains"]["nodes"]), ["orders"]);
        let r = server
            .graphql(SEARCH, json!({ "filter": { "includeDeregistered": true } }))
            .await;
        assert_eq!(
            names(&r["data"]["domains"]["nodes"]),
            ["customers", "orders"]
        );

        let r = server
            .graphql(
                "{ lineage(name: \"orders\", direction: UPSTREAM) { edges { upstream { name domain { status } } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            r["data"]["lineage"]["edges"][0]["upstream"]["name"], "customers",
            "{r}"
        );
        assert_eq!(
            r["data"]["lineage"]["edges"][0]["upstream"]["domain"]["status"],
            "DEREGISTERED"
        );

        let r = server
            .graphql(
                "mutation { updateDomain(name: \"customers\", patch: { description: \"x\" }) { name } }",
                json!({}),
            )
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "DEREGISTERED");
        let mut billing = spec("billing");
        billing["inputs"] = json!([{ "name": "customers" }]);
        let r = server
            .graphql(common::REGISTER, json!({ "spec": billing }))
            .await;
        assert_eq!(
            common::problems(&r)[0].2,
            "domain `customers` is deregistered"
        );

        let mut again = spec("customers");
        again["description"] = json!("back again");
        let r = server
            .graphql_as("bob", common::REGISTER, json!({ "spec": again }))
            .await;
        assert_eq!(r["data"]["registerDomain"]["status"], "ACTIVE", "{r}");

        let r = server
            .graphql(
                "{ auditLog(filter: { target: \"domain:customers\" }) { nodes { actor action before after } } }",
                json!({}),
            )
            .await;
        let entries = r["data"]["auditLog"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let trail: Vec<(String, String)> = entries
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap_or_default().into(),
                    e["action"].as_str().unwrap_or_default().into(),
                )
            })
            .collect();
        assert_eq!(
            trail,
            [
                ("bob".to_string(), "domain.reregister".to_string()),
                ("alice".to_string(), "domain.deregister".to_string()),
                ("test".to_string(), "domain.register".to_string()),
            ],
            "[{}]",
            db.label
        );
        assert_eq!(entries[0]["before"]["status"], "deregistered");
        assert_eq!(entries[0]["after"]["description"], "back again");
        assert_eq!(entries[1]["before"]["status"], "active");
        assert_eq!(entries[2]["before"], Value::Null);
    }
}

#[tokio::test]
async fn updates_change_only_the_given_fields_and_are_audited() {
    for db in databases().await {
        let server = Server::start(&db.url);
        let mut s = spec("orders");
        s["tags"] = json!(["sales"]);
        s["slos"] = json!([{ "name": "availability", "target": 99.5, "window": "30d" }]);
        register(&server, s).await;
        let r = server
            .graphql_as(
                "carol",
                "mutation { updateDomain(name: \"orders\", patch: { description: \"All orders\", tags: [\"sales\", \"core\"] }) { \
                   description tags ownerTeam slos { name target window } } }",
                json!({}),
            )
            .await;
        let d = &r["data"]["updateDomain"];
        assert_eq!(d["description"], "All orders", "[{}] {r}", db.label);
        assert_eq!(d["tags"], json!(["core", "sales"]));
        assert_eq!(d["ownerTeam"], "team-a");
        assert_eq!(
            d["slos"],
            json!([{ "name": "availability", "target": 99.5, "window": "30d" }])
        );

        let r = server
            .graphql("{ auditLog(filter: { action: \"domain.update\" }) { nodes { actor target before after } } }", json!({}))
            .await;
        let e = &r["data"]["auditLog"]["nodes"][0];
        assert_eq!(e["actor"], "carol");
        assert_eq!(e["target"], "domain:orders");
        assert_eq!(e["before"]["description"], "");
        assert_eq!(e["after"]["description"], "All orders");
    }
}

#[tokio::test]
async fn health_readiness_graphiql_and_get_queries_share_one_origin() {
    for db in databases().await {
        let server = Server::start(&db.url);
        let http = reqwest::Client::new();
        let health = http
            .get(format!("{}/health", server.base))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200);
        let ready = http
            .get(format!("{}/ready", server.base))
            .send()
            .await
            .expect("ready");
        assert_eq!(ready.status(), 200, "[{}]", db.label);

        // The address itself says where to go: the mesh and the catalog.
        let home = http
            .get(format!("{}/", server.base))
            .send()
            .await
            .expect("home");
        assert_eq!(home.status(), 200, "[{}]", db.label);
        let home = home.text().await.unwrap_or_default();
        assert!(
            home.contains(r#"href="/graphql""#) && home.contains(r#"href="/catalog/graphql""#),
            "{home}"
        );

        let page = http
            .get(format!("{}/catalog/graphql", server.base))
            .header("accept", "text/html")
            .send()
            .await
            .expect("graphiql");
        assert_eq!(page.status(), 200);
        assert!(page
            .text()
            .await
            .unwrap_or_default()
            .to_lowercase()
            .contains("graphiql"));

        let r: Value = http
            .get(format!("{}/catalog/graphql", server.base))
            .query(&[("query", "{ domains { totalCount } }")])
            .header("x-meshwork-csrf", "1")
            .send()
            .await
            .expect("GET query")
            .json()
            .await
            .expect("JSON");
        assert_eq!(r["data"]["domains"]["totalCount"], 0, "{r}");
        // A plain GET is what any web page can make a browser send: it
        // needs a preflight header, like /graphql.
        let plain = http
            .get(format!("{}/catalog/graphql", server.base))
            .query(&[("query", "{ domains { totalCount } }")])
            .send()
            .await
            .expect("GET query");
        assert_eq!(plain.status(), 400);
    }
}
