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

/// Most domains taken by their names for one query.
const DOMAIN_SCAN: u64 = 100;

/// Where a candidate matched: its tier decides most of its rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    /// A domain whose name, display name or tags hold every word.
    DomainName,
    /// A type or field whose name (with its type's) holds every word.
    Name,
    /// Every word matched, some only in descriptions.
    Description,
}

/// The score of a candidate: its tier (3, 2, 1), plus half a point when
/// its name is exactly the words searched for and a quarter when it
/// starts with them (`order tot` → `Order.total`), minus a little per
/// character of its name (shorter names are closer matches).
fn score(tier: Tier, coordinate: &str, terms: &[String]) -> f64 {
    let base = match tier {
        Tier::DomainName => 3.0,
        Tier::Name => 2.0,
        Tier::Description => 1.0,
    };
    let wanted: String = terms.concat();
    let squash = |name: &str| -> String { words_of(name).split_whitespace().collect() };
    let last = coordinate.rsplit('.').next().unwrap_or(coordinate);
    let (last, whole) = (squash(last), squash(coordinate));
    let closeness = if last == wanted || whole == wanted {
        0.5
    } else if last.starts_with(&wanted) || whole.starts_with(&wanted) {
        0.25
    } else {
        0.0
    };
    base + closeness - (coordinate.len().min(200) as f64) / 1000.0
}

