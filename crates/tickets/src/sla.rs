//! SLA arithmetic, pure: from a ticket's status timeline (its `status_change` history), its first
//! response and its priority's targets, how much time the clock has used, what is left, the level
//! (`ok`, `warning`, `breach`) and the deadlines the database keeps so lists can filter by level
//! in SQL.
//!
//! Two clocks run from creation: first response and resolution. Both run while the ticket is
//! `nouveau` or `en_cours` and are paused otherwise (`en_attente` waits on the client; `resolu`
//! and `ferme` stop it, and a reopen resumes it). The first-response clock stops for good at the
//! first answer. A clock is `warning` once it has used the warning share of its budget and
//! `breach` once it has used all of it; a ticket's level is the worse of its two clocks.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use entity::ticket::{TicketPriority, TicketStatus};
use serde::{Deserialize, Serialize};
use shared::config::SlaTarget;
use utoipa::ToSchema;

/// `ok` / `warning` / `breach`, ordered by severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SlaLevel {
    Ok,
    Warning,
    Breach,
}

impl SlaLevel {
    pub const ALL: [Self; 3] = [Self::Ok, Self::Warning, Self::Breach];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Breach => "breach",
        }
    }

    /// 0, 1, 2 (as stored in `sla_notified_level`).
    #[must_use]
    pub fn number(self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::Warning => 1,
            Self::Breach => 2,
        }
    }

    #[must_use]
    pub fn from_number(n: i32) -> Self {
        match n {
            i32::MIN..=0 => Self::Ok,
            1 => Self::Warning,
            _ => Self::Breach,
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// The budgets of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub first_response: Duration,
    pub resolution: Duration,
}

/// The targets of every priority and the warning share.
#[derive(Debug, Clone)]
pub struct SlaPolicy {
    targets: BTreeMap<TicketPriority, Targets>,
    warning_percent: u8,
}

impl SlaPolicy {
    /// From the configuration; every priority must have targets.
    ///
    /// # Errors
    /// A priority without targets, or an unknown one (a message naming it).
    pub fn from_config(targets: &[SlaTarget], warning_percent: u8) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for target in targets {
            let priority = TicketPriority::ALL
                .iter()
                .copied()
                .find(|p| p.as_str() == target.priority)
                .ok_or_else(|| {
                    format!(
                        "SLA_TARGETS: `{}` is not a ticket priority (critique, haute, normale, basse)",
                        target.priority
                    )
                })?;
            let span = |d: std::time::Duration| {
                Duration::from_std(d).map_err(|_| "SLA_TARGETS: a span is too long".to_owned())
            };
            map.insert(
                priority,
                Targets {
                    first_response: span(target.first_response)?,
                    resolution: span(target.resolution)?,
                },
            );
        }
        if let Some(missing) = TicketPriority::ALL.iter().find(|p| !map.contains_key(p)) {
            return Err(format!("SLA_TARGETS: no targets for `{missing}`"));
        }
        Ok(Self {
            targets: map,
            warning_percent,
        })
    }

    #[must_use]
    pub fn targets(&self, priority: TicketPriority) -> Targets {
        self.targets.get(&priority).copied().unwrap_or(Targets {
            first_response: Duration::hours(24),
            resolution: Duration::hours(120),
        })
    }

    #[must_use]
    pub fn warning_percent(&self) -> u8 {
        self.warning_percent
    }

    fn warning_share(&self, budget: Duration) -> Duration {
        budget * i32::from(self.warning_percent) / 100
    }
}

/// What the SLA depends on, read from the ticket and its history.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub created_at: DateTime<Utc>,
    /// Status changes in time order (`(when, new status)`); the ticket starts `nouveau`.
    pub transitions: Vec<(DateTime<Utc>, TicketStatus)>,
    pub first_response_at: Option<DateTime<Utc>>,
}

