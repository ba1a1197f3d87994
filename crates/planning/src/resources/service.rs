//! The things plans are made of: skills, teams, job roles, sites' planning settings,
//! collaborators' profiles and public holidays. Planners only.

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use entity::planning::{ShiftStatus, collaborator, holiday, job_role, shift, site, skill, team};
use entity::{Role, chantier, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::Value;
use shared::audit::{self, Actor, AuditEntry};
use shared::pagination::{PageParams, fetch_page};
use shared::{AppError, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store;

fn unique_or(err: sea_orm::DbErr, field: &str) -> AppError {
    if shared::error::unique_violation(&err) {
        AppError::conflict_with(
            format!("That {field} is already taken"),
            serde_json::json!({ "field": field }),
        )
    } else {
        err.into()
    }
}

async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: impl ToString,
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
) -> Result<(), AppError> {
    let mut entry = AuditEntry::new(action, entity).entity_id(id);
    if let Some(b) = before {
        entry = entry.before(b);
    }
    if let Some(a) = after {
        entry = entry.after(a);
    }
    audit::record(db, actor, entry).await?;
    Ok(())
}

/// Every id in `ids` must be a skill.
async fn check_skills(
    db: &impl ConnectionTrait,
    field: &str,
    ids: &[Uuid],
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = skill::Entity::find()
        .filter(skill::Column::Id.is_in(ids.to_vec()))
        .count(db)
        .await?;
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    if usize::try_from(found).unwrap_or(0) != distinct.len() {
        return Err(AppError::invalid(
            field,
            "names a skill that does not exist",
        ));
    }
    Ok(())
}

/// The team must exist.
///
/// # Errors
/// 422 naming `field`.
pub async fn check_team(
    db: &impl ConnectionTrait,
    field: &str,
    id: Option<Uuid>,
) -> Result<(), AppError> {
    if let Some(id) = id
        && team::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(AppError::invalid(field, "no such team"));
    }
    Ok(())
}

/// The chantier must exist.
///
/// # Errors
/// 422 naming `field`.
pub async fn check_site(db: &impl ConnectionTrait, field: &str, id: Uuid) -> Result<(), AppError> {
    if chantier::Entity::find_by_id(id).one(db).await?.is_none() {
        return Err(AppError::invalid(field, "no such site (chantier)"));
    }
    Ok(())
}

/// The job role must exist.
///
/// # Errors
/// 422 naming `field`.
pub async fn check_role(db: &impl ConnectionTrait, field: &str, id: Uuid) -> Result<(), AppError> {
    if job_role::Entity::find_by_id(id).one(db).await?.is_none() {
        return Err(AppError::invalid(field, "no such job role"));
    }
    Ok(())
}

fn check_capacity(hard: Option<i32>, soft: Option<i32>) -> Result<(), AppError> {
    if let (Some(h), Some(s)) = (hard, soft)
        && s > h
    {
        return Err(AppError::invalid(
            "capacity_soft",
            "must not be above capacity_hard",
        ));
    }
    Ok(())
}

// --- skills ---

/// # Errors
/// Database errors.
pub async fn skills(
    db: &DatabaseConnection,
    page: PageParams,
) -> Result<Paginated<skill::Model>, AppError> {
    Ok(fetch_page(
        db,
        skill::Entity::find().order_by_asc(skill::Column::Name),
        page,
    )
    .await?)
}

