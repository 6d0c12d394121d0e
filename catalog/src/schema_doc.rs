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
