//! Writes the mesh's access rules into a supergraph as the authorization
//! directives the gateway's engine enforces (`@requiresScopes`,
//! `@authenticated`), so one mechanism decides every field:
//!
//! - a field that only restricted domains serve requires the scope of a
//!   grant on one of them (`grant:<domain>` or `grant:<domain>:<Type.field>`)
//!   or the platform-admin scope;
//! - a catalog field policy adds its scopes (OR of AND-lists; an empty list
//!   means any authenticated caller);
//! - the domains' own `@requiresScopes`/`@authenticated` stay in force.
//!
//! Requirements are combined with AND. Two closings of known holes follow:
//! an interface field's requirement also applies to the same field of each
//! implementing type (so a concrete-type fragment cannot skip it), and a
//! field whose resolver `@requires` protected fields inherits their
//! requirements (so the protected value cannot leak through it).

use std::collections::{BTreeMap, BTreeSet};

use graphql_parser::query::{Selection, SelectionSet};
use graphql_parser::schema::{Definition, Directive, Document, Type, TypeDefinition, Value};

/// What the catalog asks of the supergraph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessRules {
    /// Subgraph (domain) names whose data needs a grant.
    pub restricted: BTreeSet<String>,
    /// `(Type.field, scopes)`: OR of AND-lists; empty: authenticated only.
    pub field_policies: Vec<(String, Vec<Vec<String>>)>,
    /// The scope that reads every restricted domain.
    pub admin_scope: String,
}

/// Alternatives in one requirement before the combination is refused.
const MAX_ALTERNATIVES: usize = 512;

/// A field's requirement. `scopes: None` with `authenticated` means any
/// authenticated caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Requirement {
    authenticated: bool,
    scopes: Option<BTreeSet<BTreeSet<String>>>,
    /// The domains' own `@policy` groups (OR of AND-lists), decided per
    /// request outside the engine's scope check.
    policies: Option<BTreeSet<BTreeSet<String>>>,
}

impl Requirement {
    fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_none() && self.policies.is_none()
    }

    fn scopes(groups: Vec<Vec<String>>) -> Self {
        if groups.is_empty() {
            return Self {
                authenticated: true,
                scopes: None,
                policies: None,
            };
        }
        Self {
            authenticated: true,
            policies: None,
            scopes: Some(
                groups
                    .into_iter()
                    .map(|g| g.into_iter().collect())
                    .collect(),
            ),
        }
    }

    /// Both requirements at once.
    fn and(&self, other: &Requirement) -> Result<Requirement, String> {
        Ok(Requirement {
            authenticated: self.authenticated || other.authenticated,
            scopes: both(&self.scopes, &other.scopes)?,
            policies: both(&self.policies, &other.policies)?,
        })
    }

    fn directives(&self) -> Vec<Directive<'static, String>> {
        let directive = |name: &str, arguments| Directive {
            position: Default::default(),
            name: name.to_string(),
            arguments,
        };
        let mut out = Vec::new();
        match &self.scopes {
            Some(groups) => out.push(directive(
                "requiresScopes",
                vec![("scopes".to_string(), groups_value(groups))],
            )),
            None if self.authenticated => out.push(directive("authenticated", Vec::new())),
            None => {}
        }
        if let Some(groups) = &self.policies {
            out.push(directive(
                "policy",
                vec![("policies".to_string(), groups_value(groups))],
            ));
        }
        out
    }
}

type Groups = BTreeSet<BTreeSet<String>>;

/// Two OR-of-AND requirements at once: the cross product of their groups.
fn both(a: &Option<Groups>, b: &Option<Groups>) -> Result<Option<Groups>, String> {
    match (a, b) {
        (None, s) | (s, None) => Ok(s.clone()),
        (Some(a), Some(b)) => {
            let mut out = BTreeSet::new();
            for x in a {
                for y in b {
                    out.insert(x.union(y).cloned().collect::<BTreeSet<String>>());
                    if out.len() > MAX_ALTERNATIVES {
                        return Err(format!(
                            "combined requirements exceed {MAX_ALTERNATIVES} alternatives"
                        ));
                    }
                }
            }
            Ok(Some(minimal(out)))
        }
    }
}

