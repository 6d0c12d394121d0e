//! What changed between two versions, each change classified by what it
//! does to consumers written against the old version (the rules of
//! graphql-js `findBreakingChanges` / `findDangerousChanges` and
//! graphql-inspector).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Field, Kind, Schema, TypeRef};
use crate::{Change, Severity};

/// Whether an output position may change from `old` to `new` without
/// breaking a reader: the same type, or one that promises more (non-null).
fn safe_output(old: &TypeRef, new: &TypeRef) -> bool {
    match (old, new) {
        (TypeRef::NonNull(o), TypeRef::NonNull(n)) => safe_output(o, n),
        (o, TypeRef::NonNull(n)) => safe_output(o, n),
        (TypeRef::List(o), TypeRef::List(n)) => safe_output(o, n),
        (TypeRef::Named(o), TypeRef::Named(n)) => o == n,
        _ => false,
    }
}

/// Whether an input position may change from `old` to `new` without
/// breaking a writer: the same type, or one that asks less (nullable).
fn safe_input(old: &TypeRef, new: &TypeRef) -> bool {
    match (old, new) {
        (TypeRef::NonNull(o), TypeRef::NonNull(n)) => safe_input(o, n),
        (TypeRef::NonNull(o), n) => safe_input(o, n),
        (TypeRef::List(o), TypeRef::List(n)) => safe_input(o, n),
        (TypeRef::Named(o), TypeRef::Named(n)) => o == n,
        _ => false,
    }
}

struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, severity: Severity, kind: &str, path: String, message: String) {
        self.0.push(Change {
            severity,
            kind: kind.to_string(),
            path,
            message,
        });
    }
}

/// Every change from `old` to `new`, in schema order.
pub fn diff_schemas(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Changes(Vec::new());
    for (name, o) in &old.types {
        let Some(n) = new.types.get(name) else {
            out.push(
                Severity::Breaking,
                "TYPE_REMOVED",
                name.clone(),
                format!("the {} `{name}` was removed", o.kind.label()),
            );
            continue;
        };
        if o.kind != n.kind {
            out.push(
                Severity::Breaking,
                "TYPE_KIND_CHANGED",
                name.clone(),
                format!(
                    "`{name}` changed from {} to {}",
                    o.kind.label(),
                    n.kind.label()
                ),
            );
            continue;
        }
        match o.kind {
            Kind::Object | Kind::Interface => {
                members(&mut out, name, &o.members, &n.members, Members::Interfaces);
                output_fields(&mut out, name, &o.fields, &n.fields);
            }
            Kind::Union => members(&mut out, name, &o.members, &n.members, Members::Union),
            Kind::Enum => members(&mut out, name, &o.members, &n.members, Members::Enum),
            Kind::InputObject => inputs(
                &mut out,
                name,
                &o.fields,
                &n.fields,
                "INPUT_FIELD",
                "input field",
            ),
            Kind::Scalar => {}
        }
    }
    for (name, n) in &new.types {
        if !old.types.contains_key(name) {
            out.push(
                Severity::Safe,
                "TYPE_ADDED",
                name.clone(),
                format!("the {} `{name}` was added", n.kind.label()),
            );
        }
    }
    out.0
}

#[derive(Clone, Copy)]
enum Members {
    Interfaces,
    Union,
    Enum,
}

fn members(
    out: &mut Changes,
    owner: &str,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
    what: Members,
) {
    for m in old.difference(new) {
        let (kind, path, message) = match what {
            Members::Interfaces => (
                "INTERFACE_REMOVED",
                owner.to_string(),
                format!("`{owner}` no longer implements `{m}`"),
            ),
            Members::Union => (
                "UNION_MEMBER_REMOVED",
                owner.to_string(),
                format!("`{m}` was removed from the union `{owner}`"),
            ),
            Members::Enum => (
                "ENUM_VALUE_REMOVED",
                format!("{owner}.{m}"),
                format!("the value `{m}` was removed from the enum `{owner}`"),
            ),
        };
        out.push(Severity::Breaking, kind, path, message);
    }
    for m in new.difference(old) {
        let (kind, path, message) = match what {
            Members::Interfaces => (
                "INTERFACE_ADDED",
                owner.to_string(),
                format!("`{owner}` now implements `{m}`: queries on `{m}` may return it"),
            ),
            Members::Union => (
                "UNION_MEMBER_ADDED",
                owner.to_string(),
                format!("`{m}` was added to the union `{owner}`: clients switching on the type may not expect it"),
            ),
            Members::Enum => (
                "ENUM_VALUE_ADDED",
                format!("{owner}.{m}"),
                format!("the value `{m}` was added to the enum `{owner}`: clients switching on it may not expect it"),
            ),
        };
        out.push(Severity::Dangerous, kind, path, message);
    }
}

