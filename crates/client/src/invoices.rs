//! `/api/client/invoices`: the company's invoices (drafts are never shown), one with its lines,
//! VAT per rate and payments, and its PDF.

pub mod contents;
pub mod pdf;
pub mod service;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use entity::invoice::InvoiceStatus;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::extract::Path;
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, Sort, SortField};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;
use crate::payments::PaymentView;

/// An invoice in a list. Amounts are in minor units of `currency`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceSummary {
    pub id: Uuid,
    #[schema(example = "FAC-2026-0001")]
    pub number: String,
    pub status: InvoiceStatus,
    /// Still expecting money past its due date.
    pub overdue: bool,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub subtotal_cents: i64,
    pub vat_cents: i64,
    pub total_cents: i64,
    /// Confirmed payments.
    pub paid_cents: i64,
    /// Announced payments awaiting confirmation.
    pub pending_cents: i64,
    /// What is left to pay (0 once paid or cancelled).
    pub balance_due_cents: i64,
    pub project_id: Option<Uuid>,
    pub pdf_url: String,
}

/// A line of an invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub position: i32,
    pub description: String,
    /// Decimal quantity (`1.5`).
    pub quantity: String,
    pub quantity_milli: i64,
    pub unit_price_cents: i64,
    /// Percent with two decimals (`20.00`).
    pub vat_rate: String,
    pub vat_rate_bp: i32,
    pub total_ht_cents: i64,
}

/// VAT of one rate: computed on the summed base of that rate's lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VatLine {
    #[schema(example = "20.00")]
    pub rate: String,
    pub rate_bp: i32,
    pub base_cents: i64,
    pub vat_cents: i64,
}

/// Who sells or buys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyView {
    pub name: String,
    pub address: Option<String>,
    pub email: Option<String>,
    pub vat_number: Option<String>,
    pub registration: Option<String>,
    pub iban: Option<String>,
}

/// One invoice, whole.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub invoice: InvoiceSummary,
    pub lines: Vec<InvoiceLineView>,
    pub vat_breakdown: Vec<VatLine>,
    pub payments: Vec<PaymentView>,
    pub seller: PartyView,
    pub client: PartyView,
    pub notes: Option<String>,
}

/// Statuses to filter on (`open` = issued or partially paid; `overdue` = open and past due).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatusFilter {
    Issued,
    PartiallyPaid,
    Paid,
    Cancelled,
    Open,
    Overdue,
}

/// Filters of `GET /invoices`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceFilters {
    #[param(inline)]
    pub status: Option<InvoiceStatusFilter>,
    /// Issued on or after this day.
    pub date_from: Option<NaiveDate>,
    /// Issued on or before this day.
    pub date_to: Option<NaiveDate>,
    pub project_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceSort {
    IssueDate,
    DueDate,
    Total,
    Number,
}

impl SortField for InvoiceSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("issue_date", Self::IssueDate),
        ("due_date", Self::DueDate),
        ("total", Self::Total),
        ("number", Self::Number),
    ];
    const DEFAULT: Self = Self::IssueDate;
}

/// The company's invoices, filtered, sorted and paginated.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, Sort<InvoiceSort>, InvoiceFilters),
    responses((status = 200, description = "A page of invoices", body = Paginated<InvoiceSummary>), errors::AuthedRead)
)]
#[get("/invoices")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    page: PageParams,
    sort: Sort<InvoiceSort>,
    filters: Filters<InvoiceFilters>,
) -> Result<Paginated<InvoiceSummary>, AppError> {
    service::list(
        db.get_ref(),
        state.inline_reads.as_deref(),
        caller.company_id,
        &filters.into_inner(),
        page,
        sort,
        state.today(),
    )
    .await
}

/// One invoice with its lines, VAT breakdown and payments.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses((status = 200, description = "The invoice", body = ApiResponse<InvoiceDetail>), errors::AuthedRead)
)]
#[get("/invoices/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<InvoiceDetail>, AppError> {
    Ok(ApiResponse::ok(
        service::detail(db.get_ref(), &state, caller.company_id, id.into_inner()).await?,
    ))
}

/// The invoice as a PDF (seller and client, number, dates, lines, VAT per rate, totals and
/// payment status).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        errors::AuthedRead
    )
)]
#[get("/invoices/{id}/pdf")]
pub async fn download_pdf(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let detail = service::detail(db.get_ref(), &state, caller.company_id, id.into_inner()).await?;
    let bytes = pdf::render(&detail, state.today());
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "{}.pdf",
                detail.invoice.number
            ))],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}
