//! BI-ready answers: a GraphQL request to `/graphql` that asks for
//! `text/csv` or `application/vnd.apache.parquet` (the `Accept` header, or
//! `format=csv` / `format=parquet` in the URL, so one URL is enough for a
//! spreadsheet or `pandas.read_csv`) gets its answer as a table.
//!
//! The request goes through every check as any other (the engine sees an
//! ordinary JSON request), and only the answer is turned into rows:
//!
//! - the rows are the elements of one list in `data`: the `rows` URL
//!   parameter or `x-meshwork-rows` header names it by path
//!   (`ordersByDate`, `meshwork.dataProducts`); by default the first list
//!   found walking the first field of each object;
//! - each element's fields become columns, nested objects as dotted names
//!   (`customer.name`), lists of scalars joined with `; `, lists of
//!   objects as JSON text; null is an empty cell;
//! - columns are in the order they first appear; Parquet columns are typed
//!   by their values (all booleans: BOOLEAN, all integers: INT64, numbers:
//!   DOUBLE, else UTF8);
//! - an answer with errors is not a table: it is returned as JSON with its
//!   status, so a partial result is never mistaken for the whole.

use std::collections::HashMap;
use std::sync::Arc;

use hive_router::ntex::http::body::{Body, MessageBody, ResponseBody};
use hive_router::ntex::http::header::{self, HeaderValue};
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError};
use hive_router::ntex::{Middleware, SharedCfg};
use hive_router::sonic_rs::{self, JsonContainerTrait, JsonValueTrait};
use serde_json::Value;

use crate::saved_queries::{saved_query_request, EXPORT_PREFIX};

/// The answer as parsed: sonic-rs keeps each object's fields in the
/// order the answer has them (the query's order), so columns do too.
type Answer = sonic_rs::Value;

/// Header naming the list of rows (same as the `rows` URL parameter).
pub const ROWS_HEADER: &str = "x-meshwork-rows";
pub const CSV: &str = "text/csv";
pub const PARQUET: &str = "application/vnd.apache.parquet";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Parquet,
}

/// A table made from an answer.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Why an answer could not become a table.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    #[error("`{0}` is not a path to a list or object in the answer's data")]
    NoSuchPath(String),
    #[error("the answer is not a GraphQL JSON response")]
    NotGraphql,
    #[error("writing the table: {0}")]
    Write(String),
}

fn param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The format a request asks for, if a table: the `format` URL parameter
/// first, then the `Accept` header.
pub(crate) fn requested(query: &str, accept: Option<&str>) -> Option<Format> {
    match param(query, "format").as_deref() {
        Some("csv") => return Some(Format::Csv),
        Some("parquet") => return Some(Format::Parquet),
        _ => {}
    }
    let accept = accept?;
    let wants = |mime: &str| {
        accept.split(',').any(|part| {
            part.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(mime))
        })
    };
    if wants(CSV) {
        Some(Format::Csv)
    } else if wants(PARQUET) {
        Some(Format::Parquet)
    } else {
        None
    }
}

/// The rows of an answer's `data` at `path` (dotted), or the default list.
pub(crate) fn table(data: &Answer, path: Option<&str>) -> Result<Table, ExportError> {
    let target = match path.filter(|p| !p.is_empty()) {
        Some(path) => {
            let mut at = data;
            for key in path.split('.') {
                at = at
                    .as_object()
                    .and_then(|o| o.get(&key))
                    .ok_or_else(|| ExportError::NoSuchPath(path.to_string()))?;
            }
            if !(at.is_array() || at.is_object()) {
                return Err(ExportError::NoSuchPath(path.to_string()));
            }
            at
        }
        None => default_rows(data),
    };
    let items: Vec<&Answer> = match target.as_array() {
        Some(items) => items.iter().collect(),
        None if target.is_null() => Vec::new(),
        None => vec![target],
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let mut cells: Vec<(usize, Value)> = Vec::new();
        flatten(item, "", &mut |name, value| {
            let at = *index.entry(name.to_string()).or_insert_with(|| {
                columns.push(name.to_string());
                columns.len() - 1
            });
            cells.push((at, value));
        });
        let mut row = vec![Value::Null; columns.len()];
        for (at, value) in cells {
            row[at] = value;
        }
        rows.push(row);
    }
    for row in &mut rows {
        row.resize(columns.len(), Value::Null);
    }
    Ok(Table { columns, rows })
}

/// The first list reached by following each object's first field.
fn default_rows(data: &Answer) -> &Answer {
    let mut at = data;
    while let Some(first) = at.as_object().and_then(|o| o.iter().next()).map(|(_, v)| v) {
        if first.is_array() {
            return first;
        }
        if !first.is_object() {
            break;
        }
        at = first;
    }
    at
}

