use reqwest::Method;
use serde_json::json;

use crate::{s, world};

#[tokio::test]
async fn bulk_applies_to_each_ticket_and_reports_the_failures() {
    let w = world().await;
    let a1 = w.ticket_of_a().await;
    let a2 = w.ticket_of_a().await;
    let b1 = w.ticket_of_b().await;
    let missing = uuid::Uuid::now_v7();

    let result = w
        .post(
            "/api/tickets-client/bulk",
            &w.staff,
            &json!({
                "ticket_ids": [a1["id"], a2["id"], b1["id"], missing],
                "action": "affecter",
                "data": { "responsable": "Jean Dupont" },
            }),
        )
        .await
        .ok(200);
    assert_eq!(result["updated"], 3);
    assert_eq!(result["failed"], 1);
    assert_eq!(result["errors"][0]["ticket_id"], json!(missing));
    assert_eq!(result["errors"][0]["code"], "NOT_FOUND");
    for t in [&a1, &a2, &b1] {
        let detail = w
            .get(&format!("/api/tickets-client/{}", s(t, "id")), &w.staff)
            .await
            .ok(200);
        assert_eq!(detail["responsable"], "Jean Dupont");
    }

    // One refusal does not undo the others: a2 is already at level 2.
    w.action(s(&a2, "id"), &w.staff, "escalader", json!({ "niveau": 2 }))
        .await
        .ok(200);
    let partial = w
        .post(
            "/api/tickets-client/bulk",
            &w.staff,
            &json!({ "ticket_ids": [a1["id"], a2["id"]], "action": "escalader", "data": { "niveau": 1 } }),
        )
        .await
        .ok(200);
    assert_eq!(partial["updated"], 1);
    assert_eq!(partial["errors"][0]["ticket_id"], a2["id"]);
    assert_eq!(partial["errors"][0]["code"], "CONFLICT");
    let a1_now = w
        .get(&format!("/api/tickets-client/{}", s(&a1, "id")), &w.staff)
        .await
        .ok(200);
    assert_eq!(a1_now["escalation_level"], 1);
}

#[tokio::test]
async fn a_clients_bulk_touches_only_what_it_may() {
    let w = world().await;
    let mine = w.open_ticket(&w.client_a, json!({})).await;
    let theirs = w.ticket_of_b().await;
    let result = w
        .post(
            "/api/tickets-client/bulk",
            &w.client_a,
            &json!({ "ticket_ids": [mine["id"], theirs["id"]], "action": "cloturer", "data": { "motif": "ok" } }),
        )
        .await
        .ok(200);
    assert_eq!(result["updated"], 1);
    assert_eq!(result["errors"][0]["ticket_id"], theirs["id"]);
    assert_eq!(result["errors"][0]["code"], "NOT_FOUND");
    let untouched = w
        .get(
            &format!("/api/tickets-client/{}", s(&theirs, "id")),
            &w.staff,
        )
        .await
        .ok(200);
    assert_eq!(untouched["status"], "nouveau");
    // Staff actions fail per ticket as forbidden.
    let staff_only = w
        .post(
            "/api/tickets-client/bulk",
            &w.client_a,
            &json!({ "ticket_ids": [mine["id"]], "action": "escalader", "data": { "niveau": 3 } }),
        )
        .await
        .ok(200);
    assert_eq!(staff_only["errors"][0]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn bulk_requests_are_checked_before_anything_changes() {
    let w = world().await;
    let t = w.ticket_of_a().await;
    let path = "/api/tickets-client/bulk";
    for (body, field) in [
        (
            json!({ "ticket_ids": [], "action": "reopen", "data": { "motif": "x" } }),
            "ticket_ids",
        ),
        (
            json!({ "ticket_ids": ["x"], "action": "reopen", "data": { "motif": "x" } }),
            "ticket_ids[0]",
        ),
        (
            json!({ "ticket_ids": [t["id"]], "action": "detruire" }),
            "action",
        ),
        (
            json!({ "ticket_ids": [t["id"]], "action": "escalader", "data": { "niveau": 0 } }),
            "data.niveau",
        ),
        (
            json!({ "ticket_ids": [t["id"]], "action": "affecter", "data": {} }),
            "data.responsable",
        ),
        (
            json!({ "ticket_ids": [t["id"]], "action": "affecter", "data": { "responsable": "x" }, "force": true }),
            "force",
        ),
    ] {
        w.post(path, &w.staff, &body).await.field_error(field);
    }
    let too_many: Vec<uuid::Uuid> = (0..501).map(|_| uuid::Uuid::now_v7()).collect();
    w.post(
        path,
        &w.staff,
        &json!({ "ticket_ids": too_many, "action": "reopen", "data": { "motif": "x" } }),
    )
    .await
    .field_error("ticket_ids");
    let unchanged = w
        .get(&format!("/api/tickets-client/{}", s(&t, "id")), &w.staff)
        .await
        .ok(200);
    assert_eq!(unchanged["responsable"], serde_json::Value::Null);
    w.call(
        Method::POST,
        path,
        None,
        Some(&json!({ "ticket_ids": [t["id"]], "action": "reopen", "data": { "motif": "x" } })),
    )
    .await
    .error(401, "UNAUTHENTICATED");
    w.post(
        path,
        &w.prestataire,
        &json!({ "ticket_ids": [t["id"]], "action": "reopen", "data": { "motif": "x" } }),
    )
    .await
    .error(403, "FORBIDDEN");
}
