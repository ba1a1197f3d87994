//! `ticket_exports`: files produced by `POST /api/tickets-client/export` (by a job), downloaded
//! through a signed link until `expires_at`.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_by: Uuid,
    /// The creator's company when a client asked (the export holds that company's rows only).
    pub company_id: Option<Uuid>,
    /// `csv`, `excel`, `json` or `pdf`.
    pub format: String,
    pub file_name: String,
    pub content_type: String,
    /// The request (filters and fields), as sent.
    #[sea_orm(column_type = "JsonBinary")]
    pub request: Json,
    pub job_id: Uuid,
    pub storage_key: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub row_count: Option<i32>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
