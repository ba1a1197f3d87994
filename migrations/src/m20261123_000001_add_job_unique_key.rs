//! `jobs.unique_key`: at most one queued-or-running job per key (recurring jobs such as the SLA
//! scan use `recurring:<kind>`), enforced by a partial unique index so several instances
//! scheduling the same run create it once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    UniqueKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(ColumnDef::new(Jobs::UniqueKey).string().null())
                    .to_owned(),
            )
            .await?;
        // Same statement on SQLite and PostgreSQL: both support partial indexes.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX \"ux-jobs-unique_key-pending\" ON jobs (unique_key) \
                 WHERE unique_key IS NOT NULL AND status IN ('queued', 'running')",
            )
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
