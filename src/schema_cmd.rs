//! `meshwork schema …`: schema evolution against a running catalog: check a
//! candidate schema (for a domain team's CI), see a domain's history,
//! approve or reject a version held under the strict model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Client;
use crate::domain_cmd::{print_json, table, text};
use crate::{Output, Remote};

#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Would this schema be accepted as the domain's next version? Checks
    /// that it composes with the current graph, lists each change with its
    /// severity, applies the domain's compatibility mode and the governance
    /// rules. Exit code 0 when it would be accepted, 1 when not, 2 when the
    /// check cannot run (unreadable file, unknown domain, no server).
    Check {
        #[arg(long)]
        domain: String,
        /// The candidate: SDL for a GraphQL domain, the OpenAPI document
        /// for a REST domain.
        #[arg(long, alias = "document")]
        sdl: PathBuf,
    },
    /// A domain's schema versions with their status and changes.
    History { domain: String },
    /// Approve a version held under the strict model (platform admins).
    Approve {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        version: i32,
    },
    /// Reject a held version; the served one stays.
    Reject {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        version: i32,
    },
}

const CHANGE: &str = "severity kind path message";

/// Runs a schema command; the exit code is the check's verdict.
pub async fn run(remote: &Remote, command: SchemaCommand) -> ExitCode {
    match run_inner(remote, command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run_inner(remote: &Remote, command: SchemaCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(&remote.server, remote.token.as_deref())?;
    match command {
        SchemaCommand::Check { domain, sdl } => {
            let document = std::fs::read_to_string(&sdl)
                .with_context(|| format!("reading {}", sdl.display()))?;
            let query = format!(
                "query($d: String!, $doc: String!) {{ checkSchema(domain: $d, document: $doc) {{ \
                 domain accepted model compatibility composes error derivationWarnings \
                 compositionErrors {{ domain message code line }} \
                 changes {{ {CHANGE} }} \
                 compatibilityViolations {{ againstVersionId direction change {{ {CHANGE} }} }} \
                 ruleViolations {{ rule level path message }} usageComplete \
                 affected {{ path safeByUsage uses {{ client operation count lastSeen }} }} }} }}"
            );
            let data = client
                .run(&query, json!({ "d": domain, "doc": document }))
                .await?;
            let check = &data["checkSchema"];
            if remote.output == Output::Json {
                print_json(check);
            } else {
                print_check(check);
            }
            Ok(if check["accepted"] == true {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        SchemaCommand::History { domain } => {
            let query = format!(
                "query($d: String!) {{ domain(name: $d) {{ name model compatibility schemaHistory {{ \
                 version id fetchedAt status reviewedBy checkError changes {{ {CHANGE} }} \
                 compatibilityViolations {{ againstVersionId direction change {{ {CHANGE} }} }} \
                 ruleViolations {{ rule level path message }} }} }} }}"
            );
            let data = client.run(&query, json!({ "d": domain })).await?;
            if data["domain"].is_null() {
                anyhow::bail!("domain `{domain}` is not registered");
            }
            if remote.output == Output::Json {
                print_json(&data["domain"]);
            } else {
                print_history(&data["domain"]);
            }
            Ok(ExitCode::SUCCESS)
        }
        SchemaCommand::Approve { domain, version } => {
            review(&client, remote, &domain, version, true).await
        }
        SchemaCommand::Reject { domain, version } => {
            review(&client, remote, &domain, version, false).await
        }
    }
}

async fn review(
    client: &Client,
    remote: &Remote,
    domain: &str,
    version: i32,
    approve: bool,
) -> anyhow::Result<ExitCode> {
    let mutation = if approve {
        "approveSchemaVersion"
    } else {
        "rejectSchemaVersion"
    };
    let query = format!(
        "mutation($d: String!, $v: Int!) {{ {mutation}(domain: $d, versionId: $v) {{ id status reviewedBy reviewedAt }} }}"
    );
    let data = client
        .run(&query, json!({ "d": domain, "v": version }))
        .await?;
    let v = &data[mutation];
    if remote.output == Output::Json {
        print_json(v);
    } else {
        out!(
            "version {} of `{domain}` is {}",
            text(&v["id"]),
            text(&v["status"]).to_lowercase()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn changes_text(changes: &Value) -> Vec<String> {
    changes
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{:<9} {}: {}",
                text(&c["severity"]).to_lowercase(),
                text(&c["path"]),
                text(&c["message"])
            )
        })
        .collect()
}

fn print_check(c: &Value) {
    let verdict = if c["accepted"] == true {
        "would be accepted"
    } else {
        "would NOT be accepted"
    };
    out!(
        "`{}` ({} model, compatibility {}): {verdict}",
        text(&c["domain"]),
        text(&c["model"]).to_lowercase(),
        text(&c["compatibility"])
    );
    if let Some(error) = c["error"].as_str() {
        out!("  cannot be checked: {error}");
    }
    if c["composes"] == true {
        out!("  composes with the current graph");
    } else {
        for e in c["compositionErrors"].as_array().into_iter().flatten() {
            out!(
                "  composition: [{}] {}",
                text(&e["code"]),
                text(&e["message"])
            );
        }
    }
    let changes = changes_text(&c["changes"]);
    out!("  changes: {}", changes.len());
    for line in changes {
        out!("    {line}");
    }
    for v in c["compatibilityViolations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out!(
            "  compatibility ({} against version id {}): {}",
            text(&v["direction"]).to_lowercase(),
            v["againstVersionId"],
            text(&v["change"]["message"])
        );
    }
    for r in c["ruleViolations"].as_array().into_iter().flatten() {
        out!(
            "  rule {} ({}): {}",
            text(&r["rule"]),
            text(&r["level"]).to_lowercase(),
            text(&r["message"])
        );
    }
    for w in c["derivationWarnings"].as_array().into_iter().flatten() {
        out!("  derivation: {}", text(w));
    }
    let affected = c["affected"].as_array().cloned().unwrap_or_default();
    if !affected.is_empty() && c["usageComplete"] != true {
        out!("  usage: not recorded over the whole window yet, so every breaking change counts");
    }
    for a in affected {
        let uses = a["uses"].as_array().cloned().unwrap_or_default();
        if uses.is_empty() {
            let note = if a["safeByUsage"] == true {
                "no consumer used it in the window: safe by usage"
            } else {
                "no recorded use"
            };
            out!("  {}: {note}", text(&a["path"]));
        }
        for u in uses {
            let client = match text(&u["client"]) {
                c if c.is_empty() => "(unknown client)".to_string(),
                c => c,
            };
            out!(
                "  {} breaks {client}, operation {} ({} uses, last {})",
                text(&a["path"]),
                text(&u["operation"]),
                u["count"],
                text(&u["lastSeen"])
            );
        }
    }
}

fn print_history(d: &Value) {
    out!(
        "`{}` ({} model, compatibility {})",
        text(&d["name"]),
        text(&d["model"]).to_lowercase(),
        text(&d["compatibility"])
    );
    let mut t = table(&["version", "id", "fetched", "status", "changes"]);
    for v in d["schemaHistory"].as_array().into_iter().flatten() {
        let mut lines = changes_text(&v["changes"]);
        for x in v["compatibilityViolations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            lines.push(format!(
                "refused by compatibility: {}",
                text(&x["change"]["message"])
            ));
        }
        for r in v["ruleViolations"].as_array().into_iter().flatten() {
            lines.push(format!(
                "rule {}: {}",
                text(&r["rule"]),
                text(&r["message"])
            ));
        }
        let mut status = text(&v["status"]).to_lowercase();
        if let Some(by) = v["reviewedBy"].as_str() {
            status.push_str(&format!(" by {by}"));
        }
        t.add_row(vec![
            text(&v["version"]),
            text(&v["id"]),
            text(&v["fetchedAt"]),
            status,
            lines.join("\n"),
        ]);
    }
    out!("{t}");
}
