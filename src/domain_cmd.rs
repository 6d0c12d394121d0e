//! `meshwork domain …`: the catalog's registration and discovery from the
//! command line, against a running server.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::{json, Value};

use crate::client::Client;
use crate::{DomainCommand, LineageDirection, Output, Remote};

const DOMAIN_FIELDS: &str =
    "name displayName description ownerTeam contact tags model kind apiUrl \
    schemaEndpoint dataFormat status createdAt updatedAt \
    inputs { kind name description } \
    processingSteps { name description tool } \
    qualityIndicators { name description unit target } \
    slos { name description target window } \
    compatibility cacheTtlSeconds schemaDrift latestSchemaVersion { hash fetchedAt warnings } \
    health { lastAttemptAt lastSuccessAt lastError consecutiveFailures } \
    compositionProblems { code message line } \
    schemaHistory { version status fetchedAt changes { severity path } }";

pub async fn run(remote: &Remote, command: DomainCommand) -> anyhow::Result<()> {
    let client = Client::new(&remote.server, remote.token.as_deref())?;
    match command {
        DomainCommand::Register { file } => {
            let spec: catalog::DomainSpec = read_file(&file)?;
            let query = format!("mutation($spec: DomainSpec!) {{ registerDomain(spec: $spec) {{ {DOMAIN_FIELDS} }} }}");
            let data = client.run(&query, json!({ "spec": spec })).await?;
            let name = text(&data["registerDomain"]["name"]);
            // The schema puller takes a new domain at once: wait briefly for
            // that first pull so its outcome is seen here.
            let domain = first_pull(&client, &name, &data["registerDomain"]).await;
            print_domain(remote.output, &domain, "registered");
            if remote.output == Output::Table {
                out!("{}", pull_outcome(&name, &domain["health"]));
            }
        }
        DomainCommand::Update { name, file } => {
            let patch: catalog::DomainPatch = read_file(&file)?;
            let moved = patch.api_url.is_some() || patch.schema_endpoint.is_some();
            let query = format!(
                "mutation($name: String!, $patch: DomainPatch!) {{ updateDomain(name: $name, patch: $patch) {{ {DOMAIN_FIELDS} }} }}"
            );
            let data = client
                .run(&query, json!({ "name": name, "patch": patch }))
                .await?;
            print_domain(remote.output, &data["updateDomain"], "updated");
            if remote.output == Output::Table && moved {
                // The server pulled the new endpoint before answering.
                out!("{}", pull_outcome(&name, &data["updateDomain"]["health"]));
            }
        }
        DomainCommand::List {
            text,
            owner,
            tag,
            all,
        } => {
            let filter =
                json!({ "text": text, "ownerTeam": owner, "tag": tag, "includeDeregistered": all });
            list(&client, remote.output, filter).await?;
        }
        DomainCommand::Show { name } => {
            let query =
                format!("query($name: String!) {{ domain(name: $name) {{ {DOMAIN_FIELDS} }} }}");
            let data = client.run(&query, json!({ "name": name })).await?;
            if data["domain"].is_null() {
                anyhow::bail!("domain `{name}` is not registered");
            }
            print_domain(remote.output, &data["domain"], "");
        }
        DomainCommand::Refresh { name } => {
            let query =
                "mutation($name: String!) { refreshDomain(name: $name) { status hash reason } }";
            let data = client.run(query, json!({ "name": name })).await?;
            let result = &data["refreshDomain"];
            match remote.output {
                Output::Json => print_json(result),
                Output::Table => match result["status"].as_str() {
                    Some("NEW_VERSION") => {
                        out!("`{name}`: new schema version {}", text(&result["hash"]))
                    }
                    Some("UNCHANGED") => {
                        out!("`{name}`: schema unchanged ({})", text(&result["hash"]))
                    }
                    _ => anyhow::bail!("`{name}`: {}", text(&result["reason"])),
                },
            }
        }
        DomainCommand::Deregister { name } => {
            let query =
                "mutation($name: String!) { deregisterDomain(name: $name) { name status } }";
            let data = client.run(query, json!({ "name": name })).await?;
            match remote.output {
                Output::Json => print_json(&data["deregisterDomain"]),
                Output::Table => {
                    out!("deregistered `{name}` (kept for audit and lineage history)")
                }
            }
        }
        DomainCommand::CachePurge {
            name,
            type_name,
            key,
        } => {
            let query = "mutation($name: String!, $type: String, $key: String) { \
                         purgeDomainCache(domain: $name, typeName: $type, key: $key) }";
            let data = client
                .run(
                    query,
                    json!({ "name": name, "type": type_name, "key": key }),
                )
                .await?;
            match remote.output {
                Output::Json => print_json(&data),
                Output::Table => out!(
                    "purge {} of `{name}`'s cached answers recorded; gateways drop them with their next access snapshot",
                    data["purgeDomainCache"]
                ),
            }
        }
        DomainCommand::Lineage {
            name,
            direction,
            depth,
        } => {
            let direction = match direction {
                LineageDirection::Upstream => "UPSTREAM",
                LineageDirection::Downstream => "DOWNSTREAM",
            };
            let query = "query($name: String!, $direction: Direction!, $depth: Int!) { \
                lineage(name: $name, direction: $direction, depth: $depth) { \
                  edges { depth description upstream { kind name } downstream { kind name } } } }";
            let data = client
                .run(
                    query,
                    json!({ "name": name, "direction": direction, "depth": depth }),
                )
                .await?;
            let edges = &data["lineage"]["edges"];
            match remote.output {
                Output::Json => print_json(edges),
                Output::Table => {
                    let mut table =
                        table(&["depth", "upstream", "kind", "downstream", "description"]);
                    for e in edges.as_array().into_iter().flatten() {
                        table.add_row(vec![
                            e["depth"].to_string(),
                            text(&e["upstream"]["name"]),
                            text(&e["upstream"]["kind"]).to_lowercase(),
                            text(&e["downstream"]["name"]),
                            text(&e["description"]),
                        ]);
                    }
                    out!("{table}");
                }
            }
        }
    }
    Ok(())
}

