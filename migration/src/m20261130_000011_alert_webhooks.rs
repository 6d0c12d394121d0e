//! Alert webhooks and their delivery log: where the catalog sends events
//! (a domain's schema endpoint failing, a composition failing, a schema
//! version held), and every attempt to deliver one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AlertWebhook {
    Table,
    Id,
    Name,
    Url,
    Secret,
    Events,
    Enabled,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AlertDelivery {
    Table,
    Id,
    WebhookId,
    Event,
    Payload,
    Status,
    Attempts,
    LastStatusCode,
    LastError,
    NextAttemptAt,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertWebhook::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AlertWebhook::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AlertWebhook::Name)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(AlertWebhook::Url).text().not_null())
                    .col(ColumnDef::new(AlertWebhook::Secret).text().not_null())
                    .col(ColumnDef::new(AlertWebhook::Events).json().not_null())
                    .col(ColumnDef::new(AlertWebhook::Enabled).boolean().not_null())
                    .col(ColumnDef::new(AlertWebhook::CreatedBy).string().not_null())
                    .col(
                        ColumnDef::new(AlertWebhook::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertDelivery::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AlertDelivery::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AlertDelivery::WebhookId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AlertDelivery::Event).string().not_null())
                    .col(ColumnDef::new(AlertDelivery::Payload).json().not_null())
                    .col(ColumnDef::new(AlertDelivery::Status).string().not_null())
                    .col(ColumnDef::new(AlertDelivery::Attempts).integer().not_null())
                    .col(
                        ColumnDef::new(AlertDelivery::LastStatusCode)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(AlertDelivery::LastError).text().null())
                    .col(
                        ColumnDef::new(AlertDelivery::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDelivery::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDelivery::DeliveredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertDelivery::Table, AlertDelivery::WebhookId)
                            .to(AlertWebhook::Table, AlertWebhook::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_delivery_due")
                    .table(AlertDelivery::Table)
                    .col(AlertDelivery::Status)
                    .col(AlertDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AlertDelivery::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AlertWebhook::Table).to_owned())
            .await
    }
}
