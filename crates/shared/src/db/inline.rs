//! Reads of an SQLite file run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is sent to that
//! thread and its rows are sent back, two hand-offs between threads (and, under load, two
//! context switches) for a lookup SQLite itself answers in a few microseconds
//! (bench/RESULTS.md item 32). [`InlineReads`] keeps a few read-only connections of the same
//! file (opened on demand, at most one per thread reading at a time) and runs a statement on
//! the thread that asks, which is an HTTP worker: it blocks that worker for as long as SQLite
//! takes, so it is meant for statements whose walk is bounded (rows found by key, a page an
//! index hands out in its order near its start), not for scans. The account check every
//! authenticated request runs reads through it ([`InlineReads::query_one`], its own decoder),
//! and so does a ticket's detail (its two statements in one read transaction,
//! [`InlineReads::in_one_read`]; their rows typed by [`InlineColumns`] and read into the models
//! through [`ModelRow`], the decoder the pool's rows go through too),
//! and a ticket list's page and kept total ([`query_rows_inline`]: rows read by position
//! through [`Columns`], the pool's reader too; bench/RESULTS.md item 33), and the client's
//! project and invoice lists ([`find_all_inline`]: whole models read by position,
//! `shared::pagination::fetch_models_page`; item 36). Each statement has a budget of SQLite's
//! work ([`STEP_BUDGET`]): one that runs past it is stopped and sent to the pool, so that a
//! plan walking more than its callers meant (a scan, a large sort or count) holds the worker
//! for a few milliseconds at most.
//!
//! What it reads is what sqlx's connections read: both see every committed write (WAL mode,
//! one snapshot per statement or per [`InlineReads::in_one_read`]), but not a transaction's own
//! writes, so a read inside a transaction goes to the transaction. A statement it cannot run (a
//! value it does not bind, a column it cannot type or read, a busy file, a file that cannot be
//! opened) is an [`InlineError`], on which the caller runs it through the pool as before: the
//! pool's answer, and its errors, are the ones that count. [`InlineReads::counts`] tells how
//! many ran here and how many went to the pool. Connections kept idle stay open on their file,
//! as the pool's do: a file deleted under the server is still read through them until it
//! stops.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags};
use sea_orm::sea_query::ColumnType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryResult, Statement, TryGetable, TryIntoModel, Value,
};
use uuid::Uuid;

use super::{Columns, InlineDecode};

/// A row read inline, and what reading one of its values can fail with.
pub use rusqlite::{Error as InlineRowError, Row as InlineRow, types::Type as InlineType};

/// How many idle connections are kept at least; as many as the cores where there are more (an
/// HTTP worker per core by default, each using one at a time).
const KEPT: usize = 4;

/// How many of SQLite's virtual machine instructions run between two checks of a statement's
/// budget.
const STEPS_PER_CHECK: i32 = 1_000;

/// About how many thousands of SQLite's virtual machine instructions a statement may run here
/// before it is interrupted and sent to the pool (checked every thousand, preparing included).
/// Measured on the benchmark's data (bench/RESULTS.md item 36): the account check and a ticket's
/// detail take under a thousand, a page of 100 tickets 6 thousand (15 at page 50), a page of 100
/// invoices 6 (21 at page 5), a page of projects sorted by name 9; a thousand instructions take 10
/// to 90 µs on this machine (a `LIKE` over a long text is one instruction). A statement is then
/// bounded on the worker whatever its plan: a scan, a sort of a whole company's rows or a count of
/// a large range holds the worker for a few milliseconds at most, and runs on the pool's threads.
pub const STEP_BUDGET: u32 = 100;

/// Why a statement was not run inline (the caller then runs it through the pool).
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    #[error("the statement ran past its budget of SQLite instructions")]
    OverBudget,
    #[error("a value of this type is not bound inline: {0:?}")]
    Unsupported(Value),
    #[error("the statement's column {0} has no type to decode it with")]
    Untyped(String),
    #[error("column {0} holds a value its type cannot be read from")]
    Unreadable(String),
    #[error("a row could not be read: {0}")]
    Row(DbErr),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The type of each column, by name, of the rows [`InlineReads::query_all_as`] reads: the
/// models' columns as `shared::db::select_model_columns` names them (a prefix, then the
/// column's name), and any other column a statement adds.
#[derive(Debug, Clone, Default)]
pub struct InlineColumns(HashMap<String, ColumnType>);

impl InlineColumns {
    /// Every column of `E`'s model, named `{prefix}{column}`.
    #[must_use]
    pub fn model<E: EntityTrait>(mut self, prefix: &str) -> Self {
        for column in <E::Column as Iterable>::iter() {
            self.0.insert(
                format!("{prefix}{}", column.as_str()),
                column.def().get_column_type().clone(),
            );
        }
        self
    }

    /// One more column.
    #[must_use]
    pub fn column(mut self, name: &str, ty: ColumnType) -> Self {
        self.0.insert(name.to_owned(), ty);
        self
    }
}

/// A read-only connection, and how many times its statement's budget was checked.
#[derive(Debug)]
struct Reader {
    connection: Connection,
    checks: Arc<AtomicU32>,
}

