//! Shifts: reading (planners everything, collaborators their own published or cancelled
//! shifts), creating and changing them through the engine, cancelling and deleting.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entity::planning::{AssignmentStatus, ShiftStatus, assignment, shift};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use shared::audit::{self, Actor, AuditEntry};
use shared::notifications::{Notice, notify_users};
use shared::pagination::{PageParams, fetch_page};
use shared::{AppError, Paginated};
use uuid::Uuid;

use crate::PlanningState;
use crate::caller::PlanningUser;
use crate::store::{self, Scope};
use crate::views::{AssignmentView, ShiftView, ShiftWrite, refuse_hard};

/// Audit entity names.
pub const ENTITY: &str = "planning_shift";

/// What a shift is made of (create, or the merged result of an update).
#[derive(Debug, Clone)]
pub struct ShiftSpec {
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub break_minutes: i32,
    pub headcount: i32,
    pub notes: Option<String>,
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ShiftQuery {
    pub site_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub job_role_id: Option<Uuid>,
    pub status: Option<ShiftStatus>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub collaborator_id: Option<Uuid>,
}

/// Full names of users.
///
/// # Errors
/// Database errors.
pub async fn names(
    db: &impl ConnectionTrait,
    mut ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, sea_orm::DbErr> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::FullName)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Shifts as views, with their assignments (only the reader's own for a collaborator).
///
/// # Errors
/// Database errors.
pub async fn views(
    db: &impl ConnectionTrait,
    state: &PlanningState,
    shifts: Vec<shift::Model>,
    only_user: Option<Uuid>,
) -> Result<Vec<ShiftView>, AppError> {
    let ids: Vec<Uuid> = shifts.iter().map(|s| s.id).collect();
    let mut query = assignment::Entity::find().filter(assignment::Column::ShiftId.is_in(ids));
    if let Some(user) = only_user {
        query = query.filter(assignment::Column::UserId.eq(user));
    }
    let rows = query
        .order_by_asc(assignment::Column::CreatedAt)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?;
    let who = names(db, rows.iter().map(|a| a.user_id).collect()).await?;
    let mut by_shift: HashMap<Uuid, Vec<AssignmentView>> = HashMap::new();
    for a in rows {
        let name = who.get(&a.user_id).cloned();
        by_shift
            .entry(a.shift_id)
            .or_default()
            .push(AssignmentView::new(a, name));
    }
    let mut site_ids: Vec<Uuid> = shifts.iter().map(|s| s.site_id).collect();
    site_ids.sort();
    site_ids.dedup();
    let zones = store::site_zones(db, &site_ids, state.default_tz).await?;
    Ok(shifts
        .into_iter()
        .map(|s| {
            let tz = zones
                .get(&s.site_id)
                .map_or(state.default_tz, |(tz, _)| *tz);
            let list = by_shift.remove(&s.id).unwrap_or_default();
            ShiftView::new(s, tz.name().to_owned(), list)
        })
        .collect())
}

/// One shift as a view.
///
/// # Errors
/// Database errors.
pub async fn view(
    db: &impl ConnectionTrait,
    state: &PlanningState,
    shift: shift::Model,
    only_user: Option<Uuid>,
) -> Result<ShiftView, AppError> {
    views(db, state, vec![shift], only_user)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("No such shift"))
}

/// A page of shifts, by start.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &DatabaseConnection,
    state: &PlanningState,
    caller: &PlanningUser,
    filters: ShiftQuery,
    page: PageParams,
) -> Result<Paginated<ShiftView>, AppError> {
    let mut query = shift::Entity::find();
    let reader = caller.reader_scope();
    let person = reader.or(filters.collaborator_id);
    if let Some(person) = person {
        query = query.filter(
            shift::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(assignment::Column::ShiftId)
                    .from(assignment::Entity)
                    .and_where(assignment::Column::UserId.eq(person))
                    .to_owned(),
            ),
        );
    }
    if reader.is_some() {
        query = query.filter(shift::Column::Status.ne(ShiftStatus::Draft));
    }
    if let Some(site) = filters.site_id {
        query = query.filter(shift::Column::SiteId.eq(site));
    }
    if let Some(team) = filters.team_id {
        query = query.filter(shift::Column::TeamId.eq(team));
    }
    if let Some(role) = filters.job_role_id {
        query = query.filter(shift::Column::JobRoleId.eq(role));
    }
    if let Some(status) = filters.status {
        query = query.filter(shift::Column::Status.eq(status));
    }
    if let Some(from) = filters.from {
        query = query.filter(shift::Column::LocalDate.gte(from));
    }
    if let Some(to) = filters.to {
        query = query.filter(shift::Column::LocalDate.lte(to));
    }
    let query = query
        .order_by_asc(shift::Column::StartsAt)
        .order_by_asc(shift::Column::Id);
    let page = fetch_page(db, query, page).await?;
    let data = views(db, state, page.data, reader).await?;
    Ok(Paginated::new(data, page.meta))
}

