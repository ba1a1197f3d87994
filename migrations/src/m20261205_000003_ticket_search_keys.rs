//! SQLite: the index that joins the search's FTS matches to their tickets also holds what the
//! ranking and the company filter read (`date_creation`, `client_id`), so ranking the matches
//! reads no ticket row: only the page's tickets are read. PostgreSQL searches through its
//! `search_vector` columns and has no such index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "CREATE INDEX \"idx-tickets-fts_rowid-date_creation-client_id\" ON tickets \
     ((annee * 1000000000 + sequence), date_creation, client_id)",
    "DROP INDEX \"idx-tickets-fts_rowid\"",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            return Ok(());
        }
        crate::helpers::run_all(manager, SQLITE).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
