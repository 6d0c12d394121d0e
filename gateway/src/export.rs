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
//!   status, so a partial result is never mistaken for the whole;
//! - the table streams: a thread of its own reads the engine's JSON answer
//!   lazily (sonic-rs), one row at a time (a first pass finds the columns
//!   and their types, a second writes), and sends 64 KiB chunks through a
//!   bounded channel (8 in flight), Parquet a row group of 65,536 rows at a
//!   time; beyond the engine's answer itself, memory stays bounded however
//!   many rows, and a slow client holds the writer back.

use std::collections::HashMap;
use std::sync::Arc;

use std::io::Write;

use hive_router::ntex::http::body::{Body, BodyStream, MessageBody, ResponseBody};
use hive_router::ntex::http::header::{self, HeaderValue};
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::util::{Bytes, BytesMut};
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

/// The JSON text of what becomes the rows: the value at `path` (dotted)
/// in `data`, or the default list. Nothing is parsed beyond the way there.
fn rows_at<'a>(data: &'a str, path: Option<&str>) -> Result<&'a str, ExportError> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(default_rows(data));
    };
    let keys: Vec<&str> = path.split('.').collect();
    let at = sonic_rs::get_from_str(data, keys.iter().copied())
        .map_err(|_| ExportError::NoSuchPath(path.to_string()))?;
    let raw = within(data, at.as_raw_str()).ok_or(ExportError::NotGraphql)?;
    if !(raw.starts_with('[') || raw.starts_with('{')) {
        return Err(ExportError::NoSuchPath(path.to_string()));
    }
    Ok(raw)
}

/// `part` (the raw text of a value sonic-rs found in `parent`) as a slice
/// of `parent` itself, so it outlives the lazy value that pointed at it.
fn within<'a>(parent: &'a str, part: &str) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(parent.as_ptr() as usize)?;
    parent
        .get(start..start.checked_add(part.len())?)
        .filter(|slice| slice.as_ptr() == part.as_ptr())
}

/// The first list reached by following each object's first field.
fn default_rows(data: &str) -> &str {
    let mut at = data;
    loop {
        let first = sonic_rs::to_object_iter(at)
            .next()
            .and_then(|entry| entry.ok())
            .and_then(|(_, v)| within(at, v.as_raw_str()));
        match first {
            Some(raw) if raw.starts_with('[') => return raw,
            Some(raw) if raw.starts_with('{') => at = raw,
            _ => return at,
        }
    }
}

/// Calls `f` with each row's value: each element of a list, an object
/// as one row, none for null. One element is parsed at a time.
fn each_row(
    raw: &str,
    mut f: impl FnMut(&Answer) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    if raw.starts_with('[') {
        for item in sonic_rs::to_array_iter(raw) {
            let item = item.map_err(|_| ExportError::NotGraphql)?;
            let value: Answer =
                sonic_rs::from_str(item.as_raw_str()).map_err(|_| ExportError::NotGraphql)?;
            f(&value)?;
        }
        Ok(())
    } else if raw.starts_with("null") {
        Ok(())
    } else {
        let value: Answer = sonic_rs::from_str(raw).map_err(|_| ExportError::NotGraphql)?;
        f(&value)
    }
}

/// A column's type, from every value it holds (nulls aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Only nulls so far.
    Empty,
    Bool,
    Int,
    Float,
    Text,
}

