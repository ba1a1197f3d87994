//! Reading a hot row's columns by position, in the order they were selected.
//!
//! sea-orm's `FromQueryResult` finds each value by name: a hash of the column's name per value,
//! a `String` formatted for every `NULL` (the "null" error an `Option` then turns into `None`),
//! and enums read as a `String` before they are matched. Decoding a page of 100 tickets that
//! way was a fifth of the list's CPU (bench/RESULTS.md item 26). [`Columns`] reads the same
//! values with the same sqlx decoders, by position, borrowing text where the caller only
//! matches it. A row read on the request's own thread ([`super::InlineReads::query_all_with`])
//! is read through the same [`Columns`], each value as sqlx would read it from SQLite
//! ([`InlineDecode`]), so one reader serves the pool's rows and the inline ones.

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use sea_orm::{DbErr, QueryResult};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteRow};
use sqlx::{Decode, Row, Type};
use uuid::Uuid;

/// The row a [`Columns`] reads.
enum RowRef<'r> {
    Sqlite(&'r SqliteRow),
    Postgres(&'r PgRow),
    Inline(&'r rusqlite::Row<'r>),
}

/// A value of a row read inline, as sqlx reads it from SQLite: `None` where it is not read
/// here (every value sqlx would not read as this type, and a few it would: a UUID stored as
/// text, a time as a Julian day), and the row then goes to the pool, whose reading counts.
pub trait InlineDecode<'r>: Sized {
    fn from_inline(value: ValueRef<'r>) -> Option<Self>;
}

impl<'r> InlineDecode<'r> for &'r str {
    fn from_inline(value: ValueRef<'r>) -> Option<Self> {
        match value {
            ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

impl InlineDecode<'_> for String {
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        <&str>::from_inline(value).map(str::to_owned)
    }
}

impl InlineDecode<'_> for i64 {
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        match value {
            ValueRef::Integer(n) => Some(n),
            _ => None,
        }
    }
}

impl InlineDecode<'_> for i32 {
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        i64::from_inline(value).and_then(|n| Self::try_from(n).ok())
    }
}

impl InlineDecode<'_> for Uuid {
    /// sqlx reads a UUID from its 16 bytes alone.
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        match value {
            ValueRef::Blob(bytes) => Self::from_slice(bytes).ok(),
            _ => None,
        }
    }
}

impl InlineDecode<'_> for DateTime<Utc> {
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        super::inline::utc_time(value).map(|time| time.with_timezone(&Utc))
    }
}

impl InlineDecode<'_> for serde_json::Value {
    /// sqlx reads JSON from SQLite's text.
    fn from_inline(value: ValueRef<'_>) -> Option<Self> {
        serde_json::from_str(<&str>::from_inline(value)?).ok()
    }
}

/// A cursor over a row's columns: each [`Columns::value`] or [`Columns::nullable`] decodes the
/// next one. Write the statement's columns and their reads in one order, and end with
/// [`Columns::finish`]: a row with more or fewer columns than were read is an error, not a
/// silent shift.
pub struct Columns<'r> {
    row: RowRef<'r>,
    next: usize,
}

impl<'r> Columns<'r> {
    /// # Errors
    /// The row comes from neither SQLite nor PostgreSQL through sqlx.
    pub fn of(row: &'r QueryResult) -> Result<Self, DbErr> {
        let row = if let Some(row) = row.try_as_sqlite_row() {
            RowRef::Sqlite(row)
        } else if let Some(row) = row.try_as_pg_row() {
            RowRef::Postgres(row)
        } else {
            return Err(DbErr::Type(
                "a row read by position must come from SQLite or PostgreSQL".to_owned(),
            ));
        };
        Ok(Self { row, next: 0 })
    }

    /// The columns of a row read inline.
    pub(super) fn inline(row: &'r rusqlite::Row<'r>) -> Self {
        Self {
            row: RowRef::Inline(row),
            next: 0,
        }
    }

