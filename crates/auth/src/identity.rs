//! Who is calling: the [`Authenticate`] middleware, the [`AuthUser`] extractor and the
//! [`RequireRole`] guard portal scopes mount.
//!
//! The middleware runs before rate limiting. It checks the bearer token (JWT signature and
//! claims, or a personal access token's hash) and then the account and session in the database
//! (deleted, deactivated, unverified, role changed, session revoked or expired). Only a token
//! that passes all of it becomes the request's [`Principal`], to which rate-limit budgets and
//! idempotency keys belong. The extractor and the guard read that result. An invalid or expired
//! token is always a 401, never a silent fall-back to anonymous.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, Statement,
};
use serde::Serialize;
use shared::AppError;
use shared::db::{
    InlineReads, InlineRow, InlineRowError, Templates, optional_time_at, optional_uuid_at, uuid_at,
};
use shared::request::{Principal, error_response};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{Role, api_token, session, user};

use crate::AuthState;
use crate::tokens::{Claims, PAT_PREFIX, TokenError};

/// What the `Authorization` header came to, once checked (signature and claims, then the
/// account and session in the database).
#[derive(Debug, Clone)]
enum Credential {
    Valid(Box<AuthUser>),
    Invalid(&'static str),
    /// The database could not be asked: a 503, not a 401.
    Unavailable,
}

/// The authenticated caller, checked against the database.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
    pub email: String,
    pub company_id: Option<Uuid>,
    /// The session of an access token (`None` for a personal access token).
    pub session_id: Option<Uuid>,
    /// The personal access token used, if any.
    pub token_id: Option<Uuid>,
    /// When the access token expires (`None` for a personal access token).
    #[serde(skip)]
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Signed in with a one-time password that must be changed first.
    #[serde(skip)]
    pub must_change_password: bool,
    /// The account's full name as the request began (the author of what it writes).
    #[serde(skip)]
    pub full_name: String,
}

impl AuthUser {
    /// Credential management needs a signed-in session: a personal access token (a script's
    /// key) may not change passwords, 2FA or mint more tokens.
    ///
    /// # Errors
    /// 403 for a personal access token.
    pub fn require_session(&self) -> Result<(), AppError> {
        if self.session_id.is_none() {
            return Err(AppError::forbidden(
                "This needs a signed-in session, not a personal access token",
            ));
        }
        Ok(())
    }
}

impl AuthUser {
    /// For audit rows and services.
    #[must_use]
    pub fn actor(&self, ctx: &shared::request::RequestContext) -> shared::audit::Actor {
        shared::audit::Actor::from_request(ctx, Some(self.id))
    }
}

fn principal(user_id: Uuid) -> Principal {
    Principal(format!("user:{user_id}"))
}

/// The middleware factory (mounted once, app-wide).
#[derive(Debug, Clone, Copy, Default)]
pub struct Authenticate;

impl<S, B> Transform<S, ServiceRequest> for Authenticate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = AuthenticateService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthenticateService {
            service: Rc::new(service),
        }))
    }
}

pub struct AuthenticateService<S> {
    service: Rc<S>,
}

/// What a bearer token proves before the account is looked at.
enum Presented {
    Jwt(Claims),
    Pat { token_id: Uuid, user_id: Uuid },
}

/// Check a personal access token by its hash; record its use (at most once a minute).
async fn check_pat(db: &DatabaseConnection, token: &str) -> Result<Presented, Credential> {
    let hash = shared::crypto::token_hash(token);
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .one(db)
        .await;
    let now = Utc::now();
    match found {
        Ok(Some(row)) if row.revoked_at.is_none() && row.expires_at > now => {
            if row
                .last_used_at
                .is_none_or(|at| (now - at) > chrono::Duration::seconds(60))
            {
                let touched = api_token::Entity::update_many()
                    .col_expr(api_token::Column::LastUsedAt, Some(now).into())
                    .filter(api_token::Column::Id.eq(row.id))
                    .exec(db)
                    .await;
                if let Err(err) = touched {
                    tracing::warn!(error = %err, "could not record a token's use");
                }
            }
            Ok(Presented::Pat {
                token_id: row.id,
                user_id: row.user_id,
            })
        }
        Ok(_) => Err(Credential::Invalid(
            "The token is invalid, expired or revoked",
        )),
        Err(err) => {
            tracing::warn!(error = %err, "personal access token lookup failed");
            Err(Credential::Unavailable)
        }
    }
}

