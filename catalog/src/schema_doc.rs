//! What the catalog reads out of a stored schema document: its content hash
//! and the names a consumer may search for (types and fields).

use sha2::{Digest, Sha256};

pub(crate) fn content_hash(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Type and field names of a GraphQL SDL, or of the component schemas of a
/// JSON OpenAPI document. Federation plumbing (names starting with `_`) is
/// left out. An unreadable document yields no names; it is still stored.
pub(crate) fn searchable_names(document: &str) -> Vec<String> {
    let mut names = graphql_names(document).unwrap_or_else(|| openapi_names(document));
    names.sort();
    names.dedup();
    names
}

/// Why a pulled GraphQL schema cannot be used, in words a domain team can
/// act on (where, and what the parser expected), or nothing when it parses.
pub(crate) fn sdl_problem(document: &str) -> Option<String> {
    if document.trim().is_empty() {
        return Some("gave an empty schema".to_string());
    }
    let error = async_graphql::parser::parse_schema(document).err()?;
    let at = error
        .positions()
        .next()
        .map(|p| format!(" at line {}, column {}", p.line, p.column))
        .unwrap_or_default();
    let detail = plain_expectation(&error.to_string());
    let line = error
        .positions()
        .next()
        .and_then(|p| document.lines().nth(p.line.saturating_sub(1)))
        .map(|l| {
            format!(
                " (the line reads `{}`)",
                l.trim().chars().take(120).collect::<String>()
            )
        })
        .unwrap_or_default();
    Some(format!(
        "gave a schema that is not valid GraphQL SDL{at}: {detail}{line}"
    ))
}

/// The parser's "expected <rule>, <rule> or <rule>" in words ("expected a
/// type"), without its source excerpt; other messages as they are.
pub(crate) fn plain_expectation(message: &str) -> String {
    let Some(expected) = message
        .lines()
        .rev()
        .find_map(|l| l.trim().trim_start_matches("= ").strip_prefix("expected "))
    else {
        return message
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
    };
    let words: Vec<String> = expected
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(|rule| match rule.trim() {
            "type_" | "type" | "list_type" | "named_type" => "a type".to_string(),
            "name" => "a name".to_string(),
            "value" | "const_value" | "default_value" => "a value".to_string(),
            "string" | "block_string" => "a string".to_string(),
            "arguments_definition" | "argument" => "an argument".to_string(),
            "fields_definition" | "field_definition" => "a field".to_string(),
            "directive" | "const_directive" => "a directive".to_string(),
            "EOI" => "the end of the document".to_string(),
            other => format!("`{}`", other.trim_end_matches('_').replace('_', " ")),
        })
        .collect();
    let mut words = words;
    words.dedup();
    format!("expected {}", words.join(" or "))
}

fn graphql_names(document: &str) -> Option<Vec<String>> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(document).ok()?;
    let mut names = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        let ty = ty.node;
        names.push(ty.name.node.to_string());
        match ty.kind {
            TypeKind::Object(o) => {
                names.extend(o.fields.into_iter().map(|f| f.node.name.node.to_string()))
            }
            TypeKind::Interface(i) => {
                names.extend(i.fields.into_iter().map(|f| f.node.name.node.to_string()))
            }
            TypeKind::InputObject(i) => {
                names.extend(i.fields.into_iter().map(|f| f.node.name.node.to_string()))
            }
            _ => {}
        }
    }
    names.retain(|n| !n.starts_with('_'));
    Some(names)
}

/// The `Type.field` coordinates a subgraph SDL resolves itself: fields of
/// its object and interface types (extensions included) that are not
/// `@external`, federation plumbing left out.
pub(crate) fn served_coordinates(sdl: &str) -> Vec<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        let ty = ty.node;
        let fields = match ty.kind {
            TypeKind::Object(o) => o.fields,
            TypeKind::Interface(i) => i.fields,
            _ => continue,
        };
        for f in fields {
            let f = f.node;
            let external = f.directives.iter().any(|d| d.node.name.node == "external");
            if !external && !f.name.node.starts_with('_') {
                out.push(format!("{}.{}", ty.name.node, f.name.node));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn openapi_names(document: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(document) else {
        return Vec::new();
    };
    let Some(schemas) = value
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
    else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for (name, schema) in schemas {
        names.push(name.clone());
        if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
            names.extend(props.keys().cloned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_types_and_fields_are_searchable_without_federation_plumbing() {
        let sdl = "type Query { orders(since: String): [Order] _service: _Service }\n\
                   type Order @key(fields: \"id\") { id: ID! totalAmount: Float }\n\
                   scalar _Any";
        assert_eq!(
            searchable_names(sdl),
            ["Order", "Query", "id", "orders", "totalAmount"]
        );
    }

    #[test]
    fn openapi_component_properties_are_searchable() {
        let doc = r#"{"openapi":"3.0.0","components":{"schemas":{"Invoice":{"properties":{"dueDate":{}}}}}}"#;
        assert_eq!(searchable_names(doc), ["Invoice", "dueDate"]);
    }
}

#[cfg(test)]
mod sdl_tests {
    use super::sdl_problem;

    #[test]
    fn a_schema_that_does_not_parse_is_described_with_its_place() {
        assert_eq!(sdl_problem("type Query { a: Int }"), None);
        let problem = sdl_problem("type Query {\n  a: Int\n  b: [String\n}\n").expect("a problem");
        assert!(problem.contains("line 3, column 6"), "{problem}");
        assert!(problem.contains("expected a type"), "{problem}");
        assert!(
            !problem.contains("type_") && !problem.contains('^'),
            "{problem}"
        );
        assert!(!problem.contains("RawIdent"), "{problem}");
        assert_eq!(sdl_problem("  \n").as_deref(), Some("gave an empty schema"));
    }
}
