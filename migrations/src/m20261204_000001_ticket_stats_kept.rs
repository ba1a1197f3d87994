//! The staff-wide ticket statistics without walking the tickets (`GET /api/tickets-client/stats`
//! at 1,000,000 tickets read some 200,000 rows per call):
//!
//! - **The SLA level of running tickets.** A ticket whose clock runs is `ok` until one instant,
//!   in `warning` from then, in `breach` from a later one; both instants are fixed by its row
//!   ([`SLA_BREACH_AT`], [`SLA_ALERT_AT`]: warning or breach). Indexed over the running tickets,
//!   the levels at `now` are counted from the tickets still ahead of each instant (those with a
//!   deadline to come: a few days of tickets, whatever the history) and the running total the
//!   kept counts hold (`m20261203_000002_ticket_counts`). The index of the five columns the
//!   level was computed from goes. (Since `m20261205_000005_ticket_sla_hour_counts` the
//!   tickets ahead are kept counted per hour of each instant, and these indexes count only
//!   those of the current hour.)
//! - **The daily trend** (created and resolved per UTC day): kept like the counts, as change
//!   rows appended by triggers (`ticket_day_count_changes`) that the counts' compaction folds
//!   into `ticket_day_counts`; a day's figure is the sum of both tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// When a running ticket enters `breach` (SQL over its columns, no table name): its resolution
/// deadline, or its first-response deadline if that is still pending (`sla_response_level` NULL);
/// already passed when the first response was late (level 2). The rule of
/// `tickets::filters::sla_level_conditions`, solved for the instant.
#[must_use]
pub fn sla_breach_at(backend: DbBackend) -> String {
    sla_breach_at_of(backend, "")
}

/// [`sla_breach_at`] over the columns of `row` (`NEW.`, `old.`: the qualifier and its dot).
#[must_use]
pub fn sla_breach_at_of(backend: DbBackend, row: &str) -> String {
    let (past, least) = past_and_least(backend);
    format!(
        "(CASE WHEN {row}sla_response_level = 2 THEN {past} \
         WHEN {row}sla_response_level IS NULL THEN {least}({row}date_limite, {row}sla_response_due) \
         ELSE {row}date_limite END)"
    )
}

/// When a running ticket enters `warning` or worse: the earliest of its warning and breach
/// instants (see [`sla_breach_at`]); already passed when the first response was late (level 1
/// or 2).
#[must_use]
pub fn sla_alert_at(backend: DbBackend) -> String {
    sla_alert_at_of(backend, "")
}

/// [`sla_alert_at`] over the columns of `row` (`NEW.`, `old.`: the qualifier and its dot).
#[must_use]
pub fn sla_alert_at_of(backend: DbBackend, row: &str) -> String {
    let (past, least) = past_and_least(backend);
    format!(
        "(CASE WHEN {row}sla_response_level IN (1, 2) THEN {past} \
         WHEN {row}sla_response_level IS NULL THEN {least}({row}date_limite, {row}sla_warning_at, \
         {row}sla_response_due, {row}sla_response_warning_at) \
         ELSE {least}({row}date_limite, {row}sla_warning_at) END)"
    )
}

/// An instant before any other, and the smallest-of function (the columns are never NULL).
/// SQLite keeps instants as RFC 3339 text in UTC, compared as text.
fn past_and_least(backend: DbBackend) -> (&'static str, &'static str) {
    match backend {
        DbBackend::Postgres => ("'-infinity'::timestamptz", "LEAST"),
        _ => ("''", "min"),
    }
}

/// `YYYY-MM-DD` (UTC) of the instant `column` (qualified as the caller needs), in SQL.
#[must_use]
pub fn utc_day(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        // RFC 3339 text in UTC: the date is its first ten characters.
        _ => format!("substr({column}, 1, 10)"),
    }
}

/// The change rows of `row` (`new`/`old`) counted `delta` times: created on its creation day,
/// resolved on its resolution day when it has one.
fn day_changes(backend: DbBackend, row: &str, delta: i32) -> String {
    let created = utc_day(backend, &format!("{row}.date_creation"));
    let resolved = utc_day(backend, &format!("{row}.resolved_at"));
    format!(
        "INSERT INTO ticket_day_count_changes (day, created, resolved) \
         VALUES ({created}, {delta}, 0); \
         INSERT INTO ticket_day_count_changes (day, created, resolved) \
         SELECT {resolved}, 0, {delta} WHERE {row}.resolved_at IS NOT NULL;"
    )
}

/// Did the update move `old` to another creation or resolution day?
fn days_changed(backend: DbBackend, old: &str, new: &str, distinct: &str) -> String {
    let day = |row: &str, column: &str| utc_day(backend, &format!("{row}.{column}"));
    format!(
        "{} {distinct} {} OR {} {distinct} {}",
        day(old, "date_creation"),
        day(new, "date_creation"),
        day(old, "resolved_at"),
        day(new, "resolved_at"),
    )
}

fn statements(backend: DbBackend) -> Vec<String> {
    let (key, count, without_rowid) = crate::helpers::kept_table_types(backend, 10);
    let mut out = vec![
        format!(
            "CREATE INDEX \"idx-tickets-sla_breach_at\" ON tickets ({}) \
             WHERE sla_paused_since IS NULL",
            sla_breach_at(backend)
        ),
        format!(
            "CREATE INDEX \"idx-tickets-sla_alert_at\" ON tickets ({}) \
             WHERE sla_paused_since IS NULL",
            sla_alert_at(backend)
        ),
        "DROP INDEX \"idx-tickets-sla_running\"".to_owned(),
        format!(
            "CREATE TABLE ticket_day_counts (day {key} NOT NULL PRIMARY KEY, \
             created {count} NOT NULL, resolved {count} NOT NULL){without_rowid}"
        ),
        format!(
            "CREATE TABLE ticket_day_count_changes (day {key} NOT NULL, \
             created integer NOT NULL, resolved integer NOT NULL)"
        ),
        format!(
            "INSERT INTO ticket_day_counts (day, created, resolved) \
             SELECT day, SUM(created), SUM(resolved) FROM \
             (SELECT {} AS day, 1 AS created, 0 AS resolved FROM tickets \
              UNION ALL SELECT {}, 0, 1 FROM tickets WHERE resolved_at IS NOT NULL) x \
             GROUP BY day",
            utc_day(backend, "date_creation"),
            utc_day(backend, "resolved_at"),
        ),
    ];
    out.extend(crate::helpers::count_triggers(
        backend,
        "day_counts",
        "date_creation, resolved_at",
        |row, delta| day_changes(backend, row, delta),
        |old, new, distinct| days_changed(backend, old, new, distinct),
    ));
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::helpers::run_all(manager, statements(manager.get_database_backend())).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
