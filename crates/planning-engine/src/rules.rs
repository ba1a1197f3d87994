//! The rules the engine checks, their default parameters and severities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A conflict that blocks a write (`hard`) or only warns (`soft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Hard,
    Soft,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hard => "hard",
            Self::Soft => "soft",
        }
    }

    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "hard" => Some(Self::Hard),
            "soft" => Some(Self::Soft),
            _ => None,
        }
    }
}

/// Every rule, by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    InvalidTimeRange,
    InvalidReference,
    HeadcountExceeded,
    DoubleBooking,
    MinRest,
    MissingSkill,
    OnLeave,
    PublicHoliday,
    SiteCapacity,
    TeamCapacity,
    MaxHoursDay,
    MaxHoursWeek,
    MaxHoursMonth,
    Rolling7Days,
    OutsideAvailability,
    BreakRequired,
    MultipleShiftsPerDay,
}

impl Rule {
    pub const ALL: [Rule; 17] = [
        Rule::InvalidTimeRange,
        Rule::InvalidReference,
        Rule::HeadcountExceeded,
        Rule::DoubleBooking,
        Rule::MinRest,
        Rule::MissingSkill,
        Rule::OnLeave,
        Rule::PublicHoliday,
        Rule::SiteCapacity,
        Rule::TeamCapacity,
        Rule::MaxHoursDay,
        Rule::MaxHoursWeek,
        Rule::MaxHoursMonth,
        Rule::Rolling7Days,
        Rule::OutsideAvailability,
        Rule::BreakRequired,
        Rule::MultipleShiftsPerDay,
    ];

    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidTimeRange => "invalid_time_range",
            Self::InvalidReference => "invalid_reference",
            Self::HeadcountExceeded => "headcount_exceeded",
            Self::DoubleBooking => "double_booking",
            Self::MinRest => "min_rest",
            Self::MissingSkill => "missing_skill",
            Self::OnLeave => "on_leave",
            Self::PublicHoliday => "public_holiday",
            Self::SiteCapacity => "site_capacity",
            Self::TeamCapacity => "team_capacity",
            Self::MaxHoursDay => "max_hours_day",
            Self::MaxHoursWeek => "max_hours_week",
            Self::MaxHoursMonth => "max_hours_month",
            Self::Rolling7Days => "rolling_7_days",
            Self::OutsideAvailability => "outside_availability",
            Self::BreakRequired => "break_required",
            Self::MultipleShiftsPerDay => "multiple_shifts_per_day",
        }
    }

    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the rule checks, for people.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidTimeRange => "A shift must end after it starts (at most 24 hours later).",
            Self::InvalidReference => {
                "The site, job role, team and collaborator must exist and belong together."
            }
            Self::HeadcountExceeded => "No more active assignments than the shift's headcount.",
            Self::DoubleBooking => "A collaborator cannot work two overlapping shifts.",
            Self::MinRest => {
                "Minimum rest (`hours`) between shifts of one collaborator on different days."
            }
            Self::MissingSkill => "The collaborator has every skill the job role requires.",
            Self::OnLeave => "No shift during a collaborator's leave.",
            Self::PublicHoliday => "No shift on a public holiday of the site.",
            Self::SiteCapacity => {
                "People working at once on a site: over its hard limit is an error, over its soft limit a warning."
            }
            Self::TeamCapacity => {
                "People working at once on the shifts of a team: over its hard limit is an error, over its soft limit a warning."
            }
            Self::MaxHoursDay => {
                "Worked hours per local day (`hours`, or the collaborator's contract)."
            }
            Self::MaxHoursWeek => {
                "Worked hours per ISO week (`hours`, or the collaborator's contract)."
            }
            Self::MaxHoursMonth => {
                "Worked hours per calendar month (`hours`, or the collaborator's contract)."
            }
            Self::Rolling7Days => "Worked hours in any 7 × 24 hours (`hours`).",
            Self::OutsideAvailability => {
                "A collaborator who declared availability works inside it."
            }
            Self::BreakRequired => {
                "A shift longer than `threshold_minutes` has a break of at least `min_break_minutes`."
            }
            Self::MultipleShiftsPerDay => "At most `max` shifts per collaborator and local day.",
        }
    }

    /// The severity a fresh installation uses.
    #[must_use]
    pub fn default_severity(self) -> Severity {
        match self {
            Self::InvalidTimeRange
            | Self::InvalidReference
            | Self::HeadcountExceeded
            | Self::DoubleBooking
            | Self::MinRest
            | Self::MissingSkill
            | Self::OnLeave
            | Self::PublicHoliday
            | Self::SiteCapacity
            | Self::TeamCapacity => Severity::Hard,
            Self::MaxHoursDay
            | Self::MaxHoursWeek
            | Self::MaxHoursMonth
            | Self::Rolling7Days
            | Self::OutsideAvailability
            | Self::BreakRequired
            | Self::MultipleShiftsPerDay => Severity::Soft,
        }
    }

    /// Rules whose severity and activation cannot be changed: the plan would stop making sense
    /// (a shift that ends before it starts, a person in two places) — and the capacity rules,
    /// whose severity comes from which limit (hard or soft) is exceeded.
    #[must_use]
    pub fn is_structural(self) -> bool {
        matches!(
            self,
            Self::InvalidTimeRange
                | Self::InvalidReference
                | Self::HeadcountExceeded
                | Self::DoubleBooking
        )
    }

    /// Whether the severity is set by the rule's settings (capacity severities come from the
    /// exceeded limit, structural rules are always hard).
    #[must_use]
    pub fn severity_configurable(self) -> bool {
        !self.is_structural() && !matches!(self, Self::SiteCapacity | Self::TeamCapacity)
    }

    /// Parameters of a fresh installation.
    #[must_use]
    pub fn default_params(self) -> Map<String, Value> {
        let value = match self {
            Self::MinRest => json!({ "hours": 11 }),
            Self::MaxHoursDay => json!({ "hours": 10 }),
            Self::MaxHoursWeek => json!({ "hours": 48 }),
            Self::MaxHoursMonth => json!({ "hours": 200 }),
            Self::Rolling7Days => json!({ "hours": 48 }),
            Self::BreakRequired => json!({ "threshold_minutes": 360, "min_break_minutes": 20 }),
            Self::MultipleShiftsPerDay => json!({ "max": 1 }),
            _ => json!({}),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The numeric parameters a rule takes, with their allowed range.
    #[must_use]
    pub fn param_bounds(self) -> &'static [(&'static str, f64, f64)] {
        match self {
            Self::MinRest => &[("hours", 0.0, 48.0)],
            Self::MaxHoursDay => &[("hours", 1.0, 24.0)],
            Self::MaxHoursWeek | Self::Rolling7Days => &[("hours", 1.0, 168.0)],
            Self::MaxHoursMonth => &[("hours", 1.0, 744.0)],
            Self::BreakRequired => &[
                ("threshold_minutes", 0.0, 1440.0),
                ("min_break_minutes", 0.0, 240.0),
            ],
            Self::MultipleShiftsPerDay => &[("max", 1.0, 10.0)],
            _ => &[],
        }
    }
}

