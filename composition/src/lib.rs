//! Composes the subgraph schemas of the mesh's domains into one Apollo
//! Federation v2 supergraph that the gateway's engine (Hive Router) plans
//! against.
//!
//! Composition itself is `graphql-composition` (Grafbase, MPL-2.0, used
//! unmodified). Its output differs from Apollo's in a way the planner cares
//! about: root operation types and unions carry no `@join__type` for the
//! subgraphs that define them. [`compose`] adds those directives
//! (`add_join_types` and the steps in `fidelity.rs`); everything else is passed through.
//!
//! ```
//! use composition::{compose, Subgraph};
//! let supergraph = compose(&[Subgraph {
//!     name: "orders".into(),
//!     url: "http://orders.internal/graphql".into(),
//!     sdl: r#"
//!       extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
//!       type Query { order(id: ID!): Order }
//!       type Order @key(fields: "id") { id: ID! total: Float }
//!     "#.into(),
//! }]).unwrap();
//! assert!(supergraph.sdl.contains("join__Graph"));
//! ```

mod access;
mod fidelity;
mod hints;
mod satisfiability;

use std::collections::BTreeSet;

pub use access::{apply_access, AccessRules};
pub use hints::CompositionWarning;

use graphql_parser::schema::{Definition, Directive, Document, TypeDefinition, Value};
use sha2::{Digest, Sha256};

/// One domain's subgraph, as composition input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subgraph {
    /// The domain's name; becomes the subgraph name.
    pub name: String,
    /// Where the gateway sends this subgraph's fetches.
    pub url: String,
    pub sdl: String,
}

/// A composed supergraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supergraph {
    pub sdl: String,
    /// SHA-256 of `sdl`, hex; the version gateways follow.
    pub hash: String,
    /// What Apollo Federation reports as hints: the domains compose, but
    /// a team should know (an argument left out, a type made nullable…).
    pub warnings: Vec<CompositionWarning>,
}

impl Supergraph {
    /// A supergraph of this text, with its hash and no warnings.
    pub fn new(sdl: String) -> Self {
        let hash = hex::encode(Sha256::digest(sdl.as_bytes()));
        Self {
            sdl,
            hash,
            warnings: Vec::new(),
        }
    }

    /// The same supergraph with `sdl` changed (e.g. by the access step),
    /// its warnings kept.
    pub fn with_sdl(self, sdl: String) -> Self {
        Self {
            warnings: self.warnings,
            ..Self::new(sdl)
        }
    }
}

/// One reason a composition failed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompositionError {
    /// The domain the problem comes from, when it can be told.
    pub domain: Option<String>,
    pub message: String,
    /// The line of that domain's schema the problem is at, when the
    /// message names a type or field of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The rule broken: Apollo Federation's error code where it has one
    /// (`FIELD_TYPE_MISMATCH`, `INVALID_FIELD_SHARING`, …), else
    /// Meshwork's own (`OVERRIDE_FROM_UNKNOWN_DOMAIN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When the problem lies between several domains: each of them, with
    /// the line of the type or field there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

/// Where in a domain's schema a problem is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl CompositionError {
    /// A problem of `domain` (or of none in particular), line unknown.
    pub fn new(domain: Option<String>, message: impl Into<String>) -> Self {
        Self {
            domain,
            message: message.into(),
            line: None,
            code: None,
            locations: Vec::new(),
        }
    }
}

