//! Planning PRO's engine: one place that decides what is wrong with a plan.
//!
//! The planning routes load the part of the plan a change touches into a [`Plan`], apply the
//! change in memory and ask the same checks the preview, the publish gate and the auto-assign
//! solver ask. Hard conflicts block a write; soft ones are warnings returned with it.
//!
//! Time: shifts are UTC instants computed from the site's local times ([`time`]); a shift's
//! hours count for the local date it starts on; weeks are ISO weeks of those dates.

pub mod plan;
pub mod rules;
pub mod solve;
pub mod suggest;
pub mod time;

pub use plan::{Collaborator, Conflict, Holiday, JobRole, Leave, Plan, Shift, Site, Team, count};
pub use rules::{Rule, RuleSet, RuleSetting, Severity};
pub use solve::{Proposal, Solution, SolveOptions, solve};
pub use suggest::{Suggestion, suggest};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use chrono::{NaiveDate, NaiveTime};
    use chrono_tz::Tz;
    use uuid::Uuid;

    use super::*;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    struct World {
        plan: Plan,
        site: Uuid,
        team: Uuid,
        role: Uuid,
        skill: Uuid,
    }

    fn world() -> World {
        let (site, team, role, skill) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let mut plan = Plan::new(RuleSet::default());
        plan.add_site(Site {
            id: site,
            tz: PARIS,
            capacity_hard: None,
            capacity_soft: None,
        });
        plan.add_team(Team {
            id: team,
            capacity_hard: None,
            capacity_soft: None,
        });
        plan.add_role(JobRole {
            id: role,
            required_skills: vec![skill],
        });
        World {
            plan,
            site,
            team,
            role,
            skill,
        }
    }

    impl World {
        fn person(&mut self) -> Uuid {
            let id = Uuid::now_v7();
            self.plan.add_collaborator(Collaborator {
                id,
                team_id: Some(self.team),
                skills: BTreeSet::from([self.skill]),
                max_hours_day: None,
                max_hours_week: None,
                max_hours_month: None,
            });
            id
        }

        /// A shift on `date` from `start` to `end` (local), `break` minutes.
        fn shift(
            &mut self,
            date: (i32, u32, u32),
            start: (u32, u32),
            end: (u32, u32),
            pause: i32,
        ) -> Uuid {
            let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap();
            let (s, e) = time::shift_bounds(
                PARIS,
                date,
                NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap(),
                NaiveTime::from_hms_opt(end.0, end.1, 0).unwrap(),
            )
            .unwrap();
            let id = Uuid::now_v7();
            self.plan.put_shift(Shift {
                id,
                site_id: self.site,
                job_role_id: self.role,
                team_id: Some(self.team),
                start: s,
                end: e,
                local_date: date,
                break_minutes: pause,
                headcount: 3,
            });
            id
        }

        fn rules_on(&mut self, shift: Uuid, user: Uuid) -> Vec<(Rule, Severity)> {
            self.plan.assign(shift, user);
            self.plan
                .check_assignment(shift, user)
                .into_iter()
                .map(|c| (c.rule, c.severity))
                .collect()
        }
    }

    #[test]
    fn touching_shifts_are_not_a_double_booking() {
        let mut w = world();
        let p = w.person();
        let a = w.shift((2026, 11, 23), (6, 0), (10, 0), 0);
        let b = w.shift((2026, 11, 23), (10, 0), (14, 0), 0);
        w.rules_on(a, p);
        let found = w.rules_on(b, p);
        assert!(
            !found.iter().any(|(r, _)| *r == Rule::DoubleBooking),
            "{found:?}"
        );
        // Two shifts the same day: only the soft "more than one shift a day".
        assert_eq!(found, vec![(Rule::MultipleShiftsPerDay, Severity::Soft)]);
    }

    #[test]
    fn overlapping_shifts_are_a_hard_double_booking_with_the_overlap() {
        let mut w = world();
        let p = w.person();
        let a = w.shift((2026, 11, 23), (6, 0), (10, 0), 0);
        let b = w.shift((2026, 11, 23), (9, 30), (12, 0), 0);
        w.rules_on(a, p);
        w.plan.assign(b, p);
        let conflicts = w.plan.check_assignment(b, p);
        let double = conflicts
            .iter()
            .find(|c| c.rule == Rule::DoubleBooking)
            .unwrap();
        assert_eq!(double.severity, Severity::Hard);
        assert_eq!(double.details["overlap_minutes"], 30);
        assert_eq!(double.details["other_shift_id"], a.to_string());
    }

    #[test]
    fn an_overnight_shift_then_a_morning_shift_breaks_the_rest() {
        let mut w = world();
        let p = w.person();
        // 22:00 → 06:00, then 14:00 the next day: 8 h of rest, 11 required.
        let night = w.shift((2026, 11, 23), (22, 0), (6, 0), 30);
        let next = w.shift((2026, 11, 24), (14, 0), (18, 0), 0);
        w.rules_on(night, p);
        w.plan.assign(next, p);
        let rest = w
            .plan
            .check_assignment(next, p)
            .into_iter()
            .find(|c| c.rule == Rule::MinRest)
            .unwrap();
        assert_eq!(rest.details["rest_minutes"], 8 * 60);
        assert_eq!(rest.details["missing_minutes"], 3 * 60);
        // 17:00 leaves exactly 11 hours: fine.
        let later = w.shift((2026, 11, 24), (17, 0), (20, 0), 0);
        w.plan.unassign(next, p);
        assert!(w.rules_on(later, p).is_empty());
    }

    #[test]
    fn rest_across_the_dst_weekend_counts_real_hours() {
        let mut w = world();
        let p = w.person();
        // Ends 2026-10-25 at 01:00 local (+02:00), next starts 11:00 local (+01:00): 11 real
        // hours although the wall clock says 10.
        let a = w.shift((2026, 10, 24), (17, 0), (1, 0), 60);
        let b = w.shift((2026, 10, 25), (11, 0), (15, 0), 0);
        w.rules_on(a, p);
        assert!(!w.rules_on(b, p).iter().any(|(r, _)| *r == Rule::MinRest));
        // In spring the wall clock says 11 hours but only 10 pass.
        let c = w.shift((2026, 3, 28), (17, 0), (1, 0), 60);
        let d = w.shift((2026, 3, 29), (12, 0), (15, 0), 0);
        w.rules_on(c, p);
        let found = w.rules_on(d, p);
        assert!(
            found.contains(&(Rule::MinRest, Severity::Hard)),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_skill_a_leave_and_a_holiday_are_hard() {
        let mut w = world();
        let p = w.person();
        let unskilled = Uuid::now_v7();
        w.plan.add_collaborator(Collaborator {
            id: unskilled,
            team_id: None,
            skills: BTreeSet::new(),
            max_hours_day: None,
            max_hours_week: None,
            max_hours_month: None,
        });
        let s = w.shift((2026, 12, 1), (8, 0), (12, 0), 0);
        assert_eq!(
            w.rules_on(s, unskilled),
            vec![(Rule::MissingSkill, Severity::Hard)]
        );
        let leave_start = w.plan.shift(s).unwrap().start - chrono::Duration::hours(1);
        w.plan.add_leave(Leave {
            user_id: p,
            start: leave_start,
            end: leave_start + chrono::Duration::hours(2),
            kind: "conges".into(),
        });
        assert_eq!(w.rules_on(s, p), vec![(Rule::OnLeave, Severity::Hard)]);
        let xmas = w.shift((2026, 12, 25), (8, 0), (12, 0), 0);
        w.plan.add_holiday(Holiday {
            site_id: None,
            date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
            name: "Noël".into(),
        });
        let other = w.person();
        assert_eq!(
            w.rules_on(xmas, other),
            vec![(Rule::PublicHoliday, Severity::Hard)]
        );
    }

    #[test]
    fn hour_caps_per_day_week_and_contract_are_soft_with_the_amount_over() {
        let mut w = world();
        let p = w.person();
        // Monday to Friday 07:00–18:00 with a 1 h break: 10 h a day, 50 h in the week.
        let mut last = None;
        for day in 23..=27 {
            let s = w.shift((2026, 11, day), (7, 0), (18, 0), 60);
            w.plan.assign(s, p);
            last = Some(s);
        }
        let conflicts = w.plan.check_assignment(last.unwrap(), p);
        let week = conflicts
            .iter()
            .find(|c| c.rule == Rule::MaxHoursWeek)
            .unwrap();
        assert_eq!(week.severity, Severity::Soft);
        assert_eq!(week.details["period"], "2026-W48");
        assert_eq!(week.details["over_hours"], 2.0);
        let rolling = conflicts
            .iter()
            .find(|c| c.rule == Rule::Rolling7Days)
            .unwrap();
        assert_eq!(rolling.details["hours"], 50.0);
        assert!(!conflicts.iter().any(|c| c.rule == Rule::MaxHoursDay));
        // A contract of 8 h a day makes each day 2 h over.
        let q = Uuid::now_v7();
        w.plan.add_collaborator(Collaborator {
            id: q,
            team_id: None,
            skills: BTreeSet::from([w.skill]),
            max_hours_day: Some(8.0),
            max_hours_week: None,
            max_hours_month: None,
        });
        let s = w.shift((2026, 11, 30), (7, 0), (18, 0), 60);
        let day = w.rules_on(s, q);
        assert_eq!(day, vec![(Rule::MaxHoursDay, Severity::Soft)]);
    }

    #[test]
    fn the_rolling_window_catches_what_two_iso_weeks_hide() {
        let mut w = world();
        let p = w.person();
        // Thursday to Wednesday across a week boundary, 7 h a day: 49 h in 7 days, but at
        // most 28 h in either ISO week.
        let days = [
            (2026, 11, 26),
            (2026, 11, 27),
            (2026, 11, 28),
            (2026, 11, 29),
            (2026, 11, 30),
            (2026, 12, 1),
            (2026, 12, 2),
        ];
        let mut found = Vec::new();
        for d in days {
            let s = w.shift(d, (8, 0), (15, 0), 0);
            found = w.rules_on(s, p);
        }
        assert_eq!(found, vec![(Rule::Rolling7Days, Severity::Soft)]);
    }

    #[test]
    fn availability_breaks_and_invalid_ranges() {
        let mut w = world();
        let p = w.person();
        let s = w.shift((2026, 11, 23), (8, 0), (16, 0), 0);
        let start = w.plan.shift(s).unwrap().start;
        w.plan
            .add_availability(p, start, start + chrono::Duration::hours(6));
        let found = w.rules_on(s, p);
        assert!(found.contains(&(Rule::OutsideAvailability, Severity::Soft)));
        let conflicts = w.plan.check_shift(s);
        let pause = conflicts
            .iter()
            .find(|c| c.rule == Rule::BreakRequired)
            .unwrap();
        assert_eq!(pause.details["missing_minutes"], 20.0);
        let empty = w.shift((2026, 11, 24), (8, 0), (8, 0), 0);
        let bad = w.plan.check_shift(empty);
        assert_eq!(bad[0].rule, Rule::InvalidTimeRange);
        assert!(bad[0].is_hard());
    }

    #[test]
    fn capacity_counts_people_at_once_and_knows_hard_from_soft() {
        let mut w = world();
        w.plan.add_site(Site {
            id: w.site,
            tz: PARIS,
            capacity_hard: Some(3),
            capacity_soft: Some(2),
        });
        let a = w.shift((2026, 11, 23), (8, 0), (12, 0), 0);
        let b = w.shift((2026, 11, 23), (12, 0), (16, 0), 0);
        let people: Vec<Uuid> = (0..4).map(|_| w.person()).collect();
        // Two in the morning, two in the afternoon: the shifts touch, so never more than 2.
        for p in &people[..2] {
            assert!(w.rules_on(a, *p).is_empty());
        }
        for p in &people[2..] {
            assert!(w.rules_on(b, *p).is_empty());
        }
        let c = w.shift((2026, 11, 23), (11, 0), (13, 0), 0);
        let third = w.rules_on(c, people[2]);
        // people[2] is already on b (12–16): double booked; and 3 at once → soft capacity.
        assert!(
            third.contains(&(Rule::SiteCapacity, Severity::Soft)),
            "{third:?}"
        );
        w.plan.unassign(c, people[2]);
        let extra1 = w.person();
        let extra2 = w.person();
        w.plan.assign(c, extra1);
        w.plan.assign(c, extra2);
        let over = w.plan.check_assignment(c, extra2);
        let cap = over.iter().find(|x| x.rule == Rule::SiteCapacity).unwrap();
        assert!(cap.is_hard());
        assert_eq!(cap.details["peak"], 4);
        assert_eq!(cap.details["over"], 1);
    }

    #[test]
    fn rules_can_be_softened_or_disabled_but_structural_ones_stay_hard() {
        let mut w = world();
        let mut soft_rest = RuleSetting::default_for(Rule::MinRest);
        soft_rest.severity = Severity::Soft;
        w.plan.rules.set(soft_rest);
        let mut off = RuleSetting::default_for(Rule::DoubleBooking);
        off.enabled = false;
        w.plan.rules.set(off);
        assert!(w.plan.rules.active(Rule::DoubleBooking).is_some());
        let p = w.person();
        let a = w.shift((2026, 11, 23), (14, 0), (22, 0), 30);
        let b = w.shift((2026, 11, 24), (6, 0), (12, 0), 0);
        w.rules_on(a, p);
        assert_eq!(w.rules_on(b, p), vec![(Rule::MinRest, Severity::Soft)]);
    }

    #[test]
    fn suggestions_offer_a_free_colleague_a_move_and_an_unassign() {
        let mut w = world();
        let p = w.person();
        let q = w.person();
        let a = w.shift((2026, 11, 23), (8, 0), (12, 0), 0);
        let b = w.shift((2026, 11, 23), (10, 0), (14, 0), 0);
        w.rules_on(a, p);
        w.plan.assign(b, p);
        let found = suggest(&mut w.plan, b, p, 5);
        assert_eq!(found[0].action, "reassign");
        assert_eq!(found[0].collaborator_id, Some(q));
        assert!(found[0].resolves.contains(&Rule::DoubleBooking));
        let moved = found.iter().find(|s| s.action == "move_shift").unwrap();
        assert_eq!(moved.shift_offset_minutes, Some(2 * 60));
        assert_eq!(found.last().unwrap().action, "unassign");
        // The plan is as it was.
        assert_eq!(w.plan.assignees(b), &[p]);
        assert_eq!(
            w.plan.shift(b).unwrap().start.format("%H").to_string(),
            "09"
        );
    }

    #[test]
    fn auto_assign_fills_without_hard_conflicts_and_keeps_what_was_there() {
        let mut w = world();
        let people: Vec<Uuid> = (0..6).map(|_| w.person()).collect();
        let mut scope = Vec::new();
        for day in 23..=29 {
            scope.push(w.shift((2026, 11, day), (6, 0), (14, 0), 30));
            scope.push(w.shift((2026, 11, day), (14, 0), (22, 0), 30));
        }
        w.plan.assign(scope[0], people[0]);
        let solution = solve(&mut w.plan, &scope, &SolveOptions::default(), &mut |_| {
            false
        });
        assert_eq!(solution.required, 14 * 3);
        assert_eq!(solution.hard_violations, 0);
        assert!(w.plan.assignees(scope[0]).contains(&people[0]));
        assert!(
            !solution
                .proposals
                .iter()
                .any(|p| p.shift_id == scope[0] && p.user_id == people[0])
        );
        // 42 seats for six people: an evening shift cannot be followed by the next morning
        // (11 h rest), so most seats, not always all, can be taken without a hard conflict.
        assert!(solution.filled >= 36, "{solution:?}");
        for id in &scope {
            assert_eq!(count(&w.plan.check_shift(*id)).0, 0);
        }
    }

    #[test]
    fn auto_assign_never_proposes_someone_who_declined_that_shift() {
        let mut w = world();
        let p = w.person();
        let q = w.person();
        let s = w.shift((2026, 11, 23), (8, 0), (12, 0), 0);
        w.plan.exclude(s, p);
        let solution = solve(&mut w.plan, &[s], &SolveOptions::default(), &mut |_| false);
        assert_eq!(solution.proposals.len(), 1);
        assert_eq!(solution.proposals[0].user_id, q);
        // Three seats, one person left who may take it.
        assert_eq!(solution.filled, 1);
    }

    #[test]
    fn auto_assign_stops_when_told_and_keeps_its_partial_plan() {
        let mut w = world();
        for _ in 0..3 {
            w.person();
        }
        let scope: Vec<Uuid> = (0..40)
            .map(|i| w.shift((2026, 12, 1 + (i % 28)), (8, 0), (12, 0), 0))
            .collect();
        let solution = solve(&mut w.plan, &scope, &SolveOptions::default(), &mut |p| {
            p > 0
        });
        assert!(solution.stopped);
        assert!(solution.filled < solution.required);
        assert_eq!(solution.hard_violations, 0);
    }
}
