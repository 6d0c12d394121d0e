//! Classified diffs, compatibility modes and governance rules over real
//! subgraph SDL.

use evolution::{
    compatibility_violations, diff, evaluate_rules, Compatibility, Direction, RuleLevel, Rules,
    Schema, Severity,
};

const LINK: &str =
    r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])"#;

fn sdl(body: &str) -> String {
    format!("{LINK}\n{body}")
}

/// (severity, kind, path) of each change.
fn changes(old: &str, new: &str) -> Vec<(Severity, String, String)> {
    let mut out: Vec<_> = diff(&sdl(old), &sdl(new))
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|c| (c.severity, c.kind, c.path))
        .collect();
    out.sort();
    out
}

fn one(old: &str, new: &str) -> (Severity, String, String) {
    let all = changes(old, new);
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap_or_else(|| unreachable!())
}

use Severity::{Breaking, Dangerous, Safe};

#[test]
fn removals_and_narrowings_break() {
    let base = "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID! total: Float status: Status } enum Status { OPEN CLOSED }";
    assert_eq!(
        one(base, "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID! status: Status } enum Status { OPEN CLOSED }"),
        (Breaking, "FIELD_REMOVED".into(), "Order.total".into())
    );
    assert_eq!(
        one(base, "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID! total: Float status: Status } enum Status { OPEN }"),
        (Breaking, "ENUM_VALUE_REMOVED".into(), "Status.CLOSED".into())
    );
    assert_eq!(
        one(base, "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID! total: String status: Status } enum Status { OPEN CLOSED }"),
        (Breaking, "FIELD_TYPE_CHANGED".into(), "Order.total".into())
    );
    assert_eq!(
        one(base, "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID! total: Float status: Status } scalar Status"),
        (Breaking, "TYPE_KIND_CHANGED".into(), "Status".into())
    );
    assert_eq!(
        one(base, "type Query { order(id: ID!, region: String!): Order } type Order @key(fields: \"id\") { id: ID! total: Float status: Status } enum Status { OPEN CLOSED }"),
        (Breaking, "REQUIRED_ARG_ADDED".into(), "Query.order.region".into())
    );
    assert_eq!(
        one(base, "type Query { order: Order } type Order @key(fields: \"id\") { id: ID! total: Float status: Status } enum Status { OPEN CLOSED }"),
        (Breaking, "ARG_REMOVED".into(), "Query.order.id".into())
    );
    // Output made nullable breaks readers; input made required breaks writers.
    assert_eq!(
        one(base, "type Query { order(id: ID!): Order } type Order @key(fields: \"id\") { id: ID total: Float status: Status } enum Status { OPEN CLOSED }"),
        (Breaking, "FIELD_TYPE_CHANGED".into(), "Order.id".into())
    );
    assert_eq!(
        one(
            "type Query { a(x: Int): Int }",
            "type Query { a(x: Int!): Int }"
        ),
        (Breaking, "ARG_TYPE_CHANGED".into(), "Query.a.x".into())
    );
    assert_eq!(
        one(
            "type Query { a(f: F): Int } input F { x: Int }",
            "type Query { a(f: F): Int } input F { x: Int y: Int! }"
        ),
        (Breaking, "REQUIRED_INPUT_FIELD_ADDED".into(), "F.y".into())
    );
    assert_eq!(
        changes(
            "type Query { a: A } type A { x: Int } type B { y: Int }",
            "type Query { a: A } type A { x: Int }"
        ),
        vec![(Breaking, "TYPE_REMOVED".into(), "B".into())]
    );
}

