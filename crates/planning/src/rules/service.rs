//! Rule settings: every rule with its severity, activation and parameters; planners change
//! them (structural rules stay hard and on; capacity severity follows the exceeded limit).

use chrono::Utc;
use entity::planning::rule;
use planning_engine::{Rule, RuleSetting, Severity};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
};
use serde::Serialize;
use serde_json::{Map, Value};
use shared::AppError;
use shared::audit::{self, Actor, AuditEntry};
use utoipa::ToSchema;

/// A rule as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    #[schema(example = "min_rest")]
    pub code: String,
    pub description: String,
    /// `hard` | `soft`
    #[schema(example = "hard")]
    pub severity: String,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub params: Value,
    /// Whether `severity` can be changed.
    pub severity_configurable: bool,
    /// Whether it can be turned off.
    pub can_disable: bool,
}

fn view(setting: &RuleSetting) -> RuleView {
    RuleView {
        code: setting.rule.code().to_owned(),
        description: setting.rule.description().to_owned(),
        severity: setting.severity.as_str().to_owned(),
        enabled: setting.enabled,
        params: Value::Object(setting.params.clone()),
        severity_configurable: setting.rule.severity_configurable(),
        can_disable: !setting.rule.is_structural(),
    }
}

/// Every rule as configured.
///
/// # Errors
/// Database errors.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<RuleView>, AppError> {
    let set = crate::store::rules(db).await?;
    Ok(set.iter().map(view).collect())
}

/// Change one rule.
///
/// # Errors
/// 404 for an unknown rule, 422 for a change the rule does not take; database errors.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    code: &str,
    enabled: Option<bool>,
    severity: Option<Severity>,
    params: Option<Map<String, Value>>,
) -> Result<RuleView, AppError> {
    let rule = Rule::parse(code).ok_or_else(|| AppError::not_found("No such rule"))?;
    if rule.is_structural() && enabled == Some(false) {
        return Err(AppError::invalid(
            "enabled",
            "this rule keeps the plan coherent: it is always on",
        ));
    }
    if rule.is_structural() && severity == Some(Severity::Soft) {
        return Err(AppError::invalid(
            "severity",
            "this rule keeps the plan coherent: it is always hard",
        ));
    }
    if severity.is_some() && !rule.severity_configurable() && !rule.is_structural() {
        return Err(AppError::invalid(
            "severity",
            "capacity severity follows the exceeded limit (capacity_hard or capacity_soft)",
        ));
    }
    let bounds = rule.param_bounds();
    let txn = shared::db::begin_write(db).await?;
    let set = crate::store::rules(&txn).await?;
    let before = set.get(rule).clone();
    let mut after = before.clone();
    if let Some(given) = params {
        for (key, value) in given {
            let Some((_, low, high)) = bounds.iter().find(|(k, _, _)| *k == key) else {
                return Err(AppError::invalid(
                    format!("params.{key}"),
                    format!("{} takes no such parameter", rule.code()),
                ));
            };
            let Some(number) = value.as_f64() else {
                return Err(AppError::invalid(
                    format!("params.{key}"),
                    "must be a number",
                ));
            };
            if number < *low || number > *high {
                return Err(AppError::invalid(
                    format!("params.{key}"),
                    format!("must be between {low} and {high}"),
                ));
            }
            after.params.insert(key, value);
        }
    }
    if let Some(e) = enabled {
        after.enabled = e;
    }
    if let Some(s) = severity {
        after.severity = s;
    }
    let row = rule::Model {
        code: rule.code().to_owned(),
        enabled: after.enabled,
        severity: after.severity.as_str().to_owned(),
        params: Value::Object(after.params.clone()),
        updated_by: actor.user_id,
        updated_at: Utc::now(),
    };
    if rule::Entity::find_by_id(rule.code().to_owned())
        .one(&txn)
        .await?
        .is_some()
    {
        row.into_active_model().reset_all().update(&txn).await?;
    } else {
        row.into_active_model().insert(&txn).await?;
    }
    let shown = view(&after);
    audit::record(
        &txn,
        actor,
        AuditEntry::new("update_rule", "planning_rule")
            .entity_id(rule.code())
            .before(&view(&before))
            .after(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}
