//! In-app notifications: written by whichever crate notices something a person should know
//! (a project moved, an invoice was issued, a payment was confirmed), read through each
//! portal's `/notifications` routes.

use chrono::{DateTime, Utc};
use entity::{notification, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

/// What to tell people.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: &'static str,
    pub title: String,
    pub body: Option<String>,
    pub link: Option<String>,
}

impl Notice {
    #[must_use]
    pub fn new(kind: &'static str, title: impl Into<String>) -> Self {
        Self {
            kind,
            title: title.into(),
            body: None,
            link: None,
        }
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    #[must_use]
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Some(link.into());
        self
    }
}

/// Notify every active user of a company except `except` (the person who caused it), inside
/// the caller's transaction. Returns how many were notified.
///
/// # Errors
/// Database errors.
pub async fn notify_company(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    except: Option<Uuid>,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let mut query = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::CompanyId.eq(company_id))
        .filter(user::Column::IsActive.eq(true));
    if let Some(except) = except {
        query = query.filter(user::Column::Id.ne(except));
    }
    let users: Vec<Uuid> = query.into_tuple().all(db).await?;
    notify_users(db, &users, notice, now).await
}

/// Notify these users, inside the caller's transaction. Returns how many were notified.
///
/// # Errors
/// Database errors.
pub async fn notify_users(
    db: &impl ConnectionTrait,
    users: &[Uuid],
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    if users.is_empty() {
        return Ok(0);
    }
    let rows = users.iter().map(|user_id| notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(*user_id),
        kind: Set(notice.kind.to_owned()),
        title: Set(notice.title.clone()),
        body: Set(notice.body.clone()),
        link: Set(notice.link.clone()),
        read_at: Set(None),
        created_at: Set(now),
    });
    notification::Entity::insert_many(rows).exec(db).await?;
    Ok(users.len())
}
