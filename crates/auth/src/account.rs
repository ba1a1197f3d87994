//! The account: registration and e-mail verification, forgotten and changed passwords, the
//! profile, the user's own AI keys, and permissions.
//!
//! Registration, resend-verification and forgot-password answer the same whether or not the
//! address has an account, and cost the same (one Argon2 hash each way): nothing reveals who
//! is registered.

use actix_web::{get, post, put, web};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::audit::{self, Actor, AuditEntry};
use shared::extract::Json;
use shared::jobs::{JobContext, JobError, JobHandler};
use shared::mailer::{self, Email};
use shared::openapi::errors;
use shared::{ApiResponse, AppError, FieldErrors};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use entity::company::ClientKind;
use entity::{Role, auth_token, company, user};

use crate::identity::AuthUser;
use crate::password::check_policy;
use crate::session::{LoginResponse, open_session, revoke_sessions};
use crate::users::{self, ClientInfo, UserView};
use crate::{AuthState, permissions};

/// E-mail verification links last a day.
pub const VERIFY_TTL: Duration = Duration::hours(24);
/// Password reset links last an hour.
pub const RESET_TTL: Duration = Duration::minutes(60);
/// At most one verification e-mail per account in this span.
pub const RESEND_EVERY: Duration = Duration::minutes(10);
/// At most one reset e-mail per account in this span.
pub const RESET_EVERY: Duration = Duration::minutes(2);

/// Roles one can register as (superadmins are created by superadmins or the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegisterRole {
    Client,
    Prestataire,
    Revendeur,
}

impl From<RegisterRole> for Role {
    fn from(role: RegisterRole) -> Self {
        match role {
            RegisterRole::Client => Role::Client,
            RegisterRole::Prestataire => Role::Prestataire,
            RegisterRole::Revendeur => Role::Revendeur,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[validate(email, length(max = 254))]
    #[schema(
        format = "email",
        max_length = 254,
        example = "marie.durand@example.fr"
    )]
    pub email: String,
    /// At least 12 characters, not a common password, not containing the e-mail address.
    #[validate(length(min = 12, max = 128))]
    #[schema(min_length = 12, max_length = 128, example = "Correct-Horse-Battery-9")]
    pub password: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "Marie Durand")]
    pub full_name: String,
    pub role: RegisterRole,
    /// Required for a client: the company the account is the first user of.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "BTP Durand SARL")]
    pub company_name: Option<String>,
    #[validate(length(min = 4, max = 30))]
    #[schema(min_length = 4, max_length = 30, example = "+33 6 12 34 56 78")]
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "If this address can be used, an e-mail is on its way.")]
    pub message: &'static str,
}

const ACCEPTED: &str = "If this address can be used, an e-mail is on its way.";

fn link(public_url: &str, path: &str, token: &str) -> String {
    format!("{public_url}{path}?token={token}")
}

