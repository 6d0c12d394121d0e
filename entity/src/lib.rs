//! SeaORM models of Meshwork's catalog tables.
//!
//! Plain data, no behaviour: validation, queries and transactions live in the
//! `catalog` crate. Table layout is created by the `migration` crate.

pub mod audit_log;
pub mod composition;
pub mod domain;
pub mod domain_health;
pub mod domain_tag;
pub mod lineage_input;
pub mod schema_version;
