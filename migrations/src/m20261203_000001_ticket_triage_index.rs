//! The triage list (`?status=…&priority=…`, newest first) read from one index: `(status,
//! priority)` becomes `(status, priority, date_creation, id)`. The list then walks exactly the
//! page's entries in order, instead of walking one filter's index and reading each ticket to
//! test the other; the statistics still count status × priority from the index alone (its
//! first two columns), so the old index goes and writes pay for no extra one.

use sea_orm_migration::prelude::*;

use crate::helpers::{iden, replace_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    Status,
    Priority,
    DateCreation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(
            manager,
            Tickets::Table,
            "idx-tickets-status-priority",
            "idx-tickets-status-priority-date_creation-id",
            vec![
                iden(Tickets::Status),
                iden(Tickets::Priority),
                iden(Tickets::DateCreation),
                iden(Tickets::Id),
            ],
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
