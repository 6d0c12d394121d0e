//! Listing and searching domains: text over name, description, tags and
//! schema field names; filters on owner, tag, model and kind; keyset
//! pagination by name, so pages stay stable while domains are added.

use std::collections::HashMap;

use base64::Engine;
use entity::{domain, domain_tag, lineage_input, schema_version};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use crate::error::{CatalogError, ProblemCode};
use crate::spec::{ApiKind, GovernanceModel};
use crate::Catalog;

/// Most items one page may hold.
pub const MAX_PAGE: u64 = 100;

/// Which domains to list; every set field must match.
#[derive(async_graphql::InputObject, Clone, Debug, Default)]
pub struct DomainFilter {
    /// Words that must all appear (case-insensitive) in the name, display
    /// name, description, tags or schema type and field names.
    pub text: Option<String>,
    pub owner_team: Option<String>,
    pub tag: Option<String>,
    pub model: Option<GovernanceModel>,
    pub kind: Option<ApiKind>,
    /// Deregistered domains are left out unless this is true.
    #[graphql(default)]
    pub include_deregistered: bool,
}

/// One page of a listing.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    /// Pass as `after` to read the next page.
    pub end_cursor: Option<String>,
}

pub(crate) fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub(crate) fn bad_cursor(cursor: &str) -> CatalogError {
    CatalogError::invalid(
        "after",
        ProblemCode::MalformedJson,
        format!("`{cursor}` is not a cursor this API returned"),
    )
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, CatalogError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| bad_cursor(cursor))
}

fn escape_like(word: &str) -> String {
    format!("%{}", like_prefix(word))
}