/// A shift the caller may read.
///
/// # Errors
/// 404 when it does not exist or is not the collaborator's (or still a draft).
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &PlanningUser,
    id: Uuid,
) -> Result<shift::Model, AppError> {
    let found = shift::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    if let Some(me) = caller.reader_scope() {
        let mine = assignment::Entity::find()
            .filter(assignment::Column::ShiftId.eq(id))
            .filter(assignment::Column::UserId.eq(me))
            .one(db)
            .await?
            .is_some();
        if !mine || found.status == ShiftStatus::Draft {
            return Err(AppError::not_found("No such shift"));
        }
    }
    Ok(found)
}

/// UTC instants and local date of a spec, in its site's zone.
///
/// # Errors
/// 422 when a local time does not exist that day (clocks moving forward).
pub async fn place(
    db: &impl ConnectionTrait,
    state: &PlanningState,
    spec: &ShiftSpec,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let tz = store::site_zone(db, spec.site_id, state.default_tz)
        .await?
        .unwrap_or(state.default_tz);
    planning_engine::time::shift_bounds(tz, spec.date, spec.start_time, spec.end_time).map_err(
        |e| {
            let planning_engine::time::LocalTimeError::DoesNotExist { time, .. } = &e;
            let field = if *time == spec.start_time {
                "start_time"
            } else {
                "end_time"
            };
            AppError::invalid(field, format!("{e} ({})", tz.name()))
        },
    )
}

