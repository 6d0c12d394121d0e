//! Operation limits the engine does not have, checked during validation,
//! before an operation is normalized or planned:
//!
//! - root fields per operation (`MAX_ROOT_FIELDS_EXCEEDED`);
//! - selections after expanding every fragment spread
//!   (`MAX_EXPANDED_SELECTIONS_EXCEEDED`): a few KiB of nested fragments can
//!   stand for billions of selections, and planning cost grows with the
//!   expanded size, so this is counted without expanding anything (each
//!   fragment's size is computed once, with saturating arithmetic).
//!
//! - introspection list nesting (`MAX_INTROSPECTION_DEPTH_EXCEEDED`): under
//!   `__schema` or `__type`, `fields`, `inputFields`, `interfaces` and
//!   `possibleTypes` may nest at most twice (graphql-js's
//!   `MaxIntrospectionDepthRule`, which Apollo Router applies too). Each of
//!   them fans out over the schema's types, so a few hundred bytes of
//!   `possibleTypes { interfaces { possibleTypes … } }` would otherwise
//!   build an answer of gigabytes. GraphiQL's own introspection query
//!   nests them once.
//!
//! The engine's own limits (depth, aliases, directives, tokens, body size
//! after decompression) are switched on by default in `config.rs`.

use std::collections::{HashMap, HashSet};

use hive_router::graphql_tools::ast::{OperationVisitor, OperationVisitorContext};
use hive_router::graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, Selection, SelectionSet,
};
use hive_router::graphql_tools::validation::rules::{ValidationRule, ValidationVisitor};
use hive_router::graphql_tools::validation::utils::{ValidationError, ValidationErrorContext};

/// Meshwork's limits on operations, beside the engine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationLimits {
    /// Root fields of one operation (aliases included).
    pub max_root_fields: usize,
    /// Selections of one operation with every fragment spread expanded.
    pub max_expanded_selections: usize,
}

impl Default for OperationLimits {
    fn default() -> Self {
        Self {
            max_root_fields: 20,
            max_expanded_selections: 10_000,
        }
    }
}

/// What a [`SelectionLimit`] counts.
#[derive(Clone, Copy)]
pub(crate) enum Counted {
    /// Root fields (fragment spreads at the root expanded).
    RootFields,
    /// Every selection, with every fragment spread expanded.
    ExpandedSelections,
}

/// Refuses operations whose count of `counted` exceeds `max`.
pub(crate) struct SelectionLimit {
    pub counted: Counted,
    pub max: usize,
}

impl ValidationRule for SelectionLimit {
    fn error_code(&self) -> &'static str {
        match self.counted {
            Counted::RootFields => "MAX_ROOT_FIELDS_EXCEEDED",
            Counted::ExpandedSelections => "MAX_EXPANDED_SELECTIONS_EXCEEDED",
        }
    }

    fn visitor<'doc>(&self) -> ValidationVisitor<'doc> {
        Box::new(SelectionVisitor {
            counted: self.counted,
            max: self.max,
            code: self.error_code(),
            sizes: HashMap::new(),
        })
    }
}

/// Memoized sizes of fragments; `None` while a fragment is being counted
/// (a cycle, which the spec's own rule reports).
type Sizes<'doc> = HashMap<&'doc str, Option<usize>>;

/// Selections in `set` with spreads expanded, recursing into sub-selections
/// when `deep`.
fn count<'doc>(
    set: &'doc SelectionSet,
    fragments: &HashMap<&'doc str, &'doc FragmentDefinition>,
    sizes: &mut Sizes<'doc>,
    deep: bool,
) -> usize {
    let mut total: usize = 0;
    for selection in &set.items {
        let size = match selection {
            Selection::Field(field) => {
                let below = if deep {
                    count(&field.selection_set, fragments, sizes, deep)
                } else {
                    0
                };
                1usize.saturating_add(below)
            }
            Selection::InlineFragment(inline) => {
                count(&inline.selection_set, fragments, sizes, deep)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.fragment_name.as_str();
                match sizes.get(name) {
                    Some(Some(size)) => *size,
                    Some(None) => 0,
                    None => match fragments.get(name).copied() {
                        Some(fragment) => {
                            sizes.insert(name, None);
                            let size = count(&fragment.selection_set, fragments, sizes, deep);
                            sizes.insert(name, Some(size));
                            size
                        }
                        None => 0,
                    },
                }
            }
        };
        total = total.saturating_add(size);
    }
    total
}

struct SelectionVisitor<'doc> {
    counted: Counted,
    max: usize,
    code: &'static str,
    sizes: Sizes<'doc>,
}

