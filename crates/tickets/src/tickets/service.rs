//! Ticket business logic, no HTTP: scoping, numbering, transitions, SLA upkeep, history, audit
//! and live events. The client portal calls [`create`] and [`list`] too.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Utc};
use entity::ticket::{self, TicketPriority, TicketStatus};
use entity::{Role, chantier, company, user};
use sea_orm::sea_query::{
    Alias, CaseStatement, Expr, ExprTrait, IntoTableRef, Order as SqlOrder, Query, SelectStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::audit::{self, AuditEntry};
use shared::db::{
    InlineColumns, InlineError, InlineReads, ModelRow, Rows, Templates, literal_limit,
    query_all_inline, query_rows_inline, try_inline,
};
use shared::pagination::{Order, PageParams, Sort, page_and_total};
use shared::{AppError, PageMeta, Paginated};
use uuid::Uuid;

use super::{
    ActionData, ChantierRef, ClientRef, CreateTicketRequest, FirstResponseSla, SlaDetails,
    TicketDetail, TicketKey, TicketSort, TicketSummary, UpdateTicketRequest,
};
use crate::TicketsState;
use crate::events::{self, event};
use crate::filters::{self, TicketFilters, c, ch, t, tcol};
use crate::history::{self, Author, Entry, STATUS_CHANGE};
use crate::scope::{Caller, Scope};
use crate::sla::{SlaLevel, human};
use crate::tickets::contents::{self, Contents};
use crate::tickets::creation::{Created, NewTicket};
use crate::{attachments, messages};

/// At most this many tags on a ticket.
pub const MAX_TAGS: usize = 20;

/// Lower-case, trimmed, de-duplicated tags of letters, digits, `-` and `_`.
///
/// # Errors
/// 422 naming `field` for an empty, too long or oddly written tag, or too many.
pub fn normalize_tags(tags: &[String], field: &str) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in tags.iter().enumerate() {
        let tag = raw.trim().to_lowercase();
        let valid = !tag.is_empty()
            && tag.chars().count() <= 32
            && tag
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(AppError::invalid(
                format!("{field}[{i}]"),
                "must be 1 to 32 letters, digits, '-' or '_'",
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_TAGS} tags per ticket"),
        ));
    }
    Ok(out)
}

fn tags_of(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A visible ticket by id or numero.
///
/// # Errors
/// 404 when it does not exist or `scope` may not see it.
pub async fn find(
    db: &impl ConnectionTrait,
    scope: Scope,
    key: &TicketKey,
) -> Result<ticket::Model, AppError> {
    let query = match key {
        TicketKey::Id(id) => ticket::Entity::find_by_id(*id),
        TicketKey::Numero(numero) => {
            ticket::Entity::find().filter(ticket::Column::Numero.eq(numero.as_str()))
        }
    };
    let query = match scope.company() {
        Some(company) => query.filter(ticket::Column::ClientId.eq(company)),
        None => query,
    };
    query
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such ticket"))
}

/// The same, locked for update inside a write transaction.
async fn find_for_update(
    txn: &impl ConnectionTrait,
    scope: Scope,
    key: &TicketKey,
) -> Result<ticket::Model, AppError> {
    let ticket = find(txn, scope, key).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // SQLite's write transaction already excludes every other writer.
        return ticket::Entity::find_by_id(ticket.id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("No such ticket"));
    }
    Ok(ticket)
}

/// The columns of a list row (and of an export row), selected by [`row_columns`] and read by
/// [`TicketRow::from_columns`].
#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: Uuid,
    pub numero: String,
    pub titre: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub categorie: entity::ticket::TicketCategorie,
    pub client_id: Uuid,
    pub client_nom: Option<String>,
    pub chantier_id: Option<Uuid>,
    pub chantier_nom: Option<String>,
    pub responsable: Option<String>,
    pub responsable_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub escalation_level: i32,
    pub date_creation: DateTime<Utc>,
    pub date_modification: DateTime<Utc>,
    pub date_limite: DateTime<Utc>,
    pub sla_status: SlaLevel,
    pub nb_messages: i64,
    pub nb_piece_jointes: i64,
}

impl TicketRow {
    /// Read a row of a query with [`row_columns`] by position, in its order (bench/RESULTS.md
    /// item 26), from its [`shared::db::Columns`]: a row of the pool's or one read inline.
    ///
    /// # Errors
    /// The row is not such a row.
    pub fn from_columns(mut column: shared::db::Columns<'_>) -> Result<Self, DbErr> {
        // Fields are read in the order written here: the order `row_columns` selects them.
        let read = Self {
            id: column.value()?,
            numero: column.value()?,
            titre: column.value()?,
            description: column.value()?,
            status: column.parse(TicketStatus::parse)?,
            priority: column.parse(TicketPriority::parse)?,
            categorie: column.parse(entity::ticket::TicketCategorie::parse)?,
            client_id: column.value()?,
            chantier_id: column.nullable()?,
            responsable: column.nullable()?,
            responsable_id: column.nullable()?,
            tags: tags_of(&column.value::<Value>()?),
            escalation_level: column.value()?,
            date_creation: column.value()?,
            date_modification: column.value()?,
            date_limite: column.value()?,
            client_nom: column.nullable()?,
            chantier_nom: column.nullable()?,
            sla_status: column.parse(SlaLevel::parse)?,
            nb_messages: column.value()?,
            nb_piece_jointes: column.value()?,
        };
        column.finish()?;
        Ok(read)
    }
}

impl From<TicketRow> for TicketSummary {
    fn from(row: TicketRow) -> Self {
        Self {
            id: row.id,
            numero: row.numero,
            titre: row.titre,
            description: row.description,
            status: row.status,
            priority: row.priority,
            categorie: row.categorie,
            client_id: row.client_id,
            client_nom: row.client_nom,
            chantier_id: row.chantier_id,
            chantier_nom: row.chantier_nom,
            responsable: row.responsable,
            responsable_id: row.responsable_id,
            date_creation: row.date_creation,
            date_modification: row.date_modification,
            date_limite: row.date_limite,
            sla_status: row.sla_status,
            tags: row.tags,
            escalation_level: row.escalation_level,
            nb_messages: row.nb_messages,
            nb_piece_jointes: row.nb_piece_jointes,
        }
    }
}

/// The ticket's kept count of messages or attachments `scope` may see: all of them for staff,
/// the public ones for a client (kept by the database: migration
/// `m20261206_000001_ticket_kept_item_counts`).
fn kept_count(all: &str, public: &str, scope: Scope) -> Expr {
    Expr::col((t(), Alias::new(if scope.is_staff() { all } else { public })))
}

/// Add the columns of [`TicketRow`] to a query built on [`filters::from_tickets`]
/// ([`TicketRow::from_columns`] reads them by position, in this order).
pub fn row_columns(select: &mut SelectStatement, scope: Scope, now: DateTime<Utc>) {
    for column in [
        ticket::Column::Id,
        ticket::Column::Numero,
        ticket::Column::Titre,
        ticket::Column::Description,
        ticket::Column::Status,
        ticket::Column::Priority,
        ticket::Column::Categorie,
        ticket::Column::ClientId,
        ticket::Column::ChantierId,
        ticket::Column::Responsable,
        ticket::Column::ResponsableId,
        ticket::Column::Tags,
        ticket::Column::EscalationLevel,
        ticket::Column::DateCreation,
        ticket::Column::DateModification,
        ticket::Column::DateLimite,
    ] {
        select.column((t(), column));
    }
    select
        .expr_as(
            Expr::col((c(), company::Column::Name)),
            Alias::new("client_nom"),
        )
        .expr_as(
            Expr::col((ch(), chantier::Column::Nom)),
            Alias::new("chantier_nom"),
        )
        .expr_as(filters::sla_level_expr(now), Alias::new("sla_status"))
        .expr_as(
            kept_count("messages_count", "public_messages_count", scope),
            Alias::new("nb_messages"),
        )
        .expr_as(
            kept_count("attachments_count", "public_attachments_count", scope),
            Alias::new("nb_piece_jointes"),
        );
}

