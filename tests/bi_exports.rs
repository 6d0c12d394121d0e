//! BI-ready exports: a federated query's answer as CSV or Apache Parquet
//! from `/graphql` (one URL), read back by pandas and pyarrow (PyPI, the
//! tools BI work uses), with every check of the mesh still applied.

mod common;

use common::Server;
use serde_json::{json, Value};

const QUERY: &str = r#"{ ordersByDate(date: "2026-11-24") { id total placedOn customer { name } lines { quantity product { sku } } } }"#;

/// A python with pandas and pyarrow, if any.
fn python() -> Option<String> {
    [
        std::env::var("MESHWORK_PYTHON").ok(),
        Some("python3".into()),
    ]
    .into_iter()
    .flatten()
    .find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import pandas, pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn url_of(server: &Server, query: &str, extra: &str) -> String {
    let encoded: String = url_encode(query);
    format!("{}/graphql?query={encoded}{extra}", server.base)
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A GET as a BI tool sends it: the URL and the CSRF-prevention header
/// (any GET to /graphql needs one; pandas: `storage_options`).
async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("x-meshwork-csrf", "1")
        .send()
        .await
        .expect("GET")
}

async fn run_python(python: &str, script: &str, args: &[&str]) -> Value {
    let out = tokio::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("python printed JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_federated_query_reads_into_pandas_and_pyarrow_from_one_url() {
    let server = Server::start_demo();
    server
        .wait_for(QUERY, |a| a["data"]["ordersByDate"].is_array())
        .await;

    // CSV by URL alone (what pandas.read_csv or a spreadsheet fetches).
    let csv_url = url_of(&server, QUERY, "&format=csv");
    let response = get(&csv_url).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = response.text().await.expect("csv text");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,total,placedOn,customer.name,lines"),
        "{text}"
    );
    assert_eq!(lines.count(), 2, "{text}");

    // Parquet by Accept header, on a POST.
    let parquet = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("accept", "application/vnd.apache.parquet")
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .expect("POST parquet");
    assert_eq!(parquet.status(), 200);
    let bytes = parquet.bytes().await.expect("parquet bytes");
    assert_eq!(&bytes[..4], b"PAR1");

    // Rows chosen by path: the catalog's data products, one row each.
    let products = get(&url_of(
        &server,
        "{ meshwork { dataProducts { name owner freshness { ageSeconds } } } }",
        "&format=csv&rows=meshwork.dataProducts",
    ))
    .await
    .text()
    .await
    .expect("text");
    assert!(products.starts_with("name,owner,freshness"), "{products}");
    assert_eq!(products.lines().count(), 5, "{products}");

    // What cannot be a table stays JSON: a wrong row path, an invalid query.
    let wrong = get(&url_of(&server, QUERY, "&format=csv&rows=nope")).await;
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.expect("JSON error");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`nope`")),
        "{body}"
    );
    let invalid = get(&url_of(&server, "{ ordersByDate { nope } }", "&format=csv")).await;
    assert_eq!(
        invalid
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.starts_with("application/json")),
        Some(true)
    );
    let body: Value = invalid.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );

    let Some(python) = python() else {
        common::skipped("reading exports with pandas and pyarrow: no python with them (pip install -r tests/python-requirements.txt, or set MESHWORK_PYTHON)");
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("orders.parquet");
    std::fs::write(&file, &bytes).expect("write parquet");
    let read = run_python(
        &python,
        r#"
import json, sys
import pandas as pd
import pyarrow.parquet as pq
frame = pd.read_csv(sys.argv[1], storage_options={"x-meshwork-csrf": "1"})
table = pq.read_table(sys.argv[2])
print(json.dumps({
    "csv_columns": list(frame.columns),
    "csv_dtypes": {c: str(t) for c, t in frame.dtypes.items()},
    "csv_rows": frame.to_dict(orient="records"),
    "parquet_types": {f.name: str(f.type) for f in table.schema},
    "parquet_rows": table.to_pylist(),
}))
"#,
        &[&csv_url, &file.to_string_lossy()],
    )
    .await;
    assert_eq!(
        read["csv_columns"],
        json!(["id", "total", "placedOn", "customer.name", "lines"])
    );
    assert_eq!(read["csv_dtypes"]["total"], "float64", "{read}");
    assert_eq!(read["csv_rows"][0]["id"], "o2", "{read}");
    assert_eq!(read["csv_rows"][0]["total"], 89.5);
    assert_eq!(
        read["parquet_types"],
        json!({ "id": "string", "total": "double", "placedOn": "string", "customer.name": "string", "lines": "string" })
    );
    assert_eq!(read["parquet_rows"][1]["total"], 450.0, "{read}");
    assert_eq!(
        read["parquet_rows"][0]["customer.name"],
        read["csv_rows"][0]["customer.name"]
    );
}

