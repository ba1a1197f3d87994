//! `users`: every account, whatever its role.

use sea_orm::entity::prelude::*;

use crate::role::Role;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased; unique.
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub company_id: Option<Uuid>,
    /// Off for a revendeur awaiting activation, or an account a superadmin suspended.
    pub is_active: bool,
    pub email_verified_at: Option<DateTimeUtc>,
    /// Consecutive failed logins (reset by a success).
    pub failed_login_count: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// The owner was told about the current lock.
    pub lock_notified: bool,
    pub last_login_at: Option<DateTimeUtc>,
    pub password_changed_at: DateTimeUtc,
    /// A generated one-time password: everything but changing it is refused until then.
    pub password_must_change: bool,
    /// TOTP secret, encrypted; present while 2FA is being set up or is on.
    pub totp_secret_enc: Option<Vec<u8>>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// Last accepted TOTP time step: a code is accepted once.
    pub totp_last_step: Option<i64>,
    pub totp_failed_count: i32,
    pub totp_failed_since: Option<DateTimeUtc>,
    pub totp_locked_until: Option<DateTimeUtc>,
    /// The user's own AI provider keys, encrypted.
    pub google_ai_key_enc: Option<Vec<u8>>,
    pub openai_key_enc: Option<Vec<u8>>,
    /// When the last verification e-mail went out (re-sends are rate limited).
    pub verification_sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
