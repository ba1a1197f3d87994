//! Money owed and paid, computed from the invoices and payments: the balance, the ledger with
//! its running balance, and a year's summary by month.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::invoice::InvoiceStatus;
use entity::payment::PaymentStatus;
use entity::{invoice, payment};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use shared::db::{count_of, sum_bigint, when};
use shared::pagination::PageParams;
use shared::{AppError, PageMeta, Paginated};
use uuid::Uuid;

use super::{Balance, LedgerEntry, LedgerFilters, LedgerKind, MonthFigures, Summary};
use crate::ClientState;
use crate::invoices::service as invoices;

/// The company's invoices that count (visible, cancelled ones excepted), oldest first.
fn counted_invoices(company_id: Uuid) -> Select<invoice::Entity> {
    invoices::visible(company_id)
        .filter(invoice::Column::Status.ne(InvoiceStatus::Cancelled))
        .order_by_asc(invoice::Column::IssueDate)
        .order_by_asc(invoice::Column::Number)
}

/// The company's payments, oldest first (those on invoices that do not count included).
fn payments_of(company_id: Uuid) -> Select<payment::Entity> {
    payment::Entity::find()
        .filter(payment::Column::CompanyId.eq(company_id))
        .order_by_asc(payment::Column::CreatedAt)
        .order_by_asc(payment::Column::Id)
}

async fn company_invoices(
    db: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<Vec<invoice::Model>, AppError> {
    Ok(counted_invoices(company_id).all(db).await?)
}

/// The company's payments on the invoices that count (cancelled ones excepted).
async fn company_payments(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    invoices: &[invoice::Model],
) -> Result<Vec<payment::Model>, AppError> {
    let kept: std::collections::BTreeSet<Uuid> = invoices.iter().map(|i| i.id).collect();
    Ok(payments_of(company_id)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| kept.contains(&p.invoice_id))
        .collect())
}

/// The invoice side of [`balance`], summed by the database.
#[derive(Debug, FromQueryResult)]
struct InvoiceSums {
    invoiced: Option<i64>,
    outstanding: Option<i64>,
    open: Option<i64>,
    overdue: Option<i64>,
    overdue_count: Option<i64>,
    next_due: Option<NaiveDate>,
}

/// The payment side of [`balance`]: amounts by status.
#[derive(Debug, FromQueryResult)]
struct PaymentSums {
    status: PaymentStatus,
    amount: Option<i64>,
}

/// What the company owes now, summed by the database (two aggregate queries, whatever the
/// number of invoices).
///
/// # Errors
/// Database errors.
pub async fn balance(
    db: &impl ConnectionTrait,
    state: &ClientState,
    company_id: Uuid,
) -> Result<Balance, AppError> {
    let today = state.today();
    let open_statuses: Vec<InvoiceStatus> = InvoiceStatus::iter().filter(|s| s.is_open()).collect();
    let open = Expr::col(invoice::Column::Status).is_in(open_statuses);
    // Past due and still expecting money (as `invoices::is_overdue`).
    let overdue = open
        .clone()
        .and(Expr::col(invoice::Column::DueDate).lt(today));
    let left = Expr::col(invoice::Column::TotalCents).sub(Expr::col(invoice::Column::PaidCents));
    let counted = || {
        invoices::visible(company_id).filter(invoice::Column::Status.ne(InvoiceStatus::Cancelled))
    };
    let sums = counted()
        .select_only()
        .column_as(
            sum_bigint(Expr::col(invoice::Column::TotalCents)),
            "invoiced",
        )
        .column_as(sum_bigint(when(open.clone(), left.clone())), "outstanding")
        .column_as(sum_bigint(when(open.clone(), 1)), "open")
        .column_as(sum_bigint(when(overdue.clone(), left)), "overdue")
        .column_as(sum_bigint(when(overdue.clone(), 1)), "overdue_count")
        .column_as(
            Expr::from(Func::min(Expr::case(
                open.and(overdue.not()),
                Expr::col(invoice::Column::DueDate),
            ))),
            "next_due",
        )
        .into_model::<InvoiceSums>()
        .one(db)
        .await?;
    let payments = payment::Entity::find()
        .select_only()
        .column(payment::Column::Status)
        .column_as(
            sum_bigint(Expr::col(payment::Column::AmountCents)),
            "amount",
        )
        .filter(payment::Column::CompanyId.eq(company_id))
        .filter(
            payment::Column::InvoiceId.in_subquery(
                counted()
                    .select_only()
                    .column(invoice::Column::Id)
                    .into_query(),
            ),
        )
        .group_by(payment::Column::Status)
        .into_model::<PaymentSums>()
        .all(db)
        .await?;
    let amount = |status: PaymentStatus| {
        payments
            .iter()
            .filter(|p| p.status == status)
            .filter_map(|p| p.amount)
            .sum()
    };
    let sums = sums.as_ref();
    Ok(Balance {
        currency: state.currency.clone(),
        total_invoiced_cents: sums.and_then(|s| s.invoiced).unwrap_or(0),
        total_paid_cents: amount(PaymentStatus::Completed),
        pending_payments_cents: amount(PaymentStatus::Pending),
        outstanding_cents: sums.and_then(|s| s.outstanding).unwrap_or(0),
        overdue_cents: sums.and_then(|s| s.overdue).unwrap_or(0),
        open_invoices: count_of(sums.and_then(|s| s.open)),
        overdue_invoices: count_of(sums.and_then(|s| s.overdue_count)),
        next_due_date: sums.and_then(|s| s.next_due),
    })
}

