//! What domains learn of the caller, reject mode, usage by consumer.

use super::*;

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
