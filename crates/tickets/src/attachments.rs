//! `POST /api/tickets-client/{id}/attachments`: files on a ticket (multipart, 10 MiB at most;
//! beyond that 413 and nothing is stored). Files are kept in the object store with their
//! SHA-256 and size, and shown with a signed, expiring download link.

use std::collections::HashSet;

use actix_web::{HttpRequest, post, web};
use chrono::{DateTime, Utc};
use entity::ticket::TicketStatus;
use entity::ticket_attachment;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::json;
use shared::audit::{self, AuditEntry};
use shared::envelope::serialize_utc;
use shared::extract::Path;
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::storage::Storage;
use shared::upload::read_multipart;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::TicketsState;
use crate::events::{self, event};
use crate::history::Entry;
use crate::scope::{Caller, Scope};
use crate::tickets::TicketKey;
use crate::tickets::service::{self as tickets, Edit};

pub use shared::upload::MAX_FILE_BYTES;

/// An attachment as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    #[schema(example = "photo_echafaudage.jpg")]
    pub nom: String,
    #[serde(rename = "type")]
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Bytes.
    #[schema(example = 2_048_576)]
    pub taille: i64,
    /// Signed download link (expires; ask for the ticket again for a fresh one).
    pub url: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub url_expires_at: DateTime<Utc>,
    pub sha256: String,
    pub description: Option<String>,
    pub message_id: Option<Uuid>,
    /// Staff only.
    pub interne: bool,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_upload: DateTime<Utc>,
}

/// The path a signed attachment link points to.
#[must_use]
pub fn download_path(id: Uuid) -> String {
    format!("/api/tickets-client/files/attachments/{id}")
}

/// The API view of a stored attachment, with a fresh signed link.
#[must_use]
pub fn view(state: &TicketsState, file: ticket_attachment::Model) -> AttachmentView {
    let expires = state.clock.now()
        + chrono::Duration::from_std(state.download_link_ttl)
            .unwrap_or_else(|_| chrono::Duration::hours(1));
    AttachmentView {
        url: state.signer.sign(&download_path(file.id), expires),
        url_expires_at: expires,
        id: file.id,
        nom: file.nom,
        content_type: file.content_type,
        taille: file.taille,
        sha256: file.sha256,
        description: file.description,
        message_id: file.message_id,
        interne: file.interne,
        date_upload: file.created_at,
    }
}

/// The attachment rows of a ticket `scope` may see, oldest first.
///
/// # Errors
/// Database errors.
pub async fn visible_rows(
    db: &impl ConnectionTrait,
    scope: Scope,
    ticket_id: Uuid,
) -> Result<Vec<ticket_attachment::Model>, DbErr> {
    let mut query = ticket_attachment::Entity::find()
        .filter(ticket_attachment::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_attachment::Column::CreatedAt)
        .order_by_asc(ticket_attachment::Column::Id);
    if !scope.is_staff() {
        query = query.filter(ticket_attachment::Column::Interne.eq(false));
    }
    query.all(db).await
}

/// The attachments among `files` that `scope` may see.
#[must_use]
pub fn visible(
    state: &TicketsState,
    scope: Scope,
    files: &[ticket_attachment::Model],
) -> Vec<AttachmentView> {
    files
        .iter()
        .filter(|f| scope.is_staff() || !f.interne)
        .map(|f| view(state, f.clone()))
        .collect()
}

/// What describes an uploaded file.
#[derive(Debug, Clone)]
pub struct FileMeta {
    pub file_name: String,
    pub content_type: String,
    pub description: Option<String>,
    pub interne: bool,
}

/// What a multipart upload carried.
#[derive(Debug)]
pub struct Upload {
    pub meta: FileMeta,
    pub bytes: bytes::Bytes,
}

/// The multipart form, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (10 MiB at most).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    /// Staff only: `true` keeps the file from clients.
    interne: Option<bool>,
}

/// Read the multipart body: `file` (required), `description`, `interne`.
///
/// # Errors
/// 415 (not multipart), 413 (file over 10 MiB), 400 (broken multipart), 422 (fields).
pub async fn read_upload(req: &HttpRequest, payload: web::Payload) -> Result<Upload, AppError> {
    let form = read_multipart(req, payload, MAX_FILE_BYTES, &["description", "interne"]).await?;
    let interne = match form.field("interne") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(AppError::invalid("interne", "must be true or false")),
    };
    Ok(Upload {
        meta: FileMeta {
            description: form.field("description").map(str::to_owned),
            file_name: form.file_name,
            content_type: form.content_type,
            interne,
        },
        bytes: form.bytes,
    })
}

