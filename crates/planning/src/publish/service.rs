//! Publishing: the draft shifts of a site over a period become published in one transaction,
//! refused while any hard conflict remains; one audit row per shift plus one for the
//! publication; each collaborator on them is told in the app and by e-mail.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::planning::{AssignmentStatus, ShiftStatus, assignment, shift};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::json;
use shared::AppError;
use shared::audit::{self, Actor, AuditEntry};
use shared::mailer::{self, Email};
use shared::notifications::{Notice, notify_users};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::PlanningState;
use crate::store::{self, Scope};
use crate::views::{ConflictView, conflict_views};

/// What was published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Published {
    pub site_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub published: usize,
    pub shift_ids: Vec<Uuid>,
    /// Collaborators told (in the app and by e-mail).
    pub notified: usize,
    /// Soft conflicts that remain (warnings).
    pub warnings: Vec<ConflictView>,
}

/// Publish the drafts of `site_id` dated `from..=to`.
///
/// # Errors
/// 409 with `details.conflicts` while a hard conflict remains; database errors.
#[allow(clippy::too_many_lines)]
pub async fn publish(
    db: &DatabaseConnection,
    state: &PlanningState,
    actor: &Actor,
    site_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Published, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    if entity::chantier::Entity::find_by_id(site_id)
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(AppError::invalid("site_id", "no such site (chantier)"));
    }
    let drafts = shared::db::for_update(
        shift::Entity::find()
            .filter(shift::Column::SiteId.eq(site_id))
            .filter(shift::Column::Status.eq(ShiftStatus::Draft))
            .filter(shift::Column::LocalDate.gte(from))
            .filter(shift::Column::LocalDate.lte(to))
            .order_by_asc(shift::Column::StartsAt)
            .order_by_asc(shift::Column::Id),
        &txn,
    )
    .all(&txn)
    .await?;
    let ids: Vec<Uuid> = drafts.iter().map(|s| s.id).collect();
    let mut warnings = Vec::new();
    let mut people: BTreeMap<Uuid, Vec<&shift::Model>> = BTreeMap::new();
    if !drafts.is_empty() {
        let on: Vec<(Uuid, Uuid)> = assignment::Entity::find()
            .filter(assignment::Column::ShiftId.is_in(ids.clone()))
            .filter(
                assignment::Column::Status
                    .is_in([AssignmentStatus::Proposed, AssignmentStatus::Confirmed]),
            )
            .all(&txn)
            .await?
            .into_iter()
            .map(|a| (a.shift_id, a.user_id))
            .collect();
        for (shift_id, user_id) in &on {
            if let Some(s) = drafts.iter().find(|s| s.id == *shift_id) {
                people.entry(*user_id).or_default().push(s);
            }
        }
        let first = drafts.iter().map(|s| s.starts_at).min().unwrap_or(now);
        let last = drafts.iter().map(|s| s.ends_at).max().unwrap_or(now);
        let mut scope = Scope::around(first, last);
        scope.sites = vec![site_id];
        scope.teams = drafts.iter().filter_map(|s| s.team_id).collect();
        scope.users = people.keys().copied().collect();
        let plan = store::load(&txn, &scope, state.default_tz).await?;
        let mut all = Vec::new();
        for (_, found) in plan.check_all(&ids) {
            all.extend(found);
        }
        let (hard, _) = planning_engine::count(&all);
        if hard > 0 {
            let views = conflict_views(all);
            return Err(AppError::conflict_with(
                format!("{hard} hard conflict(s) remain; nothing was published"),
                json!({ "conflicts": views }),
            ));
        }
        warnings = conflict_views(all);
        shift::Entity::update_many()
            .col_expr(shift::Column::Status, Expr::value(ShiftStatus::Published))
            .col_expr(shift::Column::PublishedAt, Expr::value(Some(now)))
            .col_expr(shift::Column::UpdatedAt, Expr::value(now))
            .filter(shift::Column::Id.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        for s in &drafts {
            audit::record(
                &txn,
                actor,
                AuditEntry::new("publish_shift", crate::shifts::service::ENTITY)
                    .entity_id(s.id)
                    .before(&json!({ "status": "draft", "published_at": null }))
                    .after(&json!({ "status": "published", "published_at": now })),
            )
            .await?;
        }
    }
    let users: Vec<Uuid> = people.keys().copied().collect();
    let addresses: Vec<(Uuid, String, String)> = if users.is_empty() {
        Vec::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(users.clone()))
            .filter(user::Column::IsActive.eq(true))
            .all(&txn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.email, u.full_name))
            .collect()
    };
    for (user_id, email, name) in &addresses {
        let mine = people.get(user_id).cloned().unwrap_or_default();
        let lines: Vec<String> = mine
            .iter()
            .map(|s| format!("- {} {}–{}", s.local_date, s.start_time, s.end_time))
            .collect();
        notify_users(
            &txn,
            &[*user_id],
            &Notice::new("planning_published", "Your planning was published")
                .body(format!("{} shift(s):\n{}", mine.len(), lines.join("\n")))
                .link(format!("{}/planning", state.public_url)),
            now,
        )
        .await?;
        mailer::queue(
            &txn,
            Email {
                to: email.clone(),
                subject: format!("Your planning from {from} to {to}"),
                body: format!(
                    "Hello {name},\n\nYour planning was published. Your shifts (local times of the site):\n{}\n\nSee it at {}/planning\n",
                    lines.join("\n"),
                    state.public_url
                ),
                template: "planning_published",
                user_id: Some(*user_id),
            },
        )
        .await?;
    }
    audit::record(
        &txn,
        actor,
        AuditEntry::new("publish_planning", "planning")
            .entity_id(site_id)
            .after(&json!({
                "site_id": site_id,
                "from": from,
                "to": to,
                "shift_ids": ids,
                "published": ids.len(),
                "notified": addresses.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(Published {
        site_id,
        from,
        to,
        published: ids.len(),
        shift_ids: ids,
        notified: addresses.len(),
        warnings,
    })
}
