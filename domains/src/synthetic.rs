//! A subgraph served from nothing but its SDL: every field answers a value
//! derived from where it sits, so any set of domain schemas can be run as
//! real federation subgraphs (async-graphql's dynamic schema over HTTP).
//! The composition corpus uses it to run the same queries through the
//! gateway over two supergraphs and compare the answers.
//!
//! Values are deterministic and agree across subgraphs: an object has a
//! *seed* (the path it was first reached by, e.g. `Query.products[1]`); a
//! text field answers `field@seed` (with its arguments, if any), a number a
//! hash of that. An entity's seed is read back from the first text field of
//! a representation, so a field answers the same whichever subgraph
//! resolves it. The server is strict where a planner can be wrong: a field
//! with `@requires` refuses when the representation lacks a required field.
//!
//! ```
//! let router = domains::synthetic::router(
//!     "type Query { hello: String }",
//! ).unwrap();
//! # drop(router);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface, InterfaceField,
    Object, ResolverContext, Scalar, Schema, TypeRef, Union,
};
use async_graphql::{Name, Value};
use axum::routing::post;
use axum::{Json, Router};
use graphql_parser::schema::{self as ast, Definition, TypeDefinition, TypeExtension};

/// Why an SDL cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error("the schema does not parse: {0}")]
    Parse(String),
    #[error("the schema cannot be served: {0}")]
    Schema(String),
}

/// A router answering GraphQL at `/graphql` for the subgraph `sdl`.
/// `_service { sdl }` answers `sdl` itself, as a subgraph states its own
/// schema, so the catalog can pull it.
pub fn router(sdl: &str) -> Result<Router, SyntheticError> {
    let schema = schema(sdl)?;
    let own = Arc::new(sdl.to_string());
    let answer = move |Json(request): Json<async_graphql::Request>| {
        let schema = schema.clone();
        let own = own.clone();
        async move {
            let asks_for_sdl =
                request.query.contains("_service") && !request.query.contains("_entities");
            if asks_for_sdl {
                return Json(serde_json::json!({ "data": { "_service": { "sdl": *own } } }));
            }
            let response = schema.execute(request).await;
            Json(serde_json::to_value(&response).unwrap_or_else(|e| {
                serde_json::json!({ "errors": [{ "message": format!("answer not serializable: {e}") }] })
            }))
        }
    };
    Ok(Router::new().route("/graphql", post(answer)))
}

/// Where a value sits, the data a representation brought for it, and
/// which of its `@external` fields a `@provides` above it lets this
/// subgraph answer.
struct Node {
    seed: String,
    data: Value,
    provided: Option<Arc<FieldSet>>,
}

/// A parsed field set (`a b { c }`): each field with its sub-selection;
/// inline fragments are merged into their level.
#[derive(Clone, Debug, Default)]
struct FieldSet(BTreeMap<String, FieldSet>);

impl FieldSet {
    fn parse(text: &str) -> FieldSet {
        // Arguments (`price(currency: "EUR")`) are not field names.
        let mut bare = String::with_capacity(text.len());
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ if depth == 0 => bare.push(c),
                _ => {}
            }
        }
        let spaced = bare
            .replace('{', " { ")
            .replace('}', " } ")
            .replace("...", " ... ");
        let mut tokens = spaced.split_whitespace().peekable();
        Self::level(&mut tokens)
    }

    fn level<'t>(tokens: &mut std::iter::Peekable<impl Iterator<Item = &'t str>>) -> FieldSet {
        let mut set = FieldSet::default();
        let mut last: Option<String> = None;
        while let Some(token) = tokens.next() {
            match token {
                "}" => break,
                "{" => {
                    let inner = Self::level(tokens);
                    match &last {
                        Some(name) => {
                            set.0.entry(name.clone()).or_default().merge(inner);
                        }
                        None => set.merge(inner),
                    }
                }
                "..." => {
                    // `... on Type {`: the type name is not a field.
                    if tokens.peek() == Some(&"on") {
                        tokens.next();
                        tokens.next();
                    }
                    last = None;
                }
                name => {
                    set.0.entry(name.to_string()).or_default();
                    last = Some(name.to_string());
                }
            }
        }
        set
    }

    fn merge(&mut self, other: FieldSet) {
        for (name, sub) in other.0 {
            self.0.entry(name).or_default().merge(sub);
        }
    }
}

