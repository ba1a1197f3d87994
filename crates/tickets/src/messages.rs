//! `/api/tickets-client/{id}/messages`: the conversation of a ticket. Staff may write internal
//! notes, which clients never see anywhere. A staff answer stops the first-response clock; a
//! client answer on a ticket waiting for it resumes the ticket.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use entity::ticket::TicketStatus;
use entity::{ticket_attachment, ticket_message};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::audit::{self, AuditEntry};
use shared::envelope::serialize_utc;
use shared::extract::{Json, Path};
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{PageParams, page_and_total};
use shared::{ApiResponse, AppError, PageMeta, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::attachments::{self, AttachmentView};
use crate::events::{self, event};
use crate::history::Entry;
use crate::scope::{Caller, Scope};
use crate::tickets::TicketKey;
use crate::tickets::service::{self as tickets, Edit};

/// At most this many attachments on one message.
const MAX_ATTACHMENTS: usize = 10;

/// A message as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    #[schema(example = "Jean Dupont")]
    pub auteur: String,
    pub author_id: Option<Uuid>,
    #[schema(example = "Nous avons envoyé une équipe sur place")]
    pub contenu: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date: DateTime<Utc>,
    /// Staff-only note (never shown to clients).
    pub interne: bool,
    pub piece_jointes: Vec<AttachmentView>,
}

/// `POST /api/tickets-client/{id}/messages`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMessageRequest {
    #[validate(length(min = 1, max = 20000))]
    #[schema(
        example = "Nous avons envoyé une équipe sur place",
        min_length = 1,
        max_length = 20000
    )]
    pub contenu: String,
    /// Staff only: a note clients never see.
    pub interne: Option<bool>,
    /// Attachments already uploaded to this ticket, to show with the message.
    #[validate(length(max = 10))]
    #[schema(max_items = 10)]
    pub piece_jointes: Option<Vec<Uuid>>,
    /// The seed's field: the author is always the signed-in user; when sent it must be their
    /// name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub auteur: Option<String>,
}

fn view(message: ticket_message::Model, piece_jointes: Vec<AttachmentView>) -> MessageView {
    MessageView {
        id: message.id,
        auteur: message.auteur,
        author_id: message.author_id,
        contenu: message.contenu,
        date: message.created_at,
        interne: message.interne,
        piece_jointes,
    }
}

fn visible_messages(scope: Scope, ticket_id: Uuid) -> sea_orm::Select<ticket_message::Entity> {
    let query =
        ticket_message::Entity::find().filter(ticket_message::Column::TicketId.eq(ticket_id));
    if scope.is_staff() {
        query
    } else {
        query.filter(ticket_message::Column::Interne.eq(false))
    }
}

/// Attach each message's attachments.
async fn with_attachments(
    db: &impl ConnectionTrait,
    state: &TicketsState,
    messages: Vec<ticket_message::Model>,
) -> Result<Vec<MessageView>, AppError> {
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    let files = if ids.is_empty() {
        Vec::new()
    } else {
        ticket_attachment::Entity::find()
            .filter(ticket_attachment::Column::MessageId.is_in(ids))
            .order_by_asc(ticket_attachment::Column::CreatedAt)
            .order_by_asc(ticket_attachment::Column::Id)
            .all(db)
            .await?
    };
    Ok(attach(state, messages, &files))
}

/// Each message with its files among `files` (in their order; files of other messages and
/// files of no message are left out).
#[must_use]
pub fn attach(
    state: &TicketsState,
    messages: Vec<ticket_message::Model>,
    files: &[ticket_attachment::Model],
) -> Vec<MessageView> {
    messages
        .into_iter()
        .map(|message| {
            let views = files
                .iter()
                .filter(|f| f.message_id == Some(message.id))
                .map(|f| attachments::view(state, f.clone()))
                .collect();
            view(message, views)
        })
        .collect()
}

/// A page of a ticket's messages, oldest first.
///
/// # Errors
/// 404 when the ticket is not visible; database errors.
pub async fn list_page(
    db: &impl ConnectionTrait,
    state: &TicketsState,
    scope: Scope,
    key: &TicketKey,
    page: PageParams,
) -> Result<Paginated<MessageView>, AppError> {
    let ticket = tickets::find(db, scope, key).await?;
    let (rows, total) = page_and_total(
        page,
        || {
            visible_messages(scope, ticket.id)
                .order_by_asc(ticket_message::Column::CreatedAt)
                .order_by_asc(ticket_message::Column::Id)
                .limit(page.limit)
                .offset(page.offset())
                .all(db)
        },
        || visible_messages(scope, ticket.id).count(db),
    )
    .await?;
    Ok(Paginated::new(
        with_attachments(db, state, rows).await?,
        PageMeta::new(page.page, page.limit, total),
    ))
}

