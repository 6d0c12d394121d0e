//! A small GraphQL client for the CLI: one POST per command to the server's
//! discovery API; server-side refusals become errors with the server's words.

use std::fmt::Write;

use anyhow::{anyhow, bail, Context};
use graphql_client::GraphQLQuery;
use serde_json::Value;

pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    server: String,
    actor: String,
    token: Option<String>,
}

impl Client {
    pub fn new(server: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let server = server.trim_end_matches('/').to_string();
        if !server.contains("://") {
            bail!(
                "the server `{server}` has no scheme: add http:// or https:// (e.g. --server http://{server})"
            );
        }
        match reqwest::Url::parse(&server) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            Ok(url) => bail!(
                "the server `{server}` must be an http or https URL with a host, not `{}:`",
                url.scheme()
            ),
            Err(e) => bail!("the server `{server}` is not a URL: {e}"),
        }
        // Longer than the server's own waits (its database acquire timeout
        // is 5-15 s), so the server's reason reaches the user.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        let user = login_name();
        Ok(Self {
            http,
            endpoint: format!("{server}/catalog/graphql"),
            server,
            actor: format!("cli:{user}"),
            token: token.map(str::to_string),
        })
    }

    /// GETs a path of the server with URL parameters (the same
    /// credentials as catalog calls): the status, content type and body.
    pub async fn get(
        &self,
        path: &str,
        params: &[(String, String)],
    ) -> anyhow::Result<(reqwest::StatusCode, String, Vec<u8>)> {
        let url = format!("{}{path}", self.server);
        let mut request = self.http.get(&url).query(params);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach Meshwork at {}", self.server))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("reading the answer of {url}"))?;
        Ok((status, content_type, body.to_vec()))
    }

    /// Runs one typed operation (see `crate::operations`) and returns its
    /// answer, or the server's errors.
    pub async fn call<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> anyhow::Result<Q::ResponseData> {
        let body = Q::build_query(variables);
        let data = self.post(&body).await?;
        serde_json::from_value(data).with_context(|| {
            format!(
                "the answer of {} to `{}` does not match the CLI's catalog schema \
                 (is the server another Meshwork version?)",
                self.endpoint, body.operation_name
            )
        })
    }

    /// POSTs one GraphQL request and returns its `data`, or the server's
    /// errors.
    async fn post(&self, body: &impl serde::Serialize) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("x-meshwork-actor", &self.actor);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .json(body)
            .send()
            .await
            .with_context(|| format!("cannot reach Meshwork at {}", self.server))?;
        let status = response.status();
        let body: Value = response.json().await.with_context(|| {
            format!(
                "{} answered {status} with a body that is not GraphQL JSON",
                self.endpoint
            )
        })?;
        if let Some(errors) = body
            .get("errors")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            bail!(describe_errors(errors));
        }
        body.get("data")
            .cloned()
            .filter(|d| !d.is_null())
            .ok_or_else(|| anyhow!("{} answered {status} without data", self.endpoint))
    }
}

fn describe_errors(errors: &[Value]) -> String {
    let mut out = String::new();
    for (i, error) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let problems = error
            .pointer("/extensions/problems")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty());
        let Some(problems) = problems else {
            out.push_str(
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error"),
            );
            continue;
        };
        out.push_str("the server refused the input; nothing was changed:");
        for p in problems {
            let _ = write!(
                out,
                "\n  - {}: {} [{}]",
                p.get("field").and_then(Value::as_str).unwrap_or("?"),
                p.get("reason").and_then(Value::as_str).unwrap_or("?"),
                p.get("code").and_then(Value::as_str).unwrap_or("?"),
            );
        }
    }
    out
}

/// Who runs the CLI, for the audit log: `$LOGNAME` or `$USER`, else the
/// system's name for the process's user.
fn login_name() -> String {
    ["LOGNAME", "USER"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|name| !name.trim().is_empty())
        .or_else(|| whoami::fallible::username().ok())
        .unwrap_or_else(|| "unknown".into())
}
