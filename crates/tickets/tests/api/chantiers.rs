use reqwest::Method;
use serde_json::{Value, json};

use crate::{s, world};

#[tokio::test]
async fn chantiers_belong_to_a_client_and_count_their_tickets() {
    let w = world().await;
    let created = w
        .post(
            "/api/chantiers",
            &w.staff,
            &json!({
                "nom": "Résidence Les Jardins", "type": "construction", "client_id": w.company_a(),
                "adresse": "Avenue Bourguiba", "ville": "Dakar",
                "coordonnees": { "lat": 14.6937, "lng": -17.4441 },
                "statut": "en_cours", "date_debut": "2026-06-15", "date_fin": "2027-12-31",
                "budget_cents": 45_000_000_000i64, "currency": "xof", "avancement": 65,
                "responsable": "Ing. Mamadou Diop",
            }),
        )
        .await
        .ok(201);
    assert_eq!(created["client_nom"], "SARL Construction Plus");
    assert_eq!(
        created["coordonnees"],
        json!({ "lat": 14.6937, "lng": -17.4441 })
    );
    assert_eq!(created["currency"], "XOF");
    assert_eq!(created["budget_cents"], 45_000_000_000i64);
    assert_eq!(created["date_debut"], "2026-06-15");
    let id = s(&created, "id");
    let t = w
        .open_ticket(&w.client_a, json!({ "chantier_id": id }))
        .await;
    w.open_ticket(&w.client_a, json!({ "chantier_id": id }))
        .await;
    w.action(
        s(&t, "id"),
        &w.client_a,
        "cloturer",
        json!({ "motif": "ok" }),
    )
    .await
    .ok(200);
    let read = w
        .get(&format!("/api/chantiers/{id}"), &w.client_a)
        .await
        .ok(200);
    assert_eq!(read["nb_tickets"], 2);
    assert_eq!(read["nb_tickets_ouverts"], 1);
    assert_eq!(read["avancement"], 65);

    let other = w.chantier(w.company_b(), "Chantier du port").await;
    let defaults = w
        .get(&format!("/api/chantiers/{}", s(&other, "id")), &w.staff)
        .await
        .ok(200);
    assert_eq!(defaults["statut"], "planifie");
    assert_eq!(defaults["currency"], "EUR");
    assert_eq!(defaults["coordonnees"], Value::Null);

    let all = w.get("/api/chantiers", &w.staff).await.json();
    assert_eq!(all["meta"]["total"], 2);
    let mine = w.get("/api/chantiers", &w.client_a).await.json();
    assert_eq!(mine["meta"]["total"], 1);
    assert_eq!(mine["data"][0]["id"], created["id"]);
    let filtered = w
        .get(
            &format!("/api/chantiers?client_id={}&statut=en_cours", w.company_a()),
            &w.staff,
        )
        .await
        .json();
    assert_eq!(filtered["meta"]["total"], 1);
    let sorted = w
        .get("/api/chantiers?sort=avancement&order=desc", &w.staff)
        .await
        .json();
    assert_eq!(sorted["data"][0]["avancement"], 65);
    w.get(&format!("/api/chantiers/{}", s(&other, "id")), &w.client_a)
        .await
        .error(404, "NOT_FOUND");
    w.get("/api/chantiers", &w.revendeur)
        .await
        .error(403, "FORBIDDEN");
    w.call(Method::GET, "/api/chantiers", None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get("/api/chantiers?statut=fini", &w.staff)
        .await
        .field_error("statut");
    w.get("/api/chantiers?sort=budget", &w.staff)
        .await
        .field_error("sort");
}

#[tokio::test]
async fn chantiers_are_checked_and_changed_by_staff_only() {
    let w = world().await;
    let base = json!({ "nom": "X", "type": "renovation", "client_id": w.company_a() });
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("nom", json!(" ")), "nom"),
        (with("type", json!("piscine")), "type"),
        (with("client_id", json!(uuid::Uuid::now_v7())), "client_id"),
        (
            with("coordonnees", json!({ "lat": 91.0, "lng": 0.0 })),
            "coordonnees.lat",
        ),
        (
            with("coordonnees", json!({ "lat": 0.0 })),
            "coordonnees.lng",
        ),
        (with("avancement", json!(101)), "avancement"),
        (with("budget_cents", json!(-1)), "budget_cents"),
        (with("currency", json!("EURO")), "currency"),
        (with("currency", json!("E1R")), "currency"),
        (with("date_debut", json!("15/06/2026")), "date_debut"),
        (
            json!({ "nom": "X", "type": "renovation", "client_id": w.company_a(), "date_debut": "2026-06-15", "date_fin": "2026-01-01" }),
            "date_fin",
        ),
        (with("id", json!(uuid::Uuid::now_v7())), "id"),
    ] {
        w.post("/api/chantiers", &w.staff, &body)
            .await
            .field_error(field);
    }
    w.post("/api/chantiers", &w.client_a, &base)
        .await
        .error(403, "FORBIDDEN");
    w.call(Method::POST, "/api/chantiers", None, Some(&base))
        .await
        .error(401, "UNAUTHENTICATED");

    let chantier = w.chantier(w.company_a(), "Le Phare").await;
    let path = format!("/api/chantiers/{}", s(&chantier, "id"));
    let updated = w
        .patch(&path, &w.staff, &json!({ "avancement": 80, "statut": "suspendu", "coordonnees": { "lat": 1.5, "lng": 2.5 } }))
        .await
        .ok(200);
    assert_eq!(updated["avancement"], 80);
    assert_eq!(updated["statut"], "suspendu");
    let cleared = w
        .patch(
            &path,
            &w.staff,
            &json!({ "coordonnees": null, "ville": null }),
        )
        .await
        .ok(200);
    assert_eq!(cleared["coordonnees"], Value::Null);
    assert_eq!(cleared["ville"], Value::Null);
    w.patch(&path, &w.staff, &json!({ "client_id": w.company_b() }))
        .await
        .field_error("client_id");
    w.patch(
        &path,
        &w.staff,
        &json!({ "date_debut": "2027-01-01", "date_fin": "2026-01-01" }),
    )
    .await
    .field_error("date_fin");
    w.patch(&path, &w.client_a, &json!({ "avancement": 100 }))
        .await
        .error(403, "FORBIDDEN");
    w.patch(
        &format!("/api/chantiers/{}", uuid::Uuid::now_v7()),
        &w.staff,
        &json!({ "avancement": 1 }),
    )
    .await
    .error(404, "NOT_FOUND");
}
