//! Derives an Apollo Federation 2 subgraph from a REST domain's OpenAPI
//! document: the SDL the catalog composes, and a [`Plan`] saying which HTTP
//! call answers each field. A pure function; the parsing is the `oas3`
//! crate's (OpenAPI 3.1; a 3.0 document is first brought to 3.1's shape:
//! `nullable: true` becomes a `"null"` type, boolean `exclusiveMinimum`s
//! are dropped).
//!
//! Mapping, in short: each GET operation is a `Query` field (named from its
//! `operationId`, camelCased, else method and path); other methods are
//! `Mutation` fields only when the domain opts in. Path, query and header
//! parameters are arguments, required when the document says so. `format:
//! date`/`date-time` are `Date`/`DateTime`; an integer that may not fit 32
//! bits (no `int32` format, no bounds within it) is `Long`, never
//! truncated; maps and untyped values are `JSON`. Component schemas are
//! object types of the same (PascalCased) name, inline ones get stable
//! derived names; `allOf` is merged; `oneOf`/`anyOf` of objects is a union
//! when its members can be told apart (a discriminator, or required
//! properties only one member has), else `JSON`. Enum values that are not
//! GraphQL names are renamed, the plan keeps the original. Every such
//! choice is a warning.
//!
//! ```
//! let document = r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
//!   "paths": {"/shipments/{id}": {"get": {"operationId": "getShipment",
//!     "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
//!     "responses": {"200": {"description": "one", "content": {"application/json":
//!       {"schema": {"$ref": "#/components/schemas/Shipment"}}}}}}}},
//!   "components": {"schemas": {"Shipment": {"type": "object", "required": ["id"],
//!     "properties": {"id": {"type": "string"}, "shippedOn": {"type": "string", "format": "date"}}}}}}"##;
//! let derived = openapi::derive(document, &openapi::Settings::default()).unwrap();
//! assert!(derived.sdl.contains("getShipment(id: String!): Shipment"));
//! assert!(derived.sdl.contains("shippedOn: Date"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use oas3::spec::{
    ObjectOrReference, ObjectSchema, Schema, SchemaType as Type, SchemaTypeSet as TypeSet, Spec,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod names;
pub mod serve;

use names::{camel, pascal, valid_name};

/// Why a document does not derive.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeriveError {
    #[error("the document is neither JSON nor YAML: {0}")]
    Unreadable(String),
    #[error("Swagger 2.0 documents are not supported; convert it to OpenAPI 3 (for example with swagger2openapi)")]
    Swagger2,
    #[error("`openapi: {0}` is not a supported version (3.0.x or 3.1.x)")]
    Version(String),
    #[error("the document is not valid OpenAPI 3.1: {0}")]
    Invalid(String),
    #[error("`{0}` points to nothing in this document")]
    DanglingRef(String),
    #[error("`{0}` refers outside this document; only `#/components/...` references are followed")]
    ExternalRef(String),
    #[error("no GET operation answers JSON, and a subgraph needs at least one Query field")]
    Empty,
    #[error("entity `{type_name}`: {problem}")]
    Entity { type_name: String, problem: String },
}

/// How a domain's registration shapes its subgraph.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// POST/PUT/PATCH/DELETE become `Mutation` fields.
    #[serde(default)]
    pub rest_mutations: bool,
    /// Entities declared by the registration (added to `x-meshwork-key`).
    #[serde(default)]
    pub entities: Vec<EntitySetting>,
    /// Fields this domain adds to other domains' entities (besides
    /// `x-meshwork-extends` on an operation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extends: Vec<ExtensionSetting>,
}

/// `{type: Customer, key: id, field: invoices, get: customerInvoices}`:
/// another domain's entity `Customer` (keyed by `id`) gains the field
/// `invoices`, answered by this domain's operation `customerInvoices`
/// called with the key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExtensionSetting {
    #[serde(rename = "type")]
    pub type_name: String,
    pub key: String,
    pub field: String,
    pub get: String,
}

/// `{type: Product, key: id, get: getProduct}`: `Product` is an entity
/// keyed by `id`, fetched by the operation `getProduct`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EntitySetting {
    #[serde(rename = "type")]
    pub type_name: String,
    pub key: String,
    pub get: String,
    /// An operation fetching many by their keys at once (e.g. `GET
    /// /products?ids=1,2,3`), used instead of one `get` per entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// Where a parameter goes in the HTTP request.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum In {
    Path,
    Query,
    Header,
}

/// One argument of a field and the parameter it fills.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Argument {
    pub name: String,
    pub parameter: String,
    #[serde(rename = "in")]
    pub location: In,
    /// A list sent as one comma-separated value (`style: form, explode:
    /// false` in a query; path and header lists always are).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub comma: bool,
}

/// The HTTP call that answers a field.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    /// The path template, e.g. `/shipments/{id}`.
    pub path: String,
    pub arguments: Vec<Argument>,
    /// The argument carrying the JSON request body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// How an entity is fetched by its key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntityCall {
    /// The key field (a property of the type).
    pub key: String,
    /// The path or query parameter the key fills.
    pub parameter: String,
    pub call: Call,
    /// Many fetched at once, when the domain declares how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchCall>,
}

