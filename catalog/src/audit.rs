//! The audit log: written inside the transaction of the change it records,
//! read newest first.

use chrono::Utc;
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::error::CatalogError;
use crate::search::{decode_cursor, encode_cursor, Page};
use crate::Catalog;

pub(crate) struct AuditEntry {
    actor: String,
    action: &'static str,
    target: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

impl AuditEntry {
    /// `target_domain` is the domain's name; targets read `domain:NAME`.
    pub fn new(actor: &str, action: &'static str, target_domain: &str) -> Self {
        Self {
            actor: actor.to_string(),
            action,
            target: format!("domain:{target_domain}"),
            before: None,
            after: None,
        }
    }

    /// Who made the change.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn before(mut self, value: Option<serde_json::Value>) -> Self {
        self.before = value;
        self
    }

    /// An entry about something other than a domain, e.g. `composition:12`.
    pub fn on(actor: &str, action: &'static str, target: String) -> Self {
        Self {
            actor: actor.to_string(),
            action,
            target,
            before: None,
            after: None,
        }
    }

    pub fn after(mut self, value: Option<serde_json::Value>) -> Self {
        self.after = value;
        self
    }

    pub async fn insert<C: ConnectionTrait>(self, txn: &C) -> Result<(), CatalogError> {
        // An alerting event goes to the webhooks in the same transaction.
        if crate::alerts::ALERT_EVENTS.contains(&self.action) {
            let at = Utc::now();
            crate::alerts::enqueue(
                txn,
                self.action,
                serde_json::json!({
                    "event": self.action,
                    "target": self.target,
                    "actor": self.actor,
                    "at": at.to_rfc3339(),
                    "details": self.after,
                }),
            )
            .await?;
        }
        audit_log::ActiveModel {
            id: NotSet,
            actor: Set(self.actor),
            action: Set(self.action.to_string()),
            target: Set(self.target),
            before: Set(self.before),
            after: Set(self.after),
            at: Set(Utc::now()),
        }
        .insert(txn)
        .await?;
        Ok(())
    }
}

/// Which audit entries to list; every set field must match.
#[derive(async_graphql::InputObject, Clone, Debug, Default)]
pub struct AuditFilter {
    /// e.g. `domain:orders`
    pub target: Option<String>,
    pub actor: Option<String>,
    /// e.g. `domain.register`, or a group: `composition` matches
    /// `composition.success` and `composition.failed`.
    pub action: Option<String>,
}

impl Catalog {
    /// Audit entries, newest first, `first` at a time after the cursor.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<audit_log::Model>, CatalogError> {
        let mut query = audit_log::Entity::find();
        if let Some(target) = &filter.target {
            query = query.filter(audit_log::Column::Target.eq(target.as_str()));
        }
        if let Some(actor) = &filter.actor {
            query = query.filter(audit_log::Column::Actor.eq(actor.as_str()));
        }
        if let Some(action) = &filter.action {
            query = if action.contains('.') {
                query.filter(audit_log::Column::Action.eq(action.as_str()))
            } else {
                use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
                query.filter(Expr::col(audit_log::Column::Action).like(
                    LikeExpr::new(crate::search::like_prefix(&format!("{action}."))).escape('\\'),
                ))
            };
        }
        if let Some(cursor) = after {
            let id: i32 = decode_cursor(cursor)?
                .parse()
                .map_err(|_| crate::search::bad_cursor(cursor))?;
            query = query.filter(audit_log::Column::Id.lt(id));
        }
        let mut rows = query
            .order_by_desc(audit_log::Column::Id)
            .limit(first + 1)
            .all(&self.db)
            .await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|r| encode_cursor(&r.id.to_string()));
        Ok(Page {
            items: rows,
            has_next_page,
            end_cursor,
        })
    }
}
