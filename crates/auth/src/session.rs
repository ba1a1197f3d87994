//! Signing in and out: login (with lockout and the 2FA challenge), verify-2fa, refresh with
//! rotation and reuse detection, logout, logout-all, check-session, and the session list.

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use shared::audit::{self, AuditEntry};
use shared::envelope::serialize_utc;
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use entity::{Role, refresh_token, session, two_factor_challenge, user};

use crate::identity::{AuthUser, MaybeAuthUser};
use crate::tokens::{ACCESS_TTL, REFRESH_TTL, SESSION_TTL};
use crate::two_factor::{self, CodeCheck};
use crate::users::{self, ClientInfo, UserView};
use crate::{AuthState, account, attempts};

/// The one answer every failed login gets, whatever the reason.
pub const GENERIC_LOGIN_FAILURE: &str = "Invalid email or password";

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254, example = "marie.durand@example.fr")]
    pub email: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

/// Tokens for a new or refreshed session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Access token (JWT), valid `expires_in` seconds.
    pub token: String,
    /// Opaque; exchange it at `POST /api/auth/refresh-token` (each use rotates it).
    pub refresh_token: String,
    #[schema(example = 900)]
    pub expires_in: i64,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    pub user: UserView,
}

/// Open a session for `account` and sign its first tokens (in the caller's transaction).
///
/// # Errors
/// Database or signing errors.
pub async fn open_session(
    db: &impl ConnectionTrait,
    state: &AuthState,
    account: &user::Model,
    client: &ClientInfo,
) -> Result<LoginResponse, AppError> {
    let now = Utc::now();
    let session_id = Uuid::now_v7();
    session::ActiveModel {
        id: Set(session_id),
        user_id: Set(account.id),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + SESSION_TTL),
        ip: Set(client.ip.clone()),
        user_agent: Set(client.user_agent.clone()),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(db)
    .await?;
    let refresh_token = new_refresh_token(db, session_id, now).await?;
    let access = state
        .issuer
        .issue(account.id, account.role, session_id, now)
        .map_err(AppError::internal)?;
    Ok(LoginResponse {
        token: access.token,
        refresh_token,
        expires_in: ACCESS_TTL.num_seconds(),
        token_type: "Bearer",
        user: users::view(db, account).await?,
    })
}

async fn new_refresh_token(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let token = shared::crypto::random_token(32);
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(shared::crypto::token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + REFRESH_TTL),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Revoke sessions of a user (all, or all but one).
///
/// # Errors
/// Database errors.
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    except: Option<Uuid>,
    reason: &str,
) -> Result<u64, AppError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Some(Utc::now()).into())
        .col_expr(
            session::Column::RevokedReason,
            Some(reason.to_owned()).into(),
        )
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Record a failed login (the attempt itself was already counted) and answer the generic 401.
/// For an address with no account only a hash of it is kept: people type passwords there.
async fn login_failed(
    db: &DatabaseConnection,
    account: Option<&user::Model>,
    email: &str,
    reason: &str,
    client: &ClientInfo,
) -> Result<AppError, AppError> {
    let submitted = match account {
        Some(account) => serde_json::json!({ "email": account.email, "reason": reason }),
        None => serde_json::json!({
            "email_sha256": shared::crypto::token_hash(email),
            "reason": reason,
        }),
    };
    let txn = shared::db::begin_write(db).await?;
    audit::record(
        &txn,
        &client.actor(account.map(|a| a.id)),
        AuditEntry::new("login_failed", "user")
            .entity_id(account.map_or_else(String::new, |a| a.id.to_string()))
            .after(&submitted),
    )
    .await?;
    txn.commit().await?;
    Ok(AppError::unauthenticated(GENERIC_LOGIN_FAILURE))
}

/// Replace a hash made with older parameters once its password has matched (see
/// `PasswordHasher::needs_rehash`). A failure is logged, not answered: the login goes on with
/// the old hash, and the next one tries again.
async fn upgrade_hash(
    db: &DatabaseConnection,
    state: &AuthState,
    account: &user::Model,
    password: &str,
) {
    if !state.hasher.needs_rehash(&account.password_hash) {
        return;
    }
    let upgraded = async {
        let hash = state.hasher.hash(password).await?;
        users::upgrade_password_hash(db, account.id, &account.password_hash, &hash).await?;
        Ok::<_, AppError>(())
    };
    if let Err(err) = upgraded.await {
        tracing::warn!(error = %err, user_id = %account.id, "password rehash failed");
    }
}

