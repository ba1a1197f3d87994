//! `ticket_counters`: the last ticket sequence of each year (gapless `TC-<year>-<seq>`).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub annee: i32,
    pub last_sequence: i32,
}

impl ActiveModelBehavior for ActiveModel {}
