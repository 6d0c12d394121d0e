//! The four subgraphs of The Guild's public gateways benchmark (accounts,
//! inventory, products, reviews), with the data set read out of the
//! benchmark's expected answer (`bench/fixtures/expected-response.json`), so
//! a gateway over them must return that document exactly.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID,
};
use axum::Router;
use serde_json::Value;

const EXPECTED: &str = include_str!("../../bench/fixtures/expected-response.json");

#[derive(Default)]
struct Data {
    users: BTreeMap<String, UserRow>,
    products: BTreeMap<String, ProductRow>,
    reviews: BTreeMap<String, ReviewRow>,
    top_products: Vec<String>,
    user_order: Vec<String>,
}

#[derive(Default, Clone)]
struct UserRow {
    name: Option<String>,
    username: Option<String>,
    reviews: Vec<String>,
}

#[derive(Default, Clone)]
struct ProductRow {
    name: Option<String>,
    price: Option<i32>,
    weight: Option<i32>,
    in_stock: Option<bool>,
    reviews: Vec<String>,
}

#[derive(Default, Clone)]
struct ReviewRow {
    body: Option<String>,
    product: Option<String>,
    author: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn int(v: &Value, key: &str) -> Option<i32> {
    v.get(key)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

fn ids(v: &Value, key: &str, id: &str) -> Option<Vec<String>> {
    v.get(key)?
        .as_array()
        .map(|items| items.iter().filter_map(|i| text(i, id)).collect())
}

impl Data {
    fn user(&mut self, u: &Value) {
        let Some(id) = text(u, "id") else { return };
        let row = self.users.entry(id).or_default();
        row.name = text(u, "name").or(row.name.take());
        row.username = text(u, "username").or(row.username.take());
        if let Some(reviews) = ids(u, "reviews", "id") {
            row.reviews = reviews;
        }
        for r in u
            .get("reviews")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.review(r);
        }
    }

    fn product(&mut self, p: &Value) {
        let Some(upc) = text(p, "upc") else { return };
        let row = self.products.entry(upc).or_default();
        row.name = text(p, "name").or(row.name.take());
        row.price = int(p, "price").or(row.price);
        row.weight = int(p, "weight").or(row.weight);
        row.in_stock = p.get("inStock").and_then(Value::as_bool).or(row.in_stock);
        if let Some(reviews) = ids(p, "reviews", "id") {
            row.reviews = reviews;
        }
        for r in p
            .get("reviews")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.review(r);
        }
    }

    fn review(&mut self, r: &Value) {
        let Some(id) = text(r, "id") else { return };
        let row = self.reviews.entry(id).or_default();
        row.body = text(r, "body").or(row.body.take());
        if let Some(p) = r.get("product") {
            row.product = text(p, "upc").or(row.product.take());
        }
        if let Some(a) = r.get("author") {
            row.author = text(a, "id").or(row.author.take());
        }
        if let Some(p) = r.get("product") {
            self.product(p);
        }
        if let Some(a) = r.get("author") {
            self.user(a);
        }
    }
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut data = Data::default();
        let expected: Value = serde_json::from_str(EXPECTED).unwrap_or(Value::Null);
        let root = &expected["data"];
        for u in root["users"].as_array().into_iter().flatten() {
            data.user_order.extend(text(u, "id"));
            data.user(u);
        }
        for p in root["topProducts"].as_array().into_iter().flatten() {
            data.top_products.extend(text(p, "upc"));
            data.product(p);
        }
        data
    })
}

// ---- accounts ----

#[derive(SimpleObject)]
#[graphql(name = "User")]
struct Account {
    id: ID,
    name: Option<String>,
    username: Option<String>,
    birthday: Option<i32>,
}

fn account(id: &str) -> Option<Account> {
    data().users.get(id).map(|u| Account {
        id: ID::from(id),
        name: u.name.clone(),
        username: u.username.clone(),
        birthday: None,
    })
}

struct AccountsQuery;

