//! The ticket filters of seed 003 (list, export, stats) and the SQL they become, together with
//! the SQL form of a ticket's SLA level.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use entity::ticket::{self, TicketCategorie, TicketPriority, TicketStatus};
use sea_orm::sea_query::{
    Alias, CaseStatement, Cond, Expr, ExprTrait, JoinType, Query, SelectStatement,
};
use sea_orm::{DbBackend, EntityName, Statement};
use serde::{Deserialize, Deserializer, Serialize};
use shared::AppError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::scope::Scope;
use crate::search;
use crate::sla::SlaLevel;

/// A day (`2026-01-31`) or an instant (`2026-01-31T10:00:00Z`). As an upper bound a day
/// includes its whole length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum DateBound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

/// [`DateBound`] in the OpenAPI document: a date or an RFC 3339 date-time (query parameters).
#[must_use]
pub fn date_bound_schema() -> utoipa::openapi::Schema {
    date_bound_one_of(false)
}

/// [`DateBound`] in a JSON body, where `null` stands for absent.
#[must_use]
pub fn nullable_date_bound_schema() -> utoipa::openapi::Schema {
    date_bound_one_of(true)
}

fn date_bound_one_of(nullable: bool) -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    let mut one_of = OneOfBuilder::new();
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one_of
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .description(Some(
            "A day (`2026-01-31`) or an instant (`2026-01-31T10:00:00Z`).",
        ))
        .examples(["2026-01-31"])
        .build()
        .into()
}

impl<'de> Deserialize<'de> for DateBound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom("must be a date (YYYY-MM-DD) or an ISO 8601 date-time")
        })
    }
}

impl DateBound {
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return Some(Self::Day(day));
        }
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|at| Self::Instant(at.with_timezone(&Utc)))
    }

    /// As a lower bound (inclusive).
    #[must_use]
    pub fn start(self) -> DateTime<Utc> {
        match self {
            Self::Day(day) => day.and_time(NaiveTime::MIN).and_utc(),
            Self::Instant(at) => at,
        }
    }

    /// As an upper bound (exclusive): a day runs to the next midnight.
    #[must_use]
    pub fn end(self) -> DateTime<Utc> {
        match self {
            Self::Day(day) => day.and_time(NaiveTime::MIN).and_utc() + Duration::days(1),
            Self::Instant(at) => at,
        }
    }

    /// The calendar day (UTC).
    #[must_use]
    pub fn day(self) -> NaiveDate {
        match self {
            Self::Day(day) => day,
            Self::Instant(at) => at.date_naive(),
        }
    }
}

/// Filters of the ticket list (also the `filters` of an export and, in part, of the stats).
#[derive(
    Debug, Clone, Default, PartialEq, Deserialize, Serialize, Validate, IntoParams, ToSchema,
)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketFilters {
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub categorie: Option<TicketCategorie>,
    pub client_id: Option<Uuid>,
    pub chantier_id: Option<Uuid>,
    /// Exact name of the person in charge.
    #[validate(length(min = 1, max = 255))]
    #[param(min_length = 1, max_length = 255)]
    #[schema(min_length = 1, max_length = 255)]
    pub responsable: Option<String>,
    /// Full-text search over numero, titre, description (and messages, for staff).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    #[schema(min_length = 1, max_length = 200)]
    pub search: Option<String>,
    /// Created on or after (a day or an instant).
    #[param(schema_with = crate::filters::date_bound_schema)]
    #[schema(schema_with = crate::filters::nullable_date_bound_schema)]
    pub date_from: Option<DateBound>,
    /// Created on or before (a whole day, or up to an instant).
    #[param(schema_with = crate::filters::date_bound_schema)]
    #[schema(schema_with = crate::filters::nullable_date_bound_schema)]
    pub date_to: Option<DateBound>,
    pub sla_status: Option<SlaLevel>,
}

impl TicketFilters {
    /// Rules across fields.
    ///
    /// # Errors
    /// 422 naming `date_to` when the range is reversed.
    pub fn check(&self) -> Result<(), AppError> {
        if let (Some(from), Some(to)) = (self.date_from, self.date_to)
            && to.end() <= from.start()
        {
            return Err(AppError::invalid("date_to", "must be after date_from"));
        }
        Ok(())
    }
}

