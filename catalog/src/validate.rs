//! Checks of a registration that need no database: shapes, lengths, URLs and
//! the structured JSON parts. Checks against other domains (duplicate name,
//! unknown upstream, lineage cycle) live in `service`.

use std::collections::HashSet;

use serde::de::DeserializeOwned;

use crate::error::{Problem, ProblemCode};
use crate::spec::{
    ApiKind, InputKind, LineageInputSpec, ProcessingStep, QualityIndicator, Slo, SloKind,
};

const MAX_TEXT: usize = 200;
const MAX_DESCRIPTION: usize = 10_000;
const MAX_TAGS: usize = 50;
const MAX_INPUTS: usize = 200;
const MAX_LIST: usize = 100;

/// Collects every problem of one input so the caller hears all of them at once.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, field: impl Into<String>, code: ProblemCode, reason: impl Into<String>) {
        self.0.push(Problem::new(field, code, reason));
    }
}

/// Domain names: what a URL path segment, a subgraph name and a tag can share.
pub(crate) fn slug(problems: &mut Problems, field: &str, value: &str) {
    let reason = if value.len() < 2 || value.len() > 63 {
        Some("must be 2 to 63 characters long".to_string())
    } else if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lower-case letter".to_string())
    } else if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(format!(
            "may hold only lower-case letters, digits and hyphens, found {c:?}"
        ))
    } else if value.ends_with('-') || value.contains("--") {
        Some("must not end with a hyphen or hold two in a row".to_string())
    } else {
        None
    };
    if let Some(reason) = reason {
        problems.push(field, ProblemCode::BadSlug, format!("`{value}` {reason}"));
    }
}

pub(crate) fn required_text(problems: &mut Problems, field: &str, value: &str) {
    if value.trim().is_empty() {
        problems.push(field, ProblemCode::Required, "must not be empty");
    } else {
        max_len(problems, field, value, MAX_TEXT);
    }
}

pub(crate) fn description(problems: &mut Problems, field: &str, value: &str) {
    max_len(problems, field, value, MAX_DESCRIPTION);
}

fn max_len(problems: &mut Problems, field: &str, value: &str, max: usize) {
    let len = value.chars().count();
    if len > max {
        problems.push(
            field,
            ProblemCode::TooLong,
            format!("is {len} characters long, at most {max} allowed"),
        );
    }
}

pub(crate) fn http_url(problems: &mut Problems, field: &str, value: &str) {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
        Ok(url) => problems.push(
            field,
            ProblemCode::BadUrl,
            format!(
                "`{value}` must be an http or https URL with a host, not `{}:`",
                url.scheme()
            ),
        ),
        Err(url::ParseError::RelativeUrlWithoutBase) => problems.push(
            field,
            ProblemCode::BadUrl,
            format!("`{value}` has no scheme: add http:// or https:// (e.g. `http://{value}`)"),
        ),
        Err(e) => problems.push(
            field,
            ProblemCode::BadUrl,
            format!("`{value}` is not a URL: {e}"),
        ),
    }
}

pub(crate) fn tags(problems: &mut Problems, tags: &[String]) {
    if tags.len() > MAX_TAGS {
        problems.push(
            "tags",
            ProblemCode::TooLong,
            format!("{} tags given, at most {MAX_TAGS} allowed", tags.len()),
        );
    }
    let mut seen = HashSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let field = format!("tags[{i}]");
        let ok = !tag.is_empty()
            && tag.len() <= 64
            && tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.:".contains(c));
        if !ok {
            problems.push(
                &field,
                ProblemCode::BadSlug,
                format!("`{tag}` must be 1 to 64 lower-case letters, digits or `-_.:`"),
            );
        }
        if !seen.insert(tag.as_str()) {
            problems.push(
                field,
                ProblemCode::Duplicate,
                format!("`{tag}` is given twice"),
            );
        }
    }
}

