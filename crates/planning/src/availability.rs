//! `/api/v1/planning/availability` and `/leaves`: what a collaborator or a team can work over
//! a period (declared windows, leaves, shifts already held), declaring availability
//! (collaborators for themselves, planners for anyone) and recording leaves (planners).

pub mod service;

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use shared::extract::{Json, Path, Query};
use shared::input::{day_end, day_start};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::resources::Deleted;
use service::{CollaboratorAvailability, LeaveView, LeaveWrite, Who, WindowView};

/// Longest period a read covers.
const MAX_DAYS: i64 = 92;

/// `GET /availability`: one collaborator or one team over a period.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// A collaborator (collaborators may only name themselves; default: the caller).
    pub collaborator_id: Option<Uuid>,
    /// A team's members (planners).
    pub team_id: Option<Uuid>,
    /// First day (UTC, inclusive; default today).
    pub from: Option<NaiveDate>,
    /// Last day (UTC, inclusive; default 27 days after `from`; at most 92 days).
    pub to: Option<NaiveDate>,
}

fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let from = crate::text::plan_date("from", from.unwrap_or(today))?;
    let to = match to {
        Some(to) => crate::text::plan_date("to", to)?,
        None => from + Duration::days(27),
    };
    crate::text::date_range(from, to, MAX_DAYS)?;
    Ok((day_start(from), day_end(to)))
}

/// Availability windows, leaves and shifts of a collaborator or a team over a period.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(AvailabilityQuery),
    responses((status = 200, description = "One entry per collaborator", body = ApiResponse<Vec<CollaboratorAvailability>>), errors::AuthedRead)
)]
#[get("/availability")]
pub async fn read(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    query: Query<AvailabilityQuery>,
) -> Result<ApiResponse<Vec<CollaboratorAvailability>>, AppError> {
    let q = query.into_inner();
    let who = match (q.collaborator_id, q.team_id) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "team_id",
                "give collaborator_id or team_id, not both",
            ));
        }
        (_, Some(team)) => {
            caller.require_planner()?;
            Who::Team(team)
        }
        (Some(person), None) => {
            if !caller.planner && person != caller.user_id {
                return Err(AppError::forbidden(
                    "Collaborators read their own availability only",
                ));
            }
            Who::One(person)
        }
        (None, None) if caller.planner => {
            return Err(AppError::invalid(
                "collaborator_id",
                "give collaborator_id or team_id",
            ));
        }
        (None, None) => Who::One(caller.user_id),
    };
    let (from, to) = period(q.from, q.to, state.clock.now().date_naive())?;
    Ok(ApiResponse::ok(
        service::read(db.get_ref(), who, from, to, !caller.planner).await?,
    ))
}

/// A window of availability.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    /// Whose (planners; collaborators declare their own).
    pub collaborator_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[validate(length(max = 500))]
    pub note: Option<String>,
}

fn check_span(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    max_days: i64,
) -> Result<(), AppError> {
    crate::text::plan_date("starts_at", starts_at.date_naive())?;
    if ends_at <= starts_at {
        return Err(AppError::invalid("ends_at", "must be after starts_at"));
    }
    if ends_at - starts_at > Duration::days(max_days) {
        return Err(AppError::invalid(
            "ends_at",
            format!("a period spans at most {max_days} days"),
        ));
    }
    Ok(())
}

/// Declare availability (collaborators for themselves; planners for anyone). A collaborator
/// who declared availability gets a soft `outside_availability` warning for shifts outside it.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = WindowBody,
    responses((status = 201, description = "The window", body = ApiResponse<WindowView>), errors::AuthedWrite)
)]
#[post("/availability")]
pub async fn declare(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<WindowBody>,
) -> Result<ApiResponse<WindowView>, AppError> {
    let b = body.into_inner();
    let who = match b.collaborator_id {
        Some(id) if !caller.planner && id != caller.user_id => {
            return Err(AppError::forbidden(
                "Collaborators declare their own availability only",
            ));
        }
        Some(id) => id,
        None if caller.planner => {
            return Err(AppError::invalid("collaborator_id", "whose availability?"));
        }
        None => caller.user_id,
    };
    check_span(b.starts_at, b.ends_at, 31)?;
    Ok(ApiResponse::created(
        service::declare(
            db.get_ref(),
            &caller.actor,
            who,
            b.starts_at,
            b.ends_at,
            b.note,
        )
        .await?,
    ))
}

/// Remove an availability window (collaborators: their own).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Window id")),
    responses((status = 200, description = "Removed", body = ApiResponse<Deleted>), errors::AuthedWrite)
)]
#[delete("/availability/{id}")]
pub async fn remove(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<Deleted>, AppError> {
    let id = id.into_inner();
    service::remove_window(db.get_ref(), &caller.actor, id, caller.reader_scope()).await?;
    Ok(ApiResponse::ok(Deleted { id, deleted: true }))
}

/// `GET /leaves`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaveQuery {
    /// One collaborator's (collaborators: only themselves, the default).
    pub collaborator_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Leaves over a period (at most 1,000).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(LeaveQuery),
    responses((status = 200, description = "Leaves by start", body = ApiResponse<Vec<LeaveView>>), errors::AuthedRead)
)]
#[get("/leaves")]
pub async fn leaves(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    query: Query<LeaveQuery>,
) -> Result<ApiResponse<Vec<LeaveView>>, AppError> {
    let q = query.into_inner();
    let whose = match (caller.planner, q.collaborator_id) {
        (true, who) => who,
        (false, Some(id)) if id != caller.user_id => {
            return Err(AppError::forbidden(
                "Collaborators read their own leaves only",
            ));
        }
        (false, _) => Some(caller.user_id),
    };
    let (from, to) = period(q.from, q.to, state.clock.now().date_naive())?;
    Ok(ApiResponse::ok(
        service::leaves(db.get_ref(), whose, from, to).await?,
    ))
}

/// Kinds of leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaveKind {
    Conges,
    Maladie,
    Formation,
    Autre,
}

impl LeaveKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Conges => "conges",
            Self::Maladie => "maladie",
            Self::Formation => "formation",
            Self::Autre => "autre",
        }
    }
}

/// A leave.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveBody {
    pub collaborator_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: LeaveKind,
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// Record a leave (planners). Shifts the collaborator still holds during it are listed in
/// `affected_shifts`; new assignments there are refused (`on_leave`, hard).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = LeaveBody,
    responses((status = 201, description = "The leave", body = ApiResponse<LeaveWrite>), errors::AuthedWrite)
)]
#[post("/leaves")]
pub async fn add_leave(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<LeaveBody>,
) -> Result<ApiResponse<LeaveWrite>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    check_span(b.starts_at, b.ends_at, 366)?;
    Ok(ApiResponse::created(
        service::add_leave(
            db.get_ref(),
            &caller.actor,
            b.collaborator_id,
            b.starts_at,
            b.ends_at,
            b.kind.as_str().to_owned(),
            b.reason,
        )
        .await?,
    ))
}

/// Remove a leave (planners).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Leave id")),
    responses((status = 200, description = "Removed", body = ApiResponse<Deleted>), errors::AuthedWrite)
)]
#[delete("/leaves/{id}")]
pub async fn remove_leave(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<Deleted>, AppError> {
    caller.require_planner()?;
    let id = id.into_inner();
    service::remove_leave(db.get_ref(), &caller.actor, id).await?;
    Ok(ApiResponse::ok(Deleted { id, deleted: true }))
}