impl std::fmt::Display for CompositionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.domain, self.line) {
            (Some(domain), Some(line)) => write!(f, "domain `{domain}` (line {line}): ")?,
            (Some(domain), None) => write!(f, "domain `{domain}`: ")?,
            (None, _) if !self.locations.is_empty() => {
                let places: Vec<String> = self
                    .locations
                    .iter()
                    .map(|l| match l.line {
                        Some(line) => format!("`{}` (line {line})", l.domain),
                        None => format!("`{}`", l.domain),
                    })
                    .collect();
                write!(f, "domains {}: ", places.join(", "))?
            }
            (None, _) => {}
        }
        match &self.code {
            Some(code) if !self.message.contains(code.as_str()) => {
                write!(f, "[{code}] {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

/// Apollo Federation's code for a composition message, by its wording
/// (`graphql-composition`'s messages and Meshwork's own steps).
const CODES: &[(&str, &str)] = &[
    ("SATISFIABILITY_ERROR", "SATISFIABILITY_ERROR"),
    ("EXTERNAL_UNUSED", "EXTERNAL_UNUSED"),
    ("has conflicting types", "FIELD_TYPE_MISMATCH"),
    ("not marked as `@shareable`", "INVALID_FIELD_SHARING"),
    ("should match exactly", "ENUM_VALUE_MISMATCH"),
    (
        "but it is required in",
        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
    ),
    (
        "is required in",
        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
    ),
    ("field is not implemented by", "INTERFACE_FIELD_NO_IMPLEM"),
    ("Error in @key", "KEY_INVALID_FIELDS"),
    ("Error in @requires", "REQUIRES_INVALID_FIELDS"),
    ("Error in @provides", "PROVIDES_INVALID_FIELDS"),
    (
        "Source and destination subgraphs",
        "OVERRIDE_FROM_SELF_ERROR",
    ),
    ("but no domain named", "OVERRIDE_FROM_UNKNOWN_DOMAIN"),
    ("is missing the", "SATISFIABILITY_ERROR"),
    ("cannot import", "INVALID_LINK_DIRECTIVE_USAGE"),
    ("@override(label:)", "INVALID_LINK_DIRECTIVE_USAGE"),
    ("does not parse", "INVALID_GRAPHQL"),
];

fn classify(errors: &mut [CompositionError]) {
    for error in errors.iter_mut().filter(|e| e.code.is_none()) {
        error.code = CODES
            .iter()
            .find(|(wording, _)| error.message.contains(wording))
            .map(|(_, code)| code.to_string());
    }
}

/// The `Type.field` (or `Type`) a message names in backticks or quotes.
fn coordinate_in(message: &str) -> Option<(String, Option<String>)> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    };
    for quote in ['`', '"'] {
        for (i, part) in message.split(quote).enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let part = part.split('(').next().unwrap_or(part);
            match part.split_once('.') {
                Some((ty, field)) if is_name(ty) && is_name(field) => {
                    return Some((ty.to_string(), Some(field.to_string())))
                }
                None if is_name(part) && part.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    return Some((part.to_string(), None))
                }
                _ => {}
            }
        }
    }
    // Unquoted: "The F.x field has conflicting types".
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|token| token.split_once('.'))
        .find(|(ty, field)| {
            is_name(ty) && is_name(field) && ty.starts_with(|c: char| c.is_ascii_uppercase())
        })
        .map(|(ty, field)| (ty.to_string(), Some(field.to_string())))
}

/// Fills in the line of each error that names a domain and a type or
/// field of its schema; an error between several domains gets each
/// domain it names that defines the type or field, with the line there.
/// Also names the rule broken ([`CODES`]).
fn locate_lines(errors: &mut [CompositionError], subgraphs: &[Subgraph]) {
    classify(errors);
    for error in errors.iter_mut().filter(|e| e.domain.is_none()) {
        let Some((ty, field)) = coordinate_in(&error.message) else {
            continue;
        };
        let named: BTreeSet<&str> = error
            .message
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .collect();
        error.locations = subgraphs
            .iter()
            .filter(|s| named.contains(s.name.as_str()))
            .filter_map(|s| {
                fidelity::line_of(&s.sdl, &ty, field.as_deref()).map(|line| Location {
                    domain: s.name.clone(),
                    line: Some(line),
                })
            })
            .collect();
    }
    for error in errors.iter_mut().filter(|e| e.line.is_none()) {
        let Some(subgraph) = error
            .domain
            .as_ref()
            .and_then(|d| subgraphs.iter().find(|s| &s.name == d))
        else {
            continue;
        };
        if let Some((ty, field)) = coordinate_in(&error.message) {
            error.line = fidelity::line_of(&subgraph.sdl, &ty, field.as_deref());
        }
    }
}

