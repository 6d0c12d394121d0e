//! DataLoaders that batch the nested fields of domain listings into one
//! query per field, whatever the page size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{api_key, domain, domain_health, lineage_input, plan, schema_version};

use crate::{Catalog, CatalogError};

pub struct Tags(pub Catalog);
pub struct Inputs(pub Catalog);
pub struct LatestSchema(pub Catalog);
pub struct DomainById(pub Catalog);
pub struct Health(pub Catalog);
pub struct PlanById(pub Catalog);
pub struct ApiKeysOf(pub Catalog);

impl Loader<i32> for Tags {
    type Value = Vec<String>;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.tags_of(keys).await?)
    }
}

impl Loader<i32> for Inputs {
    type Value = Vec<lineage_input::Model>;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.inputs_of(keys).await?)
    }
}

impl Loader<i32> for LatestSchema {
    type Value = schema_version::Model;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.latest_schema_of(keys).await?)
    }
}

impl Loader<i32> for DomainById {
    type Value = domain::Model;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.domains_by_id(keys).await?)
    }
}

impl Loader<i32> for Health {
    type Value = domain_health::Model;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.health_of(keys).await?)
    }
}

impl Loader<i32> for PlanById {
    type Value = plan::Model;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.plans_by_id(keys).await?)
    }
}

/// A consumer's API keys, by consumer id.
impl Loader<i32> for ApiKeysOf {
    type Value = Vec<api_key::Model>;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        Ok(self.0.api_keys_of_consumers(keys).await?)
    }
}
