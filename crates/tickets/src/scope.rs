//! Who may see what: staff (superadmins) see every ticket, client and chantier; a client user
//! sees its own company's. Every service function takes a [`Scope`], so a query cannot forget
//! the company filter.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use auth::AuthUser;
use entity::Role;
use shared::AppError;
use shared::audit::Actor;
use shared::events::Viewer;
use shared::request::RequestContext;
use uuid::Uuid;

/// What the caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every row.
    Staff,
    /// The rows of one client company.
    Company(Uuid),
}

impl Scope {
    /// The scope of an authenticated user: superadmins are staff, a client user sees its
    /// company; other roles have no access to support tickets.
    ///
    /// # Errors
    /// 403 for other roles, or a client account without a company.
    pub fn of(user: &AuthUser) -> Result<Self, AppError> {
        match (user.role, user.company_id) {
            (Role::Superadmin, _) => Ok(Self::Staff),
            (Role::Client, Some(company)) => Ok(Self::Company(company)),
            (Role::Client, None) => Err(AppError::forbidden(
                "This client account belongs to no company",
            )),
            (role, _) => Err(AppError::forbidden(format!(
                "Support tickets are for clients and staff, not {role} accounts"
            ))),
        }
    }

    #[must_use]
    pub fn is_staff(self) -> bool {
        self == Self::Staff
    }

    /// The company filter, `None` for staff.
    #[must_use]
    pub fn company(self) -> Option<Uuid> {
        match self {
            Self::Staff => None,
            Self::Company(id) => Some(id),
        }
    }

    /// May this scope see a row of `company_id`?
    #[must_use]
    pub fn admits(self, company_id: Uuid) -> bool {
        match self {
            Self::Staff => true,
            Self::Company(id) => id == company_id,
        }
    }

    #[must_use]
    pub fn viewer(self) -> Viewer {
        match self {
            Self::Staff => Viewer::Staff,
            Self::Company(id) => Viewer::Company(id),
        }
    }

    /// Staff only.
    ///
    /// # Errors
    /// 403 for a client.
    pub fn require_staff(self, what: &str) -> Result<(), AppError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("Only staff may {what}")))
        }
    }
}

/// The authenticated caller of a tickets route: scope, identity and audit actor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub scope: Scope,
    pub user_id: Uuid,
    /// The caller's full name as the request began: the author of what it writes.
    pub name: String,
    pub actor: Actor,
}

impl Caller {
    /// From an already authenticated user (the WebSocket handshake, tests).
    ///
    /// # Errors
    /// 403 as [`Scope::of`].
    pub fn new(user: &AuthUser, ctx: Option<&RequestContext>) -> Result<Self, AppError> {
        let scope = Scope::of(user)?;
        let actor = ctx.map_or_else(
            || Actor {
                user_id: Some(user.id),
                ..Actor::default()
            },
            |ctx| Actor::from_request(ctx, Some(user.id)),
        );
        Ok(Self {
            scope,
            user_id: user.id,
            name: user.full_name.clone(),
            actor,
        })
    }

    /// The caller as the author of history rows.
    #[must_use]
    pub fn author(&self) -> crate::history::Author {
        crate::history::Author {
            id: Some(self.user_id),
            name: self.name.clone(),
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = auth::identity::resolve(req).and_then(|user| {
            let ctx = req.extensions().get::<RequestContext>().cloned();
            Caller::new(&user, ctx.as_ref())
        });
        ready(result)
    }
}
