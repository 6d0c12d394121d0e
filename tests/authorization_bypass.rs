//! Replays of authorization bypasses reported against other gateways, on
//! Meshwork: catalog field policies compiled into the supergraph, a static
//! gateway authenticating from an access snapshot file (`--access`), real
//! async-graphql subgraphs.

mod common;

use common::codes;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Interface, Object, Schema,
    SimpleObject, ID,
};
use serde_json::{json, Value};

const SECRET: &str = "bypass-test-secret-0123456789abcdef";

// ---- ledger: an interface whose field is protected; a protected cost ----

#[derive(SimpleObject, Clone)]
struct Personal {
    id: ID,
    holder: String,
    balance: i32,
    /// Protected by a field policy (`hr`).
    private_note: Option<String>,
}

#[derive(SimpleObject, Clone)]
struct Business {
    id: ID,
    holder: String,
    balance: i32,
    motto: Option<String>,
}

#[derive(Interface, Clone)]
#[graphql(
    field(name = "id", ty = "&ID"),
    field(name = "holder", ty = "&String"),
    field(name = "balance", ty = "&i32")
)]
enum Account {
    Personal(Personal),
    Business(Business),
}

#[derive(SimpleObject, Clone)]
struct Product {
    id: ID,
    name: String,
    /// Protected by a field policy (`finance`).
    cost: i32,
}

#[derive(SimpleObject, Clone)]
struct Profile {
    name: String,
    /// Protected by a field policy (`hr`), non-null in the domain's schema.
    ssn: String,
}

#[derive(SimpleObject, Clone)]
struct User {
    id: ID,
    profile: Profile,
}

struct LedgerQuery;

#[Object(name = "Query")]
impl LedgerQuery {
    async fn accounts(&self) -> Vec<Account> {
        vec![
            Account::Personal(Personal {
                id: "a1".into(),
                holder: "Ada".into(),
                balance: 100,
                private_note: Some("ada-secret-note".into()),
            }),
            Account::Business(Business {
                id: "a2".into(),
                holder: "Acme".into(),
                balance: 9000,
                motto: Some("Acme builds".into()),
            }),
        ]
    }
    async fn products(&self) -> Vec<Product> {
        vec![Product {
            id: "p1".into(),
            name: "Table".into(),
            cost: 600,
        }]
    }
    async fn me(&self) -> Option<User> {
        Some(User {
            id: "u1".into(),
            profile: Profile {
                name: "Grace".into(),
                ssn: "123-45-6789".into(),
            },
        })
    }
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Option<Product> {
        (id.as_str() == "p1").then(|| Product {
            id,
            name: "Table".into(),
            cost: 600,
        })
    }
}

// ---- pricing: computes a margin from the protected cost via @requires ----

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct PricedProduct {
    id: ID,
    #[graphql(external)]
    cost: Option<i32>,
}

#[ComplexObject]
impl PricedProduct {
    #[graphql(requires = "cost")]
    async fn margin(&self, ctx: &Context<'_>) -> Option<i32> {
        if self.cost.is_some() {
            if let Ok(seen) = ctx.data::<Arc<AtomicUsize>>() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.cost.map(|c| 900 - c)
    }
}

struct PricingQuery;

#[Object(name = "Query")]
impl PricingQuery {
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID, cost: Option<i32>) -> PricedProduct {
        PricedProduct { id, cost }
    }
}

fn token(scope: &str) -> String {
    common::hs256(
        SECRET,
        json!({ "iss": "https://idp.test", "sub": "tester", "exp": common::now() + 600 }),
        json!({ "scope": scope }),
    )
}

async fn ask(base: &str, scope: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token(scope))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON")
}

