use base64::Engine as _;
use chrono::{Duration, Utc};
use entity::{Role, user};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use test_support::{TestApp, spawn_app};
use uuid::Uuid;

use crate::{me, post_authed};

const SECRET: &str = "test-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz";

async fn refresh(app: &TestApp, token: &str) -> test_support::TestResponse {
    app.post_json(
        "/api/auth/refresh-token",
        &json!({ "refresh_token": token }),
    )
    .await
}

#[tokio::test]
async fn refreshing_rotates_the_tokens() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let data = refresh(&app, &user.refresh_token).await.ok(200);
    let new_refresh = data["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, user.refresh_token);
    me(&app, data["token"].as_str().unwrap()).await.ok(200);
    // The new one works in turn.
    refresh(&app, new_refresh).await.ok(200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_whole_family() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let rotated = refresh(&app, &user.refresh_token).await.ok(200);
    // A thief replays the old token.
    refresh(&app, &user.refresh_token)
        .await
        .error(401, "UNAUTHENTICATED");
    // Everything of that session is dead: the legitimate client's newest tokens too.
    refresh(&app, rotated["refresh_token"].as_str().unwrap())
        .await
        .error(401, "UNAUTHENTICATED");
    me(&app, rotated["token"].as_str().unwrap())
        .await
        .error(401, "UNAUTHENTICATED");
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "refresh_token_reuse").await,
        1
    );
}

#[tokio::test]
async fn concurrent_refreshes_cannot_fork_a_family() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let results =
        futures_util::future::join_all((0..10).map(|_| refresh(&app, &user.refresh_token))).await;
    let winners: Vec<&test_support::TestResponse> =
        results.iter().filter(|r| r.status == 200).collect();
    assert!(winners.len() <= 1, "{} refreshes succeeded", winners.len());
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
    // Whatever the interleaving, no second live chain exists afterwards.
    for winner in winners {
        let token = winner.json()["data"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        refresh(&app, &token).await.error(401, "UNAUTHENTICATED");
    }
}

fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_and_stale_access_tokens_are_all_401() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let good = claims_of(&user.token);
    me(&app, &sign(&good, Algorithm::HS256, SECRET))
        .await
        .ok(200);

    let now = Utc::now();
    let mut forged: Vec<(&str, String)> = vec![
        (
            "bad signature",
            sign(
                &good,
                Algorithm::HS256,
                "another-secret-of-32-bytes-or-more!",
            ),
        ),
        ("alg changed", sign(&good, Algorithm::HS512, SECRET)),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(good.to_string());
    forged.push(("alg none", format!("{header}.{body}.")));
    for (what, field, value) in [
        (
            "exp as string",
            "exp",
            json!((now + Duration::minutes(10)).timestamp().to_string()),
        ),
        (
            "expired",
            "exp",
            json!((now - Duration::minutes(1)).timestamp()),
        ),
        ("wrong aud", "aud", json!("another-api")),
        ("wrong iss", "iss", json!("someone-else")),
        ("promoted role", "role", json!("superadmin")),
        ("unknown session", "sid", json!(Uuid::now_v7())),
        ("unknown user", "sub", json!(Uuid::now_v7())),
    ] {
        let mut claims = good.clone();
        claims[field] = value;
        if what == "expired" {
            claims["iat"] = json!((now - Duration::minutes(16)).timestamp());
            claims["nbf"] = claims["iat"].clone();
        }
        forged.push((what, sign(&claims, Algorithm::HS256, SECRET)));
    }
    for (what, token) in forged {
        let res = me(&app, &token).await;
        assert_eq!(res.status, 401, "{what}: {:?}", res.body);
        res.error(401, "UNAUTHENTICATED");
        assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    }
    // Not a bearer token at all.
    let res = app
        .send(
            app.request(Method::GET, "/api/auth/me")
                .header("Authorization", "Basic dXNlcjpwYXNz"),
        )
        .await;
    res.error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_token_of_a_deactivated_or_deleted_user_is_refused() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    me(&app, &user.token).await.ok(200);
    let account = user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: user::ActiveModel = account.clone().into();
    active.is_active = Set(false);
    active.update(&app.db).await.unwrap();
    me(&app, &user.token).await.error(401, "UNAUTHENTICATED");

    let other = app.login_as(Role::Client).await;
    user::Entity::delete_by_id(other.id)
        .exec(&app.db)
        .await
        .unwrap();
    me(&app, &other.token).await.error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn anonymous_calls_to_account_routes_are_401() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/auth/me"),
        (Method::GET, "/api/auth/permissions"),
        (Method::GET, "/api/auth/check-session"),
        (Method::GET, "/api/auth/sessions"),
        (Method::GET, "/api/auth/tokens"),
        (Method::POST, "/api/auth/logout"),
        (Method::POST, "/api/auth/logout-all"),
        (Method::POST, "/api/auth/setup-2fa"),
        (Method::PUT, "/api/auth/profile"),
        (Method::PUT, "/api/auth/update-profile"),
        (Method::PUT, "/api/auth/update-api-keys"),
        (Method::POST, "/api/auth/change-password"),
        (Method::POST, "/api/auth/disable-2fa"),
        (Method::POST, "/api/auth/recovery-codes"),
        (Method::POST, "/api/auth/tokens"),
        (
            Method::DELETE,
            "/api/auth/tokens/0193a9f0-0000-7000-8000-000000000000",
        ),
        (
            Method::DELETE,
            "/api/auth/sessions/0193a9f0-0000-7000-8000-000000000000",
        ),
    ] {
        let res = app
            .send(app.request(method.clone(), path).json(&json!({})))
            .await;
        assert_eq!(res.status, 401, "{method} {path}: {:?}", res.body);
        res.error(401, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn logout_kills_the_access_token_and_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Revendeur).await;
    let data = post_authed(&app, "/api/auth/logout", &user.token, &json!({}))
        .await
        .ok(200);
    assert_eq!(data["sessions_revoked"], 1);
    me(&app, &user.token).await.error(401, "UNAUTHENTICATED");
    refresh(&app, &user.refresh_token)
        .await
        .error(401, "UNAUTHENTICATED");
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "logout").await,
        1
    );
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    let app = spawn_app().await;
    let first = app.login_as(Role::Client).await;
    let second = app.login(&first.email, &first.password).await.ok(200);
    let second_token = second["token"].as_str().unwrap();
    let data = post_authed(&app, "/api/auth/logout-all", &first.token, &json!({}))
        .await
        .ok(200);
    assert_eq!(data["sessions_revoked"], 2);
    me(&app, &first.token).await.error(401, "UNAUTHENTICATED");
    me(&app, second_token).await.error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_session_list_marks_the_current_one_and_others_can_be_ended() {
    let app = spawn_app().await;
    let laptop = app.login_as(Role::Client).await;
    let phone = app.login(&laptop.email, &laptop.password).await.ok(200);
    let phone_token = phone["token"].as_str().unwrap();

    let sessions = app
        .send(app.authed(Method::GET, "/api/auth/sessions", &laptop.token))
        .await
        .ok(200);
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let other_id = other["id"].as_str().unwrap();

    // Another account cannot see or end it.
    let stranger = app.login_as(Role::Client).await;
    app.send(app.authed(
        Method::DELETE,
        &format!("/api/auth/sessions/{other_id}"),
        &stranger.token,
    ))
    .await
    .error(404, "NOT_FOUND");
    me(&app, phone_token).await.ok(200);

    app.send(app.authed(
        Method::DELETE,
        &format!("/api/auth/sessions/{other_id}"),
        &laptop.token,
    ))
    .await
    .ok(200);
    me(&app, phone_token).await.error(401, "UNAUTHENTICATED");
    me(&app, &laptop.token).await.ok(200);
    app.send(app.authed(
        Method::DELETE,
        "/api/auth/sessions/not-a-uuid",
        &laptop.token,
    ))
    .await
    .field_error("id");
}

#[tokio::test]
async fn check_session_reports_the_time_left() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Superadmin).await;
    let data = app
        .send(app.authed(Method::GET, "/api/auth/check-session", &user.token))
        .await
        .ok(200);
    assert_eq!(data["valid"], true);
    assert_eq!(data["role"], "superadmin");
    let left = data["expires_in"].as_i64().unwrap();
    assert!((850..=900).contains(&left), "{left}");
}

#[tokio::test]
async fn refresh_input_is_validated() {
    let app = spawn_app().await;
    app.post_json("/api/auth/refresh-token", &json!({}))
        .await
        .field_error("refresh_token");
    refresh(&app, "an-unknown-refresh-token-value")
        .await
        .error(401, "UNAUTHENTICATED");
}
