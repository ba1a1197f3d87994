//! Who is calling: the [`Authenticate`] middleware, the [`AuthUser`] extractor and the
//! [`RequireRole`] guard portal scopes mount.
//!
//! The middleware runs before rate limiting. It checks the bearer token cryptographically (JWT
//! signature and claims, or a personal access token's hash) and records the verified identity as
//! the request's [`Principal`], so budgets and idempotency keys belong to the user. The extractor
//! then checks the account and session against the database (deleted, deactivated, role changed,
//! session revoked or expired) once per request. An invalid or expired token is always a 401,
//! never a silent fall-back to anonymous.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use shared::AppError;
use shared::request::{Principal, error_response};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{Role, api_token, session, user};

use crate::AuthState;
use crate::tokens::{Claims, PAT_PREFIX, TokenError};

/// What the `Authorization` header proved, before the database was asked.
#[derive(Debug, Clone)]
enum Credential {
    Jwt(Claims),
    Pat { token_id: Uuid, user_id: Uuid },
    Invalid(&'static str),
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

/// Check a personal access token by its hash; record its use (at most once a minute).
async fn check_pat(db: &DatabaseConnection, token: &str) -> Credential {
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
            Credential::Pat {
                token_id: row.id,
                user_id: row.user_id,
            }
        }
        Ok(_) => Credential::Invalid("The token is invalid, expired or revoked"),
        Err(err) => {
            tracing::warn!(error = %err, "personal access token lookup failed");
            Credential::Invalid("The token could not be checked")
        }
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
            let token = value.to_str().ok().and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
            let credential = match (token, state, db) {
                (None, _, _) => Credential::Invalid("Use `Authorization: Bearer <token>`"),
                (_, None, _) | (_, _, None) => Credential::Invalid("Authentication is not set up"),
                (Some(token), Some(_), Some(db)) if token.starts_with(PAT_PREFIX) => {
                    check_pat(&db, token).await
                }
                (Some(token), Some(state), Some(_)) => {
                    match state.issuer.verify(token, Utc::now()) {
                        Ok(claims) => Credential::Jwt(claims),
                        Err(TokenError::Expired) => {
                            Credential::Invalid("The access token has expired")
                        }
                        Err(TokenError::Invalid) => {
                            Credential::Invalid("The access token is invalid")
                        }
                    }
                }
            };
            match &credential {
                Credential::Jwt(claims) => {
                    req.extensions_mut().insert(principal(claims.sub));
                }
                Credential::Pat { user_id, .. } => {
                    req.extensions_mut().insert(principal(*user_id));
                }
                Credential::Invalid(_) => {}
            }
            req.extensions_mut().insert(credential);
            service.call(req).await
        })
    }
}

fn unauthenticated(message: &str) -> AppError {
    AppError::unauthenticated(message)
}

/// Resolve (once per request) the caller from the credential the middleware recorded.
///
/// # Errors
/// 401 when there is no credential, or it does not (or no longer) hold.
pub async fn resolve(req: &HttpRequest) -> Result<AuthUser, AppError> {
    if let Some(user) = req.extensions().get::<AuthUser>() {
        return Ok(user.clone());
    }
    let credential = req.extensions().get::<Credential>().cloned();
    let Some(credential) = credential else {
        return Err(unauthenticated("Authentication required"));
    };
    let db = req
        .app_data::<web::Data<DatabaseConnection>>()
        .cloned()
        .ok_or_else(|| AppError::internal(std::io::Error::other("no database")))?;
    let now = Utc::now();
    let resolved = match credential {
        Credential::Invalid(message) => return Err(unauthenticated(message)),
        Credential::Jwt(claims) => {
            let account = user::Entity::find_by_id(claims.sub)
                .one(db.get_ref())
                .await?;
            let account = account
                .filter(|u| u.is_active && u.email_verified_at.is_some())
                .ok_or_else(|| unauthenticated("The account is not available"))?;
            if account.role != claims.role {
                return Err(unauthenticated("The account's role changed; sign in again"));
            }
            let session = session::Entity::find_by_id(claims.sid)
                .one(db.get_ref())
                .await?
                .filter(|s| s.user_id == account.id && s.revoked_at.is_none() && s.expires_at > now)
                .ok_or_else(|| unauthenticated("The session has ended; sign in again"))?;
            AuthUser {
                id: account.id,
                role: account.role,
                email: account.email,
                company_id: account.company_id,
                session_id: Some(session.id),
                token_id: None,
                access_expires_at: DateTime::from_timestamp(claims.exp, 0),
            }
        }
        Credential::Pat { token_id, user_id } => {
            let account = user::Entity::find_by_id(user_id)
                .one(db.get_ref())
                .await?
                .filter(|u| u.is_active && u.email_verified_at.is_some())
                .ok_or_else(|| unauthenticated("The account is not available"))?;
            AuthUser {
                id: account.id,
                role: account.role,
                email: account.email,
                company_id: account.company_id,
                session_id: None,
                token_id: Some(token_id),
                access_expires_at: None,
            }
        }
    };
    req.extensions_mut().insert(resolved.clone());
    Ok(resolved)
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await })
    }
}

/// The caller if a credential was sent (a bad one is still a 401), `None` when anonymous.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if req.extensions().get::<Credential>().is_none() {
                return Ok(MaybeAuthUser(None));
            }
            resolve(&req).await.map(|u| MaybeAuthUser(Some(u)))
        })
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
            match resolve(req.request()).await {
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
