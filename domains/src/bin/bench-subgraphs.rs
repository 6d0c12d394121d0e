//! Serves the gateways benchmark's four subgraphs on one address:
//! `bench-subgraphs [ADDR]` (default 127.0.0.1:4200), paths
//! `/{accounts,inventory,products,reviews}/graphql`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4200".to_string());
    let addr = addr.parse().map_err(std::io::Error::other)?;
    let running = domains::serve_on(addr, domains::bench::all()).await?;
    println!("benchmark subgraphs on http://{}", running.addr);
    running.task.await.map_err(std::io::Error::other)
}