/// Why no supergraph came out.
#[derive(Debug, thiserror::Error)]
#[error("composition failed: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct CompositionFailed(pub Vec<CompositionError>);

/// Composes `subgraphs` (at least one) into a supergraph.
pub fn compose(subgraphs: &[Subgraph]) -> Result<Supergraph, CompositionFailed> {
    if subgraphs.is_empty() {
        return Err(CompositionFailed(vec![CompositionError::new(
            None,
            "there is no domain with a schema to compose",
        )]));
    }
    let mut errors = fidelity::dangling_overrides(subgraphs);
    errors.extend(fidelity::unused_externals(subgraphs));
    errors.extend(fidelity::unknown_federation_elements(subgraphs));
    let mut input = graphql_composition::Subgraphs::default();
    for subgraph in subgraphs {
        let sdl = fidelity::mark_nested_key_fields_shareable(&subgraph.sdl);
        if let Err(e) = input.ingest_str(&sdl, &subgraph.name, Some(&subgraph.url)) {
            errors.push(CompositionError::new(
                Some(subgraph.name.clone()),
                format!("schema does not parse: {e}"),
            ));
        }
    }
    if !errors.is_empty() {
        locate_lines(&mut errors, subgraphs);
        return Err(CompositionFailed(errors));
    }
    let graph = graphql_composition::compose(&mut input)
        .into_result()
        .map_err(|diagnostics| {
            let mut errors: Vec<CompositionError> = diagnostics
                .iter_errors()
                .map(|message| {
                    CompositionError::new(blame(message, subgraphs), message.to_string())
                })
                .collect();
            locate_lines(&mut errors, subgraphs);
            CompositionFailed(errors)
        })?;
    let rendered = graphql_composition::render_federated_sdl(&graph).map_err(|e| {
        CompositionFailed(vec![CompositionError::new(
            None,
            format!("rendering the supergraph: {e}"),
        )])
    })?;
    let doc = complete_supergraph(&rendered, subgraphs)
        .map_err(|message| CompositionFailed(vec![CompositionError::new(None, message)]))?;
    let mut unsatisfiable = satisfiability::check(&doc);
    if !unsatisfiable.is_empty() {
        locate_lines(&mut unsatisfiable, subgraphs);
        return Err(CompositionFailed(unsatisfiable));
    }
    let warnings = hints::hints(subgraphs, &doc);
    Ok(Supergraph {
        warnings,
        ..Supergraph::new(doc.to_string())
    })
}

/// The subgraph a diagnostic names, if it names exactly one.
fn blame(message: &str, subgraphs: &[Subgraph]) -> Option<String> {
    let named: Vec<&Subgraph> = subgraphs
        .iter()
        .filter(|s| {
            message.starts_with(&format!("[{}]", s.name))
                || message.contains(&format!("\"{}\"", s.name))
                || message.contains(&format!("`{}`", s.name))
                || message.contains(&format!("subgraph {}", s.name))
                || message.contains(&format!("{}.", s.name))
        })
        .collect();
    match named.as_slice() {
        [one] => Some(one.name.clone()),
        _ => None,
    }
}

/// The supergraph's subgraphs: `(join__Graph value, subgraph name)`.
pub(crate) fn join_graphs(doc: &Document<'static, String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for def in &doc.definitions {
        if let Definition::TypeDefinition(TypeDefinition::Enum(e)) = def {
            if e.name == "join__Graph" {
                for v in &e.values {
                    let name = v
                        .directives
                        .iter()
                        .find(|d| d.name == "join__graph")
                        .and_then(|d| d.arguments.iter().find(|(a, _)| a == "name"))
                        .and_then(|(_, n)| match n {
                            Value::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_else(|| v.name.to_lowercase());
                    out.push((v.name.clone(), name));
                }
            }
        }
    }
    out
}

/// Graph enum values named by the `graph:` argument of `directive_name`
/// directives.
fn graphs_in<'a>(
    directives: impl IntoIterator<Item = &'a Directive<'static, String>>,
    directive_name: &str,
) -> BTreeSet<String> {
    directives
        .into_iter()
        .filter(|d| d.name == directive_name)
        .flat_map(|d| d.arguments.iter())
        .filter_map(|(arg, v)| match (arg.as_str(), v) {
            ("graph", Value::Enum(graph)) => Some(graph.clone()),
            _ => None,
        })
        .collect()
}

