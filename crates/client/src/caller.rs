//! The signed-in client user every `/api/client` route works for: its company scopes every
//! query.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use entity::Role;
use shared::AppError;
use shared::audit::Actor;
use shared::request::RequestContext;
use uuid::Uuid;

/// A client user and its company.
#[derive(Debug, Clone)]
pub struct ClientUser {
    pub company_id: Uuid,
    pub user_id: Uuid,
    /// The user's full name as the request began: the author of what it writes.
    pub name: String,
    pub actor: Actor,
}

impl ClientUser {
    /// # Errors
    /// 403 for another role or a client account without a company.
    pub fn new(user: &auth::AuthUser, ctx: Option<&RequestContext>) -> Result<Self, AppError> {
        if user.role != Role::Client {
            return Err(AppError::forbidden(format!(
                "This area is for {} accounts",
                Role::Client
            )));
        }
        let company_id = user
            .company_id
            .ok_or_else(|| AppError::forbidden("This client account belongs to no company"))?;
        let actor = ctx.map_or_else(
            || Actor {
                user_id: Some(user.id),
                ..Actor::default()
            },
            |ctx| Actor::from_request(ctx, Some(user.id)),
        );
        Ok(Self {
            company_id,
            user_id: user.id,
            name: user.full_name.clone(),
            actor,
        })
    }

    /// The caller as the tickets crate sees it (its company's tickets).
    #[must_use]
    pub fn ticket_caller(&self) -> tickets::Caller {
        tickets::Caller {
            scope: tickets::Scope::Company(self.company_id),
            user_id: self.user_id,
            name: self.name.clone(),
            actor: self.actor.clone(),
        }
    }
}

impl FromRequest for ClientUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = auth::identity::resolve(req).and_then(|user| {
            let ctx = req.extensions().get::<RequestContext>().cloned();
            Self::new(&user, ctx.as_ref())
        });
        ready(result)
    }
}
