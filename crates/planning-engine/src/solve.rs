//! Auto-assign: fill the open headcount of shifts with qualified collaborators without
//! breaking a hard rule. Greedy construction (the shifts with the fewest candidates first,
//! each seat to the candidate adding the fewest soft conflicts, then the fewest hours so far),
//! followed by a local search that hands assignments to other collaborators when that lowers
//! the soft conflicts or evens out the hours, then a second fill of what is still open.
//! Assignments already in the plan (confirmed ones above all) are never moved.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use uuid::Uuid;

use crate::plan::{Plan, count};

/// One proposed assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub shift_id: Uuid,
    pub user_id: Uuid,
    /// 0..=1: 1 with no warning, lower with each soft conflict it carries.
    pub score: f64,
}

/// What the solver did.
#[derive(Debug, Clone, Serialize)]
pub struct Solution {
    pub proposals: Vec<Proposal>,
    /// Seats in scope (headcounts summed).
    pub required: usize,
    /// Seats taken, by earlier assignments and proposals.
    pub filled: usize,
    pub soft_violations: usize,
    pub hard_violations: usize,
    pub local_search_moves: usize,
    /// Hours of the busiest and least busy collaborator among those used.
    pub max_hours: f64,
    pub min_hours: f64,
    /// It stopped early (cancelled or out of time): the best plan so far.
    pub stopped: bool,
    pub log: Vec<String>,
}

impl Solution {
    /// `filled / required` (1 when nothing was required).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn coverage(&self) -> f64 {
        if self.required == 0 {
            1.0
        } else {
            (self.filled as f64 / self.required as f64 * 10_000.0).round() / 10_000.0
        }
    }
}

/// Limits of a run.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    pub time_budget: Duration,
    /// Local-search rounds at most.
    pub max_rounds: usize,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            time_budget: Duration::from_secs(20),
            max_rounds: 4,
        }
    }
}

/// Candidates a local-search step tries for one seat (the least busy first).
const LOCAL_SEARCH_CANDIDATES: usize = 64;

/// Soft conflicts an assignment carries in the plan, or `None` when it breaks a hard rule.
fn soft_cost(plan: &mut Plan, shift_id: Uuid, user_id: Uuid) -> Option<usize> {
    let conflicts = plan.evaluate(shift_id, user_id);
    let (hard, soft) = count(&conflicts);
    (hard == 0).then_some(soft)
}

/// Soft conflicts of every shift of a collaborator.
fn user_soft(plan: &Plan, user_id: Uuid) -> usize {
    plan.shifts_of(user_id)
        .iter()
        .filter_map(|id| plan.shift(*id))
        .map(|s| count(&plan.collaborator_conflicts(s, user_id)).1)
        .sum()
}

fn open_seats(plan: &Plan, shift_id: Uuid) -> usize {
    plan.shift(shift_id).map_or(0, |s| {
        usize::try_from(s.headcount.max(0))
            .unwrap_or(0)
            .saturating_sub(plan.assignees(shift_id).len())
    })
}

