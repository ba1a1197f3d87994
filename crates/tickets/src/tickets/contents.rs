//! What a ticket's detail shows besides the ticket row and its parties, read in one statement:
//! its whole history, its latest visible messages with how many there are, and its files.
//!
//! The three reads are the branches of one `UNION ALL`, each row naming its branch in `k` and
//! carrying its own model's columns (prefixed `h_`, `m_` or `a_`, the others `NULL`). One
//! statement instead of three or four saves their round trips (on SQLite, handing each one to
//! the connection's thread and its rows back: bench/RESULTS.md item 22) and reads the three
//! from one snapshot, so the files of every message shown are among the files read.

use std::sync::LazyLock;

use entity::{ticket_attachment, ticket_history, ticket_message};
use sea_orm::sea_query::{
    Alias, ColumnType, Expr, ExprTrait, Order, Query, SelectStatement, UnionType,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, Iterable, Statement};
use shared::db::{
    InlineColumns, InlineError, InlineReads, ModelRow, OneRead, Rows, Templates, count_of, null_of,
    query_all_inline, select_model_columns, select_null_columns, union_branch,
};
use uuid::Uuid;

use crate::scope::Scope;

/// Messages shown in a ticket's detail (the latest ones).
pub const LATEST_MESSAGES: u64 = 200;

/// The statement's SQL for clients and for staff (the messages they see).
static STATEMENTS: Templates<2> = Templates::new();
/// What stands for the ticket in the statement built once.
const TICKET_STAND_IN: Uuid = Uuid::max();

const HISTORY: i32 = 1;
const MESSAGE: i32 = 2;
const ATTACHMENT: i32 = 3;

/// A ticket's history, latest visible messages and files.
#[derive(Debug, Default)]
pub struct Contents {
    /// The whole history, oldest first (internal rows included; filtered by scope later).
    pub history: Vec<ticket_history::Model>,
    /// The latest visible messages, oldest first.
    pub latest_messages: Vec<ticket_message::Model>,
    /// How many messages `scope` may see.
    pub nb_messages: u64,
    /// Every file of the ticket, oldest first (internal ones included: filtered by scope
    /// later, and a message's files are shown with it).
    pub files: Vec<ticket_attachment::Model>,
}

impl Contents {
    /// One row of the union, by its branch (`k`).
    fn add(&mut self, row: &impl ModelRow) -> Result<(), DbErr> {
        match row.value::<i32>("k")? {
            HISTORY => self
                .history
                .push(row.model::<ticket_history::Entity>("h_")?),
            MESSAGE => {
                self.nb_messages = count_of(row.value::<i64>("m_total")?);
                self.latest_messages
                    .push(row.model::<ticket_message::Entity>("m_")?);
            }
            ATTACHMENT => self
                .files
                .push(row.model::<ticket_attachment::Entity>("a_")?),
            other => {
                return Err(DbErr::Type(format!(
                    "unknown ticket contents row kind {other}"
                )));
            }
        }
        Ok(())
    }
}

/// Read the contents of ticket `ticket_id`, its messages as `scope` sees them (the latest
/// [`LATEST_MESSAGES`]).
///
/// # Errors
/// Database errors.
pub async fn read(
    db: &impl ConnectionTrait,
    inline: Option<&InlineReads>,
    scope: Scope,
    ticket_id: Uuid,
) -> Result<Contents, DbErr> {
    let statement = statement(db.get_database_backend(), scope, ticket_id);
    match query_all_inline(db, inline, statement, &COLUMNS).await? {
        Rows::Inline(rows) => collect(&rows),
        Rows::Pool(rows) => collect(&rows),
    }
}

/// [`read`] within `read`, a read of several statements on SQLite's file.
///
/// # Errors
/// [`InlineError`] when it could not be read there.
pub fn read_in(
    read: &OneRead<'_>,
    backend: DbBackend,
    scope: Scope,
    ticket_id: Uuid,
) -> Result<Contents, InlineError> {
    let rows = read.query_all_as(&statement(backend, scope, ticket_id), &COLUMNS)?;
    collect(&rows).map_err(InlineError::Row)
}