/// From an `Authorization` header value to a checked credential.
/// The bearer token of an `Authorization` header value.
fn bearer(value: &actix_web::http::header::HeaderValue) -> Option<&str> {
    value.to_str().ok().and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    })
}

/// The bearer token a request carries in its `Authorization` header, if any.
#[must_use]
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(bearer)
        .map(str::to_owned)
}

async fn authenticate(
    value: &actix_web::http::header::HeaderValue,
    state: &AuthState,
    db: &DatabaseConnection,
) -> Credential {
    let Some(token) = bearer(value) else {
        return Credential::Invalid("Use `Authorization: Bearer <token>`");
    };
    check_token(token, state, db).await
}

async fn check_token(token: &str, state: &AuthState, db: &DatabaseConnection) -> Credential {
    let presented = if token.starts_with(PAT_PREFIX) {
        match check_pat(db, token).await {
            Ok(presented) => presented,
            Err(credential) => return credential,
        }
    } else {
        match state.issuer.verify(token, Utc::now()) {
            Ok(claims) => Presented::Jwt(claims),
            Err(TokenError::Expired) => return Credential::Invalid("The access token has expired"),
            Err(TokenError::Invalid) => return Credential::Invalid("The access token is invalid"),
        }
    };
    match check_account(db, state, presented).await {
        Ok(user) => Credential::Valid(Box::new(user)),
        Err(credential) => credential,
    }
}

/// Check a token presented some other way than the `Authorization` header (a WebSocket's
/// `access_token`, which browsers cannot send as a header), exactly as the middleware would, and
/// again later to see whether it still holds.
///
/// # Errors
/// 401 when it does not (or no longer) hold, 503 when the database cannot be asked, 403 while
/// a one-time password has not been changed.
pub async fn authenticate_token(
    token: &str,
    state: &AuthState,
    db: &DatabaseConnection,
) -> Result<AuthUser, AppError> {
    match check_token(token, state, db).await {
        Credential::Valid(user) if user.must_change_password => Err(AppError::forbidden(
            "Change your one-time password first (POST /api/auth/change-password)",
        )),
        Credential::Valid(user) => Ok(*user),
        Credential::Invalid(message) => Err(unauthenticated(message)),
        Credential::Unavailable => Err(AppError::Unavailable(
            "The database is unavailable".to_owned(),
        )),
    }
}

/// What the middleware reads of an account, and of the access token's session, in one query.
#[derive(Debug, PartialEq, Eq, FromQueryResult)]
struct AccountCheck {
    id: Uuid,
    role: Role,
    email: String,
    full_name: String,
    company_id: Option<Uuid>,
    is_active: bool,
    email_verified_at: Option<DateTime<Utc>>,
    password_must_change: bool,
    session_user_id: Option<Uuid>,
    session_expires_at: Option<DateTime<Utc>>,
    session_revoked_at: Option<DateTime<Utc>>,
}

