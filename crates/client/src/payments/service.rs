//! Payments: a client announces one against an open invoice (never more than what is left
//! once other announced payments are counted); staff (or the bank reconciliation) confirm it,
//! which pays the invoice down.

use entity::invoice::InvoiceStatus;
use entity::payment::PaymentStatus;
use entity::{invoice, payment};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use shared::audit::{self, Actor, AuditEntry};
use shared::db::sum_bigint;
use shared::notifications::{Notice, notify_company};
use shared::pagination::{PageParams, Sort, fetch_page};
use shared::{AppError, Paginated};
use uuid::Uuid;

use super::{NewPaymentRequest, PaymentFilters, PaymentSort, PaymentView, view};
use crate::caller::ClientUser;
use crate::invoices::service as invoices;
use crate::{ClientState, text};

/// Characters of payment references (no 0/O, 1/I).
const REFERENCE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn reference(invoice_number: &str) -> String {
    let mut bytes = [0u8; 6];
    rand::fill(&mut bytes);
    let suffix: String = bytes
        .iter()
        .map(|b| char::from(REFERENCE_ALPHABET[usize::from(*b) % REFERENCE_ALPHABET.len()]))
        .collect();
    format!("PAY-{}-{suffix}", invoice_number.trim_start_matches("FAC-"))
}

/// A page of the company's payments.
///
/// # Errors
/// 422 for a reversed date range; database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    state: &ClientState,
    company_id: Uuid,
    filters: &PaymentFilters,
    page: PageParams,
    sort: Sort<PaymentSort>,
) -> Result<Paginated<PaymentView>, AppError> {
    let mut query = payment::Entity::find().filter(payment::Column::CompanyId.eq(company_id));
    if let Some(status) = filters.status {
        query = query.filter(payment::Column::Status.eq(status));
    }
    if let Some(method) = filters.method {
        query = query.filter(payment::Column::Method.eq(method));
    }
    if let Some(invoice_id) = filters.invoice_id {
        query = query.filter(payment::Column::InvoiceId.eq(invoice_id));
    }
    text::check_range(filters.date_from, filters.date_to)?;
    if let Some(from) = filters.date_from {
        query = query.filter(payment::Column::CreatedAt.gte(text::day_start(from)));
    }
    if let Some(to) = filters.date_to {
        query = query.filter(payment::Column::CreatedAt.lt(text::day_end(to)));
    }
    let order: sea_orm::Order = sort.order.into();
    let column = match sort.field {
        PaymentSort::CreatedAt => payment::Column::CreatedAt,
        PaymentSort::Amount => payment::Column::AmountCents,
    };
    query = query
        .order_by(column, order.clone())
        .order_by(payment::Column::Id, order);
    let page = fetch_page(db, query, page).await?;
    let ids: Vec<Uuid> = page.data.iter().map(|p| p.invoice_id).collect();
    let numbers: std::collections::BTreeMap<Uuid, String> = if ids.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        invoice::Entity::find()
            .select_only()
            .column(invoice::Column::Id)
            .column(invoice::Column::Number)
            .filter(invoice::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(page.map(|p| {
        let number = numbers.get(&p.invoice_id).cloned().unwrap_or_default();
        view(p, &number, state)
    }))
}

/// Announce a payment against one of the company's open invoices.
///
/// # Errors
/// 404/422 (invoice not the company's), 409 (invoice paid or cancelled), 422 (amount not
/// positive or above what is left to pay, naming the most that may be paid), database errors.
pub async fn create(
    db: &DatabaseConnection,
    state: &ClientState,
    caller: &ClientUser,
    request: NewPaymentRequest,
) -> Result<PaymentView, AppError> {
    if request.amount_cents <= 0 {
        return Err(AppError::invalid("amount_cents", "must be positive"));
    }
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    // Locked (PostgreSQL) so two announcements cannot both fit in the same open amount.
    let invoice = invoices::find_for_update(&txn, caller.company_id, request.invoice_id)
        .await
        .map_err(text::named_field("invoice_id", "no such invoice"))?;
    if !invoice.status.is_open() {
        return Err(AppError::conflict(format!(
            "Invoice {} is {} and takes no payment",
            invoice.number,
            match invoice.status {
                InvoiceStatus::Paid => "paid",
                _ => "cancelled",
            }
        )));
    }
    let pending: Option<i64> = payment::Entity::find()
        .select_only()
        .column_as(
            sum_bigint(Expr::col(payment::Column::AmountCents)),
            "pending",
        )
        .filter(payment::Column::InvoiceId.eq(invoice.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .into_tuple::<Option<i64>>()
        .one(&txn)
        .await?
        .flatten();
    let open = invoice.total_cents - invoice.paid_cents - pending.unwrap_or(0);
    if open <= 0 {
        return Err(AppError::conflict(format!(
            "Payments already announced cover invoice {}; wait for their confirmation",
            invoice.number
        )));
    }
    if request.amount_cents > open {
        return Err(AppError::invalid(
            "amount_cents",
            format!(
                "at most {open} ({}) is left to pay on {}",
                text::money(open, &invoice.currency),
                invoice.number
            ),
        ));
    }
    let payment = payment::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(caller.company_id),
        invoice_id: Set(invoice.id),
        amount_cents: Set(request.amount_cents),
        currency: Set(invoice.currency.clone()),
        method: Set(request.method),
        status: Set(PaymentStatus::Pending),
        reference: Set(reference(&invoice.number)),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        confirmed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("create_payment", "payment")
            .entity_id(payment.id)
            .after(&json!({
                "invoice_id": invoice.id,
                "amount_cents": payment.amount_cents,
                "method": payment.method,
                "reference": payment.reference,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(view(payment, &invoice.number, state))
}

/// Confirm a pending payment (staff, card processor or bank reconciliation): the invoice is
/// paid down and the company notified.
///
/// # Errors
/// 404, 409 (not pending), database errors.
pub async fn confirm(
    db: &DatabaseConnection,
    state: &ClientState,
    actor: &Actor,
    id: Uuid,
) -> Result<payment::Model, AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let payment = payment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such payment"))?;
    if payment.status != PaymentStatus::Pending {
        return Err(AppError::conflict(
            "Only a pending payment can be confirmed",
        ));
    }
    // Only one confirmation can move it out of `pending`.
    let moved = payment::Entity::update_many()
        .col_expr(
            payment::Column::Status,
            Expr::value(PaymentStatus::Completed),
        )
        .col_expr(payment::Column::ConfirmedAt, Expr::value(Some(now)))
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(
            "Only a pending payment can be confirmed",
        ));
    }
    let invoice = shared::db::for_update(invoice::Entity::find_by_id(payment.invoice_id), &txn)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such invoice"))?;
    let invoice = invoices::apply_payment(&txn, invoice, payment.amount_cents, now).await?;
    let payment = payment::Model {
        status: PaymentStatus::Completed,
        confirmed_at: Some(now),
        ..payment
    };
    notify_company(
        &txn,
        payment.company_id,
        None,
        &Notice::new(
            "payment_received",
            format!("Paiement reçu pour {}", invoice.number),
        )
        .body(format!(
            "{} ({})",
            text::money(payment.amount_cents, &payment.currency),
            payment.reference
        ))
        .link(format!("/api/client/invoices/{}", invoice.id)),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("confirm_payment", "payment")
            .entity_id(payment.id)
            .after(&json!({ "invoice_status": invoice.status, "paid_cents": invoice.paid_cents })),
    )
    .await?;
    txn.commit().await?;
    Ok(payment)
}