/// Store an uploaded file on a ticket.
///
/// # Errors
/// 404 (ticket not visible), 403 (a client marking it internal), 409 (closed ticket), storage
/// and database errors (the stored file is removed again if the database refuses the row).
pub async fn attach(
    db: &DatabaseConnection,
    state: &TicketsState,
    storage: &Storage,
    caller: &Caller,
    key: &TicketKey,
    file: Upload,
) -> Result<AttachmentView, AppError> {
    if file.meta.interne {
        caller.scope.require_staff("upload internal files")?;
    }
    // Check before storing anything.
    let ticket = tickets::find(db, caller.scope, key).await?;
    if ticket.status == TicketStatus::Ferme {
        return Err(AppError::conflict(
            "The ticket is closed; reopen it to add files",
        ));
    }
    let storage_key = Storage::new_key("tickets", &file.meta.file_name);
    let stored = storage.put(&storage_key, file.bytes).await?;
    match record(db, state, caller, key, file.meta, &stored).await {
        Ok(view) => Ok(view),
        Err(err) => {
            if let Err(cleanup) = storage.delete(&storage_key).await {
                tracing::warn!(error = %cleanup, key = %storage_key, "could not remove an orphan upload");
            }
            Err(err)
        }
    }
}

async fn record(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    key: &TicketKey,
    meta: FileMeta,
    stored: &shared::storage::StoredObject,
) -> Result<AttachmentView, AppError> {
    let FileMeta {
        file_name,
        content_type,
        description,
        interne,
    } = meta;
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let ticket = tickets::find(&txn, caller.scope, key).await?;
    let author = caller.author();
    let file = ticket_attachment::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_id: Set(ticket.id),
        message_id: Set(None),
        nom: Set(file_name.clone()),
        content_type: Set(content_type.chars().take(255).collect()),
        taille: Set(i64::try_from(stored.size).unwrap_or(i64::MAX)),
        sha256: Set(stored.sha256.clone()),
        storage_key: Set(stored.key.clone()),
        description: Set(description),
        interne: Set(interne),
        uploaded_by: Set(Some(caller.user_id)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let company_id = ticket.client_id;
    let ticket_id = ticket.id;
    let mut edit = Edit::new(ticket, author, now);
    edit.note(
        Entry::new(
            "attachment_added",
            format!("Pièce jointe ajoutée : {file_name}"),
        )
        .internal(interne),
    );
    let (_, updated) = edit.save(&txn, state).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("add_ticket_attachment", "ticket_attachment")
            .entity_id(file.id)
            .after(&json!({
                "ticket_id": file.ticket_id,
                "nom": file.nom,
                "taille": file.taille,
                "sha256": file.sha256,
                "interne": file.interne,
            })),
    )
    .await?;
    txn.commit().await?;
    let view = view(state, file);
    let mut published = vec![event(
        "attachment_added",
        company_id,
        interne,
        json!({
            "ticket_id": ticket_id,
            "attachment": {
                "id": view.id,
                "nom": view.nom,
                "type": view.content_type,
                "taille": view.taille,
            },
        }),
    )];
    published.extend(updated);
    events::publish(&state.bus, published).await;
    Ok(view)
}

/// Upload a file to a ticket (`multipart/form-data`: `file`, optional `description`, and
/// `interne` for staff). 10 MiB at most.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001"), IdempotencyKeyHeader),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored file", body = ApiResponse<AttachmentView>), errors::AuthedWrite)
)]
#[post("/{id}/attachments", wrap = "Idempotency")]
pub async fn upload(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
    payload: web::Payload,
) -> Result<ApiResponse<AttachmentView>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    // Who and which ticket first: nothing is read for a caller who may not upload here.
    tickets::find(db.get_ref(), caller.scope, &key).await?;
    let file = read_upload(&req, payload).await?;
    let view = attach(db.get_ref(), &state, &state.storage, &caller, &key, file).await?;
    Ok(ApiResponse::created(view))
}

/// Ids, without repeats, in their order.
#[must_use]
pub fn unique_ids(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}
