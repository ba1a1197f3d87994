//! The response envelope of conventions §2, for successes, lists and errors.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::AppError;

/// Serialise instants as `2026-01-27T10:30:00.123Z` (UTC, RFC 3339, milliseconds).
pub fn serialize_utc<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut text = [0; UTC_TEXT];
    match utc_text(at, &mut text) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&format_utc(at)),
    }
}

/// `2026-01-27T10:30:00.123Z`.
#[must_use]
pub fn format_utc(at: &DateTime<Utc>) -> String {
    let mut text = [0; UTC_TEXT];
    match utc_text(at, &mut text) {
        Some(text) => text.to_owned(),
        None => at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// The length of `2026-01-27T10:30:00.123Z`.
const UTC_TEXT: usize = 24;

/// `at` as chrono's `to_rfc3339_opts(SecondsFormat::Millis, true)` writes it, written into
/// `text` digit by digit: a list of 100 tickets writes 300 instants, and chrono's formatting
/// machinery took 3.5 % of its server time (bench/RESULTS.md item 36). `None` for what chrono
/// writes its own way (a year outside 0 to 9999, a leap second).
fn utc_text<'a>(at: &DateTime<Utc>, text: &'a mut [u8; UTC_TEXT]) -> Option<&'a str> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, value: u32, digits: u32| {
        for i in 0..digits {
            let digit = value / 10u32.pow(digits - 1 - i) % 10;
            // A decimal digit: below 10.
            #[allow(clippy::cast_possible_truncation)]
            let digit = digit as u8;
            text[at + i as usize] = b'0' + digit;
        }
    };
    put(0, year, 4);
    put(5, at.month(), 2);
    put(8, at.day(), 2);
    put(11, at.hour(), 2);
    put(14, at.minute(), 2);
    put(17, at.second(), 2);
    put(20, nanos / 1_000_000, 3);
    for (at, separator) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        text[at] = separator;
    }
    std::str::from_utf8(text).ok()
}

/// [`serialize_utc`] for optional instants.
pub fn serialize_utc_opt<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&format_utc(at)),
        None => s.serialize_none(),
    }
}

/// A successful response: `{success: true, data, timestamp}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiResponse<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
    /// Server time, UTC, RFC 3339.
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-27T10:30:00Z")]
    pub timestamp: DateTime<Utc>,
    #[serde(skip)]
    #[schema(ignore)]
    status: StatusCode,
}

impl<T> ApiResponse<T> {
    /// 200 OK.
    pub fn ok(data: T) -> Self {
        Self::with_status(StatusCode::OK, data)
    }

    /// 201 Created.
    pub fn created(data: T) -> Self {
        Self::with_status(StatusCode::CREATED, data)
    }

    /// 202 Accepted.
    pub fn accepted(data: T) -> Self {
        Self::with_status(StatusCode::ACCEPTED, data)
    }

    pub fn with_status(status: StatusCode, data: T) -> Self {
        Self {
            success: true,
            data,
            timestamp: Utc::now(),
            status,
        }
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// Pagination facts of a list (conventions §4); `total` is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PageMeta {
    #[schema(example = 1, minimum = 1)]
    pub page: u64,
    #[schema(example = 20, minimum = 1, maximum = 100)]
    pub limit: u64,
    #[schema(example = 250)]
    pub total: u64,
    #[schema(example = 13)]
    pub pages: u64,
}

impl PageMeta {
    #[must_use]
    pub fn new(page: u64, limit: u64, total: u64) -> Self {
        Self {
            page,
            limit,
            total,
            pages: total.div_ceil(limit.max(1)),
        }
    }
}

/// A paginated list: `{success: true, data: [..], meta, timestamp}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<T>,
    pub meta: PageMeta,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-27T10:30:00Z")]
    pub timestamp: DateTime<Utc>,
}

impl<T> Paginated<T> {
    pub fn new(data: Vec<T>, meta: PageMeta) -> Self {
        Self {
            success: true,
            data,
            meta,
            timestamp: Utc::now(),
        }
    }

    /// Convert the items (entity -> response DTO) keeping the meta.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paginated<U> {
        Paginated {
            success: true,
            data: self.data.into_iter().map(f).collect(),
            meta: self.meta,
            timestamp: self.timestamp,
        }
    }
}

