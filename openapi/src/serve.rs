//! Serves a derived subgraph as a real federation subgraph: an
//! async-graphql dynamic schema over the derived SDL whose fields call the
//! REST API by the [`Plan`](crate::Plan). `_service { sdl }` answers the
//! derived SDL; `_entities` fetches each entity by its key.
//!
//! A non-2xx answer, a timeout, a body that is not JSON or that does not
//! fit the document become GraphQL errors at the field's path naming the
//! domain; an entity lookup answered 404 is `null` with an error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, Scalar,
    Schema, TypeRef, Union,
};
use async_graphql::{Name, Value as GqlValue};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt;
use graphql_parser::schema::{self as ast, Definition, TypeDefinition};
use serde_json::Value;

use crate::{Call, Derived, In, Plan, UnionRule};

/// Entity fetches one `_entities` request runs at once against the REST API.
const ENTITY_FETCHES: usize = 8;

/// REST calls one GraphQL request runs at once (entity fetches, fields
/// added to other domains' entities, batches), whatever asks for them.
const CALLS_PER_REQUEST: usize = 16;

/// Keys one batch call carries at most (URLs stay well under 8 KiB).
const BATCH_KEYS: usize = 100;

/// Why a derived subgraph cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the derived schema does not parse: {0}")]
    Parse(String),
    #[error("the derived schema cannot be served: {0}")]
    Schema(String),
}

/// Where and how the REST API is called.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// The domain's name, for errors.
    pub domain: String,
    /// Base URL the document's paths are appended to.
    pub base_url: String,
    pub timeout: Duration,
    /// Request headers passed on to the REST API (e.g. `x-meshwork-*`).
    pub forward_headers: Vec<String>,
}

/// An object the REST API did not give (a 404 entity, a null list item):
/// each of its fields answers this error, so a non-null field nulls the
/// object at its path. async-graphql's dynamic schema has no null item in
/// a list of objects.
struct Missing(String);

/// Per GraphQL request: its headers that go on to the REST calls, and the
/// bound on its calls in flight.
#[derive(Clone)]
struct Forwarded {
    headers: Arc<Vec<(String, String)>>,
    calls: Arc<tokio::sync::Semaphore>,
}

impl Forwarded {
    fn new(headers: Vec<(String, String)>) -> Self {
        Self {
            headers: Arc::new(headers),
            calls: Arc::new(tokio::sync::Semaphore::new(CALLS_PER_REQUEST)),
        }
    }
}

impl Default for Forwarded {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

struct Shared {
    plan: Plan,
    upstream: Upstream,
    http: reqwest::Client,
    /// Type name → kind, for turning JSON into GraphQL values.
    kinds: BTreeMap<String, Kind>,
    /// Enum → the document's value (as text) → GraphQL value.
    enum_back: BTreeMap<String, BTreeMap<String, String>>,
    /// Other domains' entities this one adds fields to.
    extended: BTreeSet<String>,
}

/// Entities fetched by batch: (type, key as text) → the entity or why not.
type Batched = HashMap<(String, String), Result<Value, String>>;

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Scalar,
    Enum,
    Object,
    Union,
}

/// A derived REST subgraph ready to answer GraphQL requests.
#[derive(Clone)]
pub struct Subgraph {
    schema: Schema,
    sdl: Arc<String>,
    forward: Arc<Vec<String>>,
}

impl std::fmt::Debug for Subgraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subgraph").finish_non_exhaustive()
    }
}

impl Subgraph {
    pub fn new(derived: &Derived, upstream: Upstream) -> Result<Self, ServeError> {
        Ok(Self {
            forward: Arc::new(upstream.forward_headers.clone()),
            schema: schema(derived, upstream)?,
            sdl: Arc::new(derived.sdl.clone()),
        })
    }