fn groups_value(groups: &Groups) -> Value<'static, String> {
    Value::List(
        groups
            .iter()
            .map(|g| Value::List(g.iter().cloned().map(Value::String).collect()))
            .collect(),
    )
}

/// Drops alternatives that contain another alternative (they add nothing).
fn minimal(groups: BTreeSet<BTreeSet<String>>) -> BTreeSet<BTreeSet<String>> {
    groups
        .iter()
        .filter(|g| !groups.iter().any(|o| o != *g && o.is_subset(g)))
        .cloned()
        .collect()
}

fn requirement_from(directives: &[Directive<'static, String>]) -> Result<Requirement, String> {
    let mut req = Requirement::default();
    for d in directives {
        match d.name.as_str() {
            "authenticated" => req.authenticated = true,
            "policy" => {
                let groups = d
                    .arguments
                    .iter()
                    .find(|(a, _)| a == "policies")
                    .map(|(_, v)| scope_groups(v))
                    .transpose()?
                    .unwrap_or_default();
                let policy = Requirement {
                    policies: Some(
                        groups
                            .into_iter()
                            .map(|g| g.into_iter().collect())
                            .collect(),
                    ),
                    ..Requirement::default()
                };
                req = req.and(&policy)?;
            }
            "requiresScopes" => {
                let groups = d
                    .arguments
                    .iter()
                    .find(|(a, _)| a == "scopes")
                    .map(|(_, v)| scope_groups(v))
                    .transpose()?
                    .unwrap_or_default();
                req = req.and(&Requirement::scopes(groups))?;
            }
            _ => {}
        }
    }
    Ok(req)
}

fn scope_groups(value: &Value<'static, String>) -> Result<Vec<Vec<String>>, String> {
    let Value::List(groups) = value else {
        return Err(format!(
            "@requiresScopes(scopes: {value}) is not a list of lists"
        ));
    };
    groups
        .iter()
        .map(|g| match g {
            Value::List(items) => items
                .iter()
                .map(|s| match s {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!("scope {other} is not a string")),
                })
                .collect(),
            other => Err(format!("scope group {other} is not a list")),
        })
        .collect()
}

fn arg<'a>(d: &'a Directive<'static, String>, name: &str) -> Option<&'a Value<'static, String>> {
    d.arguments.iter().find(|(a, _)| a == name).map(|(_, v)| v)
}

