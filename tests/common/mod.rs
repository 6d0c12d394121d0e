//! Shared test harness: real databases (an SQLite file always, PostgreSQL
//! when `MESHWORK_TEST_POSTGRES_URL` is set), the real `meshwork` binary on an
//! ephemeral loopback port, and plain HTTP clients.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use sea_orm::{Database, EntityTrait, QueryOrder};
use serde_json::{json, Value};

/// One database a test runs against, removed when dropped (SQLite) or left
/// to the throw-away server (PostgreSQL).
pub struct TestDb {
    pub label: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// `npm ci` in `dir` unless its `node_modules` is there: the npm packages
/// a test uses as an oracle or corpus. One install at a time in a test
/// binary: `npm ci` starts by deleting `node_modules`, so two tests
/// installing at once left a half-written package behind (seen in CI as a
/// JavaScript syntax error in one of its files). The error says why it
/// could not install (for the caller to fail in CI or say "skipped").
#[allow(dead_code)]
pub fn npm_ci(dir: &std::path::Path) -> Result<(), String> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if dir.join("node_modules").is_dir() {
        return Ok(());
    }
    match std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("npm ci: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => Err(format!("npm: {e}")),
    }
}

/// Records that part of a test could not run (a missing tool or service):
/// said on stderr, and written to `MESHWORK_SKIP_LOG` when set, which
/// `tests/run.sh` lists as NOT TESTED in its summary (cargo's own summary
/// can only say `ok`).
#[allow(dead_code)]
pub fn skipped(what: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("skipped: {what}");
    if let Some(path) = std::env::var_os("MESHWORK_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            // One write per line: appends of one write do not interleave.
            let _ = file.write_all(format!("{what} ({test})\n").as_bytes());
        }
    }
}

/// A fresh SQLite file, and a fresh PostgreSQL database when configured
/// (else the test runs on SQLite only, which [`skipped`] records).
pub async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("meshwork.db");
    let mut dbs = vec![TestDb {
        label: "sqlite",
        url: path.to_string_lossy().into_owned(),
        _dir: Some(dir),
    }];
    match std::env::var("MESHWORK_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => dbs.push(TestDb {
            label: "postgres",
            url: fresh_postgres_database(&server).await,
            _dir: None,
        }),
        _ => {
            skipped("PostgreSQL: MESHWORK_TEST_POSTGRES_URL is not set, so this ran on SQLite only")
        }
    }
    dbs
}

async fn fresh_postgres_database(server: &str) -> String {
    use sea_orm::ConnectionTrait;
    let admin = Database::connect(server)
        .await
        .expect("connect to MESHWORK_TEST_POSTGRES_URL");
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "meshwork_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default()
    );
    // template0 is never connected to, so concurrent creations do not clash.
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE template0"))
        .await
        .expect("create test database");
    let base = server.split('?').next().unwrap_or(server);
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    format!("{prefix}/{name}")
}

/// Path of the `meshwork` binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_meshwork"))
}

/// Path of the `meshwork-gateway` binary (the gateway alone) under test.
pub fn gateway_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_meshwork-gateway"))
}

