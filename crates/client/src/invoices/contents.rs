//! An invoice with what its detail shows, read in one statement: the invoice with its client
//! company, its lines and its payments are the branches of one `UNION ALL`, each row naming
//! its branch in `k` and carrying its own model's columns (prefixed `i_` and `c_`, `l_` or
//! `p_`, the others `NULL`), as the ticket detail reads its contents (`tickets::contents`).
//! One statement instead of four saves their round trips (on SQLite, handing each to the
//! connection's thread and its rows back), and its SQL is built once per backend
//! (bench/RESULTS.md item 23). On an SQLite file it is read on the request's own thread
//! (`shared::db::query_all_inline`, item 35), its rows decoded by the same [`ModelRow`] reader
//! either way.

use std::sync::LazyLock;

use entity::{company, invoice, invoice_line, payment};
use sea_orm::sea_query::{
    Alias, ColumnType, Expr, ExprTrait, JoinType, Query, SelectStatement, UnionType,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr};
use shared::db::{
    InlineColumns, InlineReads, ModelRow, Rows, Templates, query_all_inline, select_model_columns,
    select_null_columns, union_branch,
};
use uuid::Uuid;

use super::service::visible_to;

static STATEMENT: Templates<1> = Templates::new();
/// What stands for the invoice and the company in the statement built once.
const INVOICE: Uuid = Uuid::max();
const COMPANY: Uuid = Uuid::from_u128(u128::MAX - 1);

const HEAD: i32 = 1;
const LINE: i32 = 2;
const PAYMENT: i32 = 3;

/// An invoice, its client company, its lines in their order and its payments, oldest first.
#[derive(Debug)]
pub struct Whole {
    pub invoice: invoice::Model,
    pub client: company::Model,
    pub lines: Vec<invoice_line::Model>,
    pub payments: Vec<payment::Model>,
}

/// Invoice `id` with its client, lines and payments, if company `company_id` may see it
/// (the rules of [`visible_to`]); `None` otherwise. Read inline when `inline` is given: then
/// `db` is the pool, never a transaction (whose own writes an inline read would not see).
///
/// # Errors
/// Database errors.
pub async fn read(
    db: &impl ConnectionTrait,
    inline: Option<&InlineReads>,
    company_id: Uuid,
    id: Uuid,
) -> Result<Option<Whole>, DbErr> {
    static COLUMNS: LazyLock<InlineColumns> = LazyLock::new(|| {
        InlineColumns::default()
            .column("k", ColumnType::Integer)
            .model::<invoice::Entity>("i_")
            .model::<company::Entity>("c_")
            .model::<invoice_line::Entity>("l_")
            .model::<payment::Entity>("p_")
    });
    let backend = db.get_database_backend();
    let statement = STATEMENT.bind(
        backend,
        0,
        || backend.build(&select(backend)),
        &[
            (INVOICE.into(), id.into()),
            (COMPANY.into(), company_id.into()),
        ],
    );
    match query_all_inline(db, inline, statement, &COLUMNS).await? {
        Rows::Inline(rows) => assemble(&rows),
        Rows::Pool(rows) => assemble(&rows),
    }
}

/// The invoice, its client, lines and payments from the statement's rows (`None`: no head
/// row, the invoice is not visible).
fn assemble(rows: &[impl ModelRow]) -> Result<Option<Whole>, DbErr> {
    let mut head = None;
    let (mut lines, mut payments) = (Vec::new(), Vec::new());
    for row in rows {
        match row.value::<i32>("k")? {
            HEAD => {
                head = Some((
                    row.model::<invoice::Entity>("i_")?,
                    row.model::<company::Entity>("c_")?,
                ));
            }
            LINE => lines.push(row.model::<invoice_line::Entity>("l_")?),
            PAYMENT => payments.push(row.model::<payment::Entity>("p_")?),
            other => {
                return Err(DbErr::Type(format!(
                    "unknown invoice contents row kind {other}"
                )));
            }
        }
    }
    let Some((invoice, client)) = head else {
        return Ok(None);
    };
    // A union keeps no order: each list is sorted here, as each query sorted it before.
    lines.sort_by_key(|l| (l.position, l.id));
    payments.sort_by_key(|p| (p.created_at, p.id));
    Ok(Some(Whole {
        invoice,
        client,
        lines,
        payments,
    }))
}

fn select(backend: DbBackend) -> SelectStatement {
    let (c, l, p) = (Alias::new("c"), Alias::new("l"), Alias::new("p"));
    // The invoice if the company may see it: the head row, and what the lines and payments
    // belong to (so none of another company's are read).
    let mut shown = Query::select();
    shown
        .column((invoice::Entity, invoice::Column::Id))
        .from(invoice::Entity)
        .and_where(invoice::Column::Id.eq(INVOICE))
        .cond_where(visible_to(COMPANY));

    let mut head = union_branch(HEAD);
    select_model_columns::<invoice::Entity>(&mut head, invoice::Entity, "i_");
    select_model_columns::<company::Entity>(&mut head, c.clone(), "c_");
    select_null_columns::<invoice_line::Entity>(&mut head, backend, "l_");
    select_null_columns::<payment::Entity>(&mut head, backend, "p_");
    head.from(invoice::Entity)
        .join_as(
            JoinType::InnerJoin,
            company::Entity,
            c.clone(),
            Expr::col((c, company::Column::Id))
                .equals((invoice::Entity, invoice::Column::CompanyId)),
        )
        .and_where(invoice::Column::Id.eq(INVOICE))
        .cond_where(visible_to(COMPANY));

    let mut lines = union_branch(LINE);
    select_null_columns::<invoice::Entity>(&mut lines, backend, "i_");
    select_null_columns::<company::Entity>(&mut lines, backend, "c_");
    select_model_columns::<invoice_line::Entity>(&mut lines, l.clone(), "l_");
    select_null_columns::<payment::Entity>(&mut lines, backend, "p_");
    lines
        .from_as(invoice_line::Entity, l.clone())
        .and_where(Expr::col((l, invoice_line::Column::InvoiceId)).in_subquery(shown.clone()));

    let mut payments = union_branch(PAYMENT);
    select_null_columns::<invoice::Entity>(&mut payments, backend, "i_");
    select_null_columns::<company::Entity>(&mut payments, backend, "c_");
    select_null_columns::<invoice_line::Entity>(&mut payments, backend, "l_");
    select_model_columns::<payment::Entity>(&mut payments, p.clone(), "p_");
    payments
        .from_as(payment::Entity, p.clone())
        .and_where(Expr::col((p, payment::Column::InvoiceId)).in_subquery(shown));

    head.union(UnionType::All, lines)
        .union(UnionType::All, payments);
    head
}