/// A LIKE pattern (escape `\\`) matching text that starts with `prefix`.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn filtered(filter: &DomainFilter) -> Select<domain::Entity> {
    let mut query = domain::Entity::find();
    if !filter.include_deregistered {
        query = query.filter(domain::Column::Status.eq(domain::DomainStatus::Active));
    }
    if let Some(text) = &filter.text {
        for word in text.to_lowercase().split_whitespace() {
            query = query.filter(
                Expr::col(domain::Column::SearchText)
                    .like(LikeExpr::new(escape_like(word)).escape('\\')),
            );
        }
    }
    if let Some(owner) = &filter.owner_team {
        query = query.filter(domain::Column::OwnerTeam.eq(owner.as_str()));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(
            domain::Column::Id.in_subquery(
                Query::select()
                    .column(domain_tag::Column::DomainId)
                    .from(domain_tag::Entity)
                    .and_where(domain_tag::Column::Tag.eq(tag.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(model) = filter.model {
        query = query.filter(domain::Column::Model.eq(domain::GovernanceModel::from(model)));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(domain::Column::Kind.eq(domain::ApiKind::from(kind)));
    }
    query
}

/// Most domains the trigram index may name for the listing to read only
/// them; a text held by more is common, and the name-ordered scan finds a
/// page of it quickly.
const NARROW: usize = 200;

impl Catalog {
    /// On SQLite, the ids of the domains whose search text holds every
    /// word of three letters or more, when there are fewer than
    /// [`NARROW`] (the trigram index answers without reading every
    /// domain's text); none when the index cannot narrow the listing.
    /// The `LIKE` filters still apply: the index only narrows.
    async fn narrowed(&self, filter: &DomainFilter) -> Result<Option<Vec<i32>>, CatalogError> {
        use sea_orm::{ConnectionTrait, Statement};
        if self.db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return Ok(None);
        }
        let Some(text) = &filter.text else {
            return Ok(None);
        };
        let phrases: Vec<String> = text
            .to_lowercase()
            .split_whitespace()
            .filter(|w| w.chars().count() >= 3)
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        if phrases.is_empty() {
            return Ok(None);
        }
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT rowid AS id FROM domain_text WHERE domain_text MATCH ? LIMIT ?",
                [phrases.join(" ").into(), (NARROW as i64).into()],
            ))
            .await?;
        if rows.len() >= NARROW {
            return Ok(None);
        }
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            ids.push(row.try_get::<i64>("", "id")? as i32);
        }
        Ok(Some(ids))
    }

    /// Domains matching `filter`, ordered by name, `first` (at most
    /// [`MAX_PAGE`]) after the cursor.
    pub async fn search(
        &self,
        filter: &DomainFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<domain::Model>, CatalogError> {
        let first = first.clamp(1, MAX_PAGE);
        let mut query = filtered(filter);
        if let Some(ids) = self.narrowed(filter).await? {
            query = query.filter(domain::Column::Id.is_in(ids));
        }
        if let Some(cursor) = after {
            query = query.filter(domain::Column::Name.gt(decode_cursor(cursor)?));
        }
        let mut rows = query
            .order_by_asc(domain::Column::Name)
            .limit(first + 1)
            .all(&self.db)
            .await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|d| encode_cursor(&d.name));
        Ok(Page {
            items: rows,
            has_next_page,
            end_cursor,
        })
    }

    /// How many domains match `filter`.
    pub async fn count(&self, filter: &DomainFilter) -> Result<u64, CatalogError> {
        let mut query = filtered(filter);
        if let Some(ids) = self.narrowed(filter).await? {
            query = query.filter(domain::Column::Id.is_in(ids));
        }
        Ok(query.count(&self.db).await?)
    }

    /// Tags of each domain, sorted; one query for all of `ids`.
    pub async fn tags_of(&self, ids: &[i32]) -> Result<HashMap<i32, Vec<String>>, CatalogError> {
        let mut out: HashMap<i32, Vec<String>> = HashMap::new();
        for row in domain_tag::Entity::find()
            .filter(domain_tag::Column::DomainId.is_in(ids.iter().copied()))
            .order_by_asc(domain_tag::Column::Tag)
            .all(&self.db)
            .await?
        {
            out.entry(row.domain_id).or_default().push(row.tag);
        }
        Ok(out)
    }

    /// Lineage inputs of each domain in registered order; one query.
    pub async fn inputs_of(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, Vec<lineage_input::Model>>, CatalogError> {
        let mut out: HashMap<i32, Vec<lineage_input::Model>> = HashMap::new();
        for row in lineage_input::Entity::find()
            .filter(lineage_input::Column::DomainId.is_in(ids.iter().copied()))
            .order_by_asc(lineage_input::Column::Position)
            .all(&self.db)
            .await?
        {
            out.entry(row.domain_id).or_default().push(row);
        }
        Ok(out)
    }

    /// The newest schema version of each domain that has one; one query.
    pub async fn latest_schema_of(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, schema_version::Model>, CatalogError> {
        let newest = Query::select()
            .expr(Func::max(Expr::col(schema_version::Column::Id)))
            .from(schema_version::Entity)
            .and_where(schema_version::Column::DomainId.is_in(ids.iter().copied()))
            .group_by_col(schema_version::Column::DomainId)
            .to_owned();
        Ok(schema_version::Entity::find()
            .filter(schema_version::Column::Id.in_subquery(newest))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|v| (v.domain_id, v))
            .collect())
    }

    /// The newest accepted schema version of each domain that has one (the
    /// one composition and REST serving use); one query.
    pub async fn served_schema_of(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, schema_version::Model>, CatalogError> {
        let newest = Query::select()
            .expr(Func::max(Expr::col(schema_version::Column::Id)))
            .from(schema_version::Entity)
            .and_where(schema_version::Column::DomainId.is_in(ids.iter().copied()))
            .and_where(schema_version::Column::Status.eq(schema_version::VersionStatus::Accepted))
            .group_by_col(schema_version::Column::DomainId)
            .to_owned();
        Ok(schema_version::Entity::find()
            .filter(schema_version::Column::Id.in_subquery(newest))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|v| (v.domain_id, v))
            .collect())
    }

    /// The id of each domain's served schema version (the newest accepted
    /// one), without the documents: what the access snapshot needs. All
    /// domains in one grouped query (no list of ids: SQLite and PostgreSQL
    /// cap the parameters of one statement).
    pub async fn served_version_ids(&self) -> Result<HashMap<i32, i32>, CatalogError> {
        let rows: Vec<(i32, Option<i32>)> = schema_version::Entity::find()
            .select_only()
            .column(schema_version::Column::DomainId)
            .column_as(Expr::col(schema_version::Column::Id).max(), "id")
            .filter(schema_version::Column::Status.eq(schema_version::VersionStatus::Accepted))
            .group_by(schema_version::Column::DomainId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(domain, id)| Some((domain, id?)))
            .collect())
    }

    /// Domains by id; one query.
    pub async fn domains_by_id(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, domain::Model>, CatalogError> {
        Ok(domain::Entity::find()
            .filter(domain::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect())
    }
}
