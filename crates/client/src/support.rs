//! `/api/client/support`: the company's support tickets, through the tickets crate's
//! services — the same tickets staff work in `/api/tickets-client`.

use actix_web::{get, post, web};
use sea_orm::DatabaseConnection;
use shared::extract::Json;
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, Sort};
use shared::{ApiResponse, AppError, Paginated};
use tickets::TicketsState;
use tickets::filters::TicketFilters;
use tickets::tickets::service;
use tickets::tickets::{CreateTicketRequest, TicketDetail, TicketSort, TicketSummary};

use crate::caller::ClientUser;

/// Open a support ticket for the company (numbered `TC-<year>-<seq>`, SLA clock started).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(IdempotencyKeyHeader),
    request_body = CreateTicketRequest,
    responses((status = 201, description = "The new ticket", body = ApiResponse<TicketDetail>), errors::AuthedWrite)
)]
#[post("/support/ticket", wrap = "Idempotency")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: ClientUser,
    body: Json<CreateTicketRequest>,
) -> Result<ApiResponse<TicketDetail>, AppError> {
    let ticket = service::create(
        db.get_ref(),
        &state,
        &caller.ticket_caller(),
        body.into_inner(),
    )
    .await?;
    Ok(ApiResponse::created(ticket))
}

/// The company's support tickets, filtered, sorted and paginated.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, Sort<TicketSort>, TicketFilters),
    responses((status = 200, description = "A page of tickets", body = Paginated<TicketSummary>), errors::AuthedRead)
)]
#[get("/support/tickets")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: ClientUser,
    page: PageParams,
    sort: Sort<TicketSort>,
    filters: Filters<TicketFilters>,
) -> Result<Paginated<TicketSummary>, AppError> {
    service::list(
        db.get_ref(),
        &state,
        caller.ticket_caller().scope,
        &filters.into_inner(),
        page,
        sort,
    )
    .await
}
