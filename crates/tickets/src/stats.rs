//! `GET /api/tickets-client/stats`: totals by status, priority, SLA level and category, and the
//! daily trend of created and resolved tickets, all counted in SQL over what the caller may see.

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::ticket::{self, TicketCategorie, TicketPriority, TicketStatus};
use sea_orm::sea_query::{
    Alias, Cond, Expr, ExprTrait, Func, Query as SqlQuery, QueryStatementBuilder, SelectStatement,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use shared::db::{sum_bigint, when};
use shared::extract::Query;
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::counts;
use crate::filters::{self, DateBound, TicketFilters, tcol};
use crate::scope::{Caller, Scope};
use crate::sla::SlaLevel;

/// The longest trend, in days.
pub const MAX_TREND_DAYS: i64 = 366;
/// The trend when no range is given: the last 30 days.
const DEFAULT_TREND_DAYS: i64 = 30;

/// `GET /api/tickets-client/stats` parameters.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Tickets created on or after (default for the trend: 30 days ago).
    #[param(schema_with = crate::filters::date_bound_schema)]
    pub date_from: Option<DateBound>,
    /// Tickets created on or before (default for the trend: today).
    #[param(schema_with = crate::filters::date_bound_schema)]
    pub date_to: Option<DateBound>,
    pub client_id: Option<Uuid>,
    pub chantier_id: Option<Uuid>,
}

/// One day of the trend.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TrendDay {
    #[schema(value_type = String, format = Date, example = "2026-01-10")]
    pub date: NaiveDate,
    pub nouveaux: u64,
    pub resolus: u64,
}

/// The figures (seed 003).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketStats {
    /// `total` and one count per status.
    #[schema(value_type = Object, example = json!({"total": 150, "nouveau": 12, "en_cours": 34, "en_attente": 8, "resolu": 90, "ferme": 6}))]
    pub totaux: BTreeMap<String, u64>,
    #[schema(value_type = Object, example = json!({"critique": 3, "haute": 9, "normale": 118, "basse": 20}))]
    pub priorites: BTreeMap<String, u64>,
    #[schema(value_type = Object, example = json!({"ok": 120, "warning": 25, "breach": 5}))]
    pub sla: BTreeMap<String, u64>,
    #[schema(value_type = Object, example = json!({"securite": 15, "qualite": 28, "delais": 45, "travaux": 62}))]
    pub categories: BTreeMap<String, u64>,
    /// Created and resolved per day (UTC), every day of the range.
    pub tendances: Vec<TrendDay>,
}