#[Object(name = "Query")]
impl AccountsQuery {
    async fn me(&self) -> Option<Account> {
        account("1")
    }
    async fn user(&self, id: ID) -> Option<Account> {
        account(&id)
    }
    async fn users(&self) -> Option<Vec<Option<Account>>> {
        Some(data().user_order.iter().map(|id| account(id)).collect())
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<Account> {
        account(&id)
    }
}

/// Users.
pub fn accounts() -> Router {
    crate::router(
        Schema::build(AccountsQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

// ---- products ----

#[derive(SimpleObject)]
#[graphql(name = "Product")]
struct CatalogProduct {
    upc: String,
    name: Option<String>,
    price: Option<i32>,
    weight: Option<i32>,
}

fn catalog_product(upc: &str) -> Option<CatalogProduct> {
    data().products.get(upc).map(|p| CatalogProduct {
        upc: upc.to_string(),
        name: p.name.clone(),
        price: p.price,
        weight: p.weight,
    })
}

struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(
        &self,
        #[graphql(default = 5)] first: i32,
    ) -> Option<Vec<Option<CatalogProduct>>> {
        let first = usize::try_from(first).unwrap_or(0);
        Some(
            data()
                .top_products
                .iter()
                .take(first)
                .map(|upc| catalog_product(upc))
                .collect(),
        )
    }
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<CatalogProduct> {
        catalog_product(&upc)
    }
}

/// The product catalog.
pub fn products() -> Router {
    crate::router(
        Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

// ---- inventory ----

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct StockedProduct {
    upc: String,
    #[graphql(external)]
    weight: Option<i32>,
    #[graphql(external)]
    price: Option<i32>,
    in_stock: Option<bool>,
}

#[ComplexObject]
impl StockedProduct {
    /// Needs price and weight from the products subgraph (`@requires`); the
    /// benchmark's data set answers null.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Option<i32> {
        None
    }
}

struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> Option<StockedProduct> {
        data().products.get(&upc).map(|p| StockedProduct {
            upc,
            weight,
            price,
            in_stock: p.in_stock,
        })
    }
}

/// Stock of each product.
pub fn inventory() -> Router {
    crate::router(
        Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

// ---- reviews ----

#[derive(SimpleObject)]
#[graphql(name = "Review", complex)]
struct Review {
    id: ID,
    body: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "User", complex)]
struct Reviewer {
    id: ID,
    #[graphql(external)]
    username: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "Product", complex)]
struct ReviewedProduct {
    upc: String,
}

fn review(id: &str) -> Option<Review> {
    data().reviews.get(id).map(|r| Review {
        id: ID::from(id),
        body: r.body.clone(),
    })
}

fn reviews(ids: &[String]) -> Option<Vec<Option<Review>>> {
    Some(ids.iter().map(|id| review(id)).collect())
}

#[ComplexObject]
impl Review {
    #[graphql(provides = "username")]
    async fn author(&self) -> Option<Reviewer> {
        let author = data().reviews.get(self.id.as_str())?.author.clone()?;
        Some(Reviewer {
            username: data().users.get(&author).and_then(|u| u.username.clone()),
            id: ID::from(author),
        })
    }
    async fn product(&self) -> Option<ReviewedProduct> {
        let upc = data().reviews.get(self.id.as_str())?.product.clone()?;
        Some(ReviewedProduct { upc })
    }
}

#[ComplexObject]
impl Reviewer {
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        reviews(&data().users.get(self.id.as_str())?.reviews)
    }
}

#[ComplexObject]
impl ReviewedProduct {
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        reviews(&data().products.get(&self.upc)?.reviews)
    }
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    #[graphql(entity)]
    async fn find_review_by_id(&self, id: ID) -> Option<Review> {
        review(&id)
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Reviewer {
        Reviewer { id, username: None }
    }
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> ReviewedProduct {
        ReviewedProduct { upc }
    }
}

/// Reviews of products by users.
pub fn reviews_subgraph() -> Router {
    crate::router(
        Schema::build(ReviewsQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

/// All four subgraphs on one router, under `/accounts/graphql`,
/// `/inventory/graphql`, `/products/graphql` and `/reviews/graphql`.
pub fn all() -> Router {
    Router::new()
        .nest("/accounts", accounts())
        .nest("/inventory", inventory())
        .nest("/products", products())
        .nest("/reviews", reviews_subgraph())
}

/// Names of the four subgraphs, as in the benchmark's supergraph.
pub const SUBGRAPHS: [&str; 4] = ["accounts", "inventory", "products", "reviews"];