fn named_type<'a>(t: &'a Type<'static, String>) -> &'a str {
    match t {
        Type::NamedType(n) => n,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

struct FieldInfo {
    /// Subgraph names that resolve the field.
    graphs: BTreeSet<String>,
    /// `@requires` selections, as written.
    requires: Vec<String>,
    output: String,
    requirement: Requirement,
}

/// Applies `rules` to `supergraph`; returns the new supergraph text.
///
/// The passes, in order: read the rules written on types; read every
/// field's graphs, `@requires` and requirement (with the catalog's field
/// policies and restricted domains); spread type rules to fields; spread
/// interface rules both ways; carry rules through `@requires`; decide which
/// fields become nullable; write the result back.
pub fn apply_access(supergraph: &str, rules: &AccessRules) -> Result<String, String> {
    let mut doc: Document<'static, String> = graphql_parser::parse_schema::<String>(supergraph)
        .map_err(|e| format!("the supergraph does not parse: {e}"))?
        .into_static();
    let (type_rules, union_members) = type_rules(&doc)?;
    let Fields {
        mut fields,
        implementations,
    } = read_fields(&doc, rules)?;
    apply_type_rules(&mut fields, &type_rules)?;
    spread_interface_rules(&mut fields, &implementations)?;
    carry_through_requires(&mut fields)?;
    let nullable = nullable_fields(&fields, &implementations, &union_members);
    if write_back(&mut doc, &fields, &nullable) {
        add_definitions(&mut doc)?;
    }
    Ok(doc.to_string())
}

type TypeRules = BTreeMap<String, Requirement>;
type UnionMembers = BTreeMap<String, Vec<String>>;
type FieldMap = BTreeMap<(String, String), FieldInfo>;

/// Every object and interface field, and the implementations of each
/// interface.
struct Fields {
    fields: FieldMap,
    implementations: BTreeMap<String, Vec<String>>,
}

/// Rules written on a type (`type Movie @requiresScopes(…)`, or on a
/// scalar or enum), and the members of each union.
fn type_rules(doc: &Document<'static, String>) -> Result<(TypeRules, UnionMembers), String> {
    let mut type_rules: TypeRules = BTreeMap::new();
    let mut union_members: UnionMembers = BTreeMap::new();
    for def in &doc.definitions {
        let (name, directives) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => (&o.name, &o.directives),
            Definition::TypeDefinition(TypeDefinition::Interface(i)) => (&i.name, &i.directives),
            Definition::TypeDefinition(TypeDefinition::Scalar(t)) => (&t.name, &t.directives),
            Definition::TypeDefinition(TypeDefinition::Enum(t)) => (&t.name, &t.directives),
            Definition::TypeDefinition(TypeDefinition::Union(u)) => {
                union_members.insert(u.name.clone(), u.types.clone());
                continue;
            }
            _ => continue,
        };
        let rule = requirement_from(directives).map_err(|e| format!("{name}: {e}"))?;
        if !rule.is_empty() {
            type_rules.insert(name.clone(), rule);
        }
    }
    Ok((type_rules, union_members))
}

/// Every object and interface field: who serves it, what it `@requires`,
/// and what it requires of the caller (its own directives, the catalog's
/// field policy, a grant when only restricted domains serve it).
fn read_fields(doc: &Document<'static, String>, rules: &AccessRules) -> Result<Fields, String> {
    let policies: BTreeMap<&str, &Vec<Vec<String>>> = rules
        .field_policies
        .iter()
        .map(|(c, s)| (c.as_str(), s))
        .collect();
    // join__Graph enum values -> subgraph names.
    let graph_names: BTreeMap<String, String> = crate::join_graphs(doc).into_iter().collect();
    let graph_of = |d: &Directive<'static, String>| match arg(d, "graph") {
        Some(Value::Enum(g)) => graph_names.get(g).cloned(),
        _ => None,
    };
    let mut fields: FieldMap = BTreeMap::new();
    let mut implementations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut known_policies = BTreeSet::new();
    for def in &doc.definitions {
        let (type_name, type_directives, field_defs, interfaces) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                (&o.name, &o.directives, &o.fields, &o.implements_interfaces)
            }
            Definition::TypeDefinition(TypeDefinition::Interface(i)) => {
                (&i.name, &i.directives, &i.fields, &i.implements_interfaces)
            }
            _ => continue,
        };
        for interface in interfaces {
            implementations
                .entry(interface.clone())
                .or_default()
                .push(type_name.clone());
        }
        let type_graphs: BTreeSet<String> = type_directives
            .iter()
            .filter(|d| d.name == "join__type")
            .filter_map(graph_of)
            .collect();
        for f in field_defs {
            let joins: Vec<&Directive<'static, String>> = f
                .directives
                .iter()
                .filter(|d| d.name == "join__field")
                .collect();
            let graphs: BTreeSet<String> = if joins.is_empty() {
                type_graphs.clone()
            } else {
                joins
                    .iter()
                    .filter(|d| !matches!(arg(d, "external"), Some(Value::Boolean(true))))
                    .filter_map(|d| graph_of(d))
                    .collect()
            };
            let requires = joins
                .iter()
                .filter_map(|d| match arg(d, "requires") {
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let coordinate = format!("{type_name}.{}", f.name);
            let mut requirement =
                requirement_from(&f.directives).map_err(|e| format!("{coordinate}: {e}"))?;
            if let Some(groups) = policies.get(coordinate.as_str()) {
                known_policies.insert(coordinate.clone());
                requirement = requirement.and(&Requirement::scopes((*groups).clone()))?;
            }
            if !graphs.is_empty() && graphs.iter().all(|g| rules.restricted.contains(g)) {
                let mut groups: Vec<Vec<String>> = vec![vec![rules.admin_scope.clone()]];
                for g in &graphs {
                    groups.push(vec![format!("grant:{g}")]);
                    groups.push(vec![format!("grant:{g}:{coordinate}")]);
                }
                requirement = requirement
                    .and(&Requirement::scopes(groups))
                    .map_err(|e| format!("{coordinate}: {e}"))?;
            }
            fields.insert(
                (type_name.clone(), f.name.clone()),
                FieldInfo {
                    graphs,
                    requires,
                    output: named_type(&f.field_type).to_string(),
                    requirement,
                },
            );
        }
    }
    if let Some((coordinate, _)) = rules
        .field_policies
        .iter()
        .find(|(c, _)| !known_policies.contains(c))
    {
        return Err(format!(
            "field policy on `{coordinate}`: no such field in the composed graph"
        ));
    }

    Ok(Fields {
        fields,
        implementations,
    })
}

