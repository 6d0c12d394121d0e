//! DataLoaders that batch the nested fields of domain listings into one
//! query per field, whatever the page size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{domain, domain_health, lineage_input, schema_version};

use crate::{Catalog, CatalogError};

pub struct Tags(pub Catalog);
pub struct Inputs(pub Catalog);
pub struct LatestSchema(pub Catalog);
pub struct DomainById(pub Catalog);
pub struct Health(pub Catalog);

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