/// The table aliases every ticket query uses.
pub fn t() -> Alias {
    Alias::new("t")
}
pub fn c() -> Alias {
    Alias::new("c")
}
pub fn ch() -> Alias {
    Alias::new("ch")
}

/// `t.<column>`.
pub fn tcol(column: ticket::Column) -> Expr {
    Expr::col((t(), column))
}

fn level_case(eval: &Expr, breach_at: Expr, warning_at: Expr) -> (Expr, Expr) {
    (eval.clone().gte(breach_at), eval.clone().gte(warning_at))
}

/// The SQL of a ticket's SLA level at `now` (`'ok'`, `'warning'`, `'breach'`), the same rule as
/// [`crate::sla::Materialized`] documents.
#[must_use]
pub fn sla_level_expr(now: DateTime<Utc>) -> Expr {
    let (breach, warning) = sla_level_conditions(now);
    Expr::Case(Box::new(
        CaseStatement::new()
            .case(breach, Expr::val(SlaLevel::Breach.as_str()))
            .case(warning, Expr::val(SlaLevel::Warning.as_str()))
            .finally(Expr::val(SlaLevel::Ok.as_str())),
    ))
}

/// The two conditions [`sla_level_expr`] tests in order: `breach`, else `warning` (a ticket
/// may meet both; it is then in breach), else `ok`. The clock is read at `now`, or when it
/// was paused. (The kept counts of paused tickets, `crate::counts`, apply the same rule in the
/// database's triggers, and `migration::sla_breach_at` / `sla_alert_at` solve it for the
/// instants a running ticket changes level.)
#[must_use]
pub fn sla_level_conditions(now: DateTime<Utc>) -> (Cond, Cond) {
    let eval = Expr::expr(sea_orm::sea_query::Func::coalesce([
        tcol(ticket::Column::SlaPausedSince),
        Expr::val(now),
    ]));
    let (res_breach, res_warning) = level_case(
        &eval,
        tcol(ticket::Column::DateLimite),
        tcol(ticket::Column::SlaWarningAt),
    );
    let (resp_breach, resp_warning) = level_case(
        &eval,
        tcol(ticket::Column::SlaResponseDue),
        tcol(ticket::Column::SlaResponseWarningAt),
    );
    let frozen = || tcol(ticket::Column::SlaResponseLevel);
    let breach = Cond::any()
        .add(res_breach)
        .add(frozen().eq(SlaLevel::Breach.number()))
        .add(Cond::all().add(frozen().is_null()).add(resp_breach));
    let warning = Cond::any()
        .add(res_warning)
        .add(frozen().eq(SlaLevel::Warning.number()))
        .add(Cond::all().add(frozen().is_null()).add(resp_warning));
    (breach, warning)
}

/// `SELECT … FROM tickets t` alone: enough for every filter, counts and statistics.
#[must_use]
pub fn tickets_only() -> SelectStatement {
    Query::select().from_as(ticket::Entity, t()).to_owned()
}

/// Join `select` (on `tickets t`) to the ticket's client company `c` and chantier `ch`, for
/// their names. Both are to-one joins on primary keys, needed only when rows are read.
pub fn join_names(select: &mut SelectStatement) {
    select
        .join_as(
            JoinType::LeftJoin,
            entity::company::Entity,
            c(),
            Expr::col((c(), entity::company::Column::Id)).equals((t(), ticket::Column::ClientId)),
        )
        .join_as(
            JoinType::LeftJoin,
            entity::chantier::Entity,
            ch(),
            Expr::col((ch(), entity::chantier::Column::Id))
                .equals((t(), ticket::Column::ChantierId)),
        );
}