/// The post-processing steps on `graphql-composition`'s supergraph.
fn complete_supergraph(
    supergraph: &str,
    subgraphs: &[Subgraph],
) -> Result<Document<'static, String>, String> {
    let mut doc: Document<'static, String> = graphql_parser::parse_schema::<String>(supergraph)
        .map_err(|e| format!("the composed supergraph does not parse: {e}"))?
        .into_static();
    add_join_types(&mut doc);
    fidelity::mark_external_fields(&mut doc, subgraphs);
    fidelity::mark_extension_types(&mut doc, subgraphs);
    fidelity::add_declared_joins(&mut doc, subgraphs);
    fidelity::label_overridden_fields(&mut doc);
    fidelity::link_security_specs(&mut doc)?;
    Ok(doc)
}

/// Adds `@join__type(graph: G)` where the composer left it out: on the
/// query type for every subgraph (each Federation 2 subgraph has one, with
/// at least `_service`), on the mutation and subscription types for each
/// subgraph defining fields on them, and on unions for each subgraph
/// defining members.
fn add_join_types(doc: &mut Document<'static, String>) {
    let roots = root_type_names(doc);
    let query = query_type_name(doc);
    let every_graph: BTreeSet<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == "join__Graph" => {
                Some(e.values.iter().map(|v| v.name.clone()))
            }
            _ => None,
        })
        .flatten()
        .collect();
    for def in &mut doc.definitions {
        let (owners, directives) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) if o.name == query => {
                (every_graph.clone(), &mut o.directives)
            }
            Definition::TypeDefinition(TypeDefinition::Object(o)) if roots.contains(&o.name) => (
                graphs_in(
                    o.fields.iter().flat_map(|f| f.directives.iter()),
                    "join__field",
                ),
                &mut o.directives,
            ),
            Definition::TypeDefinition(TypeDefinition::Union(u)) => (
                graphs_in(u.directives.iter(), "join__unionMember"),
                &mut u.directives,
            ),
            _ => continue,
        };
        let present = graphs_in(directives.iter(), "join__type");
        for graph in owners.difference(&present) {
            directives.push(Directive {
                position: Default::default(),
                name: "join__type".to_string(),
                arguments: vec![("graph".to_string(), Value::Enum(graph.clone()))],
            });
        }
    }
}

/// The query type's name (`Query` unless a schema definition says).
fn query_type_name(doc: &Document<'static, String>) -> String {
    doc.definitions
        .iter()
        .find_map(|d| match d {
            Definition::SchemaDefinition(s) => s.query.clone(),
            _ => None,
        })
        .unwrap_or_else(|| "Query".to_string())
}

