//! Two-factor authentication with TOTP (RFC 6238, 30 s steps, 6 digits, one step of skew) and
//! single-use recovery codes.
//!
//! - The secret is stored encrypted (AES-GCM, bound to the user's row).
//! - A code is accepted once: its time step is claimed with a conditional UPDATE, so even
//!   parallel submissions of one code let exactly one through.
//! - Five wrong codes end a login challenge; ten in 24 hours lock 2FA (and so logins) for the
//!   account for 24 hours, and the owner is e-mailed.

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

use crate::AuthState;
use crate::identity::AuthUser;
use crate::users::{ClientInfo, load};

pub const ISSUER_NAME: &str = "Presta";
pub const RECOVERY_CODE_COUNT: usize = 10;
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
pub const CHALLENGE_MAX_FAILURES: i32 = 5;
pub const ACCOUNT_MAX_FAILURES: i32 = 10;
pub const ACCOUNT_LOCK: Duration = Duration::hours(24);

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

/// Is 2FA locked for this account right now?
#[must_use]
pub fn is_locked(account: &user::Model, now: DateTime<Utc>) -> bool {
    account.totp_locked_until.is_some_and(|until| until > now)
}

/// Count a wrong code against the account (24-hour window); lock 2FA at the tenth.
///
/// # Errors
/// Database errors.
pub async fn record_failure(
    db: &DatabaseConnection,
    account: &user::Model,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let now = Utc::now();
    let fresh_window = account
        .totp_failed_since
        .is_none_or(|since| now - since > Duration::hours(24));
    let (count, since) = if fresh_window {
        (1, now)
    } else {
        (
            account.totp_failed_count + 1,
            account.totp_failed_since.unwrap_or(now),
        )
    };
    let txn = shared::db::begin_write(db).await?;
    let mut active: user::ActiveModel = account.clone().into();
    active.totp_failed_count = Set(count);
    active.totp_failed_since = Set(Some(since));
    let locking = count >= ACCOUNT_MAX_FAILURES && !is_locked(account, now);
    if locking {
        active.totp_locked_until = Set(Some(now + ACCOUNT_LOCK));
    }
    active.updated_at = Set(now);
    active.update(&txn).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("two_factor_failed", "user").entity_id(account.id),
    )
    .await?;
    if locking {
        audit::record(
            &txn,
            &client.actor(Some(account.id)),
            AuditEntry::new("two_factor_locked", "user").entity_id(account.id),
        )
        .await?;
        mailer::queue(
            &txn,
            Email {
                to: account.email.clone(),
                subject: "Two-factor sign-in locked on your Presta account".to_owned(),
                body: format!(
                    "Hello {},\n\nTen wrong two-factor codes were entered for your account within \
                     24 hours, so two-factor sign-in is locked until {} UTC.\n\nIf this was not \
                     you, someone knows your password: change it as soon as you can sign in.\n",
                    account.full_name,
                    (now + ACCOUNT_LOCK).format("%Y-%m-%d %H:%M")
                ),
                template: "two_factor_locked",
                user_id: Some(account.id),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// `POST /setup-2fa` answer: what an authenticator app needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorSetup {
    /// Base32 secret, for manual entry.
    pub secret: String,
    /// `otpauth://totp/Presta:...` URL.
    pub otpauth_url: String,
    /// The URL as a QR code: an SVG data URL (`data:image/svg+xml;base64,...`).
    pub qr_code: String,
}

/// Start setting up 2FA: a new secret, shown once; 2FA is on after the first valid code is sent
/// to `POST /verify-2fa`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
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
) -> Result<ApiResponse<TwoFactorSetup>, AppError> {
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_some() {
        return Err(AppError::conflict(
            "Two-factor authentication is already on; disable it first to change the secret",
        ));
    }
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
    let mut active: user::ActiveModel = account.into();
    active.totp_secret_enc = Set(Some(sealed));
    active.totp_last_step = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(db.get_ref()).await?;
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
/// 409 without a pending setup, 422 for a wrong code.
pub async fn enable(
    db: &DatabaseConnection,
    state: &AuthState,
    caller: &AuthUser,
    client: &ClientInfo,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let account = load(db, caller.id).await?;
    if account.totp_enabled_at.is_some() {
        return Err(AppError::conflict(
            "Two-factor authentication is already on",
        ));
    }
    if account.totp_secret_enc.is_none() {
        return Err(AppError::conflict("Call POST /api/auth/setup-2fa first"));
    }
    match accept_code(db, state, &account, code).await? {
        CodeCheck::Accepted => {}
        CodeCheck::Wrong | CodeCheck::Replayed => {
            return Err(AppError::invalid(
                "code",
                "is not the current code of your authenticator",
            ));
        }
    }
    let txn = shared::db::begin_write(db).await?;
    let mut active: user::ActiveModel = account.clone().into();
    active.totp_enabled_at = Set(Some(Utc::now()));
    active.totp_failed_count = Set(0);
    active.totp_failed_since = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactorRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
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

/// Check "something you know and something you have" for a sensitive change.
async fn check_password_and_code(
    db: &DatabaseConnection,
    state: &AuthState,
    account: &user::Model,
    password: Option<&str>,
    code: &str,
) -> Result<(), AppError> {
    if let Some(password) = password
        && !state
            .hasher
            .verify(password, Some(&account.password_hash))
            .await?
    {
        return Err(AppError::invalid(
            "password",
            "is not your current password",
        ));
    }
    let totp_ok = accept_code(db, state, account, code).await? == CodeCheck::Accepted;
    if !totp_ok && !consume_recovery_code(db, account.id, code).await? {
        return Err(AppError::invalid("code", "is not a valid code"));
    }
    Ok(())
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
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_none() {
        return Err(AppError::conflict("Two-factor authentication is not on"));
    }
    check_password_and_code(
        db.get_ref(),
        &state,
        &account,
        Some(&body.password),
        &body.code,
    )
    .await?;
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateRecoveryCodesRequest {
    /// A current TOTP code.
    #[validate(length(min = 6, max = 10))]
    #[schema(min_length = 6, max_length = 10, example = "123456")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
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
    let account = load(db.get_ref(), caller.id).await?;
    if account.totp_enabled_at.is_none() {
        return Err(AppError::conflict("Two-factor authentication is not on"));
    }
    if accept_code(db.get_ref(), &state, &account, &body.code).await? != CodeCheck::Accepted {
        return Err(AppError::invalid(
            "code",
            "is not the current code of your authenticator",
        ));
    }
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