/// How many entities are fetched by their keys in one call.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BatchCall {
    /// The argument carrying the keys.
    pub argument: String,
    /// Whether that argument is a list (else the keys go comma-separated
    /// in one text).
    pub list: bool,
    pub call: Call,
}

/// A field added to another domain's entity, answered by calling an
/// operation with the entity's key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Extension {
    pub key: String,
    /// The parameter the key fills.
    pub parameter: String,
    pub call: Call,
}

/// How to tell a union's member from a value.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum UnionRule {
    /// A property whose value names the member.
    Discriminator {
        property: String,
        mapping: BTreeMap<String, String>,
    },
    /// Each member with the properties only it requires.
    RequiredProperties(BTreeMap<String, Vec<String>>),
}

/// Which call answers each field, and how values map back.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Plan {
    /// `Query.field` / `Mutation.field` → its call.
    pub calls: BTreeMap<String, Call>,
    /// Entity type → how to fetch one.
    pub entities: BTreeMap<String, EntityCall>,
    /// Enum type → GraphQL value → the document's value.
    pub enums: BTreeMap<String, BTreeMap<String, Value>>,
    /// `Type.field` → the property it reads, where the name changed.
    pub properties: BTreeMap<String, String>,
    /// Union → how to tell its members.
    pub unions: BTreeMap<String, UnionRule>,
    /// `Type.field` → a reference to another domain's entity, made from a
    /// property (`x-meshwork-reference`).
    #[serde(default)]
    pub references: BTreeMap<String, Reference>,
    /// `Type.field` → how a field added to another domain's entity is
    /// answered (`x-meshwork-extends`, `extends:`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Extension>,
}

/// A field pointing to another domain's entity by its key, made from a
/// property holding that key: `orderId` with `x-meshwork-reference:
/// {type: Order, key: id, field: order}` adds `order: Order`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reference {
    /// The property holding the key.
    pub property: String,
    /// The entity's key field.
    pub key: String,
}

/// A derived subgraph.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Derived {
    pub sdl: String,
    pub plan: Plan,
    /// Every choice the mapping had to make.
    pub warnings: Vec<String>,
}

/// Reads JSON or YAML into a value.
fn read(text: &str) -> Result<Value, DeriveError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| DeriveError::Unreadable(e.to_string()))
    } else {
        serde_norway::from_str(text).map_err(|e| DeriveError::Unreadable(e.to_string()))
    }
}

/// Brings a 3.0 document to 3.1's shape for the parser.
fn to_3_1(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), serde_json::json!([t, "null"]));
                    }
                    None if !map.contains_key("$ref") => {}
                    _ => {}
                }
            } else if map.get("nullable").is_some() {
                map.remove("nullable");
            }
            for bound in ["exclusiveMinimum", "exclusiveMaximum"] {
                if matches!(map.get(bound), Some(Value::Bool(_))) {
                    map.remove(bound);
                }
            }
            for v in map.values_mut() {
                to_3_1(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_3_1),
        _ => {}
    }
}

/// A GraphQL type reference being built.
#[derive(Clone, Debug)]
struct TypeRef {
    text: String,
}

impl TypeRef {
    fn named(name: &str, required: bool) -> Self {
        Self {
            text: if required {
                format!("{name}!")
            } else {
                name.to_string()
            },
        }
    }
    fn list(inner: TypeRef, required: bool) -> Self {
        Self {
            text: if required {
                format!("[{}]!", inner.text)
            } else {
                format!("[{}]", inner.text)
            },
        }
    }
}

/// An object's properties in order: name and schema.
type Properties = Vec<(String, ObjectOrReference<ObjectSchema>)>;

/// What is being built.
struct Builder<'s> {
    spec: &'s Spec,
    /// The document as JSON, for references into it by pointer.
    raw: &'s Value,
    /// Object types: name → fields (name, type text, original property).
    objects: BTreeMap<String, Vec<(String, String)>>,
    keys: BTreeMap<String, String>,
    /// Entities of other domains referenced here: type → key field.
    stubs: BTreeMap<String, String>,
    inputs: BTreeMap<String, Vec<(String, String)>>,
    unions: BTreeMap<String, Vec<String>>,
    enums: BTreeMap<String, Vec<String>>,
    scalars: BTreeSet<&'static str>,
    /// Schemas being built (for recursion): their type name.
    building: BTreeSet<String>,
    plan: Plan,
    warnings: Vec<String>,
    /// Component name → GraphQL type name.
    component_names: BTreeMap<String, String>,
    /// Entity type → its batch operation (`x-meshwork-batch`).
    batches: BTreeMap<String, String>,
}

/// A derived operation, for entity and extension declarations to name.
struct Operation {
    root: &'static str,
    call: Call,
    /// The field's type, as SDL text.
    result: String,
    /// Arguments that are lists.
    lists: BTreeSet<String>,
    /// Arguments every call must give.
    required: BTreeSet<String>,
}

fn types_of(schema: &ObjectSchema) -> (Vec<Type>, bool) {
    match &schema.schema_type {
        None => (Vec::new(), true),
        Some(TypeSet::Single(t)) => (vec![*t], *t == Type::Null),
        Some(TypeSet::Multiple(ts)) => (
            ts.iter().copied().filter(|t| *t != Type::Null).collect(),
            ts.contains(&Type::Null),
        ),
    }
}

const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);

