//! Saved queries in the discovery API: named federated queries a BI tool
//! fetches as a table from one URL on a gateway (`/export/{name}.csv`).

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{caller, catalog, fail};
use crate::saved_queries::SavedQuerySpec;

#[derive(SimpleObject)]
pub(super) struct SavedQuery {
    name: String,
    owner_team: String,
    description: String,
    /// The GraphQL document.
    query: String,
    operation_name: Option<String>,
    /// Default values of the variables.
    variables: async_graphql::Json<serde_json::Value>,
    /// Each declared variable and its type (`date: String!`): a URL
    /// parameter of that name sets it.
    variable_types: async_graphql::Json<serde_json::Value>,
    /// The dotted path of the list that becomes the rows.
    rows: Option<String>,
    /// Paths on the gateway: the answer as CSV, Parquet and JSON.
    csv_path: String,
    parquet_path: String,
    json_path: String,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl From<entity::saved_query::Model> for SavedQuery {
    fn from(m: entity::saved_query::Model) -> Self {
        Self {
            csv_path: format!("/export/{}.csv", m.name),
            parquet_path: format!("/export/{}.parquet", m.name),
            json_path: format!("/export/{}.json", m.name),
            name: m.name,
            owner_team: m.owner_team,
            description: m.description,
            query: m.document,
            operation_name: m.operation_name,
            variables: async_graphql::Json(m.variables),
            variable_types: async_graphql::Json(m.variable_types),
            rows: m.rows,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_by: m.updated_by,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Default)]
pub(super) struct SavedQueryQuery;

#[Object]
impl SavedQueryQuery {
    /// Saved queries, by name; of one owner team when given.
    async fn saved_queries(
        &self,
        ctx: &Context<'_>,
        owner_team: Option<String>,
    ) -> Result<Vec<SavedQuery>> {
        Ok(catalog(ctx)?
            .saved_queries(owner_team.as_deref())
            .await
            .map_err(fail)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One saved query, or null.
    async fn saved_query(&self, ctx: &Context<'_>, name: String) -> Result<Option<SavedQuery>> {
        match catalog(ctx)?.saved_query(&name).await {
            Ok(m) => Ok(Some(m.into())),
            Err(crate::CatalogError::NotFound { .. }) => Ok(None),
            Err(e) => Err(fail(e)),
        }
    }
}

#[derive(Default)]
pub(super) struct SavedQueryMutation;

#[Object]
impl SavedQueryMutation {
    /// Creates or replaces a saved query (its owner team or a platform
    /// admin on a secured catalog). The document must parse and its
    /// operation be a query; nothing is changed otherwise.
    async fn save_query(&self, ctx: &Context<'_>, spec: SavedQuerySpec) -> Result<SavedQuery> {
        Ok(catalog(ctx)?
            .save_query(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    /// Stops serving a saved query; the record and its history are kept
    /// (saving the name again brings it back).
    async fn delete_saved_query(&self, ctx: &Context<'_>, name: String) -> Result<bool> {
        catalog(ctx)?
            .delete_saved_query(&caller(ctx), &name)
            .await
            .map_err(fail)?;
        Ok(true)
    }
}
