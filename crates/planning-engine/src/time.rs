//! Local wall-clock times of a site turned into UTC instants, correct across DST changes.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Why a local time cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTimeError {
    /// The clocks jump over it that day (spring forward).
    DoesNotExist { date: NaiveDate, time: NaiveTime },
}

impl std::fmt::Display for LocalTimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DoesNotExist { date, time } => write!(
                f,
                "{} does not exist on {date} in this time zone (the clocks move forward)",
                time.format("%H:%M")
            ),
        }
    }
}

/// The instant a local date and time names. A time that happens twice (autumn, clocks moved
/// back) is the first of the two; one that never happens is an error.
///
/// # Errors
/// [`LocalTimeError::DoesNotExist`] in the hour the clocks skip.
pub fn local_to_utc(
    tz: Tz,
    date: NaiveDate,
    time: NaiveTime,
) -> Result<DateTime<Utc>, LocalTimeError> {
    match tz.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::DoesNotExist { date, time }),
    }
}

/// A shift's instants from its local date, start and end: an end at or before the start is
/// on the next day (a night shift), except an end equal to the start, which gives an empty
/// range (an invalid shift the engine reports).
///
/// # Errors
/// Either time does not exist that day.
pub fn shift_bounds(
    tz: Tz,
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
) -> Result<(DateTime<Utc>, DateTime<Utc>), LocalTimeError> {
    let starts = local_to_utc(tz, date, start)?;
    if end == start {
        return Ok((starts, starts));
    }
    let end_date = if end < start {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    let ends = local_to_utc(tz, end_date, end)?;
    Ok((starts, ends))
}

/// The local calendar date of an instant on a site.
#[must_use]
pub fn local_date(tz: Tz, instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// `2026-W48`.
#[must_use]
pub fn iso_week_label(date: NaiveDate) -> String {
    let week = date.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// `2026-11`.
#[must_use]
pub fn month_label(date: NaiveDate) -> String {
    format!("{}-{:02}", date.year(), date.month())
}

/// Whole minutes between two instants (negative when `b` is before `a`).
#[must_use]
pub fn minutes(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_minutes()
}

/// `hours` as a duration (fractions kept to the second).
#[must_use]
pub fn hours(hours: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation)]
    Duration::seconds((hours * 3600.0).round() as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn a_night_shift_across_the_autumn_change_lasts_one_hour_longer() {
        // Europe/Paris goes from +02:00 to +01:00 at 03:00 on 2026-10-25.
        let (s, e) =
            shift_bounds(chrono_tz::Europe::Paris, d(2026, 10, 24), t(22, 0), t(6, 0)).unwrap();
        assert_eq!(s.to_rfc3339(), "2026-10-24T20:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-10-25T05:00:00+00:00");
        assert_eq!((e - s).num_hours(), 9);
    }

    #[test]
    fn a_night_shift_across_the_spring_change_lasts_one_hour_less() {
        let (s, e) =
            shift_bounds(chrono_tz::Europe::Paris, d(2026, 3, 28), t(22, 0), t(6, 0)).unwrap();
        assert_eq!((e - s).num_hours(), 7);
    }

    #[test]
    fn a_skipped_local_time_is_refused_and_a_repeated_one_is_the_first() {
        let err = local_to_utc(chrono_tz::Europe::Paris, d(2026, 3, 29), t(2, 30)).unwrap_err();
        assert!(err.to_string().contains("02:30 does not exist"));
        let first = local_to_utc(chrono_tz::Europe::Paris, d(2026, 10, 25), t(2, 30)).unwrap();
        assert_eq!(first.to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }

    #[test]
    fn equal_start_and_end_give_an_empty_range() {
        let (s, e) = shift_bounds(chrono_tz::UTC, d(2026, 1, 5), t(8, 0), t(8, 0)).unwrap();
        assert_eq!(s, e);
    }

    #[test]
    fn local_dates_follow_the_site() {
        let instant = Utc.with_ymd_and_hms(2026, 11, 23, 23, 30, 0).unwrap();
        assert_eq!(
            local_date(chrono_tz::Europe::Paris, instant),
            d(2026, 11, 24)
        );
        assert_eq!(
            local_date(chrono_tz::America::New_York, instant),
            d(2026, 11, 23)
        );
        assert_eq!(iso_week_label(d(2026, 11, 24)), "2026-W48");
        assert_eq!(month_label(d(2026, 1, 4)), "2026-01");
    }
}
