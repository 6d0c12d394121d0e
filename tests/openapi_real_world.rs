//! Real-world OpenAPI documents from the npm registry (`@readme/oas-examples`:
//! OpenAPI 3.0 and 3.1 examples, JSON and YAML; `@octokit/openapi`:
//! GitHub's whole REST description), installed into
//! `tests/openapi-corpus/` with `npm ci`: each document either derives a
//! subgraph that composes alone, or is refused with its reason. GitHub's
//! must derive and compose. Skips loudly outside CI without npm.

mod common;

use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openapi-corpus");
    let ci = std::env::var_os("CI").is_some();
    if let Err(why) = common::npm_ci(&dir) {
        assert!(!ci, "CI needs the OpenAPI corpus: {why}");
        common::skipped(&format!(
            "the OpenAPI corpus: cannot be installed ({why}); install node and npm to run it"
        ));
        return None;
    }
    Some(dir.join("node_modules"))
}

fn documents(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            documents(&path, out);
        } else if path
            .extension()
            .is_some_and(|x| x == "json" || x == "yaml" || x == "yml")
            && path.file_name().is_some_and(|n| n != "package.json")
        {
            out.push(path);
        }
    }
}

enum Outcome {
    Composed,
    Refused(String),
    NotComposed(String),
}

fn derive(path: &Path) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    match openapi::derive(&text, &openapi::Settings::default()) {
        Err(e) => Outcome::Refused(e.to_string()),
        Ok(d) => match composition::compose(&[composition::Subgraph {
            name: "domain".into(),
            url: "http://domain.local/graphql".into(),
            sdl: d.sdl,
        }]) {
            Ok(_) => Outcome::Composed,
            Err(e) => Outcome::NotComposed(e.to_string()),
        },
    }
}

#[test]
fn real_world_documents_derive_and_compose_or_are_refused_with_a_reason() {
    let Some(modules) = corpus() else {
        return;
    };
    let mut paths = Vec::new();
    for version in ["3.0", "3.1", "2.0"] {
        documents(
            &modules.join("@readme/oas-examples").join(version),
            &mut paths,
        );
    }
    paths.sort();
    let github = modules.join("@octokit/openapi/generated/api.github.com.json");
    paths.push(github.clone());
    let (mut composed, mut refused, mut broken) = (0, Vec::new(), Vec::new());
    for path in &paths {
        match derive(path) {
            Outcome::Composed => composed += 1,
            Outcome::Refused(why) => refused.push(format!("{}: {why}", path.display())),
            Outcome::NotComposed(why) => broken.push(format!("{}: {why}", path.display())),
        }
    }
    eprintln!(
        "OpenAPI corpus: {} documents, {composed} derived and composed alone, {} refused with a reason",
        paths.len(),
        refused.len()
    );
    for line in &refused {
        eprintln!("  refused {line}");
    }
    assert!(
        broken.is_empty(),
        "derived subgraphs that do not compose:\n{}",
        broken.join("\n")
    );
    assert!(
        matches!(derive(&github), Outcome::Composed),
        "GitHub's REST description must derive and compose"
    );
    assert!(
        refused.iter().all(|r| !r.contains("api.github.com")),
        "GitHub's document is refused"
    );
    assert!(
        composed >= 20,
        "only {composed} documents derived and composed"
    );
}
