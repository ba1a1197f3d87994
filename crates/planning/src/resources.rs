//! Skills, teams, job roles, sites' planning settings (time zone, capacity), collaborators'
//! profiles (team, skills, contract hour caps) and public holidays. Planners only.

pub mod service;

use actix_web::{delete, get, post, put, web};
use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::planning::{holiday, job_role, skill, team};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::store::uuids;
use service::{CollaboratorView, ProfileSpec, SiteView, TeamSpec};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkillView {
    pub id: Uuid,
    #[schema(example = "CACES R489")]
    pub name: String,
}

impl From<skill::Model> for SkillView {
    fn from(s: skill::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub name: String,
    pub site_id: Option<Uuid>,
    /// People of the team working at once beyond which a write is refused.
    pub capacity_hard: Option<i32>,
    /// ... beyond which a write warns.
    pub capacity_soft: Option<i32>,
}

impl From<team::Model> for TeamView {
    fn from(t: team::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            site_id: t.site_id,
            capacity_hard: t.capacity_hard,
            capacity_soft: t.capacity_soft,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRoleView {
    pub id: Uuid,
    #[schema(example = "Chef d'équipe")]
    pub name: String,
    pub required_skills: Vec<Uuid>,
}

impl From<job_role::Model> for JobRoleView {
    fn from(r: job_role::Model) -> Self {
        Self {
            id: r.id,
            name: r.name,
            required_skills: uuids(&r.required_skills),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolidayView {
    pub id: Uuid,
    /// `null`: every site.
    pub site_id: Option<Uuid>,
    pub date: NaiveDate,
    pub name: String,
}

impl From<holiday::Model> for HolidayView {
    fn from(h: holiday::Model) -> Self {
        Self {
            id: h.id,
            site_id: h.site_id,
            date: h.date,
            name: h.name,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillBody {
    #[validate(length(min = 1, max = 120))]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    #[validate(length(min = 1, max = 120))]
    pub name: String,
    pub site_id: Option<Uuid>,
    #[validate(range(min = 0, max = 100_000))]
    pub capacity_hard: Option<i32>,
    #[validate(range(min = 0, max = 100_000))]
    pub capacity_soft: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRoleBody {
    #[validate(length(min = 1, max = 120))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 50))]
    pub required_skills: Vec<Uuid>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    /// IANA time zone.
    #[schema(example = "Europe/Paris")]
    #[validate(length(min = 1, max = 64))]
    pub timezone: String,
    #[validate(range(min = 0, max = 100_000))]
    pub capacity_hard: Option<i32>,
    #[validate(range(min = 0, max = 100_000))]
    pub capacity_soft: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollaboratorBody {
    pub team_id: Option<Uuid>,
    #[serde(default)]
    #[validate(length(max = 100))]
    pub skills: Vec<Uuid>,
    /// Contract caps in hours (the rules' defaults when unset).
    #[validate(range(min = 0.5, max = 24.0))]
    pub max_hours_day: Option<f64>,
    #[validate(range(min = 0.5, max = 168.0))]
    pub max_hours_week: Option<f64>,
    #[validate(range(min = 0.5, max = 744.0))]
    pub max_hours_month: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    /// `null` or absent: every site.
    pub site_id: Option<Uuid>,
    pub date: NaiveDate,
    #[validate(length(min = 1, max = 120))]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HolidayFilters {
    /// That site's holidays and every site's.
    pub site_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollaboratorFilters {
    pub team_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deleted {
    pub id: Uuid,
    pub deleted: bool,
}

/// Skills, by name.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Skills", body = Paginated<SkillView>), errors::AuthedRead))]
#[get("/skills")]
pub async fn skills(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
) -> Result<Paginated<SkillView>, AppError> {
    caller.require_planner()?;
    Ok(service::skills(db.get_ref(), page)
        .await?
        .map(SkillView::from))
}

/// Add a skill.
#[utoipa::path(tag = "planning", security(("bearer" = [])), request_body = SkillBody,
    responses((status = 201, description = "The skill", body = ApiResponse<SkillView>), errors::AuthedWrite))]
#[post("/skills")]
pub async fn add_skill(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<SkillBody>,
) -> Result<ApiResponse<SkillView>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::created(
        service::add_skill(db.get_ref(), &caller.actor, body.into_inner().name)
            .await?
            .into(),
    ))
}

/// Teams, by name.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Teams", body = Paginated<TeamView>), errors::AuthedRead))]
#[get("/teams")]
pub async fn teams(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
) -> Result<Paginated<TeamView>, AppError> {
    caller.require_planner()?;
    Ok(service::teams(db.get_ref(), page)
        .await?
        .map(TeamView::from))
}

fn team_spec(b: TeamBody) -> TeamSpec {
    TeamSpec {
        name: b.name,
        site_id: b.site_id,
        capacity_hard: b.capacity_hard,
        capacity_soft: b.capacity_soft,
    }
}

/// Add a team.
#[utoipa::path(tag = "planning", security(("bearer" = [])), request_body = TeamBody,
    responses((status = 201, description = "The team", body = ApiResponse<TeamView>), errors::AuthedWrite))]
#[post("/teams")]
pub async fn add_team(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<TeamBody>,
) -> Result<ApiResponse<TeamView>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::created(
        service::save_team(
            db.get_ref(),
            &caller.actor,
            None,
            team_spec(body.into_inner()),
        )
        .await?
        .into(),
    ))
}

/// Replace a team's fields.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Team id")), request_body = TeamBody,
    responses((status = 200, description = "The team", body = ApiResponse<TeamView>), errors::AuthedWrite))]
#[put("/teams/{id}")]
pub async fn update_team(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<TeamBody>,
) -> Result<ApiResponse<TeamView>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::ok(
        service::save_team(
            db.get_ref(),
            &caller.actor,
            Some(id.into_inner()),
            team_spec(body.into_inner()),
        )
        .await?
        .into(),
    ))
}

/// Job roles, by name.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Job roles", body = Paginated<JobRoleView>), errors::AuthedRead))]
#[get("/job-roles")]
pub async fn job_roles(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
) -> Result<Paginated<JobRoleView>, AppError> {
    caller.require_planner()?;
    Ok(service::job_roles(db.get_ref(), page)
        .await?
        .map(JobRoleView::from))
}

/// Add a job role with the skills it requires.
#[utoipa::path(tag = "planning", security(("bearer" = [])), request_body = JobRoleBody,
    responses((status = 201, description = "The job role", body = ApiResponse<JobRoleView>), errors::AuthedWrite))]
