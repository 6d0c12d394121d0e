//! The shipments data twice, for `bench/rest.sh`: the REST API (with its
//! OpenAPI document) on the first address, its GraphQL twin on the second.
//! `bench-shipments [REST_ADDR] [GRAPHQL_ADDR]` (defaults 127.0.0.1:4300,
//! 127.0.0.1:4301).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let rest: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:4300".into())
        .parse()
        .map_err(std::io::Error::other)?;
    let graphql: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:4301".into())
        .parse()
        .map_err(std::io::Error::other)?;
    let rest = domains::serve_on(rest, domains::shipments::router()).await?;
    let graphql = domains::serve_on(graphql, domains::shipments::graphql::router()).await?;
    println!(
        "shipments REST on http://{}, GraphQL on {}",
        rest.addr, graphql.url
    );
    rest.task.await.map_err(std::io::Error::other)
}
