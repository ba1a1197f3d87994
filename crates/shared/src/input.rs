//! Input helpers every portal uses: trimmed required text, and the UTC bounds of a day.

use chrono::{DateTime, NaiveDate, Utc};

use crate::AppError;

/// Trimmed, not blank.
///
/// # Errors
/// 422 naming `field`.
pub fn required(value: &str, field: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be blank"));
    }
    if value.contains('\0') {
        return Err(AppError::invalid(field, "must not contain NUL characters"));
    }
    Ok(value.to_owned())
}

/// Trimmed; blank is `None`.
///
/// # Errors
/// 422 naming `field` for NUL characters.
pub fn optional(value: Option<&str>, field: &str) -> Result<Option<String>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(v, field).map(Some),
    }
}

/// Midnight UTC of a day.
#[must_use]
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Midnight UTC after a day (the day itself if there is none).
#[must_use]
pub fn day_end(day: NaiveDate) -> DateTime<Utc> {
    day_start(day.checked_add_days(chrono::Days::new(1)).unwrap_or(day))
}
