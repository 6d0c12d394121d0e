//! REST domains' derivation settings (mutations, declared entities).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    RestSettings,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(ColumnDef::new(Domain::RestSettings).json().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::RestSettings)
                    .to_owned(),
            )
            .await
    }
}
