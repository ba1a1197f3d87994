//! `/api/tickets-client` and `/api/tickets-client/{id}`: list, detail, create, update and the
//! actions of seed 003 (`affecter`, `escalader`, `cloturer`, `reopen`, `changer_priorite`,
//! `ajouter_tags`).

pub mod contents;
pub mod creation;
pub mod service;

use actix_web::{get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::chantier::ChantierType;
use entity::company::ClientKind;
use entity::ticket::{TicketCategorie, TicketPriority, TicketStatus};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::extract::{Json, Path};
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{Filters, Order, PageParams, Sort, SortField};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::attachments::AttachmentView;
use crate::filters::TicketFilters;
use crate::history::HistoryView;
use crate::messages::MessageView;
use crate::scope::Caller;
use crate::sla::SlaLevel;

/// A ticket in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketSummary {
    pub id: Uuid,
    #[schema(example = "TC-2026-001")]
    pub numero: String,
    #[schema(example = "Problème de sécurité sur échafaudages")]
    pub titre: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub categorie: TicketCategorie,
    pub client_id: Uuid,
    pub client_nom: Option<String>,
    pub chantier_id: Option<Uuid>,
    pub chantier_nom: Option<String>,
    pub responsable: Option<String>,
    pub responsable_id: Option<Uuid>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_creation: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_modification: DateTime<Utc>,
    /// Resolution deadline (later by the time the ticket waited on the client).
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_limite: DateTime<Utc>,
    pub sla_status: SlaLevel,
    pub tags: Vec<String>,
    pub escalation_level: i32,
    /// Messages the caller may see.
    pub nb_messages: i64,
    /// Attachments the caller may see.
    pub nb_piece_jointes: i64,
}

/// The client company of a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientRef {
    pub id: Uuid,
    #[schema(example = "SARL Construction Plus")]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: Option<ClientKind>,
    pub email: Option<String>,
    pub telephone: Option<String>,
}

/// The chantier of a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChantierRef {
    pub id: Uuid,
    #[schema(example = "Résidence Les Jardins")]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: ChantierType,
    pub adresse: Option<String>,
    pub ville: Option<String>,
}

/// The first-response clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FirstResponseSla {
    pub statut: SlaLevel,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub echeance: DateTime<Utc>,
    /// When staff first answered, if they have.
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub repondu_le: Option<DateTime<Utc>>,
    #[schema(example = "3h")]
    pub temps_ecoule: String,
    pub pourcentage: i64,
}

/// Where the resolution clock stands (seed 003's `slaDetails`), from the ticket's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaDetails {
    #[schema(example = "2 jours 4h")]
    pub temps_ecoule: String,
    /// Time left, or how late (`dépassé de 3h`).
    #[schema(example = "10h")]
    pub temps_restant: String,
    /// Share of the resolution budget used (over 100 once breached).
    #[schema(example = 83)]
    pub pourcentage: i64,
    pub temps_ecoule_secondes: i64,
    /// Negative once breached.
    pub temps_restant_secondes: i64,
    /// The clock is paused (waiting on the client, resolved or closed).
    pub en_pause: bool,
    pub premiere_reponse: FirstResponseSla,
}

/// A ticket with everything about it (seed 003's detail).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDetail {
    pub id: Uuid,
    #[schema(example = "TC-2026-001")]
    pub numero: String,
    pub titre: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub categorie: TicketCategorie,
    pub client: ClientRef,
    pub chantier: Option<ChantierRef>,
    pub responsable: Option<String>,
    pub responsable_id: Option<Uuid>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_creation: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_modification: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_limite: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub date_resolution: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub date_cloture: Option<DateTime<Utc>>,
    pub motif_cloture: Option<String>,
    /// 1..=5, given by the client when closing.
    pub note_satisfaction: Option<i32>,
    pub sla_status: SlaLevel,
    pub sla_details: SlaDetails,
    pub tags: Vec<String>,
    pub escalation_level: i32,
    pub nb_messages: i64,
    pub nb_piece_jointes: i64,
    /// The conversation, oldest first (the latest 200; page through
    /// `GET /api/tickets-client/{id}/messages` for all).
    pub messages: Vec<MessageView>,
    pub piece_jointes: Vec<AttachmentView>,
    pub historique: Vec<HistoryView>,
}

/// `POST /api/tickets-client`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(example = "Problème de sécurité", min_length = 1, max_length = 255)]
    pub titre: String,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub description: String,
    /// Default `normale`.
    pub priority: Option<TicketPriority>,
    pub categorie: TicketCategorie,
    /// The client company; staff must give it, a client user may omit it (its own company).
    pub client_id: Option<Uuid>,
    /// A chantier of that client.
    pub chantier_id: Option<Uuid>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

