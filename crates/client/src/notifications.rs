//! `/api/client/notifications`: the caller's notifications (newest first, `?unread=true` for
//! the unread ones), marking one or all read.

use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::extract::Path;
use shared::openapi::errors;
use shared::pagination::{Filters, PageParams, fetch_page};
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ClientState;
use crate::caller::ClientUser;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    #[schema(example = "invoice_issued")]
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
    pub link: Option<String>,
    pub read: bool,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

fn view(n: notification::Model) -> NotificationView {
    NotificationView {
        read: n.read_at.is_some(),
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        read_at: n.read_at,
        created_at: n.created_at,
    }
}

/// Filters of `GET /notifications`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilters {
    /// `true`: only unread; `false`: only read.
    pub unread: Option<bool>,
}

/// How many were marked read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarkedRead {
    pub updated: u64,
}

/// A page of the caller's notifications.
///
/// # Errors
/// Database errors.
pub async fn page_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    unread: Option<bool>,
    page: PageParams,
) -> Result<Paginated<NotificationView>, AppError> {
    let mut query = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    match unread {
        Some(true) => query = query.filter(notification::Column::ReadAt.is_null()),
        Some(false) => query = query.filter(notification::Column::ReadAt.is_not_null()),
        None => {}
    }
    let query = query
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id);
    Ok(fetch_page(db, query, page).await?.map(view))
}

/// Mark one of the caller's notifications read (again is fine).
///
/// # Errors
/// 404 when it is not the caller's; database errors.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<NotificationView, AppError> {
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such notification"))?;
    if found.read_at.is_some() {
        return Ok(view(found));
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(view(notification::Model {
        read_at: Some(now),
        ..found
    }))
}

/// Mark all the caller's unread notifications read.
///
/// # Errors
/// Database errors.
pub async fn mark_all_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// The caller's notifications, newest first.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(PageParams, NotificationFilters),
    responses((status = 200, description = "A page of notifications", body = Paginated<NotificationView>), errors::AuthedRead)
)]
#[get("/notifications")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: ClientUser,
    page: PageParams,
    filters: Filters<NotificationFilters>,
) -> Result<Paginated<NotificationView>, AppError> {
    page_of(
        db.get_ref(),
        caller.user_id,
        filters.into_inner().unread,
        page,
    )
    .await
}

/// Mark a notification read.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "The notification", body = ApiResponse<NotificationView>), errors::AuthedWrite)
)]
#[put("/notifications/{id}/read")]
pub async fn read(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
    id: Path<Uuid>,
) -> Result<ApiResponse<NotificationView>, AppError> {
    Ok(ApiResponse::ok(
        mark_read(
            db.get_ref(),
            caller.user_id,
            id.into_inner(),
            state.clock.now(),
        )
        .await?,
    ))
}

/// Mark every notification read.
#[utoipa::path(
    tag = "client",
    security(("bearer" = [])),
    responses((status = 200, description = "How many were marked", body = ApiResponse<MarkedRead>), errors::AuthedWrite)
)]
#[put("/notifications/read-all")]
pub async fn read_all(
    db: web::Data<DatabaseConnection>,
    state: web::Data<ClientState>,
    caller: ClientUser,
) -> Result<ApiResponse<MarkedRead>, AppError> {
    Ok(ApiResponse::ok(MarkedRead {
        updated: mark_all_read(db.get_ref(), caller.user_id, state.clock.now()).await?,
    }))
}