async fn login_succeeded(
    db: &DatabaseConnection,
    state: &AuthState,
    account: &user::Model,
    client: &ClientInfo,
    action: &str,
) -> Result<LoginResponse, AppError> {
    let txn = shared::db::begin_write(db).await?;
    let now = Utc::now();
    let mut active: user::ActiveModel = account.clone().into();
    active.last_login_at = Set(Some(now));
    active.updated_at = Set(now);
    let account = active.update(&txn).await?;
    let response = open_session(&txn, state, &account, client).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new(action, "user").entity_id(account.id),
    )
    .await?;
    txn.commit().await?;
    Ok(response)
}

async fn two_factor_challenge(
    db: &DatabaseConnection,
    account: &user::Model,
    client: &ClientInfo,
) -> Result<AppError, AppError> {
    let token = shared::crypto::random_token(32);
    let now = Utc::now();
    two_factor_challenge::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(account.id),
        token_hash: Set(shared::crypto::token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + two_factor::CHALLENGE_TTL),
        failed_attempts: Set(0),
        consumed_at: Set(None),
        ip: Set(client.ip.clone()),
        user_agent: Set(client.user_agent.clone()),
    }
    .insert(db)
    .await?;
    Ok(AppError::TwoFactorRequired {
        details: serde_json::json!({
            "challenge_token": token,
            "expires_in": two_factor::CHALLENGE_TTL.num_seconds(),
        }),
    })
}

