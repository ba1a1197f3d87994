//! Invoices of a client company: totals and VAT computed per rate, gapless yearly numbers,
//! and what clients see (never drafts).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::invoice::{InvoiceDirection, InvoiceStatus};
use entity::payment::PaymentStatus;
use entity::{company, invoice, invoice_line, payment};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select,
};
use serde_json::json;
use shared::audit::{self, Actor, AuditEntry};
use shared::db::{InlineReads, YearCounter, find_all_inline, next_in_year};
use shared::notifications::{Notice, notify_company};
use shared::pagination::{PageParams, Sort, fetch_models_page};
use shared::{AppError, Paginated};
use uuid::Uuid;

use super::contents::{self, Whole};
use super::{
    InvoiceDetail, InvoiceFilters, InvoiceLineView, InvoiceSort, InvoiceStatusFilter,
    InvoiceSummary, PartyView, VatLine,
};
use crate::payments::{self, PaymentView};
use crate::{ClientState, text};

/// `x * num / den` rounded half away from zero.
#[must_use]
pub fn mul_div_round(x: i64, num: i64, den: i64) -> i64 {
    let product = i128::from(x) * i128::from(num);
    let den = i128::from(den);
    let half = den / 2;
    let rounded = if product >= 0 {
        (product + half) / den
    } else {
        (product - half) / den
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// One line to invoice.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub description: String,
    /// Thousandths.
    pub quantity_milli: i64,
    pub unit_price_cents: i64,
    /// Basis points.
    pub vat_rate_bp: i32,
}

/// The amounts of an invoice: each line's base, VAT per rate on the summed base (so rounding
/// happens once per rate), and the totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub lines: Vec<(i64, i64)>,
    /// (rate, base, vat), by rate.
    pub by_rate: Vec<(i32, i64, i64)>,
    pub subtotal: i64,
    pub vat: i64,
    pub total: i64,
}

/// `(rate, base, vat)` by rate, from each line's `(rate, base)`: VAT is computed once per rate
/// on the summed base of that rate.
#[must_use]
pub fn vat_by_rate(lines: impl IntoIterator<Item = (i32, i64)>) -> Vec<(i32, i64, i64)> {
    let mut bases: BTreeMap<i32, i64> = BTreeMap::new();
    for (rate, base) in lines {
        *bases.entry(rate).or_default() += base;
    }
    bases
        .into_iter()
        .map(|(rate, base)| (rate, base, mul_div_round(base, i64::from(rate), 10_000)))
        .collect()
}

#[must_use]
pub fn totals(lines: &[NewLine]) -> Totals {
    let line_amounts: Vec<(i64, i64)> = lines
        .iter()
        .map(|l| {
            let base = mul_div_round(l.quantity_milli, l.unit_price_cents, 1000);
            (base, mul_div_round(base, i64::from(l.vat_rate_bp), 10_000))
        })
        .collect();
    let by_rate = vat_by_rate(
        lines
            .iter()
            .zip(&line_amounts)
            .map(|(line, (base, _))| (line.vat_rate_bp, *base)),
    );
    let subtotal: i64 = by_rate.iter().map(|(_, b, _)| b).sum();
    let vat: i64 = by_rate.iter().map(|(_, _, v)| v).sum();
    Totals {
        lines: line_amounts,
        by_rate,
        subtotal,
        vat,
        total: subtotal + vat,
    }
}

/// An invoice to issue (staff side; the superadmin portal will expose it).
#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub company_id: Uuid,
    pub project_id: Option<Uuid>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub lines: Vec<NewLine>,
    pub notes: Option<String>,
}