/// When a confirmed payment counts in the ledger and the summary: its confirmation (its
/// announcement for one confirmed without a recorded instant).
fn confirmation(confirmed_at: Option<DateTime<Utc>>, created_at: DateTime<Utc>) -> DateTime<Utc> {
    confirmed_at.unwrap_or(created_at)
}

/// When a payment counts, if it does: confirmed ones at their [`confirmation`].
fn payment_day(p: &payment::Model) -> Option<DateTime<Utc>> {
    (p.status == PaymentStatus::Completed).then(|| confirmation(p.confirmed_at, p.created_at))
}

/// An invoice as the ledger shows it (the columns it reads, not the whole row).
#[derive(Debug, FromQueryResult)]
struct LedgerInvoice {
    id: Uuid,
    number: String,
    issue_date: NaiveDate,
    total_cents: i64,
}

/// A confirmed payment as the ledger shows it.
#[derive(Debug, FromQueryResult)]
struct LedgerPayment {
    id: Uuid,
    invoice_id: Uuid,
    reference: String,
    amount_cents: i64,
    confirmed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// The ledger's lines before they are written out: an invoice (index into the invoices) or a
/// payment (index into the payments, with the index of its invoice).
#[derive(Debug, Clone, Copy)]
enum LedgerLine {
    Invoice(usize),
    Payment(usize, usize),
}

/// A page of the ledger (oldest first), filtered by date; running balances count everything
/// before the page too. Every line is counted for the balances, but only the page's lines are
/// written out.
///
/// # Errors
/// 422 for a reversed range; database errors.
pub async fn transactions(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    filters: &LedgerFilters,
    page: PageParams,
) -> Result<Paginated<LedgerEntry>, AppError> {
    crate::text::check_range(filters.date_from, filters.date_to)?;
    let invoices: Vec<LedgerInvoice> = counted_invoices(company_id)
        .select_only()
        .column(invoice::Column::Id)
        .column(invoice::Column::Number)
        .column(invoice::Column::IssueDate)
        .column(invoice::Column::TotalCents)
        .into_model()
        .all(db)
        .await?;
    // Payments count at their confirmation, and only on the invoices that count.
    let payments: Vec<LedgerPayment> = payments_of(company_id)
        .filter(payment::Column::Status.eq(PaymentStatus::Completed))
        .select_only()
        .column(payment::Column::Id)
        .column(payment::Column::InvoiceId)
        .column(payment::Column::Reference)
        .column(payment::Column::AmountCents)
        .column(payment::Column::ConfirmedAt)
        .column(payment::Column::CreatedAt)
        .into_model()
        .all(db)
        .await?;
    let by_id: std::collections::HashMap<Uuid, usize> = invoices
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id, n))
        .collect();
    // (date, order within the day: invoices first, then by time), line.
    let mut lines: Vec<(NaiveDate, i64, LedgerLine)> =
        Vec::with_capacity(invoices.len() + payments.len());
    for (n, inv) in invoices.iter().enumerate() {
        lines.push((inv.issue_date, i64::MIN, LedgerLine::Invoice(n)));
    }
    for (n, p) in payments.iter().enumerate() {
        let Some(&invoice) = by_id.get(&p.invoice_id) else {
            continue;
        };
        let at = confirmation(p.confirmed_at, p.created_at);
        lines.push((
            at.date_naive(),
            at.timestamp_micros(),
            LedgerLine::Payment(n, invoice),
        ));
    }
    lines.sort_by_key(|l| (l.0, l.1));
    let mut running = 0i64;
    let shown: Vec<(NaiveDate, LedgerLine, i64)> = lines
        .into_iter()
        .map(|(date, _, line)| {
            running += match line {
                LedgerLine::Invoice(n) => invoices[n].total_cents,
                LedgerLine::Payment(n, _) => -payments[n].amount_cents,
            };
            (date, line, running)
        })
        .filter(|(date, _, _)| filters.date_from.is_none_or(|f| *date >= f))
        .filter(|(date, _, _)| filters.date_to.is_none_or(|t| *date <= t))
        .filter(|(_, line, _)| {
            let kind = match line {
                LedgerLine::Invoice(_) => LedgerKind::Invoice,
                LedgerLine::Payment(..) => LedgerKind::Payment,
            };
            filters.kind.is_none_or(|k| kind == k)
        })
        .collect();
    let total = shown.len() as u64;
    let start = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let items = shown
        .into_iter()
        .skip(start)
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .map(|(date, line, running_balance_cents)| match line {
            LedgerLine::Invoice(n) => {
                let inv = &invoices[n];
                LedgerEntry {
                    date,
                    kind: LedgerKind::Invoice,
                    reference: inv.number.clone(),
                    description: format!("Facture {}", inv.number),
                    invoice_id: inv.id,
                    payment_id: None,
                    debit_cents: inv.total_cents,
                    credit_cents: 0,
                    running_balance_cents,
                }
            }
            LedgerLine::Payment(n, invoice) => {
                let p = &payments[n];
                LedgerEntry {
                    date,
                    kind: LedgerKind::Payment,
                    reference: p.reference.clone(),
                    description: format!("Paiement {}", invoices[invoice].number),
                    invoice_id: p.invoice_id,
                    payment_id: Some(p.id),
                    debit_cents: 0,
                    credit_cents: p.amount_cents,
                    running_balance_cents,
                }
            }
        })
        .collect();
    Ok(Paginated::new(
        items,
        PageMeta::new(page.page, page.limit, total),
    ))
}

