//! Steps around `graphql-composition` that bring its result to Apollo
//! Federation 2's (checked against The Guild's composition by
//! `tests/composition_fidelity.rs`):
//!
//! - before: fields of the types nested in a `@key` selection
//!   (`@key(fields: "id { one two }")`) are shareable, as Federation 2
//!   treats key fields ([`mark_nested_key_fields_shareable`]); an
//!   `@override(from:)` naming no domain is an error naming the domain
//!   that wrote it ([`dangling_overrides`]);
//!   An `@external` field nothing uses is Federation 2's `EXTERNAL_UNUSED`
//!   error ([`unused_externals`]).
//! - after: `@external` fields keep `external: true` on their
//!   `@join__field` ([`mark_external_fields`]); the query type is joined to
//!   every subgraph, as every Federation 2 subgraph has one
//!   (`add_join_types` in `lib.rs`); custom scalars are joined to
//!   the subgraphs defining them and interface keys to every subgraph
//!   declaring them ([`add_declared_joins`]); the subgraph a field is
//!   progressively overridden from carries the `overrideLabel` too
//!   ([`label_overridden_fields`]); a supergraph using `@authenticated`,
//!   `@requiresScopes` or `@policy` links their specs (`for: SECURITY`),
//!   without which the engine does not enforce them
//!   ([`link_security_specs`]).
//!
//! Each step names what it fixes; when an upgrade of `graphql-composition`
//! makes one unnecessary, the corpus test shows it.

use std::collections::{BTreeMap, BTreeSet};

use cynic_parser::type_system::{Definition, Directive, TypeDefinition};
use graphql_parser::schema::{Definition as SDef, Document, TypeDefinition as STypeDef, Value};

use crate::{CompositionError, Subgraph};

/// The name a subgraph uses for a federation directive (`shareable`,
/// `external`, …): as imported by its `@link`, else `federation__NAME`.
fn federation_name(doc: &cynic_parser::TypeSystemDocument, directive: &str) -> String {
    let wanted = format!("@{directive}");
    for def in doc.definitions() {
        let (Definition::Schema(schema) | Definition::SchemaExtension(schema)) = def else {
            continue;
        };
        for link in schema.directives().filter(|d| d.name() == "link") {
            let is_federation = link.arguments().any(|a| {
                a.name() == "url"
                    && a.value()
                        .as_str()
                        .is_some_and(|u| u.contains("specs.apollo.dev/federation/"))
            });
            if !is_federation {
                continue;
            }
            let Some(imports) = link
                .arguments()
                .find(|a| a.name() == "import")
                .and_then(|a| a.value().as_list())
            else {
                continue;
            };
            for import in imports.items() {
                if import.as_str() == Some(wanted.as_str()) {
                    return directive.to_string();
                }
                if let Some(object) = import.as_object() {
                    let field = |key: &str| {
                        object
                            .fields()
                            .find(|f| f.name() == key)
                            .and_then(|f| f.value().as_str())
                    };
                    if field("name") == Some(wanted.as_str()) {
                        if let Some(alias) = field("as") {
                            return alias.trim_start_matches('@').to_string();
                        }
                    }
                }
            }
        }
    }
    format!("federation__{directive}")
}

fn is_directive(d: &Directive<'_>, name: &str, local: &str) -> bool {
    d.name() == local || d.name() == format!("federation__{name}")
}

/// A field selection (`@key`, `@requires`, `@provides`): names, each with
/// its own sub-selection. Arguments are dropped; an inline fragment is an
/// entry named `...Type` (`...` without a type condition).
#[derive(Debug, Default)]
pub(crate) struct Selection(pub(crate) Vec<(String, Selection)>);

impl Selection {
    /// The type an entry's sub-selection applies to: the fragment's type
    /// condition, or `None` for a field.
    pub(crate) fn fragment_type(entry: &str) -> Option<&str> {
        entry.strip_prefix("...")
    }
}