#[test]
fn additions_are_safe_or_dangerous() {
    assert_eq!(
        one("type Query { a: Int }", "type Query { a: Int b: String }"),
        (Safe, "FIELD_ADDED".into(), "Query.b".into())
    );
    assert_eq!(
        one("type Query { a: Int }", "type Query { a: Int! }"),
        (Safe, "FIELD_TYPE_CHANGED".into(), "Query.a".into())
    );
    assert_eq!(
        one(
            "type Query { a(x: Int!): Int }",
            "type Query { a(x: Int): Int }"
        ),
        (Safe, "ARG_TYPE_CHANGED".into(), "Query.a.x".into())
    );
    assert_eq!(
        one(
            "type Query { s: S } enum S { A }",
            "type Query { s: S } enum S { A B }"
        ),
        (Dangerous, "ENUM_VALUE_ADDED".into(), "S.B".into())
    );
    assert_eq!(
        one(
            "type Query { u: U } union U = A type A { x: Int } type B { x: Int }",
            "type Query { u: U } union U = A | B type A { x: Int } type B { x: Int }"
        ),
        (Dangerous, "UNION_MEMBER_ADDED".into(), "U".into())
    );
    assert_eq!(
        one("type Query { a: Int }", "type Query { a(x: Int): Int }"),
        (Dangerous, "OPTIONAL_ARG_ADDED".into(), "Query.a.x".into())
    );
    assert_eq!(
        one(
            "type Query { a(x: Int = 1): Int }",
            "type Query { a(x: Int = 2): Int }"
        ),
        (Dangerous, "ARG_DEFAULT_CHANGED".into(), "Query.a.x".into())
    );
    // A required argument with a default asks nothing of callers.
    assert_eq!(
        one(
            "type Query { a: Int }",
            "type Query { a(x: Int! = 3): Int }"
        ),
        (Dangerous, "OPTIONAL_ARG_ADDED".into(), "Query.a.x".into())
    );
}

#[test]
fn federation_machinery_and_extensions_are_not_the_api() {
    // `extend type` merges with the type; `_service`/`_entities`, `_Any`
    // and a link's import list are no change.
    let old = sdl("type Query { a: A } type A @key(fields: \"id\") { id: ID! }");
    let new = format!(
        "{}\nextend type A {{ name: String }}\nscalar _Any\ntype _Service {{ sdl: String }}\nextend type Query {{ _service: _Service! }}",
        sdl("type Query { a: A } type A @key(fields: \"id\") { id: ID! }").replace("[\"@key\"]", "[\"@key\", \"@shareable\"]")
    );
    let all = diff(&old, &new).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<(&str, &str)> = all
        .iter()
        .map(|c| (c.kind.as_str(), c.path.as_str()))
        .collect();
    assert_eq!(kinds, [("FIELD_ADDED", "A.name")]);
    assert!(matches!(
        diff("type {", &new),
        Err(evolution::EvolutionError::Parse(_))
    ));
}

/// Versions v1 → v2 (a field added) → v3 (a field removed).
const V1: &str = "type Query { a: Int b: Int }";
const V2: &str = "type Query { a: Int b: Int c: Int }";
const V3: &str = "type Query { a: Int c: Int }";
const V4: &str = "type Query { a: Int c: Int d: Int }";

fn refused(mode: Compatibility, new: &str, earlier: &[&str]) -> Vec<(usize, Direction, String)> {
    let new = sdl(new);
    let earlier: Vec<String> = earlier.iter().map(|e| sdl(e)).collect();
    let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
    compatibility_violations(mode, &new, &earlier)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|v| (v.against, v.direction, v.change.path))
        .collect()
}

