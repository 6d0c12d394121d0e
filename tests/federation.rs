//! Federation behaviour of the gateway over real async-graphql subgraphs,
//! composed by Meshwork: entities across subgraphs, `@requires`,
//! `@provides`, `@shareable`, `@override`, `@inaccessible`,
//! `@interfaceObject`, interfaces and unions across subgraphs, fragments,
//! aliases, variables, `@include`/`@skip`, a subgraph down, a subgraph
//! timeout.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Interface, Object, Schema,
    SimpleObject, Union, ID,
};
use serde_json::{json, Value};

// ---- catalog: products, media (an entity interface), search (a union) ----

#[derive(SimpleObject, Clone)]
struct Product {
    id: ID,
    #[graphql(shareable)]
    name: String,
    price: i32,
    weight: i32,
    #[graphql(inaccessible)]
    internal_code: String,
    /// Moved to the shipping subgraph with `@override`.
    stock_note: String,
}

fn products() -> Vec<Product> {
    [("p1", "Table", 900, 30), ("p2", "Lamp", 40, 2)]
        .into_iter()
        .map(|(id, name, price, weight)| Product {
            id: id.into(),
            name: name.into(),
            price,
            weight,
            internal_code: format!("X-{id}"),
            stock_note: "from catalog".into(),
        })
        .collect()
}

#[derive(SimpleObject, Clone)]
struct Book {
    id: ID,
    title: String,
    pages: i32,
}

#[derive(SimpleObject, Clone)]
struct Movie {
    id: ID,
    title: String,
    minutes: i32,
}

#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
enum Media {
    Book(Book),
    Movie(Movie),
}

fn media() -> Vec<Media> {
    vec![
        Media::Book(Book {
            id: "m1".into(),
            title: "Dune".into(),
            pages: 412,
        }),
        Media::Movie(Movie {
            id: "m2".into(),
            title: "Alien".into(),
            minutes: 117,
        }),
    ]
}

#[derive(Union)]
enum SearchResult {
    Product(Product),
    Book(Book),
}

struct CatalogQuery;

#[Object(name = "Query")]
impl CatalogQuery {
    async fn products(&self) -> Vec<Product> {
        products()
    }
    /// Nullable items, so a failing field nulls one product, not the list.
    async fn maybe_products(&self) -> Vec<Option<Product>> {
        products().into_iter().map(Some).collect()
    }
    async fn media(&self) -> Vec<Media> {
        media()
    }
    async fn search(&self, term: String) -> Vec<SearchResult> {
        let term = term.to_lowercase();
        let mut out: Vec<SearchResult> = products()
            .into_iter()
            .filter(|p| p.name.to_lowercase().contains(&term))
            .map(SearchResult::Product)
            .collect();
        out.extend(media().into_iter().filter_map(|m| match m {
            Media::Book(b) if b.title.to_lowercase().contains(&term) => Some(SearchResult::Book(b)),
            _ => None,
        }));
        out
    }
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Option<Product> {
        products().into_iter().find(|p| p.id == id)
    }
    #[graphql(entity)]
    async fn find_media_by_id(&self, id: ID) -> Option<Media> {
        media().into_iter().find(|m| match m {
            Media::Book(b) => b.id == id,
            Media::Movie(m) => m.id == id,
        })
    }
    #[graphql(entity)]
    async fn find_book_by_id(&self, id: ID) -> Option<Book> {
        media().into_iter().find_map(|m| match m {
            Media::Book(b) if b.id == id => Some(b),
            _ => None,
        })
    }
    #[graphql(entity)]
    async fn find_movie_by_id(&self, id: ID) -> Option<Movie> {
        media().into_iter().find_map(|m| match m {
            Media::Movie(m) if m.id == id => Some(m),
            _ => None,
        })
    }
}

// ---- shipping: @requires, @override, @interfaceObject, @shareable ----

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct ShippedProduct {
    id: ID,
    #[graphql(shareable)]
    name: String,
    #[graphql(external)]
    weight: Option<i32>,
    #[graphql(override_from = "catalog")]
    stock_note: String,
}

#[ComplexObject]
impl ShippedProduct {
    #[graphql(requires = "weight")]
    async fn shipping_cost(&self) -> Option<i32> {
        self.weight.map(|w| 5 + w * 2)
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Media", interface_object)]
struct RatedMedia {
    id: ID,
    rating: i32,
}

struct ShippingQuery;

#[Object(name = "Query")]
impl ShippingQuery {
    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        #[graphql(key)] id: ID,
        weight: Option<i32>,
    ) -> ShippedProduct {
        let name = products()
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.name)
            .unwrap_or_default();
        ShippedProduct {
            id,
            name,
            weight,
            stock_note: "from shipping".into(),
        }
    }
    #[graphql(entity)]
    async fn find_media_by_id(&self, id: ID) -> RatedMedia {
        let rating = if id.as_str() == "m1" { 5 } else { 4 };
        RatedMedia { id, rating }
    }
}