/// Reads a YAML (or JSON, which is YAML) file into a typed input, so
/// mistakes are reported before anything is sent: a syntax error with its
/// line, and otherwise every field's problem at once, each with a code as
/// the server's refusals have.
fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value = serde_norway::from_str(&text)
        .with_context(|| format!("{} is not valid YAML or JSON", path.display()))?;
    let problems = match field_problems::<T>(value) {
        Ok(typed) => return Ok(typed),
        Err(problems) => problems,
    };
    let mut message = format!(
        "{} is not a valid domain file; nothing was sent:",
        path.display()
    );
    for (field, reason, code) in problems {
        let at = line_of(&text, &field)
            .map(|n| format!(" (line {n})"))
            .unwrap_or_default();
        let _ = write!(message, "\n  - {field}: {reason}{at} [{code}]");
    }
    bail!(message)
}

/// The line (from 1) where a field's top-level key is written, if found.
fn line_of(text: &str, field: &str) -> Option<usize> {
    let key = field.split(['.', '[']).next().filter(|k| !k.is_empty())?;
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches('"');
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// Every problem of `value` as a `T`: (field, reason, code). Each round
/// takes out the field serde stopped at and tries again, so one file's
/// mistakes are listed together.
fn field_problems<T: serde::de::DeserializeOwned>(
    mut value: Value,
) -> Result<T, Vec<(String, String, &'static str)>> {
    let mut problems = Vec::new();
    for _ in 0..64 {
        let error = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(typed) if problems.is_empty() => return Ok(typed),
            Ok(_) => return Err(problems),
            Err(e) => e,
        };
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let (field, code, remove) = if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default().to_string();
            let field = if path == "." {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            (field, "UNKNOWN_FIELD", Some(name))
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default().to_string();
            let field = if path == "." {
                name
            } else {
                format!("{path}.{name}")
            };
            (field, "REQUIRED", None)
        } else {
            let top = path
                .split(['.', '['])
                .next()
                .unwrap_or_default()
                .to_string();
            (path.clone(), "BAD_TYPE", Some(top))
        };
        let reason = message
            .split(", expected one of")
            .next()
            .unwrap_or(&message)
            .to_string();
        let repeated = problems.iter().any(|(f, _, _)| *f == field);
        if !repeated {
            problems.push((field, reason, code));
        }
        // Take the field out (an unknown or mistyped one) and look further;
        // a missing one cannot be taken out: the rest is still checked by
        // the server.
        let removed = match (remove, value.as_object_mut()) {
            (Some(key), Some(object)) if !repeated => object.remove(&key).is_some(),
            _ => false,
        };
        if !removed {
            break;
        }
    }
    Err(problems)
}

