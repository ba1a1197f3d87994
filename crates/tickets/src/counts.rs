//! Exact ticket counts the database keeps (migration `m20261203_000002_ticket_counts`): triggers
//! append a change row for every ticket created, deleted or moved to another count, and
//! [`compact`] folds the changes into the totals now and then. A count is totals + changes, so
//! it is exact at any moment, in the reader's snapshot, whether or not compaction ran.
//!
//! They answer the staff's lists filtered by status, priority and category only (the triage
//! views), and the staff-wide statistics, without walking every ticket: at 1,000,000 tickets a
//! `COUNT(*)` of one status × priority walks some 40,000 index entries per request. The
//! tickets created and resolved per day (the statistics' trend) are kept the same way
//! ([`kept_days`]), and so are the running tickets per UTC hour of the instants at which their
//! SLA level changes ([`later_hours_statement`]).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::ticket::{TicketCategorie, TicketPriority, TicketStatus};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement, TransactionTrait,
};
use shared::db::{InlineReads, Templates, count_of, query_rows_inline, sum_bigint};

use crate::filters::TicketFilters;
use crate::scope::Scope;

const TOTALS: &str = "ticket_counts";
const CHANGES: &str = "ticket_count_changes";
const DAY_TOTALS: &str = "ticket_day_counts";
const DAY_CHANGES: &str = "ticket_day_count_changes";
const HOUR_TOTALS: &str = "ticket_sla_hour_counts";
const HOUR_CHANGES: &str = "ticket_sla_hour_count_changes";

/// One kept count: the tickets with these values now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub status: String,
    pub priority: String,
    pub categorie: String,
    /// `ok`, `warning` or `breach` when the ticket's SLA clock is paused (its level no longer
    /// moves); empty while it runs (its level moves with time: `crate::stats` counts it from
    /// the hourly SLA counts).
    pub sla_level: String,
    pub n: u64,
}

/// Can the kept counts answer a list of `scope` with `filters`? Only staff-wide lists filtered
/// by status, priority and category, nothing else.
#[must_use]
pub fn cover(scope: Scope, filters: &TicketFilters) -> bool {
    // Every field named: a new filter must be decided on here.
    let TicketFilters {
        status: _,
        priority: _,
        categorie: _,
        client_id,
        chantier_id,
        responsable,
        search,
        date_from,
        date_to,
        sla_status,
    } = filters;
    scope.is_staff()
        && client_id.is_none()
        && chantier_id.is_none()
        && responsable.is_none()
        && search.is_none()
        && date_from.is_none()
        && date_to.is_none()
        && sla_status.is_none()
}

fn part(table: &str, value: &str, filters: &TicketFilters) -> SelectStatement {
    let mut select = Query::select();
    select
        .columns([
            Alias::new("status"),
            Alias::new("priority"),
            Alias::new("categorie"),
            Alias::new("sla_level"),
        ])
        .expr_as(Expr::col(Alias::new(value)), Alias::new("n"))
        .from(Alias::new(table));
    if let Some(status) = filters.status {
        select.and_where(Expr::col(Alias::new("status")).eq(status.as_str()));
    }
    if let Some(priority) = filters.priority {
        select.and_where(Expr::col(Alias::new("priority")).eq(priority.as_str()));
    }
    if let Some(categorie) = filters.categorie {
        select.and_where(Expr::col(Alias::new("categorie")).eq(categorie.as_str()));
    }
    select
}

/// Column `index` of `row`, a count (a `SUM` is NULL over no rows: zero).
///
/// # Errors
/// The column is missing or not an integer.
pub fn count_at(row: &QueryResult, index: usize) -> Result<u64, DbErr> {
    let n: Option<i64> = row.try_get_by_index(index)?;
    Ok(count_of(n))
}