fn priority_rank() -> Expr {
    let mut case = CaseStatement::new();
    for priority in TicketPriority::ALL {
        case = case.case(
            tcol(ticket::Column::Priority).eq(priority.as_str()),
            Expr::val(priority.rank()),
        );
    }
    Expr::Case(Box::new(case.finally(Expr::val(9))))
}

fn order_by(select: &mut SelectStatement, sort: Sort<TicketSort>) {
    let order = match sort.order {
        Order::Asc => SqlOrder::Asc,
        Order::Desc => SqlOrder::Desc,
    };
    match sort.field {
        TicketSort::DateCreation => {
            select.order_by((t(), ticket::Column::DateCreation), order.clone());
        }
        TicketSort::DateModification => {
            select.order_by((t(), ticket::Column::DateModification), order.clone());
        }
        TicketSort::DateLimite => {
            select.order_by((t(), ticket::Column::DateLimite), order.clone());
        }
        TicketSort::Priority => {
            // Ascending = most urgent first.
            select.order_by_expr(priority_rank(), order.clone());
        }
        TicketSort::Numero => {
            select
                .order_by((t(), ticket::Column::Annee), order.clone())
                .order_by((t(), ticket::Column::Sequence), order.clone());
        }
        TicketSort::Status => {
            select.order_by((t(), ticket::Column::Status), order.clone());
        }
        TicketSort::Titre => {
            select.order_by((t(), ticket::Column::Titre), order.clone());
        }
    }
    // A stable order across pages.
    select.order_by((t(), ticket::Column::Id), order);
}

/// `SELECT COUNT(*)` over a query built on [`filters::from_tickets`].
#[must_use]
pub fn count_statement(base: &SelectStatement) -> SelectStatement {
    let mut count = base.clone();
    count.expr(Expr::cust("COUNT(*)"));
    count
}

/// Count the rows of a query built on [`filters::from_tickets`].
///
/// # Errors
/// Database errors.
pub async fn count(db: &impl ConnectionTrait, base: &SelectStatement) -> Result<u64, DbErr> {
    let total = db
        .query_one(&count_statement(base))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(total).unwrap_or(0))
}

/// Run a query built on [`filters::from_tickets`] with [`row_columns`].
///
/// # Errors
/// Database errors.
pub async fn rows(db: &impl ConnectionTrait, select: Statement) -> Result<Vec<TicketRow>, DbErr> {
    query_rows_inline(
        db,
        None,
        filters::names_indexed(select),
        TicketRow::from_columns,
    )
    .await
}

/// The two statements of a list page: the filtered base [`count`] counts, and the page's rows
/// (read by [`TicketRow::from_columns`]; on PostgreSQL a first page where an index gives its
/// order reads its rows straight from that index, its size written into its text, see
/// [`index_ordered`]). Public so the benchmark can show the plans of the very queries served.
///
/// # Errors
/// 422 for contradictory filters.
pub fn list_statements(
    backend: DbBackend,
    scope: Scope,
    filters: &TicketFilters,
    page: PageParams,
    sort: Sort<TicketSort>,
    now: DateTime<Utc>,
) -> Result<(SelectStatement, Statement), AppError> {
    // Counted without the joins (no filter needs them), so an index can answer alone.
    let mut base = filters::tickets_only();
    filters::apply(&mut base, backend, scope, filters, now)?;
    let asked = PageAsked {
        scope,
        filters,
        page,
        sort,
        now,
    };
    let select = match template_shape(backend, asked) {
        Some(shape) => page_template(backend, shape, asked),
        None => page_statement(backend, &base, asked),
    };
    Ok((base, select))
}

/// What a list page asks for: whose tickets, filtered how, which page in which order, and
/// the time its SLA levels are read at.
#[derive(Clone, Copy)]
struct PageAsked<'a> {
    scope: Scope,
    filters: &'a TicketFilters,
    page: PageParams,
    sort: Sort<TicketSort>,
    now: DateTime<Utc>,
}

/// The statement of a page's rows over `base` (the filtered tickets of [`list_statements`]).
fn page_statement(backend: DbBackend, base: &SelectStatement, asked: PageAsked<'_>) -> Statement {
    let PageAsked {
        scope,
        filters,
        page,
        sort,
        now,
    } = asked;
    // The page's rows are chosen first, by key alone: the rows an OFFSET skips are then index
    // entries (usually from a covering index), not whole tickets with their joins and
    // counts, so page 50 costs about what page 1 does. SQLite's rowid finds the row in one
    // step; PostgreSQL goes by id, except on a first page in an index's order (below).
    let key = match backend {
        DbBackend::Sqlite => Expr::col((t(), Alias::new("rowid"))),
        _ => tcol(ticket::Column::Id),
    };
    let ordered = index_ordered(scope, filters, sort);
    // The page's keys, in its order (built only where a branch below uses them).
    let keys = || {
        let mut keys = base.clone();
        order_by(&mut keys, sort);
        keys.limit(page.limit);
        if page.offset() > 0 {
            keys.offset(page.offset());
        }
        keys
    };
    let select = match backend {
        // The page's keys, in their order, drive the join: SQLite keeps the left side of a
        // CROSS JOIN as the outer loop and reads an ordered subquery in its order, so the
        // rows come out in the page's order without sorting them again (a sort of the whole
        // rows, descriptions included, was a tenth of the list's CPU).
        DbBackend::Sqlite => {
            let mut keys = keys();
            keys.expr_as(key.clone(), page_key());
            let mut select = Query::select()
                .from_subquery(keys, page_alias())
                .cross_join(ticket::Entity.into_table_ref().alias(t()))
                .and_where(key.equals((page_alias(), page_key())))
                .to_owned();
            filters::join_names(&mut select);
            row_columns(&mut select, scope, now);
            select
        }
        // A first page an index hands out in its order, filtered by nothing but the status
        // and the priority: the rows straight from that index, the walk stopping at the
        // page's end. Looking each key up again by id (below) cost PostgreSQL a third more for
        // 100 rows (0.46 → 0.32 ms of execution: 961 → 572 buffers read, no hashing of the
        // keys nor sort of the rows; bench/RESULTS.md item 37). Not for one client's or one
        // chantier's tickets: PostgreSQL's one plan estimates an average tenant's hundred
        // rows, and for so few it reads all of them and sorts them joined (a bitmap scan, a
        // hash of every chantier: 1.3 ms for the bench's largest client, and a large
        // tenant's every row), where choosing the keys first walks the index in order.
        _ if ordered && page.offset() == 0 && !by_tenant(scope, filters) => {
            let mut select = base.clone();
            filters::join_names(&mut select);
            row_columns(&mut select, scope, now);
            order_by(&mut select, sort);
            select.limit(page.limit);
            select
        }
        _ => {
            let mut select = filters::tickets_only();
            filters::join_names(&mut select);
            row_columns(&mut select, scope, now);
            let mut keys = keys();
            keys.expr(key.clone());
            select.and_where(key.in_subquery(keys));
            order_by(&mut select, sort);
            select
        }
    };
    let select = filters::names_indexed(backend.build(&select));
    if ordered {
        literal_limit(select, page.limit)
    } else {
        select
    }
}

/// The template of SQLite's page statement [`list_statements`] reads for a page an index hands
/// out in its order ([`index_ordered`]: the pages read inline), one per shape: which of the
/// scope's company, the status, the priority, the client and the chantier it is filtered by,
/// the order, and whether it has an offset. `None` for any other page, and on PostgreSQL (its
/// page size is written into the text there: [`literal_limit`]).
fn template_shape(backend: DbBackend, asked: PageAsked<'_>) -> Option<usize> {
    let PageAsked {
        scope,
        filters,
        page,
        sort,
        ..
    } = asked;
    if backend != DbBackend::Sqlite || !index_ordered(scope, filters, sort) {
        return None;
    }
    let bits = [
        scope.company().is_some(),
        filters.status.is_some(),
        filters.priority.is_some(),
        filters.client_id.is_some(),
        filters.chantier_id.is_some(),
        sort.order == Order::Asc,
        page.offset() > 0,
    ];
    Some(
        bits.iter()
            .enumerate()
            .map(|(bit, set)| usize::from(*set) << bit)
            .sum(),
    )
}