/// A running `meshwork serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(database: &str) -> Server {
        Self::start_with(&["serve", "--listen", "127.0.0.1:0", "--database", database])
    }

    /// A mesh that picks up schema and composition changes within a second.
    pub fn start_fast(database: &str) -> Server {
        Self::start_with(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database,
            "--schema-poll-interval",
            "1s",
            "--supergraph-poll-interval",
            "1s",
        ])
    }

    /// `meshwork demo`: three demo domains and the mesh over them.
    pub fn start_demo() -> Server {
        Self::start_with(&[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--supergraph-poll-interval",
            "1s",
        ])
    }

    /// A gateway replica following the control plane at `control` with `key`.
    pub fn start_replica(control: &str, key: &str) -> Server {
        Self::start_with(&[
            "gateway",
            "--control-plane",
            control,
            "--cdn-key",
            key,
            "--poll-interval",
            "1s",
            "--listen",
            "127.0.0.1:0",
        ])
    }

    /// Runs `meshwork ARGS…` and waits for its "serving on" line.
    pub fn start_with(args: &[&str]) -> Server {
        Self::start_with_env(args, &[("MESHWORK_LOG", "warn")])
    }

    /// Runs `meshwork ARGS…` with these environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_program(&binary(), args, env)
    }

    /// Starts `program` (`meshwork` or `meshwork-gateway`) and waits until
    /// it prints where it serves.
    pub fn start_program(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start meshwork serve");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some((_, rest)) = line.split_once("serving on ") {
                        break rest.trim().to_string();
                    }
                }
                _ => {
                    let status = child.wait().expect("wait for failed server");
                    panic!("meshwork serve exited before listening: {status}");
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as("test", query, variables).await
    }

    pub async fn graphql_as(&self, actor: &str, query: &str, variables: Value) -> Value {
        self.graphql_with(&[("x-meshwork-actor", actor)], query, variables)
            .await
    }

    /// POSTs to the catalog's API with these request headers.
    pub async fn graphql_with(
        &self,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = reqwest::Client::new().post(format!("{}/catalog/graphql", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /catalog/graphql")
            .json()
            .await
            .expect("GraphQL JSON body")
    }

    /// POSTs a GraphQL operation to the federated endpoint `/graphql`.
    pub async fn mesh(&self, query: &str, variables: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        response
            .json()
            .await
            .unwrap_or_else(|e| json!({ "transport_error": e.to_string() }))
    }

    /// Polls the federated endpoint until `query` answers without errors
    /// and `accept` holds for the answer; panics after 60 s.
    pub async fn wait_for(&self, query: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let answer = self.mesh(query, json!({})).await;
            if answer.get("errors").is_none() && accept(&answer) {
                return answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gave up waiting for {query}: last answer {answer}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Runs `meshwork domain ARGS…` against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(binary())
            .arg("domain")
            .args(["--server", &self.base])
            .args(args)
            .env("MESHWORK_LOG", "warn")
            .output()
            .expect("run meshwork domain")
    }
}

impl Server {
    /// Sends SIGTERM (a graceful stop, as an orchestrator does) and waits
    /// up to `within` for the process to exit; its exit status.
    #[allow(dead_code)]
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        self.signal_term();
        self.wait_exit(within)
    }

    /// Sends SIGTERM and returns at once.
    #[allow(dead_code)]
    pub fn signal_term(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits up to `within` for the process to exit; its exit status.
    #[allow(dead_code)]
    pub fn wait_exit(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of a file under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A minimal valid registration, as GraphQL variables.
pub fn spec(name: &str) -> Value {
    json!({
        "name": name,
        "ownerTeam": "team-a",
        "contact": "team-a@example.com",
        "apiUrl": format!("http://127.0.0.1:1/{name}/graphql"),
    })
}

pub const REGISTER: &str =
    "mutation($spec: DomainSpec!) { registerDomain(spec: $spec) { name status } }";

/// Registers `spec` and fails the test on any error.
pub async fn register(server: &Server, spec: Value) {
    let response = server.graphql(REGISTER, json!({ "spec": spec })).await;
    assert!(
        response.get("errors").is_none(),
        "registration failed: {response}"
    );
}

/// Every row of every catalog table, for before/after comparisons.
pub async fn table_contents(database: &str) -> BTreeMap<&'static str, Vec<Value>> {
    use entity::{audit_log, domain, domain_tag, lineage_input, schema_version};
    let url = catalog::normalize_url(database).expect("database URL");
    let db = Database::connect(url).await.expect("open test database");
    let mut tables = BTreeMap::new();
    tables.insert(
        "domain",
        domain::Entity::find()
            .order_by_asc(domain::Column::Id)
            .into_json()
            .all(&db)
            .await
            .expect("domain rows"),
    );
    tables.insert(
        "domain_tag",
        domain_tag::Entity::find()
            .order_by_asc(domain_tag::Column::DomainId)
            .order_by_asc(domain_tag::Column::Tag)
            .into_json()
            .all(&db)
            .await
            .expect("tag rows"),
    );
    tables.insert(
        "lineage_input",
        lineage_input::Entity::find()
            .order_by_asc(lineage_input::Column::Id)
            .into_json()
            .all(&db)
            .await
            .expect("input rows"),
    );
    tables.insert(
        "schema_version",
        schema_version::Entity::find()
            .order_by_asc(schema_version::Column::Id)
            .into_json()
            .all(&db)
            .await
            .expect("schema rows"),
    );
    tables.insert(
        "audit_log",
        audit_log::Entity::find()
            .order_by_asc(audit_log::Column::Id)
            .into_json()
            .all(&db)
            .await
            .expect("audit rows"),
    );
    db.close().await.ok();
    tables
}

/// The `problems` of the first error of a GraphQL response.
pub fn problems(response: &Value) -> Vec<(String, String, String)> {
    response["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("expected refused input, got {response}"))
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap_or_default().to_string(),
                p["code"].as_str().unwrap_or_default().to_string(),
                p["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The SDL a subgraph serves at `_service { sdl }`.
pub async fn subgraph_sdl(url: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .expect("POST _service")
        .json()
        .await
        .expect("_service JSON");
    body["data"]["_service"]["sdl"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `base` with the fields of `extra` added or replaced (JSON objects).
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// Composes running subgraphs `(name, url)` with Meshwork's composition.
/// The demo's customers domain alone, served, and its supergraph; the
/// domain runs while the first value lives.
pub async fn customers_alone() -> (domains::Running, composition::Supergraph) {
    let customers = domains::serve(domains::demo::customers())
        .await
        .expect("customers");
    let supergraph = compose(&[("customers", &customers.url)]).await;
    (customers, supergraph)
}

pub async fn compose(members: &[(&str, &str)]) -> composition::Supergraph {
    let mut subgraphs = Vec::new();
    for (name, url) in members {
        subgraphs.push(composition::Subgraph {
            name: name.to_string(),
            url: url.to_string(),
            sdl: subgraph_sdl(url).await,
        });
    }
    composition::compose(&subgraphs).unwrap_or_else(|e| panic!("test subgraphs compose: {e}"))
}

/// `meshwork gateway` in static mode over `supergraph`, with an optional
/// router config (YAML) and extra flags, healthy (supergraph loaded) when
/// returned.
pub struct StaticGateway {
    pub server: Server,
    _dir: tempfile::TempDir,
}

pub async fn static_gateway(
    supergraph: &str,
    router_config: Option<&str>,
    extra: &[&str],
) -> StaticGateway {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, supergraph).expect("write supergraph");
    let file = file.to_string_lossy().into_owned();
    let mut args = vec!["gateway", "--supergraph", &file, "--listen", "127.0.0.1:0"];
    let config_path = dir
        .path()
        .join("router.yaml")
        .to_string_lossy()
        .into_owned();
    if let Some(config) = router_config {
        std::fs::write(&config_path, config).expect("write router config");
        args.extend(["--router-config", &config_path]);
    }
    args.extend(extra);
    let server = Server::start_with(&args);
    wait_healthy(&server.base).await;
    StaticGateway { server, _dir: dir }
}

/// Waits until `{base}/health` answers 200; panics after 30 s.
pub async fn wait_healthy(base: &str) {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = http
            .get(format!("{base}/health"))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if status.as_ref().ok() == Some(&200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{base} never became healthy: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// An HS256 token signed with `secret`: `claims` over `defaults`.
pub fn hs256(secret: &str, defaults: Value, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &merged(defaults, claims),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// An RS256 token signed with a test key of `tests/fixtures/jwt/`.
pub fn rs256(key_file: &str, kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(fixture(&format!("jwt/{key_file}"))).expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("RSA"),
    )
    .expect("sign")
}

/// The `extensions.code` of each error of a GraphQL answer, in order.
pub fn codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
        .collect()
}

/// A Redis for the test: `MESHWORK_TEST_REDIS_URL` (CI starts one), else a
/// throw-away `redis-server` on a free loopback port.
pub struct TestRedis {
    pub url: String,
    pub child: Option<std::process::Child>,
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `None` (test skipped, said on stderr) only outside CI when neither is
/// available; CI (`CI` set) always has one.
pub async fn redis() -> Option<TestRedis> {
    if let Ok(url) = std::env::var("MESHWORK_TEST_REDIS_URL") {
        if !url.is_empty() {
            return Some(TestRedis { url, child: None });
        }
    }
    own_redis().await
}

/// A `redis-server` of this test alone (it may be stopped).
pub async fn own_redis() -> Option<TestRedis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let spawned = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            skipped(&format!("Redis: no redis-server ({e}); install Debian's redis-server or set MESHWORK_TEST_REDIS_URL"));
            return None;
        }
        Err(e) => panic!("CI needs redis-server or MESHWORK_TEST_REDIS_URL: {e}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Some(TestRedis {
        url: format!("redis://127.0.0.1:{port}/"),
        child: Some(child),
    })
}

/// How many keys of the Redis at `url` match `pattern` (`KEYS`: for a
/// test's own Redis only).
pub async fn redis_keys(url: &str, pattern: &str) -> usize {
    let client = redis::Client::open(url).expect("redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut connection)
        .await
        .expect("KEYS");
    keys.len()
}

/// Waits until the Redis at `url` holds at least `count` keys matching
/// `pattern` (writes sent in the background); panics after 10 s.
pub async fn wait_redis_keys(url: &str, pattern: &str, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = redis_keys(url, pattern).await;
        if found >= count {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "redis holds {found} keys matching {pattern}, expected {count}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
