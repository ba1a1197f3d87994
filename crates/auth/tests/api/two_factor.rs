use chrono::{Duration, Utc};
use entity::{Role, user};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use test_support::{TestApp, TestUser, USER_PASSWORD, spawn_app};

use crate::{me, post_authed};

/// A code valid now for this secret, from the step after `offset_steps` steps. (Six digits are
/// too short to search the logs for; the secret they come from is recorded instead.)
fn code(secret: &str, offset_steps: i64) -> String {
    auth::two_factor::current_code(secret, Utc::now() + Duration::seconds(30 * offset_steps))
        .unwrap()
}

/// Turn 2FA on for `user`; returns (secret, recovery codes).
async fn enable(app: &TestApp, user: &TestUser) -> (String, Vec<String>) {
    let setup = post_authed(
        app,
        "/api/auth/setup-2fa",
        &user.token,
        &json!({ "password": USER_PASSWORD }),
    )
    .await
    .ok(200);
    let secret = setup["secret"].as_str().unwrap().to_owned();
    test_support::remember_secret(&secret);
    assert!(
        setup["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Presta:")
    );
    assert!(
        setup["qr_code"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    let data = post_authed(
        app,
        "/api/auth/verify-2fa",
        &user.token,
        &json!({ "code": code(&secret, 0) }),
    )
    .await
    .ok(200);
    assert_eq!(data["two_factor_enabled"], true);
    let codes: Vec<String> = data["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    for c in &codes {
        test_support::remember_secret(c);
    }
    (secret, codes)
}

async fn challenge(app: &TestApp, user: &TestUser) -> String {
    let res = app.login(&user.email, USER_PASSWORD).await;
    let error = res.error(401, "TWO_FACTOR_REQUIRED");
    assert_eq!(error["details"]["expires_in"], 300);
    let token = error["details"]["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    test_support::remember_secret(&token);
    token
}

async fn verify(app: &TestApp, body: Value) -> test_support::TestResponse {
    app.post_json("/api/auth/verify-2fa", &body).await
}

#[tokio::test]
async fn with_2fa_on_login_needs_the_second_factor() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (secret, _) = enable(&app, &user).await;
    assert_eq!(
        me(&app, &user.token).await.ok(200)["two_factor_enabled"],
        true
    );
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "two_factor_enabled").await,
        1
    );

    let challenge = challenge(&app, &user).await;
    let data = verify(
        &app,
        json!({ "challenge_token": challenge, "code": code(&secret, 1) }),
    )
    .await
    .ok(200);
    me(&app, data["token"].as_str().unwrap()).await.ok(200);
    // A challenge is spent by its login.
    verify(
        &app,
        json!({ "challenge_token": challenge, "code": code(&secret, 1) }),
    )
    .await
    .error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn one_code_used_twenty_times_in_parallel_succeeds_once() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let (secret, _) = enable(&app, &user).await;
    let mut challenges = Vec::new();
    for _ in 0..20 {
        challenges.push(challenge(&app, &user).await);
    }
    let next = code(&secret, 1);
    let results = futures_util::future::join_all(
        challenges
            .iter()
            .map(|c| verify(&app, json!({ "challenge_token": c, "code": next }))),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (_, codes) = enable(&app, &user).await;
    let first = challenge(&app, &user).await;
    verify(
        &app,
        json!({ "challenge_token": first, "recovery_code": codes[0].to_lowercase() }),
    )
    .await
    .ok(200);
    let second = challenge(&app, &user).await;
    verify(
        &app,
        json!({ "challenge_token": second, "recovery_code": codes[0] }),
    )
    .await
    .error(401, "UNAUTHENTICATED");
    verify(
        &app,
        json!({ "challenge_token": second, "recovery_code": codes[1] }),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn five_wrong_codes_kill_a_challenge() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (secret, _) = enable(&app, &user).await;
    let challenge = challenge(&app, &user).await;
    for _ in 0..5 {
        verify(
            &app,
            json!({ "challenge_token": challenge, "code": "000000" }),
        )
        .await
        .error(401, "UNAUTHENTICATED");
    }
    verify(
        &app,
        json!({ "challenge_token": challenge, "code": code(&secret, 1) }),
    )
    .await
    .error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn ten_wrong_codes_in_a_day_lock_2fa_and_tell_the_owner() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Revendeur).await;
    let (secret, _) = enable(&app, &user).await;
    for _ in 0..2 {
        let challenge = challenge(&app, &user).await;
        for _ in 0..5 {
            verify(
                &app,
                json!({ "challenge_token": challenge, "code": "999999" }),
            )
            .await
            .assert_status(401);
        }
    }
    let account = user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(account.totp_locked_until.unwrap() > Utc::now() + Duration::hours(23));
    app.last_mail(&user.email, "two_factor_locked").await;
    // Locked: even password + a good code does not get in.
    let res = app.login(&user.email, USER_PASSWORD).await;
    res.error(401, "UNAUTHENTICATED");
    assert_eq!(res.json()["error"]["message"], "Invalid email or password");
    let _ = secret;
}

#[tokio::test]
async fn disabling_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (secret, _) = enable(&app, &user).await;
    post_authed(
        &app,
        "/api/auth/disable-2fa",
        &user.token,
        &json!({ "password": "Wrong-Password-123", "code": code(&secret, 1) }),
    )
    .await
    .field_error("password");
    post_authed(
        &app,
        "/api/auth/disable-2fa",
        &user.token,
        &json!({ "password": USER_PASSWORD, "code": "000000" }),
    )
    .await
    .field_error("code");
    let data = post_authed(
        &app,
        "/api/auth/disable-2fa",
        &user.token,
        &json!({ "password": USER_PASSWORD, "code": code(&secret, 1) }),
    )
    .await
    .ok(200);
    assert_eq!(data["two_factor_enabled"], false);
    app.login(&user.email, USER_PASSWORD).await.ok(200);
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "two_factor_disabled").await,
        1
    );
}

