//! Reading the plan from the database into the engine's [`Plan`]: the rules' settings, the
//! sites' time zones and capacities, teams, roles, collaborators (active prestataire users with
//! their planning profile), and the shifts, assignments, leaves, availability and holidays
//! around the period a change touches.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::planning::{
    AssignmentStatus, ShiftStatus, assignment, availability, collaborator, holiday, job_role,
    leave, rule, shift, site, team,
};
use entity::{Role, chantier, user};
use planning_engine::{
    Collaborator, Holiday, JobRole, Leave, Plan, Rule, RuleSet, RuleSetting, Severity, Shift, Site,
    Team,
};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

/// Shifts this far before and after the period are loaded: monthly caps and rest need them.
pub const MARGIN_DAYS: i64 = 35;

/// Ids in a JSON array (others ignored).
#[must_use]
pub fn uuids(value: &Value) -> Vec<Uuid> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules as configured (defaults for rules never changed).
///
/// # Errors
/// Database errors.
pub async fn rules(db: &impl ConnectionTrait) -> Result<RuleSet, DbErr> {
    let mut set = RuleSet::default();
    for row in rule::Entity::find().all(db).await? {
        let Some(code) = Rule::parse(&row.code) else {
            continue;
        };
        set.set(RuleSetting {
            rule: code,
            enabled: row.enabled,
            severity: Severity::parse(&row.severity).unwrap_or(code.default_severity()),
            params: match row.params {
                Value::Object(map) => map,
                _ => code.default_params(),
            },
        });
    }
    Ok(set)
}

/// Time zones of sites: the planning setting, else `default`; sites that are not chantiers are
/// left out.
///
/// # Errors
/// Database errors.
pub async fn site_zones(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    default: Tz,
) -> Result<HashMap<Uuid, (Tz, Option<site::Model>)>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let existing: Vec<Uuid> = chantier::Entity::find()
        .select_only()
        .column(chantier::Column::Id)
        .filter(chantier::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let settings: HashMap<Uuid, site::Model> = site::Entity::find()
        .filter(site::Column::ChantierId.is_in(existing.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.chantier_id, s))
        .collect();
    Ok(existing
        .into_iter()
        .map(|id| {
            let setting = settings.get(&id).cloned();
            let tz = setting
                .as_ref()
                .and_then(|s| s.timezone.parse::<Tz>().ok())
                .unwrap_or(default);
            (id, (tz, setting))
        })
        .collect())
}

/// The time zone of one site (`None`: no such chantier).
///
/// # Errors
/// Database errors.
pub async fn site_zone(
    db: &impl ConnectionTrait,
    id: Uuid,
    default: Tz,
) -> Result<Option<Tz>, DbErr> {
    Ok(site_zones(db, &[id], default)
        .await?
        .get(&id)
        .map(|(tz, _)| *tz))
}

/// What part of the plan to load.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub sites: Vec<Uuid>,
    pub teams: Vec<Uuid>,
    pub users: Vec<Uuid>,
    /// Every collaborator's shifts (auto-assign).
    pub all_users: bool,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Scope {
    /// The period with [`MARGIN_DAYS`] on either side.
    #[must_use]
    pub fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let now = Utc::now();
        (
            self.from.unwrap_or(now) - Duration::days(MARGIN_DAYS),
            self.to.unwrap_or(now) + Duration::days(MARGIN_DAYS),
        )
    }

    #[must_use]
    pub fn around(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            to: Some(to),
            ..Self::default()
        }
    }
}

/// A stored shift as the engine sees it.
#[must_use]
pub fn to_engine(s: &shift::Model) -> Shift {
    Shift {
        id: s.id,
        site_id: s.site_id,
        job_role_id: s.job_role_id,
        team_id: s.team_id,
        start: s.starts_at,
        end: s.ends_at,
        local_date: s.local_date,
        break_minutes: s.break_minutes,
        headcount: s.headcount,
    }
}

