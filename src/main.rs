//! The `meshwork` binary: command-line parsing, process start-up, and the
//! only place that knows about config, environment variables and exit codes.

/// `println!` for command output: a closed pipe (`meshwork … | head`)
/// ends the command quietly instead of panicking.
macro_rules! out {
    () => {
        $crate::emit("")
    };
    ($($arg:tt)*) => {
        $crate::emit(&format!($($arg)*))
    };
}

/// Writes one line of command output; see [`out!`].
fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

mod access_cmd;
mod client;
mod domain_cmd;
mod mesh;
mod operations;
mod query_cmd;
mod schema_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

// The gateway engine is built and measured with mimalloc.
#[global_allocator]
static GLOBAL: gateway::GlobalAllocator = gateway::GlobalAllocator;

#[derive(Parser)]
#[command(
    name = "meshwork",
    version,
    about = "Data-mesh platform: a catalog of domains and one GraphQL endpoint over them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the mesh on one address: the federated GraphQL endpoint
    /// (/graphql), the catalog (/catalog/graphql), schema pulling and
    /// composition.
    Serve {
        #[command(flatten)]
        mesh: mesh::MeshArgs,
    },
    /// Run three demo domains as real subgraphs, register them, and serve
    /// the mesh over them.
    Demo {
        #[command(flatten)]
        mesh: mesh::MeshArgs,
    },
    /// Run a gateway alone: from a supergraph file (static mode), or
    /// following a Meshwork control plane (a replica).
    Gateway {
        #[command(flatten)]
        args: meshwork::gateway_cmd::GatewayArgs,
    },
    /// Write access rules (restricted domains, field policies) into a
    /// precomposed supergraph for a static gateway, as the catalog does at
    /// composition; prints the result.
    Secure {
        /// The supergraph file.
        #[arg(long)]
        supergraph: std::path::PathBuf,
        /// JSON: `{"restricted": ["domain"], "fieldPolicies":
        /// [{"coordinate": "Type.field", "scopes": [["a", "b"], ["c"]]}]}`.
        #[arg(long)]
        rules: std::path::PathBuf,
    },
    /// Compose local subgraph schema files into a supergraph, as the
    /// catalog composes registered domains (for a domain team's CI: does
    /// my schema compose with the others?). Prints the supergraph, or each
    /// composition error naming its domain (exit code 1).
    Compose {
        /// A domain's schema: `NAME=FILE` (SDL with its federation @link),
        /// repeated for each domain.
        #[arg(long = "subgraph", required = true, value_parser = parse_pair)]
        subgraphs: Vec<(String, PathBuf)>,
        /// Where the gateway would reach a domain: `NAME=URL` (default
        /// `http://NAME/graphql`).
        #[arg(long = "url", value_parser = parse_pair)]
        urls: Vec<(String, PathBuf)>,
        /// `table` prints the supergraph SDL; `json` prints
        /// `{"supergraph", "hash"}` or `{"errors": [{"domain", "message"}]}`.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Consumers, API keys, access requests and grants of a running
    /// catalog.
    Access {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: access_cmd::AccessCommand,
    },
    /// Schema evolution: check a candidate schema against a domain's
    /// history and the graph, show the history, approve or reject a
    /// version held under the strict model.
    Schema {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: schema_cmd::SchemaCommand,
    },
    /// Saved queries: save, list, show, delete; run one, or export its
    /// answer as CSV or Parquet (what a BI tool reads from
    /// `/export/NAME.csv`).
    Query {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: query_cmd::QueryCommand,
    },
    /// Register, list, show, update, refresh and deregister domains of a
    /// running catalog.
    Domain {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: DomainCommand,
    },
}

#[derive(clap::Args)]
pub struct Remote {
    /// The Meshwork server to talk to.
    #[arg(
        long,
        global = true,
        env = "MESHWORK_SERVER",
        default_value = "http://127.0.0.1:4000"
    )]
    server: String,
    /// A bearer token (JWT of a trusted issuer, API key, or the admin
    /// token) sent to the catalog; needed once the catalog is secured.
    #[arg(long, global = true, env = "MESHWORK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
