//! SLA clocks with the server's clock moved forward (the test fixtures' `/test/clock`).

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use test_support::ADMIN_EMAIL;

use crate::{World, s, world};

async fn detail(w: &World, id: &str) -> Value {
    w.get(&format!("/api/tickets-client/{id}"), &w.staff)
        .await
        .ok(200)
}

async fn listed_level(w: &World, id: &str) -> String {
    let list = w
        .get("/api/tickets-client?limit=100", &w.staff)
        .await
        .json();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(id))
        .map(|t| s(t, "sla_status").to_owned())
        .unwrap()
}

async fn scan(w: &World) -> Value {
    let job = w.app.run_job("tickets.sla_scan", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    job["result"].clone()
}

/// The whole story of a critique ticket (4 h to answer, 24 h to resolve, warning at 75 %),
/// read from the detail (computed from the history) and from the list (SQL) at each step.
#[tokio::test]
async fn the_clocks_run_pause_and_resume_with_the_status() {
    let w = world().await;
    let ticket = w
        .open_ticket(&w.client_a, json!({ "priority": "critique" }))
        .await;
    let id = s(&ticket, "id");
    let path = format!("/api/tickets-client/{id}");

    // 3 h without an answer: the first-response clock is at 75 %.
    w.app.advance_clock(Duration::hours(3)).await;
    let d = detail(&w, id).await;
    assert_eq!(d["sla_details"]["premiere_reponse"]["statut"], "warning");
    assert_eq!(d["sla_details"]["premiere_reponse"]["pourcentage"], 75);
    assert_eq!(d["sla_details"]["pourcentage"], 12);
    assert_eq!(d["sla_status"], "warning");
    assert_eq!(listed_level(&w, id).await, "warning");

    // Staff answers in time: the first response is met, the ticket is ok again.
    w.post(
        &format!("{path}/messages"),
        &w.staff,
        &json!({ "contenu": "Une équipe arrive." }),
    )
    .await
    .ok(201);
    let d = detail(&w, id).await;
    assert_eq!(d["sla_details"]["premiere_reponse"]["statut"], "ok");
    assert!(d["sla_details"]["premiere_reponse"]["repondu_le"].is_string());
    assert_eq!(d["sla_status"], "ok");
    assert_eq!(listed_level(&w, id).await, "ok");

    // 18 h used: the resolution clock warns.
    w.app.advance_clock(Duration::hours(15)).await;
    assert_eq!(detail(&w, id).await["sla_status"], "warning");
    assert_eq!(listed_level(&w, id).await, "warning");

    // Waiting on the client for 10 h: the clock stands still.
    w.patch(&path, &w.staff, &json!({ "status": "en_attente" }))
        .await
        .ok(200);
    w.app.advance_clock(Duration::hours(10)).await;
    let d = detail(&w, id).await;
    assert_eq!(d["sla_details"]["en_pause"], true);
    assert_eq!(d["sla_details"]["pourcentage"], 75);
    assert_eq!(d["sla_details"]["temps_ecoule"], "18h");
    assert_eq!(d["sla_details"]["temps_restant"], "6h");
    assert_eq!(d["sla_status"], "warning");
    assert_eq!(listed_level(&w, id).await, "warning");

    // The client answers: the ticket resumes by itself, and the deadline moved by the pause.
    w.post(
        &format!("{path}/messages"),
        &w.client_a,
        &json!({ "contenu": "Voici les photos demandées." }),
    )
    .await
    .ok(201);
    let d = detail(&w, id).await;
    assert_eq!(d["status"], "en_cours");
    assert_eq!(d["sla_details"]["en_pause"], false);
    let created = chrono::DateTime::parse_from_rfc3339(s(&d, "date_creation")).unwrap();
    let limite = chrono::DateTime::parse_from_rfc3339(s(&d, "date_limite")).unwrap();
    let moved = limite - created;
    assert!(
        moved >= Duration::hours(34) && moved < Duration::hours(34) + Duration::minutes(1),
        "deadline moved by {moved}"
    );

    // 6 h more: the 24 h are used up.
    w.app.advance_clock(Duration::hours(6)).await;
    let d = detail(&w, id).await;
    assert_eq!(d["sla_status"], "breach");
    assert_eq!(d["sla_details"]["pourcentage"], 100);
    assert!(d["sla_details"]["temps_restant_secondes"].as_i64().unwrap() <= 0);
    assert_eq!(listed_level(&w, id).await, "breach");
    let breached = w
        .get("/api/tickets-client?sla_status=breach", &w.staff)
        .await
        .json();
    assert_eq!(breached["meta"]["total"], 1);

    // Resolving stops the clock where it was.
    w.patch(&path, &w.staff, &json!({ "status": "resolu" }))
        .await
        .ok(200);
    w.app.advance_clock(Duration::hours(100)).await;
    let d = detail(&w, id).await;
    assert_eq!(d["sla_details"]["en_pause"], true);
    assert_eq!(d["sla_details"]["pourcentage"], 100);
}

#[tokio::test]
async fn an_unanswered_ticket_breaches_its_first_response() {
    let w = world().await;
    let ticket = w.ticket_of_a().await; // haute: 8 h to answer
    let id = s(&ticket, "id");
    w.app.advance_clock(Duration::hours(9)).await;
    let d = detail(&w, id).await;
    assert_eq!(d["sla_details"]["premiere_reponse"]["statut"], "breach");
    assert_eq!(d["sla_status"], "breach");
    assert_eq!(listed_level(&w, id).await, "breach");
    // Answering late does not erase the breach.
    w.post(
        &format!("/api/tickets-client/{id}/messages"),
        &w.staff,
        &json!({ "contenu": "Désolé pour le délai." }),
    )
    .await
    .ok(201);
    assert_eq!(detail(&w, id).await["sla_status"], "breach");
    assert_eq!(listed_level(&w, id).await, "breach");
    // Internal notes are not answers.
    let other = w.ticket_of_a().await;
    let other_id = s(&other, "id");
    w.post(
        &format!("/api/tickets-client/{other_id}/messages"),
        &w.staff,
        &json!({ "contenu": "À voir demain", "interne": true }),
    )
    .await
    .ok(201);
    let d = detail(&w, other_id).await;
    assert_eq!(
        d["sla_details"]["premiere_reponse"]["repondu_le"],
        Value::Null
    );
}

#[tokio::test]
async fn the_watch_announces_warnings_and_breaches_once_and_escalates() {
    let w = world().await;
    let ticket = w
        .open_ticket(&w.staff, json!({ "priority": "critique" }))
        .await;
    let id = s(&ticket, "id");
    w.action(
        id,
        &w.staff,
        "affecter",
        json!({ "responsable": "Awa Ndiaye", "responsable_id": w.prestataire.id }),
    )
    .await
    .ok(200);

    // Nothing to say yet.
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 0 }));

    w.app.advance_clock(Duration::hours(3)).await;
    assert_eq!(scan(&w).await, json!({ "warnings": 1, "breaches": 0 }));
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 0 }));
    let d = detail(&w, id).await;
    assert_eq!(d["escalation_level"], 0);
    assert!(
        d["historique"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "sla_warning" && h["auteur"] == "Système")
    );
    let warning = w
        .app
        .last_mail(&w.prestataire.email, "ticket_sla_warning")
        .await;
    assert!(warning.subject.contains(s(&ticket, "numero")));

    w.app.advance_clock(Duration::hours(2)).await;
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 1 }));
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 0 }));
    let d = detail(&w, id).await;
    assert_eq!(d["escalation_level"], 1);
    let history: Vec<&str> = d["historique"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(history.contains(&"sla_breach"), "{history:?}");
    assert!(history.contains(&"escalated"), "{history:?}");
    // The person in charge and every superadmin hear about the breach.
    for to in [
        w.prestataire.email.as_str(),
        w.staff.email.as_str(),
        ADMIN_EMAIL,
    ] {
        let mail = w.app.last_mail(to, "ticket_sla_breach").await;
        assert!(
            mail.body_text.contains(s(&ticket, "numero")),
            "{}",
            mail.body_text
        );
    }
    // Clients are not mailed about internal escalations.
    assert!(
        w.app
            .outbox(&w.client_a.email)
            .await
            .iter()
            .all(|m| !m.template.starts_with("ticket_sla"))
    );
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("sla_breach"))
        .filter(entity::audit_log::Column::EntityId.eq(id))
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].user_id, None);

    // Lowering the priority puts the ticket back in time; a later breach is announced again.
    w.action(
        id,
        &w.staff,
        "changer_priorite",
        json!({ "priority": "basse" }),
    )
    .await
    .ok(200);
    w.post(
        &format!("/api/tickets-client/{id}/messages"),
        &w.staff,
        &json!({ "contenu": "Pris en charge." }),
    )
    .await
    .ok(201);
    assert_eq!(detail(&w, id).await["sla_status"], "ok");
    w.app.advance_clock(Duration::hours(240)).await;
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 1 }));
    assert_eq!(detail(&w, id).await["escalation_level"], 2);
}

#[tokio::test]
async fn resolved_tickets_are_not_announced() {
    let w = world().await;
    let ticket = w
        .open_ticket(&w.staff, json!({ "priority": "critique" }))
        .await;
    let id = s(&ticket, "id");
    w.patch(
        &format!("/api/tickets-client/{id}"),
        &w.staff,
        &json!({ "status": "resolu" }),
    )
    .await
    .ok(200);
    w.app.advance_clock(Duration::hours(48)).await;
    assert_eq!(scan(&w).await, json!({ "warnings": 0, "breaches": 0 }));
}