/// What a named type is, as far as answering goes.
#[derive(Clone, Debug)]
enum Kind {
    Leaf(String),
    Enum(Vec<String>),
    Object,
    /// An interface or union: the object types that can stand for it.
    Abstract(Vec<String>),
}

type Types = Arc<BTreeMap<String, Kind>>;

/// Object-like definitions, extensions merged in.
#[derive(Default)]
struct Composite {
    interface: bool,
    fields: Vec<ast::Field<'static, String>>,
    implements: Vec<String>,
    directives: Vec<ast::Directive<'static, String>>,
}

fn is_federation(name: &str, directive: &str) -> bool {
    name == directive || name == format!("federation__{directive}")
}

fn string_argument(d: &ast::Directive<'static, String>, name: &str) -> Option<String> {
    d.arguments.iter().find_map(|(a, v)| match v {
        ast::Value::String(s) if a == name => Some(s.clone()),
        _ => None,
    })
}

/// The top-level field names of a field set (`a b { c }` → a, b).
fn top_level_fields(set: &str) -> Vec<String> {
    FieldSet::parse(set).0.into_keys().collect()
}

fn type_ref(ty: &ast::Type<'static, String>) -> TypeRef {
    match ty {
        ast::Type::NamedType(n) => TypeRef::Named(n.clone().into()),
        ast::Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        ast::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

fn value(v: &ast::Value<'static, String>) -> Value {
    match v {
        ast::Value::Variable(_) | ast::Value::Null => Value::Null,
        ast::Value::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        ast::Value::Float(f) => Value::from(*f),
        ast::Value::String(s) => Value::from(s.clone()),
        ast::Value::Boolean(b) => Value::from(*b),
        ast::Value::Enum(e) => Value::Enum(Name::new(e)),
        ast::Value::List(items) => Value::List(items.iter().map(value).collect()),
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (Name::new(k), value(v)))
                .collect(),
        ),
    }
}

fn input_value(v: &ast::InputValue<'static, String>) -> InputValue {
    let mut input = InputValue::new(v.name.clone(), type_ref(&v.value_type));
    if let Some(default) = &v.default_value {
        input = input.default_value(value(default));
    }
    input
}

/// FNV-1a: stable across runs and platforms.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn arguments_text(ctx: &ResolverContext<'_>) -> String {
    let map = ctx.args.as_index_map();
    if map.is_empty() {
        return String::new();
    }
    let mut args: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    args.sort();
    format!("({})", args.join(", "))
}

/// The seed of the entity a representation stands for.
fn seed_of(representation: &Value) -> String {
    if let Value::Object(map) = representation {
        for (name, v) in map {
            if name.as_str() == "__typename" {
                continue;
            }
            if let Value::String(s) = v {
                if let Some((_, seed)) = s.split_once('@') {
                    return seed.to_string();
                }
            }
        }
    }
    representation.to_string()
}

fn leaf(kind: &Kind, label: &str) -> Value {
    match kind {
        Kind::Leaf(scalar) => match scalar.as_str() {
            "Int" => Value::from((hash(label) % 1000) as i64),
            "Float" => Value::from((hash(label) % 1000) as f64 / 4.0),
            "Boolean" => Value::from(hash(label).is_multiple_of(2)),
            _ => Value::from(label.to_string()),
        },
        Kind::Enum(values) => values
            .first()
            .map(|v| Value::Enum(Name::new(v)))
            .unwrap_or(Value::Null),
        Kind::Object | Kind::Abstract(_) => Value::Null,
    }
}

/// The concrete object type a value of `named` at `seed` is.
fn concrete(types: &Types, named: &str, seed: &str, data: &Value) -> String {
    if let Value::Object(map) = data {
        if let Some(Value::String(t)) = map.get("__typename") {
            if matches!(types.get(t.as_str()), Some(Kind::Object)) {
                return t.clone();
            }
        }
    }
    match types.get(named) {
        Some(Kind::Abstract(options)) if !options.is_empty() => {
            options[(hash(seed) % options.len() as u64) as usize].clone()
        }
        _ => named.to_string(),
    }
}

