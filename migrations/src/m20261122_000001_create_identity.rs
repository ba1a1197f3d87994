//! Identity: companies, users, sessions and their refresh tokens, e-mailed single-use tokens,
//! 2FA recovery codes and challenges, personal access tokens.

use crate::helpers::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, binary_null, boolean, integer, pk_uuid, string, string_len, string_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    CompanyType,
    RevendeurId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    FullName,
    Phone,
    Role,
    CompanyId,
    IsActive,
    EmailVerifiedAt,
    FailedLoginCount,
    LockedUntil,
    LockNotified,
    LastLoginAt,
    PasswordChangedAt,
    PasswordMustChange,
    TotpSecretEnc,
    TotpEnabledAt,
    TotpLastStep,
    TotpFailedCount,
    TotpFailedSince,
    TotpLockedUntil,
    GoogleAiKeyEnc,
    OpenaiKeyEnc,
    VerificationSentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    Ip,
    UserAgent,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuthTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum TwoFactorChallenges {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    FailedAttempts,
    ConsumedAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenPrefix,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

fn companies(with_revendeur_fk: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(Companies::Table)
        .col(pk_uuid(Companies::Id))
        .col(string(Companies::Name))
        .col(string_len(Companies::CompanyType, 16))
        .col(uuid_null(Companies::RevendeurId))
        .col(timestamp_with_time_zone(Companies::CreatedAt))
        .col(timestamp_with_time_zone(Companies::UpdatedAt));
    if with_revendeur_fk {
        table.foreign_key(&mut revendeur_fk());
    }
    table.to_owned()
}

fn revendeur_fk() -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name("fk-companies-revendeur_id")
        .from(Companies::Table, Companies::RevendeurId)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::SetNull)
        .to_owned()
}

