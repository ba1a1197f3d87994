//! Who calls a planning route: a planner (superadmin) or a collaborator (prestataire), who
//! only reads their own shifts, assignments and availability and declares availability.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use entity::Role;
use shared::AppError;
use shared::audit::Actor;
use shared::request::RequestContext;
use uuid::Uuid;

/// The signed-in caller of a planning route.
#[derive(Debug, Clone)]
pub struct PlanningUser {
    pub user_id: Uuid,
    pub planner: bool,
    pub actor: Actor,
}

impl PlanningUser {
    /// # Errors
    /// 403 for a role that has no planning.
    pub fn new(user: &auth::AuthUser, ctx: Option<&RequestContext>) -> Result<Self, AppError> {
        let planner = match user.role {
            Role::Superadmin => true,
            Role::Prestataire => false,
            _ => {
                return Err(AppError::forbidden(
                    "Planning is for planners (superadmins) and collaborators (prestataires)",
                ));
            }
        };
        let actor = ctx.map_or_else(
            || Actor {
                user_id: Some(user.id),
                ..Actor::default()
            },
            |ctx| Actor::from_request(ctx, Some(user.id)),
        );
        Ok(Self {
            user_id: user.id,
            planner,
            actor,
        })
    }

    /// # Errors
    /// 403 unless the caller plans.
    pub fn require_planner(&self) -> Result<&Self, AppError> {
        if self.planner {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "Only planners change the planning; collaborators read their own shifts and declare availability",
            ))
        }
    }

    /// Whose rows the caller may read: everyone's (`None`) or their own.
    #[must_use]
    pub fn reader_scope(&self) -> Option<Uuid> {
        (!self.planner).then_some(self.user_id)
    }
}

impl FromRequest for PlanningUser {
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
