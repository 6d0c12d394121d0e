//! Satisfiability: every field a consumer can select must be resolvable
//! by some domain reachable from where the query stands. Apollo's and The
//! Guild's compositions refuse a supergraph where a selection cannot be
//! planned (`SATISFIABILITY_ERROR`); `graphql-composition` does not check
//! it, so a gateway would fail at query time instead.
//!
//! The check walks the supergraph's join directives: it starts at the root
//! fields, follows each field into the domain that resolves it, and may
//! move between domains through a resolvable `@key` whose fields the
//! current domain has. At each object type reached in a domain, every
//! field of the type must be resolvable in that domain or in one reachable
//! from it.
//!
//! It errs towards composing: types implementing an entity interface or an
//! `@interfaceObject` are not checked (their fields move through the
//! interface), `@external` fields a domain `@provides` anywhere count as
//! its own, and `@requires` conditions are not followed. What it refuses,
//! Apollo refuses too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use graphql_parser::schema::{Definition, Directive, Document, TypeDefinition, Value};

use crate::fidelity::Selection;
use crate::CompositionError;

/// One domain's part in a type: its keys (`fields`, resolvable).
#[derive(Default, Clone)]
struct Membership {
    keys: Vec<(Vec<String>, bool)>,
    interface_object: bool,
}

/// One field's part in one domain.
#[derive(Clone)]
struct FieldJoin {
    graph: String,
    external: bool,
    used_overridden: bool,
    /// The `@provides` selection, as written.
    provides: Option<String>,
}

struct FieldInfo {
    name: String,
    output: String,
    joins: Vec<FieldJoin>,
    inaccessible: bool,
}

#[derive(Default)]
struct TypeInfo {
    kind: Kind,
    members: BTreeMap<String, Membership>,
    fields: Vec<FieldInfo>,
    /// Per graph: implementations (interfaces) or members (unions).
    possible: BTreeMap<String, BTreeSet<String>>,
    interfaces: Vec<String>,
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum Kind {
    #[default]
    Leaf,
    Object,
    Interface,
    Union,
}

fn argument<'a>(
    d: &'a Directive<'static, String>,
    name: &str,
) -> Option<&'a Value<'static, String>> {
    d.arguments.iter().find(|(a, _)| a == name).map(|(_, v)| v)
}

fn string(d: &Directive<'static, String>, name: &str) -> Option<String> {
    match argument(d, name) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn boolean(d: &Directive<'static, String>, name: &str) -> Option<bool> {
    match argument(d, name) {
        Some(Value::Boolean(b)) => Some(*b),
        _ => None,
    }
}

fn graph(d: &Directive<'static, String>) -> Option<String> {
    match argument(d, "graph") {
        Some(Value::Enum(g)) => Some(g.clone()),
        _ => None,
    }
}

/// Top-level field names of a field set.
fn top_level(set: &str) -> Vec<String> {
    crate::fidelity::parse_selection(set)
        .0
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| Selection::fragment_type(name).is_none())
        .collect()
}

fn mark_provided(
    types: &BTreeMap<String, TypeInfo>,
    type_name: &str,
    graph: &str,
    selection: &Selection,
    out: &mut BTreeSet<(String, String, String)>,
) {
    for (name, sub) in &selection.0 {
        if let Some(condition) = Selection::fragment_type(name) {
            let on = if condition.is_empty() {
                type_name
            } else {
                condition
            };
            mark_provided(types, on, graph, sub, out);
            continue;
        }
        out.insert((type_name.to_string(), graph.to_string(), name.clone()));
        if sub.0.is_empty() {
            continue;
        }
        let Some(info) = types.get(type_name) else {
            continue;
        };
        if let Some(field) = info.fields.iter().find(|f| &f.name == name) {
            // Into the field's type and, for abstract types, its members.
            let mut targets = vec![field.output.clone()];
            if let Some(target) = types.get(&field.output) {
                targets.extend(target.possible.values().flatten().cloned());
            }
            for target in targets {
                mark_provided(types, &target, graph, sub, out);
            }
        }
    }
}

