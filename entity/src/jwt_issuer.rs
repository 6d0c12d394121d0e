//! A trusted issuer of JWTs: how to verify its tokens and where in them the
//! subject, the consumer, the scopes and the teams are.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "jwt_issuer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    /// The `iss` claim its tokens carry.
    #[sea_orm(unique)]
    pub issuer: String,
    /// Accepted `aud` values (`[]`: the audience is not checked).
    pub audiences: Json,
    /// `HS256`, `RS256` or `ES256`.
    pub algorithm: String,
    /// HS256 shared secret.
    #[sea_orm(column_type = "Text", nullable)]
    pub secret: Option<String>,
    /// RS256/ES256 public keys given inline: a PEM key or a JWKS document.
    #[sea_orm(column_type = "Text", nullable)]
    pub public_keys: Option<String>,
    /// RS256/ES256 keys fetched from a JWKS URL.
    pub jwks_url: Option<String>,
    pub subject_claim: String,
    pub consumer_claim: String,
    pub scopes_claim: String,
    pub teams_claim: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