impl Timeline {
    /// Periods during which the clock was stopped, `(start, end)`; the last may still be open.
    #[must_use]
    pub fn pauses(&self) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let mut pauses = Vec::new();
        let mut open: Option<DateTime<Utc>> = None;
        for (at, status) in &self.transitions {
            let at = (*at).max(self.created_at);
            match (status.clock_runs(), open) {
                (false, None) => open = Some(at),
                (true, Some(start)) => {
                    pauses.push((start, Some(at)));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            pauses.push((start, None));
        }
        pauses
    }

    /// Start of the current pause, if the clock is stopped now.
    #[must_use]
    pub fn paused_since(&self) -> Option<DateTime<Utc>> {
        match self.pauses().last() {
            Some((start, None)) => Some(*start),
            _ => None,
        }
    }

    /// Time the clock ran between creation and `until`.
    #[must_use]
    pub fn running_time(&self, until: DateTime<Utc>) -> Duration {
        if until <= self.created_at {
            return Duration::zero();
        }
        let mut paused = Duration::zero();
        for (start, end) in self.pauses() {
            if start >= until {
                break;
            }
            let end = end.map_or(until, |e| e.min(until));
            paused += end - start;
        }
        (until - self.created_at) - paused
    }

    /// Total length of the pauses that have ended.
    fn closed_pauses(&self) -> Duration {
        self.pauses()
            .into_iter()
            .filter_map(|(start, end)| end.map(|end| end - start))
            .fold(Duration::zero(), |a, b| a + b)
    }
}

/// One clock at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub used: Duration,
    pub budget: Duration,
    pub level: SlaLevel,
    /// Stopped for good (first response given).
    pub stopped: bool,
}

impl ClockReading {
    #[must_use]
    pub fn remaining(&self) -> Duration {
        self.budget - self.used
    }

    /// Share of the budget used, in percent (over 100 once breached).
    #[must_use]
    pub fn percent(&self) -> i64 {
        let budget = self.budget.num_seconds().max(1);
        self.used.num_seconds().max(0) * 100 / budget
    }
}

/// The SLA of a ticket at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaReading {
    pub resolution: ClockReading,
    pub first_response: ClockReading,
    pub paused: bool,
}

impl SlaReading {
    #[must_use]
    pub fn level(&self) -> SlaLevel {
        self.resolution.level.max(self.first_response.level)
    }
}

/// What the `tickets` row keeps so SQL can tell the level at any instant `t`: the resolution
/// level compares `coalesce(sla_paused_since, t)` with `sla_warning_at` / `date_limite`; the
/// first-response level is `sla_response_level` once answered, else the same comparison with
/// the response deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Materialized {
    pub date_limite: DateTime<Utc>,
    pub sla_warning_at: DateTime<Utc>,
    pub sla_response_due: DateTime<Utc>,
    pub sla_response_warning_at: DateTime<Utc>,
    pub sla_paused_since: Option<DateTime<Utc>>,
    /// The first-response level, fixed once answered (`ok` or `breach`).
    pub sla_response_level: Option<SlaLevel>,
}

fn level(used: Duration, budget: Duration, warning: Duration) -> SlaLevel {
    if used >= budget {
        SlaLevel::Breach
    } else if used >= warning {
        SlaLevel::Warning
    } else {
        SlaLevel::Ok
    }
}

impl SlaPolicy {
    /// Read both clocks of a ticket with `priority` at `now`.
    #[must_use]
    pub fn read(
        &self,
        timeline: &Timeline,
        priority: TicketPriority,
        now: DateTime<Utc>,
    ) -> SlaReading {
        let targets = self.targets(priority);
        let used = timeline.running_time(now);
        let resolution = ClockReading {
            used,
            budget: targets.resolution,
            level: level(
                used,
                targets.resolution,
                self.warning_share(targets.resolution),
            ),
            stopped: false,
        };
        let answered = timeline.first_response_at.filter(|at| *at <= now);
        let response_used = timeline.running_time(answered.unwrap_or(now));
        let first_response = ClockReading {
            used: response_used,
            budget: targets.first_response,
            level: match answered {
                // Answered: met or missed, nothing in between.
                Some(_) if response_used >= targets.first_response => SlaLevel::Breach,
                Some(_) => SlaLevel::Ok,
                None => level(
                    response_used,
                    targets.first_response,
                    self.warning_share(targets.first_response),
                ),
            },
            stopped: answered.is_some(),
        };
        let paused = timeline
            .pauses()
            .iter()
            .any(|(start, end)| *start <= now && end.is_none_or(|end| now < end));
        SlaReading {
            resolution,
            first_response,
            paused,
        }
    }

