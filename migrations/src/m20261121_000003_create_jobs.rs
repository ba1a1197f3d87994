use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, json_binary, json_binary_null, pk_uuid, string, string_len, string_null,
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    Priority,
    Attempts,
    MaxAttempts,
    RunAt,
    LockedBy,
    LockedUntil,
    Progress,
    ProgressMessage,
    Result,
    LastError,
    CancelRequested,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum JobLogs {
    Table,
    Id,
    JobId,
    Level,
    Message,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(pk_uuid(Jobs::Id))
                    .col(string(Jobs::Kind))
                    .col(json_binary(Jobs::Payload))
                    .col(string_len(Jobs::Status, 16))
                    .col(integer(Jobs::Priority).default(0))
                    .col(integer(Jobs::Attempts).default(0))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(string_null(Jobs::LockedBy))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(integer(Jobs::Progress).default(0))
                    .col(text_null(Jobs::ProgressMessage))
                    .col(json_binary_null(Jobs::Result))
                    .col(text_null(Jobs::LastError))
                    .col(boolean(Jobs::CancelRequested).default(false))
                    .col(uuid_null(Jobs::CreatedBy))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::StartedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // The claim query: next runnable job by priority then due time.
        manager
            .create_index(
                Index::create()
                    .name("idx-jobs-status-run_at")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-jobs-kind-created_at")
                    .table(Jobs::Table)
                    .col(Jobs::Kind)
                    .col(Jobs::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLogs::Table)
                    .col(pk_uuid(JobLogs::Id))
                    .col(uuid(JobLogs::JobId))
                    .col(string_len(JobLogs::Level, 8))
                    .col(text(JobLogs::Message))
                    .col(timestamp_with_time_zone(JobLogs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-job_logs-job_id")
                            .from(JobLogs::Table, JobLogs::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-job_logs-job_id-created_at")
                    .table(JobLogs::Table)
                    .col(JobLogs::JobId)
                    .col(JobLogs::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
