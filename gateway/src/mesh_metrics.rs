//! Meshwork's own Prometheus series, recorded through the engine's global
//! OpenTelemetry meter (so they appear on the same `/metrics`): requests by
//! consumer and outcome, and refusals by consumer and reason. Labels are
//! bounded: the consumer is a registered consumer or `anonymous`; outcomes
//! and reasons are fixed words.

use std::sync::LazyLock;

use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;

// Created on first use, which is after the engine installed its meter
// provider (these are only recorded from the engine's plugin hooks).
static REQUESTS: LazyLock<Counter<u64>> = LazyLock::new(|| {
    opentelemetry::global::meter("meshwork")
        .u64_counter("meshwork.requests")
        .with_description("GraphQL operations executed, by consumer and outcome (ok, error)")
        .build()
});

static REFUSALS: LazyLock<Counter<u64>> = LazyLock::new(|| {
    opentelemetry::global::meter("meshwork")
        .u64_counter("meshwork.refusals")
        .with_description(
            "Operations or domain fetches refused by Meshwork's plans, by consumer and reason",
        )
        .build()
});

pub(crate) fn request(consumer: &str, ok: bool) {
    REQUESTS.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_string()),
            KeyValue::new("outcome", if ok { "ok" } else { "error" }),
        ],
    );
}

pub(crate) fn refusal(consumer: &str, reason: &'static str) {
    REFUSALS.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_string()),
            KeyValue::new("reason", reason),
        ],
    );
}
