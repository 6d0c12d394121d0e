//! The demo's REST domain: `shipments`, a plain REST API with its OpenAPI
//! 3.1 document at `/openapi.json`. Shipments by date
//! (`GET /shipments?date=YYYY-MM-DD`) and one by id (`GET /shipments/{id}`);
//! each names its order by `orderId`, which the document marks as a
//! reference to the `orders` domain's `Order` (`x-meshwork-reference`), and
//! `Shipment` is an entity keyed by `id` (`x-meshwork-key`). The other way
//! round, `GET /orders/{orderId}/shipments` adds `shipments` to the orders
//! domain's `Order` (`x-meshwork-extends`).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The OpenAPI document the domain publishes.
pub const OPENAPI: &str = r##"{
  "openapi": "3.1.0",
  "info": { "title": "Shipments", "version": "1.0.0" },
  "paths": {
    "/shipments": {
      "get": {
        "operationId": "shipmentsByDate",
        "summary": "Shipments that left on one day",
        "parameters": [
          { "name": "date", "in": "query", "required": true, "schema": { "type": "string", "format": "date" } }
        ],
        "responses": {
          "200": {
            "description": "The day's shipments",
            "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Shipment" } } } }
          }
        }
      }
    },
    "/shipments/{id}": {
      "get": {
        "operationId": "shipment",
        "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } ],
        "responses": {
          "200": { "description": "One shipment", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Shipment" } } } },
          "404": { "description": "No such shipment" }
        }
      }
    },
    "/orders/{orderId}/shipments": {
      "get": {
        "operationId": "shipmentsOfOrder",
        "summary": "The shipments of one order (the orders domain's Order gains `shipments`)",
        "x-meshwork-extends": { "type": "Order", "key": "id", "field": "shipments" },
        "parameters": [ { "name": "orderId", "in": "path", "required": true, "schema": { "type": "string" } } ],
        "responses": {
          "200": {
            "description": "The order's shipments",
            "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Shipment" } } } }
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Shipment": {
        "type": "object",
        "x-meshwork-key": "id",
        "required": ["id", "orderId", "shippedOn", "status"],
        "properties": {
          "id": { "type": "string" },
          "orderId": { "type": "string", "x-meshwork-reference": { "type": "Order", "key": "id", "field": "order" } },
          "shippedOn": { "type": "string", "format": "date" },
          "carrier": { "type": "string" },
          "status": { "type": "string", "enum": ["in-transit", "delivered"] }
        }
      }
    }
  }
}"##;

fn rows() -> Vec<Value> {
    vec![
        json!({ "id": "s1", "orderId": "o1", "shippedOn": "2026-11-24", "carrier": "DHL", "status": "delivered" }),
        json!({ "id": "s2", "orderId": "o2", "shippedOn": "2026-11-25", "carrier": "UPS", "status": "in-transit" }),
        json!({ "id": "s3", "orderId": "o3", "shippedOn": "2026-11-25", "carrier": "DHL", "status": "in-transit" }),
    ]
}

/// The shipments REST API (serve it with [`crate::serve`]; its base URL is
/// the address without a path).
pub fn router() -> Router {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        .route(
            "/shipments",
            get(
                |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    let date = q.get("date").cloned().unwrap_or_default();
                    Json(Value::Array(
                        rows()
                            .into_iter()
                            .filter(|s| s["shippedOn"] == date.as_str())
                            .collect(),
                    ))
                },
            ),
        )
        .route(
            "/orders/{order}/shipments",
            get(|Path(order): Path<String>| async move {
                Json(Value::Array(
                    rows()
                        .into_iter()
                        .filter(|s| s["orderId"] == order.as_str())
                        .collect(),
                ))
            }),
        )
        .route(
            "/shipments/{id}",
            get(|Path(id): Path<String>| async move {
                match rows().into_iter().find(|s| s["id"] == id.as_str()) {
                    Some(s) => Json(s).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
}

/// The same shipments as a GraphQL subgraph (async-graphql), answering the
/// same queries the REST domain's derived subgraph answers: the benchmark's
/// GraphQL side (`bench/rest.sh`).
pub mod graphql {
    use async_graphql::{EmptyMutation, EmptySubscription, Enum, Object, Schema, SimpleObject};

    #[derive(Enum, Copy, Clone, Eq, PartialEq)]
    #[graphql(name = "ShipmentStatus")]
    enum Status {
        #[graphql(name = "IN_TRANSIT")]
        InTransit,
        #[graphql(name = "delivered")]
        Delivered,
    }

    #[derive(SimpleObject)]
    struct Shipment {
        id: String,
        order_id: String,
        shipped_on: String,
        carrier: Option<String>,
        status: Status,
    }

    struct Query;

    #[Object]
    impl Query {
        /// Shipments that left on one day.
        async fn shipments_by_date(&self, date: String) -> Vec<Shipment> {
            super::rows()
                .into_iter()
                .filter(|s| s["shippedOn"] == date.as_str())
                .map(|s| Shipment {
                    id: s["id"].as_str().unwrap_or_default().into(),
                    order_id: s["orderId"].as_str().unwrap_or_default().into(),
                    shipped_on: s["shippedOn"].as_str().unwrap_or_default().into(),
                    carrier: s["carrier"].as_str().map(str::to_string),
                    status: if s["status"] == "delivered" {
                        Status::Delivered
                    } else {
                        Status::InTransit
                    },
                })
                .collect()
        }
    }

    /// The GraphQL twin of the shipments REST API.
    pub fn router() -> axum::Router {
        crate::router(
            Schema::build(Query, EmptyMutation, EmptySubscription)
                .enable_federation()
                .finish(),
        )
    }
}
