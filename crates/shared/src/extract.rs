//! Extractors that name the bad field.
//!
//! actix's own `web::Json`/`web::Query`/`web::Path` report a serde message without the field it
//! is about. These wrap the same parsing with `serde_path_to_error` and run `validator` rules, so
//! every rejection is the envelope with `details.fields` (conventions §8). The framework's own
//! extractor configs are also given enveloped error handlers ([`framework_error_handlers`]) so
//! that nothing answers in plain text.

use std::borrow::Cow;
use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use bytes::BytesMut;
use futures_util::StreamExt;
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{AppError, FieldErrors};

/// Largest JSON body accepted (conventions §8: 1 MiB).
pub const DEFAULT_JSON_LIMIT: usize = 1024 * 1024;

/// Per-app (or per-scope) override of the JSON body limit, as `app_data`.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

/// A JSON body: content type checked (415), size capped (413), syntax checked (400), each field
/// deserialised and validated (422 naming the field).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.subtype() == mime::JSON || mime.suffix().is_some_and(|s| s == mime::JSON)
        }
        _ => false,
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn payload_error(err: PayloadError, limit: usize) -> AppError {
    match err {
        PayloadError::Overflow => AppError::PayloadTooLarge { limit_bytes: limit },
        other => AppError::bad_request(format!("Request body could not be read: {other}")),
    }
}

/// Read a whole body, refusing more than `limit` bytes.
///
/// # Errors
/// 413 when the body (declared or streamed) exceeds `limit`, 400 when the stream breaks.
pub async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<bytes::Bytes, AppError> {
    let declared = declared_length(req);
    if declared.is_some_and(|len| len > limit) {
        return Err(AppError::PayloadTooLarge { limit_bytes: limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| payload_error(e, limit))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit_bytes: limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl<T> FromRequest for Json<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<JsonLimit>()
            .map_or(DEFAULT_JSON_LIMIT, |l| l.0);
        let json = is_json_content_type(req);
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(AppError::UnsupportedMediaType(
                    "Content-Type must be application/json".to_owned(),
                ));
            }
            let body = read_body(&req, &mut payload, limit).await?;
            let value: T = parse_json(&body)?;
            validate(&value)?;
            Ok(Json(value))
        })
    }
}

/// Deserialise JSON, telling a syntax error (400) from a bad field (422).
///
/// # Errors
/// [`AppError::BadRequest`] for malformed JSON, [`AppError::Validation`] naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request(
            "Request body is empty; a JSON document is expected",
        ));
    }
    let mut document: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request(format!("Request body is not valid JSON: {e}")))?;
    // Request bodies are objects; serde would otherwise accept `[a, b]` for a struct.
    if !document.is_object() {
        return Err(AppError::invalid("body", "must be a JSON object"));
    }
    if let Some(path) = nul_path(&document, "") {
        return Err(AppError::invalid(path, NUL_MESSAGE));
    }
    integral_floats_to_integers(&mut document);
    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().to_string();
        AppError::Validation(serde_field_error(&path, &err.into_inner().to_string()))
    })
}

/// Deserialise and validate a JSON value nested in a request (say the `data` of an action),
/// naming bad fields under `prefix` (`data.niveau`).
///
/// # Errors
/// [`AppError::Validation`] naming each bad field.
pub fn parse_value<T: DeserializeOwned + Validate>(
    mut value: serde_json::Value,
    prefix: &str,
) -> Result<T, AppError> {
    integral_floats_to_integers(&mut value);
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." {
            prefix.to_owned()
        } else {
            join(prefix, &path)
        };
        AppError::Validation(serde_field_error(&path, &err.into_inner().to_string()))
    })?;
    parsed.validate().map_err(|errors| {
        let mut out = FieldErrors::new();
        collect(&mut out, prefix, &errors);
        AppError::Validation(out)
    })?;
    Ok(parsed)
}

const NUL_MESSAGE: &str = "must not contain NUL characters";

/// Where a JSON document holds a NUL character (PostgreSQL text cannot store one).
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(here()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(here())
            } else {
                nul_path(item, &child)
            }
        }),
        _ => None,
    }
}

