//! Assignments: one collaborator on one shift. Creating or reactivating one is checked by the
//! engine against the stored plan; the collaborator's row is locked meanwhile (PostgreSQL) so
//! two planners cannot double-book one person at once.

use chrono::{DateTime, NaiveDate, Utc};
use entity::planning::{AssignmentSource, AssignmentStatus, ShiftStatus, assignment, shift};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use shared::audit::{self, Actor, AuditEntry};
use shared::notifications::{Notice, notify_users};
use shared::pagination::{PageParams, fetch_page};
use shared::{AppError, Paginated};
use uuid::Uuid;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::shifts::service::names;
use crate::store::{self, Scope};
use crate::views::{AssignmentView, AssignmentWrite, refuse_hard};

pub const ENTITY: &str = "planning_assignment";

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct AssignmentQuery {
    pub shift_id: Option<Uuid>,
    pub collaborator_id: Option<Uuid>,
    pub status: Option<AssignmentStatus>,
    pub source: Option<AssignmentSource>,
    pub site_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

async fn view(db: &impl ConnectionTrait, a: assignment::Model) -> Result<AssignmentView, AppError> {
    let name = names(db, vec![a.user_id]).await?.remove(&a.user_id);
    Ok(AssignmentView::new(a, name))
}

/// A page of assignments (collaborators: their own, on shifts that are not drafts).
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &DatabaseConnection,
    caller: &PlanningUser,
    filters: AssignmentQuery,
    page: PageParams,
) -> Result<Paginated<AssignmentView>, AppError> {
    let mut query = assignment::Entity::find();
    if let Some(me) = caller.reader_scope() {
        query = query.filter(assignment::Column::UserId.eq(me)).filter(
            assignment::Column::ShiftId.in_subquery(
                Query::select()
                    .column(shift::Column::Id)
                    .from(shift::Entity)
                    .and_where(shift::Column::Status.ne(ShiftStatus::Draft))
                    .to_owned(),
            ),
        );
    }
    if let Some(id) = filters.shift_id {
        query = query.filter(assignment::Column::ShiftId.eq(id));
    }
    if let Some(id) = filters.collaborator_id {
        query = query.filter(assignment::Column::UserId.eq(id));
    }
    if let Some(status) = filters.status {
        query = query.filter(assignment::Column::Status.eq(status));
    }
    if let Some(source) = filters.source {
        query = query.filter(assignment::Column::Source.eq(source));
    }
    if filters.site_id.is_some() || filters.from.is_some() || filters.to.is_some() {
        let mut sub = Query::select();
        sub.column(shift::Column::Id).from(shift::Entity);
        if let Some(site) = filters.site_id {
            sub.and_where(shift::Column::SiteId.eq(site));
        }
        if let Some(from) = filters.from {
            sub.and_where(shift::Column::LocalDate.gte(from));
        }
        if let Some(to) = filters.to {
            sub.and_where(shift::Column::LocalDate.lte(to));
        }
        query = query.filter(assignment::Column::ShiftId.in_subquery(sub.to_owned()));
    }
    let query = query
        .order_by_asc(assignment::Column::CreatedAt)
        .order_by_asc(assignment::Column::Id);
    let page = fetch_page(db, query, page).await?;
    let who = names(db, page.data.iter().map(|a| a.user_id).collect()).await?;
    Ok(page.map(|a| {
        let name = who.get(&a.user_id).cloned();
        AssignmentView::new(a, name)
    }))
}

/// An assignment the caller may read.
///
/// # Errors
/// 404 when it does not exist or is another collaborator's.
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &PlanningUser,
    id: Uuid,
) -> Result<assignment::Model, AppError> {
    let found = assignment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such assignment"))?;
    if let Some(me) = caller.reader_scope() {
        let draft = shift::Entity::find_by_id(found.shift_id)
            .one(db)
            .await?
            .is_none_or(|s| s.status == ShiftStatus::Draft);
        if found.user_id != me || draft {
            return Err(AppError::not_found("No such assignment"));
        }
    }
    Ok(found)
}

/// An assignment as a view.
///
/// # Errors
/// Database errors.
pub async fn show(
    db: &impl ConnectionTrait,
    a: assignment::Model,
) -> Result<AssignmentView, AppError> {
    view(db, a).await
}

/// The conflicts of `user_id` on `shift` against the stored plan (as if assigned).
///
/// # Errors
/// Database errors.
pub async fn conflicts_of(
    db: &impl ConnectionTrait,
    state: &PlanningState,
    shift: &shift::Model,
    user_id: Uuid,
) -> Result<Vec<planning_engine::Conflict>, AppError> {
    let mut scope = Scope::around(shift.starts_at, shift.ends_at);
    scope.sites = vec![shift.site_id];
    scope.teams = shift.team_id.into_iter().collect();
    scope.users = vec![user_id];
    let mut plan = store::load(db, &scope, state.default_tz).await?;
    plan.put_shift(store::to_engine(shift));
    Ok(plan.evaluate(shift.id, user_id))
}

async fn live_shift(txn: &impl ConnectionTrait, id: Uuid) -> Result<shift::Model, AppError> {
    let found = shift::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::invalid("shift_id", "no such shift"))?;
    if found.status == ShiftStatus::Cancelled {
        return Err(AppError::conflict("The shift is cancelled"));
    }
    Ok(found)
}

