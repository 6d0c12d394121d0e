//! Opening the catalog database: SQLite file by default, PostgreSQL for
//! production; migrations run on every open.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::error::CatalogError;

/// Turns what a user may type (`meshwork.db`, `sqlite:meshwork.db`,
/// `postgres://…`) into a connection URL.
pub fn normalize_url(url: &str) -> Result<String, CatalogError> {
    let bad = |reason: &str| CatalogError::BadDatabaseUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if url.trim().is_empty() {
        return Err(bad("is empty"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.contains("mode=") || rest.contains(":memory:") {
            return Ok(url.to_string());
        }
        let sep = if rest.contains('?') { '&' } else { '?' };
        return Ok(format!("{url}{sep}mode=rwc"));
    }
    if url.contains("://") {
        return Err(bad(
            "only sqlite: and postgres:// databases are supported (or a plain file path for SQLite)",
        ));
    }
    Ok(format!("sqlite:{url}?mode=rwc"))
}

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> Result<DatabaseConnection, CatalogError> {
    let normalized = normalize_url(url)?;
    let mut options = ConnectOptions::new(normalized.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        // Fail fast when the database is down: a caller hears
        // DATABASE_UNAVAILABLE (503, retry) within seconds, well inside
        // the CLI's own timeout (60 s), rather than waiting out a long one.
        .acquire_timeout(Duration::from_secs(5));
    if normalized.starts_with("sqlite:") {
        // One writer at a time is SQLite's own rule; one pooled connection
        // turns "database is locked" races into an orderly queue, which a
        // long write may hold for a while: a longer wait there.
        options
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(15));
    }
    let db = Database::connect(options)
        .await
        .map_err(|e| CatalogError::BadDatabaseUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    if normalized.starts_with("sqlite:") && !normalized.contains(":memory:") {
        // Readers (a second process, a backup) never block the writer; with
        // `synchronous` left at FULL every commit is still on disk.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// True when every migration this build knows has been applied.
pub async fn is_migrated(db: &DatabaseConnection) -> Result<bool, CatalogError> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn plain_paths_become_sqlite_files_created_on_first_start() {
        assert_eq!(
            normalize_url("meshwork.db").unwrap(),
            "sqlite:meshwork.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite:x.db").unwrap(),
            "sqlite:x.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite:x.db?mode=ro").unwrap(),
            "sqlite:x.db?mode=ro"
        );
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap(),
            "postgres://u@h/db"
        );
        assert!(normalize_url("mysql://u@h/db").is_err());
        assert!(normalize_url(" ").is_err());
    }
}
