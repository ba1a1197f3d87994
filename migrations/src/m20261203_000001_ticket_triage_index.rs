//! The triage list (`?status=…&priority=…`, newest first) read from one index: `(status,
//! priority)` becomes `(status, priority, date_creation, id)`. The list then walks exactly the
//! page's entries in order, instead of walking one filter's index and reading each ticket to
//! test the other; the statistics still count status × priority from the index alone (its
//! first two columns), so the old index goes and writes pay for no extra one.

use sea_orm_migration::prelude::*;

use crate::helpers::{iden, index};

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
        index(
            manager,
            "idx-tickets-status-priority-date_creation-id",
            Tickets::Table,
            vec![
                iden(Tickets::Status),
                iden(Tickets::Priority),
                iden(Tickets::DateCreation),
                iden(Tickets::Id),
            ],
            false,
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx-tickets-status-priority")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
