//! The plan in memory (sites, teams, roles, collaborators, shifts, active assignments, leaves,
//! availability, holidays, rules) and the checks over it.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::rules::{Rule, RuleSet, Severity};
use crate::time;

/// A site (chantier) as the engine sees it.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: Uuid,
    pub tz: Tz,
    /// People working at once beyond which a write is refused.
    pub capacity_hard: Option<i32>,
    /// People working at once beyond which a write warns.
    pub capacity_soft: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub id: Uuid,
    pub capacity_hard: Option<i32>,
    pub capacity_soft: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct JobRole {
    pub id: Uuid,
    pub required_skills: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Collaborator {
    pub id: Uuid,
    pub team_id: Option<Uuid>,
    pub skills: BTreeSet<Uuid>,
    /// Contract caps, in hours (the rule's parameter when unset).
    pub max_hours_day: Option<f64>,
    pub max_hours_week: Option<f64>,
    pub max_hours_month: Option<f64>,
}

/// A shift; `local_date` is its start's date in the site's time zone (hours count for that day).
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub id: Uuid,
    pub site_id: Uuid,
    pub job_role_id: Uuid,
    pub team_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub break_minutes: i32,
    pub headcount: i32,
}

impl Shift {
    /// Worked minutes: duration less the break.
    #[must_use]
    pub fn worked_minutes(&self) -> i64 {
        (time::minutes(self.start, self.end) - i64::from(self.break_minutes)).max(0)
    }

    #[must_use]
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }
}

#[derive(Debug, Clone)]
pub struct Leave {
    pub user_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Holiday {
    /// `None`: every site.
    pub site_id: Option<Uuid>,
    pub date: NaiveDate,
    pub name: String,
}

/// One problem found in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    #[serde(rename = "type")]
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
    pub details: Value,
}

impl Conflict {
    #[must_use]
    pub fn is_hard(&self) -> bool {
        self.severity == Severity::Hard
    }
}

/// How many hard and soft conflicts a list holds.
#[must_use]
pub fn count(conflicts: &[Conflict]) -> (usize, usize) {
    let hard = conflicts.iter().filter(|c| c.is_hard()).count();
    (hard, conflicts.len() - hard)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[allow(clippy::cast_precision_loss)]
fn to_hours(minutes: i64) -> f64 {
    round2(minutes as f64 / 60.0)
}

/// A `[start, end)` range of instants.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub rules: RuleSet,
    sites: HashMap<Uuid, Site>,
    teams: HashMap<Uuid, Team>,
    roles: HashMap<Uuid, JobRole>,
    collaborators: HashMap<Uuid, Collaborator>,
    shifts: HashMap<Uuid, Shift>,
    leaves: HashMap<Uuid, Vec<Leave>>,
    availability: HashMap<Uuid, Vec<Span>>,
    holidays: Vec<Holiday>,
    /// Active (proposed or confirmed) assignees of each shift.
    on_shift: HashMap<Uuid, Vec<Uuid>>,
    /// Shifts of each collaborator, by start.
    of_user: HashMap<Uuid, Vec<Uuid>>,
    site_shifts: HashMap<Uuid, Vec<Uuid>>,
    team_shifts: HashMap<Uuid, Vec<Uuid>>,
    /// Pairs (shift, collaborator) never to propose: declined or cancelled before.
    excluded: std::collections::HashSet<(Uuid, Uuid)>,
}

impl Plan {
    #[must_use]
    pub fn new(rules: RuleSet) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    pub fn add_site(&mut self, site: Site) {
        self.sites.insert(site.id, site);
    }
    pub fn add_team(&mut self, team: Team) {
        self.teams.insert(team.id, team);
    }
    pub fn add_role(&mut self, role: JobRole) {
        self.roles.insert(role.id, role);
    }
    pub fn add_collaborator(&mut self, collaborator: Collaborator) {
        self.collaborators.insert(collaborator.id, collaborator);
    }
    pub fn add_leave(&mut self, leave: Leave) {
        self.leaves.entry(leave.user_id).or_default().push(leave);
    }
    pub fn add_availability(&mut self, user_id: Uuid, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.availability
            .entry(user_id)
            .or_default()
            .push((start, end));
    }
    pub fn add_holiday(&mut self, holiday: Holiday) {
        self.holidays.push(holiday);
    }

