//! The subgraph answer cache's catalog side: a domain's own cache lifetime
//! (for answers without `Cache-Control`), and purges gateways apply.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    CacheTtlSeconds,
}

#[derive(DeriveIden)]
enum CachePurge {
    Table,
    Id,
    DomainId,
    TypeName,
    Key,
    PurgedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(ColumnDef::new(Domain::CacheTtlSeconds).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CachePurge::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CachePurge::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CachePurge::DomainId).integer().not_null())
                    .col(ColumnDef::new(CachePurge::TypeName).string().null())
                    .col(ColumnDef::new(CachePurge::Key).string().null())
                    .col(ColumnDef::new(CachePurge::PurgedBy).string().not_null())
                    .col(
                        ColumnDef::new(CachePurge::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CachePurge::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::CacheTtlSeconds)
                    .to_owned(),
            )
            .await
    }
}
