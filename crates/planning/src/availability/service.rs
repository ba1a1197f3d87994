//! Availability windows (declared by collaborators or planners), leaves (planners), and the
//! read-out of a collaborator's or a team's availability, leaves and shifts over a period.

use chrono::{DateTime, Utc};
use entity::planning::{
    AssignmentStatus, ShiftStatus, assignment, availability, collaborator, leave, shift,
};
use entity::{Role, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use shared::AppError;
use shared::audit::{self, Actor, AuditEntry};
use shared::envelope::serialize_utc;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowView {
    pub id: Uuid,
    pub collaborator_id: Uuid,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

impl From<availability::Model> for WindowView {
    fn from(a: availability::Model) -> Self {
        Self {
            id: a.id,
            collaborator_id: a.user_id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            note: a.note,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaveView {
    pub id: Uuid,
    pub collaborator_id: Uuid,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// `conges` | `maladie` | `formation` | `autre`
    pub kind: String,
    pub reason: Option<String>,
}

impl From<leave::Model> for LeaveView {
    fn from(l: leave::Model) -> Self {
        Self {
            id: l.id,
            collaborator_id: l.user_id,
            starts_at: l.starts_at,
            ends_at: l.ends_at,
            kind: l.kind,
            reason: l.reason,
        }
    }
}

/// A shift a collaborator is on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusyView {
    pub shift_id: Uuid,
    pub assignment_id: Uuid,
    pub assignment_status: AssignmentStatus,
    pub shift_status: ShiftStatus,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub worked_minutes: i64,
}

/// One collaborator over the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollaboratorAvailability {
    pub collaborator_id: Uuid,
    pub full_name: String,
    /// Declared windows; none declared means available whenever not on leave or working.
    pub windows: Vec<WindowView>,
    pub leaves: Vec<LeaveView>,
    /// Active assignments (proposed, confirmed) on shifts not cancelled.
    pub shifts: Vec<BusyView>,
    pub worked_hours: f64,
}

/// Whose availability to read.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    One(Uuid),
    Team(Uuid),
}

/// Availability, leaves and shifts of a collaborator or a team's members in `[from, to)`.
///
/// # Errors
/// 404 for an unknown collaborator or team; database errors.
pub async fn read(
    db: &DatabaseConnection,
    who: Who,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hide_drafts: bool,
) -> Result<Vec<CollaboratorAvailability>, AppError> {
    let people: Vec<user::Model> = match who {
        Who::One(id) => vec![
            user::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|u| u.role == Role::Prestataire)
                .ok_or_else(|| AppError::not_found("No such collaborator"))?,
        ],
        Who::Team(team) => {
            if entity::planning::team::Entity::find_by_id(team)
                .one(db)
                .await?
                .is_none()
            {
                return Err(AppError::not_found("No such team"));
            }
            let ids: Vec<Uuid> = collaborator::Entity::find()
                .filter(collaborator::Column::TeamId.eq(team))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.user_id)
                .collect();
            user::Entity::find()
                .filter(user::Column::Id.is_in(ids))
                .order_by_asc(user::Column::FullName)
                .all(db)
                .await?
        }
    };
    let ids: Vec<Uuid> = people.iter().map(|u| u.id).collect();
    let windows = availability::Entity::find()
        .filter(availability::Column::UserId.is_in(ids.clone()))
        .filter(availability::Column::StartsAt.lt(to))
        .filter(availability::Column::EndsAt.gt(from))
        .order_by_asc(availability::Column::StartsAt)
        .all(db)
        .await?;
    let leaves = leave::Entity::find()
        .filter(leave::Column::UserId.is_in(ids.clone()))
        .filter(leave::Column::StartsAt.lt(to))
        .filter(leave::Column::EndsAt.gt(from))
        .order_by_asc(leave::Column::StartsAt)
        .all(db)
        .await?;
    let mut busy = busy(db, ids, from, to).await?;
    if hide_drafts {
        // A collaborator sees a shift once it is published.
        busy.retain(|(_, s)| s.status != ShiftStatus::Draft);
    }
    Ok(people
        .into_iter()
        .map(|u| {
            let shifts: Vec<BusyView> = busy
                .iter()
                .filter(|(a, _)| a.user_id == u.id)
                .map(|(a, s)| BusyView {
                    shift_id: s.id,
                    assignment_id: a.id,
                    assignment_status: a.status,
                    shift_status: s.status,
                    starts_at: s.starts_at,
                    ends_at: s.ends_at,
                    worked_minutes: crate::store::to_engine(s).worked_minutes(),
                })
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let worked_hours = (shifts.iter().map(|s| s.worked_minutes).sum::<i64>() as f64 / 60.0
                * 100.0)
                .round()
                / 100.0;
            CollaboratorAvailability {
                collaborator_id: u.id,
                full_name: u.full_name,
                windows: windows
                    .iter()
                    .filter(|w| w.user_id == u.id)
                    .cloned()
                    .map(WindowView::from)
                    .collect(),
                leaves: leaves
                    .iter()
                    .filter(|l| l.user_id == u.id)
                    .cloned()
                    .map(LeaveView::from)
                    .collect(),
                shifts,
                worked_hours,
            }
        })
        .collect())
}