pub enum DomainCommand {
    /// Register a domain from a YAML (or JSON) file. The fields are listed
    /// in the README ("Run your own mesh": the domain file table) and
    /// tests/fixtures/domains/ holds complete examples. Waits briefly for
    /// the first schema pull and prints its outcome.
    Register {
        /// The domain file (YAML or JSON).
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Change fields of a domain from a YAML file holding only those fields.
    Update {
        /// The domain's name.
        name: String,
        /// A YAML (or JSON) file with the fields to change, e.g. `apiUrl:
        /// http://…`.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// List domains, optionally filtered.
    List {
        /// Words to search in names, descriptions, tags and schema fields.
        #[arg(long)]
        text: Option<String>,
        /// Only domains of this owner team.
        #[arg(long)]
        owner: Option<String>,
        /// Only domains with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Include deregistered domains.
        #[arg(long)]
        all: bool,
    },
    /// Show one domain with its inputs and health.
    Show {
        /// The domain's name.
        name: String,
    },
    /// Pull a domain's schema now instead of at its next poll.
    Refresh {
        /// The domain's name.
        name: String,
    },
    /// Deregister a domain (kept for audit and lineage history).
    Deregister {
        /// The domain's name.
        name: String,
    },
    /// Drop the gateways' cached answers of a domain (all of them, or only
    /// those naming a type and/or an entity key value); every gateway
    /// applies it with its next access snapshot.
    CachePurge {
        /// The domain's name.
        name: String,
        /// Only answers about this type (e.g. `Order`).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Only answers that mention this entity key value (e.g. `o42`).
        #[arg(long)]
        key: Option<String>,
    },
    /// Show the transitive lineage of a domain.
    Lineage {
        /// The domain's name.
        name: String,
        /// `upstream`: what the domain is computed from; `downstream`:
        /// what is computed from it.
        #[arg(long, value_enum, default_value_t = LineageDirection::Upstream)]
        direction: LineageDirection,
        /// How many hops to follow (at most 10).
        #[arg(long, default_value_t = 10)]
        depth: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LineageDirection {
    Upstream,
    Downstream,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // The engine installs the process's logging and runs its own
        // runtime on this thread.
        Command::Serve { mesh } => mesh::serve(mesh, false),
        Command::Demo { mesh } => mesh::serve(mesh, true),
        Command::Gateway { args } => meshwork::gateway_cmd::gateway(args),
        Command::Secure { supergraph, rules } => secure(&supergraph, &rules),
        Command::Compose {
            subgraphs,
            urls,
            output,
        } => compose(subgraphs, urls, output),
        Command::Access { remote, command } => {
            init_cli_logging();
            tokio::runtime::Runtime::new()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(access_cmd::run(&remote, command)))
        }
        Command::Schema { remote, command } => {
            init_cli_logging();
            return match tokio::runtime::Runtime::new() {
                Ok(rt) => rt.block_on(schema_cmd::run(&remote, command)),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Query { remote, command } => {
            init_cli_logging();
            tokio::runtime::Runtime::new()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(query_cmd::run(&remote, command)))
        }
        Command::Domain { remote, command } => {
            init_cli_logging();
            tokio::runtime::Runtime::new()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(domain_cmd::run(&remote, command)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_cli_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MESHWORK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    restricted: Vec<String>,
    #[serde(default)]
    field_policies: Vec<FieldPolicyRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldPolicyRule {
    coordinate: String,
    scopes: Vec<Vec<String>>,
}

fn parse_pair(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() && !value.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(value)))
        }
        _ => Err(format!("`{text}`: expected NAME=VALUE")),
    }
}

/// Whether a schema file is an OpenAPI (or Swagger) document rather than
/// GraphQL SDL.
fn is_openapi(text: &str) -> bool {
    let trimmed = text.trim_start();
    trimmed.starts_with('{')
        || text
            .lines()
            .any(|l| l.starts_with("openapi:") || l.starts_with("swagger:"))
}

/// `meshwork compose`: local files composed the way the catalog composes
/// domains (access directives linked as at serve time).
fn compose(
    files: Vec<(String, PathBuf)>,
    urls: Vec<(String, PathBuf)>,
    output: Output,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let urls: std::collections::BTreeMap<String, String> = urls
        .into_iter()
        .map(|(name, url)| (name, url.to_string_lossy().into_owned()))
        .collect();
    let mut subgraphs = Vec::new();
    for (name, path) in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the schema of `{name}` from {}", path.display()))?;
        // A REST domain's OpenAPI document composes through the subgraph
        // derived from it, as in the catalog.
        let sdl = if is_openapi(&text) {
            let derived =
                openapi::derive(&text, &openapi::Settings::default()).with_context(|| {
                    format!("deriving the subgraph of `{name}` from {}", path.display())
                })?;
            for warning in &derived.warnings {
                eprintln!("warning: `{name}`: {warning}");
            }
            derived.sdl
        } else {
            text
        };
        subgraphs.push(composition::Subgraph {
            url: urls
                .get(&name)
                .cloned()
                .unwrap_or_else(|| format!("http://{name}/graphql")),
            name,
            sdl,
        });
    }
    let rules = composition::AccessRules {
        admin_scope: access::scopes::ADMIN.to_string(),
        ..Default::default()
    };
    let composed = composition::compose(&subgraphs).and_then(|s| {
        composition::apply_access(&s.sdl, &rules)
            .map(|sdl| s.with_sdl(sdl))
            .map_err(|message| {
                composition::CompositionFailed(vec![composition::CompositionError::new(
                    None,
                    format!("access rules: {message}"),
                )])
            })
    });
    match (composed, output) {
        (Ok(s), Output::Table) => {
            for warning in &s.warnings {
                eprintln!("warning: {warning}");
            }
            out!("{}", s.sdl)
        }
        (Ok(s), Output::Json) => out!(
            "{}",
            serde_json::json!({ "supergraph": s.sdl, "hash": s.hash, "warnings": s.warnings })
        ),
        (Err(failed), Output::Json) => {
            out!("{}", serde_json::json!({ "errors": failed.0 }));
            anyhow::bail!("composition failed");
        }
        (Err(failed), Output::Table) => {
            for error in &failed.0 {
                eprintln!("{error}");
            }
            anyhow::bail!("composition failed ({} errors)", failed.0.len());
        }
    }
    Ok(())
}

/// `meshwork secure`: the catalog's access rules applied to a file.
fn secure(supergraph: &std::path::Path, rules: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let sdl = std::fs::read_to_string(supergraph)
        .with_context(|| format!("reading {}", supergraph.display()))?;
    let text =
        std::fs::read_to_string(rules).with_context(|| format!("reading {}", rules.display()))?;
    let parsed: RulesFile =
        serde_json::from_str(&text).with_context(|| format!("{}", rules.display()))?;
    let rules = composition::AccessRules {
        restricted: parsed.restricted.into_iter().collect(),
        field_policies: parsed
            .field_policies
            .into_iter()
            .map(|p| (p.coordinate, p.scopes))
            .collect(),
        admin_scope: access::scopes::ADMIN.to_string(),
    };
    let secured = composition::apply_access(&sdl, &rules).map_err(|e| anyhow::anyhow!(e))?;
    out!("{secured}");
    Ok(())
}
