//! Ranked full-text search over domains, types and fields: an FTS5 table on
//! SQLite, a table with a weighted `tsvector` and a GIN index on
//! PostgreSQL. The catalog fills it (and backfills it once after this
//! migration).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS search_entry USING fts5(\
                     domain_id UNINDEXED, kind UNINDEXED, coordinate, words, body, \
                     tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TABLE IF NOT EXISTS search_entry (\
                     id SERIAL PRIMARY KEY, domain_id INTEGER NOT NULL, kind TEXT NOT NULL, \
                     coordinate TEXT NOT NULL, words TEXT NOT NULL, body TEXT NOT NULL, \
                     document TSVECTOR NOT NULL)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS idx_search_entry_document ON search_entry USING GIN (document)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS idx_search_entry_domain ON search_entry (domain_id)",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS search_entry")
            .await?;
        Ok(())
    }
}
