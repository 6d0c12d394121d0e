//! `schema check` at mesh scale: a catalog of N domains (default 200) in an
//! SQLite file, each with a recorded schema (domain i owns entity `E<i>` and
//! extends `E<i-1>` and `E<i-2>`, as the composition benchmark), composed;
//! then a candidate version of one domain (one field removed, one added) is
//! checked as `meshwork schema check` does: classified diff, compatibility
//! against its accepted history, governance rules, and composition with the
//! other N-1 domains. Prints p50/p99 over 50 runs for bench/RESULTS.md.
//!
//! Run: `cargo bench -p catalog --bench schema_check`
//! (`MESHWORK_BENCH_DOMAINS=N` to change the catalog size.)

use std::time::{Duration, Instant};

use catalog::{Catalog, DomainSpec};
use criterion::Criterion;

fn sdl(i: usize, candidate: bool) -> String {
    let extends: String = [i.checked_sub(1), i.checked_sub(2)]
        .into_iter()
        .flatten()
        .map(|j| format!("type E{j} @key(fields: \"id\") {{ id: ID! from{i}: String }}\n"))
        .collect();
    let fields = if candidate {
        "id: ID! name: String! tags: [String!]! kind: Kind{i} rating: Int"
    } else {
        "id: ID! name: String! price: Float tags: [String!]! kind: Kind{i}"
    }
    .replace("{i}", &i.to_string());
    format!(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n\
         type Query {{ e{i}(id: ID!): E{i} list{i}(first: Int = 10): [E{i}!]! }}\n\
         type E{i} @key(fields: \"id\") {{ {fields} }}\n\
         enum Kind{i} {{ A B C }}\n{extends}"
    )
}

fn spec(i: usize) -> DomainSpec {
    serde_json::from_value(serde_json::json!({
        "name": format!("d{i}"),
        "ownerTeam": "bench",
        "contact": "bench@example.com",
        "model": if i.is_multiple_of(2) { "STRICT" } else { "OPEN" },
        "apiUrl": format!("http://d{i}.internal/graphql"),
    }))
    .unwrap_or_else(|e| panic!("bench spec: {e}"))
}

fn main() {
    let count: usize = std::env::var("MESHWORK_BENCH_DOMAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("bench.db");
    let catalog = runtime.block_on(async {
        let catalog = Catalog::open(&path.to_string_lossy())
            .await
            .unwrap_or_else(|e| panic!("open: {e}"));
        let admin = catalog::Caller::admin("bench");
        let started = Instant::now();
        for i in 0..count {
            catalog
                .register(&admin, spec(i))
                .await
                .unwrap_or_else(|e| panic!("register {i}: {e}"));
            catalog
                .record_schema_version("bench", &format!("d{i}"), &sdl(i, false), "bench", None)
                .await
                .unwrap_or_else(|e| panic!("record {i}: {e}"));
        }
        catalog
            .recompose("bench")
            .await
            .unwrap_or_else(|e| panic!("compose: {e}"));
        eprintln!(
            "{count} domains registered, versioned and composed in {:.1?}",
            started.elapsed()
        );
        catalog
    });
    let target = format!("d{}", count / 2);
    let candidate = sdl(count / 2, true);
    let check = || async {
        let check = catalog
            .check_schema(&target, &candidate)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(check.composes(), "{:?}", check.composition_errors);
        assert!(!check.assessment.changes.is_empty());
        check
    };

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    criterion.bench_function(&format!("schema_check_{count}_domains"), |b| {
        b.to_async(&runtime).iter(check)
    });

    let mut times = Vec::with_capacity(50);
    runtime.block_on(async {
        for _ in 0..50 {
            let started = Instant::now();
            check().await;
            times.push(started.elapsed());
        }
    });
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!("\n| schema check, {count} domains (SQLite) | p50 | p99 |");
    println!("| --- | --- | --- |");
    println!(
        "| one domain's candidate: diff, compatibility, rules, composition | {:.1} ms | {:.1} ms |",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}
