//! `outbox_emails`: every e-mail the platform sends, written in the transaction that causes it
//! and delivered by a job (SMTP when configured, otherwise kept here and logged).

use sea_orm::entity::prelude::*;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
/// No SMTP server configured: kept in this table and logged (recipient and subject only).
pub const LOGGED: &str = "logged";
pub const FAILED: &str = "failed";

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    /// What kind of mail (`verify_email`, `reset_password`, `account_locked`, ...).
    pub template: String,
    pub user_id: Option<Uuid>,
    /// `pending`, `sent`, `logged` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[sea_orm(column_type = "Text")]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
