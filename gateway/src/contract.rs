//! The runtime contract check of strict domains: one fetch in
//! `sample_every` to a domain under the strict model has its answer
//! validated against the served supergraph (the approved schema): each
//! value's type, enum values, non-null fields. Counts and the latest
//! violation per domain are reported to the control plane's
//! `/control/contracts` every `interval`, off the request path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use cynic_parser::executable::{ExecutableDefinition, Selection};
use evolution::model::{Kind, Schema, TypeRef};
use serde_json::Value;

/// What one gateway reports to its control plane: contract findings of
/// sampled fetches, traffic counts, the composition it serves. Held by the
/// gateway's engine instance (two gateways in one process report apart).
#[derive(Default)]
pub(crate) struct Reports {
    /// The served supergraph's types, replaced on every supergraph load.
    schema: ArcSwapOption<Schema>,
    /// Fetches seen, for sampling.
    fetches: AtomicU64,
    /// What was found since the last report, per domain.
    found: Mutex<HashMap<String, Found>>,
    /// The composition hash of the supergraph the engine loaded last (from
    /// the mark the control plane puts in it).
    served: Mutex<Option<String>>,
    /// Wakes the reporter so the control plane hears of a new one at once.
    served_changed: tokio::sync::Notify,
    pub traffic: crate::traffic::Traffic,
}

/// What was found since the last report, per domain.
#[derive(Default, Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Found {
    pub sampled: u64,
    pub violations: u64,
    pub last_violation: Option<String>,
}

impl Reports {
    /// Takes the served supergraph's types (its SDL).
    pub(crate) fn load_schema(&self, sdl: &str) {
        self.schema.store(Schema::parse(sdl).ok().map(Arc::new));
    }

    /// Whether this fetch is one of the sampled ones.
    pub(crate) fn sampled(&self, every: u64) -> bool {
        every > 0
            && self
                .fetches
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(every)
    }

    /// Validates one answer of `domain` to `query`, and counts it.
    pub(crate) fn check(&self, domain: &str, query: &str, body: &[u8]) {
        let Some(schema) = self.schema.load_full() else {
            return;
        };
        let violations = violations(&schema, query, body);
        if let Ok(mut found) = self.found.lock() {
            let entry = found.entry(domain.to_string()).or_default();
            entry.sampled += 1;
            entry.violations += violations.len() as u64;
            if let Some(last) = violations.into_iter().next() {
                entry.last_violation = Some(last);
            }
        }
    }

    /// What was found since the last call, emptied.
    fn take(&self) -> HashMap<String, Found> {
        self.found
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    }

    /// Puts back what could not be reported.
    fn put_back(&self, unsent: HashMap<String, Found>) {
        if let Ok(mut found) = self.found.lock() {
            for (domain, f) in unsent {
                let entry = found.entry(domain).or_default();
                entry.sampled += f.sampled;
                entry.violations += f.violations;
                if entry.last_violation.is_none() {
                    entry.last_violation = f.last_violation;
                }
            }
        }
    }

    /// The engine built a new supergraph: remember its composition and
    /// report it now.
    pub(crate) fn served(&self, composition: Option<String>) {
        if let Ok(mut served) = self.served.lock() {
            *served = composition;
        }
        self.served_changed.notify_one();
    }
}

/// Every way `body` (a subgraph's JSON answer to `query`) breaks `schema`.
pub(crate) fn violations(schema: &Schema, query: &str, body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        out.push("the answer is not JSON".to_string());
        return out;
    };
    let Ok(doc) = cynic_parser::parse_executable_document(query) else {
        return out;
    };
    let Some(data) = answer.get("data").filter(|d| !d.is_null()) else {
        return out;
    };
    let walker = Walker {
        schema,
        doc: &doc,
        out: &mut out,
    };
    walker.run(data);
    out
}

struct Walker<'a> {
    schema: &'a Schema,
    doc: &'a cynic_parser::ExecutableDocument,
    out: &'a mut Vec<String>,
}