impl AccountCheck {
    /// The row read inline (`shared::db::InlineReads`), its columns in the statement's order.
    fn from_inline(row: &InlineRow<'_>) -> Result<Self, InlineRowError> {
        let role: String = row.get(1)?;
        let role = Role::try_from_value(&role).map_err(|e| {
            InlineRowError::FromSqlConversionFailure(
                1,
                shared::db::InlineType::Text,
                e.to_string().into(),
            )
        })?;
        Ok(Self {
            id: uuid_at(row, 0)?,
            role,
            email: row.get(2)?,
            full_name: row.get(3)?,
            company_id: optional_uuid_at(row, 4)?,
            is_active: row.get(5)?,
            email_verified_at: optional_time_at(row, 6)?,
            password_must_change: row.get(7)?,
            session_user_id: optional_uuid_at(row, 8)?,
            session_expires_at: optional_time_at(row, 9)?,
            session_revoked_at: optional_time_at(row, 10)?,
        })
    }
}

/// The statement of the account check: the account and, for an access token, its session
/// (`sid`), reading only the columns the checks need. Its SQL is built once per backend and
/// kind of token (bench/RESULTS.md item 22).
fn account_statement(backend: DbBackend, user_id: Uuid, sid: Option<Uuid>) -> Statement {
    static STATEMENTS: Templates<2> = Templates::new();
    const USER: Uuid = Uuid::max();
    const SESSION: Uuid = Uuid::from_u128(u128::MAX - 1);
    let build = || {
        let mut select = Query::select();
        select
            .columns([
                (user::Entity, user::Column::Id),
                (user::Entity, user::Column::Role),
                (user::Entity, user::Column::Email),
                (user::Entity, user::Column::FullName),
                (user::Entity, user::Column::CompanyId),
                (user::Entity, user::Column::IsActive),
                (user::Entity, user::Column::EmailVerifiedAt),
                (user::Entity, user::Column::PasswordMustChange),
            ])
            .from(user::Entity)
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(USER));
        let session_column = |column: session::Column| -> Expr {
            match sid {
                Some(_) => Expr::col((session::Entity, column)),
                None => Expr::cust("NULL"),
            }
        };
        select
            .expr_as(
                session_column(session::Column::UserId),
                Alias::new("session_user_id"),
            )
            .expr_as(
                session_column(session::Column::ExpiresAt),
                Alias::new("session_expires_at"),
            )
            .expr_as(
                session_column(session::Column::RevokedAt),
                Alias::new("session_revoked_at"),
            );
        if sid.is_some() {
            select.join(
                JoinType::LeftJoin,
                session::Entity,
                Expr::col((session::Entity, session::Column::Id)).eq(SESSION),
            );
        }
        backend.build(&select)
    };
    let mut binds = vec![(USER.into(), user_id.into())];
    if let Some(sid) = sid {
        binds.push((SESSION.into(), sid.into()));
    }
    STATEMENTS.bind(backend, usize::from(sid.is_some()), build, &binds)
}

/// The account and, for an access token, its session (`sid`): one round trip, since every
/// authenticated request runs it. On an SQLite file it runs on the request's own thread
/// (`inline`): a lookup by key, without the two hand-offs to a pooled connection's thread and
/// back (bench/RESULTS.md item 32).
async fn load_account(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    user_id: Uuid,
    sid: Option<Uuid>,
) -> Result<Option<AccountCheck>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let statement = account_statement(backend, user_id, sid);
    if let Some(found) = shared::db::try_inline(backend, inline, |inline| {
        inline.query_one(&statement, AccountCheck::from_inline)
    }) {
        return Ok(found);
    }
    db.query_one_raw(statement)
        .await?
        .map(|row| AccountCheck::from_query_result(&row, ""))
        .transpose()
}