#[test]
fn each_compatibility_mode_accepts_and_refuses() {
    use Compatibility::*;
    use Direction::{Backward as B, Forward as F};
    // NONE accepts anything.
    assert!(refused(None, V3, &[V2, V1]).is_empty());
    // BACKWARD: additions pass, removals are refused.
    assert!(refused(Backward, V2, &[V1]).is_empty());
    assert_eq!(
        refused(Backward, V3, &[V2]),
        [(0, B, "Query.b".to_string())]
    );
    // FORWARD: removals pass (old deployments serve the new contract),
    // additions are refused.
    assert!(refused(Forward, V3, &[V2]).is_empty());
    assert_eq!(refused(Forward, V2, &[V1]), [(0, F, "Query.c".to_string())]);
    // FULL: neither.
    assert!(refused(Full, V1, &[V1]).is_empty());
    assert_eq!(refused(Full, V2, &[V1]), [(0, F, "Query.c".to_string())]);
    assert_eq!(refused(Full, V3, &[V2]), [(0, B, "Query.b".to_string())]);
    // Transitive variants look at every earlier version: V4 only adds to
    // V3, but V1 and V2 had `b`.
    assert!(refused(Backward, V4, &[V3, V2, V1]).is_empty());
    assert_eq!(
        refused(BackwardTransitive, V4, &[V3, V2, V1]),
        [(1, B, "Query.b".to_string()), (2, B, "Query.b".to_string())]
    );
    assert!(refused(BackwardTransitive, V2, &[V1]).is_empty());
    assert!(refused(ForwardTransitive, V3, &[V2]).is_empty());
    assert_eq!(
        refused(ForwardTransitive, V3, &[V2, V1]),
        [(1, F, "Query.c".to_string())]
    );
    assert!(refused(FullTransitive, V1, &[V1, V1]).is_empty());
    assert_eq!(
        refused(FullTransitive, V3, &[V1, V1]),
        [
            (0, B, "Query.b".to_string()),
            (0, F, "Query.c".to_string()),
            (1, B, "Query.b".to_string()),
            (1, F, "Query.c".to_string())
        ]
    );
}

#[test]
fn governance_rules_apply_to_what_a_version_introduces() {
    let rules: Rules = serde_json_like();
    let old = sdl("type Query { bad_old: Int }");
    let new = sdl(
        "type Query { bad_old: Int \"Described.\" goodNew: Int bad_new: Int }\n\
         \"An order.\" type Order @key(fields: \"id\") { \"Id.\" id: ID! }\n\
         enum status { open }",
    );
    let changes = diff(&old, &new).unwrap_or_else(|e| panic!("{e}"));
    let parsed = Schema::parse(&new).unwrap_or_else(|e| panic!("{e}"));
    let mut found: Vec<(String, RuleLevel, String)> = evaluate_rules(&rules, &changes, &parsed)
        .into_iter()
        .map(|v| (v.rule, v.level, v.path))
        .collect();
    found.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
    assert_eq!(
        found,
        [
            (
                "descriptions".to_string(),
                RuleLevel::Warn,
                "Query.bad_new".to_string()
            ),
            (
                "descriptions".to_string(),
                RuleLevel::Warn,
                "status".to_string()
            ),
            (
                "naming".to_string(),
                RuleLevel::Error,
                "Query.bad_new".to_string()
            ),
            ("naming".to_string(), RuleLevel::Error, "status".to_string()),
            (
                "naming".to_string(),
                RuleLevel::Error,
                "status.open".to_string()
            ),
            (
                "provenance".to_string(),
                RuleLevel::Error,
                "Order".to_string()
            ),
        ],
        "the old `bad_old` is not reported"
    );
    // Forbidden names.
    let rules = Rules {
        forbidden_names: Some(evolution::ForbiddenNames {
            level: RuleLevel::Warn,
            names: vec!["temp".into()],
        }),
        ..Default::default()
    };
    let new = sdl("type Query { temp: Int }");
    let changes = diff(&sdl("type Query { a: Int }"), &new).unwrap_or_else(|e| panic!("{e}"));
    let parsed = Schema::parse(&new).unwrap_or_else(|e| panic!("{e}"));
    let found = evaluate_rules(&rules, &changes, &parsed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, "forbiddenNames");
}

fn serde_json_like() -> Rules {
    Rules {
        naming: Some(RuleLevel::Error),
        descriptions: Some(RuleLevel::Warn),
        provenance: Some(evolution::Provenance {
            level: RuleLevel::Error,
            fields: vec!["updatedAt".into()],
        }),
        forbidden_names: None,
        usage_window_seconds: None,
    }
}
