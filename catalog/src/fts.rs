//! Ranked full-text search over the mesh: every active domain, and every
//! type and field of its latest schema, is an entry of `search_entry`
//! (SQLite FTS5, ranked by bm25; PostgreSQL `tsvector` with a GIN index,
//! ranked by `ts_rank`). Names weigh more than descriptions; camelCase and
//! snake_case names are split into words, so `stock` finds `inStock`;
//! every word must match, as a prefix.

use std::collections::{BTreeMap, HashMap};

use entity::{domain, domain_tag, schema_version};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::error::CatalogError;
use crate::Catalog;

/// What a search hit is.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchKind {
    Domain,
    Type,
    Field,
}

impl SearchKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Type => "type",
            Self::Field => "field",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "type" => Self::Type,
            "field" => Self::Field,
            _ => Self::Domain,
        }
    }
}

/// One ranked hit.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub domain: domain::Model,
    pub kind: SearchKind,
    /// The domain's name, `Type` or `Type.field`.
    pub coordinate: String,
    /// Higher is better.
    pub score: f64,
}

/// Ranked hits and counts over all of them (up to the scan limit).
#[derive(Clone, Debug, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub by_kind: BTreeMap<SearchKind, u64>,
    pub by_owner: BTreeMap<String, u64>,
}

/// A domain's SQLite entries have rowids `domain_id << 20` and up (at most
/// 1,048,575 entries per domain).
const ROWID_BITS: u32 = 20;

/// Most entries ranked for one query (facets count these).
const SCAN: u64 = 500;

struct Entry {
    kind: SearchKind,
    coordinate: String,
    words: String,
    body: String,
}

/// `inStock` → `in stock`, `order_lines` → `order lines`, `Order.total`
/// → `order total`.
fn words_of(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push(' ');
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    out
}

