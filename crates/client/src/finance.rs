//! `/api/client/balance`, `/transactions` and `/financial-summary`: what the company owes,
//! its ledger with a running balance, and a year by month — all computed from the invoices
//! and payments.

pub mod service;

use actix_web::{get, web};
use chrono::{Datelike, NaiveDate};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;

/// `GET /balance`. Amounts in minor units of `currency`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    pub currency: String,
    /// Every invoice issued (cancelled ones excepted).
    pub total_invoiced_cents: i64,
    /// Confirmed payments.
    pub total_paid_cents: i64,
    /// Announced payments awaiting confirmation.
    pub pending_payments_cents: i64,
    /// Left to pay on open invoices.
    pub outstanding_cents: i64,
    /// Of which past due.
    pub overdue_cents: i64,
    pub open_invoices: u64,
    pub overdue_invoices: u64,
    /// The nearest due date of an open invoice not yet overdue.
    pub next_due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Invoice,
    Payment,
}

/// One line of the ledger: an invoice (debit) or a confirmed payment (credit).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub date: NaiveDate,
    pub kind: LedgerKind,
    pub reference: String,
    pub description: String,
    pub invoice_id: Uuid,
    pub payment_id: Option<Uuid>,
    pub debit_cents: i64,
    pub credit_cents: i64,
    /// What the company owes after this entry (all history counted).
    pub running_balance_cents: i64,
}

/// Filters of `GET /transactions`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilters {
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub kind: Option<LedgerKind>,
}

/// One month of the summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthFigures {
    /// 1..=12.
    pub month: u32,
    pub invoiced_cents: i64,
    pub paid_cents: i64,
    pub invoices: u64,
}

/// `GET /financial-summary`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub year: i32,
    pub currency: String,
    /// Invoices issued that year.
    pub invoiced_cents: i64,
    /// Payments confirmed that year.
    pub paid_cents: i64,
    /// Left to pay on that year's invoices.
    pub outstanding_cents: i64,
    /// Of which past due.
    pub overdue_cents: i64,
    pub invoices: u64,
    /// Twelve months, January first.
    pub months: Vec<MonthFigures>,
}

/// `?year=`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Default: this year.
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// What the company owes: invoiced, paid, pending, outstanding and overdue.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    responses((status = 200, description = "The balance", body = ApiResponse<Balance>), errors::AuthedRead)
)]
#[get("/balance")]
pub async fn balance(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
) -> Result<ApiResponse<Balance>, AppError> {
    Ok(ApiResponse::ok(
        service::balance(db.get_ref(), &state, caller.company_id).await?,
    ))
}

/// The ledger: invoices and confirmed payments, oldest first, with the running balance.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, LedgerFilters),
    responses((status = 200, description = "A page of the ledger", body = Paginated<LedgerEntry>), errors::AuthedRead)
)]
#[get("/transactions")]
pub async fn transactions(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    page: PageParams,
    filters: Filters<LedgerFilters>,
) -> Result<Paginated<LedgerEntry>, AppError> {
    service::transactions(db.get_ref(), caller.company_id, &filters.into_inner(), page).await
}

/// A year's totals (invoiced, paid, outstanding, overdue) and its months.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(SummaryQuery),
    responses((status = 200, description = "The summary", body = ApiResponse<Summary>), errors::AuthedRead)
)]
#[get("/financial-summary")]
pub async fn summary(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    query: Filters<SummaryQuery>,
) -> Result<ApiResponse<Summary>, AppError> {
    let year = query
        .into_inner()
        .year
        .unwrap_or_else(|| state.today().year());
    Ok(ApiResponse::ok(
        service::summary(db.get_ref(), &state, caller.company_id, year).await?,
    ))
}
