//! The runtime contract check of strict domains: per domain, how many
//! sampled answers the gateways checked and how many violations they found.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContractCheck {
    Table,
    Domain,
    Sampled,
    Violations,
    LastViolation,
    LastViolationAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContractCheck::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ContractCheck::Domain)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ContractCheck::Sampled)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ContractCheck::Violations)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ContractCheck::LastViolation).text().null())
                    .col(
                        ColumnDef::new(ContractCheck::LastViolationAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ContractCheck::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContractCheck::Table).to_owned())
            .await
    }
}
