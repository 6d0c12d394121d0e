//! The catalog's one error type, and the problems a refused input is told.

use std::fmt;

/// Why one field of an input was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Path of the field in the input, e.g. `inputs[1].name` or `slos[0].target`.
    pub field: String,
    pub code: ProblemCode,
    pub reason: String,
}

/// Machine-readable kind of a [`Problem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProblemCode {
    Required,
    BadSlug,
    TooLong,
    BadUrl,
    Duplicate,
    DuplicateName,
    UnknownUpstream,
    LineageCycle,
    MalformedJson,
    OutOfRange,
    /// A name that refers to nothing registered (consumer, plan, domain).
    UnknownReference,
    /// Key material that cannot be used (PEM, JWKS, secret).
    InvalidKey,
    /// The record is no longer in a state that allows the change.
    BadState,
}

impl Problem {
    pub fn new(field: impl Into<String>, code: ProblemCode, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Everything a catalog operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The input was refused; nothing was changed.
    #[error("invalid input: {}", join(.0))]
    Invalid(Vec<Problem>),
    #[error("domain `{0}` is not registered")]
    DomainNotFound(String),
    #[error("domain `{0}` is deregistered; register it again to change it")]
    DomainDeregistered(String),
    #[error("{what} `{name}` does not exist")]
    NotFound { what: &'static str, name: String },
    /// The caller may not do this; nothing was changed.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Something of the machine failed (e.g. no randomness for a key).
    #[error("internal error: {0}")]
    Internal(String),
    #[error("database URL `{url}`: {reason}")]
    BadDatabaseUrl { url: String, reason: String },
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored {what} of domain `{domain}` is unreadable: {reason}")]
    Corrupt {
        domain: String,
        what: &'static str,
        reason: String,
    },
}

impl CatalogError {
    pub fn invalid(field: impl Into<String>, code: ProblemCode, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![Problem::new(field, code, reason)])
    }

    /// Short machine-readable code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "BAD_USER_INPUT",
            Self::DomainNotFound(_) | Self::NotFound { .. } => "NOT_FOUND",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::DomainDeregistered(_) => "DEREGISTERED",
            Self::BadDatabaseUrl { .. }
            | Self::Database(_)
            | Self::Corrupt { .. }
            | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