/// Issue an invoice numbered `FAC-<year>-<seq>` (no gaps: the number is taken inside the
/// transaction), with its lines; the company's users are notified.
///
/// # Errors
/// 422 for no lines, a blank description, a negative quantity or price, a VAT rate outside
/// 0..=100 %, a due date before the issue date; database errors.
pub async fn issue(
    db: &DatabaseConnection,
    state: &ClientState,
    actor: &Actor,
    new: NewInvoice,
) -> Result<invoice::Model, AppError> {
    if new.lines.is_empty() {
        return Err(AppError::invalid("lines", "at least one line"));
    }
    for (i, line) in new.lines.iter().enumerate() {
        text::required(&line.description, &format!("lines[{i}].description"))?;
        if line.quantity_milli <= 0 {
            return Err(AppError::invalid(
                format!("lines[{i}].quantity"),
                "must be positive",
            ));
        }
        if line.unit_price_cents < 0 {
            return Err(AppError::invalid(
                format!("lines[{i}].unit_price_cents"),
                "must not be negative",
            ));
        }
        if !(0..=10_000).contains(&line.vat_rate_bp) {
            return Err(AppError::invalid(
                format!("lines[{i}].vat_rate"),
                "must be between 0 and 100 %",
            ));
        }
    }
    if new.due_date < new.issue_date {
        return Err(AppError::invalid(
            "due_date",
            "must not be before the issue date",
        ));
    }
    let amounts = totals(&new.lines);
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    company::Entity::find_by_id(new.company_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("company_id", "no such company"))?;
    let year = new.issue_date.year();
    let sequence = next_in_year(&txn, YearCounter::Invoices, year).await?;
    let invoice = invoice::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(new.company_id),
        project_id: Set(new.project_id),
        direction: Set(InvoiceDirection::Out),
        number: Set(format!("FAC-{year}-{sequence:04}")),
        annee: Set(year),
        sequence: Set(sequence),
        status: Set(InvoiceStatus::Issued),
        issue_date: Set(new.issue_date),
        due_date: Set(new.due_date),
        currency: Set(state.currency.clone()),
        subtotal_cents: Set(amounts.subtotal),
        vat_cents: Set(amounts.vat),
        total_cents: Set(amounts.total),
        paid_cents: Set(0),
        notes: Set(new.notes),
        paid_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    for (i, (line, (base, vat))) in new.lines.iter().zip(&amounts.lines).enumerate() {
        invoice_line::ActiveModel {
            id: Set(Uuid::now_v7()),
            invoice_id: Set(invoice.id),
            position: Set(i32::try_from(i + 1).unwrap_or(i32::MAX)),
            description: Set(line.description.trim().to_owned()),
            quantity_milli: Set(line.quantity_milli),
            unit_price_cents: Set(line.unit_price_cents),
            vat_rate_bp: Set(line.vat_rate_bp),
            total_ht_cents: Set(*base),
            vat_cents: Set(*vat),
        }
        .insert(&txn)
        .await?;
    }
    notify_company(
        &txn,
        invoice.company_id,
        None,
        &Notice::new(
            "invoice_issued",
            format!("Nouvelle facture {}", invoice.number),
        )
        .body(format!(
            "{} à régler avant le {}",
            text::money(invoice.total_cents, &invoice.currency),
            invoice.due_date.format("%d/%m/%Y")
        ))
        .link(format!("/api/client/invoices/{}", invoice.id)),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("issue_invoice", "invoice")
            .entity_id(invoice.id)
            .after(&json!({
                "number": invoice.number,
                "company_id": invoice.company_id,
                "total_cents": invoice.total_cents,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(invoice)
}

/// What a client may see: the company's outgoing invoices, drafts excepted.
#[must_use]
pub fn visible(company_id: Uuid) -> Select<invoice::Entity> {
    invoice::Entity::find().filter(visible_to(company_id))
}

/// What makes an invoice the company's to see: issued to it, not a draft.
#[must_use]
pub fn visible_to(company_id: Uuid) -> Condition {
    Condition::all()
        .add(invoice::Column::CompanyId.eq(company_id))
        .add(invoice::Column::Direction.eq(InvoiceDirection::Out))
        .add(invoice::Column::Status.ne(InvoiceStatus::Draft))
}

/// An invoice of the company.
///
/// # Errors
/// 404, database errors.
pub async fn find(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<invoice::Model, AppError> {
    visible(company_id)
        .filter(invoice::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such invoice"))
}

/// The same, locked until the caller's write transaction ends (PostgreSQL).
///
/// # Errors
/// 404, database errors.
pub async fn find_for_update(
    txn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<invoice::Model, AppError> {
    shared::db::for_update(visible(company_id).filter(invoice::Column::Id.eq(id)), txn)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such invoice"))
}

/// Past due and still expecting money.
#[must_use]
pub fn is_overdue(invoice: &invoice::Model, today: NaiveDate) -> bool {
    invoice.status.is_open() && invoice.due_date < today
}

/// Amounts still pending (announced payments) per invoice.
async fn pending_by_invoice(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    ids: Vec<Uuid>,
) -> Result<BTreeMap<Uuid, i64>, AppError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let pending = payment::Entity::find()
        .filter(payment::Column::InvoiceId.is_in(ids))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending));
    let rows = find_all_inline(db, inline, pending).await?;
    let mut pending = BTreeMap::new();
    for p in rows {
        *pending.entry(p.invoice_id).or_insert(0) += p.amount_cents;
    }
    Ok(pending)
}

#[must_use]
pub fn summary(invoice: invoice::Model, pending: i64, today: NaiveDate) -> InvoiceSummary {
    InvoiceSummary {
        overdue: is_overdue(&invoice, today),
        balance_due_cents: if invoice.status.is_open() {
            invoice.total_cents - invoice.paid_cents
        } else {
            0
        },
        pending_cents: pending,
        pdf_url: format!("/api/client/invoices/{}/pdf", invoice.id),
        id: invoice.id,
        number: invoice.number,
        status: invoice.status,
        issue_date: invoice.issue_date,
        due_date: invoice.due_date,
        currency: invoice.currency,
        subtotal_cents: invoice.subtotal_cents,
        vat_cents: invoice.vat_cents,
        total_cents: invoice.total_cents,
        paid_cents: invoice.paid_cents,
        project_id: invoice.project_id,
    }
}

/// A page of the company's invoices. On an SQLite file the page, its total and the pending
/// payments are read on the request's own thread (`inline`, each statement within its budget);
/// `db` is the pool, never a transaction.
///
/// # Errors
/// 422 for a reversed date range; database errors.
pub async fn list(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    company_id: Uuid,
    filters: &InvoiceFilters,
    page: PageParams,
    sort: Sort<InvoiceSort>,
    today: NaiveDate,
) -> Result<Paginated<InvoiceSummary>, AppError> {
    let mut query = visible(company_id);
    match filters.status {
        None => {}
        Some(InvoiceStatusFilter::Overdue) => {
            query = query
                .filter(
                    invoice::Column::Status
                        .is_in([InvoiceStatus::Issued, InvoiceStatus::PartiallyPaid]),
                )
                .filter(invoice::Column::DueDate.lt(today));
        }
        Some(InvoiceStatusFilter::Open) => {
            query = query.filter(
                invoice::Column::Status
                    .is_in([InvoiceStatus::Issued, InvoiceStatus::PartiallyPaid]),
            );
        }
        Some(other) => {
            let status = match other {
                InvoiceStatusFilter::Issued => InvoiceStatus::Issued,
                InvoiceStatusFilter::PartiallyPaid => InvoiceStatus::PartiallyPaid,
                InvoiceStatusFilter::Paid => InvoiceStatus::Paid,
                _ => InvoiceStatus::Cancelled,
            };
            query = query.filter(invoice::Column::Status.eq(status));
        }
    }
    text::check_range(filters.date_from, filters.date_to)?;
    let mut range = Condition::all();
    if let Some(from) = filters.date_from {
        range = range.add(invoice::Column::IssueDate.gte(from));
    }
    if let Some(to) = filters.date_to {
        range = range.add(invoice::Column::IssueDate.lte(to));
    }
    query = query.filter(range);
    if let Some(project_id) = filters.project_id {
        query = query.filter(invoice::Column::ProjectId.eq(project_id));
    }
    let order: sea_orm::Order = sort.order.into();
    let column = match sort.field {
        InvoiceSort::IssueDate => invoice::Column::IssueDate,
        InvoiceSort::DueDate => invoice::Column::DueDate,
        InvoiceSort::Total => invoice::Column::TotalCents,
        InvoiceSort::Number => invoice::Column::Number,
    };
    query = query
        .order_by(column, order.clone())
        .order_by(invoice::Column::Number, order);
    let page = fetch_models_page(db, inline, query, page).await?;
    let pending = pending_by_invoice(db, inline, page.data.iter().map(|i| i.id).collect()).await?;
    Ok(page.map(|i| {
        let p = pending.get(&i.id).copied().unwrap_or(0);
        summary(i, p, today)
    }))
}

/// The business, as invoices show it.
#[must_use]
pub fn seller(state: &ClientState) -> PartyView {
    PartyView {
        name: state.seller.name.clone(),
        address: Some(state.seller.address.clone()),
        email: state.seller.email.clone(),
        vat_number: state.seller.vat_number.clone(),
        registration: state.seller.registration.clone(),
        iban: state.seller.iban.clone(),
    }
}

/// An invoice with its lines, VAT per rate, payments and both parties. On an SQLite file its
/// statement runs on the request's own thread (`state.inline_reads`); `db` is the pool, never
/// a transaction.
///
/// # Errors
/// 404, database errors.
pub async fn detail(
    db: &DatabaseConnection,
    state: &ClientState,
    company_id: Uuid,
    id: Uuid,
) -> Result<InvoiceDetail, AppError> {
    let Whole {
        invoice,
        client,
        lines,
        payments: payment_rows,
    } = contents::read(db, state.inline_reads.as_deref(), company_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("No such invoice"))?;
    let vat_breakdown = vat_by_rate(lines.iter().map(|l| (l.vat_rate_bp, l.total_ht_cents)))
        .into_iter()
        .map(|(rate, base, vat)| VatLine {
            rate: rate_percent(rate),
            rate_bp: rate,
            base_cents: base,
            vat_cents: vat,
        })
        .collect();
    let pending: i64 = payment_rows
        .iter()
        .filter(|p| p.status == PaymentStatus::Pending)
        .map(|p| p.amount_cents)
        .sum();
    let number = invoice.number.clone();
    let payments: Vec<PaymentView> = payment_rows
        .into_iter()
        .map(|p| payments::view(p, &number, state))
        .collect();
    let client = PartyView {
        name: client.name,
        address: match (client.address, client.city) {
            (Some(a), Some(city)) => Some(format!("{a}\n{city}")),
            (a, city) => a.or(city),
        },
        email: client.email,
        vat_number: None,
        registration: None,
        iban: None,
    };
    let notes = invoice.notes.clone();
    Ok(InvoiceDetail {
        invoice: summary(invoice, pending, state.today()),
        lines: lines
            .into_iter()
            .map(|l| InvoiceLineView {
                position: l.position,
                description: l.description,
                quantity: format_quantity(l.quantity_milli),
                quantity_milli: l.quantity_milli,
                unit_price_cents: l.unit_price_cents,
                vat_rate: rate_percent(l.vat_rate_bp),
                vat_rate_bp: l.vat_rate_bp,
                total_ht_cents: l.total_ht_cents,
            })
            .collect(),
        vat_breakdown,
        payments,
        seller: seller(state),
        client,
        notes,
    })
}

/// `2000` → `"20.00"`.
#[must_use]
pub fn rate_percent(bp: i32) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

/// `1500` → `"1.5"`.
#[must_use]
pub fn format_quantity(milli: i64) -> String {
    let whole = milli / 1000;
    let frac = milli % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_owned()
    }
}

/// Record a confirmed payment on its invoice (inside the caller's transaction): paid amount,
/// status, paid date.
///
/// # Errors
/// Database errors.
pub async fn apply_payment(
    db: &impl ConnectionTrait,
    invoice: invoice::Model,
    amount: i64,
    at: DateTime<Utc>,
) -> Result<invoice::Model, AppError> {
    let paid = invoice.paid_cents + amount;
    let mut active: invoice::ActiveModel = invoice.clone().into();
    active.paid_cents = Set(paid);
    if paid >= invoice.total_cents {
        active.status = Set(InvoiceStatus::Paid);
        active.paid_at = Set(Some(at));
    } else if paid > 0 {
        active.status = Set(InvoiceStatus::PartiallyPaid);
    }
    active.updated_at = Set(at);
    Ok(active.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: i64, price: i64, bp: i32) -> NewLine {
        NewLine {
            description: "x".into(),
            quantity_milli: q,
            unit_price_cents: price,
            vat_rate_bp: bp,
        }
    }

    #[test]
    fn vat_is_computed_per_rate_on_the_summed_base() {
        // 3 × 33.33 € at 20 % = 99.99 → VAT 20.00 (19.998); 1.5 h × 45.00 € at 10 % = 67.50
        // → VAT 6.75; 1 × 0.05 € at 5.5 % = 0.05 → VAT 0.00 (0.00275).
        let t = totals(&[
            line(3000, 3333, 2000),
            line(1500, 4500, 1000),
            line(1000, 5, 550),
        ]);
        assert_eq!(t.lines, vec![(9999, 2000), (6750, 675), (5, 0)]);
        assert_eq!(
            t.by_rate,
            vec![(550, 5, 0), (1000, 6750, 675), (2000, 9999, 2000)]
        );
        assert_eq!(t.subtotal, 16_754);
        assert_eq!(t.vat, 2675);
        assert_eq!(t.total, 19_429);
    }

    #[test]
    fn per_rate_rounding_differs_from_per_line_rounding() {
        // Three lines of 0.05 € at 20 %: per line 0.01 each (0.03), per rate 0.15 → 0.03.
        // Seven lines of 0.07 € at 20 %: per line 0.01 × 7 = 0.07; per rate 0.49 → 0.10.
        let t = totals(&vec![line(1000, 7, 2000); 7]);
        assert_eq!(t.vat, 10);
        assert_eq!(t.lines.iter().map(|(_, v)| v).sum::<i64>(), 7);
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(mul_div_round(5, 1, 10), 1);
        assert_eq!(mul_div_round(-5, 1, 10), -1);
        assert_eq!(mul_div_round(4, 1, 10), 0);
        assert_eq!(format_quantity(1500), "1.5");
        assert_eq!(format_quantity(2000), "2");
        assert_eq!(rate_percent(550), "5.50");
    }
}