/// The account (and, for an access token, the session) behind a verified token.
async fn check_account(
    db: &DatabaseConnection,
    state: &AuthState,
    presented: Presented,
) -> Result<AuthUser, Credential> {
    let unavailable = |err: sea_orm::DbErr| {
        tracing::warn!(error = %err, "account lookup failed");
        Credential::Unavailable
    };
    let now = Utc::now();
    let (user_id, sid) = match &presented {
        Presented::Jwt(claims) => (claims.sub, Some(claims.sid)),
        Presented::Pat { user_id, .. } => (*user_id, None),
    };
    let account = load_account(db, state.inline_reads.as_deref(), user_id, sid)
        .await
        .map_err(unavailable)?
        .filter(|u| u.is_active && u.email_verified_at.is_some())
        .ok_or(Credential::Invalid("The account is not available"))?;
    match presented {
        Presented::Jwt(claims) => {
            if account.role != claims.role {
                return Err(Credential::Invalid(
                    "The account's role changed; sign in again",
                ));
            }
            let live = account.session_user_id == Some(account.id)
                && account.session_revoked_at.is_none()
                && account.session_expires_at.is_some_and(|at| at > now);
            if !live {
                return Err(Credential::Invalid("The session has ended; sign in again"));
            }
            Ok(AuthUser {
                id: account.id,
                role: account.role,
                email: account.email,
                company_id: account.company_id,
                session_id: Some(claims.sid),
                token_id: None,
                access_expires_at: DateTime::from_timestamp(claims.exp, 0),
                must_change_password: account.password_must_change,
                full_name: account.full_name,
            })
        }
        Presented::Pat { token_id, .. } => Ok(AuthUser {
            id: account.id,
            role: account.role,
            email: account.email,
            company_id: account.company_id,
            session_id: None,
            token_id: Some(token_id),
            access_expires_at: None,
            must_change_password: account.password_must_change,
            full_name: account.full_name,
        }),
    }
}

impl<S, B> Service<ServiceRequest> for AuthenticateService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let Some(value) = req.headers().get(header::AUTHORIZATION).cloned() else {
            return Box::pin(service.call(req));
        };
        let state = req.app_data::<web::Data<AuthState>>().cloned();
        let db = req.app_data::<web::Data<DatabaseConnection>>().cloned();
        Box::pin(async move {
            let credential = match (state, db) {
                (Some(state), Some(db)) => authenticate(&value, &state, &db).await,
                _ => Credential::Invalid("Authentication is not set up"),
            };
            if let Credential::Valid(user) = &credential {
                req.extensions_mut().insert(principal(user.id));
            }
            req.extensions_mut().insert(credential);
            service.call(req).await
        })
    }
}

fn unauthenticated(message: &str) -> AppError {
    AppError::unauthenticated(message)
}

/// Routes an account with a one-time password may still use: enough to change it.
const ONE_TIME_PASSWORD_ROUTES: &[&str] = &[
    "/api/auth/change-password",
    "/api/auth/me",
    "/api/auth/logout",
    "/api/auth/check-session",
];

/// The caller, from the credential the middleware checked.
///
/// # Errors
/// 401 when there is no credential, or it does not (or no longer) hold; 503 when the database
/// could not be asked; 403 while a one-time password has not been changed.
pub fn resolve(req: &HttpRequest) -> Result<AuthUser, AppError> {
    let user = match req.extensions().get::<Credential>() {
        None => return Err(unauthenticated("Authentication required")),
        Some(Credential::Invalid(message)) => return Err(unauthenticated(message)),
        Some(Credential::Unavailable) => {
            return Err(AppError::Unavailable(
                "The database is unavailable".to_owned(),
            ));
        }
        Some(Credential::Valid(user)) => (**user).clone(),
    };
    if user.must_change_password && !ONE_TIME_PASSWORD_ROUTES.contains(&req.path()) {
        return Err(AppError::forbidden(
            "Change your one-time password first (POST /api/auth/change-password)",
        ));
    }
    Ok(user)
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(resolve(req))
    }
}

/// The caller if a credential was sent (a bad one is still a 401), `None` when anonymous.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.extensions().get::<Credential>().is_none() {
            return ready(Ok(MaybeAuthUser(None)));
        }
        ready(resolve(req).map(|u| MaybeAuthUser(Some(u))))
    }
}

/// Guard for a portal scope: anonymous callers get 401, other roles 403.
/// `scope("/api/client").wrap(RequireRole(Role::Client))`.
#[derive(Debug, Clone, Copy)]
pub struct RequireRole(pub Role);

