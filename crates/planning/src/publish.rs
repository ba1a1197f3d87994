//! `POST /api/v1/planning/publish`: publish a site's draft shifts over a period.

pub mod service;

use actix_web::{post, web};
use chrono::NaiveDate;
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
use service::Published;

/// Which drafts to publish.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    pub site_id: Uuid,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive; at most 92 days after `from`).
    pub to: NaiveDate,
}

/// Publish the site's draft shifts dated `from..=to` in one transaction. While any hard
/// conflict remains the answer is 409 with `details.conflicts` and nothing changes. Writes one
/// `publish_shift` audit row per shift and one `publish_planning`, and tells each collaborator
/// on them (notification and e-mail).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    request_body = PublishBody,
    responses((status = 200, description = "What was published", body = ApiResponse<Published>), errors::AuthedWrite)
)]
#[post("/publish")]
pub async fn publish(
    db: web::Data<DatabaseConnection>,
    state: web::Data<PlanningState>,
    caller: PlanningUser,
    body: Json<PublishBody>,
) -> Result<ApiResponse<Published>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    crate::text::date_range(b.from, b.to, 92)?;
    Ok(ApiResponse::ok(
        service::publish(db.get_ref(), &state, &caller.actor, b.site_id, b.from, b.to).await?,
    ))
}