/// The statement of [`kept`] (public so the benchmark can show its plan).
#[must_use]
pub fn kept_statement(filters: &TicketFilters) -> SelectStatement {
    let mut both = part(TOTALS, "n", filters);
    both.union(UnionType::All, part(CHANGES, "delta", filters));
    let keys = ["status", "priority", "categorie", "sla_level"].map(Alias::new);
    Query::select()
        .columns(keys.clone())
        .expr(sum_bigint(Expr::col(Alias::new("n"))))
        .from_subquery(both, Alias::new("k"))
        .group_by_columns(keys)
        .to_owned()
}

/// [`kept_statement`] built once per shape (which of the status, priority and category filter
/// it) and bound with the values of `filters` (bench/RESULTS.md item 45: building it was about
/// 2 % of the ticket list's CPU).
fn kept_bound(backend: DbBackend, filters: &TicketFilters) -> Statement {
    static STATEMENTS: Templates<8> = Templates::new();
    // Each the only text of its kind the statement binds (`kept_templates_bind_what_a_statement_
    // built_anew_binds` checks every value against a statement built anew).
    const STATUS: TicketStatus = TicketStatus::EnCours;
    const PRIORITY: TicketPriority = TicketPriority::Normale;
    const CATEGORIE: TicketCategorie = TicketCategorie::Qualite;
    let shape = usize::from(filters.status.is_some())
        | usize::from(filters.priority.is_some()) << 1
        | usize::from(filters.categorie.is_some()) << 2;
    let build = || {
        backend.build(&kept_statement(&TicketFilters {
            status: filters.status.map(|_| STATUS),
            priority: filters.priority.map(|_| PRIORITY),
            categorie: filters.categorie.map(|_| CATEGORIE),
            ..TicketFilters::default()
        }))
    };
    let mut binds: Vec<(sea_orm::Value, sea_orm::Value)> = Vec::with_capacity(3);
    if let Some(status) = filters.status {
        binds.push((STATUS.as_str().into(), status.as_str().into()));
    }
    if let Some(priority) = filters.priority {
        binds.push((PRIORITY.as_str().into(), priority.as_str().into()));
    }
    if let Some(categorie) = filters.categorie {
        binds.push((CATEGORIE.as_str().into(), categorie.as_str().into()));
    }
    STATEMENTS.bind(backend, shape, build, &binds)
}

/// The kept counts matching the status, priority and category of `filters` (the rest is
/// ignored: check [`cover`] first), one per value combination; read on the request's own
/// thread when `inline` is given (then `db` is the pool, not a transaction).
///
/// # Errors
/// Database errors.
pub async fn kept(
    db: &impl ConnectionTrait,
    inline: Option<&InlineReads>,
    filters: &TicketFilters,
) -> Result<Vec<Kept>, DbErr> {
    let statement = kept_bound(db.get_database_backend(), filters);
    query_rows_inline(db, inline, statement, |mut column| {
        let kept = Kept {
            status: column.value()?,
            priority: column.value()?,
            categorie: column.value()?,
            sla_level: column.value()?,
            n: count_of(column.nullable()?),
        };
        column.finish()?;
        Ok(kept)
    })
    .await
}

/// How many tickets match `filters` (see [`cover`]; `inline` as for [`kept`]).
///
/// # Errors
/// Database errors.
pub async fn total(
    db: &impl ConnectionTrait,
    inline: Option<&InlineReads>,
    filters: &TicketFilters,
) -> Result<u64, DbErr> {
    Ok(kept(db, inline, filters).await?.iter().map(|k| k.n).sum())
}

/// The kept counts summed by one of their values (`key` picks it).
#[must_use]
pub fn by<'a>(kept: &'a [Kept], key: impl Fn(&'a Kept) -> &'a str) -> BTreeMap<&'a str, u64> {
    let mut out = BTreeMap::new();
    for k in kept {
        *out.entry(key(k)).or_insert(0) += k.n;
    }
    out
}

/// The number of tickets whose SLA clock runs (kept with an empty `sla_level`), as one value.
#[must_use]
pub fn running_statement() -> SelectStatement {
    let running = |table, value| {
        let mut select = part(table, value, &TicketFilters::default());
        select.and_where(Expr::col(Alias::new("sla_level")).eq(""));
        select
    };
    let mut both = running(TOTALS, "n");
    both.union(UnionType::All, running(CHANGES, "delta"));
    Query::select()
        .expr(sum_bigint(Expr::col(Alias::new("n"))))
        .from_subquery(both, Alias::new("k"))
        .to_owned()
}

