//! Account queries and views shared by the auth modules (and by crates that show a user).

use std::future::{Ready, ready};
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, ColumnType, Expr, ExprTrait, JoinType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use shared::AppError;
use shared::audit::Actor;
use shared::db::{InlineColumns, InlineReads, ModelRow, Rows, Templates, query_all_inline};
use shared::envelope::{serialize_utc, serialize_utc_opt};
use shared::request::RequestContext;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{Role, company, user};

/// E-mail addresses are compared trimmed and lower-cased.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// # Errors
/// Database errors.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(normalize_email(email)))
        .one(db)
        .await
}

/// A user as the API shows it (to that user, or to staff).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    #[schema(example = "marie.durand@example.fr")]
    pub email: String,
    #[schema(example = "Marie Durand")]
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub company_id: Option<Uuid>,
    pub company_name: Option<String>,
    pub is_active: bool,
    pub email_verified: bool,
    pub two_factor_enabled: bool,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login_at: Option<DateTime<Utc>>,
}

/// # Errors
/// Database errors.
pub async fn view(db: &impl ConnectionTrait, account: &user::Model) -> Result<UserView, DbErr> {
    let company_name = match account.company_id {
        Some(id) => company::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| c.name),
        None => None,
    };
    Ok(view_of(account, company_name))
}

fn view_of(account: &user::Model, company_name: Option<String>) -> UserView {
    UserView {
        id: account.id,
        email: account.email.clone(),
        full_name: account.full_name.clone(),
        phone: account.phone.clone(),
        role: account.role,
        company_id: account.company_id,
        company_name,
        is_active: account.is_active,
        email_verified: account.email_verified_at.is_some(),
        two_factor_enabled: account.totp_enabled_at.is_some(),
        created_at: account.created_at,
        last_login_at: account.last_login_at,
    }
}

/// The view of an account that must exist (the caller's own, `GET /api/auth/me`): the account
/// and its company's name in one statement, its SQL built once per backend (bench/RESULTS.md
/// item 23), where [`load`] then [`view`] take two or three. On an SQLite file the statement
/// runs on the request's own thread (`inline`, item 36); `db` is the pool, never a transaction.
///
/// # Errors
/// 401 when it vanished, database errors otherwise.
pub async fn load_view(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    id: Uuid,
) -> Result<UserView, AppError> {
    static COLUMNS: LazyLock<InlineColumns> = LazyLock::new(|| {
        InlineColumns::default()
            .model::<user::Entity>("u_")
            .column("company_name", ColumnType::Text)
    });
    static STATEMENT: Templates<1> = Templates::new();
    const USER: Uuid = Uuid::max();
    let backend = db.get_database_backend();
    let build = || {
        let (u, c) = (Alias::new("u"), Alias::new("c"));
        let mut select = Query::select();
        shared::db::select_model_columns::<user::Entity>(&mut select, u.clone(), "u_");
        select
            .expr_as(
                Expr::col((c.clone(), company::Column::Name)),
                Alias::new("company_name"),
            )
            .from_as(user::Entity, u.clone())
            .join_as(
                JoinType::LeftJoin,
                company::Entity,
                c.clone(),
                Expr::col((c, company::Column::Id)).equals((u.clone(), user::Column::CompanyId)),
            )
            .and_where(Expr::col((u, user::Column::Id)).eq(USER));
        backend.build(&select)
    };
    let statement = STATEMENT.bind(backend, 0, build, &[(USER.into(), id.into())]);
    match query_all_inline(db, inline, statement, &COLUMNS).await? {
        Rows::Inline(rows) => view_of_row(rows.first()),
        Rows::Pool(rows) => view_of_row(rows.first()),
    }
}

/// The view of [`load_view`]'s row, whichever way it was read.
fn view_of_row(row: Option<&impl ModelRow>) -> Result<UserView, AppError> {
    let row = row.ok_or_else(vanished)?;
    let account = row.model::<user::Entity>("u_")?;
    let company_name: Option<String> = row.value("company_name")?;
    Ok(view_of(&account, company_name))
}

/// Load an account that must exist (the caller's own).
///
/// # Errors
/// 401 when it vanished, database errors otherwise.
pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(vanished)
}

/// The caller's account is gone (deleted while its token was still valid).
fn vanished() -> AppError {
    AppError::unauthenticated("The account is not available")
}

/// Replace an account's password hash by `new`, a hash of the same password with the current
/// parameters (login's rehash), unless the hash changed meanwhile (the password was changed or
/// reset since it was read): that newer hash stays.
///
/// # Errors
/// Database errors.
pub async fn upgrade_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    old: &str,
    new: &str,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(new),
        )
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A new account's row: who it is, and where it stands (active, verified, must change its
/// password). Everything else starts from zero.
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub company_id: Option<Uuid>,
    pub is_active: bool,
    pub verified: bool,
    pub must_change_password: bool,
}

impl NewUser {
    #[must_use]
    pub fn into_active_model(self) -> user::ActiveModel {
        use sea_orm::ActiveValue::Set;
        let now = Utc::now();
        user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(normalize_email(&self.email)),
            password_hash: Set(self.password_hash),
            full_name: Set(self.full_name.trim().to_owned()),
            phone: Set(self.phone.map(|p| p.trim().to_owned())),
            role: Set(self.role),
            company_id: Set(self.company_id),
            is_active: Set(self.is_active),
            email_verified_at: Set(self.verified.then_some(now)),
            failed_login_count: Set(0),
            locked_until: Set(None),
            lock_notified: Set(false),
            last_login_at: Set(None),
            password_changed_at: Set(now),
            password_must_change: Set(self.must_change_password),
            totp_secret_enc: Set(None),
            totp_enabled_at: Set(None),
            totp_last_step: Set(None),
            totp_failed_count: Set(0),
            totp_failed_since: Set(None),
            totp_locked_until: Set(None),
            google_ai_key_enc: Set(None),
            openai_key_enc: Set(None),
            verification_sent_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}

/// Where a request came from: for sessions, audit rows and security e-mails.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

impl ClientInfo {
    #[must_use]
    pub fn actor(&self, user_id: Option<Uuid>) -> Actor {
        Actor {
            user_id,
            ip: self.ip.clone(),
            request_id: Some(self.request_id.clone()),
        }
    }
}

impl FromRequest for ClientInfo {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.extensions().get::<RequestContext>().cloned();
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(255).collect());
        ready(Ok(ClientInfo {
            ip: ctx.as_ref().and_then(RequestContext::ip_string),
            user_agent,
            request_id: ctx.map_or_else(|| Uuid::now_v7().to_string(), |c| c.request_id),
        }))
    }
}
