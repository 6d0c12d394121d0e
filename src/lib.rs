//! The library half of the `meshwork` package: what its two binaries
//! share. `meshwork` (`src/main.rs`) is every command; `meshwork-gateway`
//! (`src/bin/meshwork_gateway.rs`) is the gateway alone.

pub mod gateway_cmd;