#[tokio::test]
async fn regenerated_recovery_codes_replace_the_old_ones() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (secret, old) = enable(&app, &user).await;
    let data = post_authed(
        &app,
        "/api/auth/recovery-codes",
        &user.token,
        &json!({ "code": code(&secret, 1) }),
    )
    .await
    .ok(200);
    let new: Vec<String> = data["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    for c in &new {
        test_support::remember_secret(c);
    }
    let challenge = challenge(&app, &user).await;
    verify(
        &app,
        json!({ "challenge_token": challenge, "recovery_code": old[0] }),
    )
    .await
    .assert_status(401);
    verify(
        &app,
        json!({ "challenge_token": challenge, "recovery_code": new[0] }),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn setting_up_twice_or_verifying_without_setup_is_refused() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    post_authed(
        &app,
        "/api/auth/verify-2fa",
        &user.token,
        &json!({ "code": "123456" }),
    )
    .await
    .error(409, "CONFLICT");
    // Setting up needs the password.
    post_authed(
        &app,
        "/api/auth/setup-2fa",
        &user.token,
        &json!({ "password": "Wrong-Password-123" }),
    )
    .await
    .field_error("password");
    enable(&app, &user).await;
    post_authed(
        &app,
        "/api/auth/setup-2fa",
        &user.token,
        &json!({ "password": USER_PASSWORD }),
    )
    .await
    .error(409, "CONFLICT");
    // Anonymous without a challenge: the field is named.
    verify(&app, json!({ "code": "123456" }))
        .await
        .field_error("challenge_token");
    app.send(
        app.authed(Method::POST, "/api/auth/verify-2fa", &user.token)
            .json(&json!({ "code": 123456 })),
    )
    .await
    .field_error("code");
}

#[tokio::test]
async fn parallel_wrong_codes_on_one_challenge_each_count() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    let (secret, _) = enable(&app, &user).await;
    let challenge = challenge(&app, &user).await;
    let results = futures_util::future::join_all((0..12).map(|i| {
        verify(
            &app,
            json!({ "challenge_token": challenge, "code": format!("{:06}", 100_000 + i) }),
        )
    }))
    .await;
    assert!(results.iter().all(|r| r.status == 401));
    // The challenge allowed five checks at most; the others were refused unchecked.
    let row = entity::two_factor_challenge::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.failed_attempts, 5);
    let account = user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account.totp_failed_count, 5,
        "each checked code counted once"
    );
    verify(
        &app,
        json!({ "challenge_token": challenge, "code": code(&secret, 1) }),
    )
    .await
    .error(401, "UNAUTHENTICATED");
}
