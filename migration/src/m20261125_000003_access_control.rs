//! Access control and API management: consumers, API keys, JWT issuers,
//! grants and access requests, field policies, plans; and each domain's
//! access mode.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Domain {
    Table,
    Id,
    Access,
}

#[derive(DeriveIden)]
enum Plan {
    Table,
    Id,
    Name,
    RequestsPerMinute,
    Burst,
    DailyQuota,
    MaxCost,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Consumer {
    Table,
    Id,
    Name,
    Description,
    OwnerTeam,
    Contact,
    PlanId,
    Introspection,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    ConsumerId,
    Name,
    Prefix,
    Hash,
    ExpiresAt,
    RevokedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JwtIssuer {
    Table,
    Id,
    Name,
    Issuer,
    Audiences,
    Algorithm,
    Secret,
    PublicKeys,
    JwksUrl,
    SubjectClaim,
    ConsumerClaim,
    ScopesClaim,
    TeamsClaim,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccessRequest {
    Table,
    Id,
    ConsumerId,
    DomainId,
    Fields,
    Reason,
    DurationDays,
    Status,
    RequestedBy,
    RequestedAt,
    DecidedBy,
    DecidedAt,
    DecisionNote,
}

#[derive(DeriveIden)]
enum AccessGrant {
    Table,
    Id,
    ConsumerId,
    DomainId,
    Fields,
    ExpiresAt,
    RevokedAt,
    RequestId,
    GrantedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FieldPolicy {
    Table,
    Id,
    Coordinate,
    Scopes,
    Description,
    CreatedAt,
    UpdatedAt,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn time<T: IntoIden>(col: T, null: bool) -> ColumnDef {
    let mut c = ColumnDef::new(col);
    c.timestamp_with_time_zone();
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn fk<F: IntoIden, T: IntoIden, C: IntoIden, TC: IntoIden>(
    from: F,
    col: C,
    to: T,
    to_col: TC,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .add_column(
                        ColumnDef::new(Domain::Access)
                            .string_len(16)
                            .not_null()
                            .default("open"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Plan::Table)
                    .col(id(Plan::Id))
                    .col(
                        ColumnDef::new(Plan::Name)
                            .string_len(63)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Plan::RequestsPerMinute).integer().not_null())
                    .col(ColumnDef::new(Plan::Burst).integer().not_null())
                    .col(ColumnDef::new(Plan::DailyQuota).big_integer().null())
                    .col(ColumnDef::new(Plan::MaxCost).integer().null())
                    .col(time(Plan::CreatedAt, false))
                    .col(time(Plan::UpdatedAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Consumer::Table)
                    .col(id(Consumer::Id))
                    .col(
                        ColumnDef::new(Consumer::Name)
                            .string_len(63)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Consumer::Description).text().not_null())
                    .col(ColumnDef::new(Consumer::OwnerTeam).string().not_null())
                    .col(ColumnDef::new(Consumer::Contact).string().not_null())
                    .col(ColumnDef::new(Consumer::PlanId).integer().null())
                    .col(ColumnDef::new(Consumer::Introspection).boolean().not_null())
                    .col(time(Consumer::DisabledAt, true))
                    .col(time(Consumer::CreatedAt, false))
                    .col(time(Consumer::UpdatedAt, false))
                    .foreign_key(&mut fk(
                        Consumer::Table,
                        Consumer::PlanId,
                        Plan::Table,
                        Plan::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKey::Table)
                    .col(id(ApiKey::Id))
                    .col(ColumnDef::new(ApiKey::ConsumerId).integer().not_null())
                    .col(ColumnDef::new(ApiKey::Name).string_len(63).not_null())
                    .col(
                        ColumnDef::new(ApiKey::Prefix)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiKey::Hash).string_len(64).not_null())
                    .col(time(ApiKey::ExpiresAt, true))
                    .col(time(ApiKey::RevokedAt, true))
                    .col(ColumnDef::new(ApiKey::CreatedBy).string().not_null())
                    .col(time(ApiKey::CreatedAt, false))
                    .foreign_key(&mut fk(
                        ApiKey::Table,
                        ApiKey::ConsumerId,
                        Consumer::Table,
                        Consumer::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_key_consumer_name")
                    .table(ApiKey::Table)
                    .col(ApiKey::ConsumerId)
                    .col(ApiKey::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JwtIssuer::Table)
                    .col(id(JwtIssuer::Id))
                    .col(
                        ColumnDef::new(JwtIssuer::Name)
                            .string_len(63)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(JwtIssuer::Issuer)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(JwtIssuer::Audiences).json().not_null())
                    .col(
                        ColumnDef::new(JwtIssuer::Algorithm)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(JwtIssuer::Secret).text().null())
                    .col(ColumnDef::new(JwtIssuer::PublicKeys).text().null())
                    .col(ColumnDef::new(JwtIssuer::JwksUrl).string().null())
                    .col(ColumnDef::new(JwtIssuer::SubjectClaim).string().not_null())
                    .col(ColumnDef::new(JwtIssuer::ConsumerClaim).string().not_null())
                    .col(ColumnDef::new(JwtIssuer::ScopesClaim).string().not_null())
                    .col(ColumnDef::new(JwtIssuer::TeamsClaim).string().not_null())
                    .col(time(JwtIssuer::CreatedAt, false))
                    .col(time(JwtIssuer::UpdatedAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessRequest::Table)
                    .col(id(AccessRequest::Id))
                    .col(
                        ColumnDef::new(AccessRequest::ConsumerId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessRequest::DomainId).integer().not_null())
                    .col(ColumnDef::new(AccessRequest::Fields).json().not_null())
                    .col(ColumnDef::new(AccessRequest::Reason).text().not_null())
                    .col(ColumnDef::new(AccessRequest::DurationDays).integer().null())
                    .col(
                        ColumnDef::new(AccessRequest::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccessRequest::RequestedBy)
                            .string()
                            .not_null(),
                    )
                    .col(time(AccessRequest::RequestedAt, false))
                    .col(ColumnDef::new(AccessRequest::DecidedBy).string().null())
                    .col(time(AccessRequest::DecidedAt, true))
                    .col(
                        ColumnDef::new(AccessRequest::DecisionNote)
                            .text()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        AccessRequest::Table,
                        AccessRequest::ConsumerId,
                        Consumer::Table,
                        Consumer::Id,
                    ))
                    .foreign_key(&mut fk(
                        AccessRequest::Table,
                        AccessRequest::DomainId,
                        Domain::Table,
                        Domain::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessGrant::Table)
                    .col(id(AccessGrant::Id))
                    .col(ColumnDef::new(AccessGrant::ConsumerId).integer().not_null())
                    .col(ColumnDef::new(AccessGrant::DomainId).integer().not_null())
                    .col(ColumnDef::new(AccessGrant::Fields).json().not_null())
                    .col(time(AccessGrant::ExpiresAt, true))
                    .col(time(AccessGrant::RevokedAt, true))
                    .col(ColumnDef::new(AccessGrant::RequestId).integer().null())
                    .col(ColumnDef::new(AccessGrant::GrantedBy).string().not_null())
                    .col(time(AccessGrant::CreatedAt, false))
                    .foreign_key(&mut fk(
                        AccessGrant::Table,
                        AccessGrant::ConsumerId,
                        Consumer::Table,
                        Consumer::Id,
                    ))
                    .foreign_key(&mut fk(
                        AccessGrant::Table,
                        AccessGrant::DomainId,
                        Domain::Table,
                        Domain::Id,
                    ))
                    .foreign_key(&mut fk(
                        AccessGrant::Table,
                        AccessGrant::RequestId,
                        AccessRequest::Table,
                        AccessRequest::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FieldPolicy::Table)
                    .col(id(FieldPolicy::Id))
                    .col(
                        ColumnDef::new(FieldPolicy::Coordinate)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(FieldPolicy::Scopes).json().not_null())
                    .col(ColumnDef::new(FieldPolicy::Description).text().not_null())
                    .col(time(FieldPolicy::CreatedAt, false))
                    .col(time(FieldPolicy::UpdatedAt, false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FieldPolicy::Table.into_iden(),
            AccessGrant::Table.into_iden(),
            AccessRequest::Table.into_iden(),
            JwtIssuer::Table.into_iden(),
            ApiKey::Table.into_iden(),
            Consumer::Table.into_iden(),
            Plan::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Domain::Table)
                    .drop_column(Domain::Access)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveMigrationName)]
pub struct Migration;
