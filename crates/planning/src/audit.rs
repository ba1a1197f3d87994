//! `GET /api/v1/planning/audit`: every planning change (who, what, before, after, when).

pub mod service;

use actix_web::{get, web};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams};
use shared::{AppError, Paginated};
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::caller::PlanningUser;
use service::{ChangeQuery, PlanningChange};

/// Filters of `GET /audit`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    /// `create_shift`, `update_shift`, `cancel_shift`, `delete_shift`, `publish_shift`,
    /// `assign_collaborator`, `update_assignment`, `delete_assignment`, `publish_planning`, ...
    #[validate(length(min = 1, max = 64))]
    pub action: Option<String>,
    /// `planning_shift`, `planning_assignment`, `planning`, ...
    #[validate(length(min = 1, max = 64))]
    pub entity: Option<String>,
    #[validate(length(min = 1, max = 64))]
    pub entity_id: Option<String>,
    pub user_id: Option<Uuid>,
    /// From this UTC day.
    pub from: Option<NaiveDate>,
    /// Up to this UTC day (inclusive).
    pub to: Option<NaiveDate>,
}

/// Planning changes, newest first (planners).
#[utoipa::path(
    tag = "planning",
    security(("bearer" = [])),
    params(PageParams, AuditFilters),
    responses((status = 200, description = "A page of changes", body = Paginated<PlanningChange>), errors::AuthedRead)
)]
#[get("/audit")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: PlanningUser,
    page: PageParams,
    filters: Filters<AuditFilters>,
) -> Result<Paginated<PlanningChange>, AppError> {
    caller.require_planner()?;
    let f = filters.into_inner();
    if let Some(from) = f.from {
        crate::text::plan_date("from", from)?;
    }
    if let Some(to) = f.to {
        crate::text::plan_date("to", to)?;
    }
    if let (Some(from), Some(to)) = (f.from, f.to) {
        crate::text::date_range(from, to, 36_600)?;
    }
    service::list(
        db.get_ref(),
        ChangeQuery {
            action: f.action,
            entity: f.entity,
            entity_id: f.entity_id,
            user_id: f.user_id,
            from: f.from,
            to: f.to,
        },
        page,
    )
    .await
}