/// Sign in. Unknown e-mail, wrong password, locked, inactive or unverified account: the same
/// 401 in about the same time. With 2FA on, a 401 `TWO_FACTOR_REQUIRED` carries a challenge for
/// `POST /api/auth/verify-2fa`.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = ApiResponse<LoginResponse>),
        (status = 401, description = "`UNAUTHENTICATED` (same body for every failure) or \
`TWO_FACTOR_REQUIRED` with `details.challenge_token`", body = shared::envelope::ErrorEnvelope),
        errors::PublicWrite
    )
)]
#[post("/login")]
pub async fn login(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<LoginRequest>,
) -> Result<ApiResponse<LoginResponse>, AppError> {
    let body = body.into_inner();
    let email = users::normalize_email(&body.email);
    let account = users::find_by_email(db.get_ref(), &email).await?;
    let Some(account) = account else {
        // Same work as a wrong password: one Argon2 verification (against a dummy hash).
        state.hasher.verify(&body.password, None).await?;
        return Err(login_failed(&db, None, &email, "unknown_email", &client).await?);
    };
    // Counted before the check, so parallel guesses each count; refused unchecked when locked.
    if !attempts::reserve_password(&db, account.id, &client).await? {
        state.hasher.verify(&body.password, None).await?;
        return Err(login_failed(&db, Some(&account), &email, "locked", &client).await?);
    }
    if !state
        .hasher
        .verify(&body.password, Some(&account.password_hash))
        .await?
    {
        return Err(login_failed(&db, Some(&account), &email, "wrong_password", &client).await?);
    }
    attempts::password_succeeded(db.get_ref(), account.id).await?;
    if account.email_verified_at.is_none() {
        account::resend_verification_if_due(db.get_ref(), &state.public_url, &account).await?;
        return Err(
            login_failed(&db, Some(&account), &email, "email_not_verified", &client).await?,
        );
    }
    if !account.is_active {
        return Err(login_failed(&db, Some(&account), &email, "inactive", &client).await?);
    }
    // Only now: the answers above take the time of one hash, like a wrong password's.
    upgrade_hash(&db, &state, &account, &body.password).await;
    if account.totp_enabled_at.is_some() {
        if attempts::totp_locked(&account, Utc::now()) {
            return Err(
                login_failed(&db, Some(&account), &email, "two_factor_locked", &client).await?,
            );
        }
        return Err(two_factor_challenge(&db, &account, &client).await?);
    }
    Ok(ApiResponse::ok(
        login_succeeded(&db, &state, &account, &client, "login").await?,
    ))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyTwoFactorRequest {
    /// From the `TWO_FACTOR_REQUIRED` answer of `POST /login`. Leave it out (and send an access
    /// token) to confirm the setup of 2FA.
    #[validate(length(min = 10, max = 200))]
    #[schema(min_length = 10, max_length = 200)]
    pub challenge_token: Option<String>,
    /// The 6-digit code of the authenticator app.
    #[validate(length(min = 6, max = 10))]
    #[schema(min_length = 6, max_length = 10, example = "123456")]
    pub code: Option<String>,
    /// Instead of `code`, during login: one of the recovery codes (single use).
    #[validate(length(min = 10, max = 32))]
    #[schema(min_length = 10, max_length = 32, example = "ABCDE-FGHJK")]
    pub recovery_code: Option<String>,
}

/// Either the tokens of a completed login, or the recovery codes of a just-enabled 2FA.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum VerifyTwoFactorResponse {
    Login(LoginResponse),
    Enabled(TwoFactorEnabled),
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactorEnabled {
    pub two_factor_enabled: bool,
    /// Ten single-use codes, shown once.
    pub recovery_codes: Vec<String>,
}

async fn complete_challenge(
    db: &DatabaseConnection,
    state: &AuthState,
    client: &ClientInfo,
    challenge_token: &str,
    code: Option<&str>,
    recovery: Option<&str>,
) -> Result<LoginResponse, AppError> {
    const INVALID: &str = "The challenge is invalid or has expired; sign in again";
    let (code, recovery) = match (code, recovery) {
        (Some(code), None) => (Some(code), None),
        (None, Some(recovery)) => (None, Some(recovery)),
        _ => {
            return Err(AppError::invalid(
                "code",
                "send either `code` or `recovery_code`",
            ));
        }
    };
    let now = Utc::now();
    let challenge = two_factor_challenge::Entity::find()
        .filter(
            two_factor_challenge::Column::TokenHash.eq(shared::crypto::token_hash(challenge_token)),
        )
        .one(db)
        .await?
        .ok_or_else(|| AppError::unauthenticated(INVALID))?;
    // Claim one of the challenge's five attempts before checking anything.
    let claimed = two_factor_challenge::Entity::update_many()
        .col_expr(
            two_factor_challenge::Column::FailedAttempts,
            sea_orm::ExprTrait::add(
                sea_orm::sea_query::Expr::col(two_factor_challenge::Column::FailedAttempts),
                1,
            ),
        )
        .filter(two_factor_challenge::Column::Id.eq(challenge.id))
        .filter(two_factor_challenge::Column::FailedAttempts.lt(two_factor::CHALLENGE_MAX_FAILURES))
        .filter(two_factor_challenge::Column::ConsumedAt.is_null())
        .filter(two_factor_challenge::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::unauthenticated(INVALID));
    }
    let account = users::load(db, challenge.user_id).await?;
    if !account.is_active || !attempts::reserve_totp(db, account.id, client).await? {
        return Err(AppError::unauthenticated(INVALID));
    }
    let check = match (code, recovery) {
        (Some(code), _) => two_factor::accept_code(db, state, &account, code).await?,
        (_, Some(recovery)) => {
            if two_factor::consume_recovery_code(db, account.id, recovery).await? {
                CodeCheck::Accepted
            } else {
                CodeCheck::Wrong
            }
        }
        (None, None) => CodeCheck::Wrong,
    };
    if check != CodeCheck::Accepted {
        return Err(AppError::unauthenticated("The code is not valid"));
    }
    // One login per challenge, even if two valid codes race.
    let consumed = two_factor_challenge::Entity::update_many()
        .col_expr(two_factor_challenge::Column::ConsumedAt, Some(now).into())
        .filter(two_factor_challenge::Column::Id.eq(challenge.id))
        .filter(two_factor_challenge::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    if consumed.rows_affected != 1 {
        return Err(AppError::unauthenticated(INVALID));
    }
    attempts::totp_succeeded(db, account.id).await?;
    let action = if recovery.is_some() {
        "login_recovery_code"
    } else {
        "login"
    };
    login_succeeded(db, state, &account, client, action).await
}

/// The second step of a login with 2FA (challenge + code or recovery code), or, with an access
/// token and no challenge, the confirmation that turns 2FA on after `POST /setup-2fa`.
#[utoipa::path(
    tag = "auth",
    security((), ("bearer" = [])),
    request_body = VerifyTwoFactorRequest,
    responses(
        (status = 200, description = "Tokens (login) or recovery codes (2FA enabled)", body = ApiResponse<VerifyTwoFactorResponse>),
        errors::AuthedWrite
    )
)]
#[post("/verify-2fa")]
pub async fn verify_two_factor(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: MaybeAuthUser,
    client: ClientInfo,
    body: Json<VerifyTwoFactorRequest>,
) -> Result<ApiResponse<VerifyTwoFactorResponse>, AppError> {
    let body = body.into_inner();
    match (body.challenge_token.as_deref(), caller.0) {
        (Some(challenge), _) => {
            let tokens = complete_challenge(
                &db,
                &state,
                &client,
                challenge,
                body.code.as_deref(),
                body.recovery_code.as_deref(),
            )
            .await?;
            Ok(ApiResponse::ok(VerifyTwoFactorResponse::Login(tokens)))
        }
        (None, Some(caller)) => {
            let code = body
                .code
                .ok_or_else(|| AppError::invalid("code", "is required"))?;
            let codes = two_factor::enable(&db, &state, &caller, &client, &code).await?;
            Ok(ApiResponse::ok(VerifyTwoFactorResponse::Enabled(
                TwoFactorEnabled {
                    two_factor_enabled: true,
                    recovery_codes: codes,
                },
            )))
        }
        (None, None) => Err(AppError::invalid(
            "challenge_token",
            "is required (or send an access token to confirm the 2FA setup)",
        )),
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 10, max = 200))]
    #[schema(min_length = 10, max_length = 200)]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and a new refresh token. Each refresh token
