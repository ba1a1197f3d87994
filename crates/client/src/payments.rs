//! `/api/client/payments`: the company's payments, and announcing a new one against an open
//! invoice (`Idempotency-Key` honoured: a replay returns the first answer and records nothing).

pub mod service;

use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::payment::{self, PaymentMethod, PaymentStatus};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::extract::Json;
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, Sort, SortField};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;

/// How to make a bank transfer for a payment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferInstructions {
    pub beneficiary: String,
    pub iban: Option<String>,
    /// To write on the transfer. It contains the invoice number (which the invoice PDF asks
    /// for), so a transfer quoting either is matched to the invoice.
    pub reference: String,
    pub amount_cents: i64,
}

/// A payment. Amounts are in minor units of `currency`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    pub invoice_id: Uuid,
    #[schema(example = "FAC-2026-0001")]
    pub invoice_number: String,
    pub amount_cents: i64,
    pub currency: String,
    pub method: PaymentMethod,
    /// `pending` until the transfer arrives or the card payment is confirmed.
    pub status: PaymentStatus,
    #[schema(example = "PAY-2026-0001-7KQ2MX")]
    pub reference: String,
    /// For a pending bank transfer.
    pub instructions: Option<TransferInstructions>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[must_use]
pub fn view(p: payment::Model, invoice_number: &str, state: &ClientState) -> PaymentView {
    PaymentView {
        instructions: (p.method == PaymentMethod::BankTransfer
            && p.status == PaymentStatus::Pending)
            .then(|| TransferInstructions {
                beneficiary: state.seller.name.clone(),
                iban: state.seller.iban.clone(),
                reference: p.reference.clone(),
                amount_cents: p.amount_cents,
            }),
        id: p.id,
        invoice_id: p.invoice_id,
        invoice_number: invoice_number.to_owned(),
        amount_cents: p.amount_cents,
        currency: p.currency,
        method: p.method,
        status: p.status,
        reference: p.reference,
        created_at: p.created_at,
        confirmed_at: p.confirmed_at,
    }
}

/// `POST /payments/new`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPaymentRequest {
    /// One of the company's open invoices.
    pub invoice_id: Uuid,
    /// Minor units; at most what is left to pay.
    #[validate(range(min = 1))]
    #[schema(minimum = 1, example = 120_000)]
    pub amount_cents: i64,
    pub method: PaymentMethod,
}

/// Filters of `GET /payments`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilters {
    pub status: Option<PaymentStatus>,
    pub method: Option<PaymentMethod>,
    pub invoice_id: Option<Uuid>,
    /// Made on or after this day.
    pub date_from: Option<NaiveDate>,
    /// Made on or before this day.
    pub date_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSort {
    CreatedAt,
    Amount,
}

impl SortField for PaymentSort {
    const FIELDS: &'static [(&'static str, Self)] =
        &[("created_at", Self::CreatedAt), ("amount", Self::Amount)];
    const DEFAULT: Self = Self::CreatedAt;
}

/// The company's payments, newest first.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, Sort<PaymentSort>, PaymentFilters),
    responses((status = 200, description = "A page of payments", body = Paginated<PaymentView>), errors::AuthedRead)
)]
#[get("/payments")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    page: PageParams,
    sort: Sort<PaymentSort>,
    filters: Filters<PaymentFilters>,
) -> Result<Paginated<PaymentView>, AppError> {
    service::list(
        db.get_ref(),
        &state,
        caller.company_id,
        &filters.into_inner(),
        page,
        sort,
    )
    .await
}

/// Announce a payment against an open invoice: a bank transfer (with the reference to write
/// on it) or a card payment, both `pending` until confirmed. Send an `Idempotency-Key` so a
/// retry cannot pay twice.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(IdempotencyKeyHeader),
    request_body = NewPaymentRequest,
    responses((status = 201, description = "The payment", body = ApiResponse<PaymentView>), errors::AuthedWrite)
)]
#[post("/payments/new", wrap = "Idempotency")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    body: Json<NewPaymentRequest>,
) -> Result<ApiResponse<PaymentView>, AppError> {
    let payment = service::create(db.get_ref(), &state, &caller, body.into_inner()).await?;
    Ok(ApiResponse::created(payment))
}
