//! Full-text search over tickets: numero, titre and description for everyone, and every message
//! for staff. SQLite uses the `tickets_fts` FTS5 table (accents ignored, bm25 ranking);
//! PostgreSQL the `search_vector` columns (French stemming without accents, `ts_rank`). The
//! last word matches as a prefix, so results come while typing.

use actix_web::get;
use chrono::{DateTime, Utc};
use entity::ticket::{TicketPriority, TicketStatus};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, Order, Query as SqlQuery, SelectStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};
use serde::{Deserialize, Serialize};
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
            let query = terms.tsquery();
            if scope.is_staff() {
                // The ids each GIN index finds, united: an `OR EXISTS` on the messages would
                // make PostgreSQL read every ticket and test each one (a seq scan, plus a JIT
                // compile for its estimated cost): 272 ms instead of 21 ms at 100,000 tickets.
                Expr::cust_with_values(
                    "t.id IN (SELECT id FROM tickets WHERE search_vector @@ \
                     to_tsquery('presta_fr', $1) UNION SELECT ticket_id FROM ticket_messages \
                     WHERE search_vector @@ to_tsquery('presta_fr', $1))",
                    [query],
                )
            } else {
                Expr::cust_with_values("t.search_vector @@ to_tsquery('presta_fr', $1)", [query])
            }
        }
        _ => Expr::cust_with_values(
            format!("{FTS_ROWID} IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)"),
            [terms.fts5(scope.is_staff())],
        ),
    }
}

/// Relevance in [0, 1): higher is better. On SQLite it reads `f.raw`, the bm25 weight of the
/// joined [`fts_matches`] row.
fn score(backend: DbBackend, scope: Scope, terms: &Terms) -> Expr {
    match backend {
        DbBackend::Postgres => {
            let query = terms.tsquery();
            if scope.is_staff() {
                Expr::cust_with_values(
                    "GREATEST(ts_rank(t.search_vector, to_tsquery('presta_fr', $1), 32), 0.5 * \
                     COALESCE((SELECT MAX(ts_rank(m.search_vector, to_tsquery('presta_fr', $1), \
                     32)) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.search_vector @@ \
                     to_tsquery('presta_fr', $1)), 0))::float8",
                    [query],
                )
            } else {
                Expr::cust_with_values(
                    "ts_rank(t.search_vector, to_tsquery('presta_fr', $1), 32)::float8",
                    [query],
                )
            }
        }
        _ => Expr::cust("f.raw / (1.0 + f.raw)"),
    }
}

/// SQLite: the FTS5 rows matching `terms` with their bm25 weight (`f.fts_rowid`, `f.raw`:
/// bm25 is negative and better when lower; the weights favour numero and titre). Joined to the
/// tickets through the expression index on `annee * 1000000000 + sequence`, so the matches
/// drive the query and each is scored once.
fn fts_matches(scope: Scope, terms: &Terms) -> SelectStatement {
    SqlQuery::select()
        .expr_as(Expr::cust("rowid"), Alias::new("fts_rowid"))
        .expr_as(
            Expr::cust("-bm25(tickets_fts, 10.0, 5.0, 2.0, 1.0)"),
            Alias::new("raw"),
        )
        .from(Alias::new("tickets_fts"))
        .and_where(Expr::cust_with_values(
            "tickets_fts MATCH ?",
            [terms.fts5(scope.is_staff())],
        ))
        .to_owned()
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
    let mut base = if backend == DbBackend::Postgres {
        let mut base = filters::tickets_only();
        base.and_where(matches(backend, scope, &terms));
        base
    } else {
        // The matches first: SQLite keeps the left side of a CROSS JOIN as the outer loop, so
        // each match looks its ticket up by index instead of each ticket querying the index.
        // (sea-query writes a CROSS JOIN without its ON: the condition goes in WHERE.)
        SqlQuery::select()
            .from_subquery(fts_matches(scope, &terms), Alias::new("f"))
            .join_as(
                JoinType::CrossJoin,
                entity::ticket::Entity,
                t(),
                Expr::cust("TRUE"),
            )
            // `+` keeps the FTS table from taking the equality for itself (a scan per match).
            .and_where(Expr::cust(format!("{FTS_ROWID} = +f.fts_rowid")))
            .to_owned()
    };
    if let Some(company) = scope.company() {
        base.and_where(tcol(entity::ticket::Column::ClientId).eq(company));
    }

    let mut count = base.clone();
    count.expr(Expr::cust("COUNT(*)"));
    let total = db
        .query_one(&count)
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);

    let mut page = base;
    filters::join_names(&mut page);
    page.column((t(), entity::ticket::Column::Id))
        .column((t(), entity::ticket::Column::Numero))
        .column((t(), entity::ticket::Column::Titre))
        .column((t(), entity::ticket::Column::Status))
        .column((t(), entity::ticket::Column::Priority))
        .column((t(), entity::ticket::Column::ClientId))
        .expr_as(
            Expr::col((c(), entity::company::Column::Name)),
            sea_orm::sea_query::Alias::new("client_nom"),
        )
        .column((t(), entity::ticket::Column::DateCreation))
        .expr_as(
            score(backend, scope, &terms),
            sea_orm::sea_query::Alias::new("score"),
        )
        .order_by_expr(Expr::cust("score"), Order::Desc)
        .order_by((t(), entity::ticket::Column::DateCreation), Order::Desc)
        .limit(limit);
    let rows = db.query_all(&page).await?;
    let mut results = rows
        .iter()
        .map(|row| SearchHit::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    for hit in &mut results {
        hit.score = round_significant(hit.score);
    }
    Ok(SearchResults {
        results,
        total: u64::try_from(total).unwrap_or(0),
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