/// JSON Schema counts `10.0` as an integer; serde does not. Rewrite integral floats so an
/// integer field accepts every value its documented schema allows.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9_007_199_254_740_992.0
            {
                // Exact: |f| < 2^53, so the conversion loses nothing.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *value = serde_json::Value::from(i);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// For a `PATCH` field that can be cleared: absent leaves it as is (`None`), `null` clears it
/// (`Some(None)`), a value sets it (`Some(Some(v))`). Use with `#[serde(default)]`.
///
/// # Errors
/// The value does not deserialise as `T`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Query string parameters, each named when wrong (422), then validated.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Deserialise a query string into `T`, naming the bad parameter.
///
/// # Errors
/// [`AppError::Validation`] naming the parameter that does not parse or fails a rule.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    if let Some((key, _)) =
        form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(AppError::invalid(key.replace('\0', ""), NUL_MESSAGE));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        AppError::Validation(serde_field_error(&path, &err.into_inner().to_string()))
    })
}

impl<T> FromRequest for Query<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query::<T>(req.query_string()).and_then(|value| {
            validate(&value)?;
            Ok(Query(value))
        }))
    }
}

/// Path parameters, each named when it does not parse (422).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T> Path<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Path<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> FromRequest for Path<T>
where
    T: DeserializeOwned + 'static,
{
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some((name, _)) = req.match_info().iter().find(|(_, v)| v.contains('\0')) {
            return ready(Err(AppError::invalid(name, NUL_MESSAGE)));
        }
        let de = actix_router::PathDeserializer::new(req.match_info());
        ready(
            serde_path_to_error::deserialize(de)
                .map(Path)
                .map_err(|err| {
                    let mut path = err.path().to_string();
                    if path == "." {
                        // A single unnamed parameter: name it after the route segment.
                        path = req
                            .match_info()
                            .iter()
                            .next()
                            .map_or_else(|| "path".to_owned(), |(name, _)| name.to_owned());
                    }
                    AppError::Validation(serde_field_error(&path, &err.into_inner().to_string()))
                }),
        )
    }
}

/// Run the `validator` rules of a DTO.
///
/// # Errors
/// [`AppError::Validation`] with one entry per failing field.
pub fn validate<T: Validate>(value: &T) -> Result<(), AppError> {
    value
        .validate()
        .map_err(|errors| AppError::Validation(field_errors(&errors)))
}

/// Flatten nested `validator` errors into `field.sub[0].name -> messages`.
#[must_use]
pub fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    collect(&mut out, "", errors);
    out
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn collect(out: &mut FieldErrors, prefix: &str, errors: &ValidationErrors) {
    for (field, kind) in &errors.0 {
        // Struct-level rules (`#[validate(schema(...))]`) come back under `__all__`.
        let name = if field == "__all__" {
            if prefix.is_empty() {
                "body".to_owned()
            } else {
                prefix.to_owned()
            }
        } else {
            join(prefix, field)
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.add(name.clone(), describe(error));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(out, &name, inner),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(out, &format!("{name}[{index}]"), inner);
                }
            }
        }
    }
}

fn param(params: &HashMap<Cow<'static, str>, serde_json::Value>, key: &str) -> Option<String> {
    params.get(key).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A readable message for a `validator` failure.
fn describe(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let min = param(&error.params, "min");
    let max = param(&error.params, "max");
    let equal = param(&error.params, "equal");
    match error.code.as_ref() {
        "email" => "must be a valid email address".to_owned(),
        "url" => "must be a valid URL".to_owned(),
        "required" => "is required".to_owned(),
        "regex" => "has an invalid format".to_owned(),
        "must_match" => format!(
            "must match {}",
            param(&error.params, "other").unwrap_or_else(|| "the other field".to_owned())
        ),
        "contains" => format!(
            "must contain {}",
            param(&error.params, "needle").unwrap_or_default()
        ),
        "does_not_contain" => format!(
            "must not contain {}",
            param(&error.params, "needle").unwrap_or_default()
        ),
        "length" => match (equal, min, max) {
            (Some(n), _, _) => format!("must have exactly {n} characters or items"),
            (None, Some(min), Some(max)) => {
                format!("must have between {min} and {max} characters or items")
            }
            (None, Some(min), None) => format!("must have at least {min} characters or items"),
            (None, None, Some(max)) => format!("must have at most {max} characters or items"),
            (None, None, None) => "has an invalid length".to_owned(),
        },
        "range" => match (min, max) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            (None, None) => "is out of range".to_owned(),
        },
        other => other.replace('_', " "),
    }
}

