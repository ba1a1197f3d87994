//! `ticket_attachments`: files attached to a ticket (and possibly to one of its messages).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub message_id: Option<Uuid>,
    /// File name as uploaded (sanitised).
    pub nom: String,
    pub content_type: String,
    pub taille: i64,
    pub sha256: String,
    pub storage_key: String,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    /// Staff only (uploaded as internal, or attached to an internal message).
    pub interne: bool,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
