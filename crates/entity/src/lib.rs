//! sea-orm entities, one module per table, and enums shared by several crates.
//!
//! Entities are the database's shape only: request DTOs never deserialize into them, so a
//! client cannot set an id, an owner or a role by naming the column.

pub mod audit_log;
pub mod idempotency_key;
pub mod job;
pub mod job_log;