/// Strip serde_json's " at line 1 column 7" suffix.
fn without_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

fn humanize_expected(expected: &str) -> String {
    let expected = expected.trim();
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" | "a string" | "a sequence" | "a map" => expected.to_owned(),
        "UUID parsing failed" => "a UUID".to_owned(),
        other => other.to_owned(),
    }
}

/// Turn a serde data error at `path` into `field -> message`.
#[must_use]
pub fn serde_field_error(path: &str, raw: &str) -> FieldErrors {
    let message = without_position(raw);
    let base = if path == "." || path == "?" { "" } else { path };
    let (field, text) = if let Some(rest) = message.strip_prefix("missing field ") {
        let name = backticked(rest).unwrap_or(rest);
        (join(base, name), "is required".to_owned())
    } else if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = backticked(rest).unwrap_or(rest);
        let field = if base.rsplit('.').next() == Some(name) {
            base.to_owned()
        } else {
            join(base, name)
        };
        (field, "is not an allowed field".to_owned())
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        let allowed: Vec<&str> = rest
            .split("expected ")
            .nth(1)
            .map(|list| {
                list.split('`')
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 1)
                    .map(|(_, s)| s)
                    .collect()
            })
            .unwrap_or_default();
        (
            base.to_owned(),
            if allowed.is_empty() {
                "is not an allowed value".to_owned()
            } else {
                format!("must be one of: {}", allowed.join(", "))
            },
        )
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let expected = message.rsplit("expected ").next().unwrap_or(message);
        (
            base.to_owned(),
            format!("must be {}", humanize_expected(expected)),
        )
    } else if message.starts_with("invalid digit") || message.contains("cannot parse integer") {
        (base.to_owned(), "must be an integer".to_owned())
    } else if message.starts_with("UUID parsing failed") || message.starts_with("invalid character")
    {
        (base.to_owned(), "must be a UUID".to_owned())
    } else if message.contains("premature end of input")
        || message.contains("input contains invalid characters")
        || message.contains("input is out of range")
        || message.contains("trailing input")
    {
        (
            base.to_owned(),
            "must be a date-time in RFC 3339 format (2026-01-27T10:30:00Z) or a date (YYYY-MM-DD)"
                .to_owned(),
        )
    } else {
        (base.to_owned(), message.to_owned())
    };
    let field = if field.is_empty() {
        "body".to_owned()
    } else {
        field
    };
    FieldErrors::single(field, text)
}

