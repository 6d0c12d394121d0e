//! Saved queries: named federated queries (owner team, description, the
//! document, default variables, which list becomes the rows) that a BI tool
//! fetches as a table from one URL, `/export/{name}.csv` on a gateway.
//!
//! The catalog keeps the records and checks each one when saved: the
//! document parses, holds the named operation, and that operation is a
//! query (an export URL is a GET; nothing it runs may write). Gateways get
//! them in the access snapshot and run them with the caller's own
//! credentials, so a saved query never reads more than its caller may.
//! Removing one keeps the record (`deleted_at`); saving the name again
//! brings it back.

use std::collections::BTreeMap;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use chrono::Utc;
use entity::saved_query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::access::invalid;
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// The longest document a saved query may hold.
const MAX_DOCUMENT: usize = 100_000;

/// A saved query as a team submits it.
#[derive(async_graphql::InputObject, Clone, Debug, Default)]
pub struct SavedQuerySpec {
    /// A slug: the export URL's name (`/export/{name}.csv`).
    pub name: String,
    /// The team that may change or remove it.
    pub owner_team: String,
    #[graphql(default)]
    pub description: String,
    /// The GraphQL document; its operation must be a query.
    pub query: String,
    /// Which operation of the document, when it has several.
    pub operation_name: Option<String>,
    /// Default values of the operation's variables (a JSON object); a URL
    /// parameter of the same name overrides one.
    pub variables: Option<async_graphql::Json<serde_json::Value>>,
    /// The dotted path of the list that becomes the rows
    /// (`ordersByDate`); by default the first list of the answer.
    pub rows: Option<String>,
}

/// What a checked document declares.
struct Checked {
    variable_types: BTreeMap<String, String>,
}

/// Checks `spec`'s document; problems go to `problems`.
fn check_document(problems: &mut Problems, spec: &SavedQuerySpec) -> Option<Checked> {
    if spec.query.trim().is_empty() {
        problems.push("query", ProblemCode::Required, "must not be empty");
        return None;
    }
    if spec.query.len() > MAX_DOCUMENT {
        problems.push(
            "query",
            ProblemCode::TooLong,
            format!(
                "is {} bytes long, at most {MAX_DOCUMENT} allowed",
                spec.query.len()
            ),
        );
        return None;
    }
    let document = match async_graphql::parser::parse_query(&spec.query) {
        Ok(document) => document,
        Err(e) => {
            let at = e
                .positions()
                .next()
                .map(|p| format!(" at line {}, column {}", p.line, p.column))
                .unwrap_or_default();
            problems.push(
                "query",
                ProblemCode::MalformedJson,
                format!(
                    "is not a valid GraphQL document{at}: {}",
                    crate::schema_doc::plain_expectation(&e.to_string())
                ),
            );
            return None;
        }
    };
    let operation = match (&document.operations, spec.operation_name.as_deref()) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Single(_), Some(name)) => {
            problems.push(
                "operationName",
                ProblemCode::UnknownReference,
                format!(
                    "the document has one unnamed operation, not `{name}`; leave operationName out"
                ),
            );
            None
        }
        (DocumentOperations::Multiple(ops), Some(name)) => {
            let op = ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op);
            if op.is_none() {
                let mut names: Vec<&str> = ops.keys().map(|n| n.as_str()).collect();
                names.sort();
                problems.push(
                    "operationName",
                    ProblemCode::UnknownReference,
                    format!(
                        "the document has no operation `{name}`; it has {}",
                        names.join(", ")
                    ),
                );
            }
            op
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(ops), None) => {
            let mut names: Vec<&str> = ops.keys().map(|n| n.as_str()).collect();
            names.sort();
            problems.push(
                "operationName",
                ProblemCode::Required,
                format!(
                    "the document has {} operations ({}); name the one to run",
                    names.len(),
                    names.join(", ")
                ),
            );
            None
        }
    }?;
    if operation.node.ty != OperationType::Query {
        problems.push(
            "query",
            ProblemCode::BadState,
            format!(
                "the operation is a {}; a saved query may only read (an export URL is a GET)",
                operation.node.ty
            ),
        );
        return None;
    }
    let variable_types: BTreeMap<String, String> = operation
        .node
        .variable_definitions
        .iter()
        .map(|v| {
            (
                v.node.name.node.to_string(),
                v.node.var_type.node.to_string(),
            )
        })
        .collect();
    if let Some(variables) = &spec.variables {
        match variables.0.as_object() {
            Some(values) => {
                for name in values.keys() {
                    if !variable_types.contains_key(name) {
                        problems.push(
                            format!("variables.{name}"),
                            ProblemCode::UnknownReference,
                            format!("the operation declares no variable `${name}`"),
                        );
                    }
                }
            }
            None => problems.push(
                "variables",
                ProblemCode::MalformedJson,
                "must be a JSON object of variable values",
            ),
        }
    }
    Some(Checked { variable_types })
}