async fn issue_auth_token(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: &str,
    ttl: Duration,
) -> Result<String, AppError> {
    let token = shared::crypto::random_token(32);
    let now = Utc::now();
    auth_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.to_owned()),
        token_hash: Set(shared::crypto::token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

async fn send_verification(
    db: &impl ConnectionTrait,
    public_url: &str,
    account: &user::Model,
) -> Result<(), AppError> {
    let token = issue_auth_token(db, account.id, auth_token::VERIFY_EMAIL, VERIFY_TTL).await?;
    mailer::queue(
        db,
        Email {
            to: account.email.clone(),
            subject: "Confirm your e-mail address for Presta".to_owned(),
            body: format!(
                "Hello {},\n\nConfirm your address to activate your Presta account:\n\n{}\n\nThe \
                 link works for 24 hours. If you did not create an account, ignore this e-mail.\n",
                account.full_name,
                link(public_url, "/verify-email", &token)
            ),
            template: "verify_email",
            user_id: Some(account.id),
        },
    )
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::VerificationSentAt, Some(Utc::now()).into())
        .filter(user::Column::Id.eq(account.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Re-send the verification mail unless one went out recently.
///
/// # Errors
/// Database errors.
pub async fn resend_verification_if_due(
    db: &DatabaseConnection,
    public_url: &str,
    account: &user::Model,
) -> Result<(), AppError> {
    let due = account
        .verification_sent_at
        .is_none_or(|at| Utc::now() - at >= RESEND_EVERY);
    if account.email_verified_at.is_none() && due {
        let txn = shared::db::begin_write(db).await?;
        send_verification(&txn, public_url, account).await?;
        audit::record(
            &txn,
            &Actor {
                user_id: Some(account.id),
                ..Actor::system()
            },
            AuditEntry::new("verification_sent", "user").entity_id(account.id),
        )
        .await?;
        txn.commit().await?;
    }
    Ok(())
}

fn field(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

/// Create an account. Answers 202 with the same body whether or not the address is taken (the
/// owner of an existing account is told by e-mail instead); the new account signs in once its
/// address is verified, and a revendeur once a superadmin has activated it.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RegisterRequest,
    responses((status = 202, description = "Accepted (whether or not the address exists)", body = ApiResponse<Accepted>), errors::PublicWrite)
)]
#[post("/register")]
pub async fn register(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<RegisterRequest>,
) -> Result<ApiResponse<Accepted>, AppError> {
    let body = body.into_inner();
    let email = users::normalize_email(&body.email);
    let mut problems = FieldErrors::new();
    if let Err(message) = check_policy(&body.password, &email) {
        problems.add("password", message);
    }
    let company_name = body
        .company_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if body.role == RegisterRole::Client && company_name.is_none() {
        problems.add("company_name", "is required for a client account");
    }
    if body.full_name.trim().is_empty() {
        problems.add("full_name", "must not be blank");
    }
    if body.phone.as_deref().is_some_and(|p| p.trim().is_empty()) {
        problems.add("phone", "must not be blank");
    }
    problems.into_result()?;

    // Hash first, whatever happens next: the answer costs the same for a taken address.
    let password_hash = state.hasher.hash(&body.password).await?;
    if let Some(existing) = users::find_by_email(db.get_ref(), &email).await? {
        notify_existing_owner(&db, &existing).await?;
        return Ok(ApiResponse::accepted(Accepted { message: ACCEPTED }));
    }

    let role: Role = body.role.into();
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let company_id = match (role, company_name) {
        (Role::Client, Some(name)) => {
            let company = company::new_client(name, Some(ClientKind::Entreprise))
                .insert(&txn)
                .await?;
            Some(company.id)
        }
        _ => None,
    };
    let inserted = users::NewUser {
        email: email.clone(),
        password_hash,
        full_name: body.full_name,
        phone: body.phone,
        role,
        company_id,
        // A revendeur waits for a superadmin.
        is_active: role != Role::Revendeur,
        verified: false,
        must_change_password: false,
    }
    .into_active_model()
    .insert(&txn)
    .await;
    let account = match inserted {
        Ok(account) => account,
        // Registered concurrently under the same address: same answer as above.
        Err(err) if shared::error::unique_violation(&err) => {
            drop(txn);
            return Ok(ApiResponse::accepted(Accepted { message: ACCEPTED }));
        }
        Err(err) => return Err(err.into()),
    };
    send_verification(&txn, &state.public_url, &account).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("register", "user")
            .entity_id(account.id)
            .after(&serde_json::json!({
                "email": account.email, "role": account.role, "company_id": account.company_id
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::accepted(Accepted { message: ACCEPTED }))
}

/// At most one such warning per hour per account, so registrations cannot flood an inbox.
async fn notify_existing_owner(
    db: &DatabaseConnection,
    existing: &user::Model,
) -> Result<(), AppError> {
    let recent = entity::outbox_email::Entity::find()
        .filter(entity::outbox_email::Column::UserId.eq(existing.id))
        .filter(entity::outbox_email::Column::Template.eq("register_existing"))
        .filter(entity::outbox_email::Column::CreatedAt.gt(Utc::now() - Duration::hours(1)))
        .one(db)
        .await?;
    if recent.is_some() {
        return Ok(());
    }
    let txn = shared::db::begin_write(db).await?;
    mailer::queue(
        &txn,
        Email {
            to: existing.email.clone(),
            subject: "Someone tried to register with your address".to_owned(),
            body: format!(
                "Hello {},\n\nSomeone tried to create a Presta account with this address, which \
                 already has one. If it was you, sign in instead, or use \"forgot password\".\n",
                existing.full_name
            ),
            template: "register_existing",
            user_id: Some(existing.id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the e-mailed link.
    #[validate(length(min = 10, max = 200))]
    #[schema(min_length = 10, max_length = 200)]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerified {
    pub email_verified: bool,
}

/// Spend a single-use e-mailed token of `purpose`; returns its user.
async fn spend_auth_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: &str,
) -> Result<Uuid, AppError> {
    let now = Utc::now();
    let row = auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(shared::crypto::token_hash(token)))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .one(db)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(|| field("token", "is invalid or has expired"))?;
    let spent = auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Some(now).into())
        .filter(auth_token::Column::Id.eq(row.id))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Err(field("token", "is invalid or has expired"));
    }
    Ok(row.user_id)
}

/// Confirm an e-mail address with the token from the verification e-mail.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = TokenRequest,
    responses((status = 200, description = "Address confirmed", body = ApiResponse<EmailVerified>), errors::PublicWrite)
)]
#[post("/verify-email")]
pub async fn verify_email(
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<TokenRequest>,
) -> Result<ApiResponse<EmailVerified>, AppError> {
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let user_id = spend_auth_token(&txn, &body.token, auth_token::VERIFY_EMAIL).await?;
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Some(Utc::now()).into())
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &client.actor(Some(user_id)),
        AuditEntry::new("verify_email", "user").entity_id(user_id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(EmailVerified {
        email_verified: true,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[validate(email, length(max = 254))]
    #[schema(
        format = "email",
        max_length = 254,
        example = "marie.durand@example.fr"
    )]
    pub email: String,
}

/// Job kind: e-mail a password reset link to an address, if it has an active account.
pub const RESET_MAIL_JOB: &str = "auth.reset_password_mail";
/// Job kind: e-mail a new verification link to an address, if it has an unverified account.
pub const VERIFICATION_MAIL_JOB: &str = "auth.verification_mail";

/// What the two mail jobs receive: the address as typed, and where the request came from.
#[derive(Debug, Serialize, Deserialize)]
struct MailRequest {
    email: String,
    ip: Option<String>,
    request_id: String,
}

/// Queue a mail job whatever the address: the answer and its cost reveal nothing.
async fn queue_mail_request(
    db: &DatabaseConnection,
    kind: &str,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let payload = serde_json::to_value(MailRequest {
        email: users::normalize_email(email),
        ip: client.ip.clone(),
        request_id: client.request_id.clone(),
    })
    .map_err(AppError::internal)?;
    shared::jobs::enqueue(db, shared::jobs::NewJob::new(kind, payload).max_attempts(3)).await?;
    Ok(())
}

/// Send the verification e-mail again (at most every 10 minutes per account). Same answer, in
/// the same time, whether or not the address has an account: the work happens in a job.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = EmailRequest,
    responses((status = 202, description = "Accepted", body = ApiResponse<Accepted>), errors::PublicWrite)
)]
#[post("/resend-verification")]
pub async fn resend_verification(
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<EmailRequest>,
) -> Result<ApiResponse<Accepted>, AppError> {
    queue_mail_request(&db, VERIFICATION_MAIL_JOB, &body.email, &client).await?;
    Ok(ApiResponse::accepted(Accepted { message: ACCEPTED }))
}

