//! SeaORM models of Meshwork's catalog tables.
//!
//! Plain data, no behaviour: validation, queries and transactions live in the
//! `catalog` crate. Table layout is created by the `migration` crate.

pub mod access_grant;
pub mod access_request;
pub mod alert_delivery;
pub mod alert_webhook;
pub mod api_key;
pub mod audit_log;
pub mod cache_purge;
pub mod composition;
pub mod consumer;
pub mod contract_check;
pub mod domain;
pub mod domain_health;
pub mod domain_tag;
pub mod domain_traffic;
pub mod field_policy;
pub mod field_usage;
pub mod gateway_instance;
pub mod jwt_issuer;
pub mod lineage_input;
pub mod lineage_run;
pub mod lineage_run_dataset;
pub mod plan;
pub mod quality_measurement;
pub mod saved_query;
pub mod schema_version;
pub mod setting;
pub mod slo_event;