/// A rule on a type holds on each of its fields and on every field that
/// returns it: the engine then decides field by field (and the fields
/// become nullable), instead of nulling whole objects, and with them
/// authorized data beside them.
fn apply_type_rules(fields: &mut FieldMap, type_rules: &TypeRules) -> Result<(), String> {
    if !type_rules.is_empty() {
        for ((type_name, field), info) in fields.iter_mut() {
            for owner in [type_name, &info.output] {
                if let Some(rule) = type_rules.get(owner) {
                    info.requirement = info
                        .requirement
                        .and(rule)
                        .map_err(|e| format!("{type_name}.{field}: {e}"))?;
                }
            }
        }
    }

    Ok(())
}

/// An interface field's requirement holds on every implementation, and the
/// interface field needs what every implementation's field needs.
fn spread_interface_rules(
    fields: &mut FieldMap,
    implementations: &BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    // An interface field's requirement holds on every implementation.
    let interface_rules: Vec<(String, String, Requirement)> = fields
        .iter()
        .filter(|((t, _), _)| implementations.contains_key(t))
        .filter(|(_, info)| !info.requirement.is_empty())
        .map(|((t, f), info)| (t.clone(), f.clone(), info.requirement.clone()))
        .collect();
    for (interface, field, requirement) in interface_rules {
        for implementation in implementations.get(&interface).into_iter().flatten() {
            if let Some(info) = fields.get_mut(&(implementation.clone(), field.clone())) {
                info.requirement = info
                    .requirement
                    .and(&requirement)
                    .map_err(|e| format!("{implementation}.{field}: {e}"))?;
            }
        }
    }

    // And the interface field needs what every implementation's field
    // needs (as Apollo composition does since Federation 2.9), so selecting
    // through the interface cannot skip an implementation's rule.
    let interface_fields: Vec<(String, String)> = fields
        .keys()
        .filter(|(t, _)| implementations.contains_key(t))
        .cloned()
        .collect();
    for (interface, field) in interface_fields {
        let mut combined = fields
            .get(&(interface.clone(), field.clone()))
            .map(|i| i.requirement.clone())
            .unwrap_or_default();
        for implementation in implementations.get(&interface).into_iter().flatten() {
            if let Some(info) = fields.get(&(implementation.clone(), field.clone())) {
                combined = combined
                    .and(&info.requirement)
                    .map_err(|e| format!("{interface}.{field}: {e}"))?;
            }
        }
        if let Some(info) = fields.get_mut(&(interface.clone(), field.clone())) {
            info.requirement = combined;
        }
    }

    Ok(())
}

/// A field computed from `@requires` fields needs what they need.
fn carry_through_requires(fields: &mut FieldMap) -> Result<(), String> {
    // A field computed from `@requires` fields needs what they need. Each
    // round carries rules one `@requires` step further, so chains settle
    // within as many rounds as there are fields; one that has not settled
    // is an error, never a rule silently left out.
    let mut settled = false;
    for _ in 0..fields.len() + 2 {
        let mut changed = false;
        let keys: Vec<(String, String)> = fields.keys().cloned().collect();
        for key in keys {
            let Some(info) = fields.get(&key) else {
                continue;
            };
            if info.requires.is_empty() {
                continue;
            }
            let mut needed = Vec::new();
            for requires in &info.requires {
                let selection = parse_selection(requires)
                    .map_err(|e| format!("{}.{}: @requires(\"{requires}\"): {e}", key.0, key.1))?;
                collect_required(fields, &key.0, &selection, &mut needed);
            }
            let mut combined = info.requirement.clone();
            for r in &needed {
                combined = combined
                    .and(r)
                    .map_err(|e| format!("{}.{}: {e}", key.0, key.1))?;
            }
            if let Some(info) = fields.get_mut(&key) {
                if info.requirement != combined {
                    info.requirement = combined;
                    changed = true;
                }
            }
        }
        if !changed {
            settled = true;
            break;
        }
    }
    if !settled {
        return Err(
            "access rules carried through @requires did not settle; refusing to compose rather than leave a rule out".into(),
        );
    }

    Ok(())
}

