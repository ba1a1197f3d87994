//! `/api/v1/planning/shift-templates`: reusable shift patterns, and making draft shifts from
//! one over a period.

pub mod service;

use actix_web::{delete, get, post, put, web};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::resources::Deleted;
use crate::text::hhmm;
use service::{Generated, TemplateSpec, TemplateView};

fn one() -> i32 {
    1
}

/// A template's fields.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    #[validate(length(min = 1, max = 120))]
    pub name: String,
    /// Local `HH:MM`.
    #[schema(example = "07:00")]
    pub start_time: String,
    /// Local `HH:MM`; at or before the start means the next day.
    #[schema(example = "15:30")]
    pub end_time: String,
    /// ISO weekdays (1 = Monday … 7 = Sunday).
    #[validate(length(min = 1, max = 7))]
    pub days: Vec<u32>,
    #[serde(default)]
    #[validate(range(min = 0, max = 720))]
    pub break_minutes: i32,
    #[serde(default = "one")]
    #[validate(range(min = 1, max = 500))]
    pub headcount: i32,
}

impl TemplateBody {
    fn spec(self) -> Result<TemplateSpec, AppError> {
        if self.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(AppError::invalid(
                "days",
                "weekdays are 1 (Monday) to 7 (Sunday)",
            ));
        }
        Ok(TemplateSpec {
            site_id: self.site_id,
            job_role_id: self.job_role_id,
            team_id: self.team_id,
            name: self.name,
            start_time: hhmm("start_time", &self.start_time)?,
            end_time: hhmm("end_time", &self.end_time)?,
            days: self.days,
            break_minutes: self.break_minutes,
            headcount: self.headcount,
        })
    }
}

/// Filters of `GET /shift-templates`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateFilters {
    pub site_id: Option<Uuid>,
}

/// Period to fill from a template.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    pub from: NaiveDate,
    /// At most 62 days after `from`.
    pub to: NaiveDate,
}

/// Shift templates, by name (planners).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams, TemplateFilters),
    responses((status = 200, description = "Templates", body = Paginated<TemplateView>), errors::AuthedRead))]
#[get("/shift-templates")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<TemplateFilters>,
) -> Result<Paginated<TemplateView>, AppError> {
    caller.require_planner()?;
    service::list(db.get_ref(), filters.into_inner().site_id, page).await
}

/// One template.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Template id")),
    responses((status = 200, description = "The template", body = ApiResponse<TemplateView>), errors::AuthedRead))]
#[get("/shift-templates/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<TemplateView>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::ok(
        service::get(db.get_ref(), id.into_inner()).await?,
    ))
}

/// Create a template.
#[utoipa::path(tag = "planning", security(("bearer" = [])), request_body = TemplateBody,
    responses((status = 201, description = "The template", body = ApiResponse<TemplateView>), errors::AuthedWrite))]
#[post("/shift-templates")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<TemplateBody>,
) -> Result<ApiResponse<TemplateView>, AppError> {
    caller.require_planner()?;
    let spec = body.into_inner().spec()?;
    Ok(ApiResponse::created(
        service::save(db.get_ref(), &caller.actor, None, spec).await?,
    ))
}

/// Replace a template (shifts already made from it do not change).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Template id")), request_body = TemplateBody,
    responses((status = 200, description = "The template", body = ApiResponse<TemplateView>), errors::AuthedWrite))]
#[put("/shift-templates/{id}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<TemplateBody>,
) -> Result<ApiResponse<TemplateView>, AppError> {
    caller.require_planner()?;
    let spec = body.into_inner().spec()?;
    Ok(ApiResponse::ok(
        service::save(db.get_ref(), &caller.actor, Some(id.into_inner()), spec).await?,
    ))
}

/// Delete a template (its shifts stay).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Template id")),
    responses((status = 200, description = "Deleted", body = ApiResponse<Deleted>), errors::AuthedWrite))]
#[delete("/shift-templates/{id}")]
pub async fn delete(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<Deleted>, AppError> {
    caller.require_planner()?;
    let id = id.into_inner();
    service::delete(db.get_ref(), &caller.actor, id).await?;
    Ok(ApiResponse::ok(Deleted { id, deleted: true }))
}

/// Make draft shifts from a template on its weekdays in `from..=to` (days already made are
/// skipped; a hard conflict refuses the lot with 409).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Template id")), request_body = GenerateBody,
    responses((status = 201, description = "The shifts made", body = ApiResponse<Generated>), errors::AuthedWrite))]
#[post("/shift-templates/{id}/generate")]
pub async fn generate(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<GenerateBody>,
) -> Result<ApiResponse<Generated>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    crate::text::date_range(b.from, b.to, 62)?;
    Ok(ApiResponse::created(
        service::generate(
            db.get_ref(),
            &state,
            &caller.actor,
            id.into_inner(),
            b.from,
            b.to,
        )
        .await?,
    ))
}
