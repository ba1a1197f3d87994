//! Personal access tokens for scripts: named, expiring, shown once, stored hashed, revocable,
//! sent as `Authorization: Bearer presta_pat_...` and acting with the owner's role.

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use shared::audit::{self, AuditEntry};
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use entity::api_token;

use crate::AuthState;
use crate::identity::AuthUser;
use crate::tokens::PAT_PREFIX;
use crate::users::ClientInfo;

pub const MAX_DAYS: i64 = 365;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    #[schema(example = "nightly export")]
    pub name: String,
    /// The start of the token, to recognise it.
    #[schema(example = "presta_pat_Xk2f")]
    pub token_prefix: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_token::Model> for TokenView {
    fn from(t: api_token::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            token_prefix: t.token_prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "nightly export")]
    pub name: String,
    /// Days until it stops working (1 to 365).
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365, example = 90)]
    pub expires_in_days: i64,
    /// The current password: a borrowed session must not mint a long-lived key.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
    /// With 2FA on: a current code (or a recovery code).
    #[validate(length(min = 6, max = 32))]
    #[schema(min_length = 6, max_length = 32, example = "123456")]
    pub code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself. Shown this once: only its hash is kept.
    #[schema(example = "presta_pat_Xk2f...")]
    pub token: String,
    #[serde(flatten)]
    pub details: TokenView,
}

/// Revoke every token of a user (password change or reset, logout-all).
///
/// # Errors
/// Database errors.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, AppError> {
    Ok(api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Some(Utc::now()).into())
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// The caller's personal access tokens (never the secrets).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Tokens, newest first", body = ApiResponse<Vec<TokenView>>), errors::AuthedRead)
)]
#[get("/tokens")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<TokenView>>, AppError> {
    let tokens = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(caller.id))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(db.get_ref())
        .await?;
    Ok(ApiResponse::ok(
        tokens.into_iter().map(Into::into).collect(),
    ))
}

/// Create a named, expiring token acting as the caller (for scripts). Needs a signed-in
/// session, the password and, with 2FA on, a code. Password changes and resets and
/// `logout-all` revoke every token.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses((status = 201, description = "Created; the token is shown once", body = ApiResponse<CreatedToken>), errors::AuthedWrite)
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<CreateTokenRequest>,
) -> Result<ApiResponse<CreatedToken>, AppError> {
    caller.require_session()?;
    let body = body.into_inner();
    let account = crate::users::load(db.get_ref(), caller.id).await?;
    crate::two_factor::check_password(&db, &state, &account, &body.password, "password", &client)
        .await?;
    if account.totp_enabled_at.is_some() {
        let code = body
            .code
            .as_deref()
            .ok_or_else(|| AppError::invalid("code", "is required while 2FA is on"))?;
        crate::two_factor::check_code(&db, &state, &account, code, true, &client).await?;
    }
    let secret = format!("{PAT_PREFIX}{}", shared::crypto::random_token(30));
    let now = Utc::now();
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let row = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(caller.id),
        name: Set(body.name.trim().to_owned()),
        token_prefix: Set(secret.chars().take(PAT_PREFIX.len() + 4).collect()),
        token_hash: Set(shared::crypto::token_hash(&secret)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(body.expires_in_days.clamp(1, MAX_DAYS))),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("create_token", "api_token")
            .entity_id(row.id)
            .after(&serde_json::json!({ "name": row.name, "expires_at": row.expires_at })),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::created(CreatedToken {
        token: secret,
        details: row.into(),
    }))
}

/// Revoke one of the caller's tokens: it stops working at once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 200, description = "Revoked", body = ApiResponse<TokenView>), errors::AuthedWrite)
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    id: Path<Uuid>,
) -> Result<ApiResponse<TokenView>, AppError> {
    let token = api_token::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await?
        .filter(|t| t.user_id == caller.id)
        .ok_or_else(|| AppError::not_found("Token not found"))?;
    if token.revoked_at.is_some() {
        return Ok(ApiResponse::ok(token.into()));
    }
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(Utc::now()));
    let token = active.update(&txn).await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("revoke_token", "api_token").entity_id(token.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(token.into()))
}
