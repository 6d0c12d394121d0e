//! `meshwork domain …`: the catalog's registration and discovery from the
//! command line, against a running server.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::Value;

use crate::client::Client;
use crate::operations as ops;
use crate::{DomainCommand, LineageDirection, Output, Remote};

pub async fn run(remote: &Remote, command: DomainCommand) -> anyhow::Result<()> {
    let client = Client::new(&remote.server, remote.token.as_deref())?;
    match command {
        DomainCommand::Register { file } => {
            let spec: catalog::DomainSpec = read_file(&file)?;
            let name = client
                .call::<ops::RegisterDomain>(ops::register_domain::Variables { spec })
                .await?
                .register_domain
                .name;
            // The schema puller takes a new domain at once: wait briefly for
            // that first pull so its outcome is seen here.
            let domain = first_pull(&client, &name).await?;
            print_domain(remote.output, &domain, "registered");
            if remote.output == Output::Table {
                out!("{}", pull_outcome(&name, domain.health.as_ref()));
            }
        }
        DomainCommand::Update { name, file } => {
            let patch: catalog::DomainPatch = read_file(&file)?;
            let moved = patch.api_url.is_some() || patch.schema_endpoint.is_some();
            client
                .call::<ops::UpdateDomain>(ops::update_domain::Variables {
                    name: name.clone(),
                    patch,
                })
                .await?;
            let domain = show(&client, &name).await?;
            print_domain(remote.output, &domain, "updated");
            if remote.output == Output::Table && moved {
                // The server pulled the new endpoint before answering.
                out!("{}", pull_outcome(&name, domain.health.as_ref()));
            }
        }
        DomainCommand::List {
            text,
            owner,
            tag,
            all,
        } => {
            let filter = ops::list_domains::DomainFilter {
                text,
                owner_team: owner,
                tag,
                model: None,
                kind: None,
                include_deregistered: all,
            };
            list(&client, remote.output, filter).await?;
        }
        DomainCommand::Show { name } => {
            let domain = show(&client, &name).await?;
            print_domain(remote.output, &domain, "");
        }
        DomainCommand::Refresh { name } => {
            let result = client
                .call::<ops::RefreshDomain>(ops::refresh_domain::Variables { name: name.clone() })
                .await?
                .refresh_domain;
            match remote.output {
                Output::Json => print_json(&result),
                Output::Table => {
                    let hash = result.hash.unwrap_or_default();
                    match result.status {
                        ops::refresh_domain::PullStatus::NEW_VERSION => {
                            out!("`{name}`: new schema version {hash}")
                        }
                        ops::refresh_domain::PullStatus::UNCHANGED => {
                            out!("`{name}`: schema unchanged ({hash})")
                        }
                        _ => bail!("`{name}`: {}", result.reason.unwrap_or_default()),
                    }
                }
            }
        }
        DomainCommand::Deregister { name } => {
            let data = client
                .call::<ops::DeregisterDomain>(ops::deregister_domain::Variables {
                    name: name.clone(),
                })
                .await?;
            match remote.output {
                Output::Json => print_json(&data.deregister_domain),
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
            let data = client
                .call::<ops::PurgeDomainCache>(ops::purge_domain_cache::Variables {
                    name: name.clone(),
                    type_: type_name,
                    key,
                })
                .await?;
            match remote.output {
                Output::Json => print_json(&data),
                Output::Table => out!(
                    "purge {} of `{name}`'s cached answers recorded; gateways drop them with their next access snapshot",
                    data.purge_domain_cache
                ),
            }
        }
        DomainCommand::Lineage {
            name,
            direction,
            depth,
        } => {
            use ops::domain_lineage::Direction;
            let direction = match direction {
                LineageDirection::Upstream => Direction::UPSTREAM,
                LineageDirection::Downstream => Direction::DOWNSTREAM,
            };
            let edges = client
                .call::<ops::DomainLineage>(ops::domain_lineage::Variables {
                    name,
                    direction,
                    depth: depth.into(),
                })
                .await?
                .lineage
                .edges;
            match remote.output {
                Output::Json => print_json(&edges),
                Output::Table => {
                    let mut table =
                        table(&["depth", "upstream", "kind", "downstream", "description"]);
                    for e in edges {
                        table.add_row(vec![
                            e.depth.to_string(),
                            e.upstream.name,
                            label(&e.upstream.kind),
                            e.downstream.name,
                            e.description,
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
            // The path already ends at the unknown key (`inputs[0].bogus`).
            let field = if path == "." {
                name.clone()
            } else if path == name || path.ends_with(&format!(".{name}")) {
                path.clone()
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

async fn list(
    client: &Client,
    output: Output,
    filter: ops::list_domains::DomainFilter,
) -> anyhow::Result<()> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = client
            .call::<ops::ListDomains>(ops::list_domains::Variables {
                filter: filter.clone(),
                after: after.take(),
            })
            .await?
            .domains;
        all.extend(page.nodes);
        if !page.page_info.has_next_page {
            break;
        }
        // A page that says more follow but gives no cursor would repeat
        // the first page for ever.
        after = Some(
            page.page_info
                .end_cursor
                .context("the server said more domains follow but gave no cursor")?,
        );
    }
    match output {
        Output::Json => print_json(&all),
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
                    d.name.clone(),
                    d.display_name.clone(),
                    d.owner_team.clone(),
                    label(&d.model),
                    label(&d.kind),
                    label(&d.status),
                    d.tags.join(", "),
                    join(&d.inputs, |i| i.name.clone()),
                ]);
            }
            out!("{table}");
            out!("{} domain(s)", all.len());
        }
    }
    Ok(())
}

/// One domain with everything `show` prints, or an error naming it when
/// it is not registered.
async fn show(client: &Client, name: &str) -> anyhow::Result<Domain> {
    client
        .call::<ops::ShowDomain>(ops::show_domain::Variables {
            name: name.to_string(),
        })
        .await?
        .domain
        .with_context(|| format!("domain `{name}` is not registered"))
}

/// The domain once its first schema pull was recorded, or as it is after
/// 6 seconds without one.
async fn first_pull(client: &Client, name: &str) -> anyhow::Result<Domain> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(6);
    loop {
        let domain = show(client, name).await;
        let done = std::time::Instant::now() >= deadline;
        match domain {
            Ok(domain) if domain.health.is_some() || done => return Ok(domain),
            Err(e) if done => return Err(e),
            _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
        }
    }
}

/// One line on the domain's last schema pull.
fn pull_outcome(name: &str, health: Option<&ops::show_domain::ShowDomainDomainHealth>) -> String {
    let Some(health) = health else {
        return format!("schema pull: pending (see `meshwork domain show {name}`)");
    };
    if health.consecutive_failures == 0 {
        format!(
            "schema pull: ok ({})",
            health.last_success_at.clone().unwrap_or_default()
        )
    } else {
        format!(
            "schema pull FAILED ({} in a row): {}\n  the domain is registered; fix its API or `schemaEndpoint` (`meshwork domain update {name} --file …`), then `meshwork domain refresh {name}`",
            health.consecutive_failures,
            health.last_error.clone().unwrap_or_default()
        )
    }
}

type Domain = ops::show_domain::ShowDomainDomain;

fn print_domain(output: Output, d: &Domain, verb: &str) {
    if output == Output::Json {
        print_json(d);
        return;
    }
    if !verb.is_empty() {
        out!("{verb} `{}`", d.name);
    }
    let mut table = table(&["field", "value"]);
    for (label, value) in [
        ("name", d.name.clone()),
        ("display name", d.display_name.clone()),
        ("description", d.description.clone()),
        ("owner team", d.owner_team.clone()),
        ("contact", d.contact.clone()),
        ("model", label(&d.model)),
        ("kind", label(&d.kind)),
        ("api url", d.api_url.clone()),
        (
            "schema endpoint",
            d.schema_endpoint.clone().unwrap_or_default(),
        ),
        ("data format", d.data_format.clone()),
        ("status", label(&d.status)),
        ("created", d.created_at.clone()),
        ("updated", d.updated_at.clone()),
        ("tags", d.tags.join(", ")),
        (
            "inputs",
            join(&d.inputs, |i| format!("{} ({})", i.name, label(&i.kind))),
        ),
        (
            "processing steps",
            join(&d.processing_steps, |s| s.name.clone()),
        ),
        (
            "quality indicators",
            join(&d.quality_indicators, |q| q.name.clone()),
        ),
        (
            "SLOs",
            join(&d.slos, |s| {
                let mut text = s.name.clone();
                if let Some(target) = s.target {
                    text.push_str(&format!(" {target}%"));
                }
                if let Some(window) = &s.window {
                    text.push_str(&format!(" / {window}"));
                }
                text
            }),
        ),
        (
            "latest schema",
            d.latest_schema_version
                .as_ref()
                .map(|v| v.hash.chars().take(12).collect())
                .unwrap_or_default(),
        ),
        ("compatibility", graphql_name(&d.compatibility)),
        (
            "cache lifetime",
            match d.cache_ttl_seconds {
                Some(0) => "not kept without Cache-Control".to_string(),
                Some(seconds) => format!("{seconds} s without Cache-Control"),
                None => "the gateway's default".to_string(),
            },
        ),
        ("schema endpoint health", health_text(d.health.as_ref())),
    ] {
        table.add_row(vec![label.to_string(), value]);
    }
    if let Some(drift) = &d.schema_drift {
        table.add_row(vec!["schema drift".to_string(), drift.clone()]);
    }
    let problems: Vec<String> = d
        .composition_problems
        .iter()
        .map(|p| {
            let line = p.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            format!("{}{line} {}", p.code.as_deref().unwrap_or(""), p.message)
        })
        .collect();
    if !problems.is_empty() {
        table.add_row(vec![
            "composition FAILS here".to_string(),
            problems.join("\n"),
        ]);
    }
    // The last versions with what changed (`meshwork schema history` has all).
    let history: Vec<String> = d
        .schema_history
        .iter()
        .take(5)
        .map(|v| {
            let count = |s: &str| v.changes.iter().filter(|c| label(&c.severity) == s).count();
            format!(
                "v{} {} {}: {} breaking, {} dangerous, {} safe",
                v.version.map(|n| n.to_string()).unwrap_or_default(),
                label(&v.status),
                v.fetched_at,
                count("breaking"),
                count("dangerous"),
                count("safe")
            )
        })
        .collect();
    table.add_row(vec!["schema history".to_string(), history.join("\n")]);
    let warnings = d
        .latest_schema_version
        .as_ref()
        .map(|v| v.warnings.as_slice())
        .unwrap_or_default();
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

fn health_text(health: Option<&ops::show_domain::ShowDomainDomainHealth>) -> String {
    let Some(health) = health else {
        return "not pulled yet".to_string();
    };
    let success = match &health.last_success_at {
        Some(at) => format!("last success {at}"),
        None => "never pulled successfully".to_string(),
    };
    if health.consecutive_failures == 0 {
        format!("ok, {success}")
    } else {
        format!(
            "FAILING, {} failed pulls in a row ({success})\nlast error: {}",
            health.consecutive_failures,
            health.last_error.clone().unwrap_or_default()
        )
    }
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

/// An enum value's GraphQL name (`BACKWARD`).
pub(crate) fn graphql_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .map(|v| text(&v))
        .unwrap_or_default()
}

/// An enum value as tables show it: its GraphQL name in lower case
/// (`AGGREGATE` → `aggregate`).
pub(crate) fn label<T: serde::Serialize>(value: &T) -> String {
    graphql_name(value).to_lowercase()
}

pub(crate) fn join<T>(list: &[T], f: impl Fn(&T) -> String) -> String {
    list.iter().map(f).collect::<Vec<_>>().join(", ")
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(text) => out!("{text}"),
        Err(e) => eprintln!("error: the answer cannot be written as JSON: {e}"),
    }
}
