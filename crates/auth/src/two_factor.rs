//! Two-factor authentication with TOTP (RFC 6238, 30 s steps, 6 digits, one step of skew) and
//! single-use recovery codes.
//!
//! - The secret is stored encrypted (AES-GCM, bound to the user's row).
//! - A code is accepted once: its time step is claimed with a conditional UPDATE, so even
//!   parallel submissions of one code let exactly one through.
//! - Every code checked counts first (see [`crate::attempts`]): five attempts end a login
//!   challenge; ten failures in 24 hours lock 2FA (and so logins) for 24 hours, and the owner is
//!   e-mailed. Credential management needs a signed-in session and the password.

use actix_web::{post, web};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use shared::audit::{self, AuditEntry};
use shared::extract::Json;
use shared::mailer::{self, Email};
use shared::openapi::errors;
use shared::{ApiResponse, AppError};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use entity::{recovery_code, user};

use crate::identity::AuthUser;
use crate::users::{ClientInfo, load};
use crate::{AuthState, attempts};

pub const ISSUER_NAME: &str = "Presta";
pub const RECOVERY_CODE_COUNT: usize = 10;
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Attempts one login challenge allows.
pub const CHALLENGE_MAX_FAILURES: i32 = 5;

fn secret_context(user_id: Uuid) -> String {
    format!("users.totp_secret:{user_id}")
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret))
        .with_issuer(Some(ISSUER_NAME))
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
}

fn secret_of(state: &AuthState, account: &user::Model) -> Result<Vec<u8>, AppError> {
    let stored = account
        .totp_secret_enc
        .as_ref()
        .ok_or_else(|| AppError::conflict("Two-factor authentication is not set up"))?;
    shared::crypto::decrypt(&state.encryption_key, stored, &secret_context(account.id))
        .map_err(AppError::internal)
}

/// Outcome of checking a TOTP code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Wrong,
    /// Right code, but its time step was already used.
    Replayed,
}

fn unix(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// Check a TOTP code and claim its time step so it cannot be used again.
///
/// # Errors
/// Database or decryption errors.
pub async fn accept_code(
    db: &impl ConnectionTrait,
    state: &AuthState,
    account: &user::Model,
    code: &str,
) -> Result<CodeCheck, AppError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret_of(state, account)?, &account.email)?;
    let Some(step) = totp.check(&code, unix(Utc::now())) else {
        return Ok(CodeCheck::Wrong);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Some(step).into())
        .filter(user::Column::Id.eq(account.id))
        .filter(
            sea_orm::Condition::any()
                .add(user::Column::TotpLastStep.is_null())
                .add(user::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(if claimed.rows_affected == 1 {
        CodeCheck::Accepted
    } else {
        CodeCheck::Replayed
    })
}

fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Spend a recovery code (once, even under parallel attempts).
///
/// # Errors
/// Database errors.
pub async fn consume_recovery_code(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    code: &str,
) -> Result<bool, DbErr> {
    let hash = shared::crypto::token_hash(&normalize_recovery(code));
    let spent = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Some(Utc::now()).into())
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// Ten fresh recovery codes (`ABCDE-FGHJK`), replacing any previous ones.
///
/// # Errors
/// Database errors.
pub async fn replace_recovery_codes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<String>, DbErr> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    // Crockford-like alphabet without look-alikes (no 0/O, 1/I/L).
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    let now = Utc::now();
    for _ in 0..RECOVERY_CODE_COUNT {
        let mut bytes = [0u8; 10];
        rand::fill(&mut bytes);
        let chars: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        let code = format!("{}-{}", &chars[..5], &chars[5..]);
        recovery_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            code_hash: Set(shared::crypto::token_hash(&normalize_recovery(&code))),
            created_at: Set(now),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        codes.push(code);
    }
    Ok(codes)
}