    /// Never propose this collaborator for this shift (they declined it, or it was cancelled).
    pub fn exclude(&mut self, shift_id: Uuid, user_id: Uuid) {
        self.excluded.insert((shift_id, user_id));
    }

    #[must_use]
    pub fn is_excluded(&self, shift_id: Uuid, user_id: Uuid) -> bool {
        self.excluded.contains(&(shift_id, user_id))
    }

    #[must_use]
    pub fn site(&self, id: Uuid) -> Option<&Site> {
        self.sites.get(&id)
    }
    #[must_use]
    pub fn shift(&self, id: Uuid) -> Option<&Shift> {
        self.shifts.get(&id)
    }
    #[must_use]
    pub fn collaborator(&self, id: Uuid) -> Option<&Collaborator> {
        self.collaborators.get(&id)
    }
    pub fn collaborators(&self) -> impl Iterator<Item = &Collaborator> {
        self.collaborators.values()
    }
    #[must_use]
    pub fn assignees(&self, shift_id: Uuid) -> &[Uuid] {
        self.on_shift.get(&shift_id).map_or(&[], Vec::as_slice)
    }
    #[must_use]
    pub fn shifts_of(&self, user_id: Uuid) -> &[Uuid] {
        self.of_user.get(&user_id).map_or(&[], Vec::as_slice)
    }

    /// Whether a collaborator has every skill the role asks for.
    #[must_use]
    pub fn qualified(&self, role_id: Uuid, user_id: Uuid) -> bool {
        match (self.roles.get(&role_id), self.collaborators.get(&user_id)) {
            (Some(role), Some(c)) => role.required_skills.iter().all(|s| c.skills.contains(s)),
            _ => false,
        }
    }

    /// Add or replace a shift (its assignees follow it).
    pub fn put_shift(&mut self, shift: Shift) {
        let id = shift.id;
        if let Some(old) = self.shifts.get(&id) {
            if let Some(list) = self.site_shifts.get_mut(&old.site_id) {
                list.retain(|s| *s != id);
            }
            if let Some(team) = old.team_id
                && let Some(list) = self.team_shifts.get_mut(&team)
            {
                list.retain(|s| *s != id);
            }
        }
        self.site_shifts.entry(shift.site_id).or_default().push(id);
        if let Some(team) = shift.team_id {
            self.team_shifts.entry(team).or_default().push(id);
        }
        self.shifts.insert(id, shift);
        let users: Vec<Uuid> = self.assignees(id).to_vec();
        for user in users {
            self.sort_user(user);
        }
    }

    /// Remove a shift and its assignments.
    pub fn remove_shift(&mut self, id: Uuid) -> Option<Shift> {
        let shift = self.shifts.remove(&id)?;
        for user in self.on_shift.remove(&id).unwrap_or_default() {
            if let Some(list) = self.of_user.get_mut(&user) {
                list.retain(|s| *s != id);
            }
        }
        if let Some(list) = self.site_shifts.get_mut(&shift.site_id) {
            list.retain(|s| *s != id);
        }
        if let Some(team) = shift.team_id
            && let Some(list) = self.team_shifts.get_mut(&team)
        {
            list.retain(|s| *s != id);
        }
        Some(shift)
    }

    fn sort_user(&mut self, user: Uuid) {
        let shifts = &self.shifts;
        if let Some(list) = self.of_user.get_mut(&user) {
            list.sort_by_key(|id| shifts.get(id).map(|s| (s.start, s.id)));
        }
    }

    /// Record an active assignment; `false` when it already was (or the shift is unknown).
    pub fn assign(&mut self, shift_id: Uuid, user_id: Uuid) -> bool {
        if !self.shifts.contains_key(&shift_id) {
            return false;
        }
        let on = self.on_shift.entry(shift_id).or_default();
        if on.contains(&user_id) {
            return false;
        }
        on.push(user_id);
        self.of_user.entry(user_id).or_default().push(shift_id);
        self.sort_user(user_id);
        true
    }

    /// Remove an active assignment; `false` when there was none.
    pub fn unassign(&mut self, shift_id: Uuid, user_id: Uuid) -> bool {
        let Some(on) = self.on_shift.get_mut(&shift_id) else {
            return false;
        };
        let before = on.len();
        on.retain(|u| *u != user_id);
        if on.len() == before {
            return false;
        }
        if let Some(list) = self.of_user.get_mut(&user_id) {
            list.retain(|s| *s != shift_id);
        }
        true
    }