fn output_fields(
    out: &mut Changes,
    owner: &str,
    old: &BTreeMap<String, Field>,
    new: &BTreeMap<String, Field>,
) {
    for (name, o) in old {
        let path = format!("{owner}.{name}");
        let Some(n) = new.get(name) else {
            let deprecated = if o.deprecated {
                " (it was deprecated)"
            } else {
                ""
            };
            out.push(
                Severity::Breaking,
                "FIELD_REMOVED",
                path.clone(),
                format!("the field `{path}` was removed{deprecated}"),
            );
            continue;
        };
        if o.ty != n.ty {
            let severity = if safe_output(&o.ty, &n.ty) {
                Severity::Safe
            } else {
                Severity::Breaking
            };
            out.push(
                severity,
                "FIELD_TYPE_CHANGED",
                path.clone(),
                format!("`{path}` changed type from `{}` to `{}`", o.ty, n.ty),
            );
        }
        if !o.deprecated && n.deprecated {
            out.push(
                Severity::Safe,
                "FIELD_DEPRECATED",
                path.clone(),
                format!("`{path}` was deprecated"),
            );
        }
        inputs(out, &path, &o.arguments, &n.arguments, "ARG", "argument");
    }
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        let path = format!("{owner}.{name}");
        out.push(
            Severity::Safe,
            "FIELD_ADDED",
            path.clone(),
            format!("the field `{path}` was added"),
        );
    }
}

/// Whether a new argument or input field must be given by every caller.
fn required(f: &Field) -> bool {
    f.ty.is_non_null() && f.default.is_none()
}

/// Arguments of a field, or fields of an input type (`what`: `ARG` or
/// `INPUT_FIELD`, `noun` for messages): removed ones break callers, added
/// required ones too, added optional ones may change answers.
fn inputs(
    out: &mut Changes,
    owner: &str,
    old: &BTreeMap<String, Field>,
    new: &BTreeMap<String, Field>,
    what: &str,
    noun: &str,
) {
    for (name, o) in old {
        let path = format!("{owner}.{name}");
        match new.get(name) {
            None => out.push(
                Severity::Breaking,
                &format!("{what}_REMOVED"),
                path.clone(),
                format!("the {noun} `{path}` was removed"),
            ),
            Some(n) => inputs_changed(out, &path, what, o, n),
        }
    }
    for (name, n) in new.iter().filter(|(n, _)| !old.contains_key(*n)) {
        let path = format!("{owner}.{name}");
        if required(n) {
            out.push(
                Severity::Breaking,
                &format!("REQUIRED_{what}_ADDED"),
                path.clone(),
                format!("the required {noun} `{path}: {}` was added", n.ty),
            );
        } else {
            out.push(
                Severity::Dangerous,
                &format!("OPTIONAL_{what}_ADDED"),
                path.clone(),
                format!("the optional {noun} `{path}` was added: answers may change with it"),
            );
        }
    }
}

/// An argument or input field present in both versions.
fn inputs_changed(out: &mut Changes, path: &str, what: &str, o: &Field, n: &Field) {
    if o.ty != n.ty {
        let severity = if safe_input(&o.ty, &n.ty) {
            Severity::Safe
        } else {
            Severity::Breaking
        };
        out.push(
            severity,
            &format!("{what}_TYPE_CHANGED"),
            path.to_string(),
            format!("`{path}` changed type from `{}` to `{}`", o.ty, n.ty),
        );
    }
    if o.default != n.default {
        out.push(
            Severity::Dangerous,
            &format!("{what}_DEFAULT_CHANGED"),
            path.to_string(),
            format!(
                "the default of `{path}` changed from {} to {}",
                o.default.as_deref().unwrap_or("none"),
                n.default.as_deref().unwrap_or("none")
            ),
        );
    }
}
