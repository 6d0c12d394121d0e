//! Schema pulling (per-domain poll interval, domain health) and stored
//! compositions of the supergraph.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    Id,
    PollIntervalSeconds,
}

#[derive(DeriveIden)]
enum DomainHealth {
    Table,
    DomainId,
    LastAttemptAt,
    LastSuccessAt,
    LastError,
    ConsecutiveFailures,
}

#[derive(DeriveIden)]
enum Composition {
    Table,
    Id,
    Status,
    Hash,
    Supergraph,
    Members,
    Errors,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(ColumnDef::new(Domain::PollIntervalSeconds).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DomainHealth::Table)
                    .col(
                        ColumnDef::new(DomainHealth::DomainId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DomainHealth::LastAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DomainHealth::LastSuccessAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(DomainHealth::LastError).text().null())
                    .col(
                        ColumnDef::new(DomainHealth::ConsecutiveFailures)
                            .integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DomainHealth::Table, DomainHealth::DomainId)
                            .to(Domain::Table, Domain::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Composition::Table)
                    .col(
                        ColumnDef::new(Composition::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Composition::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Composition::Hash).string_len(64).null())
                    .col(ColumnDef::new(Composition::Supergraph).text().null())
                    .col(ColumnDef::new(Composition::Members).json().not_null())
                    .col(ColumnDef::new(Composition::Errors).json().not_null())
                    .col(
                        ColumnDef::new(Composition::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_composition_status")
                    .table(Composition::Table)
                    .col(Composition::Status)
                    .col(Composition::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Composition::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DomainHealth::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::PollIntervalSeconds)
                    .to_owned(),
            )
            .await
    }
}
