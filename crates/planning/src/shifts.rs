//! `/api/v1/planning/shifts`: shift instances (draft, published, cancelled) with their
//! assignments. Local date and times are the site's; the UTC instants come with them.

pub mod service;

use actix_web::{delete, get, post, put, web};
use chrono::NaiveDate;
use entity::planning::ShiftStatus;
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
use crate::text::{hhmm, plan_date};
use crate::views::{ShiftView, ShiftWrite};
use service::{Removal, ShiftChange, ShiftQuery, ShiftSpec};

fn one() -> i32 {
    1
}

/// A new shift (always a draft). Times are local to the site; an end at or before the start
/// is on the next day.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    /// The chantier.
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    /// Local date the shift starts on.
    pub date: NaiveDate,
    #[schema(example = "08:00")]
    pub start_time: String,
    #[schema(example = "16:30")]
    pub end_time: String,
    #[serde(default)]
    #[validate(range(min = 0, max = 720))]
    pub break_minutes: i32,
    #[serde(default = "one")]
    #[validate(range(min = 1, max = 500))]
    pub headcount: i32,
    #[validate(length(max = 2000))]
    pub notes: Option<String>,
}

impl NewShift {
    /// The spec, its date and times checked.
    ///
    /// # Errors
    /// 422 naming the field.
    pub fn spec(self) -> Result<ShiftSpec, AppError> {
        Ok(ShiftSpec {
            site_id: self.site_id,
            job_role_id: self.job_role_id,
            team_id: self.team_id,
            template_id: None,
            date: plan_date("date", self.date)?,
            start_time: hhmm("start_time", &self.start_time)?,
            end_time: hhmm("end_time", &self.end_time)?,
            break_minutes: self.break_minutes,
            headcount: self.headcount,
            notes: self.notes,
        })
    }
}

/// Changes to a shift (absent fields stay). `status` takes `draft` (unpublish) or `cancelled`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftUpdate {
    pub site_id: Option<Uuid>,
    pub job_role_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    pub date: Option<NaiveDate>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    #[validate(range(min = 0, max = 720))]
    pub break_minutes: Option<i32>,
    #[validate(range(min = 1, max = 500))]
    pub headcount: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 2000))]
    pub notes: Option<Option<String>>,
    pub status: Option<ShiftStatus>,
}

impl ShiftUpdate {
    /// The change, its date and times checked.
    ///
    /// # Errors
    /// 422 naming the field.
    pub fn change(self) -> Result<ShiftChange, AppError> {
        Ok(ShiftChange {
            site_id: self.site_id,
            job_role_id: self.job_role_id,
            team_id: self.team_id,
            date: self.date.map(|d| plan_date("date", d)).transpose()?,
            start_time: self
                .start_time
                .map(|t| hhmm("start_time", &t))
                .transpose()?,
            end_time: self.end_time.map(|t| hhmm("end_time", &t)).transpose()?,
            break_minutes: self.break_minutes,
            headcount: self.headcount,
            notes: self.notes,
            status: self.status,
        })
    }
}

/// Filters of `GET /shifts`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftFilters {
    pub site_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub job_role_id: Option<Uuid>,
    pub status: Option<ShiftStatus>,
    /// First local date (inclusive).
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive).
    pub to: Option<NaiveDate>,
    /// Shifts this collaborator is assigned to (planners).
    pub collaborator_id: Option<Uuid>,
}

/// What `DELETE /shifts/{id}` did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftRemoved {
    /// `deleted` (a draft) | `cancelled` (a published shift, kept for the record)
    pub outcome: String,
    pub shift: Option<ShiftView>,
}

/// Shifts by start (planners: all; collaborators: their own published or cancelled shifts).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(PageParams, ShiftFilters),
    responses((status = 200, description = "A page of shifts with their assignments", body = Paginated<ShiftView>), errors::AuthedRead)
)]
#[get("/shifts")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<ShiftFilters>,
) -> Result<Paginated<ShiftView>, AppError> {
    let f = filters.into_inner();
    if let (Some(from), Some(to)) = (f.from, f.to) {
        crate::text::date_range(from, to, 3_660)?;
    }
    if f.collaborator_id.is_some() && !caller.planner {
        return Err(AppError::forbidden(
            "Collaborators read their own shifts only",
        ));
    }
    service::list(
        db.get_ref(),
        &state,
        &caller,
        ShiftQuery {
            site_id: f.site_id,
            team_id: f.team_id,
            job_role_id: f.job_role_id,
            status: f.status,
            from: f.from,
            to: f.to,
            collaborator_id: f.collaborator_id,
        },
        page,
    )
    .await
}

/// One shift with its assignments.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shift id")),
    responses((status = 200, description = "The shift", body = ApiResponse<ShiftView>), errors::AuthedRead)
)]
#[get("/shifts/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<ShiftView>, AppError> {
    let found = service::find(db.get_ref(), &caller, id.into_inner()).await?;
    Ok(ApiResponse::ok(
        service::view(db.get_ref(), &state, found, caller.reader_scope()).await?,
    ))
}

/// Create a draft shift. A hard conflict answers 409 with `details.conflicts` and saves
/// nothing; soft conflicts come back in `conflicts`.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = NewShift,
    responses((status = 201, description = "The shift and its warnings", body = ApiResponse<ShiftWrite>), errors::AuthedWrite)
)]
#[post("/shifts")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    body: Json<NewShift>,
) -> Result<ApiResponse<ShiftWrite>, AppError> {
    caller.require_planner()?;
    let spec = body.into_inner().spec()?;
    Ok(ApiResponse::created(
        service::create(db.get_ref(), &state, &caller.actor, spec).await?,
    ))
}

/// Change a shift (its assignees' conflicts are checked again). `status: cancelled` cancels
/// it; `status: draft` takes a published shift back to draft.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shift id")),
    request_body = ShiftUpdate,
    responses((status = 200, description = "The shift and its warnings", body = ApiResponse<ShiftWrite>), errors::AuthedWrite)
)]
#[put("/shifts/{id}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<ShiftUpdate>,
) -> Result<ApiResponse<ShiftWrite>, AppError> {
    caller.require_planner()?;
    let change = body.into_inner().change()?;
    Ok(ApiResponse::ok(
        service::update(db.get_ref(), &state, &caller.actor, id.into_inner(), change).await?,
    ))
}

/// Delete a draft shift (and its assignments); a published shift is cancelled instead and
/// its collaborators are told.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shift id")),
    responses((status = 200, description = "Deleted or cancelled", body = ApiResponse<ShiftRemoved>), errors::AuthedWrite)
)]
#[delete("/shifts/{id}")]
pub async fn delete(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<ShiftRemoved>, AppError> {
    caller.require_planner()?;
    let (outcome, shift) =
        service::remove(db.get_ref(), &state, &caller.actor, id.into_inner()).await?;
    Ok(ApiResponse::ok(ShiftRemoved {
        outcome: match outcome {
            Removal::Deleted => "deleted",
            Removal::Cancelled => "cancelled",
        }
        .to_owned(),
        shift,
    }))
}