/// Check the password of the caller, counting the attempt (see [`crate::attempts`]).
///
/// # Errors
/// 422 naming `password` when it is wrong (or the account is locked for guessing).
pub async fn check_password(
    db: &DatabaseConnection,
    state: &AuthState,
    account: &user::Model,
    password: &str,
    field: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if !attempts::reserve_password(db, account.id, client).await? {
        state.hasher.verify(password, None).await?;
        return Err(AppError::invalid(
            field,
            "cannot be checked now: too many wrong attempts, try again later",
        ));
    }
    if !state
        .hasher
        .verify(password, Some(&account.password_hash))
        .await?
    {
        return Err(AppError::invalid(field, "is not your current password"));
    }
    attempts::password_succeeded(db, account.id).await
}

/// Check a TOTP code (or, when `allow_recovery`, a recovery code), counting the attempt.
///
/// # Errors
/// 422 naming `code` when it is wrong (or 2FA is locked for guessing).
pub async fn check_code(
    db: &DatabaseConnection,
    state: &AuthState,
    account: &user::Model,
    code: &str,
    allow_recovery: bool,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if !attempts::reserve_totp(db, account.id, client).await? {
        return Err(AppError::invalid(
            "code",
            "cannot be checked now: too many wrong codes, try again tomorrow",
        ));
    }
    let accepted = accept_code(db, state, account, code).await? == CodeCheck::Accepted
        || (allow_recovery && consume_recovery_code(db, account.id, code).await?);
    if !accepted {
        return Err(AppError::invalid("code", "is not a valid code"));
    }
    attempts::totp_succeeded(db, account.id).await
}

/// `POST /setup-2fa` answer: what an authenticator app needs.
#[derive(Serialize, ToSchema)]
pub struct TwoFactorSetup {
    /// Base32 secret, for manual entry.
    pub secret: String,
    /// `otpauth://totp/Presta:...` URL.
    pub otpauth_url: String,
    /// The URL as a QR code: an SVG data URL (`data:image/svg+xml;base64,...`).
    pub qr_code: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupTwoFactorRequest {
    /// The current password: a borrowed session must not enrol its own authenticator.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

/// Start setting up 2FA (password required): a new secret, shown once; 2FA is on after the
/// first valid code is sent to `POST /verify-2fa`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = SetupTwoFactorRequest,
    responses(
        (status = 200, description = "Secret and QR code", body = ApiResponse<TwoFactorSetup>),
        errors::AuthedWrite
    )
)]
#[post("/setup-2fa")]
pub async fn setup(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<SetupTwoFactorRequest>,
) -> Result<ApiResponse<TwoFactorSetup>, AppError> {
    caller.require_session()?;
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_some() {
        return Err(AppError::conflict(
            "Two-factor authentication is already on; disable it first to change the secret",
        ));
    }
    check_password(&db, &state, &account, &body.password, "password", &client).await?;
    let mut secret = [0u8; 20];
    rand::fill(&mut secret);
    let totp = totp(secret.to_vec(), &account.email)?;
    let otpauth_url = totp
        .to_url()
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
    let svg = qrcode::QrCode::new(otpauth_url.as_bytes())
        .map_err(AppError::internal)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build();
    let sealed =
        shared::crypto::encrypt(&state.encryption_key, &secret, &secret_context(account.id))
            .map_err(AppError::internal)?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let mut active: user::ActiveModel = account.into();
    active.totp_secret_enc = Set(Some(sealed));
    active.totp_last_step = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("two_factor_setup_started", "user").entity_id(caller.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(TwoFactorSetup {
        secret: totp.secret().to_base32(),
        otpauth_url,
        qr_code: format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg)
        ),
    }))
}