/// The types of the statement's columns, for reading it inline.
static COLUMNS: LazyLock<InlineColumns> = LazyLock::new(|| {
    InlineColumns::default()
        .column("k", ColumnType::Integer)
        .model::<ticket_history::Entity>("h_")
        .model::<ticket_message::Entity>("m_")
        .column("m_total", ColumnType::BigInteger)
        .model::<ticket_attachment::Entity>("a_")
});

/// The statement reading ticket `ticket_id`'s contents as `scope` sees them.
fn statement(backend: DbBackend, scope: Scope, ticket_id: Uuid) -> Statement {
    STATEMENTS.bind(
        backend,
        usize::from(scope.is_staff()),
        || backend.build(&select(backend, scope, TICKET_STAND_IN)),
        &[(TICKET_STAND_IN.into(), ticket_id.into())],
    )
}

/// The contents in the statement's rows.
fn collect<R: ModelRow>(rows: &[R]) -> Result<Contents, DbErr> {
    let mut contents = Contents::default();
    rows.iter().try_for_each(|row| contents.add(row))?;
    // A union keeps no order: each list is sorted here, as each query sorted it before.
    contents.history.sort_by_key(|h| (h.created_at, h.id));
    contents
        .latest_messages
        .sort_by_key(|m| (m.created_at, m.id));
    contents.files.sort_by_key(|f| (f.created_at, f.id));
    Ok(contents)
}

fn select(backend: DbBackend, scope: Scope, ticket_id: Uuid) -> SelectStatement {
    let (h, m, a) = (Alias::new("h"), Alias::new("m"), Alias::new("a"));

    let mut history = union_branch(HISTORY);
    select_model_columns::<ticket_history::Entity>(&mut history, h.clone(), "h_");
    select_null_columns::<ticket_message::Entity>(&mut history, backend, "m_");
    history.expr_as(
        null_of(backend, &ColumnType::BigInteger),
        Alias::new("m_total"),
    );
    select_null_columns::<ticket_attachment::Entity>(&mut history, backend, "a_");
    history
        .from_as(ticket_history::Entity, h.clone())
        .and_where(Expr::col((h, ticket_history::Column::TicketId)).eq(ticket_id));

    // The latest messages, newest first, each with the number of visible messages (the
    // window counts before the limit applies).
    let mut visible = Query::select();
    visible
        .columns(ticket_message::Column::iter())
        .expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("total"))
        .from(ticket_message::Entity)
        .and_where(ticket_message::Column::TicketId.eq(ticket_id))
        .order_by(ticket_message::Column::CreatedAt, Order::Desc)
        .order_by(ticket_message::Column::Id, Order::Desc)
        .limit(LATEST_MESSAGES);
    if !scope.is_staff() {
        visible.and_where(ticket_message::Column::Interne.eq(false));
    }
    let mut messages = union_branch(MESSAGE);
    select_null_columns::<ticket_history::Entity>(&mut messages, backend, "h_");
    select_model_columns::<ticket_message::Entity>(&mut messages, m.clone(), "m_");
    messages.expr_as(
        Expr::col((m.clone(), Alias::new("total"))),
        Alias::new("m_total"),
    );
    select_null_columns::<ticket_attachment::Entity>(&mut messages, backend, "a_");
    messages.from_subquery(visible, m);

    let mut files = union_branch(ATTACHMENT);
    select_null_columns::<ticket_history::Entity>(&mut files, backend, "h_");
    select_null_columns::<ticket_message::Entity>(&mut files, backend, "m_");
    files.expr_as(
        null_of(backend, &ColumnType::BigInteger),
        Alias::new("m_total"),
    );
    select_model_columns::<ticket_attachment::Entity>(&mut files, a.clone(), "a_");
    files
        .from_as(ticket_attachment::Entity, a.clone())
        .and_where(Expr::col((a, ticket_attachment::Column::TicketId)).eq(ticket_id));

    history
        .union(UnionType::All, messages)
        .union(UnionType::All, files);
    history
}
