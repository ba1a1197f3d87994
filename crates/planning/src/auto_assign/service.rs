//! Auto-assign as a job on the queue: load the plan around a site's period, let the engine's
//! solver fill the open seats (on a blocking thread, watching for cancellation and reporting
//! progress), then write the proposals as `proposed` assignments with their score — each one
//! checked again against the plan as it is at write time, so a manual change made meanwhile is
//! never broken. Confirmed (and every existing) assignment stays where it is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Utc};
use entity::planning::{AssignmentSource, AssignmentStatus, ShiftStatus, assignment, shift};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::audit::{self, Actor, AuditEntry};
use shared::jobs::{JobContext, JobError};
use shared::notifications::{Notice, notify_users};
use uuid::Uuid;

use crate::PlanningState;
use crate::store::{self, Scope};
use crate::views::conflict_views;

/// The job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AutoAssignPayload {
    pub site_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub requested_by: Option<Uuid>,
    /// Seconds the search may take.
    pub time_budget_seconds: u64,
}

async fn scope_shifts(
    db: &impl ConnectionTrait,
    p: &AutoAssignPayload,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    shift::Entity::find()
        .select_only()
        .column(shift::Column::Id)
        .filter(shift::Column::SiteId.eq(p.site_id))
        .filter(shift::Column::Status.ne(ShiftStatus::Cancelled))
        .filter(shift::Column::LocalDate.gte(p.from))
        .filter(shift::Column::LocalDate.lte(p.to))
        .into_tuple()
        .all(db)
        .await
}

fn scope_of(p: &AutoAssignPayload) -> Scope {
    let from = p.from.and_time(NaiveTime::MIN).and_utc() - chrono::Duration::days(1);
    let to = p.to.and_time(NaiveTime::MIN).and_utc() + chrono::Duration::days(2);
    let mut scope = Scope::around(from, to);
    scope.sites = vec![p.site_id];
    scope.all_users = true;
    scope
}

