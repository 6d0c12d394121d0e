//! The entities of an `_entities` fetch, each under its own key: the
//! lists a fetch asks for (one for a plain entity fetch, one per alias for
//! the engine's batched fetches, `_e0: _entities(representations:
//! $__batch_reps_0) … _e1: …`), answers assembled from cached entities,
//! and a batch the cache holds in part narrowed to what it lacks and
//! merged back, each entity in its place.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hive_router::sonic_rs;

/// One list of entities of a fetch.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ListSpec {
    /// The answer's field holding the list: `_entities`, or the alias of
    /// a batched list (`_e0`).
    pub(crate) field: Box<str>,
    /// The variable carrying the list's representations.
    pub(crate) variable: Box<str>,
}

/// The entity lists of a fetch's query: one per root `_entities` field,
/// each reading its representations from a variable of its own. None for
/// any other query (another root field, a fragment or a directive at the
/// root, a variable read by two lists, two lists answered in one field,
/// an unreadable query): such a fetch is cached whole only.
pub(crate) fn lists_of(query: &str) -> Option<Arc<[ListSpec]>> {
    use hive_router::graphql_tools::parser::query::{
        parse_query, Definition, OperationDefinition, Selection, Value,
    };
    let document = parse_query::<&str>(query).ok()?;
    let [Definition::Operation(operation)] = document.definitions.as_slice() else {
        return None;
    };
    let selections = match operation {
        OperationDefinition::Query(query) => &query.selection_set,
        OperationDefinition::SelectionSet(set) => set,
        _ => return None,
    };
    let mut lists: Vec<ListSpec> = Vec::with_capacity(selections.items.len());
    for selection in &selections.items {
        let Selection::Field(field) = selection else {
            return None;
        };
        if field.name != "_entities" || !field.directives.is_empty() {
            return None;
        }
        let [(argument, Value::Variable(variable))] = field.arguments.as_slice() else {
            return None;
        };
        if *argument != "representations" {
            return None;
        }
        let name = field.alias.unwrap_or(field.name);
        if lists
            .iter()
            .any(|l| &*l.field == name || &*l.variable == *variable)
        {
            return None;
        }
        lists.push(ListSpec {
            field: name.into(),
            variable: (*variable).into(),
        });
    }
    (!lists.is_empty()).then(|| lists.into())
}

/// Every entity a fetch asks for, list after list, each with its key.
#[derive(Clone)]
pub(crate) struct EntityKeys {
    /// Each entity's key, in the fetch's order.
    pub(crate) keys: Arc<[Arc<str>]>,
    /// The fetch's lists.
    pub(crate) specs: Arc<[ListSpec]>,
    /// How many entities each list holds.
    pub(crate) lens: Arc<[usize]>,
}

/// Each list with its range among the fetch's entities (list after list).
fn ranges<'a>(
    specs: &'a [ListSpec],
    lens: &'a [usize],
) -> impl Iterator<Item = (&'a ListSpec, std::ops::Range<usize>)> {
    let mut start = 0;
    specs.iter().zip(lens).map(move |(spec, len)| {
        let range = start..start + len;
        start += len;
        (spec, range)
    })
}

/// The raw JSON of each entity of the answer's `field` list.
pub(crate) fn entities_in(answer: &[u8], field: &str) -> Result<Vec<String>, String> {
    let list = sonic_rs::get_from_slice(answer, ["data", field])
        .map_err(|_| format!("the domain's answer has no `{field}` list"))?;
    sonic_rs::to_array_iter(list.as_raw_str())
        .map(|e| e.map(|e| e.as_raw_str().to_string()))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| format!("the domain's `{field}` list cannot be read: {e}"))
}