/// The statement reading one tier's candidates, `limit` at most, in the
/// index's own order (no ranking in the database).
fn tier_statement(
    backend: DatabaseBackend,
    tier: Tier,
    terms: &[String],
    kinds: &[SearchKind],
    limit: u64,
) -> Statement {
    let kind_names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match backend {
        DatabaseBackend::Postgres => {
            // Weight A holds names (coordinate and words), C descriptions.
            let names = terms
                .iter()
                .map(|t| format!("{t}:*A"))
                .collect::<Vec<_>>()
                .join(" & ");
            let any = terms
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            let (condition, query) = match tier {
                Tier::DomainName | Tier::Name => ("document @@ to_tsquery('simple', $1)", names.clone()),
                Tier::Description => (
                    "document @@ to_tsquery('simple', $1) AND NOT document @@ to_tsquery('simple', $2)",
                    any,
                ),
            };
            let mut values: Vec<sea_orm::Value> = vec![query.into()];
            if tier == Tier::Description {
                values.push(names.into());
            }
            values.push((limit as i64).into());
            // The kinds are this enum's own names, never the caller's text.
            let kinds = kind_names
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ");
            Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT domain_id, kind, coordinate FROM search_entry \
                     WHERE {condition} AND kind IN ({kinds}) LIMIT ${}",
                    values.len()
                ),
                values,
            )
        }
        _ => {
            // Every word as a prefix, in names only or anywhere; the kind
            // inside the index too.
            let phrase = terms
                .iter()
                .map(|t| format!("\"{t}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            // The kind inside the index, by its smaller side: fields are
            // nearly every entry, so a set holding them is said by what
            // it leaves out (a short doclist), and every kind needs no
            // clause at all.
            let clause = |names: &[&str]| format!("kind : ({})", names.join(" OR "));
            let all = [SearchKind::Domain, SearchKind::Type, SearchKind::Field];
            let left_out: Vec<&str> = all
                .iter()
                .filter(|k| !kinds.contains(k))
                .map(|k| k.as_str())
                .collect();
            let kind_filter = if left_out.is_empty() {
                String::new()
            } else if kinds.contains(&SearchKind::Field) {
                format!(" NOT ({})", clause(&left_out))
            } else {
                format!(" AND ({})", clause(&kind_names))
            };
            let query = match tier {
                Tier::DomainName | Tier::Name => {
                    format!("({{coordinate words}} : ({phrase})){kind_filter}")
                }
                Tier::Description => format!(
                    "(({{coordinate words body}} : ({phrase})) NOT ({{coordinate words}} : ({phrase}))){kind_filter}"
                ),
            };
            Statement::from_sql_and_values(
                backend,
                "SELECT domain_id, kind, coordinate FROM search_entry WHERE search_entry MATCH ? LIMIT ?",
                [query.into(), (limit as i64).into()],
            )
        }
    }
}

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
    if backend == DatabaseBackend::Sqlite {
        // The listing's trigram index holds every domain's search text,
        // deregistered ones too (the listing can include them).
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM domain_text WHERE rowid = ?",
            [d.id.into()],
        ))
        .await?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO domain_text (rowid, text) VALUES (?, ?)",
            [d.id.into(), d.search_text.clone().into()],
        ))
        .await?;
    }
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
        if backend == DatabaseBackend::Sqlite {
            let has_text = self
                .db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT rowid FROM domain_text LIMIT 1",
                ))
                .await?
                .is_some();
            if !has_text {
                self.db
                    .execute_raw(Statement::from_string(
                        backend,
                        "INSERT INTO domain_text (rowid, text) SELECT id, search_text FROM domain",
                    ))
                    .await?;
            }
        }
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
    /// match (as a prefix). Candidates come from the index in tiers, each
    /// bounded and read in index order (no scoring inside the database:
    /// bm25 or `ts_rank` over every match cost 75-290 ms at 10,000
    /// domains): domains whose names match, then types and fields whose
    /// names match, then entries that match only through descriptions.
    /// They are then ranked here (see [`score`]); facets count every
    /// candidate (up to the scan limit).
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
        let wanted = |k: SearchKind| kinds.is_empty() || kinds.contains(&k);
        let others: Vec<SearchKind> = [SearchKind::Type, SearchKind::Field]
            .into_iter()
            .filter(|k| wanted(*k))
            .collect();
        let mut tiers: Vec<(Tier, Vec<SearchKind>)> = Vec::new();
        if wanted(SearchKind::Domain) {
            tiers.push((Tier::DomainName, vec![SearchKind::Domain]));
        }
        if !others.is_empty() {
            tiers.push((Tier::Name, others));
        }
        let all: Vec<SearchKind> = [SearchKind::Domain, SearchKind::Type, SearchKind::Field]
            .into_iter()
            .filter(|k| wanted(*k))
            .collect();
        tiers.push((Tier::Description, all));
        let mut found: Vec<(i32, SearchKind, String, f64)> = Vec::new();
        for (tier, tier_kinds) in tiers {
            let room = SCAN.saturating_sub(found.len() as u64);
            if room == 0 {
                break;
            }
            let limit = match tier {
                Tier::DomainName => room.min(DOMAIN_SCAN),
                _ => room,
            };
            let statement = tier_statement(
                self.db.get_database_backend(),
                tier,
                &terms,
                &tier_kinds,
                limit,
            );
            for row in self.db.query_all_raw(statement).await? {
                let domain_id: i32 = match row.try_get::<i32>("", "domain_id") {
                    Ok(id) => id,
                    // FTS5 keeps UNINDEXED columns as stored: an integer.
                    Err(_) => row.try_get::<i64>("", "domain_id")? as i32,
                };
                let kind = SearchKind::parse(&row.try_get::<String>("", "kind")?);
                let coordinate: String = row.try_get("", "coordinate")?;
                let score = score(tier, &coordinate, &terms);
                found.push((domain_id, kind, coordinate, score));
            }
        }
        // Best first; ties by name, then domain (a stable order).
        found.sort_by(|a, b| {
            b.3.total_cmp(&a.3)
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| a.0.cmp(&b.0))
        });
        // Owners of every matched active domain (three columns), full
        // models only for the hits returned. The status is checked here,
        // not in SQL: with it in the query, SQLite (without statistics)
        // reads every active domain through the `(status, owner_team,
        // name)` index instead of looking the ids up.
        let mut ids: Vec<i32> = found.iter().map(|f| f.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut owners: HashMap<i32, String> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i32, String, domain::DomainStatus)> = domain::Entity::find()
                .select_only()
                .column(domain::Column::Id)
                .column(domain::Column::OwnerTeam)
                .column(domain::Column::Status)
                .filter(domain::Column::Id.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.db)
                .await?;
            owners.extend(
                rows.into_iter()
                    .filter(|(_, _, status)| *status == domain::DomainStatus::Active)
                    .map(|(id, owner, _)| (id, owner)),
            );
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

    #[test]
    fn names_rank_before_descriptions_and_close_names_first() {
        let t = terms("order tot");
        let exact_start = score(Tier::Name, "Order.total", &t);
        let longer = score(Tier::Name, "Order.totalWithTaxes", &t);
        let elsewhere = score(Tier::Name, "Shipment.totalOrders", &t);
        let described = score(Tier::Description, "Order.total", &t);
        assert!(exact_start > longer && longer > elsewhere && elsewhere > described);
        // A domain by its name beats any type or field.
        let t = terms("inventory");
        assert!(
            score(Tier::DomainName, "inventory-management", &t)
                > score(Tier::Name, "Inventory", &t)
        );
        assert!(score(Tier::Name, "Inventory", &t) > score(Tier::Name, "Query.inventoryItems", &t));
    }
}