/// E-mail a password reset link (valid 60 minutes, single use). Same answer, in the same time,
/// whether or not the address has an account: the work happens in a job.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = EmailRequest,
    responses((status = 202, description = "Accepted", body = ApiResponse<Accepted>), errors::PublicWrite)
)]
#[post("/forgot-password")]
pub async fn forgot_password(
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<EmailRequest>,
) -> Result<ApiResponse<Accepted>, AppError> {
    queue_mail_request(&db, RESET_MAIL_JOB, &body.email, &client).await?;
    Ok(ApiResponse::accepted(Accepted { message: ACCEPTED }))
}

/// The job behind `forgot-password`.
pub struct ResetMailJob {
    pub public_url: String,
}

#[async_trait::async_trait]
impl JobHandler for ResetMailJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        let request: MailRequest = ctx.payload()?;
        let db = ctx.db();
        let Some(account) = users::find_by_email(db, &request.email).await? else {
            return Ok(None);
        };
        let recent = auth_token::Entity::find()
            .filter(auth_token::Column::UserId.eq(account.id))
            .filter(auth_token::Column::Purpose.eq(auth_token::RESET_PASSWORD))
            .filter(auth_token::Column::CreatedAt.gt(Utc::now() - RESET_EVERY))
            .one(db)
            .await?;
        if recent.is_some() || !account.is_active {
            return Ok(None);
        }
        let txn = shared::db::begin_write(db).await?;
        let token = issue_auth_token(&txn, account.id, auth_token::RESET_PASSWORD, RESET_TTL)
            .await
            .map_err(|_| JobError::Retryable("could not store the reset token".to_owned()))?;
        mailer::queue(
            &txn,
            Email {
                to: account.email.clone(),
                subject: "Reset your Presta password".to_owned(),
                body: format!(
                    "Hello {},\n\nChoose a new password here:\n\n{}\n\nThe link works once, for \
                     60 minutes. If you did not ask for it, ignore this e-mail: your password \
                     stays as it is.\n",
                    account.full_name,
                    link(&self.public_url, "/reset-password", &token)
                ),
                template: "reset_password",
                user_id: Some(account.id),
            },
        )
        .await?;
        let actor = Actor {
            user_id: Some(account.id),
            ip: request.ip,
            request_id: Some(request.request_id),
        };
        audit::record(
            &txn,
            &actor,
            AuditEntry::new("password_reset_requested", "user").entity_id(account.id),
        )
        .await?;
        txn.commit().await?;
        Ok(None)
    }
}