    /// The deadlines to store on the ticket row after a change.
    #[must_use]
    pub fn materialize(&self, timeline: &Timeline, priority: TicketPriority) -> Materialized {
        let targets = self.targets(priority);
        let base = timeline.created_at + timeline.closed_pauses();
        let response_level = timeline.first_response_at.map(|at| {
            if timeline.running_time(at) >= targets.first_response {
                SlaLevel::Breach
            } else {
                SlaLevel::Ok
            }
        });
        Materialized {
            date_limite: base + targets.resolution,
            sla_warning_at: base + self.warning_share(targets.resolution),
            sla_response_due: base + targets.first_response,
            sla_response_warning_at: base + self.warning_share(targets.first_response),
            sla_paused_since: timeline.paused_since(),
            sla_response_level: response_level,
        }
    }
}

/// `2 jours 4h`, `10h`, `45 min` (the seed's wording), to the nearest minute. Negative spans
/// read as their size.
#[must_use]
pub fn human(span: Duration) -> String {
    let minutes = (span.num_seconds().abs() + 30) / 60;
    let days = minutes / (24 * 60);
    let hours = (minutes / 60) % 24;
    let mins = minutes % 60;
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m} min"),
        (1, 0, _) => "1 jour".to_owned(),
        (1, h, _) => format!("1 jour {h}h"),
        (d, 0, _) => format!("{d} jours"),
        (d, h, _) => format!("{d} jours {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SlaPolicy {
        let targets =
            shared::config::parse_sla_targets(shared::config::DEFAULT_SLA_TARGETS).unwrap();
        SlaPolicy::from_config(&targets, 75).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn h(n: i64) -> Duration {
        Duration::hours(n)
    }

    fn timeline(transitions: &[(i64, TicketStatus)], first_response: Option<i64>) -> Timeline {
        Timeline {
            created_at: t0(),
            transitions: transitions
                .iter()
                .map(|(at, s)| (t0() + h(*at), *s))
                .collect(),
            first_response_at: first_response.map(|at| t0() + h(at)),
        }
    }

    #[test]
    fn defaults_match_the_documented_targets() {
        let p = policy();
        assert_eq!(p.targets(TicketPriority::Critique).first_response, h(4));
        assert_eq!(p.targets(TicketPriority::Critique).resolution, h(24));
        assert_eq!(p.targets(TicketPriority::Basse).resolution, h(240));
    }

    #[test]
    fn a_running_clock_goes_ok_warning_breach() {
        let p = policy();
        let line = timeline(&[], Some(1));
        let at = |hours| p.read(&line, TicketPriority::Critique, t0() + h(hours));
        assert_eq!(at(10).resolution.level, SlaLevel::Ok);
        assert_eq!(at(18).resolution.level, SlaLevel::Warning); // 75 % of 24 h
        assert_eq!(at(24).resolution.level, SlaLevel::Breach);
        assert_eq!(at(20).resolution.percent(), 83);
        assert_eq!(at(20).resolution.remaining(), h(4));
        assert_eq!(at(30).resolution.remaining(), h(-6));
    }

    #[test]
    fn waiting_on_the_client_pauses_the_clock() {
        let p = policy();
        // Created, waiting on the client from 10 h to 40 h, resumed.
        let line = timeline(
            &[
                (2, TicketStatus::EnCours),
                (10, TicketStatus::EnAttente),
                (40, TicketStatus::EnCours),
            ],
            Some(1),
        );
        let reading = p.read(&line, TicketPriority::Critique, t0() + h(44));
        assert_eq!(reading.resolution.used, h(14));
        assert_eq!(reading.resolution.level, SlaLevel::Ok);
        assert!(!reading.paused);
        // While paused, time does not count.
        let during = p.read(&line, TicketPriority::Critique, t0() + h(30));
        assert_eq!(during.resolution.used, h(10));
        assert!(during.paused);
        // Deadlines move by the closed pause.
        let m = p.materialize(&line, TicketPriority::Critique);
        assert_eq!(m.date_limite, t0() + h(24 + 30));
        assert_eq!(m.sla_warning_at, t0() + h(18 + 30));
        assert_eq!(m.sla_paused_since, None);
    }

    #[test]
    fn resolving_stops_the_clock_and_reopening_resumes_it() {
        let p = policy();
        let line = timeline(
            &[(20, TicketStatus::Resolu), (100, TicketStatus::EnCours)],
            Some(2),
        );
        let resolved = p.read(&line, TicketPriority::Critique, t0() + h(50));
        assert_eq!(resolved.resolution.used, h(20));
        assert_eq!(resolved.resolution.level, SlaLevel::Warning);
        let reopened = p.read(&line, TicketPriority::Critique, t0() + h(104));
        assert_eq!(reopened.resolution.used, h(24));
        assert_eq!(reopened.resolution.level, SlaLevel::Breach);
    }

    #[test]
    fn the_first_response_clock_stops_at_the_first_answer() {
        let p = policy();
        let answered_late = timeline(&[], Some(5));
        let r = p.read(&answered_late, TicketPriority::Critique, t0() + h(6));
        assert_eq!(r.first_response.level, SlaLevel::Breach);
        assert!(r.first_response.stopped);
        assert_eq!(r.level(), SlaLevel::Breach);
        let m = p.materialize(&answered_late, TicketPriority::Critique);
        assert_eq!(m.sla_response_level, Some(SlaLevel::Breach));

        let answered_in_time = timeline(&[], Some(1));
        let r = p.read(&answered_in_time, TicketPriority::Critique, t0() + h(6));
        assert_eq!(r.first_response.level, SlaLevel::Ok);
        assert_eq!(r.level(), SlaLevel::Ok);

        let unanswered = timeline(&[], None);
        assert_eq!(
            p.read(&unanswered, TicketPriority::Critique, t0() + h(3))
                .level(),
            SlaLevel::Warning
        );
    }

    /// The SQL rule (compare the frozen or current instant with the stored deadlines) agrees
    /// with reading the clock from the history, at every hour of a busy timeline.
    #[test]
    fn stored_deadlines_agree_with_the_history_at_every_instant() {
        let p = policy();
        let line = timeline(
            &[
                (1, TicketStatus::EnCours),
                (3, TicketStatus::EnAttente),
                (9, TicketStatus::EnCours),
                (15, TicketStatus::Resolu),
                (30, TicketStatus::EnCours),
            ],
            Some(7),
        );
        for priority in TicketPriority::ALL {
            for hour in 0..200 {
                let now = t0() + h(hour);
                // What the row holds at `now`: the timeline as known then.
                let known = Timeline {
                    created_at: line.created_at,
                    transitions: line
                        .transitions
                        .iter()
                        .copied()
                        .filter(|(at, _)| *at <= now)
                        .collect(),
                    first_response_at: line.first_response_at.filter(|at| *at <= now),
                };
                let m = p.materialize(&known, *priority);
                let eval = m.sla_paused_since.unwrap_or(now);
                let resolution = if eval >= m.date_limite {
                    SlaLevel::Breach
                } else if eval >= m.sla_warning_at {
                    SlaLevel::Warning
                } else {
                    SlaLevel::Ok
                };
                let response = m
                    .sla_response_level
                    .unwrap_or(if eval >= m.sla_response_due {
                        SlaLevel::Breach
                    } else if eval >= m.sla_response_warning_at {
                        SlaLevel::Warning
                    } else {
                        SlaLevel::Ok
                    });
                assert_eq!(
                    resolution.max(response),
                    p.read(&known, *priority, now).level(),
                    "{priority} at +{hour}h"
                );
            }
        }
    }

    #[test]
    fn spans_read_like_the_seed() {
        assert_eq!(human(Duration::minutes(45)), "45 min");
        assert_eq!(human(h(10)), "10h");
        assert_eq!(human(h(52)), "2 jours 4h");
        assert_eq!(human(h(24)), "1 jour");
        assert_eq!(human(h(-3)), "3h");
        assert_eq!(human(Duration::minutes(90)), "1h 30 min");
        assert_eq!(human(h(6) - Duration::seconds(2)), "6h");
    }

    #[test]
    fn every_priority_needs_targets() {
        let only_one = [SlaTarget {
            priority: "haute".into(),
            first_response: std::time::Duration::from_secs(60),
            resolution: std::time::Duration::from_secs(120),
        }];
        assert!(SlaPolicy::from_config(&only_one, 75).is_err());
        let unknown = [SlaTarget {
            priority: "urgente".into(),
            first_response: std::time::Duration::from_secs(60),
            resolution: std::time::Duration::from_secs(120),
        }];
        assert!(
            SlaPolicy::from_config(&unknown, 75)
                .unwrap_err()
                .contains("urgente")
        );
    }
}
