//! Response shapes shared by several planning modules.

use chrono::{DateTime, NaiveDate, Utc};
use entity::planning::{AssignmentSource, AssignmentStatus, ShiftStatus, assignment, shift};
use serde::Serialize;
use serde_json::Value;
use shared::envelope::{serialize_utc, serialize_utc_opt};
use utoipa::ToSchema;
use uuid::Uuid;

/// One conflict: `type` hard (blocks the write) or soft (a warning), the rule, and details
/// naming the shifts, collaborators and the amount over.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConflictView {
    /// `hard` | `soft`
    #[serde(rename = "type")]
    #[schema(example = "hard")]
    pub kind: String,
    #[schema(example = "double_booking")]
    pub rule: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<planning_engine::Conflict> for ConflictView {
    fn from(c: planning_engine::Conflict) -> Self {
        Self {
            kind: c.severity.as_str().to_owned(),
            rule: c.rule.code().to_owned(),
            message: c.message,
            details: c.details,
        }
    }
}

/// Conflicts as views, hard ones first.
#[must_use]
pub fn conflict_views(mut conflicts: Vec<planning_engine::Conflict>) -> Vec<ConflictView> {
    conflicts.sort_by_key(|c| (c.severity, c.rule));
    conflicts.into_iter().map(ConflictView::from).collect()
}

/// An assignment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: Uuid,
    pub shift_id: Uuid,
    /// The collaborator (a prestataire user).
    pub collaborator_id: Uuid,
    pub collaborator_name: Option<String>,
    pub status: AssignmentStatus,
    pub source: AssignmentSource,
    /// 0..=1 for auto-assign proposals.
    pub score: Option<f64>,
    pub note: Option<String>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl AssignmentView {
    #[must_use]
    pub fn new(a: assignment::Model, name: Option<String>) -> Self {
        Self {
            id: a.id,
            shift_id: a.shift_id,
            collaborator_id: a.user_id,
            collaborator_name: name,
            status: a.status,
            source: a.source,
            score: a.score,
            note: a.note,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A shift with its assignments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: Uuid,
    /// The chantier.
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    /// Local date in the site's time zone.
    pub date: NaiveDate,
    /// Local `HH:MM`; an end at or before the start is on the next day.
    #[schema(example = "08:00")]
    pub start_time: String,
    #[schema(example = "16:30")]
    pub end_time: String,
    #[schema(example = "Europe/Paris")]
    pub timezone: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub break_minutes: i32,
    pub headcount: i32,
    /// Proposed and confirmed assignments.
    pub assigned: i32,
    pub status: ShiftStatus,
    pub notes: Option<String>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<DateTime<Utc>>,
    pub assignments: Vec<AssignmentView>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl ShiftView {
    #[must_use]
    pub fn new(s: shift::Model, timezone: String, assignments: Vec<AssignmentView>) -> Self {
        let assigned = assignments.iter().filter(|a| a.status.is_active()).count();
        Self {
            id: s.id,
            site_id: s.site_id,
            job_role_id: s.job_role_id,
            team_id: s.team_id,
            template_id: s.template_id,
            date: s.local_date,
            start_time: s.start_time,
            end_time: s.end_time,
            timezone,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            break_minutes: s.break_minutes,
            headcount: s.headcount,
            assigned: i32::try_from(assigned).unwrap_or(i32::MAX),
            status: s.status,
            notes: s.notes,
            published_at: s.published_at,
            assignments,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A shift write: the shift and its warnings (soft conflicts).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftWrite {
    pub shift: ShiftView,
    pub conflicts: Vec<ConflictView>,
}

/// An assignment write: the assignment and its warnings (soft conflicts).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentWrite {
    pub assignment: AssignmentView,
    pub conflicts: Vec<ConflictView>,
}

/// The soft conflicts (warnings) of a write, or 409 with every conflict when one is hard.
///
/// # Errors
/// 409 `CONFLICT` with `details.conflicts` when any conflict is hard.
pub fn refuse_hard(
    conflicts: Vec<planning_engine::Conflict>,
) -> Result<Vec<ConflictView>, shared::AppError> {
    let views = conflict_views(conflicts);
    let hard = views.iter().filter(|c| c.kind == "hard").count();
    if hard > 0 {
        return Err(shared::AppError::conflict_with(
            format!("The change breaks {hard} hard planning rule(s); nothing was saved"),
            serde_json::json!({ "conflicts": views }),
        ));
    }
    Ok(views)
}
