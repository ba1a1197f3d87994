//! Dashboard, activity, notifications and support tickets.

use entity::project::ProjectStatus;
use reqwest::Method;
use serde_json::json;

use crate::{line, world};

#[tokio::test]
async fn support_tickets_are_the_tickets_staff_see() {
    let w = world().await;
    let created = w
        .post(
            "/api/client/support/ticket",
            &w.client_a,
            &json!({
                "titre": "Fuite au sous-sol",
                "description": "De l'eau s'infiltre près du local technique.",
                "categorie": "travaux",
                "priority": "haute",
            }),
        )
        .await
        .ok(201);
    let numero = created["numero"].as_str().unwrap();
    assert!(numero.starts_with("TC-"));
    assert_eq!(created["client"]["id"], w.company_a().to_string());
    let mine = w
        .get("/api/client/support/tickets", &w.client_a)
        .await
        .ok(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let staff = w
        .get(&format!("/api/tickets-client/{numero}"), &w.staff)
        .await
        .ok(200);
    assert_eq!(staff["titre"], "Fuite au sous-sol");
    assert!(
        w.get("/api/client/support/tickets", &w.client_b)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A client cannot open a ticket for another company.
    let foreign = w
        .post("/api/client/support/ticket", &w.client_a, &json!({
            "titre": "x", "description": "y", "categorie": "travaux", "client_id": w.company_b(),
        }))
        .await;
    assert!(
        foreign.status == 404 || foreign.status == 422 || foreign.status == 403,
        "{}",
        foreign.status
    );
    let missing = w
        .post(
            "/api/client/support/ticket",
            &w.client_a,
            &json!({ "description": "y", "categorie": "travaux" }),
        )
        .await;
    assert!(!missing.field_error("titre").is_empty());
    assert!(
        !w.get("/api/client/support/tickets?status=perdu", &w.client_a)
            .await
            .field_error("status")
            .is_empty()
    );
}

#[tokio::test]
async fn the_dashboard_counts_and_the_activity_merges_everything() {
    let w = world().await;
    let p = w
        .project(w.company_a(), "Siège", ProjectStatus::InProgress)
        .await;
    w.post(
        &format!("/api/client/projects/{p}/comment"),
        &w.client_a,
        &json!({ "content": "Bonjour" }),
    )
    .await
    .ok(201);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"abc".to_vec())
            .file_name("a.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    w.app
        .send(
            w.app
                .authed(
                    Method::POST,
                    "/api/client/documents/upload",
                    &w.client_a.token,
                )
                .multipart(form),
        )
        .await
        .ok(201);
    let today = w.today();
    w.invoice(
        w.company_a(),
        today,
        today + chrono::Days::new(30),
        vec![line("Travaux", 1000, 100_000, 2000)],
    )
    .await;
    w.post(
        "/api/client/support/ticket",
        &w.client_a,
        &json!({ "titre": "Panne", "description": "Ascenseur", "categorie": "travaux" }),
    )
    .await
    .ok(201);
    let stats = w
        .get("/api/client/dashboard/stats", &w.client_a)
        .await
        .ok(200);
    assert_eq!(stats["projects"]["total"], 1);
    assert_eq!(stats["projects"]["active"], 1);
    assert_eq!(stats["documents"]["total"], 1);
    assert_eq!(stats["documents"]["size_bytes"], 3);
    assert_eq!(stats["invoices"]["open"], 1);
    assert_eq!(stats["invoices"]["outstanding_cents"], 120_000);
    assert_eq!(stats["tickets"]["open"], 1);
    // The project's start and the invoice (the comment was the caller's own: no
    // notification to itself).
    assert_eq!(stats["unread_notifications"], 2);
    let activity = w
        .get("/api/client/dashboard/activity?limit=100", &w.client_a)
        .await
        .ok(200);
    let kinds: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "project_created",
        "project_status_changed",
        "project_comment",
        "document_added",
        "invoice_issued",
        "ticket_created",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let page = w
        .app
        .send(w.app.authed(
            Method::GET,
            "/api/client/dashboard/activity?limit=2&page=2",
            &w.client_a.token,
        ))
        .await
        .json();
    assert_eq!(page["meta"]["total"], kinds.len());
    assert_eq!(page["data"][0]["title"], activity[2]["title"]);
    assert!(
        w.get("/api/client/dashboard/activity", &w.client_b)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn notifications_are_read_one_by_one_or_all_at_once() {
    let w = world().await;
    let today = w.today();
    for _ in 0..3 {
        w.invoice(
            w.company_a(),
            today,
            today,
            vec![line("x", 1000, 100, 2000)],
        )
        .await;
    }
    let all = w
        .get("/api/client/notifications", &w.client_a)
        .await
        .ok(200);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["kind"], "invoice_issued");
    let id = all[0]["id"].as_str().unwrap();
    let read = w
        .put(
            &format!("/api/client/notifications/{id}/read"),
            &w.client_a,
            &json!(null),
        )
        .await
        .ok(200);
    assert_eq!(read["read"], true);
    // The colleague's copy is untouched; the colleague cannot mark A's.
    w.put(
        &format!("/api/client/notifications/{id}/read"),
        &w.colleague_a,
        &json!(null),
    )
    .await
    .error(404, "NOT_FOUND");
    let unread = w
        .get("/api/client/notifications?unread=true", &w.client_a)
        .await
        .ok(200);
    assert_eq!(unread.as_array().unwrap().len(), 2);
    let marked = w
        .put(
            "/api/client/notifications/read-all",
            &w.client_a,
            &json!(null),
        )
        .await
        .ok(200);
    assert_eq!(marked["updated"], 2);
    assert!(
        w.get("/api/client/notifications?unread=true", &w.client_a)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        w.get("/api/client/notifications?unread=true", &w.colleague_a)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        !w.get("/api/client/notifications?unread=maybe", &w.client_a)
            .await
            .field_error("unread")
            .is_empty()
    );
    assert!(
        !w.put(
            "/api/client/notifications/nope/read",
            &w.client_a,
            &json!(null)
        )
        .await
        .field_error("id")
        .is_empty()
    );
}
