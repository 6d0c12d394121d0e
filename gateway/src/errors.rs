//! Errors a person can act on: the engine's parse, validation and variable
//! errors rewritten in the common GraphQL shape (`GRAPHQL_PARSE_FAILED`
//! with `locations`, `GRAPHQL_VALIDATION_FAILED` with the rule kept in
//! `extensions.rule`, and variable errors that name the variable and show
//! its value as the client wrote it, not as Rust debug output). Applied in
//! the engine plugin's `on_graphql_error` hook, off the happy path.

/// A validation rule's name as the engine reports it (`FieldsOnCorrectType`),
/// as opposed to an error code (`BAD_USER_INPUT`).
pub(crate) fn is_rule_name(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().any(|c| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The engine's parse failure (`Failed to parse GraphQL operation: Parse
/// error at 1:32\nUnexpected end of input\nExpected }\n`) as a message and
/// its line and column.
pub(crate) fn parse_failure(message: &str) -> Option<(String, usize, usize)> {
    let rest = message.split("Parse error at ").nth(1)?;
    let mut lines = rest.lines();
    let (line, column) = lines.next()?.trim().split_once(':')?;
    let (line, column) = (line.parse().ok()?, column.parse().ok()?);
    let what: Vec<String> = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix("Expected ") {
            Some(expected) => format!("expected `{expected}`"),
            None => l.to_lowercase(),
        })
        .collect();
    let what = if what.is_empty() {
        "the operation does not parse".to_string()
    } else {
        what.join(", ")
    };
    Some((format!("Syntax error: {what}."), line, column))
}

/// A value in the engine's debug form (`Number(Number(20261124))`,
/// `String("x")`, `Bool(true)`) as JSON text (`20261124`, `"x"`, `true`).
fn plain_value(debug: &str) -> String {
    let mut v = debug.trim().trim_end_matches('.').trim();
    loop {
        let unwrapped = ["Number(", "String(", "Bool(", "Boolean(", "Int(", "Float("]
            .iter()
            .find_map(|p| v.strip_prefix(p).and_then(|r| r.strip_suffix(')')));
        match unwrapped {
            Some(inner) => v = inner.trim(),
            None => break,
        }
    }
    v.to_string()
}

/// A variable coercion error ("String cannot represent a non string value:
/// Number(Number(20261124)).") with the value as written and, when the
/// request names it, the variable: `Variable "$date" got invalid value
/// 20261124: String cannot represent a non-string value.`
pub(crate) fn coercion_failure(message: &str, body: Option<&[u8]>) -> Option<String> {
    let (rule, value) = message.split_once(" value: ")?;
    if !rule.contains("cannot represent") {
        return None;
    }
    let value = plain_value(value);
    let rule = format!("{rule} value");
    let named = body
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|b| b.get("variables").cloned())
        .and_then(|vars| {
            let matching: Vec<String> = vars
                .as_object()?
                .iter()
                .filter(|(_, v)| v.to_string() == value)
                .map(|(k, _)| k.clone())
                .collect();
            (matching.len() == 1).then(|| matching[0].clone())
        });
    Some(match named {
        Some(name) => format!("Variable \"${name}\" got invalid value {value}: {rule}."),
        None => format!("A variable got invalid value {value}: {rule}."),
    })
}

/// Each object and interface type's field names in the public schema (no
/// `@inaccessible` type or field, no federation plumbing), for "did you
/// mean" suggestions.
pub(crate) fn public_fields(
    doc: &hive_router::graphql_tools::static_graphql::schema::Document,
) -> std::collections::HashMap<String, Vec<String>> {
    use hive_router::graphql_tools::static_graphql::schema::{Definition, TypeDefinition};
    let hidden =
        |directives: &[hive_router::graphql_tools::static_graphql::schema::Directive]| {
            directives.iter().any(|d| d.name == "inaccessible")
        };
    let mut out = std::collections::HashMap::new();
    for def in &doc.definitions {
        let Definition::TypeDefinition(ty) = def else {
            continue;
        };
        let (name, fields, directives) = match ty {
            TypeDefinition::Object(o) => (&o.name, &o.fields, &o.directives),
            TypeDefinition::Interface(i) => (&i.name, &i.fields, &i.directives),
            _ => continue,
        };
        if name.starts_with("join__") || name.starts_with("link__") || hidden(directives) {
            continue;
        }
        let names: Vec<String> = fields
            .iter()
            .filter(|f| !hidden(&f.directives) && !f.name.starts_with("__"))
            .map(|f| f.name.clone())
            .collect();
        out.insert(name.clone(), names);
    }
    out
}

