//! Access control and API management records: plans, consumers, API keys,
//! JWT issuers, field policies, access requests and grants.
//!
//! Every change is checked against the [`Caller`] (platform admins change
//! everything; a domain's owner team decides requests for its domain; a
//! consumer's team asks for access on its behalf), stored in one
//! transaction with its audit entry, and then published as a new
//! [`access::AccessSnapshot`] to gateways.

mod consumers;
mod grants;
mod issuers;
mod keys;
mod plans;
mod policies;
mod snapshot;

pub use consumers::{ConsumerPatch, ConsumerSpec};
pub use grants::{AccessRequestSpec, GrantSpec};
pub use issuers::IssuerSpec;
pub use keys::CreatedApiKey;
pub use plans::PlanSpec;
pub use policies::FieldPolicySpec;
pub(crate) use snapshot::SnapshotDomain;

use entity::{consumer, domain, plan};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait};

use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::Problems;
use crate::Catalog;

/// Who is asking, as far as the catalog's permissions go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Recorded in the audit log.
    pub name: String,
    /// Holds the platform-admin scope (`mesh:admin`).
    pub admin: bool,
    pub teams: Vec<String>,
    /// The consumer the caller's credential acts for.
    pub consumer: Option<String>,
}

impl Caller {
    /// A caller without credentials (named by the actor header, if any).
    pub fn anonymous(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            admin: false,
            teams: Vec::new(),
            consumer: None,
        }
    }

    /// A platform administrator.
    pub fn admin(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            admin: true,
            teams: Vec::new(),
            consumer: None,
        }
    }

    pub(crate) fn require_admin(&self, what: &str) -> Result<(), CatalogError> {
        if self.admin {
            Ok(())
        } else {
            Err(CatalogError::Forbidden(format!(
                "{what} needs the platform-admin scope `{}`",
                access::scopes::ADMIN
            )))
        }
    }

    fn in_team(&self, team: &str) -> bool {
        self.teams.iter().any(|t| t == team)
    }
}

/// A GraphQL name: a letter or `_`, then letters, digits or `_`.
pub(crate) fn graphql_name_ok(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn coordinate_ok(value: &str) -> bool {
    value
        .split_once('.')
        .is_some_and(|(t, f)| graphql_name_ok(t) && graphql_name_ok(f))
}

fn check_fields(problems: &mut Problems, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if !coordinate_ok(f) {
            problems.push(
                format!("fields[{i}]"),
                ProblemCode::MalformedJson,
                format!("`{f}` is not a `Type.field` coordinate"),
            );
        }
    }
}

fn scope_ok(scope: &str) -> bool {
    !scope.is_empty() && scope.len() <= 200 && !scope.chars().any(char::is_whitespace)
}

fn random_hex(bytes: usize) -> Result<String, CatalogError> {
    access::random_hex(bytes).map_err(CatalogError::Internal)
}

pub(crate) fn invalid(problems: Problems) -> Result<(), CatalogError> {
    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(problems.0))
    }
}

fn unique_violation(
    field: &'static str,
    what: String,
) -> impl FnOnce(CatalogError) -> CatalogError {
    move |e| match &e {
        CatalogError::Database(db)
            if matches!(
                db.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            CatalogError::invalid(field, ProblemCode::DuplicateName, what)
        }
        _ => e,
    }
}

/// What gateways need after a committed change.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Then {
    /// A new access snapshot (plans, consumers, keys, issuers, grants).
    Publish,
    /// A new composition (field policies are written into the supergraph).
    Recompose,
    /// Nothing yet (a pending request changes no one's access).
    Nothing,
}

/// One audited change in progress: the writes go through [`Change::txn`];
/// [`Change::commit`] stores the audit entry in the same transaction,
/// commits, and tells gateways. Dropped without a commit, nothing is kept.
pub(crate) struct Change<'c> {
    catalog: &'c Catalog,
    txn: DatabaseTransaction,
}

impl Change<'_> {
    pub(crate) fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub(crate) async fn commit(self, audit: AuditEntry, then: Then) -> Result<(), CatalogError> {
        let actor = audit.actor().to_string();
        audit.insert(&self.txn).await?;
        self.txn.commit().await?;
        match then {
            Then::Publish => self.catalog.publish_after_change().await,
            Then::Recompose => self.catalog.recompose_after_change(&actor).await,
            Then::Nothing => {}
        }
        Ok(())
    }
}

impl Catalog {
    /// Starts an audited change (see [`Change`]).
    pub(crate) async fn change(&self) -> Result<Change<'_>, CatalogError> {
        Ok(Change {
            catalog: self,
            txn: self.db.begin().await?,
        })
    }

    async fn plan_named(&self, name: &str) -> Result<Option<plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .filter(plan::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn consumer_named(
        &self,
        name: &str,
    ) -> Result<Option<consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .filter(consumer::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    async fn consumer_required(&self, name: &str) -> Result<consumer::Model, CatalogError> {
        self.consumer_named(name)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "consumer",
                name: name.to_string(),
            })
    }

    async fn active_domain(&self, name: &str) -> Result<domain::Model, CatalogError> {
        let d = self
            .get(name)
            .await?
            .ok_or_else(|| CatalogError::DomainNotFound(name.to_string()))?;
        if d.status != domain::DomainStatus::Active {
            return Err(CatalogError::DomainDeregistered(name.to_string()));
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::coordinate_ok;

    #[test]
    fn coordinates() {
        assert!(coordinate_ok("Order.total"));
        assert!(coordinate_ok("_T._f1"));
        assert!(!coordinate_ok("Order"));
        assert!(!coordinate_ok("Order.total.x"));
        assert!(!coordinate_ok("1Order.total"));
        assert!(!coordinate_ok(".total"));
    }
}