#[post("/job-roles")]
pub async fn add_job_role(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<JobRoleBody>,
) -> Result<ApiResponse<JobRoleView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    Ok(ApiResponse::created(
        service::save_job_role(db.get_ref(), &caller.actor, None, b.name, b.required_skills)
            .await?
            .into(),
    ))
}

/// Replace a job role's name and required skills.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Job role id")), request_body = JobRoleBody,
    responses((status = 200, description = "The job role", body = ApiResponse<JobRoleView>), errors::AuthedWrite))]
#[put("/job-roles/{id}")]
pub async fn update_job_role(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<JobRoleBody>,
) -> Result<ApiResponse<JobRoleView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    Ok(ApiResponse::ok(
        service::save_job_role(
            db.get_ref(),
            &caller.actor,
            Some(id.into_inner()),
            b.name,
            b.required_skills,
        )
        .await?
        .into(),
    ))
}

/// Chantiers with their planning settings (time zone, capacity).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Sites", body = Paginated<SiteView>), errors::AuthedRead))]
#[get("/sites")]
pub async fn sites(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    page: PageParams,
) -> Result<Paginated<SiteView>, AppError> {
    caller.require_planner()?;
    service::sites(db.get_ref(), state.default_tz, page).await
}

/// Set a chantier's time zone and capacity (people working at once; over `capacity_hard` is
/// refused, over `capacity_soft` warns).
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Chantier id")), request_body = SiteBody,
    responses((status = 200, description = "The settings", body = ApiResponse<SiteView>), errors::AuthedWrite))]