    /// Answers one GraphQL request; `headers` are the request's, of which
    /// the upstream's `forward_headers` go on to the REST calls.
    pub async fn answer(&self, headers: &HeaderMap, request: async_graphql::Request) -> Value {
        if request.query.contains("_service") && !request.query.contains("_entities") {
            return serde_json::json!({ "data": { "_service": { "sdl": *self.sdl } } });
        }
        let passed: Vec<(String, String)> = self
            .forward
            .iter()
            .filter_map(|name| {
                headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (name.clone(), v.to_string()))
            })
            .collect();
        let response = self
            .schema
            .execute(request.data(Forwarded::new(passed)))
            .await;
        serde_json::to_value(&response).unwrap_or_else(|e| {
            serde_json::json!({ "errors": [{ "message": format!("answer not serializable: {e}") }] })
        })
    }
}

/// A router answering GraphQL at `/graphql` for a derived REST subgraph.
pub fn router(derived: &Derived, upstream: Upstream) -> Result<Router, ServeError> {
    let subgraph = Subgraph::new(derived, upstream)?;
    let answer = move |headers: HeaderMap, Json(request): Json<async_graphql::Request>| {
        let subgraph = subgraph.clone();
        async move { Json(subgraph.answer(&headers, request).await) }
    };
    Ok(Router::new().route("/graphql", post(answer)))
}

