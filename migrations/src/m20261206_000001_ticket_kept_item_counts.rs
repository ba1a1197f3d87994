//! Each ticket keeps how many messages and attachments it has, all of them (what the staff
//! sees) and those that are not internal (what its client sees), so a list page reads them
//! with the ticket instead of counting two indexes per row (bench/RESULTS.md item 25).
//!
//! Kept by triggers on `ticket_messages` and `ticket_attachments`, in the same transaction as
//! the change: +1 on insert, −1 on delete, both on an update of the ticket or the `interne`
//! flag (an attachment becomes internal when it joins an internal message). The columns are
//! the database's: the application never writes them (they are not in the `ticket` entity).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The kept counts: (table counted, column of all its rows, column of its public rows).
const KEPT: [(&str, &str, &str); 2] = [
    ("ticket_messages", "messages_count", "public_messages_count"),
    (
        "ticket_attachments",
        "attachments_count",
        "public_attachments_count",
    ),
];

fn columns(backend: DbBackend) -> Vec<String> {
    let (_, count, _) = crate::helpers::kept_table_types(backend, 1);
    KEPT.iter()
        .flat_map(|(_, all, public)| [all, public])
        .map(|column| format!("ALTER TABLE tickets ADD COLUMN {column} {count} NOT NULL DEFAULT 0"))
        .collect()
}

/// The counts of the tickets there are, for the rows there are.
fn backfill(table: &str, all: &str, public: &str) -> String {
    format!(
        "UPDATE tickets SET \
           {all} = (SELECT COUNT(*) FROM {table} x WHERE x.ticket_id = tickets.id), \
           {public} = (SELECT COUNT(*) FROM {table} x \
                       WHERE x.ticket_id = tickets.id AND NOT x.interne) \
         WHERE id IN (SELECT ticket_id FROM {table})"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut statements = columns(backend);
        // The triggers before the counts of the rows there are: on PostgreSQL creating a
        // trigger locks its table against writes until the migration commits, so no row is
        // written between the two and missed or counted twice.
        for (table, all, public) in KEPT {
            // The row `row` (`new`/`old`) counted `delta` times on its ticket.
            let changes = |row: &str, delta: i32| {
                format!(
                    "UPDATE tickets SET {all} = {all} + {delta}, \
                     {public} = {public} + CASE WHEN {row}.interne THEN 0 ELSE {delta} END \
                     WHERE id = {row}.ticket_id;"
                )
            };
            let changed = |old: &str, new: &str, distinct: &str| {
                format!(
                    "{old}.ticket_id {distinct} {new}.ticket_id \
                     OR {old}.interne {distinct} {new}.interne"
                )
            };
            statements.extend(crate::helpers::row_triggers(
                backend,
                table,
                &format!("{table}_kept"),
                &format!("presta_{table}_kept"),
                "ticket_id, interne",
                changes,
                changed,
            ));
        }
        statements.extend(KEPT.map(|(table, all, public)| backfill(table, all, public)));
        crate::helpers::run_all(manager, statements).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
