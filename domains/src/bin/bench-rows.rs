//! A subgraph with one big list, for `bench/export.sh`: `rows(count:)`
//! answers `count` rows (at most 2,000,000) of six typed columns.
//! `bench-rows [ADDR]` (default 127.0.0.1:4400); prints its SDL with
//! `bench-rows --sdl`.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};

#[derive(SimpleObject)]
struct Row {
    id: ID,
    name: String,
    amount: f64,
    quantity: i32,
    active: bool,
    day: String,
}

struct Query;

#[Object]
impl Query {
    /// `count` rows, the same for the same count.
    async fn rows(&self, count: i32) -> async_graphql::Result<Vec<Row>> {
        if !(0..=2_000_000).contains(&count) {
            return Err("count must be between 0 and 2000000".into());
        }
        Ok((0..count)
            .map(|i| Row {
                id: ID(format!("r{i}")),
                name: format!("row number {i}"),
                amount: f64::from(i) * 0.25,
                quantity: i % 1000,
                active: i % 3 == 0,
                day: format!("2026-11-{:02}", 1 + i % 28),
            })
            .collect())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--sdl") {
        println!(
            "{}",
            schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation())
        );
        return Ok(());
    }
    let addr: std::net::SocketAddr = first
        .unwrap_or_else(|| "127.0.0.1:4400".into())
        .parse()
        .map_err(std::io::Error::other)?;
    let running = domains::serve_on(addr, domains::router(schema)).await?;
    println!("rows subgraph on {}", running.url);
    running.task.await.map_err(std::io::Error::other)
}