impl<'doc> OperationVisitor<'doc, ValidationErrorContext> for SelectionVisitor<'doc> {
    fn enter_document(
        &mut self,
        context: &mut OperationVisitorContext<'doc>,
        errors: &mut ValidationErrorContext,
        document: &'doc Document,
    ) {
        let deep = matches!(self.counted, Counted::ExpandedSelections);
        for definition in &document.definitions {
            let Definition::Operation(op) = definition else {
                continue;
            };
            let size = count(
                op.selection_set(),
                &context.known_fragments,
                &mut self.sizes,
                deep,
            );
            if size <= self.max {
                continue;
            }
            let shown = if size == usize::MAX {
                "more than can be counted".to_string()
            } else {
                size.to_string()
            };
            let message = match self.counted {
                Counted::RootFields => {
                    format!("Operation selects {shown} root fields; at most {} are allowed.", self.max)
                }
                Counted::ExpandedSelections => format!(
                    "Operation expands to {shown} selections once fragments are spread; at most {} are allowed.",
                    self.max
                ),
            };
            errors.report_error(ValidationError {
                locations: vec![],
                message,
                error_code: self.code,
            });
        }
    }
}

/// Refuses operations nesting introspection's list fields `max` times or
/// more (see the module documentation).
pub(crate) struct IntrospectionDepth {
    pub max: usize,
}

const INTROSPECTION_LISTS: [&str; 4] = ["fields", "inputFields", "interfaces", "possibleTypes"];

/// Deepest nesting of introspection list fields in `set`; `inside` once
/// under `__schema`/`__type`. Fragments are memoized per (name, inside);
/// a fragment cycle counts 0 (the spec's own rule reports it).
fn introspection_depth<'doc>(
    set: &'doc SelectionSet,
    fragments: &HashMap<&'doc str, &'doc FragmentDefinition>,
    memo: &mut HashMap<(&'doc str, bool), usize>,
    visiting: &mut HashSet<&'doc str>,
    inside: bool,
) -> usize {
    let mut deepest = 0;
    for selection in &set.items {
        let depth = match selection {
            Selection::Field(field) => {
                let name = field.name.as_str();
                let now_inside = inside || name == "__schema" || name == "__type";
                let here = usize::from(inside && INTROSPECTION_LISTS.contains(&name));
                here.saturating_add(introspection_depth(
                    &field.selection_set,
                    fragments,
                    memo,
                    visiting,
                    now_inside,
                ))
            }
            Selection::InlineFragment(inline) => {
                introspection_depth(&inline.selection_set, fragments, memo, visiting, inside)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.fragment_name.as_str();
                if let Some(depth) = memo.get(&(name, inside)) {
                    *depth
                } else if visiting.contains(name) {
                    0
                } else if let Some(fragment) = fragments.get(name).copied() {
                    visiting.insert(name);
                    let depth = introspection_depth(
                        &fragment.selection_set,
                        fragments,
                        memo,
                        visiting,
                        inside,
                    );
                    visiting.remove(name);
                    memo.insert((name, inside), depth);
                    depth
                } else {
                    0
                }
            }
        };
        deepest = deepest.max(depth);
    }
    deepest
}

impl ValidationRule for IntrospectionDepth {
    fn error_code(&self) -> &'static str {
        "MAX_INTROSPECTION_DEPTH_EXCEEDED"
    }

    fn visitor<'doc>(&self) -> ValidationVisitor<'doc> {
        Box::new(IntrospectionDepthVisitor { max: self.max })
    }
}

struct IntrospectionDepthVisitor {
    max: usize,
}

impl<'doc> OperationVisitor<'doc, ValidationErrorContext> for IntrospectionDepthVisitor {
    fn enter_document(
        &mut self,
        context: &mut OperationVisitorContext<'doc>,
        errors: &mut ValidationErrorContext,
        document: &'doc Document,
    ) {
        let mut memo = HashMap::new();
        for definition in &document.definitions {
            let Definition::Operation(op) = definition else {
                continue;
            };
            let depth = introspection_depth(
                op.selection_set(),
                &context.known_fragments,
                &mut memo,
                &mut HashSet::new(),
                false,
            );
            if depth >= self.max {
                errors.report_error(ValidationError {
                    locations: vec![],
                    message: format!(
                        "Introspection nests `fields`, `inputFields`, `interfaces` or `possibleTypes` {depth} times; fewer than {} are allowed.",
                        self.max
                    ),
                    error_code: "MAX_INTROSPECTION_DEPTH_EXCEEDED",
                });
            }
        }
    }
}