/// A statement with [`join_names`], built: on SQLite its names read from the indexes that hold
/// them beside the ids (`migration::COMPANY_NAMES`, `CHANTIER_NAMES`), not the tables, one
/// b-tree walk a name instead of two (bench/RESULTS.md item 44). For statements that read
/// rows; a count reads no names.
#[must_use]
pub fn names_indexed(statement: Statement) -> Statement {
    let statement = shared::db::indexed_by(
        statement,
        entity::company::Entity.table_name(),
        "c",
        migration::COMPANY_NAMES,
    );
    shared::db::indexed_by(
        statement,
        entity::chantier::Entity.table_name(),
        "ch",
        migration::CHANTIER_NAMES,
    )
}

/// `SELECT … FROM tickets t` joined to its client company and chantier, with no columns yet.
#[must_use]
pub fn from_tickets() -> SelectStatement {
    let mut select = tickets_only();
    join_names(&mut select);
    select
}

/// Restrict `select` (built on [`from_tickets`]) to what `scope` may see and `filters` ask for.
///
/// # Errors
/// 422 for a range the filters make impossible.
pub fn apply(
    select: &mut SelectStatement,
    backend: DbBackend,
    scope: Scope,
    filters: &TicketFilters,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    filters.check()?;
    apply_checked(select, backend, scope, filters, now);
    Ok(())
}

/// [`apply`] of filters already checked (`TicketFilters::check`).
pub fn apply_checked(
    select: &mut SelectStatement,
    backend: DbBackend,
    scope: Scope,
    filters: &TicketFilters,
    now: DateTime<Utc>,
) {
    if let Some(company) = scope.company() {
        select.and_where(tcol(ticket::Column::ClientId).eq(company));
    }
    if let Some(status) = filters.status {
        select.and_where(tcol(ticket::Column::Status).eq(status.as_str()));
    }
    if let Some(priority) = filters.priority {
        select.and_where(tcol(ticket::Column::Priority).eq(priority.as_str()));
    }
    if let Some(categorie) = filters.categorie {
        select.and_where(tcol(ticket::Column::Categorie).eq(categorie.as_str()));
    }
    if let Some(client) = filters.client_id {
        select.and_where(tcol(ticket::Column::ClientId).eq(client));
    }
    if let Some(chantier) = filters.chantier_id {
        select.and_where(tcol(ticket::Column::ChantierId).eq(chantier));
    }
    if let Some(responsable) = &filters.responsable {
        select.and_where(tcol(ticket::Column::Responsable).eq(responsable.trim()));
    }
    if let Some(from) = filters.date_from {
        select.and_where(tcol(ticket::Column::DateCreation).gte(from.start()));
    }
    if let Some(to) = filters.date_to {
        select.and_where(tcol(ticket::Column::DateCreation).lt(to.end()));
    }
    if let Some(level) = filters.sla_status {
        select.and_where(sla_level_expr(now).eq(level.as_str()));
    }
    if let Some(text) = &filters.search {
        // Text with no word at all (`--`) matches no ticket, as in the search route.
        let terms = search::Terms::parse(text);
        if terms.is_empty() {
            select.and_where(Expr::cust("1 = 0"));
        } else {
            select.and_where(search::matches(backend, scope, &terms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_take_days_or_instants() {
        let day = DateBound::parse("2026-01-31").unwrap();
        assert_eq!(day.start().to_rfc3339(), "2026-01-31T00:00:00+00:00");
        assert_eq!(day.end().to_rfc3339(), "2026-02-01T00:00:00+00:00");
        let instant = DateBound::parse("2026-01-31T10:00:00+02:00").unwrap();
        assert_eq!(instant.start().to_rfc3339(), "2026-01-31T08:00:00+00:00");
        assert!(DateBound::parse("31/01/2026").is_none());
    }

    #[test]
    fn a_reversed_range_names_date_to() {
        let filters = TicketFilters {
            date_from: DateBound::parse("2026-02-01"),
            date_to: DateBound::parse("2026-01-01"),
            ..TicketFilters::default()
        };
        assert!(filters.check().is_err());
        let same_day = TicketFilters {
            date_from: DateBound::parse("2026-02-01"),
            date_to: DateBound::parse("2026-02-01"),
            ..TicketFilters::default()
        };
        assert!(same_day.check().is_ok());
    }
}
