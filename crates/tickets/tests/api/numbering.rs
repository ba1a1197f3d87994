use std::collections::BTreeSet;

use chrono::{Datelike, Utc};
use serde_json::json;

use crate::{s, world};

/// Numbers come from one counter row per year, taken in the creating transaction: parallel
/// creates get consecutive numbers, none twice, none skipped (also on PostgreSQL).
#[tokio::test]
async fn parallel_creates_get_every_number_once() {
    let w = world().await;
    let creates = (0..24).map(|i| {
        let w = &w;
        async move {
            let user = if i % 2 == 0 { &w.staff } else { &w.client_a };
            w.open_ticket(user, json!({ "titre": format!("Ticket {i}") }))
                .await
        }
    });
    let tickets = futures_util::future::join_all(creates).await;
    let year = Utc::now().year();
    let numbers: BTreeSet<String> = tickets.iter().map(|t| s(t, "numero").to_owned()).collect();
    let expected: BTreeSet<String> = (1..=24).map(|n| format!("TC-{year}-{n:03}")).collect();
    assert_eq!(numbers, expected);
}

/// A create that fails after taking a number gives it back.
#[tokio::test]
async fn a_refused_create_leaves_no_gap() {
    let w = world().await;
    let first = w.ticket_of_a().await;
    // Refused after the client is checked (unknown chantier): no number is spent.
    w.post(
        "/api/tickets-client",
        &w.staff,
        &json!({
            "titre": "x", "description": "y", "categorie": "autre",
            "client_id": w.company_a(), "chantier_id": uuid::Uuid::now_v7(),
        }),
    )
    .await
    .field_error("chantier_id");
    let second = w.ticket_of_a().await;
    let year = Utc::now().year();
    assert_eq!(s(&first, "numero"), format!("TC-{year}-001"));
    assert_eq!(s(&second, "numero"), format!("TC-{year}-002"));
}
