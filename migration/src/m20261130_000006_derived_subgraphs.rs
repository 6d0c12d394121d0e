//! The subgraph derived from a REST domain's OpenAPI document, kept with
//! the version it was derived from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SchemaVersion {
    Table,
    Derived,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SchemaVersion::Table)
                    .add_column(ColumnDef::new(SchemaVersion::Derived).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SchemaVersion::Table)
                    .drop_column(SchemaVersion::Derived)
                    .to_owned(),
            )
            .await
    }
}