/// `text` without its parenthesised arguments (`price(currency: "EUR")`).
fn without_arguments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut in_string = false;
    for c in text.chars() {
        match c {
            '"' if depth > 0 => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

pub(crate) fn parse_selection(text: &str) -> Selection {
    let spaced = without_arguments(text)
        .replace('{', " { ")
        .replace('}', " } ")
        .replace("...", " ... ");
    let mut tokens = spaced.split_whitespace().peekable();
    fn level<'t>(tokens: &mut std::iter::Peekable<impl Iterator<Item = &'t str>>) -> Selection {
        let mut out = Vec::new();
        while let Some(token) = tokens.next() {
            match token {
                "}" => break,
                "{" => {}
                "..." => {
                    let condition = if tokens.peek() == Some(&"on") {
                        tokens.next();
                        tokens.next().unwrap_or_default()
                    } else {
                        ""
                    };
                    let below = if tokens.peek() == Some(&"{") {
                        tokens.next();
                        level(tokens)
                    } else {
                        Selection::default()
                    };
                    out.push((format!("...{condition}"), below));
                }
                name => {
                    let below = if tokens.peek() == Some(&"{") {
                        tokens.next();
                        level(tokens)
                    } else {
                        Selection::default()
                    };
                    out.push((name.to_string(), below));
                }
            }
        }
        Selection(out)
    }
    level(&mut tokens)
}

/// Object and interface fields of one subgraph: (type, field) -> (output
/// type name, end of the field definition in the text, already shareable).
type FieldIndex = BTreeMap<(String, String), (String, usize, bool)>;

fn field_index(sdl: &str, doc: &cynic_parser::TypeSystemDocument, shareable: &str) -> FieldIndex {
    let mut index = FieldIndex::new();
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        let (type_name, fields, type_shareable) = match t {
            TypeDefinition::Object(o) => (
                o.name(),
                o.fields().collect::<Vec<_>>(),
                o.directives()
                    .any(|d| is_directive(&d, "shareable", shareable)),
            ),
            TypeDefinition::Interface(i) => (i.name(), i.fields().collect::<Vec<_>>(), false),
            _ => continue,
        };
        for f in fields {
            let output = f.ty().name().to_string();
            let own = f
                .directives()
                .any(|d| is_directive(&d, "shareable", shareable));
            // The span may run on over the whitespace after the field.
            let mut end = f.span().end.min(sdl.len());
            while end > 0 && sdl.as_bytes()[end - 1].is_ascii_whitespace() {
                end -= 1;
            }
            index.insert(
                (type_name.to_string(), f.name().to_string()),
                (output, end, own || type_shareable),
            );
        }
    }
    index
}

/// Federation 2 treats key fields as shareable, also the fields of types
/// nested in a key (`@key(fields: "id { one two }")` makes `one` and `two`
/// shareable); `graphql-composition` 0.12 only does so for the entity's
/// own fields. Adds the directive to the nested ones.
pub(crate) fn mark_nested_key_fields_shareable(sdl: &str) -> String {
    let Ok(doc) = cynic_parser::parse_type_system_document(sdl) else {
        return sdl.to_string(); // composition reports the parse error
    };
    let shareable = federation_name(&doc, "shareable");
    let key = federation_name(&doc, "key");
    let index = field_index(sdl, &doc, &shareable);
    let mut inserts: BTreeSet<usize> = BTreeSet::new();
    fn walk(
        type_name: &str,
        selection: &Selection,
        nested: bool,
        index: &FieldIndex,
        inserts: &mut BTreeSet<usize>,
    ) {
        for (field, below) in &selection.0 {
            if let Some(condition) = Selection::fragment_type(field) {
                let on = if condition.is_empty() {
                    type_name
                } else {
                    condition
                };
                walk(on, below, nested, index, inserts);
                continue;
            }
            let Some((output, end, shared)) = index.get(&(type_name.to_string(), field.clone()))
            else {
                continue;
            };
            if nested && !shared {
                inserts.insert(*end);
            }
            if !below.0.is_empty() {
                walk(output, below, true, index, inserts);
            }
        }
    }
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        let (type_name, directives) = match t {
            TypeDefinition::Object(o) => (o.name(), o.directives().collect::<Vec<_>>()),
            TypeDefinition::Interface(i) => (i.name(), i.directives().collect::<Vec<_>>()),
            _ => continue,
        };
        for d in directives.iter().filter(|d| is_directive(d, "key", &key)) {
            if let Some(fields) = d
                .arguments()
                .find(|a| a.name() == "fields")
                .and_then(|a| a.value().as_str())
            {
                walk(
                    type_name,
                    &parse_selection(fields),
                    false,
                    &index,
                    &mut inserts,
                );
            }
        }
    }
    if inserts.is_empty() {
        return sdl.to_string();
    }
    let mut out = sdl.to_string();
    for at in inserts.into_iter().rev() {
        if out.is_char_boundary(at) {
            out.insert_str(at, &format!(" @{shareable}"));
        }
    }
    out
}

