//! Every fetch from a domain, counted for the control plane's availability
//! and error-rate SLOs: answered, answered with GraphQL errors, or not
//! answered (a transport error or timeout: the engine then drops the
//! fetch's end hook without calling it, and the hook's guard counts the
//! failure as it is dropped). Reported with the contract findings.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub(crate) struct Counters {
    fetches: AtomicU64,
    failed: AtomicU64,
    errors: AtomicU64,
}

/// One gateway's counts per domain (kept by the gateway that reports
/// them: two gateways in one process count apart).
#[derive(Default)]
pub(crate) struct Traffic {
    counts: RwLock<HashMap<String, Arc<Counters>>>,
}

/// One fetch in flight; counted as failed unless [`Fetch::answered`] is
/// called before it is dropped.
pub(crate) struct Fetch {
    counters: Arc<Counters>,
    done: bool,
}

impl Traffic {
    fn counters(&self, domain: &str) -> Option<Arc<Counters>> {
        if let Some(c) = self.counts.read().ok()?.get(domain) {
            return Some(c.clone());
        }
        let mut all = self.counts.write().ok()?;
        Some(all.entry(domain.to_string()).or_default().clone())
    }

    /// Starts counting a fetch from `domain`.
    pub(crate) fn start(&self, domain: &str) -> Option<Fetch> {
        let counters = self.counters(domain)?;
        counters.fetches.fetch_add(1, Ordering::Relaxed);
        Some(Fetch {
            counters,
            done: false,
        })
    }

    /// Counts since the last call, per domain (`fetches`, `failed`, `errors`),
    /// reset. A fetch still in flight is counted in a later report.
    pub(crate) fn take(&self) -> HashMap<String, serde_json::Value> {
        let Ok(all) = self.counts.read() else {
            return HashMap::new();
        };
        let mut out = HashMap::new();
        for (domain, c) in all.iter() {
            let fetches = c.fetches.swap(0, Ordering::Relaxed);
            let failed = c.failed.swap(0, Ordering::Relaxed);
            let errors = c.errors.swap(0, Ordering::Relaxed);
            if fetches + failed + errors > 0 {
                out.insert(
                    domain.clone(),
                    serde_json::json!({ "fetches": fetches, "failed": failed, "errors": errors }),
                );
            }
        }
        out
    }

    /// Puts back counts that could not be reported.
    pub(crate) fn put_back(&self, unsent: HashMap<String, serde_json::Value>) {
        for (domain, v) in unsent {
            let Some(c) = self.counters(&domain) else {
                continue;
            };
            let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            c.fetches.fetch_add(n("fetches"), Ordering::Relaxed);
            c.failed.fetch_add(n("failed"), Ordering::Relaxed);
            c.errors.fetch_add(n("errors"), Ordering::Relaxed);
        }
    }
}

impl Fetch {
    /// The domain answered: `ok` false for an HTTP 5xx answer, `errors`
    /// when the answer carried GraphQL errors.
    pub(crate) fn answered(mut self, ok: bool, errors: bool) {
        self.done = true;
        if !ok {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        } else if errors {
            self.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        if !self.done {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_fetch_counts_as_failed_and_an_answer_by_its_kind() {
        let traffic = Traffic::default();
        drop(traffic.start("t-a"));
        if let Some(f) = traffic.start("t-a") {
            f.answered(true, true);
        }
        if let Some(f) = traffic.start("t-a") {
            f.answered(true, false);
        }
        if let Some(f) = traffic.start("t-a") {
            f.answered(false, false);
        }
        let counts = traffic.take();
        assert_eq!(
            counts["t-a"],
            serde_json::json!({ "fetches": 4, "failed": 2, "errors": 1 })
        );
        assert!(!traffic.take().contains_key("t-a"));
        // What could not be sent comes back; another gateway's counts are
        // its own.
        traffic.put_back(counts);
        assert_eq!(traffic.take()["t-a"]["fetches"], 4);
        assert!(Traffic::default().take().is_empty());
    }
}