/// Fill the open seats of `scope`. `tick` receives progress (0..=100) and answers `true` to
/// stop; the plan found so far is kept.
#[allow(clippy::too_many_lines)]
pub fn solve(
    plan: &mut Plan,
    scope: &[Uuid],
    options: &SolveOptions,
    tick: &mut dyn FnMut(u8) -> bool,
) -> Solution {
    let started = Instant::now();
    let deadline = started + options.time_budget;
    let mut log = Vec::new();
    let mut stopped = false;
    let scope: Vec<Uuid> = scope
        .iter()
        .copied()
        .filter(|id| plan.shift(*id).is_some())
        .collect();
    let required: usize = scope
        .iter()
        .filter_map(|id| plan.shift(*id))
        .map(|s| usize::try_from(s.headcount.max(0)).unwrap_or(0))
        .sum();

    // Qualified collaborators per shift, by role.
    let mut by_role: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut everyone: Vec<Uuid> = plan.collaborators().map(|c| c.id).collect();
    everyone.sort();
    for id in &scope {
        let Some(role) = plan.shift(*id).map(|s| s.job_role_id) else {
            continue;
        };
        by_role.entry(role).or_insert_with(|| {
            everyone
                .iter()
                .copied()
                .filter(|u| plan.qualified(role, *u))
                .collect()
        });
    }
    let candidates_of = |plan: &Plan, shift_id: Uuid| -> Vec<Uuid> {
        plan.shift(shift_id)
            .and_then(|s| by_role.get(&s.job_role_id))
            .cloned()
            .unwrap_or_default()
    };

    // The hardest shifts first: fewest qualified people per open seat, then the earliest.
    let mut order: Vec<(usize, chrono::DateTime<chrono::Utc>, Uuid)> = scope
        .iter()
        .filter(|id| open_seats(plan, **id) > 0)
        .filter_map(|id| {
            let s = plan.shift(*id)?;
            Some((candidates_of(plan, *id).len(), s.start, *id))
        })
        .collect();
    order.sort();
    log.push(format!(
        "{} shifts in scope, {} with open seats, {} seats required, {} collaborators",
        scope.len(),
        order.len(),
        required,
        everyone.len()
    ));

    let mut proposed: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut hours: HashMap<Uuid, i64> = everyone
        .iter()
        .map(|u| (*u, plan.worked_minutes(*u)))
        .collect();
    let total = order.len().max(1);
    let mut unfillable = 0_usize;

    let fill = |plan: &mut Plan,
                shift_id: Uuid,
                proposed: &mut HashSet<(Uuid, Uuid)>,
                hours: &mut HashMap<Uuid, i64>|
     -> usize {
        let mut missing = 0;
        let worked = plan
            .shift(shift_id)
            .map_or(0, crate::plan::Shift::worked_minutes);
        for _ in 0..open_seats(plan, shift_id) {
            let mut best: Option<(usize, i64, Uuid)> = None;
            for user in candidates_of(plan, shift_id) {
                if plan.assignees(shift_id).contains(&user) || plan.is_excluded(shift_id, user) {
                    continue;
                }
                let Some(soft) = soft_cost(plan, shift_id, user) else {
                    continue;
                };
                let key = (soft, hours.get(&user).copied().unwrap_or(0), user);
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
            match best {
                Some((_, _, user)) => {
                    plan.assign(shift_id, user);
                    proposed.insert((shift_id, user));
                    *hours.entry(user).or_default() += worked;
                }
                None => missing += 1,
            }
        }
        missing
    };

    for (done, (_, _, shift_id)) in order.iter().enumerate() {
        unfillable += fill(plan, *shift_id, &mut proposed, &mut hours);
        if done % 16 == 0 {
            #[allow(clippy::cast_possible_truncation)]
            let percent = (done * 60 / total) as u8;
            if tick(percent) || Instant::now() > deadline {
                stopped = true;
                log.push(format!(
                    "stopped during construction after {done} of {total} shifts"
                ));
                break;
            }
        }
    }
    log.push(format!(
        "construction: {} proposals, {unfillable} seats without a candidate free of hard conflicts, {} ms",
        proposed.len(),
        started.elapsed().as_millis()
    ));

    // Local search: give a proposal to someone else when that lowers the soft conflicts of
    // both people involved, or keeps them equal and evens out the hours.
    let mut moves = 0;
    if !stopped {
        for round in 0..options.max_rounds {
            let mut improved = 0;
            let mut current: Vec<(Uuid, Uuid)> = proposed.iter().copied().collect();
            current.sort();
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let busy_line = {
                let used: Vec<i64> = hours.values().copied().filter(|m| *m > 0).collect();
                let mean = used.iter().sum::<i64>() as f64 / used.len().max(1) as f64;
                (mean * 1.1) as i64
            };
            for (shift_id, old) in current {
                if Instant::now() > deadline {
                    stopped = true;
                    break;
                }
                let Some(worked) = plan.shift(shift_id).map(crate::plan::Shift::worked_minutes)
                else {
                    continue;
                };
                let old_hours = hours.get(&old).copied().unwrap_or(0);
                // Worth a try: the seat carries warnings, or its holder works well above the
                // mean (hours to even out).
                let own_soft = count(&plan.check_assignment(shift_id, old)).1;
                if own_soft == 0 && old_hours <= busy_line {
                    continue;
                }
                let old_soft_before = user_soft(plan, old);
                plan.unassign(shift_id, old);
                let old_soft_after = user_soft(plan, old);
                let mut best: Option<(i64, i64, Uuid)> = None;
                // The least busy qualified people are where a seat can go without adding
                // hours warnings or unevenness: try those first, and only so many.
                let mut pool: Vec<(i64, Uuid)> = candidates_of(plan, shift_id)
                    .into_iter()
                    .filter(|u| {
                        *u != old
                            && !plan.assignees(shift_id).contains(u)
                            && !plan.is_excluded(shift_id, *u)
                    })
                    .map(|u| (hours.get(&u).copied().unwrap_or(0), u))
                    .collect();
                pool.sort_unstable();
                pool.truncate(LOCAL_SEARCH_CANDIDATES);
                for (user_hours, user) in pool {
                    // Without warnings to remove, only a less busy person helps.
                    if own_soft == 0 && user_hours + worked >= old_hours {
                        continue;
                    }
                    let before = user_soft(plan, user);
                    if !plan.assign(shift_id, user) {
                        continue;
                    }
                    let (hard, _) = count(&plan.check_assignment(shift_id, user));
                    let after = if hard == 0 { user_soft(plan, user) } else { 0 };
                    plan.unassign(shift_id, user);
                    if hard > 0 {
                        continue;
                    }
                    let delta = i64::try_from(after + old_soft_after).unwrap_or(i64::MAX)
                        - i64::try_from(before + old_soft_before).unwrap_or(i64::MAX);
                    // Same soft count: only move towards the less busy.
                    let better = delta < 0 || (delta == 0 && user_hours + worked < old_hours);
                    if better {
                        let key = (delta, user_hours, user);
                        if best.is_none_or(|b| key < b) {
                            best = Some(key);
                        }
                    }
                }
                match best {
                    Some((_, _, user)) => {
                        plan.assign(shift_id, user);
                        proposed.remove(&(shift_id, old));
                        proposed.insert((shift_id, user));
                        *hours.entry(old).or_default() -= worked;
                        *hours.entry(user).or_default() += worked;
                        improved += 1;
                    }
                    None => {
                        plan.assign(shift_id, old);
                    }
                }
            }
            moves += improved;
            log.push(format!(
                "local search round {}: {improved} moves, {} ms",
                round + 1,
                started.elapsed().as_millis()
            ));
            #[allow(clippy::cast_possible_truncation)]
            let percent = (60 + (round + 1) * 30 / options.max_rounds.max(1)) as u8;
            if stopped || tick(percent) {
                stopped = true;
                break;
            }
            // Another round is worth its time while it still moves a fair share of the seats.
            if improved == 0 || improved * 200 < proposed.len() {
                break;
            }
        }
    }

    // Seats the construction left open may have a candidate now.
    if !stopped && unfillable > 0 {
        let before = proposed.len();
        let mut still = 0;
        for (_, _, shift_id) in &order {
            still += fill(plan, *shift_id, &mut proposed, &mut hours);
        }
        log.push(format!(
            "second fill: {} more proposals, {still} seats left open",
            proposed.len() - before
        ));
    }

    let filled: usize = scope.iter().map(|id| plan.assignees(*id).len()).sum();
    let (mut hard_violations, mut soft_violations) = (0, 0);
    for id in &scope {
        let (h, s) = count(&plan.check_shift(*id));
        hard_violations += h;
        soft_violations += s;
    }
    let mut proposals: Vec<Proposal> = proposed
        .iter()
        .map(|(shift_id, user_id)| {
            let soft = count(&plan.check_assignment(*shift_id, *user_id)).1;
            #[allow(clippy::cast_precision_loss)]
            let score = ((1.0 / (1.0 + soft as f64)) * 100.0).round() / 100.0;
            Proposal {
                shift_id: *shift_id,
                user_id: *user_id,
                score,
            }
        })
        .collect();
    proposals.sort_by_key(|p| (p.shift_id, p.user_id));
    let used: Vec<i64> = hours.values().copied().filter(|m| *m > 0).collect();
    #[allow(clippy::cast_precision_loss)]
    let to_h = |m: i64| (m as f64 / 60.0 * 100.0).round() / 100.0;
    log.push(format!(
        "done: {} proposals, {filled}/{required} seats, {soft_violations} soft and {hard_violations} hard conflicts, {} ms",
        proposals.len(),
        started.elapsed().as_millis()
    ));
    tick(100);
    Solution {
        proposals,
        required,
        filled: filled.min(required),
        soft_violations,
        hard_violations,
        local_search_moves: moves,
        max_hours: to_h(used.iter().copied().max().unwrap_or(0)),
        min_hours: to_h(used.iter().copied().min().unwrap_or(0)),
        stopped,
        log,
    }
}
