//! The search index, rebuilt for ranked search at 10,000 domains: on
//! SQLite the FTS5 table gets prefix indexes (a prefix query such as
//! `invoices*` reads one doclist instead of merging every term that starts
//! so) and an indexed `kind` column (queries pick domains, types or fields
//! inside the index). The catalog refills the empty table at start, from
//! the domains and their latest schemas (nothing registered is lost: the
//! index is derived data). PostgreSQL's table needs no change.
//!
//! Prefix queries of 2 to 12 characters read one doclist each (a length
//! without its own prefix index merges the doclists of every term that
//! starts so: 2-5 ms, spikes to 45 ms, at 10,000 domains).
//!
//! On both databases: indexes on `domain (status, name)` and `domain
//! (status, owner_team, name)`, so the listing's first page (active
//! domains by name, of one owner team or all) reads its rows in order
//! instead of sorting every active domain (10 ms at 10,000 domains).
//!
//! Also on SQLite: `domain_text`, a trigram index of each domain's search
//! text (rowid: the domain's id), so the listing's text filter finds the
//! few domains holding a rare word without reading every domain's text.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SQLite table as of this migration.
const SQLITE_TABLE: &str = "CREATE VIRTUAL TABLE search_entry USING fts5(\
     domain_id UNINDEXED, kind, coordinate, words, body, \
     tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6 7 8 9 10 11 12')";

/// The SQLite table before it.
const SQLITE_TABLE_BEFORE: &str = "CREATE VIRTUAL TABLE search_entry USING fts5(\
     domain_id UNINDEXED, kind UNINDEXED, coordinate, words, body, \
     tokenize = 'unicode61 remove_diacritics 2')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_domain_status_name ON domain (status, name)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_domain_status_owner_name ON domain (status, owner_team, name)",
        )
        .await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            db.execute_unprepared("DROP TABLE IF EXISTS search_entry")
                .await?;
            db.execute_unprepared(SQLITE_TABLE).await?;
            db.execute_unprepared(
                "CREATE VIRTUAL TABLE IF NOT EXISTS domain_text USING fts5(text, tokenize = 'trigram')",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_domain_status_name")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_domain_status_owner_name")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            db.execute_unprepared("DROP TABLE IF EXISTS search_entry")
                .await?;
            db.execute_unprepared(SQLITE_TABLE_BEFORE).await?;
            db.execute_unprepared("DROP TABLE IF EXISTS domain_text")
                .await?;
        }
        Ok(())
    }
}