/// The UTC hour of `at` as the database keeps it (`migration::utc_hour`): `YYYY-MM-DDHH`.
#[must_use]
pub fn utc_hour(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d%H").to_string()
}

/// The statement of one sum of the kept hourly SLA counts (migration
/// `m20261205_000005_ticket_sla_hour_counts`): how many running tickets reach their breach
/// instant (`column` `breach`) or their alert instant (`alert`) in the hours after `now`'s.
#[must_use]
pub fn later_hours_statement(column: &str, now: DateTime<Utc>) -> SelectStatement {
    let part = |table: &str| {
        Query::select()
            .expr_as(Expr::col(Alias::new(column)), Alias::new("n"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("hour")).gt(utc_hour(now)))
            .to_owned()
    };
    let mut both = part(HOUR_TOTALS);
    both.union(UnionType::All, part(HOUR_CHANGES));
    Query::select()
        .expr(sum_bigint(Expr::col(Alias::new("n"))))
        .from_subquery(both, Alias::new("k"))
        .to_owned()
}

/// The tickets created and resolved on each UTC day (`YYYY-MM-DD`) from `first` to `last`
/// (days without any are absent), from the daily counts the database keeps (migration
/// `m20261204_000001_ticket_stats_kept`). Every ticket: check [`cover`] first.
///
/// # Errors
/// Database errors.
pub async fn kept_days(
    db: &impl ConnectionTrait,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<BTreeMap<String, (u64, u64)>, DbErr> {
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let part = |table: &str| {
        Query::select()
            .columns(["day", "created", "resolved"].map(Alias::new))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("day")).between(day(first), day(last)))
            .to_owned()
    };
    let mut both = part(DAY_TOTALS);
    both.union(UnionType::All, part(DAY_CHANGES));
    let select = Query::select()
        .column(Alias::new("day"))
        .expr(sum_bigint(Expr::col(Alias::new("created"))))
        .expr(sum_bigint(Expr::col(Alias::new("resolved"))))
        .from_subquery(both, Alias::new("k"))
        .group_by_col(Alias::new("day"))
        .to_owned();
    let mut out = BTreeMap::new();
    for row in db.query_all(&select).await? {
        out.insert(
            row.try_get_by_index(0)?,
            (count_at(&row, 1)?, count_at(&row, 2)?),
        );
    }
    Ok(out)
}

/// Fold the changes appended since the last run into the totals (the counts, the daily counts,
/// the hourly SLA counts); how many rows that wrote (changes deleted on SQLite, totals written on
/// PostgreSQL): zero when there was nothing to fold. Safe to run from several instances at
/// once: on PostgreSQL two folds of hourly changes at the same moment may deadlock (each drops
/// the hours gone by after writing its own); the database then rolls one back, whose changes
/// stay where they are, still counted, for the next run.
///
/// # Errors
/// Database errors (the changes then stay where they are, still counted).
pub async fn compact(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let counts = fold(
        db,
        (TOTALS, CHANGES),
        "status, priority, categorie, sla_level",
        &[("n", "delta")],
        None,
    )
    .await?;
    let days = fold(
        db,
        (DAY_TOTALS, DAY_CHANGES),
        "day",
        &[("created", "created"), ("resolved", "resolved")],
        None,
    )
    .await?;
    let hours = fold(
        db,
        (HOUR_TOTALS, HOUR_CHANGES),
        "hour",
        &[("breach", "breach"), ("alert", "alert")],
        Some(&hours_gone_by()),
    )
    .await?;
    Ok(counts + days + hours)
}