impl<S, B> Transform<S, ServiceRequest> for RequireRole
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RequireRoleService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireRoleService {
            service: Rc::new(service),
            role: self.0,
        }))
    }
}

pub struct RequireRoleService<S> {
    service: Rc<S>,
    role: Role,
}

impl<S, B> Service<ServiceRequest> for RequireRoleService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let role = self.role;
        Box::pin(async move {
            match resolve(req.request()) {
                Err(err) => Ok(error_response(req, &err)),
                Ok(user) if user.role != role => {
                    let err = AppError::forbidden(format!("This area is for {role} accounts"));
                    Ok(error_response(req, &err))
                }
                Ok(_) => Ok(service.call(req).await?.map_into_boxed_body()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel, QueryOrder};
    use test_support::spawn_app;

    use super::*;

    /// The account check read inline gives, field for field, what the pool reads, for each
    /// kind of token and each state the checks look at; on PostgreSQL nothing runs inline.
    #[tokio::test]
    async fn the_account_check_reads_the_same_row_inline_as_through_the_pool() {
        let app = spawn_app().await;
        let inline = InlineReads::for_url(&app.config.database_url);
        let backend = app.db.get_database_backend();
        assert_eq!(inline.is_some(), backend == DbBackend::Sqlite);
        let client = app.login_as(Role::Client).await;
        let session = session::Entity::find()
            .filter(session::Column::UserId.eq(client.id))
            .order_by_desc(session::Column::CreatedAt)
            .one(&app.db)
            .await
            .expect("db")
            .expect("the login's session");
        let agree = |sid: Option<Uuid>, user: Uuid| {
            let db = app.db.clone();
            let inline = inline.as_deref();
            async move {
                let pooled = load_account(&db, None, user, sid).await.expect("db");
                if let Some(inline) = inline {
                    let read = inline
                        .query_one(
                            &account_statement(backend, user, sid),
                            AccountCheck::from_inline,
                        )
                        .expect("runs inline");
                    assert_eq!(read, pooled);
                    assert_eq!(
                        load_account(&db, Some(inline), user, sid)
                            .await
                            .expect("db"),
                        pooled
                    );
                }
                pooled
            }
        };
        // An access token and a personal access token's shape.
        let live = agree(Some(session.id), client.id)
            .await
            .expect("the account");
        assert_eq!(live.company_id, client.company_id);
        assert!(live.company_id.is_some());
        assert_eq!(live.session_user_id, Some(client.id));
        assert!(live.email_verified_at.is_some());
        assert!(live.session_expires_at.is_some_and(|at| at > Utc::now()));
        let pat = agree(None, client.id).await.expect("the account");
        assert_eq!(pat.session_expires_at, None);
        // A revoked session, a deactivated account, a one-time password.
        let mut revoked = session.clone().into_active_model();
        revoked.revoked_at = Set(Some(Utc::now() - Duration::seconds(3)));
        revoked.update(&app.db).await.expect("db");
        let ended = agree(Some(session.id), client.id)
            .await
            .expect("the account");
        assert!(ended.session_revoked_at.is_some());
        let account = user::Entity::find_by_id(client.id)
            .one(&app.db)
            .await
            .expect("db")
            .expect("the account");
        let mut changed = account.into_active_model();
        changed.is_active = Set(false);
        changed.password_must_change = Set(true);
        changed.update(&app.db).await.expect("db");
        let off = agree(Some(session.id), client.id)
            .await
            .expect("the account");
        assert!(!off.is_active && off.password_must_change);
        // No such account, no such session.
        assert_eq!(agree(Some(session.id), Uuid::now_v7()).await, None);
        let unknown = agree(Some(Uuid::now_v7()), client.id)
            .await
            .expect("the account");
        assert_eq!(unknown.session_user_id, None);
    }
}