impl Reader {
    /// Run `statement` here, prepared (or taken from the connection's cache), with `run`,
    /// within its budget.
    fn run<T>(
        &self,
        statement: &Statement,
        run: impl FnOnce(&mut CachedStatement<'_>, Vec<SqlValue>) -> Result<T, InlineError>,
    ) -> Result<T, InlineError> {
        let values = statement
            .values
            .as_ref()
            .map(|values| {
                values
                    .0
                    .iter()
                    .map(to_sqlite)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        self.checks.store(0, Ordering::Relaxed);
        // (SQLite checks the budget while it prepares, too: both go through the match below.)
        let result = self
            .connection
            .prepare_cached(&statement.sql)
            .map_err(InlineError::from)
            .and_then(|mut prepared| run(&mut prepared, values));
        // Interrupted by its budget (the only interruption there is): the connection is sound.
        match result {
            Err(InlineError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)))
                if failure.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Err(InlineError::OverBudget)
            }
            other => other,
        }
    }

    /// Run `sql`, a statement without rows or values (`BEGIN`, `COMMIT`).
    fn execute(&self, sql: &str) -> Result<(), InlineError> {
        self.checks.store(0, Ordering::Relaxed);
        self.connection.prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}

/// The statements of one [`InlineReads::in_one_read`]: one connection, one read transaction.
#[derive(Debug)]
pub struct OneRead<'a> {
    reads: &'a InlineReads,
    reader: &'a Reader,
}

impl OneRead<'_> {
    /// [`InlineReads::query_all_as`] in this read.
    ///
    /// # Errors
    /// As [`InlineReads::query_all_as`].
    pub fn query_all_as(
        &self,
        statement: &Statement,
        columns: &InlineColumns,
    ) -> Result<Vec<InlineValues>, InlineError> {
        self.reads
            .count(self.reader.run(statement, |prepared, values| {
                all_as(prepared, values, columns)
            }))
    }
}

/// Read-only connections of one SQLite file, used on the calling thread.
#[derive(Debug)]
pub struct InlineReads {
    file: PathBuf,
    idle: Mutex<Vec<Reader>>,
    kept: usize,
    /// [`STEP_BUDGET`], or a test's.
    budget: u32,
    /// Statements run here, and statements that could not be (and went to the pool).
    served: AtomicU64,
    failed: AtomicU64,
}

