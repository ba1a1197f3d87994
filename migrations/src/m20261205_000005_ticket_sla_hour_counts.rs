//! The running tickets' SLA levels counted without walking the tickets ahead of their
//! deadlines. The stats counted, at each call, the running tickets still ahead of their breach
//! instant and of their alert instant (`m20261204_000001_ticket_stats_kept`) by walking each
//! instant's index from now on: every ticket with a deadline to come, some 22,000 entries twice
//! at 1M tickets after a burst of creates, 8 of the 9 ms of a stats call on PostgreSQL, and on
//! PostgreSQL far more when those tickets' pages are not yet marked all-visible by a vacuum
//! (recent tickets never are: 24,000 heap fetches, 165 ms for one count).
//!
//! Now the database also keeps, per UTC hour, how many running tickets reach their breach
//! instant and their alert instant in that hour (`ticket_sla_hour_counts`), kept like the other
//! counts: triggers append change rows (`ticket_sla_hour_count_changes`) that the counts'
//! compaction folds in. The tickets ahead of an instant at `now` are those of the hours after
//! now's (a sum over at most a few hundred kept rows) and those of now's hour still ahead of
//! now (a range of the instant's index no longer than an hour). A ticket whose first answer
//! came late has its instants before any other (`sla_breach_at`'s past), kept under the empty
//! hour, which sorts first; an instant gone by stays under its own hour. Hours gone by are never read again: the table starts with now's hour and those after
//! it, and the compaction drops the hours more than a day old (`tickets::counts::compact`), so
//! it holds a few hundred rows, however long the history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261204_000001_ticket_stats_kept::{sla_alert_at_of, sla_breach_at_of};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The UTC hour of `instant` (SQL of an instant, never NULL) as kept: `YYYY-MM-DDHH`, which
/// sorts as the hours do; empty for an instant before any other (`'-infinity'` on PostgreSQL,
/// `''` on SQLite, where instants are RFC 3339 text in UTC). `tickets::counts` writes now's
/// hour the same way.
#[must_use]
pub fn utc_hour(backend: DbBackend, instant: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("COALESCE(to_char({instant} AT TIME ZONE 'UTC', 'YYYY-MM-DDHH24'), '')")
        }
        _ => format!("(substr({instant}, 1, 10) || substr({instant}, 12, 2))"),
    }
}

/// The UTC hour of the database's clock, as [`utc_hour`] writes it.
fn this_hour(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DDHH24')",
        _ => "strftime('%Y-%m-%d%H', 'now')",
    }
}

/// The change rows of `row` (`new`/`old`, `NEW`/`OLD` on PostgreSQL) counted `delta` times
/// when its clock runs: one at the hour of its breach instant, one at the hour of its alert
/// instant.
fn hour_changes(backend: DbBackend, row: &str, delta: i32) -> String {
    let qualifier = format!("{row}.");
    let breach = utc_hour(backend, &sla_breach_at_of(backend, &qualifier));
    let alert = utc_hour(backend, &sla_alert_at_of(backend, &qualifier));
    format!(
        "INSERT INTO ticket_sla_hour_count_changes (hour, breach, alert) \
         SELECT {breach}, {delta}, 0 WHERE {row}.sla_paused_since IS NULL; \
         INSERT INTO ticket_sla_hour_count_changes (hour, breach, alert) \
         SELECT {alert}, 0, {delta} WHERE {row}.sla_paused_since IS NULL;"
    )
}

/// Did the update pause or resume the clock, or move either instant to another hour?
fn hours_changed(backend: DbBackend, old: &str, new: &str, distinct: &str) -> String {
    let hour = |row: &str, of: fn(DbBackend, &str) -> String| {
        utc_hour(backend, &of(backend, &format!("{row}.")))
    };
    format!(
        "({old}.sla_paused_since IS NULL) {distinct} ({new}.sla_paused_since IS NULL) \
         OR {} {distinct} {} OR {} {distinct} {}",
        hour(old, sla_breach_at_of),
        hour(new, sla_breach_at_of),
        hour(old, sla_alert_at_of),
        hour(new, sla_alert_at_of),
    )
}

fn statements(backend: DbBackend) -> Vec<String> {
    let (key, count, without_rowid) = crate::helpers::kept_table_types(backend, 12);
    let hour = |of: fn(DbBackend, &str) -> String| utc_hour(backend, &of(backend, ""));
    let mut out = Vec::new();
    if backend == DbBackend::Postgres {
        // Ticket writes wait until the triggers exist (the migration's transaction ends), so
        // none commits between the fill's snapshot and the triggers, uncounted (another
        // instance still running during a deploy). SQLite's first write here already locks
        // the database.
        out.push("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE".to_owned());
    }
    out.extend([
        format!(
            "CREATE TABLE ticket_sla_hour_counts (hour {key} NOT NULL PRIMARY KEY, \
             breach {count} NOT NULL, alert {count} NOT NULL){without_rowid}"
        ),
        format!(
            "CREATE TABLE ticket_sla_hour_count_changes (hour {key} NOT NULL, \
             breach integer NOT NULL, alert integer NOT NULL)"
        ),
        format!(
            "INSERT INTO ticket_sla_hour_counts (hour, breach, alert) \
             SELECT hour, SUM(breach), SUM(alert) FROM \
             (SELECT {} AS hour, 1 AS breach, 0 AS alert FROM tickets \
              WHERE sla_paused_since IS NULL \
              UNION ALL SELECT {}, 0, 1 FROM tickets WHERE sla_paused_since IS NULL) x \
             GROUP BY hour HAVING hour >= {}",
            hour(sla_breach_at_of),
            hour(sla_alert_at_of),
            this_hour(backend),
        ),
    ]);
    out.extend(crate::helpers::count_triggers(
        backend,
        "sla_hour_counts",
        "sla_paused_since, sla_response_level, date_limite, sla_warning_at, sla_response_due, \
         sla_response_warning_at",
        |row, delta| hour_changes(backend, row, delta),
        |old, new, distinct| hours_changed(backend, old, new, distinct),
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
