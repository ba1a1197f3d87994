use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, pk_uuid, string, string_len, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxEmails {
    Table,
    Id,
    ToAddress,
    Subject,
    BodyText,
    Template,
    UserId,
    Status,
    Attempts,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEmails::Table)
                    .col(pk_uuid(OutboxEmails::Id))
                    .col(string(OutboxEmails::ToAddress))
                    .col(string(OutboxEmails::Subject))
                    .col(text(OutboxEmails::BodyText))
                    .col(string_len(OutboxEmails::Template, 64))
                    .col(uuid_null(OutboxEmails::UserId))
                    .col(string_len(OutboxEmails::Status, 16))
                    .col(integer(OutboxEmails::Attempts).default(0))
                    .col(text_null(OutboxEmails::LastError))
                    .col(timestamp_with_time_zone(OutboxEmails::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxEmails::SentAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx-outbox_emails-to_address", OutboxEmails::ToAddress),
            ("idx-outbox_emails-status", OutboxEmails::Status),
            ("idx-outbox_emails-user_id", OutboxEmails::UserId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OutboxEmails::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