// ---- reviews: @provides; users ----

#[derive(SimpleObject, Clone)]
#[graphql(name = "User", unresolvable = "id")]
struct ReviewAuthor {
    id: ID,
    #[graphql(external)]
    name: String,
}

#[derive(SimpleObject, Clone)]
struct Review {
    id: ID,
    body: String,
    #[graphql(provides = "name")]
    author: ReviewAuthor,
}

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct ReviewedProduct {
    id: ID,
}

#[ComplexObject]
impl ReviewedProduct {
    async fn reviews(&self) -> Vec<Review> {
        vec![Review {
            id: format!("r-{}", self.id.as_str()).into(),
            body: "Solid".into(),
            author: ReviewAuthor {
                id: "u1".into(),
                name: "Ada".into(),
            },
        }]
    }
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> ReviewedProduct {
        ReviewedProduct { id }
    }
}

#[derive(SimpleObject)]
struct User {
    id: ID,
    name: String,
    email: String,
}

struct UsersQuery;

#[Object(name = "Query")]
impl UsersQuery {
    async fn me(&self) -> User {
        User {
            id: "u1".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
        }
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> User {
        if let Ok(calls) = ctx.data::<Arc<AtomicUsize>>() {
            calls.fetch_add(1, Ordering::SeqCst);
        }
        User {
            id,
            name: "Ada".into(),
            email: "ada@example.com".into(),
        }
    }
}

// ---- inventory (taken down in a test) and a slow subgraph ----

#[derive(SimpleObject)]
#[graphql(name = "Product")]
struct StockedProduct {
    id: ID,
    in_stock: Option<bool>,
    stock_level: i32,
}

struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> StockedProduct {
        StockedProduct {
            in_stock: Some(id.as_str() == "p1"),
            stock_level: 7,
            id,
        }
    }
}

struct SlowQuery;

#[Object(name = "Query")]
impl SlowQuery {
    async fn slow_report(&self) -> Option<String> {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Some("too late".into())
    }
}

