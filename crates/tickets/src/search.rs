//! Full-text search over tickets: numero, titre and description for everyone, and every message
//! for staff. SQLite uses the `tickets_fts` FTS5 table (accents ignored, bm25 ranking);
//! PostgreSQL the `search_vector` columns (French stemming without accents, `ts_rank`). The
//! last word matches as a prefix, so results come while typing.

use actix_web::get;
use chrono::{DateTime, Utc};
use entity::ticket::{TicketPriority, TicketStatus};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, JoinType, Order, Query as SqlQuery, SelectStatement,
    UnionType,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};
use serde::{Deserialize, Serialize};
use shared::db::count_of;
use shared::envelope::serialize_utc;
use shared::extract::Query;
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::filters::{self, c, t, tcol};
use crate::scope::{Caller, Scope};

/// At most this many words of a query are used.
const MAX_TERMS: usize = 12;
/// SQLite: a ticket's row in `tickets_fts`.
const FTS_ROWID: &str = "(t.annee * 1000000000 + t.sequence)";
/// A ticket's place in the numbering (its year, then its number in the year: the order the
/// tickets were opened in), which breaks ties between equally relevant tickets, newest first.
/// On SQLite it is the ticket's FTS rowid, so ranking reads the FTS index alone.
const ORDER: &str = "(CAST(t.annee AS BIGINT) * 1000000000 + t.sequence)";

