//! sea-orm entities, one module per table, and enums shared by several crates.
//!
//! Entities are the database's shape only: request DTOs never deserialize into them, so a
//! client cannot set an id, an owner or a role by naming the column.

pub mod api_token;
pub mod audit_log;
pub mod auth_token;
pub mod chantier;
pub mod company;
pub mod document;
pub mod document_share;
pub mod idempotency_key;
pub mod invoice;
pub mod invoice_line;
pub mod job;
pub mod job_log;
pub mod notification;
pub mod outbox_email;
pub mod payment;
pub mod planning;
pub mod project;
pub mod project_comment;
pub mod project_event;
pub mod recovery_code;
pub mod refresh_token;
pub mod role;
pub mod session;
pub mod ticket;
pub mod ticket_attachment;
pub mod ticket_counter;
pub mod ticket_export;
pub mod ticket_history;
pub mod ticket_message;
pub mod two_factor_challenge;
pub mod user;

pub use role::Role;
