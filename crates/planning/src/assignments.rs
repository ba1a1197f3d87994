//! `/api/v1/planning/assignments`: collaborators on shifts (proposed, confirmed, declined,
//! cancelled; manual or auto with a score).

pub mod service;

use actix_web::{delete, get, post, put, web};
use chrono::NaiveDate;
use entity::planning::{AssignmentSource, AssignmentStatus};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::extract::{Json, Path, double_option};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::views::{AssignmentView, AssignmentWrite};
use service::{AssignmentQuery, NewAssignment};

fn confirmed() -> AssignmentStatus {
    AssignmentStatus::Confirmed
}

/// A manual assignment.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignmentBody {
    pub shift_id: Uuid,
    /// A prestataire user.
    pub collaborator_id: Uuid,
    /// `proposed` or `confirmed` (default).
    #[serde(default = "confirmed")]
    pub status: AssignmentStatus,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

/// Changes to an assignment.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentUpdate {
    /// proposed → confirmed | declined | cancelled; confirmed → declined | cancelled;
    /// declined | cancelled → proposed | confirmed (checked again).
    pub status: Option<AssignmentStatus>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 2000))]
    pub note: Option<Option<String>>,
}

/// Filters of `GET /assignments`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentFilters {
    pub shift_id: Option<Uuid>,
    pub collaborator_id: Option<Uuid>,
    pub status: Option<AssignmentStatus>,
    pub source: Option<AssignmentSource>,
    pub site_id: Option<Uuid>,
    /// Shifts from this local date.
    pub from: Option<NaiveDate>,
    /// Shifts up to this local date.
    pub to: Option<NaiveDate>,
}

/// An assignment was deleted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentDeleted {
    pub id: Uuid,
    pub deleted: bool,
}

/// Assignments (collaborators: their own).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(PageParams, AssignmentFilters),
    responses((status = 200, description = "A page of assignments", body = Paginated<AssignmentView>), errors::AuthedRead)
)]
#[get("/assignments")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<AssignmentFilters>,
) -> Result<Paginated<AssignmentView>, AppError> {
    let f = filters.into_inner();
    if f.collaborator_id
        .is_some_and(|c| !caller.planner && c != caller.user_id)
    {
        return Err(AppError::forbidden(
            "Collaborators read their own assignments only",
        ));
    }
    service::list(
        db.get_ref(),
        &caller,
        AssignmentQuery {
            shift_id: f.shift_id,
            collaborator_id: f.collaborator_id,
            status: f.status,
            source: f.source,
            site_id: f.site_id,
            from: f.from,
            to: f.to,
        },
        page,
    )
    .await
}

/// One assignment.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Assignment id")),
    responses((status = 200, description = "The assignment", body = ApiResponse<AssignmentView>), errors::AuthedRead)
)]
#[get("/assignments/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<AssignmentView>, AppError> {
    let found = service::find(db.get_ref(), &caller, id.into_inner()).await?;
    Ok(ApiResponse::ok(service::show(db.get_ref(), found).await?))
}

/// Assign a collaborator to a shift. A hard conflict (double booking, rest, skill, leave,
/// holiday, capacity, headcount) answers 409 with `details.conflicts` and saves nothing.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = NewAssignmentBody,
    responses((status = 201, description = "The assignment and its warnings", body = ApiResponse<AssignmentWrite>), errors::AuthedWrite)
)]
#[post("/assignments")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    body: Json<NewAssignmentBody>,
) -> Result<ApiResponse<AssignmentWrite>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    if !b.status.is_active() {
        return Err(AppError::invalid(
            "status",
            "a new assignment is proposed or confirmed",
        ));
    }
    Ok(ApiResponse::created(
        service::create(
            db.get_ref(),
            &state,
            &caller.actor,
            NewAssignment {
                shift_id: b.shift_id,
                user_id: b.collaborator_id,
                status: b.status,
                note: b.note,
            },
        )
        .await?,
    ))
}

/// Change an assignment's status or note.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Assignment id")),
    request_body = AssignmentUpdate,
    responses((status = 200, description = "The assignment and its warnings", body = ApiResponse<AssignmentWrite>), errors::AuthedWrite)
)]
#[put("/assignments/{id}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<AssignmentUpdate>,
) -> Result<ApiResponse<AssignmentWrite>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    Ok(ApiResponse::ok(
        service::update(
            db.get_ref(),
            &state,
            &caller.actor,
            id.into_inner(),
            b.status,
            b.note,
        )
        .await?,
    ))
}

/// Delete an assignment.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Assignment id")),
    responses((status = 200, description = "Deleted", body = ApiResponse<AssignmentDeleted>), errors::AuthedWrite)
)]
#[delete("/assignments/{id}")]
pub async fn delete(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<AssignmentDeleted>, AppError> {
    caller.require_planner()?;
    let id = id.into_inner();
    service::delete(db.get_ref(), &caller.actor, id).await?;
    Ok(ApiResponse::ok(AssignmentDeleted { id, deleted: true }))
}