fn entries(d: &domain::Model, tags: &[String], document: Option<&str>) -> Vec<Entry> {
    let mut out = vec![Entry {
        kind: SearchKind::Domain,
        coordinate: d.name.clone(),
        words: format!(
            "{} {} {} {}",
            d.name,
            words_of(&d.name),
            words_of(&d.display_name),
            tags.join(" ")
        ),
        body: format!("{} {}", d.description, d.owner_team),
    }];
    let Some(document) = document else {
        return out;
    };
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let Ok(doc) = async_graphql::parser::parse_schema(document) else {
        // Not SDL (an OpenAPI document that did not derive): its names.
        for name in crate::schema_doc::searchable_names(document) {
            out.push(Entry {
                kind: SearchKind::Type,
                coordinate: name.clone(),
                words: words_of(&name),
                body: String::new(),
            });
        }
        return out;
    };
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        let ty = ty.node;
        let type_name = ty.name.node.to_string();
        if type_name.starts_with('_') {
            continue;
        }
        let description = |d: &Option<async_graphql::Positioned<String>>| {
            d.as_ref().map(|d| d.node.clone()).unwrap_or_default()
        };
        out.push(Entry {
            kind: SearchKind::Type,
            coordinate: type_name.clone(),
            words: words_of(&type_name),
            body: description(&ty.description),
        });
        let fields: Vec<(String, String)> = match ty.kind {
            TypeKind::Object(o) => o
                .fields
                .into_iter()
                .map(|f| {
                    (
                        f.node.name.node.to_string(),
                        description(&f.node.description),
                    )
                })
                .collect(),
            TypeKind::Interface(i) => i
                .fields
                .into_iter()
                .map(|f| {
                    (
                        f.node.name.node.to_string(),
                        description(&f.node.description),
                    )
                })
                .collect(),
            TypeKind::InputObject(i) => i
                .fields
                .into_iter()
                .map(|f| {
                    (
                        f.node.name.node.to_string(),
                        description(&f.node.description),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        for (field, text) in fields {
            if field.starts_with('_') {
                continue;
            }
            out.push(Entry {
                kind: SearchKind::Field,
                coordinate: format!("{type_name}.{field}"),
                words: format!("{} {}", words_of(&field), words_of(&type_name)),
                body: text,
            });
        }
    }
    out
}

/// Rewrites a domain's entries: its name, description and tags, and the
/// types and fields of its latest schema (a REST domain's derived SDL).
/// A deregistered domain has none.
pub(crate) async fn reindex<C: ConnectionTrait>(
    db: &C,
    d: &domain::Model,
) -> Result<(), CatalogError> {
    let backend = db.get_database_backend();
    // On SQLite a domain's entries own a rowid range (FTS5 has no index on
    // its unindexed columns: a delete by `domain_id` would scan them all).
    let first_rowid = i64::from(d.id) << ROWID_BITS;
    db.execute_raw(match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "DELETE FROM search_entry WHERE domain_id = $1",
            [d.id.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "DELETE FROM search_entry WHERE rowid >= ? AND rowid < ?",
            [first_rowid.into(), (first_rowid + (1 << ROWID_BITS)).into()],
        ),
    })
    .await?;
    if d.status != domain::DomainStatus::Active {
        return Ok(());
    }
    let tags: Vec<String> = domain_tag::Entity::find()
        .filter(domain_tag::Column::DomainId.eq(d.id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    let latest = schema_version::Entity::find()
        .filter(schema_version::Column::DomainId.eq(d.id))
        .order_by_desc(schema_version::Column::Id)
        .one(db)
        .await?;
    let document = latest.as_ref().map(|v| match crate::rest::derived_of(v) {
        Some(derived) => derived.sdl,
        None => v.document.clone(),
    });
    let mut all = entries(d, &tags, document.as_deref());
    all.truncate((1 << ROWID_BITS) - 1);
    for (c, chunk) in all.chunks(200).enumerate() {
        let mut sql = String::from("INSERT INTO search_entry (");
        if backend != DatabaseBackend::Postgres {
            sql.push_str("rowid, ");
        }
        sql.push_str("domain_id, kind, coordinate, words, body");
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 5);
        match backend {
            DatabaseBackend::Postgres => {
                sql.push_str(", document) VALUES ");
                for (i, e) in chunk.iter().enumerate() {
                    let n = i * 5;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, setweight(to_tsvector('simple', ${} || ' ' || ${}), 'A') || setweight(to_tsvector('simple', ${}), 'C'))",
                        n + 1, n + 2, n + 3, n + 4, n + 5, n + 3, n + 4, n + 5
                    ));
                    push(&mut values, d.id, e);
                }
            }
            _ => {
                sql.push_str(") VALUES ");
                for (i, e) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str("(?, ?, ?, ?, ?, ?)");
                    values.push((first_rowid + (c * 200 + i) as i64).into());
                    push(&mut values, d.id, e);
                }
            }
        }
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

fn push(values: &mut Vec<sea_orm::Value>, domain_id: i32, e: &Entry) {
    values.push(domain_id.into());
    values.push(e.kind.as_str().into());
    values.push(e.coordinate.clone().into());
    values.push(e.words.clone().into());
    values.push(e.body.clone().into());
}

/// The words of a query: letters and digits only, lower-case, at most 8.
fn terms(text: &str) -> Vec<String> {
    words_of(text)
        .split_whitespace()
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_string)
        .collect()
}