/// The answer for a value of type `ty`: from `data` when a representation
/// brought it, else made up from `seed` (objects) or `label` (leaves).
fn produce(
    types: &Types,
    ty: &ast::Type<'static, String>,
    seed: &str,
    label: &str,
    data: Option<&Value>,
    provided: &Option<Arc<FieldSet>>,
) -> Option<FieldValue<'static>> {
    match ty {
        ast::Type::NonNullType(inner) => produce(types, inner, seed, label, data, provided),
        ast::Type::ListType(inner) => {
            let items: Vec<FieldValue<'static>> = match data {
                Some(Value::List(values)) => values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        produce(
                            types,
                            inner,
                            &format!("{seed}[{i}]"),
                            &format!("{label}#{i}"),
                            Some(v),
                            provided,
                        )
                    })
                    .collect(),
                _ => (0..2)
                    .filter_map(|i| {
                        produce(
                            types,
                            inner,
                            &format!("{seed}[{i}]"),
                            &format!("{label}#{i}"),
                            None,
                            provided,
                        )
                    })
                    .collect(),
            };
            Some(FieldValue::list(items))
        }
        ast::Type::NamedType(named) => {
            let kind = types.get(named)?;
            match kind {
                Kind::Object | Kind::Abstract(_) => {
                    let data = data.cloned().unwrap_or(Value::Null);
                    let ty = concrete(types, named, seed, &data);
                    let node = FieldValue::owned_any(Node {
                        seed: seed.to_string(),
                        data,
                        provided: provided.clone(),
                    });
                    // Only abstract positions take (and unwrap) a type.
                    Some(if matches!(kind, Kind::Abstract(_)) {
                        node.with_type(ty)
                    } else {
                        node
                    })
                }
                _ => Some(FieldValue::value(match data {
                    Some(v) if *v != Value::Null => v.clone(),
                    _ => leaf(kind, label),
                })),
            }
        }
    }
}

/// How a field of this subgraph may be answered.
struct FieldRules {
    /// `@requires`: top-level fields the representation must bring.
    requires: Vec<String>,
    /// `@external` here and not part of the type's key: answered only
    /// from a representation or under a `@provides` naming it.
    external: bool,
    /// `@provides` on the field: what its value's `@external` fields may answer.
    provides: Option<FieldSet>,
}

/// The resolver of `owner.field`.
fn field(
    types: &Types,
    owner: &str,
    def: &ast::Field<'static, String>,
    rules: FieldRules,
) -> Field {
    let types = types.clone();
    let owner = owner.to_string();
    let name = def.name.clone();
    let ty = def.field_type.clone();
    let rules = Arc::new(rules);
    let mut field = Field::new(def.name.clone(), type_ref(&def.field_type), move |ctx| {
        let types = types.clone();
        let owner = owner.clone();
        let name = name.clone();
        let ty = ty.clone();
        let rules = rules.clone();
        FieldFuture::new(async move {
            let root = Node {
                seed: owner.clone(),
                data: Value::Null,
                provided: None,
            };
            let parent = ctx.parent_value.downcast_ref::<Node>().unwrap_or(&root);
            let given = match &parent.data {
                Value::Object(map) => map.get(name.as_str()),
                _ => None,
            };
            for required in &rules.requires {
                let present = matches!(&parent.data, Value::Object(map) if map.contains_key(required.as_str()));
                if !present {
                    return Err(async_graphql::Error::new(format!(
                        "{owner}.{name} @requires `{required}`, which the representation lacks"
                    )));
                }
            }
            let from_above = parent.provided.as_ref().and_then(|p| p.0.get(&name));
            if rules.external && given.is_none() && from_above.is_none() {
                return Err(async_graphql::Error::new(format!(
                    "{owner}.{name} is @external in this subgraph and nothing provides it here"
                )));
            }
            let provided = match (from_above, &rules.provides) {
                (None, None) => None,
                (above, own) => {
                    let mut set = above.cloned().unwrap_or_default();
                    if let Some(own) = own {
                        set.merge(own.clone());
                    }
                    Some(Arc::new(set))
                }
            };
            let args = arguments_text(&ctx);
            let seed = format!("{}.{name}{args}", parent.seed);
            let label = format!("{name}{args}@{}", parent.seed);
            Ok(produce(&types, &ty, &seed, &label, given, &provided))
        })
    });
    for argument in &def.arguments {
        field = field.argument(input_value(argument));
    }
    field
}