/// Machine-readable error codes (conventions §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    TwoFactorRequired,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status each code is always sent with.
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::TwoFactorRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code for a status produced outside our code (a framework rejection).
    #[must_use]
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::ValidationFailed,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// `error` member of the error envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    #[schema(example = "Request is invalid")]
    pub message: String,
    /// Present when there is more to say: `fields` (field -> messages) on 422,
    /// `retry_after_seconds` on 429, `allowed_methods` on 405, domain details on 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, example = json!({"fields": {"email": ["must be a valid email address"]}}))]
    pub details: Option<Value>,
}

impl ErrorBody {
    /// The message followed by the field errors, for a terminal.
    #[must_use]
    pub fn message_with_details(&self) -> String {
        match self.details.as_ref().and_then(|d| d.get("fields")) {
            Some(fields) => format!("{}: {fields}", self.message),
            None => self.message.clone(),
        }
    }
}

/// `{success: false, error: {code, message, details?}, timestamp}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorBody,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-27T10:30:00Z")]
    pub timestamp: DateTime<Utc>,
}

impl ErrorEnvelope {
    #[must_use]
    pub fn new(error: ErrorBody) -> Self {
        Self {
            success: false,
            error,
            timestamp: Utc::now(),
        }
    }
}

/// `capacity`: the bytes the body is expected to take, so a large page is written into one
/// buffer instead of one that doubles a dozen times, copying itself each time.
fn json_response<B: Serialize>(status: StatusCode, body: &B, capacity: usize) -> HttpResponse {
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => HttpResponse::build(status)
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ))
            .body(bytes),
        Err(err) => AppError::internal(err).into_response(),
    }
}

impl AppError {
    fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

impl<T: Serialize> Responder for ApiResponse<T> {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<Self::Body> {
        json_response(self.status, &self, 1024)
    }
}

impl<T: Serialize> Responder for Paginated<T> {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<Self::Body> {
        // A list item takes a few hundred bytes (a ticket of the staff list: about 800).
        json_response(
            StatusCode::OK,
            &self,
            self.data.len().saturating_mul(1024).saturating_add(512),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        let chrono = |at: &DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut instants: Vec<DateTime<Utc>> = [
            (0, 0),
            (1_769_509_800, 123_456_789),
            (-62_167_219_200, 0),           // 0000-01-01
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59.999
            (253_402_300_800, 0),           // 10000-01-01: chrono's own form
            (-62_167_219_201, 0),           // -0001-12-31: chrono's own form
            (951_782_400, 1_000_000),       // 2000-02-29
            (1_483_228_799, 1_500_000_000), // a leap second: chrono's own form
        ]
        .into_iter()
        .map(|(seconds, nanos)| {
            Utc.timestamp_opt(seconds, nanos)
                .single()
                .expect("an instant")
        })
        .collect();
        let mut seed: u64 = 0x5eed;
        for _ in 0..20_000 {
            // xorshift: instants from 1900 to 2200, any nanosecond.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let seconds = i64::try_from(seed % 9_467_280_000).expect("small") - 2_208_988_800;
            let nanos = u32::try_from(seed % 1_000_000_000).expect("small");
            instants.push(
                Utc.timestamp_opt(seconds, nanos)
                    .single()
                    .expect("an instant"),
            );
        }
        for at in &instants {
            assert_eq!(format_utc(at), chrono(at), "{at:?}");
        }
        #[derive(Serialize)]
        struct At(#[serde(serialize_with = "serialize_utc")] DateTime<Utc>);
        for at in &instants[..8] {
            assert_eq!(
                serde_json::to_value(At(*at)).expect("serialises"),
                Value::String(chrono(at))
            );
        }
    }

    #[test]
    fn pages_round_up_and_survive_an_empty_list() {
        assert_eq!(PageMeta::new(1, 20, 250).pages, 13);
        assert_eq!(PageMeta::new(1, 20, 240).pages, 12);
        assert_eq!(PageMeta::new(1, 20, 0).pages, 0);
    }

    #[test]
    fn success_envelope_has_the_documented_shape() {
        let value =
            serde_json::to_value(ApiResponse::ok(serde_json::json!({"a": 1}))).unwrap_or_default();
        assert_eq!(value["success"], true);
        assert_eq!(value["data"]["a"], 1);
        assert!(value.get("meta").is_none());
        let ts = value["timestamp"].as_str().unwrap_or_default();
        assert!(ts.ends_with('Z'), "{ts}");
        assert!(DateTime::parse_from_rfc3339(ts).is_ok());
    }

    #[test]
    fn codes_map_back_from_their_status() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::ValidationFailed,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(ErrorCode::for_status(code.status()), code);
        }
    }
}
