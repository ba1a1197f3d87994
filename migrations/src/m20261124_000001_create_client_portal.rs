//! Client portal (seed 001, issue 5): projects with comments and a timeline of events,
//! documents with share links, invoices with lines and gapless yearly numbers, payments, and
//! in-app notifications.

use crate::helpers::{fk, iden, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, date, date_null, integer, pk_uuid, string, string_len,
    string_len_null, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Chantiers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    CompanyId,
    ChantierId,
    Name,
    Description,
    Status,
    StatusBeforeHold,
    Progress,
    BudgetCents,
    SpentCents,
    Currency,
    StartDate,
    EndDate,
    ManagerName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectComments {
    Table,
    Id,
    ProjectId,
    AuthorId,
    AuthorName,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProjectEvents {
    Table,
    Id,
    ProjectId,
    CompanyId,
    Kind,
    Title,
    Detail,
    ActorId,
    ActorName,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    CompanyId,
    ProjectId,
    Name,
    Category,
    Description,
    ContentType,
    Size,
    Sha256,
    StorageKey,
    UploadedBy,
    UploadedByClient,
    UploaderName,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DocumentShares {
    Table,
    Id,
    DocumentId,
    CompanyId,
    TokenHash,
    PasswordHash,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
    DownloadCount,
    LastDownloadAt,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    CompanyId,
    ProjectId,
    Direction,
    Number,
    Annee,
    Sequence,
    Status,
    IssueDate,
    DueDate,
    Currency,
    SubtotalCents,
    VatCents,
    TotalCents,
    PaidCents,
    Notes,
    PaidAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    Position,
    Description,
    QuantityMilli,
    UnitPriceCents,
    VatRateBp,
    TotalHtCents,
    VatCents,
}

#[derive(DeriveIden)]
enum InvoiceCounters {
    Table,
    Annee,
    LastSequence,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    CompanyId,
    InvoiceId,
    AmountCents,
    Currency,
    Method,
    Status,
    Reference,
    CreatedBy,
    CreatedAt,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    Link,
    ReadAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(pk_uuid(Projects::Id))
                    .col(uuid(Projects::CompanyId))
                    .col(uuid_null(Projects::ChantierId))
                    .col(string(Projects::Name))
                    .col(text_null(Projects::Description))
                    .col(string_len(Projects::Status, 16))
                    .col(string_len_null(Projects::StatusBeforeHold, 16))
                    .col(integer(Projects::Progress).default(0))
                    .col(big_integer_null(Projects::BudgetCents))
                    .col(big_integer(Projects::SpentCents).default(0))
                    .col(string_len(Projects::Currency, 3))
                    .col(date_null(Projects::StartDate))
                    .col(date_null(Projects::EndDate))
                    .col(string_null(Projects::ManagerName))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-projects-company_id",
                        (Projects::Table, Projects::CompanyId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-projects-chantier_id",
                        (Projects::Table, Projects::ChantierId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-projects-company_id-created_at",
            Projects::Table,
            vec![iden(Projects::CompanyId), iden(Projects::CreatedAt)],
            false,
        )
        .await?;
        index(
            manager,
            "idx-projects-company_id-status",
            Projects::Table,
            vec![iden(Projects::CompanyId), iden(Projects::Status)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectComments::Table)
                    .col(pk_uuid(ProjectComments::Id))
                    .col(uuid(ProjectComments::ProjectId))
                    .col(uuid_null(ProjectComments::AuthorId))
                    .col(string(ProjectComments::AuthorName))
                    .col(text(ProjectComments::Content))
                    .col(timestamp_with_time_zone(ProjectComments::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-project_comments-project_id",
                        (ProjectComments::Table, ProjectComments::ProjectId),
                        (Projects::Table, Projects::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-project_comments-author_id",
                        (ProjectComments::Table, ProjectComments::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-project_comments-project_id-created_at",
            ProjectComments::Table,
            vec![
                iden(ProjectComments::ProjectId),
                iden(ProjectComments::CreatedAt),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectEvents::Table)
                    .col(pk_uuid(ProjectEvents::Id))
                    .col(uuid(ProjectEvents::ProjectId))
                    .col(uuid(ProjectEvents::CompanyId))
                    .col(string_len(ProjectEvents::Kind, 32))
                    .col(string(ProjectEvents::Title))
                    .col(text_null(ProjectEvents::Detail))
                    .col(uuid_null(ProjectEvents::ActorId))
                    .col(string_null(ProjectEvents::ActorName))
                    .col(timestamp_with_time_zone(ProjectEvents::OccurredAt))
                    .foreign_key(&mut fk(
                        "fk-project_events-project_id",
                        (ProjectEvents::Table, ProjectEvents::ProjectId),
                        (Projects::Table, Projects::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-project_events-project_id-occurred_at",
            ProjectEvents::Table,
            vec![
                iden(ProjectEvents::ProjectId),
                iden(ProjectEvents::OccurredAt),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "idx-project_events-company_id-occurred_at",
            ProjectEvents::Table,
            vec![
                iden(ProjectEvents::CompanyId),
                iden(ProjectEvents::OccurredAt),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(pk_uuid(Documents::Id))
                    .col(uuid(Documents::CompanyId))
                    .col(uuid_null(Documents::ProjectId))
                    .col(string(Documents::Name))
                    .col(string_len(Documents::Category, 16))
                    .col(text_null(Documents::Description))
                    .col(string(Documents::ContentType))
                    .col(big_integer(Documents::Size))
                    .col(string_len(Documents::Sha256, 64))
                    .col(string(Documents::StorageKey))
                    .col(uuid_null(Documents::UploadedBy))
                    .col(boolean(Documents::UploadedByClient).default(false))
                    .col(string_null(Documents::UploaderName))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-documents-company_id",
                        (Documents::Table, Documents::CompanyId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-documents-project_id",
                        (Documents::Table, Documents::ProjectId),
                        (Projects::Table, Projects::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk-documents-uploaded_by",
                        (Documents::Table, Documents::UploadedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx-documents-company_id-created_at",
                vec![iden(Documents::CompanyId), iden(Documents::CreatedAt)],
            ),
            (
                "idx-documents-company_id-category",
                vec![iden(Documents::CompanyId), iden(Documents::Category)],
            ),
            (
                "idx-documents-project_id-created_at",
                vec![iden(Documents::ProjectId), iden(Documents::CreatedAt)],
            ),
        ] {
            index(manager, name, Documents::Table, columns, false).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DocumentShares::Table)
                    .col(pk_uuid(DocumentShares::Id))
                    .col(uuid(DocumentShares::DocumentId))
                    .col(uuid(DocumentShares::CompanyId))
                    .col(string_len(DocumentShares::TokenHash, 64))
                    .col(string_null(DocumentShares::PasswordHash))
                    .col(timestamp_with_time_zone(DocumentShares::ExpiresAt))
                    .col(uuid_null(DocumentShares::CreatedBy))
                    .col(timestamp_with_time_zone(DocumentShares::CreatedAt))
                    .col(integer(DocumentShares::DownloadCount).default(0))
                    .col(timestamp_with_time_zone_null(
                        DocumentShares::LastDownloadAt,
                    ))
                    .foreign_key(&mut fk(
                        "fk-document_shares-document_id",
                        (DocumentShares::Table, DocumentShares::DocumentId),
                        (Documents::Table, Documents::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-document_shares-token_hash",
            DocumentShares::Table,
            vec![iden(DocumentShares::TokenHash)],
            true,
        )
        .await?;
        index(
            manager,
            "idx-document_shares-document_id",
            DocumentShares::Table,
            vec![iden(DocumentShares::DocumentId)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(pk_uuid(Invoices::Id))
                    .col(uuid(Invoices::CompanyId))
                    .col(uuid_null(Invoices::ProjectId))
                    .col(string_len(Invoices::Direction, 8))
                    .col(string_len(Invoices::Number, 64))
                    .col(integer(Invoices::Annee))
                    .col(integer(Invoices::Sequence))
                    .col(string_len(Invoices::Status, 16))
                    .col(date(Invoices::IssueDate))
                    .col(date(Invoices::DueDate))
                    .col(string_len(Invoices::Currency, 3))
                    .col(big_integer(Invoices::SubtotalCents))
                    .col(big_integer(Invoices::VatCents))
                    .col(big_integer(Invoices::TotalCents))
                    .col(big_integer(Invoices::PaidCents).default(0))
                    .col(text_null(Invoices::Notes))
                    .col(timestamp_with_time_zone_null(Invoices::PaidAt))
                    .col(timestamp_with_time_zone(Invoices::CreatedAt))
                    .col(timestamp_with_time_zone(Invoices::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-invoices-company_id",
                        (Invoices::Table, Invoices::CompanyId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-invoices-project_id",
                        (Invoices::Table, Invoices::ProjectId),
                        (Projects::Table, Projects::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-invoices-direction-number",
            Invoices::Table,
            vec![iden(Invoices::Direction), iden(Invoices::Number)],
            true,
        )
        .await?;
        index(
            manager,
            "idx-invoices-company_id-issue_date",
            Invoices::Table,
            vec![iden(Invoices::CompanyId), iden(Invoices::IssueDate)],
            false,
        )
        .await?;
        index(
            manager,
            "idx-invoices-company_id-status",
            Invoices::Table,
            vec![iden(Invoices::CompanyId), iden(Invoices::Status)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InvoiceLines::Table)
                    .col(pk_uuid(InvoiceLines::Id))
                    .col(uuid(InvoiceLines::InvoiceId))
                    .col(integer(InvoiceLines::Position))
                    .col(text(InvoiceLines::Description))
                    .col(big_integer(InvoiceLines::QuantityMilli))
                    .col(big_integer(InvoiceLines::UnitPriceCents))
                    .col(integer(InvoiceLines::VatRateBp))
                    .col(big_integer(InvoiceLines::TotalHtCents))
                    .col(big_integer(InvoiceLines::VatCents))
                    .foreign_key(&mut fk(
                        "fk-invoice_lines-invoice_id",
                        (InvoiceLines::Table, InvoiceLines::InvoiceId),
                        (Invoices::Table, Invoices::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-invoice_lines-invoice_id-position",
            InvoiceLines::Table,
            vec![iden(InvoiceLines::InvoiceId), iden(InvoiceLines::Position)],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InvoiceCounters::Table)
                    .col(integer(InvoiceCounters::Annee).primary_key())
                    .col(integer(InvoiceCounters::LastSequence))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid(Payments::CompanyId))
                    .col(uuid(Payments::InvoiceId))
                    .col(big_integer(Payments::AmountCents))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Method, 16))
                    .col(string_len(Payments::Status, 16))
                    .col(string_len(Payments::Reference, 64))
                    .col(uuid_null(Payments::CreatedBy))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Payments::ConfirmedAt))
                    .foreign_key(&mut fk(
                        "fk-payments-company_id",
                        (Payments::Table, Payments::CompanyId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-payments-invoice_id",
                        (Payments::Table, Payments::InvoiceId),
                        (Invoices::Table, Invoices::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-payments-reference",
            Payments::Table,
            vec![iden(Payments::Reference)],
            true,
        )
        .await?;
        index(
            manager,
            "idx-payments-company_id-created_at",
            Payments::Table,
            vec![iden(Payments::CompanyId), iden(Payments::CreatedAt)],
            false,
        )
        .await?;
        index(
            manager,
            "idx-payments-invoice_id",
            Payments::Table,
            vec![iden(Payments::InvoiceId)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string(Notifications::Title))
                    .col(text_null(Notifications::Body))
                    .col(string_null(Notifications::Link))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-notifications-user_id",
                        (Notifications::Table, Notifications::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-notifications-user_id-created_at",
            Notifications::Table,
            vec![iden(Notifications::UserId), iden(Notifications::CreatedAt)],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            iden(Notifications::Table),
            iden(Payments::Table),
            iden(InvoiceCounters::Table),
            iden(InvoiceLines::Table),
            iden(Invoices::Table),
            iden(DocumentShares::Table),
            iden(Documents::Table),
            iden(ProjectEvents::Table),
            iden(ProjectComments::Table),
            iden(Projects::Table),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