fn rows_path(problems: &mut Problems, rows: Option<&str>) -> Option<String> {
    let rows = rows.map(str::trim).filter(|r| !r.is_empty())?;
    let bad = rows.split('.').any(|part| {
        part.is_empty()
            || !part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if bad {
        problems.push(
            "rows",
            ProblemCode::BadSlug,
            format!("`{rows}` is not a dotted path of field names (e.g. `ordersByDate` or `meshwork.dataProducts`)"),
        );
    }
    Some(rows.to_string())
}

/// The record as the audit log keeps it (everything that defines it).
fn audited(m: &saved_query::Model) -> serde_json::Value {
    serde_json::json!({
        "ownerTeam": m.owner_team,
        "description": m.description,
        "query": m.document,
        "operationName": m.operation_name,
        "variables": m.variables,
        "rows": m.rows,
    })
}

/// The gateways' form of a record; a record whose stored JSON does not
/// read is left out (its URL answers "no such saved query") rather than
/// run with other values.
pub(crate) fn record(m: &saved_query::Model) -> Option<access::SavedQueryRecord> {
    let variables = match m.variables.as_object() {
        Some(v) => v.clone(),
        None => {
            tracing::error!(saved_query = %m.name, "stored variables are not an object; the saved query is not served");
            return None;
        }
    };
    let variable_types = match serde_json::from_value(m.variable_types.clone()) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(saved_query = %m.name, error = %e, "stored variable types are corrupt; the saved query is not served");
            return None;
        }
    };
    Some(access::SavedQueryRecord {
        query: m.document.clone(),
        operation_name: m.operation_name.clone(),
        variables,
        variable_types,
        rows: m.rows.clone(),
    })
}

impl Catalog {
    fn may_change_saved_query(
        &self,
        caller: &Caller,
        owner_team: &str,
    ) -> Result<(), CatalogError> {
        self.may_change_owned(caller, owner_team, "the saved query")
    }

    /// Creates or replaces a saved query. Replacing one needs its owner
    /// team (and the new owner team, if it changes); a removed one of the
    /// same name is brought back.
    pub async fn save_query(
        &self,
        caller: &Caller,
        spec: SavedQuerySpec,
    ) -> Result<saved_query::Model, CatalogError> {
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        validate::required_text(&mut problems, "ownerTeam", &spec.owner_team);
        validate::description(&mut problems, "description", &spec.description);
        let rows = rows_path(&mut problems, spec.rows.as_deref());
        let checked = check_document(&mut problems, &spec);
        invalid(problems)?;
        let Some(checked) = checked else {
            // Every path that yields no document pushed a problem.
            return Err(CatalogError::Invalid(vec![crate::Problem::new(
                "query",
                ProblemCode::Required,
                "must hold a query",
            )]));
        };
        let owner = spec.owner_team.trim().to_string();
        self.may_change_saved_query(caller, &owner)?;
        let existing = saved_query::Entity::find()
            .filter(saved_query::Column::Name.eq(spec.name.as_str()))
            .one(&self.db)
            .await?;
        if let Some(current) = existing.as_ref().filter(|c| c.deleted_at.is_none()) {
            self.may_change_saved_query(caller, &current.owner_team)?;
        }
        let now = Utc::now();
        let variables = spec
            .variables
            .map(|v| v.0)
            .unwrap_or_else(|| serde_json::json!({}));
        let txn = self.db.begin().await?;
        let (model, action, before) = match existing {
            Some(current) => {
                let before = (current.deleted_at.is_none()).then(|| audited(&current));
                let action = if current.deleted_at.is_some() {
                    "saved_query.restore"
                } else {
                    "saved_query.update"
                };
                let mut active: saved_query::ActiveModel = current.into();
                active.owner_team = Set(owner);
                active.description = Set(spec.description.clone());
                active.document = Set(spec.query.clone());
                active.operation_name = Set(spec.operation_name.clone());
                active.variables = Set(variables);
                active.variable_types = Set(serde_json::json!(checked.variable_types));
                active.rows = Set(rows);
                active.updated_by = Set(caller.name.clone());
                active.updated_at = Set(now);
                active.deleted_at = Set(None);
                (active.update(&txn).await?, action, before)
            }
            None => (
                saved_query::ActiveModel {
                    id: NotSet,
                    name: Set(spec.name.clone()),
                    owner_team: Set(owner),
                    description: Set(spec.description.clone()),
                    document: Set(spec.query.clone()),
                    operation_name: Set(spec.operation_name.clone()),
                    variables: Set(variables),
                    variable_types: Set(serde_json::json!(checked.variable_types)),
                    rows: Set(rows),
                    created_by: Set(caller.name.clone()),
                    created_at: Set(now),
                    updated_by: Set(caller.name.clone()),
                    updated_at: Set(now),
                    deleted_at: Set(None),
                }
                .insert(&txn)
                .await?,
                "saved_query.create",
                None,
            ),
        };
        AuditEntry::on(&caller.name, action, format!("saved_query:{}", model.name))
            .before(before)
            .after(Some(audited(&model)))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    /// Removes a saved query from use (its URL stops answering); the
    /// record and its history stay.
    pub async fn delete_saved_query(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(), CatalogError> {
        let current = self.saved_query(name).await?;
        self.may_change_saved_query(caller, &current.owner_team)?;
        let txn = self.db.begin().await?;
        let before = audited(&current);
        let mut active: saved_query::ActiveModel = current.into();
        active.deleted_at = Set(Some(Utc::now()));
        active.updated_by = Set(caller.name.clone());
        active.update(&txn).await?;
        AuditEntry::on(
            &caller.name,
            "saved_query.delete",
            format!("saved_query:{name}"),
        )
        .before(Some(before))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(())
    }

    /// A saved query in use, by name.
    pub async fn saved_query(&self, name: &str) -> Result<saved_query::Model, CatalogError> {
        saved_query::Entity::find()
            .filter(saved_query::Column::Name.eq(name))
            .filter(saved_query::Column::DeletedAt.is_null())
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "saved query",
                name: name.to_string(),
            })
    }

