//! `/api/client/projects`: the company's projects, their comments, files and timeline, and the
//! status changes a client may ask for (approve a delivery, send it back, pause, resume).

pub mod service;

use actix_web::{HttpRequest, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::project::ProjectStatus;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::envelope::serialize_utc;
use shared::extract::{Json, Path};
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, Sort, SortField};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;
use crate::documents::{self, DocumentView, ProjectUploadForm};

/// A project as the list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    #[schema(example = "Rénovation du siège")]
    pub name: String,
    pub description: Option<String>,
    pub status: ProjectStatus,
    /// 0..=100.
    pub progress: i32,
    /// Minor units of `currency`.
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    /// Spent as a share of the budget (one decimal), when there is a budget.
    pub budget_used_percent: Option<f64>,
    #[schema(example = "EUR")]
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Still running past its end date.
    pub overdue: bool,
    pub manager_name: Option<String>,
    pub chantier_id: Option<Uuid>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// A comment on a project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentView {
    pub id: Uuid,
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub content: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// One project with its latest comments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: ProjectView,
    pub nb_comments: u64,
    pub nb_files: u64,
    /// The newest 20 comments, oldest first.
    pub recent_comments: Vec<CommentView>,
    /// What `PUT /status` accepts from here.
    pub allowed_status_changes: Vec<ProjectStatus>,
}

/// One entry of a project's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub id: Uuid,
    /// `created`, `status_changed`, `comment`, `file_uploaded`, `file_deleted` or `milestone`.
    #[schema(example = "status_changed")]
    pub kind: String,
    pub title: String,
    /// The kind's details (`from`/`to`/`reason`, `document_id`, `comment_id`...).
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub actor_name: Option<String>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<Utc>,
}

/// How many projects have a status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCount {
    #[schema(example = "in_progress")]
    pub status: String,
    pub count: u64,
}

/// `GET /projects/stats`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectStats {
    pub total: u64,
    /// Neither completed nor cancelled.
    pub active: u64,
    /// Active, not delivered, past the end date.
    pub overdue: u64,
    /// Every status, zeros included.
    pub by_status: Vec<StatusCount>,
    pub budget_total_cents: i64,
    pub spent_total_cents: i64,
    /// Spent over budget, percent (one decimal; 0 without budgets).
    pub budget_used_percent: f64,
    /// Mean progress of active projects (one decimal).
    pub average_progress: f64,
    pub currency: String,
}

/// Filters of `GET /projects`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilters {
    pub status: Option<ProjectStatus>,
    /// Created on or after this day.
    pub date_from: Option<NaiveDate>,
    /// Created on or before this day.
    pub date_to: Option<NaiveDate>,
    /// In the name or description (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub search: Option<String>,
}

/// Sortable fields of `GET /projects`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectSort {
    CreatedAt,
    Name,
    EndDate,
    Progress,
    Status,
}

impl SortField for ProjectSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("created_at", Self::CreatedAt),
        ("name", Self::Name),
        ("end_date", Self::EndDate),
        ("progress", Self::Progress),
        ("status", Self::Status),
    ];
    const DEFAULT: Self = Self::CreatedAt;
}

/// `POST /projects/{id}/comment`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    #[validate(length(min = 1, max = 5000))]
    #[schema(
        example = "Pouvez-vous confirmer la date de livraison ?",
        min_length = 1,
        max_length = 5000
    )]
    pub content: String,
}

/// `PUT /projects/{id}/status`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatusRequest {
    /// `completed` approves a delivery, `in_progress` sends it back (with a reason) or resumes
    /// a paused project, `on_hold` pauses it.
    pub status: ProjectStatus,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

/// The company's projects, filtered, sorted and paginated.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, Sort<ProjectSort>, ProjectFilters),
    responses((status = 200, description = "A page of projects", body = Paginated<ProjectView>), errors::AuthedRead)
)]
#[get("/projects")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    page: PageParams,
    sort: Sort<ProjectSort>,
    filters: Filters<ProjectFilters>,
) -> Result<Paginated<ProjectView>, AppError> {
    service::list(
        db.get_ref(),
        state.inline_reads.as_deref(),
        caller.company_id,
        &filters.into_inner(),
        page,
        sort,
        state.today(),
    )
    .await
}

