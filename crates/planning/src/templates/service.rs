//! Shift templates (site, role, team, local start and end, weekdays, break, headcount) and
//! turning one into draft shifts over a period.

use chrono::{Datelike, NaiveDate, NaiveTime};
use entity::planning::{ShiftStatus, shift, shift_template};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use shared::audit::{self, Actor, AuditEntry};
use shared::pagination::{PageParams, fetch_page};
use shared::{AppError, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::PlanningState;
use crate::resources::service::{check_role, check_site, check_team};
use crate::shifts::service::{self as shifts, ShiftSpec};
use crate::store::{self, Scope};
use crate::views::ConflictView;

const ENTITY: &str = "planning_template";

/// A template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    pub name: String,
    #[schema(example = "07:00")]
    pub start_time: String,
    #[schema(example = "15:30")]
    pub end_time: String,
    /// ISO weekdays, 1 = Monday.
    pub days: Vec<u32>,
    pub break_minutes: i32,
    pub headcount: i32,
}

fn view(t: shift_template::Model) -> TemplateView {
    let mut days: Vec<u32> = t
        .days
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_u64)
                .filter_map(|d| u32::try_from(d).ok())
                .collect()
        })
        .unwrap_or_default();
    days.sort_unstable();
    TemplateView {
        id: t.id,
        site_id: t.site_id,
        job_role_id: t.job_role_id,
        team_id: t.team_id,
        name: t.name,
        start_time: t.start_time,
        end_time: t.end_time,
        days,
        break_minutes: t.break_minutes,
        headcount: t.headcount,
    }
}

/// A template's fields.
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    pub name: String,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub days: Vec<u32>,
    pub break_minutes: i32,
    pub headcount: i32,
}

/// Templates (of one site when given), by name.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &DatabaseConnection,
    site_id: Option<Uuid>,
    page: PageParams,
) -> Result<Paginated<TemplateView>, AppError> {
    let mut query = shift_template::Entity::find();
    if let Some(site) = site_id {
        query = query.filter(shift_template::Column::SiteId.eq(site));
    }
    let query = query
        .order_by_asc(shift_template::Column::Name)
        .order_by_asc(shift_template::Column::Id);
    Ok(fetch_page(db, query, page).await?.map(view))
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<shift_template::Model, AppError> {
    shift_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such shift template"))
}

/// One template.
///
/// # Errors
/// 404; database errors.
pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<TemplateView, AppError> {
    Ok(view(find(db, id).await?))
}

async fn check(db: &impl ConnectionTrait, spec: &TemplateSpec) -> Result<(), AppError> {
    check_site(db, "site_id", spec.site_id).await?;
    check_role(db, "job_role_id", spec.job_role_id).await?;
    check_team(db, "team_id", spec.team_id).await?;
    if spec.start_time == spec.end_time {
        return Err(AppError::invalid("end_time", "must differ from start_time"));
    }
    Ok(())
}

/// Create (`id` none) or replace a template.
///
/// # Errors
/// 404, 422; database errors.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<Uuid>,
    spec: TemplateSpec,
) -> Result<TemplateView, AppError> {
    let spec = TemplateSpec {
        name: shared::input::required(&spec.name, "name")?,
        ..spec
    };
    let txn = shared::db::begin_write(db).await?;
    check(&txn, &spec).await?;
    let mut days = spec.days.clone();
    days.sort_unstable();
    days.dedup();
    let now = chrono::Utc::now();
    let fields = |m: &mut shift_template::ActiveModel| {
        m.site_id = Set(spec.site_id);
        m.job_role_id = Set(spec.job_role_id);
        m.team_id = Set(spec.team_id);
        m.name = Set(spec.name.clone());
        m.start_time = Set(spec.start_time.format("%H:%M").to_string());
        m.end_time = Set(spec.end_time.format("%H:%M").to_string());
        m.days = Set(serde_json::json!(days));
        m.break_minutes = Set(spec.break_minutes);
        m.headcount = Set(spec.headcount);
        m.updated_at = Set(now);
    };
    let (saved, before, action) = match id {
        None => {
            let mut m = shift_template::ActiveModel {
                id: Set(Uuid::now_v7()),
                created_at: Set(now),
                ..Default::default()
            };
            fields(&mut m);
            (m.insert(&txn).await?, None, "create_template")
        }
        Some(id) => {
            let current = find(&txn, id).await?;
            let mut m = current.clone().into_active_model();
            fields(&mut m);
            (
                m.update(&txn).await?,
                Some(view(current)),
                "update_template",
            )
        }
    };
    let shown = view(saved);
    let mut entry = AuditEntry::new(action, ENTITY)
        .entity_id(shown.id)
        .after(&shown);
    if let Some(b) = &before {
        entry = entry.before(b);
    }
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(shown)
}