/// `(type, field)` pairs a subgraph marks `@external`.
/// Types a subgraph defines only as extensions (`extend type`, or
/// `@extends`), each with the top-level fields of its keys.
fn extension_types(doc: &cynic_parser::TypeSystemDocument) -> BTreeMap<String, BTreeSet<String>> {
    let extends = federation_name(doc, "extends");
    let key = federation_name(doc, "key");
    let mut plain: BTreeSet<String> = BTreeSet::new();
    let mut extended: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for def in doc.definitions() {
        let (t, is_extension) = match def {
            Definition::Type(t) => (t, false),
            Definition::TypeExtension(t) => (t, true),
            _ => continue,
        };
        let directives: Vec<Directive<'_>> = match t {
            TypeDefinition::Object(o) => o.directives().collect(),
            TypeDefinition::Interface(i) => i.directives().collect(),
            _ => continue,
        };
        let keys = directives
            .iter()
            .filter(|d| is_directive(d, "key", &key))
            .filter_map(|d| {
                d.arguments()
                    .find(|a| a.name() == "fields")
                    .and_then(|a| a.value().as_str())
            })
            .flat_map(|fields| parse_selection(fields).0.into_iter().map(|(n, _)| n));
        if is_extension
            || directives
                .iter()
                .any(|d| is_directive(d, "extends", &extends))
        {
            extended
                .entry(t.name().to_string())
                .or_default()
                .extend(keys);
        } else {
            plain.insert(t.name().to_string());
        }
    }
    extended.retain(|name, _| !plain.contains(name));
    extended
}

/// Marks `@join__type(graph: G, extension: true)` where subgraph G defines
/// the type only as an extension (`extend type`, `@extends`), as Apollo
/// Federation does; root operation types are not marked.
pub(crate) fn mark_extension_types(doc: &mut Document<'static, String>, subgraphs: &[Subgraph]) {
    let graphs = graph_values(doc);
    let roots = crate::root_type_names(doc);
    let mut extension_of: BTreeSet<(String, String)> = BTreeSet::new();
    for subgraph in subgraphs {
        let Some(graph) = graphs.get(&subgraph.name) else {
            continue;
        };
        let Ok(parsed) = cynic_parser::parse_type_system_document(&subgraph.sdl) else {
            continue;
        };
        for type_name in extension_types(&parsed).into_keys() {
            extension_of.insert((type_name, graph.clone()));
        }
    }
    if extension_of.is_empty() {
        return;
    }
    for def in &mut doc.definitions {
        let (name, directives) = match def {
            SDef::TypeDefinition(STypeDef::Object(o)) => (&o.name, &mut o.directives),
            SDef::TypeDefinition(STypeDef::Interface(i)) => (&i.name, &mut i.directives),
            _ => continue,
        };
        if roots.contains(name) {
            continue;
        }
        for d in directives.iter_mut().filter(|d| d.name == "join__type") {
            let graph = d.arguments.iter().find_map(|(a, v)| match (a.as_str(), v) {
                ("graph", Value::Enum(g)) => Some(g.clone()),
                _ => None,
            });
            let marked = d.arguments.iter().any(|(a, _)| a == "extension");
            if let Some(graph) = graph {
                if !marked && extension_of.contains(&(name.clone(), graph)) {
                    d.arguments
                        .push(("extension".to_string(), Value::Boolean(true)));
                }
            }
        }
    }
}

/// `(type, field)` marked `@external` in a subgraph, except the key fields
/// of a type it only extends: Federation 2 does not treat those as
/// external (they are the extension's own key).
fn externals(sdl: &str) -> BTreeSet<(String, String)> {
    let Ok(doc) = cynic_parser::parse_type_system_document(sdl) else {
        return BTreeSet::new();
    };
    let external = federation_name(&doc, "external");
    let extensions = extension_types(&doc);
    let mut out = BTreeSet::new();
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        let (type_name, fields, whole) = match t {
            TypeDefinition::Object(o) => (
                o.name(),
                o.fields().collect::<Vec<_>>(),
                o.directives()
                    .any(|d| is_directive(&d, "external", &external)),
            ),
            TypeDefinition::Interface(i) => (i.name(), i.fields().collect::<Vec<_>>(), false),
            _ => continue,
        };
        let extension_keys = extensions.get(type_name);
        for f in fields {
            if extension_keys.is_some_and(|keys| keys.contains(f.name())) {
                continue;
            }
            if whole
                || f.directives()
                    .any(|d| is_directive(&d, "external", &external))
            {
                out.insert((type_name.to_string(), f.name().to_string()));
            }
        }
    }
    out
}

