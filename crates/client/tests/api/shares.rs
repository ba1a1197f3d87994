//! Share links: public download until expiry, optional password, strict rate limit.

use reqwest::Method;
use serde_json::json;

use crate::documents::{file, upload};
use crate::{audits, world};

#[tokio::test]
async fn a_share_link_works_without_login_until_it_expires() {
    let w = world().await;
    let doc = upload(
        &w,
        &w.client_a,
        file("devis.txt", "text/plain", b"Devis signe".to_vec()),
    )
    .await
    .ok(201);
    let id = doc["id"].as_str().unwrap();
    let path = format!("/api/client/documents/{id}/share");
    assert!(
        !w.post(&path, &w.client_a, &json!({ "expires_in_hours": 0 }))
            .await
            .field_error("expires_in_hours")
            .is_empty()
    );
    assert!(
        !w.post(&path, &w.client_a, &json!({ "expires_in_hours": 721 }))
            .await
            .field_error("expires_in_hours")
            .is_empty()
    );
    assert!(
        !w.post(&path, &w.client_a, &json!({ "password": "short" }))
            .await
            .field_error("password")
            .is_empty()
    );
    let share = w
        .post(&path, &w.client_a, &json!({ "expires_in_hours": 2 }))
        .await
        .ok(201);
    assert_eq!(share["password_protected"], false);
    assert!(
        share["url"]
            .as_str()
            .unwrap()
            .ends_with(share["path"].as_str().unwrap())
    );
    let link = share["path"].as_str().unwrap().to_owned();
    let got = w.call(Method::GET, &link, None, None).await;
    got.assert_status(200);
    assert_eq!(got.body.as_ref(), b"Devis signe");
    w.app.advance_clock(chrono::Duration::hours(3)).await;
    w.call(Method::GET, &link, None, None)
        .await
        .error(404, "NOT_FOUND");
    // A made-up token.
    w.call(
        Method::GET,
        &format!("{}/{}", client::SHARE_PREFIX, "x".repeat(43)),
        None,
        None,
    )
    .await
    .error(404, "NOT_FOUND");
    assert_eq!(audits(&w, "share_document").await, 1);
}

#[tokio::test]
async fn a_password_protected_link_asks_for_it() {
    let w = world().await;
    let doc = upload(
        &w,
        &w.client_a,
        file("plan.txt", "text/plain", b"plan".to_vec()),
    )
    .await
    .ok(201);
    let share = w
        .post(
            &format!(
                "/api/client/documents/{}/share",
                doc["id"].as_str().unwrap()
            ),
            &w.client_a,
            &json!({ "password": "Chantier-2026" }),
        )
        .await
        .ok(201);
    assert_eq!(share["password_protected"], true);
    let link = share["path"].as_str().unwrap().to_owned();
    test_support::remember_secret("Chantier-2026");
    w.call(Method::GET, &link, None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    let wrong = w
        .app
        .send(
            w.app
                .request(Method::GET, &link)
                .header("X-Share-Password", "wrong-password"),
        )
        .await;
    wrong.error(401, "UNAUTHENTICATED");
    let right = w
        .app
        .send(
            w.app
                .request(Method::GET, &link)
                .header("X-Share-Password", "Chantier-2026"),
        )
        .await;
    right.assert_status(200);
    assert_eq!(right.body.as_ref(), b"plan");
    let posted = w
        .call(
            Method::POST,
            &link,
            None,
            Some(&json!({ "password": "Chantier-2026" })),
        )
        .await;
    posted.assert_status(200);
    let bad = w
        .call(Method::POST, &link, None, Some(&json!({ "password": "" })))
        .await;
    assert!(!bad.field_error("password").is_empty());
    // Deleting the document withdraws the link.
    w.call(
        Method::DELETE,
        &format!("/api/client/documents/{}", doc["id"].as_str().unwrap()),
        Some(&w.client_a),
        None,
    )
    .await
    .assert_status(204);
    let gone = w
        .app
        .send(
            w.app
                .request(Method::GET, &link)
                .header("X-Share-Password", "Chantier-2026"),
        )
        .await;
    gone.error(404, "NOT_FOUND");
}

#[tokio::test]
async fn share_links_spend_the_strict_budget() {
    let app = test_support::spawn_app_with(
        test_support::TestOptions::default().env("RATE_LIMIT_PUBLIC", "3/min,burst=3"),
    )
    .await;
    let link = format!("{}/{}", client::SHARE_PREFIX, "y".repeat(43));
    for _ in 0..3 {
        app.get(&link).await.error(404, "NOT_FOUND");
    }
    app.get(&link).await.error(429, "RATE_LIMITED");
    // Login keeps its own budget: opening shared files never locks an office out.
    let login = app
        .post_json(
            "/api/auth/login",
            &serde_json::json!({ "email": "nobody@example.test", "password": "Wrong-Password-1" }),
        )
        .await;
    login.error(401, "UNAUTHENTICATED");
    app.get("/health").await.assert_status(200);
}
