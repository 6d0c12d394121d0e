//! The schema puller (the whitepaper's "domain schema API"): fetches each
//! domain's schema from its endpoint at registration and then every poll
//! interval (jittered, bounded concurrency, timeouts), keeps each distinct
//! version, records the endpoint's health, and recomposes on change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{domain, domain_health};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use tokio::sync::Semaphore;

use crate::audit::AuditEntry;
use crate::error::CatalogError;
use crate::Catalog;

/// Who the puller's changes are audited as.
pub const PULLER: &str = "schema-puller";

/// How the puller runs.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// Poll interval of domains that set none.
    pub default_interval: Duration,
    /// Time allowed for one schema fetch.
    pub timeout: Duration,
    /// Fetches in flight at once.
    pub concurrency: usize,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            concurrency: 8,
        }
    }
}

/// The result of one pull.
#[derive(Clone, Debug, PartialEq)]
pub enum PullOutcome {
    /// A new distinct schema version was stored.
    NewVersion { hash: String },
    /// The endpoint answered the schema already stored.
    Unchanged { hash: String },
    /// The endpoint failed; the last good schema stays.
    Failed { reason: String },
}

impl Catalog {
    /// A pull asked for by a caller (`refreshDomain`, `domain refresh`):
    /// on a secured catalog, only the owner team or an admin.
    pub async fn refresh(
        &self,
        caller: &crate::Caller,
        name: &str,
        timeout: Duration,
    ) -> Result<PullOutcome, CatalogError> {
        let domain = self.get_active(name).await?;
        self.may_change_domain(caller, &domain.owner_team)?;
        self.pull_schema(name, timeout).await
    }