/// The job behind `resend-verification`.
pub struct VerificationMailJob {
    pub public_url: String,
}

#[async_trait::async_trait]
impl JobHandler for VerificationMailJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        let request: MailRequest = ctx.payload()?;
        if let Some(account) = users::find_by_email(ctx.db(), &request.email).await? {
            resend_verification_if_due(ctx.db(), &self.public_url, &account)
                .await
                .map_err(|_| JobError::Retryable("could not send the verification".to_owned()))?;
        }
        Ok(None)
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    #[validate(length(min = 10, max = 200))]
    #[schema(min_length = 10, max_length = 200)]
    pub token: String,
    #[validate(length(min = 12, max = 128))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    pub password_changed: bool,
    /// Sessions ended by the change.
    pub sessions_revoked: u64,
}

async fn set_password(
    db: &impl ConnectionTrait,
    account: &user::Model,
    password_hash: String,
) -> Result<user::Model, AppError> {
    let now = Utc::now();
    let mut active: user::ActiveModel = account.clone().into();
    active.password_hash = Set(password_hash);
    active.password_changed_at = Set(now);
    active.password_must_change = Set(false);
    active.failed_login_count = Set(0);
    active.locked_until = Set(None);
    active.lock_notified = Set(false);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

async fn password_changed_mail(
    db: &impl ConnectionTrait,
    account: &user::Model,
) -> Result<(), AppError> {
    mailer::queue(
        db,
        Email {
            to: account.email.clone(),
            subject: "Your Presta password was changed".to_owned(),
            body: format!(
                "Hello {},\n\nYour password was just changed and every session was signed out. \
                 If this was not you, use \"forgot password\" right away.\n",
                account.full_name
            ),
            template: "password_changed",
            user_id: Some(account.id),
        },
    )
    .await?;
    Ok(())
}

/// Set a new password with the token from the reset e-mail. Every session ends.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = ResetPasswordRequest,
    responses((status = 200, description = "Password changed", body = ApiResponse<PasswordChanged>), errors::PublicWrite)
)]
#[post("/reset-password")]
pub async fn reset_password(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    client: ClientInfo,
    body: Json<ResetPasswordRequest>,
) -> Result<ApiResponse<PasswordChanged>, AppError> {
    let body = body.into_inner();
    // Check the token before the (slow) hash, without spending it yet.
    let now = Utc::now();
    let row = auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(shared::crypto::token_hash(&body.token)))
        .filter(auth_token::Column::Purpose.eq(auth_token::RESET_PASSWORD))
        .one(db.get_ref())
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(|| field("token", "is invalid or has expired"))?;
    let account = users::load(db.get_ref(), row.user_id).await?;
    check_policy(&body.password, &account.email).map_err(|m| field("password", m))?;
    let hash = state.hasher.hash(&body.password).await?;

    let txn = shared::db::begin_write(db.get_ref()).await?;
    spend_auth_token(&txn, &body.token, auth_token::RESET_PASSWORD).await?;
    let account = set_password(&txn, &account, hash).await?;
    // Other reset links die with this one.
    auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Some(now).into())
        .filter(auth_token::Column::UserId.eq(account.id))
        .filter(auth_token::Column::Purpose.eq(auth_token::RESET_PASSWORD))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    // Following the link proves the address.
    if account.email_verified_at.is_none() {
        user::Entity::update_many()
            .col_expr(user::Column::EmailVerifiedAt, Some(now).into())
            .filter(user::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
    }
    let revoked = revoke_sessions(&txn, account.id, None, "password_reset").await?;
    // Whoever was in the account may have minted tokens for later: they end too.
    crate::pat::revoke_all(&txn, account.id).await?;
    password_changed_mail(&txn, &account).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("password_reset", "user").entity_id(account.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(PasswordChanged {
        password_changed: true,
        sessions_revoked: revoked,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub current_password: String,
    #[validate(length(min = 12, max = 128))]
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Change the password. Every session and access token of the account ends (this one too);
/// the answer carries fresh tokens for this client.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; new tokens for this client", body = ApiResponse<LoginResponse>), errors::AuthedWrite)
)]
#[post("/change-password")]
pub async fn change_password(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<ChangePasswordRequest>,
) -> Result<ApiResponse<LoginResponse>, AppError> {
    caller.require_session()?;
    let body = body.into_inner();
    let account = users::load(db.get_ref(), caller.id).await?;
    crate::two_factor::check_password(
        &db,
        &state,
        &account,
        &body.current_password,
        "current_password",
        &client,
    )
    .await?;
    check_policy(&body.new_password, &account.email).map_err(|m| field("new_password", m))?;
    if body.new_password == body.current_password {
        return Err(field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let hash = state.hasher.hash(&body.new_password).await?;
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let account = set_password(&txn, &account, hash).await?;
    revoke_sessions(&txn, account.id, None, "password_changed").await?;
    crate::pat::revoke_all(&txn, account.id).await?;
    let response = open_session(&txn, &state, &account, &client).await?;
    password_changed_mail(&txn, &account).await?;
    audit::record(
        &txn,
        &client.actor(Some(account.id)),
        AuditEntry::new("password_changed", "user").entity_id(account.id),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(response))
}

/// The caller's account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = ApiResponse<UserView>), errors::AuthedRead)
)]
#[get("/me")]
pub async fn me(
    db: web::Data<DatabaseConnection>,
    state: web::Data<AuthState>,
    caller: AuthUser,
) -> Result<ApiResponse<UserView>, AppError> {
    Ok(ApiResponse::ok(
        users::load_view(db.get_ref(), state.inline_reads.as_deref(), caller.id).await?,
    ))
}

/// What a user may change about themselves. Anything else (role, company, activation) is
/// refused by name.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "Marie Durand")]
    pub full_name: Option<String>,
    #[validate(length(min = 4, max = 30))]
    #[schema(min_length = 4, max_length = 30, example = "+33 6 12 34 56 78")]
    pub phone: Option<String>,
}

async fn update_profile_for(
    db: &DatabaseConnection,
    caller: &AuthUser,
    client: &ClientInfo,
    body: UpdateProfileRequest,
) -> Result<UserView, AppError> {
    let account = users::load(db, caller.id).await?;
    let before = users::view(db, &account).await?;
    let txn = shared::db::begin_write(db).await?;
    let mut active: user::ActiveModel = account.into();
    if let Some(name) = body.full_name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(field("full_name", "must not be blank"));
        }
        active.full_name = Set(name);
    }
    if let Some(phone) = body.phone {
        active.phone = Set(Some(phone.trim().to_owned()));
    }
    active.updated_at = Set(Utc::now());
    let account = active.update(&txn).await?;
    let after = users::view(&txn, &account).await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("update_profile", "user")
            .entity_id(caller.id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Update the caller's name or phone.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, description = "The updated account", body = ApiResponse<UserView>), errors::AuthedWrite)
)]
#[put("/profile")]
pub async fn update_profile(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<UpdateProfileRequest>,
) -> Result<ApiResponse<UserView>, AppError> {
    Ok(ApiResponse::ok(
        update_profile_for(&db, &caller, &client, body.into_inner()).await?,
    ))
}