/// The fields served as nullable.
fn nullable_fields(
    fields: &FieldMap,
    implementations: &BTreeMap<String, Vec<String>>,
    union_members: &UnionMembers,
) -> BTreeSet<(String, String)> {
    // Protected fields are served as nullable: a refused field is null
    // where it stands, instead of nulling its parent and with it the
    // authorized siblings other fragments selected under the same key.
    // An interface whose implementation's field became nullable follows,
    // so the schema stays valid.
    let mut nullable: BTreeSet<(String, String)> = fields
        .iter()
        .filter(|(_, info)| !info.requirement.is_empty())
        .map(|(key, _)| key.clone())
        .collect();
    for (interface, implementers) in implementations {
        let names: Vec<String> = fields
            .keys()
            .filter(|(t, _)| t == interface)
            .map(|(_, f)| f.clone())
            .collect();
        for field in names {
            if implementers
                .iter()
                .any(|t| nullable.contains(&(t.clone(), field.clone())))
            {
                nullable.insert((interface.clone(), field));
            }
        }
    }

    // Fields that may share a response key keep one response shape: in
    // fragments on the possible types of an interface or union (and on
    // the abstract type itself), same-named fields must agree on
    // nullability, or a valid query selecting both under one key would be
    // refused (`OverlappingFieldsCanBeMerged`). So a field made nullable
    // makes its same-named siblings nullable too.
    close_over_siblings(&mut nullable, fields, implementations, union_members);
    nullable
}

/// Writes the requirements (and nullability) back into the document;
/// true if any rule was written.
fn write_back(
    doc: &mut Document<'static, String>,
    fields: &FieldMap,
    nullable: &BTreeSet<(String, String)>,
) -> bool {
    let mut any = false;
    let is_rule = |d: &Directive<'static, String>| {
        d.name == "requiresScopes" || d.name == "authenticated" || d.name == "policy"
    };
    for def in &mut doc.definitions {
        // Type-level rules now live on the fields.
        match def {
            Definition::TypeDefinition(TypeDefinition::Object(t)) => {
                t.directives.retain(|d| !is_rule(d))
            }
            Definition::TypeDefinition(TypeDefinition::Interface(t)) => {
                t.directives.retain(|d| !is_rule(d))
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(t)) => {
                t.directives.retain(|d| !is_rule(d))
            }
            Definition::TypeDefinition(TypeDefinition::Enum(t)) => {
                t.directives.retain(|d| !is_rule(d))
            }
            _ => {}
        }
        let (type_name, field_defs) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => (&o.name, &mut o.fields),
            Definition::TypeDefinition(TypeDefinition::Interface(i)) => (&i.name, &mut i.fields),
            _ => continue,
        };
        for f in field_defs.iter_mut() {
            let key = (type_name.clone(), f.name.clone());
            let Some(info) = fields.get(&key) else {
                continue;
            };
            let _ = &info.graphs;
            f.directives.retain(|d| !is_rule(d));
            let written = info.requirement.directives();
            any |= !written.is_empty();
            f.directives.extend(written);
            if nullable.contains(&key) {
                if let Type::NonNullType(inner) = &f.field_type {
                    let original = f.field_type.to_string();
                    let inner = (**inner).clone();
                    // Subgraphs still return the non-null type: tell the
                    // planner, as composition does for differing types.
                    for d in f.directives.iter_mut().filter(|d| d.name == "join__field") {
                        if arg(d, "type").is_none() && arg(d, "graph").is_some() {
                            d.arguments
                                .push(("type".to_string(), Value::String(original.clone())));
                        }
                    }
                    f.field_type = inner;
                }
            }
        }
    }
    any
}

