//! `document_shares`: public links to one document, until they expire, optionally behind a
//! password. Only the token's SHA-256 is kept.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub document_id: Uuid,
    pub company_id: Uuid,
    pub token_hash: String,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub download_count: i32,
    pub last_download_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
