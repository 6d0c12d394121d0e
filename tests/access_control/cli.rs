//! The access workflow from the command line.

use super::*;

fn access_cli(server: &Server, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::binary())
        .args(["access", "--server", &server.base, "--token", token])
        .args(args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork access")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_workflow_runs_from_the_command_line() {
    let (server, _domains) = start_mesh(&common::databases().await[0].url).await;
    let ok = |o: &std::process::Output| {
        assert!(
            o.status.success(),
            "stdout {} stderr {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    ok(&access_cli(
        &server,
        ADMIN,
        &[
            "add-consumer",
            "reports",
            "--team",
            "finance",
            "--contact",
            "fin@example.com",
        ],
    ));
    let key = ok(&access_cli(
        &server,
        ADMIN,
        &["create-key", "reports", "nightly"],
    ))
    .trim()
    .to_string();
    assert!(key.starts_with("mk_"), "{key}");
    // The consumer asks with its own key; an admin approves.
    let asked = ok(&access_cli(
        &server,
        &key,
        &[
            "request",
            "orders",
            "--consumer",
            "reports",
            "--reason",
            "month-end close",
            "--days",
            "30",
        ],
    ));
    assert!(asked.contains("pending"), "{asked}");
    let listed = ok(&access_cli(
        &server,
        ADMIN,
        &["--output", "json", "requests", "--status", "pending"],
    ));
    let requests: Value = serde_json::from_str(&listed).expect("JSON list");
    let id = requests[0]["id"].as_i64().expect("id").to_string();
    ok(&access_cli(
        &server,
        ADMIN,
        &["approve", &id, "--note", "ok"],
    ));
    let again = access_cli(&server, ADMIN, &["approve", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already decided"));
    let grants = ok(&access_cli(&server, ADMIN, &["grants"]));
    assert!(
        grants.contains("reports") && grants.contains("orders"),
        "{grants}"
    );
    let (_, answer) = until(&server, &[("x-api-key", &key)], ORDERS, |s, a| {
        s == 200 && a.get("errors").is_none()
    })
    .await;
    assert_eq!(answer["data"]["ordersByDate"][0]["id"], "o2");
    // Without the admin scope the command fails with the server's reason.
    let refused = access_cli(
        &server,
        &key,
        &["add-consumer", "other", "--team", "t", "--contact", "c"],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("platform-admin"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
