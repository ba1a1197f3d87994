//! Database connection: SQLite (embedded default) or PostgreSQL, from `DATABASE_URL`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{
    Alias, ColumnType, Expr, Func, IntoCondition, IntoIden, PostgresQueryBuilder, Query,
    SelectStatement, TableBuilder,
};
use sea_orm::{
    ColumnTrait, ConnAcquireErr, ConnectOptions, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, IdenStatic, Iterable,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

mod columns;
mod inline;
mod sqlite_memory;
mod sqlite_mutex;

pub use columns::{Columns, InlineDecode};
pub use inline::{
    InlineColumns, InlineError, InlineReads, InlineRow, InlineRowError, InlineType, InlineValues,
    ModelRow, OneRead, Rows, STEP_BUDGET, find_all_inline, optional_time_at, optional_uuid_at,
    query_all_inline, query_rows_inline, try_inline, uuid_at,
};

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

/// Create the SQLite `file` (and its folder) if it is missing and `url` asks for it
/// (`mode=rwc`): an empty file is an empty database.
fn create_sqlite_file(url: &str, file: &std::path::Path) -> Result<(), DbErr> {
    let creates = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=rwc"));
    if !creates || file.exists() {
        return Ok(());
    }
    if let Some(parent) = file.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create the database folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
    {
        Ok(_) => Ok(()),
        // Another pool or process created it meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(DbErr::Custom(format!(
            "cannot create the database file {}: {e}",
            file.display()
        ))),
    }
}

/// Open the pool. SQLite gets WAL, foreign keys, a busy timeout and fully synchronous commits
/// (a committed write survives a power cut); with `mode=rwc` the file and its folder are
/// created if missing, before the first connection: connections opened later never create it,
/// so a database deleted under the running server is not replaced by an empty one.
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

/// How long a pooled PostgreSQL connection may sit idle before a checkout checks it first
/// (HikariCP's bypass window): under load connections come back within milliseconds and go
/// out unchecked; a quiet server pays one round trip for a request that follows a pause.
pub const PG_CHECK_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// The process's reference instant for [`RUNTIME_STOPPED_AT`].
static PROCESS_START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// When (nanoseconds after [`PROCESS_START`]) a runtime that may have opened pooled connections
/// last stopped; 0 when none has.
static RUNTIME_STOPPED_AT: AtomicU64 = AtomicU64::new(0);

/// Record that a runtime which may have opened pooled connections has stopped: the HTTP
/// workers', when the server stops. A PostgreSQL connection is a socket registered with the
/// runtime it was opened on (a worker's, when the pool grew during a request) and dies with it,
/// so every PostgreSQL connection opened before now is replaced at its next checkout (the job
/// runner still writes while it winds down). The record is process-wide: in a process running
/// several servers (the tests), one stopping costs the others' pools a reconnection each.
pub fn runtime_stopped() {
    let now = u64::try_from(PROCESS_START.elapsed().as_nanos()).unwrap_or(u64::MAX);
    RUNTIME_STOPPED_AT.fetch_max(now.max(1), Ordering::AcqRel);
}

/// Whether a runtime stopped ([`runtime_stopped`]) at or after `instant`: the connections
/// opened before it are then replaced at their next checkout.
#[must_use]
pub fn runtime_stopped_since(instant: Instant) -> bool {
    let stopped = RUNTIME_STOPPED_AT.load(Ordering::Acquire);
    stopped != 0
        && instant.saturating_duration_since(*PROCESS_START) <= Duration::from_nanos(stopped)
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
    if url.starts_with("sqlite:") {
        // Before the process's first SQLite connection (`sqlite_memory`).
        if let Err(code) = sqlite_memory::install() {
            tracing::warn!(
                code,
                "SQLite was initialized before its allocator could be set; it keeps glibc's malloc"
            );
        }
    }
    if let Some(file) = sqlite_file(url) {
        create_sqlite_file(url, &file)?;
    }
    sea_orm::Database::connect(pool_options(url, max_connections, statement_timeout)).await
}

