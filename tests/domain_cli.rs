//! The domain CLI against a running server, as a domain team would use it.

mod common;

use common::{databases, fixture, Server};
use serde_json::Value;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn three_domains_from_yaml_are_listed_shown_and_traced_through_lineage() {
    for db in databases().await {
        let server = Server::start(&db.url);
        for name in ["customers", "orders", "billing"] {
            let file = fixture(&format!("domains/{name}.yaml"));
            let out = server.cli(&["register", "--file", &file.to_string_lossy()]);
            assert!(
                out.status.success(),
                "[{}] register {name}: {out:?}",
                db.label
            );
            assert!(stdout(&out).contains(&format!("registered `{name}`")));
        }

        let out = server.cli(&["list"]);
        assert!(out.status.success());
        let text = stdout(&out);
        for expected in [
            "customers",
            "orders",
            "billing",
            "crm",
            "sales",
            "finance",
            "3 domain(s)",
        ] {
            assert!(
                text.contains(expected),
                "[{}] list lacks {expected}:\n{text}",
                db.label
            );
        }

        let out = server.cli(&["--output", "json", "list", "--tag", "transactions"]);
        let listed: Value = serde_json::from_slice(&out.stdout).expect("JSON list");
        let names: Vec<_> = listed
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d["name"].clone())
            .collect();
        assert_eq!(names, ["billing", "orders"], "[{}]", db.label);

        let out = server.cli(&["show", "customers"]);
        let text = stdout(&out);
        for expected in [
            "crm-team@example.com",
            "strict",
            "crm-database (external)",
            "deduplicate",
            "availability 99.9% / 30d",
            "300 s without Cache-Control",
        ] {
            assert!(
                text.contains(expected),
                "[{}] show lacks {expected}:\n{text}",
                db.label
            );
        }

        let out = server.cli(&["--output", "json", "lineage", "billing"]);
        assert!(out.status.success(), "{out:?}");
        let edges: Value = serde_json::from_slice(&out.stdout).expect("JSON lineage");
        let chain: Vec<(u64, String, String)> = edges
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["depth"].as_u64().unwrap_or_default(),
                    e["upstream"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    e["downstream"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        let expected = [
            (1, "orders", "billing"),
            (2, "customers", "orders"),
            (2, "shop-events", "orders"),
            (3, "crm-database", "customers"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(d, u, w)| (*d, u.to_string(), w.to_string()))
            .collect();
        assert_eq!(chain, expected, "[{}]", db.label);

        let out = server.cli(&["lineage", "customers", "--direction", "downstream"]);
        let text = stdout(&out);
        assert!(
            text.contains("orders") && text.contains("billing"),
            "{text}"
        );

        let out = server.cli(&["deregister", "billing"]);
        assert!(out.status.success());
        let out = server.cli(&["list"]);
        assert!(!stdout(&out).contains("billing"));
        let out = server.cli(&["list", "--all"]);
        assert!(stdout(&out).contains("deregistered"));
    }
}

#[tokio::test]
async fn cli_errors_print_the_servers_reason_and_exit_non_zero() {
    for db in databases().await {
        let server = Server::start(&db.url);
        let file = fixture("domains/orders.yaml");
        let out = server.cli(&["register", "--file", &file.to_string_lossy()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "[{}] {stderr}", db.label);
        assert!(
            stderr.contains("inputs[0].name: no domain named `customers` is registered"),
            "{stderr}"
        );

        let out = server.cli(&["show", "nowhere"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("`nowhere` is not registered"));

        let dir = tempfile::tempdir().expect("temp dir");
        let bad = dir.path().join("typo.yaml");
        std::fs::write(
            &bad,
            "name: x\nownr: y\ntags: 3\ncontact: c@example.com\ninputz: []\n",
        )
        .expect("write file");
        let out = server.cli(&["register", "--file", &bad.to_string_lossy()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        // Every problem at once, each with its line and a code.
        for expected in [
            "ownr: unknown field `ownr` (line 2) [UNKNOWN_FIELD]",
            "tags: invalid type: integer `3`, expected a sequence (line 3) [BAD_TYPE]",
            "inputz: unknown field `inputz` (line 5) [UNKNOWN_FIELD]",
            "[REQUIRED]",
            "nothing was sent",
        ] {
            assert!(stderr.contains(expected), "{expected}: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        // The same for a patch: the unknown field is named once, by its path.
        std::fs::write(&bad, "bogus: 1\napiUrl: 3\n").expect("write file");
        let out = server.cli(&["update", "x", "--file", &bad.to_string_lossy()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("  - bogus: unknown field `bogus` (line 1) [UNKNOWN_FIELD]"),
            "{stderr}"
        );
        assert!(stderr.contains("  - apiUrl: invalid type"), "{stderr}");

        // JSON output into a pipe closed early (`| head`) ends quietly.
        let mut child = std::process::Command::new(common::binary())
            .args([
                "domain",
                "--server",
                &server.base,
                "--output",
                "json",
                "list",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run cli");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");

        // Without $USER and $LOGNAME, the audit names the system's login name.
        let file = fixture("domains/customers.yaml");
        let out = std::process::Command::new(common::binary())
            .args(["domain", "--server", &server.base, "register", "--file"])
            .arg(&file)
            .env_remove("USER")
            .env_remove("LOGNAME")
            .output()
            .expect("run cli");
        assert!(out.status.success(), "{out:?}");
        let audit = server
            .graphql(
                r#"{ auditLog(filter: { target: "domain:customers" }) { nodes { actor } } }"#,
                serde_json::json!({}),
            )
            .await;
        let actor = audit["data"]["auditLog"]["nodes"][0]["actor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            actor.starts_with("cli:") && actor != "cli:unknown",
            "{audit}"
        );
    }
    let out = std::process::Command::new(common::binary())
        .args(["domain", "--server", "http://127.0.0.1:9", "list"])
        .output()
        .expect("run cli");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("cannot reach Meshwork at http://127.0.0.1:9"));
    // A server without a scheme says what to add.
    let out = std::process::Command::new(common::binary())
        .args(["domain", "--server", "127.0.0.1:9", "list"])
        .output()
        .expect("run cli");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("add http:// or https://"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