/// Names of the query, mutation and subscription types.
pub(crate) fn root_type_names(doc: &Document<'static, String>) -> BTreeSet<String> {
    let mut roots: BTreeSet<String> = ["Query", "Mutation", "Subscription"]
        .map(String::from)
        .into();
    for def in &doc.definitions {
        if let Definition::SchemaDefinition(schema) = def {
            roots.clear();
            roots.extend(
                [&schema.query, &schema.mutation, &schema.subscription]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subgraph(name: &str, sdl: &str) -> Subgraph {
        Subgraph {
            name: name.into(),
            url: format!("http://127.0.0.1:1/{name}"),
            sdl: sdl.into(),
        }
    }

    const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])"#;

    #[test]
    fn root_types_and_unions_get_a_join_type_per_defining_subgraph() {
        let a = subgraph("orders", &format!("{LINK}\ntype Query {{ orders: [Order] search: [Result] }}\ntype Order @key(fields: \"id\") {{ id: ID! }}\nunion Result = Order"));
        let b = subgraph("customer-profiles", &format!("{LINK}\ntype Query {{ me: Customer }}\ntype Customer @key(fields: \"id\") {{ id: ID! }}"));
        let supergraph = compose(&[a, b]).expect("composes");
        let doc = graphql_parser::parse_schema::<String>(&supergraph.sdl).expect("parses");
        let joins = |type_name: &str| -> Vec<String> {
            doc.definitions
                .iter()
                .filter_map(|d| match d {
                    Definition::TypeDefinition(TypeDefinition::Object(o))
                        if o.name == type_name =>
                    {
                        Some(&o.directives)
                    }
                    Definition::TypeDefinition(TypeDefinition::Union(u)) if u.name == type_name => {
                        Some(&u.directives)
                    }
                    _ => None,
                })
                .flatten()
                .filter(|d| d.name == "join__type")
                .map(|d| d.arguments[0].1.to_string())
                .collect()
        };
        let mut query = joins("Query");
        query.sort();
        assert_eq!(query, ["CUSTOMER_PROFILES", "ORDERS"]);
        assert_eq!(joins("Result"), ["ORDERS"]);
        assert_eq!(supergraph.hash.len(), 64);
    }

    #[test]
    fn conflicting_subgraphs_fail_with_errors_naming_the_domains_lines_and_rule() {
        let a = subgraph(
            "orders",
            &format!("{LINK}\ntype Query {{ a: Int @shareable }}\ntype Thing @shareable {{\n  id: ID\n  total: Int\n}}\nextend type Query {{ t: Thing @shareable }}"),
        );
        let b = subgraph(
            "billing",
            &format!("{LINK}\ntype Thing @shareable {{ id: ID total: String }}\ntype Query {{ t: Thing @shareable }}"),
        );
        let failed = compose(&[a, b]).expect_err("conflict");
        let error = failed
            .0
            .iter()
            .find(|e| e.message.contains("total"))
            .unwrap_or_else(|| panic!("no error about total: {failed}"));
        assert_eq!(
            error.code.as_deref(),
            Some("FIELD_TYPE_MISMATCH"),
            "{error}"
        );
        let mut places: Vec<(String, Option<u32>)> = error
            .locations
            .iter()
            .map(|l| (l.domain.clone(), l.line))
            .collect();
        places.sort();
        assert_eq!(
            places,
            [
                ("billing".to_string(), Some(2)),
                ("orders".to_string(), Some(5))
            ],
            "{error}"
        );
        let shown = error.to_string();
        assert!(
            shown.starts_with(
                "domains `orders` (line 5), `billing` (line 2): [FIELD_TYPE_MISMATCH]"
            ) || shown.starts_with(
                "domains `billing` (line 2), `orders` (line 5): [FIELD_TYPE_MISMATCH]"
            ),
            "{shown}"
        );
    }

    /// The engine enforces `@authenticated`, `@requiresScopes` and
    /// `@policy` only where their specs are linked, as Apollo's and The
    /// Guild's compositions link them.
    #[test]
    fn a_domains_authorization_directives_are_linked_in_the_supergraph() {
        let link = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])"#;
        let a = subgraph(
            "orders",
            &format!("{link}\ntype Query {{ a: Int @authenticated b: Int @policy(policies: [[\"p\"]]) c: Int @requiresScopes(scopes: [[\"s\"]]) }}"),
        );
        let sdl = compose(&[a]).expect("composes").sdl;
        for spec in ["authenticated/v0.1", "requiresScopes/v0.1", "policy/v0.1"] {
            assert!(
                sdl.contains(&format!("https://specs.apollo.dev/{spec}\", for: SECURITY")),
                "{spec} not linked: {sdl}"
            );
        }
        let plain = compose(&[subgraph(
            "orders",
            &format!("{LINK}\ntype Query {{ a: Int }}"),
        )])
        .expect("composes")
        .sdl;
        assert!(!plain.contains("policy/v0.1"), "{plain}");
    }

    #[test]
    fn unparsable_schemas_are_blamed_on_their_domain() {
        let failed = compose(&[subgraph("orders", "type Query {")]).expect_err("parse error");
        assert_eq!(failed.0[0].domain.as_deref(), Some("orders"));
    }
}
