//! `project_events`: the timeline of a project (creation, status changes, comments, uploads,
//! milestones), recorded as they happen.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    /// The project's company (the activity feed reads events by company).
    pub company_id: Uuid,
    /// `created`, `status_changed`, `comment`, `file_uploaded`, `milestone`.
    pub kind: String,
    pub title: String,
    /// JSON with the kind's details.
    #[sea_orm(column_type = "Text")]
    pub detail: Option<String>,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub occurred_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
