//! Schema evolution: each version's status (accepted, pending approval,
//! rejected, superseded), its classified changes and check results; each
//! domain's compatibility mode; the mesh's settings (governance rules).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SchemaVersion {
    Table,
    Status,
    Changes,
    Checks,
    ReviewedBy,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Domain {
    Table,
    Compatibility,
}

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Every version stored before this migration was served: accepted.
        manager
            .alter_table(
                Table::alter()
                    .table(SchemaVersion::Table)
                    .add_column(
                        ColumnDef::new(SchemaVersion::Status)
                            .string_len(16)
                            .not_null()
                            .default("accepted"),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [SchemaVersion::Changes, SchemaVersion::Checks] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SchemaVersion::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(SchemaVersion::Table)
                    .add_column(ColumnDef::new(SchemaVersion::ReviewedBy).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SchemaVersion::Table)
                    .add_column(
                        ColumnDef::new(SchemaVersion::ReviewedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(
                        ColumnDef::new(Domain::Compatibility)
                            .string_len(32)
                            .not_null()
                            .default("BACKWARD"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Setting::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Setting::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Setting::Value).json().not_null())
                    .col(
                        ColumnDef::new(Setting::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Setting::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::Compatibility)
                    .to_owned(),
            )
            .await?;
        for column in [
            SchemaVersion::Status,
            SchemaVersion::Changes,
            SchemaVersion::Checks,
            SchemaVersion::ReviewedBy,
            SchemaVersion::ReviewedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SchemaVersion::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