impl Kind {
    fn with(self, value: &Value) -> Kind {
        let of = match value {
            Value::Null => return self,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_i64() => Kind::Int,
            Value::Number(_) => Kind::Float,
            _ => Kind::Text,
        };
        match (self, of) {
            (Kind::Empty, of) => of,
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// The columns of a table: their names in the order they first appear and
/// their types (a first pass over the rows).
#[derive(Debug, Default)]
pub(crate) struct Layout {
    pub columns: Vec<String>,
    index: HashMap<String, usize>,
    kinds: Vec<Kind>,
}

impl Layout {
    fn of(rows: &str) -> Result<Layout, ExportError> {
        let mut layout = Layout::default();
        each_row(rows, |item| {
            flatten(item, "", &mut |name, value| {
                let at = match layout.index.get(name) {
                    Some(at) => *at,
                    None => {
                        layout.index.insert(name.to_string(), layout.columns.len());
                        layout.columns.push(name.to_string());
                        layout.kinds.push(Kind::Empty);
                        layout.columns.len() - 1
                    }
                };
                layout.kinds[at] = layout.kinds[at].with(&value);
            });
            Ok(())
        })?;
        Ok(layout)
    }

    /// Calls `f` with each row's cells, in column order.
    fn each_row(
        &self,
        rows: &str,
        mut f: impl FnMut(&[Value]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let mut cells = vec![Value::Null; self.columns.len()];
        each_row(rows, |item| {
            cells.iter_mut().for_each(|c| *c = Value::Null);
            flatten(item, "", &mut |name, value| {
                if let Some(at) = self.index.get(name) {
                    cells[*at] = value;
                }
            });
            f(&cells)
        })
    }
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

/// The rows as CSV (RFC 4180, a header row) into `out`.
fn write_csv(rows: &str, layout: &Layout, out: impl Write) -> Result<(), ExportError> {
    let fail = |e: csv::Error| ExportError::Write(e.to_string());
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&layout.columns).map_err(fail)?;
    let mut record: Vec<String> = Vec::with_capacity(layout.columns.len());
    layout.each_row(rows, |cells| {
        record.clear();
        record.extend(cells.iter().map(scalar_text));
        writer.write_record(&record).map_err(fail)
    })?;
    writer
        .flush()
        .map_err(|e| ExportError::Write(e.to_string()))
}

/// Rows per Parquet row group (and per Arrow batch built at a time).
const ROW_GROUP: usize = 65_536;

enum Column {
    Bool(arrow_array::builder::BooleanBuilder),
    Int(arrow_array::builder::Int64Builder),
    Float(arrow_array::builder::Float64Builder),
    Text(arrow_array::builder::StringBuilder),
}

impl Column {
    fn new(kind: Kind) -> Self {
        use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
        match kind {
            Kind::Bool => Column::Bool(BooleanBuilder::with_capacity(ROW_GROUP)),
            Kind::Int => Column::Int(Int64Builder::with_capacity(ROW_GROUP)),
            Kind::Float => Column::Float(Float64Builder::with_capacity(ROW_GROUP)),
            Kind::Empty | Kind::Text => Column::Text(StringBuilder::new()),
        }
    }

    fn push(&mut self, v: &Value) {
        match self {
            Column::Bool(b) => b.append_option(v.as_bool()),
            Column::Int(b) => b.append_option(v.as_i64()),
            Column::Float(b) => b.append_option(v.as_f64()),
            Column::Text(b) => match v {
                Value::Null => b.append_null(),
                other => b.append_value(scalar_text(other)),
            },
        }
    }

    fn finish(&mut self) -> arrow_array::ArrayRef {
        match self {
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Int(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
            Column::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// The rows as one Apache Parquet file into `out`, columns typed by their
/// values, written a row group at a time.
fn write_parquet(rows: &str, layout: &Layout, out: impl Write + Send) -> Result<(), ExportError> {
    use arrow_array::RecordBatch;
    use arrow_schema::{DataType, Field, Schema};

    let fail = |e: &dyn std::fmt::Display| ExportError::Write(e.to_string());
    let fields: Vec<Field> = layout
        .columns
        .iter()
        .zip(&layout.kinds)
        .map(|(name, kind)| {
            let ty = match kind {
                Kind::Bool => DataType::Boolean,
                Kind::Int => DataType::Int64,
                Kind::Float => DataType::Float64,
                Kind::Empty | Kind::Text => DataType::Utf8,
            };
            Field::new(name, ty, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(out, schema.clone(), Some(properties))
        .map_err(|e| fail(&e))?;
    let mut columns: Vec<Column> = layout.kinds.iter().map(|k| Column::new(*k)).collect();
    let mut pending = 0usize;
    let flush = |columns: &mut Vec<Column>,
                 writer: &mut parquet::arrow::ArrowWriter<_>|
     -> Result<(), ExportError> {
        let arrays = columns.iter_mut().map(Column::finish).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| fail(&e))?;
        writer.write(&batch).map_err(|e| fail(&e))
    };
    if !columns.is_empty() {
        layout.each_row(rows, |cells| {
            for (column, cell) in columns.iter_mut().zip(cells) {
                column.push(cell);
            }
            pending += 1;
            if pending == ROW_GROUP {
                pending = 0;
                flush(&mut columns, &mut writer)?;
            }
            Ok(())
        })?;
        if pending > 0 {
            flush(&mut columns, &mut writer)?;
        }
    }
    writer.close().map_err(|e| fail(&e))?;
    Ok(())
}

/// What an answer becomes.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A table follows.
    Table,
    /// Errors, or no data: the JSON answer as it is.
    Json,
    /// The table cannot be made (a wrong rows path).
    Refused(ExportError),
}

/// The rows' JSON text and columns of an answer, or why there is no table.
fn prepare<'a>(body: &'a [u8], rows: Option<&str>) -> Result<(&'a str, Layout), Outcome> {
    let Ok(body) = std::str::from_utf8(body) else {
        return Err(Outcome::Refused(ExportError::NotGraphql));
    };
    if let Ok(errors) = sonic_rs::get_from_str(body, ["errors"]) {
        let raw = errors.as_raw_str();
        if raw.starts_with('[') && raw.trim_start_matches('[').trim_start() != "]" {
            return Err(Outcome::Json);
        }
    }
    let Ok(data) = sonic_rs::get_from_str(body, ["data"]) else {
        return Err(Outcome::Json);
    };
    let Some(data) = within(body, data.as_raw_str()) else {
        return Err(Outcome::Refused(ExportError::NotGraphql));
    };
    if !data.starts_with('{') {
        return Err(Outcome::Json);
    }
    let at = rows_at(data, rows).map_err(Outcome::Refused)?;
    let layout = Layout::of(at).map_err(Outcome::Refused)?;
    Ok((at, layout))
}

/// Turns an answer into the requested table, written to `out`; `head` is
/// told first whether a table follows (then nothing has been written yet
/// when it says otherwise).
pub(crate) fn convert(
    body: &[u8],
    format: Format,
    rows: Option<&str>,
    head: impl FnOnce(Outcome),
    out: impl Write + Send,
) -> Result<(), ExportError> {
    let (at, layout) = match prepare(body, rows) {
        Ok(prepared) => prepared,
        Err(outcome) => {
            head(outcome);
            return Ok(());
        }
    };
    head(Outcome::Table);
    match format {
        Format::Csv => write_csv(at, &layout, out),
        Format::Parquet => write_parquet(at, &layout, out),
    }
}

/// Bytes of the table per chunk sent to the client.
const CHUNK: usize = 64 * 1024;
/// Chunks that may wait for a slow client before the writer waits too.
const CHUNKS_IN_FLIGHT: usize = 8;

type Chunk = Result<Bytes, std::io::Error>;

/// `Write` into the response body: chunks of [`CHUNK`] bytes through a
/// bounded channel, so a slow client holds the writer back instead of the
/// table piling up in memory.
struct ChunkSink {
    buffer: Vec<u8>,
    tx: futures::channel::mpsc::Sender<Chunk>,
}

impl ChunkSink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        futures::executor::block_on(futures::SinkExt::send(&mut self.tx, Ok(chunk))).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Converts on a thread of its own (a large answer takes seconds of CPU,
/// which must not stall the server's event loop): what the answer becomes,
/// and the table's chunks.
fn spawn_conversion(
    body: Bytes,
    format: Format,
    rows: Option<String>,
) -> std::io::Result<(
    futures::channel::oneshot::Receiver<Outcome>,
    futures::channel::mpsc::Receiver<Chunk>,
)> {
    let (head_tx, head_rx) = futures::channel::oneshot::channel();
    let (tx, rx) = futures::channel::mpsc::channel(CHUNKS_IN_FLIGHT);
    std::thread::Builder::new()
        .name("meshwork-export".into())
        .spawn(move || {
            let mut sink = ChunkSink {
                buffer: Vec::with_capacity(CHUNK),
                tx: tx.clone(),
            };
            let result = convert(
                &body,
                format,
                rows.as_deref(),
                |outcome| {
                    let _ = head_tx.send(outcome);
                },
                &mut sink,
            )
            .and_then(|()| sink.flush().map_err(|e| ExportError::Write(e.to_string())));
            if let Err(e) = result {
                tracing::warn!(error = %e, "an export stopped part-way; the response is cut off");
                let mut tx = tx;
                let _ = futures::executor::block_on(futures::SinkExt::send(
                    &mut tx,
                    Err(std::io::Error::other(e.to_string())),
                ));
            }
        })?;
    Ok((head_rx, rx))
}

/// The middleware on the GraphQL path: asks the engine for JSON, answers
/// with the table. It is also the layer that drains (`crate::shutdown`)
/// and returns the request id (`crate::request_id`) for every answer: one
/// ntex layer instead of three costs each request less.
#[derive(Clone)]
pub(crate) struct Export {
    pub graphql_path: Arc<str>,
    /// The access snapshot (its saved queries), on a gateway that has one.
    pub access: Option<Arc<crate::authn::Shared>>,
    /// Answers 503 while draining.
    pub readiness_path: Arc<str>,
    /// Each request to the GraphQL path timed, with Meshwork's default
    /// metrics (`crate::latency`).
    pub latency: Option<Arc<crate::latency::Latency>>,
}

impl<S> Middleware<S, SharedCfg> for Export {
    type Service = ExportService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        ExportService {
            service,
            graphql_path: self.graphql_path.clone(),
            access: self.access.clone(),
            readiness_path: self.readiness_path.clone(),
            latency: self.latency.clone(),
        }
    }
}

pub(crate) struct ExportService<S> {
    service: S,
    graphql_path: Arc<str>,
    access: Option<Arc<crate::authn::Shared>>,
    readiness_path: Arc<str>,
    latency: Option<Arc<crate::latency::Latency>>,
}

impl<S> Service<web::WebRequest<DefaultError>> for ExportService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    /// The export (or the engine's answer as it is), with the request's
    /// id in `x-request-id`; while draining, readiness answers 503 and
    /// every answer closes its connection.
    async fn call(
        &self,
        req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        // Every request is timed: whether it was one to the GraphQL path is
        // known from its answer (below).
        let timed = self.latency.as_ref().map(|latency| {
            (
                latency,
                std::time::Instant::now(),
                req.path() == &*self.graphql_path,
            )
        });
        let draining = crate::shutdown::draining();
        let mut response = if draining {
            match crate::shutdown::readiness_refusal(req, &self.readiness_path) {
                Ok(req) => self.export(req, ctx).await?,
                Err(refusal) => refusal,
            }
        } else {
            self.export(req, ctx).await?
        };
        if let Some((latency, started, graphql_path)) = timed {
            measure(
                latency,
                started,
                graphql_path,
                &response,
                &self.graphql_path,
            );
        }
        crate::request_id::set_header(&mut response);
        if draining {
            crate::shutdown::close(&mut response);
        }
        Ok(response)
    }
}

/// A request to the GraphQL path, measured as the engine labels it: the
/// operation's name and type and the answer's GraphQL status as the engine
/// noted them on the request. A request counts when the engine's GraphQL
/// handler answered it (whatever spelling of the path the router matched:
/// percent-encoded, a trailing slash), or when it was sent to the GraphQL
/// path as written (refusals before the engine); others are not measured.
fn measure(
    latency: &crate::latency::Latency,
    started: std::time::Instant,
    graphql_path: bool,
    response: &web::WebResponse,
    route: &str,
) {
    use hive_router::pipeline::request_extensions::{
        read_graphql_response_metric_status, GraphQLOperationMetricIdentity,
    };
    use hive_router::telemetry::metrics::catalog::values::GraphQLResponseStatus;
    use hive_router::telemetry::utils::RequestRoutePattern;
    let request = response.request();
    let extensions = request.extensions();
    if !graphql_path && extensions.get::<RequestRoutePattern>().is_none() {
        return;
    }
    let operation = extensions.get::<GraphQLOperationMetricIdentity>();
    // An answer the engine did not give (a refusal before it) is an error
    // when its HTTP status says so.
    let ok = match read_graphql_response_metric_status(request) {
        Some(status) => matches!(status, GraphQLResponseStatus::Ok),
        None => response.status().as_u16() < 400,
    };
    latency.request(
        started,
        crate::latency::Request {
            method: request.method().as_str(),
            status: response.status(),
            route,
            ok,
            operation_name: operation.and_then(|o| o.operation_name.as_deref()),
            operation_type: operation.and_then(|o| o.operation_type),
        },
    );
}

impl<S> ExportService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    async fn export(
        &self,
        mut req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<web::WebResponse, web::Error> {
        let (format, rows) = if let Some(file) = req.path().strip_prefix(EXPORT_PREFIX) {
            let file = file.to_string();
            match saved_query_request(&mut req, &file, &self.graphql_path, self.access.as_deref()) {
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
        let mut bytes = BytesMut::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.poll_next_chunk(cx)).await {
            match chunk {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the answer for an export failed");
                    return Ok(internal(
                        response,
                        "the answer could not be read for the export",
                    ));
                }
            }
        }
        let bytes = bytes.freeze();
        let (head, chunks) = match spawn_conversion(bytes.clone(), format, rows) {
            Ok(started) => started,
            Err(e) => {
                tracing::error!(error = %e, "starting an export's conversion failed");
                return Ok(internal(response, "the export could not be started"));
            }
        };
        match head.await {
            Ok(Outcome::Table) => {
                let content_type = match format {
                    Format::Csv => "text/csv; charset=utf-8",
                    Format::Parquet => PARQUET,
                };
                Ok(replace(
                    response,
                    200,
                    content_type,
                    Body::from_message(BodyStream::new(chunks)),
                ))
            }
            // Errors or no data: the JSON answer as it is.
            Ok(Outcome::Json) => {
                let status = response.status().as_u16();
                Ok(replace(
                    response,
                    status,
                    "application/json",
                    Body::from(bytes),
                ))
            }
            Ok(Outcome::Refused(e)) => Ok(replace(
                response,
                400,
                "application/json",
                Body::from(
                    crate::request_id::error_body(&format!("export: {e}"), "BAD_REQUEST")
                        .into_bytes(),
                ),
            )),
            Err(_) => Ok(internal(response, "the export's conversion failed")),
        }
    }
}

fn internal(response: web::WebResponse, message: &str) -> web::WebResponse {
    let body = crate::request_id::error_body(message, "INTERNAL_SERVER_ERROR");
    replace(
        response,
        500,
        "application/json",
        Body::from(body.into_bytes()),
    )
}

fn replace(
    mut response: web::WebResponse,
    status: u16,
    content_type: &'static str,
    body: Body,
) -> web::WebResponse {
    if let Ok(code) = hive_router::ntex::http::StatusCode::from_u16(status) {
        *response.response_mut().status_mut() = code;
    }
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.remove(header::CONTENT_LENGTH);
    response.map_body(|_, _| ResponseBody::Other(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(body: &str, format: Format, rows: Option<&str>) -> (Option<Outcome>, Vec<u8>) {
        let mut said = None;
        let mut out = Vec::new();
        convert(body.as_bytes(), format, rows, |o| said = Some(o), &mut out).expect("convert");
        (said, out)
    }

    fn csv(body: &str, rows: Option<&str>) -> String {
        let (said, out) = table(body, Format::Csv, rows);
        assert!(matches!(said, Some(Outcome::Table)), "{said:?}");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn rows_flatten_nested_objects_and_join_scalar_lists() {
        let body = r#"{ "data": { "ordersByDate": [
            { "id": "o1", "total": 10.5, "customer": { "name": "Ann", "tier": null }, "tags": ["a", "b"] },
            { "id": "o2", "total": 3, "lines": [{ "sku": "x" }] }
        ]}}"#;
        assert_eq!(
            csv(body, None),
            "id,total,customer.name,customer.tier,tags,lines\no1,10.5,Ann,,a; b,\no2,3,,,,\"[{\"\"sku\"\":\"\"x\"\"}]\"\n"
        );
    }

    #[test]
    fn a_path_chooses_the_rows_and_a_wrong_one_is_refused() {
        let body = r#"{"data":{ "a": { "b": [{ "x": 1 }, { "x": 2 }] }, "c": 1 }}"#;
        assert_eq!(csv(body, Some("a.b")), "x\n1\n2\n");
        assert_eq!(csv(body, None), "x\n1\n2\n");
        for wrong in ["c", "nope", "a.b.c"] {
            let (said, out) = table(body, Format::Csv, Some(wrong));
            assert!(
                matches!(said, Some(Outcome::Refused(ExportError::NoSuchPath(_)))),
                "{wrong}: {said:?}"
            );
            assert!(out.is_empty());
        }
        // One object is one row; an empty list, no row.
        assert_eq!(
            csv(r#"{"data":{"me":{"name":"a"}}}"#, Some("me")),
            "name\na\n"
        );
        assert!(csv(r#"{"data":{"list":[]}}"#, None).lines().count() <= 1);
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
    fn an_answer_with_errors_or_without_data_is_not_a_table() {
        for body in [
            r#"{"data":{"a":[{"x":1}]},"errors":[{"message":"partial"}]}"#,
            r#"{"data":null,"errors":[{"message":"no"}]}"#,
            r#"{"errors":[{"message":"no"}]}"#,
        ] {
            let (said, out) = table(body, Format::Csv, None);
            assert!(matches!(said, Some(Outcome::Json)), "{body}: {said:?}");
            assert!(out.is_empty());
        }
        // An empty error list is no error.
        assert_eq!(
            csv(r#"{"data":{"a":[{"x":1}]},"errors":[]}"#, None),
            "x\n1\n"
        );
    }

    #[test]
    fn parquet_columns_are_typed_by_their_values_across_row_groups() {
        let mut items = Vec::new();
        for i in 0..(ROW_GROUP + 10) {
            items.push(format!(
                r#"{{"i":{i},"f":{},"b":{},"s":"r{i}","n":null,"mixed":{}}}"#,
                if i == 3 {
                    "2.5".to_string()
                } else {
                    i.to_string()
                },
                i % 2 == 0,
                if i == 5 {
                    "\"x\"".to_string()
                } else {
                    i.to_string()
                },
            ));
        }
        let body = format!(r#"{{"data":{{"rows":[{}]}}}}"#, items.join(","));
        let (said, out) = table(&body, Format::Parquet, None);
        assert!(matches!(said, Some(Outcome::Table)));
        assert_eq!(&out[..4], b"PAR1");
        let file = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(out),
        )
        .expect("read back");
        let types: Vec<String> = file
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            [
                "i:Int64",
                "f:Float64",
                "b:Boolean",
                "s:Utf8",
                "n:Utf8",
                "mixed:Utf8"
            ]
        );
        assert_eq!(file.metadata().num_row_groups(), 2);
        let rows: usize = file
            .build()
            .expect("reader")
            .map(|b| b.expect("batch").num_rows())
            .sum();
        assert_eq!(rows, ROW_GROUP + 10);
    }
}
