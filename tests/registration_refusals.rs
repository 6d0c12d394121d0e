//! Every bad registration or update is refused with a message naming the
//! field and the reason, and leaves every catalog table exactly as it was.

mod common;

use common::{databases, problems, register, spec, table_contents, Server, REGISTER};
use serde_json::{json, Value};

const UPDATE: &str = "mutation($name: String!, $patch: DomainPatch!) { updateDomain(name: $name, patch: $patch) { name } }";

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

#[tokio::test]
async fn bad_inputs_are_refused_with_their_reason_and_change_nothing() {
    for db in databases().await {
        let server = Server::start(&db.url);
        register(&server, spec("customers")).await;
        register(
            &server,
            with(spec("orders"), "inputs", json!([{ "name": "customers" }])),
        )
        .await;
        register(
            &server,
            with(spec("billing"), "inputs", json!([{ "name": "orders" }])),
        )
        .await;
        let before = table_contents(&db.url).await;

        let registrations: Vec<(&str, Value, &str, &str, &str)> = vec![
            (
                "bad slug",
                spec("Orders_2024"),
                "name",
                "BAD_SLUG",
                "lower-case letter",
            ),
            (
                "duplicate name",
                spec("orders"),
                "name",
                "DUPLICATE_NAME",
                "already registered",
            ),
            (
                "unknown upstream",
                with(spec("shipping"), "inputs", json!([{ "name": "warehouse" }])),
                "inputs[0].name",
                "UNKNOWN_UPSTREAM",
                "no domain named `warehouse`",
            ),
            (
                "URL not http(s)",
                with(
                    spec("shipping"),
                    "apiUrl",
                    json!("ftp://shipping.internal/graphql"),
                ),
                "apiUrl",
                "BAD_URL",
                "http or https",
            ),
            (
                "self input",
                with(spec("shipping"), "inputs", json!([{ "name": "shipping" }])),
                "inputs[0].name",
                "LINEAGE_CYCLE",
                "input of itself",
            ),
            (
                "malformed SLO JSON",
                with(
                    spec("shipping"),
                    "slos",
                    json!([{ "name": "availability", "target": "high", "window": "30d" }]),
                ),
                "slos[0].target",
                "MALFORMED_JSON",
                "invalid type",
            ),
            (
                "malformed quality JSON",
                with(
                    spec("shipping"),
                    "qualityIndicators",
                    json!({ "completeness": 99 }),
                ),
                "qualityIndicators",
                "MALFORMED_JSON",
                "expected a sequence",
            ),
            (
                "SLO target out of range",
                with(
                    spec("shipping"),
                    "slos",
                    json!([{ "name": "availability", "target": 120, "window": "30d" }]),
                ),
                "slos[0].target",
                "OUT_OF_RANGE",
                "percentage",
            ),
            (
                "empty owner",
                with(spec("shipping"), "ownerTeam", json!("  ")),
                "ownerTeam",
                "REQUIRED",
                "must not be empty",
            ),
            (
                "REST domain without OpenAPI document",
                with(spec("shipping"), "kind", json!("REST")),
                "schemaEndpoint",
                "REQUIRED",
                "OpenAPI",
            ),
        ];
        for (case, input, field, code, reason) in registrations {
            let response = server.graphql(REGISTER, json!({ "spec": input })).await;
            let found = problems(&response);
            assert!(
                found
                    .iter()
                    .any(|(f, c, r)| f == field && c == code && r.contains(reason)),
                "[{}] {case}: expected {field} {code} `{reason}`, got {found:?}",
                db.label
            );
            assert_eq!(response["data"], Value::Null, "[{}] {case}", db.label);
        }

        // A cycle through history: billing reads orders reads customers.
        let response = server
            .graphql(
                UPDATE,
                json!({ "name": "customers", "patch": { "inputs": [{ "name": "billing" }] } }),
            )
            .await;
        let found = problems(&response);
        assert_eq!(found[0].0, "inputs[0].name", "[{}]", db.label);
        assert_eq!(found[0].1, "LINEAGE_CYCLE");
        assert!(
            found[0].2.contains("customers -> orders -> billing"),
            "{found:?}"
        );

        // Several problems are reported together.
        let response = server
            .graphql(
                REGISTER,
                json!({ "spec": { "name": "x", "ownerTeam": "", "contact": "c", "apiUrl": "nope" } }),
            )
            .await;
        let fields: Vec<_> = problems(&response).into_iter().map(|p| p.0).collect();
        assert_eq!(fields, ["name", "ownerTeam", "apiUrl"], "[{}]", db.label);

        // Unknown targets and bad pagination.
        let response = server
            .graphql(
                UPDATE,
                json!({ "name": "nowhere", "patch": { "description": "x" } }),
            )
            .await;
        assert_eq!(response["errors"][0]["extensions"]["code"], "NOT_FOUND");
        assert!(response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`nowhere`"));
        let response = server
            .graphql(
                "mutation { deregisterDomain(name: \"nowhere\") { name } }",
                json!({}),
            )
            .await;
        assert_eq!(response["errors"][0]["extensions"]["code"], "NOT_FOUND");
        let response = server
            .graphql("{ domains(first: 1000) { nodes { name } } }", json!({}))
            .await;
        assert_eq!(problems(&response)[0].0, "first");
        let response = server
            .graphql("{ domains(after: \"%%%\") { nodes { name } } }", json!({}))
            .await;
        assert_eq!(problems(&response)[0].0, "after");

        assert_eq!(
            table_contents(&db.url).await,
            before,
            "[{}] tables changed",
            db.label
        );
    }
}

#[tokio::test]
async fn a_bad_update_keeps_the_domain_as_it_was() {
    for db in databases().await {
        let server = Server::start(&db.url);
        register(&server, spec("orders")).await;
        let before = table_contents(&db.url).await;
        let response = server
            .graphql(
                UPDATE,
                json!({ "name": "orders", "patch": { "description": "new text", "tags": ["ok", "Not OK"] } }),
            )
            .await;
        assert_eq!(problems(&response)[0].0, "tags[1]", "[{}]", db.label);
        assert_eq!(table_contents(&db.url).await, before, "[{}]", db.label);
    }
}