/// Entities as the domain would have answered them:
/// `{"data":{"_entities":[…]}}`, or one field per list of a batch.
/// `parts` holds every entity, list after list.
pub(crate) fn join(specs: &[ListSpec], lens: &[usize], parts: &[&[u8]]) -> Bytes {
    let size: usize = parts.iter().map(|p| p.len() + 1).sum();
    let mut bytes = Vec::with_capacity(size + 16 + 16 * specs.len());
    bytes.extend_from_slice(br#"{"data":{"#);
    let mut parts = parts.iter();
    for (n, (spec, len)) in specs.iter().zip(lens).enumerate() {
        if n > 0 {
            bytes.push(b',');
        }
        // A GraphQL name: nothing to escape.
        bytes.push(b'"');
        bytes.extend_from_slice(spec.field.as_bytes());
        bytes.extend_from_slice(b"\":[");
        for i in 0..*len {
            if i > 0 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(parts.next().copied().unwrap_or(b"null"));
        }
        bytes.push(b']');
    }
    bytes.extend_from_slice(b"}}");
    Bytes::from(bytes)
}

/// What [`super::SubgraphCache::lookup_entities`] found of a fetch.
pub(crate) enum EntityLookup {
    /// Every entity: the domain's answer, the oldest age, the shortest
    /// remaining lifetime.
    All(Bytes, u64, Duration),
    /// Some of them.
    Some(Partial),
    /// None of them.
    None,
}

/// An `_entities` fetch the cache answers in part: the domain is asked
/// only for the entities the cache does not hold, and its answer is
/// merged with the cached ones, each back in its place.
pub(crate) struct Partial {
    /// The fetch's lists and their lengths.
    pub(crate) specs: Arc<[ListSpec]>,
    pub(crate) lens: Arc<[usize]>,
    /// Each entity of the fetch, list after list: cached (its JSON) or
    /// not.
    pub(crate) found: Vec<Option<Bytes>>,
    /// The positions (in `found`) of the entities asked for.
    pub(crate) missing: Vec<usize>,
    /// The shortest remaining lifetime of the cached entities.
    pub remaining: Duration,
}

impl Partial {
    /// Narrows the fetch's representations (the engine's raw JSON lists)
    /// to the entities not cached, and the entity keys to theirs; none
    /// (the fetch left whole) when a list cannot be read or does not
    /// match the keys.
    pub(crate) fn narrow(
        self,
        raw_variables: Option<&mut Vec<(&str, Vec<u8>)>>,
        keys: &EntityKeys,
    ) -> Option<(Self, EntityKeys)> {
        let raw = raw_variables?;
        if keys.keys.len() != self.found.len() || raw.len() != self.specs.len() {
            return None;
        }
        // Every list read before any is changed.
        let mut narrowed = Vec::with_capacity(self.specs.len());
        let mut missing_keys = Vec::with_capacity(self.missing.len());
        let mut lens = Vec::with_capacity(self.specs.len());
        for (spec, range) in ranges(&keys.specs, &keys.lens) {
            let index = raw.iter().position(|(name, _)| *name == &*spec.variable)?;
            let text = std::str::from_utf8(&raw[index].1).ok()?;
            let representations = sonic_rs::to_array_iter(text)
                .map(|r| r.map(|r| r.as_raw_str().to_string()))
                .collect::<Result<Vec<String>, _>>()
                .ok()?;
            if representations.len() != range.len() {
                return None;
            }
            let mut list = Vec::with_capacity(raw[index].1.len());
            list.push(b'[');
            let mut len = 0;
            for position in self.missing.iter().filter(|p| range.contains(p)) {
                if len > 0 {
                    list.push(b',');
                }
                list.extend_from_slice(representations[position - range.start].as_bytes());
                missing_keys.push(Arc::clone(&keys.keys[*position]));
                len += 1;
            }
            list.push(b']');
            narrowed.push((index, list));
            lens.push(len);
        }
        for (index, list) in narrowed {
            raw[index].1 = list;
        }
        let missing = EntityKeys {
            keys: missing_keys.into(),
            lens: lens.into(),
            specs: Arc::clone(&self.specs),
        };
        Some((self, missing))
    }

    /// The whole fetch's answer from the domain's answer to the narrowed
    /// one (each entity in its place); an error when that answer does
    /// not hold, for each list, one entity per entity asked for (the
    /// engine would then put entities in the wrong places).
    pub(crate) fn merge(&self, fetched: &[u8]) -> Result<Bytes, String> {
        let mut answered = Vec::with_capacity(self.specs.len());
        for (spec, range) in ranges(&self.specs, &self.lens) {
            let entities = entities_in(fetched, &spec.field)?;
            let asked = self.missing.iter().filter(|p| range.contains(p)).count();
            if entities.len() != asked {
                return Err(format!(
                    "the domain answered {} entities for {} representations",
                    entities.len(),
                    asked
                ));
            }
            answered.extend(entities);
        }
        let mut fetched = answered.iter();
        let parts: Vec<&[u8]> = self
            .found
            .iter()
            .map(|f| match f {
                Some(cached) => &cached[..],
                None => fetched.next().map(|e| e.as_bytes()).unwrap_or(b"null"),
            })
            .collect();
        Ok(join(&self.specs, &self.lens, &parts))
    }

    /// How many entities of the fetch were cached, and how many fetched.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.found.len() - self.missing.len(), self.missing.len())
    }

    /// The position in the whole list `field` of the narrowed fetch's
    /// entity `index` of that list (for error paths `[field, index, …]`).
    pub(crate) fn position(&self, field: &str, index: usize) -> Option<usize> {
        let (_, range) = ranges(&self.specs, &self.lens).find(|(spec, _)| &*spec.field == field)?;
        self.missing
            .iter()
            .filter(|p| range.contains(p))
            .nth(index)
            .map(|p| p - range.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_of_plain_and_batched_entity_fetches() {
        let plain = lists_of(
            "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}",
        )
        .expect("a plain entity fetch");
        assert_eq!(
            &plain[..],
            &[ListSpec {
                field: "_entities".into(),
                variable: "representations".into()
            }]
        );
        let batch = lists_of(
            "query($__batch_reps_0:[_Any!]!,$__batch_reps_1:[_Any!]!){ _e0: _entities(representations: $__batch_reps_0) { ... on Product { name } } _e1: _entities(representations: $__batch_reps_1) { ... on User { id } } }",
        )
        .expect("a batch");
        let pairs: Vec<(&str, &str)> = batch.iter().map(|l| (&*l.field, &*l.variable)).collect();
        assert_eq!(
            pairs,
            [("_e0", "__batch_reps_0"), ("_e1", "__batch_reps_1")]
        );
        // Anything else is no entity fetch of lists Meshwork can split.
        for query in [
            "{ top { upc } }",
            "query($r:[_Any!]!){_e0:_entities(representations:$r){__typename} _e1:_entities(representations:$r){__typename}}",
            "query($r:[_Any!]!,$s:[_Any!]!){_e0:_entities(representations:$r){__typename} _e0:_entities(representations:$s){__typename}}",
            "query($r:[_Any!]!){_entities(representations:$r){__typename} top { upc }}",
            "query($r:[_Any!]!,$c:Boolean!){_entities(representations:$r) @include(if: $c) {__typename}}",
            "query($r:[_Any!]!){...F} fragment F on Query {_entities(representations:$r){__typename}}",
            "mutation($r:[_Any!]!){_entities(representations:$r){__typename}}",
            "query{_entities(representations:[]){__typename}}",
            "query($r:[_Any!]!){_entities(representations:$r){__typename}",
        ] {
            assert!(lists_of(query).is_none(), "{query}");
        }
    }
}