/// `PATCH /api/tickets-client/{id}`: only the fields sent change. A client may change `titre`
/// and `description` of its own ticket; the rest is for staff.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub titre: Option<String>,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub categorie: Option<TicketCategorie>,
    /// Who handles it; `null` unassigns.
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 255))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub responsable: Option<Option<String>>,
    /// The handler's account (a superadmin or prestataire); `null` clears it.
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub responsable_id: Option<Option<Uuid>>,
    /// Replaces the tags.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Another chantier of the same client; `null` detaches it.
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub chantier_id: Option<Option<Uuid>>,
}

/// The actions of `POST /api/tickets-client/{id}/action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    /// Staff: assign (`data.responsable`, optionally `data.responsable_id`).
    Affecter,
    /// Staff: raise the escalation level (`data.niveau`, 1..=5, above the current one).
    Escalader,
    /// Close (`data.motif`; a client may add `data.note_satisfaction`, 1..=5).
    Cloturer,
    /// Reopen a resolved or closed ticket (`data.motif`).
    Reopen,
    /// Staff: change the priority (`data.priority`); the SLA deadlines follow.
    ChangerPriorite,
    /// Staff: add tags (`data.tags`).
    AjouterTags,
}

impl ActionName {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Affecter => "affecter",
            Self::Escalader => "escalader",
            Self::Cloturer => "cloturer",
            Self::Reopen => "reopen",
            Self::ChangerPriorite => "changer_priorite",
            Self::AjouterTags => "ajouter_tags",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffecterData {
    #[validate(length(min = 1, max = 255))]
    #[schema(example = "Jean Dupont", min_length = 1, max_length = 255)]
    pub responsable: String,
    /// The account of that person (a superadmin or prestataire), so they are notified.
    pub responsable_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscaladerData {
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub niveau: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloturerData {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub motif: String,
    /// The client's rating, 1..=5.
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub note_satisfaction: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenData {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub motif: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangerPrioriteData {
    pub priority: TicketPriority,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AjouterTagsData {
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub tags: Vec<String>,
}

/// The `data` of an action, by action.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ActionData {
    Affecter(AffecterData),
    Escalader(EscaladerData),
    Cloturer(CloturerData),
    Reopen(ReopenData),
    ChangerPriorite(ChangerPrioriteData),
    AjouterTags(AjouterTagsData),
}

impl ActionData {
    /// Parse `data` for `action`, naming bad fields `data.<field>`.
    ///
    /// # Errors
    /// 422 naming the field.
    pub fn parse(name: ActionName, data: Option<Value>) -> Result<Self, AppError> {
        use shared::extract::parse_value;
        let data = data.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
        Ok(match name {
            ActionName::Affecter => Self::Affecter(parse_value(data, "data")?),
            ActionName::Escalader => Self::Escalader(parse_value(data, "data")?),
            ActionName::Cloturer => Self::Cloturer(parse_value(data, "data")?),
            ActionName::Reopen => Self::Reopen(parse_value(data, "data")?),
            ActionName::ChangerPriorite => Self::ChangerPriorite(parse_value(data, "data")?),
            ActionName::AjouterTags => Self::AjouterTags(parse_value(data, "data")?),
        })
    }
}

/// `POST /api/tickets-client/{id}/action`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action: ActionName,
    /// What the action needs (see each action).
    #[schema(value_type = Option<ActionData>)]
    pub data: Option<Value>,
}

/// Sortable fields of the ticket list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketSort {
    DateCreation,
    DateModification,
    DateLimite,
    Priority,
    Numero,
    Status,
    Titre,
}

impl SortField for TicketSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("date_creation", Self::DateCreation),
        ("date_modification", Self::DateModification),
        ("date_limite", Self::DateLimite),
        ("priority", Self::Priority),
        ("numero", Self::Numero),
        ("status", Self::Status),
        ("titre", Self::Titre),
    ];
    const DEFAULT: Self = Self::DateCreation;
    const DEFAULT_ORDER: Order = Order::Desc;
}

/// Guard of the `/{id}` routes: the fixed paths beside them (`/stats`, `/search`, `/export`,
/// `/bulk`) are not ticket ids, so another method on them answers 405 with their `Allow`, as
/// the document says, instead of reaching a ticket route.
#[must_use]
pub fn names_a_ticket(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    let path = ctx.head().uri.path();
    let last = path.rsplit('/').next().unwrap_or_default();
    !matches!(last, "stats" | "search" | "export" | "bulk")
}

/// A ticket named in a path: its UUID or its `numero`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketKey {
    Id(Uuid),
    Numero(String),
}

impl TicketKey {
    /// # Errors
    /// 422 naming `id` for something that is neither.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if let Ok(id) = Uuid::parse_str(raw) {
            return Ok(Self::Id(id));
        }
        let upper = raw.trim().to_uppercase();
        let mut parts = upper.splitn(3, '-');
        let ok = parts.next() == Some("TC")
            && parts
                .next()
                .is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
            && parts.next().is_some_and(|n| {
                (1..=9).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
            });
        if ok {
            Ok(Self::Numero(upper))
        } else {
            Err(AppError::invalid(
                "id",
                "must be a ticket UUID or a number such as TC-2026-001",
            ))
        }
    }
}