/// Same as `PUT /api/auth/profile` (the JobTracker's name for it).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, description = "The updated account", body = ApiResponse<UserView>), errors::AuthedWrite)
)]
#[put("/update-profile")]
pub async fn update_profile_alias(
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<UpdateProfileRequest>,
) -> Result<ApiResponse<UserView>, AppError> {
    Ok(ApiResponse::ok(
        update_profile_for(&db, &caller, &client, body.into_inner()).await?,
    ))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApiKeysRequest {
    /// Google AI key; `null` removes it, absent keeps it.
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 8, max = 300))]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 300)]
    pub google_ai_key: Option<Option<String>>,
    /// OpenAI key; `null` removes it, absent keeps it.
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 8, max = 300))]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 300)]
    pub openai_key: Option<Option<String>>,
}

/// A stored key as it is shown: never in clear.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskedKey {
    pub configured: bool,
    /// First and last characters only (`sk-p…9xQa`).
    pub masked: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeys {
    pub google_ai_key: MaskedKey,
    pub openai_key: MaskedKey,
}

fn mask(state: &AuthState, stored: Option<&Vec<u8>>, context: &str) -> MaskedKey {
    let clear = stored.and_then(|s| {
        shared::crypto::decrypt(&state.encryption_key, s, context)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    });
    MaskedKey {
        configured: stored.is_some(),
        masked: clear.map(|key| {
            // Never more than 8 characters, and never more than a third of the key.
            let chars: Vec<char> = key.chars().collect();
            let tail = |n: usize| chars[chars.len() - n..].iter().collect::<String>();
            if chars.len() >= 24 {
                let head: String = chars[..4].iter().collect();
                format!("{head}…{}", tail(4))
            } else if chars.len() >= 12 {
                format!("…{}", tail(4))
            } else {
                "••••".to_owned()
            }
        }),
    }
}

