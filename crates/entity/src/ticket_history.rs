//! `ticket_history`: every change of a ticket, with its author (the seed's `historique`). The
//! SLA clock is recomputed from the `status_change` rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// `created`, `status_change`, `priority_change`, `assigned`, `escalated`, `tags_added`,
    /// `message_added`, `attachment_added`, `sla_warning`, `sla_breach`, `updated`, ...
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub auteur: String,
    pub author_id: Option<Uuid>,
    pub field: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub old_value: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub new_value: Option<String>,
    /// Staff only (about an internal message or attachment).
    pub interne: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
