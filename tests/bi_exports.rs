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
}
