//! Support tickets (seed 003): client details on `companies`, `chantiers`, `tickets` and their
//! numbering counters, messages, attachments, history and exports, plus full-text search
//! (FTS5 on SQLite, `tsvector` with unaccented French stemming on PostgreSQL).

use crate::helpers::{fk, iden, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, boolean, date_null, double_null, integer, integer_null, json_binary, pk_uuid,
    string, string_len, string_len_null, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    CompanyType,
    ClientKind,
    Email,
    Phone,
    Address,
    City,
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
    ClientId,
    Nom,
    ChantierType,
    Adresse,
    Ville,
    Latitude,
    Longitude,
    Statut,
    DateDebut,
    DateFin,
    BudgetCents,
    Currency,
    Avancement,
    Responsable,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    Numero,
    Annee,
    Sequence,
    Titre,
    Description,
    Status,
    Priority,
    Categorie,
    ClientId,
    ChantierId,
    Responsable,
    ResponsableId,
    Tags,
    EscalationLevel,
    CreatedBy,
    DateCreation,
    DateModification,
    DateLimite,
    SlaWarningAt,
    SlaResponseDue,
    SlaResponseWarningAt,
    FirstResponseAt,
    SlaResponseLevel,
    SlaPausedSince,
    SlaNotifiedLevel,
    ResolvedAt,
    ClosedAt,
    MotifCloture,
    NoteSatisfaction,
}

#[derive(DeriveIden)]
enum TicketCounters {
    Table,
    Annee,
    LastSequence,
}

