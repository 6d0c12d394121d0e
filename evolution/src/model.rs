//! A domain schema as the API its consumers see: types with their fields,
//! arguments, members and values, `extend type` blocks merged, federation
//! machinery (`_service`, `_entities`, `_Any`, link and join types) left
//! out.

use std::collections::{BTreeMap, BTreeSet};

use cynic_parser::common::WrappingType;
use cynic_parser::type_system::{Definition, TypeDefinition};

use crate::EvolutionError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Interface,
    Union,
    Enum,
    Scalar,
    InputObject,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Object => "object type",
            Kind::Interface => "interface",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::Scalar => "scalar",
            Kind::InputObject => "input type",
        }
    }
}

/// A type reference: `[Int!]` is `List(NonNull(Named("Int")))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => write!(f, "{n}"),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

/// A field, an argument or an input field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub ty: TypeRef,
    /// The default value as written (arguments and input fields).
    pub default: Option<String>,
    pub arguments: BTreeMap<String, Field>,
    pub description: Option<String>,
    pub deprecated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    pub kind: Kind,
    pub description: Option<String>,
    /// Fields of objects and interfaces, input fields of input types.
    pub fields: BTreeMap<String, Field>,
    /// Union members, enum values, or the interfaces a type implements.
    pub members: BTreeSet<String>,
    /// Whether the type is a federation entity (`@key`).
    pub entity: bool,
}

/// A schema's consumer-visible shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub types: BTreeMap<String, Type>,
}

/// Federation's own types and root fields: not part of a domain's API.
fn machinery_type(name: &str) -> bool {
    matches!(
        name,
        "_Service" | "_Any" | "_Entity" | "FieldSet" | "_FieldSet" | "Import" | "Purpose"
    ) || name.starts_with("link__")
        || name.starts_with("federation__")
        || name.starts_with("join__")
}

fn machinery_field(type_name: &str, field: &str) -> bool {
    type_name == "Query" && (field == "_service" || field == "_entities")
}

fn type_ref(ty: cynic_parser::type_system::Type<'_>) -> TypeRef {
    let wrappers: Vec<WrappingType> = ty.wrappers().collect();
    let mut out = TypeRef::Named(ty.name().to_string());
    for w in wrappers.iter().rev() {
        out = match w {
            WrappingType::NonNull => TypeRef::NonNull(Box::new(out)),
            WrappingType::List => TypeRef::List(Box::new(out)),
        };
    }
    out
}

fn text(description: Option<cynic_parser::type_system::Description<'_>>) -> Option<String> {
    description
        .map(|d| d.literal().to_cow().trim().to_string())
        .filter(|d| !d.is_empty())
}

impl Schema {
    /// Reads a subgraph SDL (or any GraphQL SDL).
    pub fn parse(sdl: &str) -> Result<Self, EvolutionError> {
        let doc = cynic_parser::parse_type_system_document(sdl)
            .map_err(|e| EvolutionError::Parse(e.to_string()))?;
        let mut schema = Schema::default();
        for def in doc.definitions() {
            let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
                continue;
            };
            let name = t.name().to_string();
            if machinery_type(&name) {
                continue;
            }
            let (kind, description) = match t {
                TypeDefinition::Object(o) => (Kind::Object, text(o.description())),
                TypeDefinition::Interface(i) => (Kind::Interface, text(i.description())),
                TypeDefinition::Union(u) => (Kind::Union, text(u.description())),
                TypeDefinition::Enum(e) => (Kind::Enum, text(e.description())),
                TypeDefinition::Scalar(s) => (Kind::Scalar, text(s.description())),
                TypeDefinition::InputObject(i) => (Kind::InputObject, text(i.description())),
            };
            let entry = schema.types.entry(name.clone()).or_insert_with(|| Type {
                kind,
                description: None,
                fields: BTreeMap::new(),
                members: BTreeSet::new(),
                entity: false,
            });
            if entry.description.is_none() {
                entry.description = description;
            }
            let field_of = |f: cynic_parser::type_system::FieldDefinition<'_>| Field {
                ty: type_ref(f.ty()),
                default: None,
                arguments: f
                    .arguments()
                    .map(|a| (a.name().to_string(), input(sdl, a)))
                    .collect(),
                description: text(f.description()),
                deprecated: f.directives().any(|d| d.name() == "deprecated"),
            };
            match t {
                TypeDefinition::Object(o) => {
                    entry.entity |= o.directives().any(|d| d.name() == "key");
                    entry
                        .members
                        .extend(o.implements_interfaces().map(str::to_string));
                    for f in o.fields() {
                        if !machinery_field(&name, f.name()) {
                            entry.fields.insert(f.name().to_string(), field_of(f));
                        }
                    }
                }
                TypeDefinition::Interface(i) => {
                    entry.entity |= i.directives().any(|d| d.name() == "key");
                    entry
                        .members
                        .extend(i.implements_interfaces().map(str::to_string));
                    for f in i.fields() {
                        entry.fields.insert(f.name().to_string(), field_of(f));
                    }
                }
                TypeDefinition::Union(u) => {
                    entry
                        .members
                        .extend(u.members().map(|m| m.name().to_string()));
                }
                TypeDefinition::Enum(e) => {
                    entry
                        .members
                        .extend(e.values().map(|v| v.value().to_string()));
                }
                TypeDefinition::InputObject(i) => {
                    for f in i.fields() {
                        entry.fields.insert(f.name().to_string(), input(sdl, f));
                    }
                }
                TypeDefinition::Scalar(_) => {}
            }
        }
        // A Query left with only federation's fields is no API of its own.
        if schema
            .types
            .get("Query")
            .is_some_and(|q| q.fields.is_empty())
        {
            schema.types.remove("Query");
        }
        Ok(schema)
    }
}

fn input(sdl: &str, v: cynic_parser::type_system::InputValueDefinition<'_>) -> Field {
    Field {
        ty: type_ref(v.ty()),
        default: v.default_value().map(|_| {
            let span = v.default_value_span();
            sdl.get(span.start..span.end)
                .unwrap_or_default()
                .trim()
                .to_string()
        }),
        arguments: BTreeMap::new(),
        description: text(v.description()),
        deprecated: v.directives().any(|d| d.name() == "deprecated"),
    }
}
