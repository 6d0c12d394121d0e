//! `GET /export/{name}.csv` (or `.parquet`, `.json`): a saved query of the
//! catalog run as the caller, its answer as a table, from one URL a
//! spreadsheet or `pandas.read_csv` can open.
//!
//! The request is turned into an ordinary GraphQL GET of the saved
//! document before any check runs, so it passes authentication, rate
//! limits, field permissions and usage recording like every other
//! request; only the CSRF-prevention header is added, since the document
//! was checked to be a query when it was saved (the engine refuses any
//! other operation over GET as well). URL parameters set the saved query's
//! variables by name (typed by their declared type: `Int`, `Float`,
//! `Boolean`, lists and input objects as JSON, everything else as text);
//! `rows` chooses the list that becomes the rows. Any other parameter is
//! refused, so a typo never silently runs the defaults.

use hive_router::ntex::http::header::{self, HeaderName, HeaderValue};
use hive_router::ntex::http::Uri;
use hive_router::ntex::web::{self, DefaultError, HttpResponse};
use serde_json::Value;

use crate::export::Format;

/// Where saved queries are exported.
pub(crate) const EXPORT_PREFIX: &str = "/export/";

/// Why an export URL is not run.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: u16,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn respond(self, req: web::WebRequest<DefaultError>) -> web::WebResponse {
        let mut response = match self.status {
            404 => HttpResponse::NotFound(),
            405 => HttpResponse::MethodNotAllowed(),
            503 => HttpResponse::ServiceUnavailable(),
            _ => HttpResponse::BadRequest(),
        };
        if self.status == 405 {
            response.header(header::ALLOW, "GET");
        }
        req.into_response(
            response
                .content_type("application/json")
                .body(crate::request_id::error_body(&self.message, self.code)),
        )
    }
}

/// Rewrites an export request into a GraphQL GET of the saved query;
/// returns the table format (none for `.json`) and the rows path.
pub(crate) fn saved_query_request(
    req: &mut web::WebRequest<DefaultError>,
    file: &str,
    graphql_path: &str,
    access: Option<&crate::authn::Shared>,
) -> Result<(Option<Format>, Option<String>), Refusal> {
    if req.method() != hive_router::ntex::http::Method::GET {
        return Err(Refusal::new(
            405,
            "METHOD_NOT_ALLOWED",
            "an export URL is read with GET",
        ));
    }
    let (name, format) = match file.rsplit_once('.') {
        Some((name, "csv")) => (name, Some(Format::Csv)),
        Some((name, "parquet")) => (name, Some(Format::Parquet)),
        Some((name, "json")) => (name, None),
        _ => {
            return Err(Refusal::new(
                404,
                "NOT_FOUND",
                format!("`{EXPORT_PREFIX}{file}` is not an export URL: use {EXPORT_PREFIX}<saved query>.csv, .parquet or .json"),
            ))
        }
    };
    let Some(access) = access else {
        return Err(Refusal::new(
            404,
            "NOT_FOUND",
            "this gateway has no catalog: saved queries are served by a gateway that takes its access snapshot from a catalog",
        ));
    };
    let Some(saved) = access.saved_query(name) else {
        return Err(Refusal::new(
            404,
            "NOT_FOUND",
            format!("no saved query named `{name}` (the catalog's `savedQueries` lists them; `meshwork query list`)"),
        ));
    };
    let (variables, rows) = variables_from_url(&saved, req.query_string())?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("query", &saved.query);
    if !variables.is_empty() {
        query.append_pair("variables", &Value::Object(variables).to_string());
    }
    if let Some(op) = &saved.operation_name {
        query.append_pair("operationName", op);
    }
    let uri: Uri = format!("{graphql_path}?{}", query.finish())
        .parse()
        .map_err(|_| {
            Refusal::new(
                400,
                "BAD_REQUEST",
                "the saved query does not fit in a request URL",
            )
        })?;
    req.head_mut().uri = uri.clone();
    req.match_info_mut().set(uri);
    let headers = req.headers_mut();
    headers.insert(
        HeaderName::from_static("x-meshwork-csrf"),
        HeaderValue::from_static("1"),
    );
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    Ok((format, rows.or(saved.rows)))
}

/// The saved query's variables with the URL's values in, and the URL's
/// `rows`, if any.
fn variables_from_url(
    saved: &access::SavedQueryRecord,
    query_string: &str,
) -> Result<(serde_json::Map<String, Value>, Option<String>), Refusal> {
    let mut variables = saved.variables.clone();
    let mut rows = None;
    for (key, text) in url::form_urlencoded::parse(query_string.as_bytes()) {
        if key == "rows" {
            rows = Some(text.into_owned());
            continue;
        }
        let Some(ty) = saved.variable_types.get(key.as_ref()) else {
            let declared: Vec<String> = saved
                .variable_types
                .iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect();
            return Err(Refusal::new(
                400,
                "BAD_REQUEST",
                if declared.is_empty() {
                    format!("unknown parameter `{key}`: this saved query takes no variables (only `rows`)")
                } else {
                    format!(
                        "unknown parameter `{key}`: this saved query's variables are {} (and `rows`)",
                        declared.join(", ")
                    )
                },
            ));
        };
        variables.insert(key.to_string(), typed(&key, ty, &text)?);
    }
    Ok((variables, rows))
}

/// A URL parameter's text as the value of a variable of type `ty`.
fn typed(name: &str, ty: &str, text: &str) -> Result<Value, Refusal> {
    let named = ty.trim_end_matches('!');
    let as_json = named.starts_with('[')
        || matches!(named, "Int" | "Float" | "Boolean")
        || text.trim_start().starts_with('{');
    if !as_json {
        return Ok(Value::String(text.to_string()));
    }
    serde_json::from_str(text).map_err(|_| {
        Refusal::new(
            400,
            "BAD_REQUEST",
            format!("parameter `{name}` must be of type {ty} (a JSON literal), got `{text}`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn saved() -> access::SavedQueryRecord {
        access::SavedQueryRecord {
            query: "query($date: String!, $limit: Int, $ids: [ID!]) { a }".into(),
            variables: json!({ "date": "2026-11-24" })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            variable_types: [
                ("date".to_string(), "String!".to_string()),
                ("limit".to_string(), "Int".to_string()),
                ("ids".to_string(), "[ID!]".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn url_parameters_set_variables_by_their_type() {
        let (vars, rows) = variables_from_url(
            &saved(),
            "date=2026-11-25&limit=5&ids=%5B%22a%22%5D&rows=x.y",
        )
        .expect("read");
        assert_eq!(
            Value::Object(vars),
            json!({ "date": "2026-11-25", "limit": 5, "ids": ["a"] })
        );
        assert_eq!(rows.as_deref(), Some("x.y"));
        let (vars, _) = variables_from_url(&saved(), "").expect("defaults");
        assert_eq!(Value::Object(vars), json!({ "date": "2026-11-24" }));
    }

    #[test]
    fn unknown_parameters_and_wrong_types_are_refused() {
        let e = variables_from_url(&saved(), "dte=1").expect_err("typo");
        assert!(e.message.contains("unknown parameter `dte`"), "{e:?}");
        assert!(e.message.contains("date: String!"), "{e:?}");
        let e = variables_from_url(&saved(), "limit=five").expect_err("type");
        assert!(e.message.contains("must be of type Int"), "{e:?}");
    }
}
