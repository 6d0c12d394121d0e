//! Ranked search over domains, types and fields (the discovery API's
//! `search`).

use async_graphql::{Context, Object, Result, SimpleObject};

use super::objects::Domain;
use super::{catalog, fail};
use crate::fts::SearchKind;
use crate::CatalogError;

/// One hit, best first.
pub struct Hit(crate::fts::SearchHit);

#[Object(name = "SearchHit")]
impl Hit {
    async fn kind(&self) -> SearchKind {
        self.0.kind
    }
    /// The domain's name, `Type` or `Type.field`.
    async fn coordinate(&self) -> &str {
        &self.0.coordinate
    }
    /// The domain the hit belongs to.
    async fn domain(&self) -> Domain {
        Domain(self.0.domain.clone())
    }
    /// Relevance; higher is better (comparable within one search only).
    async fn score(&self) -> f64 {
        self.0.score
    }
}

#[derive(SimpleObject)]
pub struct FacetCount {
    value: String,
    count: u64,
}

/// Ranked hits, and counts over the best 500 matches.
pub struct Results(crate::fts::SearchResults);

#[Object(name = "SearchResults")]
impl Results {
    async fn hits(&self) -> Vec<Hit> {
        self.0.hits.iter().cloned().map(Hit).collect()
    }
    /// Matches by kind (`DOMAIN`, `TYPE`, `FIELD`).
    async fn kinds(&self) -> Vec<FacetCount> {
        self.0
            .by_kind
            .iter()
            .map(|(k, n)| FacetCount {
                value: async_graphql::Value::from(*k).to_string(),
                count: *n,
            })
            .collect()
    }
    /// Matches by the owner team of their domain.
    async fn owner_teams(&self) -> Vec<FacetCount> {
        self.0
            .by_owner
            .iter()
            .map(|(k, n)| FacetCount {
                value: k.clone(),
                count: *n,
            })
            .collect()
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Full-text search over every active domain and the types and fields
    /// of its latest schema, ranked (names weigh more than descriptions;
    /// every word must match as a prefix; `stock` finds `inStock`).
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        #[graphql(desc = "Only hits of these kinds; all when null or empty.")] kinds: Option<
            Vec<SearchKind>,
        >,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Results> {
        if !(1..=100).contains(&first) {
            return Err(fail(CatalogError::invalid(
                "first",
                crate::ProblemCode::OutOfRange,
                format!("{first} is not between 1 and 100"),
            )));
        }
        Ok(Results(
            catalog(ctx)?
                .search_ranked(&text, &kinds.unwrap_or_default(), first as u64)
                .await
                .map_err(fail)?,
        ))
    }
}