/// The SDL a domain team would write to put `@policy` on a field.
fn with_policy_on_business_holder(sdl: &str) -> String {
    let mut out = String::new();
    let mut in_business = false;
    for line in sdl.lines() {
        let mut line = line.to_string();
        if line.starts_with("type Business") {
            in_business = true;
        } else if line.starts_with('}') {
            in_business = false;
        }
        if in_business && line.trim_start().starts_with("holder: String!") {
            line = line.replacen(
                "holder: String!",
                "holder: String! @policy(policies: [[\"audit\"]])",
                1,
            );
        }
        out.push_str(&line);
        out.push('\n');
    }
    // Import `@policy` (federation 2.6) next to the directives already used.
    let mut out = out.replacen("import: [\"@key\"", "import: [\"@policy\", \"@key\"", 1);
    for minor in 0..6 {
        out = out.replace(&format!("federation/v2.{minor}\""), "federation/v2.6\"");
    }
    assert!(
        out.contains("federation/v2.6")
            && out.contains("\"@policy\"")
            && out.contains("@policy(policies"),
        "policy added: {}",
        &out[out.find("extend schema").unwrap_or(0)..]
    );
    out
}

struct Mesh {
    gateway: common::StaticGateway,
    cost_seen_by_pricing: Arc<AtomicUsize>,
    _subgraphs: Vec<domains::Running>,
    _dir: tempfile::TempDir,
}

