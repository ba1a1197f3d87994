//! Reusable OpenAPI pieces: one response component per error code (each a `$ref` to the error
//! envelope), and groups of them that routes list in `responses(...)` so every route documents
//! the errors it can really return.
//!
//! The server's `ApiDoc` registers [`components`] once; routes then reference them:
//! `responses((status = 200, body = ApiResponse<Thing>), errors::AuthedWrite)`.

use utoipa::openapi::{ComponentsBuilder, RefOr, Response};
use utoipa::{IntoResponses, ToResponse};

use crate::envelope::{ErrorBody, ErrorCode, ErrorEnvelope, PageMeta};

/// Body is not JSON, or the request cannot be parsed.
#[derive(ToResponse)]
#[response(description = "Malformed request (`BAD_REQUEST`): body is not JSON or cannot be read")]
pub struct BadRequest(pub ErrorEnvelope);

/// Missing, invalid, expired or revoked credentials.
#[derive(ToResponse)]
#[response(
    description = "Not authenticated (`UNAUTHENTICATED`): no token, bad signature, expired or revoked"
)]
pub struct Unauthenticated(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(
    description = "Authenticated, but the role or permission does not allow this (`FORBIDDEN`)"
)]
pub struct Forbidden(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(description = "No such resource, or one the caller may not see (`NOT_FOUND`)")]
pub struct NotFound(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(description = "Uniqueness, state transition or business rule conflict (`CONFLICT`)")]
pub struct Conflict(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(
    description = "Body over its limit: 1 MiB for JSON, 10 MB for uploads (`PAYLOAD_TOO_LARGE`)"
)]
pub struct PayloadTooLarge(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(description = "Content-Type not accepted by this route (`UNSUPPORTED_MEDIA_TYPE`)")]
pub struct UnsupportedMediaType(pub ErrorEnvelope);

/// `details.fields` maps each bad field (or parameter) to its messages.
#[derive(ToResponse)]
#[response(
    description = "Parseable but invalid input (`VALIDATION_FAILED`); `details.fields` names each field"
)]
pub struct ValidationFailed(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(
    description = "Too many requests (`RATE_LIMITED`); wait `Retry-After` seconds",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        ("X-RateLimit-Limit" = u32, description = "Burst capacity of the bucket"),
        ("X-RateLimit-Remaining" = u32, description = "Requests left in the bucket")
    )
)]
pub struct RateLimited(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(description = "Unexpected server error (`INTERNAL`); the body never holds its cause")]
pub struct Internal(pub ErrorEnvelope);

#[derive(ToResponse)]
#[response(description = "A dependency (the database) is unavailable (`UNAVAILABLE`)")]
pub struct Unavailable(pub ErrorEnvelope);

/// Every shared schema and response, for the server's `components(...)`.
#[must_use]
pub fn components() -> ComponentsBuilder {
    fn response<R: for<'a> ToResponse<'a>>() -> (String, RefOr<Response>) {
        let (name, response) = R::response();
        (name.to_owned(), response)
    }
    ComponentsBuilder::new()
        .schema_from::<ErrorEnvelope>()
        .schema_from::<ErrorBody>()
        .schema_from::<ErrorCode>()
        .schema_from::<PageMeta>()
        .responses_from_iter([
            response::<BadRequest>(),
            response::<Unauthenticated>(),
            response::<Forbidden>(),
            response::<NotFound>(),
            response::<Conflict>(),
            response::<PayloadTooLarge>(),
            response::<UnsupportedMediaType>(),
            response::<ValidationFailed>(),
            response::<RateLimited>(),
            response::<Internal>(),
            response::<Unavailable>(),
        ])
}

/// Groups of error responses for `responses(...)`.
pub mod errors {
    use super::{
        BadRequest, Conflict, Forbidden, Internal, IntoResponses, NotFound, PayloadTooLarge,
        RateLimited, Unauthenticated, Unavailable, UnsupportedMediaType, ValidationFailed,
    };

    /// A public route that reads.
    #[derive(IntoResponses)]
    pub enum PublicRead {
        #[response(status = 404)]
        NotFound(#[ref_response] NotFound),
        #[response(status = 422)]
        ValidationFailed(#[ref_response] ValidationFailed),
        #[response(status = 429)]
        RateLimited(#[ref_response] RateLimited),
        #[response(status = 500)]
        Internal(#[ref_response] Internal),
        #[response(status = 503)]
        Unavailable(#[ref_response] Unavailable),
    }

    /// A public route that takes a body.
    #[derive(IntoResponses)]
    pub enum PublicWrite {
        #[response(status = 400)]
        BadRequest(#[ref_response] BadRequest),
        #[response(status = 404)]
        NotFound(#[ref_response] NotFound),
        #[response(status = 409)]
        Conflict(#[ref_response] Conflict),
        #[response(status = 413)]
        PayloadTooLarge(#[ref_response] PayloadTooLarge),
        #[response(status = 415)]
        UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
        #[response(status = 422)]
        ValidationFailed(#[ref_response] ValidationFailed),
        #[response(status = 429)]
        RateLimited(#[ref_response] RateLimited),
        #[response(status = 500)]
        Internal(#[ref_response] Internal),
        #[response(status = 503)]
        Unavailable(#[ref_response] Unavailable),
    }

    /// An authenticated route that reads (lists, details).
    #[derive(IntoResponses)]
    pub enum AuthedRead {
        #[response(status = 401)]
        Unauthenticated(#[ref_response] Unauthenticated),
        #[response(status = 403)]
        Forbidden(#[ref_response] Forbidden),
        #[response(status = 404)]
        NotFound(#[ref_response] NotFound),
        #[response(status = 422)]
        ValidationFailed(#[ref_response] ValidationFailed),
        #[response(status = 429)]
        RateLimited(#[ref_response] RateLimited),
        #[response(status = 500)]
        Internal(#[ref_response] Internal),
        #[response(status = 503)]
        Unavailable(#[ref_response] Unavailable),
    }

    /// An authenticated route that writes with a JSON body.
    #[derive(IntoResponses)]
    pub enum AuthedWrite {
        #[response(status = 400)]
        BadRequest(#[ref_response] BadRequest),
        #[response(status = 401)]
        Unauthenticated(#[ref_response] Unauthenticated),
        #[response(status = 403)]
        Forbidden(#[ref_response] Forbidden),
        #[response(status = 404)]
        NotFound(#[ref_response] NotFound),
        #[response(status = 409)]
        Conflict(#[ref_response] Conflict),
        #[response(status = 413)]
        PayloadTooLarge(#[ref_response] PayloadTooLarge),
        #[response(status = 415)]
        UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
        #[response(status = 422)]
        ValidationFailed(#[ref_response] ValidationFailed),
        #[response(status = 429)]
        RateLimited(#[ref_response] RateLimited),
        #[response(status = 500)]
        Internal(#[ref_response] Internal),
        #[response(status = 503)]
        Unavailable(#[ref_response] Unavailable),
    }
}
