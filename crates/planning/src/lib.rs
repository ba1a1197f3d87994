//! Planning PRO (seed 004) under `/api/v1/planning`: shift templates, shifts (draft, published,
//! cancelled), assignments (proposed, confirmed, declined, cancelled; manual or auto), sites'
//! time zones and capacities, teams, job roles and skills, collaborators' profiles,
//! availability, leaves, public holidays, rules, conflict preview with fix suggestions,
//! publishing, auto-assign on the job queue, and the audit of every change.
//!
//! Planners are superadmins. Collaborators (prestataire users) read their own published
//! shifts, their assignments and availability, and declare availability; anything else is 403.
//! Every check goes through one engine ([`planning_engine`]): writes with a hard conflict answer
//! 409 with the conflicts and change nothing; soft conflicts come back with the write.

pub mod assignments;
pub mod audit;
pub mod auto_assign;
pub mod availability;
pub mod caller;
pub mod conflicts;
pub mod publish;
pub mod resources;
pub mod rules;
pub mod shifts;
pub mod store;
pub mod templates;
pub mod text;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use shared::clock::Clock;
use shared::config::Config;
use shared::jobs::JobRegistry;
use tokio::sync::Semaphore;
use utoipa_actix_web::scope as doc_scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use caller::PlanningUser;

/// Shared by the planning routes and the auto-assign job (as `web::Data<PlanningState>`).
#[derive(Debug, Clone)]
pub struct PlanningState {
    pub clock: Clock,
    /// Time zone of sites without a planning setting.
    pub default_tz: Tz,
    /// Longest an auto-assign run may search.
    pub auto_assign_budget: Duration,
    /// Where people reach the product (links in e-mails).
    pub public_url: String,
    /// Turns at checking a conflict preview: [`PREVIEWS_PER_CORE`] per core. The others wait
    /// for a turn before reading anything.
    pub previews: Arc<Semaphore>,
}

/// Conflict previews checked at once per core. A preview reads a plan (every collaborator, and
/// the shifts of the people and candidates around the shift) and then computes on it; with two
/// per core the cores stay busy, and a burst of callers holds no more plans than that. On two
/// cores at 128 callers: peak RSS 194 → 126 MiB at the same rate (bench/RESULTS.md, item 18).
pub const PREVIEWS_PER_CORE: usize = 2;

impl PlanningState {
    /// # Errors
    /// `PLANNING_TIMEZONE` is not an IANA time zone.
    pub fn from_config(config: &Config, clock: Clock) -> Result<Self, String> {
        let default_tz = config.planning_timezone.parse::<Tz>().map_err(|_| {
            format!(
                "PLANNING_TIMEZONE: {} is not an IANA time zone such as Europe/Paris",
                config.planning_timezone
            )
        })?;
        Ok(Self {
            clock,
            default_tz,
            auto_assign_budget: Duration::from_secs(20),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            previews: Arc::new(Semaphore::new(
                PREVIEWS_PER_CORE
                    * std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
        })
    }
}

/// Register the auto-assign job.
pub fn register_jobs(registry: &mut JobRegistry, state: &Arc<PlanningState>) {
    registry.register(
        auto_assign::JOB_KIND,
        Arc::new(auto_assign::AutoAssignJob {
            state: Arc::clone(state),
        }),
    );
}

/// Mount `/api/v1/planning`.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        doc_scope::scope("/api/v1/planning")
            .service(templates::list)
            .service(templates::create)
            .service(templates::get)
            .service(templates::update)
            .service(templates::delete)
            .service(templates::generate)
            .service(shifts::list)
            .service(shifts::create)
            .service(shifts::get)
            .service(shifts::update)
            .service(shifts::delete)
            .service(assignments::list)
            .service(assignments::create)
            .service(assignments::get)
            .service(assignments::update)
            .service(assignments::delete)
            .service(availability::read)
            .service(availability::declare)
            .service(availability::remove)
            .service(availability::leaves)
            .service(availability::add_leave)
            .service(availability::remove_leave)
            .service(resources::holidays)
            .service(resources::add_holiday)
            .service(resources::remove_holiday)
            .service(resources::skills)
            .service(resources::add_skill)
            .service(resources::teams)
            .service(resources::add_team)
            .service(resources::update_team)
            .service(resources::job_roles)
            .service(resources::add_job_role)
            .service(resources::update_job_role)
            .service(resources::sites)
            .service(resources::set_site)
            .service(resources::collaborators)
            .service(resources::set_collaborator)
            .service(rules::list)
            .service(rules::update)
            .service(conflicts::preview)
            .service(publish::publish)
            .service(auto_assign::start)
            .service(auto_assign::status)
            .service(auto_assign::cancel)
            .service(audit::list),
    );
}
