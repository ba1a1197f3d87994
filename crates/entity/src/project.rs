//! `projects`: work sold to a client company, with its budget, progress and status.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a project stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// Agreed, not started.
    #[sea_orm(string_value = "planning")]
    Planning,
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    /// Paused at the client's or the business's request.
    #[sea_orm(string_value = "on_hold")]
    OnHold,
    /// Delivered, waiting for the client's approval.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Approved by the client.
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl ProjectStatus {
    pub const ALL: [Self; 6] = [
        Self::Planning,
        Self::InProgress,
        Self::OnHold,
        Self::Delivered,
        Self::Completed,
        Self::Cancelled,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planning => "planning",
            Self::InProgress => "in_progress",
            Self::OnHold => "on_hold",
            Self::Delivered => "delivered",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Still to be finished (neither completed nor cancelled).
    #[must_use]
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Completed | Self::Cancelled)
    }
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub chantier_id: Option<Uuid>,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub status: ProjectStatus,
    /// While on hold: the status to resume to.
    pub status_before_hold: Option<ProjectStatus>,
    /// 0..=100.
    pub progress: i32,
    /// Minor units of `currency`.
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    pub currency: String,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub manager_name: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
