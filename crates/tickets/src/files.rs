//! Downloads through signed, expiring links: ticket attachments and export files. The link is
//! the permission (it is only handed to someone allowed to see the file), so no bearer token is
//! needed and a browser can open it directly.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use entity::job::JobStatus;
use entity::{job, ticket_attachment, ticket_export};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;
use shared::envelope::serialize_utc;
use shared::extract::{Path, Query};
use shared::openapi::errors;
use shared::signed_url::SignedQuery;
use shared::upload::{Disposition, send_stored};
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::TicketsState;
use crate::attachments::download_path;
use crate::export::export_path;

/// Stream a stored object as a download.
async fn send_file(
    state: &TicketsState,
    key: &str,
    name: &str,
    content_type: &str,
) -> Result<HttpResponse, AppError> {
    send_stored(
        &state.storage,
        key,
        name,
        content_type,
        Disposition::Attachment,
    )
    .await
}

/// Download an attachment through its signed link.
#[utoipa::path(
    tag = "tickets",
    security(()),
    params(("id" = Uuid, Path, description = "Attachment id"), SignedQuery),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        errors::PublicRead
    )
)]
#[get("/files/attachments/{id}")]
pub async fn download_attachment(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    id: Path<Uuid>,
    query: Query<SignedQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state
        .signer
        .verify(&download_path(id), &query, state.clock.now())?;
    let file = ticket_attachment::Entity::find_by_id(id)
        .one(db.get_ref())
        .await?
        .ok_or_else(|| AppError::not_found("No such file"))?;
    send_file(&state, &file.storage_key, &file.nom, &file.content_type).await
}

/// An export still being produced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportPending {
    pub id: Uuid,
    /// `queued` or `running`.
    pub status: String,
    /// 0..=100.
    pub progress: i32,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Download an export through its signed link (202 while it is still being produced).
#[utoipa::path(
    tag = "tickets",
    security(()),
    params(("id" = Uuid, Path, description = "Export id"), SignedQuery),
    responses(
        (status = 200, description = "The file (CSV, XLSX, JSON or PDF)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 202, description = "Not ready yet; try again after `Retry-After` seconds", body = ApiResponse<ExportPending>,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 409, description = "The export failed; ask for a new one", body = shared::envelope::ErrorEnvelope),
        errors::PublicRead
    )
)]
#[get("/files/exports/{id}")]
pub async fn download_export(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    id: Path<Uuid>,
    query: Query<SignedQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = state.clock.now();
    state.signer.verify(&export_path(id), &query, now)?;
    let export = ticket_export::Entity::find_by_id(id)
        .one(db.get_ref())
        .await?
        .ok_or_else(|| AppError::not_found("No such export"))?;
    if export.expires_at <= now {
        return Err(AppError::not_found(
            "This export has expired; ask for a new one",
        ));
    }
    if let Some(key) = &export.storage_key {
        return send_file(&state, key, &export.file_name, &export.content_type).await;
    }
    let job = job::Entity::find_by_id(export.job_id)
        .one(db.get_ref())
        .await?
        .ok_or_else(|| AppError::not_found("No such export"))?;
    match job.status {
        JobStatus::Queued | JobStatus::Running => {
            let pending = ExportPending {
                id,
                status: job.status.as_str().to_owned(),
                progress: job.progress,
                expires_at: export.expires_at,
            };
            Ok(HttpResponse::Accepted()
                .insert_header((header::RETRY_AFTER, "2"))
                .json(ApiResponse::accepted(pending)))
        }
        _ => Err(AppError::conflict(format!(
            "The export failed ({}); ask for a new one",
            job.last_error.as_deref().unwrap_or("no file was produced")
        ))),
    }
}
