//! Search at catalog scale: registers 10,000 domains in an SQLite file
//! through the real service (validation, transaction, audit), each with a
//! schema of 50 fields (recorded as a version, so the ranked full-text
//! index holds 10,000 domains, 20,000 types and 500,000 fields), then
//! measures typical discovery queries with criterion, and prints p50/p99
//! over 1,000 runs of each for bench/RESULTS.md.
//!
//! Run: `cargo bench -p catalog --bench search`
//! (`MESHWORK_BENCH_DOMAINS=N` to change the catalog size.)

use std::time::{Duration, Instant};

use catalog::{Catalog, DomainFilter, DomainSpec, GovernanceModel};
use criterion::Criterion;

const TEAMS: [&str; 20] = [
    "sales",
    "crm",
    "finance",
    "logistics",
    "marketing",
    "hr",
    "risk",
    "pricing",
    "supply",
    "web",
    "mobile",
    "support",
    "legal",
    "billing",
    "catalog",
    "search",
    "ads",
    "payments",
    "fraud",
    "data",
];
const WORDS: [&str; 12] = [
    "orders",
    "customers",
    "invoices",
    "shipments",
    "returns",
    "payments",
    "stock",
    "prices",
    "campaigns",
    "tickets",
    "contracts",
    "devices",
];

fn spec(i: usize) -> DomainSpec {
    let word = WORDS[i % WORDS.len()];
    let mut spec: DomainSpec = serde_json::from_value(serde_json::json!({
        "name": format!("{word}-{i:05}"),
        "description": format!("The {word} data product of region {} for channel {}", i % 37, i % 11),
        "ownerTeam": TEAMS[i % TEAMS.len()],
        "contact": format!("{}@example.com", TEAMS[i % TEAMS.len()]),
        "tags": [word, format!("region-{}", i % 37)],
        "apiUrl": format!("http://{word}-{i}.internal/graphql"),
    }))
    .unwrap_or_else(|e| panic!("bench spec: {e}"));
    if i.is_multiple_of(10) {
        spec.model = Some(GovernanceModel::Strict);
    }
    spec
}

fn queries() -> Vec<(&'static str, DomainFilter)> {
    vec![
        ("first page, no filter", DomainFilter::default()),
        (
            "text, common word",
            DomainFilter {
                text: Some("invoices".into()),
                ..Default::default()
            },
        ),
        (
            "text, two words, rare",
            DomainFilter {
                text: Some("region 36 channel 10".into()),
                ..Default::default()
            },
        ),
        (
            "text, no match",
            DomainFilter {
                text: Some("nonexistent".into()),
                ..Default::default()
            },
        ),
        (
            "tag",
            DomainFilter {
                tag: Some("region-5".into()),
                ..Default::default()
            },
        ),
        (
            "owner",
            DomainFilter {
                owner_team: Some("fraud".into()),
                ..Default::default()
            },
        ),
        (
            "owner + model + text",
            DomainFilter {
                owner_team: Some("sales".into()),
                model: Some(GovernanceModel::Strict),
                text: Some("orders".into()),
                ..Default::default()
            },
        ),
    ]
}

/// A schema of 50 fields: `Query.<word>Records` and 49 on the entity.
fn sdl(i: usize) -> String {
    let word = WORDS[i % WORDS.len()];
    let entity = format!("{}{}", word[..1].to_uppercase(), &word[1..]);
    let mut fields = String::new();
    for f in 0..49 {
        let name = [
            "amountDue",
            "createdAt",
            "status",
            "region",
            "channel",
            "customerId",
            "total",
        ][f % 7];
        fields.push_str(&format!("  {name}{f}: String\n"));
    }
    format!(
        "type Query {{ {word}Records(region: Int): [{entity}{i}!]! }}\n\"\"\"A {word} record of region {}.\"\"\"\ntype {entity}{i} {{\n{fields}}}\n",
        i % 37
    )
}

/// Ranked full-text queries (`Catalog::search_ranked`).
const RANKED: [(&str, &str); 5] = [
    ("ranked, domain word", "invoices"),
    (
        "ranked, field prefix (7 fields of every domain)",
        "amountDue",
    ),
    ("ranked, two words", "region 36"),
    ("ranked, type and field", "shipments status"),
    ("ranked, no match", "nonexistent"),
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let count: usize = std::env::var("MESHWORK_BENCH_DOMAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("bench.db");
    let catalog = runtime.block_on(async {
        let catalog = Catalog::open(&path.to_string_lossy())
            .await
            .unwrap_or_else(|e| panic!("open: {e}"));
        let started = Instant::now();
        for i in 0..count {
            let registered = catalog
                .register(&catalog::Caller::admin("bench"), spec(i))
                .await
                .unwrap_or_else(|e| panic!("register {i}: {e}"));
            catalog
                .record_schema_version("bench", &registered.name, &sdl(i), "bench", None)
                .await
                .unwrap_or_else(|e| panic!("schema {i}: {e}"));
            if (i + 1).is_multiple_of(1000) {
                eprintln!(
                    "registered {} of {count} domains ({:.1?})",
                    i + 1,
                    started.elapsed()
                );
            }
        }
        eprintln!(
            "registration: {count} domains in {:.1?} ({:.2} ms each)",
            started.elapsed(),
            started.elapsed().as_secs_f64() * 1000.0 / count as f64
        );
        catalog
    });

    let mut criterion = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut group = criterion.benchmark_group(format!("search_{count}_domains"));
    for (label, filter) in queries() {
        group.bench_function(label, |b| {
            b.to_async(&runtime).iter(|| async {
                catalog
                    .search(&filter, 20, None)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    for (label, text) in RANKED {
        group.bench_function(label, |b| {
            b.to_async(&runtime).iter(|| async {
                catalog
                    .search_ranked(text, &[], 20)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    group.finish();

    println!("\n| query (first 20, {count} domains, SQLite) | matches | p50 | p99 |");
    println!("| --- | --- | --- | --- |");
    runtime.block_on(async {
        for (label, filter) in queries() {
            let matches = catalog
                .count(&filter)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut times = Vec::with_capacity(1000);
            for _ in 0..1000 {
                let started = Instant::now();
                catalog
                    .search(&filter, 20, None)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                times.push(started.elapsed());
            }
            times.sort();
            println!(
                "| {label} | {matches} | {:.2} ms | {:.2} ms |",
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.99).as_secs_f64() * 1000.0
            );
        }
        for (label, text) in RANKED {
            let matches = catalog
                .search_ranked(text, &[], 20)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .by_kind
                .values()
                .sum::<u64>();
            let mut times = Vec::with_capacity(1000);
            for _ in 0..1000 {
                let started = Instant::now();
                catalog
                    .search_ranked(text, &[], 20)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                times.push(started.elapsed());
            }
            times.sort();
            println!(
                "| {label} (`{text}`) | {matches} (counted up to 500) | {:.2} ms | {:.2} ms |",
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.99).as_secs_f64() * 1000.0
            );
        }
    });
}