/// The readers of each file, shared by every state that reads it (the account check's, the
/// tickets').
static READERS: LazyLock<Mutex<HashMap<PathBuf, Weak<InlineReads>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl InlineReads {
    /// The readers of the file a `sqlite://` URL names (one set per file in the process);
    /// `None` for PostgreSQL and in-memory databases.
    #[must_use]
    pub fn for_url(url: &str) -> Option<Arc<Self>> {
        let file = super::sqlite_file(url)?;
        let Ok(mut readers) = READERS.lock() else {
            return Some(Arc::new(Self::of_file(file)));
        };
        readers.retain(|_, readers| readers.strong_count() > 0);
        if let Some(readers) = readers.get(&file).and_then(Weak::upgrade) {
            return Some(readers);
        }
        let shared = Arc::new(Self::of_file(file.clone()));
        readers.insert(file, Arc::downgrade(&shared));
        Some(shared)
    }

    fn of_file(file: PathBuf) -> Self {
        Self {
            file,
            idle: Mutex::new(Vec::new()),
            kept: std::thread::available_parallelism()
                .map_or(KEPT, std::num::NonZero::get)
                .max(KEPT),
            served: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            budget: STEP_BUDGET,
        }
    }

    /// How many statements ran here, and how many could not (each then went to the pool).
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }

    /// The file read.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn open(&self) -> Result<Reader, rusqlite::Error> {
        // SQLite's allocator is set before the process's first connection, whichever opens it
        // (`sqlite_memory`; the pool's connections are usually first).
        if let Err(code) = super::sqlite_memory::install() {
            tracing::debug!(code, "SQLite keeps glibc's malloc");
        }
        // Read-only and never created: a file deleted under the server stays missing.
        let connection = Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader of a WAL file waits for no writer; a busy file (its WAL being recovered)
        // goes to the pool, whose connections wait for it, instead of holding this thread.
        connection.busy_timeout(Duration::ZERO)?;
        // SQLite's default page cache, as the pool's connections have: a list's page reads a
        // few hundred pages (its rows, their joins), and with 512 KiB each page read again was
        // a read from the kernel's cache (bench/RESULTS.md item 33: a third more lists).
        connection.pragma_update(None, "cache_size", -2000)?;
        connection.set_prepared_statement_cache_capacity(32);
        // Each statement's budget: SQLite calls this every `STEPS_PER_CHECK` instructions,
        // and interrupts the statement once it returns `true`.
        let checks = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&checks);
        let budget = self.budget;
        connection.progress_handler(
            STEPS_PER_CHECK,
            Some(move || counted.fetch_add(1, Ordering::Relaxed) >= budget),
        )?;
        Ok(Reader { connection, checks })
    }

    /// A connection of the file: an idle one, or a new one.
    fn take(&self) -> Result<Reader, InlineError> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match taken {
            Some(reader) => Ok(reader),
            None => Ok(self.open()?),
        }
    }

    /// Keep `reader` for the next call when `result` leaves it sound (a value not bound, a
    /// column not typed, a row its reader could not read, a statement stopped by its budget
    /// do; SQLite's failures do not) and no transaction is left open on it; else it is closed.
    fn give_back<T>(&self, reader: Reader, result: &Result<T, InlineError>) {
        if !matches!(result, Err(InlineError::Sqlite(_)))
            && reader.connection.is_autocommit()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.kept
        {
            idle.push(reader);
        }
    }

    /// Count `result` as a statement run here, or one that went to the pool.
    fn count<T>(&self, result: Result<T, InlineError>) -> Result<T, InlineError> {
        let count = if result.is_ok() {
            &self.served
        } else {
            &self.failed
        };
        count.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// Run `statement` on a connection of the file, prepared (or taken from the connection's
    /// cache), with `run`; the connection is kept for the next call unless SQLite failed.
    fn with_statement<T>(
        &self,
        statement: &Statement,
        run: impl FnOnce(&mut CachedStatement<'_>, Vec<SqlValue>) -> Result<T, InlineError>,
    ) -> Result<T, InlineError> {
        let result = self.take().and_then(|reader| {
            let result = reader.run(statement, run);
            self.give_back(reader, &result);
            result
        });
        self.count(result)
    }

    /// Run `reads`, the statements of one answer, in one read transaction of one connection
    /// ([`OneRead`]): they read one snapshot, and the file's read lock (its `fcntl` calls, the
    /// shared-memory index's mutex) is taken and left once for all of them instead of once per
    /// statement (bench/RESULTS.md item 42). Each statement keeps its own budget.
    ///
    /// # Errors
    /// [`InlineError`] when one of them could not be run here; the caller then runs them all
    /// through the pool.
    pub fn in_one_read<T>(
        &self,
        reads: impl FnOnce(&OneRead<'_>) -> Result<T, InlineError>,
    ) -> Result<T, InlineError> {
        let reader = match self.take() {
            Ok(reader) => reader,
            Err(err) => return self.count(Err(err)),
        };
        let result = match reader.execute("BEGIN") {
            Ok(()) => reads(&OneRead {
                reads: self,
                reader: &reader,
            }),
            Err(err) => self.count(Err(err)),
        };
        // Ended whatever `reads` gave: a read transaction has nothing to keep or undo.
        let ended = reader.execute("COMMIT");
        let result = match (result, ended) {
            (Ok(read), Ok(())) => Ok(read),
            (Ok(_), Err(err)) => self.count(Err(err)),
            (Err(err), _) => Err(err),
        };
        self.give_back(reader, &result);
        result
    }

    /// Run `statement` and decode its first row with `decode` (`None`: no row).
    ///
    /// # Errors
    /// [`InlineError`] when it could not be run here; the caller runs it through the pool.
    pub fn query_one<T>(
        &self,
        statement: &Statement,
        decode: impl FnOnce(&rusqlite::Row<'_>) -> Result<T, rusqlite::Error>,
    ) -> Result<Option<T>, InlineError> {
        self.with_statement(statement, |prepared, values| {
            let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
            Ok(rows.next()?.map(decode).transpose()?)
        })
    }

    /// Run `statement` and read each of its rows with `read`, by position ([`Columns`]: the
    /// reader of the pool's rows too).
    ///
    /// # Errors
    /// [`InlineError`] when it could not be run here, or `read` failed on a row; the caller
    /// runs it through the pool.
    pub fn query_all_with<T>(
        &self,
        statement: &Statement,
        mut read: impl FnMut(Columns<'_>) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, InlineError> {
        self.with_statement(statement, |prepared, values| {
            let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
            let mut read_rows = Vec::new();
            while let Some(row) = rows.next()? {
                read_rows.push(read(Columns::inline(row)).map_err(InlineError::Row)?);
            }
            Ok(read_rows)
        })
    }

    /// Run `statement` and give each of its rows as its columns' values, each of the type
    /// `columns` gives its column, for the models to be read from ([`ModelRow`]).
    ///
    /// # Errors
    /// [`InlineError`] when it could not be run here (a column `columns` does not type, a
    /// value its type cannot be read from); the caller runs it through the pool.
    pub fn query_all_as(
        &self,
        statement: &Statement,
        columns: &InlineColumns,
    ) -> Result<Vec<InlineValues>, InlineError> {
        self.with_statement(statement, |prepared, values| {
            all_as(prepared, values, columns)
        })
    }
}

/// The rows of `prepared`, bound to `values`, each as its columns' values typed by `columns`
/// ([`InlineReads::query_all_as`]).
fn all_as(
    prepared: &mut CachedStatement<'_>,
    values: Vec<SqlValue>,
    columns: &InlineColumns,
) -> Result<Vec<InlineValues>, InlineError> {
    let names = prepared.column_names();
    let types = names
        .iter()
        .map(|name| {
            columns
                .0
                .get(*name)
                .cloned()
                .ok_or_else(|| InlineError::Untyped((*name).to_owned()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The names once for all the rows; each row holds its values in their order.
    let names = Arc::new(ColumnNames::new(&names));
    let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(types.len());
        for (index, ty) in types.iter().enumerate() {
            let value = typed_value(row.get_ref(index)?, ty)
                .ok_or_else(|| InlineError::Unreadable(names.name(index).to_owned()))?;
            values.push(value);
        }
        read.push(InlineValues {
            names: Arc::clone(&names),
            values,
        });
    }
    Ok(read)
}

impl InlineReads {
    /// Run `statement`, which selects every column of `E` in its order (as `E::find()` does),
    /// and read each row into a model, its values by position, each as its column's type
    /// (`typed_value`, as sqlx reads it).
    ///
    /// # Errors
    /// [`InlineError`] when it could not be run here, when its columns are not `E`'s, or when a
    /// value cannot be read as its column's type; the caller runs it through the pool.
    pub fn query_models<E>(&self, statement: &Statement) -> Result<Vec<E::Model>, InlineError>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        self.with_statement(statement, |prepared, values| {
            let columns: Vec<(E::Column, ColumnType)> = <E::Column as Iterable>::iter()
                .map(|column| (column, column.def().get_column_type().clone()))
                .collect();
            let names = prepared.column_names();
            if let Some(name) = names
                .iter()
                .zip(&columns)
                .find_map(|(name, (column, _))| (*name != column.as_str()).then_some(*name))
                .or_else(|| (names.len() != columns.len()).then_some("(their number)"))
            {
                return Err(InlineError::Untyped(name.to_owned()));
            }
            let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
            let mut models = Vec::new();
            while let Some(row) = rows.next()? {
                let mut model = <E::ActiveModel as ActiveModelTrait>::default();
                for (index, (column, ty)) in columns.iter().enumerate() {
                    let value = typed_value(row.get_ref(index)?, ty)
                        .ok_or_else(|| InlineError::Unreadable(column.as_str().to_owned()))?;
                    model.try_set(*column, value).map_err(InlineError::Row)?;
                }
                models.push(model.try_into_model().map_err(InlineError::Row)?);
            }
            Ok(models)
        })
    }
}

/// A row read inline: its columns' values, typed by [`InlineColumns`], in the statement's
/// order, and their names (shared by the statement's rows).
#[derive(Debug, Clone)]
pub struct InlineValues {
    names: Arc<ColumnNames>,
    values: Vec<Value>,
}

/// The names of a statement's columns, in its order, in one string.
#[derive(Debug)]
struct ColumnNames {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
}

impl ColumnNames {
    fn new(names: &[&str]) -> Self {
        let mut text = String::with_capacity(names.iter().map(|name| name.len()).sum());
        let ends = names
            .iter()
            .map(|name| {
                text.push_str(name);
                text.len()
            })
            .collect();
        Self { text, ends }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn name(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[index]]
    }
}

impl InlineValues {
    /// The position of column `{prefix}{column}`, looked for from `from` on (then from the
    /// start): a model's columns are selected one after the other, in its order
    /// (`shared::db::select_model_columns`), so the next one is usually the first looked at.
    fn position(&self, prefix: &str, column: &str, from: usize) -> Option<usize> {
        let named = |i: &usize| {
            let name = self.names.name(*i);
            name.len() == prefix.len() + column.len()
                && name.starts_with(prefix)
                && name.ends_with(column)
        };
        let count = self.names.len();
        let from = from.min(count);
        (from..count).chain(0..from).find(named)
    }

    /// The value of column `{prefix}{column}`.
    fn get(&self, prefix: &str, column: &str, from: usize) -> Result<(usize, &Value), DbErr> {
        self.position(prefix, column, from)
            .map(|i| (i, &self.values[i]))
            .ok_or_else(|| DbErr::Type(format!("no column {prefix}{column} in the row")))
    }
}

/// A row that models are read from by column name (`{prefix}{column}`, as
/// `shared::db::select_model_columns` names them): the pool's [`QueryResult`] or a row read
/// inline ([`InlineValues`]), so that one decoder serves both.
pub trait ModelRow {
    /// The model of `E` whose columns are prefixed `prefix`.
    ///
    /// # Errors
    /// A column missing or of another type.
    fn model<E>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>;

    /// The value of column `name`.
    ///
    /// # Errors
    /// A column missing or of another type.
    fn value<T: TryGetable + sea_orm::sea_query::ValueType>(&self, name: &str) -> Result<T, DbErr>;
}

impl ModelRow for QueryResult {
    fn model<E>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        E::Model::from_query_result(self, prefix)
    }

    fn value<T: TryGetable + sea_orm::sea_query::ValueType>(&self, name: &str) -> Result<T, DbErr> {
        self.try_get("", name)
    }
}

impl ModelRow for InlineValues {
    fn model<E>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let mut model = <E::ActiveModel as ActiveModelTrait>::default();
        let mut next = 0;
        for column in <E::Column as Iterable>::iter() {
            let (at, value) = self.get(prefix, column.as_str(), next)?;
            next = at + 1;
            model.try_set(column, value.clone())?;
        }
        model.try_into_model()
    }

    fn value<T: TryGetable + sea_orm::sea_query::ValueType>(&self, name: &str) -> Result<T, DbErr> {
        let (_, value) = self.get("", name, 0)?;
        <T as sea_orm::sea_query::ValueType>::try_from(value.clone())
            .map_err(|e| DbErr::Type(format!("column {name}: {e}")))
    }
}

/// A stored value as the sea-orm value of column type `ty` (a `NULL` as that type's `None`),
/// read as sqlx reads it on SQLite; `None` for a type not read here or a value it cannot be
/// read from. Only the types the models read this way use, read exactly as sqlx reads them;
/// anything else (naive times, say, whose offsets sqlx handles its own way) goes to the pool.
fn typed_value(value: ValueRef<'_>, ty: &ColumnType) -> Option<Value> {
    let null = matches!(value, ValueRef::Null);
    let integer = || i64::from_inline(value);
    let real = || match value {
        ValueRef::Real(x) => Some(x),
        #[allow(clippy::cast_precision_loss)]
        ValueRef::Integer(n) => Some(n as f64),
        _ => None,
    };
    // `Some(None)` for a NULL, `Some(Some(v))` for a value read, `None` for one unreadable.
    macro_rules! read {
        ($variant:ident, $read:expr) => {
            Value::$variant(if null { None } else { Some($read?) })
        };
    }
    Some(match ty {
        ColumnType::Uuid => read!(Uuid, Uuid::from_inline(value)),
        ColumnType::Char(_)
        | ColumnType::String(_)
        | ColumnType::Text
        | ColumnType::Enum { .. } => {
            read!(String, String::from_inline(value))
        }
        ColumnType::Boolean => read!(Bool, integer().map(|n| n != 0)),
        ColumnType::TinyInteger => read!(TinyInt, integer().and_then(|n| i8::try_from(n).ok())),
        ColumnType::SmallInteger => {
            read!(SmallInt, integer().and_then(|n| i16::try_from(n).ok()))
        }
        ColumnType::Integer => read!(Int, integer().and_then(|n| i32::try_from(n).ok())),
        ColumnType::BigInteger => read!(BigInt, integer()),
        ColumnType::TinyUnsigned => {
            read!(TinyUnsigned, integer().and_then(|n| u8::try_from(n).ok()))
        }
        ColumnType::SmallUnsigned => {
            read!(SmallUnsigned, integer().and_then(|n| u16::try_from(n).ok()))
        }
        ColumnType::Unsigned => read!(Unsigned, integer().and_then(|n| u32::try_from(n).ok())),
        ColumnType::BigUnsigned => {
            read!(BigUnsigned, integer().and_then(|n| u64::try_from(n).ok()))
        }
        #[allow(clippy::cast_possible_truncation)]
        ColumnType::Float => read!(Float, real().map(|x| x as f32)),
        ColumnType::Double => read!(Double, real()),
        ColumnType::TimestampWithTimeZone => {
            read!(ChronoDateTimeUtc, DateTime::<Utc>::from_inline(value))
        }
        ColumnType::Date => read!(
            ChronoDate,
            <&str>::from_inline(value).and_then(|t| NaiveDate::parse_from_str(t, "%F").ok())
        ),
        ColumnType::Json | ColumnType::JsonBinary => {
            read!(Json, serde_json::Value::from_inline(value).map(Box::new))
        }
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => read!(
            Bytes,
            match value {
                ValueRef::Blob(bytes) => Some(bytes.to_vec()),
                _ => None,
            }
        ),
        _ => return None,
    })
}

/// The rows of a statement, read inline or through the pool: either kind decodes through
/// [`ModelRow`].
#[derive(Debug)]
pub enum Rows {
    Inline(Vec<InlineValues>),
    Pool(Vec<QueryResult>),
}

/// The rows of `statement`, read inline when `inline` is given and `db` is SQLite, else (or when
/// it cannot run inline) through `db`. Pass `inline` only with a pool's connection, never in a
/// transaction: an inline read does not see the transaction's own writes.
///
/// # Errors
/// The pool's errors.
pub async fn query_all_inline(
    db: &impl sea_orm::ConnectionTrait,
    inline: Option<&InlineReads>,
    statement: Statement,
    columns: &InlineColumns,
) -> Result<Rows, DbErr> {
    let read = try_inline(db.get_database_backend(), inline, |inline| {
        inline.query_all_as(&statement, columns)
    });
    Ok(match read {
        Some(rows) => Rows::Inline(rows),
        None => Rows::Pool(db.query_all_raw(statement).await?),
    })
}

/// Every model `select` (`E::find()` with its conditions, order and limits) reads: inline when
/// `inline` is given and `db` is SQLite ([`InlineReads::query_models`]), else (or when it cannot
/// run or be read inline) through `db`. `db` is the pool, never a transaction: an inline read
/// does not see a transaction's own writes.
///
/// # Errors
/// The pool's errors.
pub async fn find_all_inline<E>(
    db: &sea_orm::DatabaseConnection,
    inline: Option<&InlineReads>,
    select: sea_orm::Select<E>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    use sea_orm::{ConnectionTrait, QueryTrait};
    let backend = db.get_database_backend();
    let statement = select.build(backend);
    if let Some(models) = try_inline(backend, inline, |inline| {
        inline.query_models::<E>(&statement)
    }) {
        return Ok(models);
    }
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| E::Model::from_query_result(row, ""))
        .collect()
}

/// What `run` reads through `inline` when it is given and `backend` is SQLite; `None` when
/// not, or when it could not be read there (logged): the caller then asks the pool, whose
/// answer, and errors, count.
pub fn try_inline<T>(
    backend: sea_orm::DbBackend,
    inline: Option<&InlineReads>,
    run: impl FnOnce(&InlineReads) -> Result<T, InlineError>,
) -> Option<T> {
    let inline = inline.filter(|_| backend == sea_orm::DbBackend::Sqlite)?;
    run(inline)
        .inspect_err(|err| tracing::debug!(error = %err, "a statement goes to the pool"))
        .ok()
}

/// The rows of `statement`, each read with `read` by position ([`Columns`]): inline when
/// `inline` is given and `db` is SQLite, else (or when it cannot run or be read inline) through
/// `db`. Pass `inline` only with a pool's connection, never in a transaction: an inline read
/// does not see the transaction's own writes.
///
/// # Errors
/// The pool's errors, and `read`'s on the pool's rows.
pub async fn query_rows_inline<T>(
    db: &impl sea_orm::ConnectionTrait,
    inline: Option<&InlineReads>,
    statement: Statement,
    mut read: impl FnMut(Columns<'_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    if let Some(rows) = try_inline(db.get_database_backend(), inline, |inline| {
        inline.query_all_with(&statement, &mut read)
    }) {
        return Ok(rows);
    }
    let found = db.query_all_raw(statement).await?;
    let mut rows = Vec::with_capacity(found.len());
    for row in &found {
        rows.push(read(Columns::of(row)?)?);
    }
    Ok(rows)
}

/// A value bound as sqlx binds it on SQLite (a UUID as its 16 bytes, a time as RFC 3339 text, a
/// day as `YYYY-MM-DD`).
fn to_sqlite(value: &Value) -> Result<SqlValue, InlineError> {
    fn or_null<T>(value: Option<T>, into: impl FnOnce(T) -> SqlValue) -> SqlValue {
        value.map_or(SqlValue::Null, into)
    }
    Ok(match value {
        Value::Bool(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::TinyInt(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::SmallInt(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::Int(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::BigInt(v) => or_null(*v, SqlValue::Integer),
        Value::TinyUnsigned(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::SmallUnsigned(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        Value::Unsigned(v) => or_null(*v, |v| SqlValue::Integer(i64::from(v))),
        // A `LIMIT`, say; SQLite's integers are signed.
        Value::BigUnsigned(v) => match v.map(i64::try_from) {
            None => SqlValue::Null,
            Some(Ok(v)) => SqlValue::Integer(v),
            Some(Err(_)) => return Err(InlineError::Unsupported(value.clone())),
        },
        Value::String(v) => or_null(v.clone(), SqlValue::Text),
        Value::Bytes(v) => or_null(v.clone(), SqlValue::Blob),
        Value::Uuid(v) => or_null(*v, |v| SqlValue::Blob(v.as_bytes().to_vec())),
        Value::ChronoDateTimeUtc(v) => or_null(*v, |v| {
            SqlValue::Text(v.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        Value::ChronoDate(v) => or_null(*v, |v| SqlValue::Text(v.format("%F").to_string())),
        other => return Err(InlineError::Unsupported(other.clone())),
    })
}

/// A UUID column (stored by sqlx as its 16 bytes).
///
/// # Errors
/// Not a 16-byte blob.
pub fn uuid_at(row: &rusqlite::Row<'_>, index: usize) -> Result<Uuid, rusqlite::Error> {
    let bytes: Vec<u8> = row.get(index)?;
    Uuid::from_slice(&bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Blob, Box::new(e))
    })
}

/// A nullable UUID column.
///
/// # Errors
/// Neither `NULL` nor a 16-byte blob.
pub fn optional_uuid_at(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> Result<Option<Uuid>, rusqlite::Error> {
    match row.get_ref(index)? {
        ValueRef::Null => Ok(None),
        _ => uuid_at(row, index).map(Some),
    }
}

/// A nullable time column, read as sqlx reads it on SQLite: RFC 3339 text (what sqlx writes),
/// SQLite's own `YYYY-MM-DD HH:MM:SS` forms (what `CURRENT_TIMESTAMP` writes), or Unix seconds.
///
/// # Errors
/// A value in none of those forms.
pub fn optional_time_at(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> Result<Option<DateTime<Utc>>, rusqlite::Error> {
    let value = row.get_ref(index)?;
    if matches!(value, ValueRef::Null) {
        return Ok(None);
    }
    utc_time(value)
        .map(|time| Some(time.with_timezone(&Utc)))
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                value.data_type(),
                "not a time sqlx would read".to_owned().into(),
            )
        })
}

/// A time as sqlx-sqlite reads one: text in one of its forms, or Unix seconds.
pub(super) fn utc_time(value: ValueRef<'_>) -> Option<DateTime<FixedOffset>> {
    match value {
        ValueRef::Text(bytes) => parse_time(std::str::from_utf8(bytes).ok()?),
        ValueRef::Integer(seconds) => Utc.fix().timestamp_opt(seconds, 0).single(),
        _ => None,
    }
}

/// The text forms sqlx-sqlite's `DateTime` decoder accepts, in its order.
fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time);
    }
    FORMATS.iter().find_map(|format| {
        DateTime::parse_from_str(text, format).ok().or_else(|| {
            NaiveDateTime::parse_from_str(text, format)
                .ok()
                .map(|naive| Utc.fix().from_utc_datetime(&naive))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with_rows() -> (tempfile::TempDir, Arc<InlineReads>) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        // As every opener of the process must: SQLite's allocator first (`sqlite_memory`).
        assert_eq!(super::super::sqlite_memory::install(), Ok(()));
        let writer = Connection::open(super::super::sqlite_file(&url).expect("a file"))
            .expect("the file opens");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE t (id BLOB PRIMARY KEY, name TEXT, at TEXT, n INTEGER);",
            )
            .expect("the table is made");
        let id = Uuid::from_u128(7);
        writer
            .execute(
                "INSERT INTO t VALUES (?1, 'seven', '2026-12-07T04:00:00.5+00:00', 7)",
                [id.as_bytes().to_vec()],
            )
            .expect("the row is written");
        writer
            .execute(
                "INSERT INTO t VALUES (?1, 'eight', '2026-12-07 05:00:00', NULL)",
                [Uuid::from_u128(8).as_bytes().to_vec()],
            )
            .expect("the row is written");
        (dir, InlineReads::for_url(&url).expect("a file URL"))
    }

    fn by_id(id: Uuid) -> Statement {
        Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT id, name, at, n FROM t WHERE id = ?",
            [id.into()],
        )
    }

    type Read = (Uuid, String, Option<DateTime<Utc>>, Option<i64>);

    fn read(row: &rusqlite::Row<'_>) -> Result<Read, rusqlite::Error> {
        Ok((
            uuid_at(row, 0)?,
            row.get(1)?,
            optional_time_at(row, 2)?,
            row.get(3)?,
        ))
    }

    #[test]
    fn a_row_is_found_by_a_bound_uuid_and_read_as_sqlx_reads_it() {
        let (_dir, reads) = file_with_rows();
        let seven = reads
            .query_one(&by_id(Uuid::from_u128(7)), read)
            .expect("runs");
        let at = DateTime::parse_from_rfc3339("2026-12-07T04:00:00.5+00:00")
            .expect("a time")
            .with_timezone(&Utc);
        assert_eq!(
            seven,
            Some((Uuid::from_u128(7), "seven".to_owned(), Some(at), Some(7)))
        );
        let eight = reads
            .query_one(&by_id(Uuid::from_u128(8)), read)
            .expect("runs")
            .expect("a row");
        assert_eq!(
            eight.2.map(|t| t.to_rfc3339()),
            Some("2026-12-07T05:00:00+00:00".to_owned())
        );
        assert_eq!(eight.3, None);
        assert_eq!(
            reads
                .query_one(&by_id(Uuid::from_u128(9)), read)
                .expect("runs"),
            None
        );
        // The connection was kept for the next read.
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
        assert_eq!(reads.counts(), (3, 0));
    }

    #[test]
    fn rows_are_read_by_position_and_a_row_misread_goes_to_the_pool() {
        let (_dir, reads) = file_with_rows();
        let all = Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT id, name, at, n, '[\"lot-2\"]' FROM t ORDER BY name DESC",
        );
        type Read = (Uuid, String, DateTime<Utc>, Option<i64>, serde_json::Value);
        let rows = reads
            .query_all_with(&all, |mut column| {
                let read: Read = (
                    column.value()?,
                    column.value::<&str>()?.to_owned(),
                    column.value()?,
                    column.nullable()?,
                    column.value()?,
                );
                column.finish()?;
                Ok(read)
            })
            .expect("runs");
        let names: Vec<_> = rows
            .iter()
            .map(|row| (row.0, row.1.as_str(), row.3))
            .collect();
        assert_eq!(
            names,
            [
                (Uuid::from_u128(7), "seven", Some(7)),
                (Uuid::from_u128(8), "eight", None)
            ]
        );
        assert_eq!(rows[1].2.to_rfc3339(), "2026-12-07T05:00:00+00:00");
        assert_eq!(rows[0].4, serde_json::json!(["lot-2"]));
        // A value read as what it is not, a NULL where a value must be, a column left unread:
        // not read here (the caller asks the pool, whose reading counts).
        let misread = [
            reads.query_all_with(&all, |mut column| column.value::<i64>().map(drop)),
            reads.query_all_with(&all, |mut column| {
                column.value::<Uuid>()?;
                column.value::<&str>()?;
                column.value::<DateTime<Utc>>()?;
                column.value::<i64>().map(drop)
            }),
            reads.query_all_with(&all, |mut column| {
                column.value::<Uuid>()?;
                column.finish()
            }),
        ];
        for result in misread {
            assert!(matches!(result, Err(InlineError::Row(_))), "{result:?}");
        }
        assert_eq!(reads.counts(), (1, 3));
        // The connection was sound, and kept (with its cache) for the next read.
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
    }

    #[test]
    fn what_cannot_run_here_is_an_error_for_the_pool_to_answer() {
        let (dir, reads) = file_with_rows();
        let json = Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT ?",
            [Value::Double(Some(1.5))],
        );
        assert!(matches!(
            reads.query_one(&json, |row| row.get::<_, f64>(0)),
            Err(InlineError::Unsupported(_))
        ));
        // Nothing ran on its connection, which is kept.
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
        // A connection is read-only; one SQLite failed on is closed.
        let write = Statement::from_string(sea_orm::DbBackend::Sqlite, "DELETE FROM t");
        assert!(reads.query_one(&write, |_| Ok(())).is_err());
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(0));
        assert_eq!(reads.counts(), (0, 2));
        // A file that is gone is not created again.
        drop(dir);
        let gone = InlineReads::of_file(reads.file().to_owned());
        assert!(gone.query_one(&by_id(Uuid::from_u128(7)), read).is_err());
        assert!(!gone.file().exists());
    }

    #[test]
    fn a_statement_past_its_budget_is_stopped_for_the_pool_and_its_connection_kept() {
        let (_dir, reads) = file_with_rows();
        // A walk of a million rows: far more than a statement's budget.
        let walk = Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) \
             SELECT count(*) FROM c",
        );
        let stopped = reads.query_one(&walk, |row| row.get::<_, i64>(0));
        assert!(
            matches!(stopped, Err(InlineError::OverBudget)),
            "{stopped:?}"
        );
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
        // A thousand rows are within it, on the same connection, its budget new.
        let short = Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) \
             SELECT count(*) FROM c",
        );
        for _ in 0..3 {
            assert_eq!(
                reads
                    .query_one(&short, |row| row.get::<_, i64>(0))
                    .expect("runs"),
                Some(1000)
            );
        }
        assert_eq!(reads.counts(), (3, 1));
        // A budget of its own (a test's): the same short walk is stopped.
        let tight = InlineReads {
            budget: 1,
            ..InlineReads::of_file(reads.file().to_owned())
        };
        assert!(matches!(
            tight.query_one(&short, |row| row.get::<_, i64>(0)),
            Err(InlineError::OverBudget)
        ));
    }

    #[test]
    fn days_and_times_are_bound_as_sqlx_binds_them() {
        let (_dir, reads) = file_with_rows();
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a day");
        let at = DateTime::parse_from_rfc3339("2026-12-07T04:00:00.5Z")
            .expect("a time")
            .with_timezone(&Utc);
        let bound = Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT ?, ?, ?",
            [
                Value::ChronoDate(Some(day)),
                Value::ChronoDate(None),
                Value::ChronoDateTimeUtc(Some(at)),
            ],
        );
        let read = reads
            .query_one(&bound, |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .expect("runs");
        assert_eq!(
            read,
            Some((
                "2026-12-07".to_owned(),
                None,
                "2026-12-07T04:00:00.500+00:00".to_owned()
            ))
        );
    }

    /// The statements of one read see one snapshot; the read's transaction ends with it,
    /// whether its statements ran, were stopped by their budget or failed.
    #[test]
    fn statements_in_one_read_see_one_snapshot_and_leave_no_transaction_open() {
        let (dir, reads) = file_with_rows();
        let writer = Connection::open(dir.path().join("t.db")).expect("the file opens");
        let columns = InlineColumns::default().column("n", ColumnType::BigInteger);
        let seven = Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            r#"SELECT n AS "n" FROM t WHERE id = ?"#,
            [Uuid::from_u128(7).into()],
        );
        let n = |rows: Vec<InlineValues>| rows[0].value::<Option<i64>>("n").expect("a number");
        let (before, after) = reads
            .in_one_read(|read| {
                let before = n(read.query_all_as(&seven, &columns)?);
                writer
                    .execute("UPDATE t SET n = 70 WHERE n = 7", [])
                    .expect("written");
                Ok((before, n(read.query_all_as(&seven, &columns)?)))
            })
            .expect("runs");
        assert_eq!((before, after), (Some(7), Some(7)));
        // Its connection is kept, out of the transaction: the next statement sees the write.
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
        let read_n = || n(reads.query_all_as(&seven, &columns).expect("runs"));
        assert_eq!(read_n(), Some(70));

        // Stopped by its budget within a read: kept, and out of the transaction too.
        let walk = Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            r#"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000)
               SELECT count(*) AS "n" FROM c"#,
        );
        let stopped = reads.in_one_read(|read| {
            read.query_all_as(&seven, &columns)?;
            read.query_all_as(&walk, &columns)
        });
        assert!(
            matches!(stopped, Err(InlineError::OverBudget)),
            "{stopped:?}"
        );
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(1));
        writer
            .execute("UPDATE t SET n = 700 WHERE n = 70", [])
            .expect("written");
        assert_eq!(read_n(), Some(700));

        // SQLite failing within a read (a write, on a read-only connection): closed.
        let write = Statement::from_string(sea_orm::DbBackend::Sqlite, "DELETE FROM t");
        let failed = reads.in_one_read(|read| read.query_all_as(&write, &columns));
        assert!(matches!(failed, Err(InlineError::Sqlite(_))), "{failed:?}");
        assert_eq!(reads.idle.lock().map(|idle| idle.len()).ok(), Some(0));
        assert_eq!(read_n(), Some(700));
        // Each statement counted: 2 + 1, 1 + 1 stopped, 1, 1 failed, 1.
        assert_eq!(reads.counts(), (6, 2));
    }

    #[test]
    fn a_rows_values_are_found_by_prefix_and_name_wherever_they_are() {
        let (_dir, reads) = file_with_rows();
        let columns = InlineColumns::default()
            .column("a_id", ColumnType::Uuid)
            .column("a_name", ColumnType::Text)
            .column("n", ColumnType::BigInteger)
            .column("b_id", ColumnType::Uuid);
        let statement = Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            r#"SELECT id AS "a_id", name AS "a_name", n AS "n", id AS "b_id" FROM t ORDER BY name"#,
        );
        let rows = reads.query_all_as(&statement, &columns).expect("runs");
        assert_eq!(rows.len(), 2);
        let (eight, seven) = (&rows[0], &rows[1]);
        assert_eq!(eight.value::<String>("a_name").expect("a name"), "eight");
        assert_eq!(seven.value::<String>("a_name").expect("a name"), "seven");
        assert_eq!(eight.value::<Option<i64>>("n").expect("a count"), None);
        assert_eq!(seven.value::<Option<i64>>("n").expect("a count"), Some(7));
        // Looked for from a position on, then from the start: found either way.
        let at = |row: &InlineValues, prefix, column, from| {
            row.get(prefix, column, from)
                .map(|(at, value)| (at, value.clone()))
        };
        let seven_id = Value::Uuid(Some(Uuid::from_u128(7)));
        assert_eq!(at(seven, "b_", "id", 0).ok(), Some((3, seven_id.clone())));
        assert_eq!(at(seven, "a_", "id", 3).ok(), Some((0, seven_id.clone())));
        assert_eq!(at(seven, "a_", "id", 99).ok(), Some((0, seven_id)));
        // A name is matched whole: `a_` and `name` is not `a_id`, `_id` is not `b_id`.
        assert_eq!(at(seven, "a_", "name", 0).map(|(at, _)| at).ok(), Some(1));
        assert!(at(seven, "", "_id", 0).is_err());
        let missing = at(seven, "c_", "id", 0).expect_err("no such column");
        assert!(missing.to_string().contains("c_id"), "{missing}");
    }

    #[test]
    fn only_a_file_url_reads_inline() {
        assert!(InlineReads::for_url("postgres://postgres@127.0.0.1/presta").is_none());
        assert!(InlineReads::for_url("sqlite::memory:").is_none());
        let one = InlineReads::for_url("sqlite:///tmp/presta.db?mode=rwc").expect("a file");
        let again = InlineReads::for_url("sqlite:///tmp/presta.db").expect("a file");
        assert!(Arc::ptr_eq(&one, &again), "one set of readers per file");
    }
}
