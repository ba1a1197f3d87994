//! `POST /api/v1/planning/conflicts/preview`: check an unsaved shift or change, and the people
//! to put on it, against the stored plan; nothing is written.

pub mod service;

use actix_web::{post, web};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use shared::extract::Json;
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::shifts::{NewShift, ShiftUpdate};
use service::{Preview, Subject};

/// A new shift (`shift`), or a stored one (`shift_id`) with optional `changes`, plus the
/// collaborators to put on it.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub shift_id: Option<Uuid>,
    #[validate(nested)]
    pub shift: Option<NewShift>,
    #[validate(nested)]
    pub changes: Option<ShiftUpdate>,
    #[serde(default)]
    #[validate(length(max = 100))]
    pub collaborator_ids: Vec<Uuid>,
}

/// Conflicts the change would have (hard and soft), each collaborator's with ranked fix
/// suggestions (another qualified free collaborator, an earlier or later slot, unassign) and
/// what each leaves. Changes nothing.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = PreviewBody,
    responses((status = 200, description = "The conflicts and fixes", body = ApiResponse<Preview>), errors::AuthedWrite)
)]
#[post("/conflicts/preview")]
pub async fn preview(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    body: Json<PreviewBody>,
) -> Result<ApiResponse<Preview>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    let subject = match (b.shift_id, b.shift, b.changes) {
        (Some(id), None, changes) => Subject::Existing(id, changes.unwrap_or_default().change()?),
        (None, Some(new), None) => Subject::New(new.spec()?),
        (None, Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "changes",
                "changes apply to a stored shift (shift_id)",
            ));
        }
        (Some(_), Some(_), _) => {
            return Err(AppError::invalid(
                "shift",
                "give shift_id (a stored shift) or shift (a new one), not both",
            ));
        }
        (None, None, _) => {
            return Err(AppError::invalid(
                "shift",
                "give shift_id (a stored shift) or shift (a new one)",
            ));
        }
    };
    Ok(ApiResponse::ok(
        service::preview(db.get_ref(), &state, subject, b.collaborator_ids).await?,
    ))
}