/// Adds to `nullable` every field that can share a response key with one
/// in it: same-named fields of the possible types of an abstract type (and
/// of the abstract type itself), transitively.
fn close_over_siblings(
    nullable: &mut BTreeSet<(String, String)>,
    fields: &BTreeMap<(String, String), FieldInfo>,
    implementations: &BTreeMap<String, Vec<String>>,
    union_members: &BTreeMap<String, Vec<String>>,
) {
    if nullable.is_empty() {
        return;
    }
    // Groups of types whose fields can meet under one response key.
    let mut groups: Vec<Vec<&String>> = Vec::new();
    for (abstract_type, possible) in implementations.iter().chain(union_members.iter()) {
        let mut group: Vec<&String> = possible.iter().collect();
        group.push(abstract_type);
        groups.push(group);
    }
    // Field name -> the groups' sets of (type, field) keys with that name.
    let mut classes: Vec<BTreeSet<(String, String)>> = Vec::new();
    for group in &groups {
        let mut by_name: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
        for type_name in group {
            for (key, _) in fields.range(((*type_name).clone(), String::new())..) {
                if &key.0 != *type_name {
                    break;
                }
                by_name
                    .entry(key.1.as_str())
                    .or_default()
                    .insert(key.clone());
            }
        }
        classes.extend(by_name.into_values().filter(|c| c.len() > 1));
    }
    // Spread until nothing changes (classes overlap through shared types).
    loop {
        let mut changed = false;
        for class in &classes {
            if class.iter().any(|k| nullable.contains(k)) {
                for key in class {
                    changed |= nullable.insert(key.clone());
                }
            }
        }
        if !changed {
            break;
        }
    }
}

fn parse_selection(requires: &str) -> Result<SelectionSet<'static, String>, String> {
    let query = graphql_parser::parse_query::<String>(&format!("{{ {requires} }}"))
        .map_err(|e| e.to_string())?
        .into_static();
    match query.definitions.into_iter().next() {
        Some(graphql_parser::query::Definition::Operation(
            graphql_parser::query::OperationDefinition::SelectionSet(s),
        )) => Ok(s),
        _ => Err("not a selection".into()),
    }
}

