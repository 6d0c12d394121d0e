//! `meshwork-gateway`: Meshwork's gateway alone, the same program as
//! `meshwork gateway` (the same flags, the same engine plugin and policies:
//! both run `meshwork::gateway_cmd::gateway`) without the catalog, the
//! database drivers, the console and the demo domains linked in. What a
//! replica or a static gateway runs in production: less code mapped and
//! touched per process (bench/RESULTS.md, "memory").

use std::process::ExitCode;

use clap::Parser;
use meshwork::gateway_cmd::{gateway, GatewayArgs};

// The gateway engine is built and measured with mimalloc.
#[global_allocator]
static GLOBAL: gateway::GlobalAllocator = gateway::GlobalAllocator;

/// Run a Meshwork gateway alone: from a supergraph file (static mode), or
/// following a Meshwork control plane (a replica).
#[derive(Parser)]
#[command(name = "meshwork-gateway", version)]
struct Cli {
    #[command(flatten)]
    args: GatewayArgs,
}

fn main() -> ExitCode {
    match gateway(Cli::parse().args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
