//! Governance rules (the mesh's global standards), applied to what a
//! version introduces, never to what earlier versions already had.

use serde::{Deserialize, Serialize};

use crate::model::{Kind, Schema, Type};
use crate::Change;

/// How a broken rule counts: `ERROR` refuses the version under the strict
/// model, `WARN` only reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleLevel {
    Error,
    Warn,
}

/// Fields every new entity type must have (e.g. `updatedAt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub level: RuleLevel,
    pub fields: Vec<String>,
}

/// Names no new type, field or value may have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForbiddenNames {
    pub level: RuleLevel,
    pub names: Vec<String>,
}

/// The configured rules; each is off unless set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rules {
    /// Types PascalCase, fields and arguments camelCase, enum values
    /// UPPER_CASE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naming: Option<RuleLevel>,
    /// A description on every new type and field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptions: Option<RuleLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_names: Option<ForbiddenNames>,
    /// A breaking change counts only when a consumer used what it breaks
    /// within this many seconds (default 30 days); used by the catalog,
    /// which records usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_window_seconds: Option<u64>,
}

/// A rule a version's changes break.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleViolation {
    /// `naming`, `descriptions`, `provenance` or `forbiddenNames`.
    pub rule: String,
    pub level: RuleLevel,
    pub path: String,
    pub message: String,
}

fn pascal(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !name.contains('_')
}

fn camel(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !name.contains('_')
}

fn upper(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// What kind of element a version introduces.
#[derive(Clone, Copy, PartialEq)]
enum Element {
    Type,
    Field,
    Argument,
    EnumValue,
}

struct Check<'a> {
    rules: &'a Rules,
    out: Vec<RuleViolation>,
}

impl Check<'_> {
    fn push(&mut self, rule: &str, level: RuleLevel, path: &str, message: String) {
        self.out.push(RuleViolation {
            rule: rule.to_string(),
            level,
            path: path.to_string(),
            message,
        });
    }

    fn element(&mut self, path: &str, element: Element, description: Option<&str>) {
        let name = path.rsplit('.').next().unwrap_or(path);
        if let Some(level) = self.rules.naming {
            let (ok, want) = match element {
                Element::Type => (pascal(name), "PascalCase"),
                Element::Field | Element::Argument => (camel(name), "camelCase"),
                Element::EnumValue => (upper(name), "UPPER_CASE"),
            };
            if !ok {
                self.push("naming", level, path, format!("`{path}` is not {want}"));
            }
        }
        if let Some(level) = self.rules.descriptions {
            if matches!(element, Element::Type | Element::Field) && description.is_none() {
                self.push(
                    "descriptions",
                    level,
                    path,
                    format!("`{path}` has no description"),
                );
            }
        }
        if let Some(forbidden) = &self.rules.forbidden_names {
            if forbidden.names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                self.push(
                    "forbiddenNames",
                    forbidden.level,
                    path,
                    format!("`{name}` is a forbidden name"),
                );
            }
        }
    }

    fn new_type(&mut self, name: &str, t: &Type) {
        self.element(name, Element::Type, t.description.as_deref());
        for (f, field) in &t.fields {
            let path = format!("{name}.{f}");
            self.element(&path, Element::Field, field.description.as_deref());
            for a in field.arguments.keys() {
                self.element(&format!("{path}.{a}"), Element::Argument, None);
            }
        }
        if t.kind == Kind::Enum {
            for v in &t.members {
                self.element(&format!("{name}.{v}"), Element::EnumValue, None);
            }
        }
        if let Some(provenance) = &self.rules.provenance {
            if t.entity {
                for required in &provenance.fields {
                    if !t.fields.contains_key(required) {
                        self.push(
                            "provenance",
                            provenance.level,
                            name,
                            format!("the entity `{name}` has no `{required}` field"),
                        );
                    }
                }
            }
        }
    }
}

/// The rules broken by what `changes` (from the previous version to `new`)
/// introduce; for a first version pass its diff from an empty schema.
pub fn evaluate_rules(rules: &Rules, changes: &[Change], new: &Schema) -> Vec<RuleViolation> {
    let mut check = Check {
        rules,
        out: Vec::new(),
    };
    for change in changes {
        let mut parts = change.path.splitn(3, '.');
        let (owner, member, argument) = (parts.next(), parts.next(), parts.next());
        let Some(t) = owner.and_then(|o| new.types.get(o)) else {
            continue;
        };
        match change.kind.as_str() {
            "TYPE_ADDED" => check.new_type(&change.path, t),
            "FIELD_ADDED" => {
                let field = member.and_then(|m| t.fields.get(m));
                check.element(
                    &change.path,
                    Element::Field,
                    field.and_then(|f| f.description.as_deref()),
                );
                for a in field.map(|f| f.arguments.keys()).into_iter().flatten() {
                    check.element(&format!("{}.{a}", change.path), Element::Argument, None);
                }
            }
            "OPTIONAL_INPUT_FIELD_ADDED" | "REQUIRED_INPUT_FIELD_ADDED" => {
                let field = member.and_then(|m| t.fields.get(m));
                check.element(
                    &change.path,
                    Element::Field,
                    field.and_then(|f| f.description.as_deref()),
                );
            }
            "OPTIONAL_ARG_ADDED" | "REQUIRED_ARG_ADDED" if argument.is_some() => {
                check.element(&change.path, Element::Argument, None)
            }
            "ENUM_VALUE_ADDED" => check.element(&change.path, Element::EnumValue, None),
            _ => {}
        }
    }
    check.out
}
