//! Every `/api/client` route: anonymous 401, other roles 403, another company's object 404.

use entity::project::ProjectStatus;
use reqwest::Method;
use serde_json::json;

use crate::{World, line, world};

/// Every route of the portal with a body that would be accepted.
fn routes(
    project: &str,
    document: &str,
    invoice: &str,
    notification: &str,
) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let p = format!("/api/client/projects/{project}");
    let d = format!("/api/client/documents/{document}");
    let i = format!("/api/client/invoices/{invoice}");
    vec![
        (Method::GET, "/api/client/projects".into(), None),
        (Method::GET, "/api/client/projects/stats".into(), None),
        (Method::GET, p.clone(), None),
        (
            Method::POST,
            format!("{p}/comment"),
            Some(json!({ "content": "Bonjour" })),
        ),
        (Method::GET, format!("{p}/files"), None),
        (Method::GET, format!("{p}/timeline"), None),
        // JSON where multipart is expected: who and which project are checked first.
        (Method::POST, format!("{p}/upload"), Some(json!({}))),
        (
            Method::POST,
            "/api/client/documents/upload".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("{p}/status"),
            Some(json!({ "status": "on_hold" })),
        ),
        (Method::GET, "/api/client/documents".into(), None),
        (Method::GET, "/api/client/documents/categories".into(), None),
        (Method::GET, d.clone(), None),
        (Method::GET, format!("{d}/preview"), None),
        (Method::GET, format!("{d}/download"), None),
        (Method::POST, format!("{d}/share"), Some(json!({}))),
        (Method::DELETE, d.clone(), None),
        (Method::GET, "/api/client/invoices".into(), None),
        (Method::GET, i.clone(), None),
        (Method::GET, format!("{i}/pdf"), None),
        (Method::GET, "/api/client/payments".into(), None),
        (
            Method::POST,
            "/api/client/payments/new".into(),
            Some(json!({ "invoice_id": invoice, "amount_cents": 100, "method": "card" })),
        ),
        (Method::GET, "/api/client/balance".into(), None),
        (Method::GET, "/api/client/transactions".into(), None),
        (Method::GET, "/api/client/financial-summary".into(), None),
        (Method::GET, "/api/client/dashboard/stats".into(), None),
        (Method::GET, "/api/client/dashboard/activity".into(), None),
        (Method::GET, "/api/client/notifications".into(), None),
        (
            Method::PUT,
            format!("/api/client/notifications/{notification}/read"),
            None,
        ),
        (
            Method::PUT,
            "/api/client/notifications/read-all".into(),
            None,
        ),
        (
            Method::POST,
            "/api/client/support/ticket".into(),
            Some(
                json!({ "titre": "Fuite", "description": "Une fuite au sous-sol", "categorie": "travaux" }),
            ),
        ),
        (Method::GET, "/api/client/support/tickets".into(), None),
    ]
}

async fn objects_of_b(w: &World) -> (String, String, String, String) {
    let project = w
        .project(w.company_b(), "Projet de B", ProjectStatus::InProgress)
        .await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"contrat B".to_vec())
            .file_name("b.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let doc = w
        .app
        .send(
            w.app
                .authed(
                    Method::POST,
                    "/api/client/documents/upload",
                    &w.client_b.token,
                )
                .multipart(form),
        )
        .await
        .ok(201);
    let invoice = w
        .invoice(
            w.company_b(),
            w.today(),
            w.today(),
            vec![line("Travaux", 1000, 10_000, 2000)],
        )
        .await;
    // Issuing notified B's users.
    let notes = w
        .get("/api/client/notifications", &w.client_b)
        .await
        .ok(200);
    let notification = notes[0]["id"].as_str().unwrap().to_owned();
    (
        project.to_string(),
        doc["id"].as_str().unwrap().to_owned(),
        invoice.id.to_string(),
        notification,
    )
}

#[tokio::test]
async fn only_client_accounts_reach_the_portal() {
    let w = world().await;
    let (p, d, i, n) = objects_of_b(&w).await;
    for (method, path, body) in routes(&p, &d, &i, &n) {
        let anonymous = w.call(method.clone(), &path, None, body.as_ref()).await;
        anonymous.error(401, "UNAUTHENTICATED");
        for user in [&w.staff, &w.prestataire, &w.revendeur] {
            let refused = w
                .call(method.clone(), &path, Some(user), body.as_ref())
                .await;
            refused.error(403, "FORBIDDEN");
        }
    }
}

