//! `meshwork access …`: consumers, API keys, access requests and grants
//! from the command line, against a running catalog (with `--token`).

use anyhow::bail;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Client;
use crate::domain_cmd::{print_json, table, text};
use crate::{Output, Remote};

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Register a consumer (a team, an app or a domain that reads data).
    AddConsumer {
        /// A slug; the value the issuer's consumer claim carries for it.
        name: String,
        /// The team that owns the consumer.
        #[arg(long)]
        team: String,
        /// How to reach its owners (an e-mail address or a URL).
        #[arg(long)]
        contact: String,
        /// A plan's name (requests per minute, burst, daily quota); none:
        /// the gateway's default limits.
        #[arg(long)]
        plan: Option<String>,
        /// What the consumer is, for people.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List consumers.
    Consumers,
    /// Create an API key for a consumer; the key is printed once.
    CreateKey {
        /// The consumer's name.
        consumer: String,
        /// What the key is for, e.g. `dashboard`.
        name: String,
        /// RFC 3339 time, e.g. 2027-01-31T00:00:00Z.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Revoke an API key by its prefix (`mk_<prefix>_…`).
    RevokeKey {
        /// The key's prefix, as `consumers` lists it.
        prefix: String,
    },
    /// Ask a domain's owner team for access on behalf of a consumer.
    Request {
        /// The domain to read.
        domain: String,
        /// The consumer that will read it.
        #[arg(long)]
        consumer: String,
        /// Why, for the owner team deciding.
        #[arg(long)]
        reason: String,
        /// `Type.field` coordinates; none asks for the whole domain.
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        /// How many days the grant should last; none: until revoked.
        #[arg(long)]
        days: Option<i32>,
    },
    /// List access requests.
    Requests {
        /// pending, approved or denied.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve a pending request (the domain's owner team or an admin).
    Approve {
        /// The request's id, as `requests` lists it.
        id: i32,
        /// A note for the requester.
        #[arg(long, default_value = "")]
        note: String,
        /// RFC 3339 time the grant ends (overrides the requested days).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Deny a pending request.
    Deny {
        /// The request's id, as `requests` lists it.
        id: i32,
        /// Why, for the requester.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List grants.
    Grants,
    /// Revoke a grant by id.
    RevokeGrant {
        /// The grant's id, as `grants` lists it.
        id: i32,
    },
}

const REQUEST_FIELDS: &str =
    "id consumer domain fields reason durationDays status requestedBy decidedBy decisionNote";
const GRANT_FIELDS: &str = "id consumer domain fields expiresAt revokedAt active grantedBy";

pub async fn run(remote: &Remote, command: AccessCommand) -> anyhow::Result<()> {
    let client = Client::new(&remote.server, remote.token.as_deref())?;
    let out = remote.output;
    match command {
        AccessCommand::AddConsumer {
            name,
            team,
            contact,
            plan,
            description,
        } => {
            let spec = json!({ "name": name, "ownerTeam": team, "contact": contact,
                               "plan": plan, "description": description });
            let data = client
                .run(
                    "mutation($s: ConsumerSpec!) { createConsumer(spec: $s) { name ownerTeam contact plan { name } } }",
                    json!({ "s": spec }),
                )
                .await?;
            done(out, &data["createConsumer"], || {
                format!("consumer `{name}` registered")
            });
        }
        AccessCommand::Consumers => {
            let data = client
                .run(
                    "{ consumers { name ownerTeam contact disabled plan { name } apiKeys { prefix revokedAt } } }",
                    json!({}),
                )
                .await?;
            rows(
                out,
                &data["consumers"],
                &[
                    "name",
                    "owner team",
                    "contact",
                    "plan",
                    "active keys",
                    "disabled",
                ],
                |c| {
                    let keys = c["apiKeys"]
                        .as_array()
                        .map(|k| k.iter().filter(|k| k["revokedAt"].is_null()).count())
                        .unwrap_or(0);
                    vec![
                        text(&c["name"]),
                        text(&c["ownerTeam"]),
                        text(&c["contact"]),
                        text(&c["plan"]["name"]),
                        keys.to_string(),
                        text(&c["disabled"]),
                    ]
                },
            );
        }
        AccessCommand::CreateKey {
            consumer,
            name,
            expires,
        } => {
            let data = client
                .run(
                    "mutation($c: String!, $n: String!, $e: DateTime) { createApiKey(consumer: $c, name: $n, expiresAt: $e) { key apiKey { prefix expiresAt } } }",
                    json!({ "c": consumer, "n": name, "e": expires }),
                )
                .await?;
            let created = &data["createApiKey"];
            match out {
                Output::Json => print_json(created),
                Output::Table => {
                    out!("{}", text(&created["key"]));
                    eprintln!(
                        "API key `{name}` of `{consumer}` (prefix {}); it is shown only now.",
                        text(&created["apiKey"]["prefix"])
                    );
                }
            }
        }
        AccessCommand::RevokeKey { prefix } => {
            let data = client
                .run(
                    "mutation($p: String!) { revokeApiKey(prefix: $p) { prefix revokedAt } }",
                    json!({ "p": prefix }),
                )
                .await?;
            done(out, &data["revokeApiKey"], || {
                format!("API key {prefix} revoked")
            });
        }
        AccessCommand::Request {
            domain,
            consumer,
            reason,
            fields,
            days,
        } => {
            let spec = json!({ "consumer": consumer, "domain": domain, "reason": reason,
                               "fields": fields, "durationDays": days });
            let query = format!(
                "mutation($s: AccessRequestSpec!) {{ requestAccess(spec: $s) {{ {REQUEST_FIELDS} }} }}"
            );
            let data = client.run(&query, json!({ "s": spec })).await?;
            let request = &data["requestAccess"];
            done(out, request, || {
                format!(
                    "request {} of `{consumer}` for `{domain}` is pending with the owner team",
                    text(&request["id"])
                )
            });
        }
        AccessCommand::Requests { status } => {
            let status = status.map(|s| s.to_uppercase());
            let query =
                format!("query($s: AccessRequestStatus) {{ accessRequests(status: $s) {{ {REQUEST_FIELDS} }} }}");
            let data = client.run(&query, json!({ "s": status })).await?;
            rows(
                out,
                &data["accessRequests"],
                &[
                    "id",
                    "consumer",
                    "domain",
                    "status",
                    "reason",
                    "requested by",
                    "decided by",
                ],
                |r| {
                    vec![
                        text(&r["id"]),
                        text(&r["consumer"]),
                        text(&r["domain"]),
                        text(&r["status"]),
                        text(&r["reason"]),
                        text(&r["requestedBy"]),
                        text(&r["decidedBy"]),
                    ]
                },
            );
        }
        AccessCommand::Approve { id, note, expires } => {
            decide(&client, out, id, true, &note, expires).await?;
        }
        AccessCommand::Deny { id, note } => {
            decide(&client, out, id, false, &note, None).await?;
        }
        AccessCommand::Grants => {
            let query = format!("{{ grants {{ {GRANT_FIELDS} }} }}");
            let data = client.run(&query, json!({})).await?;
            rows(
                out,
                &data["grants"],
                &["id", "consumer", "domain", "fields", "expires", "active"],
                |g| {
                    let fields = g["fields"]
                        .as_array()
                        .map(|f| f.iter().map(text).collect::<Vec<_>>().join(", "))
                        .filter(|f| !f.is_empty())
                        .unwrap_or_else(|| "(all)".into());
                    vec![
                        text(&g["id"]),
                        text(&g["consumer"]),
                        text(&g["domain"]),
                        fields,
                        text(&g["expiresAt"]),
                        text(&g["active"]),
                    ]
                },
            );
        }
        AccessCommand::RevokeGrant { id } => {
            let query =
                format!("mutation($id: Int!) {{ revokeGrant(id: $id) {{ {GRANT_FIELDS} }} }}");
            let data = client.run(&query, json!({ "id": id })).await?;
            done(out, &data["revokeGrant"], || format!("grant {id} revoked"));
        }
    }
    Ok(())
}

async fn decide(
    client: &Client,
    out: Output,
    id: i32,
    approve: bool,
    note: &str,
    expires: Option<String>,
) -> anyhow::Result<()> {
    let query = format!(
        "mutation($id: Int!, $a: Boolean!, $n: String!, $e: DateTime) {{ decideAccessRequest(id: $id, approve: $a, note: $n, expiresAt: $e) {{ {REQUEST_FIELDS} }} }}"
    );
    let data = client
        .run(
            &query,
            json!({ "id": id, "a": approve, "n": note, "e": expires }),
        )
        .await?;
    let request = &data["decideAccessRequest"];
    if request.is_null() {
        bail!("request {id} was not decided");
    }
    done(out, request, || {
        format!(
            "request {id} {}",
            if approve {
                "approved: the grant is active"
            } else {
                "denied"
            }
        )
    });
    Ok(())
}

fn done(out: Output, value: &Value, message: impl FnOnce() -> String) {
    match out {
        Output::Json => print_json(value),
        Output::Table => out!("{}", message()),
    }
}

fn rows(out: Output, list: &Value, header: &[&str], row: impl Fn(&Value) -> Vec<String>) {
    match out {
        Output::Json => print_json(list),
        Output::Table => {
            let mut t = table(header);
            for item in list.as_array().into_iter().flatten() {
                t.add_row(row(item));
            }
            out!("{t}");
        }
    }
}