/// The statement dropping the hourly SLA counts of the hours more than a day before the
/// system clock's, run with each fold of hourly changes that moved some (only those write
/// such hours). The statistics read only the hours after their now's
/// (`later_hours_statement`), and their now, the server's clock, is never behind the system
/// clock (tests move it forward only, and a restarted server starts from the system clock
/// again), so those hours are never read again and the kept hours stay a few hundred rows. A
/// day's margin covers servers whose clocks disagree a little.
fn hours_gone_by() -> String {
    let before = utc_hour(Utc::now() - chrono::Duration::days(1));
    format!("DELETE FROM {HOUR_TOTALS} WHERE hour < '{before}'")
}

/// Move the rows of `changes` into `totals` (keyed by `keys`): each `(total, change)` column
/// pair of `values` adds the changes' sum to the total. `then`, when given, runs in the same
/// transaction once changes were moved.
async fn fold(
    db: &DatabaseConnection,
    (totals, changes): (&str, &str),
    keys: &str,
    values: &[(&str, &str)],
    then: Option<&str>,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let pending = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT 1 FROM {changes} LIMIT 1"),
        ))
        .await?;
    if pending.is_none() {
        return Ok(0);
    }
    let list = |f: &dyn Fn(&str, &str) -> String| {
        values
            .iter()
            .map(|(total, change)| f(total, change))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let total_columns = list(&|total, _| total.to_owned());
    let sums = list(&|_, change| format!("SUM({change})"));
    if backend == DbBackend::Postgres {
        // One statement: the rows it deletes are the rows it adds up, so a change committed
        // meanwhile (or moved by another instance) is neither lost nor counted twice.
        let returned = list(&|_, change| change.to_owned());
        let add = list(&|total, _| format!("{total} = {totals}.{total} + EXCLUDED.{total}"));
        let move_changes = format!(
            "WITH moved AS (DELETE FROM {changes} RETURNING {keys}, {returned}) \
             INSERT INTO {totals} ({keys}, {total_columns}) \
             SELECT {keys}, {sums} FROM moved GROUP BY {keys} ORDER BY {keys} \
             ON CONFLICT ({keys}) DO UPDATE SET {add}"
        );
        let Some(then) = then else {
            return Ok(db.execute_unprepared(&move_changes).await?.rows_affected());
        };
        let txn = db.begin().await?;
        let moved = txn.execute_unprepared(&move_changes).await?.rows_affected();
        if moved > 0 {
            txn.execute_unprepared(then).await?;
        }
        txn.commit().await?;
        return Ok(moved);
    }
    // SQLite: one writer at a time, so nothing is appended between the two statements.
    let add = list(&|total, _| format!("{total} = {total} + excluded.{total}"));
    let txn = shared::db::begin_write(db).await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO {totals} ({keys}, {total_columns}) \
         SELECT {keys}, {sums} FROM {changes} WHERE true GROUP BY {keys} \
         ON CONFLICT ({keys}) DO UPDATE SET {add}"
    ))
    .await?;
    let moved = txn
        .execute_unprepared(&format!("DELETE FROM {changes}"))
        .await?
        .rows_affected();
    if let Some(then) = then.filter(|_| moved > 0) {
        txn.execute_unprepared(then).await?;
    }
    txn.commit().await?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept count read from a template is the statement built anew: the same text and the
    /// same values, for every status, priority and category and none, on both databases.
    #[test]
    fn kept_templates_bind_what_a_statement_built_anew_binds() {
        fn all<T: Copy>(values: &[T]) -> impl Iterator<Item = Option<T>> + '_ {
            std::iter::once(None).chain(values.iter().copied().map(Some))
        }
        let mut checked = 0;
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for status in all(TicketStatus::ALL) {
                for priority in all(TicketPriority::ALL) {
                    for categorie in all(TicketCategorie::ALL) {
                        let filters = TicketFilters {
                            status,
                            priority,
                            categorie,
                            ..TicketFilters::default()
                        };
                        let anew = backend.build(&kept_statement(&filters));
                        // Twice: built the first time, bound from the template after.
                        for _ in 0..2 {
                            let bound = kept_bound(backend, &filters);
                            assert_eq!(bound.sql, anew.sql);
                            assert_eq!(bound.values, anew.values, "{}", anew.sql);
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "{checked} statements checked");
    }
}