/// The shapes of [`template_shape`].
const PAGE_SHAPES: usize = 1 << 7;

/// [`page_statement`] of a [`template_shape`], built once with stand-in values and bound with
/// the page's own (bench/RESULTS.md item 45: building it was about 5 % of the list's CPU).
fn page_template(backend: DbBackend, shape: usize, asked: PageAsked<'_>) -> Statement {
    let PageAsked {
        scope,
        filters,
        page,
        now,
        ..
    } = asked;
    static STATEMENTS: Templates<PAGE_SHAPES> = Templates::new();
    // Values the statement holds nowhere else: the status and the priority are each the only
    // text of their kind bound (`the_page_templates_bind_what_a_page_built_anew_binds` checks
    // every value of both against a statement built anew).
    const COMPANY: Uuid = Uuid::from_u128(u128::MAX - 11);
    const CLIENT: Uuid = Uuid::from_u128(u128::MAX - 12);
    const CHANTIER: Uuid = Uuid::from_u128(u128::MAX - 13);
    const STATUS: TicketStatus = TicketStatus::EnCours;
    const PRIORITY: TicketPriority = TicketPriority::Normale;
    const LIMIT: u64 = 1_000_003;
    const PAGE: u64 = 3;
    let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::nanoseconds(7_001);
    let stand_in_page = PageParams {
        page: if page.offset() > 0 { PAGE } else { 1 },
        limit: LIMIT,
    };
    let build = || {
        let scope = match scope {
            Scope::Company(_) => Scope::Company(COMPANY),
            Scope::Staff => Scope::Staff,
        };
        let filters = TicketFilters {
            status: filters.status.map(|_| STATUS),
            priority: filters.priority.map(|_| PRIORITY),
            client_id: filters.client_id.map(|_| CLIENT),
            chantier_id: filters.chantier_id.map(|_| CHANTIER),
            ..TicketFilters::default()
        };
        let mut base = filters::tickets_only();
        filters::apply_checked(&mut base, backend, scope, &filters, at);
        let stand_in = PageAsked {
            scope,
            filters: &filters,
            page: stand_in_page,
            sort: asked.sort,
            now: at,
        };
        page_statement(backend, &base, stand_in)
    };
    let mut binds: Vec<(sea_orm::Value, sea_orm::Value)> =
        vec![(at.into(), now.into()), (LIMIT.into(), page.limit.into())];
    if page.offset() > 0 {
        binds.push((stand_in_page.offset().into(), page.offset().into()));
    }
    if let Some(company) = scope.company() {
        binds.push((COMPANY.into(), company.into()));
    }
    if let Some(status) = filters.status {
        binds.push((STATUS.as_str().into(), status.as_str().into()));
    }
    if let Some(priority) = filters.priority {
        binds.push((PRIORITY.as_str().into(), priority.as_str().into()));
    }
    if let Some(client) = filters.client_id {
        binds.push((CLIENT.into(), client.into()));
    }
    if let Some(chantier) = filters.chantier_id {
        binds.push((CHANTIER.into(), chantier.into()));
    }
    STATEMENTS.bind(backend, shape, build, &binds)
}

/// Whether an index of the tickets hands out a page's keys in the page's order whatever the
/// values of its filters: the creation order, with equality on none or on the leading columns
/// of one of the `…-date_creation-id` indexes (the client, the chantier, the status, the
/// priority, the status and priority), and no other filter. Only then is the page size written
/// into the page's text on PostgreSQL ([`literal_limit`]), which then keeps one generic plan,
/// made for an average value: where no index gives the order, a plan made for an average
/// tenant can read and sort all of a large one's rows (the client invoice list's, measured
/// with its page size in its text: 3.7 ms instead of 0.7 for the bench company's 1,000
/// invoices, planned for the average company's 50).
fn index_ordered(scope: Scope, filters: &TicketFilters, sort: Sort<TicketSort>) -> bool {
    // Every field named: a new filter must be decided on here.
    let TicketFilters {
        status,
        priority,
        categorie,
        client_id,
        chantier_id,
        responsable,
        search,
        date_from,
        date_to,
        sla_status,
    } = filters;
    // A company asking for a `client_id` (its own or another's: the page is then empty) has
    // two conditions on the client column, one of which the index walk checks row by row.
    if client_id.is_some() && scope.company().is_some() {
        return false;
    }
    let client = client_id.is_some() || scope.company().is_some();
    let leading = match (client, chantier_id.is_some()) {
        (false, false) => true,
        (true, false) | (false, true) => status.is_none() && priority.is_none(),
        (true, true) => false,
    };
    sort.field == TicketSort::DateCreation
        && leading
        && categorie.is_none()
        && responsable.is_none()
        && search.is_none()
        && date_from.is_none()
        && date_to.is_none()
        && sla_status.is_none()
}

/// Whether `filters` or `scope` keep to one client's or one chantier's tickets.
fn by_tenant(scope: Scope, filters: &TicketFilters) -> bool {
    scope.company().is_some() || filters.client_id.is_some() || filters.chantier_id.is_some()
}

/// The subquery of a page's keys, and its key column.
fn page_alias() -> Alias {
    Alias::new("p")
}
fn page_key() -> Alias {
    Alias::new("k")
}

/// How many index entries a page read on the request's own thread may walk at most (its
/// offset and its rows): beyond, the page goes to the pool, off the HTTP worker.
const INLINE_PAGE_KEYS: u64 = 10_000;

/// A page of the tickets `scope` may see. On an SQLite file (`state.inline_reads`) a page an
/// index hands out in its order, not far from the start, is read on the request's own thread,
/// and so is a total from the kept counts (bench/RESULTS.md item 33): both walk a bounded
/// number of index entries. `db` is the pool, never a transaction.
///
/// # Errors
/// 422 for contradictory filters; database errors.
pub async fn list(
    db: &DatabaseConnection,
    state: &TicketsState,
    scope: Scope,
    filters: &TicketFilters,
    page: PageParams,
    sort: Sort<TicketSort>,
) -> Result<Paginated<TicketSummary>, AppError> {
    let (base, select) = list_statements(
        db.get_database_backend(),
        scope,
        filters,
        page,
        sort,
        state.clock.now(),
    )?;
    let kept = crate::counts::cover(scope, filters);
    let inline = state.inline_reads.as_deref();
    let bounded = index_ordered(scope, filters, sort)
        && page.offset().saturating_add(page.limit) <= INLINE_PAGE_KEYS;
    let (items, total) = page_and_total(
        page,
        || {
            query_rows_inline(
                db,
                inline.filter(|_| bounded),
                select,
                TicketRow::from_columns,
            )
        },
        || async {
            if kept {
                crate::counts::total(db, inline, filters).await
            } else {
                count(db, &base).await
            }
        },
    )
    .await?;
    Ok(Paginated::new(
        items.into_iter().map(TicketSummary::from).collect(),
        PageMeta::new(page.page, page.limit, total),
    ))
}

fn client_ref(company: company::Model) -> ClientRef {
    ClientRef {
        id: company.id,
        nom: company.name,
        kind: company.client_kind,
        email: company.email,
        telephone: company.phone,
    }
}

/// A visible ticket by id or numero, with its client company and chantier: one statement.
///
/// # Errors
/// 404 when it does not exist or `scope` may not see it; database errors.
pub async fn find_with_parties(
    db: &impl ConnectionTrait,
    inline: Option<&InlineReads>,
    scope: Scope,
    key: &TicketKey,
) -> Result<Parties, AppError> {
    let statement = parties_statement(db.get_database_backend(), scope, key);
    let found = match query_all_inline(db, inline, statement, &PARTY_COLUMNS).await? {
        Rows::Inline(rows) => rows.first().map(Parties::from_row).transpose()?,
        Rows::Pool(rows) => rows.first().map(Parties::from_row).transpose()?,
    };
    found.ok_or_else(|| AppError::not_found("No such ticket"))
}

/// The columns of [`parties_statement`]'s row.
static PARTY_COLUMNS: LazyLock<InlineColumns> = LazyLock::new(|| {
    InlineColumns::default()
        .model::<ticket::Entity>("t_")
        .model::<company::Entity>("c_")
        .model::<chantier::Entity>("ch_")
});

