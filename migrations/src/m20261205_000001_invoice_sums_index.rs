//! A client's invoices counted and summed from one index: `(company_id, status)` becomes
//! `(company_id, status, direction, due_date, total_cents, paid_cents)`. Every client read
//! filters on the company, the direction and the status (`invoices::visible`), and the list's
//! total and the balance's sums read only those columns and the amounts, so the index answers
//! them alone instead of reading each of the company's invoices from the table (1,000
//! invoices: 2.9 ms for the count or the sums, 0.1 and 0.5 ms from the index, in the sqlite3
//! shell on the bench's data). Reads by company and status use its first two columns as they
//! used the old index's, so the old index goes and writes pay for no extra one.

use sea_orm_migration::prelude::*;

use crate::helpers::{iden, replace_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invoices {
    Table,
    CompanyId,
    Status,
    Direction,
    DueDate,
    TotalCents,
    PaidCents,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(
            manager,
            Invoices::Table,
            "idx-invoices-company_id-status",
            "idx-invoices-company_id-status-direction-sums",
            vec![
                iden(Invoices::CompanyId),
                iden(Invoices::Status),
                iden(Invoices::Direction),
                iden(Invoices::DueDate),
                iden(Invoices::TotalCents),
                iden(Invoices::PaidCents),
            ],
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
