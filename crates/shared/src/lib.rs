//! What every Presta crate stands on: the response envelope and the one error type, extractors
//! that name bad fields, pagination, rate limiting, request ids and client IPs, configuration,
//! the database connection, file storage, the audit writer, idempotency keys and the durable
//! job queue.

pub mod audit;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod envelope;
pub mod error;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod input;
pub mod jobs;
pub mod mailer;
pub mod notifications;
pub mod openapi;
pub mod pagination;
pub mod pdf;
pub mod rate_limit;
pub mod request;
pub mod signed_url;
pub mod storage;
pub mod upload;

pub use envelope::{ApiResponse, PageMeta, Paginated};
pub use error::{AppError, AppResult, FieldErrors};
