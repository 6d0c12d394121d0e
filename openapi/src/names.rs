//! GraphQL names from OpenAPI names.

/// Whether `name` is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`, not `__`).
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !name.starts_with("__")
}

/// The words of a name: split at non-alphanumerics and lower→upper steps.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `shipment-item` → `ShipmentItem`; names starting with a digit get `T`.
pub(crate) fn pascal(text: &str) -> String {
    let name: String = words(text).iter().map(|w| capitalised(w)).collect();
    match name.chars().next() {
        None => "Anonymous".to_string(),
        Some(c) if c.is_ascii_digit() => format!("T{name}"),
        _ => name,
    }
}

/// `get_shipment`, `Get-Shipment` → `getShipment`; a name already valid
/// and camel-cased stays as it is.
pub(crate) fn camel(text: &str) -> String {
    if valid_name(text) && !text.contains('_') {
        let mut chars = text.chars();
        return match chars.next() {
            Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
            None => String::new(),
        };
    }
    let parts = words(text);
    let mut name = String::new();
    for (i, w) in parts.iter().enumerate() {
        if i == 0 {
            name.push_str(&w.to_ascii_lowercase());
        } else {
            name.push_str(&capitalised(w));
        }
    }
    match name.chars().next() {
        None => "field".to_string(),
        Some(c) if c.is_ascii_digit() => format!("f{name}"),
        _ => name,
    }
}

/// An enum value as a GraphQL name: `in-transit` → `IN_TRANSIT`, `2xl` →
/// `_2XL`.
pub(crate) fn enum_value(text: &str) -> String {
    let joined = words(text)
        .iter()
        .map(|w| w.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("_");
    match joined.chars().next() {
        None => "EMPTY".to_string(),
        Some(c) if c.is_ascii_digit() => format!("_{joined}"),
        _ if matches!(joined.as_str(), "TRUE" | "FALSE" | "NULL") => format!("{joined}_"),
        _ => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("shipment-item"), "ShipmentItem");
        assert_eq!(pascal("order_line"), "OrderLine");
        assert_eq!(camel("get_shipment"), "getShipment");
        assert_eq!(camel("GetShipment"), "getShipment");
        assert_eq!(camel("shippedOn"), "shippedOn");
        assert_eq!(camel("created-at"), "createdAt");
        assert_eq!(enum_value("in-transit"), "IN_TRANSIT");
        assert_eq!(enum_value("2xl"), "_2XL");
        assert!(valid_name("a_b1") && !valid_name("1a") && !valid_name("a-b"));
    }
}