fn key_context(user_id: Uuid, name: &str) -> String {
    format!("users.{name}:{user_id}")
}

/// Store the caller's own AI provider keys (encrypted). They are never returned in clear.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateApiKeysRequest,
    responses((status = 200, description = "What is configured, masked", body = ApiResponse<ApiKeys>), errors::AuthedWrite)
)]
#[put("/update-api-keys")]
pub async fn update_api_keys(
    state: web::Data<AuthState>,
    db: web::Data<DatabaseConnection>,
    caller: AuthUser,
    client: ClientInfo,
    body: Json<UpdateApiKeysRequest>,
) -> Result<ApiResponse<ApiKeys>, AppError> {
    let body = body.into_inner();
    let account = users::load(db.get_ref(), caller.id).await?;
    let seal = |key: &str, name: &str| {
        shared::crypto::encrypt(
            &state.encryption_key,
            key.trim().as_bytes(),
            &key_context(caller.id, name),
        )
        .map_err(AppError::internal)
    };
    let mut changed = Vec::new();
    let mut active: user::ActiveModel = account.into();
    if let Some(value) = &body.google_ai_key {
        active.google_ai_key_enc = Set(value
            .as_deref()
            .map(|k| seal(k, "google_ai_key"))
            .transpose()?);
        changed.push("google_ai_key");
    }
    if let Some(value) = &body.openai_key {
        active.openai_key_enc = Set(value
            .as_deref()
            .map(|k| seal(k, "openai_key"))
            .transpose()?);
        changed.push("openai_key");
    }
    active.updated_at = Set(Utc::now());
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let account = active.update(&txn).await?;
    audit::record(
        &txn,
        &client.actor(Some(caller.id)),
        AuditEntry::new("update_api_keys", "user")
            .entity_id(caller.id)
            .after(&serde_json::json!({ "changed": changed })),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(ApiKeys {
        google_ai_key: mask(
            &state,
            account.google_ai_key_enc.as_ref(),
            &key_context(caller.id, "google_ai_key"),
        ),
        openai_key: mask(
            &state,
            account.openai_key_enc.as_ref(),
            &key_context(caller.id, "openai_key"),
        ),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Permissions {
    pub role: Role,
    #[schema(example = json!(["client.invoices.read", "client.projects.read"]))]
    pub permissions: Vec<&'static str>,
}

/// The caller's permissions (from its role).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Permission strings", body = ApiResponse<Permissions>), errors::AuthedRead)
)]
#[get("/permissions")]
pub async fn get_permissions(caller: AuthUser) -> ApiResponse<Permissions> {
    ApiResponse::ok(Permissions {
        role: caller.role,
        permissions: permissions::for_role(caller.role),
    })
}