    fn conflict(&self, rule: Rule, message: String, details: Value) -> Option<Conflict> {
        let setting = self.rules.active(rule)?;
        Some(Conflict {
            severity: setting.severity,
            rule,
            message,
            details,
        })
    }

    /// Everything wrong with a shift: its own validity, headcount, break, capacity, and every
    /// assignee's conflicts on it.
    #[must_use]
    pub fn check_shift(&self, shift_id: Uuid) -> Vec<Conflict> {
        let Some(shift) = self.shifts.get(&shift_id) else {
            return Vec::new();
        };
        let mut out = self.shift_conflicts(shift);
        out.extend(self.capacity_conflicts(shift));
        for user in self.assignees(shift_id) {
            out.extend(self.collaborator_conflicts(shift, *user));
        }
        out
    }

    /// The conflicts an assignment (already in the plan) causes or meets.
    #[must_use]
    pub fn check_assignment(&self, shift_id: Uuid, user_id: Uuid) -> Vec<Conflict> {
        let Some(shift) = self.shifts.get(&shift_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let assigned = self.assignees(shift_id).len();
        if assigned > usize::try_from(shift.headcount.max(0)).unwrap_or(0) {
            out.extend(self.conflict(
                Rule::HeadcountExceeded,
                format!(
                    "The shift needs {} people and would have {assigned}",
                    shift.headcount
                ),
                json!({ "shift_id": shift.id, "headcount": shift.headcount, "assigned": assigned, "over": assigned - usize::try_from(shift.headcount.max(0)).unwrap_or(0) }),
            ));
        }
        out.extend(self.capacity_conflicts(shift));
        out.extend(self.collaborator_conflicts(shift, user_id));
        out
    }

    /// Assign, check, and put the plan back as it was: what assigning would cause.
    pub fn evaluate(&mut self, shift_id: Uuid, user_id: Uuid) -> Vec<Conflict> {
        let added = self.assign(shift_id, user_id);
        let out = self.check_assignment(shift_id, user_id);
        if added {
            self.unassign(shift_id, user_id);
        }
        out
    }

    /// Conflicts of the shift on its own (times, references, headcount, break).
    #[must_use]
    pub fn shift_conflicts(&self, shift: &Shift) -> Vec<Conflict> {
        let mut out = Vec::new();
        let length = time::minutes(shift.start, shift.end);
        if length <= 0 || length > 24 * 60 {
            out.extend(self.conflict(
                Rule::InvalidTimeRange,
                if length <= 0 {
                    "The shift ends at or before its start".to_owned()
                } else {
                    "A shift lasts at most 24 hours".to_owned()
                },
                json!({ "shift_id": shift.id, "starts_at": shift.start, "ends_at": shift.end, "duration_minutes": length }),
            ));
        }
        if !self.sites.contains_key(&shift.site_id) {
            out.extend(self.conflict(
                Rule::InvalidReference,
                "No such site".to_owned(),
                json!({ "shift_id": shift.id, "field": "site_id", "id": shift.site_id }),
            ));
        }
        if !self.roles.contains_key(&shift.job_role_id) {
            out.extend(self.conflict(
                Rule::InvalidReference,
                "No such job role".to_owned(),
                json!({ "shift_id": shift.id, "field": "job_role_id", "id": shift.job_role_id }),
            ));
        }
        if let Some(team) = shift.team_id
            && !self.teams.contains_key(&team)
        {
            out.extend(self.conflict(
                Rule::InvalidReference,
                "No such team".to_owned(),
                json!({ "shift_id": shift.id, "field": "team_id", "id": team }),
            ));
        }
        let assigned = self.assignees(shift.id).len();
        let headcount = usize::try_from(shift.headcount.max(0)).unwrap_or(0);
        if assigned > headcount {
            out.extend(self.conflict(
                Rule::HeadcountExceeded,
                format!(
                    "The shift needs {headcount} people and has {assigned} assigned"
                ),
                json!({ "shift_id": shift.id, "headcount": headcount, "assigned": assigned, "over": assigned - headcount }),
            ));
        }
        if let Some(rule) = self.rules.active(Rule::BreakRequired) {
            let threshold = rule.param("threshold_minutes");
            let min_break = rule.param("min_break_minutes");
            #[allow(clippy::cast_precision_loss)]
            if length as f64 > threshold && f64::from(shift.break_minutes) < min_break {
                out.extend(self.conflict(
                    Rule::BreakRequired,
                    format!(
                        "A shift of {} h needs a break of at least {min_break} minutes",
                        to_hours(length)
                    ),
                    json!({ "shift_id": shift.id, "duration_minutes": length, "break_minutes": shift.break_minutes, "min_break_minutes": min_break, "missing_minutes": min_break - f64::from(shift.break_minutes) }),
                ));
            }
        }
        out
    }

    /// Peak number of people working at once over `[start, end)` on the given shifts.
    fn peak(&self, shifts: &[Uuid], start: DateTime<Utc>, end: DateTime<Utc>) -> usize {
        let mut events: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for id in shifts {
            let Some(s) = self.shifts.get(id) else {
                continue;
            };
            let n = i64::try_from(self.assignees(*id).len()).unwrap_or(0);
            if n == 0 || !s.overlaps(start, end) {
                continue;
            }
            events.push((s.start.max(start), n));
            events.push((s.end.min(end), -n));
        }
        // Ends before starts at the same instant: touching shifts do not overlap.
        events.sort_by_key(|(t, d)| (*t, *d));
        let (mut now, mut peak) = (0_i64, 0_i64);
        for (_, d) in events {
            now += d;
            peak = peak.max(now);
        }
        usize::try_from(peak).unwrap_or(0)
    }

    fn capacity_conflicts(&self, shift: &Shift) -> Vec<Conflict> {
        let mut out = Vec::new();
        let groups = [
            (
                Rule::SiteCapacity,
                "site",
                Some(shift.site_id),
                self.sites
                    .get(&shift.site_id)
                    .map(|s| (s.capacity_hard, s.capacity_soft)),
                &self.site_shifts,
            ),
            (
                Rule::TeamCapacity,
                "team",
                shift.team_id,
                shift
                    .team_id
                    .and_then(|t| self.teams.get(&t))
                    .map(|t| (t.capacity_hard, t.capacity_soft)),
                &self.team_shifts,
            ),
        ];
        for (rule, what, id, limits, index) in groups {
            let (Some(id), Some((hard, soft))) = (id, limits) else {
                continue;
            };
            if hard.is_none() && soft.is_none() || self.rules.active(rule).is_none() {
                continue;
            }
            let shifts = index.get(&id).map_or(&[][..], Vec::as_slice);
            let peak = self.peak(shifts, shift.start, shift.end);
            let exceeded = [(hard, Severity::Hard), (soft, Severity::Soft)]
                .into_iter()
                .find_map(|(limit, severity)| {
                    let limit = usize::try_from(limit?).unwrap_or(0);
                    (peak > limit).then_some((limit, severity))
                });
            if let Some((limit, severity)) = exceeded {
                out.push(Conflict {
                    severity,
                    rule,
                    message: format!(
                        "{peak} people would work at once on this {what} ({} limit {limit})",
                        severity.as_str()
                    ),
                    details: json!({ "shift_id": shift.id, format!("{what}_id"): id, "limit": limit, "limit_type": severity, "peak": peak, "over": peak - limit }),
                });
            }
        }
        out
    }

    /// The collaborator's conflicts on this shift (the assignment being in the plan).
    #[allow(clippy::too_many_lines)]
    #[must_use]
    pub fn collaborator_conflicts(&self, shift: &Shift, user_id: Uuid) -> Vec<Conflict> {
        let mut out = Vec::new();
        let Some(collab) = self.collaborators.get(&user_id) else {
            out.extend(self.conflict(
                Rule::InvalidReference,
                "No such collaborator".to_owned(),
                json!({ "shift_id": shift.id, "field": "collaborator_id", "id": user_id }),
            ));
            return out;
        };
        let others: Vec<&Shift> = self
            .shifts_of(user_id)
            .iter()
            .filter(|id| **id != shift.id)
            .filter_map(|id| self.shifts.get(id))
            .collect();

        for other in &others {
            if other.overlaps(shift.start, shift.end) {
                let overlap = time::minutes(other.start.max(shift.start), other.end.min(shift.end));
                out.extend(self.conflict(
                    Rule::DoubleBooking,
                    format!("The collaborator already works another shift for {overlap} minutes of this one"),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "other_shift_id": other.id, "overlap_minutes": overlap }),
                ));
            }
        }