/// A scalar of the answer as a cell value.
fn scalar(v: &Answer) -> Value {
    if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(i) = v.as_i64() {
        Value::from(i)
    } else if let Some(u) = v.as_u64() {
        Value::from(u)
    } else if let Some(f) = v.as_f64() {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if let Some(s) = v.as_str() {
        Value::String(s.to_string())
    } else {
        Value::Null
    }
}

fn flatten(value: &Answer, prefix: &str, out: &mut impl FnMut(&str, Value)) {
    let Some(object) = value.as_object() else {
        out(
            if prefix.is_empty() { "value" } else { prefix },
            scalar(value),
        );
        return;
    };
    for (key, v) in object.iter() {
        let name = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if v.is_object() {
            flatten(v, &name, out);
        } else if let Some(items) = v.as_array() {
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                let joined: Vec<String> = items.iter().map(|i| scalar_text(&scalar(i))).collect();
                out(&name, Value::String(joined.join("; ")));
            } else {
                out(
                    &name,
                    Value::String(sonic_rs::to_string(v).unwrap_or_default()),
                );
            }
        } else {
            out(&name, scalar(v));
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The table as CSV (RFC 4180, a header row).
pub(crate) fn to_csv(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(table.rows.len() * 32));
    let fail = |e: csv::Error| ExportError::Write(e.to_string());
    writer.write_record(&table.columns).map_err(fail)?;
    let mut record: Vec<String> = Vec::with_capacity(table.columns.len());
    for row in &table.rows {
        record.clear();
        record.extend(row.iter().map(scalar_text));
        writer.write_record(&record).map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Write(e.to_string()))
}

/// The table as one Apache Parquet file, columns typed by their values.
pub(crate) fn to_parquet(table: &Table) -> Result<Vec<u8>, ExportError> {
    use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    let fail = |e: &dyn std::fmt::Display| ExportError::Write(e.to_string());
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.columns.len());
    for (c, name) in table.columns.iter().enumerate() {
        let values = table.rows.iter().map(|r| &r[c]);
        let present = || values.clone().filter(|v| !v.is_null());
        let kind = if present().clone().next().is_none() {
            DataType::Utf8
        } else if present().all(Value::is_boolean) {
            DataType::Boolean
        } else if present().all(|v| v.is_i64()) {
            DataType::Int64
        } else if present().all(Value::is_number) {
            DataType::Float64
        } else {
            DataType::Utf8
        };
        let array: ArrayRef = match kind {
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(table.rows.len());
                values.for_each(|v| b.append_option(v.as_bool()));
                Arc::new(b.finish())
            }
            DataType::Int64 => {
                let mut b = Int64Builder::with_capacity(table.rows.len());
                values.for_each(|v| b.append_option(v.as_i64()));
                Arc::new(b.finish())
            }
            DataType::Float64 => {
                let mut b = Float64Builder::with_capacity(table.rows.len());
                values.for_each(|v| b.append_option(v.as_f64()));
                Arc::new(b.finish())
            }
            _ => {
                let mut b = StringBuilder::with_capacity(table.rows.len(), table.rows.len() * 8);
                values.for_each(|v| match v {
                    Value::Null => b.append_null(),
                    other => b.append_value(scalar_text(other)),
                });
                Arc::new(b.finish())
            }
        };
        fields.push(Field::new(name, kind, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = if arrays.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        RecordBatch::try_new(schema.clone(), arrays).map_err(|e| fail(&e))?
    };
    let mut out = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(|e| fail(&e))?;
    writer.write(&batch).map_err(|e| fail(&e))?;
    writer.close().map_err(|e| fail(&e))?;
    Ok(out)
}

/// Turns an answer (JSON bytes) into the requested table; `Err` keeps the
/// JSON answer (errors, or no data) for the client to see.
pub(crate) fn convert(
    body: &[u8],
    format: Format,
    rows: Option<&str>,
) -> Result<Vec<u8>, Option<ExportError>> {
    let answer: Answer = sonic_rs::from_slice(body).map_err(|_| Some(ExportError::NotGraphql))?;
    let has_errors = answer
        .get("errors")
        .and_then(|e| e.as_array().map(|a| !a.is_empty()))
        .unwrap_or(false);
    let Some(data) = answer.get("data").filter(|d| !d.is_null()) else {
        return Err(None);
    };
    if has_errors {
        return Err(None);
    }
    let table = table(data, rows).map_err(Some)?;
    match format {
        Format::Csv => to_csv(&table),
        Format::Parquet => to_parquet(&table),
    }
    .map_err(Some)
}

/// The middleware on the GraphQL path: asks the engine for JSON, answers
/// with the table.
#[derive(Clone)]
pub(crate) struct Export {
    pub graphql_path: Arc<str>,
}

impl<S> Middleware<S, SharedCfg> for Export {
    type Service = ExportService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        ExportService {
            service,
            graphql_path: self.graphql_path.clone(),
        }
    }
}

pub(crate) struct ExportService<S> {
    service: S,
    graphql_path: Arc<str>,
}

impl<S> Service<web::WebRequest<DefaultError>> for ExportService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    async fn call(
        &self,
        mut req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        let (format, rows) = if let Some(file) = req.path().strip_prefix(EXPORT_PREFIX) {
            let file = file.to_string();
            match saved_query_request(&mut req, &file, &self.graphql_path) {
                Ok(chosen) => chosen,
                Err(refusal) => return Ok(refusal.respond(req)),
            }
        } else {
            if req.path() != &*self.graphql_path {
                return ctx.call(&self.service, req).await;
            }
            let format = requested(
                req.query_string(),
                req.headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok()),
            );
            let Some(format) = format else {
                return ctx.call(&self.service, req).await;
            };
            let rows = param(req.query_string(), "rows").or_else(|| {
                req.headers()
                    .get(ROWS_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            });
            (Some(format), rows)
        };
        let Some(format) = format else {
            // A saved query asked for as JSON: the engine's answer as it is.
            return ctx.call(&self.service, req).await;
        };
        req.headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let mut response = ctx.call(&self.service, req).await?;
        if !response.status().is_success() {
            return Ok(response);
        }
        let mut body = response.take_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.poll_next_chunk(cx)).await {
            match chunk {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the answer for an export failed");
                    let body = crate::request_id::error_body(
                        "the answer could not be read for the export",
                        "INTERNAL_SERVER_ERROR",
                    );
                    return Ok(replace(
                        response,
                        500,
                        "application/json",
                        body.into_bytes(),
                    ));
                }
            }
        }
        let (status, content_type, out) = match convert(&bytes, format, rows.as_deref()) {
            Ok(table) => (
                200,
                match format {
                    Format::Csv => "text/csv; charset=utf-8",
                    Format::Parquet => PARQUET,
                },
                table,
            ),
            // Errors or no data: the JSON answer as it is.
            Err(None) => (response.status().as_u16(), "application/json", bytes),
            Err(Some(e)) => (
                400,
                "application/json",
                crate::request_id::error_body(&format!("export: {e}"), "BAD_REQUEST").into_bytes(),
            ),
        };
        Ok(replace(response, status, content_type, out))
    }
}