#[put("/sites/{id}")]
pub async fn set_site(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<SiteBody>,
) -> Result<ApiResponse<SiteView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    let tz: Tz = b.timezone.parse().map_err(|_| {
        AppError::invalid("timezone", "must be an IANA time zone such as Europe/Paris")
    })?;
    Ok(ApiResponse::ok(
        service::set_site(
            db.get_ref(),
            &caller.actor,
            id.into_inner(),
            state.default_tz,
            tz,
            b.capacity_hard,
            b.capacity_soft,
        )
        .await?,
    ))
}

/// Collaborators (prestataire users) with their planning profile.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams, CollaboratorFilters),
    responses((status = 200, description = "Collaborators", body = Paginated<CollaboratorView>), errors::AuthedRead))]
#[get("/collaborators")]
pub async fn collaborators(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<CollaboratorFilters>,
) -> Result<Paginated<CollaboratorView>, AppError> {
    caller.require_planner()?;
    service::collaborators(db.get_ref(), filters.into_inner().team_id, page).await
}

/// Set a collaborator's team, skills and contract hour caps.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id of a prestataire")), request_body = CollaboratorBody,
    responses((status = 200, description = "The profile", body = ApiResponse<CollaboratorView>), errors::AuthedWrite))]
#[put("/collaborators/{id}")]
pub async fn set_collaborator(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
    body: Json<CollaboratorBody>,
) -> Result<ApiResponse<CollaboratorView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    Ok(ApiResponse::ok(
        service::set_collaborator(
            db.get_ref(),
            &caller.actor,
            id.into_inner(),
            ProfileSpec {
                team_id: b.team_id,
                skills: b.skills,
                max_hours_day: b.max_hours_day,
                max_hours_week: b.max_hours_week,
                max_hours_month: b.max_hours_month,
            },
        )
        .await?,
    ))
}

/// Public holidays.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(PageParams, HolidayFilters),
    responses((status = 200, description = "Holidays", body = Paginated<HolidayView>), errors::AuthedRead))]
#[get("/holidays")]
pub async fn holidays(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<HolidayFilters>,
) -> Result<Paginated<HolidayView>, AppError> {
    caller.require_planner()?;
    let f = filters.into_inner();
    Ok(
        service::holidays(db.get_ref(), f.site_id, f.from, f.to, page)
            .await?
            .map(HolidayView::from),
    )
}

/// Add a public holiday (one site's, or every site's).
#[utoipa::path(tag = "planning", security(("bearer" = [])), request_body = HolidayBody,
    responses((status = 201, description = "The holiday", body = ApiResponse<HolidayView>), errors::AuthedWrite))]
#[post("/holidays")]
pub async fn add_holiday(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    body: Json<HolidayBody>,
) -> Result<ApiResponse<HolidayView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    let date = crate::text::plan_date("date", b.date)?;
    Ok(ApiResponse::created(
        service::add_holiday(db.get_ref(), &caller.actor, b.site_id, date, b.name)
            .await?
            .into(),
    ))
}

/// Remove a public holiday.
#[utoipa::path(tag = "planning", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Holiday id")),
    responses((status = 200, description = "Removed", body = ApiResponse<Deleted>), errors::AuthedWrite))]
#[delete("/holidays/{id}")]
pub async fn remove_holiday(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<Deleted>, AppError> {
    caller.require_planner()?;
    let id = id.into_inner();
    service::remove_holiday(db.get_ref(), &caller.actor, id).await?;
    Ok(ApiResponse::ok(Deleted { id, deleted: true }))
}