/// A pool of its own for the HTTP worker whose thread calls this (from the server's app
/// factory), on PostgreSQL: `config.db_max_connections` shared among `workers`, each opened
/// when its worker first needs it. A PostgreSQL connection's socket belongs to the runtime
/// that opened it: one worker's statements on a connection another worker opened were
/// answered through that worker's event loop, which then woke this one (a hand-over between
/// threads per statement); a worker's own connections are answered on its own thread.
/// `None` on SQLite (its connections are threads of their own, and the inline readers read on
/// the worker already) and outside a runtime: the shared pool serves then.
#[must_use]
pub fn worker_pool(config: &Config, workers: usize) -> Option<DatabaseConnection> {
    if !config.database_url.starts_with("postgres") {
        return None;
    }
    tokio::runtime::Handle::try_current().ok()?;
    let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
    let mut options = pool_options(
        &config.database_url,
        config.db_max_connections.div_ceil(workers).max(1),
        config.db_statement_timeout,
    );
    options.connect_lazy(true);
    // A lazy pool connects nothing before its first checkout: the future is ready at once.
    use futures_util::FutureExt as _;
    sea_orm::Database::connect(options).now_or_never()?.ok()
}

/// The options of every pool [`open`] and [`worker_pool`] open.
fn pool_options(
    url: &str,
    max_connections: u32,
    statement_timeout: Option<Duration>,
) -> ConnectOptions {
    // Set before any connection opens, so that every age is measured from after it.
    LazyLock::force(&PROCESS_START);
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
            // The file exists by now (created above when the URL asks for it): a connection
            // opened later must not create it again, empty, if it was deleted under the
            // running server. It fails instead, and requests answer 503.
            opts.create_if_missing(false)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // A page of 100 rows crosses from the connection's thread without the thread
                // stopping halfway for the reader (sqlx's default buffer is 50 rows).
                .row_buffer_size(256)
                .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1))
        })
        .map_sqlx_postgres_opts(|opts| {
            use sqlx::ConnectOptions as _;
            // No JIT: it pays off for analytic queries running seconds, not for ours. Left
            // on, PostgreSQL compiled the search's count and page (166 and 333 ms) to run
            // them in a few milliseconds, because their cost estimate crossed `jit_above_cost`.
            opts.application_name("presta")
                .options([("jit", "off")])
                .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1))
        });
    // sqlx pings a connection on every checkout by default: one more round trip per statement
    // (to the server, or to an SQLite connection's thread). Here only a connection that may
    // have died unseen is checked first (a failed check replaces it instead of failing the
    // request).
    if url.starts_with("sqlite:") {
        // An SQLite connection is a thread of this process that no peer can drop.
        options.test_before_acquire_if_idle_for(Duration::from_secs(30));
    } else {
        // A PostgreSQL connection idle a while (the server may have ended it: a restart, an
        // administrator, a network cut) is checked; one a stopped runtime may own (see
        // `runtime_stopped`) is replaced. One dropped while in use fails its statement and is
        // closed as it returns: it still awaits an answer, so the pool's release check finds
        // it broken (vendor/sqlx-postgres).
        options
            .test_before_acquire_if_idle_for(PG_CHECK_IF_IDLE_FOR)
            // Not pinged but replaced: a ping can pass on a stopped runtime's socket (tokio
            // reads or writes at once when it already knows the socket ready, without asking
            // the stopped reactor), and the next statement then fails.
            .map_sqlx_postgres_before_acquire(|_, meta| {
                // Opened `age` ago (at the process's start at the earliest).
                let opened = Instant::now()
                    .checked_sub(meta.age)
                    .unwrap_or(*PROCESS_START);
                Box::pin(async move { Ok(!runtime_stopped_since(opened)) })
            });
    }
    if let Some(limit) = statement_timeout {
        // Sent as a startup parameter (ignored by SQLite).
        options.statement_timeout(limit);
    }
    options
}