/// How one rule is applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSetting {
    pub rule: Rule,
    pub enabled: bool,
    pub severity: Severity,
    pub params: Map<String, Value>,
}

impl RuleSetting {
    #[must_use]
    pub fn default_for(rule: Rule) -> Self {
        Self {
            rule,
            enabled: true,
            severity: rule.default_severity(),
            params: rule.default_params(),
        }
    }

    /// A numeric parameter (its default when absent or not a number).
    #[must_use]
    pub fn param(&self, key: &str) -> f64 {
        self.params
            .get(key)
            .and_then(Value::as_f64)
            .or_else(|| self.rule.default_params().get(key).and_then(Value::as_f64))
            .unwrap_or(0.0)
    }
}

/// The active settings of every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    settings: BTreeMap<Rule, RuleSetting>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            settings: Rule::ALL
                .into_iter()
                .map(|r| (r, RuleSetting::default_for(r)))
                .collect(),
        }
    }
}

impl RuleSet {
    /// Replace one rule's setting (structural rules stay enabled and hard).
    pub fn set(&mut self, mut setting: RuleSetting) {
        if setting.rule.is_structural() {
            setting.enabled = true;
            setting.severity = Severity::Hard;
        }
        self.settings.insert(setting.rule, setting);
    }

    #[must_use]
    pub fn get(&self, rule: Rule) -> &RuleSetting {
        // Every rule is in the map from `default()`; `set` only replaces.
        &self.settings[&rule]
    }

    /// Enabled, with its setting.
    #[must_use]
    pub fn active(&self, rule: Rule) -> Option<&RuleSetting> {
        let setting = self.get(rule);
        setting.enabled.then_some(setting)
    }

    pub fn iter(&self) -> impl Iterator<Item = &RuleSetting> {
        self.settings.values()
    }
}
