//! `/api/public/shares/{token}`: a shared document, without login, until the link expires.
//! A password-protected link takes the password in `X-Share-Password` (GET) or as JSON
//! (POST). These routes spend their own strict rate-limit budget (`RATE_LIMIT_PUBLIC`), per address.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::AppError;
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::upload::{Disposition, send_stored};
use utoipa::ToSchema;
use validator::Validate;

use crate::ClientState;
use crate::documents::service;

/// `POST /api/public/shares/{token}`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

fn check_token(token: &str) -> Result<(), AppError> {
    if token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(AppError::not_found(
            "This link does not exist or was withdrawn",
        ))
    }
}

async fn serve(
    db: &DatabaseConnection,
    state: &ClientState,
    auth_state: &auth::AuthState,
    token: &str,
    password: Option<&str>,
) -> Result<HttpResponse, AppError> {
    check_token(token)?;
    let doc =
        service::open_share(db, &auth_state.hasher, token, password, state.clock.now()).await?;
    send_stored(
        &state.storage,
        &doc.storage_key,
        &doc.name,
        &doc.content_type,
        Disposition::Attachment,
    )
    .await
}

/// Download a shared document (password, if the link has one, in `X-Share-Password`).
#[utoipa::path(
    tag = "shares",
    security(()),
    params(
        ("token" = String, Path, description = "The link's token", pattern = "^[A-Za-z0-9_-]{43}$"),
        ("X-Share-Password" = Option<String>, Header, description = "The link's password, when it has one")
    ),
    responses(
        (status = 200, description = "The file, with its stored type", content_type = "*/*", body = Vec<u8>),
        (status = 401, description = "The link wants a password, or it was wrong", body = shared::envelope::ErrorEnvelope),
        errors::PublicRead
    )
)]
#[get("/{token}")]
pub async fn download(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    auth_state: web::Data<auth::AuthState>,
    token: Path<String>,
) -> Result<HttpResponse, AppError> {
    let password = req
        .headers()
        .get("x-share-password")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    serve(
        &db,
        &state,
        &auth_state,
        &token.into_inner(),
        password.as_deref(),
    )
    .await
}

/// Download a password-protected shared document, the password in the body.
#[utoipa::path(
    tag = "shares",
    security(()),
    params(("token" = String, Path, description = "The link's token", pattern = "^[A-Za-z0-9_-]{43}$")),
    request_body = UnlockRequest,
    responses(
        (status = 200, description = "The file, with its stored type", content_type = "*/*", body = Vec<u8>),
        (status = 401, description = "Wrong password", body = shared::envelope::ErrorEnvelope),
        errors::PublicWrite
    )
)]
#[post("/{token}")]
pub async fn unlock(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    auth_state: web::Data<auth::AuthState>,
    token: Path<String>,
    body: Json<UnlockRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    serve(
        &db,
        &state,
        &auth_state,
        &token.into_inner(),
        Some(&body.password),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_one_shape() {
        assert!(check_token(&"a".repeat(43)).is_ok());
        assert!(check_token(&"a".repeat(42)).is_err());
        assert!(check_token(&format!("{}/", "a".repeat(42))).is_err());
    }
}