/// A year's figures, by month.
///
/// # Errors
/// Database errors.
pub async fn summary(
    db: &impl ConnectionTrait,
    state: &ClientState,
    company_id: Uuid,
    year: i32,
) -> Result<Summary, AppError> {
    let today = state.today();
    let invoices = company_invoices(db, company_id).await?;
    let payments = company_payments(db, company_id, &invoices).await?;
    let mut months: Vec<MonthFigures> = (1..=12)
        .map(|month| MonthFigures {
            month,
            invoiced_cents: 0,
            paid_cents: 0,
            invoices: 0,
        })
        .collect();
    let mut s = Summary {
        year,
        currency: state.currency.clone(),
        invoiced_cents: 0,
        paid_cents: 0,
        outstanding_cents: 0,
        overdue_cents: 0,
        invoices: 0,
        months: Vec::new(),
    };
    for inv in invoices.iter().filter(|i| i.issue_date.year() == year) {
        let m = &mut months[usize::try_from(inv.issue_date.month0()).unwrap_or(0)];
        m.invoiced_cents += inv.total_cents;
        m.invoices += 1;
        s.invoiced_cents += inv.total_cents;
        s.invoices += 1;
        if inv.status.is_open() {
            s.outstanding_cents += inv.total_cents - inv.paid_cents;
            if invoices::is_overdue(inv, today) {
                s.overdue_cents += inv.total_cents - inv.paid_cents;
            }
        }
    }
    for p in &payments {
        let Some(at) = payment_day(p) else { continue };
        if at.year() != year {
            continue;
        }
        months[usize::try_from(at.month0()).unwrap_or(0)].paid_cents += p.amount_cents;
        s.paid_cents += p.amount_cents;
    }
    s.months = months;
    Ok(s)
}
