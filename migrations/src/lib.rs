//! Presta's schema, one migration per file, forward-only once released. Every migration runs on
//! SQLite and PostgreSQL and inside a transaction on both, so a failed one leaves no half schema.

pub use sea_orm_migration::prelude::*;

mod helpers;

mod m20261121_000001_create_audit_log;
mod m20261121_000002_create_idempotency_keys;
mod m20261121_000003_create_jobs;
mod m20261122_000001_create_identity;
mod m20261122_000002_create_outbox_emails;
mod m20261123_000001_add_job_unique_key;
mod m20261123_000002_create_tickets;
mod m20261124_000001_create_client_portal;
mod m20261125_000001_create_planning;
mod m20261203_000001_ticket_triage_index;
mod m20261203_000002_ticket_counts;
mod m20261204_000001_ticket_stats_kept;
mod m20261205_000001_invoice_sums_index;
mod m20261205_000002_client_figures_indexes;
mod m20261205_000003_ticket_search_keys;
mod m20261205_000004_ticket_sla_instants_covering;
mod m20261205_000005_ticket_sla_hour_counts;
mod m20261206_000001_ticket_kept_item_counts;
mod m20261208_000001_party_name_indexes;

/// The SQL the ticket statistics share with the indexes and triggers that serve them.
pub use m20261204_000001_ticket_stats_kept::{sla_alert_at, sla_breach_at, utc_day};
pub use m20261205_000005_ticket_sla_hour_counts::utc_hour;
pub use m20261208_000001_party_name_indexes::{CHANTIER_NAMES, COMPANY_NAMES};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_audit_log::Migration),
            Box::new(m20261121_000002_create_idempotency_keys::Migration),
            Box::new(m20261121_000003_create_jobs::Migration),
            Box::new(m20261122_000001_create_identity::Migration),
            Box::new(m20261122_000002_create_outbox_emails::Migration),
            Box::new(m20261123_000001_add_job_unique_key::Migration),
            Box::new(m20261123_000002_create_tickets::Migration),
            Box::new(m20261124_000001_create_client_portal::Migration),
            Box::new(m20261125_000001_create_planning::Migration),
            Box::new(m20261203_000001_ticket_triage_index::Migration),
            Box::new(m20261203_000002_ticket_counts::Migration),
            Box::new(m20261204_000001_ticket_stats_kept::Migration),
            Box::new(m20261205_000001_invoice_sums_index::Migration),
            Box::new(m20261205_000002_client_figures_indexes::Migration),
            Box::new(m20261205_000003_ticket_search_keys::Migration),
            Box::new(m20261205_000004_ticket_sla_instants_covering::Migration),
            Box::new(m20261205_000005_ticket_sla_hour_counts::Migration),
            Box::new(m20261206_000001_ticket_kept_item_counts::Migration),
            Box::new(m20261208_000001_party_name_indexes::Migration),
        ]
    }
}
