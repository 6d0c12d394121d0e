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

    /// The catalog database could not be reached (no connection within the
    /// pool's acquire timeout, or the connection broke): nothing was
    /// changed, and the same call may succeed on a retry.
    pub fn database_unavailable(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let sqlx_unreachable = |e: &RuntimeErr| match e {
            RuntimeErr::SqlxError(e) => matches!(
                e.as_ref(),
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::Tls(_)
            ),
            _ => false,
        };
        match self {
            Self::Database(DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) => true,
            Self::Database(DbErr::Exec(e) | DbErr::Query(e)) => sqlx_unreachable(e),
            _ => false,
        }
    }

    /// Short machine-readable code for API responses.
    pub fn code(&self) -> &'static str {
        if self.database_unavailable() {
            return "DATABASE_UNAVAILABLE";
        }
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

/// The one shape of a GraphQL error answer the catalog builds outside
/// async-graphql: `{"errors": [{"message", "extensions": {"code", ...}}]}`.
/// `extensions` is an object holding at least the code.
pub(crate) fn graphql_errors(
    message: impl Into<String>,
    extensions: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message.into(), "extensions": extensions }] })
}

/// [`graphql_errors`] with only a code.
pub(crate) fn graphql_error(message: impl Into<String>, code: &str) -> serde_json::Value {
    graphql_errors(message, serde_json::json!({ "code": code }))
}

#[cfg(test)]
mod tests {
    use super::CatalogError;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    use std::sync::Arc;

    #[test]
    fn an_unreachable_database_is_told_apart_from_other_failures() {
        let unreachable = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(RuntimeErr::Internal("refused".into())),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(
                sea_orm::sqlx::Error::PoolTimedOut,
            ))),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::Io(
                std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            )))),
        ];
        for e in unreachable {
            let e = CatalogError::Database(e);
            assert!(e.database_unavailable(), "{e}");
            assert_eq!(e.code(), "DATABASE_UNAVAILABLE");
        }
        let other = [
            CatalogError::Database(DbErr::Exec(RuntimeErr::Internal("syntax".into()))),
            CatalogError::Database(DbErr::RecordNotFound("x".into())),
            CatalogError::Internal("no randomness".into()),
        ];
        for e in other {
            assert!(!e.database_unavailable(), "{e}");
            assert_eq!(e.code(), "INTERNAL_SERVER_ERROR");
        }
    }
}
