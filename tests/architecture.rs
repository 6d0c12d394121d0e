//! ARCHITECTURE.md is checked, not trusted (in the manner of
//! rust-analyzer's `tidy` tests): every file and folder it names exists,
//! each crate's dependencies follow the rules it states, and only the
//! binary reads environment variables.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `code spans` of a Markdown line.
fn spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// Extensions of source files, named alone or with a folder.
const SOURCES: [&str; 8] = [".rs", ".md", ".sh", ".toml", ".mjs", ".js", ".css", ".lua"];
/// Extensions that name a file only with a folder (`catalog.graphql` alone
/// is a tracing span's name).
const DATA: [&str; 5] = [".graphql", ".json", ".yaml", ".yml", ".txt"];

/// Whether a code span names a file or folder of the repository (and not
/// a URL path, a header, a MIME type or a pattern).
fn names_a_path(span: &str) -> bool {
    let plain = !span.is_empty()
        && !span.starts_with('/')
        && !span.starts_with('-')
        && !span.contains(|c: char| c.is_whitespace() || "{}<>*…:=$?|,()[]'\"@#".contains(c));
    plain
        && (SOURCES.iter().any(|e| span.ends_with(e))
            || (span.contains('/') && DATA.iter().any(|e| span.ends_with(e)))
            || (span.ends_with('/') && span.len() > 1 && !span.contains("//")))
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    // Relative names (`service.rs`, `api/`) belong to the crate of their
    // section (`### \`catalog/\``), or to the folder of a path named before
    // them in the same section (`api/` … `mod.rs`).
    // Relative names also resolve against the folders of the paths named
    // before them in the same section (`api/` … `mod.rs`).
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut checked = 0;
    let mut missing = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("## ") || line.starts_with("### ") {
            folders.clear();
        }
        if line.starts_with("### ") {
            if let Some(dir) = spans(line).first().map(|s| s.trim_end_matches('/')) {
                folders.push(root.join(dir));
                folders.push(root.join(dir).join("src"));
            }
        }
        for span in spans(line) {
            if !names_a_path(span) {
                continue;
            }
            checked += 1;
            let candidates: Vec<PathBuf> = std::iter::once(root.join(span))
                .chain(folders.iter().map(|f| f.join(span)))
                .collect();
            match candidates.iter().find(|c| c.exists()) {
                Some(found) => {
                    let folder = if found.is_dir() {
                        Some(found.clone())
                    } else {
                        found.parent().map(Path::to_path_buf)
                    };
                    if let Some(folder) = folder {
                        if !folders.contains(&folder) {
                            folders.push(folder);
                        }
                    }
                }
                None => missing.push(format!("line {}: `{span}`", n + 1)),
            }
        }
    }
    assert!(
        checked > 60,
        "only {checked} paths found: is the parser still right?"
    );
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The names under a Cargo.toml's `[dependencies]` and
/// `[build-dependencies]` (not dev-dependencies: tests may use anything).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("Cargo.toml");
    let mut inside = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]" || line == "[build-dependencies]";
            continue;
        }
        if !inside || line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let name = key.trim().split('.').next().unwrap_or_default();
            if !name.is_empty() {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Meshwork's own crates (`meshwork` is the binary's package).
const OURS: [&str; 12] = [
    "meshwork",
    "access",
    "entity",
    "migration",
    "catalog",
    "gateway",
    "ide",
    "console",
    "composition",
    "domains",
    "openapi",
    "evolution",
];

