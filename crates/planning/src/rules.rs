//! `/api/v1/planning/rules`: the HR and conflict rules in force.

pub mod service;

use actix_web::{get, put, web};
use planning_engine::Severity;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::{Map, Value};
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use validator::Validate;

use crate::caller::PlanningUser;
use service::RuleView;

/// Every rule: severity (hard blocks writes, soft warns), whether it is on, its parameters.
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    responses((status = 200, description = "The rules", body = ApiResponse<Vec<RuleView>>), errors::AuthedRead)
)]
#[get("/rules")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
) -> Result<ApiResponse<Vec<RuleView>>, AppError> {
    caller.require_planner()?;
    Ok(ApiResponse::ok(service::list(db.get_ref()).await?))
}

/// `hard` | `soft`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeverityBody {
    Hard,
    Soft,
}

/// Changes to a rule (absent: unchanged).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleUpdate {
    pub enabled: Option<bool>,
    pub severity: Option<SeverityBody>,
    /// Numeric parameters by name (see each rule's `params`).
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

/// Change a rule's activation, severity or parameters (planners).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Rule code, e.g. min_rest")),
    request_body = RuleUpdate,
    responses((status = 200, description = "The rule", body = ApiResponse<RuleView>), errors::AuthedWrite)
)]
#[put("/rules/{code}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    code: Path<String>,
    body: Json<RuleUpdate>,
) -> Result<ApiResponse<RuleView>, AppError> {
    caller.require_planner()?;
    let b = body.into_inner();
    Ok(ApiResponse::ok(
        service::update(
            db.get_ref(),
            &caller.actor,
            &code.into_inner(),
            b.enabled,
            b.severity.map(|s| match s {
                SeverityBody::Hard => Severity::Hard,
                SeverityBody::Soft => Severity::Soft,
            }),
            b.params,
        )
        .await?,
    ))
}
