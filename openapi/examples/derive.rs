//! Derives each OpenAPI document named on the command line and composes
//! the result alone; prints one line per document and a summary.
//!
//! `cargo run --release -p openapi --example derive -- FILE...`

use std::time::Instant;

fn main() {
    let mut derived = 0;
    let mut refused = 0;
    let mut not_composed = 0;
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                println!("{path}: unreadable: {e}");
                refused += 1;
                continue;
            }
        };
        let started = Instant::now();
        let settings = openapi::Settings {
            rest_mutations: std::env::var_os("DERIVE_MUTATIONS").is_some(),
            ..Default::default()
        };
        match openapi::derive(&text, &settings) {
            Ok(d) => {
                let took = started.elapsed();
                let composed = composition::compose(&[composition::Subgraph {
                    name: "domain".into(),
                    url: "http://domain.local/graphql".into(),
                    sdl: d.sdl.clone(),
                }]);
                match composed {
                    Ok(_) => {
                        derived += 1;
                        println!(
                            "{path}: derived and composes ({} fields, {} warnings, {:.0} ms)",
                            d.plan.calls.len(),
                            d.warnings.len(),
                            took.as_secs_f64() * 1000.0
                        );
                    }
                    Err(e) => {
                        not_composed += 1;
                        if let Ok(dir) = std::env::var("DERIVE_DUMP") {
                            let file = std::path::Path::new(&dir)
                                .join(std::path::Path::new(&path).file_name().unwrap_or_default());
                            let _ = std::fs::write(file.with_extension("graphql"), &d.sdl);
                        }
                        let first = e.0.first().map(ToString::to_string).unwrap_or_default();
                        println!("{path}: derived but does not compose: {first}");
                    }
                }
            }
            Err(e) => {
                refused += 1;
                println!("{path}: refused: {e}");
            }
        }
    }
    println!("{derived} derived and composed, {not_composed} derived but did not compose, {refused} refused");
}