impl Catalog {
    /// Indexes every domain once when the index is empty (after the
    /// migration that created it, on a catalog that already has domains).
    pub(crate) async fn backfill_search(&self) -> Result<(), CatalogError> {
        let backend = self.db.get_database_backend();
        let has_entries = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT domain_id FROM search_entry LIMIT 1",
            ))
            .await?
            .is_some();
        if has_entries {
            return Ok(());
        }
        let domains = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .all(&self.db)
            .await?;
        if !domains.is_empty() {
            tracing::info!(domains = domains.len(), "building the search index");
        }
        for d in &domains {
            reindex(&self.db, d).await?;
        }
        Ok(())
    }

    /// Ranked search over domains, types and fields: every word must
    /// match (as a prefix); names weigh more than descriptions.
    pub async fn search_ranked(
        &self,
        text: &str,
        kinds: &[SearchKind],
        first: u64,
    ) -> Result<SearchResults, CatalogError> {
        let terms = terms(text);
        if terms.is_empty() {
            return Ok(SearchResults::default());
        }
        let backend = self.db.get_database_backend();
        let statement = match backend {
            DatabaseBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT domain_id, kind, coordinate, ts_rank(document, q)::float8 AS score \
                 FROM search_entry, to_tsquery('simple', $1) q WHERE document @@ q \
                 ORDER BY score DESC, coordinate LIMIT $2",
                [
                    terms
                        .iter()
                        .map(|t| format!("{t}:*"))
                        .collect::<Vec<_>>()
                        .join(" & ")
                        .into(),
                    (SCAN as i64).into(),
                ],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT domain_id, kind, coordinate, -bm25(search_entry, 0.0, 0.0, 4.0, 8.0, 1.0) AS score \
                 FROM search_entry WHERE search_entry MATCH ? ORDER BY score DESC, coordinate LIMIT ?",
                [
                    terms
                        .iter()
                        .map(|t| format!("\"{t}\"*"))
                        .collect::<Vec<_>>()
                        .join(" ")
                        .into(),
                    (SCAN as i64).into(),
                ],
            ),
        };
        let rows = self.db.query_all_raw(statement).await?;
        let mut found: Vec<(i32, SearchKind, String, f64)> = Vec::with_capacity(rows.len());
        for row in rows {
            let domain_id: i32 = match row.try_get::<i32>("", "domain_id") {
                Ok(id) => id,
                // FTS5 keeps UNINDEXED columns as stored: an integer.
                Err(_) => row.try_get::<i64>("", "domain_id")? as i32,
            };
            let kind = SearchKind::parse(&row.try_get::<String>("", "kind")?);
            if !kinds.is_empty() && !kinds.contains(&kind) {
                continue;
            }
            found.push((
                domain_id,
                kind,
                row.try_get("", "coordinate")?,
                row.try_get("", "score")?,
            ));
        }
        // Owners of every matched domain (two columns), full models only
        // for the hits returned.
        let mut ids: Vec<i32> = found.iter().map(|f| f.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut owners: HashMap<i32, String> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i32, String)> = domain::Entity::find()
                .select_only()
                .column(domain::Column::Id)
                .column(domain::Column::OwnerTeam)
                .filter(domain::Column::Id.is_in(chunk.to_vec()))
                .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
                .into_tuple()
                .all(&self.db)
                .await?;
            owners.extend(rows);
        }
        let mut results = SearchResults::default();
        let mut top: Vec<(i32, SearchKind, String, f64)> = Vec::new();
        for (domain_id, kind, coordinate, score) in found {
            let Some(owner) = owners.get(&domain_id) else {
                continue;
            };
            *results.by_kind.entry(kind).or_default() += 1;
            *results.by_owner.entry(owner.clone()).or_default() += 1;
            if (top.len() as u64) < first {
                top.push((domain_id, kind, coordinate, score));
            }
        }
        let wanted: Vec<i32> = top.iter().map(|t| t.0).collect();
        let models: HashMap<i32, domain::Model> = domain::Entity::find()
            .filter(domain::Column::Id.is_in(wanted))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        for (domain_id, kind, coordinate, score) in top {
            if let Some(d) = models.get(&domain_id) {
                results.hits.push(SearchHit {
                    domain: d.clone(),
                    kind,
                    coordinate,
                    score,
                });
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        assert_eq!(words_of("inStock").trim(), "in stock");
        assert_eq!(words_of("order_lines").trim(), "order lines");
        assert_eq!(words_of("Order.total").trim(), "order total");
        assert_eq!(terms("  In-Stock ;DROP  "), ["in", "stock", "drop"]);
    }
}