/// Shape of the lineage inputs; whether upstream domains exist is checked
/// against the database by the caller.
pub(crate) fn inputs(problems: &mut Problems, own_name: &str, inputs: &[LineageInputSpec]) {
    if inputs.len() > MAX_INPUTS {
        problems.push(
            "inputs",
            ProblemCode::TooLong,
            format!(
                "{} inputs given, at most {MAX_INPUTS} allowed",
                inputs.len()
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("inputs[{i}].name");
        match input.kind {
            InputKind::Domain => {
                slug(problems, &field, &input.name);
                if input.name == own_name {
                    problems.push(
                        &field,
                        ProblemCode::LineageCycle,
                        format!("`{own_name}` cannot be an input of itself"),
                    );
                }
            }
            InputKind::External => required_text(problems, &field, &input.name),
        }
        description(
            problems,
            &format!("inputs[{i}].description"),
            &input.description,
        );
        if !seen.insert((input.kind, input.name.as_str())) {
            problems.push(
                field,
                ProblemCode::Duplicate,
                format!("`{}` is listed twice", input.name),
            );
        }
    }
}

/// `restMutations` and `entities` shape a REST domain's derived subgraph;
/// they mean nothing for a GraphQL domain, and each entity needs a GraphQL
/// type name, a key and an operation.
pub(crate) fn rest_settings(problems: &mut Problems, spec: &crate::spec::DomainSpec) {
    let rest = spec.kind == Some(ApiKind::Rest);
    if !rest && spec.rest_mutations.is_some() {
        problems.push(
            "restMutations",
            ProblemCode::OutOfRange,
            "only a REST domain's OpenAPI operations can become mutations",
        );
    }
    if !rest && !spec.entities.is_empty() {
        problems.push(
            "entities",
            ProblemCode::OutOfRange,
            "only a REST domain declares entities here (a GraphQL domain uses @key)",
        );
    }
    let name = |s: &str| {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
            && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
    };
    if !rest && !spec.extends.is_empty() {
        problems.push(
            "extends",
            ProblemCode::OutOfRange,
            "only a REST domain declares fields of other domains' entities here (a GraphQL domain extends them in its schema)",
        );
    }
    let mut names = |at: String, value: &str| {
        if !name(value) {
            problems.push(
                at,
                ProblemCode::Required,
                format!("`{value}` is not a GraphQL name"),
            );
        }
    };
    for (i, e) in spec.entities.iter().enumerate() {
        names(format!("entities[{i}].type"), &e.type_name);
        names(format!("entities[{i}].key"), &e.key);
    }
    for (i, e) in spec.extends.iter().enumerate() {
        names(format!("extends[{i}].type"), &e.type_name);
        names(format!("extends[{i}].key"), &e.key);
        names(format!("extends[{i}].field"), &e.field);
    }
    for (i, e) in spec.entities.iter().enumerate() {
        required_text(problems, &format!("entities[{i}].get"), &e.get);
        if let Some(batch) = &e.batch {
            required_text(problems, &format!("entities[{i}].batch"), batch);
        }
    }
    for (i, e) in spec.extends.iter().enumerate() {
        required_text(problems, &format!("extends[{i}].get"), &e.get);
    }
}

/// A REST domain's schema is its OpenAPI document, which has no default place.
pub(crate) fn schema_endpoint(problems: &mut Problems, kind: ApiKind, endpoint: Option<&str>) {
    match endpoint {
        Some(url) => http_url(problems, "schemaEndpoint", url),
        None if kind == ApiKind::Rest => problems.push(
            "schemaEndpoint",
            ProblemCode::Required,
            "a REST domain needs the URL of its OpenAPI document",
        ),
        None => {}
    }
}

/// Parses a structured JSON part, naming the exact path of what is wrong.
fn typed_list<T: DeserializeOwned>(
    problems: &mut Problems,
    field: &str,
    value: &serde_json::Value,
) -> Option<Vec<T>> {
    match serde_path_to_error::deserialize::<_, Vec<T>>(value) {
        Ok(list) if list.len() > MAX_LIST => {
            problems.push(
                field,
                ProblemCode::TooLong,
                format!("{} entries given, at most {MAX_LIST} allowed", list.len()),
            );
            None
        }
        Ok(list) => Some(list),
        Err(e) => {
            let path = e.path().to_string();
            let at = if path == "." {
                field.to_string()
            } else if path.starts_with('[') {
                format!("{field}{path}")
            } else {
                format!("{field}.{path}")
            };
            problems.push(at, ProblemCode::MalformedJson, e.into_inner().to_string());
            None
        }
    }
}

pub(crate) fn processing_steps(problems: &mut Problems, value: &serde_json::Value) {
    if let Some(steps) = typed_list::<ProcessingStep>(problems, "processingSteps", value) {
        for (i, step) in steps.iter().enumerate() {
            required_text(problems, &format!("processingSteps[{i}].name"), &step.name);
            description(
                problems,
                &format!("processingSteps[{i}].description"),
                &step.description,
            );
        }
    }
}

pub(crate) fn quality_indicators(problems: &mut Problems, value: &serde_json::Value) {
    if let Some(list) = typed_list::<QualityIndicator>(problems, "qualityIndicators", value) {
        for (i, q) in list.iter().enumerate() {
            required_text(problems, &format!("qualityIndicators[{i}].name"), &q.name);
            description(
                problems,
                &format!("qualityIndicators[{i}].description"),
                &q.description,
            );
            if q.target.is_some_and(|t| !t.is_finite()) {
                problems.push(
                    format!("qualityIndicators[{i}].target"),
                    ProblemCode::OutOfRange,
                    "must be a finite number",
                );
            }
        }
    }
}

pub(crate) fn slos(problems: &mut Problems, value: &serde_json::Value) {
    if let Some(list) = typed_list::<Slo>(problems, "slos", value) {
        for (i, slo) in list.iter().enumerate() {
            required_text(problems, &format!("slos[{i}].name"), &slo.name);
            description(
                problems,
                &format!("slos[{i}].description"),
                &slo.description,
            );
            let at = |field: &str| format!("slos[{i}].{field}");
            let percent = |problems: &mut Problems| match slo.target {
                None => problems.push(
                    at("target"),
                    ProblemCode::Required,
                    "a percentage is required",
                ),
                Some(t) if !(t > 0.0 && t <= 100.0) => problems.push(
                    at("target"),
                    ProblemCode::OutOfRange,
                    format!("{t} is not a percentage above 0 and at most 100"),
                ),
                Some(_) => {}
            };
            let duration =
                |problems: &mut Problems, field: &str, value: &Option<String>| match value {
                    None => problems.push(
                        at(field),
                        ProblemCode::Required,
                        "a duration such as `30d` is required",
                    ),
                    Some(w) if !is_window(w) => problems.push(
                        at(field),
                        ProblemCode::OutOfRange,
                        format!("`{w}` is not a window such as `30m`, `12h`, `30d` or `4w`"),
                    ),
                    Some(_) => {}
                };
            let unused = |problems: &mut Problems, field: &str, present: bool, kind: &str| {
                if present {
                    problems.push(
                        at(field),
                        ProblemCode::OutOfRange,
                        format!(
                            "{} {kind} SLO has no `{field}`",
                            if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                                "an"
                            } else {
                                "a"
                            }
                        ),
                    );
                }
            };
            match slo.kind {
                None | Some(SloKind::Availability) | Some(SloKind::ErrorRate) => {
                    percent(problems);
                    duration(problems, "window", &slo.window);
                    let kind = match slo.kind {
                        Some(SloKind::ErrorRate) => "error-rate",
                        Some(_) => "availability",
                        None => "declared",
                    };
                    unused(problems, "maxAge", slo.max_age.is_some(), kind);
                    unused(problems, "indicator", slo.indicator.is_some(), kind);
                }
                Some(SloKind::Freshness) => {
                    duration(problems, "maxAge", &slo.max_age);
                    unused(problems, "target", slo.target.is_some(), "freshness");
                    unused(problems, "window", slo.window.is_some(), "freshness");
                    unused(problems, "indicator", slo.indicator.is_some(), "freshness");
                }
                Some(SloKind::Quality) => {
                    match &slo.indicator {
                        None => problems.push(
                            at("indicator"),
                            ProblemCode::Required,
                            "the quality indicator measured is required",
                        ),
                        Some(name) => required_text(problems, &at("indicator"), name),
                    }
                    match slo.target {
                        Some(t) if !t.is_finite() => problems.push(
                            at("target"),
                            ProblemCode::OutOfRange,
                            "must be a finite number",
                        ),
                        _ => {}
                    }
                    // Optional here: how old a value may be before at risk.
                    if slo.window.is_some() {
                        duration(problems, "window", &slo.window);
                    }
                    unused(problems, "maxAge", slo.max_age.is_some(), "quality");
                }
            }
        }
    }
}

/// OpenLineage dataset mappings: namespace and name, no duplicates.
pub(crate) fn datasets(problems: &mut Problems, list: &[crate::spec::DatasetRef]) {
    if list.len() > MAX_LIST {
        problems.push(
            "datasets",
            ProblemCode::OutOfRange,
            format!("at most {MAX_LIST} datasets"),
        );
    }
    let mut seen = HashSet::new();
    for (i, d) in list.iter().enumerate() {
        required_text(problems, &format!("datasets[{i}].namespace"), &d.namespace);
        required_text(problems, &format!("datasets[{i}].name"), &d.name);
        if d.name.trim() == "*" {
            problems.push(
                format!("datasets[{i}].name"),
                ProblemCode::OutOfRange,
                "`*` alone would claim every dataset of the namespace; give a prefix",
            );
        }
        if !seen.insert((&d.namespace, &d.name)) {
            problems.push(
                format!("datasets[{i}]"),
                ProblemCode::Duplicate,
                format!("`{}` `{}` is listed twice", d.namespace, d.name),
            );
        }
    }
}

/// Parses a validated duration (`30m`, `12h`, `30d`, `4w`).
pub fn parse_window(window: &str) -> Option<chrono::Duration> {
    if !is_window(window) {
        return None;
    }
    let unit = window.chars().last()?;
    let n: i64 = window[..window.len() - 1].parse().ok()?;
    Some(match unit {
        'm' => chrono::Duration::minutes(n),
        'h' => chrono::Duration::hours(n),
        'd' => chrono::Duration::days(n),
        _ => chrono::Duration::weeks(n),
    })
}

fn is_window(window: &str) -> bool {
    let Some(unit) = window.chars().last() else {
        return false;
    };
    let digits = &window[..window.len() - unit.len_utf8()];
    "mhdw".contains(unit)
        && !digits.is_empty()
        && digits.len() <= 4
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.parse::<u32>().is_ok_and(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(f: impl FnOnce(&mut Problems)) -> Vec<Problem> {
        let mut p = Problems::default();
        f(&mut p);
        p.0
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_hyphens() {
        for good in ["orders", "order-lines", "b2b", "ab"] {
            assert!(problems_of(|p| slug(p, "name", good)).is_empty(), "{good}");
        }
        for bad in [
            "",
            "a",
            "Orders",
            "1orders",
            "orders-",
            "or--ders",
            "or_ders",
            &"a".repeat(64),
        ] {
            let found = problems_of(|p| slug(p, "name", bad));
            assert_eq!(found.len(), 1, "{bad}");
            assert_eq!(found[0].code, ProblemCode::BadSlug);
        }
    }

    #[test]
    fn slo_problems_name_the_exact_entry_and_field() {
        let value = serde_json::json!([
            {"name": "availability", "target": 99.9, "window": "30d"},
            {"name": "freshness", "target": "high", "window": "1d"}
        ]);
        let found = problems_of(|p| slos(p, &value));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "slos[1].target");
        assert_eq!(found[0].code, ProblemCode::MalformedJson);

        let value = serde_json::json!([{"name": "a", "target": 120, "window": "soon"}]);
        let fields: Vec<_> = problems_of(|p| slos(p, &value))
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["slos[0].target", "slos[0].window"]);
    }

    #[test]
    fn unknown_keys_in_structured_parts_are_refused() {
        let value = serde_json::json!([{"name": "dedupe", "tol": "spark"}]);
        let found = problems_of(|p| processing_steps(p, &value));
        assert_eq!(found[0].field, "processingSteps[0].tol");
        assert!(
            found[0].reason.contains("unknown field `tol`"),
            "{}",
            found[0].reason
        );
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(
            problems_of(|p| http_url(p, "apiUrl", "https://orders.internal/graphql")).is_empty()
        );
        for bad in ["ftp://x/y", "orders", "file:///etc/passwd", "http://"] {
            assert_eq!(
                problems_of(|p| http_url(p, "apiUrl", bad)).len(),
                1,
                "{bad}"
            );
        }
    }
}
