//! The `meshwork` binary: command-line parsing, process start-up, and the
//! only place that knows about config, environment variables and exit codes.

mod client;
mod domain_cmd;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Run the catalog (discovery API, GraphiQL, health) on one port.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MESHWORK_LISTEN", default_value = "127.0.0.1:4000")]
        listen: SocketAddr,
        /// `meshwork.db` (an SQLite file, created on first start) or `postgres://…`.
        #[arg(long, env = "MESHWORK_DATABASE_URL", default_value = "meshwork.db")]
        database: String,
    },
    /// Register, list, show, update and deregister domains of a running catalog.
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
    /// Register a domain from a YAML (or JSON) file.
    Register {
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Change fields of a domain from a YAML file holding only those fields.
    Update {
        name: String,
        #[arg(long, short)]
        file: PathBuf,
    },
    /// List domains, optionally filtered.
    List {
        /// Words to search in names, descriptions, tags and schema fields.
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        /// Include deregistered domains.
        #[arg(long)]
        all: bool,
    },
    /// Show one domain with its inputs.
    Show { name: String },
    /// Deregister a domain (kept for audit and lineage history).
    Deregister { name: String },
    /// Show the transitive lineage of a domain.
    Lineage {
        name: String,
        #[arg(long, value_enum, default_value_t = LineageDirection::Upstream)]
        direction: LineageDirection,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MESHWORK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { listen, database } => server::serve(listen, &database).await,
            Command::Domain { remote, command } => domain_cmd::run(&remote, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
