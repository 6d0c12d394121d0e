//! Field usage: which schema coordinates each client's operations used,
//! counted per day, as the gateways report it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FieldUsage {
    Table,
    Id,
    Coordinate,
    Client,
    Operation,
    Day,
    Count,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FieldUsage::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(FieldUsage::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FieldUsage::Coordinate).string().not_null())
                    .col(ColumnDef::new(FieldUsage::Client).string().not_null())
                    .col(ColumnDef::new(FieldUsage::Operation).string().not_null())
                    .col(ColumnDef::new(FieldUsage::Day).string_len(10).not_null())
                    .col(ColumnDef::new(FieldUsage::Count).big_integer().not_null())
                    .col(
                        ColumnDef::new(FieldUsage::LastSeen)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("field_usage_key")
                    .table(FieldUsage::Table)
                    .col(FieldUsage::Coordinate)
                    .col(FieldUsage::Client)
                    .col(FieldUsage::Operation)
                    .col(FieldUsage::Day)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FieldUsage::Table).to_owned())
            .await
    }
}
