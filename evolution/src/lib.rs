//! Schema evolution for Meshwork's domains: what changed between two
//! versions of a domain's schema and what it does to consumers (breaking,
//! dangerous, safe), whether a new version keeps a domain's compatibility
//! mode, and which governance rules the changes break. Pure functions over
//! SDL text (a GraphQL domain's subgraph SDL, or the subgraph derived from a
//! REST domain's OpenAPI document); the catalog stores the results.
//!
//! Written here rather than taken from a crate: graphql-schema-diff lists
//! changes without classifying them and reads subgraph SDL without merging
//! `extend type` blocks or leaving out federation's machinery; the
//! classification needs both versions' types anyway (is a new argument
//! required? is a type change a widening?), so the diff walks that model.

mod diff;
pub mod model;
mod rules;

use serde::{Deserialize, Serialize};

pub use diff::diff_schemas;
pub use model::Schema;
pub use rules::{evaluate_rules, ForbiddenNames, Provenance, RuleLevel, RuleViolation, Rules};

/// Why a schema cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvolutionError {
    #[error("the schema does not parse: {0}")]
    Parse(String),
}

/// What a change does to consumers written against the older version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Valid operations stop working (a field removed, a required argument
    /// added, a type narrowed).
    Breaking,
    /// Operations keep working but may see what they did not expect (an
    /// enum value or union member added, a default changed).
    Dangerous,
    Safe,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "BREAKING",
            Severity::Dangerous => "DANGEROUS",
            Severity::Safe => "SAFE",
        }
    }
}

/// One change between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub severity: Severity,
    /// e.g. `FIELD_REMOVED`, `REQUIRED_ARG_ADDED`, `ENUM_VALUE_ADDED`.
    pub kind: String,
    /// `Type`, `Type.field`, `Type.field.argument` or `Enum.VALUE`.
    pub path: String,
    pub message: String,
}

/// Every change from `old` to `new` (SDL texts).
pub fn diff(old: &str, new: &str) -> Result<Vec<Change>, EvolutionError> {
    Ok(diff::diff_schemas(
        &Schema::parse(old)?,
        &Schema::parse(new)?,
    ))
}

/// A domain's compatibility mode, with the meaning Confluent Schema
/// Registry gives it, read for an API: BACKWARD, a new version serves every
/// operation valid against the previous one (no breaking change from it);
/// FORWARD, every operation valid against the new version is served by the
/// previous one too (no breaking change back to it: additions an old
/// deployment could not serve are refused, removals allowed); FULL, both.
/// `_TRANSITIVE`: against every earlier accepted version, not only the
/// last. NONE checks nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Compatibility {
    fn backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }
}

/// Which way a compatibility check found a break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Consumers of the earlier version would break on the new one.
    Backward,
    /// Consumers of the new version would break on the earlier one.
    Forward,
}

/// A breaking change that violates the compatibility mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Index into the earlier versions given (0 = the latest).
    pub against: usize,
    pub direction: Direction,
    pub change: Change,
}

/// The breaking changes `mode` refuses for `new`, against `earlier`
/// accepted versions (newest first).
pub fn compatibility_violations(
    mode: Compatibility,
    new: &str,
    earlier: &[&str],
) -> Result<Vec<Violation>, EvolutionError> {
    let new_schema = Schema::parse(new)?;
    let count = if mode.transitive() {
        earlier.len()
    } else {
        earlier.len().min(1)
    };
    let mut out = Vec::new();
    for (against, old) in earlier.iter().take(count).enumerate() {
        let old = Schema::parse(old)?;
        let mut checks = Vec::new();
        if mode.backward() {
            checks.push((Direction::Backward, diff::diff_schemas(&old, &new_schema)));
        }
        if mode.forward() {
            checks.push((Direction::Forward, diff::diff_schemas(&new_schema, &old)));
        }
        for (direction, changes) in checks {
            out.extend(
                changes
                    .into_iter()
                    .filter(|c| c.severity == Severity::Breaking)
                    .map(|change| Violation {
                        against,
                        direction,
                        change,
                    }),
            );
        }
    }
    Ok(out)
}
