//! Small input helpers of the planning routes.

use chrono::{NaiveDate, NaiveTime};
use shared::AppError;

/// Local `HH:MM`.
///
/// # Errors
/// 422 naming `field`.
pub fn hhmm(field: &str, value: &str) -> Result<NaiveTime, AppError> {
    if value.len() != 5 {
        return Err(AppError::invalid(field, "must be a local time HH:MM"));
    }
    NaiveTime::parse_from_str(value, "%H:%M")
        .map_err(|_| AppError::invalid(field, "must be a local time HH:MM"))
}

/// A planning date between 2000 and 2100.
///
/// # Errors
/// 422 naming `field`.
pub fn plan_date(field: &str, date: NaiveDate) -> Result<NaiveDate, AppError> {
    let low = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let high = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX);
    if date < low || date > high {
        return Err(AppError::invalid(
            field,
            "must be between 2000-01-01 and 2100-12-31",
        ));
    }
    Ok(date)
}

/// `from..=to` of at most `max_days` days.
///
/// # Errors
/// 422 naming `to` when it is before `from` or too far.
pub fn date_range(from: NaiveDate, to: NaiveDate, max_days: i64) -> Result<(), AppError> {
    plan_date("from", from)?;
    plan_date("to", to)?;
    if to < from {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    if (to - from).num_days() > max_days {
        return Err(AppError::invalid(
            "to",
            format!("the period spans at most {max_days} days"),
        ));
    }
    Ok(())
}