/// `sdl` with its `extend schema …` definitions blanked out (positions
/// kept), which `graphql-parser` does not read; the root operation types
/// they name are not needed here.
fn without_schema_extensions(sdl: &str) -> Result<String, SyntheticError> {
    use cynic_parser::type_system::Definition as CDef;
    let doc = cynic_parser::parse_type_system_document(sdl)
        .map_err(|e| SyntheticError::Parse(e.to_string()))?;
    let mut bytes = sdl.as_bytes().to_vec();
    for def in doc.definitions() {
        if let CDef::SchemaExtension(schema) = def {
            let span = schema.span();
            // The span starts at `schema`; the `extend` before it goes too.
            let before = sdl.get(..span.start).unwrap_or_default().trim_end();
            let start = before.strip_suffix("extend").map_or(span.start, str::len);
            for b in bytes.get_mut(start..span.end).into_iter().flatten() {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
    }
    String::from_utf8(bytes).map_err(|e| SyntheticError::Parse(e.to_string()))
}

/// The dynamic schema serving `sdl`.
pub fn schema(sdl: &str) -> Result<Schema, SyntheticError> {
    let sdl = without_schema_extensions(sdl)?;
    let doc = graphql_parser::parse_schema::<String>(&sdl)
        .map_err(|e| SyntheticError::Parse(e.to_string()))?
        .into_static();
    let mut composites: BTreeMap<String, Composite> = BTreeMap::new();
    let mut unions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut enums: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    let mut inputs: BTreeMap<String, Vec<ast::InputValue<'static, String>>> = BTreeMap::new();
    let mut scalars: BTreeSet<String> = BTreeSet::new();
    let mut roots = (
        "Query".to_string(),
        Some("Mutation".to_string()),
        Some("Subscription".to_string()),
    );
    let internal = |name: &str| {
        name.starts_with('_')
            || name.starts_with("link__")
            || name.starts_with("federation__")
            || name == "FieldSet"
    };
    let inaccessible = |ds: &[ast::Directive<'static, String>]| {
        ds.iter().any(|d| is_federation(&d.name, "inaccessible"))
    };
    for definition in &doc.definitions {
        let (name, kind_fields): (String, _) = match definition {
            Definition::SchemaDefinition(s) => {
                if let Some(q) = &s.query {
                    roots.0 = q.clone();
                }
                roots.1 = s.mutation.clone().or(roots.1);
                roots.2 = s.subscription.clone().or(roots.2);
                continue;
            }
            Definition::TypeDefinition(TypeDefinition::Object(o)) => (
                o.name.clone(),
                (false, &o.fields, &o.implements_interfaces, &o.directives),
            ),
            Definition::TypeExtension(TypeExtension::Object(o)) => (
                o.name.clone(),
                (false, &o.fields, &o.implements_interfaces, &o.directives),
            ),
            Definition::TypeDefinition(TypeDefinition::Interface(i)) => (
                i.name.clone(),
                (true, &i.fields, &i.implements_interfaces, &i.directives),
            ),
            Definition::TypeExtension(TypeExtension::Interface(i)) => (
                i.name.clone(),
                (true, &i.fields, &i.implements_interfaces, &i.directives),
            ),
            Definition::TypeDefinition(TypeDefinition::Union(u)) => {
                unions
                    .entry(u.name.clone())
                    .or_default()
                    .extend(u.types.iter().cloned());
                continue;
            }
            Definition::TypeExtension(TypeExtension::Union(u)) => {
                unions
                    .entry(u.name.clone())
                    .or_default()
                    .extend(u.types.iter().cloned());
                continue;
            }
            Definition::TypeDefinition(TypeDefinition::Enum(e)) => {
                enums.entry(e.name.clone()).or_default().extend(
                    e.values
                        .iter()
                        .map(|v| (v.name.clone(), inaccessible(&v.directives))),
                );
                continue;
            }
            Definition::TypeExtension(TypeExtension::Enum(e)) => {
                enums.entry(e.name.clone()).or_default().extend(
                    e.values
                        .iter()
                        .map(|v| (v.name.clone(), inaccessible(&v.directives))),
                );
                continue;
            }
            Definition::TypeDefinition(TypeDefinition::InputObject(i)) => {
                inputs
                    .entry(i.name.clone())
                    .or_default()
                    .extend(i.fields.iter().cloned());
                continue;
            }
            Definition::TypeExtension(TypeExtension::InputObject(i)) => {
                inputs
                    .entry(i.name.clone())
                    .or_default()
                    .extend(i.fields.iter().cloned());
                continue;
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(s)) => {
                if !internal(&s.name) {
                    scalars.insert(s.name.clone());
                }
                continue;
            }
            _ => continue,
        };
        if internal(&name) {
            continue;
        }
        let (interface, fields, implements, directives) = kind_fields;
        let entry = composites.entry(name).or_default();
        entry.interface |= interface;
        entry.fields.extend(
            fields
                .iter()
                .filter(|f| {
                    !f.name.starts_with("__") && f.name != "_entities" && f.name != "_service"
                })
                .cloned(),
        );
        entry.implements.extend(implements.iter().cloned());
        entry.directives.extend(directives.iter().cloned());
    }
    if !composites.contains_key(&roots.0) {
        composites.insert(roots.0.clone(), Composite::default());
    }

    // What stands for an interface: its implementations, transitively.
    let mut implementors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, c) in &composites {
        if c.interface {
            continue;
        }
        let mut pending = c.implements.clone();
        let mut seen = BTreeSet::new();
        while let Some(interface) = pending.pop() {
            if !seen.insert(interface.clone()) {
                continue;
            }
            implementors
                .entry(interface.clone())
                .or_default()
                .insert(name.clone());
            if let Some(parent) = composites.get(&interface) {
                pending.extend(parent.implements.iter().cloned());
            }
        }
    }
    let mut kinds: BTreeMap<String, Kind> = ["Int", "Float", "String", "Boolean", "ID"]
        .into_iter()
        .map(|s| (s.to_string(), Kind::Leaf(s.to_string())))
        .collect();
    kinds.extend(scalars.iter().map(|s| (s.clone(), Kind::Leaf(s.clone()))));
    for (name, values) in &enums {
        let open: Vec<String> = values
            .iter()
            .filter(|(_, hidden)| !hidden)
            .map(|(v, _)| v.clone())
            .collect();
        kinds.insert(name.clone(), Kind::Enum(open));
    }
    for (name, c) in &composites {
        let kind = if c.interface {
            Kind::Abstract(
                implementors
                    .get(name)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
            )
        } else {
            Kind::Object
        };
        kinds.insert(name.clone(), kind);
    }
    for (name, members) in &unions {
        kinds.insert(
            name.clone(),
            Kind::Abstract(members.iter().cloned().collect()),
        );
    }
    let types: Types = Arc::new(kinds);

    let has_root = |root: &Option<String>| {
        root.as_ref()
            .filter(|r| {
                composites
                    .get(r.as_str())
                    .is_some_and(|c| !c.fields.is_empty())
            })
            .cloned()
    };
    let mutation = has_root(&roots.1);
    let mut builder = Schema::build(&roots.0, mutation.as_deref(), None).enable_federation();
    for (name, c) in &composites {
        if roots.2.as_deref() == Some(name.as_str()) {
            continue;
        }
        let keys: Vec<String> = c
            .directives
            .iter()
            .filter(|d| is_federation(&d.name, "key"))
            .filter_map(|d| string_argument(d, "fields"))
            .collect();
        if c.interface {
            let mut interface = Interface::new(name.clone());
            for f in &c.fields {
                let mut field = InterfaceField::new(f.name.clone(), type_ref(&f.field_type));
                for argument in &f.arguments {
                    field = field.argument(input_value(argument));
                }
                interface = interface.field(field);
            }
            for parent in &c.implements {
                interface = interface.implement(parent.clone());
            }
            // Interface keys stay out: async-graphql's `_Entity` takes
            // objects only, and the implementations carry their keys.
            let _ = keys;
            builder = builder.register(interface);
        } else {
            let mut object = Object::new(name.clone());
            let key_fields: BTreeSet<String> =
                keys.iter().flat_map(|k| top_level_fields(k)).collect();
            let all_external = c
                .directives
                .iter()
                .any(|d| is_federation(&d.name, "external"));
            for f in &c.fields {
                let has = |directive: &str| {
                    f.directives
                        .iter()
                        .any(|d| is_federation(&d.name, directive))
                };
                let rules = FieldRules {
                    requires: f
                        .directives
                        .iter()
                        .filter(|d| is_federation(&d.name, "requires"))
                        .filter_map(|d| string_argument(d, "fields"))
                        .flat_map(|s| top_level_fields(&s))
                        .collect(),
                    external: (has("external") || all_external) && !key_fields.contains(&f.name),
                    provides: f
                        .directives
                        .iter()
                        .filter(|d| is_federation(&d.name, "provides"))
                        .filter_map(|d| string_argument(d, "fields"))
                        .map(|s| FieldSet::parse(&s))
                        .reduce(|mut a, b| {
                            a.merge(b);
                            a
                        }),
                };
                object = object.field(field(&types, name, f, rules));
            }
            for interface in &c.implements {
                object = object.implement(interface.clone());
            }
            for key in keys {
                object = object.key(key);
            }
            builder = builder.register(object);
        }
    }
    for (name, members) in &unions {
        let mut union = Union::new(name.clone());
        for member in members {
            union = union.possible_type(member.clone());
        }
        builder = builder.register(union);
    }
    for (name, values) in &enums {
        builder =
            builder.register(Enum::new(name.clone()).items(values.iter().map(|(v, _)| v.clone())));
    }
    for (name, fields) in &inputs {
        let mut input = InputObject::new(name.clone());
        for f in fields {
            input = input.field(input_value(f));
        }
        builder = builder.register(input);
    }
    for name in &scalars {
        builder = builder.register(Scalar::new(name.clone()));
    }
    let entity_types = types.clone();
    builder = builder.entity_resolver(move |ctx| {
        let types = entity_types.clone();
        FieldFuture::new(async move {
            let representations = ctx.args.try_get("representations")?.list()?;
            let mut answers = Vec::new();
            for item in representations.iter() {
                let data = item.as_value().clone();
                let typename = match &data {
                    Value::Object(map) => match map.get("__typename") {
                        Some(Value::String(t)) => t.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                let seed = seed_of(&data);
                match types.get(&typename) {
                    Some(Kind::Object) | Some(Kind::Abstract(_)) => {
                        let ty = concrete(&types, &typename, &seed, &Value::Null);
                        answers.push(
                            FieldValue::owned_any(Node {
                                seed,
                                data,
                                provided: None,
                            })
                            .with_type(ty),
                        );
                    }
                    // As a federation subgraph answers a type it does not
                    // have: an error, not a silent null.
                    _ => {
                        return Err(async_graphql::Error::new(format!(
                            "`{typename}` is not an entity type of this subgraph"
                        )))
                    }
                }
            }
            Ok(Some(FieldValue::list(answers)))
        })
    });
    builder
        .finish()
        .map_err(|e| SyntheticError::Schema(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_follow_the_path_and_entities_keep_their_seed() {
        let schema = schema(
            r#"
            extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
            type Query { products: [Product!]! }
            type Product @key(fields: "id") { id: ID! name(lang: String = "en"): String weight: Int @external cost: Int @requires(fields: "weight") }
            "#,
        )
        .expect("schema");
        let answer = schema
            .execute("{ products { id name } }")
            .await
            .into_result()
            .expect("answer")
            .data
            .into_json()
            .expect("json");
        assert_eq!(answer["products"][1]["id"], "id@Query.products[1]");
        assert_eq!(
            answer["products"][1]["name"],
            "name(lang: \"en\")@Query.products[1]"
        );
        let entity = schema
            .execute(
                r#"{ _entities(representations: [{__typename: "Product", id: "id@Query.products[1]"}]) { ... on Product { name } } }"#,
            )
            .await
            .into_result()
            .expect("entities")
            .data
            .into_json()
            .expect("json");
        assert_eq!(
            entity["_entities"][0]["name"],
            "name(lang: \"en\")@Query.products[1]"
        );
        let refused = schema
            .execute(
                r#"{ _entities(representations: [{__typename: "Product", id: "id@x"}]) { ... on Product { cost } } }"#,
            )
            .await;
        assert!(
            !refused.errors.is_empty(),
            "a @requires field without its requirement answers"
        );
        let external = schema
            .execute(
                r#"{ _entities(representations: [{__typename: "Product", id: "id@x"}]) { ... on Product { weight } } }"#,
            )
            .await;
        assert!(
            !external.errors.is_empty(),
            "an @external field answers unprovided"
        );
    }
}