/// works once: presenting one again (a stolen copy, or a race) ends its whole session.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = ApiResponse<LoginResponse>),
        (status = 401, response = shared::openapi::Unauthenticated),
        errors::PublicWrite
    )
)]
#[post("/refresh-token")]
pub async fn refresh(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<RefreshRequest>,
) -> Result<ApiResponse<LoginResponse>, AppError> {
    const INVALID: &str = "The refresh token is invalid or has expired";
    let now = Utc::now();
    let hash = shared::crypto::token_hash(&body.refresh_token);
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db.get_ref())
        .await?
        .ok_or_else(|| AppError::unauthenticated(INVALID))?;
    let session = session::Entity::find_by_id(token.session_id)
        .one(db.get_ref())
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or_else(|| AppError::unauthenticated(INVALID))?;

    let txn = shared::db::begin_write(db.get_ref()).await?;
    // Claim the token: exactly one exchange wins.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Some(now).into())
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Reuse of a rotated token: whoever holds the family is not to be trusted.
        revoke_sessions_by_id(&txn, session.id, "refresh_token_reuse").await?;
        audit::record(
            &txn,
            &client.actor(Some(session.user_id)),
            AuditEntry::new("refresh_token_reuse", "session").entity_id(session.id),
        )
        .await?;
        txn.commit().await?;
        tracing::warn!(session_id = %session.id, "refresh token reuse: session revoked");
        return Err(AppError::unauthenticated(INVALID));
    }
    if token.expires_at <= now {
        txn.commit().await?;
        return Err(AppError::unauthenticated(INVALID));
    }
    let account = user::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| AppError::unauthenticated(INVALID))?;
    let rotated = new_refresh_token(&txn, session.id, now).await?;
    let mut active: session::ActiveModel = session.clone().into();
    active.last_used_at = Set(now);
    active.ip = Set(client.ip.clone());
    active.update(&txn).await?;
    let access = state
        .issuer
        .issue(account.id, account.role, session.id, now)
        .map_err(AppError::internal)?;
    let user = users::view(&txn, &account).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("refresh_token", "session").entity_id(session.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(LoginResponse {
        token: access.token,
        refresh_token: rotated,
        expires_in: ACCESS_TTL.num_seconds(),
        token_type: "Bearer",
        user,
    }))
}

