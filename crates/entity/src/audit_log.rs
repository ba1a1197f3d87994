//! `audit_log`: append-only record of every write (conventions §9). The database refuses
//! `UPDATE` and `DELETE` on this table (triggers in the migration).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who did it (`None` for the system or an anonymous caller).
    pub user_id: Option<Uuid>,
    /// `create_shift`, `assign_collaborator`, `publish_planning`, `login_failed`, ...
    pub action: String,
    /// Table or aggregate the action is about.
    pub entity: String,
    pub entity_id: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub before: Option<Json>,
    #[sea_orm(column_type = "JsonBinary")]
    pub after: Option<Json>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub timestamp: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