/// Enveloped error handlers for the framework's own extractors, so code (ours or a library's)
/// that uses `web::Json`/`web::Query`/`web::Path`/`web::Form` still answers with the envelope.
pub fn framework_error_handlers(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(DEFAULT_JSON_LIMIT)
            .error_handler(|err, _req| {
                let app = match err {
                    JsonPayloadError::OverflowKnownLength { limit, .. } => {
                        AppError::PayloadTooLarge { limit_bytes: limit }
                    }
                    JsonPayloadError::Overflow { limit } => {
                        AppError::PayloadTooLarge { limit_bytes: limit }
                    }
                    JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
                        "Content-Type must be application/json".to_owned(),
                    ),
                    JsonPayloadError::Deserialize(e) if e.is_data() => {
                        AppError::Validation(serde_field_error(".", &e.to_string()))
                    }
                    other => {
                        AppError::bad_request(format!("Request body is not valid JSON: {other}"))
                    }
                };
                app.into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _req| {
        let QueryPayloadError::Deserialize(e) = err else {
            return AppError::bad_request("Query string could not be parsed").into();
        };
        AppError::Validation(serde_field_error(".", &e.to_string())).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _req| {
        let PathError::Deserialize(e) = err else {
            return AppError::bad_request("Path could not be parsed").into();
        };
        AppError::Validation(serde_field_error("path", &e.to_string())).into()
    }))
    .app_data(web::FormConfig::default().error_handler(|err, _req| {
        AppError::bad_request(format!("Form body could not be parsed: {err}")).into()
    }))
    .app_data(web::PayloadConfig::default().limit(DEFAULT_JSON_LIMIT));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Person {
        #[validate(email)]
        email: String,
        #[validate(range(min = 1, max = 150))]
        age: u32,
        #[validate(nested)]
        #[serde(default)]
        pets: Vec<Pet>,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Pet {
        #[validate(length(min = 1, max = 20))]
        name: String,
    }

    fn fields(err: AppError) -> FieldErrors {
        match err {
            AppError::Validation(f) => f,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Person>(b"{\"email\": "),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Person>(b""),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Person>(br#"{"email":"a@b.c","age":3} trailing"#),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn an_integral_float_is_an_integer_as_json_schema_says() {
        let person: Person = parse_json(br#"{"email":"a@b.c","age":30.0}"#).unwrap();
        assert_eq!(person.age, 30);
        let f = fields(parse_json::<Person>(br#"{"email":"a@b.c","age":30.5}"#).unwrap_err());
        assert!(f.fields().contains_key("age"));
    }

    #[test]
    fn nul_characters_are_refused_with_their_field() {
        let f = fields(
            parse_json::<Person>(br#"{"email":"a@b.c","age":3,"pets":[{"name":"x\u0000"}]}"#)
                .unwrap_err(),
        );
        assert_eq!(f.fields()["pets[0].name"], vec![NUL_MESSAGE]);
        let f = fields(parse_query::<Filter>("status=%00").unwrap_err());
        assert_eq!(f.fields()["status"], vec![NUL_MESSAGE]);
    }

    #[test]
    fn a_body_must_be_an_object() {
        let f = fields(parse_json::<Person>(br#"["a@b.c", 3]"#).unwrap_err());
        assert_eq!(f.fields()["body"], vec!["must be a JSON object"]);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let f = fields(parse_json::<Person>(br#"{"email":"a@b.c","age":"x"}"#).unwrap_err());
        assert_eq!(f.fields()["age"], vec!["must be a non-negative integer"]);
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let f = fields(parse_json::<Person>(br#"{"age":3}"#).unwrap_err());
        assert_eq!(f.fields()["email"], vec!["is required"]);
        let f = fields(
            parse_json::<Person>(br#"{"email":"a@b.c","age":3,"role":"superadmin"}"#).unwrap_err(),
        );
        assert_eq!(f.fields()["role"], vec!["is not an allowed field"]);
    }

    #[test]
    fn nested_fields_carry_their_path() {
        let f = fields(
            parse_json::<Person>(br#"{"email":"a@b.c","age":3,"pets":[{"name":1}]}"#).unwrap_err(),
        );
        assert!(f.fields().contains_key("pets[0].name"), "{f:?}");
    }

    #[test]
    fn validator_rules_become_readable_messages() {
        let person: Person =
            parse_json(br#"{"email":"nope","age":0,"pets":[{"name":""}]}"#).unwrap();
        let f = fields(validate(&person).unwrap_err());
        assert_eq!(f.fields()["email"], vec!["must be a valid email address"]);
        assert_eq!(f.fields()["age"], vec!["must be between 1 and 150"]);
        assert_eq!(
            f.fields()["pets[0].name"],
            vec!["must have between 1 and 20 characters or items"]
        );
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Filter {
        page: Option<u32>,
        status: Option<Status>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        Active,
        Archived,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let f = fields(parse_query::<Filter>("page=abc").unwrap_err());
        assert!(f.fields().contains_key("page"), "{f:?}");
        let f = fields(parse_query::<Filter>("status=deleted").unwrap_err());
        assert_eq!(
            f.fields()["status"],
            vec!["must be one of: active, archived"]
        );
        assert!(parse_query::<Filter>("page=2&status=active&other=1").is_ok());
    }
}
