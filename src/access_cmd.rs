//! `meshwork access …`: consumers, API keys, access requests and grants
//! from the command line, against a running catalog (with `--token`).

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use crate::client::Client;
use crate::domain_cmd::{graphql_name, print_json, table};
use crate::operations as ops;
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
            let spec = ops::create_consumer::ConsumerSpec {
                name: name.clone(),
                owner_team: team,
                contact,
                plan,
                description,
                introspection: None,
            };
            let data = client
                .call::<ops::CreateConsumer>(ops::create_consumer::Variables { spec })
                .await?;
            done(out, &data.create_consumer, || {
                format!("consumer `{name}` registered")
            });
        }
        AccessCommand::Consumers => {
            let consumers = client
                .call::<ops::Consumers>(ops::consumers::Variables)
                .await?
                .consumers;
            rows(
                out,
                &consumers,
                &[
                    "name",
                    "owner team",
                    "contact",
                    "plan",
                    "active keys",
                    "disabled",
                ],
                |c| {
                    let keys = c.api_keys.iter().filter(|k| k.revoked_at.is_none()).count();
                    vec![
                        c.name.clone(),
                        c.owner_team.clone(),
                        c.contact.clone(),
                        c.plan.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                        keys.to_string(),
                        c.disabled.to_string(),
                    ]
                },
            );
        }
        AccessCommand::CreateKey {
            consumer,
            name,
            expires,
        } => {
            let created = client
                .call::<ops::CreateApiKey>(ops::create_api_key::Variables {
                    consumer: consumer.clone(),
                    name: name.clone(),
                    expires,
                })
                .await?
                .create_api_key;
            match out {
                Output::Json => print_json(&created),
                Output::Table => {
                    out!("{}", created.key);
                    eprintln!(
                        "API key `{name}` of `{consumer}` (prefix {}); it is shown only now.",
                        created.api_key.prefix
                    );
                }
            }
        }
        AccessCommand::RevokeKey { prefix } => {
            let data = client
                .call::<ops::RevokeApiKey>(ops::revoke_api_key::Variables {
                    prefix: prefix.clone(),
                })
                .await?;
            done(out, &data.revoke_api_key, || {
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
            let spec = ops::request_access::AccessRequestSpec {
                consumer: consumer.clone(),
                domain: domain.clone(),
                reason,
                fields,
                duration_days: days.map(i64::from),
            };
            let request = client
                .call::<ops::RequestAccess>(ops::request_access::Variables { spec })
                .await?
                .request_access;
            done(out, &request, || {
                format!(
                    "request {} of `{consumer}` for `{domain}` is pending with the owner team",
                    request.id
                )
            });
        }
        AccessCommand::Requests { status } => {
            use ops::access_requests::AccessRequestStatus as Status;
            let status = match status.map(|s| s.to_lowercase()).as_deref() {
                None => None,
                Some("pending") => Some(Status::PENDING),
                Some("approved") => Some(Status::APPROVED),
                Some("denied") => Some(Status::DENIED),
                Some(other) => bail!("--status `{other}`: use pending, approved or denied"),
            };
            let requests = client
                .call::<ops::AccessRequests>(ops::access_requests::Variables { status })
                .await?
                .access_requests;
            rows(
                out,
                &requests,
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
                        r.id.to_string(),
                        r.consumer.clone(),
                        r.domain.clone(),
                        graphql_name(&r.status),
                        r.reason.clone(),
                        r.requested_by.clone(),
                        r.decided_by.clone().unwrap_or_default(),
                    ]
                },
            );
        }
        AccessCommand::Approve { id, note, expires } => {
            decide(&client, out, id, true, note, expires).await?;
        }
        AccessCommand::Deny { id, note } => {
            decide(&client, out, id, false, note, None).await?;
        }
        AccessCommand::Grants => {
            let grants = client
                .call::<ops::Grants>(ops::grants::Variables)
                .await?
                .grants;
            rows(
                out,
                &grants,
                &["id", "consumer", "domain", "fields", "expires", "active"],
                |g| {
                    let fields = if g.fields.is_empty() {
                        "(all)".to_string()
                    } else {
                        g.fields.join(", ")
                    };
                    vec![
                        g.id.to_string(),
                        g.consumer.clone(),
                        g.domain.clone(),
                        fields,
                        g.expires_at.clone().unwrap_or_default(),
                        g.active.to_string(),
                    ]
                },
            );
        }
        AccessCommand::RevokeGrant { id } => {
            let data = client
                .call::<ops::RevokeGrant>(ops::revoke_grant::Variables { id: id.into() })
                .await?;
            done(out, &data.revoke_grant, || format!("grant {id} revoked"));
        }
    }
    Ok(())
}

async fn decide(
    client: &Client,
    out: Output,
    id: i32,
    approve: bool,
    note: String,
    expires: Option<String>,
) -> anyhow::Result<()> {
    let request = client
        .call::<ops::DecideAccessRequest>(ops::decide_access_request::Variables {
            id: id.into(),
            approve,
            note,
            expires,
        })
        .await?
        .decide_access_request;
    done(out, &request, || {
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

fn done<T: Serialize>(out: Output, value: &T, message: impl FnOnce() -> String) {
    match out {
        Output::Json => print_json(value),
        Output::Table => out!("{}", message()),
    }
}

fn rows<T: Serialize>(out: Output, list: &[T], header: &[&str], row: impl Fn(&T) -> Vec<String>) {
    match out {
        Output::Json => print_json(&list),
        Output::Table => {
            let mut t = table(header);
            for item in list {
                t.add_row(row(item));
            }
            out!("{t}");
        }
    }
}
