//! Domains, their tags and lineage inputs, schema versions and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domain {
    Table,
    Id,
    Name,
    DisplayName,
    Description,
    OwnerTeam,
    Contact,
    Model,
    Kind,
    ApiUrl,
    SchemaEndpoint,
    DataFormat,
    ProcessingSteps,
    QualityIndicators,
    Slos,
    SearchText,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DomainTag {
    Table,
    DomainId,
    Tag,
}

#[derive(DeriveIden)]
enum LineageInput {
    Table,
    Id,
    DomainId,
    Position,
    Kind,
    Name,
    UpstreamDomainId,
    Description,
}

#[derive(DeriveIden)]
enum SchemaVersion {
    Table,
    Id,
    DomainId,
    Hash,
    Document,
    SourceUrl,
    FetchedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Actor,
    Action,
    Target,
    Before,
    After,
    At,
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string().not_null().to_owned()
}

fn short<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(16).not_null().to_owned()
}

fn json<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).json().not_null().to_owned()
}

fn time<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn domain_fk(from_table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, column)
        .to(Domain::Table, Domain::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Domain::Table)
                    .col(id(Domain::Id))
                    .col(text(Domain::Name).unique_key())
                    .col(text(Domain::DisplayName))
                    .col(ColumnDef::new(Domain::Description).text().not_null())
                    .col(text(Domain::OwnerTeam))
                    .col(text(Domain::Contact))
                    .col(short(Domain::Model))
                    .col(short(Domain::Kind))
                    .col(text(Domain::ApiUrl))
                    .col(ColumnDef::new(Domain::SchemaEndpoint).string().null())
                    .col(text(Domain::DataFormat))
                    .col(json(Domain::ProcessingSteps))
                    .col(json(Domain::QualityIndicators))
                    .col(json(Domain::Slos))
                    .col(ColumnDef::new(Domain::SearchText).text().not_null())
                    .col(short(Domain::Status))
                    .col(time(Domain::CreatedAt))
                    .col(time(Domain::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_domain_owner_team", Domain::OwnerTeam),
            ("idx_domain_status", Domain::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Domain::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DomainTag::Table)
                    .col(ColumnDef::new(DomainTag::DomainId).integer().not_null())
                    .col(text(DomainTag::Tag))
                    .primary_key(Index::create().col(DomainTag::DomainId).col(DomainTag::Tag))
                    .foreign_key(&mut domain_fk(DomainTag::Table, DomainTag::DomainId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_domain_tag_tag")
                    .table(DomainTag::Table)
                    .col(DomainTag::Tag)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LineageInput::Table)
                    .col(id(LineageInput::Id))
                    .col(ColumnDef::new(LineageInput::DomainId).integer().not_null())
                    .col(ColumnDef::new(LineageInput::Position).integer().not_null())
                    .col(short(LineageInput::Kind))
                    .col(text(LineageInput::Name))
                    .col(
                        ColumnDef::new(LineageInput::UpstreamDomainId)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(LineageInput::Description).text().not_null())
                    .foreign_key(&mut domain_fk(LineageInput::Table, LineageInput::DomainId))
                    .foreign_key(&mut domain_fk(
                        LineageInput::Table,
                        LineageInput::UpstreamDomainId,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_lineage_input_domain", LineageInput::DomainId),
            ("idx_lineage_input_upstream", LineageInput::UpstreamDomainId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LineageInput::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SchemaVersion::Table)
                    .col(id(SchemaVersion::Id))
                    .col(ColumnDef::new(SchemaVersion::DomainId).integer().not_null())
                    .col(
                        ColumnDef::new(SchemaVersion::Hash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SchemaVersion::Document).text().not_null())
                    .col(text(SchemaVersion::SourceUrl))
                    .col(time(SchemaVersion::FetchedAt))
                    .foreign_key(&mut domain_fk(
                        SchemaVersion::Table,
                        SchemaVersion::DomainId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_schema_version_domain")
                    .table(SchemaVersion::Table)
                    .col(SchemaVersion::DomainId)
                    .col(SchemaVersion::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(id(AuditLog::Id))
                    .col(text(AuditLog::Actor))
                    .col(text(AuditLog::Action))
                    .col(text(AuditLog::Target))
                    .col(ColumnDef::new(AuditLog::Before).json().null())
                    .col(ColumnDef::new(AuditLog::After).json().null())
                    .col(time(AuditLog::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_target")
                    .table(AuditLog::Table)
                    .col(AuditLog::Target)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            SchemaVersion::Table.into_iden(),
            LineageInput::Table.into_iden(),
            DomainTag::Table.into_iden(),
            Domain::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
