//! The planning_change entries: audit rows of planning entities.

use chrono::{DateTime, NaiveDate, Utc};
use entity::audit_log;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::Value;
use shared::envelope::serialize_utc;
use shared::input::{day_end, day_start};
use shared::pagination::{PageParams, fetch_page};
use shared::{AppError, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;

/// The audit entities of the planning.
pub const ENTITIES: &[&str] = &[
    "planning",
    "planning_shift",
    "planning_assignment",
    "planning_template",
    "planning_availability",
    "planning_leave",
    "planning_holiday",
    "planning_skill",
    "planning_team",
    "planning_job_role",
    "planning_site",
    "planning_collaborator",
    "planning_rule",
];

/// One planning change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanningChange {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    #[schema(example = "create_shift")]
    pub action: String,
    #[schema(example = "planning_shift")]
    pub entity: String,
    pub entity_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
}

/// Filters.
#[derive(Debug, Clone, Default)]
pub struct ChangeQuery {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub user_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Planning changes, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &DatabaseConnection,
    q: ChangeQuery,
    page: PageParams,
) -> Result<Paginated<PlanningChange>, AppError> {
    let mut query =
        audit_log::Entity::find().filter(audit_log::Column::Entity.is_in(ENTITIES.to_vec()));
    if let Some(action) = q.action {
        query = query.filter(audit_log::Column::Action.eq(action));
    }
    if let Some(entity) = q.entity {
        query = query.filter(audit_log::Column::Entity.eq(entity));
    }
    if let Some(id) = q.entity_id {
        query = query.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(user) = q.user_id {
        query = query.filter(audit_log::Column::UserId.eq(user));
    }
    if let Some(from) = q.from {
        query = query.filter(audit_log::Column::Timestamp.gte(day_start(from)));
    }
    if let Some(to) = q.to {
        query = query.filter(audit_log::Column::Timestamp.lt(day_end(to)));
    }
    let query = query
        .order_by_desc(audit_log::Column::Timestamp)
        .order_by_desc(audit_log::Column::Id);
    Ok(fetch_page(db, query, page).await?.map(|a| PlanningChange {
        id: a.id,
        user_id: a.user_id,
        action: a.action,
        entity: a.entity,
        entity_id: a.entity_id,
        before: a.before,
        after: a.after,
        timestamp: a.timestamp,
    }))
}
