//! `/api/auth`: accounts, sessions, access and refresh tokens, two-factor authentication and
//! personal access tokens — and the [`Authenticate`] middleware, [`AuthUser`] extractor and
//! [`RequireRole`] guard that every portal scope uses.

pub mod account;
pub mod attempts;
pub mod bootstrap;
pub mod identity;
pub mod password;
pub mod pat;
pub mod permissions;
pub mod session;
pub mod tokens;
pub mod two_factor;
pub mod users;

use secrecy::ExposeSecret;
use shared::config::{Config, EncryptionKey};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use identity::{AuthUser, Authenticate, MaybeAuthUser, RequireRole};

/// Shared by the auth routes and the authentication middleware (as `web::Data<AuthState>`).
#[derive(Debug)]
pub struct AuthState {
    pub issuer: tokens::TokenIssuer,
    pub hasher: password::PasswordHasher,
    pub encryption_key: EncryptionKey,
    /// Where e-mailed links point.
    pub public_url: String,
    /// The account check on the request's own thread, for an SQLite file (`None` otherwise).
    pub inline_reads: Option<std::sync::Arc<shared::db::InlineReads>>,
}

impl AuthState {
    /// # Errors
    /// The Argon2 parameters were refused (a programming error).
    pub fn from_config(config: &Config) -> Result<Self, argon2::Error> {
        Ok(Self {
            issuer: tokens::TokenIssuer::new(config.jwt_secret.expose_secret().as_bytes()),
            hasher: password::PasswordHasher::new()?,
            encryption_key: config.encryption_key.clone(),
            public_url: config.public_url.clone(),
            inline_reads: shared::db::InlineReads::for_url(&config.database_url),
        })
    }
}

/// Paths whose requests spend the strict `auth` rate-limit bucket (per client IP): every route
/// that checks a password, a code or an e-mailed token.
pub const CREDENTIAL_PATHS: &[&str] = &[
    "/api/auth/login",
    "/api/auth/verify-2fa",
    "/api/auth/forgot-password",
    "/api/auth/reset-password",
    "/api/auth/register",
    "/api/auth/resend-verification",
    "/api/auth/verify-email",
    "/api/auth/refresh-token",
    "/api/auth/change-password",
    "/api/auth/setup-2fa",
    "/api/auth/disable-2fa",
    "/api/auth/recovery-codes",
    "/api/auth/tokens",
];

/// The background jobs of this crate (e-mails sent on behalf of anonymous requests).
#[must_use]
pub fn job_handlers(
    config: &Config,
) -> Vec<(&'static str, std::sync::Arc<dyn shared::jobs::JobHandler>)> {
    vec![
        (
            account::RESET_MAIL_JOB,
            std::sync::Arc::new(account::ResetMailJob {
                public_url: config.public_url.clone(),
            }),
        ),
        (
            account::VERIFICATION_MAIL_JOB,
            std::sync::Arc::new(account::VerificationMailJob {
                public_url: config.public_url.clone(),
            }),
        ),
    ]
}

/// Mount `/api/auth`.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api/auth")
            .service(session::login)
            .service(session::logout)
            .service(session::logout_all)
            .service(session::refresh)
            .service(session::check_session)
            .service(session::verify_two_factor)
            .service(session::list_sessions)
            .service(session::revoke_session)
            .service(account::register)
            .service(account::verify_email)
            .service(account::resend_verification)
            .service(account::forgot_password)
            .service(account::reset_password)
            .service(account::change_password)
            .service(account::me)
            .service(account::update_profile)
            .service(account::update_profile_alias)
            .service(account::update_api_keys)
            .service(account::get_permissions)
            .service(two_factor::setup)
            .service(two_factor::disable)
            .service(two_factor::regenerate_recovery_codes)
            .service(pat::list)
            .service(pat::create)
            .service(pat::revoke),
    );
}
