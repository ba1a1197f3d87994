use chrono::{Duration, Utc};
use entity::{Role, auth_token, outbox_email};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use test_support::{
    TestOptions, USER_PASSWORD, smtp_sink::SmtpSink, spawn_app, spawn_app_with, token_in,
};

use crate::{me, post_authed};

const NEW_PASSWORD: &str = "Another-Long-Passphrase-77";

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link_once() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    test_support::remember_secret(NEW_PASSWORD);
    app.post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await
        .ok(202);
    let mail = app.last_mail(&user.email, "reset_password").await;
    assert!(
        mail.body_text
            .contains("https://app.presta.test/reset-password?token=")
    );
    let token = token_in(&mail.body_text);

    let data = app
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await
        .ok(200);
    assert_eq!(data["password_changed"], true);
    assert_eq!(data["sessions_revoked"], 1);
    me(&app, &user.token).await.error(401, "UNAUTHENTICATED");
    app.login(&user.email, USER_PASSWORD)
        .await
        .error(401, "UNAUTHENTICATED");
    app.login(&user.email, NEW_PASSWORD).await.ok(200);
    // Single use.
    app.post_json(
        "/api/auth/reset-password",
        &json!({ "token": token, "password": "Yet-Another-Phrase-88" }),
    )
    .await
    .field_error("token");
    app.last_mail(&user.email, "password_changed").await;
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "password_reset").await,
        1
    );
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_unknown_addresses() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let known = app
        .post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await;
    let unknown = app
        .post_json(
            "/api/auth/forgot-password",
            &json!({ "email": "nobody@example.test" }),
        )
        .await;
    assert_eq!(known.status, 202);
    assert_eq!(known.json()["data"], unknown.json()["data"]);
    // Both did the same work (one job each); only the real account got mail.
    let jobs = entity::job::Entity::find()
        .filter(entity::job::Column::Kind.eq("auth.reset_password_mail"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    app.wait_for_jobs().await;
    assert!(app.outbox("nobody@example.test").await.is_empty());
    app.last_mail(&user.email, "reset_password").await;
    app.post_json("/api/auth/forgot-password", &json!({ "email": "nope" }))
        .await
        .field_error("email");
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    app.post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await
        .ok(202);
    let token = token_in(&app.last_mail(&user.email, "reset_password").await.body_text);
    let row = auth_token::Entity::find()
        .filter(auth_token::Column::UserId.eq(user.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!((row.expires_at - row.created_at) == Duration::minutes(60));
    auth_token::Entity::update_many()
        .col_expr(
            auth_token::Column::ExpiresAt,
            (Utc::now() - Duration::seconds(1)).into(),
        )
        .filter(auth_token::Column::Id.eq(row.id))
        .exec(&app.db)
        .await
        .unwrap();
    app.post_json(
        "/api/auth/reset-password",
        &json!({ "token": token, "password": NEW_PASSWORD }),
    )
    .await
    .field_error("token");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_returns_fresh_tokens() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Revendeur).await;
    let other = app.login(&user.email, &user.password).await.ok(200);
    test_support::remember_secret(NEW_PASSWORD);

    post_authed(
        &app,
        "/api/auth/change-password",
        &user.token,
        &json!({ "current_password": "wrong-password-1", "new_password": NEW_PASSWORD }),
    )
    .await
    .field_error("current_password");
    post_authed(
        &app,
        "/api/auth/change-password",
        &user.token,
        &json!({ "current_password": USER_PASSWORD, "new_password": "short" }),
    )
    .await
    .field_error("new_password");

    let data = post_authed(
        &app,
        "/api/auth/change-password",
        &user.token,
        &json!({ "current_password": USER_PASSWORD, "new_password": NEW_PASSWORD }),
    )
    .await
    .ok(200);
    me(&app, other["token"].as_str().unwrap())
        .await
        .error(401, "UNAUTHENTICATED");
    me(&app, &user.token).await.error(401, "UNAUTHENTICATED");
    me(&app, data["token"].as_str().unwrap()).await.ok(200);
    app.login(&user.email, NEW_PASSWORD).await.ok(200);
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "password_changed").await,
        1
    );
}

#[tokio::test]
async fn mail_goes_out_over_smtp_when_a_server_is_configured() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(
        TestOptions::default()
            .env("SMTP_URL", &sink.url())
            .env("MAIL_FROM", "Presta <no-reply@presta.test>"),
    )
    .await;
    let user = app.login_as(Role::Client).await;
    app.post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await
        .ok(202);
    let message = sink.wait_for("reset-password?token=").await;
    assert!(
        message.contains(&format!("To: {}", user.email)),
        "{message}"
    );
    assert!(
        message.contains("From: Presta <no-reply@presta.test>"),
        "{message}"
    );
    let token = token_in(&test_support::smtp_sink::decode_quoted_printable(&message));
    test_support::remember_secret(NEW_PASSWORD);
    app.post_json(
        "/api/auth/reset-password",
        &json!({ "token": token, "password": NEW_PASSWORD }),
    )
    .await
    .ok(200);
    // The outbox row records the delivery, without the now-spent link.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sent = outbox_email::Entity::find()
            .filter(outbox_email::Column::Template.eq("reset_password"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if sent.status == "sent" {
            assert!(sent.sent_at.is_some());
            assert!(!sent.body_text.contains("token="), "{}", sent.body_text);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never marked sent: {sent:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn without_smtp_mail_stays_in_the_outbox_marked_logged() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    app.post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await
        .ok(202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mail = app.last_mail(&user.email, "reset_password").await;
        if mail.status == "logged" {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