fn type_ref(ty: &ast::Type<'static, String>) -> TypeRef {
    match ty {
        ast::Type::NamedType(n) => TypeRef::Named(n.clone().into()),
        ast::Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        ast::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

/// The SDL without its `extend schema` line (graphql-parser does not read
/// schema extensions; the derived SDL has exactly one, first).
fn without_extension(sdl: &str) -> String {
    sdl.lines()
        .filter(|l| !l.starts_with("extend schema"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The dynamic schema answering `derived` by calling `upstream`.
pub fn schema(derived: &Derived, upstream: Upstream) -> Result<Schema, ServeError> {
    let text = without_extension(&derived.sdl);
    let doc = graphql_parser::parse_schema::<String>(&text)
        .map_err(|e| ServeError::Parse(e.to_string()))?
        .into_static();
    let mut kinds: BTreeMap<String, Kind> = ["Int", "Float", "String", "Boolean", "ID"]
        .into_iter()
        .map(|s| (s.to_string(), Kind::Scalar))
        .collect();
    for def in &doc.definitions {
        if let Definition::TypeDefinition(t) = def {
            let (name, kind) = match t {
                TypeDefinition::Scalar(s) => (&s.name, Kind::Scalar),
                TypeDefinition::Enum(e) => (&e.name, Kind::Enum),
                TypeDefinition::Object(o) => (&o.name, Kind::Object),
                TypeDefinition::Union(u) => (&u.name, Kind::Union),
                _ => continue,
            };
            kinds.insert(name.clone(), kind);
        }
    }
    let enum_back = derived
        .plan
        .enums
        .iter()
        .map(|(e, map)| {
            (
                e.clone(),
                map.iter()
                    .map(|(graphql, original)| (text_of(original), graphql.clone()))
                    .collect(),
            )
        })
        .collect();
    let http = reqwest::Client::builder()
        .timeout(upstream.timeout)
        .build()
        .map_err(|e| ServeError::Schema(e.to_string()))?;
    let shared = Arc::new(Shared {
        plan: derived.plan.clone(),
        upstream,
        http,
        kinds,
        enum_back,
        extended: derived
            .plan
            .extensions
            .keys()
            .filter_map(|c| c.split_once('.').map(|(t, _)| t.to_string()))
            .collect(),
    });
    let has_mutation = doc.definitions.iter().any(
        |d| matches!(d, Definition::TypeDefinition(TypeDefinition::Object(o)) if o.name == "Mutation"),
    );
    let mut builder =
        Schema::build("Query", has_mutation.then_some("Mutation"), None).enable_federation();
    for def in &doc.definitions {
        let Definition::TypeDefinition(t) = def else {
            continue;
        };
        match t {
            TypeDefinition::Scalar(s) => builder = builder.register(Scalar::new(s.name.clone())),
            TypeDefinition::Enum(e) => {
                builder = builder.register(
                    Enum::new(e.name.clone()).items(e.values.iter().map(|v| v.name.clone())),
                )
            }
            TypeDefinition::Union(u) => {
                let mut union = Union::new(u.name.clone());
                for m in &u.types {
                    union = union.possible_type(m.clone());
                }
                builder = builder.register(union);
            }
            TypeDefinition::InputObject(i) => {
                let mut input = InputObject::new(i.name.clone());
                for f in &i.fields {
                    input = input.field(InputValue::new(f.name.clone(), type_ref(&f.value_type)));
                }
                builder = builder.register(input);
            }
            TypeDefinition::Object(o) => {
                let mut object = Object::new(o.name.clone());
                for d in o.directives.iter().filter(|d| d.name == "key") {
                    if let Some((_, ast::Value::String(fields))) =
                        d.arguments.iter().find(|(a, _)| a == "fields")
                    {
                        object = object.key(fields.clone());
                    }
                }
                let root = o.name == "Query" || o.name == "Mutation";
                for f in &o.fields {
                    let mut field = if root {
                        root_field(&shared, &o.name, f)
                    } else {
                        property_field(&shared, &o.name, f)
                    };
                    for a in &f.arguments {
                        field = field
                            .argument(InputValue::new(a.name.clone(), type_ref(&a.value_type)));
                    }
                    object = object.field(field);
                }
                builder = builder.register(object);
            }
            TypeDefinition::Interface(_) => {}
        }
    }
    let entities = shared.clone();
    builder = builder.entity_resolver(move |ctx| {
        let shared = entities.clone();
        FieldFuture::new(async move {
            let representations = ctx.args.try_get("representations")?.list()?;
            let forwarded = ctx.data_opt::<Forwarded>().cloned().unwrap_or_default();
            // One fetch per representation, at most `ENTITY_FETCHES` at once,
            // answers in the order asked.
            let mut jobs = Vec::new();
            for item in representations.iter() {
                let representation = item.as_value().clone().into_json().unwrap_or(Value::Null);
                let typename = representation
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                jobs.push((typename, representation));
            }
            // Batched types first: all their keys, one call per `BATCH_KEYS`.
            let batched = Arc::new(shared.fetch_batches(&jobs, &forwarded).await);
            let fetches = jobs.into_iter().map(|(typename, representation)| {
                let shared = shared.clone();
                let forwarded = forwarded.clone();
                let batched = batched.clone();
                async move {
                    shared
                        .entity(typename, representation, &batched, &forwarded)
                        .await
                }
            });
            let answers: Vec<FieldValue<'static>> = futures_util::stream::iter(fetches)
                .buffered(ENTITY_FETCHES)
                .collect()
                .await;
            Ok(Some(FieldValue::list(answers)))
        })
    });
    builder
        .finish()
        .map_err(|e| ServeError::Schema(e.to_string()))
}

/// A JSON value as the text a URL or header carries.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as one text, a list's items comma-separated.
fn comma_text(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => text_of(other),
    }
}

#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Failed(String),
}

impl Shared {
    /// One entity of an `_entities` request.
    async fn entity(
        &self,
        typename: String,
        representation: Value,
        batched: &Batched,
        forwarded: &Forwarded,
    ) -> FieldValue<'static> {
        let domain = &self.upstream.domain;
        if self.extended.contains(&typename) {
            // Another domain's entity: its key is all this one needs.
            return FieldValue::owned_any(representation).with_type(typename);
        }
        let Some(entity) = self.plan.entities.get(&typename) else {
            let known = self
                .plan
                .entities
                .keys()
                .chain(self.extended.iter())
                .next()
                .cloned()
                .unwrap_or_else(|| typename.clone());
            return FieldValue::owned_any(Missing(format!(
                "`{typename}` is not an entity of domain `{domain}`"
            )))
            .with_type(known);
        };
        let key = representation
            .get(&entity.key)
            .cloned()
            .unwrap_or(Value::Null);
        if entity.batch.is_some() {
            let text = text_of(&key);
            return match batched.get(&(typename.clone(), text.clone())) {
                Some(Ok(body)) => FieldValue::owned_any(body.clone()).with_type(typename),
                Some(Err(e)) => FieldValue::owned_any(Missing(e.clone())).with_type(typename),
                None => FieldValue::owned_any(Missing(format!(
                    "domain `{domain}` answered no `{typename}` with {} `{text}`",
                    entity.key
                )))
                .with_type(typename),
            };
        }
        let mut args = BTreeMap::new();
        if let Some(argument) = entity
            .call
            .arguments
            .iter()
            .find(|a| a.parameter == entity.parameter)
        {
            args.insert(argument.name.clone(), key);
        }
        match self.call(&entity.call, &args, forwarded).await {
            Ok(Value::Null) => FieldValue::owned_any(Missing(format!(
                "domain `{domain}` answered null for this `{typename}`"
            )))
            .with_type(typename),
            Ok(body) => FieldValue::owned_any(body).with_type(typename),
            Err(e) => FieldValue::owned_any(Missing(e.to_string())).with_type(typename),
        }
    }

    /// The entities of `jobs` whose type has a batch operation, fetched by
    /// their distinct keys, `BATCH_KEYS` per call.
    async fn fetch_batches(&self, jobs: &[(String, Value)], forwarded: &Forwarded) -> Batched {
        let mut wanted: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        let mut seen: BTreeSet<(&str, String)> = BTreeSet::new();
        for (typename, representation) in jobs {
            let Some(entity) = self.plan.entities.get(typename) else {
                continue;
            };
            if entity.batch.is_none() {
                continue;
            }
            let Some(key) = representation.get(&entity.key).filter(|k| !k.is_null()) else {
                continue;
            };
            if seen.insert((typename.as_str(), text_of(key))) {
                wanted.entry(typename).or_default().push(key.clone());
            }
        }
        let mut chunks: Vec<(String, Vec<Value>)> = Vec::new();
        for (typename, keys) in &wanted {
            for chunk in keys.chunks(BATCH_KEYS) {
                chunks.push((typename.to_string(), chunk.to_vec()));
            }
        }
        let mut fetches = Vec::with_capacity(chunks.len());
        for (typename, chunk) in chunks {
            fetches.push(self.fetch_batch(typename, chunk, forwarded));
        }
        let answers: Vec<(String, Vec<Value>, Result<Value, CallError>)> =
            futures_util::stream::iter(fetches)
                .buffered(ENTITY_FETCHES)
                .collect()
                .await;
        let mut batched = Batched::new();
        for (typename, chunk, answer) in answers {
            let typename = typename.as_str();
            let key_field = self
                .plan
                .entities
                .get(typename)
                .map(|e| e.key.as_str())
                .unwrap_or_default();
            match answer {
                Ok(Value::Array(items)) => {
                    for item in items {
                        if let Some(key) = item.get(key_field).filter(|k| !k.is_null()) {
                            batched.insert((typename.to_string(), text_of(key)), Ok(item.clone()));
                        }
                    }
                }
                Ok(other) => {
                    let why = format!(
                        "domain `{}` answered {} to the batch fetch of `{typename}`, not a list",
                        self.upstream.domain,
                        kind_of(&other)
                    );
                    for key in chunk {
                        batched.insert((typename.to_string(), text_of(&key)), Err(why.clone()));
                    }
                }
                Err(e) => {
                    for key in chunk {
                        batched.insert((typename.to_string(), text_of(&key)), Err(e.to_string()));
                    }
                }
            }
        }
        batched
    }

    /// One batch call: `chunk`'s keys of `typename`.
    async fn fetch_batch(
        &self,
        typename: String,
        chunk: Vec<Value>,
        forwarded: &Forwarded,
    ) -> (String, Vec<Value>, Result<Value, CallError>) {
        let Some(batch) = self
            .plan
            .entities
            .get(&typename)
            .and_then(|e| e.batch.as_ref())
        else {
            return (typename, chunk, Ok(Value::Null));
        };
        let keys = if batch.list {
            Value::Array(chunk.clone())
        } else {
            Value::String(comma_text(&Value::Array(chunk.clone())))
        };
        let args = BTreeMap::from([(batch.argument.clone(), keys)]);
        let answer = self.call(&batch.call, &args, forwarded).await;
        (typename, chunk, answer)
    }

    /// The document's value of an argument (enum values mapped back).
    fn parameter_value(&self, value: &Value, enum_type: Option<&str>) -> Value {
        match (enum_type.and_then(|e| self.plan.enums.get(e)), value) {
            (Some(map), Value::String(v)) => map.get(v).cloned().unwrap_or(value.clone()),
            _ => value.clone(),
        }
    }

    async fn call(
        &self,
        call: &Call,
        args: &BTreeMap<String, Value>,
        forwarded: &Forwarded,
    ) -> Result<Value, CallError> {
        let domain = &self.upstream.domain;
        let mut path = call.path.clone();
        // `name=value` pairs, percent-encoded; a comma list's commas stay
        // literal (they separate its items, encoded commas are data).
        let mut query: Vec<String> = Vec::new();
        let mut headers: Vec<(String, String)> = forwarded.headers.as_ref().clone();
        for argument in &call.arguments {
            let Some(value) = args.get(&argument.name).filter(|v| !v.is_null()) else {
                continue;
            };
            match argument.location {
                In::Path => {
                    let encoded = match value {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| url_escape(&text_of(i)))
                            .collect::<Vec<_>>()
                            .join(","),
                        other => url_escape(&text_of(other)),
                    };
                    path = path.replace(&format!("{{{}}}", argument.parameter), &encoded);
                }
                In::Query => {
                    let name = url_escape(&argument.parameter);
                    match value {
                        Value::Array(items) if argument.comma => {
                            let items: Vec<String> =
                                items.iter().map(|i| url_escape(&text_of(i))).collect();
                            query.push(format!("{name}={}", items.join(",")));
                        }
                        Value::Array(items) => {
                            for item in items {
                                query.push(format!("{name}={}", url_escape(&text_of(item))));
                            }
                        }
                        other => query.push(format!("{name}={}", url_escape(&text_of(other)))),
                    }
                }
                In::Header => headers.push((argument.parameter.clone(), comma_text(value))),
            }
        }
        let mut url = format!("{}{}", self.upstream.base_url.trim_end_matches('/'), path);
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query.join("&"));
        }
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|e| CallError::Failed(format!("domain `{domain}`: {e}")))?;
        let mut request = self.http.request(method, &url);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = call.body.as_ref().and_then(|b| args.get(b)) {
            request = request.json(body);
        }
        let what = format!("domain `{domain}`: {} {path}", call.method);
        let _permit = forwarded
            .calls
            .acquire()
            .await
            .map_err(|e| CallError::Failed(format!("{what}: {e}")))?;
        let response = request.send().await.map_err(|e| {
            CallError::Failed(if e.is_timeout() {
                format!("{what} timed out")
            } else {
                format!("{what} failed: {e}")
            })
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(CallError::NotFound(format!(
                "{what} answered 404 Not Found"
            )));
        }
        if !status.is_success() {
            return Err(CallError::Failed(format!("{what} answered {status}")));
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Bool(true));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Failed(format!("{what}: reading the body failed: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CallError::Failed(format!("{what} answered a body that is not JSON: {e}")))
    }

    /// Turns `value` (JSON from the REST API) into a field value of `ty`.
    fn produce(
        &self,
        ty: &ast::Type<'static, String>,
        value: Value,
        at: &str,
    ) -> Result<Option<FieldValue<'static>>, String> {
        match ty {
            ast::Type::NonNullType(inner) => {
                if value.is_null() {
                    return Err(format!(
                        "domain `{}` answered no value for non-null `{at}`, which its document requires",
                        self.upstream.domain
                    ));
                }
                self.produce(inner, value, at)
            }
            ast::Type::ListType(inner) => match value {
                Value::Null => Ok(None),
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    let base = base_name(inner);
                    for item in items {
                        match self.produce(inner, item, at)? {
                            Some(v) => out.push(v),
                            None => match self.kinds.get(&base) {
                                Some(Kind::Object) | Some(Kind::Union) => {
                                    let missing = FieldValue::owned_any(Missing(format!(
                                        "domain `{}` answered null for an item of `{at}`",
                                        self.upstream.domain
                                    )));
                                    let member = match self.plan.unions.get(&base) {
                                        Some(UnionRule::Discriminator { mapping, .. }) => {
                                            mapping.values().next().cloned()
                                        }
                                        Some(UnionRule::RequiredProperties(m)) => {
                                            m.keys().next().cloned()
                                        }
                                        None => None,
                                    };
                                    out.push(match member {
                                        Some(m) => missing.with_type(m),
                                        None => missing,
                                    });
                                }
                                _ => out.push(FieldValue::NULL),
                            },
                        }
                    }
                    Ok(Some(FieldValue::list(out)))
                }
                other => Err(format!(
                    "domain `{}` answered {} for the list `{at}`",
                    self.upstream.domain,
                    kind_of(&other)
                )),
            },
            ast::Type::NamedType(name) => {
                if value.is_null() {
                    return Ok(None);
                }
                match self.kinds.get(name) {
                    Some(Kind::Object) => {
                        if !value.is_object() {
                            return Err(format!(
                                "domain `{}` answered {} for the object `{at}`",
                                self.upstream.domain,
                                kind_of(&value)
                            ));
                        }
                        Ok(Some(FieldValue::owned_any(value)))
                    }
                    Some(Kind::Union) => {
                        let member = self.member_of(name, &value).ok_or_else(|| {
                            format!(
                                "domain `{}`: the value of `{at}` matches no member of `{name}`",
                                self.upstream.domain
                            )
                        })?;
                        Ok(Some(FieldValue::owned_any(value).with_type(member)))
                    }
                    Some(Kind::Enum) => {
                        let text = text_of(&value);
                        let graphql = self
                            .enum_back
                            .get(name)
                            .and_then(|m| m.get(&text))
                            .cloned()
                            .ok_or_else(|| {
                                format!(
                                    "domain `{}` answered `{text}` for `{at}`, which is not a value of its enum `{name}`",
                                    self.upstream.domain
                                )
                            })?;
                        Ok(Some(FieldValue::value(GqlValue::Enum(Name::new(graphql)))))
                    }
                    _ => {
                        check_scalar(name, &value).map_err(|expected| {
                            format!(
                                "domain `{}` answered {} for `{at}`, which its document says is {expected}",
                                self.upstream.domain,
                                kind_of(&value)
                            )
                        })?;
                        Ok(Some(FieldValue::value(
                            GqlValue::from_json(value).unwrap_or(GqlValue::Null),
                        )))
                    }
                }
            }
        }
    }

    fn member_of(&self, union: &str, value: &Value) -> Option<String> {
        match self.plan.unions.get(union)? {
            UnionRule::Discriminator { property, mapping } => {
                let tag = value.get(property).map(text_of)?;
                mapping.get(&tag).cloned()
            }
            UnionRule::RequiredProperties(members) => members
                .iter()
                .find(|(_, props)| props.iter().all(|p| value.get(p).is_some()))
                .map(|(m, _)| m.clone()),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether a JSON value fits a scalar; else what was expected.
fn check_scalar(name: &str, value: &Value) -> Result<(), &'static str> {
    let ok = match name {
        "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "Long" => value.is_i64() || value.is_u64(),
        "Float" => value.is_number(),
        "Boolean" => value.is_boolean(),
        "String" | "ID" | "Date" | "DateTime" => {
            value.is_string() || (name == "ID" && value.is_number())
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(match name {
            "Int" => "a 32-bit integer",
            "Long" => "an integer",
            "Float" => "a number",
            "Boolean" => "a boolean",
            _ => "a string",
        })
    }
}

/// Percent-encodes a path segment.
fn url_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn arguments_json(ctx: &ResolverContext<'_>) -> BTreeMap<String, Value> {
    ctx.args
        .as_index_map()
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone().into_json().unwrap_or(Value::Null)))
        .collect()
}