async fn mesh() -> Mesh {
    let seen = Arc::new(AtomicUsize::new(0));
    let ledger = domains::serve(domains::router(
        Schema::build(LedgerQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    ))
    .await
    .expect("ledger");
    let pricing = domains::serve(domains::router(
        Schema::build(PricingQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .data(seen.clone())
            .finish(),
    ))
    .await
    .expect("pricing");
    // The ledger domain protects `Business.holder` with its own `@policy`.
    let ledger_sdl = common::subgraph_sdl(&ledger.url).await;
    let ledger_sdl = with_policy_on_business_holder(&ledger_sdl);
    let supergraph = composition::compose(&[
        composition::Subgraph {
            name: "ledger".into(),
            url: ledger.url.clone(),
            sdl: ledger_sdl,
        },
        composition::Subgraph {
            name: "pricing".into(),
            url: pricing.url.clone(),
            sdl: common::subgraph_sdl(&pricing.url).await,
        },
    ])
    .expect("composes");
    let rules = composition::AccessRules {
        restricted: Default::default(),
        field_policies: vec![
            ("Account.balance".into(), vec![vec!["finance".into()]]),
            ("Product.cost".into(), vec![vec!["finance".into()]]),
            ("Profile.ssn".into(), vec![vec!["hr".into()]]),
            ("Personal.privateNote".into(), vec![vec!["hr".into()]]),
        ],
        admin_scope: "mesh:admin".into(),
    };
    let secured = composition::apply_access(&supergraph.sdl, &rules).expect("rules apply");
    let dir = tempfile::tempdir().expect("dir");
    let access = dir.path().join("access.json");
    std::fs::write(
        &access,
        json!({
            "issuers": [{
                "name": "idp", "issuer": "https://idp.test", "audiences": [], "algorithm": "HS256",
                "secret": SECRET, "publicKeys": null, "jwksUrl": null, "subjectClaim": "sub",
                "consumerClaim": "azp", "scopesClaim": "scope", "teamsClaim": "groups"
            }],
            "apiKeys": [],
            "consumers": []
        })
        .to_string(),
    )
    .expect("write access file");
    let access = access.to_string_lossy().into_owned();
    let gateway = common::static_gateway(&secured, None, &["--access", &access]).await;
    Mesh {
        gateway,
        cost_seen_by_pricing: seen,
        _subgraphs: vec![ledger, pricing],
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_fields_cannot_be_reached_by_side_doors() {
    let mesh = mesh().await;
    let base = &mesh.gateway.server.base;

    // 1. A field protected on an interface, selected through a concrete
    //    type's fragment (GHSA-mx7m-j9xf-62hw pattern).
    let concrete = "{ accounts { id ... on Personal { balance } ... on Business { balance } } }";
    let answer = ask(base, "", concrete).await;
    assert!(
        codes(&answer)
            .iter()
            .all(|c| c == "UNAUTHORIZED_FIELD_OR_TYPE")
            && !codes(&answer).is_empty(),
        "{answer}"
    );
    assert!(
        !answer.to_string().contains("9000"),
        "balance leaked: {answer}"
    );
    assert!(
        !answer.to_string().contains("100"),
        "balance leaked: {answer}"
    );
    let allowed = ask(base, "finance", concrete).await;
    assert!(allowed.get("errors").is_none(), "{allowed}");
    assert_eq!(allowed["data"]["accounts"][1]["balance"], 9000);

    // 2. A protected field pulled in through @requires (GHSA-m8jr-fxqx-8xx6
    //    pattern): the dependent field is refused and the protected value
    //    never reaches the other subgraph.
    let requires = "{ products { name margin } }";
    let answer = ask(base, "", requires).await;
    assert_eq!(codes(&answer), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{answer}");
    assert_eq!(answer["data"]["products"][0]["name"], "Table", "{answer}");
    assert!(
        answer["data"]["products"][0]["margin"].is_null(),
        "{answer}"
    );
    assert_eq!(mesh.cost_seen_by_pricing.load(Ordering::SeqCst), 0);
    let allowed = ask(base, "finance", requires).await;
    assert_eq!(allowed["data"]["products"][0]["margin"], 300, "{allowed}");

    // 3. An authorized field is not lost because a sibling fragment under
    //    the same response key selects a refused one, even a non-null one
    //    under a non-null parent (Meshwork serves protected fields as
    //    nullable, so the refusal stops at the field).
    let siblings = "{ me { id ...A ...B } } fragment A on User { profile { name } } fragment B on User { profile { ssn } }";
    let answer = ask(base, "", siblings).await;
    assert_eq!(codes(&answer), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{answer}");
    assert!(
        !answer.to_string().contains("123-45"),
        "ssn leaked: {answer}"
    );
    assert_eq!(
        answer["data"]["me"]["profile"]["name"], "Grace",
        "authorized data lost: {answer}"
    );
    assert!(answer["data"]["me"]["profile"]["ssn"].is_null(), "{answer}");
    let allowed = ask(base, "hr", siblings).await;
    assert_eq!(
        allowed["data"]["me"]["profile"]["ssn"], "123-45-6789",
        "{allowed}"
    );

    // 4. Sibling fragments on different types under one response key: the
    //    refused one (Personal.privateNote) must not null the authorized
    //    one (Business.motto).
    let same_key = "{ accounts { id ... on Personal { label: privateNote } ... on Business { label: motto } } }";
    let answer = ask(base, "", same_key).await;
    assert_eq!(codes(&answer), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{answer}");
    assert!(
        !answer.to_string().contains("ada-secret"),
        "note leaked: {answer}"
    );
    assert!(answer["data"]["accounts"][0]["label"].is_null(), "{answer}");
    assert_eq!(
        answer["data"]["accounts"][1]["label"], "Acme builds",
        "authorized data lost: {answer}"
    );
    let allowed_same_key = ask(base, "hr", same_key).await;
    assert_eq!(
        allowed_same_key["data"]["accounts"][0]["label"], "ada-secret-note",
        "{allowed_same_key}"
    );
    assert_eq!(
        allowed_same_key["data"]["accounts"][1]["label"], "Acme builds",
        "{allowed_same_key}"
    );

    // 5. A domain's own `@policy`: granted to callers holding a scope of
    //    the policy's name, refused (null + error) to everyone else, also
    //    through the interface.
    let holders = "{ accounts { holder } }";
    let answer = ask(base, "finance", holders).await;
    assert_eq!(codes(&answer), ["UNAUTHORIZED_FIELD_OR_TYPE"], "{answer}");
    assert!(
        !answer.to_string().contains("Acme"),
        "holder leaked: {answer}"
    );
    let allowed = ask(base, "audit", holders).await;
    assert!(allowed.get("errors").is_none(), "{allowed}");
    assert_eq!(
        allowed["data"]["accounts"][1]["holder"], "Acme",
        "{allowed}"
    );
    // The policy is granted from verified scopes only: a client's own
    // `x-meshwork-scopes`, on the plain path or a disguised one, grants
    // nothing.
    for path in ["/graphql", "/%67raphql", "/graphql/"] {
        let spoofed: Value = reqwest::Client::new()
            .post(format!("{base}{path}"))
            .bearer_auth(token("finance"))
            .header("x-meshwork-scopes", "audit")
            .json(&json!({ "query": holders }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .unwrap_or(Value::Null);
        assert!(
            !spoofed.to_string().contains("Acme"),
            "{path}: a spoofed scope granted @policy: {spoofed}"
        );
    }
}