/// The plan around `scope`: every collaborator, role and team; the shifts (not cancelled) of
/// the scope's sites, teams and collaborators within [`MARGIN_DAYS`] of the period, their
/// active assignments; leaves, availability and holidays of that window.
///
/// # Errors
/// Database errors.
pub async fn load(db: &impl ConnectionTrait, scope: &Scope, default_tz: Tz) -> Result<Plan, DbErr> {
    let (from, to) = scope.window();
    let mut plan = Plan::new(rules(db).await?);

    for t in team::Entity::find().all(db).await? {
        plan.add_team(Team {
            id: t.id,
            capacity_hard: t.capacity_hard,
            capacity_soft: t.capacity_soft,
        });
    }
    for r in job_role::Entity::find().all(db).await? {
        plan.add_role(JobRole {
            id: r.id,
            required_skills: uuids(&r.required_skills),
        });
    }
    let mut select = Query::select();
    select
        .column((user::Entity, user::Column::Id))
        .columns([
            (collaborator::Entity, collaborator::Column::TeamId),
            (collaborator::Entity, collaborator::Column::Skills),
            (collaborator::Entity, collaborator::Column::MaxHoursDay),
            (collaborator::Entity, collaborator::Column::MaxHoursWeek),
            (collaborator::Entity, collaborator::Column::MaxHoursMonth),
        ])
        .from(user::Entity)
        .join(
            JoinType::LeftJoin,
            collaborator::Entity,
            Expr::col((collaborator::Entity, collaborator::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .cond_where(
            Condition::all()
                .add(user::Column::Role.eq(Role::Prestataire))
                .add(user::Column::IsActive.eq(true)),
        );
    for person in PersonRow::find_by_statement(db.get_database_backend().build(&select))
        .all(db)
        .await?
    {
        plan.add_collaborator(Collaborator {
            id: person.id,
            team_id: person.team_id,
            skills: person
                .skills
                .map(|s| uuids(&s).into_iter().collect())
                .unwrap_or_default(),
            max_hours_day: person.max_hours_day,
            max_hours_week: person.max_hours_week,
            max_hours_month: person.max_hours_month,
        });
    }

    let mut which = Condition::any();
    if !scope.sites.is_empty() {
        which = which.add(shift::Column::SiteId.is_in(scope.sites.clone()));
    }
    if !scope.teams.is_empty() {
        which = which.add(shift::Column::TeamId.is_in(scope.teams.clone()));
    }
    if scope.all_users {
        which = which.add(shift::Column::Id.in_subquery(active_seats(None)));
    } else if !scope.users.is_empty() {
        which = which.add(shift::Column::Id.in_subquery(active_seats(Some(&scope.users))));
    }
    add_shifts(db, &mut plan, which, (from, to), &scope.sites, default_tz).await?;

    for l in leave::Entity::find()
        .filter(leave::Column::StartsAt.lt(to))
        .filter(leave::Column::EndsAt.gt(from))
        .all(db)
        .await?
    {
        plan.add_leave(Leave {
            user_id: l.user_id,
            start: l.starts_at,
            end: l.ends_at,
            kind: l.kind,
        });
    }
    for a in availability::Entity::find()
        .filter(availability::Column::StartsAt.lt(to))
        .filter(availability::Column::EndsAt.gt(from))
        .all(db)
        .await?
    {
        plan.add_availability(a.user_id, a.starts_at, a.ends_at);
    }
    for h in holiday::Entity::find()
        .filter(holiday::Column::Date.gte(from.date_naive() - Duration::days(1)))
        .filter(holiday::Column::Date.lte(to.date_naive() + Duration::days(1)))
        .all(db)
        .await?
    {
        plan.add_holiday(Holiday {
            site_id: h.site_id,
            date: h.date,
            name: h.name,
        });
    }
    Ok(plan)
}

/// The shifts holding an active seat of `users` (of anybody: `None`).
fn active_seats(users: Option<&[Uuid]>) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.column(assignment::Column::ShiftId)
        .from(assignment::Entity)
        .and_where(
            assignment::Column::Status
                .is_in([AssignmentStatus::Proposed, AssignmentStatus::Confirmed]),
        );
    if let Some(users) = users {
        q.and_where(assignment::Column::UserId.is_in(users.to_vec()));
    }
    q
}

/// An active prestataire and their planning profile (none yet: all null).
#[derive(Debug, FromQueryResult)]
struct PersonRow {
    id: Uuid,
    team_id: Option<Uuid>,
    skills: Option<Value>,
    max_hours_day: Option<f64>,
    max_hours_week: Option<f64>,
    max_hours_month: Option<f64>,
}

/// A shift as the engine needs it, with one of its assignments (none: `user_id` is null).
#[derive(Debug, FromQueryResult)]
struct SeatRow {
    id: Uuid,
    site_id: Uuid,
    job_role_id: Uuid,
    team_id: Option<Uuid>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    local_date: NaiveDate,
    break_minutes: i32,
    headcount: i32,
    user_id: Option<Uuid>,
    assignment_status: Option<AssignmentStatus>,
}

/// Add to `plan` the shifts (not cancelled) within `window` that `which` selects, their
/// assignments and their sites (and `sites`, which may have none). Shifts the plan already
/// holds are left as they are, so a shift being previewed keeps its unsaved times. One
/// statement: the shifts' columns the engine reads, joined to their assignments.
async fn add_shifts(
    db: &impl ConnectionTrait,
    plan: &mut Plan,
    which: Condition,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    sites: &[Uuid],
    default_tz: Tz,
) -> Result<(), DbErr> {
    let rows = if which.is_empty() {
        Vec::new()
    } else {
        let seat = Alias::new("seat");
        let mut select = Query::select();
        select
            .columns([
                (shift::Entity, shift::Column::Id),
                (shift::Entity, shift::Column::SiteId),
                (shift::Entity, shift::Column::JobRoleId),
                (shift::Entity, shift::Column::TeamId),
                (shift::Entity, shift::Column::StartsAt),
                (shift::Entity, shift::Column::EndsAt),
                (shift::Entity, shift::Column::LocalDate),
                (shift::Entity, shift::Column::BreakMinutes),
                (shift::Entity, shift::Column::Headcount),
            ])
            .expr_as(
                Expr::col((seat.clone(), assignment::Column::UserId)),
                Alias::new("user_id"),
            )
            .expr_as(
                Expr::col((seat.clone(), assignment::Column::Status)),
                Alias::new("assignment_status"),
            )
            .from(shift::Entity)
            .join_as(
                JoinType::LeftJoin,
                assignment::Entity,
                seat.clone(),
                Expr::col((seat.clone(), assignment::Column::ShiftId))
                    .equals((shift::Entity, shift::Column::Id)),
            )
            .cond_where(
                Condition::all()
                    .add(shift::Column::Status.ne(ShiftStatus::Cancelled))
                    .add(shift::Column::StartsAt.lt(to))
                    .add(shift::Column::EndsAt.gt(from))
                    .add(which),
            );
        SeatRow::find_by_statement(db.get_database_backend().build(&select))
            .all(db)
            .await?
    };

    // Shifts met for the first time here (true) or already in the plan (false).
    let mut fresh: HashMap<Uuid, bool> = HashMap::new();
    for row in &rows {
        fresh
            .entry(row.id)
            .or_insert_with(|| plan.shift(row.id).is_none());
    }
    let mut site_ids: HashSet<Uuid> = sites.iter().copied().collect();
    site_ids.extend(rows.iter().filter(|r| fresh[&r.id]).map(|r| r.site_id));
    site_ids.retain(|id| plan.site(*id).is_none());
    let site_ids: Vec<Uuid> = site_ids.into_iter().collect();
    for (id, (tz, setting)) in site_zones(db, &site_ids, default_tz).await? {
        plan.add_site(Site {
            id,
            tz,
            capacity_hard: setting.as_ref().and_then(|s| s.capacity_hard),
            capacity_soft: setting.as_ref().and_then(|s| s.capacity_soft),
        });
    }
    for row in rows {
        if !fresh[&row.id] {
            continue;
        }
        if plan.shift(row.id).is_none() {
            plan.put_shift(Shift {
                id: row.id,
                site_id: row.site_id,
                job_role_id: row.job_role_id,
                team_id: row.team_id,
                start: row.starts_at,
                end: row.ends_at,
                local_date: row.local_date,
                break_minutes: row.break_minutes,
                headcount: row.headcount,
            });
        }
        // Active seats, and the people who declined or were taken off (not offered again).
        match (row.user_id, row.assignment_status) {
            (Some(user_id), Some(AssignmentStatus::Proposed | AssignmentStatus::Confirmed)) => {
                plan.assign(row.id, user_id);
            }
            (Some(user_id), Some(AssignmentStatus::Declined | AssignmentStatus::Cancelled)) => {
                plan.exclude(row.id, user_id);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Add to a plan loaded for `scope` the shifts (and their assignments) of `users` within the
/// scope's window: what a check of other people needs (their bookings on any site).
///
/// # Errors
/// Database errors.
pub async fn add_people(
    db: &impl ConnectionTrait,
    plan: &mut Plan,
    scope: &Scope,
    users: &[Uuid],
    default_tz: Tz,
) -> Result<(), DbErr> {
    // (Past a few thousand ids a list is dearer than every assigned shift.)
    let seats = if users.len() > 2_000 {
        active_seats(None)
    } else {
        active_seats(Some(users))
    };
    let which = Condition::any().add(shift::Column::Id.in_subquery(seats));
    add_shifts(db, plan, which, scope.window(), &[], default_tz).await
}

/// The plan around `scope` with `model` (stored or not) in place of its stored version and
/// `people` on it wherever it now lies (the stored row may be outside the window loaded around
/// the new times).
///
/// # Errors
/// Database errors.
pub async fn load_with_shift(
    db: &impl ConnectionTrait,
    scope: &Scope,
    default_tz: Tz,
    model: &shift::Model,
    people: &[Uuid],
) -> Result<Plan, DbErr> {
    let mut plan = load(db, scope, default_tz).await?;
    plan.put_shift(to_engine(model));
    for person in people {
        plan.assign(model.id, *person);
    }
    Ok(plan)
}

/// Row locks (PostgreSQL; SQLite's write transaction already excludes every other writer) that
/// serialise writes touching the same people, sites or shifts, so two planners cannot each
/// pass a check the other's change breaks (a double booking, the last seat, a site's capacity).
/// Always taken in this order — people, then sites, then shifts, each by id — so two writers
/// never wait on each other in a circle.
///
/// # Errors
/// Database errors.
pub async fn lock(
    txn: &impl ConnectionTrait,
    users: &[Uuid],
    sites: &[Uuid],
    shifts: &[Uuid],
) -> Result<(), DbErr> {
    use sea_orm::QueryOrder;
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let sorted = |ids: &[Uuid]| {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    if !users.is_empty() {
        shared::db::for_update(
            user::Entity::find()
                .filter(user::Column::Id.is_in(sorted(users)))
                .order_by_asc(user::Column::Id),
            txn,
        )
        .all(txn)
        .await?;
    }
    if !sites.is_empty() {
        shared::db::for_update(
            chantier::Entity::find()
                .filter(chantier::Column::Id.is_in(sorted(sites)))
                .order_by_asc(chantier::Column::Id),
            txn,
        )
        .all(txn)
        .await?;
    }
    for chunk in sorted(shifts).chunks(5_000) {
        shared::db::for_update(
            shift::Entity::find()
                .filter(shift::Column::Id.is_in(chunk.to_vec()))
                .order_by_asc(shift::Column::Id),
            txn,
        )
        .all(txn)
        .await?;
    }
    Ok(())
}
