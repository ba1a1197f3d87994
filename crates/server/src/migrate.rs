//! Schema migrations at start-up and for `presta migrate`.
//!
//! On PostgreSQL the migrations run under an advisory lock held on a dedicated connection, so
//! instances starting together apply them once, one after the other.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use shared::config::Config;

/// Arbitrary but fixed: "presta" in ASCII.
const MIGRATION_LOCK: i64 = 0x7072_6573_7461;

/// Bring the schema up to date.
///
/// # Errors
/// The database is unreachable or a migration failed (the failed one is rolled back).
pub async fn run(config: &Config) -> Result<(), DbErr> {
    let db = shared::db::connect_url(&config.database_url, 1).await?;
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_lock($1)",
            [MIGRATION_LOCK.into()],
        ))
        .await?;
    }
    let result = Migrator::up(&db, None).await;
    if postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_unlock($1)",
            [MIGRATION_LOCK.into()],
        ))
        .await
        .ok();
    }
    db.close().await.ok();
    result
}