    /// Fetches one domain's schema now, stores it if it changed, records
    /// health, and recomposes the supergraph after a change.
    #[tracing::instrument(level = "info", name = "catalog.schema_pull", skip(self, timeout))]
    pub async fn pull_schema(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<PullOutcome, CatalogError> {
        let domain = self.get_active(name).await?;
        let endpoint = domain
            .schema_endpoint
            .clone()
            .unwrap_or_else(|| domain.api_url.clone());
        let started = Instant::now();
        let fetched = match domain.kind {
            domain::ApiKind::Graphql => fetch_sdl(&self.http, &endpoint, timeout).await,
            domain::ApiKind::Rest => fetch_document(&self.http, &endpoint, timeout).await,
        };
        // A REST domain's document must derive a subgraph; one that does
        // not is a failed pull (the last good version keeps serving).
        let fetched = fetched.and_then(|document| match domain.kind {
            // A schema that does not parse is a failed pull: never stored,
            // the domain's health says why, the last good version serves.
            domain::ApiKind::Graphql => match crate::schema_doc::sdl_problem(&document) {
                None => Ok((document, None)),
                Some(problem) => Err(problem),
            },
            domain::ApiKind::Rest => {
                match openapi::derive(&document, &crate::rest::settings_of(&domain)) {
                    Ok(derived) => serde_json::to_string(&derived)
                        .map(|d| (document, Some(d)))
                        .map_err(|e| {
                            format!("gave a document whose derivation cannot be stored: {e}")
                        }),
                    Err(e) => Err(format!(
                        "gave an OpenAPI document that does not derive a subgraph: {e}"
                    )),
                }
            }
        });
        let outcome = match fetched {
            Ok((document, derived)) => {
                let recorded = self
                    .record_schema_version(PULLER, name, &document, &endpoint, derived)
                    .await?;
                self.record_health(domain.id, name, None).await?;
                if recorded.is_new {
                    self.recompose(PULLER).await?;
                    PullOutcome::NewVersion {
                        hash: recorded.version.hash,
                    }
                } else {
                    PullOutcome::Unchanged {
                        hash: recorded.version.hash,
                    }
                }
            }
            Err(reason) => {
                let reason = format!(
                    "schema endpoint {endpoint} {reason} after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                tracing::warn!(domain = name, %reason, "schema pull failed");
                self.record_health(domain.id, name, Some(&reason)).await?;
                PullOutcome::Failed { reason }
            }
        };
        Ok(outcome)
    }

    /// Records a pull's outcome; the pull that makes a domain's schema
    /// endpoint count as failing, and the one that ends that, are audited
    /// (and alerted: `domain.schema_failing`, `domain.schema_recovered`).
    async fn record_health(
        &self,
        domain_id: i32,
        name: &str,
        error: Option<&str>,
    ) -> Result<(), CatalogError> {
        crate::metrics::count(
            "meshwork.schema_pulls",
            if error.is_none() { "ok" } else { "failed" },
        );
        let now = Utc::now();
        let existing = domain_health::Entity::find_by_id(domain_id)
            .one(&self.db)
            .await?;
        let failures = match (&existing, error) {
            (_, None) => 0,
            (Some(h), Some(_)) => h.consecutive_failures.saturating_add(1),
            (None, Some(_)) => 1,
        };
        let last_success = match (&existing, error) {
            (_, None) => Some(now),
            (Some(h), Some(_)) => h.last_success_at,
            (None, Some(_)) => None,
        };
        let row = domain_health::ActiveModel {
            domain_id: Set(domain_id),
            last_attempt_at: Set(now),
            last_success_at: Set(last_success),
            last_error: Set(error.map(str::to_string)),
            consecutive_failures: Set(failures),
        };
        let was_failing = existing
            .as_ref()
            .is_some_and(|h| h.consecutive_failures >= crate::alerts::FAILING_AFTER);
        let txn = self.db.begin().await?;
        match existing {
            Some(_) => row.update(&txn).await?,
            None => row.insert(&txn).await?,
        };
        if failures == crate::alerts::FAILING_AFTER {
            AuditEntry::new(PULLER, "domain.schema_failing", name)
                .after(Some(serde_json::json!({
                    "consecutiveFailures": failures,
                    "lastError": error,
                    "lastSuccessAt": last_success,
                })))
                .insert(&txn)
                .await?;
        } else if error.is_none() && was_failing {
            AuditEntry::new(PULLER, "domain.schema_recovered", name)
                .insert(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Schema endpoint health of each domain; one query.
    pub async fn health_of(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, domain_health::Model>, CatalogError> {
        Ok(domain_health::Entity::find()
            .filter(domain_health::Column::DomainId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.domain_id, h))
            .collect())
    }

    /// Polls every active domain on its interval until the task is aborted.
    pub fn spawn_puller(&self, options: PullOptions) -> tokio::task::JoinHandle<()> {
        let catalog = self.clone();
        tokio::spawn(async move { catalog.run_puller(options).await })
    }

    async fn run_puller(self, options: PullOptions) {
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut next_due: HashMap<String, Instant> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let domains = match domain::Entity::find()
                .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
                .all(&self.db)
                .await
            {
                Ok(domains) => domains,
                Err(e) => {
                    tracing::error!(error = %e, "schema puller cannot list domains");
                    continue;
                }
            };
            let now = Instant::now();
            next_due.retain(|name, _| domains.iter().any(|d| &d.name == name));
            for d in domains {
                if next_due.get(&d.name).is_some_and(|due| *due > now) {
                    continue;
                }
                let interval = d
                    .poll_interval_seconds
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Duration::from_secs)
                    .unwrap_or(options.default_interval);
                next_due.insert(d.name.clone(), now + jittered(interval, &d.name));
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let catalog = self.clone();
                let timeout = options.timeout;
                tokio::spawn(async move {
                    if let Err(e) = catalog.pull_schema(&d.name, timeout).await {
                        tracing::error!(domain = d.name, error = %e, "schema pull could not be recorded");
                    }
                    drop(permit);
                });
            }
        }
    }
}

/// `interval` ± 10 %, so domains registered together do not poll together.
fn jittered(interval: Duration, name: &str) -> Duration {
    let seed = name
        .bytes()
        .fold(Utc::now().timestamp_subsec_nanos() as u64, |h, b| {
            h.wrapping_mul(31).wrapping_add(b as u64)
        });
    let tenth = interval.as_millis() as u64 / 10;
    if tenth == 0 {
        return interval;
    }
    let offset = seed % (2 * tenth);
    Duration::from_millis(interval.as_millis() as u64 - tenth + offset)
}

async fn fetch_sdl(
    http: &reqwest::Client,
    endpoint: &str,
    timeout: Duration,
) -> Result<String, String> {
    let response = send(
        http.post(endpoint)
            .json(&serde_json::json!({ "query": "{ _service { sdl } }" })),
        timeout,
    )
    .await?;
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("answered with a body that is not JSON ({e})"))?;
    body.pointer("/data/_service/sdl")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(
            || match body.pointer("/errors/0/message").and_then(|m| m.as_str()) {
                Some(message) => format!("answered `_service {{ sdl }}` with an error: {message}"),
                None => {
                    "answered without `data._service.sdl` (is it an Apollo Federation subgraph?)"
                        .to_string()
                }
            },
        )
}

async fn fetch_document(
    http: &reqwest::Client,
    endpoint: &str,
    timeout: Duration,
) -> Result<String, String> {
    let response = send(http.get(endpoint), timeout).await?;
    response.text().await.map_err(describe)
}

/// Sends with a timeout; anything but a 2xx answer is an error.
async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<reqwest::Response, String> {
    let response = request.timeout(timeout).send().await.map_err(describe)?;
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        Err(format!("returned {status}"))
    }
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "refused the connection".to_string()
    } else {
        format!("failed: {e}")
    }
}
