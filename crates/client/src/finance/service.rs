//! Money owed and paid, computed from the invoices and payments: the balance, the ledger with
//! its running balance, and a year's summary by month.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use entity::invoice::InvoiceStatus;
use entity::payment::PaymentStatus;
use entity::{invoice, payment};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Iterable,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};
use shared::db::{count_of, sum_bigint, when};
use shared::pagination::PageParams;
use shared::{AppError, PageMeta, Paginated};
use uuid::Uuid;

use super::{Balance, LedgerEntry, LedgerFilters, LedgerKind, MonthFigures, Summary};
use crate::ClientState;
use crate::invoices::service as invoices;

/// What makes an invoice count: the company may see it, and it is not cancelled.
fn counts(company_id: Uuid) -> Condition {
    invoices::visible_to(company_id).add(invoice::Column::Status.ne(InvoiceStatus::Cancelled))
}

/// The company's invoices that count ([`counts`]).
fn counted(company_id: Uuid) -> Select<invoice::Entity> {
    invoice::Entity::find().filter(counts(company_id))
}

/// The company's invoices that count, oldest first.
fn counted_invoices(company_id: Uuid) -> Select<invoice::Entity> {
    counted(company_id)
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

/// What is owed on an invoice, as expressions over its columns: whether it is open, whether it
/// is open and past due (as `invoices::is_overdue`), and what is left to pay on it.
struct Owed {
    open: Expr,
    overdue: Expr,
    left: Expr,
}

impl Owed {
    fn on(today: NaiveDate) -> Self {
        let open_statuses: Vec<InvoiceStatus> =
            InvoiceStatus::iter().filter(|s| s.is_open()).collect();
        let open = Expr::col(invoice::Column::Status).is_in(open_statuses);
        Self {
            overdue: open
                .clone()
                .and(Expr::col(invoice::Column::DueDate).lt(today)),
            open,
            left: Expr::col(invoice::Column::TotalCents).sub(Expr::col(invoice::Column::PaidCents)),
        }
    }
}

/// [`confirmation`] in SQL: the instant a confirmed payment counts at, written as the feed's
/// index `idx-payments-company_id-shown_at-id` writes it, so a range of it reads that index.
fn payment_at() -> Expr {
    Func::coalesce([
        Expr::col(payment::Column::ConfirmedAt),
        Expr::col(payment::Column::CreatedAt),
    ])
    .into()
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
    let owed = Owed::on(state.today());
    let sums = counted(company_id)
        .select_only()
        .column_as(
            sum_bigint(Expr::col(invoice::Column::TotalCents)),
            "invoiced",
        )
        .column_as(
            sum_bigint(when(owed.open.clone(), owed.left.clone())),
            "outstanding",
        )
        .column_as(sum_bigint(when(owed.open.clone(), 1)), "open")
        .column_as(sum_bigint(when(owed.overdue.clone(), owed.left)), "overdue")
        .column_as(sum_bigint(when(owed.overdue.clone(), 1)), "overdue_count")
        .column_as(
            Expr::from(Func::min(Expr::case(
                owed.open.and(owed.overdue.not()),
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
                counted(company_id)
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

/// A month's invoices, summed by the database.
#[derive(Debug, FromQueryResult)]
struct InvoiceMonth {
    month: i32,
    invoiced: Option<i64>,
    invoices: i64,
    outstanding: Option<i64>,
    overdue: Option<i64>,
}

/// A confirmed payment as the summary reads it: its invoice, its amount and when it counts.
#[derive(Debug, FromQueryResult)]
struct SummaryPayment {
    invoice_id: Uuid,
    amount_cents: i64,
    at: DateTime<Utc>,
}

/// The month (1 to 12) of a date.
fn month_of(backend: DbBackend, date: Expr) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_expr("CAST(EXTRACT(MONTH FROM $1) AS INTEGER)", date)
        }
        _ => Expr::cust_with_expr("CAST(strftime('%m', ?) AS INTEGER)", date),
    }
}

/// A year's figures, by month: the invoices issued that year and what is left to pay on them,
/// summed by the database; the payments confirmed that year (UTC) on the invoices that count,
/// read from the year's payments alone (not every invoice and payment of the company, whole).
///
/// # Errors
/// 422 for a year the calendar does not have; database errors.
pub async fn summary(
    db: &impl ConnectionTrait,
    state: &ClientState,
    company_id: Uuid,
    year: i32,
) -> Result<Summary, AppError> {
    let backend = db.get_database_backend();
    let (Some(first), Some(last), Some(next)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
        NaiveDate::from_ymd_opt(year + 1, 1, 1),
    ) else {
        return Err(AppError::invalid("year", "No such year"));
    };
    let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let owed = Owed::on(state.today());
    let month = month_of(backend, Expr::col(invoice::Column::IssueDate));
    let invoice_months: Vec<InvoiceMonth> = counted(company_id)
        .select_only()
        .column_as(month.clone(), "month")
        .column_as(
            sum_bigint(Expr::col(invoice::Column::TotalCents)),
            "invoiced",
        )
        .column_as(Expr::cust("COUNT(*)"), "invoices")
        .column_as(
            sum_bigint(when(owed.open, owed.left.clone())),
            "outstanding",
        )
        .column_as(sum_bigint(when(owed.overdue, owed.left)), "overdue")
        .filter(invoice::Column::IssueDate.between(first, last))
        .group_by(month)
        .into_model()
        .all(db)
        .await?;
    // The year's confirmed payments (their instants as the feed's index holds them), kept when
    // their invoice counts. Each statement reads one table: joined to the invoices, a generic
    // plan on PostgreSQL (after a connection's fifth call) walked the company's invoices once
    // per payment (bench/RESULTS.md item 28).
    let payments: Vec<SummaryPayment> = payment::Entity::find()
        .select_only()
        .column(payment::Column::InvoiceId)
        .column(payment::Column::AmountCents)
        .column_as(payment_at(), "at")
        .filter(payment::Column::CompanyId.eq(company_id))
        .filter(payment::Column::Status.eq(PaymentStatus::Completed))
        .filter(payment_at().gte(midnight(first)))
        .filter(payment_at().lt(midnight(next)))
        .into_model()
        .all(db)
        .await?;
    let counting: HashSet<Uuid> = counted(company_id)
        .select_only()
        .column(invoice::Column::Id)
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
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
    let slot = |month: u32| {
        usize::try_from(month)
            .ok()
            .and_then(|m| m.checked_sub(1))
            .filter(|&m| m < 12)
    };
    for m in invoice_months {
        let (invoiced, count) = (m.invoiced.unwrap_or(0), count_of(m.invoices));
        if let Some(n) = u32::try_from(m.month).ok().and_then(slot) {
            months[n].invoiced_cents += invoiced;
            months[n].invoices += count;
        }
        s.invoiced_cents += invoiced;
        s.invoices += count;
        s.outstanding_cents += m.outstanding.unwrap_or(0);
        s.overdue_cents += m.overdue.unwrap_or(0);
    }
    for p in payments.iter().filter(|p| counting.contains(&p.invoice_id)) {
        if let Some(n) = slot(p.at.month()) {
            months[n].paid_cents += p.amount_cents;
        }
        s.paid_cents += p.amount_cents;
    }
    s.months = months;
    Ok(s)
}