/// How long SQLite waits for another connection's write lock (its busy timeout), and how long a
/// writer waits for its turn at [`begin_write`].
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One turn at a time for the write transactions of each SQLite file. SQLite has one writer; the
/// others, left to its busy handler, sleep in growing steps (up to 100 ms) and poll, so under
/// concurrent writes the lock sat free while every waiter slept: creates peaked near 400/s with
/// a p99 of 700 ms. Waiting here instead is a FIFO queue that hands the lock over at once.
static SQLITE_WRITE_TURNS: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The write turn of `db`'s SQLite file (`None` for PostgreSQL, whose writers lock rows).
fn write_turn(db: &DatabaseConnection) -> Option<Arc<Semaphore>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let mut turns = SQLITE_WRITE_TURNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(Arc::clone(
        turns
            .entry(file)
            .or_insert_with(|| Arc::new(Semaphore::new(1))),
    ))
}

/// A transaction started by [`begin_write`]: use it as a connection, then [`commit`] or
/// [`rollback`] it (dropped, it rolls back). On SQLite it holds the file's write turn until
/// it ends.
///
/// [`commit`]: WriteTxn::commit
/// [`rollback`]: WriteTxn::rollback
pub struct WriteTxn {
    txn: DatabaseTransaction,
    // Declared after `txn`, so it is released after the transaction is.
    _turn: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for WriteTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTxn").finish_non_exhaustive()
    }
}

impl WriteTxn {
    /// # Errors
    /// The commit failed (the transaction is rolled back).
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// # Errors
    /// The rollback failed.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Start a transaction that will write. On SQLite it first waits for the file's write turn
/// (in order, at most [`SQLITE_BUSY_TIMEOUT`]) and then takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so a writer never fails when it upgrades from a read; PostgreSQL uses its
/// default (read committed).
///
/// # Errors
/// The transaction cannot be started, or (SQLite) no turn came within the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = match write_turn(db) {
        Some(turns) => Some(
            tokio::time::timeout(SQLITE_BUSY_TIMEOUT, turns.acquire_owned())
                .await
                .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
                .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?,
        ),
        None => None,
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
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
    // Ask for the schema, not just a connection: the file at the path may have been replaced
    // by another one (our own connections never create it after start, see [`open`]).
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

/// A count or sum read back from the database (`COUNT`, or [`sum_bigint`] of ones, `NULL`
/// over no rows) as a number of things: missing or negative counts as 0.
#[must_use]
pub fn count_of(n: impl Into<Option<i64>>) -> u64 {
    u64::try_from(n.into().unwrap_or(0)).unwrap_or(0)
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

/// Statements built once and bound anew on each call: for a hot statement whose building (its
/// columns, aliases and joins put together by sea-query, then written out) costs more than
/// running it. Each of the `N` shapes (the options that change the SQL's text) is built once
/// per backend, the first time, with stand-in values; each call replaces every value equal to
/// a stand-in by the call's own.
pub struct Templates<const N: usize> {
    sqlite: [OnceLock<Statement>; N],
    postgres: [OnceLock<Statement>; N],
}

impl<const N: usize> Templates<N> {
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sqlite: [const { OnceLock::new() }; N],
            postgres: [const { OnceLock::new() }; N],
        }
    }

    /// The statement of `shape` on `backend`, built by `build` the first time (every time for
    /// a shape out of range or another backend), with each value equal to the first of a pair
    /// of `binds` replaced by the second. The stand-ins must be values the statement holds
    /// nowhere else.
    pub fn bind(
        &self,
        backend: DbBackend,
        shape: usize,
        build: impl FnOnce() -> Statement,
        binds: &[(Value, Value)],
    ) -> Statement {
        let built = match backend {
            DbBackend::Sqlite => self.sqlite.get(shape),
            DbBackend::Postgres => self.postgres.get(shape),
            _ => None,
        };
        let mut statement = match built {
            Some(built) => built.get_or_init(build).clone(),
            None => build(),
        };
        if let Some(values) = &mut statement.values {
            for value in &mut values.0 {
                if let Some((_, own)) = binds.iter().find(|(stand_in, _)| stand_in == value) {
                    *value = own.clone();
                }
            }
        }
        statement
    }
}

