//! Reads of an SQLite file run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is sent to that
//! thread and its rows are sent back, two hand-offs between threads (and, under load, two
//! context switches) for a lookup SQLite itself answers in a few microseconds. For the account
//! check every authenticated request runs, that was most of what the check cost
//! (bench/RESULTS.md item 32). [`InlineReads`] keeps a few read-only connections of the same
//! file (opened on demand, at most one per thread reading at a time) and runs a statement on
//! the thread that asks, which is an HTTP worker: it blocks that worker for as long as SQLite
//! takes, so it is meant for statements that find their rows by key, not for scans.
//!
//! What it reads is what sqlx's connections read: both see every committed write (WAL mode,
//! one snapshot per statement). A statement it cannot run (a value it does not bind, a busy
//! file, a closed or vanished file) is an [`InlineError`], on which the caller runs it through
//! the pool as before: the pool's answer, and its errors, are the ones that count.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use sea_orm::{Statement, Value};
use uuid::Uuid;

/// A row read inline, and what reading one of its values can fail with.
pub use rusqlite::{Error as InlineRowError, Row as InlineRow, types::Type as InlineType};

/// How many idle connections are kept (one per HTTP worker is enough: each uses one at a time).
const KEPT: usize = 4;

/// Why a statement was not run inline (the caller then runs it through the pool).
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    #[error("a value of this type is not bound inline: {0:?}")]
    Unsupported(Value),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Read-only connections of one SQLite file, used on the calling thread.
#[derive(Debug)]
pub struct InlineReads {
    file: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReads {
    /// For a `sqlite://` URL naming a file; `None` for PostgreSQL and in-memory databases.
    #[must_use]
    pub fn for_url(url: &str) -> Option<Self> {
        super::sqlite_file(url).map(|file| Self {
            file,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The file read.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn open(&self) -> Result<Connection, rusqlite::Error> {
        // Read-only and never created: a file deleted under the server stays missing.
        let connection = Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader of a WAL file waits for no writer; a busy file (its WAL being recovered)
        // goes to the pool, whose connections wait for it, instead of holding this thread.
        connection.busy_timeout(Duration::ZERO)?;
        // The few pages a lookup by key reads stay cached; the pool's connections cache more.
        connection.pragma_update(None, "cache_size", -512)?;
        connection.set_prepared_statement_cache_capacity(32);
        Ok(connection)
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
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match taken {
            Some(connection) => connection,
            None => self.open()?,
        };
        let found = {
            let mut prepared = connection.prepare_cached(&statement.sql)?;
            let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
            rows.next()?.map(decode).transpose()?
        };
        // A connection whose statement failed is dropped, not kept (above, by `?`).
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEPT
        {
            idle.push(connection);
        }
        Ok(found)
    }
}

/// A value bound as sqlx binds it on SQLite (a UUID as its 16 bytes, a time as RFC 3339 text).
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
        Value::String(v) => or_null(v.clone(), SqlValue::Text),
        Value::Bytes(v) => or_null(v.clone(), SqlValue::Blob),
        Value::Uuid(v) => or_null(*v, |v| SqlValue::Blob(v.as_bytes().to_vec())),
        Value::ChronoDateTimeUtc(v) => or_null(*v, |v| {
            SqlValue::Text(v.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
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
    let bytes: Option<Vec<u8>> = row.get(index)?;
    bytes
        .map(|bytes| {
            Uuid::from_slice(&bytes).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Blob,
                    Box::new(e),
                )
            })
        })
        .transpose()
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
    let value: SqlValue = row.get(index)?;
    let unreadable = |kind| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            kind,
            "not a time sqlx would read".to_owned().into(),
        )
    };
    match value {
        SqlValue::Null => Ok(None),
        SqlValue::Text(text) => parse_time(&text)
            .map(|time| Some(time.with_timezone(&Utc)))
            .ok_or_else(|| unreadable(rusqlite::types::Type::Text)),
        SqlValue::Integer(seconds) => Utc
            .timestamp_opt(seconds, 0)
            .single()
            .map(Some)
            .ok_or_else(|| unreadable(rusqlite::types::Type::Integer)),
        SqlValue::Real(_) => Err(unreadable(rusqlite::types::Type::Real)),
        SqlValue::Blob(_) => Err(unreadable(rusqlite::types::Type::Blob)),
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

    fn file_with_rows() -> (tempfile::TempDir, InlineReads) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
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
        // A connection is read-only.
        let write = Statement::from_string(sea_orm::DbBackend::Sqlite, "DELETE FROM t");
        assert!(reads.query_one(&write, |_| Ok(())).is_err());
        // A file that is gone is not created again.
        drop(dir);
        let gone = InlineReads {
            file: reads.file().to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        assert!(gone.query_one(&by_id(Uuid::from_u128(7)), read).is_err());
        assert!(!gone.file().exists());
    }

    #[test]
    fn only_a_file_url_reads_inline() {
        assert!(InlineReads::for_url("postgres://postgres@127.0.0.1/presta").is_none());
        assert!(InlineReads::for_url("sqlite::memory:").is_none());
        assert!(InlineReads::for_url("sqlite:///tmp/presta.db?mode=rwc").is_some());
    }
}