fn collect_required(
    fields: &BTreeMap<(String, String), FieldInfo>,
    type_name: &str,
    selection: &SelectionSet<'static, String>,
    out: &mut Vec<Requirement>,
) {
    for item in &selection.items {
        match item {
            Selection::Field(f) => {
                if let Some(info) = fields.get(&(type_name.to_string(), f.name.clone())) {
                    if !info.requirement.is_empty() {
                        out.push(info.requirement.clone());
                    }
                    collect_required(fields, &info.output, &f.selection_set, out);
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = match &fragment.type_condition {
                    Some(graphql_parser::query::TypeCondition::On(t)) => t.as_str(),
                    None => type_name,
                };
                collect_required(fields, on, &fragment.selection_set, out);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Declares `@requiresScopes` and `@authenticated` if the supergraph does
/// not yet (no domain used them), and links their specs on the schema: the
/// engine enforces only directives of linked specs.
pub(crate) fn add_definitions(doc: &mut Document<'static, String>) -> Result<(), String> {
    for def in &mut doc.definitions {
        if let Definition::SchemaDefinition(schema) = def {
            for spec in [
                "https://specs.apollo.dev/authenticated/v0.1",
                "https://specs.apollo.dev/requiresScopes/v0.1",
                "https://specs.apollo.dev/policy/v0.1",
            ] {
                let base = spec.rsplit_once('/').map(|(b, _)| b).unwrap_or(spec);
                let linked = schema.directives.iter().any(|d| {
                    d.name == "link"
                        && matches!(arg(d, "url"), Some(Value::String(u)) if u.starts_with(base))
                });
                if !linked {
                    schema.directives.push(Directive {
                        position: Default::default(),
                        name: "link".to_string(),
                        arguments: vec![
                            ("url".to_string(), Value::String(spec.to_string())),
                            ("for".to_string(), Value::Enum("SECURITY".to_string())),
                        ],
                    });
                }
            }
        }
    }
    let defined = |doc: &Document<'static, String>, name: &str| {
        doc.definitions.iter().any(|d| match d {
            Definition::DirectiveDefinition(dd) => dd.name == name,
            Definition::TypeDefinition(TypeDefinition::Scalar(s)) => s.name == name,
            _ => false,
        })
    };
    let mut extra = String::new();
    if !defined(doc, "federation__Scope") {
        extra.push_str("scalar federation__Scope\n");
    }
    if !defined(doc, "requiresScopes") {
        extra.push_str("directive @requiresScopes(scopes: [[federation__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n");
    }
    if !defined(doc, "federation__Policy") {
        extra.push_str("scalar federation__Policy\n");
    }
    if !defined(doc, "policy") {
        extra.push_str("directive @policy(policies: [[federation__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n");
    }
    if !defined(doc, "authenticated") {
        extra.push_str(
            "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n",
        );
    }
    if extra.is_empty() {
        return Ok(());
    }
    let more = graphql_parser::parse_schema::<String>(&extra)
        .map_err(|e| e.to_string())?
        .into_static();
    doc.definitions.extend(more.definitions);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compose, Subgraph};

    const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@external", "@requires", "@requiresScopes", "@authenticated"])"#;

    fn supergraph() -> String {
        let orders = Subgraph {
            name: "orders".into(),
            url: "http://127.0.0.1:1/orders".into(),
            sdl: format!(
                "{LINK}\ntype Query {{ orders: [Order] }}\ntype Order @key(fields: \"id\") {{ id: ID! total: Float! margin: Float @requiresScopes(scopes: [[\"finance\"]]) }}"
            ),
        };
        let shipping = Subgraph {
            name: "shipping".into(),
            url: "http://127.0.0.1:1/shipping".into(),
            sdl: format!(
                "{LINK}\ntype Order @key(fields: \"id\") {{ id: ID! margin: Float @external eta: String @requires(fields: \"margin\") }}"
            ),
        };
        compose(&[orders, shipping]).expect("composes").sdl
    }

    fn requirement(sdl: &str, type_name: &str, field: &str) -> Option<String> {
        let doc = graphql_parser::parse_schema::<String>(sdl).expect("parses");
        for d in &doc.definitions {
            if let Definition::TypeDefinition(TypeDefinition::Object(o)) = d {
                if o.name == type_name {
                    let f = o.fields.iter().find(|f| f.name == field)?;
                    return f
                        .directives
                        .iter()
                        .find(|d| d.name == "requiresScopes" || d.name == "authenticated")
                        .map(|d| d.to_string());
                }
            }
        }
        None
    }

    #[test]
    fn restricted_domains_need_a_grant_and_policies_add_scopes() {
        let rules = AccessRules {
            restricted: ["orders".to_string()].into(),
            field_policies: vec![("Order.total".into(), vec![vec!["sales".into()]])],
            admin_scope: "mesh:admin".into(),
        };
        let sdl = apply_access(&supergraph(), &rules).expect("applies");
        // Only orders serves Query.orders: a grant (or admin) is needed.
        let orders = requirement(&sdl, "Query", "orders").expect("protected");
        assert!(orders.contains("\"grant:orders\""), "{orders}");
        assert!(orders.contains("\"mesh:admin\""), "{orders}");
        // Order.total: grant AND the policy's scope.
        let total = requirement(&sdl, "Order", "total").expect("protected");
        assert!(total.contains("[\"grant:orders\", \"sales\"]"), "{total}");
        // Order.id is served by shipping too (open): no grant needed.
        assert_eq!(requirement(&sdl, "Order", "id"), None);
        // Order.eta (open shipping) requires margin, which needs `finance`.
        let eta = requirement(&sdl, "Order", "eta").expect("inherits");
        assert!(eta.contains("finance"), "{eta}");
        assert!(sdl.contains("directive @requiresScopes"));
        // Protected fields are nullable in the supergraph; the subgraph's
        // own type is kept on its join__field.
        assert!(
            sdl.contains("total: Float @join__field(graph: ORDERS, type: \"Float!\")"),
            "{sdl}"
        );
        assert!(
            sdl.contains("  id: ID!\n"),
            "the open key stays non-null: {sdl}"
        );
        assert!(
            sdl.contains("https://specs.apollo.dev/requiresScopes/v0.1"),
            "{sdl}"
        );
    }

    #[test]
    fn unknown_policy_fields_are_refused() {
        let rules = AccessRules {
            field_policies: vec![("Order.nope".into(), vec![])],
            ..AccessRules::default()
        };
        let e = apply_access(&supergraph(), &rules).expect_err("unknown field");
        assert!(e.contains("Order.nope"), "{e}");
    }

    #[test]
    fn and_is_a_cross_product_without_redundant_alternatives() {
        let a = Requirement::scopes(vec![vec!["a".into()], vec!["b".into()]]);
        let b = Requirement::scopes(vec![vec!["a".into()], vec!["c".into()]]);
        let both = a.and(&b).expect("small");
        let groups: Vec<Vec<String>> = both
            .scopes
            .expect("scopes")
            .into_iter()
            .map(|g| g.into_iter().collect())
            .collect();
        // a∧a = a makes a∧c and a∧b redundant.
        assert_eq!(
            groups,
            vec![vec!["a".to_string()], vec!["b".into(), "c".into()]]
        );
    }

    /// A field's type in the supergraph, as written.
    fn field_type(sdl: &str, type_name: &str, field: &str) -> Option<String> {
        let doc = graphql_parser::parse_schema::<String>(sdl).expect("parses");
        for d in &doc.definitions {
            let (name, fields) = match d {
                Definition::TypeDefinition(TypeDefinition::Object(o)) => (&o.name, &o.fields),
                Definition::TypeDefinition(TypeDefinition::Interface(i)) => (&i.name, &i.fields),
                _ => continue,
            };
            if name == type_name {
                return fields
                    .iter()
                    .find(|f| f.name == field)
                    .map(|f| f.field_type.to_string());
            }
        }
        None
    }

    fn media(movie_rule_on_type: bool) -> String {
        let (on_type, on_field) = if movie_rule_on_type {
            ("@requiresScopes(scopes: [[\"film\"]])", "")
        } else {
            ("", "@requiresScopes(scopes: [[\"film\"]])")
        };
        let media = Subgraph {
            name: "media".into(),
            url: "http://127.0.0.1:1/media".into(),
            sdl: format!(
                "{LINK}\ninterface Media {{ id: ID! title: String! }}\ntype Book implements Media {{ id: ID! title: String! pages: Int! }}\ntype Movie implements Media {on_type} {{ id: ID! {on_field} title: String! }}\ntype Query {{ media: [Media!]! movie: Movie book: Book! }}"
            ),
        };
        let sdl = compose(&[media]).expect("composes").sdl;
        apply_access(&sdl, &AccessRules::default()).expect("applies")
    }

    #[test]
    fn a_rule_on_a_type_holds_on_its_fields_and_on_fields_returning_it() {
        let sdl = media(true);
        for (t, f) in [("Movie", "id"), ("Movie", "title"), ("Query", "movie")] {
            let rule = requirement(&sdl, t, f).unwrap_or_else(|| panic!("{t}.{f}: {sdl}"));
            assert!(rule.contains("film"), "{t}.{f}: {rule}");
        }
        assert_eq!(requirement(&sdl, "Book", "id"), None, "{sdl}");
        assert_eq!(requirement(&sdl, "Query", "book"), None, "{sdl}");
        // The type itself no longer carries it: the engine decides field by
        // field, so a refused Movie does not null the Books beside it.
        assert!(
            !sdl.lines()
                .any(|l| l.starts_with("type Movie") && l.contains("requiresScopes")),
            "{sdl}"
        );
        assert_eq!(field_type(&sdl, "Movie", "id").as_deref(), Some("ID"));
    }

    #[test]
    fn same_named_fields_of_possible_types_keep_one_nullability() {
        for on_type in [true, false] {
            let sdl = media(on_type);
            // Movie.id is protected, so nullable; Book.id and Media.id can
            // share its response key (`... on Book { id } ... on Movie { id }`)
            // and follow, or valid queries would be refused.
            for t in ["Movie", "Book", "Media"] {
                assert_eq!(
                    field_type(&sdl, t, "id").as_deref(),
                    Some("ID"),
                    "{t}: {sdl}"
                );
            }
            // A field no sibling shares keeps its type.
            assert_eq!(field_type(&sdl, "Book", "pages").as_deref(), Some("Int!"));
            assert_eq!(field_type(&sdl, "Query", "book").as_deref(), Some("Book!"));
        }
    }
}