impl<const N: usize> Default for Templates<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// `statement` with its page size written into its text (`LIMIT 100`) instead of bound, when
/// it is bound as the statement's last parameter (`LIMIT $n`, nothing bound after it: no
/// `OFFSET`). PostgreSQL cannot estimate a bound `LIMIT` in a generic plan (it assumes a tenth
/// of the rows), so it kept planning such a statement anew on every run: half a millisecond
/// of its CPU for the ticket list's page, as much as running it. With the page size in the
/// text the generic plan is estimated as the custom ones and PostgreSQL keeps it (one text per
/// page size). Any other statement, and SQLite's (its plans are fixed when prepared), is
/// returned as it is.
#[must_use]
pub fn literal_limit(mut statement: Statement, limit: u64) -> Statement {
    if statement.db_backend != DbBackend::Postgres {
        return statement;
    }
    let Some(values) = &mut statement.values else {
        return statement;
    };
    if values.0.last() != Some(&Value::BigUnsigned(Some(limit))) {
        return statement;
    }
    let bound = format!(" LIMIT ${}", values.0.len());
    let mut found = statement.sql.match_indices(&bound).filter(|(at, _)| {
        // `$1` is not `$12`.
        !statement.sql[at + bound.len()..].starts_with(|c: char| c.is_ascii_digit())
    });
    let (Some((at, _)), None) = (found.next(), found.next()) else {
        return statement;
    };
    statement
        .sql
        .replace_range(at..at + bound.len(), &format!(" LIMIT {limit}"));
    values.0.pop();
    statement
}

/// SQLite: `statement` reading its table `table AS alias` through `index` (`"table" AS "alias"
/// INDEXED BY "index"`), an index the planner would not choose without statistics (a covering
/// one beside the primary key's, which SQLite prefers). sea-query writes no such clause. The
/// table must appear once so; otherwise, and on PostgreSQL, `statement` is returned as it is.
/// SQLite refuses a statement that names an index it does not have: a migration must make it.
#[must_use]
pub fn indexed_by(mut statement: Statement, table: &str, alias: &str, index: &str) -> Statement {
    if statement.db_backend != DbBackend::Sqlite {
        return statement;
    }
    let read = format!("\"{table}\" AS \"{alias}\"");
    let mut found = statement.sql.match_indices(&read);
    let (Some((at, _)), None) = (found.next(), found.next()) else {
        return statement;
    };
    statement
        .sql
        .insert_str(at + read.len(), &format!(" INDEXED BY \"{index}\""));
    statement
}

