//! Alert webhooks: the catalog posts an event (a domain's schema endpoint
//! failing or recovering, a composition failing, a schema version held for
//! review) to every webhook that asked for it, signed with the webhook's
//! secret, retried with backoff, every attempt kept in the delivery log.
//!
//! An alert is enqueued in the transaction of the audit entry that records
//! its event, so a committed event is never without its deliveries; a
//! sender task delivers them. Several control planes on one database take
//! a delivery by moving its next attempt forward first (a lease), so each
//! attempt is made once.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{alert_delivery, alert_webhook};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sha2::Sha256;

use crate::access::invalid;
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// The events a webhook can ask for (audit actions).
pub const ALERT_EVENTS: [&str; 6] = [
    "domain.schema_failing",
    "domain.schema_recovered",
    "composition.failed",
    "schema.held",
    "slo.breached",
    "slo.recovered",
];

/// Failed pulls in a row after which a domain's schema endpoint counts as
/// failing (one alert, not one per pull).
pub(crate) const FAILING_AFTER: i32 = 3;

/// Attempts before a delivery is given up (then `failed` in the log).
const MAX_ATTEMPTS: i32 = 6;

/// How long a sender holds a delivery it is attempting.
const LEASE: Duration = Duration::from_secs(60);

/// Wakes the sender when an alert was enqueued (it also looks every second).
static WAKE: LazyLock<tokio::sync::Notify> = LazyLock::new(tokio::sync::Notify::new);

/// A webhook as the API creates it.
#[derive(async_graphql::InputObject, Clone, Debug)]
pub struct AlertWebhookSpec {
    /// A slug naming the webhook.
    pub name: String,
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Signs every payload (HMAC-SHA256); 16 characters at least. Never
    /// shown again.
    pub secret: String,
    /// Which events; empty: all of them.
    #[graphql(default)]
    pub events: Vec<String>,
}

/// Enqueues `event` for every enabled webhook that wants it, in the
/// caller's transaction. Called by [`AuditEntry::insert`] for alerting
/// actions.
pub(crate) async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    event: &str,
    payload: serde_json::Value,
) -> Result<(), CatalogError> {
    let hooks = alert_webhook::Entity::find()
        .filter(alert_webhook::Column::Enabled.eq(true))
        .all(txn)
        .await?;
    let now = Utc::now();
    let mut any = false;
    for hook in hooks {
        if !wants(&hook, event) {
            continue;
        }
        alert_delivery::ActiveModel {
            id: NotSet,
            webhook_id: Set(hook.id),
            event: Set(event.to_string()),
            payload: Set(payload.clone()),
            status: Set("pending".to_string()),
            attempts: Set(0),
            last_status_code: Set(None),
            last_error: Set(None),
            next_attempt_at: Set(now),
            created_at: Set(now),
            delivered_at: Set(None),
        }
        .insert(txn)
        .await?;
        any = true;
    }
    if any {
        WAKE.notify_one();
    }
    Ok(())
}

/// Whether the webhook asked for the event (a stored list it cannot read
/// asks for nothing rather than everything).
fn wants(hook: &alert_webhook::Model, event: &str) -> bool {
    match hook.events.as_array() {
        Some(events) if events.is_empty() => true,
        Some(events) => events.iter().any(|e| e.as_str() == Some(event)),
        None => false,
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; kept total all the same.
        Err(_) => return format!("t={timestamp},v1="),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Wait before attempt `n + 1` after `n` failed ones: 2, 4, 8, … seconds,
/// at most ten minutes.
fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 10) as u32;
    Duration::from_secs(2u64.saturating_pow(exp)).min(Duration::from_secs(600))
}