/// Counts by status, budget used and progress over the company's projects.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    responses((status = 200, description = "Project statistics", body = ApiResponse<ProjectStats>), errors::AuthedRead)
)]
#[get("/projects/stats")]
pub async fn stats(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
) -> Result<ApiResponse<ProjectStats>, AppError> {
    Ok(ApiResponse::ok(
        service::stats(
            db.get_ref(),
            caller.company_id,
            state.today(),
            &state.currency,
        )
        .await?,
    ))
}

/// One project with its latest comments and what the client may change its status to.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The project", body = ApiResponse<ProjectDetail>), errors::AuthedRead)
)]
#[get("/projects/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<ProjectDetail>, AppError> {
    Ok(ApiResponse::ok(
        service::detail(
            db.get_ref(),
            caller.company_id,
            id.into_inner(),
            state.today(),
        )
        .await?,
    ))
}

/// Comment on a project (on its timeline; the company's other users are notified).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), IdempotencyKeyHeader),
    request_body = CommentRequest,
    responses((status = 201, description = "The comment", body = ApiResponse<CommentView>), errors::AuthedWrite)
)]
#[post("/projects/{id}/comment", wrap = "Idempotency")]
pub async fn comment(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
    body: Json<CommentRequest>,
) -> Result<ApiResponse<CommentView>, AppError> {
    let comment = service::comment(
        db.get_ref(),
        &caller,
        id.into_inner(),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    Ok(ApiResponse::created(comment))
}

/// The project's files, newest first.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), PageParams),
    responses((status = 200, description = "A page of files", body = Paginated<DocumentView>), errors::AuthedRead)
)]
#[get("/projects/{id}/files")]
pub async fn files(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    id: Path<Uuid>,
    page: PageParams,
) -> Result<Paginated<DocumentView>, AppError> {
    let project = service::find(db.get_ref(), caller.company_id, id.into_inner()).await?;
    documents::service::of_project(db.get_ref(), &caller, project.id, page).await
}

/// Upload a file to a project (`multipart/form-data`: `file`, optional `category` and
/// `description`; 10 MiB at most). It is also listed in `/documents`.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), IdempotencyKeyHeader),
    request_body(content = ProjectUploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored file", body = ApiResponse<DocumentView>), errors::AuthedWrite)
)]
#[post("/projects/{id}/upload", wrap = "Idempotency")]
pub async fn upload(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
    payload: web::Payload,
) -> Result<ApiResponse<DocumentView>, AppError> {
    // Which project first: nothing is read for a project that is not the caller's.
    let project = service::find(db.get_ref(), caller.company_id, id.into_inner()).await?;
    let form = documents::read_form(&req, payload, false).await?;
    let view =
        documents::service::store(db.get_ref(), &state, &caller, form, Some(project.id)).await?;
    Ok(ApiResponse::created(view))
}

/// The project's timeline (creation, status changes, comments, uploads, milestones), oldest
/// first.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), PageParams),
    responses((status = 200, description = "A page of events", body = Paginated<TimelineEvent>), errors::AuthedRead)
)]
#[get("/projects/{id}/timeline")]
pub async fn timeline(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    id: Path<Uuid>,
    page: PageParams,
) -> Result<Paginated<TimelineEvent>, AppError> {
    service::timeline(db.get_ref(), caller.company_id, id.into_inner(), page).await
}

/// Ask for a status change: approve a delivery (`completed`), send it back (`in_progress`
/// with a `reason`), pause (`on_hold`) or resume a paused project. Anything else is 409.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = ChangeStatusRequest,
    responses((status = 200, description = "The project", body = ApiResponse<ProjectView>), errors::AuthedWrite)
)]
#[put("/projects/{id}/status")]
pub async fn change_status(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
    body: Json<ChangeStatusRequest>,
) -> Result<ApiResponse<ProjectView>, AppError> {
    Ok(ApiResponse::ok(
        service::change_status(
            db.get_ref(),
            &caller,
            id.into_inner(),
            body.into_inner(),
            state.clock.now(),
            state.today(),
        )
        .await?,
    ))
}
