//! Measured data products: each domain's OpenLineage dataset mapping, the
//! pipeline runs reported through OpenLineage and the datasets they read
//! and wrote, quality measurements over time, the gateways' traffic per
//! domain and hour, and every change of an SLO's status.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    Datasets,
}

#[derive(DeriveIden)]
enum LineageRun {
    Table,
    Id,
    RunId,
    JobNamespace,
    JobName,
    State,
    Producer,
    StartedAt,
    EndedAt,
    ErrorMessage,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LineageRunDataset {
    Table,
    Id,
    LineageRunId,
    Role,
    Namespace,
    Name,
    DomainId,
}

#[derive(DeriveIden)]
enum QualityMeasurement {
    Table,
    Id,
    DomainId,
    Indicator,
    Value,
    Passed,
    Source,
    RunId,
    Detail,
    MeasuredAt,
}

#[derive(DeriveIden)]
enum DomainTraffic {
    Table,
    Domain,
    Hour,
    Fetches,
    Failed,
    Errors,
}

#[derive(DeriveIden)]
enum SloEvent {
    Table,
    Id,
    DomainId,
    Slo,
    Status,
    Value,
    Detail,
    At,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(ColumnDef::new(Domain::Datasets).json().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LineageRun::Table)
                    .if_not_exists()
                    .col(id(LineageRun::Id))
                    .col(
                        ColumnDef::new(LineageRun::RunId)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(LineageRun::JobNamespace).text().not_null())
                    .col(ColumnDef::new(LineageRun::JobName).text().not_null())
                    .col(ColumnDef::new(LineageRun::State).string().not_null())
                    .col(ColumnDef::new(LineageRun::Producer).text().not_null())
                    .col(
                        ColumnDef::new(LineageRun::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LineageRun::EndedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(LineageRun::ErrorMessage).text().null())
                    .col(
                        ColumnDef::new(LineageRun::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LineageRunDataset::Table)
                    .if_not_exists()
                    .col(id(LineageRunDataset::Id))
                    .col(
                        ColumnDef::new(LineageRunDataset::LineageRunId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(LineageRunDataset::Role).string().not_null())
                    .col(
                        ColumnDef::new(LineageRunDataset::Namespace)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(LineageRunDataset::Name).text().not_null())
                    .col(ColumnDef::new(LineageRunDataset::DomainId).integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LineageRunDataset::Table, LineageRunDataset::LineageRunId)
                            .to(LineageRun::Table, LineageRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_run_dataset_domain")
                    .table(LineageRunDataset::Table)
                    .col(LineageRunDataset::DomainId)
                    .col(LineageRunDataset::Role)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_run_dataset_run")
                    .table(LineageRunDataset::Table)
                    .col(LineageRunDataset::LineageRunId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QualityMeasurement::Table)
                    .if_not_exists()
                    .col(id(QualityMeasurement::Id))
                    .col(
                        ColumnDef::new(QualityMeasurement::DomainId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QualityMeasurement::Indicator)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(QualityMeasurement::Value).double().null())
                    .col(ColumnDef::new(QualityMeasurement::Passed).boolean().null())
                    .col(
                        ColumnDef::new(QualityMeasurement::Source)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(QualityMeasurement::RunId).string().null())
                    .col(ColumnDef::new(QualityMeasurement::Detail).text().not_null())
                    .col(
                        ColumnDef::new(QualityMeasurement::MeasuredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quality_measurement_domain")
                    .table(QualityMeasurement::Table)
                    .col(QualityMeasurement::DomainId)
                    .col(QualityMeasurement::Indicator)
                    .col(QualityMeasurement::MeasuredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DomainTraffic::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(DomainTraffic::Domain).string().not_null())
                    .col(ColumnDef::new(DomainTraffic::Hour).string().not_null())
                    .col(
                        ColumnDef::new(DomainTraffic::Fetches)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DomainTraffic::Failed)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DomainTraffic::Errors)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(DomainTraffic::Domain)
                            .col(DomainTraffic::Hour),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SloEvent::Table)
                    .if_not_exists()
                    .col(id(SloEvent::Id))
                    .col(ColumnDef::new(SloEvent::DomainId).integer().not_null())
                    .col(ColumnDef::new(SloEvent::Slo).string().not_null())
                    .col(ColumnDef::new(SloEvent::Status).string().not_null())
                    .col(ColumnDef::new(SloEvent::Value).double().null())
                    .col(ColumnDef::new(SloEvent::Detail).text().not_null())
                    .col(
                        ColumnDef::new(SloEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_slo_event_domain")
                    .table(SloEvent::Table)
                    .col(SloEvent::DomainId)
                    .col(SloEvent::Slo)
                    .col(SloEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SloEvent::Table.into_iden(),
            DomainTraffic::Table.into_iden(),
            QualityMeasurement::Table.into_iden(),
            LineageRunDataset::Table.into_iden(),
            LineageRun::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::Datasets)
                    .to_owned(),
            )
            .await
    }
}