#[test]
fn each_crate_depends_only_on_what_architecture_md_allows() {
    // (crate, what it must not depend on, the rule in ARCHITECTURE.md)
    let all_ours: Vec<&str> = OURS.to_vec();
    let rules: Vec<(&str, Vec<&str>, &str)> = vec![
        ("entity", all_ours.clone(), "plain data"),
        ("migration", all_ours.clone(), "migrations only"),
        (
            "access",
            [&all_ours[..], &["sea-orm", "axum", "hive-router"]].concat(),
            "no SQL, no HTTP server, no engine",
        ),
        (
            "composition",
            [
                &all_ours[..],
                &["sea-orm", "reqwest", "tokio", "hive-router"],
            ]
            .concat(),
            "no I/O, no database, no engine",
        ),
        (
            "evolution",
            [
                &all_ours[..],
                &["sea-orm", "reqwest", "tokio", "hive-router"],
            ]
            .concat(),
            "knows nothing of the catalog, storage or the gateway",
        ),
        (
            "openapi",
            vec![
                "meshwork",
                "catalog",
                "gateway",
                "entity",
                "migration",
                "sea-orm",
                "hive-router",
            ],
            "knows nothing of the catalog or the gateway",
        ),
        ("domains", all_ours.clone(), "knows nothing of Meshwork"),
        (
            "console",
            vec![
                "meshwork",
                "catalog",
                "entity",
                "migration",
                "gateway",
                "sea-orm",
            ],
            "knows no catalog type",
        ),
        (
            "ide",
            vec![
                "meshwork",
                "catalog",
                "entity",
                "migration",
                "gateway",
                "sea-orm",
            ],
            "a page, no catalog",
        ),
        (
            "catalog",
            vec!["meshwork", "gateway", "hive-router", "clap"],
            "knows nothing of the federation engine's internals or of start-up",
        ),
        (
            "gateway",
            vec![
                "meshwork",
                "catalog",
                "entity",
                "migration",
                "sea-orm",
                "clap",
            ],
            "never reads or writes catalog tables; knows nothing of flags",
        ),
    ];
    let mut broken = Vec::new();
    for (krate, forbidden, rule) in &rules {
        let deps = dependencies(&root().join(krate).join("Cargo.toml"));
        assert!(
            !deps.is_empty() || *krate == "entity",
            "{krate}: no dependencies read"
        );
        for dep in deps {
            if dep != *krate && forbidden.contains(&dep.as_str()) {
                broken.push(format!("{krate} depends on {dep} (rule: {rule})"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // Every library crate has a rule.
    for krate in &OURS[1..] {
        assert!(
            rules.iter().any(|(k, _, _)| k == krate),
            "no dependency rule for the `{krate}` crate"
        );
    }
}

/// Files under `dir` ending in `.rs`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_binary_reads_environment_variables() {
    // The one exception, and why: the engine reads its own variables from a
    // router config file; the gateway refuses to start when one of them
    // would replace what Meshwork configures.
    let allowed = ["gateway/src/config.rs"];
    let mut found = Vec::new();
    for krate in &OURS[1..] {
        if *krate == "domains" {
            continue; // example subgraph binaries take their own arguments
        }
        let mut files = Vec::new();
        rust_files(&root().join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let relative = file
                .strip_prefix(root())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Test modules at the end of a file may set up their world.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            if (code.contains("env::var") || code.contains("env::set_var"))
                && !allowed.contains(&relative.as_str())
            {
                found.push(relative);
            }
        }
    }
    assert!(
        found.is_empty(),
        "library code reading environment variables (only the binary may): {found:?}"
    );
}

#[test]
fn the_gateway_alone_links_no_control_plane_crate() {
    // `meshwork-gateway` is `src/lib.rs` (`gateway_cmd.rs`) and its main:
    // a path to the catalog there would link the catalog and its database
    // drivers into every replica.
    let mut found = Vec::new();
    for file in [
        "src/lib.rs",
        "src/gateway_cmd.rs",
        "src/bin/meshwork_gateway.rs",
    ] {
        let text = std::fs::read_to_string(root().join(file)).expect("source file");
        for forbidden in [
            "catalog::",
            "entity::",
            "migration::",
            "sea_orm",
            "console::",
            "domains::",
            "crate::mesh",
        ] {
            if text.contains(forbidden) {
                found.push(format!("{file}: {forbidden}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the gateway-only binary's code names control-plane crates: {found:?}"
    );
}
