//! Documents of a client company: listing, storing uploads (type checked against the bytes),
//! deleting the company's own uploads, previews, downloads and public share links.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::document::DocumentCategory;
use entity::{document, document_share};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::audit::{self, AuditEntry};
use shared::db::sum_bigint;
use shared::pagination::{PageParams, Sort, fetch_page};
use shared::storage::Storage;
use shared::{AppError, Paginated};
use uuid::Uuid;

use super::{
    CategoryCount, DocumentFilters, DocumentForm, DocumentSort, DocumentView, PreviewKind,
    ShareRequest, ShareView,
};
use crate::caller::ClientUser;
use crate::projects::service::{self as projects, kind};
use crate::{ClientState, text};

/// Types shown in place: raster images and PDF (never SVG or HTML, which could run script).
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
];

/// How much of a text file the preview shows.
const EXCERPT_CHARS: usize = 4000;

/// Default and longest life of a share link.
pub const DEFAULT_SHARE_HOURS: u32 = 168;
pub const MAX_SHARE_HOURS: u32 = 720;

/// What the bytes are, from their first bytes, for the types that are shown in place.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Is this a type whose preview is a text excerpt?
#[must_use]
pub fn is_text(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    base.starts_with("text/")
        || matches!(
            base,
            "application/json" | "application/xml" | "application/csv" | "application/x-yaml"
        )
}

/// How a stored type is previewed.
#[must_use]
pub fn preview_kind(content_type: &str) -> PreviewKind {
    if INLINE_TYPES.contains(&content_type) {
        PreviewKind::Inline
    } else if is_text(content_type) {
        PreviewKind::Text
    } else {
        PreviewKind::None
    }
}

/// The type to store: what the bytes are when they are a type shown in place; a declared
/// image or PDF whose bytes are something else is refused; other declared types are kept.
///
/// # Errors
/// 422 naming `file`.
pub fn checked_type(declared: &str, bytes: &[u8]) -> Result<String, AppError> {
    let declared = declared.trim().to_ascii_lowercase();
    let base = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if let Some(actual) = sniff(bytes) {
        return Ok(actual.to_owned());
    }
    if base.starts_with("image/") && base != "image/svg+xml" || base == "application/pdf" {
        return Err(AppError::invalid(
            "file",
            format!("the content is not a valid {base} file"),
        ));
    }
    if base.is_empty() || base.contains(char::is_whitespace) {
        return Ok("application/octet-stream".to_owned());
    }
    Ok(declared.chars().take(255).collect())
}

fn of_company(company_id: Uuid) -> Select<document::Entity> {
    document::Entity::find().filter(document::Column::CompanyId.eq(company_id))
}

/// The API view of a document row.
#[must_use]
pub fn view(
    doc: document::Model,
    project_name: Option<String>,
    caller: &ClientUser,
) -> DocumentView {
    DocumentView {
        download_url: format!("/api/client/documents/{}/download", doc.id),
        preview_url: format!("/api/client/documents/{}/preview", doc.id),
        preview: preview_kind(&doc.content_type),
        category_label: doc.category.label().to_owned(),
        uploaded_by_client: doc.uploaded_by_client,
        can_delete: doc.uploaded_by_client && doc.company_id == caller.company_id,
        id: doc.id,
        name: doc.name,
        category: doc.category,
        description: doc.description,
        content_type: doc.content_type,
        size: doc.size,
        sha256: doc.sha256,
        project_id: doc.project_id,
        project_name,
        uploader_name: doc.uploader_name,
        created_at: doc.created_at,
    }
}

async fn views(
    db: &impl ConnectionTrait,
    caller: &ClientUser,
    page: Paginated<document::Model>,
) -> Result<Paginated<DocumentView>, AppError> {
    let ids: Vec<Uuid> = page.data.iter().filter_map(|d| d.project_id).collect();
    let names = projects::names(db, caller.company_id, ids).await?;
    Ok(page.map(|d| {
        let name = d.project_id.and_then(|p| names.get(&p).cloned());
        view(d, name, caller)
    }))
}