/// The words of a search, reduced to letters and digits (so no query syntax gets through).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    #[must_use]
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
                .take(MAX_TERMS)
                .collect(),
        )
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// FTS5: `"a" AND "b"*`, limited to the ticket's own columns unless `with_messages`.
    fn fts5(&self, with_messages: bool) -> String {
        let last = self.0.len().saturating_sub(1);
        let words: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect();
        let query = words.join(" AND ");
        if with_messages {
            query
        } else {
            format!("{{numero titre description}} : ({query})")
        }
    }

    /// PostgreSQL `to_tsquery` input: `a & b:*`.
    fn tsquery(&self) -> String {
        let last = self.0.len().saturating_sub(1);
        self.0
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// Condition on `t` (a ticket row): it matches `terms` for `scope` (messages count for staff).
#[must_use]
pub fn matches(backend: DbBackend, scope: Scope, terms: &Terms) -> Expr {
    match backend {
        DbBackend::Postgres => {
            if scope.is_staff() {
                tcol(entity::ticket::Column::Id).in_subquery(postgres_staff_matches(terms))
            } else {
                with_tsquery("t.search_vector @@ {q}", terms)
            }
        }
        _ => Expr::cust(FTS_ROWID).in_subquery(
            SqlQuery::select()
                .expr(Expr::cust("rowid"))
                .from(Alias::new("tickets_fts"))
                .and_where(fts_match(scope, terms))
                .to_owned(),
        ),
    }
}

/// PostgreSQL `to_tsquery('presta_fr', $1)` of `terms`, inside `sql` (`{q}` marks where).
fn with_tsquery(sql: &str, terms: &Terms) -> Expr {
    Expr::cust_with_values(
        sql.replace("{q}", "to_tsquery('presta_fr', $1)"),
        [terms.tsquery()],
    )
}

/// PostgreSQL: the ids of the tickets staff find, by their own words or their messages'. The
/// ids each GIN index finds, united: an `OR EXISTS` on the messages would make PostgreSQL read
/// every ticket and test each one (a seq scan, plus a JIT compile for its estimated cost):
/// 272 ms instead of 21 ms at 100,000 tickets.
fn postgres_staff_matches(terms: &Terms) -> SelectStatement {
    SqlQuery::select()
        .column(entity::ticket::Column::Id)
        .from(entity::ticket::Entity)
        .and_where(with_tsquery("search_vector @@ {q}", terms))
        .union(
            UnionType::Distinct,
            SqlQuery::select()
                .column(Alias::new("ticket_id"))
                .from(Alias::new("ticket_messages"))
                .and_where(with_tsquery("search_vector @@ {q}", terms))
                .to_owned(),
        )
        .to_owned()
}

/// PostgreSQL: each ticket with matching messages and its best message's rank (`ticket_id`,
/// `s`), grouped from one scan of the messages' index, to be joined as `mm` (a subquery per
/// matching ticket would look its messages up once per ticket).
fn message_ranks(terms: &Terms) -> SelectStatement {
    SqlQuery::select()
        .column(Alias::new("ticket_id"))
        .expr_as(
            with_tsquery("MAX(ts_rank(search_vector, {q}, 32))", terms),
            Alias::new("s"),
        )
        .from(Alias::new("ticket_messages"))
        .and_where(with_tsquery("search_vector @@ {q}", terms))
        .group_by_col(Alias::new("ticket_id"))
        .to_owned()
}

/// PostgreSQL, a page's keys: `k_key` (the ticket's id), `k_rank` (its relevance in [0, 1):
/// `ts_rank`, and `with_messages` (staff) half its best message's rank, `mm.s`, when that is
/// higher) and `k_order` (its number, see [`ORDER`]), for the tickets `t` that `select` holds.
fn postgres_keys(select: &mut SelectStatement, terms: &Terms, with_messages: bool) {
    let rank = if with_messages {
        "GREATEST(ts_rank(t.search_vector, {q}, 32), 0.5 * COALESCE(mm.s, 0))::float8"
    } else {
        "ts_rank(t.search_vector, {q}, 32)::float8"
    };
    select
        .expr_as(tcol(entity::ticket::Column::Id), Alias::new("k_key"))
        .expr_as(with_tsquery(rank, terms), Alias::new("k_rank"))
        .expr_as(Expr::cust(ORDER), Alias::new("k_order"));
}

/// PostgreSQL: how many tickets match, and the page's keys (see [`page`]).
///
/// Staff find a ticket by its own words or by its messages': the tickets found by their own
/// words (from their index, each with its messages' rank if any) and those found by their
/// messages alone are ranked in two parts that share no ticket, so each matching ticket is read
/// once (the messages' ranks are grouped once for each part).
fn postgres_statements(scope: Scope, terms: &Terms) -> Statements {
    let own_words = with_tsquery("t.search_vector @@ {q}", terms);
    let Some(company) = scope.company() else {
        let count = SqlQuery::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(postgres_staff_matches(terms), Alias::new("u"))
            .to_owned();
        let mut own = filters::tickets_only();
        own.join_subquery(
            JoinType::LeftJoin,
            message_ranks(terms),
            Alias::new("mm"),
            Expr::cust("mm.ticket_id = t.id"),
        )
        .and_where(own_words);
        postgres_keys(&mut own, terms, true);
        let mut by_messages = SqlQuery::select();
        by_messages
            .from_subquery(message_ranks(terms), Alias::new("mm"))
            .join_as(
                JoinType::InnerJoin,
                entity::ticket::Entity,
                t(),
                Expr::cust("t.id = mm.ticket_id"),
            )
            // The other part's tickets. `IS NOT TRUE` rather than `NOT`, which would lose a
            // ticket whose vector were NULL (none is: its columns are NOT NULL).
            .and_where(with_tsquery("(t.search_vector @@ {q}) IS NOT TRUE", terms));
        postgres_keys(&mut by_messages, terms, true);
        own.union(UnionType::All, by_messages);
        let keys = SqlQuery::select()
            .column(Asterisk)
            .from_subquery(own, Alias::new("m"))
            .to_owned();
        return Statements {
            count,
            keys,
            total_in_keys: false,
        };
    };
    let mut base = filters::tickets_only();
    base.and_where(own_words)
        .and_where(tcol(entity::ticket::Column::ClientId).eq(company));
    let count = base.clone().expr(Expr::cust("COUNT(*)")).to_owned();
    postgres_keys(&mut base, terms, false);
    base.expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("k_total"));
    Statements {
        count,
        keys: base,
        total_in_keys: true,
    }
}

/// SQLite: `tickets_fts MATCH` the query of `terms` (messages searched for staff).
fn fts_match(scope: Scope, terms: &Terms) -> Expr {
    Expr::cust_with_values("tickets_fts MATCH ?", [terms.fts5(scope.is_staff())])
}