/// The fields of a subgraph's object and interface types (definitions
/// and extensions), each with its type's name.
fn composite_fields<'a>(
    doc: &'a cynic_parser::TypeSystemDocument,
) -> Vec<(&'a str, cynic_parser::type_system::FieldDefinition<'a>)> {
    let mut out = Vec::new();
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        match t {
            TypeDefinition::Object(o) => out.extend(o.fields().map(|f| (o.name(), f))),
            TypeDefinition::Interface(i) => out.extend(i.fields().map(|f| (i.name(), f))),
            _ => {}
        }
    }
    out
}

/// An `@override(from: "x")` naming no subgraph of this composition.
pub(crate) fn dangling_overrides(subgraphs: &[Subgraph]) -> Vec<CompositionError> {
    let names: BTreeSet<&str> = subgraphs.iter().map(|s| s.name.as_str()).collect();
    let mut errors = Vec::new();
    for subgraph in subgraphs {
        let Ok(doc) = cynic_parser::parse_type_system_document(&subgraph.sdl) else {
            continue;
        };
        let local = federation_name(&doc, "override");
        for (type_name, f) in composite_fields(&doc) {
            for d in f
                .directives()
                .filter(|d| is_directive(d, "override", &local))
            {
                let from = d
                    .arguments()
                    .find(|a| a.name() == "from")
                    .and_then(|a| a.value().as_str());
                if let Some(from) = from.filter(|from| !names.contains(from)) {
                    errors.push(CompositionError::new(
                        Some(subgraph.name.clone()),
                        format!(
                            "`{type_name}.{}` has @override(from: \"{from}\"), but no domain named `{from}` is composed; name the domain that served the field before, or remove the @override",
                            f.name()
                        ),
                    ));
                }
            }
        }
    }
    errors
}

/// The federation version (major, minor) that introduced each element a
/// subgraph may import from the federation spec.
const INTRODUCED: &[(&str, (u32, u32))] = &[
    ("@key", (2, 0)),
    ("@requires", (2, 0)),
    ("@provides", (2, 0)),
    ("@external", (2, 0)),
    ("@tag", (2, 0)),
    ("@extends", (2, 0)),
    ("@shareable", (2, 0)),
    ("@inaccessible", (2, 0)),
    ("@override", (2, 0)),
    ("FieldSet", (2, 0)),
    ("@composeDirective", (2, 1)),
    ("@interfaceObject", (2, 3)),
    ("@authenticated", (2, 5)),
    ("@requiresScopes", (2, 5)),
    ("Scope", (2, 5)),
    ("@policy", (2, 6)),
    ("Policy", (2, 6)),
    ("@context", (2, 8)),
    ("@fromContext", (2, 8)),
    ("ContextFieldValue", (2, 8)),
    ("@cost", (2, 9)),
    ("@listSize", (2, 9)),
];

