//! Composition fidelity against a reference: every subgraph set under
//! `tests/fixtures/composition/` (one folder per set, one `NAME.graphql`
//! per domain) is composed by Meshwork and by The Guild's federation
//! composition (`tests/composition-oracle/`, MIT, run with node from the
//! npm registry's package). Both must compose or both refuse; when both
//! compose, the supergraphs must be equivalent after normalisation (types,
//! fields and their types, join directives, `@inaccessible`/`@tag`).
//!
//! Where Meshwork is known to differ, the set is listed in
//! [`KNOWN_DIVERGENCES`] with the reason; the test fails if a listed set
//! starts agreeing (remove it from the list) or an unlisted one differs.
//! Sets named `refused-*` must be refused by both.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use graphql_parser::schema::{Definition, Directive, Document, TypeDefinition, Value};

/// Sets where Meshwork's composition is known to differ from the
/// reference, with why. Each is a bug to fix (issue 9) unless it says
/// "intended".
const KNOWN_DIVERGENCES: &[(&str, &str)] = &[
    (
        "output-supertype",
        "intended: Meshwork follows Apollo Federation 2 and merges `Query.book` (Book in a, its interface Media in b) to the supertype Media, with `@join__field(graph: A, type: \"Book\")`; The Guild's composition picks Book",
    ),
    (
        "override-dangling",
        "intended: an @override naming no domain is an error naming the domain that wrote it (the reference only hints)",
    ),
];

/// What one composition gave.
#[derive(Debug)]
enum Outcome {
    Composed(String),
    Refused(Vec<String>),
}

fn corpus() -> PathBuf {
    common::fixture("composition")
}

fn sets() -> Vec<PathBuf> {
    let mut sets: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    sets
}

fn set_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The set's subgraphs: `(domain name, SDL)` per `NAME.graphql`.
fn subgraph_files(set: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(set)
        .expect("set folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let name = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read_to_string(f).expect("subgraph file"))
        })
        .collect()
}

/// The URL both compositions give a subgraph in the corpus test.
fn placeholder_url(name: &str) -> String {
    format!("http://{name}.local/graphql")
}

fn compose_with(files: &[(String, String)], url: impl Fn(&str) -> String) -> Outcome {
    let subgraphs: Vec<composition::Subgraph> = files
        .iter()
        .map(|(name, sdl)| composition::Subgraph {
            url: url(name),
            sdl: sdl.clone(),
            name: name.clone(),
        })
        .collect();
    match composition::compose(&subgraphs) {
        Ok(s) => Outcome::Composed(s.sdl),
        Err(e) => Outcome::Refused(e.0.iter().map(ToString::to_string).collect()),
    }
}

fn meshwork(set: &Path) -> Outcome {
    compose_with(&subgraph_files(set), placeholder_url)
}

/// The reference's outcome per set, or `None` (said on stderr) when node
/// or the oracle's packages cannot be had outside CI.
fn oracle(sets: &[PathBuf]) -> Option<BTreeMap<String, Outcome>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/composition-oracle");
    let ci = std::env::var_os("CI").is_some();
    let unavailable = |why: String| {
        if ci {
            panic!("CI needs the composition oracle: {why}");
        }
        common::skipped(&format!(
            "the composition oracle: unavailable ({why}); install node and npm to run it"
        ));
        None
    };
    if let Err(why) = common::npm_ci(&dir) {
        return unavailable(why);
    }
    let output = std::process::Command::new("node")
        .arg(dir.join("compose.mjs"))
        .args(sets)
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => return unavailable(format!("node: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => return unavailable(format!("node: {e}")),
    };
    let mut outcomes = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("oracle JSON line");
        let set = value["set"].as_str().unwrap_or_default().to_string();
        let outcome = match value["supergraph"].as_str() {
            Some(sdl) => Outcome::Composed(sdl.to_string()),
            None => Outcome::Refused(
                value["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect(),
            ),
        };
        outcomes.insert(set, outcome);
    }
    Some(outcomes)
}

