//! `idempotency_keys`: the first response to a `POST` carrying `Idempotency-Key`, replayed on
//! retries (conventions §8).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose key it is (`user:<id>` or `ip:<addr>`): keys never collide across callers.
    pub scope: String,
    pub key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 of the request body: the same key with another body is refused.
    pub request_hash: String,
    /// `in_progress` until the first request finishes, then `completed`.
    pub state: String,
    pub response_status: Option<i32>,
    pub response_content_type: Option<String>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

pub const STATE_IN_PROGRESS: &str = "in_progress";
pub const STATE_COMPLETED: &str = "completed";