/// `vX.Y` at the end of a spec URL.
fn spec_version(url: &str) -> Option<(u32, u32)> {
    let version = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()?
        .strip_prefix('v')?;
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Elements imported from a federation version that does not have them
/// (`@policy` from v2.3), and `@override(label:)` before v2.7, which
/// Federation 2 refuses ("Cannot import unknown element").
pub(crate) fn unknown_federation_elements(subgraphs: &[Subgraph]) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    for subgraph in subgraphs {
        let Ok(doc) = cynic_parser::parse_type_system_document(&subgraph.sdl) else {
            continue;
        };
        let mut linked = None;
        for def in doc.definitions() {
            let (Definition::Schema(schema) | Definition::SchemaExtension(schema)) = def else {
                continue;
            };
            for link in schema.directives().filter(|d| d.name() == "link") {
                let Some(url) = link
                    .arguments()
                    .find(|a| a.name() == "url")
                    .and_then(|a| a.value().as_str())
                else {
                    continue;
                };
                if !url.contains("specs.apollo.dev/federation/") {
                    continue;
                }
                let Some(version) = spec_version(url) else {
                    continue;
                };
                linked = Some(version);
                let imports = link
                    .arguments()
                    .find(|a| a.name() == "import")
                    .and_then(|a| a.value().as_list());
                for import in imports.into_iter().flat_map(|l| l.items()) {
                    let name = import.as_str().map(str::to_string).or_else(|| {
                        import.as_object().and_then(|o| {
                            o.fields()
                                .find(|f| f.name() == "name")
                                .and_then(|f| f.value().as_str().map(str::to_string))
                        })
                    });
                    let Some(name) = name else {
                        continue;
                    };
                    let known = INTRODUCED.iter().find(|(n, _)| *n == name);
                    let problem = match known {
                        None => format!("cannot import unknown element \"{name}\" from the federation spec"),
                        Some((_, since)) if *since > version => format!(
                            "cannot import \"{name}\": it needs federation v{}.{} or later, and this schema links v{}.{}",
                            since.0, since.1, version.0, version.1
                        ),
                        Some(_) => continue,
                    };
                    errors.push(CompositionError::new(Some(subgraph.name.clone()), problem));
                }
            }
        }
        let Some(version) = linked else {
            continue;
        };
        if version >= (2, 7) {
            continue;
        }
        let local = federation_name(&doc, "override");
        for (type_name, f) in composite_fields(&doc) {
            let labelled = f
                .directives()
                .filter(|d| is_directive(d, "override", &local))
                .any(|d| d.arguments().any(|a| a.name() == "label"));
            if labelled {
                errors.push(CompositionError::new(
                    Some(subgraph.name.clone()),
                    format!(
                        "`{type_name}.{}` has @override(label:), which needs federation v2.7 or later; this schema links v{}.{}",
                        f.name(),
                        version.0,
                        version.1
                    ),
                ));
            }
        }
    }
    errors
}

/// What the post-processing steps read from one subgraph: its scalars
/// and the keys of its interfaces (`(interface, key, resolvable)`).
struct Declared {
    scalars: BTreeSet<String>,
    interface_keys: Vec<(String, String, bool)>,
}

