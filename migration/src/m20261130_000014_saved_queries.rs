//! Saved queries: named federated queries a BI tool fetches as a table from
//! one URL (`/export/{name}.csv`). A removed one is kept (soft delete).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SavedQuery {
    Table,
    Id,
    Name,
    OwnerTeam,
    Description,
    Document,
    OperationName,
    Variables,
    VariableTypes,
    Rows,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedQuery::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SavedQuery::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SavedQuery::Name)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(SavedQuery::OwnerTeam).string().not_null())
                    .col(ColumnDef::new(SavedQuery::Description).text().not_null())
                    .col(ColumnDef::new(SavedQuery::Document).text().not_null())
                    .col(ColumnDef::new(SavedQuery::OperationName).string().null())
                    .col(ColumnDef::new(SavedQuery::Variables).json().not_null())
                    .col(ColumnDef::new(SavedQuery::VariableTypes).json().not_null())
                    .col(ColumnDef::new(SavedQuery::Rows).string().null())
                    .col(ColumnDef::new(SavedQuery::CreatedBy).string().not_null())
                    .col(
                        ColumnDef::new(SavedQuery::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SavedQuery::UpdatedBy).string().not_null())
                    .col(
                        ColumnDef::new(SavedQuery::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SavedQuery::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SavedQuery::Table).to_owned())
            .await
    }
}