/// Select every column of `E` from `table` (the table's name or its alias in `select`), each
/// named `{prefix}{column}`: what `E::Model::from_query_result(row, prefix)` reads back, so one
/// statement can return the models of several joined tables.
pub fn select_model_columns<E: EntityTrait>(
    select: &mut SelectStatement,
    table: impl IntoIden,
    prefix: &str,
) {
    let table = table.into_iden();
    for column in <E::Column as Iterable>::iter() {
        select.expr_as(
            column.select_as(Expr::col((table.clone(), column))),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// A `NULL` of column type `ty`: cast to it on PostgreSQL, which resolves the types of a chain
/// of unions pair by pair (two untyped `NULL`s become `text`, which a later branch's `uuid` or
/// `boolean` cannot join); SQLite's values carry their own types.
#[must_use]
pub fn null_of(backend: DbBackend, ty: &ColumnType) -> Expr {
    match backend {
        DbBackend::Postgres => {
            let mut name = String::new();
            PostgresQueryBuilder.prepare_column_type(ty, &mut name);
            Expr::cust(format!("CAST(NULL AS {name})"))
        }
        _ => Expr::cust("NULL"),
    }
}

/// Select a `NULL` ([`null_of`]) for every column of `E`, named as [`select_model_columns`]
/// names them: the padding of a `UNION ALL` branch that returns other models.
pub fn select_null_columns<E: EntityTrait>(
    select: &mut SelectStatement,
    backend: DbBackend,
    prefix: &str,
) {
    for column in <E::Column as Iterable>::iter() {
        select.expr_as(
            null_of(backend, column.def().get_column_type()),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// The start of one branch of a `UNION ALL` whose rows hold different models: its first
/// column, `k`, says which (`kind`); each branch then selects its own model's columns
/// ([`select_model_columns`]) and `NULL`s for the others' ([`select_null_columns`]).
#[must_use]
pub fn union_branch(kind: i32) -> SelectStatement {
    let mut select = Query::select();
    select.expr_as(Expr::cust(kind.to_string()), Alias::new("k"));
    select
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

/// The transaction of a write, in the public vocabulary of this module.
pub type Txn = WriteTxn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_final_limit_is_written_into_postgres_text_alone() {
        use sea_orm::sea_query::ExprTrait;
        let build = |backend: DbBackend, offset: Option<u64>| {
            let mut select = Query::select();
            select
                .column(Alias::new("id"))
                .from(Alias::new("t"))
                .and_where(Expr::col(Alias::new("n")).eq(7))
                .limit(100);
            if let Some(offset) = offset {
                select.offset(offset);
            }
            backend.build(&select)
        };
        let statement = literal_limit(build(DbBackend::Postgres, None), 100);
        assert_eq!(
            statement.sql,
            r#"SELECT "id" FROM "t" WHERE "n" = $1 LIMIT 100"#
        );
        assert_eq!(statement.values.unwrap().0, [Value::Int(Some(7))]);
        // Another page size than the bound one, an OFFSET after it, SQLite: as they were.
        for (statement, limit) in [
            (build(DbBackend::Postgres, None), 20),
            (build(DbBackend::Postgres, Some(200)), 100),
            (build(DbBackend::Sqlite, None), 100),
        ] {
            let before = statement.clone();
            let after = literal_limit(statement, limit);
            assert_eq!(after.sql, before.sql);
            assert_eq!(after.values, before.values);
        }
    }

    #[test]
    fn an_index_is_named_for_a_table_read_once_on_sqlite_alone() {
        let sql = r#"SELECT "c"."name" FROM "t" LEFT JOIN "companies" AS "c" ON "c"."id" = "t"."c" LEFT JOIN "chantiers" AS "ch" ON "ch"."id" = "t"."ch""#;
        let statement = |backend| Statement::from_string(backend, sql);
        let named = indexed_by(statement(DbBackend::Sqlite), "companies", "c", "i");
        assert_eq!(
            named.sql,
            sql.replace(
                r#""companies" AS "c""#,
                r#""companies" AS "c" INDEXED BY "i""#
            )
        );
        // `"c"` is not `"ch"`.
        let named = indexed_by(named, "chantiers", "ch", "j");
        assert!(
            named
                .sql
                .contains(r#""chantiers" AS "ch" INDEXED BY "j" ON"#)
        );
        // PostgreSQL, a table not read, a table read twice: as they were.
        let twice = format!("{sql} UNION {sql}");
        for (backend, sql, table) in [
            (DbBackend::Postgres, sql, "companies"),
            (DbBackend::Sqlite, sql, "users"),
            (DbBackend::Sqlite, twice.as_str(), "companies"),
        ] {
            let statement = Statement::from_string(backend, sql);
            assert_eq!(indexed_by(statement, table, "c", "i").sql, sql);
        }
    }

    #[test]
    fn a_template_is_built_once_and_bound_with_each_calls_values() {
        use std::sync::atomic::AtomicUsize;
        static TEMPLATES: Templates<1> = Templates::new();
        let builds = AtomicUsize::new(0);
        let stand_in = uuid::Uuid::max();
        let build = |id: uuid::Uuid| {
            builds.fetch_add(1, Ordering::Relaxed);
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT ? WHERE ? = ? LIMIT ?",
                [id.into(), 7i64.into(), id.into(), 20u64.into()],
            )
        };
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        for (shape, own) in [(0, a), (0, b), (5, a), (5, b)] {
            let statement = TEMPLATES.bind(
                DbBackend::Sqlite,
                shape,
                || build(stand_in),
                &[(stand_in.into(), own.into())],
            );
            assert_eq!(statement.sql, "SELECT ? WHERE ? = ? LIMIT ?");
            let values = statement.values.unwrap().0;
            assert_eq!(values, [own.into(), 7i64.into(), own.into(), 20u64.into()]);
        }
        // Once for shape 0, and each time for the shape out of range.
        assert_eq!(builds.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn sqlite_allocates_through_mimalloc() {
        let db = connect_url("sqlite::memory:", 1).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (s TEXT); INSERT INTO t VALUES ('x')")
            .await
            .unwrap();
        assert_eq!(sqlite_memory::install(), Ok(()));
        assert!(sqlite_memory::sqlite_allocates_with_mimalloc());
        db.close().await.ok();
    }

    #[tokio::test]
    async fn a_deleted_sqlite_file_is_not_created_again_by_a_new_connection() {
        let dir = std::env::temp_dir().join(format!("presta-db-{}", uuid::Uuid::now_v7()));
        let file = dir.join("gone.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let db = connect_url(&url, 4).await.unwrap();
        assert!(file.exists(), "mode=rwc creates the file");
        db.execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        // Hold every connection the pool has opened, so the next statement needs a new one.
        let pool = db.get_sqlite_connection_pool();
        let mut held = Vec::new();
        while held.is_empty() || pool.num_idle() > 0 {
            held.push(pool.acquire().await.unwrap());
        }
        assert!(pool.size() < 4);
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            std::fs::remove_file(path).ok();
        }
        let err = db
            .execute_unprepared("SELECT count(*) FROM t")
            .await
            .unwrap_err();
        assert!(
            matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_)),
            "{err:?}"
        );
        assert!(!file.exists(), "the new connection created the file again");
        drop(held);
        db.close().await.ok();
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn sqlite_writers_take_turns_in_order_and_a_dropped_transaction_frees_its_turn() {
        let dir = std::env::temp_dir().join(format!("presta-db-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
        // Two pools on one file, as the request and background pools are.
        let (a, b) = (
            connect_url(&url, 2).await.unwrap(),
            connect_url(&url, 2).await.unwrap(),
        );
        a.execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let first = begin_write(&a).await.unwrap();
        first
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        // The second writer waits for its turn instead of SQLite's busy handler.
        let waiting = tokio::spawn(async move {
            let second = begin_write(&b).await.unwrap();
            second
                .execute_unprepared("INSERT INTO t VALUES (2)")
                .await
                .unwrap();
            second.commit().await.unwrap();
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "the second writer went first");
        first.commit().await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        // A transaction dropped without commit rolls back and hands the turn on.
        let dropped = begin_write(&a).await.unwrap();
        dropped
            .execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .unwrap();
        drop(dropped);
        let next = tokio::time::timeout(Duration::from_secs(5), begin_write(&a))
            .await
            .unwrap()
            .unwrap();
        let rows = next
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT n FROM t ORDER BY n",
            ))
            .await
            .unwrap();
        let values: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get_by_index(0).unwrap())
            .collect();
        assert_eq!(values, vec![1, 2]);
        next.rollback().await.unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

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
    next_n_in_year(txn, counter, year, 1).await
}

/// The last of the next `n` numbers of `year` in `counter` (the first is `last - n + 1`), as
/// [`next_in_year`] does for one.
///
/// # Errors
/// Database errors.
pub async fn next_n_in_year(
    txn: &impl ConnectionTrait,
    counter: YearCounter,
    year: i32,
    n: i32,
) -> Result<i32, DbErr> {
    let backend = txn.get_database_backend();
    let table = counter.table();
    let (year_at, n_at) = if backend == DbBackend::Postgres {
        ("$1", "$2")
    } else {
        ("?", "?")
    };
    let sql = format!(
        "INSERT INTO {table} (annee, last_sequence) VALUES ({year_at}, {n_at}) \
         ON CONFLICT (annee) DO UPDATE SET last_sequence = {table}.last_sequence + \
         excluded.last_sequence RETURNING last_sequence"
    );
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [year.into(), n.into()],
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