/// SQLite: the FTS5 rows matching `terms` with their bm25 weight (`f.fts_rowid`, `f.raw`:
/// bm25 is negative and better when lower; the weights favour numero and titre), for a
/// company only its tickets' rows.
///
/// A company's rows are found with the FTS index still driving: each match is checked against
/// the numbers of the company's tickets, collected once (a thousand or so), instead of looking
/// its ticket up for its company (50,000 index probes at 1,000,000 tickets: 58 ms for the
/// keys and as much again for the count, against 17–30 ms for both now). The `+` keeps FTS5
/// from taking the `IN` for itself: it would run the whole query once per ticket (2.6–2.9 s).
fn fts_matches(scope: Scope, terms: &Terms) -> SelectStatement {
    let mut matches = SqlQuery::select()
        .expr_as(Expr::cust("rowid"), Alias::new("fts_rowid"))
        .expr_as(
            Expr::cust("-bm25(tickets_fts, 10.0, 5.0, 2.0, 1.0)"),
            Alias::new("raw"),
        )
        .from(Alias::new("tickets_fts"))
        .and_where(fts_match(scope, terms))
        .to_owned();
    if let Some(company) = scope.company() {
        matches.and_where(
            Expr::cust("+rowid").in_subquery(
                SqlQuery::select()
                    .expr(Expr::cust("annee * 1000000000 + sequence"))
                    .from(entity::ticket::Entity)
                    .and_where(Expr::col(entity::ticket::Column::ClientId).eq(company))
                    .to_owned(),
            ),
        );
    }
    matches
}

/// A search's statements: the page's keys (see [`page`]) and how many tickets match.
struct Statements {
    count: SelectStatement,
    keys: SelectStatement,
    /// The keys also carry `k_total`, the count: a company's matches are counted with its
    /// page, in the pass that ranks them, so `count` runs only for a page of no rows.
    total_in_keys: bool,
}

/// SQLite: how many tickets match, and the page's keys: `k_key` and `k_order` (the ticket's
/// FTS rowid, its place in the numbering: see [`ORDER`]) and `k_rank` (the bm25 weight, as a
/// relevance in [0, 1)).
///
/// Each ticket has exactly one FTS row (the triggers of `tickets_fts` keep it so), so the
/// ranking and the count read the FTS index alone, and only the page's tickets are read
/// (looking each match's ticket up for its date doubled the cost of staff's ranking: 149 →
/// 86 ms for 50,000 matches among 1,000,000 tickets). A company's matches are few: they are
/// counted in the pass that ranks them.
fn sqlite_statements(scope: Scope, terms: &Terms) -> Statements {
    let count = SqlQuery::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(fts_matches(scope, terms), Alias::new("f"))
        .to_owned();
    let mut keys = SqlQuery::select()
        .from_subquery(fts_matches(scope, terms), Alias::new("f"))
        .expr_as(Expr::cust("f.fts_rowid"), Alias::new("k_key"))
        .expr_as(Expr::cust("f.raw / (1.0 + f.raw)"), Alias::new("k_rank"))
        .expr_as(Expr::cust("f.fts_rowid"), Alias::new("k_order"))
        .to_owned();
    let total_in_keys = scope.company().is_some();
    if total_in_keys {
        keys.expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("k_total"));
    }
    Statements {
        count,
        keys,
        total_in_keys,
    }
}

/// The page of hits from its keys (`k_key`, `k_rank`, `k_order`, see the two statements
/// above): the `limit` best keys are ranked first (highest `k_rank`, then newest by `k_order`,
/// which no two tickets share, so equal tickets keep one order), from what ranking needs
/// alone; only the page's tickets and their companies are read. With `total_in_keys` the
/// page also carries the keys' `k_total`.
fn page(
    backend: DbBackend,
    keys: SelectStatement,
    total_in_keys: bool,
    limit: u64,
) -> SelectStatement {
    let mut ranked = keys;
    ranked
        .order_by_expr(Expr::cust("k_rank"), Order::Desc)
        .order_by_expr(Expr::cust("k_order"), Order::Desc)
        .limit(limit);
    let key = match backend {
        DbBackend::Postgres => "t.id = p.k_key".to_owned(),
        // Without the `+`, SQLite scans the tickets once per key instead of taking the index on
        // the expression (5.3 s instead of 58 ms at 1,000,000 tickets).
        _ => format!("{FTS_ROWID} = +p.k_key"),
    };
    let mut page = SqlQuery::select()
        .from_subquery(ranked, Alias::new("p"))
        .join_as(
            JoinType::CrossJoin,
            entity::ticket::Entity,
            t(),
            Expr::cust("TRUE"),
        )
        .and_where(Expr::cust(key))
        .to_owned();
    filters::join_names(&mut page);
    page.column((t(), entity::ticket::Column::Id))
        .column((t(), entity::ticket::Column::Numero))
        .column((t(), entity::ticket::Column::Titre))
        .column((t(), entity::ticket::Column::Status))
        .column((t(), entity::ticket::Column::Priority))
        .column((t(), entity::ticket::Column::ClientId))
        .expr_as(
            Expr::col((c(), entity::company::Column::Name)),
            Alias::new("client_nom"),
        )
        .column((t(), entity::ticket::Column::DateCreation))
        .expr_as(Expr::cust("p.k_rank"), Alias::new("score"))
        .order_by_expr(Expr::cust("p.k_rank"), Order::Desc)
        .order_by_expr(Expr::cust("p.k_order"), Order::Desc);
    if total_in_keys {
        page.expr_as(Expr::cust("p.k_total"), Alias::new("k_total"));
    }
    page
}

