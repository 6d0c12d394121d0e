//! Alert webhooks and their delivery log in the discovery API (platform
//! admins only; the secret is write-only).

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{caller, catalog, fail};
use crate::alerts::{AlertWebhookSpec, ALERT_EVENTS};

#[derive(SimpleObject)]
pub(super) struct AlertWebhook {
    name: String,
    url: String,
    /// The events it receives (empty: all).
    events: Vec<String>,
    enabled: bool,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl From<entity::alert_webhook::Model> for AlertWebhook {
    fn from(m: entity::alert_webhook::Model) -> Self {
        Self {
            events: m
                .events
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            name: m.name,
            url: m.url,
            enabled: m.enabled,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// One alert to one webhook and how its delivery went.
#[derive(SimpleObject)]
pub(super) struct AlertDelivery {
    id: i32,
    webhook: String,
    event: String,
    payload: async_graphql::Json<serde_json::Value>,
    /// `PENDING` (to send or retry), `DELIVERED` or `FAILED` (gave up).
    status: String,
    attempts: i32,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub(super) struct AlertQuery;

#[Object]
impl AlertQuery {
    /// The events a webhook can receive.
    async fn alert_events(&self) -> Vec<&'static str> {
        ALERT_EVENTS.to_vec()
    }

    /// Alert webhooks (platform admins).
    async fn alert_webhooks(&self, ctx: &Context<'_>) -> Result<Vec<AlertWebhook>> {
        Ok(catalog(ctx)?
            .alert_webhooks(&caller(ctx))
            .await
            .map_err(fail)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The delivery log, newest first: of one webhook, or of all.
    async fn alert_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<AlertDelivery>> {
        let rows = catalog(ctx)?
            .alert_deliveries(&caller(ctx), webhook.as_deref(), first.max(1) as u64)
            .await
            .map_err(fail)?;
        Ok(rows
            .into_iter()
            .map(|(webhook, d)| AlertDelivery {
                id: d.id,
                webhook,
                event: d.event,
                payload: async_graphql::Json(d.payload),
                status: d.status.to_uppercase(),
                attempts: d.attempts,
                last_status_code: d.last_status_code,
                last_error: d.last_error,
                next_attempt_at: d.next_attempt_at,
                created_at: d.created_at,
                delivered_at: d.delivered_at,
            })
            .collect())
    }
}

#[derive(Default)]
pub(super) struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Sends alert events to `url`, each POST signed in the header
    /// `X-Meshwork-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
    /// "<t>.<body>" with the secret>`; retried with backoff up to 6 times.
    async fn create_alert_webhook(
        &self,
        ctx: &Context<'_>,
        spec: AlertWebhookSpec,
    ) -> Result<AlertWebhook> {
        Ok(catalog(ctx)?
            .create_alert_webhook(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    /// Removes a webhook and its delivery log.
    async fn remove_alert_webhook(&self, ctx: &Context<'_>, name: String) -> Result<bool> {
        catalog(ctx)?
            .remove_alert_webhook(&caller(ctx), &name)
            .await
            .map_err(fail)?;
        Ok(true)
    }
}
