//! A domain's own plan: limits every consumer's traffic to it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    PlanId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(ColumnDef::new(Domain::PlanId).integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::PlanId)
                    .to_owned(),
            )
            .await
    }
}
