//! The Hive Router engine alone, exactly as its own crate's `main.rs`
//! starts it (no Meshwork plugin, no Meshwork configuration): the
//! "unmodified Hive Router" that `bench/gateways.sh` measures Meshwork
//! against and that the interoperability tests run behind Meshwork's
//! control plane. Built from the same engine version as the gateway, so it
//! needs no separate `cargo install`. Configure it as Hive Router is
//! configured (`ROUTER_CONFIG_FILE_PATH`, `HIVE_CDN_*`, ...).

#![recursion_limit = "256"]

use hive_router::ntex;
use hive_router::{
    configure_global_allocator, error::RouterInitError, init_rustls_crypto_provider,
    router_entrypoint, PluginRegistry, RouterGlobalAllocator,
};

configure_global_allocator!();

#[hive_router::main]
async fn main() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    router_entrypoint(PluginRegistry::new()).await
}
