//! Gateways as they report themselves: which composition each one serves,
//! and when it was last heard from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayInstance {
    Table,
    Instance,
    Role,
    Address,
    ServedHash,
    ServedSince,
    FirstSeenAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayInstance::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(GatewayInstance::Instance)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(GatewayInstance::Role).string().not_null())
                    .col(ColumnDef::new(GatewayInstance::Address).string().not_null())
                    .col(ColumnDef::new(GatewayInstance::ServedHash).string().null())
                    .col(
                        ColumnDef::new(GatewayInstance::ServedSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(GatewayInstance::FirstSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayInstance::LastSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GatewayInstance::Table).to_owned())
            .await
    }
}
