//! `invoices`: outgoing invoices to client companies (numbered `FAC-<year>-<seq>` without
//! gaps) and, later, incoming supplier invoices. Money is in minor units.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Sent by the business (`out`) or received from a supplier (`in`).
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum InvoiceDirection {
    #[sea_orm(string_value = "out")]
    Out,
    #[sea_orm(string_value = "in")]
    In,
}

/// Where an invoice stands. Overdue is not stored: an `issued` or `partially_paid` invoice past
/// its due date is overdue.
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
pub enum InvoiceStatus {
    /// Being prepared; clients do not see drafts.
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "issued")]
    Issued,
    #[sea_orm(string_value = "partially_paid")]
    PartiallyPaid,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl InvoiceStatus {
    /// Still expecting money.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, Self::Issued | Self::PartiallyPaid)
    }
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub project_id: Option<Uuid>,
    pub direction: InvoiceDirection,
    pub number: String,
    pub annee: i32,
    pub sequence: i32,
    pub status: InvoiceStatus,
    pub issue_date: Date,
    pub due_date: Date,
    pub currency: String,
    pub subtotal_cents: i64,
    pub vat_cents: i64,
    pub total_cents: i64,
    /// Confirmed payments so far.
    pub paid_cents: i64,
    #[sea_orm(column_type = "Text")]
    pub notes: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
