//! `/api/client/documents`: the company's documents by category or project, uploads (10 MiB,
//! type checked against the bytes), deletion of the company's own uploads, previews,
//! downloads and share links.

pub mod service;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use entity::document::DocumentCategory;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::envelope::serialize_utc;
use shared::extract::{Json, Path};
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, Sort, SortField};
use shared::upload::{Disposition, MAX_FILE_BYTES, read_multipart, send_stored};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;

/// How a document can be previewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreviewKind {
    /// `/preview` sends the bytes to show in place (images, PDF).
    Inline,
    /// `/preview` sends a text excerpt.
    Text,
    /// No preview; download it.
    None,
}

/// A document as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    #[schema(example = "plan-rdc.pdf")]
    pub name: String,
    pub category: DocumentCategory,
    #[schema(example = "Plans")]
    pub category_label: String,
    pub description: Option<String>,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub project_id: Option<Uuid>,
    pub project_name: Option<String>,
    /// Uploaded by someone of the client company (else provided by the business).
    pub uploaded_by_client: bool,
    pub uploader_name: Option<String>,
    /// The caller may delete it (the company's own uploads).
    pub can_delete: bool,
    pub preview: PreviewKind,
    /// Authenticated download (`Authorization: Bearer`).
    pub download_url: String,
    pub preview_url: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// A category and how many of the company's documents have it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryCount {
    pub code: DocumentCategory,
    #[schema(example = "Contrats")]
    pub label: String,
    pub count: i64,
}

/// The text preview of a document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TextPreview {
    pub id: Uuid,
    pub content_type: String,
    /// The first 4,000 characters.
    pub excerpt: String,
    /// There is more than the excerpt.
    pub truncated: bool,
}

/// `POST /documents/{id}/share`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// How long the link works (default 168 = one week, at most 720).
    #[validate(range(min = 1, max = 720))]
    #[schema(minimum = 1, maximum = 720, example = 48)]
    pub expires_in_hours: Option<u32>,
    /// Asked of whoever opens the link.
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

/// A share link. The token is shown once; only its hash is kept.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareView {
    pub id: Uuid,
    pub document_id: Uuid,
    /// The public link (no login needed until it expires).
    pub url: String,
    pub path: String,
    pub token: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub password_protected: bool,
}

/// Filters of `GET /documents`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilters {
    pub category: Option<DocumentCategory>,
    pub project_id: Option<Uuid>,
    /// In the name or description (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub search: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentSort {
    CreatedAt,
    Name,
    Size,
}

impl SortField for DocumentSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("created_at", Self::CreatedAt),
        ("name", Self::Name),
        ("size", Self::Size),
    ];
    const DEFAULT: Self = Self::CreatedAt;
}

/// The multipart form of a project upload, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ProjectUploadForm {
    /// The file (10 MiB at most).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Default `deliverable`.
    category: Option<DocumentCategory>,
    #[schema(max_length = 2000)]
    description: Option<String>,
}

/// The multipart form of a document upload, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (10 MiB at most).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Default `other`.
    category: Option<DocumentCategory>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    /// A project of the company.
    project_id: Option<Uuid>,
}

/// What an upload carried, checked.
#[derive(Debug)]
pub struct DocumentForm {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Bytes,
    pub category: DocumentCategory,
    pub project_id: Option<Uuid>,
    pub description: Option<String>,
}

/// Read an upload: `file`, `category`, `description`, and `project_id` when `with_project`.
///
/// # Errors
/// 413, 415, 400, 422 (as the shared reader; an unknown category or project id).
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    with_project: bool,
) -> Result<DocumentForm, AppError> {
    let fields: &[&str] = if with_project {
        &["category", "description", "project_id"]
    } else {
        &["category", "description"]
    };
    let form = read_multipart(req, payload, MAX_FILE_BYTES, fields).await?;
    let category = match form.field("category") {
        None if with_project => DocumentCategory::Other,
        None => DocumentCategory::Deliverable,
        Some(raw) => {
            serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
                let names: Vec<&str> = DocumentCategory::ALL.iter().map(|c| c.as_str()).collect();
                AppError::invalid("category", format!("must be one of: {}", names.join(", ")))
            })?
        }
    };
    let project_id = form
        .field("project_id")
        .map(|raw| {
            Uuid::parse_str(raw).map_err(|_| AppError::invalid("project_id", "must be a UUID"))
        })
        .transpose()?;
    Ok(DocumentForm {
        description: form.field("description").map(str::to_owned),
        file_name: form.file_name,
        content_type: form.content_type,
        bytes: form.bytes,
        category,
        project_id,
    })
}

