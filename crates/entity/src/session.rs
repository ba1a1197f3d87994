//! `sessions`: one per login; its refresh tokens form one rotation family.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub last_used_at: DateTimeUtc,
    /// Absolute end, whatever the refreshes.
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    /// `logout`, `logout_all`, `password_changed`, `refresh_token_reuse`, ...
    pub revoked_reason: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