/// Turn 2FA on (first valid code after setup); returns the recovery codes, shown once.
///
/// # Errors
/// 409 without a pending setup (or when it is already on), 422 for a wrong code.
pub async fn enable(
    db: &DatabaseConnection,
    state: &AuthState,
    caller: &AuthUser,
    client: &ClientInfo,
    code: &str,
) -> Result<Vec<String>, AppError> {
    caller.require_session()?;
    let account = load(db, caller.id).await?;
    if account.totp_enabled_at.is_some() {
        return Err(AppError::conflict(
            "Two-factor authentication is already on",
        ));
    }
    if account.totp_secret_enc.is_none() {
        return Err(AppError::conflict("Call POST /api/auth/setup-2fa first"));
    }
    check_code(db, state, &account, code, false, client).await?;
    let txn = shared::db::begin_write(db).await?;
    // Once, even if two confirmations race.
    let switched = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabledAt, Some(Utc::now()).into())
        .col_expr(user::Column::UpdatedAt, Utc::now().into())
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::TotpEnabledAt.is_null())
        .exec(&txn)
        .await?;
    if switched.rows_affected != 1 {
        return Err(AppError::conflict(
            "Two-factor authentication is already on",
        ));
    }
    let codes = replace_recovery_codes(&txn, account.id).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("two_factor_enabled", "user").entity_id(account.id),
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactorRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
    /// A current TOTP code or an unused recovery code.
    #[validate(length(min = 6, max = 32))]
    #[schema(min_length = 6, max_length = 32, example = "123456")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorStatus {
    pub two_factor_enabled: bool,
}

/// Turn 2FA off (password and a current code or a recovery code).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = DisableTwoFactorRequest,
    responses(
        (status = 200, description = "2FA is off", body = ApiResponse<TwoFactorStatus>),
        errors::AuthedWrite
    )
)]
#[post("/disable-2fa")]
pub async fn disable(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<DisableTwoFactorRequest>,
) -> Result<ApiResponse<TwoFactorStatus>, AppError> {
    caller.require_session()?;
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_none() {
        return Err(AppError::conflict("Two-factor authentication is not on"));
    }
    check_password(&db, &state, &account, &body.password, "password", &client).await?;
    check_code(&db, &state, &account, &body.code, true, &client).await?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let mut active: user::ActiveModel = account.clone().into();
    active.totp_enabled_at = Set(None);
    active.totp_secret_enc = Set(None);
    active.totp_last_step = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("two_factor_disabled", "user").entity_id(account.id),
    )
    .await?;
    mailer::queue(
        &txn,
        Email {
            to: account.email.clone(),
            subject: "Two-factor authentication was turned off".to_owned(),
            body: format!(
                "Hello {},\n\nTwo-factor authentication was just turned off for your Presta \
                 account. If this was not you, reset your password and turn it back on.\n",
                account.full_name
            ),
            template: "two_factor_disabled",
            user_id: Some(account.id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(TwoFactorStatus {
        two_factor_enabled: false,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateRecoveryCodesRequest {
    /// A current TOTP code.
    #[validate(length(min = 6, max = 10))]
    #[schema(min_length = 6, max_length = 10, example = "123456")]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown once. Each replaces a TOTP code once.
    pub recovery_codes: Vec<String>,
}

/// Replace the recovery codes (a current TOTP code is required); the old ones stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = RegenerateRecoveryCodesRequest,
    responses(
        (status = 200, description = "New codes, shown once", body = ApiResponse<RecoveryCodes>),
        errors::AuthedWrite
    )
)]
#[post("/recovery-codes")]
pub async fn regenerate_recovery_codes(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<RegenerateRecoveryCodesRequest>,
) -> Result<ApiResponse<RecoveryCodes>, AppError> {
    caller.require_session()?;
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_none() {
        return Err(AppError::conflict("Two-factor authentication is not on"));
    }
    check_code(&db, &state, &account, &body.code, false, &client).await?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let codes = replace_recovery_codes(&txn, account.id).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("recovery_codes_regenerated", "user").entity_id(account.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// The current code for a secret (tests and tools).
///
/// # Errors
/// The secret is not a TOTP secret.
pub fn current_code(secret_base32: &str, now: DateTime<Utc>) -> Result<String, AppError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| AppError::invalid("secret", "is not base32"))?;
    let totp = totp(secret.as_bytes().to_vec(), "account")?;
    Ok(totp.generate(unix(now)).to_string())
}