/// The statement reading a ticket by key, visible to `scope`, with its client and chantier
/// ([`Parties::from_row`]).
fn parties_statement(backend: DbBackend, scope: Scope, key: &TicketKey) -> Statement {
    // Its SQL is built once per backend, key and scope (bench/RESULTS.md item 22).
    static STATEMENTS: Templates<4> = Templates::new();
    const TICKET: Uuid = Uuid::max();
    const COMPANY: Uuid = Uuid::from_u128(u128::MAX - 1);
    const NUMERO: &str = "\u{1}numero";
    let by_numero = matches!(key, TicketKey::Numero(_));
    let shape = 2 * usize::from(by_numero) + usize::from(scope.is_staff());
    let build = || {
        let mut select = filters::tickets_only();
        shared::db::select_model_columns::<ticket::Entity>(&mut select, t(), "t_");
        shared::db::select_model_columns::<company::Entity>(&mut select, c(), "c_");
        shared::db::select_model_columns::<chantier::Entity>(&mut select, ch(), "ch_");
        filters::join_names(&mut select);
        if by_numero {
            select.and_where(tcol(ticket::Column::Numero).eq(NUMERO));
        } else {
            select.and_where(tcol(ticket::Column::Id).eq(TICKET));
        }
        if !scope.is_staff() {
            select.and_where(tcol(ticket::Column::ClientId).eq(COMPANY));
        }
        backend.build(&select)
    };
    let mut binds: Vec<(sea_orm::Value, sea_orm::Value)> = Vec::with_capacity(2);
    match key {
        TicketKey::Id(id) => binds.push((TICKET.into(), (*id).into())),
        TicketKey::Numero(numero) => binds.push((NUMERO.into(), numero.as_str().into())),
    }
    if let Some(company) = scope.company() {
        binds.push((COMPANY.into(), company.into()));
    }
    STATEMENTS.bind(backend, shape, build, &binds)
}

/// A visible ticket's detail, by id or numero. On an SQLite file its two statements run on the
/// request's own thread (`state.inline_reads`: bench/RESULTS.md item 32), in one read
/// transaction (item 42); `db` is the pool, never a transaction, whose own writes an inline
/// read would not see.
///
/// # Errors
/// 404 when it does not exist or `scope` may not see it; database errors.
pub async fn get(
    db: &DatabaseConnection,
    state: &TicketsState,
    scope: Scope,
    key: &TicketKey,
) -> Result<TicketDetail, AppError> {
    let backend = db.get_database_backend();
    let read = try_inline(backend, state.inline_reads.as_deref(), |inline| {
        inline.in_one_read(|read| {
            let rows =
                read.query_all_as(&parties_statement(backend, scope, key), &PARTY_COLUMNS)?;
            let Some(parties) = rows
                .first()
                .map(Parties::from_row)
                .transpose()
                .map_err(InlineError::Row)?
            else {
                return Ok(None);
            };
            let contents = contents::read_in(read, backend, scope, parties.ticket.id)?;
            Ok(Some((parties, contents)))
        })
    });
    let (parties, contents) = match read {
        Some(found) => found.ok_or_else(|| AppError::not_found("No such ticket"))?,
        None => {
            let parties = find_with_parties(db, None, scope, key).await?;
            let contents = contents::read(db, None, scope, parties.ticket.id).await?;
            (parties, contents)
        }
    };
    Ok(assemble(state, scope, parties, contents))
}

/// A ticket with the client company and chantier its detail names.
#[derive(Debug, Clone)]
pub struct Parties {
    pub ticket: ticket::Model,
    pub client: company::Model,
    pub chantier: Option<chantier::Model>,
}

impl Parties {
    /// The ticket (`t_`), its client (`c_`) and chantier (`ch_`) of one row.
    fn from_row(row: &impl ModelRow) -> Result<Self, DbErr> {
        let ticket = row.model::<ticket::Entity>("t_")?;
        // The foreign keys keep both: a missing one would be a broken database, not a 404.
        let client = row.model::<company::Entity>("c_")?;
        let chantier = match ticket.chantier_id {
            Some(_) => Some(row.model::<chantier::Entity>("ch_")?),
            None => None,
        };
        Ok(Self {
            ticket,
            client,
            chantier,
        })
    }

    /// Read the client and chantier of `ticket` (two statements at most).
    ///
    /// # Errors
    /// Database errors.
    pub async fn of(db: &impl ConnectionTrait, ticket: ticket::Model) -> Result<Self, AppError> {
        let client = company::Entity::find_by_id(ticket.client_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(DbErr::RecordNotFound("ticket client".into())))?;
        let chantier = match ticket.chantier_id {
            Some(id) => chantier::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
        Ok(Self {
            ticket,
            client,
            chantier,
        })
    }
}

/// Everything about a ticket, as `scope` may see it.
///
/// # Errors
/// Database errors.
pub async fn detail(
    db: &impl ConnectionTrait,
    state: &TicketsState,
    scope: Scope,
    ticket: ticket::Model,
) -> Result<TicketDetail, AppError> {
    let parties = Parties::of(db, ticket).await?;
    detail_of(db, state, scope, parties).await
}

/// [`detail`] of a ticket whose client and chantier are already read.
///
/// # Errors
/// Database errors.
pub async fn detail_of(
    db: &impl ConnectionTrait,
    state: &TicketsState,
    scope: Scope,
    parties: Parties,
) -> Result<TicketDetail, AppError> {
    let contents = contents::read(db, None, scope, parties.ticket.id).await?;
    Ok(assemble(state, scope, parties, contents))
}

fn assemble(
    state: &TicketsState,
    scope: Scope,
    parties: Parties,
    contents: Contents,
) -> TicketDetail {
    let Parties {
        ticket,
        client,
        chantier,
    } = parties;
    let now = state.clock.now();
    let (timeline, historique) = history::split(scope, &ticket, contents.history);
    let reading = state.sla.read(&timeline, ticket.priority, now);
    let resolution = reading.resolution;
    let remaining = resolution.remaining();
    let sla_details = SlaDetails {
        temps_ecoule: human(resolution.used),
        temps_restant: if remaining.num_seconds() < 0 {
            format!("dépassé de {}", human(remaining))
        } else {
            human(remaining)
        },
        pourcentage: resolution.percent(),
        temps_ecoule_secondes: resolution.used.num_seconds(),
        temps_restant_secondes: remaining.num_seconds(),
        en_pause: reading.paused,
        premiere_reponse: FirstResponseSla {
            statut: reading.first_response.level,
            echeance: ticket.sla_response_due,
            repondu_le: ticket.first_response_at,
            temps_ecoule: human(reading.first_response.used),
            pourcentage: reading.first_response.percent(),
        },
    };
    let messages = messages::attach(state, contents.latest_messages, &contents.files);
    let piece_jointes = attachments::visible(state, scope, &contents.files);
    TicketDetail {
        id: ticket.id,
        numero: ticket.numero,
        titre: ticket.titre,
        description: ticket.description,
        status: ticket.status,
        priority: ticket.priority,
        categorie: ticket.categorie,
        client: client_ref(client),
        chantier: chantier.map(|c| ChantierRef {
            id: c.id,
            nom: c.nom,
            kind: c.chantier_type,
            adresse: c.adresse,
            ville: c.ville,
        }),
        responsable: ticket.responsable,
        responsable_id: ticket.responsable_id,
        date_creation: ticket.date_creation,
        date_modification: ticket.date_modification,
        date_limite: ticket.date_limite,
        date_resolution: ticket.resolved_at,
        date_cloture: ticket.closed_at,
        motif_cloture: ticket.motif_cloture,
        note_satisfaction: ticket.note_satisfaction,
        sla_status: reading.level(),
        sla_details,
        tags: tags_of(&ticket.tags),
        escalation_level: ticket.escalation_level,
        nb_messages: i64::try_from(contents.nb_messages).unwrap_or(i64::MAX),
        nb_piece_jointes: i64::try_from(piece_jointes.len()).unwrap_or(i64::MAX),
        messages,
        piece_jointes,
        historique,
    }
}

/// A client company `scope` may use for a ticket.
async fn usable_client(
    db: &impl ConnectionTrait,
    scope: Scope,
    requested: Option<Uuid>,
) -> Result<company::Model, AppError> {
    let id = match (scope, requested) {
        (Scope::Company(own), None) => own,
        (Scope::Company(own), Some(id)) if id == own => own,
        (Scope::Company(_), Some(_)) => {
            return Err(AppError::invalid("client_id", "no such client"));
        }
        (Scope::Staff, Some(id)) => id,
        (Scope::Staff, None) => return Err(AppError::invalid("client_id", "is required")),
    };
    company::Entity::find_by_id(id)
        .filter(company::Column::CompanyType.eq(company::CompanyType::Client))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("client_id", "no such client"))
}

