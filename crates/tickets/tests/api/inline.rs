//! A ticket's detail read on the request's own thread (an SQLite file: bench/RESULTS.md item
//! 32) is the pool's, model for model, and the detail route reads it so.

use actix_web::ResponseError;
use serde_json::json;
use shared::db::InlineReads;
use tickets::Scope;
use tickets::tickets::service::find_with_parties;
use tickets::tickets::{TicketKey, contents};
use uuid::Uuid;

use crate::attachments::{file_form, upload};
use crate::{s, world};

#[tokio::test]
async fn a_ticket_read_inline_is_the_pools_model_for_model() {
    let w = world().await;
    // A chantier with every column filled: dates, coordinates, a budget (each type read).
    let chantier = w
        .post(
            "/api/chantiers",
            &w.staff,
            &json!({
                "nom": "Résidence Les Palmiers", "type": "construction", "client_id": w.company_a(),
                "adresse": "Route de la Corniche", "ville": "Dakar",
                "coordonnees": { "lat": 14.6937, "lng": -17.4441 },
                "statut": "en_cours", "date_debut": "2026-06-15", "date_fin": "2027-12-31",
                "budget_cents": 45_000_000_000i64, "currency": "xof", "avancement": 65,
                "responsable": "Awa Ndiaye",
            }),
        )
        .await
        .ok(201);
    let ticket = w
        .open_ticket(
            &w.client_a,
            json!({ "chantier_id": chantier["id"], "tags": ["urgent", "lot-2"] }),
        )
        .await;
    let id = s(&ticket, "id");
    let numero = s(&ticket, "numero").to_owned();
    let path = format!("/api/tickets-client/{id}");
    // A message of each kind, a status change (history), a file: every branch of the contents.
    w.post(
        &format!("{path}/messages"),
        &w.client_a,
        &json!({ "contenu": "Le garde-corps manque toujours." }),
    )
    .await
    .ok(201);
    w.post(
        &format!("{path}/messages"),
        &w.staff,
        &json!({ "contenu": "Relancer le sous-traitant.", "interne": true }),
    )
    .await
    .ok(201);
    w.patch(&path, &w.staff, &json!({ "status": "en_cours" }))
        .await
        .ok(200);
    upload(
        &w,
        id,
        Some(&w.staff),
        file_form("plan.pdf", "application/pdf", b"%PDF-1.4".to_vec()),
    )
    .await
    .ok(201);
    let bare = w.ticket_of_b().await;

    let inline = InlineReads::for_url(&w.app.config.database_url);
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts = || inline.as_ref().map(|inline| inline.counts());
    let before = counts();
    let id = Uuid::parse_str(id).unwrap();
    let bare_id = Uuid::parse_str(s(&bare, "id")).unwrap();
    let cases = [
        (TicketKey::Numero(numero.clone()), Scope::Staff),
        (TicketKey::Id(id), Scope::Company(w.company_a())),
        (TicketKey::Id(bare_id), Scope::Staff),
        // Another company's ticket, and none at all: a 404 both ways.
        (TicketKey::Id(bare_id), Scope::Company(w.company_a())),
        (TicketKey::Numero("TC-2020-999".to_owned()), Scope::Staff),
    ];
    for (key, scope) in &cases {
        let pooled = find_with_parties(&w.app.db, None, *scope, key).await;
        let read = find_with_parties(&w.app.db, inline.as_deref(), *scope, key).await;
        match (pooled, read) {
            (Ok(pooled), Ok(read)) => {
                assert_eq!(read.ticket, pooled.ticket);
                assert_eq!(read.client, pooled.client);
                assert_eq!(read.chantier, pooled.chantier);
                let pooled = contents::read(&w.app.db, None, *scope, pooled.ticket.id)
                    .await
                    .unwrap();
                let read = contents::read(&w.app.db, inline.as_deref(), *scope, read.ticket.id)
                    .await
                    .unwrap();
                assert_eq!(read.history, pooled.history);
                assert_eq!(read.latest_messages, pooled.latest_messages);
                assert_eq!(read.nb_messages, pooled.nb_messages);
                assert_eq!(read.files, pooled.files);
            }
            (Err(pooled), Err(read)) => {
                assert_eq!(pooled.status_code(), 404);
                assert_eq!(read.status_code(), 404);
            }
            (pooled, read) => panic!("{key:?} as {scope:?}: {pooled:?} / {read:?}"),
        }
    }
    let (chantier_of, with_files) = (
        find_with_parties(&w.app.db, None, Scope::Staff, &cases[0].0)
            .await
            .unwrap(),
        contents::read(&w.app.db, None, Scope::Staff, id)
            .await
            .unwrap(),
    );
    let site = chantier_of.chantier.unwrap();
    assert_eq!(site.latitude, Some(14.6937));
    assert!(site.date_debut.is_some() && site.budget_cents == Some(45_000_000_000));
    assert_eq!(with_files.latest_messages.len(), 2);
    assert_eq!(with_files.files.len(), 1);
    assert!(with_files.history.len() >= 2);
    // Every statement of those ran inline (on PostgreSQL there is nothing to count), and so do
    // the detail route's: the account check and the detail's two statements.
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        assert_eq!(served - before.0, 8);
        w.get(&path, &w.client_a).await.ok(200);
        assert_eq!(counts(), Some((served + 3, failed)));
    }
}