/// graphql-js's suggestion list for an unknown field: the type's fields
/// close to the name (by edit distance, case-insensitive), nearest first, at
/// most five, as ` Did you mean "a", "b", or "c"?`.
pub(crate) fn did_you_mean(
    message: &str,
    fields: &std::collections::HashMap<String, Vec<String>>,
) -> Option<String> {
    let rest = message.strip_prefix("Cannot query field \"")?;
    let (field, rest) = rest.split_once('"')?;
    let ty = rest.strip_prefix(" on type \"")?.split('"').next()?;
    let threshold = field.len() * 2 / 5 + 1; // graphql-js: floor(0.4 n) + 1
    let mut close: Vec<(usize, &String)> = fields
        .get(ty)?
        .iter()
        .map(|candidate| {
            (
                distance(&field.to_lowercase(), &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(d, c)| *d <= threshold && c.as_str() != field)
        .collect();
    close.sort();
    let names: Vec<String> = close
        .iter()
        .take(5)
        .map(|(_, n)| format!("\"{n}\""))
        .collect();
    match names.len() {
        0 => None,
        1 => Some(format!(" Did you mean {}?", names[0])),
        2 => Some(format!(" Did you mean {} or {}?", names[0], names[1])),
        n => Some(format!(
            " Did you mean {}, or {}?",
            names[..n - 1].join(", "),
            names[n - 1]
        )),
    }
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_get_the_nearest_public_names() {
        let doc = hive_router::graphql_tools::parser::parse_schema::<String>(
            "type Query { ordersByDate(date: String): [Order] orders: [Order] secret: Int @inaccessible }\n\
             type Order { id: ID total: Float }",
        )
        .expect("sdl")
        .into_static();
        let fields = public_fields(&doc);
        assert_eq!(
            did_you_mean(
                "Cannot query field \"ordersByDat\" on type \"Query\".",
                &fields
            )
            .as_deref(),
            Some(" Did you mean \"ordersByDate\" or \"orders\"?")
        );
        assert_eq!(
            did_you_mean("Cannot query field \"secrett\" on type \"Query\".", &fields),
            None,
            "@inaccessible fields are never suggested"
        );
        assert_eq!(
            did_you_mean("Cannot query field \"zzzzzz\" on type \"Order\".", &fields),
            None
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn rule_names_are_told_from_codes() {
        assert!(is_rule_name("FieldsOnCorrectType"));
        assert!(is_rule_name("KnownArgumentNames"));
        assert!(!is_rule_name("BAD_USER_INPUT"));
        assert!(!is_rule_name("GRAPHQL_PARSE_FAILED"));
        assert!(!is_rule_name("UNAUTHORIZED_FIELD_OR_TYPE"));
    }

    #[test]
    fn parse_failures_get_a_location_and_plain_words() {
        let (message, line, column) = parse_failure(
            "Failed to parse GraphQL operation: Parse error at 1:32\nUnexpected end of input\nExpected }\n",
        )
        .expect("a parse failure");
        assert_eq!((line, column), (1, 32));
        assert_eq!(
            message,
            "Syntax error: unexpected end of input, expected `}`."
        );
        assert!(parse_failure("something else").is_none());
    }

    #[test]
    fn coercion_failures_name_the_variable_and_show_its_value() {
        let body =
            br#"{"query":"query($d: String!) { a(d: $d) }","variables":{"d":20261124,"e":"x"}}"#;
        assert_eq!(
            coercion_failure(
                "String cannot represent a non string value: Number(Number(20261124)).",
                Some(body)
            )
            .as_deref(),
            Some("Variable \"$d\" got invalid value 20261124: String cannot represent a non string value.")
        );
        assert_eq!(
            coercion_failure(
                "Int cannot represent non-integer value: String(\"x\").",
                Some(body)
            )
            .as_deref(),
            Some(
                "Variable \"$e\" got invalid value \"x\": Int cannot represent non-integer value."
            )
        );
        assert_eq!(
            coercion_failure(
                "Boolean cannot represent a non boolean value: Number(1).",
                None
            )
            .as_deref(),
            Some("A variable got invalid value 1: Boolean cannot represent a non boolean value.")
        );
        assert!(coercion_failure(
            "Variable \"$d\" of required type \"String!\" was not provided.",
            None
        )
        .is_none());
    }
}