/// A document of the caller's company.
///
/// # Errors
/// 404 when it is not the company's; database errors.
pub async fn find(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<document::Model, AppError> {
    of_company(company_id)
        .filter(document::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such document"))
}

/// One document.
///
/// # Errors
/// 404, database errors.
pub async fn detail(
    db: &impl ConnectionTrait,
    caller: &ClientUser,
    id: Uuid,
) -> Result<DocumentView, AppError> {
    let doc = find(db, caller.company_id, id).await?;
    let name = match doc.project_id {
        Some(p) => projects::names(db, caller.company_id, vec![p])
            .await?
            .remove(&p),
        None => None,
    };
    Ok(view(doc, name, caller))
}

/// A page of the company's documents.
///
/// # Errors
/// 422 naming `project_id` for a project that is not the company's; database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &ClientUser,
    filters: &DocumentFilters,
    page: PageParams,
    sort: Sort<DocumentSort>,
) -> Result<Paginated<DocumentView>, AppError> {
    let mut query = of_company(caller.company_id);
    if let Some(category) = filters.category {
        query = query.filter(document::Column::Category.eq(category));
    }
    if let Some(project_id) = filters.project_id {
        projects::find(db, caller.company_id, project_id)
            .await
            .map_err(text::named_field("project_id", "no such project"))?;
        query = query.filter(document::Column::ProjectId.eq(project_id));
    }
    if let Some(term) = filters
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        query = query.filter(text::search(
            &[document::Column::Name, document::Column::Description],
            term,
        ));
    }
    let order: sea_orm::Order = sort.order.into();
    let column = match sort.field {
        DocumentSort::CreatedAt => document::Column::CreatedAt,
        DocumentSort::Name => document::Column::Name,
        DocumentSort::Size => document::Column::Size,
    };
    query = query
        .order_by(column, order.clone())
        .order_by(document::Column::Id, order);
    let page = fetch_page(db, query, page).await?;
    views(db, caller, page).await
}

/// A page of a project's documents, newest first (the project already checked).
///
/// # Errors
/// Database errors.
pub async fn of_project(
    db: &impl ConnectionTrait,
    caller: &ClientUser,
    project_id: Uuid,
    page: PageParams,
) -> Result<Paginated<DocumentView>, AppError> {
    let query = of_company(caller.company_id)
        .filter(document::Column::ProjectId.eq(project_id))
        .order_by_desc(document::Column::CreatedAt)
        .order_by_desc(document::Column::Id);
    let page = fetch_page(db, query, page).await?;
    views(db, caller, page).await
}