/// A chantier of `client_id`.
async fn chantier_of(
    db: &impl ConnectionTrait,
    client_id: Uuid,
    id: Uuid,
) -> Result<chantier::Model, AppError> {
    chantier::Entity::find_by_id(id)
        .filter(chantier::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("chantier_id", "is not a chantier of this client"))
}

/// An account that may be put in charge of tickets: an active superadmin or prestataire.
async fn assignee(
    db: &impl ConnectionTrait,
    id: Uuid,
    field: &str,
) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::Role.is_in([Role::Superadmin, Role::Prestataire]))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(field, "is not an active superadmin or prestataire account")
        })
}

/// Trimmed and not blank.
fn text(value: &str, field: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, "must not be blank"));
    }
    Ok(trimmed.to_owned())
}

/// Open a ticket for `caller` (staff for any client, a client user for its company).
///
/// # Errors
/// 422 for bad input (client, chantier, tags), database errors.
pub async fn create(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    request: CreateTicketRequest,
) -> Result<TicketDetail, AppError> {
    let titre = text(&request.titre, "titre")?;
    let description = text(&request.description, "description")?;
    let tags = normalize_tags(request.tags.as_deref().unwrap_or_default(), "tags")?;
    let priority = request.priority.unwrap_or(TicketPriority::Normale);
    let now = state.clock.now();

    // Read before the write transaction, so it holds SQLite's single write lock for the writes
    // alone. A client or chantier deleted meanwhile fails the insert on its foreign key, and a
    // chantier never changes client.
    let client = usable_client(db, caller.scope, request.client_id).await?;
    let chantier = match request.chantier_id {
        Some(chantier_id) => Some(chantier_of(db, client.id, chantier_id).await?),
        None => None,
    };
    let author = caller.author();
    let id = Uuid::now_v7();
    let timeline = crate::sla::Timeline {
        created_at: now,
        transitions: Vec::new(),
        first_response_at: None,
    };
    let sla = state.sla.materialize(&timeline, priority);
    let model = ticket::Model {
        id,
        // Numbered by the batch that writes it.
        numero: String::new(),
        annee: now.year(),
        sequence: 0,
        titre,
        description,
        status: TicketStatus::Nouveau,
        priority,
        categorie: request.categorie,
        client_id: client.id,
        chantier_id: request.chantier_id,
        responsable: None,
        responsable_id: None,
        tags: json!(tags),
        escalation_level: 0,
        created_by: Some(caller.user_id),
        date_creation: now,
        date_modification: now,
        date_limite: sla.date_limite,
        sla_warning_at: sla.sla_warning_at,
        sla_response_due: sla.sla_response_due,
        sla_response_warning_at: sla.sla_response_warning_at,
        first_response_at: None,
        sla_response_level: None,
        sla_paused_since: None,
        sla_notified_level: 0,
        resolved_at: None,
        closed_at: None,
        motif_cloture: None,
        note_satisfaction: None,
    };
    let Created {
        ticket: model,
        history: created,
    } = state
        .creations
        .create(
            db,
            NewTicket {
                ticket: model,
                author,
                actor: caller.actor.clone(),
                audit: |ticket| {
                    AuditEntry::new("create_ticket", "ticket")
                        .entity_id(ticket.id)
                        .after(&audit_view(ticket))
                },
            },
        )
        .await?;
    let numero = model.numero.clone();

    events::publish(
        &state.bus,
        vec![event(
            "ticket_created",
            client.id,
            false,
            json!({
                "id": id,
                "numero": numero,
                "titre": model.titre,
                "status": model.status,
                "priority": model.priority,
                "categorie": model.categorie,
                "client_id": client.id,
            }),
        )],
    )
    .await;
    // A new ticket is what this transaction wrote: one history row, no messages, no files.
    Ok(assemble(
        state,
        caller.scope,
        Parties {
            ticket: model,
            client,
            chantier,
        },
        Contents {
            history: vec![created],
            latest_messages: Vec::new(),
            nb_messages: 0,
            files: Vec::new(),
        },
    ))
}

/// What audit rows keep of a ticket.
#[derive(Debug, Serialize)]
struct AuditView<'a> {
    numero: &'a str,
    titre: &'a str,
    status: TicketStatus,
    priority: TicketPriority,
    categorie: entity::ticket::TicketCategorie,
    client_id: Uuid,
    chantier_id: Option<Uuid>,
    responsable: Option<&'a str>,
    responsable_id: Option<Uuid>,
    tags: &'a Value,
    escalation_level: i32,
}

fn audit_view(ticket: &ticket::Model) -> AuditView<'_> {
    AuditView {
        numero: &ticket.numero,
        titre: &ticket.titre,
        status: ticket.status,
        priority: ticket.priority,
        categorie: ticket.categorie,
        client_id: ticket.client_id,
        chantier_id: ticket.chantier_id,
        responsable: ticket.responsable.as_deref(),
        responsable_id: ticket.responsable_id,
        tags: &ticket.tags,
        escalation_level: ticket.escalation_level,
    }
}

/// Is `from -> to` a transition the workflow allows?
#[must_use]
pub fn transition_allowed(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::{EnAttente, EnCours, Ferme, Nouveau, Resolu};
    match (from, to) {
        (_, Nouveau) => false,
        (Nouveau | EnCours | EnAttente, EnCours | EnAttente | Resolu | Ferme) => from != to,
        (Resolu, EnCours | Ferme) | (Ferme, EnCours) => true,
        _ => false,
    }
}

/// A change of one ticket being prepared: the new state, its history rows and the changed
/// fields (for the live event).
pub struct Edit {
    pub before: ticket::Model,
    pub ticket: ticket::Model,
    pub author: Author,
    pub now: DateTime<Utc>,
    entries: Vec<Entry>,
    changes: Map<String, Value>,
    sla_dirty: bool,
}

impl Edit {
    #[must_use]
    pub fn new(ticket: ticket::Model, author: Author, now: DateTime<Utc>) -> Self {
        Self {
            before: ticket.clone(),
            ticket,
            author,
            now,
            entries: Vec::new(),
            changes: Map::new(),
            sla_dirty: false,
        }
    }

    fn changed(&mut self, field: &str, value: Value) {
        self.changes.insert(field.to_owned(), value);
    }

    /// Move to `to` (no-op when already there).
    ///
    /// # Errors
    /// 409 for a transition the workflow refuses.
    pub fn set_status(&mut self, to: TicketStatus, note: Option<&str>) -> Result<(), AppError> {
        let from = self.ticket.status;
        if from == to {
            return Ok(());
        }
        if !transition_allowed(from, to) {
            return Err(AppError::conflict_with(
                format!("A ticket cannot go from '{from}' to '{to}'"),
                json!({ "from": from, "to": to }),
            ));
        }
        self.ticket.status = to;
        match to {
            TicketStatus::Resolu => self.ticket.resolved_at = Some(self.now),
            TicketStatus::Ferme => {
                self.ticket.closed_at = Some(self.now);
                self.ticket.resolved_at.get_or_insert(self.now);
            }
            _ => {
                self.ticket.resolved_at = None;
                self.ticket.closed_at = None;
            }
        }
        let mut description = format!("Statut changé de '{from}' à '{to}'");
        if let Some(note) = note {
            description.push_str(&format!(" : {note}"));
        }
        self.entries
            .push(Entry::new(STATUS_CHANGE, description).change("status", Some(from), Some(to)));
        self.changed("status", json!(to));
        self.sla_dirty = true;
        Ok(())
    }