fn users() -> TableCreateStatement {
    Table::create()
        .table(Users::Table)
        .col(pk_uuid(Users::Id))
        .col(string(Users::Email))
        .col(string(Users::PasswordHash))
        .col(string(Users::FullName))
        .col(string_null(Users::Phone))
        .col(string_len(Users::Role, 16))
        .col(uuid_null(Users::CompanyId))
        .col(boolean(Users::IsActive))
        .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
        .col(integer(Users::FailedLoginCount).default(0))
        .col(timestamp_with_time_zone_null(Users::LockedUntil))
        .col(boolean(Users::LockNotified).default(false))
        .col(timestamp_with_time_zone_null(Users::LastLoginAt))
        .col(timestamp_with_time_zone(Users::PasswordChangedAt))
        .col(boolean(Users::PasswordMustChange).default(false))
        .col(binary_null(Users::TotpSecretEnc))
        .col(timestamp_with_time_zone_null(Users::TotpEnabledAt))
        .col(big_integer_null(Users::TotpLastStep))
        .col(integer(Users::TotpFailedCount).default(0))
        .col(timestamp_with_time_zone_null(Users::TotpFailedSince))
        .col(timestamp_with_time_zone_null(Users::TotpLockedUntil))
        .col(binary_null(Users::GoogleAiKeyEnc))
        .col(binary_null(Users::OpenaiKeyEnc))
        .col(timestamp_with_time_zone_null(Users::VerificationSentAt))
        .col(timestamp_with_time_zone(Users::CreatedAt))
        .col(timestamp_with_time_zone(Users::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk-users-company_id")
                .from(Users::Table, Users::CompanyId)
                .to(Companies::Table, Companies::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

fn user_fk<T: IntoIden + 'static>(
    table: T,
    column: impl IntoIden,
    name: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // companies.revendeur_id -> users and users.company_id -> companies reference each
        // other. SQLite resolves a reference when rows are written, so each table can name the
        // other at creation; PostgreSQL needs the second key added once both tables exist.
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                manager.create_table(companies(false)).await?;
                manager.create_table(users()).await?;
                manager
                    .create_foreign_key(revendeur_fk().from_tbl(Companies::Table).to_owned())
                    .await?;
            }
            _ => {
                manager.create_table(users()).await?;
                manager.create_table(companies(true)).await?;
            }
        }
        index(
            manager,
            "idx-users-email",
            Users::Table,
            vec![Users::Email.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx-users-company_id",
            Users::Table,
            vec![Users::CompanyId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "idx-users-role",
            Users::Table,
            vec![Users::Role.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "idx-companies-revendeur_id",
            Companies::Table,
            vec![Companies::RevendeurId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(string_null(Sessions::Ip))
                    .col(string_null(Sessions::UserAgent))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_null(Sessions::RevokedReason))
                    .foreign_key(&mut user_fk(
                        Sessions::Table,
                        Sessions::UserId,
                        "fk-sessions-user_id",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-sessions-user_id",
            Sessions::Table,
            vec![Sessions::UserId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-refresh_tokens-session_id")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-refresh_tokens-token_hash",
            RefreshTokens::Table,
            vec![RefreshTokens::TokenHash.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx-refresh_tokens-session_id",
            RefreshTokens::Table,
            vec![RefreshTokens::SessionId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthTokens::Table)
                    .col(pk_uuid(AuthTokens::Id))
                    .col(uuid(AuthTokens::UserId))
                    .col(string_len(AuthTokens::Purpose, 32))
                    .col(string(AuthTokens::TokenHash))
                    .col(timestamp_with_time_zone(AuthTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AuthTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AuthTokens::UsedAt))
                    .foreign_key(&mut user_fk(
                        AuthTokens::Table,
                        AuthTokens::UserId,
                        "fk-auth_tokens-user_id",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-auth_tokens-token_hash",
            AuthTokens::Table,
            vec![AuthTokens::TokenHash.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx-auth_tokens-user_id-purpose",
            AuthTokens::Table,
            vec![
                AuthTokens::UserId.into_iden(),
                AuthTokens::Purpose.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(pk_uuid(RecoveryCodes::Id))
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string(RecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut user_fk(
                        RecoveryCodes::Table,
                        RecoveryCodes::UserId,
                        "fk-recovery_codes-user_id",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-recovery_codes-user_id",
            RecoveryCodes::Table,
            vec![RecoveryCodes::UserId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TwoFactorChallenges::Table)
                    .col(pk_uuid(TwoFactorChallenges::Id))
                    .col(uuid(TwoFactorChallenges::UserId))
                    .col(string(TwoFactorChallenges::TokenHash))
                    .col(timestamp_with_time_zone(TwoFactorChallenges::CreatedAt))
                    .col(timestamp_with_time_zone(TwoFactorChallenges::ExpiresAt))
                    .col(integer(TwoFactorChallenges::FailedAttempts).default(0))
                    .col(timestamp_with_time_zone_null(
                        TwoFactorChallenges::ConsumedAt,
                    ))
                    .col(string_null(TwoFactorChallenges::Ip))
                    .col(string_null(TwoFactorChallenges::UserAgent))
                    .foreign_key(&mut user_fk(
                        TwoFactorChallenges::Table,
                        TwoFactorChallenges::UserId,
                        "fk-two_factor_challenges-user_id",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-two_factor_challenges-token_hash",
            TwoFactorChallenges::Table,
            vec![TwoFactorChallenges::TokenHash.into_iden()],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_uuid(ApiTokens::Id))
                    .col(uuid(ApiTokens::UserId))
                    .col(string(ApiTokens::Name))
                    .col(string(ApiTokens::TokenPrefix))
                    .col(string(ApiTokens::TokenHash))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(&mut user_fk(
                        ApiTokens::Table,
                        ApiTokens::UserId,
                        "fk-api_tokens-user_id",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-api_tokens-token_hash",
            ApiTokens::Table,
            vec![ApiTokens::TokenHash.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx-api_tokens-user_id",
            ApiTokens::Table,
            vec![ApiTokens::UserId.into_iden()],
            false,
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
