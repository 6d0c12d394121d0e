//! Composition hints: what Apollo Federation 2's composition reports as a
//! hint (composes, but a domain team should know), kept as warnings on a
//! successful composition and never as errors. Codes are Apollo's, so a
//! team can look them up in Apollo's documentation.
//!
//! Covered: `INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE`,
//! `INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE`,
//! `INCONSISTENT_ARGUMENT_PRESENCE`, `INCONSISTENT_DEFAULT_VALUE_PRESENCE`,
//! `INCONSISTENT_INPUT_OBJECT_FIELD`, `INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM`,
//! `INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM`, `INCONSISTENT_UNION_MEMBER`,
//! `INCONSISTENT_DESCRIPTION`, `OVERRIDDEN_FIELD_CAN_BE_REMOVED`,
//! `OVERRIDE_DIRECTIVE_CAN_BE_REMOVED`.

use std::collections::{BTreeMap, BTreeSet};

use cynic_parser::type_system::{Definition, TypeDefinition};
use graphql_parser::schema::{Definition as SDef, Document, TypeDefinition as STypeDef};

use crate::Subgraph;

/// Something the composition accepted that a domain team should know.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompositionWarning {
    /// Apollo Federation's hint code, e.g. `INCONSISTENT_ARGUMENT_PRESENCE`.
    pub code: String,
    /// The schema coordinate it is about: `Type`, `Type.field`,
    /// `Type.field(arg:)` or `Enum.VALUE`.
    pub coordinate: String,
    /// The domains involved.
    pub domains: Vec<String>,
    pub message: String,
}

impl std::fmt::Display for CompositionWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// `value → domains that have it` for one coordinate.
type ByValue = BTreeMap<String, Vec<String>>;

/// What each domain defines, by coordinate.
#[derive(Default)]
struct Seen {
    /// Object and interface types → domains defining them.
    composites: BTreeMap<String, Vec<String>>,
    /// `Type.field` → its type text → domains.
    field_types: BTreeMap<String, ByValue>,
    /// `Type.field` → argument → its type text → domains.
    arguments: BTreeMap<String, BTreeMap<String, ByValue>>,
    /// `Type.field(arg:)` → default value text (or "") → domains.
    defaults: BTreeMap<String, ByValue>,
    /// Input types → domains; `Input.field` → domains.
    inputs: BTreeMap<String, Vec<String>>,
    input_fields: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    enums: BTreeMap<String, Vec<String>>,
    enum_values: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    unions: BTreeMap<String, Vec<String>>,
    union_members: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Coordinate → description → domains.
    descriptions: BTreeMap<String, ByValue>,
    /// `(domain, Type.field, from, labelled)` per `@override`.
    overrides: Vec<(String, String, String, bool)>,
    /// `Type.field` → domains where it is `@external`.
    external: BTreeMap<String, BTreeSet<String>>,
}

fn push(map: &mut ByValue, value: String, domain: &str) {
    let list = map.entry(value).or_default();
    if !list.iter().any(|d| d == domain) {
        list.push(domain.to_string());
    }
}

fn add(list: &mut Vec<String>, domain: &str) {
    if !list.iter().any(|d| d == domain) {
        list.push(domain.to_string());
    }
}

fn is_directive(name: &str, directive: &str) -> bool {
    name == directive || name == format!("federation__{directive}")
}

