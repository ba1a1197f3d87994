//! Ranked ways out of a collaborator's conflicts on a shift: give the seat to another
//! qualified, free collaborator; move the shift earlier or later; or unassign.

use serde::Serialize;
use uuid::Uuid;

use crate::plan::{Plan, count};
use crate::rules::Rule;
use crate::time;

/// One way out and what it would leave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// `reassign` | `move_shift` | `unassign`
    pub action: &'static str,
    pub description: String,
    /// Who takes the seat (`reassign`).
    pub collaborator_id: Option<Uuid>,
    /// Minutes the shift moves (`move_shift`; negative is earlier).
    pub shift_offset_minutes: Option<i64>,
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The rules of the current conflicts it clears.
    pub resolves: Vec<Rule>,
    /// Conflicts left on the shift for the people concerned after the change.
    pub remaining_hard: usize,
    pub remaining_soft: usize,
    /// Change in filled seats (-1 for an unassign).
    pub coverage_delta: i32,
}

/// Up to `limit` suggestions for `user_id` on `shift_id` (the assignment being in the plan),
/// best first: fewest hard, then soft conflicts left, keeping the seat filled first.
pub fn suggest(plan: &mut Plan, shift_id: Uuid, user_id: Uuid, limit: usize) -> Vec<Suggestion> {
    let Some(shift) = plan.shift(shift_id).cloned() else {
        return Vec::new();
    };
    let current = plan.check_assignment(shift_id, user_id);
    let current_rules: Vec<Rule> = {
        let mut r: Vec<Rule> = current.iter().map(|c| c.rule).collect();
        r.sort();
        r.dedup();
        r
    };
    let resolved = |after: &[crate::plan::Conflict]| -> Vec<Rule> {
        current_rules
            .iter()
            .copied()
            .filter(|r| !after.iter().any(|c| c.rule == *r))
            .collect()
    };
    let mut out: Vec<(usize, Suggestion)> = Vec::new();

    // Someone else.
    let was_assigned = plan.unassign(shift_id, user_id);
    let mut others: Vec<(usize, i64, Uuid)> = Vec::new();
    let ids: Vec<Uuid> = plan.collaborators().map(|c| c.id).collect();
    for other in ids {
        if other == user_id
            || plan.assignees(shift_id).contains(&other)
            || plan.is_excluded(shift_id, other)
            || !plan.qualified(shift.job_role_id, other)
        {
            continue;
        }
        let (hard, soft) = count(&plan.evaluate(shift_id, other));
        if hard == 0 {
            others.push((soft, plan.worked_minutes(other), other));
        }
    }
    others.sort();
    for (soft, worked, other) in others.into_iter().take(3) {
        let after = {
            plan.assign(shift_id, other);
            let c = plan.check_assignment(shift_id, other);
            plan.unassign(shift_id, other);
            c
        };
        out.push((
            0,
            Suggestion {
                action: "reassign",
                description: format!(
                    "Give the seat to a qualified collaborator free at that time ({} h planned, {soft} warning(s))",
                    (worked as f64 / 60.0 * 10.0).round() / 10.0
                ),
                collaborator_id: Some(other),
                shift_offset_minutes: None,
                starts_at: None,
                ends_at: None,
                resolves: resolved(&after),
                remaining_hard: 0,
                remaining_soft: soft,
                coverage_delta: 0,
            },
        ));
    }
    if was_assigned {
        plan.assign(shift_id, user_id);
    }

    // Earlier or later: the nearest hour offsets that clear this person's hard conflicts
    // without adding one for anybody else on the shift (their own standing conflicts, which a
    // move does not cause, are left aside).
    let tz = plan.tz_of(shift.site_id);
    let key = |c: &crate::plan::Conflict| {
        (
            c.rule,
            c.details
                .get("collaborator_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        )
    };
    let me = Some(user_id.to_string());
    let standing: Vec<_> = plan
        .check_shift(shift_id)
        .iter()
        .filter(|c| c.is_hard())
        .map(key)
        .filter(|(_, who)| *who != me)
        .collect();
    let mut found_earlier = false;
    let mut found_later = false;
    for hours in 1..=6_i64 {
        for sign in [-1_i64, 1] {
            if (sign < 0 && found_earlier) || (sign > 0 && found_later) {
                continue;
            }
            let offset = chrono::Duration::hours(hours * sign);
            let mut moved = shift.clone();
            moved.start += offset;
            moved.end += offset;
            moved.local_date = time::local_date(tz, moved.start);
            plan.put_shift(moved.clone());
            // Everyone on the shift moves with it.
            let after: Vec<crate::plan::Conflict> = plan
                .check_shift(shift_id)
                .into_iter()
                .filter(|c| !(c.is_hard() && standing.contains(&key(c))))
                .collect();
            plan.put_shift(shift.clone());
            let (hard, soft) = count(&after);
            if hard == 0 {
                if sign < 0 {
                    found_earlier = true;
                } else {
                    found_later = true;
                }
                out.push((
                    1,
                    Suggestion {
                        action: "move_shift",
                        description: format!(
                            "Move the shift {} h {}",
                            hours,
                            if sign < 0 { "earlier" } else { "later" }
                        ),
                        collaborator_id: None,
                        shift_offset_minutes: Some(hours * sign * 60),
                        starts_at: Some(moved.start),
                        ends_at: Some(moved.end),
                        resolves: resolved(&after),
                        remaining_hard: 0,
                        remaining_soft: soft,
                        coverage_delta: 0,
                    },
                ));
            }
        }
    }

    // Unassign: clears the person's conflicts, leaves the seat open.
    out.push((
        2,
        Suggestion {
            action: "unassign",
            description: "Remove the assignment (the seat stays open)".to_owned(),
            collaborator_id: Some(user_id),
            shift_offset_minutes: None,
            starts_at: None,
            ends_at: None,
            resolves: current_rules.clone(),
            remaining_hard: 0,
            remaining_soft: 0,
            coverage_delta: -1,
        },
    ));
    out.sort_by_key(|(kind, s)| (s.remaining_hard, *kind, s.remaining_soft));
    out.into_iter().take(limit).map(|(_, s)| s).collect()
}
