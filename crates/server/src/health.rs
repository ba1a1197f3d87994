//! Liveness and readiness probes.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::{get, web};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;

/// Where the readiness probe looks.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub sqlite_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyStatus {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
}

/// Liveness: the process answers. Not rate limited.
#[utoipa::path(
    tag = "system",
    security(()),
    responses((status = 200, description = "The server is alive", body = ApiResponse<HealthStatus>))
)]
#[get("/health")]
pub async fn health() -> ApiResponse<HealthStatus> {
    ApiResponse::ok(HealthStatus {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the database answers (and, for SQLite, its file is still in place). A load
/// balancer should stop sending traffic while this answers 503.
#[utoipa::path(
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = ApiResponse<ReadyStatus>),
        (status = 503, response = shared::openapi::Unavailable),
    )
)]
#[get("/ready")]
pub async fn ready(
    db: web::Data<DatabaseConnection>,
    readiness: web::Data<Readiness>,
) -> Result<ApiResponse<ReadyStatus>, AppError> {
    shared::db::check_ready(&db, readiness.sqlite_file.as_ref(), readiness.timeout)
        .await
        .map_err(|reason| {
            tracing::warn!(%reason, "not ready");
            AppError::Unavailable("The database is unavailable".to_owned())
        })?;
    Ok(ApiResponse::ok(ReadyStatus {
        status: "ready",
        database: shared::db::backend_name(db.get_ref()),
    }))
}