    /// Decode the next column, which may be `NULL`, as a `T` (`&str` borrows the row's text).
    ///
    /// # Errors
    /// The row has no more columns, or the value is not a `T`.
    pub fn nullable<T>(&mut self) -> Result<Option<T>, DbErr>
    where
        T: Decode<'r, Sqlite>
            + Type<Sqlite>
            + Decode<'r, Postgres>
            + Type<Postgres>
            + InlineDecode<'r>,
    {
        let index = self.next;
        self.next += 1;
        let error = |e: &dyn std::fmt::Display| DbErr::Type(format!("column {index}: {e}"));
        match self.row {
            RowRef::Sqlite(row) => row.try_get::<Option<T>, _>(index).map_err(|e| error(&e)),
            RowRef::Postgres(row) => row.try_get::<Option<T>, _>(index).map_err(|e| error(&e)),
            RowRef::Inline(row) => match row.get_ref(index).map_err(|e| error(&e))? {
                ValueRef::Null => Ok(None),
                value => T::from_inline(value).map(Some).ok_or_else(|| {
                    error(&format_args!(
                        "{:?} is not read as {}",
                        value.data_type(),
                        std::any::type_name::<T>()
                    ))
                }),
            },
        }
    }

    /// Decode the next column as a `T` (`&str` borrows the row's text). Read as an `Option`
    /// first: sqlx alone would read SQLite's `NULL` as 0 or an empty text.
    ///
    /// # Errors
    /// The row has no more columns, or the value is `NULL` or not a `T`.
    pub fn value<T>(&mut self) -> Result<T, DbErr>
    where
        T: Decode<'r, Sqlite>
            + Type<Sqlite>
            + Decode<'r, Postgres>
            + Type<Postgres>
            + InlineDecode<'r>,
    {
        let index = self.next;
        self.nullable()?
            .ok_or_else(|| DbErr::Type(format!("column {index} is NULL")))
    }

    /// Decode the next column as text and make it a `T` with `parse`.
    ///
    /// # Errors
    /// As [`Columns::value`], or `parse` knows no such value.
    pub fn parse<T>(&mut self, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, DbErr> {
        let index = self.next;
        let text: &str = self.value()?;
        parse(text).ok_or_else(|| DbErr::Type(format!("column {index}: unknown value {text:?}")))
    }

    /// Check that every column was read.
    ///
    /// # Errors
    /// The row has a number of columns other than the number read.
    pub fn finish(self) -> Result<(), DbErr> {
        let len = match self.row {
            RowRef::Sqlite(row) => row.len(),
            RowRef::Postgres(row) => row.len(),
            RowRef::Inline(row) => row.as_ref().column_count(),
        };
        if len == self.next {
            Ok(())
        } else {
            Err(DbErr::Type(format!(
                "the row has {len} columns, {} were read",
                self.next
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use super::*;

    async fn one_row(sql: &str) -> QueryResult {
        let db = crate::db::connect_url("sqlite::memory:", 1)
            .await
            .expect("an in-memory database");
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect("the query runs")
            .expect("one row")
    }

    #[tokio::test]
    async fn columns_are_read_in_order_and_every_one_must_be_read() {
        let row = one_row("SELECT 'en_cours', NULL, 42, 'x'").await;
        let mut columns = Columns::of(&row).expect("an SQLite row");
        let text: &str = columns.value().expect("text");
        assert_eq!(text, "en_cours");
        assert_eq!(columns.nullable::<String>().expect("null"), None);
        assert_eq!(columns.nullable::<i64>().expect("a number"), Some(42));
        // Left unread: the row is not what its reader thinks.
        assert!(columns.finish().is_err());

        let mut columns = Columns::of(&row).expect("an SQLite row");
        let unknown = columns.parse(|s| (s == "nouveau").then_some(()));
        assert!(
            matches!(&unknown, Err(DbErr::Type(e)) if e.contains("column 0") && e.contains("en_cours")),
            "{unknown:?}"
        );
        // NULL is no number, nor text (sqlx alone reads 0 and "").
        let null = columns.value::<i64>();
        assert!(
            matches!(&null, Err(DbErr::Type(e)) if e == "column 1 is NULL"),
            "{null:?}"
        );
        columns.value::<i64>().expect("a number");
        columns.value::<String>().expect("text");
        // Nothing past the last column.
        assert!(columns.value::<String>().is_err());
        assert!(columns.nullable::<String>().is_err());

        let row = one_row("SELECT NULL").await;
        let mut columns = Columns::of(&row).expect("an SQLite row");
        assert!(columns.value::<&str>().is_err());
    }

    #[tokio::test]
    async fn a_row_read_whole_finishes() {
        let row = one_row("SELECT 1, 'a'").await;
        let mut columns = Columns::of(&row).expect("an SQLite row");
        assert_eq!(columns.value::<i32>().expect("a number"), 1);
        assert_eq!(columns.value::<String>().expect("text"), "a");
        columns.finish().expect("every column was read");
    }
}
