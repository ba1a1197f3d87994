//! `Idempotency-Key` for `POST` routes that create money or documents (conventions §8).
//!
//! A route opts in with `#[post("/...", wrap = "Idempotency")]`. For a request carrying the
//! header:
//! - first time: the key is reserved (`in_progress`) and the handler runs. A 2xx is stored with
//!   the key. A 5xx is stored too: the outcome of a failed request is unknown (it may have
//!   committed before failing), so a retry must not act again; the client sees the same answer
//!   and decides with a new key. A 4xx means nothing changed (conventions: bad input changes
//!   nothing), so the key is released and the corrected request may reuse it;
//! - same key, same body, first request finished: the stored response is replayed (status, content
//!   type and body) with `Idempotency-Replayed: true`, and nothing runs again;
//! - same key, different body (or another route): 422;
//! - same key while the first request is still running, or whose first request never finished
//!   (its server died): 409 until the key expires.
//!
//! Keys belong to the caller: its verified [`Principal`] when authenticated, else its client IP.
//! They expire after 24 hours.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::{Duration as ChronoDuration, Utc};
use futures_util::future::LocalBoxFuture;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::idempotency_key::{self, STATE_COMPLETED, STATE_IN_PROGRESS};

use crate::error::{AppError, unique_violation};
use crate::extract::read_body;
use crate::rate_limit::ip_key;
use crate::request::{Principal, RequestContext, error_response};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotency-replayed";
/// How long a key (and its stored response) is kept.
pub const RETENTION_HOURS: i64 = 24;
/// Bodies of idempotent routes may be uploads (10 MB) plus multipart framing.
pub const MAX_BODY: usize = 11 * 1024 * 1024;

/// Documents the header on routes that opt in: `params(IdempotencyKeyHeader)`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Any unique string (a UUID is ideal, at most 255 characters). Retrying with the same key
    /// and body replays the first response instead of acting twice.
    #[param(rename = "Idempotency-Key", max_length = 255, min_length = 1)]
    pub idempotency_key: Option<String>,
}

/// The middleware factory (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Idempotency;

impl<S, B> Transform<S, ServiceRequest> for Idempotency
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = IdempotencyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdempotencyService {
            service: Rc::new(service),
        }))
    }
}

pub struct IdempotencyService<S> {
    service: Rc<S>,
}

fn valid_key(value: &HeaderValue) -> Option<String> {
    let key = value.to_str().ok()?.trim();
    let ok = !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| key.to_owned())
}

fn request_hash(method: &Method, path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"?");
    hasher.update(query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

enum Reservation {
    /// We own the key: run the handler.
    Reserved(Uuid),
    /// A finished request with this key: replay it.
    Replay(Box<idempotency_key::Model>),
}

async fn reserve(
    db: &DatabaseConnection,
    scope: &str,
    key: &str,
    method: &Method,
    path: &str,
    hash: &str,
) -> Result<Reservation, AppError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let row = idempotency_key::ActiveModel {
        id: Set(id),
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        method: Set(method.as_str().to_owned()),
        path: Set(path.to_owned()),
        request_hash: Set(hash.to_owned()),
        state: Set(STATE_IN_PROGRESS.to_owned()),
        response_status: Set(None),
        response_content_type: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        completed_at: Set(None),
        expires_at: Set(now + ChronoDuration::hours(RETENTION_HOURS)),
    };
    match row.insert(db).await {
        Ok(_) => return Ok(Reservation::Reserved(id)),
        Err(err) if unique_violation(&err) => {}
        Err(err) => return Err(err.into()),
    }
    let existing = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        // Released between our insert and our read: the client may simply retry.
        return Err(AppError::conflict(
            "A request with this Idempotency-Key was just being processed; retry it",
        ));
    };
    if existing.expires_at < now {
        // Expired: forget it and take the key over.
        idempotency_key::Entity::delete_by_id(existing.id)
            .exec(db)
            .await?;
        return Box::pin(reserve(db, scope, key, method, path, hash)).await;
    }
    if existing.request_hash != hash {
        return Err(AppError::Unprocessable {
            message: "This Idempotency-Key was already used with a different request".to_owned(),
            details: Some(serde_json::json!({
                "fields": { "Idempotency-Key": ["was already used with a different request"] }
            })),
        });
    }
    if existing.state != STATE_COMPLETED {
        return Err(AppError::conflict(
            "A request with this Idempotency-Key is still being processed",
        ));
    }
    Ok(Reservation::Replay(Box::new(existing)))
}

