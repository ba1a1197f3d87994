//! `GET /ws/tickets-client`: the live feed of ticket events (`ticket_created`, `ticket_updated`,
//! `message_added`, `attachment_added`, `sla_warning`, `sla_breach`), each sent only to sockets
//! whose user may see that ticket (internal notes to staff only).
//!
//! Authenticate with `Authorization: Bearer <token>` or, from a browser (which cannot set that
//! header on a WebSocket), `?access_token=<token>`. The first frame is
//! `{"type": "connected", ...}`; from then on no event is missed. The token is checked again every
//! minute (`WS_RECHECK_SECONDS`) and when it expires, and the socket is closed (code 4401) once it
//! no longer holds — reconnect with a fresh token. Events a slow socket could not take are replaced by one
//! `{"type": "events_lost", "data": {"missed": n}}` (reload what you show).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason, Message};
use auth::AuthState;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::json;
use shared::AppError;
use shared::extract::Query;
use shared::openapi::errors;
use shared::request::RequestContext;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;
use validator::Validate;

use crate::TicketsState;
use crate::events::TOPIC;
use crate::scope::Caller;

/// Ping period; a socket silent for three periods is closed.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Close code for an expired or revoked credential.
const CLOSE_UNAUTHORIZED: u16 = 4401;

/// Parameters of the WebSocket handshake.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The access token, for clients that cannot send an `Authorization` header.
    #[validate(length(min = 1, max = 4096))]
    #[param(min_length = 1, max_length = 4096)]
    pub access_token: Option<String>,
}

/// Open the live feed of ticket events (WebSocket).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(FeedQuery),
    responses(
        (status = 101, description = "Switched to WebSocket; events are JSON text frames `{type, data}`"),
        (status = 400, response = shared::openapi::BadRequest),
        errors::AuthedRead
    )
)]
#[get("/ws/tickets-client")]
pub async fn feed(
    req: HttpRequest,
    body: web::Payload,
    db: web::Data<DatabaseConnection>,
    auth_state: web::Data<AuthState>,
    state: web::Data<TicketsState>,
    query: Query<FeedQuery>,
) -> Result<HttpResponse, AppError> {
    let (user, token) = match (auth::identity::bearer_token(&req), &query.access_token) {
        (Some(token), _) => (auth::identity::resolve(&req)?, token),
        (None, Some(token)) => (
            auth::identity::authenticate_token(token, &auth_state, &db).await?,
            token.clone(),
        ),
        (None, None) => return Err(AppError::unauthenticated("Authentication required")),
    };
    let ctx = {
        use actix_web::HttpMessage;
        req.extensions().get::<RequestContext>().cloned()
    };
    let caller = Caller::new(&user, ctx.as_ref())?;
    let (response, session, messages) = actix_ws::handle(&req, body).map_err(|_| {
        AppError::bad_request(
            "This route speaks WebSocket: send an upgrade request (Connection: Upgrade, Upgrade: websocket)",
        )
    })?;
    let socket = Socket {
        caller,
        user_id: user.id,
        expires_at: user.access_expires_at,
        token,
        db: db.get_ref().clone(),
        auth: auth_state.into_inner(),
        state: state.into_inner(),
    };
    actix_web::rt::spawn(socket.run(session, messages));
    Ok(response)
}

struct Socket {
    caller: Caller,
    user_id: uuid::Uuid,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    token: String,
    db: DatabaseConnection,
    auth: std::sync::Arc<AuthState>,
    state: std::sync::Arc<TicketsState>,
}

fn unauthorized(reason: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::Other(CLOSE_UNAUTHORIZED),
        description: Some(reason.to_owned()),
    })
}

impl Socket {
    async fn run(self, mut session: actix_ws::Session, mut messages: actix_ws::MessageStream) {
        // Subscribe before saying hello: every event after the hello reaches this socket.
        let mut events = self.state.bus.subscribe();
        let viewer = self.caller.scope.viewer();
        let hello = json!({
            "type": "connected",
            "data": {
                "user_id": self.user_id,
                "scope": if self.caller.scope.is_staff() { "staff" } else { "company" },
                "company_id": self.caller.scope.company(),
            },
        });
        if session.text(hello.to_string()).await.is_err() {
            return;
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.reset();
        let mut recheck = tokio::time::interval(self.state.ws_recheck);
        recheck.reset();
        let mut last_seen = tokio::time::Instant::now();
        let expiry = self.expires_at.map(|at| {
            let left = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::time::Instant::now() + left
        });
        let expired = async move {
            match expiry {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(expired);

        let close = loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        if event.topic == TOPIC && event.audience.admits(viewer)
                            && session.text(event.payload.to_string()).await.is_err()
                        {
                            break None;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        let lost = json!({ "type": "events_lost", "data": { "missed": missed } });
                        if session.text(lost.to_string()).await.is_err() {
                            break None;
                        }
                    }
                    Err(RecvError::Closed) => break Some(CloseReason {
                        code: CloseCode::Restart,
                        description: Some("server stopping".to_owned()),
                    }),
                },
                message = messages.recv() => match message {
                    Some(Ok(Message::Ping(bytes))) => {
                        last_seen = tokio::time::Instant::now();
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => last_seen = tokio::time::Instant::now(),
                },
                _ = heartbeat.tick() => {
                    if last_seen.elapsed() > HEARTBEAT * 3 {
                        break Some(CloseReason {
                            code: CloseCode::Away,
                            description: Some("no answer to pings".to_owned()),
                        });
                    }
                    if session.ping(b"").await.is_err() {
                        break None;
                    }
                }
                _ = recheck.tick() => {
                    if auth::identity::authenticate_token(&self.token, &self.auth, &self.db)
                        .await
                        .is_err()
                    {
                        break unauthorized("the credential no longer holds; reconnect");
                    }
                }
                () = &mut expired => break unauthorized("the access token expired; reconnect with a fresh one"),
            }
        };
        let _ = session.close(close).await;
    }
}
