//! File uploads and downloads shared by every route that takes or serves a file: a bounded
//! multipart reader (one `file` part plus named small text fields; 413 beyond the limit with
//! nothing kept, 415 when the body is not multipart) and a streaming response for a stored
//! object.

use std::collections::BTreeMap;

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::{AppError, FieldErrors};
use crate::storage::{Storage, sanitize_file_name};

/// Largest accepted file, unless a route says otherwise.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Room for the multipart framing and the small fields around the file.
const FRAMING_BYTES: usize = 64 * 1024;
/// Small text fields.
pub const MAX_TEXT_FIELD: usize = 2000;

/// What a multipart upload carried.
#[derive(Debug)]
pub struct MultipartUpload {
    /// The display name (no path, no control characters).
    pub file_name: String,
    /// As the client declared it (`application/octet-stream` when it did not).
    pub content_type: String,
    pub bytes: Bytes,
    /// The text fields that were sent, trimmed; empty values are left out.
    pub fields: BTreeMap<String, String>,
}

impl MultipartUpload {
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A display name from the client's file name: no path, no control characters, 255 at most.
#[must_use]
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() {
        sanitize_file_name(raw)
    } else {
        cleaned
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::PayloadTooLarge { limit_bytes: limit }
}

fn malformed(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(format!("Malformed multipart body: {e}"))
}

/// Read and throw away at most `limit` bytes of a refused body, so the client gets the answer
/// instead of a reset connection.
async fn drain(mut payload: web::Payload, limit: usize) {
    let mut read = 0;
    while read < limit {
        match payload.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

/// Read a `multipart/form-data` body: one part named `file` (required, at most `max_file`
/// bytes, not empty) and the small text fields named in `text_fields` (each at most
/// [`MAX_TEXT_FIELD`] characters of UTF-8 without NUL). Any other part is refused by name.
///
/// # Errors
/// 415 (not multipart), 413 (file over `max_file`), 400 (broken multipart), 422 (fields).
pub async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    max_file: usize,
    text_fields: &[&str],
) -> Result<MultipartUpload, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        return Err(AppError::UnsupportedMediaType(
            "Send the file as multipart/form-data (field `file`)".to_owned(),
        ));
    }
    let max_request = max_file + FRAMING_BYTES;
    let drain_limit = 2 * max_request;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_request) {
        drain(payload, drain_limit).await;
        return Err(too_large(max_file));
    }

    // Count every byte of the body, so a body without Content-Length is held to the limit too.
    let counted = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let counter = std::rc::Rc::clone(&counted);
    let stream = payload.into_inner().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counter.set(counter.get() + bytes.len());
        }
        chunk
    });
    let mut multipart = actix_multipart::Multipart::new(req.headers(), stream);
    let mut file: Option<(String, String, Bytes)> = None;
    let mut fields = BTreeMap::new();
    let mut errors = FieldErrors::new();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                errors.add("file", "send one file per request");
            }
            let file_name = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(display_name)
                .unwrap_or_else(|| "fichier".to_owned());
            let mime = field.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                ToString::to_string,
            );
            let mut buffer = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                if buffer.len() + chunk.len() > max_file {
                    // Read (and drop) the rest so the client hears the 413.
                    while let Some(rest) = field.next().await {
                        if rest.is_err() || counted.get() > drain_limit {
                            break;
                        }
                    }
                    return Err(too_large(max_file));
                }
                buffer.extend_from_slice(&chunk);
            }
            file = Some((file_name, mime, buffer.freeze()));
        } else if text_fields.contains(&name.as_str()) {
            let mut buffer = BytesMut::new();
            let mut over = false;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                if buffer.len() + chunk.len() > MAX_TEXT_FIELD * 4 {
                    over = true;
                    break;
                }
                buffer.extend_from_slice(&chunk);
            }
            let Ok(value) = String::from_utf8(buffer.to_vec()) else {
                errors.add(name, "must be UTF-8 text");
                continue;
            };
            let value = value.trim();
            if value.contains('\0') {
                errors.add(name, "must not contain NUL characters");
            } else if over || value.chars().count() > MAX_TEXT_FIELD {
                errors.add(name, format!("at most {MAX_TEXT_FIELD} characters"));
            } else if !value.is_empty() {
                fields.insert(name, value.to_owned());
            }
        } else {
            let name = if name.is_empty() { "body" } else { &name };
            let mut allowed = vec!["file"];
            allowed.extend_from_slice(text_fields);
            errors.add(
                name,
                format!("is not an allowed field (send {})", allowed.join(", ")),
            );
            while let Some(chunk) = field.next().await {
                if chunk.is_err() || counted.get() > drain_limit {
                    break;
                }
            }
        }
    }
    let Some((file_name, content_type, bytes)) = file else {
        errors.add("file", "is required");
        return Err(AppError::Validation(errors));
    };
    if bytes.is_empty() {
        errors.add("file", "is empty");
    }
    errors.into_result()?;
    Ok(MultipartUpload {
        file_name,
        content_type,
        bytes,
        fields,
    })
}

/// How the browser should treat a served file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Save it.
    Attachment,
    /// Show it in place (previews).
    Inline,
}

/// Stream a stored object back with its name and type.
///
/// # Errors
/// 404 when the object is gone; storage errors.
pub async fn send_stored(
    storage: &Storage,
    key: &str,
    name: &str,
    content_type: &str,
    disposition: Disposition,
) -> Result<HttpResponse, AppError> {
    let object = storage.get(key).await?;
    let ascii = sanitize_file_name(name);
    let disposition = ContentDisposition {
        disposition: match disposition {
            Disposition::Attachment => DispositionType::Attachment,
            Disposition::Inline => DispositionType::Inline,
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    };
    let mime: mime::Mime = content_type
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .no_chunking(object.size)
        .streaming(
            object
                .stream
                .map(|chunk| chunk.map_err(std::io::Error::other)),
        ))
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn display_names_lose_paths_and_control_characters() {
        assert_eq!(display_name("C:\\Users\\a\\plan.pdf"), "plan.pdf");
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("re\u{7}port.txt"), "report.txt");
        assert!(!display_name("   ").is_empty());
    }
}
