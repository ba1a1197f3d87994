//! Conflict preview: an unsaved shift (new, or a stored one with changes) and the people to put
//! on it, checked against the stored plan by the same engine the writes use, with ranked fix
//! suggestions for each collaborator in conflict. Nothing is written.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::planning::{ShiftStatus, shift};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;
use shared::AppError;
use shared::envelope::{serialize_utc, serialize_utc_opt};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::PlanningState;
use crate::shifts::service::{self as shifts, ShiftChange, ShiftSpec};
use crate::store::{self, Scope};
use crate::views::ConflictView;

/// One way out of a conflict and what it would leave.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestionView {
    /// `reassign` | `move_shift` | `unassign`
    #[schema(example = "reassign")]
    pub action: String,
    pub description: String,
    pub collaborator_id: Option<Uuid>,
    /// Minutes the shift moves (negative: earlier).
    pub shift_offset_minutes: Option<i64>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Rules of the current conflicts it clears.
    pub resolves: Vec<String>,
    pub remaining_hard: usize,
    pub remaining_soft: usize,
    /// Change in filled seats.
    pub coverage_delta: i32,
}

impl From<planning_engine::Suggestion> for SuggestionView {
    fn from(s: planning_engine::Suggestion) -> Self {
        Self {
            action: s.action.to_owned(),
            description: s.description,
            collaborator_id: s.collaborator_id,
            shift_offset_minutes: s.shift_offset_minutes,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            resolves: s.resolves.iter().map(|r| r.code().to_owned()).collect(),
            remaining_hard: s.remaining_hard,
            remaining_soft: s.remaining_soft,
            coverage_delta: s.coverage_delta,
        }
    }
}

/// A conflict with its fixes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewConflict {
    #[serde(flatten)]
    pub conflict: ConflictView,
    /// Best first; empty for conflicts of the shift itself.
    pub suggestions: Vec<SuggestionView>,
}

/// The previewed shift.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewShift {
    /// The stored shift's id, or the id the new shift would get.
    pub id: Uuid,
    pub site_id: Uuid,
    pub date: NaiveDate,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub headcount: i32,
    /// Collaborators on it in the preview.
    pub collaborator_ids: Vec<Uuid>,
}

/// What the preview found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    pub shift: PreviewShift,
    pub conflicts: Vec<PreviewConflict>,
    pub hard: usize,
    pub soft: usize,
    /// No hard conflict: saving this would succeed.
    pub can_save: bool,
}

/// What to preview.
#[derive(Debug, Clone)]
pub enum Subject {
    New(ShiftSpec),
    Existing(Uuid, ShiftChange),
}

/// Check a change without saving it.
///
/// # Errors
/// 404 for an unknown stored shift, 409 for a cancelled one, 422; database errors.
pub async fn preview(
    db: &DatabaseConnection,
    state: &PlanningState,
    subject: Subject,
    add: Vec<Uuid>,
) -> Result<Preview, AppError> {
    // Held as long as the plan below: here while it is read, then in the blocking task that
    // checks it, which goes on (and keeps the turn) even if this request is dropped meanwhile.
    let turn = Arc::clone(&state.previews)
        .acquire_owned()
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now();
    let (model, mut people) = match subject {
        Subject::New(spec) => {
            let bounds = shifts::place(db, state, &spec).await?;
            (
                shifts::model_from(Uuid::now_v7(), &spec, bounds, ShiftStatus::Draft, None, now),
                Vec::new(),
            )
        }
        Subject::Existing(id, change) => {
            let current = shift::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("No such shift"))?;
            if current.status == ShiftStatus::Cancelled {
                return Err(AppError::conflict("A cancelled shift cannot change"));
            }
            let spec = shifts::merged_spec(&current, &change)?;
            let bounds = shifts::place(db, state, &spec).await?;
            let mut model =
                shifts::model_from(id, &spec, bounds, current.status, current.created_by, now);
            model.created_at = current.created_at;
            (model, shifts::assignees(db, id).await?)
        }
    };
    for person in add {
        if !people.contains(&person) {
            people.push(person);
        }
    }
    let mut scope = Scope::around(model.starts_at, model.ends_at);
    scope.sites = vec![model.site_id];
    scope.teams = model.team_id.into_iter().collect();
    scope.users = people.clone();
    let mut plan = store::load_with_shift(db, &scope, state.default_tz, &model, &people).await?;
    // A fix may give the seat to someone else: the plan must then hold every qualified
    // candidate's own shifts (on any site), or someone booked elsewhere would look free.
    let in_conflict = plan
        .check_shift(model.id)
        .iter()
        .filter_map(collaborator_of)
        .any(|p| plan.collaborator(p).is_some());
    if in_conflict {
        let candidates: Vec<Uuid> = plan
            .collaborators()
            .map(|c| c.id)
            .filter(|c| {
                !people.contains(c)
                    && !plan.is_excluded(model.id, *c)
                    && plan.qualified(model.job_role_id, *c)
            })
            .collect();
        if !candidates.is_empty() {
            store::add_people(db, &mut plan, &scope, &candidates, state.default_tz).await?;
        }
    }
    // The checks and fixes are CPU work (each fix tries every candidate): off the HTTP worker,
    // which other requests share.
    let shift_id = model.id;
    let (conflicts, fixes) = tokio::task::spawn_blocking(move || {
        // Dropped in reverse order: the plan, then the turn.
        let _turn = turn;
        let mut plan = plan;
        let mut conflicts = plan.check_shift(shift_id);
        conflicts.sort_by_key(|c| (c.severity, c.rule));
        let mut fixes: HashMap<Uuid, Vec<SuggestionView>> = HashMap::new();
        for person in conflicts.iter().filter_map(collaborator_of) {
            if !fixes.contains_key(&person) && plan.collaborator(person).is_some() {
                let found = planning_engine::suggest(&mut plan, shift_id, person, 5);
                fixes.insert(
                    person,
                    found.into_iter().map(SuggestionView::from).collect(),
                );
            }
        }
        (conflicts, fixes)
    })
    .await
    .map_err(AppError::internal)?;
    let (hard, soft) = planning_engine::count(&conflicts);
    let conflicts = conflicts
        .into_iter()
        .map(|c| {
            let person = collaborator_of(&c);
            PreviewConflict {
                suggestions: person
                    .and_then(|p| fixes.get(&p).cloned())
                    .unwrap_or_default(),
                conflict: ConflictView::from(c),
            }
        })
        .collect();
    Ok(Preview {
        shift: PreviewShift {
            id: model.id,
            site_id: model.site_id,
            date: model.local_date,
            starts_at: model.starts_at,
            ends_at: model.ends_at,
            headcount: model.headcount,
            collaborator_ids: people,
        },
        conflicts,
        hard,
        soft,
        can_save: hard == 0,
    })
}

/// The collaborator a conflict is about, if any.
fn collaborator_of(c: &planning_engine::Conflict) -> Option<Uuid> {
    c.details
        .get("collaborator_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}
