//! Benchmark (not a test): auto-assign on a generated instance of 1,000 shifts × 200
//! collaborators over four weeks, and the conflict check of a week of 2,000 shifts.
//!
//! `cargo run --release -p planning-engine --example bench`
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveTime};
use planning_engine::{
    Collaborator, Holiday, JobRole, Leave, Plan, RuleSet, Shift, Site, SolveOptions, Team, count,
    solve, time,
};
use uuid::Uuid;

/// A small deterministic generator (the same instance on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Instance {
    plan: Plan,
    sites: Vec<Uuid>,
    roles: Vec<Uuid>,
    teams: Vec<Uuid>,
}

fn instance(rng: &mut Lcg, people: usize) -> Instance {
    let tz = chrono_tz::Europe::Paris;
    let mut plan = Plan::new(RuleSet::default());
    let skills: Vec<Uuid> = (0..12).map(|_| Uuid::now_v7()).collect();
    let sites: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    for (i, id) in sites.iter().enumerate() {
        plan.add_site(Site {
            id: *id,
            tz,
            capacity_hard: (i % 3 == 0).then_some(40),
            capacity_soft: (i % 3 == 0).then_some(30),
        });
    }
    let teams: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    for id in &teams {
        plan.add_team(Team {
            id: *id,
            capacity_hard: None,
            capacity_soft: None,
        });
    }
    let roles: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    for (i, id) in roles.iter().enumerate() {
        let mut required = vec![skills[i % 12]];
        if i % 2 == 0 {
            required.push(skills[(i + 5) % 12]);
        }
        plan.add_role(JobRole {
            id: *id,
            required_skills: required,
        });
    }
    let start = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    for p in 0..people {
        let id = Uuid::now_v7();
        let mut own = BTreeSet::new();
        for _ in 0..(3 + rng.below(4)) {
            own.insert(skills[rng.below(12) as usize]);
        }
        plan.add_collaborator(Collaborator {
            id,
            team_id: Some(teams[p % teams.len()]),
            skills: own,
            max_hours_day: None,
            max_hours_week: (p % 4 == 0).then_some(35.0),
            max_hours_month: None,
        });
        if p % 20 == 0 {
            let from = (start + Duration::days(rng.below(24) as i64))
                .and_time(NaiveTime::MIN)
                .and_utc();
            plan.add_leave(Leave {
                user_id: id,
                start: from,
                end: from + Duration::days(3),
                kind: "conges".into(),
            });
        }
        if p % 7 == 0 {
            for d in 0..28 {
                let day = (start + Duration::days(d))
                    .and_time(NaiveTime::MIN)
                    .and_utc();
                plan.add_availability(id, day + Duration::hours(5), day + Duration::hours(17));
            }
        }
    }
    plan.add_holiday(Holiday {
        site_id: None,
        date: start + Duration::days(18),
        name: "Férié".into(),
    });
    Instance {
        plan,
        sites,
        roles,
        teams,
    }
}

fn add_shifts(
    rng: &mut Lcg,
    inst: &mut Instance,
    n: usize,
    days: i64,
    headcount_max: u64,
) -> Vec<Uuid> {
    let tz = chrono_tz::Europe::Paris;
    let start = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let starts = [6, 7, 8, 9, 13, 14, 21];
    (0..n)
        .map(|_| {
            let date = start + Duration::days(rng.below(days as u64) as i64);
            let h = starts[rng.below(starts.len() as u64) as usize];
            let (s, e) = time::shift_bounds(
                tz,
                date,
                NaiveTime::from_hms_opt(h, 0, 0).unwrap(),
                NaiveTime::from_hms_opt((h + 8) % 24, 0, 0).unwrap(),
            )
            .unwrap();
            let id = Uuid::now_v7();
            inst.plan.put_shift(Shift {
                id,
                site_id: inst.sites[rng.below(inst.sites.len() as u64) as usize],
                job_role_id: inst.roles[rng.below(inst.roles.len() as u64) as usize],
                team_id: Some(inst.teams[rng.below(inst.teams.len() as u64) as usize]),
                start: s,
                end: e,
                local_date: date,
                break_minutes: 30,
                headcount: 1 + rng.below(headcount_max) as i32,
            });
            id
        })
        .collect()
}

fn main() {
    // 1) Auto-assign: 1,000 shifts (1–3 seats) × 200 collaborators over four weeks.
    let mut rng = Lcg(20_261_122);
    let mut inst = instance(&mut rng, 200);
    let scope = add_shifts(&mut rng, &mut inst, 1_000, 28, 3);
    let t = Instant::now();
    let solution = solve(
        &mut inst.plan,
        &scope,
        &SolveOptions::default(),
        &mut |_| false,
    );
    let elapsed = t.elapsed();
    println!("auto-assign: 1,000 shifts x 200 collaborators, 4 weeks");
    println!("  time            {:.3} s", elapsed.as_secs_f64());
    println!(
        "  seats           {}/{} (coverage {:.2} %)",
        solution.filled,
        solution.required,
        solution.coverage() * 100.0
    );
    println!("  hard violations {}", solution.hard_violations);
    println!("  soft violations {}", solution.soft_violations);
    println!("  local search    {} moves", solution.local_search_moves);
    println!(
        "  hours per used collaborator: {} .. {}",
        solution.min_hours, solution.max_hours
    );
    for line in &solution.log {
        println!("  | {line}");
    }
    let mut hard = 0;
    for id in &scope {
        hard += count(&inst.plan.check_shift(*id)).0;
    }
    assert_eq!(hard, 0, "auto-assign broke a hard rule");

    // 2) Conflict checks on a week of 2,000 shifts, staffed by the solver (400 collaborators).
    let mut rng = Lcg(42);
    let mut inst = instance(&mut rng, 400);
    let week = add_shifts(&mut rng, &mut inst, 2_000, 7, 2);
    let t = Instant::now();
    let filled = solve(&mut inst.plan, &week, &SolveOptions::default(), &mut |_| {
        false
    });
    println!(
        "auto-assign: a dense week, 2,000 shifts x 400 collaborators: {:.3} s, {}/{} seats, {} soft, {} hard",
        t.elapsed().as_secs_f64(),
        filled.filled,
        filled.required,
        filled.soft_violations,
        filled.hard_violations
    );
    for line in &filled.log {
        println!("  | {line}");
    }
    let t = Instant::now();
    let all = inst.plan.check_all(&week);
    let full = t.elapsed();
    let conflicts: usize = all.iter().map(|(_, c)| c.len()).sum();
    let (shift_id, user_id) = week
        .iter()
        .find_map(|s| inst.plan.assignees(*s).first().map(|u| (*s, *u)))
        .unwrap();
    let rounds = 10_000;
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(inst.plan.check_assignment(shift_id, user_id));
    }
    let one = t.elapsed() / rounds;
    let free = week
        .iter()
        .copied()
        .find(|s| !inst.plan.assignees(*s).contains(&user_id))
        .unwrap();
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(inst.plan.evaluate(free, user_id));
    }
    let candidate = t.elapsed() / rounds;
    println!(
        "conflict check: a week of 2,000 shifts, {} assignments, 400 collaborators",
        filled.filled
    );
    println!(
        "  whole week (check_all)       {:.1} ms ({conflicts} conflicts found)",
        full.as_secs_f64() * 1e3
    );
    println!(
        "  one stored assignment        {:.1} µs",
        one.as_secs_f64() * 1e6
    );
    println!(
        "  one candidate (assign+check) {:.1} µs",
        candidate.as_secs_f64() * 1e6
    );
}
