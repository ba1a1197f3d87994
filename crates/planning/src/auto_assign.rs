//! `/api/v1/planning/auto-assign`: start an auto-assign run on the job queue, follow it, cancel
//! it (the best plan found so far is kept).

pub mod service;

use std::sync::Arc;

use actix_web::{delete, get, post, web};
use chrono::NaiveDate;
use entity::job::JobStatus;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::extract::{Json, Path};
use shared::jobs::{self, JobContext, JobError, JobHandler, JobLogView, NewJob};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::PlanningState;
use crate::caller::PlanningUser;
use service::AutoAssignPayload;

pub const JOB_KIND: &str = "planning.auto_assign";

/// The queue's handler.
pub struct AutoAssignJob {
    pub state: Arc<PlanningState>,
}

#[async_trait::async_trait]
impl JobHandler for AutoAssignJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        service::run(ctx, &self.state).await
    }
}

/// What to fill.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoAssignBody {
    pub site_id: Uuid,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive; at most 62 days after `from`).
    pub to: NaiveDate,
    /// Longest the search may take (default 20 s).
    #[validate(range(min = 1, max = 120))]
    pub time_budget_seconds: Option<u64>,
}

/// A run, as `status` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AutoAssignStatus {
    pub job_id: Uuid,
    /// queued | running | succeeded | failed | cancelled
    #[schema(example = "running")]
    pub state: String,
    /// 0..=100
    pub progress: i32,
    pub progress_message: Option<String>,
    /// Filled seats / required seats (when known).
    pub coverage: Option<f64>,
    pub filled: Option<u64>,
    pub required: Option<u64>,
    /// Proposals written.
    pub proposed: Option<u64>,
    /// Conflicts left on the site's shifts after the run (at most 200).
    #[schema(value_type = Vec<Object>)]
    pub remaining_conflicts: Vec<Value>,
    pub log: Vec<JobLogView>,
    pub elapsed_ms: Option<i64>,
    pub last_error: Option<String>,
    /// The whole result once finished.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn status_of(view: jobs::JobView) -> AutoAssignStatus {
    let result = view.result.clone();
    let number = |key: &str| {
        result
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(Value::as_u64)
    };
    AutoAssignStatus {
        job_id: view.id,
        state: view.status,
        progress: view.progress,
        progress_message: view.progress_message,
        coverage: result
            .as_ref()
            .and_then(|r| r.get("coverage"))
            .and_then(Value::as_f64),
        filled: number("filled"),
        required: number("required"),
        proposed: number("proposed"),
        remaining_conflicts: result
            .as_ref()
            .and_then(|r| r.get("remaining_conflicts"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        log: view.logs,
        elapsed_ms: view.elapsed_ms,
        last_error: view.last_error,
        result,
        created_at: view.created_at,
        finished_at: view.finished_at,
    }
}

async fn find(db: &DatabaseConnection, id: Uuid) -> Result<jobs::JobView, AppError> {
    jobs::status(db, id)
        .await?
        .filter(|j| j.kind == JOB_KIND)
        .ok_or_else(|| AppError::not_found("No such auto-assign run"))
}

/// Start auto-assign for a site's shifts over a period: open seats get `proposed` assignments
/// with a score, never breaking a hard rule and never moving existing assignments.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = AutoAssignBody,
    responses((status = 202, description = "Queued", body = ApiResponse<AutoAssignStatus>), errors::AuthedWrite)
)]
#[post("/auto-assign/start")]
pub async fn start(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    body: Json<AutoAssignBody>,
) -> Result<ApiResponse<AutoAssignStatus>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    crate::text::date_range(b.from, b.to, 62)?;
    crate::resources::service::check_site(db.get_ref(), "site_id", b.site_id).await?;
    let payload = AutoAssignPayload {
        site_id: b.site_id,
        from: b.from,
        to: b.to,
        requested_by: Some(caller.user_id),
        time_budget_seconds: b
            .time_budget_seconds
            .unwrap_or(state.auto_assign_budget.as_secs()),
    };
    let job = jobs::enqueue(
        db.get_ref(),
        NewJob::new(
            JOB_KIND,
            serde_json::to_value(&payload).unwrap_or(Value::Null),
        )
        .max_attempts(3)
        .created_by(Some(caller.user_id)),
    )
    .await?;
    Ok(ApiResponse::accepted(status_of(
        find(db.get_ref(), job.id).await?,
    )))
}

/// A run's state, progress, coverage, remaining conflicts, log and elapsed time.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("job_id" = Uuid, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = ApiResponse<AutoAssignStatus>), errors::AuthedRead)
)]
#[get("/auto-assign/status/{job_id}")]
pub async fn status(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    job_id: Path<Uuid>,
) -> Result<ApiResponse<AutoAssignStatus>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::ok(status_of(
        find(db.get_ref(), job_id.into_inner()).await?,
    )))
}

/// `DELETE /auto-assign/{job_id}` does not take `/auto-assign/start`: another method there
/// answers 405 with its `Allow`.
#[must_use]
pub fn names_a_run(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    let last = ctx.head().uri.path().rsplit('/').next().unwrap_or_default();
    last != "start"
}

/// Cancel a run: a queued run never starts; a running one stops and keeps the best plan found
/// so far.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("job_id" = Uuid, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = ApiResponse<AutoAssignStatus>), errors::AuthedWrite)
)]
#[delete("/auto-assign/{job_id}", guard = "crate::auto_assign::names_a_run")]
pub async fn cancel(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    job_id: Path<Uuid>,
) -> Result<ApiResponse<AutoAssignStatus>, AppError> {
    caller.require_planner()?;
    let id = job_id.into_inner();
    let current = find(db.get_ref(), id).await?;
    if matches!(
        current.status.as_str(),
        s if s == JobStatus::Succeeded.as_str() || s == JobStatus::Failed.as_str() || s == JobStatus::Cancelled.as_str()
    ) {
        return Err(AppError::conflict_with(
            "The run has already finished",
            serde_json::json!({ "state": current.status }),
        ));
    }
    jobs::cancel(db.get_ref(), id).await?;
    Ok(ApiResponse::ok(status_of(find(db.get_ref(), id).await?)))
}
