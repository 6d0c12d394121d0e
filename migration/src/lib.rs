//! Schema migrations of Meshwork's catalog database, one file per migration,
//! named by date and intent. `catalog::connect` runs them at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_catalog;
mod m20261125_000002_schema_pulling_and_composition;
mod m20261125_000003_access_control;
mod m20261125_000004_domain_plans;
mod m20261129_000005_composition_warnings;
mod m20261130_000006_derived_subgraphs;
mod m20261130_000007_rest_settings;
mod m20261130_000008_schema_evolution;
mod m20261130_000009_field_usage;
mod m20261130_000010_contract_checks;
mod m20261130_000011_alert_webhooks;
mod m20261130_000012_measured_quality;
mod m20261130_000013_search_index;
mod m20261130_000014_saved_queries;
mod m20261130_000015_gateway_instances;
mod m20261130_000016_subgraph_cache;
mod m20261130_000017_search_prefixes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_catalog::Migration),
            Box::new(m20261125_000002_schema_pulling_and_composition::Migration),
            Box::new(m20261125_000003_access_control::Migration),
            Box::new(m20261125_000004_domain_plans::Migration),
            Box::new(m20261129_000005_composition_warnings::Migration),
            Box::new(m20261130_000006_derived_subgraphs::Migration),
            Box::new(m20261130_000007_rest_settings::Migration),
            Box::new(m20261130_000008_schema_evolution::Migration),
            Box::new(m20261130_000009_field_usage::Migration),
            Box::new(m20261130_000010_contract_checks::Migration),
            Box::new(m20261130_000011_alert_webhooks::Migration),
            Box::new(m20261130_000012_measured_quality::Migration),
            Box::new(m20261130_000013_search_index::Migration),
            Box::new(m20261130_000014_saved_queries::Migration),
            Box::new(m20261130_000015_gateway_instances::Migration),
            Box::new(m20261130_000016_subgraph_cache::Migration),
            Box::new(m20261130_000017_search_prefixes::Migration),
        ]
    }
}