impl Walker<'_> {
    fn run(mut self, data: &Value) {
        let Some(op) = self.doc.operations().next() else {
            return;
        };
        let root = match op.operation_type() {
            cynic_parser::common::OperationType::Mutation => "Mutation",
            cynic_parser::common::OperationType::Subscription => "Subscription",
            cynic_parser::common::OperationType::Query => "Query",
        };
        let selections: Vec<Selection<'_>> = op.selection_set().collect();
        self.object(data, root, &selections, root);
    }

    fn object(&mut self, value: &Value, type_name: &str, selections: &[Selection<'_>], at: &str) {
        let Some(map) = value.as_object() else {
            self.out.push(format!(
                "`{at}`: an object was expected, the answer has {value}"
            ));
            return;
        };
        // The concrete type, when the answer names it.
        let concrete = map
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or(type_name)
            .to_string();
        for selection in selections {
            match selection {
                Selection::Field(f) => {
                    let name = f.name();
                    let key = f.alias().unwrap_or(name);
                    let Some(v) = map.get(key) else {
                        continue;
                    };
                    let sub: Vec<Selection<'_>> = f.selection_set().collect();
                    if name == "__typename" {
                        continue;
                    }
                    if name == "_entities" {
                        if let Some(items) = v.as_array() {
                            for (i, item) in items.iter().enumerate() {
                                if item.is_null() {
                                    continue;
                                }
                                let t = item
                                    .get("__typename")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string();
                                self.object(item, &t, &sub, &format!("_entities[{i}]"));
                            }
                        }
                        continue;
                    }
                    let field = self
                        .schema
                        .types
                        .get(&concrete)
                        .or_else(|| self.schema.types.get(type_name))
                        .and_then(|t| t.fields.get(name))
                        .map(|f| f.ty.clone());
                    if let Some(ty) = field {
                        let coordinate = format!("{concrete}.{name}");
                        self.value(v, &ty, &sub, &coordinate);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .type_condition()
                        .is_none_or(|c| c == concrete || c == type_name);
                    if applies {
                        let sub: Vec<Selection<'_>> = fragment.selection_set().collect();
                        self.object(value, &concrete, &sub, at);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.doc.definitions().find_map(|d| match d {
                        ExecutableDefinition::Fragment(f) if f.name() == spread.fragment_name() => {
                            Some(f)
                        }
                        _ => None,
                    }) else {
                        continue;
                    };
                    let condition = fragment.type_condition();
                    if condition == concrete || condition == type_name {
                        let sub: Vec<Selection<'_>> = fragment.selection_set().collect();
                        self.object(value, &concrete, &sub, at);
                    }
                }
            }
        }
    }

    fn value(&mut self, v: &Value, ty: &TypeRef, selections: &[Selection<'_>], at: &str) {
        match ty {
            TypeRef::NonNull(inner) => {
                if v.is_null() {
                    self.out
                        .push(format!("`{at}` is null, but the schema says `{ty}`"));
                    return;
                }
                self.value(v, inner, selections, at)
            }
            TypeRef::List(inner) => match v {
                Value::Null => {}
                Value::Array(items) => {
                    for item in items {
                        self.value(item, inner, selections, at);
                    }
                }
                other => self.out.push(format!(
                    "`{at}`: a list was expected, the answer has {other}"
                )),
            },
            TypeRef::Named(name) => {
                if v.is_null() {
                    return;
                }
                let ok = match name.as_str() {
                    "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                    "Float" => v.is_number(),
                    "String" => v.is_string(),
                    "Boolean" => v.is_boolean(),
                    "ID" => v.is_string() || v.is_i64() || v.is_u64(),
                    _ => match self.schema.types.get(name).map(|t| t.kind) {
                        Some(Kind::Enum) => v.as_str().is_some_and(|s| {
                            self.schema
                                .types
                                .get(name)
                                .is_some_and(|t| t.members.contains(s))
                        }),
                        Some(Kind::Object) | Some(Kind::Interface) | Some(Kind::Union) => {
                            self.object(v, name, selections, at);
                            true
                        }
                        // Custom scalars take any value.
                        _ => true,
                    },
                };
                if !ok {
                    self.out.push(format!(
                        "`{at}` is {v}, which is not a `{name}` as the schema says"
                    ));
                }
            }
        }
    }
}

/// The composition hash the control plane marked in a supergraph.
pub(crate) fn composition_of(
    doc: &hive_router::graphql_tools::static_graphql::schema::Document,
) -> Option<String> {
    use hive_router::graphql_tools::static_graphql::schema::{Definition, TypeDefinition};
    doc.definitions.iter().find_map(|def| match def {
        Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == "join__Graph" => e
            .description
            .as_deref()
            .and_then(access::control::composition_hash)
            .map(str::to_string),
        _ => None,
    })
}

/// Sends what was found every `interval` to `endpoint` (the control key as
/// bearer token), with what this gateway serves (at once when that
/// changes), on a thread of its own; what cannot be sent is kept for the
/// next round.
pub(crate) fn start_reporter(
    reports: Arc<Reports>,
    reporting: crate::ContractReporting,
    address: String,
    in_process: bool,
) {
    let instance = access::random_hex(8).unwrap_or_else(|_| format!("pid-{}", std::process::id()));
    let spawned = std::thread::Builder::new()
        .name("meshwork-contracts".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                tracing::error!("contract reporting has no runtime; contract checks are not reported");
                return;
            };
            let http = reqwest::Client::new();
            runtime.block_on(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(reporting.interval) => {}
                        () = reports.served_changed.notified() => {}
                    }
                    let found = reports.take();
                    let traffic = reports.traffic.take();
                    let gateway = access::control::GatewayReport {
                        instance: instance.clone(),
                        role: if in_process { "in-process" } else { "replica" }.into(),
                        address: address.clone(),
                        served_hash: reports.served.lock().ok().and_then(|s| s.clone()),
                    };
                    let sent = http
                        .post(&reporting.endpoint)
                        .bearer_auth(&reporting.token)
                        .timeout(std::time::Duration::from_secs(10))
                        .json(&serde_json::json!({ "domains": found, "traffic": traffic, "gateway": gateway }))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if !sent {
                        tracing::warn!(endpoint = %reporting.endpoint, "contract checks and traffic not reported; kept for the next round");
                        reports.put_back(found);
                        reports.traffic.put_back(traffic);
                    }
                }
            });
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "contract reporting could not start");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_nulls_and_enum_values_are_violations() {
        let schema = Schema::parse(
            "type Query { order(id: ID!): Order }\n\
             type Order { id: ID! total: Float status: Status lines: [Line!]! }\n\
             type Line { qty: Int! }\n\
             enum Status { OPEN CLOSED }",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let query = "query { order(id: \"1\") { id amount: total status lines { qty } } }";
        let good =
            br#"{"data":{"order":{"id":"1","amount":2.5,"status":"OPEN","lines":[{"qty":1}]}}}"#;
        assert!(violations(&schema, query, good).is_empty());
        let bad = br#"{"data":{"order":{"id":null,"amount":"lots","status":"LOST","lines":[{"qty":null}]}}}"#;
        let found = violations(&schema, query, bad);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found
                .iter()
                .any(|v| v.contains("Order.total") && v.contains("lots")),
            "{found:?}"
        );
        assert!(violations(&schema, query, b"<html>").len() == 1);
    }
}
