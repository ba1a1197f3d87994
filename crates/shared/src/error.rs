//! The one error type of the API.
//!
//! Every failure a handler, extractor or middleware can produce is an [`AppError`]. It renders
//! the error envelope of conventions §2/§3; an internal cause is kept for the log (written by the
//! request-context middleware together with the request id) and never reaches the body.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use serde_json::Value;

use crate::envelope::{ErrorBody, ErrorCode, ErrorEnvelope};

/// Field name -> human readable messages, as returned in `error.details.fields`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A single bad field.
    #[must_use]
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        self.0.entry(field.into()).or_default().push(message.into());
        self
    }

    pub fn merge(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0
    }

    /// `Ok(())` when no field failed, else the 422 error carrying them.
    ///
    /// # Errors
    /// Returns [`AppError::Validation`] when at least one field was added.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }
}

/// An internal failure: kept for the log, shown to nobody.
pub struct InternalError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl InternalError {
    #[must_use]
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Debug for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The whole chain, for the log line.
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Body is not JSON, query string not parseable, ...
    #[error("{0}")]
    BadRequest(String),
    /// No token, bad signature, expired, revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// Password accepted, a TOTP code is still needed; `details` carries the challenge.
    #[error("A second factor is required")]
    TwoFactorRequired { details: Value },
    #[error("{0}")]
    Forbidden(String),
    /// Unknown route or resource, or one the caller may not see.
    #[error("{0}")]
    NotFound(String),
    #[error("Method not allowed")]
    MethodNotAllowed { allowed: Vec<String> },
    /// Uniqueness, state transition not allowed, planning hard conflict, ...
    #[error("{message}")]
    Conflict {
        message: String,
        details: Option<Value>,
    },
    #[error("Payload is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Parseable but invalid fields.
    #[error("Request is invalid")]
    Validation(FieldErrors),
    /// Parseable but invalid, with a specific message and free-form details (e.g. an
    /// idempotency key reused with another body).
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Option<Value>,
    },
    #[error("Too many requests")]
    RateLimited { retry_after: Duration, limit: u32 },
    #[error("Internal server error")]
    Internal(InternalError),
    /// A dependency (the database) is down.
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            details: None,
        }
    }

    pub fn conflict_with(message: impl Into<String>, details: Value) -> Self {
        Self::Conflict {
            message: message.into(),
            details: Some(details),
        }
    }

    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    pub fn internal<E>(error: E) -> Self
    where
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        Self::Internal(InternalError(error.into()))
    }

    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::TwoFactorRequired { .. } => ErrorCode::TwoFactorRequired,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::Validation(_) | Self::Unprocessable { .. } => ErrorCode::ValidationFailed,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
            Self::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    /// The internal cause, if this is a 500 (for the log line).
    #[must_use]
    pub fn internal_cause(&self) -> Option<&InternalError> {
        match self {
            Self::Internal(cause) => Some(cause),
            _ => None,
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            Self::Validation(fields) => Some(serde_json::json!({ "fields": fields })),
            Self::TwoFactorRequired { details } => Some(details.clone()),
            Self::Conflict { details, .. } | Self::Unprocessable { details, .. } => details.clone(),
            Self::RateLimited { retry_after, .. } => Some(serde_json::json!({
                "retry_after_seconds": retry_after_seconds(*retry_after)
            })),
            Self::MethodNotAllowed { allowed } => {
                Some(serde_json::json!({ "allowed_methods": allowed }))
            }
            Self::PayloadTooLarge { limit_bytes } => {
                Some(serde_json::json!({ "limit_bytes": limit_bytes }))
            }
            Self::BadRequest(_)
            | Self::Unauthenticated(_)
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::UnsupportedMediaType(_)
            | Self::Internal(_)
            | Self::Unavailable(_) => None,
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Validation(_) => "Request is invalid".to_owned(),
            // Never the cause: it may hold SQL, paths or secrets.
            Self::Internal(_) => "Internal server error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The envelope this error renders as.
    #[must_use]
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope::new(ErrorBody {
            code: self.code(),
            message: self.public_message(),
            details: self.details(),
        })
    }
}

/// Whole seconds, rounded up so a client that waits that long is admitted.
#[must_use]
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs();
    if wait.subsec_nanos() > 0 || secs == 0 {
        secs + 1
    } else {
        secs
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::RateLimited { retry_after, limit } => {
                response.insert_header((
                    header::RETRY_AFTER,
                    retry_after_seconds(*retry_after).to_string(),
                ));
                response.insert_header(("X-RateLimit-Limit", limit.to_string()));
                response.insert_header(("X-RateLimit-Remaining", "0"));
            }
            Self::MethodNotAllowed { allowed } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            Self::Unauthenticated(_) | Self::TwoFactorRequired { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(self.envelope())
    }
}

impl From<DbErr> for AppError {
    /// The one place database errors are classified. Call sites that know which constraint a
    /// violation means map it themselves (see [`unique_violation`]) before falling back here.
    fn from(err: DbErr) -> Self {
        match &err {
            DbErr::RecordNotFound(what) => Self::NotFound(format!("{what} not found")),
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                tracing::error!(error = %err, "database unavailable");
                Self::Unavailable("The database is unavailable".to_owned())
            }
            _ if connection_lost(&err) => {
                tracing::error!(error = %err, "the connection to the database failed");
                Self::Unavailable("The connection to the database failed".to_owned())
            }
            _ if sqlstate(&err).as_deref() == Some(QUERY_CANCELED) => {
                tracing::warn!(error = %err, "a statement ran past DB_STATEMENT_TIMEOUT_MS");
                Self::Unavailable("The database took too long to answer".to_owned())
            }
            _ if value_rejected_by_database(&err) => {
                tracing::info!(error = %err, "the database refused a value");
                Self::Unprocessable {
                    message: "A value cannot be stored: it has characters, a size or a range the \
                              database does not accept"
                        .to_owned(),
                    details: None,
                }
            }
            _ => match err.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(detail)) => {
                    let field = constraint_field(&detail);
                    Self::Conflict {
                        message: match &field {
                            Some(field) => format!("A record with this {field} already exists"),
                            None => "A record with these values already exists".to_owned(),
                        },
                        details: field.map(|field| serde_json::json!({ "field": field })),
                    }
                }
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                    Self::invalid("reference", "refers to a record that does not exist")
                }
                _ => Self::internal(err),
            },
        }
    }
}

/// PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`.
const QUERY_CANCELED: &str = "57014";

/// The code the database gave for a failed statement (a PostgreSQL SQLSTATE, an SQLite result
/// code), if it was the database that refused it.
fn sqlstate(err: &DbErr) -> Option<String> {
    Some(driver_error(err)?.as_database_error()?.code()?.into_owned())
}

/// The sqlx error under a failed statement, if that is what failed.
fn driver_error(err: &DbErr) -> Option<&sqlx::Error> {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// The connection failed under the statement: the server ended it (a restart, an
/// administrator, a network cut: the socket closed, or PostgreSQL's SQLSTATE class 08
/// "connection exception" and 57P01–57P05, shutdown and termination) or an SQLite connection's
/// thread is gone. The database is unavailable to this request; the pool closes the
/// connection as it returns (`vendor/sqlx-postgres`), so a retry gets another.
fn connection_lost(err: &DbErr) -> bool {
    matches!(
        driver_error(err),
        Some(
            sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::PoolClosed
                | sqlx::Error::PoolTimedOut
        )
    ) || sqlstate(err).is_some_and(|code| code.starts_with("08") || code.starts_with("57P0"))
}

/// The database refused a value the client sent (PostgreSQL SQLSTATE class 22 "data
/// exception", or 54000 "program limit exceeded" for an index row that is too large; SQLite
/// `SQLITE_TOOBIG`). That is bad input, not a server fault.
fn value_rejected_by_database(err: &DbErr) -> bool {
    sqlstate(err).is_some_and(|code| code.starts_with("22") || code == "54000" || code == "18")
}

/// Is this error a unique violation (so the caller can say which value collided)?
#[must_use]
pub fn unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Best effort: the column a unique violation is about, from the driver's message.
/// SQLite: `UNIQUE constraint failed: users.email`; PostgreSQL reports the constraint name
/// (`duplicate key value violates unique constraint "idx-users-email"`) and a detail line
/// `Key (email)=(...)` which sqlx does not expose in `message()`, so the index name is parsed.
fn constraint_field(detail: &str) -> Option<String> {
    if let Some(rest) = detail.split("UNIQUE constraint failed: ").nth(1) {
        let columns: Vec<&str> = rest
            .split(',')
            .filter_map(|c| c.trim().rsplit('.').next())
            .collect();
        return (!columns.is_empty()).then(|| columns.join(", "));
    }
    let name = detail.split('"').nth(1)?;
    // Our index names are `idx-<table>-<column>[-<column>]` or `<table>_<column>_key`.
    if let Some(rest) = name.strip_prefix("idx-") {
        let mut parts = rest.splitn(2, '-');
        let _table = parts.next()?;
        return parts.next().map(|cols| cols.replace('-', ", "));
    }
    name.strip_suffix("_key")
        .and_then(|base| base.split_once('_'))
        .map(|(_, column)| column.to_owned())
}

/// `Result` for handlers and services.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_unique_message_names_the_column() {
        assert_eq!(
            constraint_field("UNIQUE constraint failed: users.email").as_deref(),
            Some("email")
        );
        assert_eq!(
            constraint_field(
                "UNIQUE constraint failed: idempotency_keys.scope, idempotency_keys.key"
            )
            .as_deref(),
            Some("scope, key")
        );
    }

    #[test]
    fn postgres_unique_message_names_the_column() {
        assert_eq!(
            constraint_field("duplicate key value violates unique constraint \"idx-users-email\"")
                .as_deref(),
            Some("email")
        );
        assert_eq!(
            constraint_field("duplicate key value violates unique constraint \"users_email_key\"")
                .as_deref(),
            Some("email")
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn internal_error_body_hides_the_cause() {
        let err = AppError::internal(std::io::Error::other("secret path /etc/shadow"));
        let body = serde_json::to_string(&err.envelope()).unwrap_or_default();
        assert!(!body.contains("shadow"));
        assert!(body.contains("INTERNAL"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn every_code_has_the_documented_status() {
        let cases = [
            (AppError::bad_request("x"), 400),
            (AppError::unauthenticated("x"), 401),
            (
                AppError::TwoFactorRequired {
                    details: Value::Null,
                },
                401,
            ),
            (AppError::forbidden("x"), 403),
            (AppError::not_found("x"), 404),
            (AppError::MethodNotAllowed { allowed: vec![] }, 405),
            (AppError::conflict("x"), 409),
            (AppError::PayloadTooLarge { limit_bytes: 1 }, 413),
            (AppError::UnsupportedMediaType("x".into()), 415),
            (AppError::invalid("f", "m"), 422),
            (
                AppError::RateLimited {
                    retry_after: Duration::from_secs(1),
                    limit: 1,
                },
                429,
            ),
            (AppError::internal(std::io::Error::other("x")), 500),
            (AppError::Unavailable("x".into()), 503),
            (
                AppError::from(DbErr::Query(sea_orm::RuntimeErr::SqlxError(
                    std::sync::Arc::new(sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
                ))),
                503,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
        }
    }
}
