//! The live events of the ticket feed (`/ws/tickets-client`), published after each committed
//! change to staff and to the ticket's company (internal items to staff only).

use serde_json::{Map, Value, json};
use shared::events::{Audience, Event, EventBus};
use uuid::Uuid;

/// The feed's topic on the event bus.
pub const TOPIC: &str = "tickets";

/// An event about a ticket of `company_id`; `internal` keeps it to staff.
#[must_use]
pub fn event(kind: &str, company_id: Uuid, internal: bool, data: Value) -> Event {
    Event {
        topic: TOPIC.to_owned(),
        audience: if internal {
            Audience::staff()
        } else {
            Audience::company(company_id)
        },
        payload: json!({ "type": kind, "data": data }),
    }
}

/// `ticket_updated` with the fields that changed (`None` when nothing did).
#[must_use]
pub fn updated(
    company_id: Uuid,
    ticket_id: Uuid,
    numero: &str,
    changes: Map<String, Value>,
) -> Option<Event> {
    if changes.is_empty() {
        return None;
    }
    Some(event(
        "ticket_updated",
        company_id,
        false,
        json!({ "id": ticket_id, "numero": numero, "changes": changes }),
    ))
}

/// Publish events in order (after the transaction that made them true has committed).
pub async fn publish(bus: &EventBus, events: Vec<Event>) {
    for event in events {
        bus.publish(event).await;
    }
}