/// The export runs every check of the mesh: a caller refused on JSON is
/// refused on CSV, and a partly refused answer is never a partial table.
#[tokio::test(flavor = "multi_thread")]
async fn exports_take_no_side_door() {
    let server = Server::start_with(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--supergraph-poll-interval",
        "1s",
        "--anonymous",
        "deny",
    ]);
    common::wait_healthy(&server.base).await;
    // Until the catalog says the mesh has domains, every request is 503.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get(&url_of(&server, QUERY, "&format=csv")).await.status() == 503 {
        assert!(
            std::time::Instant::now() < deadline,
            "the mesh never served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // CSRF prevention holds for exports too.
    let plain = reqwest::get(url_of(&server, QUERY, "&format=csv"))
        .await
        .expect("GET");
    assert_eq!(plain.status(), 403);
    for extra in ["&format=csv", "&format=parquet"] {
        let response = get(&url_of(&server, QUERY, extra)).await;
        assert_eq!(response.status(), 401, "{extra}");
        let body: Value = response.json().await.expect("JSON refusal");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("accept", "text/csv")
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
    // A saved query's URL runs as its caller: refused without a credential,
    // in every format, and with a wrong one.
    for format in ["csv", "parquet", "json"] {
        let url = format!("{}/export/orders-by-date.{format}", server.base);
        let response = reqwest::get(&url).await.expect("GET");
        assert_eq!(response.status(), 401, "{url}");
        let body: Value = response.json().await.expect("JSON refusal");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let response = reqwest::Client::new()
            .get(&url)
            .header("x-api-key", "mk_nope_0000000000000000")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 401, "{url}");
    }
    // An encoded path reaches the same check.
    let encoded = reqwest::get(format!("{}/export/orders%2Dby%2Ddate.csv", server.base))
        .await
        .expect("GET");
    assert!(
        encoded.status() == 401 || encoded.status() == 404,
        "{}",
        encoded.status()
    );
}

const ADMIN: &str = "bi-exports-admin-token";