/// # Errors
/// 409 for a name taken; database errors.
pub async fn add_skill(
    db: &DatabaseConnection,
    actor: &Actor,
    name: String,
) -> Result<skill::Model, AppError> {
    let name = shared::input::required(&name, "name")?;
    let txn = shared::db::begin_write(db).await?;
    let saved = skill::Model {
        id: Uuid::now_v7(),
        name: name.clone(),
        created_at: Utc::now(),
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| unique_or(e, "name"))?;
    record(
        &txn,
        actor,
        "create_skill",
        "planning_skill",
        saved.id,
        None::<&()>,
        Some(&saved_json(&saved)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

fn saved_json(s: &skill::Model) -> Value {
    serde_json::json!({ "id": s.id, "name": s.name })
}

// --- teams ---

/// A team's fields.
#[derive(Debug, Clone)]
pub struct TeamSpec {
    pub name: String,
    pub site_id: Option<Uuid>,
    pub capacity_hard: Option<i32>,
    pub capacity_soft: Option<i32>,
}

/// # Errors
/// Database errors.
pub async fn teams(
    db: &DatabaseConnection,
    page: PageParams,
) -> Result<Paginated<team::Model>, AppError> {
    Ok(fetch_page(
        db,
        team::Entity::find().order_by_asc(team::Column::Name),
        page,
    )
    .await?)
}

/// Create (`id` none) or replace a team.
///
/// # Errors
/// 404, 409 for a name taken, 422; database errors.
pub async fn save_team(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<Uuid>,
    spec: TeamSpec,
) -> Result<team::Model, AppError> {
    let spec = TeamSpec {
        name: shared::input::required(&spec.name, "name")?,
        ..spec
    };
    check_capacity(spec.capacity_hard, spec.capacity_soft)?;
    let txn = shared::db::begin_write(db).await?;
    if let Some(site) = spec.site_id {
        check_site(&txn, "site_id", site).await?;
    }
    let now = Utc::now();
    let (saved, before, action) = match id {
        None => (
            team::Model {
                id: Uuid::now_v7(),
                name: spec.name.clone(),
                site_id: spec.site_id,
                capacity_hard: spec.capacity_hard,
                capacity_soft: spec.capacity_soft,
                created_at: now,
                updated_at: now,
            }
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(|e| unique_or(e, "name"))?,
            None,
            "create_team",
        ),
        Some(id) => {
            let current = team::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::not_found("No such team"))?;
            let mut active = current.clone().into_active_model();
            active.name = Set(spec.name.clone());
            active.site_id = Set(spec.site_id);
            active.capacity_hard = Set(spec.capacity_hard);
            active.capacity_soft = Set(spec.capacity_soft);
            active.updated_at = Set(now);
            (
                active
                    .update(&txn)
                    .await
                    .map_err(|e| unique_or(e, "name"))?,
                Some(current),
                "update_team",
            )
        }
    };
    record(
        &txn,
        actor,
        action,
        "planning_team",
        saved.id,
        before.as_ref().map(team_json).as_ref(),
        Some(&team_json(&saved)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

fn team_json(t: &team::Model) -> Value {
    serde_json::json!({ "id": t.id, "name": t.name, "site_id": t.site_id, "capacity_hard": t.capacity_hard, "capacity_soft": t.capacity_soft })
}

// --- job roles ---

/// # Errors
/// Database errors.
pub async fn job_roles(
    db: &DatabaseConnection,
    page: PageParams,
) -> Result<Paginated<job_role::Model>, AppError> {
    Ok(fetch_page(
        db,
        job_role::Entity::find().order_by_asc(job_role::Column::Name),
        page,
    )
    .await?)
}

/// Create (`id` none) or replace a job role.
///
/// # Errors
/// 404, 409 for a name taken, 422 for unknown skills; database errors.
pub async fn save_job_role(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<Uuid>,
    name: String,
    required_skills: Vec<Uuid>,
) -> Result<job_role::Model, AppError> {
    let name = shared::input::required(&name, "name")?;
    let txn = shared::db::begin_write(db).await?;
    check_skills(&txn, "required_skills", &required_skills).await?;
    let mut skills = required_skills;
    skills.sort();
    skills.dedup();
    let skills_json = serde_json::to_value(&skills).unwrap_or(Value::Array(Vec::new()));
    let now = Utc::now();
    let (saved, before, action) = match id {
        None => (
            job_role::Model {
                id: Uuid::now_v7(),
                name: name.clone(),
                required_skills: skills_json,
                created_at: now,
                updated_at: now,
            }
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(|e| unique_or(e, "name"))?,
            None,
            "create_job_role",
        ),
        Some(id) => {
            let current = job_role::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::not_found("No such job role"))?;
            let mut active = current.clone().into_active_model();
            active.name = Set(name.clone());
            active.required_skills = Set(skills_json);
            active.updated_at = Set(now);
            (
                active
                    .update(&txn)
                    .await
                    .map_err(|e| unique_or(e, "name"))?,
                Some(current),
                "update_job_role",
            )
        }
    };
    let as_json = |r: &job_role::Model| serde_json::json!({ "id": r.id, "name": r.name, "required_skills": r.required_skills });
    record(
        &txn,
        actor,
        action,
        "planning_job_role",
        saved.id,
        before.as_ref().map(as_json).as_ref(),
        Some(&as_json(&saved)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

// --- sites ---

/// A chantier's planning settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteView {
    pub site_id: Uuid,
    pub name: String,
    #[schema(example = "Europe/Paris")]
    pub timezone: String,
    /// `true` when the time zone is the server default (no setting saved).
    pub default_timezone: bool,
    pub capacity_hard: Option<i32>,
    pub capacity_soft: Option<i32>,
}

/// Chantiers with their planning settings.
///
/// # Errors
/// Database errors.
pub async fn sites(
    db: &DatabaseConnection,
    default_tz: Tz,
    page: PageParams,
) -> Result<Paginated<SiteView>, AppError> {
    let page = fetch_page(
        db,
        chantier::Entity::find()
            .order_by_asc(chantier::Column::Nom)
            .order_by_asc(chantier::Column::Id),
        page,
    )
    .await?;
    let ids: Vec<Uuid> = page.data.iter().map(|c| c.id).collect();
    let zones = store::site_zones(db, &ids, default_tz).await?;
    Ok(page.map(|c| {
        let (tz, setting) = zones.get(&c.id).cloned().unwrap_or((default_tz, None));
        SiteView {
            site_id: c.id,
            name: c.nom,
            timezone: tz.name().to_owned(),
            default_timezone: setting.is_none(),
            capacity_hard: setting.as_ref().and_then(|s| s.capacity_hard),
            capacity_soft: setting.as_ref().and_then(|s| s.capacity_soft),
        }
    }))
}

/// Save a chantier's planning settings.
///
/// # Errors
/// 404 (no such chantier), 422; database errors.
pub async fn set_site(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    default_tz: Tz,
    timezone: Tz,
    capacity_hard: Option<i32>,
    capacity_soft: Option<i32>,
) -> Result<SiteView, AppError> {
    check_capacity(capacity_hard, capacity_soft)?;
    let txn = shared::db::begin_write(db).await?;
    let chantier = chantier::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such site (chantier)"))?;
    let before = site::Entity::find_by_id(id).one(&txn).await?;
    let current_tz = before
        .as_ref()
        .map_or_else(|| default_tz.name().to_owned(), |b| b.timezone.clone());
    if current_tz != timezone.name() {
        // Stored shifts hold UTC instants computed in the old zone.
        let planned = shift::Entity::find()
            .filter(shift::Column::SiteId.eq(id))
            .filter(shift::Column::Status.ne(ShiftStatus::Cancelled))
            .count(&txn)
            .await?;
        if planned > 0 {
            return Err(AppError::conflict_with(
                format!(
                    "The site has {planned} planned shift(s) placed in {current_tz}; cancel or delete them before changing its time zone"
                ),
                serde_json::json!({ "field": "timezone", "shifts": planned }),
            ));
        }
    }
    let row = site::Model {
        chantier_id: id,
        timezone: timezone.name().to_owned(),
        capacity_hard,
        capacity_soft,
        updated_at: Utc::now(),
    };
    if before.is_some() {
        row.clone()
            .into_active_model()
            .reset_all()
            .update(&txn)
            .await?;
    } else {
        row.clone().into_active_model().insert(&txn).await?;
    }
    let view = SiteView {
        site_id: id,
        name: chantier.nom,
        timezone: row.timezone.clone(),
        default_timezone: false,
        capacity_hard,
        capacity_soft,
    };
    let before_json = before.map(|b| serde_json::json!({ "timezone": b.timezone, "capacity_hard": b.capacity_hard, "capacity_soft": b.capacity_soft }));
    record(
        &txn,
        actor,
        "update_site",
        "planning_site",
        id,
        before_json.as_ref(),
        Some(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

// --- collaborators ---

/// A collaborator (prestataire user) and their planning profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollaboratorView {
    pub user_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub active: bool,
    pub team_id: Option<Uuid>,
    pub skills: Vec<Uuid>,
    pub max_hours_day: Option<f64>,
    pub max_hours_week: Option<f64>,
    pub max_hours_month: Option<f64>,
}

fn collaborator_view(u: user::Model, p: Option<&collaborator::Model>) -> CollaboratorView {
    CollaboratorView {
        user_id: u.id,
        full_name: u.full_name,
        email: u.email,
        active: u.is_active,
        team_id: p.and_then(|p| p.team_id),
        skills: p.map(|p| store::uuids(&p.skills)).unwrap_or_default(),
        max_hours_day: p.and_then(|p| p.max_hours_day),
        max_hours_week: p.and_then(|p| p.max_hours_week),
        max_hours_month: p.and_then(|p| p.max_hours_month),
    }
}

/// Prestataire users with their profiles, by name.
///
/// # Errors
/// Database errors.
pub async fn collaborators(
    db: &DatabaseConnection,
    team_id: Option<Uuid>,
    page: PageParams,
) -> Result<Paginated<CollaboratorView>, AppError> {
    let mut query = user::Entity::find().filter(user::Column::Role.eq(Role::Prestataire));
    if let Some(team) = team_id {
        query = query.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(collaborator::Column::UserId)
                    .from(collaborator::Entity)
                    .and_where(collaborator::Column::TeamId.eq(team))
                    .to_owned(),
            ),
        );
    }
    let page = fetch_page(
        db,
        query
            .order_by_asc(user::Column::FullName)
            .order_by_asc(user::Column::Id),
        page,
    )
    .await?;
    let ids: Vec<Uuid> = page.data.iter().map(|u| u.id).collect();
    let profiles: std::collections::HashMap<Uuid, collaborator::Model> =
        collaborator::Entity::find()
            .filter(collaborator::Column::UserId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.user_id, p))
            .collect();
    Ok(page.map(|u| {
        let p = profiles.get(&u.id);
        collaborator_view(u, p)
    }))
}

/// A collaborator's profile.
#[derive(Debug, Clone)]
pub struct ProfileSpec {
    pub team_id: Option<Uuid>,
    pub skills: Vec<Uuid>,
    pub max_hours_day: Option<f64>,
    pub max_hours_week: Option<f64>,
    pub max_hours_month: Option<f64>,
}

/// Save a prestataire's planning profile.
///
/// # Errors
/// 404 (not a prestataire), 422; database errors.
pub async fn set_collaborator(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    spec: ProfileSpec,
) -> Result<CollaboratorView, AppError> {
    let txn = shared::db::begin_write(db).await?;
    let person = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.role == Role::Prestataire)
        .ok_or_else(|| AppError::not_found("No such collaborator (prestataire user)"))?;
    check_team(&txn, "team_id", spec.team_id).await?;
    check_skills(&txn, "skills", &spec.skills).await?;
    let mut skills = spec.skills;
    skills.sort();
    skills.dedup();
    let before = collaborator::Entity::find_by_id(user_id).one(&txn).await?;
    let row = collaborator::Model {
        user_id,
        team_id: spec.team_id,
        skills: serde_json::to_value(&skills).unwrap_or(Value::Array(Vec::new())),
        max_hours_day: spec.max_hours_day,
        max_hours_week: spec.max_hours_week,
        max_hours_month: spec.max_hours_month,
        updated_at: Utc::now(),
    };
    if before.is_some() {
        row.clone()
            .into_active_model()
            .reset_all()
            .update(&txn)
            .await?;
    } else {
        row.clone().into_active_model().insert(&txn).await?;
    }
    let before_view = before
        .as_ref()
        .map(|b| collaborator_view(person.clone(), Some(b)));
    let view = collaborator_view(person, Some(&row));
    record(
        &txn,
        actor,
        "update_collaborator",
        "planning_collaborator",
        user_id,
        before_view.as_ref(),
        Some(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

// --- holidays ---

/// Holidays between two dates (all sites' and one site's when given).
///
/// # Errors
/// Database errors.
pub async fn holidays(
    db: &DatabaseConnection,
    site_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    page: PageParams,
) -> Result<Paginated<holiday::Model>, AppError> {
    let mut query = holiday::Entity::find();
    if let Some(site) = site_id {
        query = query.filter(
            sea_orm::Condition::any()
                .add(holiday::Column::SiteId.eq(site))
                .add(holiday::Column::SiteId.is_null()),
        );
    }
    if let Some(from) = from {
        query = query.filter(holiday::Column::Date.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(holiday::Column::Date.lte(to));
    }
    Ok(fetch_page(
        db,
        query
            .order_by_asc(holiday::Column::Date)
            .order_by_asc(holiday::Column::Id),
        page,
    )
    .await?)
}

/// Add a public holiday.
///
/// # Errors
/// 409 when that date is already a holiday there, 422; database errors.
pub async fn add_holiday(
    db: &DatabaseConnection,
    actor: &Actor,
    site_id: Option<Uuid>,
    date: NaiveDate,
    name: String,
) -> Result<holiday::Model, AppError> {
    let name = shared::input::required(&name, "name")?;
    let txn = shared::db::begin_write(db).await?;
    if let Some(site) = site_id {
        check_site(&txn, "site_id", site).await?;
    }
    let mut dup = holiday::Entity::find().filter(holiday::Column::Date.eq(date));
    dup = match site_id {
        Some(site) => dup.filter(holiday::Column::SiteId.eq(site)),
        None => dup.filter(holiday::Column::SiteId.is_null()),
    };
    if dup.one(&txn).await?.is_some() {
        return Err(AppError::conflict("That date is already a holiday there"));
    }
    let saved = holiday::Model {
        id: Uuid::now_v7(),
        site_id,
        date,
        name: name.clone(),
        created_at: Utc::now(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    let as_json = serde_json::json!({ "id": saved.id, "site_id": saved.site_id, "date": saved.date, "name": saved.name });
    record(
        &txn,
        actor,
        "create_holiday",
        "planning_holiday",
        saved.id,
        None::<&()>,
        Some(&as_json),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Remove a holiday.
///
/// # Errors
/// 404; database errors.
pub async fn remove_holiday(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let found = holiday::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such holiday"))?;
    holiday::Entity::delete_by_id(id).exec(&txn).await?;
    let as_json = serde_json::json!({ "id": found.id, "site_id": found.site_id, "date": found.date, "name": found.name });
    record(
        &txn,
        actor,
        "delete_holiday",
        "planning_holiday",
        id,
        Some(&as_json),
        None::<&()>,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
