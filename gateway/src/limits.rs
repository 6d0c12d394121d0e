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

pub(crate) struct MaxRootFields(pub usize);

impl ValidationRule for MaxRootFields {
    fn error_code(&self) -> &'static str {
        "MAX_ROOT_FIELDS_EXCEEDED"
    }

    fn visitor<'doc>(&self) -> ValidationVisitor<'doc> {
        Box::new(RootFieldVisitor {
            max: self.0,
            sizes: HashMap::new(),
        })
    }
}

pub(crate) struct MaxExpandedSelections(pub usize);

impl ValidationRule for MaxExpandedSelections {
    fn error_code(&self) -> &'static str {
        "MAX_EXPANDED_SELECTIONS_EXCEEDED"
    }

    fn visitor<'doc>(&self) -> ValidationVisitor<'doc> {
        Box::new(ExpandedVisitor {
            max: self.0,
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

fn exceeded(code: &'static str, message: String) -> ValidationError {
    ValidationError {
        locations: vec![],
        message,
        error_code: code,
    }
}

struct RootFieldVisitor<'doc> {
    max: usize,
    sizes: Sizes<'doc>,
}

impl<'doc> OperationVisitor<'doc, ValidationErrorContext> for RootFieldVisitor<'doc> {
    fn enter_document(
        &mut self,
        context: &mut OperationVisitorContext<'doc>,
        errors: &mut ValidationErrorContext,
        document: &'doc Document,
    ) {
        for definition in &document.definitions {
            if let Definition::Operation(op) = definition {
                let roots = count(
                    op.selection_set(),
                    &context.known_fragments,
                    &mut self.sizes,
                    false,
                );
                if roots > self.max {
                    errors.report_error(exceeded(
                        "MAX_ROOT_FIELDS_EXCEEDED",
                        format!(
                            "Operation selects {roots} root fields; at most {} are allowed.",
                            self.max
                        ),
                    ));
                }
            }
        }
    }
}

struct ExpandedVisitor<'doc> {
    max: usize,
    sizes: Sizes<'doc>,
}

impl<'doc> OperationVisitor<'doc, ValidationErrorContext> for ExpandedVisitor<'doc> {
    fn enter_document(
        &mut self,
        context: &mut OperationVisitorContext<'doc>,
        errors: &mut ValidationErrorContext,
        document: &'doc Document,
    ) {
        for definition in &document.definitions {
            if let Definition::Operation(op) = definition {
                let size = count(
                    op.selection_set(),
                    &context.known_fragments,
                    &mut self.sizes,
                    true,
                );
                if size > self.max {
                    let shown = if size == usize::MAX {
                        "more than can be counted".to_string()
                    } else {
                        size.to_string()
                    };
                    errors.report_error(exceeded(
                        "MAX_EXPANDED_SELECTIONS_EXCEEDED",
                        format!(
                            "Operation expands to {shown} selections once fragments are spread; at most {} are allowed.",
                            self.max
                        ),
                    ));
                }
            }
        }
    }
}
