//! `meshwork query …`: saved queries of a running catalog. `save`, `list`,
//! `show` and `delete` use the discovery API; `run` and `export` fetch the
//! saved query's export URL on the gateway (`/export/{name}.json|csv|
//! parquet`), exactly what a BI tool opens, with the same credentials.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use crate::client::Client;
use crate::domain_cmd::{print_json, table, text};
use crate::operations as ops;
use crate::{Output, Remote};

#[derive(Subcommand)]
pub enum QueryCommand {
    /// Save (or replace) a named query; BI tools then read it as a table
    /// from `/export/NAME.csv` (or `.parquet`, `.json`).
    Save {
        /// A slug: lower-case letters, digits and hyphens.
        name: String,
        /// The GraphQL document (a query).
        #[arg(long, short)]
        file: PathBuf,
        /// The team that may change or delete it.
        #[arg(long)]
        owner: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Default variable values, a JSON object (`{"date": "2026-11-24"}`).
        #[arg(long)]
        variables: Option<String>,
        /// The dotted path of the list that becomes the rows
        /// (default: the answer's first list).
        #[arg(long)]
        rows: Option<String>,
        /// Which operation, when the document holds several.
        #[arg(long)]
        operation_name: Option<String>,
    },
    /// List saved queries.
    List {
        /// Only those of this owner team.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Show one saved query with its document and export paths.
    Show { name: String },
    /// Run a saved query and print the JSON answer.
    Run {
        name: String,
        /// Set a variable: `NAME=VALUE` (typed by the variable's declared
        /// type), repeated.
        #[arg(long = "var", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// The credential for the mesh (API key or JWT), when it differs
        /// from `--token` (the admin token opens the catalog only).
        #[arg(long, env = "MESHWORK_MESH_TOKEN", hide_env_values = true)]
        mesh_token: Option<String>,
    },
    /// Run a saved query and write its answer as a table.
    Export {
        name: String,
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
        /// Set a variable: `NAME=VALUE`, repeated.
        #[arg(long = "var", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The credential for the mesh (API key or JWT), when it differs
        /// from `--token` (the admin token opens the catalog only).
        #[arg(long, env = "MESHWORK_MESH_TOKEN", hide_env_values = true)]
        mesh_token: Option<String>,
    },
    /// Stop serving a saved query (the record and its history are kept).
    Delete { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TableFormat {
    Csv,
    Parquet,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

pub async fn run(remote: &Remote, command: QueryCommand) -> anyhow::Result<()> {
    let client = Client::new(&remote.server, remote.token.as_deref())?;
    match command {
        QueryCommand::Save {
            name,
            file,
            owner,
            description,
            variables,
            rows,
            operation_name,
        } => {
            let document = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let variables: Option<Value> = match variables {
                Some(text) => Some(serde_json::from_str(&text).context(
                    "--variables must be a JSON object, e.g. '{\"date\": \"2026-11-24\"}'",
                )?),
                None => None,
            };
            let spec = ops::save_query::SavedQuerySpec {
                name,
                owner_team: owner,
                description,
                query: document,
                variables,
                rows,
                operation_name,
            };
            let saved = client
                .call::<ops::SaveQuery>(ops::save_query::Variables { spec })
                .await?
                .save_query;
            if remote.output == Output::Json {
                print_json(&saved);
            } else {
                out!(
                    "saved query `{}`: {}{} (CSV), {} (Parquet), {} (JSON)",
                    saved.name,
                    remote.server.trim_end_matches('/'),
                    saved.csv_path,
                    saved.parquet_path,
                    saved.json_path,
                );
            }
        }
        QueryCommand::List { owner } => {
            let list = client
                .call::<ops::SavedQueries>(ops::saved_queries::Variables { owner })
                .await?
                .saved_queries;
            if remote.output == Output::Json {
                print_json(&list);
                return Ok(());
            }
            let mut t = table(&["name", "owner", "description", "variables", "csv"]);
            for q in list {
                let vars = q
                    .variable_types
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}: {}", text(v)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                t.add_row(vec![q.name, q.owner_team, q.description, vars, q.csv_path]);
            }
            out!("{t}");
        }
        QueryCommand::Show { name } => {
            let Some(saved) = client
                .call::<ops::ShowSavedQuery>(ops::show_saved_query::Variables {
                    name: name.clone(),
                })
                .await?
                .saved_query
            else {
                bail!("no saved query named `{name}` (see `meshwork query list`)");
            };
            if remote.output == Output::Json {
                print_json(&saved);
                return Ok(());
            }
            let mut t = table(&["field", "value"]);
            for (key, value) in [
                ("name", saved.name),
                ("ownerTeam", saved.owner_team),
                ("description", saved.description),
                ("operationName", saved.operation_name.unwrap_or_default()),
                ("variables", text(&saved.variables)),
                ("variableTypes", text(&saved.variable_types)),
                ("rows", saved.rows.unwrap_or_default()),
                ("csvPath", saved.csv_path),
                ("parquetPath", saved.parquet_path),
                ("jsonPath", saved.json_path),
                ("updatedBy", saved.updated_by),
                ("updatedAt", saved.updated_at),
            ] {
                t.add_row(vec![key.to_string(), value]);
            }
            out!("{t}\n{}", saved.query);
        }
        QueryCommand::Run {
            name,
            vars,
            mesh_token,
        } => {
            let mesh = mesh_client(remote, mesh_token)?;
            let body = fetch(&mesh, &name, "json", &vars).await?;
            let answer: Value = serde_json::from_slice(&body).context("the answer is not JSON")?;
            print_json(&answer);
            if answer
                .get("errors")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty())
            {
                bail!("the answer holds errors");
            }
        }
        QueryCommand::Export {
            name,
            format,
            vars,
            out,
            mesh_token,
        } => {
            let mesh = mesh_client(remote, mesh_token)?;
            let ext = match format {
                TableFormat::Csv => "csv",
                TableFormat::Parquet => "parquet",
            };
            let body = fetch(&mesh, &name, ext, &vars).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &body)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {} bytes to {}", body.len(), path.display());
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    // A closed pipe (`| head`) ends the output quietly.
                    if let Err(e) = stdout.write_all(&body).and_then(|()| stdout.flush()) {
                        if e.kind() != std::io::ErrorKind::BrokenPipe {
                            return Err(e).context("writing to standard output");
                        }
                    }
                }
            }
        }
        QueryCommand::Delete { name } => {
            client
                .call::<ops::DeleteSavedQuery>(ops::delete_saved_query::Variables {
                    name: name.clone(),
                })
                .await?;
            out!("deleted saved query `{name}` (kept in the catalog's history)");
        }
    }
    Ok(())
}

/// The client for the mesh: `--mesh-token` if given, else `--token`.
fn mesh_client(remote: &Remote, mesh_token: Option<String>) -> anyhow::Result<Client> {
    Client::new(
        &remote.server,
        mesh_token.as_deref().or(remote.token.as_deref()),
    )
}

/// GETs `/export/{name}.{ext}`; a refusal or an answer with errors is an
/// error carrying the server's message.
async fn fetch(
    client: &Client,
    name: &str,
    ext: &str,
    vars: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let (status, content_type, body) = client.get(&format!("/export/{name}.{ext}"), vars).await?;
    if ext == "json" && status.is_success() {
        return Ok(body);
    }
    if status.is_success() && !content_type.starts_with("application/json") {
        return Ok(body);
    }
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let messages: Vec<String> = answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    if messages.is_empty() {
        bail!("the gateway answered {status} without a table");
    }
    bail!("the gateway answered {status}: {}", messages.join("\n  "))
}