fn replace(
    mut response: web::WebResponse,
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
) -> web::WebResponse {
    if let Ok(code) = hive_router::ntex::http::StatusCode::from_u16(status) {
        *response.response_mut().status_mut() = code;
    }
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.remove(header::CONTENT_LENGTH);
    response.map_body(|_, _| ResponseBody::Other(Body::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_flatten_nested_objects_and_join_scalar_lists() {
        let data: Answer = sonic_rs::from_str(
            r#"{ "ordersByDate": [
            { "id": "o1", "total": 10.5, "customer": { "name": "Ann", "tier": null }, "tags": ["a", "b"] },
            { "id": "o2", "total": 3, "lines": [{ "sku": "x" }] }
        ]}"#,
        )
        .expect("json");
        let t = table(&data, None).expect("table");
        assert_eq!(
            t.columns,
            [
                "id",
                "total",
                "customer.name",
                "customer.tier",
                "tags",
                "lines"
            ]
        );
        assert_eq!(t.rows[0][4], json!("a; b"));
        assert_eq!(t.rows[1][5], json!(r#"[{"sku":"x"}]"#));
        assert_eq!(t.rows[1][2], Value::Null);
        let csv = String::from_utf8(to_csv(&t).expect("csv")).expect("utf8");
        assert_eq!(
            csv,
            "id,total,customer.name,customer.tier,tags,lines\no1,10.5,Ann,,a; b,\no2,3,,,,\"[{\"\"sku\"\":\"\"x\"\"}]\"\n"
        );
    }

    #[test]
    fn a_path_chooses_the_rows_and_a_wrong_one_is_refused() {
        let data: Answer =
            sonic_rs::from_str(r#"{ "a": { "b": [{ "x": 1 }, { "x": 2 }] }, "c": 1 }"#)
                .expect("json");
        assert_eq!(table(&data, Some("a.b")).expect("rows").rows.len(), 2);
        assert_eq!(table(&data, None).expect("rows").rows.len(), 2);
        assert!(table(&data, Some("c")).is_err());
        assert!(table(&data, Some("nope")).is_err());
    }

    #[test]
    fn the_format_comes_from_the_url_or_the_accept_header() {
        assert_eq!(requested("query=x&format=csv", None), Some(Format::Csv));
        assert_eq!(
            requested("", Some("application/vnd.apache.parquet")),
            Some(Format::Parquet)
        );
        assert_eq!(
            requested("", Some("text/html, text/csv;q=0.9")),
            Some(Format::Csv)
        );
        assert_eq!(requested("", Some("application/json")), None);
        assert_eq!(
            param("rows=meshwork.dataProducts&x=1", "rows").as_deref(),
            Some("meshwork.dataProducts")
        );
        assert_eq!(param("q=%7B%20a%20%7D", "q").as_deref(), Some("{ a }"));
    }

    #[test]
    fn an_answer_with_errors_is_not_a_table() {
        let body = br#"{"data":{"a":[{"x":1}]},"errors":[{"message":"partial"}]}"#;
        assert!(matches!(convert(body, Format::Csv, None), Err(None)));
        let body = br#"{"data":{"a":[{"x":1},{"x":2.5}]}}"#;
        let parquet = convert(body, Format::Parquet, None).expect("parquet");
        assert_eq!(&parquet[..4], b"PAR1");
    }
}
