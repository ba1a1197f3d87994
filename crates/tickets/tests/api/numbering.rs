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

/// Creations arriving together are written by one transaction; when one of them cannot be
/// written, the others still are (one by one), with consecutive numbers, and only it fails.
#[tokio::test]
async fn a_batch_with_a_faulty_ticket_writes_the_others_and_fails_only_it() {
    use actix_web::ResponseError;
    use entity::{audit_log, ticket, ticket_history};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use shared::audit::{Actor, AuditEntry};
    use tickets::history::Author;
    use tickets::tickets::creation::{Creations, NewTicket};

    let w = world().await;
    let first = w.ticket_of_a().await;
    let template = ticket::Entity::find()
        .filter(ticket::Column::Numero.eq(s(&first, "numero")))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    let creations = Creations::default();
    let news = (0..10).map(|i| {
        let mut ticket = template.clone();
        ticket.id = uuid::Uuid::now_v7();
        ticket.titre = format!("Lot {i}");
        if i == 4 {
            // No such client: the insert fails on its foreign key.
            ticket.client_id = uuid::Uuid::now_v7();
        }
        NewTicket {
            ticket,
            author: Author::system(),
            actor: Actor::system(),
            audit: |t| AuditEntry::new("create_ticket", "ticket").entity_id(t.id),
        }
    });
    let results =
        futures_util::future::join_all(news.map(|new| creations.create(&w.app.db, new))).await;
    let year = template.annee;
    let mut numbers = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(created) => {
                assert_ne!(i, 4);
                assert_eq!(created.history.ticket_id, created.ticket.id);
                numbers.push(created.ticket.numero);
            }
            Err(err) => {
                assert_eq!(i, 4);
                assert_eq!(err.status_code().as_u16(), 422, "{err:?}");
            }
        }
    }
    let expected: Vec<String> = (2..=10).map(|n| format!("TC-{year}-{n:03}")).collect();
    assert_eq!(numbers, expected);
    assert_eq!(ticket::Entity::find().count(&w.app.db).await.unwrap(), 10);
    assert_eq!(
        ticket_history::Entity::find()
            .filter(ticket_history::Column::Action.eq("created"))
            .count(&w.app.db)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("create_ticket"))
            .count(&w.app.db)
            .await
            .unwrap(),
        10
    );
    // The next one takes the next number: the failed batch gave its numbers back.
    let next = w.ticket_of_a().await;
    assert_eq!(s(&next, "numero"), format!("TC-{year}-011"));
}