/// `Query.x` / `Mutation.x`: the planned call, its answer shaped.
fn root_field(shared: &Arc<Shared>, owner: &str, def: &ast::Field<'static, String>) -> Field {
    let shared = shared.clone();
    let coordinate = format!("{owner}.{}", def.name);
    let ty = def.field_type.clone();
    let enum_args: BTreeMap<String, String> = def
        .arguments
        .iter()
        .filter_map(|a| {
            let base = base_name(&a.value_type);
            shared
                .plan
                .enums
                .contains_key(&base)
                .then(|| (a.name.clone(), base))
        })
        .collect();
    Field::new(def.name.clone(), type_ref(&def.field_type), move |ctx| {
        let shared = shared.clone();
        let coordinate = coordinate.clone();
        let ty = ty.clone();
        let enum_args = enum_args.clone();
        FieldFuture::new(async move {
            let Some(call) = shared.plan.calls.get(&coordinate) else {
                return Err(async_graphql::Error::new(format!(
                    "`{coordinate}` has no planned call"
                )));
            };
            let mut args = arguments_json(&ctx);
            for (name, value) in args.iter_mut() {
                if let Some(e) = enum_args.get(name) {
                    *value = match &*value {
                        Value::Array(items) => Value::Array(
                            items
                                .iter()
                                .map(|i| shared.parameter_value(i, Some(e)))
                                .collect(),
                        ),
                        other => shared.parameter_value(other, Some(e)),
                    };
                }
            }
            let forwarded = ctx.data_opt::<Forwarded>().cloned().unwrap_or_default();
            let body = match shared.call(call, &args, &forwarded).await {
                Ok(body) => body,
                Err(CallError::NotFound(m)) if !matches!(ty, ast::Type::NonNullType(_)) => {
                    return Err(async_graphql::Error::new(m));
                }
                Err(e) => return Err(async_graphql::Error::new(e.to_string())),
            };
            shared
                .produce(&ty, body, &coordinate)
                .map_err(async_graphql::Error::new)
        })
    })
}

