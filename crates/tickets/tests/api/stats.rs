use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;

use crate::{s, world};

#[tokio::test]
async fn stats_count_what_the_caller_may_see() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Les Jardins").await;
    let t1 = w
        .open_ticket(&w.staff, json!({ "priority": "critique", "categorie": "securite", "chantier_id": chantier["id"] }))
        .await;
    let t2 = w
        .open_ticket(
            &w.staff,
            json!({ "priority": "normale", "categorie": "qualite" }),
        )
        .await;
    w.open_ticket(
        &w.staff,
        json!({ "priority": "basse", "categorie": "delais" }),
    )
    .await;
    w.open_ticket(
        &w.staff,
        json!({ "priority": "haute", "categorie": "travaux", "client_id": w.company_b() }),
    )
    .await;
    w.patch(
        &format!("/api/tickets-client/{}", s(&t1, "id")),
        &w.staff,
        &json!({ "status": "en_cours" }),
    )
    .await
    .ok(200);
    w.patch(
        &format!("/api/tickets-client/{}", s(&t2, "id")),
        &w.staff,
        &json!({ "status": "resolu" }),
    )
    .await
    .ok(200);

    let all = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    assert_eq!(
        all["totaux"],
        json!({ "total": 4, "nouveau": 2, "en_cours": 1, "en_attente": 0, "resolu": 1, "ferme": 0 })
    );
    assert_eq!(
        all["priorites"],
        json!({ "critique": 1, "haute": 1, "normale": 1, "basse": 1 })
    );
    assert_eq!(all["sla"], json!({ "ok": 4, "warning": 0, "breach": 0 }));
    assert_eq!(all["categories"]["securite"], 1);
    assert_eq!(all["categories"]["autre"], 0);
    let days = all["tendances"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(today["date"], Utc::now().date_naive().to_string());
    assert_eq!(today["nouveaux"], 4);
    assert_eq!(today["resolus"], 1);
    assert!(days[..29].iter().all(|d| d["nouveaux"] == 0));

    // A client: its company only.
    let a = w
        .get("/api/tickets-client/stats", &w.client_a)
        .await
        .ok(200);
    assert_eq!(a["totaux"]["total"], 3);
    let b = w
        .get("/api/tickets-client/stats", &w.client_b)
        .await
        .ok(200);
    assert_eq!(b["totaux"]["total"], 1);
    let b_on_a = w
        .get(
            &format!("/api/tickets-client/stats?client_id={}", w.company_a()),
            &w.client_b,
        )
        .await
        .ok(200);
    assert_eq!(b_on_a["totaux"]["total"], 0);

    // Filters.
    let on_site = w
        .get(
            &format!(
                "/api/tickets-client/stats?chantier_id={}",
                s(&chantier, "id")
            ),
            &w.staff,
        )
        .await
        .ok(200);
    assert_eq!(on_site["totaux"]["total"], 1);
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let before = w
        .get(
            &format!("/api/tickets-client/stats?date_from={yesterday}&date_to={yesterday}"),
            &w.staff,
        )
        .await
        .ok(200);
    assert_eq!(before["totaux"]["total"], 0);
    assert_eq!(before["tendances"].as_array().unwrap().len(), 1);

    // A resolution on a later day counts on that day.
    w.app.advance_clock(Duration::days(2)).await;
    w.action(
        s(&t1, "id"),
        &w.staff,
        "cloturer",
        json!({ "motif": "fini" }),
    )
    .await
    .ok(200);
    let later = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    let days = later["tendances"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["resolus"], 1);
    assert_eq!(days[days.len() - 3]["nouveaux"], 4);
}

#[tokio::test]
async fn stats_parameters_are_checked() {
    let w = world().await;
    let path = "/api/tickets-client/stats";
    for (query, field) in [
        ("date_from=hier", "date_from"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to"),
        ("date_from=2024-01-01&date_to=2026-01-01", "date_to"),
        ("client_id=1", "client_id"),
        ("status=nouveau", "status"),
    ] {
        w.get(&format!("{path}?{query}"), &w.staff)
            .await
            .field_error(field);
    }
    w.call(Method::GET, path, None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get(path, &w.prestataire).await.error(403, "FORBIDDEN");
}
