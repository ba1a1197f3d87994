//! Live events for the WebSocket feeds, fanned out to every server instance.
//!
//! Services publish an [`Event`] after their transaction commits; each open socket receives the
//! events its viewer may see ([`Audience::admits`]). In-process by default (a broadcast channel).
//! With `REDIS_URL`, events go through Redis pub/sub: every instance — the publisher included —
//! receives each event from Redis once, so sockets held by any instance see events published by
//! any other. If Redis cannot take an event, it is still delivered to this instance's sockets.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use uuid::Uuid;

/// How many events a slow socket may fall behind before it is told it missed some.
const CAPACITY: usize = 1024;

/// Who an event is for: staff always; a company's users when it names their company and the
/// event is not staff-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub company_id: Option<Uuid>,
    pub staff_only: bool,
}

impl Audience {
    /// Staff and the users of `company_id`.
    #[must_use]
    pub fn company(company_id: Uuid) -> Self {
        Self {
            company_id: Some(company_id),
            staff_only: false,
        }
    }

    /// Staff only (internal notes and the like).
    #[must_use]
    pub fn staff() -> Self {
        Self {
            company_id: None,
            staff_only: true,
        }
    }

    #[must_use]
    pub fn admits(&self, viewer: Viewer) -> bool {
        match viewer {
            Viewer::Staff => true,
            Viewer::Company(id) => !self.staff_only && self.company_id == Some(id),
        }
    }
}

/// Who holds a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Staff,
    Company(Uuid),
}

/// One event: `topic` names the feed (`tickets`), `payload` is what sockets receive
/// (`{"type": "...", "data": {...}}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub topic: String,
    pub audience: Audience,
    pub payload: Value,
}

#[derive(Clone)]
struct RedisLink {
    publisher: redis::aio::ConnectionManager,
    channel: String,
}

/// Publish and subscribe. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<Event>>,
    redis: Option<RedisLink>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("shared", &self.redis.is_some())
            .field("subscribers", &self.local.receiver_count())
            .finish()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::in_process()
    }
}

impl EventBus {
    /// Events stay in this process.
    #[must_use]
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        Self { local, redis: None }
    }

    /// Events go through Redis (channel `<prefix>:events`). Returns once this instance is
    /// subscribed, so nothing published after start-up is missed.
    ///
    /// # Errors
    /// Redis is unreachable or refuses the subscription.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2);
        let publisher =
            redis::aio::ConnectionManager::new_with_config(client.clone(), config).await?;
        let channel = format!("{prefix}:events");
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let bus = Self {
            local: broadcast::channel(CAPACITY).0,
            redis: Some(RedisLink {
                publisher,
                channel: channel.clone(),
            }),
        };
        tokio::spawn(relay(client, channel, pubsub, bus.local.downgrade()));
        Ok(bus)
    }

    /// Is this bus shared with other instances (Redis)?
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// A feed of every event published from now on (filter with [`Audience::admits`]).
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    /// Publish an event (call after the change it describes has committed).
    pub async fn publish(&self, event: Event) {
        if let Some(link) = &self.redis {
            match serde_json::to_string(&event) {
                Ok(text) => {
                    let mut connection = link.publisher.clone();
                    let sent: Result<i64, _> = redis::cmd("PUBLISH")
                        .arg(&link.channel)
                        .arg(text)
                        .query_async(&mut connection)
                        .await;
                    match sent {
                        Ok(_) => return,
                        Err(err) => tracing::warn!(
                            error = %err,
                            "Redis did not take a live event; delivering it to this instance only"
                        ),
                    }
                }
                Err(err) => tracing::warn!(error = %err, "live event not serialisable"),
            }
        }
        // No receivers is the normal case when no socket is open.
        let _ = self.local.send(Arc::new(event));
    }
}

/// Forward events from Redis to this instance's sockets, re-subscribing after a lost connection.
async fn relay(
    client: redis::Client,
    channel: String,
    first: redis::aio::PubSub,
    local: broadcast::WeakSender<Arc<Event>>,
) {
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(200);
    loop {
        if let Some(connection) = pubsub.take() {
            let mut messages = connection.into_on_message();
            while let Some(message) = messages.next().await {
                backoff = Duration::from_millis(200);
                let Ok(text) = message.get_payload::<String>() else {
                    continue;
                };
                // The bus is gone (its server stopped): stop relaying.
                let Some(local) = local.upgrade() else {
                    return;
                };
                match serde_json::from_str::<Event>(&text) {
                    Ok(event) => {
                        let _ = local.send(Arc::new(event));
                    }
                    Err(err) => tracing::warn!(error = %err, "unreadable live event from Redis"),
                }
            }
            tracing::warn!("lost the Redis subscription for live events; reconnecting");
        }
        if local.upgrade().is_none() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
        match client.get_async_pubsub().await {
            Ok(mut connection) => match connection.subscribe(&channel).await {
                Ok(()) => {
                    tracing::info!("live events re-subscribed to Redis");
                    pubsub = Some(connection);
                }
                Err(err) => tracing::warn!(error = %err, "Redis re-subscription failed"),
            },
            Err(err) => tracing::warn!(error = %err, "Redis unreachable for live events"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_admit_staff_and_their_company_only() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert!(Audience::company(a).admits(Viewer::Staff));
        assert!(Audience::company(a).admits(Viewer::Company(a)));
        assert!(!Audience::company(a).admits(Viewer::Company(b)));
        assert!(Audience::staff().admits(Viewer::Staff));
        assert!(!Audience::staff().admits(Viewer::Company(a)));
    }

    #[tokio::test]
    async fn in_process_events_reach_subscribers() {
        let bus = EventBus::in_process();
        let mut feed = bus.subscribe();
        bus.publish(Event {
            topic: "tickets".into(),
            audience: Audience::staff(),
            payload: serde_json::json!({"type": "x"}),
        })
        .await;
        let got = feed.recv().await.unwrap();
        assert_eq!(got.payload["type"], "x");
    }
}
