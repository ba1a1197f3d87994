//! `POST /api/tickets-client/bulk`: one action on many tickets, each in its own transaction, so
//! one refusal does not undo the others. A ticket the caller may not see fails as not found.

use actix_web::{post, web};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::envelope::ErrorCode;
use shared::extract::Json;
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::attachments::unique_ids;
use crate::scope::Caller;
use crate::tickets::service;
use crate::tickets::{ActionData, ActionName, TicketKey};

/// At most this many tickets per request.
pub const MAX_TICKETS: usize = 500;

/// `POST /api/tickets-client/bulk`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_items = 1, max_items = 500)]
    pub ticket_ids: Vec<Uuid>,
    pub action: ActionName,
    /// What the action needs, as for `POST /api/tickets-client/{id}/action`.
    #[schema(value_type = Option<crate::tickets::ActionData>)]
    pub data: Option<Value>,
}

/// Why one ticket was not changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkFailure {
    pub ticket_id: Uuid,
    pub code: ErrorCode,
    pub message: String,
}

/// What happened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    pub updated: usize,
    pub failed: usize,
    pub errors: Vec<BulkFailure>,
    #[schema(example = "3 tickets mis à jour avec succès")]
    pub message: String,
}

/// Apply `action` to each ticket.
///
/// # Errors
/// 422 when the action's data is invalid (then nothing is tried).
pub async fn run(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    request: BulkRequest,
) -> Result<BulkResult, AppError> {
    let data = ActionData::parse(request.action, request.data)?;
    let ids = unique_ids(request.ticket_ids);
    let mut updated = 0;
    let mut failures = Vec::new();
    for id in ids {
        match service::apply_action(db, state, caller, &TicketKey::Id(id), data.clone()).await {
            Ok(_) => updated += 1,
            Err(err) => {
                if matches!(err, AppError::Internal(_) | AppError::Unavailable(_)) {
                    tracing::warn!(ticket_id = %id, error = %err, "bulk action failed on a ticket");
                }
                let envelope = err.envelope();
                failures.push(BulkFailure {
                    ticket_id: id,
                    code: envelope.error.code,
                    message: envelope.error.message_with_details(),
                });
            }
        }
    }
    let failed = failures.len();
    let message = match (updated, failed) {
        (n, 0) => format!(
            "{n} ticket{} mis à jour avec succès",
            if n == 1 { "" } else { "s" }
        ),
        (n, f) => format!("{n} ticket(s) mis à jour, {f} en échec"),
    };
    Ok(BulkResult {
        updated,
        failed,
        errors: failures,
        message,
    })
}

/// Apply one action to many tickets (each on its own; failures are listed per ticket).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    request_body = BulkRequest,
    responses((status = 200, description = "How many changed and why the others did not", body = ApiResponse<BulkResult>), errors::AuthedWrite)
)]
#[post("/bulk")]
pub async fn bulk(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    body: Json<BulkRequest>,
) -> Result<ApiResponse<BulkResult>, AppError> {
    Ok(ApiResponse::ok(
        run(db.get_ref(), &state, &caller, body.into_inner()).await?,
    ))
}
