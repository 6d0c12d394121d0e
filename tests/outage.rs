//! A real PostgreSQL outage: the test starts its own PostgreSQL server
//! (Debian's binaries, as `.ci/run` installs them), stops it under a
//! running Meshwork and starts it again. During the outage queries keep
//! answering and a CLI write fails fast with the server's reason; after it,
//! the next write succeeds without restarting Meshwork and its change is
//! served within seconds, and `servedVersion` never names a graph the
//! gateway does not serve.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{json, Value};

/// A PostgreSQL server of the test's own, stopped on drop.
struct Postgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

impl Postgres {
    /// Runs a PostgreSQL tool as the `postgres` user.
    fn run(&self, tool: &str, args: &str) -> bool {
        run_as_postgres(&self.bin, tool, args)
    }

    fn start(&self) -> bool {
        self.run(
            "pg_ctl",
            &format!(
                "-D {} -l {}/server.log -w -o '-p {} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' start",
                self.data.path().display(),
                self.data.path().display(),
                self.port
            ),
        )
    }

    fn stop(&self) -> bool {
        self.run(
            "pg_ctl",
            &format!("-D {} -m fast -w stop", self.data.path().display()),
        )
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_as_postgres(bin: &Path, tool: &str, args: &str) -> bool {
    Command::new("su")
        .args(["postgres", "-s", "/bin/sh", "-c"])
        .arg(format!("{}/{tool} {args}", bin.display()))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fresh PostgreSQL server, or why there cannot be one here.
fn own_postgres() -> Result<Postgres, String> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no PostgreSQL binaries in /usr/lib/postgresql".to_string())?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("pg_ctl").is_file())
        .max()
        .ok_or("no pg_ctl under /usr/lib/postgresql")?;
    let data = tempfile::Builder::new()
        .prefix("meshwork-outage-pg")
        .tempdir_in("/tmp")
        .map_err(|e| e.to_string())?;
    let chown = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(data.path())
        .status()
        .is_ok_and(|s| s.success());
    if !chown {
        return Err("cannot hand a data folder to the postgres user (not root?)".into());
    }
    if !run_as_postgres(
        &bin,
        "initdb",
        &format!("-D {} -A trust -U postgres", data.path().display()),
    ) {
        return Err("initdb failed".into());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let pg = Postgres { bin, data, port };
    if !pg.start() {
        return Err("pg_ctl start failed".into());
    }
    Ok(pg)
}

const PRODUCTS: &str = "{ products { name } }";
const STATE: &str = "{ composition { servedVersion readyVersion } }";

fn cli(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(common::binary())
        .args(["domain", "--server", &server.base])
        .args(args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork domain")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_writes_fast_and_the_first_change_after_it_is_served() {
    let pg = match own_postgres() {
        Ok(pg) => pg,
        Err(why) => {
            common::skipped(&format!("PostgreSQL outage test: {why}"));
            return;
        }
    };
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let inventory = domains::serve(domains::demo::inventory())
        .await
        .expect("inventory");
    let server = Server::start_fast(&pg.url());
    for (name, url) in [("customers", &customers.url), ("inventory", &inventory.url)] {
        common::register(
            &server,
            json!({ "name": name, "ownerTeam": "team", "contact": "team@example.com", "apiUrl": url }),
        )
        .await;
    }
    server
        .wait_for(PRODUCTS, |a| a["data"]["products"].is_array())
        .await;

    assert!(pg.stop(), "pg_ctl stop");
    // During the outage: the mesh keeps answering; a write fails within
    // 10 s with the server's reason and a non-zero exit.
    let started = Instant::now();
    let out = cli(&server, &["deregister", "inventory"]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "a write succeeded without a database"
    );
    assert!(
        took < Duration::from_secs(10),
        "the write took {took:?}: {stderr}"
    );
    assert!(
        stderr.contains("database is unreachable") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    eprintln!("outage: the CLI write failed after {took:?}");
    let answer = server.mesh(PRODUCTS, json!({})).await;
    assert!(answer["data"]["products"].is_array(), "{answer}");
    // Longer than a gateway poll and its retries (8 s; set
    // MESHWORK_TEST_OUTAGE_SECONDS for a longer outage, e.g. 130, past the
    // engine's old exponential backoff).
    let outage = std::env::var("MESHWORK_TEST_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    tokio::time::sleep(Duration::from_secs(outage)).await;
    let answer = server.mesh(PRODUCTS, json!({})).await;
    assert!(answer["data"]["products"].is_array(), "{answer}");

    assert!(pg.start(), "pg_ctl start");
    // The next write succeeds without restarting Meshwork (the pool
    // reconnects; allow it a few seconds).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = cli(&server, &["deregister", "inventory"]);
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no write succeeded after the outage: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let changed = Instant::now();
    // Served within 5 s; and while `servedVersion` names the new graph,
    // the mesh serves it.
    let ready = loop {
        let state: Value = server.graphql(STATE, json!({})).await;
        let ready = state["data"]["composition"]["readyVersion"].as_i64();
        let served = state["data"]["composition"]["servedVersion"].as_i64();
        let answer = server.mesh(PRODUCTS, json!({})).await;
        let gone = answer["data"]["products"].is_null() && answer["errors"].is_array();
        if served.is_some() && served == ready {
            assert!(
                gone,
                "servedVersion names the new graph, the mesh answers {answer}"
            );
        }
        if gone && served == ready {
            break ready;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "the deregistration was not served within 5 s: {state} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(ready.is_some());
    eprintln!(
        "outage: the deregistration after it was served {:?} after the write",
        changed.elapsed()
    );
}