    pub fn set_priority(&mut self, to: TicketPriority) {
        let from = self.ticket.priority;
        if from == to {
            return;
        }
        self.ticket.priority = to;
        self.entries.push(
            Entry::new(
                "priority_change",
                format!("Priorité changée de '{from}' à '{to}'"),
            )
            .change("priority", Some(from), Some(to)),
        );
        self.changed("priority", json!(to));
        self.sla_dirty = true;
    }

    pub fn set_categorie(&mut self, to: entity::ticket::TicketCategorie) {
        let from = self.ticket.categorie;
        if from == to {
            return;
        }
        self.ticket.categorie = to;
        self.entries.push(
            Entry::new(
                "categorie_change",
                format!("Catégorie changée de '{from}' à '{to}'"),
            )
            .change("categorie", Some(from), Some(to)),
        );
        self.changed("categorie", json!(to));
    }

    pub fn set_responsable(&mut self, name: Option<String>, id: Option<Uuid>) {
        if self.ticket.responsable == name && self.ticket.responsable_id == id {
            return;
        }
        let before = self.ticket.responsable.clone();
        let description = match &name {
            Some(name) => format!("Ticket affecté à {name}"),
            None => "Ticket désaffecté".to_owned(),
        };
        self.entries
            .push(Entry::new("assigned", description).change("responsable", before, name.clone()));
        self.ticket.responsable = name.clone();
        self.ticket.responsable_id = id;
        self.changed("responsable", json!(name));
        self.changed("responsable_id", json!(id));
    }

    /// `titre` or `description`.
    pub fn set_text(&mut self, field: &'static str, value: String) {
        let is_title = field == "titre";
        let slot = if is_title {
            &mut self.ticket.titre
        } else {
            &mut self.ticket.description
        };
        if *slot == value {
            return;
        }
        let old = std::mem::replace(slot, value.clone());
        let entry = if is_title {
            Entry::new("updated", "Titre modifié").change("titre", Some(old), Some(value.clone()))
        } else {
            Entry::new("updated", "Description modifiée").change(
                "description",
                None::<String>,
                None::<String>,
            )
        };
        self.entries.push(entry);
        self.changed(field, json!(value));
    }

    pub fn set_tags(&mut self, tags: Vec<String>) {
        let current = tags_of(&self.ticket.tags);
        if current == tags {
            return;
        }
        self.entries.push(
            Entry::new(
                "tags_change",
                format!(
                    "Tags : {}",
                    if tags.is_empty() {
                        "aucun".to_owned()
                    } else {
                        tags.join(", ")
                    }
                ),
            )
            .change("tags", Some(current.join(",")), Some(tags.join(","))),
        );
        self.ticket.tags = json!(tags);
        self.changed("tags", json!(tags));
    }

    pub fn set_chantier(&mut self, chantier: Option<(Uuid, String)>) {
        let id = chantier.as_ref().map(|(id, _)| *id);
        if self.ticket.chantier_id == id {
            return;
        }
        let description = match &chantier {
            Some((_, nom)) => format!("Chantier : {nom}"),
            None => "Chantier retiré".to_owned(),
        };
        self.entries
            .push(Entry::new("chantier_change", description).change(
                "chantier_id",
                self.ticket.chantier_id,
                id,
            ));
        self.ticket.chantier_id = id;
        self.changed("chantier_id", json!(id));
    }

    /// # Errors
    /// 409 unless `niveau` is above the current level.
    pub fn escalate(&mut self, niveau: i32, reason: &str) -> Result<(), AppError> {
        let from = self.ticket.escalation_level;
        if niveau <= from {
            return Err(AppError::conflict_with(
                format!("The ticket is already at escalation level {from}"),
                json!({ "escalation_level": from }),
            ));
        }
        self.ticket.escalation_level = niveau;
        self.entries.push(
            Entry::new("escalated", format!("Escaladé au niveau {niveau}{reason}")).change(
                "escalation_level",
                Some(from),
                Some(niveau),
            ),
        );
        self.changed("escalation_level", json!(niveau));
        Ok(())
    }

    /// Note the first answer from staff (stops the first-response clock).
    pub fn first_response(&mut self) {
        if self.ticket.first_response_at.is_none() {
            self.ticket.first_response_at = Some(self.now);
            self.sla_dirty = true;
        }
    }

    /// Add a history row that is not a field change.
    pub fn note(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Did anything change?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && !self.sla_dirty
    }

    /// Write the history rows and the ticket (with its SLA deadlines recomputed from the
    /// history when the clock may have moved). Returns the saved ticket and its live event.
    ///
    /// # Errors
    /// Database errors.
    pub async fn save(
        mut self,
        txn: &impl ConnectionTrait,
        state: &TicketsState,
    ) -> Result<(ticket::Model, Option<shared::events::Event>), DbErr> {
        for entry in std::mem::take(&mut self.entries) {
            history::record(txn, self.ticket.id, &self.author, self.now, entry).await?;
        }
        if self.sla_dirty {
            refresh_sla(txn, state, &mut self.ticket, self.now).await?;
        }
        self.ticket.date_modification = self.now;
        let saved = self
            .ticket
            .clone()
            .into_active_model()
            .reset_all()
            .update(txn)
            .await?;
        let event = events::updated(
            saved.client_id,
            saved.id,
            &saved.numero,
            std::mem::take(&mut self.changes),
        );
        Ok((saved, event))
    }
}

/// Recompute the stored SLA deadlines of `ticket` from its history (status rows already
/// written), and forget announcements the ticket no longer deserves (so a later breach is
/// announced again).
///
/// # Errors
/// Database errors.
pub async fn refresh_sla(
    txn: &impl ConnectionTrait,
    state: &TicketsState,
    ticket: &mut ticket::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let timeline = history::timeline(txn, ticket).await?;
    let sla = state.sla.materialize(&timeline, ticket.priority);
    ticket.date_limite = sla.date_limite;
    ticket.sla_warning_at = sla.sla_warning_at;
    ticket.sla_response_due = sla.sla_response_due;
    ticket.sla_response_warning_at = sla.sla_response_warning_at;
    ticket.sla_paused_since = sla.sla_paused_since;
    ticket.sla_response_level = sla.sla_response_level.map(SlaLevel::number);
    let level = state
        .sla
        .read(&timeline, ticket.priority, now)
        .level()
        .number();
    if level < ticket.sla_notified_level {
        ticket.sla_notified_level = level;
    }
    Ok(())
}

/// Fields a client may not change.
fn staff_fields(request: &UpdateTicketRequest) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if request.status.is_some() {
        fields.push("status");
    }
    if request.priority.is_some() {
        fields.push("priority");
    }
    if request.categorie.is_some() {
        fields.push("categorie");
    }
    if request.responsable.is_some() {
        fields.push("responsable");
    }
    if request.responsable_id.is_some() {
        fields.push("responsable_id");
    }
    if request.tags.is_some() {
        fields.push("tags");
    }
    if request.chantier_id.is_some() {
        fields.push("chantier_id");
    }
    fields
}

/// Commit an edit with its audit row, then publish its live event.
async fn commit_edit(
    state: &TicketsState,
    caller: &Caller,
    txn: shared::db::WriteTxn,
    edit: Edit,
    action: &str,
) -> Result<ticket::Model, AppError> {
    let before = edit.before.clone();
    let (saved, event) = edit.save(&txn, state).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new(action, "ticket")
            .entity_id(saved.id)
            .before(&audit_view(&before))
            .after(&audit_view(&saved)),
    )
    .await?;
    txn.commit().await?;
    events::publish(&state.bus, event.into_iter().collect()).await;
    Ok(saved)
}