fn base(ty: &graphql_parser::schema::Type<'static, String>) -> String {
    use graphql_parser::schema::Type;
    match ty {
        Type::NamedType(n) => n.clone(),
        Type::ListType(t) | Type::NonNullType(t) => base(t),
    }
}

fn read(doc: &Document<'static, String>) -> (BTreeMap<String, TypeInfo>, Vec<String>) {
    let mut types: BTreeMap<String, TypeInfo> = BTreeMap::new();
    let mut roots = Vec::new();
    for def in &doc.definitions {
        match def {
            Definition::SchemaDefinition(s) => {
                roots.extend(s.query.iter().cloned());
                roots.extend(s.mutation.iter().cloned());
                roots.extend(s.subscription.iter().cloned());
            }
            Definition::TypeDefinition(t) => {
                let (name, directives, kind) = match t {
                    TypeDefinition::Object(o) => (&o.name, &o.directives, Kind::Object),
                    TypeDefinition::Interface(i) => (&i.name, &i.directives, Kind::Interface),
                    TypeDefinition::Union(u) => (&u.name, &u.directives, Kind::Union),
                    _ => continue,
                };
                let info = types.entry(name.clone()).or_default();
                info.kind = kind;
                for d in directives {
                    let Some(g) = graph(d) else {
                        continue;
                    };
                    match d.name.as_str() {
                        "join__type" => {
                            let member = info.members.entry(g).or_default();
                            if let Some(key) = string(d, "key") {
                                member.keys.push((
                                    top_level(&key),
                                    boolean(d, "resolvable") != Some(false),
                                ));
                            }
                            member.interface_object |=
                                boolean(d, "isInterfaceObject") == Some(true);
                        }
                        "join__unionMember" => {
                            if let Some(m) = string(d, "member") {
                                info.possible.entry(g).or_default().insert(m);
                            }
                        }
                        _ => {}
                    }
                }
                let fields = match t {
                    TypeDefinition::Object(o) => {
                        info.interfaces = o.implements_interfaces.clone();
                        Some(&o.fields)
                    }
                    TypeDefinition::Interface(i) => {
                        info.interfaces = i.implements_interfaces.clone();
                        Some(&i.fields)
                    }
                    _ => None,
                };
                for f in fields.into_iter().flatten() {
                    let joins: Vec<FieldJoin> = f
                        .directives
                        .iter()
                        .filter(|d| d.name == "join__field")
                        .filter_map(|d| {
                            Some(FieldJoin {
                                graph: graph(d)?,
                                external: boolean(d, "external") == Some(true),
                                used_overridden: boolean(d, "usedOverridden") == Some(true),
                                provides: string(d, "provides"),
                            })
                        })
                        .collect();
                    info.fields.push(FieldInfo {
                        name: f.name.clone(),
                        output: base(&f.field_type),
                        joins,
                        inaccessible: f.directives.iter().any(|d| d.name == "inaccessible"),
                    });
                }
            }
            _ => {}
        }
    }
    if roots.is_empty() {
        roots = ["Query", "Mutation", "Subscription"]
            .into_iter()
            .filter(|r| types.contains_key(*r))
            .map(str::to_string)
            .collect();
    }
    // Implementations per graph, from `join__implements` on the objects.
    for def in &doc.definitions {
        let Definition::TypeDefinition(TypeDefinition::Object(o)) = def else {
            continue;
        };
        for d in o.directives.iter().filter(|d| d.name == "join__implements") {
            if let (Some(g), Some(interface)) = (graph(d), string(d, "interface")) {
                if let Some(info) = types.get_mut(&interface) {
                    info.possible.entry(g).or_default().insert(o.name.clone());
                }
            }
        }
    }
    (types, roots)
}

impl TypeInfo {
    /// Graphs a field lives in: its `join__field`s, or every graph of the
    /// type when it has none.
    fn joins_of<'a>(&'a self, field: &'a FieldInfo) -> Vec<FieldJoin> {
        if field.joins.is_empty() {
            self.members
                .keys()
                .map(|g| FieldJoin {
                    graph: g.clone(),
                    external: false,
                    used_overridden: false,
                    provides: None,
                })
                .collect()
        } else {
            field.joins.clone()
        }
    }
}