fn base_name(ty: &ast::Type<'static, String>) -> String {
    match ty {
        ast::Type::NamedType(n) => n.clone(),
        ast::Type::ListType(t) | ast::Type::NonNullType(t) => base_name(t),
    }
}

/// A property of a REST object.
fn property_field(shared: &Arc<Shared>, owner: &str, def: &ast::Field<'static, String>) -> Field {
    let shared = shared.clone();
    let coordinate = format!("{owner}.{}", def.name);
    let property = shared
        .plan
        .properties
        .get(&coordinate)
        .cloned()
        .unwrap_or_else(|| def.name.clone());
    let ty = def.field_type.clone();
    Field::new(def.name.clone(), type_ref(&def.field_type), move |ctx| {
        let shared = shared.clone();
        let coordinate = coordinate.clone();
        let property = property.clone();
        let ty = ty.clone();
        FieldFuture::new(async move {
            if let Some(Missing(why)) = ctx.parent_value.downcast_ref::<Missing>() {
                return Err(async_graphql::Error::new(why.clone()));
            }
            let parent = ctx.parent_value.try_downcast_ref::<Value>()?;
            if let Some(extension) = shared.plan.extensions.get(&coordinate) {
                // A field added to another domain's entity: called by its key.
                let key = parent.get(&extension.key).cloned().unwrap_or(Value::Null);
                if key.is_null() {
                    return Ok(None);
                }
                let mut args = BTreeMap::new();
                if let Some(argument) = extension
                    .call
                    .arguments
                    .iter()
                    .find(|a| a.parameter == extension.parameter)
                {
                    args.insert(argument.name.clone(), key);
                }
                let forwarded = ctx.data_opt::<Forwarded>().cloned().unwrap_or_default();
                let body = shared
                    .call(&extension.call, &args, &forwarded)
                    .await
                    .map_err(|e| async_graphql::Error::new(e.to_string()))?;
                return shared
                    .produce(&ty, body, &coordinate)
                    .map_err(async_graphql::Error::new);
            }
            if let Some(reference) = shared.plan.references.get(&coordinate) {
                let key = parent
                    .get(&reference.property)
                    .cloned()
                    .unwrap_or(Value::Null);
                if key.is_null() {
                    return Ok(None);
                }
                let mut stub = serde_json::Map::new();
                stub.insert(reference.key.clone(), key);
                return Ok(Some(FieldValue::owned_any(Value::Object(stub))));
            }
            let value = parent.get(&property).cloned().unwrap_or(Value::Null);
            shared
                .produce(&ty, value, &coordinate)
                .map_err(async_graphql::Error::new)
        })
    })
}
