//! Ticket counts kept by the database itself, so the staff's triage counts and statistics do not
//! walk every ticket: exact, and in the same transaction as the change.
//!
//! - `ticket_count_changes`: one row per change, appended by triggers on `tickets` (+1 for a
//!   new ticket, −1 for a deleted one, −1 and +1 when a counted value changes). Appending takes
//!   no lock another writer could wait for: concurrent transactions never contend on a shared
//!   counter row (which on PostgreSQL would also order their locks unpredictably and deadlock
//!   bulk updates).
//! - `ticket_counts`: the compacted totals per `(status, priority, categorie, sla_level)`; a
//!   maintenance task moves the changes in (`tickets::counts::compact`). A count is the sum of
//!   both tables.
//!
//! `sla_level` is the ticket's SLA level while its clock is paused (`ok`, `warning`, `breach`:
//! with the clock stopped it no longer moves) and `''` while the clock runs (its level depends
//! on the time of the question, so it is counted live, over the running tickets alone, which a
//! partial index holds). The level is the one `tickets::filters::sla_level_conditions` computes,
//! at the instant the clock stopped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SLA level of the ticket `row` (`new`, `old` or a table alias) as counted: `''` while its
/// clock runs, else its level when the clock stopped. Same SQL on SQLite (RFC 3339 text in
/// UTC, which compares in time order) and PostgreSQL (`timestamptz`).
fn level(row: &str) -> String {
    format!(
        "CASE WHEN {row}.sla_paused_since IS NULL THEN '' \
         WHEN {row}.sla_paused_since >= {row}.date_limite OR {row}.sla_response_level = 2 \
           OR ({row}.sla_response_level IS NULL \
               AND {row}.sla_paused_since >= {row}.sla_response_due) THEN 'breach' \
         WHEN {row}.sla_paused_since >= {row}.sla_warning_at OR {row}.sla_response_level = 1 \
           OR ({row}.sla_response_level IS NULL \
               AND {row}.sla_paused_since >= {row}.sla_response_warning_at) THEN 'warning' \
         ELSE 'ok' END"
    )
}

/// The columns whose change can move a ticket to another count.
const COUNTED: &str = "status, priority, categorie, sla_paused_since, date_limite, \
                       sla_warning_at, sla_response_due, sla_response_warning_at, \
                       sla_response_level";

fn counted_changed(old: &str, new: &str, distinct: &str) -> String {
    format!(
        "{old}.status {distinct} {new}.status OR {old}.priority {distinct} {new}.priority \
         OR {old}.categorie {distinct} {new}.categorie OR ({lo}) {distinct} ({ln})",
        lo = level(old),
        ln = level(new),
    )
}

fn tables(backend: DbBackend) -> Vec<String> {
    let (key, count, without_rowid) = crate::helpers::kept_table_types(backend, 16);
    vec![
        format!(
            "CREATE TABLE ticket_counts (status {key} NOT NULL, priority {key} NOT NULL, \
             categorie {key} NOT NULL, sla_level {key} NOT NULL, n {count} NOT NULL, \
             PRIMARY KEY (status, priority, categorie, sla_level)){without_rowid}"
        ),
        format!(
            "CREATE TABLE ticket_count_changes (status {key} NOT NULL, priority {key} NOT NULL, \
             categorie {key} NOT NULL, sla_level {key} NOT NULL, delta integer NOT NULL)"
        ),
        format!(
            "INSERT INTO ticket_counts (status, priority, categorie, sla_level, n) \
             SELECT status, priority, categorie, sla_level, COUNT(*) FROM \
             (SELECT status, priority, categorie, {} AS sla_level FROM tickets t) x \
             GROUP BY status, priority, categorie, sla_level",
            level("t")
        ),
        // The running tickets (the ones whose SLA level is counted live), with what their
        // level is computed from.
        "CREATE INDEX \"idx-tickets-sla_running\" ON tickets (date_limite, sla_warning_at, \
         sla_response_due, sla_response_warning_at, sla_response_level) \
         WHERE sla_paused_since IS NULL"
            .to_owned(),
    ]
}

/// The change row a trigger appends: `row` (`new`/`old`) counted `delta` (+1 or -1) times.
fn insert(row: &str, delta: i32) -> String {
    format!(
        "INSERT INTO ticket_count_changes (status, priority, categorie, sla_level, delta) \
         VALUES ({row}.status, {row}.priority, {row}.categorie, {}, {delta});",
        level(row)
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut statements = tables(backend);
        statements.extend(crate::helpers::count_triggers(
            backend,
            "counts",
            COUNTED,
            insert,
            counted_changed,
        ));
        crate::helpers::run_all(manager, statements).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