#[tokio::test]
async fn another_companys_objects_are_not_found() {
    let w = world().await;
    let (p, d, i, n) = objects_of_b(&w).await;
    let documents_before = crate::audits(&w, "delete_document").await;
    for (method, path, body) in routes(&p, &d, &i, &n) {
        let response = w
            .call(method.clone(), &path, Some(&w.client_a), body.as_ref())
            .await;
        let names_b = [&p, &d, &i, &n].iter().any(|id| path.contains(id.as_str()));
        if names_b {
            response.error(404, "NOT_FOUND");
        } else if path.ends_with("/documents/upload") {
            // Not a form: refused before anything is read.
            response.error(415, "UNSUPPORTED_MEDIA_TYPE");
        } else if path.ends_with("/payments/new") {
            // B's invoice named in the body.
            assert!(!response.field_error("invoice_id").is_empty(), "{path}");
        } else {
            assert!(
                response.status < 300,
                "{method} {path}: {}",
                response.status
            );
        }
    }
    // Nothing of B changed.
    assert_eq!(crate::audits(&w, "delete_document").await, documents_before);
    w.get(&format!("/api/client/documents/{d}"), &w.client_b)
        .await
        .ok(200);
    let unread = w
        .get("/api/client/notifications?unread=true", &w.client_b)
        .await
        .ok(200);
    // The project's start and the invoice, both still unread.
    assert_eq!(unread.as_array().unwrap().len(), 2);
    // A's lists hold nothing of B.
    for path in [
        "/api/client/projects",
        "/api/client/documents",
        "/api/client/invoices",
        "/api/client/notifications",
    ] {
        let list = w.get(path, &w.client_a).await.ok(200);
        assert!(list.as_array().unwrap().is_empty(), "{path}: {list}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_by_name_on_every_route() {
    let w = world().await;
    let before = crate::audits(&w, "upload_document").await;
    // An id that is not a UUID.
    for (method, path) in [
        (Method::GET, "/api/client/projects/x"),
        (Method::POST, "/api/client/projects/x/comment"),
        (Method::GET, "/api/client/projects/x/files"),
        (Method::GET, "/api/client/projects/x/timeline"),
        (Method::PUT, "/api/client/projects/x/status"),
        (Method::GET, "/api/client/documents/x"),
        (Method::DELETE, "/api/client/documents/x"),
        (Method::GET, "/api/client/documents/x/preview"),
        (Method::GET, "/api/client/documents/x/download"),
        (Method::POST, "/api/client/documents/x/share"),
        (Method::GET, "/api/client/invoices/x"),
        (Method::GET, "/api/client/invoices/x/pdf"),
        (Method::PUT, "/api/client/notifications/x/read"),
    ] {
        let response = w
            .call(method.clone(), path, Some(&w.client_a), Some(&json!({})))
            .await;
        assert!(
            !response.field_error("id").is_empty(),
            "{method} {path}: {}",
            response.status
        );
    }
    // Paging out of range, and a parameter no list knows.
    for path in [
        "/api/client/projects",
        "/api/client/documents",
        "/api/client/invoices",
        "/api/client/payments",
        "/api/client/transactions",
        "/api/client/dashboard/activity",
        "/api/client/notifications",
        "/api/client/support/tickets",
    ] {
        let zero = w.get(&format!("{path}?limit=0"), &w.client_a).await;
        assert!(!zero.field_error("limit").is_empty(), "{path}");
        let page = w.get(&format!("{path}?page=-1"), &w.client_a).await;
        assert!(!page.field_error("page").is_empty(), "{path}");
    }
    for path in [
        "/api/client/projects?stat=1",
        "/api/client/documents?categorie=plan",
        "/api/client/invoices?paid=true",
        "/api/client/payments?amount=1",
        "/api/client/transactions?type=invoice",
        "/api/client/notifications?read=true",
        "/api/client/financial-summary?annee=2026",
    ] {
        let key = path.split('?').nth(1).unwrap().split('=').next().unwrap();
        let unknown = w.get(path, &w.client_a).await;
        assert!(!unknown.field_error(key).is_empty(), "{path}");
    }
    // Bodies that are not JSON, or not objects.
    let project = w
        .project(w.company_a(), "P", ProjectStatus::InProgress)
        .await;
    for path in [
        format!("/api/client/projects/{project}/comment"),
        "/api/client/payments/new".to_owned(),
        "/api/client/support/ticket".to_owned(),
    ] {
        let response = w
            .app
            .send(
                w.app
                    .authed(Method::POST, &path, &w.client_a.token)
                    .header("Content-Type", "application/json")
                    .body("{not json"),
            )
            .await;
        response.error(400, "BAD_REQUEST");
        let list = w.post(&path, &w.client_a, &json!([1, 2])).await;
        assert!(
            list.status == 400 || list.status == 422,
            "{path}: {}",
            list.status
        );
    }
    let status = w
        .put(
            &format!("/api/client/projects/{project}/status"),
            &w.client_a,
            &json!({ "status": "on_hold", "extra": 1 }),
        )
        .await;
    assert!(!status.field_error("extra").is_empty());
    // Nothing was written by any of it.
    assert_eq!(crate::audits(&w, "upload_document").await, before);
    assert_eq!(crate::audits(&w, "change_project_status").await, 1);
    assert_eq!(crate::audits(&w, "create_payment").await, 0);
    assert_eq!(crate::audits(&w, "add_project_comment").await, 0);
}