#[derive(DeriveIden)]
enum TicketMessages {
    Table,
    Id,
    TicketId,
    AuthorId,
    Auteur,
    Contenu,
    Interne,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketAttachments {
    Table,
    Id,
    TicketId,
    MessageId,
    Nom,
    ContentType,
    Taille,
    Sha256,
    StorageKey,
    Description,
    Interne,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketHistory {
    Table,
    Id,
    TicketId,
    Action,
    Description,
    Auteur,
    AuthorId,
    Field,
    OldValue,
    NewValue,
    Interne,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketExports {
    Table,
    Id,
    CreatedBy,
    CompanyId,
    Format,
    FileName,
    ContentType,
    Request,
    JobId,
    StorageKey,
    Size,
    Sha256,
    RowCount,
    ExpiresAt,
    CreatedAt,
}

/// SQLite: one FTS5 row per ticket (rowid = annee * 10^9 + sequence, stable across VACUUM),
/// kept by triggers; `messages` holds every message of the ticket (searched for staff only).
/// Staff search counts its matches from this table alone: a new way of writing tickets must
/// keep exactly one row per ticket.
const SQLITE_SEARCH: &[&str] = &[
    // The FTS rowid of a ticket, as an index: search joins its matches to tickets through it.
    "CREATE INDEX \"idx-tickets-fts_rowid\" ON tickets ((annee * 1000000000 + sequence))",
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(numero, titre, description, messages, \
     content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN \
       INSERT INTO tickets_fts(rowid, numero, titre, description, messages) \
       VALUES (new.annee * 1000000000 + new.sequence, replace(new.numero, '-', ' '), new.titre, \
               new.description, ''); \
     END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF titre, description ON tickets BEGIN \
       DELETE FROM tickets_fts WHERE rowid = old.annee * 1000000000 + old.sequence; \
       INSERT INTO tickets_fts(rowid, numero, titre, description, messages) \
       VALUES (new.annee * 1000000000 + new.sequence, replace(new.numero, '-', ' '), new.titre, \
               new.description, \
               coalesce((SELECT group_concat(contenu, ' ') FROM ticket_messages \
                         WHERE ticket_id = new.id), '')); \
     END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN \
       DELETE FROM tickets_fts WHERE rowid = old.annee * 1000000000 + old.sequence; \
     END",
    "CREATE TRIGGER ticket_messages_fts_insert AFTER INSERT ON ticket_messages BEGIN \
       DELETE FROM tickets_fts WHERE rowid = \
         (SELECT annee * 1000000000 + sequence FROM tickets WHERE id = new.ticket_id); \
       INSERT INTO tickets_fts(rowid, numero, titre, description, messages) \
       SELECT t.annee * 1000000000 + t.sequence, replace(t.numero, '-', ' '), t.titre, \
              t.description, \
              coalesce((SELECT group_concat(contenu, ' ') FROM ticket_messages \
                        WHERE ticket_id = t.id), '') \
       FROM tickets t WHERE t.id = new.ticket_id; \
     END",
];

/// PostgreSQL: `presta_fr` (French stemming without accents) and stored `tsvector` columns
/// with GIN indexes. `unaccent` is a trusted extension: the database owner may create it.
const POSTGRES_SEARCH: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION presta_fr (COPY = french)",
    "ALTER TEXT SEARCH CONFIGURATION presta_fr \
     ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem",
    "ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ( \
       setweight(to_tsvector('simple'::regconfig, replace(numero, '-', ' ')), 'A') || \
       setweight(to_tsvector('presta_fr'::regconfig, titre), 'A') || \
       setweight(to_tsvector('presta_fr'::regconfig, description), 'B')) STORED",
    "CREATE INDEX \"idx-tickets-search_vector\" ON tickets USING GIN (search_vector)",
    "ALTER TABLE ticket_messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ( \
       to_tsvector('presta_fr'::regconfig, contenu)) STORED",
    "CREATE INDEX \"idx-ticket_messages-search_vector\" ON ticket_messages \
     USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_len_null(Companies::ClientKind, 16),
            string_null(Companies::Email),
            string_null(Companies::Phone),
            text_null(Companies::Address),
            string_null(Companies::City),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Companies::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        index(
            manager,
            "idx-companies-company_type",
            Companies::Table,
            vec![iden(Companies::CompanyType)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Chantiers::Table)
                    .col(pk_uuid(Chantiers::Id))
                    .col(uuid(Chantiers::ClientId))
                    .col(string(Chantiers::Nom))
                    .col(string_len(Chantiers::ChantierType, 16))
                    .col(text_null(Chantiers::Adresse))
                    .col(string_null(Chantiers::Ville))
                    .col(double_null(Chantiers::Latitude))
                    .col(double_null(Chantiers::Longitude))
                    .col(string_len(Chantiers::Statut, 16))
                    .col(date_null(Chantiers::DateDebut))
                    .col(date_null(Chantiers::DateFin))
                    .col(big_integer_null(Chantiers::BudgetCents))
                    .col(string_len(Chantiers::Currency, 3))
                    .col(integer(Chantiers::Avancement).default(0))
                    .col(string_null(Chantiers::Responsable))
                    .col(timestamp_with_time_zone(Chantiers::CreatedAt))
                    .col(timestamp_with_time_zone(Chantiers::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-chantiers-client_id",
                        (Chantiers::Table, Chantiers::ClientId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-chantiers-client_id",
            Chantiers::Table,
            vec![iden(Chantiers::ClientId)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketCounters::Table)
                    .col(integer(TicketCounters::Annee).primary_key())
                    .col(integer(TicketCounters::LastSequence))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(pk_uuid(Tickets::Id))
                    .col(string_len(Tickets::Numero, 32))
                    .col(integer(Tickets::Annee))
                    .col(integer(Tickets::Sequence))
                    .col(string_len(Tickets::Titre, 255))
                    .col(text(Tickets::Description))
                    .col(string_len(Tickets::Status, 16))
                    .col(string_len(Tickets::Priority, 16))
                    .col(string_len(Tickets::Categorie, 16))
                    .col(uuid(Tickets::ClientId))
                    .col(uuid_null(Tickets::ChantierId))
                    .col(string_null(Tickets::Responsable))
                    .col(uuid_null(Tickets::ResponsableId))
                    .col(json_binary(Tickets::Tags))
                    .col(integer(Tickets::EscalationLevel).default(0))
                    .col(uuid_null(Tickets::CreatedBy))
                    .col(timestamp_with_time_zone(Tickets::DateCreation))
                    .col(timestamp_with_time_zone(Tickets::DateModification))
                    .col(timestamp_with_time_zone(Tickets::DateLimite))
                    .col(timestamp_with_time_zone(Tickets::SlaWarningAt))
                    .col(timestamp_with_time_zone(Tickets::SlaResponseDue))
                    .col(timestamp_with_time_zone(Tickets::SlaResponseWarningAt))
                    .col(timestamp_with_time_zone_null(Tickets::FirstResponseAt))
                    .col(integer_null(Tickets::SlaResponseLevel))
                    .col(timestamp_with_time_zone_null(Tickets::SlaPausedSince))
                    .col(integer(Tickets::SlaNotifiedLevel).default(0))
                    .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Tickets::ClosedAt))
                    .col(text_null(Tickets::MotifCloture))
                    .col(integer_null(Tickets::NoteSatisfaction))
                    .foreign_key(&mut fk(
                        "fk-tickets-client_id",
                        (Tickets::Table, Tickets::ClientId),
                        (Companies::Table, Companies::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-tickets-chantier_id",
                        (Tickets::Table, Tickets::ChantierId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-tickets-responsable_id",
                        (Tickets::Table, Tickets::ResponsableId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk-tickets-created_by",
                        (Tickets::Table, Tickets::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("ux-tickets-numero", vec![iden(Tickets::Numero)], true),
            (
                "ux-tickets-annee-sequence",
                vec![iden(Tickets::Annee), iden(Tickets::Sequence)],
                true,
            ),
            // Each list filter has an index in the list's order (newest first, `id` breaking
            // ties), so a page reads its rows in order and a count reads the index alone.
            (
                "idx-tickets-date_creation-id",
                vec![iden(Tickets::DateCreation), iden(Tickets::Id)],
                false,
            ),
            (
                "idx-tickets-client_id-date_creation-id",
                vec![
                    iden(Tickets::ClientId),
                    iden(Tickets::DateCreation),
                    iden(Tickets::Id),
                ],
                false,
            ),
            (
                "idx-tickets-chantier_id-date_creation-id",
                vec![
                    iden(Tickets::ChantierId),
                    iden(Tickets::DateCreation),
                    iden(Tickets::Id),
                ],
                false,
            ),
            (
                "idx-tickets-status-date_creation-id",
                vec![
                    iden(Tickets::Status),
                    iden(Tickets::DateCreation),
                    iden(Tickets::Id),
                ],
                false,
            ),
            (
                "idx-tickets-priority-date_creation-id",
                vec![
                    iden(Tickets::Priority),
                    iden(Tickets::DateCreation),
                    iden(Tickets::Id),
                ],
                false,
            ),
            // Statistics count by these from the index alone.
            (
                "idx-tickets-status-priority",
                vec![iden(Tickets::Status), iden(Tickets::Priority)],
                false,
            ),
            (
                "idx-tickets-categorie",
                vec![iden(Tickets::Categorie)],
                false,
            ),
            (
                "idx-tickets-responsable",
                vec![iden(Tickets::Responsable)],
                false,
            ),
            (
                "idx-tickets-resolved_at",
                vec![iden(Tickets::ResolvedAt)],
                false,
            ),
        ] {
            index(manager, name, Tickets::Table, columns, unique).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(TicketMessages::Table)
                    .col(pk_uuid(TicketMessages::Id))
                    .col(uuid(TicketMessages::TicketId))
                    .col(uuid_null(TicketMessages::AuthorId))
                    .col(string(TicketMessages::Auteur))
                    .col(text(TicketMessages::Contenu))
                    .col(boolean(TicketMessages::Interne).default(false))
                    .col(timestamp_with_time_zone(TicketMessages::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-ticket_messages-ticket_id",
                        (TicketMessages::Table, TicketMessages::TicketId),
                        (Tickets::Table, Tickets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-ticket_messages-author_id",
                        (TicketMessages::Table, TicketMessages::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-ticket_messages-ticket_id-created_at",
            TicketMessages::Table,
            vec![
                iden(TicketMessages::TicketId),
                iden(TicketMessages::CreatedAt),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketAttachments::Table)
                    .col(pk_uuid(TicketAttachments::Id))
                    .col(uuid(TicketAttachments::TicketId))
                    .col(uuid_null(TicketAttachments::MessageId))
                    .col(string(TicketAttachments::Nom))
                    .col(string(TicketAttachments::ContentType))
                    .col(sea_orm_migration::schema::big_integer(
                        TicketAttachments::Taille,
                    ))
                    .col(string_len(TicketAttachments::Sha256, 64))
                    .col(string(TicketAttachments::StorageKey))
                    .col(text_null(TicketAttachments::Description))
                    .col(boolean(TicketAttachments::Interne).default(false))
                    .col(uuid_null(TicketAttachments::UploadedBy))
                    .col(timestamp_with_time_zone(TicketAttachments::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-ticket_attachments-ticket_id",
                        (TicketAttachments::Table, TicketAttachments::TicketId),
                        (Tickets::Table, Tickets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-ticket_attachments-message_id",
                        (TicketAttachments::Table, TicketAttachments::MessageId),
                        (TicketMessages::Table, TicketMessages::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk-ticket_attachments-uploaded_by",
                        (TicketAttachments::Table, TicketAttachments::UploadedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-ticket_attachments-ticket_id",
            TicketAttachments::Table,
            vec![iden(TicketAttachments::TicketId)],
            false,
        )
        .await?;
        index(
            manager,
            "idx-ticket_attachments-message_id",
            TicketAttachments::Table,
            vec![iden(TicketAttachments::MessageId)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketHistory::Table)
                    .col(pk_uuid(TicketHistory::Id))
                    .col(uuid(TicketHistory::TicketId))
                    .col(string_len(TicketHistory::Action, 32))
                    .col(text(TicketHistory::Description))
                    .col(string(TicketHistory::Auteur))
                    .col(uuid_null(TicketHistory::AuthorId))
                    .col(string_len_null(TicketHistory::Field, 32))
                    .col(text_null(TicketHistory::OldValue))
                    .col(text_null(TicketHistory::NewValue))
                    .col(boolean(TicketHistory::Interne).default(false))
                    .col(timestamp_with_time_zone(TicketHistory::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-ticket_history-ticket_id",
                        (TicketHistory::Table, TicketHistory::TicketId),
                        (Tickets::Table, Tickets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-ticket_history-author_id",
                        (TicketHistory::Table, TicketHistory::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-ticket_history-ticket_id-created_at",
            TicketHistory::Table,
            vec![
                iden(TicketHistory::TicketId),
                iden(TicketHistory::CreatedAt),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketExports::Table)
                    .col(pk_uuid(TicketExports::Id))
                    .col(uuid(TicketExports::CreatedBy))
                    .col(uuid_null(TicketExports::CompanyId))
                    .col(string_len(TicketExports::Format, 8))
                    .col(string(TicketExports::FileName))
                    .col(string(TicketExports::ContentType))
                    .col(json_binary(TicketExports::Request))
                    .col(uuid(TicketExports::JobId))
                    .col(string_null(TicketExports::StorageKey))
                    .col(big_integer_null(TicketExports::Size))
                    .col(string_len_null(TicketExports::Sha256, 64))
                    .col(integer_null(TicketExports::RowCount))
                    .col(timestamp_with_time_zone(TicketExports::ExpiresAt))
                    .col(timestamp_with_time_zone(TicketExports::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-ticket_exports-created_by",
                        (TicketExports::Table, TicketExports::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-ticket_exports-expires_at",
            TicketExports::Table,
            vec![iden(TicketExports::ExpiresAt)],
            false,
        )
        .await?;

        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_SEARCH,
            _ => SQLITE_SEARCH,
        };
        crate::helpers::run_all(manager, statements).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
