use chrono::{Duration, Utc};
use entity::{Role, api_token};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use test_support::spawn_app;

use crate::{me, post_authed};

#[tokio::test]
async fn a_personal_access_token_acts_as_its_owner_until_revoked() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Superadmin).await;
    let created = post_authed(
        &app,
        "/api/auth/tokens",
        &admin.token,
        &json!({ "name": "nightly export", "expires_in_days": 30, "password": admin.password }),
    )
    .await
    .ok(201);
    let secret = created["token"].as_str().unwrap().to_owned();
    test_support::remember_secret(&secret);
    assert!(secret.starts_with("presta_pat_"));
    assert!(secret.starts_with(created["token_prefix"].as_str().unwrap()));
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    assert!(
        (expires.with_timezone(&Utc) - Utc::now() - Duration::days(30))
            .num_seconds()
            .abs()
            < 60
    );

    // Works as a bearer token, with the owner's role.
    let data = me(&app, &secret).await.ok(200);
    assert_eq!(data["role"], "superadmin");
    let check = app
        .send(app.authed(Method::GET, "/api/auth/check-session", &secret))
        .await
        .ok(200);
    assert_eq!(check["session_id"], serde_json::Value::Null);

    // Listed without its secret, with its last use.
    let list = app
        .send(app.authed(Method::GET, "/api/auth/tokens", &admin.token))
        .await
        .ok(200);
    let listed = &list.as_array().unwrap()[0];
    assert!(listed.get("token").is_none());
    assert!(listed["last_used_at"].is_string());
    let stored = api_token::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.token_hash, secret);

    // A token has no session to log out of.
    post_authed(&app, "/api/auth/logout", &secret, &json!({}))
        .await
        .error(409, "CONFLICT");

    let id = created["id"].as_str().unwrap();
    let revoked = app
        .send(app.authed(
            Method::DELETE,
            &format!("/api/auth/tokens/{id}"),
            &admin.token,
        ))
        .await
        .ok(200);
    assert!(revoked["revoked_at"].is_string());
    me(&app, &secret).await.error(401, "UNAUTHENTICATED");
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "create_token").await,
        1
    );
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "revoke_token").await,
        1
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let created = post_authed(
        &app,
        "/api/auth/tokens",
        &user.token,
        &json!({ "name": "short-lived", "expires_in_days": 1, "password": user.password }),
    )
    .await
    .ok(201);
    let secret = created["token"].as_str().unwrap().to_owned();
    test_support::remember_secret(&secret);
    me(&app, &secret).await.ok(200);
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            (Utc::now() - Duration::seconds(1)).into(),
        )
        .filter(api_token::Column::UserId.eq(user.id))
        .exec(&app.db)
        .await
        .unwrap();
    me(&app, &secret).await.error(401, "UNAUTHENTICATED");
    me(&app, "presta_pat_madeUpTokenThatDoesNotExist123456")
        .await
        .error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn tokens_are_private_to_their_owner_and_validated() {
    let app = spawn_app().await;
    let owner = app.login_as(Role::Prestataire).await;
    let other = app.login_as(Role::Prestataire).await;
    let created = post_authed(
        &app,
        "/api/auth/tokens",
        &owner.token,
        &json!({ "name": "mine", "expires_in_days": 7, "password": owner.password }),
    )
    .await
    .ok(201);
    let id = created["id"].as_str().unwrap();
    test_support::remember_secret(created["token"].as_str().unwrap());
    app.send(app.authed(
        Method::DELETE,
        &format!("/api/auth/tokens/{id}"),
        &other.token,
    ))
    .await
    .error(404, "NOT_FOUND");
    let list = app
        .send(app.authed(Method::GET, "/api/auth/tokens", &other.token))
        .await
        .ok(200);
    assert!(list.as_array().unwrap().is_empty());
    post_authed(
        &app,
        "/api/auth/tokens",
        &owner.token,
        &json!({ "name": "x", "expires_in_days": 400, "password": owner.password }),
    )
    .await
    .field_error("expires_in_days");
    post_authed(
        &app,
        "/api/auth/tokens",
        &owner.token,
        &json!({ "name": "", "expires_in_days": 5, "password": owner.password }),
    )
    .await
    .field_error("name");
}

async fn mint(app: &test_support::TestApp, user: &test_support::TestUser) -> String {
    let created = post_authed(
        app,
        "/api/auth/tokens",
        &user.token,
        &json!({ "name": "script", "expires_in_days": 30, "password": user.password }),
    )
    .await
    .ok(201);
    let secret = created["token"].as_str().unwrap().to_owned();
    test_support::remember_secret(&secret);
    secret
}

#[tokio::test]
async fn minting_a_token_needs_the_password_and_a_session() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    post_authed(
        &app,
        "/api/auth/tokens",
        &user.token,
        &json!({ "name": "x", "expires_in_days": 5, "password": "Wrong-Password-123" }),
    )
    .await
    .field_error("password");
    let pat = mint(&app, &user).await;
    // A token cannot mint tokens, nor touch passwords or 2FA.
    for (path, body) in [
        (
            "/api/auth/tokens",
            json!({ "name": "y", "expires_in_days": 5, "password": user.password }),
        ),
        (
            "/api/auth/change-password",
            json!({ "current_password": user.password, "new_password": "Another-Long-Passphrase-77" }),
        ),
        ("/api/auth/setup-2fa", json!({ "password": user.password })),
        (
            "/api/auth/disable-2fa",
            json!({ "password": user.password, "code": "123456" }),
        ),
        ("/api/auth/recovery-codes", json!({ "code": "123456" })),
    ] {
        post_authed(&app, path, &pat, &body)
            .await
            .error(403, "FORBIDDEN");
    }
}

#[tokio::test]
async fn password_changes_resets_and_logout_all_revoke_every_token() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let first = mint(&app, &user).await;
    post_authed(&app, "/api/auth/logout-all", &user.token, &json!({}))
        .await
        .ok(200);
    me(&app, &first).await.error(401, "UNAUTHENTICATED");

    let fresh = app.login(&user.email, &user.password).await.ok(200);
    let token = fresh["token"].as_str().unwrap().to_owned();
    let user = test_support::TestUser { token, ..user };
    let second = mint(&app, &user).await;
    app.post_json("/api/auth/forgot-password", &json!({ "email": user.email }))
        .await
        .ok(202);
    let link =
        test_support::token_in(&app.last_mail(&user.email, "reset_password").await.body_text);
    test_support::remember_secret("Another-Long-Passphrase-77");
    app.post_json(
        "/api/auth/reset-password",
        &json!({ "token": link, "password": "Another-Long-Passphrase-77" }),
    )
    .await
    .ok(200);
    me(&app, &second).await.error(401, "UNAUTHENTICATED");
}