/// `{ a  b{c} }` and `{a b {c}}` alike, `...on X` and `... on X`,
/// `f(a:1)` and `f(a: 1)`.
fn normal_selection(text: &str) -> String {
    text.replace('{', " { ")
        .replace('}', " } ")
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(':', " : ")
        .replace("...", " ... ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A directive as text with its arguments sorted and defaults dropped.
fn directive(d: &Directive<'_, String>) -> String {
    let mut args: Vec<String> = d
        .arguments
        .iter()
        .filter(|(name, value)| {
            !matches!(
                (name.as_str(), value),
                (
                    "external" | "extension" | "isInterfaceObject" | "usedOverridden",
                    Value::Boolean(false)
                ) | ("resolvable", Value::Boolean(true))
            )
        })
        .map(|(name, value)| match value {
            Value::String(s)
                if matches!(name.as_str(), "key" | "requires" | "provides" | "fields") =>
            {
                format!("{name}: \"{}\"", normal_selection(s))
            }
            _ => format!("{name}: {value}"),
        })
        .collect();
    args.sort();
    if args.is_empty() {
        format!("@{}", d.name)
    } else {
        format!("@{}({})", d.name, args.join(", "))
    }
}

/// Directives that carry meaning for planning or the API schema.
fn kept(d: &Directive<'_, String>) -> bool {
    d.name.starts_with("join__")
        || matches!(
            d.name.as_str(),
            "inaccessible" | "tag" | "authenticated" | "requiresScopes" | "policy"
        )
}

fn directives(list: &[Directive<'_, String>]) -> BTreeSet<String> {
    list.iter().filter(|d| kept(d)).map(directive).collect()
}

/// One line per type, field, enum value and union member, with its
/// meaningful directives; join__field made explicit where a supergraph
/// leaves it implicit (a field without one lives in every subgraph of its
/// type).
fn normalize(sdl: &str) -> BTreeSet<String> {
    let doc: Document<'_, String> = match graphql_parser::parse_schema::<String>(sdl) {
        Ok(doc) => doc,
        Err(e) => return [format!("unparsable supergraph: {e}")].into(),
    };
    let mut out = BTreeSet::new();
    let internal =
        |name: &str| name.starts_with("join__") || name.starts_with("link__") || name == "link";
    for def in &doc.definitions {
        let Definition::TypeDefinition(t) = def else {
            continue;
        };
        match t {
            TypeDefinition::Object(o) if !internal(&o.name) => {
                type_lines(
                    &mut out,
                    "type",
                    &o.name,
                    &o.directives,
                    &o.implements_interfaces,
                    &o.fields,
                );
            }
            TypeDefinition::Interface(i) if !internal(&i.name) => {
                type_lines(
                    &mut out,
                    "interface",
                    &i.name,
                    &i.directives,
                    &i.implements_interfaces,
                    &i.fields,
                );
            }
            TypeDefinition::InputObject(i) if !internal(&i.name) => {
                out.insert(format!("input {} {:?}", i.name, directives(&i.directives)));
                for f in &i.fields {
                    out.insert(format!(
                        "input {}.{}: {} {:?}",
                        i.name,
                        f.name,
                        f.value_type,
                        directives(&f.directives)
                    ));
                }
            }
            TypeDefinition::Enum(e) if !internal(&e.name) => {
                out.insert(format!("enum {} {:?}", e.name, directives(&e.directives)));
                for v in &e.values {
                    out.insert(format!(
                        "enum {}.{} {:?}",
                        e.name,
                        v.name,
                        directives(&v.directives)
                    ));
                }
            }
            TypeDefinition::Union(u) if !internal(&u.name) => {
                out.insert(format!("union {} {:?}", u.name, directives(&u.directives)));
                for member in &u.types {
                    out.insert(format!("union {} member {member}", u.name));
                }
            }
            // Spec-owned scalars (`federation__Scope`, `requiresScopes__Scope`)
            // are named after whichever spec a composer links.
            TypeDefinition::Scalar(s)
                if !internal(&s.name) && s.name != "_Any" && !s.name.contains("__") =>
            {
                out.insert(format!("scalar {} {:?}", s.name, directives(&s.directives)));
            }
            _ => {}
        }
    }
    out
}

fn type_lines(
    out: &mut BTreeSet<String>,
    kind: &str,
    name: &str,
    type_directives: &[Directive<'_, String>],
    implements: &[String],
    fields: &[graphql_parser::schema::Field<'_, String>],
) {
    let graphs: Vec<String> = type_directives
        .iter()
        .filter(|d| d.name == "join__type")
        .filter_map(|d| {
            d.arguments
                .iter()
                .find(|(a, _)| a == "graph")
                .map(|(_, v)| v.to_string())
        })
        .collect();
    out.insert(format!("{kind} {name} {:?}", directives(type_directives)));
    for interface in implements {
        out.insert(format!("{kind} {name} implements {interface}"));
    }
    for f in fields {
        let mut field_directives = directives(&f.directives);
        if !f.directives.iter().any(|d| d.name == "join__field") {
            for g in &graphs {
                field_directives.insert(format!("@join__field(graph: {g})"));
            }
        }
        // `type:` on join__field only matters where it differs.
        let own = format!("type: \"{}\"", f.field_type);
        let field_directives: BTreeSet<String> = field_directives
            .into_iter()
            .map(|d| {
                d.replace(&format!(", {own}"), "")
                    .replace(&format!("{own}, "), "")
            })
            .collect();
        let args: Vec<String> = f
            .arguments
            .iter()
            .map(|a| {
                format!(
                    "{}: {}{}",
                    a.name,
                    a.value_type,
                    a.default_value
                        .as_ref()
                        .map(|v| format!(" = {v}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        out.insert(format!(
            "{kind} {name}.{}({}): {} {:?}",
            f.name,
            args.join(", "),
            f.field_type,
            field_directives
        ));
    }
}

/// How the two compositions of a set differ, if they do.
fn divergence(set: &str, ours: &Outcome, reference: &Outcome) -> Option<String> {
    match (ours, reference) {
        (Outcome::Refused(_), Outcome::Refused(_)) => None,
        (Outcome::Composed(_), Outcome::Refused(e)) => Some(format!(
            "Meshwork composes what the reference refuses: {}",
            e.join(" | ")
        )),
        (Outcome::Refused(e), Outcome::Composed(_)) => Some(format!(
            "Meshwork refuses what the reference composes: {}",
            e.join(" | ")
        )),
        (Outcome::Composed(a), Outcome::Composed(b)) => {
            let (a, b) = (normalize(a), normalize(b));
            if a == b {
                return None;
            }
            let only_ours: Vec<&String> = a.difference(&b).collect();
            let only_reference: Vec<&String> = b.difference(&a).collect();
            Some(format!(
                "{set}: supergraphs differ\n  only Meshwork's: {only_ours:#?}\n  only the reference's: {only_reference:#?}"
            ))
        }
    }
}

#[test]
fn every_set_composes_as_the_reference_composes_it() {
    let sets = sets();
    assert!(sets.len() >= 20, "the corpus has {} sets", sets.len());
    let Some(reference) = oracle(&sets) else {
        return;
    };
    let mut diverging = BTreeMap::new();
    for set in &sets {
        let name = set_name(set);
        let ours = meshwork(set);
        let theirs = reference
            .get(&name)
            .unwrap_or_else(|| panic!("the oracle did not answer for {name}"));
        if name.starts_with("refused-") {
            assert!(
                matches!(theirs, Outcome::Refused(_)),
                "{name}: the reference composes a set named refused-*"
            );
        }
        if let Some(why) = divergence(&name, &ours, theirs) {
            diverging.insert(name, why);
        }
    }
    let known: BTreeSet<&str> = KNOWN_DIVERGENCES.iter().map(|(s, _)| *s).collect();
    let found: BTreeSet<&str> = diverging.keys().map(String::as_str).collect();
    let new: Vec<&&str> = found.difference(&known).collect();
    let fixed: Vec<&&str> = known.difference(&found).collect();
    let report: Vec<String> = diverging
        .iter()
        .filter(|(s, _)| !known.contains(s.as_str()))
        .map(|(s, why)| format!("{s}: {why}"))
        .collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "new divergences: {new:?}\nnow agreeing (remove from KNOWN_DIVERGENCES): {fixed:?}\n\n{}",
        report.join("\n\n")
    );
}

/// Every refusal in the corpus names the rule broken and the domain (or
/// domains) it lies in, so a domain team can act on it.
#[test]
fn every_refusal_names_its_rule_and_domains() {
    let mut vague = Vec::new();
    for set in sets() {
        let name = set_name(&set);
        if !name.starts_with("refused-") {
            continue;
        }
        let subgraphs: Vec<composition::Subgraph> = subgraph_files(&set)
            .into_iter()
            .map(|(domain, sdl)| composition::Subgraph {
                url: placeholder_url(&domain),
                name: domain,
                sdl,
            })
            .collect();
        let Err(failed) = composition::compose(&subgraphs) else {
            vague.push(format!("{name}: composed"));
            continue;
        };
        for error in &failed.0 {
            let placed = error.domain.is_some() || !error.locations.is_empty();
            if error.code.is_none() || !placed {
                vague.push(format!("{name}: {error:?}"));
            }
        }
    }
    assert!(vague.is_empty(), "{}", vague.join("\n"));
}

/// Meshwork's own rule beyond the reference: an `@override` naming no
/// domain is an error naming the domain that wrote it.
#[test]
fn an_override_from_no_domain_is_refused_naming_its_author() {
    let set = corpus().join("override-dangling");
    match meshwork(&set) {
        Outcome::Refused(errors) => assert!(
            errors
                .iter()
                .any(|e| e.contains("pricing") && e.contains("ghost")),
            "{errors:?}"
        ),
        Outcome::Composed(_) => panic!("a dangling @override composed"),
    }
}

fn compose_cli(set: &str, extra: &[&str]) -> std::process::Output {
    let dir = corpus().join(set);
    let mut args = vec!["compose".to_string()];
    for file in std::fs::read_dir(&dir).expect("set").filter_map(|e| e.ok()) {
        let path = file.path();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        args.push("--subgraph".into());
        args.push(format!("{name}={}", path.display()));
        args.push("--url".into());
        args.push(format!("{name}=http://{name}.local/graphql"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    std::process::Command::new(common::binary())
        .args(&args)
        .env("MESHWORK_LOG", "warn")
        .output()
        .expect("run meshwork compose")
}

/// `meshwork compose` composes local files exactly as the catalog does
/// (composition, then the access step every served supergraph goes
/// through), and reports errors naming their domain.
#[test]
fn the_compose_command_prints_what_the_catalog_would_serve() {
    let output = compose_cli("requires", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let Outcome::Composed(sdl) = meshwork(&corpus().join("requires")) else {
        panic!("the requires set composes");
    };
    let rules = composition::AccessRules {
        admin_scope: "mesh:admin".into(),
        ..Default::default()
    };
    let served = composition::apply_access(&sdl, &rules).expect("access step");
    assert_eq!(printed, served.trim());

    let refused = compose_cli("override-dangling", &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("domain `pricing` (line 2)") && stderr.contains("ghost"),
        "the error names the domain, the line and the missing domain: {stderr}"
    );
    let json = compose_cli("override-dangling", &["--output", "json"]);
    assert!(!json.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(answer["errors"][0]["domain"], "pricing", "{answer}");
    assert_eq!(answer["errors"][0]["line"], 2, "{answer}");
    // Hints are warnings: on stderr as a table, in `warnings` as JSON.
    let hinted = compose_cli("argument-merge", &[]);
    assert!(hinted.status.success());
    assert!(
        String::from_utf8_lossy(&hinted.stderr).contains(
            "warning: [INCONSISTENT_ARGUMENT_PRESENCE] Optional argument \"Query.search(limit:)\""
        ),
        "{}",
        String::from_utf8_lossy(&hinted.stderr)
    );
    let hinted = compose_cli("argument-merge", &["--output", "json"]);
    let answer: serde_json::Value = serde_json::from_slice(&hinted.stdout).expect("JSON on stdout");
    assert_eq!(
        answer["warnings"][0]["coordinate"], "Query.search(limit:)",
        "{answer}"
    );
    // Errors of the composition library get the line too when they name
    // one domain and a type or field of it.
    let subsets = compose_cli("refused-value-type-subsets", &["--output", "json"]);
    let answer: serde_json::Value =
        serde_json::from_slice(&subsets.stdout).expect("JSON on stdout");
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        !errors.is_empty()
            && errors
                .iter()
                .all(|e| e["domain"].is_string() && e["line"] == 3),
        "{answer}"
    );
}

/// A type that is an entity in one domain and a value type in another
/// (composed by the vendored fix) plans and answers through the gateway.
mod mixed {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};

    #[derive(SimpleObject)]
    #[graphql(name = "Agency")]
    pub struct AgencyEntity {
        pub id: ID,
        #[graphql(shareable)]
        pub company_name: Option<String>,
    }

    pub struct AgencyQuery;

    fn agency_named(id: ID) -> AgencyEntity {
        AgencyEntity {
            company_name: Some(format!("Agency {}", id.as_str())),
            id,
        }
    }

    #[Object(name = "Query")]
    impl AgencyQuery {
        async fn agency(&self, id: ID) -> Option<AgencyEntity> {
            Some(agency_named(id))
        }
        #[graphql(entity)]
        async fn find_agency_by_id(&self, id: ID) -> Option<AgencyEntity> {
            Some(agency_named(id))
        }
    }

    #[derive(SimpleObject)]
    #[graphql(name = "Agency", shareable)]
    pub struct AgencyValue {
        pub id: ID,
        pub company_name: Option<String>,
    }

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub agency: AgencyValue,
    }

    pub struct ProductsQuery;

    #[Object(name = "Query")]
    impl ProductsQuery {
        async fn products(&self) -> Vec<Product> {
            vec![Product {
                id: "p1".into(),
                agency: AgencyValue {
                    id: "a1".into(),
                    company_name: Some("Agency a1".into()),
                },
            }]
        }
    }

    pub fn agency() -> axum::Router {
        domains::router(
            Schema::build(AgencyQuery, EmptyMutation, EmptySubscription)
                .enable_federation()
                .finish(),
        )
    }

    pub fn products() -> axum::Router {
        domains::router(
            Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
                .enable_federation()
                .finish(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_that_is_a_value_type_elsewhere_is_served() {
    let agency = domains::serve(mixed::agency()).await.expect("agency");
    let products = domains::serve(mixed::products()).await.expect("products");
    let supergraph = common::compose(&[("agency", &agency.url), ("products", &products.url)]).await;
    let gateway = common::static_gateway(&supergraph.sdl, None, &[]).await;
    let ask = |query: &'static str| {
        let base = gateway.server.base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/graphql"))
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .expect("POST")
                .json::<serde_json::Value>()
                .await
                .expect("JSON")
        }
    };
    let answer = ask("{ products { id agency { id companyName } } }").await;
    assert_eq!(
        answer,
        serde_json::json!({ "data": { "products": [
            { "id": "p1", "agency": { "id": "a1", "companyName": "Agency a1" } }
        ] } })
    );
    let answer = ask("{ agency(id: \"a7\") { id companyName } }").await;
    assert_eq!(
        answer,
        serde_json::json!({ "data": { "agency": { "id": "a7", "companyName": "Agency a7" } } })
    );
}

/// Runs every root field of a set's API schema through Meshwork's gateway
/// twice, once over Meshwork's supergraph and once over the reference's,
/// with the set's subgraphs served for real (`domains::synthetic`), and
/// compares the answers. An answer with errors counts as a failure too,
/// unless the set is listed in [`ERRORS_EXPECTED`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_answer_the_same_over_either_supergraph() {
    let sets = sets();
    let Some(reference) = oracle(&sets) else {
        return;
    };
    let known: BTreeSet<&str> = KNOWN_DIVERGENCES.iter().map(|(s, _)| *s).collect();
    let expected_errors: BTreeSet<&str> = ERRORS_EXPECTED.iter().map(|(s, _)| *s).collect();
    let http = reqwest::Client::new();
    let mut report = Vec::new();
    let mut asked = 0;
    let mut compared_sets = 0;
    for set in &sets {
        let name = set_name(set);
        let Some(Outcome::Composed(theirs)) = reference.get(&name) else {
            continue;
        };
        if known.contains(name.as_str()) {
            continue;
        }
        let files = subgraph_files(set);
        let mut running = BTreeMap::new();
        for (domain, sdl) in &files {
            let router =
                domains::synthetic::router(sdl).unwrap_or_else(|e| panic!("{name}/{domain}: {e}"));
            let served = domains::serve(router).await.expect("serve subgraph");
            running.insert(domain.clone(), served);
        }
        let url = |domain: &str| {
            running
                .get(domain)
                .map(|r| r.url.clone())
                .unwrap_or_default()
        };
        let Outcome::Composed(ours) = compose_with(&files, url) else {
            report.push(format!("{name}: Meshwork refuses the set"));
            continue;
        };
        let mut theirs = theirs.clone();
        for (domain, _) in &files {
            theirs = theirs.replace(&placeholder_url(domain), &url(domain));
        }
        let ours_gateway = common::static_gateway(&ours, None, &[]).await;
        let theirs_gateway = common::static_gateway(&theirs, None, &[]).await;
        compared_sets += 1;
        for (field, query) in queries::for_supergraph(&ours) {
            let ask = |base: String| {
                let http = http.clone();
                let query = query.clone();
                async move {
                    http.post(format!("{base}/graphql"))
                        .json(&serde_json::json!({ "query": query }))
                        .send()
                        .await
                        .expect("POST")
                        .json::<serde_json::Value>()
                        .await
                        .expect("JSON answer")
                }
            };
            let a = ask(ours_gateway.server.base.clone()).await;
            let b = ask(theirs_gateway.server.base.clone()).await;
            asked += 1;
            if a != b {
                report.push(format!(
                    "{name} {field}: answers differ\n  query: {query}\n  Meshwork's supergraph: {a}\n  the reference's: {b}"
                ));
            } else if a.get("errors").is_some() && !expected_errors.contains(name.as_str()) {
                report.push(format!(
                    "{name} {field}: errors\n  query: {query}\n  answer: {a}"
                ));
            }
        }
        for served in running.values() {
            served.task.abort();
        }
    }
    eprintln!("{asked} queries over {compared_sets} sets compared");
    assert!(
        compared_sets >= 30 && asked >= 40,
        "{asked} queries over {compared_sets} sets"
    );
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

/// Sets whose answers carry errors with either supergraph, with why.
const ERRORS_EXPECTED: &[(&str, &str)] = &[
    (
        "auth-directives",
        "the caller is anonymous: fields under @authenticated, @requiresScopes and @policy are refused, the same way with either supergraph",
    ),
    (
        "auth-on-types",
        "the caller is anonymous: a type under @authenticated is refused, the same way with either supergraph",
    ),
    (
    "union-merge",
    "the engine (Hive Router) cannot plan `Query.search` when the subgraphs sharing it return disjoint members of the union (QUERY_PLAN_BUILD_FAILED with the reference's supergraph too): an engine limit, not composition",
    ),
];

/// Queries over a supergraph's API schema: one per root field, selecting
/// every accessible field three levels deep, every argument given, every
/// possible type of an abstract field spelled out.
mod queries {
    use std::collections::{BTreeMap, BTreeSet};

    use graphql_parser::schema::{Definition, Directive, Type, TypeDefinition};

    const DEPTH: usize = 3;

    /// A field: its name, its arguments `(name, type)` and its type.
    type FieldShape = (String, Vec<(String, String)>, String);

    #[derive(Default)]
    struct Api {
        /// Object and interface fields: (name, arguments (name, type), type).
        fields: BTreeMap<String, Vec<FieldShape>>,
        /// Interfaces and unions: their accessible object types.
        possible: BTreeMap<String, Vec<String>>,
        enums: BTreeMap<String, Vec<String>>,
        inputs: BTreeMap<String, Vec<(String, String)>>,
        roots: Vec<String>,
    }

    fn hidden(directives: &[Directive<'_, String>]) -> bool {
        directives.iter().any(|d| d.name == "inaccessible")
    }

    fn base(ty: &str) -> &str {
        ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
    }

    fn type_text(ty: &Type<'_, String>) -> String {
        ty.to_string()
    }

    fn api(supergraph: &str) -> Api {
        let doc = graphql_parser::parse_schema::<String>(supergraph).expect("supergraph parses");
        let mut api = Api::default();
        let mut hidden_types = BTreeSet::new();
        let mut implements: Vec<(String, String)> = Vec::new();
        for def in &doc.definitions {
            match def {
                Definition::SchemaDefinition(s) => {
                    api.roots.extend(s.query.iter().cloned());
                    api.roots.extend(s.mutation.iter().cloned());
                }
                Definition::TypeDefinition(t) => {
                    let (name, directives) = match t {
                        TypeDefinition::Object(o) => (&o.name, &o.directives),
                        TypeDefinition::Interface(i) => (&i.name, &i.directives),
                        TypeDefinition::Union(u) => (&u.name, &u.directives),
                        TypeDefinition::Enum(e) => (&e.name, &e.directives),
                        TypeDefinition::InputObject(i) => (&i.name, &i.directives),
                        TypeDefinition::Scalar(s) => (&s.name, &s.directives),
                    };
                    if hidden(directives)
                        || name.starts_with("join__")
                        || name.starts_with("link__")
                    {
                        hidden_types.insert(name.clone());
                    }
                }
                _ => {}
            }
        }
        if api.roots.is_empty() {
            api.roots = vec!["Query".into(), "Mutation".into()];
        }
        let shown = |ty: &str| !hidden_types.contains(base(ty));
        for def in &doc.definitions {
            let Definition::TypeDefinition(t) = def else {
                continue;
            };
            match t {
                TypeDefinition::Object(o) if shown(&o.name) => {
                    implements.extend(
                        o.implements_interfaces
                            .iter()
                            .map(|i| (i.clone(), o.name.clone())),
                    );
                    api.fields.insert(o.name.clone(), fields(&o.fields, &shown));
                }
                TypeDefinition::Interface(i) if shown(&i.name) => {
                    api.fields.insert(i.name.clone(), fields(&i.fields, &shown));
                    api.possible.entry(i.name.clone()).or_default();
                }
                TypeDefinition::Union(u) if shown(&u.name) => {
                    api.possible.insert(
                        u.name.clone(),
                        u.types.iter().filter(|m| shown(m)).cloned().collect(),
                    );
                }
                TypeDefinition::Enum(e) if shown(&e.name) => {
                    api.enums.insert(
                        e.name.clone(),
                        e.values
                            .iter()
                            .filter(|v| !hidden(&v.directives))
                            .map(|v| v.name.clone())
                            .collect(),
                    );
                }
                TypeDefinition::InputObject(i) if shown(&i.name) => {
                    api.inputs.insert(
                        i.name.clone(),
                        i.fields
                            .iter()
                            .filter(|f| !hidden(&f.directives))
                            .map(|f| (f.name.clone(), type_text(&f.value_type)))
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        for (interface, object) in implements {
            if let Some(list) = api.possible.get_mut(&interface) {
                list.push(object);
            }
        }
        api
    }

    fn fields(
        list: &[graphql_parser::schema::Field<'_, String>],
        shown: &impl Fn(&str) -> bool,
    ) -> Vec<FieldShape> {
        list.iter()
            .filter(|f| !hidden(&f.directives) && shown(&type_text(&f.field_type)))
            .map(|f| {
                (
                    f.name.clone(),
                    f.arguments
                        .iter()
                        .filter(|a| !hidden(&a.directives))
                        .map(|a| (a.name.clone(), type_text(&a.value_type)))
                        .collect(),
                    type_text(&f.field_type),
                )
            })
            .collect()
    }

    impl Api {
        fn literal(&self, ty: &str, depth: usize) -> String {
            if let Some(inner) = ty.strip_suffix('!') {
                return self.literal(inner, depth);
            }
            if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                return format!("[{}]", self.literal(inner, depth));
            }
            match ty {
                "Int" => "1".into(),
                "Float" => "2.5".into(),
                "Boolean" => "true".into(),
                _ => {
                    if let Some(values) = self.enums.get(ty) {
                        return values.first().cloned().unwrap_or_else(|| "null".into());
                    }
                    if let Some(fields) = self.inputs.get(ty) {
                        let given: Vec<String> = fields
                            .iter()
                            .filter(|(_, t)| depth < DEPTH || t.ends_with('!'))
                            .map(|(n, t)| format!("{n}: {}", self.literal(t, depth + 1)))
                            .collect();
                        return format!("{{{}}}", given.join(", "));
                    }
                    "\"a1\"".into()
                }
            }
        }

        fn arguments(&self, args: &[(String, String)]) -> String {
            if args.is_empty() {
                return String::new();
            }
            let given: Vec<String> = args
                .iter()
                .map(|(a, t)| format!("{a}: {}", self.literal(t, 0)))
                .collect();
            format!("({})", given.join(", "))
        }

        fn is_composite(&self, ty: &str) -> bool {
            self.fields.contains_key(base(ty)) || self.possible.contains_key(base(ty))
        }

        fn selection(&self, ty: &str, depth: usize) -> String {
            let ty = base(ty);
            let mut parts = vec!["__typename".to_string()];
            for (name, args, field_type) in self.fields.get(ty).into_iter().flatten() {
                let args = self.arguments(args);
                if !self.is_composite(field_type) {
                    parts.push(format!("{name}{args}"));
                } else if depth < DEPTH {
                    parts.push(format!(
                        "{name}{args} {{ {} }}",
                        self.selection(field_type, depth + 1)
                    ));
                }
            }
            if depth < DEPTH {
                for object in self.possible.get(ty).into_iter().flatten() {
                    parts.push(format!(
                        "... on {object} {{ {} }}",
                        self.selection(object, depth + 1)
                    ));
                }
            }
            parts.join(" ")
        }
    }

    /// `(name, document)` per root field.
    pub fn for_supergraph(supergraph: &str) -> Vec<(String, String)> {
        let api = api(supergraph);
        let mut out = Vec::new();
        for (i, root) in api.roots.iter().enumerate() {
            let keyword = if i == 0 { "query" } else { "mutation" };
            for (name, args, ty) in api.fields.get(root).into_iter().flatten() {
                let field = if api.is_composite(ty) {
                    format!(
                        "{name}{} {{ {} }}",
                        api.arguments(args),
                        api.selection(ty, 1)
                    )
                } else {
                    format!("{name}{}", api.arguments(args))
                };
                out.push((format!("{root}.{name}"), format!("{keyword} {{ {field} }}")));
            }
        }
        out
    }
}
