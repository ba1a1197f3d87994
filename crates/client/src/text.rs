//! Small helpers the portal's modules share: required text, case-insensitive search
//! conditions, money formatting.

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};
use shared::AppError;

pub use shared::input::{day_end, day_start, optional, required};

/// `term` found in any of `columns`, ignoring case (LIKE with its wildcards escaped).
#[must_use]
pub fn search<C: ColumnTrait>(columns: &[C], term: &str) -> Condition {
    let escaped = term
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let mut any = Condition::any();
    for column in columns {
        let lowered: SimpleExpr = Func::lower(Expr::col(column.as_column_ref())).into();
        any =
            any.add(lowered.like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')));
    }
    any
}

/// `1 234,56 €` (French grouping, two decimals, the symbol for EUR, else the code).
#[must_use]
pub fn money(cents: i64, currency: &str) -> String {
    let negative = cents < 0;
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        other => other,
    };
    format!(
        "{}{grouped},{:02} {symbol}",
        if negative { "-" } else { "" },
        abs % 100
    )
}

/// The years a date filter may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// A `date_from`/`date_to` pair: each within [`YEARS`], and in order.
///
/// # Errors
/// 422 naming the field.
pub fn check_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), AppError> {
    for (field, day) in [("date_from", from), ("date_to", to)] {
        if let Some(day) = day
            && !YEARS.contains(&day.year())
        {
            return Err(AppError::invalid(
                field,
                format!("must be between {} and {}", YEARS.start(), YEARS.end()),
            ));
        }
    }
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(AppError::invalid("date_to", "must not be before date_from"));
    }
    Ok(())
}

/// A 404 for a row named in the body or query becomes a 422 naming that field; other errors
/// (the database) pass through.
pub fn named_field(
    field: &'static str,
    message: &'static str,
) -> impl FnOnce(AppError) -> AppError {
    move |err| match err {
        AppError::NotFound(_) => AppError::invalid(field, message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_in_french() {
        assert_eq!(money(0, "EUR"), "0,00 €");
        assert_eq!(money(5, "EUR"), "0,05 €");
        assert_eq!(money(123_456_789, "EUR"), "1 234 567,89 €");
        assert_eq!(money(-100_000, "XOF"), "-1 000,00 XOF");
    }

    #[test]
    fn blank_text_is_refused() {
        assert!(required("  ", "name").is_err());
        assert_eq!(required(" a ", "name").ok().as_deref(), Some("a"));
        assert_eq!(optional(Some("  "), "x").ok(), Some(None));
    }
}