/// Every category with how many of the company's documents have it.
///
/// # Errors
/// Database errors.
pub async fn categories(
    db: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<Vec<CategoryCount>, AppError> {
    let rows: Vec<(DocumentCategory, i64)> = of_company(company_id)
        .select_only()
        .column(document::Column::Category)
        .column_as(document::Column::Id.count(), "count")
        .group_by(document::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    let counts: BTreeMap<&str, i64> = rows.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    Ok(DocumentCategory::ALL
        .iter()
        .map(|c| CategoryCount {
            code: *c,
            label: c.label().to_owned(),
            count: counts.get(c.as_str()).copied().unwrap_or(0),
        })
        .collect())
}

/// Store an upload as a document of the caller's company (on a project when given): the file
/// first, then the row, its timeline event and audit row; the file is removed again if the
/// database refuses.
///
/// # Errors
/// 422 naming `project_id` for a project that is not the company's, 422 for a type the bytes
/// contradict,
/// storage and database errors.
pub async fn store(
    db: &DatabaseConnection,
    state: &ClientState,
    caller: &ClientUser,
    form: DocumentForm,
    project_id: Option<Uuid>,
) -> Result<DocumentView, AppError> {
    let project_id = project_id.or(form.project_id);
    if let Some(project_id) = project_id {
        projects::find(db, caller.company_id, project_id)
            .await
            .map_err(text::named_field("project_id", "no such project"))?;
    }
    let content_type = checked_type(&form.content_type, &form.bytes)?;
    let key = Storage::new_key("documents", &form.file_name);
    let stored = state.storage.put(&key, form.bytes).await?;
    let result = async {
        let now = state.clock.now();
        let txn = shared::db::begin_write(db).await?;
        let name = caller.name.clone();
        let doc = document::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(caller.company_id),
            project_id: Set(project_id),
            name: Set(form.file_name.clone()),
            category: Set(form.category),
            description: Set(form.description),
            content_type: Set(content_type),
            size: Set(i64::try_from(stored.size).unwrap_or(i64::MAX)),
            sha256: Set(stored.sha256.clone()),
            storage_key: Set(stored.key.clone()),
            uploaded_by: Set(Some(caller.user_id)),
            uploaded_by_client: Set(true),
            uploader_name: Set(Some(name.clone())),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let mut project_name = None;
        if let Some(project_id) = project_id {
            let project = projects::find(&txn, caller.company_id, project_id).await?;
            projects::record_event(
                &txn,
                &project,
                kind::FILE_UPLOADED,
                format!("Fichier ajouté : {}", doc.name),
                Some(json!({ "document_id": doc.id, "name": doc.name, "size": doc.size })),
                (Some(caller.user_id), Some(name)),
                now,
            )
            .await?;
            project_name = Some(project.name);
        }
        audit::record(
            &txn,
            &caller.actor,
            AuditEntry::new("upload_document", "document")
                .entity_id(doc.id)
                .after(&json!({
                    "name": doc.name,
                    "category": doc.category,
                    "project_id": doc.project_id,
                    "size": doc.size,
                    "sha256": doc.sha256,
                })),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, AppError>(view(doc, project_name, caller))
    }
    .await;
    if result.is_err()
        && let Err(cleanup) = state.storage.delete(&key).await
    {
        tracing::warn!(error = %cleanup, key = %key, "could not remove an orphan upload");
    }
    result
}

/// Delete one of the company's own uploads (its share links go with it).
///
/// # Errors
/// 404; 403 for a document the business provided; database errors.
pub async fn delete(
    db: &DatabaseConnection,
    state: &ClientState,
    caller: &ClientUser,
    id: Uuid,
) -> Result<(), AppError> {
    let txn = shared::db::begin_write(db).await?;
    let doc = shared::db::for_update(
        of_company(caller.company_id).filter(document::Column::Id.eq(id)),
        &txn,
    )
    .one(&txn)
    .await?
    .ok_or_else(|| AppError::not_found("No such document"))?;
    if !doc.uploaded_by_client {
        return Err(AppError::forbidden(
            "Only documents your company uploaded can be deleted",
        ));
    }
    document_share::Entity::delete_many()
        .filter(document_share::Column::DocumentId.eq(doc.id))
        .exec(&txn)
        .await?;
    let deleted = document::Entity::delete_by_id(doc.id).exec(&txn).await?;
    if deleted.rows_affected != 1 {
        return Err(AppError::not_found("No such document"));
    }
    if let Some(project_id) = doc.project_id {
        let project = projects::find(&txn, caller.company_id, project_id).await?;
        let name = caller.name.clone();
        projects::record_event(
            &txn,
            &project,
            kind::FILE_DELETED,
            format!("Fichier supprimé : {}", doc.name),
            Some(json!({ "document_id": doc.id, "name": doc.name })),
            (Some(caller.user_id), Some(name)),
            state.clock.now(),
        )
        .await?;
    }
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("delete_document", "document")
            .entity_id(doc.id)
            .before(&json!({
                "name": doc.name,
                "category": doc.category,
                "project_id": doc.project_id,
                "size": doc.size,
                "sha256": doc.sha256,
                "uploaded_by": doc.uploaded_by,
                "uploaded_by_client": doc.uploaded_by_client,
            })),
    )
    .await?;
    txn.commit().await?;
    if let Err(err) = state.storage.delete(&doc.storage_key).await {
        tracing::warn!(error = %err, key = %doc.storage_key, "deleted document's file stayed in storage");
    }
    Ok(())
}

/// The first characters of a stored text file, and whether there is more.
///
/// # Errors
/// Storage errors.
pub async fn excerpt(storage: &Storage, doc: &document::Model) -> Result<(String, bool), AppError> {
    let bytes = storage.get_bytes(&doc.storage_key).await?;
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    let truncated = text.chars().count() > EXCERPT_CHARS || head.len() < bytes.len();
    Ok((excerpt, truncated))
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a public link to a document, valid until it expires, optionally behind a password.
///
/// # Errors
/// 404, 422 (duration, password), database errors.
pub async fn share(
    db: &DatabaseConnection,
    state: &ClientState,
    hasher: &auth::password::PasswordHasher,
    caller: &ClientUser,
    id: Uuid,
    request: ShareRequest,
) -> Result<ShareView, AppError> {
    let hours = request.expires_in_hours.unwrap_or(DEFAULT_SHARE_HOURS);
    if !(1..=MAX_SHARE_HOURS).contains(&hours) {
        return Err(AppError::invalid(
            "expires_in_hours",
            format!("must be between 1 and {MAX_SHARE_HOURS}"),
        ));
    }
    if request
        .password
        .as_deref()
        .is_some_and(|p| p.chars().count() < 8)
    {
        return Err(AppError::invalid("password", "at least 8 characters"));
    }
    // The document first: no hashing for one the caller cannot share.
    find(db, caller.company_id, id).await?;
    let password_hash = match request.password.as_deref() {
        None => None,
        Some(p) => Some(hasher.hash(p).await?),
    };
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = state.clock.now();
    let expires_at = now + chrono::Duration::hours(i64::from(hours));
    let txn = shared::db::begin_write(db).await?;
    let doc = find(&txn, caller.company_id, id).await?;
    let share = document_share::ActiveModel {
        id: Set(Uuid::now_v7()),
        document_id: Set(doc.id),
        company_id: Set(doc.company_id),
        token_hash: Set(token_hash(&token)),
        password_hash: Set(password_hash),
        expires_at: Set(expires_at),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        download_count: Set(0),
        last_download_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("share_document", "document_share")
            .entity_id(share.id)
            .after(&json!({
                "document_id": doc.id,
                "expires_at": shared::envelope::format_utc(&expires_at),
                "password_protected": share.password_hash.is_some(),
            })),
    )
    .await?;
    txn.commit().await?;
    let path = format!("{}/{token}", crate::SHARE_PREFIX);
    Ok(ShareView {
        id: share.id,
        document_id: doc.id,
        url: format!("{}{path}", state.public_url),
        path,
        token,
        expires_at,
        password_protected: share.password_hash.is_some(),
    })
}

/// The document behind a share token, when the link still works and the password (if any)
/// matches; counts the download.
///
/// # Errors
/// 404 (unknown or expired link), 401 (password missing or wrong), database errors.
pub async fn open_share(
    db: &DatabaseConnection,
    hasher: &auth::password::PasswordHasher,
    token: &str,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<document::Model, AppError> {
    let share = document_share::Entity::find()
        .filter(document_share::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("This link does not exist or was withdrawn"))?;
    if share.expires_at <= now {
        return Err(AppError::not_found("This link has expired"));
    }
    if let Some(hash) = share.password_hash.as_deref() {
        let Some(password) = password else {
            return Err(AppError::unauthenticated(
                "This link is protected by a password: send it in X-Share-Password or POST {\"password\": ...}",
            ));
        };
        if !hasher.verify(password, Some(hash)).await? {
            return Err(AppError::unauthenticated("Wrong password for this link"));
        }
    }
    let doc = document::Entity::find_by_id(share.document_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("This link does not exist or was withdrawn"))?;
    document_share::Entity::update_many()
        .col_expr(
            document_share::Column::DownloadCount,
            sea_orm::sea_query::Expr::col(document_share::Column::DownloadCount).add(1),
        )
        .col_expr(
            document_share::Column::LastDownloadAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(document_share::Column::Id.eq(share.id))
        .exec(db)
        .await?;
    Ok(doc)
}

/// How many documents and bytes the company has.
///
/// # Errors
/// Database errors.
pub async fn totals(db: &impl ConnectionTrait, company_id: Uuid) -> Result<(u64, i64), AppError> {
    let count = of_company(company_id).count(db).await?;
    let size: Option<i64> = of_company(company_id)
        .select_only()
        .column_as(sum_bigint(Expr::col(document::Column::Size)), "size")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok((count, size.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_when_they_say_so() {
        assert_eq!(
            checked_type("application/octet-stream", b"%PDF-1.7 ...")
                .ok()
                .as_deref(),
            Some("application/pdf")
        );
        assert_eq!(
            checked_type("text/plain", b"\x89PNG\r\n\x1a\nrest")
                .ok()
                .as_deref(),
            Some("image/png")
        );
        assert!(checked_type("image/png", b"<html><script>").is_err());
        assert!(checked_type("application/pdf", b"hello").is_err());
        assert_eq!(
            checked_type("text/csv; charset=utf-8", b"a;b")
                .ok()
                .as_deref(),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(preview_kind("image/svg+xml"), PreviewKind::None);
        assert_eq!(preview_kind("text/csv; charset=utf-8"), PreviewKind::Text);
        assert_eq!(preview_kind("application/pdf"), PreviewKind::Inline);
    }
}
