//! A named federated query a BI tool fetches as a table from one URL
//! (`/export/{name}.csv`). Removing one sets `deleted_at`; the record stays.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "saved_query")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    /// The team that may change or remove it.
    pub owner_team: String,
    pub description: String,
    /// The GraphQL document (a query; mutations are refused when saved).
    pub document: String,
    pub operation_name: Option<String>,
    /// Default values of the operation's variables (a JSON object).
    pub variables: Json,
    /// Each declared variable's type as written (`String!`, `[ID!]`), by
    /// name: how a URL parameter's text is read.
    pub variable_types: Json,
    /// The dotted path of the list that becomes the table's rows.
    pub rows: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