fn declared(sdl: &str) -> Declared {
    let mut out = Declared {
        scalars: BTreeSet::new(),
        interface_keys: Vec::new(),
    };
    let Ok(doc) = cynic_parser::parse_type_system_document(sdl) else {
        return out;
    };
    let key = federation_name(&doc, "key");
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        match t {
            TypeDefinition::Scalar(scalar) => {
                out.scalars.insert(scalar.name().to_string());
            }
            TypeDefinition::Interface(i) => {
                for d in i.directives().filter(|d| is_directive(d, "key", &key)) {
                    let fields = d
                        .arguments()
                        .find(|a| a.name() == "fields")
                        .and_then(|a| a.value().as_str());
                    let resolvable = d
                        .arguments()
                        .find(|a| a.name() == "resolvable")
                        .and_then(|a| a.value().as_bool())
                        .unwrap_or(true);
                    if let Some(fields) = fields {
                        out.interface_keys.push((
                            i.name().to_string(),
                            fields.to_string(),
                            resolvable,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn join_type(
    graph: &str,
    key: Option<(&str, bool)>,
) -> graphql_parser::schema::Directive<'static, String> {
    let mut arguments = vec![("graph".to_string(), Value::Enum(graph.to_string()))];
    if let Some((fields, resolvable)) = key {
        arguments.push(("key".to_string(), Value::String(fields.to_string())));
        if !resolvable {
            arguments.push(("resolvable".to_string(), Value::Boolean(false)));
        }
    }
    graphql_parser::schema::Directive {
        position: Default::default(),
        name: "join__type".to_string(),
        arguments,
    }
}

fn arg_of<'d>(
    d: &'d graphql_parser::schema::Directive<'static, String>,
    name: &str,
) -> Option<&'d Value<'static, String>> {
    d.arguments.iter().find(|(a, _)| a == name).map(|(_, v)| v)
}

fn same_selection(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.replace('{', " { ")
            .replace('}', " } ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    norm(a) == norm(b)
}

/// Joins `graphql-composition` leaves out: custom scalars get a
/// `@join__type` per subgraph defining them, and an interface's `@key` in
/// every subgraph that declares it gets its `@join__type(graph:, key:)`
/// (0.12 keeps only one subgraph's).
pub(crate) fn add_declared_joins(doc: &mut Document<'static, String>, subgraphs: &[Subgraph]) {
    let graphs = graph_values(doc);
    let mut scalar_graphs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut interface_keys: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
    for subgraph in subgraphs {
        let Some(graph) = graphs.get(&subgraph.name) else {
            continue;
        };
        let facts = declared(&subgraph.sdl);
        for scalar in facts.scalars {
            scalar_graphs
                .entry(scalar)
                .or_default()
                .insert(graph.clone());
        }
        for (interface, fields, resolvable) in facts.interface_keys {
            interface_keys
                .entry(interface)
                .or_default()
                .push((graph.clone(), fields, resolvable));
        }
    }
    for def in &mut doc.definitions {
        match def {
            SDef::TypeDefinition(STypeDef::Scalar(scalar)) => {
                let Some(owners) = scalar_graphs.get(&scalar.name) else {
                    continue;
                };
                for graph in owners {
                    let present = scalar.directives.iter().any(|d| {
                        d.name == "join__type"
                            && matches!(arg_of(d, "graph"), Some(Value::Enum(g)) if g == graph)
                    });
                    if !present {
                        scalar.directives.push(join_type(graph, None));
                    }
                }
            }
            SDef::TypeDefinition(STypeDef::Interface(interface)) => {
                let Some(keys) = interface_keys.get(&interface.name) else {
                    continue;
                };
                for (graph, fields, resolvable) in keys {
                    let present = interface.directives.iter().any(|d| {
                        d.name == "join__type"
                            && matches!(arg_of(d, "graph"), Some(Value::Enum(g)) if g == graph)
                            && matches!(arg_of(d, "key"), Some(Value::String(k)) if same_selection(k, fields))
                    });
                    if !present {
                        interface
                            .directives
                            .push(join_type(graph, Some((fields, *resolvable))));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Progressive override: the subgraph a field is overridden from keeps
/// serving it while the label is off, so its `@join__field` carries the
/// same `overrideLabel` (as Apollo and The Guild write it); 0.12 leaves
/// it off, and the planner would treat the old field as gone.
pub(crate) fn label_overridden_fields(doc: &mut Document<'static, String>) {
    let graphs = graph_values(doc);
    for def in &mut doc.definitions {
        let fields = match def {
            SDef::TypeDefinition(STypeDef::Object(o)) => &mut o.fields,
            SDef::TypeDefinition(STypeDef::Interface(i)) => &mut i.fields,
            _ => continue,
        };
        for f in fields.iter_mut() {
            let labelled: Vec<(String, Value<'static, String>)> = f
                .directives
                .iter()
                .filter(|d| d.name == "join__field")
                .filter_map(
                    |d| match (arg_of(d, "override"), arg_of(d, "overrideLabel")) {
                        (Some(Value::String(from)), Some(label)) => {
                            graphs.get(from).map(|g| (g.clone(), label.clone()))
                        }
                        _ => None,
                    },
                )
                .collect();
            for (from_graph, label) in labelled {
                for d in f.directives.iter_mut().filter(|d| d.name == "join__field") {
                    let is_from =
                        matches!(arg_of(d, "graph"), Some(Value::Enum(g)) if *g == from_graph);
                    if is_from && arg_of(d, "overrideLabel").is_none() {
                        d.arguments
                            .push(("overrideLabel".to_string(), label.clone()));
                    }
                }
            }
        }
    }
}

/// `@external` fields a subgraph never uses (in a `@key`, `@requires` or
/// `@provides` selection, or to satisfy an interface field): Federation
/// 2's `EXTERNAL_UNUSED` error.
pub(crate) fn unused_externals(subgraphs: &[Subgraph]) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    for subgraph in subgraphs {
        let Ok(doc) = cynic_parser::parse_type_system_document(&subgraph.sdl) else {
            continue;
        };
        // Federation 1 subgraphs (no @link) mark extension keys external.
        let is_federation_2 = doc.definitions().any(|d| {
            matches!(d, Definition::SchemaExtension(s) | Definition::Schema(s) if s.directives().any(|d| d.name() == "link"))
        });
        if !is_federation_2 {
            continue;
        }
        let names: BTreeMap<&str, String> =
            ["key", "requires", "provides", "external", "shareable"]
                .into_iter()
                .map(|n| (n, federation_name(&doc, n)))
                .collect();
        let index = field_index(&subgraph.sdl, &doc, &names["shareable"]);
        let mut used: BTreeSet<(String, String)> = BTreeSet::new();
        let mut externals: Vec<(String, String)> = Vec::new();
        let mut interfaces_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        fn mark(
            type_name: &str,
            selection: &Selection,
            index: &FieldIndex,
            used: &mut BTreeSet<(String, String)>,
        ) {
            for (field, below) in &selection.0 {
                if let Some(condition) = Selection::fragment_type(field) {
                    let on = if condition.is_empty() {
                        type_name
                    } else {
                        condition
                    };
                    mark(on, below, index, used);
                    continue;
                }
                used.insert((type_name.to_string(), field.clone()));
                if let Some((output, _, _)) = index.get(&(type_name.to_string(), field.clone())) {
                    mark(output, below, index, used);
                }
            }
        }
        for def in doc.definitions() {
            let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
                continue;
            };
            let (type_name, type_directives, fields) = match t {
                TypeDefinition::Object(o) => {
                    interfaces_of
                        .entry(o.name().to_string())
                        .or_default()
                        .extend(o.implements_interfaces().map(str::to_string));
                    (
                        o.name(),
                        o.directives().collect::<Vec<_>>(),
                        o.fields().collect::<Vec<_>>(),
                    )
                }
                TypeDefinition::Interface(i) => (
                    i.name(),
                    i.directives().collect::<Vec<_>>(),
                    i.fields().collect::<Vec<_>>(),
                ),
                _ => continue,
            };
            let selection_of = |d: &Directive<'_>| {
                d.arguments()
                    .find(|a| a.name() == "fields")
                    .and_then(|a| a.value().as_str())
                    .map(parse_selection)
            };
            for d in type_directives
                .iter()
                .filter(|d| is_directive(d, "key", &names["key"]))
            {
                if let Some(selection) = selection_of(d) {
                    mark(type_name, &selection, &index, &mut used);
                }
            }
            for f in fields {
                if f.directives()
                    .any(|d| is_directive(&d, "external", &names["external"]))
                {
                    externals.push((type_name.to_string(), f.name().to_string()));
                }
                for d in f.directives() {
                    if is_directive(&d, "requires", &names["requires"]) {
                        if let Some(selection) = selection_of(&d) {
                            mark(type_name, &selection, &index, &mut used);
                        }
                    }
                    if is_directive(&d, "provides", &names["provides"]) {
                        if let Some(selection) = selection_of(&d) {
                            mark(f.ty().name(), &selection, &index, &mut used);
                        }
                    }
                }
            }
        }
        for (type_name, field) in externals {
            let satisfies_interface = interfaces_of
                .get(&type_name)
                .into_iter()
                .flatten()
                .any(|i| index.contains_key(&(i.clone(), field.clone())));
            if !used.contains(&(type_name.clone(), field.clone())) && !satisfies_interface {
                errors.push(CompositionError::new(
                    Some(subgraph.name.clone()),
                    format!(
                        "`{type_name}.{field}` is marked @external but no @key, @requires or @provides of this domain uses it (EXTERNAL_UNUSED); remove the field or the @external"
                    ),
                ));
            }
        }
    }
    errors
}

/// The line (from 1) of a type, or of one of its fields, in a subgraph's
/// schema text.
pub(crate) fn line_of(sdl: &str, type_name: &str, field: Option<&str>) -> Option<u32> {
    let doc = cynic_parser::parse_type_system_document(sdl).ok()?;
    let mut at = None;
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        if t.name() != type_name {
            continue;
        }
        let fields: Vec<(&str, usize)> = match t {
            TypeDefinition::Object(o) => o.fields().map(|f| (f.name(), f.span().start)).collect(),
            TypeDefinition::Interface(i) => {
                i.fields().map(|f| (f.name(), f.span().start)).collect()
            }
            TypeDefinition::InputObject(i) => {
                i.fields().map(|f| (f.name(), f.span().start)).collect()
            }
            TypeDefinition::Enum(e) => e.values().map(|v| (v.value(), v.span().start)).collect(),
            _ => Vec::new(),
        };
        match field {
            Some(name) => {
                if let Some((_, start)) = fields.iter().find(|(n, _)| *n == name) {
                    at = Some(*start);
                    break;
                }
            }
            None => {
                at = Some(t.span().start);
                break;
            }
        }
    }
    let at = at?.min(sdl.len());
    Some(sdl[..at].matches('\n').count() as u32 + 1)
}

/// `graph:` enum value of each subgraph name, from `join__Graph`.
fn graph_values(doc: &Document<'static, String>) -> BTreeMap<String, String> {
    crate::join_graphs(doc)
        .into_iter()
        .map(|(value, name)| (name, value))
        .collect()
}

/// `@external` fields keep `external: true` on their subgraph's
/// `@join__field` (`graphql-composition` 0.12 drops it for key fields), so
/// the planner never sends a subgraph for a field it only references.
pub(crate) fn mark_external_fields(doc: &mut Document<'static, String>, subgraphs: &[Subgraph]) {
    let graphs = graph_values(doc);
    let mut external: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for subgraph in subgraphs {
        let Some(graph) = graphs.get(&subgraph.name) else {
            continue;
        };
        for key in externals(&subgraph.sdl) {
            external.entry(key).or_default().insert(graph.clone());
        }
    }
    if external.is_empty() {
        return;
    }
    for def in &mut doc.definitions {
        let (type_name, type_directives, fields) = match def {
            SDef::TypeDefinition(STypeDef::Object(o)) => (&o.name, &o.directives, &mut o.fields),
            SDef::TypeDefinition(STypeDef::Interface(i)) => (&i.name, &i.directives, &mut i.fields),
            _ => continue,
        };
        let type_graphs: Vec<String> = type_directives
            .iter()
            .filter(|d| d.name == "join__type")
            .filter_map(|d| {
                d.arguments.iter().find_map(|(a, v)| match (a.as_str(), v) {
                    ("graph", Value::Enum(g)) => Some(g.clone()),
                    _ => None,
                })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for f in fields.iter_mut() {
            let Some(graphs) = external.get(&(type_name.clone(), f.name.clone())) else {
                continue;
            };
            // No `@join__field` means "in every subgraph of the type": say
            // so explicitly, to mark the external ones.
            if !f.directives.iter().any(|d| d.name == "join__field") {
                for graph in &type_graphs {
                    f.directives.push(graphql_parser::schema::Directive {
                        position: Default::default(),
                        name: "join__field".to_string(),
                        arguments: vec![("graph".to_string(), Value::Enum(graph.clone()))],
                    });
                }
            }
            for d in f.directives.iter_mut().filter(|d| d.name == "join__field") {
                let graph = d.arguments.iter().find_map(|(a, v)| match (a.as_str(), v) {
                    ("graph", Value::Enum(g)) => Some(g.clone()),
                    _ => None,
                });
                let marked = d.arguments.iter().any(|(a, _)| a == "external");
                if !marked && graph.is_some_and(|g| graphs.contains(&g)) {
                    d.arguments
                        .push(("external".to_string(), Value::Boolean(true)));
                }
            }
        }
    }
}

/// Links the authorization specs (and declares their directives) when a
/// domain used `@authenticated`, `@requiresScopes` or `@policy`:
/// `graphql-composition` keeps the directives on the fields but links no
/// spec, and the engine enforces only directives of linked specs, so a
/// domain's `@policy` field would be served to anyone by a gateway given
/// the bare composition.
pub(crate) fn link_security_specs(doc: &mut Document<'static, String>) -> Result<(), String> {
    fn uses(directives: &[graphql_parser::schema::Directive<'static, String>]) -> bool {
        directives.iter().any(|d| {
            matches!(
                d.name.as_str(),
                "authenticated" | "requiresScopes" | "policy"
            )
        })
    }
    let used = doc.definitions.iter().any(|def| match def {
        SDef::TypeDefinition(STypeDef::Object(o)) => {
            uses(&o.directives) || o.fields.iter().any(|f| uses(&f.directives))
        }
        SDef::TypeDefinition(STypeDef::Interface(i)) => {
            uses(&i.directives) || i.fields.iter().any(|f| uses(&f.directives))
        }
        SDef::TypeDefinition(STypeDef::Scalar(s)) => uses(&s.directives),
        SDef::TypeDefinition(STypeDef::Enum(e)) => uses(&e.directives),
        _ => false,
    });
    if used {
        crate::access::add_definitions(doc)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_key_fields_become_shareable_with_the_imported_name() {
        let sdl = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", {name: "@shareable", as: "@shared"}])
type Entity @key(fields: "id { one two }") { id: CompositeID! name: String }
type CompositeID { one: ID! two: ID! @shared three: Int }"#;
        let out = mark_nested_key_fields_shareable(sdl);
        assert!(out.contains("one: ID! @shared two"), "{out}");
        assert!(out.contains("two: ID! @shared three"), "{out}");
        assert!(out.contains("three: Int }"), "{out}");
        assert!(out.contains("id: CompositeID! name"), "{out}");
    }

    #[test]
    fn selections_nest() {
        let s = parse_selection("id { one two { three } } other");
        assert_eq!(s.0.len(), 2);
        assert_eq!(s.0[0].1 .0.len(), 2);
        assert_eq!(s.0[0].1 .0[1].1 .0[0].0, "three");
    }
}