async fn grouped(
    db: &impl ConnectionTrait,
    base: &SelectStatement,
    key: Expr,
) -> Result<BTreeMap<String, u64>, DbErr> {
    // Grouped outside a sub-query: PostgreSQL would not match a key with bound parameters
    // (the SLA level's instants) in GROUP BY against the same expression in the select list.
    let inner = base.clone().expr_as(key, Alias::new("k")).to_owned();
    let select = SqlQuery::select()
        .column(Alias::new("k"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(inner, Alias::new("g"))
        .group_by_col(Alias::new("k"))
        .to_owned();
    let mut out = BTreeMap::new();
    for row in db.query_all(&select).await? {
        let k: Option<String> = row.try_get("", "k")?;
        let n: i64 = row.try_get("", "n")?;
        if let Some(k) = k {
            out.insert(k, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(out)
}

fn zeros(values: impl Iterator<Item = &'static str>) -> BTreeMap<String, u64> {
    values.map(|v| (v.to_owned(), 0)).collect()
}

fn add(into: &mut BTreeMap<String, u64>, counts: BTreeMap<&str, u64>) {
    for (key, n) in counts {
        *into.entry(key.to_owned()).or_insert(0) += n;
    }
}

/// [`totals`] of every ticket, from the counts the database keeps (see [`counts`]): status,
/// priority, category and the SLA level of paused tickets without reading tickets; the level
/// of running tickets, which moves with time, from [`running_levels`].
async fn kept_totals(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<BTreeMap<&'static str, BTreeMap<String, u64>>, DbErr> {
    let kept = counts::kept(db, None, &TicketFilters::default()).await?;
    let mut status = zeros(TicketStatus::ALL.iter().map(|v| v.as_str()));
    add(&mut status, counts::by(&kept, |k| &k.status));
    let mut priority = zeros(TicketPriority::ALL.iter().map(|v| v.as_str()));
    add(&mut priority, counts::by(&kept, |k| &k.priority));
    let mut categorie = zeros(TicketCategorie::ALL.iter().map(|v| v.as_str()));
    add(&mut categorie, counts::by(&kept, |k| &k.categorie));
    let mut sla = running_levels(db, now).await?;
    let mut paused = counts::by(&kept, |k| &k.sla_level);
    paused.remove("");
    add(&mut sla, paused);
    Ok(BTreeMap::from([
        ("status", status),
        ("priority", priority),
        ("categorie", categorie),
        ("sla", sla),
    ]))
}

/// How many running tickets (clock not paused) reach `instant` (SQL over a ticket's columns)
/// after `now` but within now's UTC hour: a range of the index on that instant
/// (`idx-tickets-sla_*_at`) no longer than an hour.
fn ahead_this_hour_statement(instant: String, now: DateTime<Utc>) -> SelectStatement {
    let into_hour = Duration::seconds(now.timestamp().rem_euclid(3600))
        + Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    let next_hour = now - into_hour + Duration::hours(1);
    let mut select = filters::tickets_only();
    select
        .expr(Expr::cust("COUNT(*)"))
        .and_where(tcol(ticket::Column::SlaPausedSince).is_null())
        .and_where(Expr::cust(instant.clone()).gt(now))
        .and_where(Expr::cust(instant).lt(next_hour));
    select
}

/// The running tickets still ahead of `instant` at `now` (`column`: the kept hourly count of
/// that instant): those of the hours after now's, kept, and those of now's hour, counted.
fn ahead_of(column: &str, instant: String, now: DateTime<Utc>) -> Expr {
    let scalar =
        |select: SelectStatement| Expr::SubQuery(None, Box::new(select.into_sub_query_statement()));
    let later = scalar(counts::later_hours_statement(column, now));
    let this_hour = scalar(ahead_this_hour_statement(instant, now));
    Expr::expr(Func::coalesce([later, Expr::val(0)])).add(this_hour)
}

/// The SLA levels of the tickets whose clock runs, at `now`, without reading the others: each
/// such ticket is `ok` until its alert instant, in `warning` until its breach instant, then in
/// `breach` (`migration::sla_alert_at`, `migration::sla_breach_at`). Counted are all of them
/// and those still ahead of each instant, from the counts the database keeps (all of them; per
/// UTC hour of each instant, see `migration::utc_hour`) and the few tickets of now's hour; in
/// one statement, so in one snapshot.
async fn running_levels(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, u64>, DbErr> {
    let backend = db.get_database_backend();
    let select = SqlQuery::select()
        .expr(Expr::SubQuery(
            None,
            Box::new(counts::running_statement().into_sub_query_statement()),
        ))
        .expr(ahead_of("breach", migration::sla_breach_at(backend), now))
        .expr(ahead_of("alert", migration::sla_alert_at(backend), now))
        .to_owned();
    let (mut running, mut before_breach, mut before_alert) = (0, 0, 0);
    if let Some(row) = db.query_one(&select).await? {
        let read = |i| counts::count_at(&row, i);
        (running, before_breach, before_alert) = (read(0)?, read(1)?, read(2)?);
    }
    Ok(BTreeMap::from([
        (
            SlaLevel::Breach.as_str().to_owned(),
            running.saturating_sub(before_breach),
        ),
        (
            SlaLevel::Warning.as_str().to_owned(),
            before_breach.saturating_sub(before_alert),
        ),
        (SlaLevel::Ok.as_str().to_owned(), before_alert),
    ]))
}

/// Every count of the tickets `base` selects, by status, priority, category and SLA level
/// (each value present, zeros included): status and priority together and category each from
/// an index alone, the SLA level (which reads several columns) in one pass.
async fn totals(
    db: &impl ConnectionTrait,
    base: SelectStatement,
    now: DateTime<Utc>,
) -> Result<BTreeMap<&'static str, BTreeMap<String, u64>>, DbErr> {
    let mut status = zeros(TicketStatus::ALL.iter().map(|v| v.as_str()));
    let mut priority = zeros(TicketPriority::ALL.iter().map(|v| v.as_str()));
    let mut by_pair = base.clone();
    by_pair
        .column((filters::t(), ticket::Column::Status))
        .column((filters::t(), ticket::Column::Priority))
        .expr(Expr::cust("COUNT(*)"))
        .add_group_by([tcol(ticket::Column::Status), tcol(ticket::Column::Priority)]);
    for row in db.query_all(&by_pair).await? {
        let s: String = row.try_get_by_index(0)?;
        let p: String = row.try_get_by_index(1)?;
        let n = u64::try_from(row.try_get_by_index::<i64>(2)?).unwrap_or(0);
        *status.entry(s).or_insert(0) += n;
        *priority.entry(p).or_insert(0) += n;
    }
    let mut categorie = zeros(TicketCategorie::ALL.iter().map(|v| v.as_str()));
    categorie.extend(grouped(db, &base, tcol(ticket::Column::Categorie)).await?);
    let sla = sla_counts(db, base, filters::sla_level_conditions(now)).await?;
    Ok(BTreeMap::from([
        ("status", status),
        ("priority", priority),
        ("categorie", categorie),
        ("sla", sla),
    ]))
}

/// How many of the tickets `base` selects are at each SLA level (`levels`: the breach and
/// warning conditions): one pass summing the conditions, with no grouping (a `GROUP BY` over
/// the level would sort every row).
async fn sla_counts(
    db: &impl ConnectionTrait,
    base: SelectStatement,
    (breach, warning): (Cond, Cond),
) -> Result<BTreeMap<String, u64>, DbErr> {
    let mut select = base;
    select
        .expr(Expr::cust("COUNT(*)"))
        .expr(sum_bigint(when(breach.clone(), 1)))
        .expr(sum_bigint(
            Expr::case(breach, 0).case(warning, 1).finally(0),
        ));
    let (mut total, mut in_breach, mut in_warning) = (0, 0, 0);
    if let Some(row) = db.query_one(&select).await? {
        let read = |i| counts::count_at(&row, i);
        (total, in_breach, in_warning) = (read(0)?, read(1)?, read(2)?);
    }
    Ok(BTreeMap::from([
        (SlaLevel::Breach.as_str().to_owned(), in_breach),
        (SlaLevel::Warning.as_str().to_owned(), in_warning),
        (
            SlaLevel::Ok.as_str().to_owned(),
            total.saturating_sub(in_breach + in_warning),
        ),
    ]))
}

/// The tickets `scope` may see and `filters` select (dates aside) created and resolved on each
/// UTC day (`YYYY-MM-DD`) of `range`, counted from the tickets.
async fn live_days(
    db: &impl ConnectionTrait,
    scope: Scope,
    filters: &TicketFilters,
    now: DateTime<Utc>,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<BTreeMap<String, (u64, u64)>, AppError> {
    let backend = db.get_database_backend();
    let mut created = filters::tickets_only();
    filters::apply(&mut created, backend, scope, filters, now)?;
    let mut resolved = created.clone();
    if let Some((start, end)) = range {
        created
            .and_where(tcol(ticket::Column::DateCreation).gte(start))
            .and_where(tcol(ticket::Column::DateCreation).lt(end));
        resolved
            .and_where(tcol(ticket::Column::ResolvedAt).gte(start))
            .and_where(tcol(ticket::Column::ResolvedAt).lt(end));
    }
    let day = |column| Expr::cust(migration::utc_day(backend, column));
    let mut trend = BTreeMap::<String, (u64, u64)>::new();
    for (key, n) in grouped(db, &created, day("t.date_creation")).await? {
        trend.entry(key).or_default().0 += n;
    }
    for (key, n) in grouped(db, &resolved, day("t.resolved_at")).await? {
        trend.entry(key).or_default().1 += n;
    }
    Ok(trend)
}

/// The statistics of the tickets `scope` may see.
///
/// # Errors
/// 422 for a reversed or too long range; database errors.
pub async fn compute(
    db: &impl ConnectionTrait,
    state: &TicketsState,
    scope: Scope,
    query: &StatsQuery,
) -> Result<TicketStats, AppError> {
    let now = state.clock.now();
    let backend = db.get_database_backend();
    let filters = TicketFilters {
        client_id: query.client_id,
        chantier_id: query.chantier_id,
        date_from: query.date_from,
        date_to: query.date_to,
        ..TicketFilters::default()
    };
    let today = now.date_naive();
    let last_day = query.date_to.map_or(today, DateBound::day);
    let first_day = query.date_from.map_or_else(
        || last_day - Duration::days(DEFAULT_TREND_DAYS - 1),
        DateBound::day,
    );
    let days = (last_day - first_day).num_days() + 1;
    if days < 1 {
        return Err(AppError::invalid("date_to", "must be after date_from"));
    }
    if days > MAX_TREND_DAYS {
        return Err(AppError::invalid(
            "date_to",
            format!("the range may span at most {MAX_TREND_DAYS} days"),
        ));
    }

    let mut base = filters::tickets_only();
    filters::apply(&mut base, backend, scope, &filters, now)?;
    let mut counts = if counts::cover(scope, &filters) {
        kept_totals(db, now).await?
    } else {
        totals(db, base, now).await?
    };
    let mut totaux = counts.remove("status").unwrap_or_default();
    totaux.insert("total".to_owned(), totaux.values().sum());
    let priorites = counts.remove("priority").unwrap_or_default();
    let sla = counts.remove("sla").unwrap_or_default();
    let categories = counts.remove("categorie").unwrap_or_default();

    // The trend: created per day within the range; resolved per day by resolution date.
    let range_start = first_day.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    let range_end = (last_day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc());
    let trend_filters = TicketFilters {
        date_from: None,
        date_to: None,
        ..filters
    };
    let trend = if counts::cover(scope, &trend_filters) {
        counts::kept_days(db, first_day, last_day).await?
    } else {
        live_days(db, scope, &trend_filters, now, range_start.zip(range_end)).await?
    };
    let tendances = (0..days)
        .map(|offset| {
            let date = first_day + Duration::days(offset);
            let (nouveaux, resolus) = trend
                .get(&date.format("%Y-%m-%d").to_string())
                .copied()
                .unwrap_or_default();
            TrendDay {
                date,
                nouveaux,
                resolus,
            }
        })
        .collect();
    Ok(TicketStats {
        totaux,
        priorites,
        sla,
        categories,
        tendances,
    })
}

/// Ticket statistics: by status, priority, SLA level and category, and the daily trend.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(StatsQuery),
    responses((status = 200, description = "The figures", body = ApiResponse<TicketStats>), errors::AuthedRead)
)]
#[get("/stats")]
pub async fn stats(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> Result<ApiResponse<TicketStats>, AppError> {
    Ok(ApiResponse::ok(
        compute(db.get_ref(), &state, caller.scope, &query).await?,
    ))
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    /// Each count of the running tickets ahead of an SLA instant within now's hour reads that
    /// instant's index, and on PostgreSQL that index alone (it holds the columns the instant is
    /// made of).
    #[tokio::test]
    async fn the_running_tickets_ahead_of_an_instant_are_counted_from_its_index() {
        let app = test_support::spawn_app().await;
        let backend = app.db.get_database_backend();
        for (instant, index) in [
            (
                migration::sla_breach_at(backend),
                "idx-tickets-sla_breach_at",
            ),
            (migration::sla_alert_at(backend), "idx-tickets-sla_alert_at"),
        ] {
            let plan =
                test_support::query_plan(&app.db, &ahead_this_hour_statement(instant, Utc::now()))
                    .await;
            let read = if backend == DbBackend::Postgres {
                format!("Index Only Scan using \"{index}-covering\"")
            } else {
                format!("USING INDEX {index} ")
            };
            assert!(plan.contains(&read), "not `{read}`:\n{plan}");
        }
    }
}