/// Active assignments of these people on shifts (not cancelled) overlapping `[from, to)`,
/// by start.
async fn busy(
    db: &impl ConnectionTrait,
    users: Vec<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(assignment::Model, shift::Model)>, AppError> {
    let shifts: std::collections::HashMap<Uuid, shift::Model> = shift::Entity::find()
        .filter(shift::Column::Status.ne(ShiftStatus::Cancelled))
        .filter(shift::Column::StartsAt.lt(to))
        .filter(shift::Column::EndsAt.gt(from))
        .filter(
            shift::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(assignment::Column::ShiftId)
                    .from(assignment::Entity)
                    .and_where(assignment::Column::UserId.is_in(users.clone()))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut out: Vec<(assignment::Model, shift::Model)> = assignment::Entity::find()
        .filter(assignment::Column::UserId.is_in(users))
        .filter(assignment::Column::ShiftId.is_in(shifts.keys().copied().collect::<Vec<_>>()))
        .filter(
            assignment::Column::Status
                .is_in([AssignmentStatus::Proposed, AssignmentStatus::Confirmed]),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| {
            let s = shifts.get(&a.shift_id)?.clone();
            Some((a, s))
        })
        .collect();
    out.sort_by_key(|(a, s)| (s.starts_at, a.id));
    Ok(out)
}

async fn prestataire(db: &impl ConnectionTrait, id: Uuid) -> Result<(), AppError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| u.role == Role::Prestataire)
        .ok_or_else(|| {
            AppError::invalid("collaborator_id", "no such collaborator (prestataire user)")
        })?;
    Ok(())
}

/// Declare an availability window.
///
/// # Errors
/// 422 for someone who is not a collaborator; database errors.
pub async fn declare(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    note: Option<String>,
) -> Result<WindowView, AppError> {
    let txn = shared::db::begin_write(db).await?;
    prestataire(&txn, user_id).await?;
    let saved = availability::Model {
        id: Uuid::now_v7(),
        user_id,
        starts_at,
        ends_at,
        note,
        created_at: Utc::now(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    let view = WindowView::from(saved);
    audit::record(
        &txn,
        actor,
        AuditEntry::new("declare_availability", "planning_availability")
            .entity_id(view.id)
            .after(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Remove a window (`owner`: only that collaborator's).
///
/// # Errors
/// 404; database errors.
pub async fn remove_window(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    owner: Option<Uuid>,
) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let found = availability::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|w| owner.is_none_or(|o| o == w.user_id))
        .ok_or_else(|| AppError::not_found("No such availability window"))?;
    availability::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("remove_availability", "planning_availability")
            .entity_id(id)
            .before(&WindowView::from(found)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Leaves of one collaborator, or everyone's, overlapping `[from, to)`.
///
/// # Errors
/// Database errors.
pub async fn leaves(
    db: &DatabaseConnection,
    user_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<LeaveView>, AppError> {
    let mut query = leave::Entity::find()
        .filter(leave::Column::StartsAt.lt(to))
        .filter(leave::Column::EndsAt.gt(from));
    if let Some(user) = user_id {
        query = query.filter(leave::Column::UserId.eq(user));
    }
    Ok(query
        .order_by_asc(leave::Column::StartsAt)
        .order_by_asc(leave::Column::Id)
        .limit(1_000)
        .all(db)
        .await?
        .into_iter()
        .map(LeaveView::from)
        .collect())
}

/// A leave and the active assignments it now collides with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaveWrite {
    pub leave: LeaveView,
    /// Shifts the collaborator is still assigned to during the leave: reassign them.
    pub affected_shifts: Vec<Uuid>,
}

/// Record a leave.
///
/// # Errors
/// 422 for someone who is not a collaborator; database errors.
pub async fn add_leave(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    kind: String,
    reason: Option<String>,
) -> Result<LeaveWrite, AppError> {
    let txn = shared::db::begin_write(db).await?;
    prestataire(&txn, user_id).await?;
    let saved = leave::Model {
        id: Uuid::now_v7(),
        user_id,
        starts_at,
        ends_at,
        kind,
        reason,
        created_by: actor.user_id,
        created_at: Utc::now(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    let affected: Vec<Uuid> = busy(&txn, vec![user_id], starts_at, ends_at)
        .await?
        .into_iter()
        .map(|(_, s)| s.id)
        .collect();
    let view = LeaveView::from(saved);
    audit::record(
        &txn,
        actor,
        AuditEntry::new("create_leave", "planning_leave")
            .entity_id(view.id)
            .after(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(LeaveWrite {
        leave: view,
        affected_shifts: affected,
    })
}

/// Remove a leave.
///
/// # Errors
/// 404; database errors.
pub async fn remove_leave(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let found = leave::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such leave"))?;
    leave::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("delete_leave", "planning_leave")
            .entity_id(id)
            .before(&LeaveView::from(found)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