async fn complete(
    db: &DatabaseConnection,
    id: Uuid,
    status: StatusCode,
    content_type: Option<String>,
    body: &[u8],
) -> Result<(), DbErr> {
    idempotency_key::ActiveModel {
        id: Set(id),
        state: Set(STATE_COMPLETED.to_owned()),
        response_status: Set(Some(i32::from(status.as_u16()))),
        response_content_type: Set(content_type),
        response_body: Set(Some(body.to_vec())),
        completed_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

async fn release(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}

fn replay(row: &idempotency_key::Model) -> HttpResponse {
    let status = row
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = &row.response_content_type {
        response.insert_header((header::CONTENT_TYPE, content_type.as_str()));
    }
    response.insert_header((REPLAYED_HEADER, "true"));
    response.body(row.response_body.clone().unwrap_or_default())
}

/// Delete keys past their retention.
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let result = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

impl<S, B> Service<ServiceRequest> for IdempotencyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let header_value = req.headers().get(HEADER).cloned();
            let (true, Some(header_value)) = (req.method() == Method::POST, header_value) else {
                return Ok(service.call(req).await?.map_into_boxed_body());
            };
            let Some(key) = valid_key(&header_value) else {
                let err = AppError::invalid(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                );
                return Ok(error_response(req, &err));
            };
            let Some(db) = req
                .app_data::<web::Data<DatabaseConnection>>()
                .map(|d| d.get_ref().clone())
            else {
                let err = AppError::internal(std::io::Error::other(
                    "idempotency middleware mounted without a database",
                ));
                return Ok(error_response(req, &err));
            };
            let principal = req.extensions().get::<Principal>().map(|p| p.0.clone());
            let scope = principal.unwrap_or_else(|| {
                ip_key(
                    req.extensions()
                        .get::<RequestContext>()
                        .and_then(|ctx| ctx.client_ip),
                )
            });

            // Read the body once to fingerprint it, then hand the same bytes to the handler.
            let (http_req, payload) = req.parts_mut();
            let body = match read_body(http_req, &mut payload.take(), MAX_BODY).await {
                Ok(body) => body,
                Err(err) => return Ok(error_response(req, &err)),
            };
            req.set_payload(actix_web::dev::Payload::from(body.clone()));
            let hash = request_hash(req.method(), req.path(), req.query_string(), &body);
            let method = req.method().clone();
            let path = req.path().to_owned();

            let id = match reserve(&db, &scope, &key, &method, &path, &hash).await {
                Ok(Reservation::Reserved(id)) => id,
                Ok(Reservation::Replay(row)) => {
                    tracing::info!(key = %key, "idempotent replay");
                    return Ok(req.into_response(replay(&row)));
                }
                Err(err) => return Ok(error_response(req, &err)),
            };

            let res = match service.call(req).await {
                Ok(res) => res,
                Err(err) => {
                    release(&db, id).await.ok();
                    return Err(err);
                }
            };
            let status = res.status();
            if status.is_client_error() {
                // Nothing changed: the caller may fix the request and reuse the key.
                if let Err(err) = release(&db, id).await {
                    tracing::warn!(error = %err, "could not release an idempotency key");
                }
                return Ok(res.map_into_boxed_body());
            }
            let content_type = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let (http_req, response) = res.into_parts();
            let (head, body) = response.into_parts();
            let bytes = match actix_web::body::to_bytes(body).await {
                Ok(bytes) => bytes,
                Err(err) => {
                    release(&db, id).await.ok();
                    let err = AppError::internal(std::io::Error::other(err.into().to_string()));
                    return Ok(ServiceResponse::new(
                        http_req,
                        actix_web::ResponseError::error_response(&err),
                    ));
                }
            };
            if let Err(err) = complete(&db, id, status, content_type, &bytes).await {
                // The action happened; failing to remember it must not hide its result.
                tracing::error!(error = %err, "could not store an idempotent response");
            }
            Ok(ServiceResponse::new(
                http_req,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_visible_ascii() {
        assert!(valid_key(&HeaderValue::from_static("7c1e-4f1a")).is_some());
        assert!(valid_key(&HeaderValue::from_static("")).is_none());
        assert!(valid_key(&HeaderValue::from_static("with space")).is_none());
        let long = "k".repeat(256);
        assert!(valid_key(&HeaderValue::from_str(&long).unwrap()).is_none());
    }

    #[test]
    fn the_fingerprint_covers_route_and_body() {
        let a = request_hash(&Method::POST, "/a", "", b"{}");
        assert_eq!(a, request_hash(&Method::POST, "/a", "", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/b", "", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/a", "", b"{\"x\":1}"));
        assert_ne!(a, request_hash(&Method::POST, "/a", "x=1", b"{}"));
    }
}
