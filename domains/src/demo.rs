//! The demo mesh: `customers`, `orders` (with orders by date) and
//! `inventory`, joined through entities.

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID,
};
use axum::Router;

#[derive(SimpleObject, Clone)]
struct Customer {
    id: ID,
    name: String,
    email: String,
    segment: String,
}

fn customer_rows() -> Vec<Customer> {
    [
        ("c1", "Ada Lovelace", "ada@example.com", "enterprise"),
        ("c2", "Grace Hopper", "grace@example.com", "smb"),
        ("c3", "Alan Turing", "alan@example.com", "consumer"),
    ]
    .into_iter()
    .map(|(id, name, email, segment)| Customer {
        id: ID::from(id),
        name: name.into(),
        email: email.into(),
        segment: segment.into(),
    })
    .collect()
}

struct CustomersQuery;

#[Object(name = "Query")]
impl CustomersQuery {
    /// Every customer.
    async fn customers(&self) -> Vec<Customer> {
        customer_rows()
    }
    async fn customer(&self, id: ID) -> Option<Customer> {
        customer_rows().into_iter().find(|c| c.id == id)
    }
    #[graphql(entity)]
    async fn find_customer_by_id(&self, id: ID) -> Option<Customer> {
        customer_rows().into_iter().find(|c| c.id == id)
    }
}

/// The customers domain: master data of customers.
pub fn customers() -> Router {
    crate::router(
        Schema::build(CustomersQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct Order {
    id: ID,
    /// Day the order was placed, `YYYY-MM-DD`.
    placed_on: String,
    total: f64,
    #[graphql(skip)]
    customer_id: ID,
    lines: Vec<OrderLine>,
}

#[derive(SimpleObject, Clone)]
struct OrderLine {
    quantity: i32,
    product: ProductRef,
}

/// A product of the inventory domain, referenced by SKU.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", unresolvable = "sku")]
struct ProductRef {
    sku: String,
}

/// A customer of the customers domain, extended with their orders.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Customer", complex)]
struct CustomerRef {
    id: ID,
}

#[ComplexObject]
impl CustomerRef {
    async fn orders(&self) -> Vec<Order> {
        order_rows()
            .into_iter()
            .filter(|o| o.customer_id == self.id)
            .collect()
    }
}

#[ComplexObject]
impl Order {
    async fn customer(&self) -> CustomerRef {
        CustomerRef {
            id: self.customer_id.clone(),
        }
    }
}

fn order_rows() -> Vec<Order> {
    let line = |quantity, sku: &str| OrderLine {
        quantity,
        product: ProductRef { sku: sku.into() },
    };
    vec![
        Order {
            id: "o1".into(),
            placed_on: "2026-11-23".into(),
            total: 1299.0,
            customer_id: "c1".into(),
            lines: vec![line(1, "table-01"), line(4, "chair-02")],
        },
        Order {
            id: "o2".into(),
            placed_on: "2026-11-24".into(),
            total: 89.5,
            customer_id: "c2".into(),
            lines: vec![line(2, "lamp-03")],
        },
        Order {
            id: "o3".into(),
            placed_on: "2026-11-24".into(),
            total: 450.0,
            customer_id: "c1".into(),
            lines: vec![line(1, "chair-02"), line(1, "lamp-03")],
        },
    ]
}

struct OrdersQuery;

#[Object(name = "Query")]
impl OrdersQuery {
    /// Orders placed on one day (`YYYY-MM-DD`).
    async fn orders_by_date(&self, date: String) -> Vec<Order> {
        order_rows()
            .into_iter()
            .filter(|o| o.placed_on == date)
            .collect()
    }
    async fn order(&self, id: ID) -> Option<Order> {
        order_rows().into_iter().find(|o| o.id == id)
    }
    #[graphql(entity)]
    async fn find_order_by_id(&self, id: ID) -> Option<Order> {
        order_rows().into_iter().find(|o| o.id == id)
    }
    #[graphql(entity)]
    async fn find_customer_by_id(&self, id: ID) -> CustomerRef {
        CustomerRef { id }
    }
}

/// The orders domain: every order, by date.
pub fn orders() -> Router {
    crate::router(
        Schema::build(OrdersQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

#[derive(SimpleObject, Clone)]
struct Product {
    sku: String,
    name: String,
    in_stock: i32,
}

fn product_rows() -> Vec<Product> {
    [
        ("table-01", "Oak table", 3),
        ("chair-02", "Oak chair", 24),
        ("lamp-03", "Desk lamp", 0),
    ]
    .into_iter()
    .map(|(sku, name, in_stock)| Product {
        sku: sku.into(),
        name: name.into(),
        in_stock,
    })
    .collect()
}

struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    async fn products(&self, _ctx: &Context<'_>) -> Vec<Product> {
        product_rows()
    }
    #[graphql(entity)]
    async fn find_product_by_sku(&self, sku: String) -> Option<Product> {
        product_rows().into_iter().find(|p| p.sku == sku)
    }
}

/// The inventory domain: products and their stock.
pub fn inventory() -> Router {
    crate::router(
        Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}
