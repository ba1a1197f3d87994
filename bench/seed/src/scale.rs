//! The scale scenario: grow the tickets table by SQL (copies of the seeded tickets, numbered and
//! dated in earlier years: a table grows by its history, so every unique key stays unique, the
//! search index follows through its triggers or generated column, and the copies are as old as
//! their numbers say), refresh PostgreSQL's statistics, and show the plans of the list queries
//! the server runs.

use anyhow::{Context, Result};
use chrono::Utc;
use entity::ticket::{TicketPriority, TicketStatus};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use shared::pagination::{PageParams, Sort};
use tickets::filters::TicketFilters;
use tickets::scope::Scope;

/// The ticket columns a copy carries over unchanged.
const KEPT: &str = "titre, description, status, priority, categorie, client_id, chantier_id, \
    responsable, responsable_id, tags, escalation_level, created_by, sla_response_level, \
    motif_cloture, note_satisfaction";

/// What a copy has had announced (`sla_notified_level`): a copy whose clock runs has been in
/// breach for years, and that was announced then (else the SLA scan would announce some
/// hundred thousand breaches during the benchmark); a paused one keeps its original's.
const NOTIFIED: &str = "CASE WHEN sla_paused_since IS NULL THEN 2 ELSE sla_notified_level END";

/// The instants a copy moves back in time, all by the same span (so its SLA reads the same).
const MOVED: [&str; 10] = [
    "date_creation",
    "date_modification",
    "date_limite",
    "sla_warning_at",
    "sla_response_due",
    "sla_response_warning_at",
    "first_response_at",
    "sla_paused_since",
    "resolved_at",
    "closed_at",
];

/// `column` moved `days` days back, in SQL. SQLite keeps instants as RFC 3339 text in UTC: its
/// date functions take the first 19 characters, the fraction and offset are kept as they are.
fn moved_back(backend: DbBackend, column: &str, days: i64) -> String {
    match backend {
        // In hours: days of the session's time zone would move some instants by an hour.
        DbBackend::Postgres => format!("{column} - interval '{} hours'", days * 24),
        _ => format!(
            "strftime('%Y-%m-%dT%H:%M:%S', substr({column}, 1, 19), '-{days} days') \
             || substr({column}, 20)"
        ),
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await?
        .context("a row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Copy the tickets there are (those of the latest years) until the table holds `target`
/// rows; copy `k` is numbered and dated `2k` years earlier (every instant by the same span of
/// days). Then refresh the planner's statistics.
pub async fn grow_tickets(db: &DatabaseConnection, target: i64) -> Result<i64> {
    let backend = db.get_database_backend();
    let first_year = scalar(db, "SELECT CAST(MIN(annee) AS BIGINT) FROM tickets").await?;
    let originals = scalar(
        db,
        &format!("SELECT COUNT(*) FROM tickets WHERE annee >= {first_year}"),
    )
    .await?;
    let mut total = scalar(db, "SELECT COUNT(*) FROM tickets").await?;
    let mut k = 1;
    while total < target && originals > 0 {
        let want = (target - total).min(originals);
        let shift = 2 * k;
        let (id, numero) = match backend {
            DbBackend::Postgres => (
                "gen_random_uuid()",
                format!(
                    "'TC-' || (annee - {shift}) || '-' || \
                     CASE WHEN sequence < 1000 THEN lpad(sequence::text, 3, '0') \
                     ELSE sequence::text END"
                ),
            ),
            _ => (
                "randomblob(16)",
                format!("'TC-' || (annee - {shift}) || '-' || printf('%03d', sequence)"),
            ),
        };
        // `shift` years of 365.2425 days, in whole days (integer arithmetic).
        let days = (shift * 3_652_425 + 5_000) / 10_000;
        let moved = MOVED
            .iter()
            .map(|column| moved_back(backend, column, days))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO tickets (id, numero, annee, sequence, {KEPT}, sla_notified_level, {}) \
             SELECT {id}, {numero}, annee - {shift}, sequence, {KEPT}, {NOTIFIED}, {moved} \
             FROM tickets WHERE annee >= {first_year} ORDER BY annee, sequence LIMIT {want}",
            MOVED.join(", ")
        );
        db.execute_raw(Statement::from_string(backend, sql)).await?;
        total += want;
        k += 1;
        eprintln!("  {total} tickets");
    }
    refresh_statistics(db).await?;
    Ok(total)
}

/// What a production PostgreSQL database has (from autovacuum) and a freshly bulk-loaded one
/// lacks: the planner's statistics and the visibility map that lets an index answer alone
/// (without them PostgreSQL guessed 2 rows for a filter matching 4,625 and sorted them all),
/// and the space of the folded change rows reclaimed (else every read of the kept daily
/// counts walks 1.8 million dead rows: 15 ms).
/// SQLite is left as the server leaves it: the server never runs `ANALYZE` there. First the
/// kept counts' change rows the seed appended are folded (the server would within a second).
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<()> {
    tickets::counts::compact(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(())
}

/// The plans of the filtered ticket list the benchmark drives (its count, then pages 1 and 50),
/// as the tickets crate builds them.
pub async fn explain_list(db: &DatabaseConnection) -> Result<()> {
    let backend = db.get_database_backend();
    let filters = TicketFilters {
        status: Some(TicketStatus::EnCours),
        priority: Some(TicketPriority::Normale),
        ..TicketFilters::default()
    };
    let mut statements = Vec::new();
    for number in [1, 50] {
        let page = PageParams {
            page: number,
            limit: 100,
        };
        let (count, rows) = tickets::tickets::service::list_statements(
            backend,
            Scope::Staff,
            &filters,
            page,
            Sort::default(),
            Utc::now(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if number == 1 {
            // What the server counts with: the kept counts when they cover the filters.
            let count = if tickets::counts::cover(Scope::Staff, &filters) {
                (
                    "count (kept counts)".to_owned(),
                    tickets::counts::kept_statement(&filters),
                )
            } else {
                (
                    "count".to_owned(),
                    tickets::tickets::service::count_statement(&count),
                )
            };
            statements.push((count.0, backend.build(&count.1)));
        }
        statements.push((format!("page {number}"), rows));
    }
    for (label, statement) in statements {
        // Values written in (a plan for these values, as a custom plan is).
        let sql = statement.to_string();
        crate::print_line(&format!("-- {label}: {sql}"));
        crate::explain(db, &sql).await?;
    }
    Ok(())
}
