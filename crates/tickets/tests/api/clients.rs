use reqwest::Method;
use serde_json::{Value, json};

use crate::{s, world};

#[tokio::test]
async fn clients_carry_their_ticket_and_chantier_figures() {
    let w = world().await;
    w.chantier(w.company_a(), "Les Jardins").await;
    w.chantier(w.company_a(), "Le Phare").await;
    let t1 = w.open_ticket(&w.client_a, json!({})).await;
    let t2 = w.open_ticket(&w.client_a, json!({})).await;
    w.open_ticket(&w.client_a, json!({})).await;
    w.action(
        s(&t1, "id"),
        &w.client_a,
        "cloturer",
        json!({ "motif": "ok", "note_satisfaction": 5 }),
    )
    .await
    .ok(200);
    w.action(
        s(&t2, "id"),
        &w.client_a,
        "cloturer",
        json!({ "motif": "bof", "note_satisfaction": 4 }),
    )
    .await
    .ok(200);

    let a = w
        .get(&format!("/api/clients/{}", w.company_a()), &w.staff)
        .await
        .ok(200);
    assert_eq!(a["nom"], "SARL Construction Plus");
    assert_eq!(a["type"], "entreprise");
    assert_eq!(a["nb_tickets"], 3);
    assert_eq!(a["nb_tickets_ouverts"], 1);
    assert_eq!(a["nb_chantiers"], 2);
    assert_eq!(a["note_satisfaction"], 4.5);
    let b = w
        .get(&format!("/api/clients/{}", w.company_b()), &w.staff)
        .await
        .ok(200);
    assert_eq!(b["nb_tickets"], 0);
    assert_eq!(b["note_satisfaction"], Value::Null);

    let list = w
        .get("/api/clients?sort=nom&order=asc", &w.staff)
        .await
        .json();
    assert_eq!(list["meta"]["total"], 2);
    assert_eq!(list["data"][0]["nom"], "Bâtiments Sahel");
    // A client sees its own company only.
    let mine = w.get("/api/clients", &w.client_a).await.json();
    assert_eq!(mine["meta"]["total"], 1);
    assert_eq!(mine["data"][0]["id"], json!(w.company_a()));
    w.get(&format!("/api/clients/{}", w.company_b()), &w.client_a)
        .await
        .error(404, "NOT_FOUND");
    w.get("/api/clients", &w.prestataire)
        .await
        .error(403, "FORBIDDEN");
    w.call(Method::GET, "/api/clients", None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get("/api/clients?type=ministere", &w.staff)
        .await
        .field_error("type");
    w.get("/api/clients/abc", &w.staff).await.field_error("id");
}

#[tokio::test]
async fn staff_create_and_update_clients() {
    let w = world().await;
    let created = w
        .post(
            "/api/clients",
            &w.staff,
            &json!({
                "nom": "Entreprise XYZ", "type": "entreprise", "email": "Contact@XYZ.com",
                "telephone": "+221 33 000 00 00", "adresse": "Avenue Bourguiba", "ville": "Dakar",
            }),
        )
        .await
        .ok(201);
    assert_eq!(created["email"], "contact@xyz.com");
    assert_eq!(created["ville"], "Dakar");
    assert_eq!(created["nb_tickets"], 0);
    let id = s(&created, "id");
    let updated = w
        .patch(
            &format!("/api/clients/{id}"),
            &w.staff,
            &json!({ "ville": "Thiès", "telephone": null, "type": "collectivite" }),
        )
        .await
        .ok(200);
    assert_eq!(updated["ville"], "Thiès");
    assert_eq!(updated["telephone"], Value::Null);
    assert_eq!(updated["type"], "collectivite");
    let filtered = w
        .get("/api/clients?ville=Thi%C3%A8s", &w.staff)
        .await
        .json();
    assert_eq!(filtered["meta"]["total"], 1);
    // Staff can open tickets for it.
    let ticket = w.open_ticket(&w.staff, json!({ "client_id": id })).await;
    assert_eq!(ticket["client"]["nom"], "Entreprise XYZ");

    for (body, field) in [
        (json!({ "nom": "", "type": "entreprise" }), "nom"),
        (json!({ "nom": "X", "type": "ministere" }), "type"),
        (
            json!({ "nom": "X", "type": "entreprise", "email": "pas-un-email" }),
            "email",
        ),
        (
            json!({ "nom": "X", "type": "entreprise", "company_type": "supplier" }),
            "company_type",
        ),
    ] {
        w.post("/api/clients", &w.staff, &body)
            .await
            .field_error(field);
    }
    w.patch(
        &format!("/api/clients/{id}"),
        &w.staff,
        &json!({ "revendeur_id": w.revendeur.id }),
    )
    .await
    .field_error("revendeur_id");
    w.post(
        "/api/clients",
        &w.client_a,
        &json!({ "nom": "X", "type": "entreprise" }),
    )
    .await
    .error(403, "FORBIDDEN");
    w.patch(
        &format!("/api/clients/{}", w.company_a()),
        &w.client_a,
        &json!({ "nom": "Moi" }),
    )
    .await
    .error(403, "FORBIDDEN");
    w.post(
        "/api/clients",
        &w.revendeur,
        &json!({ "nom": "X", "type": "entreprise" }),
    )
    .await
    .error(403, "FORBIDDEN");
    w.call(
        Method::POST,
        "/api/clients",
        None,
        Some(&json!({ "nom": "X", "type": "entreprise" })),
    )
    .await
    .error(401, "UNAUTHENTICATED");
    w.patch(
        &format!("/api/clients/{}", uuid::Uuid::now_v7()),
        &w.staff,
        &json!({ "nom": "X" }),
    )
    .await
    .error(404, "NOT_FOUND");
}