/// Change fields of a ticket.
///
/// # Errors
/// 404 (not visible), 403 (a client changing staff fields), 409 (transition or closed ticket),
/// 422 (bad values).
pub async fn update(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    key: &TicketKey,
    request: UpdateTicketRequest,
) -> Result<TicketDetail, AppError> {
    if !caller.scope.is_staff() {
        let forbidden = staff_fields(&request);
        if !forbidden.is_empty() {
            return Err(AppError::forbidden(format!(
                "Only staff may change {}",
                forbidden.join(", ")
            )));
        }
    }
    let titre = request
        .titre
        .as_deref()
        .map(|v| text(v, "titre"))
        .transpose()?;
    let description = request
        .description
        .as_deref()
        .map(|v| text(v, "description"))
        .transpose()?;
    let tags = request
        .tags
        .as_deref()
        .map(|tags| normalize_tags(tags, "tags"))
        .transpose()?;
    let responsable = match &request.responsable {
        Some(Some(name)) => Some(Some(text(name, "responsable")?)),
        Some(None) => Some(None),
        None => None,
    };

    let txn = shared::db::begin_write(db).await?;
    let ticket = find_for_update(&txn, caller.scope, key).await?;
    if !caller.scope.is_staff() && ticket.status == TicketStatus::Ferme {
        return Err(AppError::conflict(
            "A closed ticket cannot be edited; reopen it first",
        ));
    }
    let author = caller.author();
    let mut edit = Edit::new(ticket, author, state.clock.now());
    if let Some(titre) = titre {
        edit.set_text("titre", titre);
    }
    if let Some(description) = description {
        edit.set_text("description", description);
    }
    if let Some(priority) = request.priority {
        edit.set_priority(priority);
    }
    if let Some(categorie) = request.categorie {
        edit.set_categorie(categorie);
    }
    if let Some(tags) = tags {
        edit.set_tags(tags);
    }
    match request.chantier_id {
        Some(Some(id)) => {
            let chantier = chantier_of(&txn, edit.ticket.client_id, id).await?;
            edit.set_chantier(Some((chantier.id, chantier.nom)));
        }
        Some(None) => edit.set_chantier(None),
        None => {}
    }
    if responsable.is_some() || request.responsable_id.is_some() {
        let account = match request.responsable_id {
            Some(Some(id)) => Some(assignee(&txn, id, "responsable_id").await?),
            _ => None,
        };
        let name = match (responsable, &account) {
            (Some(name), _) => name,
            (None, Some(account)) => Some(account.full_name.clone()),
            // Only the account link was cleared: the name stays.
            (None, None) => edit.ticket.responsable.clone(),
        };
        let id = match (&account, request.responsable_id) {
            (Some(account), _) => Some(account.id),
            (None, Some(None)) => None,
            // A new name without an account is someone else: the old link goes.
            (None, _) if name == edit.ticket.responsable => edit.ticket.responsable_id,
            (None, _) => None,
        };
        if name.is_none() && id.is_some() {
            return Err(AppError::invalid(
                "responsable",
                "cannot be null while responsable_id is set",
            ));
        }
        edit.set_responsable(name, id);
    }
    if let Some(status) = request.status {
        edit.set_status(status, None)?;
    }
    let saved = if edit.is_empty() {
        // Nothing changed: answer the ticket as it is, writing nothing.
        txn.rollback().await?;
        edit.before
    } else {
        commit_edit(state, caller, txn, edit, "update_ticket").await?
    };
    detail(db, state, caller.scope, saved).await
}

/// Run an action on a ticket and show the result.
///
/// # Errors
/// As [`apply_action`].
pub async fn act(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    key: &TicketKey,
    data: ActionData,
) -> Result<TicketDetail, AppError> {
    let saved = apply_action(db, state, caller, key, data).await?;
    detail(db, state, caller.scope, saved).await
}

/// Run an action on a ticket, in its own transaction.
///
/// # Errors
/// 404 (not visible), 403 (staff-only action), 409 (not allowed now), 422 (bad data).
pub async fn apply_action(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    key: &TicketKey,
    data: ActionData,
) -> Result<ticket::Model, AppError> {
    let (name, staff_only) = match &data {
        ActionData::Affecter(_) => ("affecter", true),
        ActionData::Escalader(_) => ("escalader", true),
        ActionData::ChangerPriorite(_) => ("changer_priorite", true),
        ActionData::AjouterTags(_) => ("ajouter_tags", true),
        ActionData::Cloturer(_) => ("cloturer", false),
        ActionData::Reopen(_) => ("reopen", false),
    };
    let txn = shared::db::begin_write(db).await?;
    // Visibility first: a ticket the caller cannot see is 404, whatever the action.
    let ticket = find_for_update(&txn, caller.scope, key).await?;
    if staff_only {
        caller.scope.require_staff(&format!("run '{name}'"))?;
    }
    let author = caller.author();
    let mut edit = Edit::new(ticket, author, state.clock.now());
    match data {
        ActionData::Affecter(data) => {
            let name = text(&data.responsable, "data.responsable")?;
            let account = match data.responsable_id {
                Some(id) => Some(assignee(&txn, id, "data.responsable_id").await?),
                None => None,
            };
            edit.set_responsable(Some(name), account.map(|a| a.id));
        }
        ActionData::Escalader(data) => edit.escalate(data.niveau, "")?,
        ActionData::ChangerPriorite(data) => edit.set_priority(data.priority),
        ActionData::AjouterTags(data) => {
            let mut tags = tags_of(&edit.ticket.tags);
            tags.extend(normalize_tags(&data.tags, "data.tags")?);
            let tags = normalize_tags(&tags, "data.tags")?;
            edit.set_tags(tags);
        }
        ActionData::Cloturer(data) => {
            let motif = text(&data.motif, "data.motif")?;
            if data.note_satisfaction.is_some() && caller.scope.is_staff() {
                return Err(AppError::invalid(
                    "data.note_satisfaction",
                    "only the client rates its ticket",
                ));
            }
            if edit.ticket.status == TicketStatus::Ferme {
                return Err(AppError::conflict("The ticket is already closed"));
            }
            edit.set_status(TicketStatus::Ferme, Some(&motif))?;
            edit.ticket.motif_cloture = Some(motif);
            if let Some(note) = data.note_satisfaction {
                edit.ticket.note_satisfaction = Some(note);
                edit.note(Entry::new(
                    "satisfaction",
                    format!("Note de satisfaction : {note}/5"),
                ));
            }
        }
        ActionData::Reopen(data) => {
            let motif = text(&data.motif, "data.motif")?;
            if !edit.ticket.status.is_done() {
                return Err(AppError::conflict(
                    "Only a resolved or closed ticket can be reopened",
                ));
            }
            edit.set_status(TicketStatus::EnCours, Some(&format!("réouvert ({motif})")))?;
            edit.ticket.motif_cloture = None;
        }
    }
    if edit.is_empty() {
        txn.rollback().await?;
        return Ok(edit.before);
    }
    commit_edit(state, caller, txn, edit, &format!("ticket_{name}")).await
}

/// Open tickets of a client company (not resolved or closed), for aggregates.
#[must_use]
pub fn open_statuses() -> [&'static str; 3] {
    [
        TicketStatus::Nouveau.as_str(),
        TicketStatus::EnCours.as_str(),
        TicketStatus::EnAttente.as_str(),
    ]
}