/// Delete a template (shifts made from it stay, without the link).
///
/// # Errors
/// 404; database errors.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let current = find(&txn, id).await?;
    shift::Entity::update_many()
        .col_expr(
            shift::Column::TemplateId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(shift::Column::TemplateId.eq(id))
        .exec(&txn)
        .await?;
    shift_template::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("delete_template", ENTITY)
            .entity_id(id)
            .before(&view(current)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What `generate` made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Generated {
    pub created: usize,
    /// Days that already had a shift from this template.
    pub skipped: usize,
    pub shift_ids: Vec<Uuid>,
    /// Warnings on the new shifts.
    pub conflicts: Vec<ConflictView>,
}

/// Draft shifts from a template on each of its weekdays in `from..=to` (days that already
/// have one from this template are skipped). All or nothing: a hard conflict refuses the lot.
///
/// # Errors
/// 404, 409 with the conflicts, 422 (a local time that does not exist some day); database
/// errors.
pub async fn generate(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Generated, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let t = find(&txn, id).await?;
    let shown = view(t.clone());
    let existing: Vec<NaiveDate> = shift::Entity::find()
        .filter(shift::Column::TemplateId.eq(id))
        .filter(shift::Column::LocalDate.gte(from))
        .filter(shift::Column::LocalDate.lte(to))
        .filter(shift::Column::Status.ne(ShiftStatus::Cancelled))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.local_date)
        .collect();
    let start = crate::text::hhmm("start_time", &t.start_time)?;
    let end = crate::text::hhmm("end_time", &t.end_time)?;
    let mut models = Vec::new();
    let mut skipped = 0;
    let mut day = from;
    while day <= to {
        if shown.days.contains(&day.weekday().number_from_monday()) {
            if existing.contains(&day) {
                skipped += 1;
            } else {
                let spec = ShiftSpec {
                    site_id: t.site_id,
                    job_role_id: t.job_role_id,
                    team_id: t.team_id,
                    template_id: Some(id),
                    date: day,
                    start_time: start,
                    end_time: end,
                    break_minutes: t.break_minutes,
                    headcount: t.headcount,
                    notes: None,
                };
                let bounds = shifts::place(&txn, state, &spec)
                    .await
                    .map_err(|e| match e {
                        AppError::Validation(_) => AppError::invalid(
                            "from",
                            format!("the template's times do not exist on {day} (clocks change)"),
                        ),
                        other => other,
                    })?;
                models.push(shifts::model_from(
                    Uuid::now_v7(),
                    &spec,
                    bounds,
                    ShiftStatus::Draft,
                    actor.user_id,
                    now,
                ));
            }
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    let mut warnings = Vec::new();
    if !models.is_empty() {
        let first = models.iter().map(|m| m.starts_at).min().unwrap_or(now);
        let last = models.iter().map(|m| m.ends_at).max().unwrap_or(now);
        let mut scope = Scope::around(first, last);
        scope.sites = vec![t.site_id];
        scope.teams = t.team_id.into_iter().collect();
        let mut plan = store::load(&txn, &scope, state.default_tz).await?;
        let mut all = Vec::new();
        for m in &models {
            plan.put_shift(store::to_engine(m));
        }
        for m in &models {
            all.extend(plan.check_shift(m.id));
        }
        warnings = crate::views::refuse_hard(all)?;
    }
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    for m in models {
        let saved = m.into_active_model().insert(&txn).await?;
        audit::record(
            &txn,
            actor,
            AuditEntry::new("create_shift", shifts::ENTITY)
                .entity_id(saved.id)
                .after(&serde_json::json!({
                    "id": saved.id,
                    "template_id": id,
                    "date": saved.local_date,
                    "start_time": saved.start_time,
                    "end_time": saved.end_time,
                    "starts_at": saved.starts_at,
                    "ends_at": saved.ends_at,
                    "status": "draft",
                })),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Generated {
        created: ids.len(),
        skipped,
        shift_ids: ids,
        conflicts: warnings,
    })
}