impl Catalog {
    /// Registers a webhook (platform admins).
    pub async fn create_alert_webhook(
        &self,
        caller: &Caller,
        spec: AlertWebhookSpec,
    ) -> Result<alert_webhook::Model, CatalogError> {
        caller.require_admin("registering an alert webhook")?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        validate::http_url(&mut problems, "url", spec.url.trim());
        if spec.secret.chars().count() < 16 {
            problems.push(
                "secret",
                ProblemCode::InvalidKey,
                "the signing secret must be at least 16 characters (e.g. `openssl rand -hex 24`)",
            );
        }
        for (i, event) in spec.events.iter().enumerate() {
            if !ALERT_EVENTS.contains(&event.as_str()) {
                problems.push(
                    format!("events[{i}]"),
                    ProblemCode::UnknownReference,
                    format!(
                        "`{event}` is not an alert event; the events are {}",
                        ALERT_EVENTS.join(", ")
                    ),
                );
            }
        }
        if alert_webhook::Entity::find()
            .filter(alert_webhook::Column::Name.eq(spec.name.as_str()))
            .one(&self.db)
            .await?
            .is_some()
        {
            problems.push(
                "name",
                ProblemCode::DuplicateName,
                format!("an alert webhook named `{}` exists", spec.name),
            );
        }
        invalid(problems)?;
        let mut events = spec.events.clone();
        events.sort();
        events.dedup();
        let txn = self.db.begin().await?;
        let model = alert_webhook::ActiveModel {
            id: NotSet,
            name: Set(spec.name.clone()),
            url: Set(spec.url.trim().to_string()),
            secret: Set(spec.secret.clone()),
            events: Set(serde_json::json!(events)),
            enabled: Set(true),
            created_by: Set(caller.name.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        AuditEntry::on(
            &caller.name,
            "alert_webhook.create",
            format!("alert_webhook:{}", spec.name),
        )
        .after(Some(
            serde_json::json!({ "url": model.url, "events": model.events }),
        ))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Removes a webhook and its delivery log (platform admins).
    pub async fn remove_alert_webhook(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(), CatalogError> {
        caller.require_admin("removing an alert webhook")?;
        let hook = self.alert_webhook_named(name).await?;
        let txn = self.db.begin().await?;
        alert_delivery::Entity::delete_many()
            .filter(alert_delivery::Column::WebhookId.eq(hook.id))
            .exec(&txn)
            .await?;
        alert_webhook::Entity::delete_by_id(hook.id)
            .exec(&txn)
            .await?;
        AuditEntry::on(
            &caller.name,
            "alert_webhook.remove",
            format!("alert_webhook:{name}"),
        )
        .before(Some(
            serde_json::json!({ "url": hook.url, "events": hook.events }),
        ))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn alert_webhook_named(&self, name: &str) -> Result<alert_webhook::Model, CatalogError> {
        alert_webhook::Entity::find()
            .filter(alert_webhook::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "alert webhook",
                name: name.to_string(),
            })
    }

    /// Every webhook (platform admins).
    pub async fn alert_webhooks(
        &self,
        caller: &Caller,
    ) -> Result<Vec<alert_webhook::Model>, CatalogError> {
        caller.require_admin("reading alert webhooks")?;
        Ok(alert_webhook::Entity::find()
            .order_by_asc(alert_webhook::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// The newest deliveries of one webhook, or of all (platform admins).
    pub async fn alert_deliveries(
        &self,
        caller: &Caller,
        webhook: Option<&str>,
        first: u64,
    ) -> Result<Vec<(String, alert_delivery::Model)>, CatalogError> {
        caller.require_admin("reading alert deliveries")?;
        let hooks = alert_webhook::Entity::find().all(&self.db).await?;
        let mut query = alert_delivery::Entity::find();
        if let Some(name) = webhook {
            let hook = self.alert_webhook_named(name).await?;
            query = query.filter(alert_delivery::Column::WebhookId.eq(hook.id));
        }
        let rows = query
            .order_by_desc(alert_delivery::Column::Id)
            .limit(first.clamp(1, 500))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let name = hooks
                    .iter()
                    .find(|h| h.id == d.webhook_id)
                    .map(|h| h.name.clone())
                    .unwrap_or_default();
                (name, d)
            })
            .collect())
    }

    /// Delivers enqueued alerts until the task is aborted.
    pub fn spawn_alert_sender(&self) -> tokio::task::JoinHandle<()> {
        let catalog = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = catalog.send_due_alerts().await {
                    tracing::warn!(error = %e, "alert delivery pass failed; retrying");
                }
                tokio::select! {
                    _ = WAKE.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    }

    /// One pass: every due delivery, attempted once.
    async fn send_due_alerts(&self) -> Result<(), CatalogError> {
        let now = Utc::now();
        let due = alert_delivery::Entity::find()
            .filter(alert_delivery::Column::Status.eq("pending"))
            .filter(alert_delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(alert_delivery::Column::Id)
            .limit(50)
            .all(&self.db)
            .await?;
        for delivery in due {
            // Take it: only the sender that moves its next attempt wins.
            let lease_until = now
                + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::zero());
            let taken = alert_delivery::Entity::update_many()
                .col_expr(
                    alert_delivery::Column::NextAttemptAt,
                    sea_orm::sea_query::Expr::value(lease_until),
                )
                .filter(alert_delivery::Column::Id.eq(delivery.id))
                .filter(alert_delivery::Column::Status.eq("pending"))
                .filter(alert_delivery::Column::NextAttemptAt.eq(delivery.next_attempt_at))
                .exec(&self.db)
                .await?;
            if taken.rows_affected != 1 {
                continue;
            }
            let hook = alert_webhook::Entity::find_by_id(delivery.webhook_id)
                .one(&self.db)
                .await?;
            let result = match &hook {
                Some(hook) => self.post_alert(hook, &delivery).await,
                None => Err((None, "the webhook was removed".to_string())),
            };
            self.record_attempt(delivery, hook.is_some(), result)
                .await?;
        }
        Ok(())
    }

    async fn post_alert(
        &self,
        hook: &alert_webhook::Model,
        delivery: &alert_delivery::Model,
    ) -> Result<u16, (Option<u16>, String)> {
        let body = serde_json::to_vec(&delivery.payload)
            .map_err(|e| (None, format!("payload not serializable: {e}")))?;
        let timestamp = Utc::now().timestamp();
        let response = self
            .http
            .post(&hook.url)
            .timeout(Duration::from_secs(10))
            .header("content-type", "application/json")
            .header("x-meshwork-event", &delivery.event)
            .header("x-meshwork-delivery", delivery.id.to_string())
            .header(
                "x-meshwork-signature",
                signature(&hook.secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| (None, format!("cannot reach {}: {e}", hook.url)))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(status)
        } else {
            Err((Some(status), format!("{} answered HTTP {status}", hook.url)))
        }
    }

    async fn record_attempt(
        &self,
        delivery: alert_delivery::Model,
        retry: bool,
        result: Result<u16, (Option<u16>, String)>,
    ) -> Result<(), CatalogError> {
        let attempts = delivery.attempts.saturating_add(1);
        let now: DateTime<Utc> = Utc::now();
        let mut row: alert_delivery::ActiveModel = delivery.into();
        row.attempts = Set(attempts);
        match result {
            Ok(status) => {
                row.status = Set("delivered".to_string());
                row.last_status_code = Set(Some(i32::from(status)));
                row.last_error = Set(None);
                row.delivered_at = Set(Some(now));
            }
            Err((status, error)) => {
                tracing::warn!(%error, attempts, "alert delivery failed");
                row.last_status_code = Set(status.map(i32::from));
                row.last_error = Set(Some(error));
                if retry && attempts < MAX_ATTEMPTS {
                    let wait = chrono::Duration::from_std(backoff(attempts))
                        .unwrap_or_else(|_| chrono::Duration::seconds(600));
                    row.next_attempt_at = Set(now + wait);
                } else {
                    row.status = Set("failed".to_string());
                }
            }
        }
        row.update(&self.db).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff, signature};
    use std::time::Duration;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // HMAC-SHA256("key", "1.{}") as Python's hmac module computes it.
        assert_eq!(
            signature("key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(30), Duration::from_secs(600));
    }
}