    /// Saved queries in use, by name; of one owner team when given.
    pub async fn saved_queries(
        &self,
        owner_team: Option<&str>,
    ) -> Result<Vec<saved_query::Model>, CatalogError> {
        let mut find = saved_query::Entity::find().filter(saved_query::Column::DeletedAt.is_null());
        if let Some(team) = owner_team {
            find = find.filter(saved_query::Column::OwnerTeam.eq(team));
        }
        Ok(find
            .order_by_asc(saved_query::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// The gateways' form of every saved query in use.
    pub(crate) async fn saved_query_records(
        &self,
    ) -> Result<BTreeMap<String, access::SavedQueryRecord>, CatalogError> {
        Ok(self
            .saved_queries(None)
            .await?
            .iter()
            .filter_map(|m| Some((m.name.clone(), record(m)?)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(query: &str) -> SavedQuerySpec {
        SavedQuerySpec {
            name: "orders-today".into(),
            owner_team: "sales".into(),
            query: query.into(),
            ..Default::default()
        }
    }

    fn problems_of(spec: &SavedQuerySpec) -> Vec<String> {
        let mut problems = Problems::default();
        check_document(&mut problems, spec);
        problems.0.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_query_is_accepted_with_its_variable_types() {
        let mut problems = Problems::default();
        let checked = check_document(
            &mut problems,
            &spec("query Orders($date: String!, $ids: [ID!]) { ordersByDate(date: $date) { id } }"),
        )
        .expect("checked");
        assert!(problems.0.is_empty());
        assert_eq!(checked.variable_types["date"], "String!");
        assert_eq!(checked.variable_types["ids"], "[ID!]");
    }

    #[test]
    fn writes_bad_documents_and_unknown_variables_are_refused() {
        let found = problems_of(&spec("mutation { placeOrder { id } }"));
        assert!(
            found[0].contains("a saved query may only read"),
            "{found:?}"
        );
        let found = problems_of(&spec("{ orders( }"));
        assert!(found[0].contains("line 1, column"), "{found:?}");
        let found = problems_of(&spec("query A { a } query B { b }"));
        assert!(found[0].contains("name the one to run"), "{found:?}");
        let mut s = spec("query A($d: String) { a(d: $d) }");
        s.variables = Some(async_graphql::Json(serde_json::json!({ "x": 1 })));
        let found = problems_of(&s);
        assert!(found[0].contains("no variable `$x`"), "{found:?}");
        let mut problems = Problems::default();
        rows_path(&mut problems, Some("a..b"));
        assert_eq!(problems.0.len(), 1);
    }
}