/// The row a spec makes.
#[must_use]
pub fn model_from(
    id: Uuid,
    spec: &ShiftSpec,
    (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
    status: ShiftStatus,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> shift::Model {
    shift::Model {
        id,
        site_id: spec.site_id,
        job_role_id: spec.job_role_id,
        team_id: spec.team_id,
        template_id: spec.template_id,
        starts_at,
        ends_at,
        local_date: spec.date,
        start_time: spec.start_time.format("%H:%M").to_string(),
        end_time: spec.end_time.format("%H:%M").to_string(),
        break_minutes: spec.break_minutes,
        headcount: spec.headcount,
        status,
        notes: spec.notes.clone(),
        published_at: None,
        created_by,
        created_at: now,
        updated_at: now,
    }
}

/// Active assignees of a shift.
///
/// # Errors
/// Database errors.
pub async fn assignees(
    db: &impl ConnectionTrait,
    shift_id: Uuid,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    assignment::Entity::find()
        .select_only()
        .column(assignment::Column::UserId)
        .filter(assignment::Column::ShiftId.eq(shift_id))
        .filter(
            assignment::Column::Status
                .is_in([AssignmentStatus::Proposed, AssignmentStatus::Confirmed]),
        )
        .into_tuple()
        .all(db)
        .await
}

/// The conflicts a shift would have, as `model` (stored or not), against the stored plan.
///
/// # Errors
/// Database errors.
pub async fn conflicts_of(
    db: &impl ConnectionTrait,
    state: &PlanningState,
    model: &shift::Model,
) -> Result<Vec<planning_engine::Conflict>, AppError> {
    let users = assignees(db, model.id).await?;
    let mut scope = Scope::around(model.starts_at, model.ends_at);
    scope.sites = vec![model.site_id];
    scope.teams = model.team_id.into_iter().collect();
    scope.users.clone_from(&users);
    let plan = store::load_with_shift(db, &scope, state.default_tz, model, &users).await?;
    Ok(plan.check_shift(model.id))
}

/// Create a draft shift; 409 with the conflicts when one is hard.
///
/// # Errors
/// 409 on a hard conflict, 422 for a local time that does not exist; database errors.
pub async fn create(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    spec: ShiftSpec,
) -> Result<ShiftWrite, AppError> {
    let now = state.clock.now();
    let bounds = place(db, state, &spec).await?;
    let model = model_from(
        Uuid::now_v7(),
        &spec,
        bounds,
        ShiftStatus::Draft,
        actor.user_id,
        now,
    );
    let txn = shared::db::begin_write(db).await?;
    let warnings = refuse_hard(conflicts_of(&txn, state, &model).await?)?;
    let saved = model.into_active_model().insert(&txn).await?;
    let shown = view(&txn, state, saved, None).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("create_shift", ENTITY)
            .entity_id(shown.id)
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(ShiftWrite {
        shift: shown,
        conflicts: warnings,
    })
}

/// What an update changes (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ShiftChange {
    pub site_id: Option<Uuid>,
    pub job_role_id: Option<Uuid>,
    pub team_id: Option<Option<Uuid>>,
    pub date: Option<NaiveDate>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub break_minutes: Option<i32>,
    pub headcount: Option<i32>,
    pub notes: Option<Option<String>>,
    /// Only `draft` (back from published) or `cancelled`.
    pub status: Option<ShiftStatus>,
}

/// A stored shift with changes applied.
///
/// # Errors
/// 422 when a stored time is unreadable (never written by this code).
pub fn merged_spec(current: &shift::Model, change: &ShiftChange) -> Result<ShiftSpec, AppError> {
    Ok(ShiftSpec {
        site_id: change.site_id.unwrap_or(current.site_id),
        job_role_id: change.job_role_id.unwrap_or(current.job_role_id),
        team_id: change.team_id.unwrap_or(current.team_id),
        template_id: current.template_id,
        date: change.date.unwrap_or(current.local_date),
        start_time: match change.start_time {
            Some(t) => t,
            None => crate::text::hhmm("start_time", &current.start_time)?,
        },
        end_time: match change.end_time {
            Some(t) => t,
            None => crate::text::hhmm("end_time", &current.end_time)?,
        },
        break_minutes: change.break_minutes.unwrap_or(current.break_minutes),
        headcount: change.headcount.unwrap_or(current.headcount),
        notes: change.notes.clone().unwrap_or(current.notes.clone()),
    })
}

/// Change a shift (not a cancelled one); 409 with the conflicts when one is hard.
///
/// # Errors
/// 404, 409 (cancelled shift, `published` asked, hard conflict), 422; database errors.
pub async fn update(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    id: Uuid,
    change: ShiftChange,
) -> Result<ShiftWrite, AppError> {
    if change.status == Some(ShiftStatus::Cancelled) {
        let cancelled = cancel(db, state, actor, id).await?;
        return Ok(ShiftWrite {
            shift: cancelled,
            conflicts: Vec::new(),
        });
    }
    if change.status == Some(ShiftStatus::Published) {
        return Err(AppError::conflict(
            "Shifts are published with POST /api/v1/planning/publish, which checks the whole plan",
        ));
    }
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let unlocked = shift::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    let people = assignees(&txn, id).await?;
    let mut sites = vec![unlocked.site_id];
    sites.extend(change.site_id);
    store::lock(&txn, &people, &sites, &[id]).await?;
    let current = shift::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    if current.status == ShiftStatus::Cancelled {
        return Err(AppError::conflict("A cancelled shift cannot change"));
    }
    let before = view(&txn, state, current.clone(), None).await?;
    let spec = merged_spec(&current, &change)?;
    let bounds = place(&txn, state, &spec).await?;
    let status = change.status.unwrap_or(current.status);
    let mut model = model_from(id, &spec, bounds, status, current.created_by, now);
    model.created_at = current.created_at;
    model.published_at = if status == ShiftStatus::Published {
        current.published_at
    } else {
        None
    };
    let warnings = refuse_hard(conflicts_of(&txn, state, &model).await?)?;
    // Every column is written (a converted model's values count as unchanged otherwise).
    let saved = model.into_active_model().reset_all().update(&txn).await?;
    let shown = view(&txn, state, saved, None).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("update_shift", ENTITY)
            .entity_id(id)
            .before(&before)
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(ShiftWrite {
        shift: shown,
        conflicts: warnings,
    })
}

/// Cancel a shift: its active assignments are cancelled and their collaborators told (when
/// it was published).
///
/// # Errors
/// 404, 409 when already cancelled; database errors.
pub async fn cancel(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    id: Uuid,
) -> Result<ShiftView, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let current = shared::db::for_update(shift::Entity::find_by_id(id), &txn)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    if current.status == ShiftStatus::Cancelled {
        return Err(AppError::conflict("The shift is already cancelled"));
    }
    let before = view(&txn, state, current.clone(), None).await?;
    let people = assignees(&txn, id).await?;
    assignment::Entity::update_many()
        .col_expr(
            assignment::Column::Status,
            Expr::value(AssignmentStatus::Cancelled),
        )
        .col_expr(assignment::Column::UpdatedAt, Expr::value(now))
        .filter(assignment::Column::ShiftId.eq(id))
        .filter(
            assignment::Column::Status
                .is_in([AssignmentStatus::Proposed, AssignmentStatus::Confirmed]),
        )
        .exec(&txn)
        .await?;
    let was_published = current.status == ShiftStatus::Published;
    let mut active = current.into_active_model();
    active.status = Set(ShiftStatus::Cancelled);
    active.updated_at = Set(now);
    let saved = active.update(&txn).await?;
    if was_published {
        notify_users(
            &txn,
            &people,
            &Notice::new("shift_cancelled", "A shift of yours was cancelled").body(format!(
                "{} {}–{}",
                saved.local_date, saved.start_time, saved.end_time
            )),
            now,
        )
        .await?;
    }
    let shown = view(&txn, state, saved, None).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("cancel_shift", ENTITY)
            .entity_id(id)
            .before(&before)
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// What `DELETE` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// A draft: gone, with its assignments.
    Deleted,
    /// Published: cancelled, kept for the record.
    Cancelled,
}

/// Delete a draft, cancel a published shift.
///
/// # Errors
/// 404, 409 when already cancelled; database errors.
pub async fn remove(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Removal, Option<ShiftView>), AppError> {
    let current = shift::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    if current.status != ShiftStatus::Draft {
        return Ok((
            Removal::Cancelled,
            Some(cancel(db, state, actor, id).await?),
        ));
    }
    let txn = shared::db::begin_write(db).await?;
    let current = shared::db::for_update(shift::Entity::find_by_id(id), &txn)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift"))?;
    if current.status != ShiftStatus::Draft {
        return Err(AppError::conflict(
            "The shift was published meanwhile; delete it again to cancel it",
        ));
    }
    let before = view(&txn, state, current, None).await?;
    assignment::Entity::delete_many()
        .filter(assignment::Column::ShiftId.eq(id))
        .exec(&txn)
        .await?;
    shift::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("delete_shift", ENTITY)
            .entity_id(id)
            .before(&before),
    )
    .await?;
    txn.commit().await?;
    Ok((Removal::Deleted, None))
}