/// `score` to four significant digits: small corpora give tiny but still ordered bm25 scores
/// (a word in most tickets has almost no weight), which plain decimal rounding would flatten to 0.
fn round_significant(score: f64) -> f64 {
    if score <= 0.0 || !score.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(3 - score.log10().floor() as i32);
    (score * scale).round() / scale
}

/// `GET /api/tickets-client/search` parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (the last one also as a prefix).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Results at most (default 10).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct SearchHit {
    pub id: Uuid,
    #[schema(example = "TC-2026-001")]
    pub numero: String,
    pub titre: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub client_id: Uuid,
    pub client_nom: Option<String>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_creation: DateTime<Utc>,
    /// Relevance between 0 and 1.
    #[schema(example = 0.83)]
    pub score: f64,
}

/// Results, best first, and how many tickets match in all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
    pub total: u64,
}

/// Search the tickets `scope` may see.
///
/// # Errors
/// Database errors.
pub async fn run(
    db: &impl ConnectionTrait,
    scope: Scope,
    text: &str,
    limit: u64,
) -> Result<SearchResults, AppError> {
    let terms = Terms::parse(text);
    if terms.is_empty() {
        // Punctuation only (`**`, `--`): nothing to look for, so nothing found.
        return Ok(SearchResults {
            results: Vec::new(),
            total: 0,
        });
    }
    let backend = db.get_database_backend();
    let statements = if backend == DbBackend::Postgres {
        postgres_statements(scope, &terms)
    } else {
        sqlite_statements(scope, &terms)
    };
    let Statements {
        count,
        keys,
        total_in_keys,
    } = statements;
    let page = page(backend, keys, total_in_keys, limit);
    let total_in_keys = total_in_keys && limit > 0;
    let rows = db.query_all(&page).await?;
    let total = match rows.first() {
        Some(row) if total_in_keys => Some(row.try_get::<i64>("", "k_total")?),
        // No row on a page that had room for one: nothing matches.
        None if total_in_keys => Some(0),
        _ => db
            .query_one(&count)
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?,
    };
    let mut results = rows
        .iter()
        .map(|row| SearchHit::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    for hit in &mut results {
        hit.score = round_significant(hit.score);
    }
    Ok(SearchResults {
        results,
        total: count_of(total),
    })
}

/// Search tickets by words (numero, titre, description; staff also search messages).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "Matching tickets, most relevant first", body = ApiResponse<SearchResults>), errors::AuthedRead)
)]
#[get("/search")]
pub async fn search(
    db: actix_web::web::Data<sea_orm::DatabaseConnection>,
    caller: Caller,
    query: Query<SearchQuery>,
) -> Result<ApiResponse<SearchResults>, AppError> {
    let query = query.into_inner();
    let results = run(
        db.get_ref(),
        caller.scope,
        &query.q,
        query.limit.unwrap_or(10),
    )
    .await?;
    Ok(ApiResponse::ok(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_never_gets_through() {
        let terms = Terms::parse("Échafaudage\" OR * NEAR(x) -- {titre}: TC-2026-001");
        assert_eq!(
            terms.0,
            [
                "échafaudage",
                "or",
                "near",
                "x",
                "titre",
                "tc",
                "2026",
                "001"
            ]
        );
        assert_eq!(
            Terms::parse("fuite eau").fts5(true),
            "\"fuite\" AND \"eau\"*"
        );
        assert_eq!(
            Terms::parse("fuite eau").fts5(false),
            "{numero titre description} : (\"fuite\" AND \"eau\"*)"
        );
        assert_eq!(Terms::parse("fuite eau").tsquery(), "fuite & eau:*");
        assert!(Terms::parse(" -- ** ").is_empty());
    }
}
