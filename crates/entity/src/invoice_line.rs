//! `invoice_lines`: what an invoice charges, line by line, with its VAT rate.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    /// 1-based order on the invoice.
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Thousandths (1.5 hours = 1500).
    pub quantity_milli: i64,
    pub unit_price_cents: i64,
    /// Basis points (20 % = 2000).
    pub vat_rate_bp: i32,
    /// Quantity × unit price, rounded half away from zero to the cent.
    pub total_ht_cents: i64,
    /// This line's share of VAT (the invoice's VAT is computed per rate on the summed base).
    pub vat_cents: i64,
}

impl ActiveModelBehavior for ActiveModel {}