async fn list(client: &Client, output: Output, filter: Value) -> anyhow::Result<()> {
    let query = "query($filter: DomainFilter!, $after: String) { \
        domains(filter: $filter, first: 100, after: $after) { \
          nodes { name displayName ownerTeam model kind status tags inputs { name } } \
          pageInfo { hasNextPage endCursor } } }";
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = client
            .run(query, json!({ "filter": filter, "after": after }))
            .await?;
        let page = &data["domains"];
        all.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != Value::Bool(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    match output {
        Output::Json => print_json(&Value::Array(all)),
        Output::Table => {
            let mut table = table(&[
                "name",
                "display name",
                "owner",
                "model",
                "kind",
                "status",
                "tags",
                "inputs",
            ]);
            for d in &all {
                table.add_row(vec![
                    text(&d["name"]),
                    text(&d["displayName"]),
                    text(&d["ownerTeam"]),
                    text(&d["model"]).to_lowercase(),
                    text(&d["kind"]).to_lowercase(),
                    text(&d["status"]).to_lowercase(),
                    join(&d["tags"], text),
                    join(&d["inputs"], |i| text(&i["name"])),
                ]);
            }
            out!("{table}");
            out!("{} domain(s)", all.len());
        }
    }
    Ok(())
}

/// The domain once its first schema pull was recorded, or as registered
/// after 6 seconds without one.
async fn first_pull(client: &Client, name: &str, registered: &Value) -> Value {
    let query = format!("query($name: String!) {{ domain(name: $name) {{ {DOMAIN_FIELDS} }} }}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(6);
    let mut latest = registered.clone();
    while std::time::Instant::now() < deadline {
        if let Ok(data) = client.run(&query, json!({ "name": name })).await {
            if !data["domain"].is_null() {
                latest = data["domain"].clone();
            }
            if !latest["health"].is_null() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    latest
}

/// One line on the domain's last schema pull.
fn pull_outcome(name: &str, health: &Value) -> String {
    if health.is_null() {
        return format!("schema pull: pending (see `meshwork domain show {name}`)");
    }
    let failures = health["consecutiveFailures"].as_i64().unwrap_or(0);
    if failures == 0 {
        format!("schema pull: ok ({})", text(&health["lastSuccessAt"]))
    } else {
        format!(
            "schema pull FAILED ({failures} in a row): {}\n  the domain is registered; fix its API or `schemaEndpoint` (`meshwork domain update {name} --file …`), then `meshwork domain refresh {name}`",
            text(&health["lastError"])
        )
    }
}

fn print_domain(output: Output, d: &Value, verb: &str) {
    if output == Output::Json {
        print_json(d);
        return;
    }
    if !verb.is_empty() {
        out!("{verb} `{}`", text(&d["name"]));
    }
    let mut table = table(&["field", "value"]);
    for (label, key) in [
        ("name", "name"),
        ("display name", "displayName"),
        ("description", "description"),
        ("owner team", "ownerTeam"),
        ("contact", "contact"),
        ("model", "model"),
        ("kind", "kind"),
        ("api url", "apiUrl"),
        ("schema endpoint", "schemaEndpoint"),
        ("data format", "dataFormat"),
        ("status", "status"),
        ("created", "createdAt"),
        ("updated", "updatedAt"),
    ] {
        let value = text(&d[key]);
        let value = if matches!(key, "model" | "kind" | "status") {
            value.to_lowercase()
        } else {
            value
        };
        table.add_row(vec![label.to_string(), value]);
    }
    table.add_row(vec!["tags".to_string(), join(&d["tags"], text)]);
    table.add_row(vec![
        "inputs".to_string(),
        join(&d["inputs"], |i| {
            format!("{} ({})", text(&i["name"]), text(&i["kind"]).to_lowercase())
        }),
    ]);
    table.add_row(vec![
        "processing steps".to_string(),
        join(&d["processingSteps"], |s| text(&s["name"])),
    ]);
    table.add_row(vec![
        "quality indicators".to_string(),
        join(&d["qualityIndicators"], |q| text(&q["name"])),
    ]);
    table.add_row(vec![
        "SLOs".to_string(),
        join(&d["slos"], |s| {
            format!(
                "{} {}% / {}",
                text(&s["name"]),
                s["target"],
                text(&s["window"])
            )
        }),
    ]);
    table.add_row(vec![
        "latest schema".to_string(),
        text(&d["latestSchemaVersion"]["hash"])
            .chars()
            .take(12)
            .collect(),
    ]);
    table.add_row(vec!["compatibility".to_string(), text(&d["compatibility"])]);
    table.add_row(vec![
        "cache lifetime".to_string(),
        match d["cacheTtlSeconds"].as_i64() {
            Some(0) => "not kept without Cache-Control".to_string(),
            Some(seconds) => format!("{seconds} s without Cache-Control"),
            None => "the gateway's default".to_string(),
        },
    ]);
    let health = &d["health"];
    table.add_row(vec![
        "schema endpoint health".to_string(),
        if health.is_null() {
            "not pulled yet".to_string()
        } else {
            let failures = health["consecutiveFailures"].as_i64().unwrap_or(0);
            let success = match health["lastSuccessAt"].as_str() {
                Some(at) => format!("last success {at}"),
                None => "never pulled successfully".to_string(),
            };
            if failures == 0 {
                format!("ok, {success}")
            } else {
                format!(
                    "FAILING, {failures} failed pulls in a row ({success})\nlast error: {}",
                    text(&health["lastError"])
                )
            }
        },
    ]);
    if let Some(drift) = d["schemaDrift"].as_str() {
        table.add_row(vec!["schema drift".to_string(), drift.to_string()]);
    }
    let problems: Vec<String> = d["compositionProblems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}{} {}",
                text(&p["code"]),
                p["line"]
                    .as_i64()
                    .map(|l| format!(" (line {l})"))
                    .unwrap_or_default(),
                text(&p["message"])
            )
        })
        .collect();
    if !problems.is_empty() {
        table.add_row(vec![
            "composition FAILS here".to_string(),
            problems.join("\n"),
        ]);
    }
    // The last versions with what changed (`meshwork schema history` has all).
    let history: Vec<String> = d["schemaHistory"]
        .as_array()
        .into_iter()
        .flatten()
        .take(5)
        .map(|v| {
            let changes = v["changes"].as_array().cloned().unwrap_or_default();
            let count = |s: &str| changes.iter().filter(|c| c["severity"] == s).count();
            format!(
                "v{} {} {}: {} breaking, {} dangerous, {} safe",
                text(&v["version"]),
                text(&v["status"]).to_lowercase(),
                text(&v["fetchedAt"]),
                count("BREAKING"),
                count("DANGEROUS"),
                count("SAFE")
            )
        })
        .collect();
    table.add_row(vec!["schema history".to_string(), history.join("\n")]);
    let warnings: Vec<String> = d["latestSchemaVersion"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect();
    if !warnings.is_empty() {
        // The first few; `--output json` has them all.
        let mut shown: Vec<String> = warnings.iter().take(10).cloned().collect();
        if warnings.len() > 10 {
            shown.push(format!("… and {} more", warnings.len() - 10));
        }
        table.add_row(vec![
            format!("derivation warnings ({})", warnings.len()),
            shown.join("\n"),
        ]);
    }
    out!("{table}");
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_header(header.to_vec());
    table
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn join(list: &Value, f: impl Fn(&Value) -> String) -> String {
    list.as_array()
        .map(|items| items.iter().map(f).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

pub(crate) fn print_json(v: &Value) {
    out!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}