/// How many tickets a company has, and how many are open (dashboards).
///
/// # Errors
/// Database errors.
pub async fn company_counts(
    db: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<(u64, u64), DbErr> {
    let all = ticket::Entity::find().filter(ticket::Column::ClientId.eq(company_id));
    let total = all.clone().count(db).await?;
    let open = all
        .filter(ticket::Column::Status.is_in([
            TicketStatus::Nouveau,
            TicketStatus::EnCours,
            TicketStatus::EnAttente,
        ]))
        .count(db)
        .await?;
    Ok((total, open))
}

/// The company's latest tickets (id, numero, titre, creation), newest first (activity feeds).
///
/// # Errors
/// Database errors.
pub async fn company_latest(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    limit: u64,
) -> Result<Vec<ticket::Model>, DbErr> {
    ticket::Entity::find()
        .filter(ticket::Column::ClientId.eq(company_id))
        .order_by_desc(ticket::Column::DateCreation)
        .order_by_desc(ticket::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many tickets there are in all (for checks and benchmarks).
///
/// # Errors
/// Database errors.
pub async fn total(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    ticket::Entity::find().count(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_size_is_written_into_postgres_text_only_where_an_index_gives_the_order() {
        let page = |filters: &TicketFilters, scope: Scope, number: u64, sort| {
            let page = PageParams {
                page: number,
                limit: 100,
            };
            let (_, select) =
                list_statements(DbBackend::Postgres, scope, filters, page, sort, Utc::now())
                    .unwrap();
            select.sql
        };
        let by_status = TicketFilters {
            status: Some(TicketStatus::EnCours),
            priority: Some(TicketPriority::Normale),
            ..TicketFilters::default()
        };
        let by_category = TicketFilters {
            categorie: Some(ticket::TicketCategorie::Qualite),
            ..by_status.clone()
        };
        let staff = Scope::Staff;
        let client = Scope::Company(Uuid::now_v7());
        let created = Sort::default();
        let titled = Sort {
            field: TicketSort::Titre,
            order: Order::Asc,
        };
        let of_a_client = TicketFilters {
            client_id: Some(Uuid::now_v7()),
            ..TicketFilters::default()
        };
        for (filters, scope, number, sort, literal, direct) in [
            (&by_status, staff, 1, created, true, true),
            (&TicketFilters::default(), staff, 1, created, true, true),
            // One tenant's first page: its keys first (a plan for an average tenant would
            // read and sort all of a large one's rows).
            (&TicketFilters::default(), client, 1, created, true, false),
            (&of_a_client, staff, 1, created, true, false),
            // Later pages keep their bound OFFSET (and LIMIT).
            (&by_status, staff, 2, created, false, false),
            // No index gives these orders whatever the values.
            (&by_category, staff, 1, created, false, false),
            (&by_status, client, 1, created, false, false),
            (&by_status, staff, 1, titled, false, false),
        ] {
            let sql = page(filters, scope, number, sort);
            // The page size in the text: of the rows straight from the index, or of the keys
            // chosen first.
            assert_eq!(sql.ends_with(" LIMIT 100"), literal && direct, "{sql}");
            assert_eq!(sql.contains(" LIMIT 100)"), literal && !direct, "{sql}");
            assert_eq!(!sql.contains(" IN (SELECT "), direct, "{sql}");
            assert_eq!(sql.contains(" LIMIT $"), !literal, "{sql}");
            assert_eq!(sql.contains(" OFFSET $"), number > 1, "{sql}");
        }
    }

    /// A page read from a template is the page built anew: the same text and the same values,
    /// for every shape, every status and priority, both scopes, first and later pages.
    #[test]
    fn the_page_templates_bind_what_a_page_built_anew_binds() {
        let now = Utc::now();
        let (client, chantier) = (Uuid::now_v7(), Uuid::now_v7());
        let mut checked = 0;
        for scope in [Scope::Staff, Scope::Company(Uuid::now_v7())] {
            for status in std::iter::once(None).chain(TicketStatus::ALL.iter().copied().map(Some)) {
                for priority in
                    std::iter::once(None).chain(TicketPriority::ALL.iter().copied().map(Some))
                {
                    for (client_id, chantier_id) in [
                        (None, None),
                        (Some(client), None),
                        (None, Some(chantier)),
                        (Some(client), Some(chantier)),
                    ] {
                        let filters = TicketFilters {
                            status,
                            priority,
                            client_id,
                            chantier_id,
                            ..TicketFilters::default()
                        };
                        for order in [Order::Desc, Order::Asc] {
                            let sort = Sort {
                                field: TicketSort::DateCreation,
                                order,
                            };
                            for (number, limit) in [(1, 100), (1, 20), (4, 20), (2, 100)] {
                                let page = PageParams {
                                    page: number,
                                    limit,
                                };
                                let backend = DbBackend::Sqlite;
                                let asked = PageAsked {
                                    scope,
                                    filters: &filters,
                                    page,
                                    sort,
                                    now,
                                };
                                let Some(shape) = template_shape(backend, asked) else {
                                    continue;
                                };
                                let mut base = filters::tickets_only();
                                filters::apply(&mut base, backend, scope, &filters, now).unwrap();
                                let anew = page_statement(backend, &base, asked);
                                // Twice: built the first time, bound from the template after.
                                for _ in 0..2 {
                                    let bound = page_template(backend, shape, asked);
                                    assert_eq!(bound.sql, anew.sql);
                                    assert_eq!(bound.values, anew.values, "{}", anew.sql);
                                }
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        // Staff pages by status, priority, client or chantier; a company's unfiltered pages.
        assert!(checked > 100, "{checked} pages checked");
        // PostgreSQL's pages, and a page no index hands out in order, are built anew.
        let by_category = TicketFilters {
            categorie: Some(ticket::TicketCategorie::Qualite),
            ..TicketFilters::default()
        };
        let first = PageParams {
            page: 1,
            limit: 100,
        };
        for (backend, filters) in [
            (DbBackend::Postgres, &by_category),
            (DbBackend::Sqlite, &by_category),
            (DbBackend::Postgres, &TicketFilters::default()),
        ] {
            let asked = PageAsked {
                scope: Scope::Staff,
                filters,
                page: first,
                sort: Sort::default(),
                now: Utc::now(),
            };
            let shape = template_shape(backend, asked);
            assert!(shape.is_none(), "{backend:?} {filters:?}");
        }
    }

    /// On SQLite a page's client and chantier names come from the indexes holding them beside
    /// the ids, not from the tables; PostgreSQL's statements name no index.
    #[tokio::test]
    async fn a_pages_names_are_read_from_their_indexes_on_sqlite() {
        let app = test_support::spawn_app().await;
        let backend = app.db.get_database_backend();
        let by_status = TicketFilters {
            status: Some(TicketStatus::EnCours),
            ..TicketFilters::default()
        };
        let page = |number| PageParams {
            page: number,
            limit: 20,
        };
        for (scope, filters, number) in [
            (Scope::Staff, &by_status, 1),
            (Scope::Staff, &by_status, 3),
            (Scope::Company(Uuid::now_v7()), &TicketFilters::default(), 1),
        ] {
            let (_, select) = list_statements(
                backend,
                scope,
                filters,
                page(number),
                Sort::default(),
                Utc::now(),
            )
            .unwrap();
            if backend == DbBackend::Postgres {
                assert!(!select.sql.contains("INDEXED BY"), "{}", select.sql);
                continue;
            }
            let plan = test_support::statement_plan(&app.db, &select).await;
            for index in [migration::COMPANY_NAMES, migration::CHANTIER_NAMES] {
                let read = format!("USING COVERING INDEX {index} ");
                assert!(plan.contains(&read), "not `{read}`:\n{plan}");
            }
        }
    }

    #[test]
    fn the_workflow_allows_what_a_helpdesk_does() {
        use TicketStatus::{EnAttente, EnCours, Ferme, Nouveau, Resolu};
        assert!(transition_allowed(Nouveau, EnCours));
        assert!(transition_allowed(EnCours, EnAttente));
        assert!(transition_allowed(EnAttente, EnCours));
        assert!(transition_allowed(EnCours, Resolu));
        assert!(transition_allowed(Resolu, Ferme));
        assert!(transition_allowed(Resolu, EnCours));
        assert!(transition_allowed(Ferme, EnCours));
        assert!(!transition_allowed(EnCours, Nouveau));
        assert!(!transition_allowed(Ferme, Resolu));
        assert!(!transition_allowed(Resolu, EnAttente));
        assert!(!transition_allowed(EnCours, EnCours));
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        let tags = normalize_tags(
            &[" Urgent ".into(), "chantier_a".into(), "URGENT".into()],
            "tags",
        )
        .unwrap();
        assert_eq!(tags, ["urgent", "chantier_a"]);
        assert!(normalize_tags(&["a b".into()], "tags").is_err());
        assert!(normalize_tags(&[String::new()], "tags").is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&many, "tags").is_err());
        let err = normalize_tags(&["ok".into(), "=cmd".into()], "data.tags").unwrap_err();
        let AppError::Validation(fields) = err else {
            panic!()
        };
        assert!(fields.fields().contains_key("data.tags[1]"));
    }
}
