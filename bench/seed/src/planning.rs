//! `--planning-shifts N`: a week of Planning PRO shifts on ten chantiers, staffed by the
//! auto-assign solver from `planning-engine` so the assignments keep every hard rule: skills,
//! job roles, teams, prestataire users with their profiles, the sites' time zone, shifts and
//! confirmed assignments.

use std::collections::BTreeSet;

use anyhow::Result;
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use entity::planning::{
    AssignmentSource, AssignmentStatus, ShiftStatus, assignment, collaborator, job_role, shift,
    site, skill, team,
};
use entity::{Role, user};
use planning_engine::{Collaborator, JobRole, Plan, RuleSet, Shift, Site, SolveOptions, Team};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::Rng;

/// What the benchmark needs to find again.
pub struct Seeded {
    pub shifts: usize,
    pub assignments: usize,
    pub coverage: f64,
}

#[allow(clippy::too_many_lines)]
pub async fn seed(
    db: &DatabaseConnection,
    rng: &mut Rng,
    sites: &[Uuid],
    shifts: usize,
    people: usize,
    week: NaiveDate,
) -> Result<Seeded> {
    let tz = chrono_tz::Europe::Paris;
    let now = Utc::now();
    let sites: Vec<Uuid> = sites.iter().take(10).copied().collect();
    let mut plan = Plan::new(RuleSet::default());
    let skills: Vec<Uuid> = (0..12).map(|_| Uuid::now_v7()).collect();
    let teams: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    let roles: Vec<(Uuid, Vec<Uuid>)> = (0..8)
        .map(|i| {
            let mut required = vec![skills[i % 12]];
            if i % 2 == 0 {
                required.push(skills[(i + 5) % 12]);
            }
            (Uuid::now_v7(), required)
        })
        .collect();
    for s in &sites {
        plan.add_site(Site {
            id: *s,
            tz,
            capacity_hard: None,
            capacity_soft: None,
        });
    }
    for t in &teams {
        plan.add_team(Team {
            id: *t,
            capacity_hard: None,
            capacity_soft: None,
        });
    }
    for (id, required) in &roles {
        plan.add_role(JobRole {
            id: *id,
            required_skills: required.clone(),
        });
    }
    let mut users = Vec::new();
    let mut profiles = Vec::new();
    for p in 0..people {
        let id = Uuid::now_v7();
        let mut own = BTreeSet::new();
        for _ in 0..(3 + rng.below(4)) {
            own.insert(*rng.pick(&skills));
        }
        let team_id = teams[p % teams.len()];
        plan.add_collaborator(Collaborator {
            id,
            team_id: Some(team_id),
            skills: own.clone(),
            max_hours_day: None,
            max_hours_week: (p % 4 == 0).then_some(35.0),
            max_hours_month: None,
        });
        // Not a hash of any password: these accounts exist to be planned, not to sign in.
        users.push(crate::portal::account(
            id,
            format!("collaborateur{}@bench.presta.local", p + 1),
            format!("Collaborateur {}", p + 1),
            Role::Prestataire,
            None,
            "!benchmark-account",
            now,
        ));
        profiles.push(collaborator::ActiveModel {
            user_id: Set(id),
            team_id: Set(Some(team_id)),
            skills: Set(serde_json::json!(own.iter().collect::<Vec<_>>())),
            max_hours_day: Set(None),
            max_hours_week: Set((p % 4 == 0).then_some(35.0)),
            max_hours_month: Set(None),
            updated_at: Set(now),
        });
    }
    let starts = [6_u32, 7, 8, 9, 13, 14, 21];
    let mut shift_rows = Vec::new();
    let mut scope = Vec::new();
    for _ in 0..shifts {
        let date = week + Duration::days(i64::try_from(rng.below(7)).unwrap_or(0));
        let h = *rng.pick(&starts);
        let (start_time, end_time) = (
            NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN),
            NaiveTime::from_hms_opt((h + 8) % 24, 0, 0).unwrap_or(NaiveTime::MIN),
        );
        let Ok((starts_at, ends_at)) =
            planning_engine::time::shift_bounds(tz, date, start_time, end_time)
        else {
            continue;
        };
        let id = Uuid::now_v7();
        let site_id = *rng.pick(&sites);
        let role = rng.pick(&roles).0;
        let team_id = *rng.pick(&teams);
        let headcount = 1 + i32::try_from(rng.below(2)).unwrap_or(0);
        plan.put_shift(Shift {
            id,
            site_id,
            job_role_id: role,
            team_id: Some(team_id),
            start: starts_at,
            end: ends_at,
            local_date: date,
            break_minutes: 30,
            headcount,
        });
        scope.push(id);
        shift_rows.push(shift::ActiveModel {
            id: Set(id),
            site_id: Set(site_id),
            job_role_id: Set(role),
            team_id: Set(Some(team_id)),
            template_id: Set(None),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            local_date: Set(date),
            start_time: Set(start_time.format("%H:%M").to_string()),
            end_time: Set(end_time.format("%H:%M").to_string()),
            break_minutes: Set(30),
            headcount: Set(headcount),
            status: Set(ShiftStatus::Draft),
            notes: Set(None),
            published_at: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    let solution =
        planning_engine::solve(&mut plan, &scope, &SolveOptions::default(), &mut |_| false);
    let assignment_rows: Vec<assignment::ActiveModel> = solution
        .proposals
        .iter()
        .map(|p| assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            shift_id: Set(p.shift_id),
            user_id: Set(p.user_id),
            status: Set(AssignmentStatus::Confirmed),
            source: Set(AssignmentSource::Auto),
            score: Set(Some(p.score)),
            note: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();

    let txn = db.begin().await?;
    skill::Entity::insert_many(skills.iter().enumerate().map(|(i, id)| skill::ActiveModel {
        id: Set(*id),
        name: Set(format!("Compétence {}", i + 1)),
        created_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    team::Entity::insert_many(teams.iter().enumerate().map(|(i, id)| team::ActiveModel {
        id: Set(*id),
        name: Set(format!("Équipe {}", i + 1)),
        site_id: Set(None),
        capacity_hard: Set(None),
        capacity_soft: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    job_role::Entity::insert_many(roles.iter().enumerate().map(|(i, (id, required))| {
        job_role::ActiveModel {
            id: Set(*id),
            name: Set(format!("Métier {}", i + 1)),
            required_skills: Set(serde_json::json!(required)),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }))
    .exec(&txn)
    .await?;
    site::Entity::insert_many(sites.iter().map(|id| site::ActiveModel {
        chantier_id: Set(*id),
        timezone: Set(tz.name().to_owned()),
        capacity_hard: Set(None),
        capacity_soft: Set(None),
        updated_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    for chunk in users.chunks(500) {
        user::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in profiles.chunks(1_000) {
        collaborator::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in shift_rows.chunks(1_000) {
        shift::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in assignment_rows.chunks(1_000) {
        assignment::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Seeded {
        shifts: shift_rows.len(),
        assignments: assignment_rows.len(),
        coverage: solution.coverage(),
    })
}