async fn revoke_sessions_by_id(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    reason: &str,
) -> Result<u64, AppError> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Some(Utc::now()).into())
        .col_expr(
            session::Column::RevokedReason,
            Some(reason.to_owned()).into(),
        )
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    /// Sessions ended by this call.
    pub sessions_revoked: u64,
}

fn session_of(caller: &AuthUser) -> Result<Uuid, AppError> {
    caller.session_id.ok_or_else(|| {
        AppError::conflict(
            "This request is authenticated with a personal access token, which has no session; \
             revoke it with DELETE /api/auth/tokens/{id}",
        )
    })
}

/// End the current session: its access token and refresh token stop working at once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Signed out", body = ApiResponse<LoggedOut>), errors::AuthedWrite)
)]
#[post("/logout")]
pub async fn logout(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
) -> Result<ApiResponse<LoggedOut>, AppError> {
    let session_id = session_of(&caller)?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let n = revoke_sessions_by_id(&txn, session_id, "logout").await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("logout", "session").entity_id(session_id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(LoggedOut {
        sessions_revoked: n,
    }))
}

/// End every session of the account, this one included, and revoke its personal access tokens.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Every session ended", body = ApiResponse<LoggedOut>), errors::AuthedWrite)
)]
#[post("/logout-all")]
pub async fn logout_all(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
) -> Result<ApiResponse<LoggedOut>, AppError> {
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let n = revoke_sessions(&txn, caller.id, None, "logout_all").await?;
    crate::pat::revoke_all(&txn, caller.id).await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("logout_all", "user")
            .entity_id(caller.id)
            .after(&serde_json::json!({ "sessions_revoked": n })),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(LoggedOut {
        sessions_revoked: n,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCheck {
    pub valid: bool,
    pub user_id: Uuid,
    pub role: Role,
    /// `None` for a personal access token.
    pub session_id: Option<Uuid>,
    /// Seconds left on the access token (`None` for a personal access token).
    pub expires_in: Option<i64>,
}

/// Is this token still good? (Cheap; for dashboards deciding whether to refresh.)
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The token is valid", body = ApiResponse<SessionCheck>), errors::AuthedRead)
)]
#[get("/check-session")]
pub async fn check_session(caller: AuthUser) -> ApiResponse<SessionCheck> {
    ApiResponse::ok(SessionCheck {
        valid: true,
        user_id: caller.id,
        role: caller.role,
        session_id: caller.session_id,
        expires_in: caller
            .access_expires_at
            .map(|at| (at - Utc::now()).num_seconds().max(0)),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    /// The session this request belongs to.
    pub current: bool,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub last_used_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The account's active sessions, newest first.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Active sessions", body = ApiResponse<Vec<SessionView>>), errors::AuthedRead)
)]
#[get("/sessions")]
pub async fn list_sessions(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<SessionView>>, AppError> {
    let now = Utc::now();
    let sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(caller.id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::CreatedAt)
        .all(db.get_ref())
        .await?;
    Ok(ApiResponse::ok(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: Some(s.id) == caller.session_id,
                id: s.id,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

/// End one of the account's sessions (another device, say).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "Session ended", body = ApiResponse<LoggedOut>), errors::AuthedWrite)
)]
#[delete("/sessions/{id}")]
pub async fn revoke_session(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    id: Path<Uuid>,
) -> Result<ApiResponse<LoggedOut>, AppError> {
    let id = id.into_inner();
    let owned = session::Entity::find_by_id(id)
        .one(db.get_ref())
        .await?
        .filter(|s| s.user_id == caller.id && s.revoked_at.is_none())
        .ok_or_else(|| AppError::not_found("Session not found"))?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let n = revoke_sessions_by_id(&txn, owned.id, "revoked_by_user").await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("revoke_session", "session").entity_id(owned.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(LoggedOut {
        sessions_revoked: n,
    }))
}