/// Tell a collaborator they no longer hold a published shift.
async fn tell_removed(
    txn: &impl ConnectionTrait,
    shift_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some(shift) = shift::Entity::find_by_id(shift_id).one(txn).await?
        && shift.status == ShiftStatus::Published
    {
        notify_users(
            txn,
            &[user_id],
            &Notice::new("shift_unassigned", "You no longer work a shift").body(format!(
                "{} {}–{}",
                shift.local_date, shift.start_time, shift.end_time
            )),
            now,
        )
        .await?;
    }
    Ok(())
}

async fn tell_assigned(
    txn: &impl ConnectionTrait,
    shift: &shift::Model,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if shift.status == ShiftStatus::Published {
        notify_users(
            txn,
            &[user_id],
            &Notice::new("shift_assigned", "You have a new shift").body(format!(
                "{} {}–{}",
                shift.local_date, shift.start_time, shift.end_time
            )),
            now,
        )
        .await?;
    }
    Ok(())
}

/// What a new assignment is.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub shift_id: Uuid,
    pub user_id: Uuid,
    pub status: AssignmentStatus,
    pub note: Option<String>,
}

/// Assign a collaborator to a shift (manual). A hard conflict answers 409 and saves nothing.
///
/// # Errors
/// 409 (hard conflict, cancelled shift, already assigned), 422 (no such shift); database errors.
pub async fn create(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    new: NewAssignment,
) -> Result<AssignmentWrite, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let site = live_shift(&txn, new.shift_id).await?.site_id;
    store::lock(&txn, &[new.user_id], &[site], &[new.shift_id]).await?;
    let shift = live_shift(&txn, new.shift_id).await?;
    if let Some(existing) = assignment::Entity::find()
        .filter(assignment::Column::ShiftId.eq(new.shift_id))
        .filter(assignment::Column::UserId.eq(new.user_id))
        .one(&txn)
        .await?
    {
        return Err(AppError::conflict_with(
            "The collaborator already has an assignment on this shift; change it with PUT",
            serde_json::json!({ "assignment_id": existing.id, "status": existing.status }),
        ));
    }
    let warnings = refuse_hard(conflicts_of(&txn, state, &shift, new.user_id).await?)?;
    let saved = assignment::Model {
        id: Uuid::now_v7(),
        shift_id: new.shift_id,
        user_id: new.user_id,
        status: new.status,
        source: AssignmentSource::Manual,
        score: None,
        note: new.note,
        created_by: actor.user_id,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    tell_assigned(&txn, &shift, new.user_id, now).await?;
    let shown = view(&txn, saved).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("assign_collaborator", ENTITY)
            .entity_id(shown.id)
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(AssignmentWrite {
        assignment: shown,
        conflicts: warnings,
    })
}

/// Which status changes are allowed.
#[must_use]
pub fn allowed(from: AssignmentStatus, to: AssignmentStatus) -> bool {
    use AssignmentStatus::{Cancelled, Confirmed, Declined, Proposed};
    matches!(
        (from, to),
        (Proposed, Confirmed | Declined | Cancelled)
            | (Confirmed, Declined | Cancelled)
            | (Declined | Cancelled, Proposed | Confirmed)
    ) || from == to
}

/// Change an assignment's status or note. Bringing a declined or cancelled one back is
/// checked like a new one.
///
/// # Errors
/// 404, 409 (move not allowed, hard conflict, cancelled shift); database errors.
pub async fn update(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    id: Uuid,
    status: Option<AssignmentStatus>,
    note: Option<Option<String>>,
) -> Result<AssignmentWrite, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let current = assignment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such assignment"))?;
    if let Some(s) = shift::Entity::find_by_id(current.shift_id)
        .one(&txn)
        .await?
    {
        store::lock(&txn, &[current.user_id], &[s.site_id], &[s.id]).await?;
    }
    let current = assignment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such assignment"))?;
    let before = view(&txn, current.clone()).await?;
    let mut warnings = Vec::new();
    if let Some(to) = status {
        if !allowed(current.status, to) {
            return Err(AppError::conflict_with(
                format!(
                    "An assignment cannot go from {:?} to {:?}",
                    current.status, to
                )
                .to_lowercase(),
                serde_json::json!({ "status": current.status }),
            ));
        }
        if to.is_active() && !current.status.is_active() {
            let shift = live_shift(&txn, current.shift_id).await?;
            warnings = refuse_hard(conflicts_of(&txn, state, &shift, current.user_id).await?)?;
            tell_assigned(&txn, &shift, current.user_id, now).await?;
        }
        if !to.is_active() && current.status.is_active() {
            tell_removed(&txn, current.shift_id, current.user_id, now).await?;
        }
    }
    let mut active = current.into_active_model();
    if let Some(to) = status {
        active.status = Set(to);
    }
    if let Some(note) = note {
        active.note = Set(note);
    }
    active.updated_at = Set(now);
    let saved = active.update(&txn).await?;
    let shown = view(&txn, saved).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("update_assignment", ENTITY)
            .entity_id(id)
            .before(&before)
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(AssignmentWrite {
        assignment: shown,
        conflicts: warnings,
    })
}

/// Delete an assignment.
///
/// # Errors
/// 404; database errors.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let current = assignment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such assignment"))?;
    if current.status.is_active() {
        tell_removed(&txn, current.shift_id, current.user_id, chrono::Utc::now()).await?;
    }
    let before = view(&txn, current).await?;
    assignment::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("delete_assignment", ENTITY)
            .entity_id(id)
            .before(&before),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
