//! `/api/client/dashboard`: figures across the portal and the company's recent activity.

pub mod service;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use shared::envelope::serialize_utc;
use shared::openapi::errors;
use shared::pagination::PageParams;
use shared::{ApiResponse, AppError, Paginated};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ClientState;
use crate::caller::ClientUser;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectFigures {
    pub total: u64,
    pub active: u64,
    pub completed: u64,
    pub overdue: u64,
    pub average_progress: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentFigures {
    pub total: u64,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceFigures {
    pub open: u64,
    pub overdue: u64,
    pub outstanding_cents: i64,
    pub overdue_cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketFigures {
    pub total: u64,
    /// Not resolved or closed.
    pub open: u64,
}

/// `GET /dashboard/stats`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardStats {
    pub projects: ProjectFigures,
    pub documents: DocumentFigures,
    pub invoices: InvoiceFigures,
    pub tickets: TicketFigures,
    pub unread_notifications: u64,
}

/// Something that happened in the company's account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Activity {
    /// `project_created`, `project_status_changed`, `project_comment`, `project_file_uploaded`,
    /// `project_file_deleted`, `project_milestone`, `document_added`, `invoice_issued`, `payment_announced`,
    /// `payment_confirmed`, `ticket_created`.
    pub kind: String,
    pub title: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// `project`, `document`, `invoice` or `ticket`.
    pub subject_type: String,
    pub subject_id: Uuid,
    pub link: String,
}

/// Figures across projects, documents, invoices, tickets and notifications.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    responses((status = 200, description = "The figures", body = ApiResponse<DashboardStats>), errors::AuthedRead)
)]
#[get("/dashboard/stats")]
pub async fn stats(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
) -> Result<ApiResponse<DashboardStats>, AppError> {
    Ok(ApiResponse::ok(
        service::stats(db.get_ref(), &state, &caller).await?,
    ))
}

/// The company's recent activity across projects, documents, invoices, payments and tickets,
/// newest first.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "A page of activity", body = Paginated<Activity>), errors::AuthedRead)
)]
#[get("/dashboard/activity")]
pub async fn activity(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    page: PageParams,
) -> Result<Paginated<Activity>, AppError> {
    service::activity(db.get_ref(), caller.company_id, page).await
}