/// Run one auto-assign job.
///
/// # Errors
/// Database errors (retried), a payload that does not parse (permanent).
#[allow(clippy::too_many_lines)]
pub async fn run(ctx: &JobContext, state: &PlanningState) -> Result<Option<Value>, JobError> {
    let p: AutoAssignPayload = ctx.payload()?;
    let db: &DatabaseConnection = ctx.db();
    let started = std::time::Instant::now();
    ctx.progress(2, Some("loading the plan")).await?;
    let ids = scope_shifts(db, &p).await?;
    let mut plan = store::load(db, &scope_of(&p), state.default_tz).await?;
    ctx.log(
        "info",
        format!(
            "{} shifts on the site from {} to {}, {} collaborators",
            ids.len(),
            p.from,
            p.to,
            plan.collaborators().count()
        ),
    )
    .await?;

    let stop = Arc::new(AtomicBool::new(false));
    let percent = Arc::new(AtomicU8::new(0));
    let options = planning_engine::SolveOptions {
        time_budget: Duration::from_secs(p.time_budget_seconds.clamp(1, 120)),
        ..planning_engine::SolveOptions::default()
    };
    let (stop_in, percent_in, scope) = (Arc::clone(&stop), Arc::clone(&percent), ids.clone());
    let mut task = tokio::task::spawn_blocking(move || {
        planning_engine::solve(&mut plan, &scope, &options, &mut |pct| {
            percent_in.store(pct, Ordering::Relaxed);
            stop_in.load(Ordering::Relaxed)
        })
    });
    let solution = loop {
        tokio::select! {
            done = &mut task => {
                break done.map_err(|e| JobError::Retryable(format!("the solver stopped: {e}")))?;
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if ctx.is_cancelled() {
                    stop.store(true, Ordering::Relaxed);
                }
                let pct = u16::from(percent.load(Ordering::Relaxed));
                let shown = u8::try_from(5 + pct * 85 / 100).unwrap_or(90);
                ctx.progress(shown, Some("searching")).await?;
            }
        }
    };
    for line in &solution.log {
        ctx.log("info", line.clone()).await?;
    }
    ctx.progress(92, Some("saving the proposals")).await?;

    // Write: each proposal checked again against the plan as it is now.
    let actor = Actor {
        user_id: p.requested_by,
        ..Actor::default()
    };
    let txn = shared::db::begin_write(db).await?;
    let people: Vec<Uuid> = solution.proposals.iter().map(|x| x.user_id).collect();
    store::lock(&txn, &people, &[p.site_id], &ids).await?;
    let mut fresh = store::load(&txn, &scope_of(&p), state.default_tz).await?;
    let now = Utc::now();
    let mut written = 0_usize;
    let mut told: std::collections::BTreeMap<Uuid, Vec<Uuid>> = std::collections::BTreeMap::new();
    let mut skipped = 0_usize;
    for proposal in &solution.proposals {
        if !fresh.assign(proposal.shift_id, proposal.user_id) {
            skipped += 1;
            continue;
        }
        let (hard, _) =
            planning_engine::count(&fresh.check_assignment(proposal.shift_id, proposal.user_id));
        let exists = assignment::Entity::find()
            .filter(assignment::Column::ShiftId.eq(proposal.shift_id))
            .filter(assignment::Column::UserId.eq(proposal.user_id))
            .one(&txn)
            .await?
            .is_some();
        if hard > 0 || exists {
            fresh.unassign(proposal.shift_id, proposal.user_id);
            skipped += 1;
            continue;
        }
        let saved = assignment::Model {
            id: Uuid::now_v7(),
            shift_id: proposal.shift_id,
            user_id: proposal.user_id,
            status: AssignmentStatus::Proposed,
            source: AssignmentSource::Auto,
            score: Some(proposal.score),
            note: None,
            created_by: p.requested_by,
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &actor,
            AuditEntry::new("assign_collaborator", crate::assignments::service::ENTITY)
                .entity_id(saved.id)
                .after(&json!({
                    "id": saved.id,
                    "shift_id": saved.shift_id,
                    "collaborator_id": saved.user_id,
                    "status": "proposed",
                    "source": "auto",
                    "score": saved.score,
                    "job_id": ctx.id,
                })),
        )
        .await?;
        written += 1;
        told.entry(saved.user_id).or_default().push(saved.shift_id);
    }
    // Proposals on published shifts are news to the people proposed.
    let published: Vec<shift::Model> = shift::Entity::find()
        .filter(shift::Column::Id.is_in(told.values().flatten().copied().collect::<Vec<_>>()))
        .filter(shift::Column::Status.eq(ShiftStatus::Published))
        .all(&txn)
        .await?;
    for (user, shifts) in &told {
        let lines: Vec<String> = published
            .iter()
            .filter(|s| shifts.contains(&s.id))
            .map(|s| format!("{} {}–{}", s.local_date, s.start_time, s.end_time))
            .collect();
        if !lines.is_empty() {
            notify_users(
                &txn,
                &[*user],
                &Notice::new("shift_proposed", "Shifts were proposed to you")
                    .body(lines.join("\n")),
                now,
            )
            .await?;
        }
    }
    let mut remaining = Vec::new();
    let mut filled = 0_usize;
    for id in &ids {
        remaining.extend(fresh.check_shift(*id));
        filled += fresh.assignees(*id).len();
    }
    let (hard, soft) = planning_engine::count(&remaining);
    let required = solution.required;
    let filled = filled.min(required);
    #[allow(clippy::cast_precision_loss)]
    let coverage = if required == 0 {
        1.0
    } else {
        (filled as f64 / required as f64 * 10_000.0).round() / 10_000.0
    };
    txn.commit().await?;
    let mut views = conflict_views(remaining);
    views.truncate(200);
    let result = json!({
        "site_id": p.site_id,
        "from": p.from,
        "to": p.to,
        "shifts": ids.len(),
        "required": required,
        "filled": filled,
        "coverage": coverage,
        "proposed": written,
        "skipped_at_write": skipped,
        "soft_violations": soft,
        "hard_violations": hard,
        "local_search_moves": solution.local_search_moves,
        "max_hours": solution.max_hours,
        "min_hours": solution.min_hours,
        "stopped_early": solution.stopped,
        "solver_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "remaining_conflicts": views,
    });
    // The proposals are committed: a failing log line must not make the run retry.
    if let Err(e) = ctx
        .log(
            "info",
            format!(
                "{written} proposals written ({skipped} skipped), coverage {filled}/{required}, {soft} soft and {hard} hard conflicts left"
            ),
        )
        .await
    {
        tracing::warn!(error = %e, "auto-assign: could not write the last log line");
    }
    Ok(Some(result))
}
