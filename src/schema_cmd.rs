//! `meshwork schema …`: schema evolution against a running catalog: check a
//! candidate schema (for a domain team's CI), see a domain's history,
//! approve or reject a version held under the strict model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;

use crate::client::Client;
use crate::domain_cmd::{graphql_name, label, print_json, table};
use crate::operations as ops;
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
            let check = client
                .call::<ops::CheckSchema>(ops::check_schema::Variables { domain, document })
                .await?
                .check_schema;
            if remote.output == Output::Json {
                print_json(&check);
            } else {
                print_check(&check);
            }
            Ok(if check.accepted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        SchemaCommand::History { domain } => {
            let Some(history) = client
                .call::<ops::SchemaHistory>(ops::schema_history::Variables {
                    domain: domain.clone(),
                })
                .await?
                .domain
            else {
                anyhow::bail!("domain `{domain}` is not registered");
            };
            if remote.output == Output::Json {
                print_json(&history);
            } else {
                print_history(&history);
            }
            Ok(ExitCode::SUCCESS)
        }
        SchemaCommand::Approve { domain, version } => {
            let v = client
                .call::<ops::ApproveSchemaVersion>(ops::approve_schema_version::Variables {
                    domain: domain.clone(),
                    version: version.into(),
                })
                .await?
                .approve_schema_version;
            reviewed(remote, &domain, &v, v.id, &v.status);
            Ok(ExitCode::SUCCESS)
        }
        SchemaCommand::Reject { domain, version } => {
            let v = client
                .call::<ops::RejectSchemaVersion>(ops::reject_schema_version::Variables {
                    domain: domain.clone(),
                    version: version.into(),
                })
                .await?
                .reject_schema_version;
            reviewed(remote, &domain, &v, v.id, &v.status);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a reviewed version: the whole answer as JSON, or one line.
fn reviewed(
    remote: &Remote,
    domain: &str,
    answer: &impl Serialize,
    id: i64,
    status: &impl Serialize,
) {
    if remote.output == Output::Json {
        print_json(answer);
    } else {
        out!("version {id} of `{domain}` is {}", label(status));
    }
}

/// One change as a line: severity, path and message.
fn change_line(severity: &impl Serialize, path: &str, message: &str) -> String {
    format!("{:<9} {path}: {message}", label(severity))
}

fn print_check(c: &ops::check_schema::CheckSchemaCheckSchema) {
    let verdict = if c.accepted {
        "would be accepted"
    } else {
        "would NOT be accepted"
    };
    out!(
        "`{}` ({} model, compatibility {}): {verdict}",
        c.domain,
        label(&c.model),
        graphql_name(&c.compatibility)
    );
    if let Some(error) = &c.error {
        out!("  cannot be checked: {error}");
    }
    if c.composes {
        out!("  composes with the current graph");
    } else {
        for e in &c.composition_errors {
            out!(
                "  composition: [{}] {}",
                e.code.as_deref().unwrap_or(""),
                e.message
            );
        }
    }
    out!("  changes: {}", c.changes.len());
    for ch in &c.changes {
        out!("    {}", change_line(&ch.severity, &ch.path, &ch.message));
    }
    for v in &c.compatibility_violations {
        out!(
            "  compatibility ({} against version id {}): {}",
            label(&v.direction),
            v.against_version_id,
            v.change.message
        );
    }
    for r in &c.rule_violations {
        out!("  rule {} ({}): {}", r.rule, label(&r.level), r.message);
    }
    for w in &c.derivation_warnings {
        out!("  derivation: {w}");
    }
    if !c.affected.is_empty() && !c.usage_complete {
        out!("  usage: not recorded over the whole window yet, so every breaking change counts");
    }
    for a in &c.affected {
        if a.uses.is_empty() {
            let note = if a.safe_by_usage {
                "no consumer used it in the window: safe by usage"
            } else {
                "no recorded use"
            };
            out!("  {}: {note}", a.path);
        }
        for u in &a.uses {
            let client = match u.client.as_str() {
                "" => "(unknown client)",
                c => c,
            };
            out!(
                "  {} breaks {client}, operation {} ({} uses, last {})",
                a.path,
                u.operation,
                u.count,
                u.last_seen
            );
        }
    }
}

fn print_history(d: &ops::schema_history::SchemaHistoryDomain) {
    out!(
        "`{}` ({} model, compatibility {})",
        d.name,
        label(&d.model),
        graphql_name(&d.compatibility)
    );
    let mut t = table(&["version", "id", "fetched", "status", "changes"]);
    for v in &d.schema_history {
        let mut lines: Vec<String> = v
            .changes
            .iter()
            .map(|c| change_line(&c.severity, &c.path, &c.message))
            .collect();
        for x in &v.compatibility_violations {
            lines.push(format!("refused by compatibility: {}", x.change.message));
        }
        for r in &v.rule_violations {
            lines.push(format!("rule {}: {}", r.rule, r.message));
        }
        let mut status = label(&v.status);
        if let Some(by) = &v.reviewed_by {
            status.push_str(&format!(" by {by}"));
        }
        t.add_row(vec![
            v.version.map(|n| n.to_string()).unwrap_or_default(),
            v.id.to_string(),
            v.fetched_at.clone(),
            status,
            lines.join("\n"),
        ]);
    }
    out!("{t}");
}