fn fits_i32(schema: &ObjectSchema) -> bool {
    if schema.format.as_deref() == Some("int32") {
        return true;
    }
    let bound = |n: &Option<serde_json::Number>| n.as_ref().and_then(|n| n.as_i64());
    matches!(
        (bound(&schema.minimum), bound(&schema.maximum)),
        (Some(lo), Some(hi)) if lo >= I32.0 && hi <= I32.1
    )
}

impl<'s> Builder<'s> {
    fn component(&self, reference: &str) -> Result<(String, ObjectSchema), DeriveError> {
        let Some(name) = reference.strip_prefix("#/components/schemas/") else {
            let Some(pointer) = reference.strip_prefix('#') else {
                return Err(DeriveError::ExternalRef(reference.to_string()));
            };
            // Any other place in the document (`#/paths/...`), by JSON pointer.
            let target = self
                .raw
                .pointer(pointer)
                .ok_or_else(|| DeriveError::DanglingRef(reference.to_string()))?;
            let schema: ObjectSchema = serde_json::from_value(target.clone())
                .map_err(|e| DeriveError::Invalid(format!("`{reference}`: {e}")))?;
            let last = pointer.rsplit('/').next().unwrap_or("Schema");
            return Ok((format!("Ref{}", pascal(last)), schema));
        };
        let schema = self
            .spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(name))
            .ok_or_else(|| DeriveError::DanglingRef(reference.to_string()))?;
        match schema {
            ObjectOrReference::Object(s) => Ok((name.to_string(), s.clone())),
            ObjectOrReference::Ref { ref_path, .. } => self.component(ref_path),
        }
    }

    fn type_name_of_component(&mut self, component: &str) -> String {
        if let Some(n) = self.component_names.get(component) {
            return n.clone();
        }
        let mut name = pascal(component);
        let taken: BTreeSet<&String> = self.component_names.values().collect();
        let base = name.clone();
        let mut i = 2;
        while taken.contains(&name) {
            name = format!("{base}{i}");
            i += 1;
        }
        self.component_names
            .insert(component.to_string(), name.clone());
        name
    }

    fn resolve(
        &self,
        schema: &ObjectOrReference<ObjectSchema>,
    ) -> Result<(Option<String>, ObjectSchema), DeriveError> {
        match schema {
            ObjectOrReference::Object(s) => Ok((None, s.clone())),
            ObjectOrReference::Ref { ref_path, .. } => {
                let (name, s) = self.component(ref_path)?;
                Ok((Some(name), s))
            }
        }
    }

    /// Properties and required names of an object schema, `allOf` merged.
    fn properties(
        &self,
        schema: &ObjectSchema,
    ) -> Result<(Properties, BTreeSet<String>), DeriveError> {
        let mut props: Vec<(String, ObjectOrReference<ObjectSchema>)> = Vec::new();
        let mut required: BTreeSet<String> = schema.required.iter().cloned().collect();
        for part in &schema.all_of {
            let (_, part) = self.resolve(part)?;
            let (more, req) = self.properties(&part)?;
            for (name, p) in more {
                if !props.iter().any(|(n, _)| *n == name) {
                    props.push((name, p));
                }
            }
            required.extend(req);
        }
        for (name, p) in &schema.properties {
            props.retain(|(n, _)| n != name);
            props.push((name.clone(), p.clone()));
        }
        Ok((props, required))
    }

    /// The output type of `schema`, named `hint` when it needs a name.
    fn output(
        &mut self,
        schema: &ObjectOrReference<ObjectSchema>,
        hint: &str,
        required: bool,
    ) -> Result<TypeRef, DeriveError> {
        let (component, s) = self.resolve(schema)?;
        let name = match &component {
            Some(c) => self.type_name_of_component(c),
            None => pascal(hint),
        };
        let (types, nullable) = types_of(&s);
        let required = required && !nullable;
        if !s.one_of.is_empty() || !s.any_of.is_empty() {
            return self.union(&s, &name, required);
        }
        let is_object =
            types.contains(&Type::Object) || !s.properties.is_empty() || !s.all_of.is_empty();
        if types.contains(&Type::Array) {
            let item = match &s.items {
                Some(item) => match item.as_ref() {
                    Schema::Object(inner) => self.output(inner, &format!("{name}Item"), true)?,
                    Schema::Boolean(_) => self.json(&format!("{name} items"))?,
                },
                None => self.json(&format!("{name} items"))?,
            };
            return Ok(TypeRef::list(item, required));
        }
        if is_object {
            let (props, _) = self.properties(&s)?;
            if props.is_empty() {
                self.warnings.push(format!(
                    "`{name}` is an object without properties (a map); it is served as JSON"
                ));
                self.scalars.insert("JSON");
                return Ok(TypeRef::named("JSON", required));
            }
            self.object(&s, &name)?;
            return Ok(TypeRef::named(&name, required));
        }
        if !s.enum_values.is_empty() {
            self.enumeration(&s, &name)?;
            return Ok(TypeRef::named(&name, required));
        }
        Ok(TypeRef::named(self.scalar(&s, &types, &name), required))
    }

    fn json(&mut self, what: &str) -> Result<TypeRef, DeriveError> {
        self.warnings
            .push(format!("{what} have no schema; served as JSON"));
        self.scalars.insert("JSON");
        Ok(TypeRef::named("JSON", false))
    }

    fn scalar(&mut self, s: &ObjectSchema, types: &[Type], name: &str) -> &'static str {
        match types.first() {
            Some(Type::String) => match s.format.as_deref() {
                Some("date") => {
                    self.scalars.insert("Date");
                    "Date"
                }
                Some("date-time") => {
                    self.scalars.insert("DateTime");
                    "DateTime"
                }
                _ => "String",
            },
            Some(Type::Integer) if fits_i32(s) => "Int",
            Some(Type::Integer) => {
                self.scalars.insert("Long");
                "Long"
            }
            Some(Type::Number) => "Float",
            Some(Type::Boolean) => "Boolean",
            _ => {
                if types.len() > 1 {
                    self.warnings.push(format!(
                        "`{name}` may be several types; it is served as JSON"
                    ));
                }
                self.scalars.insert("JSON");
                "JSON"
            }
        }
    }

    fn object(&mut self, s: &ObjectSchema, name: &str) -> Result<(), DeriveError> {
        if self.objects.contains_key(name) || self.building.contains(name) {
            return Ok(());
        }
        self.building.insert(name.to_string());
        let (props, required) = self.properties(s)?;
        let mut fields = Vec::new();
        let mut used = BTreeSet::new();
        for (property, schema) in props {
            let mut field = camel(&property);
            if !valid_name(&field) || used.contains(&field) {
                field = format!("{field}_{}", used.len());
            }
            used.insert(field.clone());
            if field != property {
                self.plan
                    .properties
                    .insert(format!("{name}.{field}"), property.clone());
                self.warnings
                    .push(format!("`{name}.{property}` is served as `{field}`"));
            }
            let hint = format!("{name}{}", pascal(&property));
            let ty = self.output(&schema, &hint, required.contains(&property))?;
            fields.push((field, ty.text));
            if let Some(reference) = self.reference_of(&schema)? {
                let (target, key, link) = reference;
                if used.contains(&link) || !valid_name(&link) || !valid_name(&target) {
                    self.warnings.push(format!(
                        "`{name}.{property}`: the reference field `{link}` is not a free GraphQL name; left out"
                    ));
                } else {
                    used.insert(link.clone());
                    self.plan.references.insert(
                        format!("{name}.{link}"),
                        Reference {
                            property: property.clone(),
                            key: key.clone(),
                        },
                    );
                    self.stubs.insert(target.clone(), key);
                    fields.push((link, target));
                }
            }
        }
        if let Some(Value::String(key)) = s
            .extensions
            .get("meshwork-key")
            .or(s.extensions.get("x-meshwork-key"))
        {
            self.keys.insert(name.to_string(), key.clone());
        }
        if let Some(Value::String(batch)) = s.extensions.get("meshwork-batch") {
            self.batches.insert(name.to_string(), batch.clone());
        }
        self.building.remove(name);
        self.objects.insert(name.to_string(), fields);
        Ok(())
    }

    /// `x-meshwork-reference: {type, key, field}` on a property schema.
    fn reference_of(
        &self,
        schema: &ObjectOrReference<ObjectSchema>,
    ) -> Result<Option<(String, String, String)>, DeriveError> {
        let ObjectOrReference::Object(s) = schema else {
            return Ok(None);
        };
        let Some(reference) = s.extensions.get("meshwork-reference") else {
            return Ok(None);
        };
        let text = |k: &str| reference.get(k).and_then(Value::as_str).map(str::to_string);
        match (text("type"), text("key"), text("field")) {
            (Some(t), Some(k), Some(f)) => Ok(Some((t, k, f))),
            _ => Err(DeriveError::Entity {
                type_name: "x-meshwork-reference".into(),
                problem: format!("needs `type`, `key` and `field`, got {reference}"),
            }),
        }
    }

    fn enumeration(&mut self, s: &ObjectSchema, name: &str) -> Result<(), DeriveError> {
        if self.enums.contains_key(name) {
            return Ok(());
        }
        let mut values = Vec::new();
        let mut mapping = BTreeMap::new();
        for v in &s.enum_values {
            let original = match v {
                Value::String(t) => t.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            let mut value = if valid_name(&original)
                && !matches!(original.as_str(), "true" | "false" | "null")
            {
                original.clone()
            } else {
                names::enum_value(&original)
            };
            while mapping.contains_key(&value) {
                value.push('_');
            }
            if value != original || !v.is_string() {
                self.warnings
                    .push(format!("enum `{name}`: value {v} is served as `{value}`"));
            }
            mapping.insert(value.clone(), v.clone());
            values.push(value);
        }
        if values.is_empty() {
            values.push("EMPTY".into());
        }
        self.plan.enums.insert(name.to_string(), mapping);
        self.enums.insert(name.to_string(), values);
        Ok(())
    }

    fn union(
        &mut self,
        s: &ObjectSchema,
        name: &str,
        required: bool,
    ) -> Result<TypeRef, DeriveError> {
        let options = if s.one_of.is_empty() {
            &s.any_of
        } else {
            &s.one_of
        };
        let mut members = Vec::new();
        let mut required_sets = BTreeMap::new();
        for (i, option) in options.iter().enumerate() {
            let (component, o) = self.resolve(option)?;
            let (types, _) = types_of(&o);
            let is_object =
                types.contains(&Type::Object) || !o.properties.is_empty() || !o.all_of.is_empty();
            if !is_object {
                self.warnings.push(format!(
                    "`{name}` is a oneOf/anyOf with a member that is not an object; served as JSON"
                ));
                self.scalars.insert("JSON");
                return Ok(TypeRef::named("JSON", required));
            }
            let (props, req) = self.properties(&o)?;
            if props.is_empty() {
                self.warnings.push(format!(
                    "`{name}` is a oneOf/anyOf with a member that has no properties; served as JSON"
                ));
                self.scalars.insert("JSON");
                return Ok(TypeRef::named("JSON", required));
            }
            let member = match component {
                Some(c) => self.type_name_of_component(&c),
                None => format!("{name}Option{}", i + 1),
            };
            self.object(&o, &member)?;
            required_sets.insert(member.clone(), req);
            members.push(member);
        }
        let rule = if let Some(d) = &s.discriminator {
            let mapping = members
                .iter()
                .map(|m| {
                    let value = d
                        .mapping
                        .as_ref()
                        .and_then(|map| {
                            map.iter().find(|(_, target)| {
                                target.rsplit('/').next().map(pascal).as_deref() == Some(m.as_str())
                            })
                        })
                        .map(|(v, _)| v.clone())
                        .unwrap_or_else(|| m.clone());
                    (value, m.clone())
                })
                .collect();
            Some(UnionRule::Discriminator {
                property: d.property_name.clone(),
                mapping,
            })
        } else {
            let mut own = BTreeMap::new();
            for (member, req) in &required_sets {
                let others: BTreeSet<&String> = required_sets
                    .iter()
                    .filter(|(m, _)| *m != member)
                    .flat_map(|(_, r)| r.iter())
                    .collect();
                let only: Vec<String> = req
                    .iter()
                    .filter(|p| !others.contains(p))
                    .cloned()
                    .collect();
                if only.is_empty() {
                    own.clear();
                    break;
                }
                own.insert(member.clone(), only);
            }
            (!own.is_empty()).then_some(UnionRule::RequiredProperties(own))
        };
        match rule {
            Some(rule) => {
                self.plan.unions.insert(name.to_string(), rule);
                self.unions.insert(name.to_string(), members);
                Ok(TypeRef::named(name, required))
            }
            None => {
                self.warnings.push(format!(
                    "`{name}`: the members of this oneOf/anyOf cannot be told apart (no discriminator, no property only one requires); served as JSON"
                ));
                self.scalars.insert("JSON");
                Ok(TypeRef::named("JSON", required))
            }
        }
    }

    /// The input type of a parameter or body schema.
    fn input(
        &mut self,
        schema: &ObjectOrReference<ObjectSchema>,
        hint: &str,
        required: bool,
    ) -> Result<TypeRef, DeriveError> {
        let (component, s) = self.resolve(schema)?;
        let name = match &component {
            Some(c) => format!("{}Input", self.type_name_of_component(c)),
            None => format!("{}Input", pascal(hint)),
        };
        let (types, nullable) = types_of(&s);
        let required = required && !nullable;
        if types.contains(&Type::Array) {
            let item = match s.items.as_deref() {
                Some(Schema::Object(inner)) => self.input(inner, &format!("{hint}Item"), true)?,
                _ => TypeRef::named("JSON", false),
            };
            return Ok(TypeRef::list(item, required));
        }
        let is_object =
            types.contains(&Type::Object) || !s.properties.is_empty() || !s.all_of.is_empty();
        if is_object {
            let (props, req) = self.properties(&s)?;
            if props.is_empty() || !s.one_of.is_empty() || !s.any_of.is_empty() {
                self.scalars.insert("JSON");
                return Ok(TypeRef::named("JSON", required));
            }
            if !self.inputs.contains_key(&name) && !self.building.contains(&name) {
                self.building.insert(name.clone());
                let mut fields = Vec::new();
                for (property, p) in props {
                    let field = camel(&property);
                    let ty = self.input(
                        &p,
                        &format!("{hint}{}", pascal(&property)),
                        req.contains(&property),
                    )?;
                    fields.push((field, ty.text));
                }
                self.building.remove(&name);
                self.inputs.insert(name.clone(), fields);
            }
            return Ok(TypeRef::named(&name, required));
        }
        if !s.enum_values.is_empty() {
            let enum_name = match &component {
                Some(c) => self.type_name_of_component(c),
                None => pascal(hint),
            };
            self.enumeration(&s, &enum_name)?;
            return Ok(TypeRef::named(&enum_name, required));
        }
        Ok(TypeRef::named(self.scalar(&s, &types, &name), required))
    }
}