fn federated<Q: async_graphql::ObjectType + 'static>(
    query: Q,
) -> Schema<Q, EmptyMutation, EmptySubscription> {
    Schema::build(query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

struct Mesh {
    gateway: common::StaticGateway,
    inventory: domains::Running,
    user_fetches: Arc<AtomicUsize>,
    _subgraphs: Vec<domains::Running>,
}

async fn mesh() -> Mesh {
    let user_fetches = Arc::new(AtomicUsize::new(0));
    let users_schema = Schema::build(UsersQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(user_fetches.clone())
        .finish();
    let started = vec![
        (
            "catalog",
            domains::serve(domains::router(federated(CatalogQuery)))
                .await
                .expect("catalog"),
        ),
        (
            "shipping",
            domains::serve(domains::router(federated(ShippingQuery)))
                .await
                .expect("shipping"),
        ),
        (
            "reviews",
            domains::serve(domains::router(federated(ReviewsQuery)))
                .await
                .expect("reviews"),
        ),
        (
            "users",
            domains::serve(domains::router(users_schema))
                .await
                .expect("users"),
        ),
        (
            "slow",
            domains::serve(domains::router(federated(SlowQuery)))
                .await
                .expect("slow"),
        ),
    ];
    let inventory = domains::serve(domains::router(federated(InventoryQuery)))
        .await
        .expect("inventory");
    let members: Vec<(&str, &str)> = started
        .iter()
        .map(|(name, running)| (*name, running.url.as_str()))
        .chain([("inventory", inventory.url.as_str())])
        .collect();
    let supergraph = common::compose(&members).await;
    let gateway = common::static_gateway(
        &supergraph.sdl,
        Some("traffic_shaping:\n  subgraphs:\n    slow:\n      request_timeout: 500ms\n"),
        &[],
    )
    .await;
    Mesh {
        gateway,
        inventory,
        user_fetches,
        _subgraphs: started.into_iter().map(|(_, r)| r).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_directives_behave_across_subgraphs() {
    let m = mesh().await;
    let s = &m.gateway.server;

    // Entities across four subgraphs, @requires (shippingCost needs weight
    // from catalog), @override (stockNote now from shipping), @shareable name.
    let a = s
        .mesh("{ products { id name stockNote shippingCost inStock reviews { body author { name } } } }", json!({}))
        .await;
    assert_eq!(
        a["data"]["products"][0],
        json!({ "id": "p1", "name": "Table", "stockNote": "from shipping", "shippingCost": 65, "inStock": true,
                "reviews": [{ "body": "Solid", "author": { "name": "Ada" } }] }),
        "{a}"
    );
    // @provides: the author's name came with the review; users was not asked.
    assert_eq!(
        m.user_fetches.load(Ordering::SeqCst),
        0,
        "@provides field fetched from the owning subgraph"
    );
    let a = s
        .mesh("{ products { reviews { author { email } } } }", json!({}))
        .await;
    assert_eq!(
        a["data"]["products"][1]["reviews"][0]["author"]["email"], "ada@example.com",
        "{a}"
    );
    assert!(m.user_fetches.load(Ordering::SeqCst) > 0);

    // @inaccessible: not in the API schema, refused in operations.
    let a = s.mesh("{ products { internalCode } }", json!({})).await;
    assert!(
        a["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("internalCode"),
        "{a}"
    );
    let a = s
        .mesh(
            "{ __type(name: \"Product\") { fields { name } } }",
            json!({}),
        )
        .await;
    assert!(!a.to_string().contains("internalCode"), "{a}");

    // Interfaces across subgraphs and @interfaceObject (rating from shipping).
    let a = s
        .mesh("{ media { __typename id title rating ... on Book { pages } ... on Movie { minutes } } }", json!({}))
        .await;
    assert_eq!(
        a["data"]["media"],
        json!([
            { "__typename": "Book", "id": "m1", "title": "Dune", "rating": 5, "pages": 412 },
            { "__typename": "Movie", "id": "m2", "title": "Alien", "rating": 4, "minutes": 117 }
        ]),
        "{a}"
    );

    // A union whose members get fields from other subgraphs.
    let a = s
        .mesh(r#"{ search(term: "a") { __typename ... on Product { name shippingCost } ... on Book { title rating } } }"#, json!({}))
        .await;
    assert_eq!(
        a["data"]["search"],
        json!([
            { "__typename": "Product", "name": "Table", "shippingCost": 65 },
            { "__typename": "Product", "name": "Lamp", "shippingCost": 9 }
        ]),
        "{a}"
    );
    let a = s
        .mesh(
            r#"{ search(term: "dune") { ... on Book { title rating } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        a["data"]["search"],
        json!([{ "title": "Dune", "rating": 5 }]),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_use_fragments_aliases_variables_and_conditional_directives() {
    let m = mesh().await;
    let query = r#"
        query Shop($withCost: Boolean!, $skipNames: Boolean = false, $term: String!) {
          first: products { ...Basics cost: shippingCost @include(if: $withCost) }
          found: search(term: $term) { ... on Product { ...Basics } }
        }
        fragment Basics on Product { id label: name @skip(if: $skipNames) }
    "#;
    let a = m
        .gateway
        .server
        .mesh(query, json!({ "withCost": true, "term": "lamp" }))
        .await;
    assert_eq!(
        a["data"],
        json!({
            "first": [{ "id": "p1", "label": "Table", "cost": 65 }, { "id": "p2", "label": "Lamp", "cost": 9 }],
            "found": [{ "id": "p2", "label": "Lamp" }]
        }),
        "{a}"
    );
    let a = m
        .gateway
        .server
        .mesh(
            query,
            json!({ "withCost": false, "skipNames": true, "term": "table" }),
        )
        .await;
    assert_eq!(
        a["data"],
        json!({ "first": [{ "id": "p1" }, { "id": "p2" }], "found": [{ "id": "p1" }] }),
        "{a}"
    );
    let a = m.gateway.server.mesh(query, json!({ "term": "x" })).await;
    assert!(
        a["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("withCost"),
        "missing variable: {a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subgraph_down_or_too_slow_gives_partial_data_with_errors_at_their_paths() {
    let m = mesh().await;
    m.inventory.task.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Nullable field: null at its place, the rest of the data stays.
    let a = m
        .gateway
        .server
        .mesh("{ products { name inStock } }", json!({}))
        .await;
    assert_eq!(
        a["data"]["products"],
        json!([{ "name": "Table", "inStock": null }, { "name": "Lamp", "inStock": null }]),
        "{a}"
    );
    // The engine reports which subgraph failed and which part of the
    // response it affects (`affectedPath`, Apollo-style `products.@`).
    let errors = a["errors"].as_array().cloned().unwrap_or_default();
    assert!(!errors.is_empty(), "errors expected: {a}");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["service"] == "inventory"
                && e["extensions"]["affectedPath"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("products"))),
        "errors should name the inventory subgraph and point into products: {a}"
    );

    // Non-null field: the null propagates to the nearest nullable parent.
    let a = m
        .gateway
        .server
        .mesh("{ maybeProducts { name stockLevel } }", json!({}))
        .await;
    assert_eq!(a["data"]["maybeProducts"], json!([null, null]), "{a}");
    assert!(a["errors"].as_array().is_some_and(|e| !e.is_empty()));

    // A subgraph slower than its configured timeout: null and an error, fast.
    let started = Instant::now();
    let a = m
        .gateway
        .server
        .mesh("{ slowReport products { id } }", json!({}))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "timeout not applied: {:?}",
        started.elapsed()
    );
    assert_eq!(a["data"]["slowReport"], Value::Null, "{a}");
    assert_eq!(
        a["data"]["products"][0]["id"], "p1",
        "other root fields still answer: {a}"
    );
    assert_eq!(
        a["errors"][0]["extensions"]["code"], "SUBGRAPH_REQUEST_TIMEOUT",
        "{a}"
    );
}
