//! Database connection: SQLite (embedded default) or PostgreSQL, from `DATABASE_URL`.

use std::path::PathBuf;
use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, Func, IntoCondition};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Config;

/// The file behind a `sqlite://` URL (`None` for PostgreSQL or in-memory databases).
#[must_use]
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

/// Open the pool. SQLite gets WAL, foreign keys, a busy timeout and fully synchronous commits
/// (a committed write survives a power cut); its folder is created if missing.
///
/// # Errors
/// The database cannot be reached or the SQLite folder cannot be created.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(
        &config.database_url,
        config.db_max_connections,
        config.db_statement_timeout,
    )
    .await
}

/// [`connect`] for a URL, with no statement timeout (migrations, background jobs, tests and
/// administration of their databases).
///
/// # Errors
/// The database cannot be reached or the SQLite folder cannot be created.
pub async fn connect_url(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    open(url, max_connections, None).await
}

/// Open a pool of `max_connections`. On PostgreSQL, `statement_timeout` has the server cancel
/// any statement running longer (SQLSTATE 57014, answered 503 by [`crate::AppError`]); SQLite
/// has no such setting.
///
/// # Errors
/// The database cannot be reached or the SQLite folder cannot be created.
pub async fn open(
    url: &str,
    max_connections: u32,
    statement_timeout: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(parent) = sqlite_file(url).and_then(|f| f.parent().map(PathBuf::from))
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&parent).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create the database folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        // Statements (with their timings) are logged at debug level, for `RUST_LOG=sqlx=debug`.
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .map_sqlx_sqlite_opts(|opts| {
            use sqlx::ConnectOptions as _;
            opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // A page of 100 rows crosses from the connection's thread without the thread
                // stopping halfway for the reader (sqlx's default buffer is 50 rows).
                .row_buffer_size(256)
                .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1))
        })
        .map_sqlx_postgres_opts(|opts| {
            use sqlx::ConnectOptions as _;
            opts.application_name("presta")
                .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1))
        });
    if let Some(limit) = statement_timeout {
        // Sent as a startup parameter (ignored by SQLite).
        options.statement_timeout(limit);
    }
    sea_orm::Database::connect(options).await
}

/// Start a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades from a read; PostgreSQL uses its default (read committed).
///
/// # Errors
/// The transaction cannot be started.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// Can the database serve requests? A round trip within `timeout`, and for SQLite the file must
/// still be where the server opened it (a deleted file would silently swallow every write).
///
/// # Errors
/// A human-readable reason the database is not usable.
pub async fn check_ready(
    db: &DatabaseConnection,
    sqlite_file: Option<&PathBuf>,
    timeout: Duration,
) -> Result<(), String> {
    if let Some(file) = sqlite_file
        && !file.exists()
    {
        return Err(format!("database file {} is missing", file.display()));
    }
    // Ask for the schema, not just a connection: an SQLite file deleted under a running server
    // is silently re-created empty by the next connection.
    match tokio::time::timeout(
        timeout,
        db.execute_unprepared("SELECT 1 FROM seaql_migrations LIMIT 1"),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(format!("database error: {err}")),
        Err(_) => Err(format!("database did not answer within {timeout:?}")),
    }
}

/// `CAST(SUM(expr) AS BIGINT)`: a 64-bit integer on both databases (PostgreSQL sums a `bigint`
/// into `numeric`, which does not read back as `i64`); `NULL` over no rows.
#[must_use]
pub fn sum_bigint(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr), Alias::new("BIGINT")).into()
}

/// `CASE WHEN cond THEN expr ELSE 0 END`: what a conditional [`sum_bigint`] adds up.
#[must_use]
pub fn when(cond: impl IntoCondition, expr: impl Into<Expr>) -> Expr {
    Expr::case(cond, expr).finally(0).into()
}

/// Human name of the backend, for logs and metrics.
#[must_use]
pub fn backend_name(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

/// Keep `DatabaseTransaction` in the public vocabulary of this module.
pub type Txn = DatabaseTransaction;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/presta.db?mode=rwc"),
            Some(PathBuf::from("data/presta.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x/presta.db"),
            Some(PathBuf::from("/tmp/x/presta.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://postgres@localhost/presta"), None);
    }
}

/// Yearly counters behind gapless numbers (`TC-2026-001`, `FAC-2026-0001`): tables of
/// `(annee PRIMARY KEY, last_sequence)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearCounter {
    Tickets,
    Invoices,
}

impl YearCounter {
    fn table(self) -> &'static str {
        match self {
            Self::Tickets => "ticket_counters",
            Self::Invoices => "invoice_counters",
        }
    }
}

/// The next number of `year` in `counter`, inside the caller's write transaction: the counter
/// row is locked until commit and rolls back with it, so numbers have no gaps and no
/// duplicates.
///
/// # Errors
/// Database errors.
pub async fn next_in_year(
    txn: &impl ConnectionTrait,
    counter: YearCounter,
    year: i32,
) -> Result<i32, DbErr> {
    let backend = txn.get_database_backend();
    let table = counter.table();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "INSERT INTO {table} (annee, last_sequence) VALUES ({placeholder}, 1) \
         ON CONFLICT (annee) DO UPDATE SET last_sequence = {table}.last_sequence + 1 \
         RETURNING last_sequence"
    );
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [year.into()],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    row.try_get_by_index::<i32>(0)
}

/// `select` locked for update when the database needs it: PostgreSQL's `FOR UPDATE`; SQLite's
/// write transactions (`BEGIN IMMEDIATE`, see [`begin_write`]) already exclude every other
/// writer, and it has no such clause.
#[must_use]
pub fn for_update<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    txn: &impl ConnectionTrait,
) -> sea_orm::Select<E> {
    use sea_orm::QuerySelect;
    if txn.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}