/// The `/{id}` routes do not take the fixed paths beside them, so another method on
/// `/documents/upload` or `/documents/categories` answers 405 with their `Allow`.
#[must_use]
pub fn names_a_document(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    let last = ctx.head().uri.path().rsplit('/').next().unwrap_or_default();
    !matches!(last, "upload" | "categories")
}

/// The company's documents, filtered, sorted and paginated.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, Sort<DocumentSort>, DocumentFilters),
    responses((status = 200, description = "A page of documents", body = Paginated<DocumentView>), errors::AuthedRead)
)]
#[get("/documents")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    page: PageParams,
    sort: Sort<DocumentSort>,
    filters: Filters<DocumentFilters>,
) -> Result<Paginated<DocumentView>, AppError> {
    service::list(db.get_ref(), &caller, &filters.into_inner(), page, sort).await
}

/// Every document category, with the company's count in each.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    responses((status = 200, description = "The categories", body = ApiResponse<Vec<CategoryCount>>), errors::AuthedRead)
)]
#[get("/documents/categories")]
pub async fn categories(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
) -> Result<ApiResponse<Vec<CategoryCount>>, AppError> {
    Ok(ApiResponse::ok(
        service::categories(db.get_ref(), caller.company_id).await?,
    ))
}

/// Upload a document (`multipart/form-data`: `file`, optional `category`, `description`,
/// `project_id`; 10 MiB at most).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(IdempotencyKeyHeader),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored document", body = ApiResponse<DocumentView>), errors::AuthedWrite)
)]
#[post("/documents/upload", wrap = "Idempotency")]
pub async fn upload(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    payload: web::Payload,
) -> Result<ApiResponse<DocumentView>, AppError> {
    let form = read_form(&req, payload, true).await?;
    let view = service::store(db.get_ref(), &state, &caller, form, None).await?;
    Ok(ApiResponse::created(view))
}

/// One document.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses((status = 200, description = "The document", body = ApiResponse<DocumentView>), errors::AuthedRead)
)]
#[get("/documents/{id}", guard = "crate::documents::names_a_document")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<DocumentView>, AppError> {
    Ok(ApiResponse::ok(
        service::detail(db.get_ref(), &caller, id.into_inner()).await?,
    ))
}

/// Delete a document the company uploaded (its share links stop working). Documents the
/// business provided answer 403.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses((status = 204, description = "Deleted"), errors::AuthedWrite)
)]
#[delete("/documents/{id}", guard = "crate::documents::names_a_document")]
pub async fn delete(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::delete(db.get_ref(), &state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Download a document's bytes.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "The file, with its stored type", content_type = "*/*", body = Vec<u8>),
        errors::AuthedRead
    )
)]
#[get("/documents/{id}/download")]
pub async fn download(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let doc = service::find(db.get_ref(), caller.company_id, id.into_inner()).await?;
    send_stored(
        &state.storage,
        &doc.storage_key,
        &doc.name,
        &doc.content_type,
        Disposition::Attachment,
    )
    .await
}

/// Preview a document: images and PDF come back as their bytes to show in place, text
/// formats as an excerpt; other types answer 409 (download them instead).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "The bytes (images, PDF) or a text excerpt", content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "image/*"),
            (ApiResponse<TextPreview> = "application/json")
        )),
        (status = 409, description = "No preview for this type of file; download it", body = shared::envelope::ErrorEnvelope),
        errors::AuthedRead
    )
)]
#[get("/documents/{id}/preview")]
pub async fn preview(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let doc = service::find(db.get_ref(), caller.company_id, id.into_inner()).await?;
    match service::preview_kind(&doc.content_type) {
        PreviewKind::Inline => {
            send_stored(
                &state.storage,
                &doc.storage_key,
                &doc.name,
                &doc.content_type,
                Disposition::Inline,
            )
            .await
        }
        PreviewKind::Text => {
            let (excerpt, truncated) = service::excerpt(&state.storage, &doc).await?;
            Ok(HttpResponse::Ok().json(ApiResponse::ok(TextPreview {
                id: doc.id,
                content_type: doc.content_type,
                excerpt,
                truncated,
            })))
        }
        PreviewKind::None => Err(AppError::conflict(format!(
            "No preview for {} files; download it instead",
            doc.content_type
        ))),
    }
}

/// Create a public link to a document (no login needed until it expires; optional password).
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    request_body = ShareRequest,
    responses((status = 201, description = "The link (its token is shown only now)", body = ApiResponse<ShareView>), errors::AuthedWrite)
)]
#[post("/documents/{id}/share")]
pub async fn share(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    auth_state: web::Data<auth::AuthState>,
    caller: ClientUser,
    id: Path<Uuid>,
    body: Json<ShareRequest>,
) -> Result<ApiResponse<ShareView>, AppError> {
    let view = service::share(
        db.get_ref(),
        &state,
        &auth_state.hasher,
        &caller,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(ApiResponse::created(view))
}
