//! PostgreSQL: the two indexes of the running tickets' SLA instants (`sla_breach_at`,
//! `sla_alert_at`, see `m20261204_000001_ticket_stats_kept`) also hold the columns their
//! expressions read, so the stats count the running tickets still ahead of each instant from
//! the index alone. PostgreSQL reads an index on an expression without its table only when the
//! index holds the columns the expression is made of; without them it fetched every counted
//! ticket's row: with 20,000 running tickets ahead (20,000 tickets opened by the bench's
//! creates, at 1M tickets), 19,321 table pages and 134 ms for one count, against 3.2 ms from
//! the index alone. SQLite's counts read the table rows of the same tickets in about a
//! millisecond (its rows are in its page cache); its indexes stay as they are. (Since
//! `m20261205_000005_ticket_sla_hour_counts` these indexes count only the tickets whose
//! instant falls later in the current hour; the others are kept counted per hour.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::{sla_alert_at, sla_breach_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        if backend != DbBackend::Postgres {
            return Ok(());
        }
        // Both new indexes are built before the old ones go (as `replace_index` does): a
        // `DROP INDEX` locks the table until the migration's transaction ends.
        let statements = [
            format!(
                "CREATE INDEX \"idx-tickets-sla_breach_at-covering\" ON tickets ({}) \
                 INCLUDE (sla_response_level, date_limite, sla_response_due) \
                 WHERE sla_paused_since IS NULL",
                sla_breach_at(backend)
            ),
            format!(
                "CREATE INDEX \"idx-tickets-sla_alert_at-covering\" ON tickets ({}) \
                 INCLUDE (sla_response_level, date_limite, sla_warning_at, sla_response_due, \
                 sla_response_warning_at) \
                 WHERE sla_paused_since IS NULL",
                sla_alert_at(backend)
            ),
            "DROP INDEX \"idx-tickets-sla_breach_at\"".to_owned(),
            "DROP INDEX \"idx-tickets-sla_alert_at\"".to_owned(),
        ];
        crate::helpers::run_all(manager, statements).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
