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
//! The engine's own limits (depth, aliases, directives, tokens, body size
//! after decompression) are switched on by default in `config.rs`.

use std::collections::HashMap;

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