/// Runs `meshwork query ARGS…` against the server: catalog commands as
/// the admin, `run` and `export` (the mesh) anonymously.
fn query_cli(server: &Server, args: &[&str]) -> std::process::Output {
    let token: &[&str] = if matches!(args.first(), Some(&"run") | Some(&"export")) {
        &[]
    } else {
        &["--token", ADMIN]
    };
    std::process::Command::new(common::binary())
        .arg("query")
        .args(["--server", &server.base])
        .args(token)
        .args(args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork query")
}

fn stdout_of(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A saved query is one URL a spreadsheet or pandas opens with nothing
/// else: `/export/{name}.csv`, its variables as URL parameters.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_query_is_one_url_for_a_bi_tool() {
    let server = Server::start_with_env(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--supergraph-poll-interval",
            "1s",
        ],
        &[("MESHWORK_LOG", "warn"), ("MESHWORK_ADMIN_TOKEN", ADMIN)],
    );
    server
        .wait_for(QUERY, |a| a["data"]["ordersByDate"].is_array())
        .await;
    let export = |path: &str| format!("{}/export/{path}", server.base);

    // The demo's saved query, by a plain GET (no header at all).
    let response = reqwest::get(export("orders-by-date.csv"))
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("csv");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "id,total,placedOn,customer.name",
            "o2,89.5,2026-11-24,Grace Hopper",
            "o3,450.0,2026-11-24,Ada Lovelace"
        ],
        "{text}"
    );
    // A URL parameter sets the variable; another date, other rows.
    let other = reqwest::get(export("orders-by-date.csv?date=2026-11-23"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("csv");
    assert!(other.lines().count() >= 2, "{other}");
    assert!(!other.contains("o2,"), "{other}");
    let json: Value = reqwest::get(export("orders-by-date.json"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(json["data"]["ordersByDate"][0]["id"], "o2", "{json}");
    let parquet = reqwest::get(export("orders-by-date.parquet"))
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&parquet[..4], b"PAR1");

    // Wrong URLs say what is wrong and run nothing.
    for (path, status, words) in [
        (
            "orders-by-date.csv?dte=2026-11-24",
            400,
            "unknown parameter `dte`",
        ),
        ("nope.csv", 404, "no saved query named `nope`"),
        ("orders-by-date.xlsx", 404, "not an export URL"),
        ("orders-by-date", 404, "not an export URL"),
    ] {
        let response = reqwest::get(export(path)).await.expect("GET");
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.expect("JSON error");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{path}: {body}");
    }
    let post = reqwest::Client::new()
        .post(export("orders-by-date.csv"))
        .json(&json!({ "query": "mutation { x }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), 405);

    // The CLI saves, lists, runs and exports; a mutation is refused.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("products.graphql");
    std::fs::write(
        &file,
        "query Products { meshwork { dataProducts { name owner } } }",
    )
    .expect("write");
    let saved = stdout_of(&query_cli(
        &server,
        &[
            "save",
            "data-products",
            "--file",
            &file.to_string_lossy(),
            "--owner",
            "platform",
            "--rows",
            "meshwork.dataProducts",
        ],
    ));
    assert!(saved.contains("/export/data-products.csv"), "{saved}");
    let listed = stdout_of(&query_cli(&server, &["list"]));
    assert!(
        listed.contains("data-products") && listed.contains("orders-by-date"),
        "{listed}"
    );
    let csv = stdout_of(&query_cli(&server, &["export", "data-products"]));
    assert!(csv.starts_with("name,owner\n"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let run = stdout_of(&query_cli(
        &server,
        &["run", "orders-by-date", "--var", "date=2026-11-24"],
    ));
    assert!(run.contains("\"o3\""), "{run}");
    let bad = query_cli(&server, &["run", "orders-by-date", "--var", "when=1"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unknown parameter `when`"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    std::fs::write(&file, "mutation { reportQuality(domain: \"orders\") }").expect("write");
    let refused = query_cli(
        &server,
        &[
            "save",
            "writer",
            "--file",
            &file.to_string_lossy(),
            "--owner",
            "platform",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("may only read"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // On a secured catalog only the owner team or an admin changes one.
    let anonymous = std::process::Command::new(common::binary())
        .args([
            "query",
            "--server",
            &server.base,
            "delete",
            "orders-by-date",
        ])
        .output()
        .expect("run");
    assert!(!anonymous.status.success());
    assert!(
        String::from_utf8_lossy(&anonymous.stderr).contains("only the owner team `sales`"),
        "{}",
        String::from_utf8_lossy(&anonymous.stderr)
    );
    assert_eq!(
        reqwest::get(export("orders-by-date.csv"))
            .await
            .expect("GET")
            .status(),
        200
    );

    // Deleted: the URL stops answering; the record stays in the history.
    stdout_of(&query_cli(&server, &["delete", "data-products"]));
    let gone = reqwest::get(export("data-products.csv"))
        .await
        .expect("GET");
    assert_eq!(gone.status(), 404);
    let bearer = format!("Bearer {ADMIN}");
    let audit = server
        .graphql_with(
            &[("authorization", bearer.as_str())],
            "{ auditLog(filter: { target: \"saved_query:data-products\" }) { nodes { action target } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = audit["data"]["auditLog"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["target"] == "saved_query:data-products")
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.len(), 2, "{audit}");
    assert!(actions.contains(&"saved_query.delete"), "{audit}");

    // pandas opens the URL as it is.
    let Some(python) = python() else {
        common::skipped("reading a saved query's URL with pandas: no python with pandas (pip install -r tests/python-requirements.txt, or set MESHWORK_PYTHON)");
        return;
    };
    let read = run_python(
        &python,
        "import json, sys\nimport pandas as pd\nframe = pd.read_csv(sys.argv[1])\nprint(json.dumps({\"rows\": len(frame), \"total\": float(frame[\"total\"].sum())}))",
        &[&export("orders-by-date.csv?date=2026-11-24")],
    )
    .await;
    assert_eq!(read, json!({ "rows": 2, "total": 539.5 }));
}

/// Saved queries are catalog records on SQLite and PostgreSQL: replaced,
/// removed and brought back, every step audited, a refused one changes
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn saved_queries_are_kept_on_every_database() {
    const SAVE: &str = "mutation($s: SavedQuerySpec!) { saveQuery(spec: $s) { name ownerTeam description variableTypes csvPath updatedBy } }";
    for db in common::databases().await {
        let server = Server::start(&db.url);
        let spec = json!({
            "name": "daily", "ownerTeam": "sales", "description": "v1",
            "query": "query($d: String!) { ordersByDate(date: $d) { id } }",
            "variables": { "d": "2026-11-24" },
        });
        let saved = server.graphql(SAVE, json!({ "s": spec })).await;
        assert_eq!(
            saved["data"]["saveQuery"]["variableTypes"],
            json!({ "d": "String!" }),
            "[{}] {saved}",
            db.label
        );
        assert_eq!(saved["data"]["saveQuery"]["csvPath"], "/export/daily.csv");
        // Refused: nothing changes.
        let bad = server
            .graphql(SAVE, json!({ "s": common::merged(spec.clone(), json!({ "description": "v2", "query": "subscription { a }" })) }))
            .await;
        assert_eq!(
            bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "[{}] {bad}",
            db.label
        );
        let bad = server
            .graphql(SAVE, json!({ "s": common::merged(spec.clone(), json!({ "name": "Daily Orders", "variables": { "x": 1 } })) }))
            .await;
        let found = common::problems(&bad);
        assert_eq!(found.len(), 2, "[{}] {bad}", db.label);
        let read = server
            .graphql("{ savedQueries { name description } }", json!({}))
            .await;
        assert_eq!(
            read["data"]["savedQueries"],
            json!([{ "name": "daily", "description": "v1" }]),
            "[{}]",
            db.label
        );
        // Replaced, deleted, brought back.
        let v2 = server
            .graphql(
                SAVE,
                json!({ "s": common::merged(spec.clone(), json!({ "description": "v2" })) }),
            )
            .await;
        assert_eq!(
            v2["data"]["saveQuery"]["description"], "v2",
            "[{}] {v2}",
            db.label
        );
        let deleted = server
            .graphql("mutation { deleteSavedQuery(name: \"daily\") }", json!({}))
            .await;
        assert_eq!(
            deleted["data"]["deleteSavedQuery"], true,
            "[{}] {deleted}",
            db.label
        );
        let none = server
            .graphql(
                "{ savedQueries { name } savedQuery(name: \"daily\") { name } }",
                json!({}),
            )
            .await;
        assert_eq!(
            none["data"],
            json!({ "savedQueries": [], "savedQuery": null }),
            "[{}]",
            db.label
        );
        let back = server.graphql(SAVE, json!({ "s": spec })).await;
        assert_eq!(
            back["data"]["saveQuery"]["description"], "v1",
            "[{}] {back}",
            db.label
        );
        let audit = server
            .graphql(
                "{ auditLog(filter: { target: \"saved_query:daily\" }) { nodes { action before after } } }",
                json!({}),
            )
            .await;
        let actions: Vec<&str> = audit["data"]["auditLog"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "saved_query.restore",
                "saved_query.delete",
                "saved_query.update",
                "saved_query.create"
            ],
            "[{}] {audit}",
            db.label
        );
        // What was deleted is in the log, whole.
        assert_eq!(
            audit["data"]["auditLog"]["nodes"][1]["before"]["description"], "v2",
            "[{}] {audit}",
            db.label
        );
    }
}