/// The satisfiability errors of a composed supergraph.
pub(crate) fn check(doc: &Document<'static, String>) -> Vec<CompositionError> {
    let (types, roots) = read(doc);
    let names: BTreeMap<String, String> = crate::join_graphs(doc).into_iter().collect();
    let domain = |g: &str| names.get(g).cloned().unwrap_or_else(|| g.to_lowercase());

    // External fields each graph provides somewhere, per type, nested
    // selections (`info { name }`) included.
    let mut provided: BTreeSet<(String, String, String)> = BTreeSet::new();
    for info in types.values() {
        for f in &info.fields {
            for j in &f.joins {
                if let Some(selection) = &j.provides {
                    let tree = crate::fidelity::parse_selection(selection);
                    mark_provided(&types, &f.output, &j.graph, &tree, &mut provided);
                }
            }
        }
    }
    let resolvable_in = |type_name: &str, info: &TypeInfo, field: &FieldInfo, g: &str| {
        info.joins_of(field).iter().any(|j| {
            j.graph == g
                && !j.used_overridden
                && (!j.external
                    || provided.contains(&(
                        type_name.to_string(),
                        g.to_string(),
                        field.name.clone(),
                    )))
        })
    };
    let has_field_in = |info: &TypeInfo, field: &str, g: &str| {
        info.fields
            .iter()
            .find(|f| f.name == field)
            .is_some_and(|f| info.joins_of(f).iter().any(|j| j.graph == g))
    };
    // Graphs reachable from `g` for `type_name` through resolvable keys.
    let closure = |type_name: &str, info: &TypeInfo, g: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::from([g.to_string()]);
        let mut queue = VecDeque::from([g.to_string()]);
        while let Some(from) = queue.pop_front() {
            for (to, member) in &info.members {
                if seen.contains(to) {
                    continue;
                }
                let jumpable = member.keys.iter().any(|(fields, resolvable)| {
                    *resolvable && fields.iter().all(|f| has_field_in(info, f, &from))
                });
                if jumpable {
                    seen.insert(to.clone());
                    queue.push_back(to.clone());
                }
            }
        }
        let _ = type_name;
        seen
    };
    let entity_interfaces: BTreeSet<&String> = types
        .iter()
        .filter(|(_, i)| {
            i.kind == Kind::Interface
                && i.members
                    .values()
                    .any(|m| !m.keys.is_empty() || m.interface_object)
        })
        .map(|(n, _)| n)
        .chain(
            types
                .iter()
                .filter(|(_, i)| i.members.values().any(|m| m.interface_object))
                .map(|(n, _)| n),
        )
        .collect();

    // Breadth first from the root fields: (type, graph) with the path.
    let mut reached: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut queue: VecDeque<(String, String, Vec<String>)> = VecDeque::new();
    let enter = |target: &str,
                 g: &str,
                 path: Vec<String>,
                 queue: &mut VecDeque<(String, String, Vec<String>)>| {
        let Some(info) = types.get(target) else {
            return;
        };
        match info.kind {
            Kind::Object => queue.push_back((target.to_string(), g.to_string(), path)),
            Kind::Interface | Kind::Union => {
                if info.kind == Kind::Interface {
                    queue.push_back((target.to_string(), g.to_string(), path.clone()));
                }
                for member in info.possible.get(g).into_iter().flatten() {
                    let mut p = path.clone();
                    p.push(format!("... on {member}"));
                    queue.push_back((member.clone(), g.to_string(), p));
                }
            }
            Kind::Leaf => {}
        }
    };
    for root in &roots {
        let Some(info) = types.get(root) else {
            continue;
        };
        for f in &info.fields {
            for j in info.joins_of(f) {
                if j.external || j.used_overridden {
                    continue;
                }
                enter(&f.output, &j.graph, vec![f.name.clone()], &mut queue);
            }
        }
    }
    let mut errors = Vec::new();
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    while let Some((type_name, g, path)) = queue.pop_front() {
        if reached.contains_key(&(type_name.clone(), g.clone())) || path.len() > 32 {
            continue;
        }
        reached.insert((type_name.clone(), g.clone()), path.clone());
        let Some(info) = types.get(&type_name) else {
            continue;
        };
        let reachable = closure(&type_name, info, &g);
        let checked = info.kind == Kind::Object
            && !roots.contains(&type_name)
            && !info
                .interfaces
                .iter()
                .any(|i| entity_interfaces.contains(i))
            && !entity_interfaces.contains(&type_name);
        // Types whose fields move through an entity interface or an
        // `@interfaceObject` are neither checked nor walked further.
        let behind_interface = info
            .interfaces
            .iter()
            .any(|i| entity_interfaces.contains(i))
            || entity_interfaces.contains(&type_name);
        if behind_interface {
            continue;
        }
        for f in &info.fields {
            let here = reachable
                .iter()
                .filter(|r| resolvable_in(&type_name, info, f, r))
                .cloned()
                .collect::<Vec<_>>();
            for r in &here {
                let mut p = path.clone();
                p.push(f.name.clone());
                enter(&f.output, r, p, &mut queue);
            }
            if !checked || f.inaccessible || !here.is_empty() {
                continue;
            }
            if !reported.insert((type_name.clone(), f.name.clone())) {
                continue;
            }
            let owners: Vec<String> = info
                .joins_of(f)
                .iter()
                .filter(|j| !j.external && !j.used_overridden)
                .map(|j| domain(&j.graph))
                .collect();
            let mut query = path.clone();
            query.push(f.name.clone());
            let mut text = String::new();
            for (depth, step) in query.iter().enumerate() {
                if depth + 1 < query.len() {
                    text.push_str(&format!("{step} {{ "));
                } else {
                    text.push_str(step);
                }
            }
            text.push_str(&" }".repeat(query.len().saturating_sub(1)));
            let why = if owners.is_empty() {
                "no domain resolves it".to_string()
            } else {
                format!(
                    "the domains that resolve it ({}) cannot be reached from `{}`: `{type_name}` has no resolvable @key there whose fields `{}` has",
                    owners
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    domain(&g),
                    domain(&g)
                )
            };
            let blamed = if owners.len() == 1 {
                owners.first().cloned()
            } else {
                None
            };
            errors.push(CompositionError::new(
                blamed,
                format!(
                    "SATISFIABILITY_ERROR: the query `{{ {text} }}` cannot be planned: from domain `{}`, field `{type_name}.{}` is not resolvable and {why}",
                    domain(&g),
                    f.name
                ),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use crate::{compose, Subgraph};

    const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@provides"])"#;

    fn subgraph(name: &str, body: &str) -> Subgraph {
        Subgraph {
            name: name.into(),
            url: format!("http://{name}.local/graphql"),
            sdl: format!("{LINK}\n{body}"),
        }
    }

    #[test]
    fn a_field_no_reachable_domain_resolves_is_refused_with_the_query() {
        let failed = compose(&[
            subgraph(
                "a",
                r#"type Query { p: Product } type Product @key(fields: "id", resolvable: false) { id: ID! }"#,
            ),
            subgraph(
                "b",
                r#"type Product @key(fields: "id", resolvable: false) { id: ID! name: String }"#,
            ),
        ])
        .expect_err("unsatisfiable");
        let message = failed.to_string();
        assert!(
            message.contains("SATISFIABILITY_ERROR")
                && message.contains("{ p { name } }")
                && message.contains("`Product.name`"),
            "{message}"
        );
        assert_eq!(failed.0[0].domain.as_deref(), Some("b"));
    }

    #[test]
    fn a_resolvable_key_or_a_provides_makes_it_plannable() {
        compose(&[
            subgraph(
                "a",
                r#"type Query { p: Product } type Product @key(fields: "id", resolvable: false) { id: ID! }"#,
            ),
            subgraph(
                "b",
                r#"type Product @key(fields: "id") { id: ID! name: String }"#,
            ),
        ])
        .expect("a resolvable key in b");
        compose(&[
            subgraph(
                "a",
                r#"type Query { p: Product @provides(fields: "name") } type Product @key(fields: "id", resolvable: false) { id: ID! name: String @external }"#,
            ),
            subgraph(
                "b",
                r#"type Product @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }"#,
            ),
        ])
        .expect("provided where it is reached");
    }
}