/// Add a message to a ticket.
///
/// # Errors
/// 404 (ticket not visible), 403 (a client writing an internal note), 409 (closed ticket),
/// 422 (bad input, attachments not of this ticket).
pub async fn add(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    key: &TicketKey,
    request: AddMessageRequest,
) -> Result<MessageView, AppError> {
    let interne = request.interne.unwrap_or(false);
    if interne {
        caller.scope.require_staff("write internal notes")?;
    }
    let contenu = request.contenu.trim().to_owned();
    if contenu.is_empty() {
        return Err(AppError::invalid("contenu", "must not be blank"));
    }
    let attachment_ids = attachments::unique_ids(request.piece_jointes.unwrap_or_default());
    if attachment_ids.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(
            "piece_jointes",
            format!("at most {MAX_ATTACHMENTS} attachments per message"),
        ));
    }

    let txn = shared::db::begin_write(db).await?;
    let ticket = tickets::find(&txn, caller.scope, key).await?;
    if ticket.status == TicketStatus::Ferme {
        return Err(AppError::conflict(
            "The ticket is closed; reopen it to continue the conversation",
        ));
    }
    let author = caller.author();
    if let Some(sent) = &request.auteur
        && sent.trim() != author.name
    {
        return Err(AppError::invalid(
            "auteur",
            "the author is the signed-in user; omit this field",
        ));
    }
    let now = state.clock.now();

    // The attachments: of this ticket, visible to the caller, not yet on a message, and not
    // internal on a public message.
    let files = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        attachments::visible_rows(&txn, caller.scope, ticket.id)
            .await?
            .into_iter()
            .filter(|f| attachment_ids.contains(&f.id))
            .collect::<Vec<_>>()
    };
    for (i, id) in attachment_ids.iter().enumerate() {
        let field = format!("piece_jointes[{i}]");
        match files.iter().find(|f| f.id == *id) {
            None => {
                return Err(AppError::invalid(
                    field,
                    "no such attachment on this ticket",
                ));
            }
            Some(f) if f.message_id.is_some() => {
                return Err(AppError::invalid(field, "is already attached to a message"));
            }
            Some(f) if f.interne && !interne => {
                return Err(AppError::invalid(
                    field,
                    "an internal attachment cannot go on a public message",
                ));
            }
            Some(_) => {}
        }
    }

    let message = ticket_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_id: Set(ticket.id),
        author_id: Set(Some(caller.user_id)),
        auteur: Set(author.name.clone()),
        contenu: Set(contenu),
        interne: Set(interne),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut linked = Vec::new();
    for file in files {
        let mut active: ticket_attachment::ActiveModel = file.into();
        active.message_id = Set(Some(message.id));
        if interne {
            active.interne = Set(true);
        }
        linked.push(active.update(&txn).await?);
    }

    let mut edit = Edit::new(ticket, author, now);
    edit.note(
        Entry::new(
            "message_added",
            if interne {
                format!("Note interne ajoutée par {}", edit.author.name)
            } else {
                format!("Message ajouté par {}", edit.author.name)
            },
        )
        .internal(interne),
    );
    if caller.scope.is_staff() && !interne {
        edit.first_response();
    }
    if !caller.scope.is_staff() && edit.ticket.status == TicketStatus::EnAttente {
        edit.set_status(TicketStatus::EnCours, Some("le client a répondu"))?;
    }
    let company_id = edit.ticket.client_id;
    let ticket_id = edit.ticket.id;
    let (_, updated) = edit.save(&txn, state).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("add_ticket_message", "ticket_message")
            .entity_id(message.id)
            .after(&json!({
                "ticket_id": ticket_id,
                "interne": interne,
                "piece_jointes": linked.iter().map(|f| f.id).collect::<Vec<_>>(),
            })),
    )
    .await?;
    txn.commit().await?;

    let views: Vec<AttachmentView> = linked
        .into_iter()
        .map(|f| attachments::view(state, f))
        .collect();
    let result = view(message, views);
    let mut published = vec![event(
        "message_added",
        company_id,
        interne,
        json!({
            "ticket_id": ticket_id,
            "message": {
                "id": result.id,
                "auteur": result.auteur,
                "contenu": result.contenu,
                "date": shared::envelope::format_utc(&result.date),
                "interne": interne,
            },
        }),
    )];
    published.extend(updated);
    events::publish(&state.bus, published).await;
    Ok(result)
}

/// The messages of a ticket, oldest first (clients do not see internal notes).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001"), PageParams),
    responses((status = 200, description = "A page of messages", body = Paginated<MessageView>), errors::AuthedRead)
)]
#[get("/{id}/messages")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
    page: PageParams,
) -> Result<Paginated<MessageView>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    list_page(db.get_ref(), &state, caller.scope, &key, page).await
}

/// Add a message (staff may mark it internal); attachments uploaded before can be shown with it.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001"), IdempotencyKeyHeader),
    request_body = AddMessageRequest,
    responses((status = 201, description = "The message", body = ApiResponse<MessageView>), errors::AuthedWrite)
)]
#[post("/{id}/messages", wrap = "Idempotency")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
    body: Json<AddMessageRequest>,
) -> Result<ApiResponse<MessageView>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    let message = add(db.get_ref(), &state, &caller, &key, body.into_inner()).await?;
    Ok(ApiResponse::created(message))
}