        if let Some(rule) = self.rules.active(Rule::MinRest) {
            let required = time::hours(rule.param("hours")).num_minutes();
            for other in &others {
                if other.local_date == shift.local_date || other.overlaps(shift.start, shift.end) {
                    continue;
                }
                let rest = if other.end <= shift.start {
                    time::minutes(other.end, shift.start)
                } else {
                    time::minutes(shift.end, other.start)
                };
                if rest < required {
                    out.extend(self.conflict(
                        Rule::MinRest,
                        format!(
                            "Only {} h of rest between two shifts (at least {} h)",
                            to_hours(rest),
                            to_hours(required)
                        ),
                        json!({ "collaborator_id": user_id, "shift_id": shift.id, "other_shift_id": other.id, "rest_minutes": rest, "required_minutes": required, "missing_minutes": required - rest }),
                    ));
                }
            }
        }

        if let Some(role) = self.roles.get(&shift.job_role_id) {
            let missing: Vec<Uuid> = role
                .required_skills
                .iter()
                .filter(|s| !collab.skills.contains(s))
                .copied()
                .collect();
            if !missing.is_empty() {
                out.extend(self.conflict(
                    Rule::MissingSkill,
                    format!("The collaborator lacks {} skill(s) the role requires", missing.len()),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "job_role_id": role.id, "missing_skills": missing }),
                ));
            }
        }

        for leave in self.leaves.get(&user_id).into_iter().flatten() {
            if shift.overlaps(leave.start, leave.end) {
                out.extend(self.conflict(
                    Rule::OnLeave,
                    format!("The collaborator is on leave ({})", leave.kind),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "leave_kind": leave.kind, "leave_starts_at": leave.start, "leave_ends_at": leave.end }),
                ));
            }
        }

        for holiday in &self.holidays {
            if holiday.date == shift.local_date
                && holiday.site_id.is_none_or(|s| s == shift.site_id)
            {
                out.extend(self.conflict(
                    Rule::PublicHoliday,
                    format!("{} is a public holiday ({})", holiday.date, holiday.name),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "date": holiday.date, "holiday": holiday.name }),
                ));
            }
        }

        self.hour_caps(shift, collab, &others, &mut out);

        if let Some(windows) = self.availability.get(&user_id)
            && !windows.is_empty()
        {
            let uncovered = uncovered_minutes(windows, shift.start, shift.end);
            if uncovered > 0 {
                out.extend(self.conflict(
                    Rule::OutsideAvailability,
                    format!("{uncovered} minutes of the shift fall outside the collaborator's declared availability"),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "outside_minutes": uncovered }),
                ));
            }
        }

        if let Some(rule) = self.rules.active(Rule::MultipleShiftsPerDay) {
            let same_day: Vec<Uuid> = others
                .iter()
                .filter(|o| o.local_date == shift.local_date)
                .map(|o| o.id)
                .collect();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let max = rule.param("max").max(1.0) as usize;
            if same_day.len() + 1 > max {
                out.extend(self.conflict(
                    Rule::MultipleShiftsPerDay,
                    format!("{} shifts on {} (at most {max})", same_day.len() + 1, shift.local_date),
                    json!({ "collaborator_id": user_id, "shift_id": shift.id, "date": shift.local_date, "other_shift_ids": same_day, "shifts": same_day.len() + 1, "max": max }),
                ));
            }
        }
        out
    }

    fn hour_caps(
        &self,
        shift: &Shift,
        collab: &Collaborator,
        others: &[&Shift],
        out: &mut Vec<Conflict>,
    ) {
        let sum = |pred: &dyn Fn(&Shift) -> bool| -> i64 {
            shift.worked_minutes()
                + others
                    .iter()
                    .filter(|o| pred(o))
                    .map(|o| o.worked_minutes())
                    .sum::<i64>()
        };
        let week = shift.local_date.iso_week();
        let caps: [(Rule, Option<f64>, String, i64); 3] = [
            (
                Rule::MaxHoursDay,
                collab.max_hours_day,
                shift.local_date.to_string(),
                sum(&|o| o.local_date == shift.local_date),
            ),
            (
                Rule::MaxHoursWeek,
                collab.max_hours_week,
                time::iso_week_label(shift.local_date),
                sum(&|o| o.local_date.iso_week() == week),
            ),
            (
                Rule::MaxHoursMonth,
                collab.max_hours_month,
                time::month_label(shift.local_date),
                sum(&|o| {
                    o.local_date.year() == shift.local_date.year()
                        && o.local_date.month() == shift.local_date.month()
                }),
            ),
        ];
        for (rule, contract, period, worked) in caps {
            let Some(setting) = self.rules.active(rule) else {
                continue;
            };
            let cap = contract.unwrap_or_else(|| setting.param("hours"));
            let cap_minutes = time::hours(cap).num_minutes();
            if worked > cap_minutes {
                out.extend(self.conflict(
                    rule,
                    format!(
                        "{} h worked in {period} (cap {cap} h, {} h over)",
                        to_hours(worked),
                        to_hours(worked - cap_minutes)
                    ),
                    json!({ "collaborator_id": collab.id, "shift_id": shift.id, "period": period, "hours": to_hours(worked), "cap_hours": cap, "over_hours": to_hours(worked - cap_minutes), "from_contract": contract.is_some() }),
                ));
            }
        }
        if let Some(setting) = self.rules.active(Rule::Rolling7Days) {
            let cap_minutes = time::hours(setting.param("hours")).num_minutes();
            let window = Duration::days(7);
            // Every 7-day window holding this shift starts at one of the shifts' starts
            // within the week before it (the busiest window starts where work starts).
            let mut worst = (0_i64, shift.start);
            let anchors = others
                .iter()
                .map(|o| o.start)
                .chain(std::iter::once(shift.start))
                .filter(|a| *a <= shift.start && *a > shift.start - window);
            for anchor in anchors {
                let end = anchor + window;
                let total: i64 = others
                    .iter()
                    .copied()
                    .chain(std::iter::once(shift))
                    .filter(|s| s.start >= anchor && s.start < end)
                    .map(Shift::worked_minutes)
                    .sum();
                if total > worst.0 {
                    worst = (total, anchor);
                }
            }
            if worst.0 > cap_minutes {
                out.extend(self.conflict(
                    Rule::Rolling7Days,
                    format!(
                        "{} h worked in the 7 days from {} (cap {} h)",
                        to_hours(worst.0),
                        worst.1.format("%Y-%m-%d %H:%M UTC"),
                        to_hours(cap_minutes)
                    ),
                    json!({ "collaborator_id": collab.id, "shift_id": shift.id, "window_start": worst.1, "hours": to_hours(worst.0), "cap_hours": to_hours(cap_minutes), "over_hours": to_hours(worst.0 - cap_minutes) }),
                ));
            }
        }
    }

    /// Conflicts of every shift given (each shift's own list).
    #[must_use]
    pub fn check_all(&self, shift_ids: &[Uuid]) -> Vec<(Uuid, Vec<Conflict>)> {
        shift_ids
            .iter()
            .map(|id| (*id, self.check_shift(*id)))
            .collect()
    }

    /// Worked minutes of a collaborator over the given shifts.
    #[must_use]
    pub fn worked_minutes(&self, user_id: Uuid) -> i64 {
        self.shifts_of(user_id)
            .iter()
            .filter_map(|id| self.shifts.get(id))
            .map(Shift::worked_minutes)
            .sum()
    }

    /// The site's time zone (UTC for an unknown site).
    #[must_use]
    pub fn tz_of(&self, site_id: Uuid) -> Tz {
        self.sites.get(&site_id).map_or(chrono_tz::UTC, |s| s.tz)
    }
}

/// Minutes of `[start, end)` that no window covers.
fn uncovered_minutes(windows: &[Span], start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let mut parts: Vec<Span> = windows
        .iter()
        .filter(|(s, e)| *s < end && start < *e)
        .map(|(s, e)| ((*s).max(start), (*e).min(end)))
        .collect();
    parts.sort();
    let mut covered = 0_i64;
    let mut cursor = start;
    for (s, e) in parts {
        let s = s.max(cursor);
        if e > s {
            covered += time::minutes(s, e);
            cursor = e;
        }
    }
    time::minutes(start, end) - covered
}
