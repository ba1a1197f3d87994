//! `notifications`: in-app messages to one user, read or not.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `project_status`, `project_comment`, `document_added`, `invoice_issued`,
    /// `payment_received`, ...
    pub kind: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: Option<String>,
    /// Where in the API the subject is (`/api/client/invoices/<id>`).
    pub link: Option<String>,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