/// Derives the subgraph of `document` (OpenAPI 3.0 or 3.1, JSON or YAML).
pub fn derive(document: &str, settings: &Settings) -> Result<Derived, DeriveError> {
    let mut value = read(document)?;
    if value.get("swagger").is_some() {
        return Err(DeriveError::Swagger2);
    }
    let version = value
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        return Err(DeriveError::Version(version));
    }
    to_3_1(&mut value);
    let spec: Spec =
        serde_json::from_value(value.clone()).map_err(|e| DeriveError::Invalid(e.to_string()))?;
    let mut b = Builder {
        spec: &spec,
        raw: &value,
        objects: BTreeMap::new(),
        keys: BTreeMap::new(),
        stubs: BTreeMap::new(),
        inputs: BTreeMap::new(),
        unions: BTreeMap::new(),
        enums: BTreeMap::new(),
        scalars: BTreeSet::new(),
        building: BTreeSet::new(),
        plan: Plan::default(),
        warnings: Vec::new(),
        component_names: BTreeMap::new(),
        batches: BTreeMap::new(),
    };
    let mut query: Vec<(String, String)> = Vec::new();
    let mut mutation: Vec<(String, String)> = Vec::new();
    let mut operations: BTreeMap<String, Operation> = BTreeMap::new();
    // Fields added to other domains' entities: (declaration, where).
    let mut extends: Vec<ExtensionSetting> = settings.extends.clone();
    for (path, item) in spec.paths.iter().flatten() {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            let Some(op) = operation else {
                continue;
            };
            let field = match &op.operation_id {
                Some(id) => camel(id),
                None => camel(&format!(
                    "{} {}",
                    method.to_lowercase(),
                    path.replace('{', " by ").replace('}', " ")
                )),
            };
            let field = if valid_name(&field) {
                field
            } else {
                format!("op_{field}")
            };
            if method != "GET" && !settings.rest_mutations {
                b.warnings.push(format!(
                    "{method} {path} is left out (the domain does not enable restMutations)"
                ));
                continue;
            }
            let response = op
                .responses
                .iter()
                .flatten()
                .filter(|(code, _)| code.starts_with('2'))
                .find_map(|(_, r)| match r {
                    ObjectOrReference::Object(r) => r
                        .content
                        .iter()
                        .find(|(ct, _)| ct.contains("json"))
                        .and_then(|(_, m)| m.schema.clone()),
                    ObjectOrReference::Ref { .. } => None,
                });
            let result = match &response {
                Some(schema) => b.output(schema, &format!("{field}Result"), false)?,
                None if method == "GET" => {
                    b.warnings
                        .push(format!("GET {path} answers no JSON; it is left out"));
                    continue;
                }
                None => TypeRef::named("Boolean", false),
            };
            let mut arguments = Vec::new();
            let mut args_sdl = Vec::new();
            let mut lists = BTreeSet::new();
            let mut required_args = BTreeSet::new();
            let parameters = item.parameters.iter().chain(op.parameters.iter());
            for parameter in parameters {
                let p = match parameter {
                    ObjectOrReference::Object(p) => p.clone(),
                    ObjectOrReference::Ref { ref_path, .. } => {
                        let name = ref_path
                            .strip_prefix("#/components/parameters/")
                            .ok_or_else(|| DeriveError::DanglingRef(ref_path.clone()))?;
                        match spec
                            .components
                            .as_ref()
                            .and_then(|c| c.parameters.get(name))
                        {
                            Some(ObjectOrReference::Object(p)) => p.clone(),
                            _ => return Err(DeriveError::DanglingRef(ref_path.clone())),
                        }
                    }
                };
                let location = match p.location {
                    oas3::spec::ParameterIn::Path => In::Path,
                    oas3::spec::ParameterIn::Query => In::Query,
                    oas3::spec::ParameterIn::Header => In::Header,
                    _ => {
                        b.warnings.push(format!(
                            "{method} {path}: parameter `{}` (in a cookie) is not an argument",
                            p.name
                        ));
                        continue;
                    }
                };
                let mut name = camel(&p.name);
                if !valid_name(&name) || arguments.iter().any(|a: &Argument| a.name == name) {
                    name = format!("{name}_{}", arguments.len());
                }
                let required = p.required.unwrap_or(false) || location == In::Path;
                let ty = match &p.schema {
                    Some(schema) => {
                        b.input(schema, &format!("{field}{}", pascal(&p.name)), required)?
                    }
                    None => TypeRef::named("String", required),
                };
                args_sdl.push(format!("{name}: {}", ty.text));
                let list = ty.text.starts_with('[');
                if list {
                    lists.insert(name.clone());
                }
                if required {
                    required_args.insert(name.clone());
                }
                arguments.push(Argument {
                    name,
                    parameter: p.name.clone(),
                    location,
                    comma: list && (location != In::Query || p.explode == Some(false)),
                });
            }
            let mut body = None;
            if method != "GET" {
                if let Some(ObjectOrReference::Object(rb)) = &op.request_body {
                    if let Some(schema) = rb
                        .content
                        .iter()
                        .find(|(ct, _)| ct.contains("json"))
                        .and_then(|(_, m)| m.schema.clone())
                    {
                        let ty = b.input(
                            &schema,
                            &format!("{field}Body"),
                            rb.required.unwrap_or(false),
                        )?;
                        args_sdl.push(format!("body: {}", ty.text));
                        body = Some("body".to_string());
                    }
                }
            }
            let args = if args_sdl.is_empty() {
                String::new()
            } else {
                format!("({})", args_sdl.join(", "))
            };
            let call = Call {
                method: method.to_string(),
                path: path.clone(),
                arguments,
                body,
            };
            let root = if method == "GET" { "Query" } else { "Mutation" };
            if method == "GET" {
                query.push((field.clone(), format!("  {field}{args}: {}", result.text)));
            } else {
                mutation.push((field.clone(), format!("  {field}{args}: {}", result.text)));
            }
            if let Some(declared) = op.extensions.get("meshwork-extends") {
                let text = |k: &str| declared.get(k).and_then(Value::as_str).map(str::to_string);
                match (text("type"), text("key"), text("field")) {
                    (Some(type_name), Some(key), Some(field_name)) => {
                        extends.push(ExtensionSetting {
                            type_name,
                            key,
                            field: field_name,
                            get: field.clone(),
                        })
                    }
                    _ => {
                        return Err(DeriveError::Entity {
                            type_name: "x-meshwork-extends".into(),
                            problem: format!(
                                "{method} {path}: needs `type`, `key` and `field`, got {declared}"
                            ),
                        })
                    }
                }
            }
            let operation = |call: &Call| Operation {
                root,
                call: call.clone(),
                result: result.text.clone(),
                lists: lists.clone(),
                required: required_args.clone(),
            };
            if let Some(id) = &op.operation_id {
                operations.insert(id.clone(), operation(&call));
            }
            operations.insert(field.clone(), operation(&call));
            b.plan.calls.insert(format!("{root}.{field}"), call);
        }
    }
    if query.is_empty() {
        return Err(DeriveError::Empty);
    }
    // Entities: declared in the document or by the registration.
    let mut declared: Vec<(String, String, Option<String>, Option<String>)> = b
        .keys
        .iter()
        .map(|(t, k)| (t.clone(), k.clone(), None, b.batches.get(t).cloned()))
        .collect();
    for e in &settings.entities {
        declared.retain(|(t, _, _, _)| *t != e.type_name);
        declared.push((
            e.type_name.clone(),
            e.key.clone(),
            Some(e.get.clone()),
            e.batch.clone(),
        ));
    }
    let mut keys = BTreeMap::new();
    for (type_name, key, get, batch) in declared {
        let entity = |problem: String| DeriveError::Entity {
            type_name: type_name.clone(),
            problem,
        };
        let Some(fields) = b.objects.get(&type_name) else {
            return Err(entity(
                "no object type of that name is derived from the document".into(),
            ));
        };
        if !fields.iter().any(|(f, _)| *f == key) {
            return Err(entity(format!("it has no field `{key}` to be its key")));
        }
        // The operation fetching one: declared, else the GET whose only
        // required parameter is a path parameter and which returns the type.
        let found = match &get {
            Some(id) => operations
                .get(id)
                .map(|o| o.call.clone())
                .ok_or_else(|| entity(format!("no operation `{id}` in the document")))?,
            None => {
                let candidates: Vec<Call> = b
                    .plan
                    .calls
                    .iter()
                    .filter(|(coordinate, call)| {
                        coordinate.starts_with("Query.")
                            && call
                                .arguments
                                .iter()
                                .filter(|a| a.location == In::Path)
                                .count()
                                == 1
                            && query.iter().any(|(f, line)| {
                                coordinate.as_str() == format!("Query.{f}")
                                    && (line.ends_with(&format!(": {type_name}"))
                                        || line.ends_with(&format!(": {type_name}!")))
                            })
                    })
                    .map(|(_, c)| c.clone())
                    .collect();
                let by_key: Vec<&Call> = candidates
                    .iter()
                    .filter(|c| {
                        c.arguments
                            .iter()
                            .any(|a| a.location == In::Path && a.parameter == key)
                    })
                    .collect();
                match (by_key.as_slice(), candidates.as_slice()) {
                    ([one], _) => (*one).clone(),
                    ([], [one]) => one.clone(),
                    ([], []) => {
                        return Err(entity("no GET operation fetches one by a path parameter; name it with `get:` in the registration".into()))
                    }
                    _ => {
                        return Err(entity(format!(
                            "several GET operations could fetch one ({}); name it with `get:` in the registration",
                            candidates.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", ")
                        )))
                    }
                }
            }
        };
        let parameter = found
            .arguments
            .iter()
            .find(|a| a.location == In::Path)
            .or_else(|| found.arguments.first())
            .map(|a| a.parameter.clone())
            .ok_or_else(|| entity("its fetch operation takes no parameter for the key".into()))?;
        let batch = match batch {
            None => None,
            Some(id) => {
                let o = operations
                    .get(&id)
                    .ok_or_else(|| entity(format!("no batch operation `{id}` in the document")))?;
                let element = o.result.trim_end_matches('!');
                if o.root != "Query"
                    || !(element == format!("[{type_name}]")
                        || element == format!("[{type_name}!]"))
                {
                    return Err(entity(format!(
                        "the batch operation `{id}` must be a GET answering a list of `{type_name}` (it answers `{}`)",
                        o.result
                    )));
                }
                // The keys go in the one required argument, else the one
                // list argument, else the only argument.
                let all = &o.call.arguments;
                let required: Vec<&Argument> = all
                    .iter()
                    .filter(|a| o.required.contains(&a.name))
                    .collect();
                let lists: Vec<&Argument> =
                    all.iter().filter(|a| o.lists.contains(&a.name)).collect();
                let only: Vec<&Argument> = all.iter().collect();
                let argument = match (required.as_slice(), lists.as_slice(), only.as_slice()) {
                    ([one], _, _) | ([], [one], _) | ([], [], [one]) => *one,
                    _ => return Err(entity(format!(
                        "the batch operation `{id}` needs exactly one parameter for the keys (one required argument, or one list argument)"
                    ))),
                };
                Some(BatchCall {
                    argument: argument.name.clone(),
                    list: o.lists.contains(&argument.name),
                    call: o.call.clone(),
                })
            }
        };
        b.plan.entities.insert(
            type_name.clone(),
            EntityCall {
                key: key.clone(),
                parameter,
                call: found,
                batch,
            },
        );
        keys.insert(type_name.clone(), key);
    }
    // Fields added to other domains' entities.
    let mut extended: BTreeMap<String, (String, Vec<(String, String)>)> = BTreeMap::new();
    for e in extends {
        let problem = |problem: String| DeriveError::Entity {
            type_name: e.type_name.clone(),
            problem,
        };
        if b.objects.contains_key(&e.type_name) {
            return Err(problem(format!(
                "it is derived from this document, so it cannot also be extended as another domain's entity (declare it an entity instead of adding `{}`)",
                e.field
            )));
        }
        if !valid_name(&e.field) || e.field == e.key {
            return Err(problem(format!(
                "`{}` cannot be the name of a field added to it",
                e.field
            )));
        }
        let o = operations
            .get(&e.get)
            .ok_or_else(|| problem(format!("no operation `{}` in the document", e.get)))?;
        if o.root != "Query" {
            return Err(problem(format!(
                "`{}` must be a GET operation to answer `{}`",
                e.get, e.field
            )));
        }
        let paths: Vec<&Argument> = o
            .call
            .arguments
            .iter()
            .filter(|a| a.location == In::Path)
            .collect();
        let parameter = paths
            .iter()
            .find(|a| a.parameter == e.key)
            .or(match paths.as_slice() {
                [one] => Some(one),
                _ => None,
            })
            .map(|a| a.parameter.clone())
            .or_else(|| match o.call.arguments.as_slice() {
                [one] => Some(one.parameter.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                problem(format!(
                    "`{}` has no single parameter for the key `{}` (one path parameter, or one named `{}`)",
                    e.get, e.key, e.key
                ))
            })?;
        let entry = extended
            .entry(e.type_name.clone())
            .or_insert_with(|| (e.key.clone(), Vec::new()));
        if entry.0 != e.key {
            return Err(problem(format!(
                "it is extended by two keys, `{}` and `{}`",
                entry.0, e.key
            )));
        }
        if entry.1.iter().any(|(f, _)| *f == e.field) {
            return Err(problem(format!("`{}` is added twice", e.field)));
        }
        entry
            .1
            .push((e.field.clone(), o.result.trim_end_matches('!').to_string()));
        b.plan.extensions.insert(
            format!("{}.{}", e.type_name, e.field),
            Extension {
                key: e.key.clone(),
                parameter,
                call: o.call.clone(),
            },
        );
    }

    let mut sdl = String::from(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\", \"@shareable\"])\n\n",
    );
    for scalar in &b.scalars {
        sdl.push_str(&format!("scalar {scalar}\n"));
    }
    sdl.push_str("\ntype Query {\n");
    for (_, line) in &query {
        sdl.push_str(line);
        sdl.push('\n');
    }
    sdl.push_str("}\n");
    if !mutation.is_empty() {
        sdl.push_str("\ntype Mutation {\n");
        for (_, line) in &mutation {
            sdl.push_str(line);
            sdl.push('\n');
        }
        sdl.push_str("}\n");
    }
    for (name, fields) in &b.objects {
        let key = keys
            .get(name)
            .map(|k| format!(" @key(fields: \"{k}\")"))
            .unwrap_or_else(|| " @shareable".to_string());
        sdl.push_str(&format!("\ntype {name}{key} {{\n"));
        for (field, ty) in fields {
            sdl.push_str(&format!("  {field}: {ty}\n"));
        }
        sdl.push_str("}\n");
    }
    for (name, (key, fields)) in &extended {
        sdl.push_str(&format!(
            "\ntype {name} @key(fields: \"{key}\") {{\n  {key}: ID!\n"
        ));
        for (field, ty) in fields {
            sdl.push_str(&format!("  {field}: {ty}\n"));
        }
        sdl.push_str("}\n");
    }
    for (name, key) in &b.stubs {
        if b.objects.contains_key(name) || extended.contains_key(name) {
            continue;
        }
        sdl.push_str(&format!(
            "\ntype {name} @key(fields: \"{key}\", resolvable: false) {{\n  {key}: ID!\n}}\n"
        ));
    }
    for (name, fields) in &b.inputs {
        sdl.push_str(&format!("\ninput {name} {{\n"));
        for (field, ty) in fields {
            sdl.push_str(&format!("  {field}: {ty}\n"));
        }
        sdl.push_str("}\n");
    }
    for (name, values) in &b.enums {
        sdl.push_str(&format!("\nenum {name} {{\n"));
        for v in values {
            sdl.push_str(&format!("  {v}\n"));
        }
        sdl.push_str("}\n");
    }
    for (name, members) in &b.unions {
        sdl.push_str(&format!("\nunion {name} = {}\n", members.join(" | ")));
    }
    Ok(Derived {
        sdl,
        plan: b.plan,
        warnings: b.warnings,
    })
}