fn read(seen: &mut Seen, subgraph: &Subgraph) {
    let Ok(doc) = cynic_parser::parse_type_system_document(&subgraph.sdl) else {
        return;
    };
    let domain = subgraph.name.as_str();
    let text = |span: cynic_parser::Span| {
        subgraph
            .sdl
            .get(span.start..span.end)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    for def in doc.definitions() {
        let (Definition::Type(t) | Definition::TypeExtension(t)) = def else {
            continue;
        };
        let name = t.name().to_string();
        if name.starts_with('_') || name.starts_with("link__") || name.starts_with("federation__") {
            continue;
        }
        if let Some(description) = t.description() {
            push(
                seen.descriptions.entry(name.clone()).or_default(),
                description.to_string(),
                domain,
            );
        }
        let fields = match t {
            TypeDefinition::Object(o) => Some(o.fields().collect::<Vec<_>>()),
            TypeDefinition::Interface(i) => Some(i.fields().collect::<Vec<_>>()),
            _ => None,
        };
        if let Some(fields) = fields {
            add(seen.composites.entry(name.clone()).or_default(), domain);
            for f in fields {
                let coordinate = format!("{name}.{}", f.name());
                push(
                    seen.field_types.entry(coordinate.clone()).or_default(),
                    f.ty().to_string(),
                    domain,
                );
                if let Some(description) = f.description() {
                    push(
                        seen.descriptions.entry(coordinate.clone()).or_default(),
                        description.to_string(),
                        domain,
                    );
                }
                let arguments = seen.arguments.entry(coordinate.clone()).or_default();
                for a in f.arguments() {
                    push(
                        arguments.entry(a.name().to_string()).or_default(),
                        a.ty().to_string(),
                        domain,
                    );
                    let default = a
                        .default_value()
                        .map(|_| text(a.default_value_span()))
                        .unwrap_or_default();
                    push(
                        seen.defaults
                            .entry(format!("{coordinate}({}:)", a.name()))
                            .or_default(),
                        default,
                        domain,
                    );
                }
                for d in f.directives() {
                    if is_directive(d.name(), "external") {
                        seen.external
                            .entry(coordinate.clone())
                            .or_default()
                            .insert(domain.to_string());
                    }
                    if is_directive(d.name(), "override") {
                        let argument = |key: &str| {
                            d.arguments()
                                .find(|a| a.name() == key)
                                .and_then(|a| a.value().as_str().map(str::to_string))
                        };
                        if let Some(from) = argument("from") {
                            seen.overrides.push((
                                domain.to_string(),
                                coordinate.clone(),
                                from,
                                argument("label").is_some(),
                            ));
                        }
                    }
                }
            }
        }
        match t {
            TypeDefinition::InputObject(i) => {
                add(seen.inputs.entry(name.clone()).or_default(), domain);
                let fields = seen.input_fields.entry(name.clone()).or_default();
                for f in i.fields() {
                    add(fields.entry(f.name().to_string()).or_default(), domain);
                }
            }
            TypeDefinition::Enum(e) => {
                add(seen.enums.entry(name.clone()).or_default(), domain);
                let values = seen.enum_values.entry(name.clone()).or_default();
                for v in e.values() {
                    add(values.entry(v.value().to_string()).or_default(), domain);
                }
            }
            TypeDefinition::Union(u) => {
                add(seen.unions.entry(name.clone()).or_default(), domain);
                let members = seen.union_members.entry(name.clone()).or_default();
                for m in u.members() {
                    add(members.entry(m.name().to_string()).or_default(), domain);
                }
            }
            _ => {}
        }
    }
}

/// What the supergraph kept.
#[derive(Default)]
struct Kept {
    field_types: BTreeMap<String, String>,
    arguments: BTreeSet<String>,
    input_fields: BTreeSet<String>,
    enum_values: BTreeSet<String>,
    descriptions: BTreeMap<String, String>,
}

fn kept(supergraph: &Document<'static, String>) -> Kept {
    let mut kept = Kept::default();
    for def in &supergraph.definitions {
        let SDef::TypeDefinition(t) = def else {
            continue;
        };
        let (name, description, fields) = match t {
            STypeDef::Object(o) => (&o.name, &o.description, Some(&o.fields)),
            STypeDef::Interface(i) => (&i.name, &i.description, Some(&i.fields)),
            STypeDef::InputObject(i) => {
                for f in &i.fields {
                    kept.input_fields.insert(format!("{}.{}", i.name, f.name));
                }
                (&i.name, &i.description, None)
            }
            STypeDef::Enum(e) => {
                for v in &e.values {
                    kept.enum_values.insert(format!("{}.{}", e.name, v.name));
                }
                (&e.name, &e.description, None)
            }
            STypeDef::Union(u) => (&u.name, &u.description, None),
            STypeDef::Scalar(s) => (&s.name, &s.description, None),
        };
        if let Some(d) = description {
            kept.descriptions.insert(name.clone(), d.clone());
        }
        for f in fields.into_iter().flatten() {
            let coordinate = format!("{name}.{}", f.name);
            kept.field_types
                .insert(coordinate.clone(), f.field_type.to_string());
            if let Some(d) = &f.description {
                kept.descriptions.insert(coordinate.clone(), d.clone());
            }
            for a in &f.arguments {
                kept.arguments.insert(format!("{coordinate}({}:)", a.name));
            }
        }
    }
    kept
}

fn and_list(domains: &[String]) -> String {
    let quoted: Vec<String> = domains.iter().map(|d| format!("\"{d}\"")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

fn missing(all: &[String], having: &[String]) -> Vec<String> {
    all.iter()
        .filter(|d| !having.contains(d))
        .cloned()
        .collect()
}

fn warning(
    code: &str,
    coordinate: &str,
    domains: &[String],
    message: String,
) -> CompositionWarning {
    let mut domains = domains.to_vec();
    domains.sort();
    domains.dedup();
    CompositionWarning {
        code: code.to_string(),
        coordinate: coordinate.to_string(),
        domains,
        message,
    }
}

/// The hints of a composition that succeeded into `supergraph`.
pub(crate) fn hints(
    subgraphs: &[Subgraph],
    supergraph: &Document<'static, String>,
) -> Vec<CompositionWarning> {
    let mut seen = Seen::default();
    for subgraph in subgraphs {
        read(&mut seen, subgraph);
    }
    let kept = kept(supergraph);
    let mut out = Vec::new();

    for (coordinate, types) in &seen.field_types {
        if types.len() < 2 {
            continue;
        }
        let Some(merged) = kept.field_types.get(coordinate) else {
            continue;
        };
        let all: Vec<String> = types.values().flatten().cloned().collect();
        let per: Vec<String> = types
            .iter()
            .map(|(ty, ds)| format!("\"{ty}\" in {}", and_list(ds)))
            .collect();
        out.push(warning(
            "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
            coordinate,
            &all,
            format!(
                "Type of field \"{coordinate}\" is inconsistent but compatible across domains: {}; the supergraph uses \"{merged}\".",
                per.join(", ")
            ),
        ));
    }

    for (field, arguments) in &seen.arguments {
        let Some(defining) = seen.field_types.get(field) else {
            continue;
        };
        let field_domains: Vec<String> = defining.values().flatten().cloned().collect();
        if field_domains.len() < 2 {
            continue;
        }
        for (argument, types) in arguments {
            let coordinate = format!("{field}({argument}:)");
            let having: Vec<String> = types.values().flatten().cloned().collect();
            let without = missing(&field_domains, &having);
            if !without.is_empty() && !kept.arguments.contains(&coordinate) {
                out.push(warning(
                    "INCONSISTENT_ARGUMENT_PRESENCE",
                    &coordinate,
                    &field_domains,
                    format!(
                        "Optional argument \"{coordinate}\" is defined in {} but not in {}, where \"{field}\" is also defined; it is left out of the supergraph.",
                        and_list(&having),
                        and_list(&without)
                    ),
                ));
                continue;
            }
            if types.len() > 1 && kept.arguments.contains(&coordinate) {
                let per: Vec<String> = types
                    .iter()
                    .map(|(ty, ds)| format!("\"{ty}\" in {}", and_list(ds)))
                    .collect();
                out.push(warning(
                    "INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE",
                    &coordinate,
                    &having,
                    format!(
                        "Type of argument \"{coordinate}\" is inconsistent but compatible across domains: {}.",
                        per.join(", ")
                    ),
                ));
            }
            if let Some(defaults) = seen.defaults.get(&coordinate) {
                let with: Vec<String> = defaults
                    .iter()
                    .filter(|(d, _)| !d.is_empty())
                    .flat_map(|(_, ds)| ds.clone())
                    .collect();
                let without: Vec<String> = defaults.get("").cloned().unwrap_or_default();
                if !with.is_empty() && !without.is_empty() && kept.arguments.contains(&coordinate) {
                    out.push(warning(
                        "INCONSISTENT_DEFAULT_VALUE_PRESENCE",
                        &coordinate,
                        &having,
                        format!(
                            "Argument \"{coordinate}\" has a default value in {} but none in {}.",
                            and_list(&with),
                            and_list(&without)
                        ),
                    ));
                }
            }
        }
    }

    for (input, fields) in &seen.input_fields {
        let all = seen.inputs.get(input).cloned().unwrap_or_default();
        for (field, having) in fields {
            let without = missing(&all, having);
            let coordinate = format!("{input}.{field}");
            if !without.is_empty() && !kept.input_fields.contains(&coordinate) {
                out.push(warning(
                    "INCONSISTENT_INPUT_OBJECT_FIELD",
                    &coordinate,
                    &all,
                    format!(
                        "Input object field \"{coordinate}\" is defined in {} but not in {}; it is left out of the supergraph.",
                        and_list(having),
                        and_list(&without)
                    ),
                ));
            }
        }
    }

    for (enumeration, values) in &seen.enum_values {
        let all = seen.enums.get(enumeration).cloned().unwrap_or_default();
        for (value, having) in values {
            let without = missing(&all, having);
            if without.is_empty() {
                continue;
            }
            let coordinate = format!("{enumeration}.{value}");
            if kept.enum_values.contains(&coordinate) {
                out.push(warning(
                    "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
                    &coordinate,
                    &all,
                    format!(
                        "Value \"{value}\" of output enum \"{enumeration}\" is defined in {} but not in {}; the supergraph has it, and {} never return it.",
                        and_list(having),
                        and_list(&without),
                        and_list(&without)
                    ),
                ));
            } else {
                out.push(warning(
                    "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                    &coordinate,
                    &all,
                    format!(
                        "Value \"{value}\" of input enum \"{enumeration}\" is defined in {} but not in {}; it is left out of the supergraph.",
                        and_list(having),
                        and_list(&without)
                    ),
                ));
            }
        }
    }

    for (union, members) in &seen.union_members {
        let all = seen.unions.get(union).cloned().unwrap_or_default();
        for (member, having) in members {
            let without = missing(&all, having);
            if !without.is_empty() {
                out.push(warning(
                    "INCONSISTENT_UNION_MEMBER",
                    union,
                    &all,
                    format!(
                        "Union \"{union}\" has member \"{member}\" in {} but not in {}.",
                        and_list(having),
                        and_list(&without)
                    ),
                ));
            }
        }
    }

    for (coordinate, descriptions) in &seen.descriptions {
        if descriptions.len() < 2 {
            continue;
        }
        let all: Vec<String> = descriptions.values().flatten().cloned().collect();
        let chosen = kept
            .descriptions
            .get(coordinate)
            .and_then(|d| descriptions.get(d))
            .map(|ds| format!("; the supergraph uses the one of {}", and_list(ds)))
            .unwrap_or_default();
        out.push(warning(
            "INCONSISTENT_DESCRIPTION",
            coordinate,
            &all,
            format!(
                "\"{coordinate}\" has different descriptions in {}{chosen}.",
                and_list(&all)
            ),
        ));
    }

    let names: BTreeSet<&str> = subgraphs.iter().map(|s| s.name.as_str()).collect();
    for (domain, coordinate, from, labelled) in &seen.overrides {
        if !names.contains(from.as_str()) {
            continue; // an error of its own (dangling override)
        }
        let defined_in_from = seen
            .field_types
            .get(coordinate)
            .is_some_and(|types| types.values().flatten().any(|d| d == from));
        let external_in_from = seen
            .external
            .get(coordinate)
            .is_some_and(|ds| ds.contains(from));
        let pair = [domain.clone(), from.clone()];
        if !defined_in_from {
            out.push(warning(
                "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                coordinate,
                &pair,
                format!(
                    "Field \"{coordinate}\" in \"{domain}\" overrides \"{from}\", which does not define it; the @override can be removed."
                ),
            ));
        } else if !labelled && !external_in_from {
            out.push(warning(
                "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                coordinate,
                &pair,
                format!(
                    "Field \"{coordinate}\" in \"{from}\" is overridden by \"{domain}\"; consider removing it from \"{from}\"."
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{compose, Subgraph};

    const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@override"])"#;

    fn subgraph(name: &str, body: &str) -> Subgraph {
        Subgraph {
            name: name.into(),
            url: format!("http://{name}.local/graphql"),
            sdl: format!("{LINK}\n{body}"),
        }
    }

    fn codes(a: &str, b: &str) -> Vec<(String, String)> {
        let supergraph = compose(&[subgraph("a", a), subgraph("b", b)]).expect("composes");
        supergraph
            .warnings
            .iter()
            .map(|w| (w.code.clone(), w.coordinate.clone()))
            .collect()
    }

    #[test]
    fn each_hint_is_a_warning_of_a_composition_that_succeeds() {
        let found = codes(
            r#"type Query { search(text: String, limit: Int): [String!] @shareable things(kind: Kind): [Thing] @shareable }
               "A thing" type Thing @shareable { name: String! }
               input Filter { name: String limit: Int }
               enum Kind { ONE TWO }
               type Mutation { run(filter: Filter): Int @shareable }
               union Result = Thing
               type Product @key(fields: "id") { id: ID! price: Int @override(from: "b") }
               extend type Query { results: [Result] @shareable top: Product }"#,
            r#"type Query { search(text: String): [String!] @shareable things(kind: Kind): [Thing] @shareable }
               "Something" type Thing @shareable { name: String }
               input Filter { name: String }
               enum Kind { ONE }
               type Mutation { run(filter: Filter): Int @shareable }
               union Result = Other
               type Other @shareable { id: ID }
               type Product @key(fields: "id") { id: ID! price: Int }
               extend type Query { results: [Result] @shareable }"#,
        );
        for expected in [
            ("INCONSISTENT_ARGUMENT_PRESENCE", "Query.search(limit:)"),
            ("INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE", "Thing.name"),
            ("INCONSISTENT_DESCRIPTION", "Thing"),
            ("INCONSISTENT_INPUT_OBJECT_FIELD", "Filter.limit"),
            ("INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM", "Kind.TWO"),
            ("INCONSISTENT_UNION_MEMBER", "Result"),
            ("OVERRIDDEN_FIELD_CAN_BE_REMOVED", "Product.price"),
        ] {
            assert!(
                found.contains(&(expected.0.to_string(), expected.1.to_string())),
                "{expected:?} not in {found:?}"
            );
        }
    }

    #[test]
    fn consistent_domains_compose_without_warnings() {
        let found = codes(
            "type Query { a: String @shareable }",
            "type Query { a: String @shareable }",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