/// List tickets, filtered, sorted and paginated (clients see their company's).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(PageParams, Sort<TicketSort>, TicketFilters),
    responses((status = 200, description = "A page of tickets", body = Paginated<TicketSummary>), errors::AuthedRead)
)]
#[get("")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    page: PageParams,
    sort: Sort<TicketSort>,
    filters: Filters<TicketFilters>,
) -> Result<Paginated<TicketSummary>, AppError> {
    service::list(
        db.get_ref(),
        &state,
        caller.scope,
        &filters.into_inner(),
        page,
        sort,
    )
    .await
}

/// One ticket by UUID or `numero`, with its client, chantier, SLA, messages, attachments and
/// history.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001")),
    responses((status = 200, description = "The ticket", body = ApiResponse<TicketDetail>), errors::AuthedRead)
)]
#[get("/{id}", guard = "crate::tickets::names_a_ticket")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
) -> Result<ApiResponse<TicketDetail>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    Ok(ApiResponse::ok(
        service::get(db.get_ref(), &state, caller.scope, &key).await?,
    ))
}

/// Open a ticket (numbered `TC-<year>-<seq>`, SLA clock started).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(IdempotencyKeyHeader),
    request_body = CreateTicketRequest,
    responses((status = 201, description = "The new ticket", body = ApiResponse<TicketDetail>), errors::AuthedWrite)
)]
#[post("", wrap = "Idempotency")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    body: Json<CreateTicketRequest>,
) -> Result<ApiResponse<TicketDetail>, AppError> {
    let ticket = service::create(db.get_ref(), &state, &caller, body.into_inner()).await?;
    Ok(ApiResponse::created(ticket))
}

/// Change fields of a ticket (each change is in its history).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001")),
    request_body = UpdateTicketRequest,
    responses((status = 200, description = "The updated ticket", body = ApiResponse<TicketDetail>), errors::AuthedWrite)
)]
#[patch("/{id}", guard = "crate::tickets::names_a_ticket")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
    body: Json<UpdateTicketRequest>,
) -> Result<ApiResponse<TicketDetail>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    let ticket = service::update(db.get_ref(), &state, &caller, &key, body.into_inner()).await?;
    Ok(ApiResponse::ok(ticket))
}

/// Run an action on a ticket: `affecter`, `escalader`, `changer_priorite`, `ajouter_tags`
/// (staff), `cloturer` and `reopen` (staff, and the client on its own tickets).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket UUID or numero (TC-2026-001)", pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Tt][Cc]-[0-9]{4}-[0-9]{1,9})$", example = "TC-2026-001")),
    request_body = ActionRequest,
    responses((status = 200, description = "The ticket after the action", body = ApiResponse<TicketDetail>), errors::AuthedWrite)
)]
#[post("/{id}/action")]
pub async fn action(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    id: Path<String>,
    body: Json<ActionRequest>,
) -> Result<ApiResponse<TicketDetail>, AppError> {
    let key = TicketKey::parse(&id.into_inner())?;
    let body = body.into_inner();
    let data = ActionData::parse(body.action, body.data)?;
    let ticket = service::act(db.get_ref(), &state, &caller, &key, data).await?;
    Ok(ApiResponse::ok(ticket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_named_by_uuid_or_numero() {
        let id = Uuid::now_v7();
        assert_eq!(
            TicketKey::parse(&id.to_string()).unwrap(),
            TicketKey::Id(id)
        );
        assert_eq!(
            TicketKey::parse("tc-2026-001").unwrap(),
            TicketKey::Numero("TC-2026-001".into())
        );
        assert_eq!(
            TicketKey::parse("TC-2026-1234").unwrap(),
            TicketKey::Numero("TC-2026-1234".into())
        );
        for bad in [
            "",
            "TC-26-001",
            "TC-2026-",
            "TC-2026-00a",
            "1; DROP TABLE",
            "XX-2026-001",
        ] {
            assert!(TicketKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn action_data_errors_name_the_field() {
        let err = ActionData::parse(
            ActionName::Escalader,
            Some(serde_json::json!({"niveau": 9})),
        )
        .unwrap_err();
        let AppError::Validation(fields) = err else {
            panic!("expected 422")
        };
        assert!(fields.fields().contains_key("data.niveau"), "{fields:?}");
        let err = ActionData::parse(ActionName::Affecter, None).unwrap_err();
        let AppError::Validation(fields) = err else {
            panic!("expected 422")
        };
        assert!(
            fields.fields().contains_key("data.responsable"),
            "{fields:?}"
        );
        let err = ActionData::parse(
            ActionName::ChangerPriorite,
            Some(serde_json::json!({"priority": "haute", "role": "x"})),
        )
        .unwrap_err();
        let AppError::Validation(fields) = err else {
            panic!("expected 422")
        };
        assert!(fields.fields().contains_key("data.role"), "{fields:?}");
    }
}
