use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{Role, user};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;
use test_support::{USER_PASSWORD, spawn_app};

use crate::me;

#[tokio::test]
async fn a_verified_user_signs_in_and_gets_tokens_and_its_profile() {
    let app = spawn_app().await;
    app.create_account(Role::Client, "marie@example.test", Some("BTP Durand"))
        .await;
    let data = app
        .login("Marie@Example.test ", USER_PASSWORD)
        .await
        .ok(200);
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 900);
    assert!(data["refresh_token"].as_str().unwrap().len() >= 40);
    assert_eq!(data["user"]["email"], "marie@example.test");
    assert_eq!(data["user"]["role"], "client");
    assert_eq!(data["user"]["company_name"], "BTP Durand");
    assert_eq!(data["user"]["two_factor_enabled"], false);
    let me = me(&app, data["token"].as_str().unwrap()).await.ok(200);
    assert_eq!(me["email"], "marie@example.test");
    assert!(me["last_login_at"].is_string());
    let rows = test_support::fixtures::count_events(&app.db, "login").await;
    assert_eq!(rows, 1, "login is audited");
}

fn without_timestamp(mut body: serde_json::Value) -> serde_json::Value {
    body.as_object_mut().unwrap().remove("timestamp");
    body
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_are_indistinguishable() {
    let app = spawn_app().await;
    app.create_account(Role::Prestataire, "known@example.test", None)
        .await;
    let unknown = app.login("nobody@example.test", USER_PASSWORD).await;
    let wrong = app.login("known@example.test", "Wrong-Password-123").await;
    unknown.error(401, "UNAUTHENTICATED");
    assert_eq!(
        without_timestamp(unknown.json()),
        without_timestamp(wrong.json())
    );
    assert_eq!(
        unknown.header("www-authenticate"),
        wrong.header("www-authenticate")
    );

    // Both run one Argon2 verification: their times are of the same order. Compared by their
    // fastest of several tries: a busy machine (other tests' commits waiting on the disk) only
    // ever adds time, and a missing verification would still be many times faster.
    let mut unknown_ms = Vec::new();
    let mut wrong_ms = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        app.login("nobody@example.test", "Wrong-Password-123")
            .await
            .assert_status(401);
        unknown_ms.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        app.login("known@example.test", "Wrong-Password-456")
            .await
            .assert_status(401);
        wrong_ms.push(started.elapsed().as_secs_f64());
    }
    let fastest = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (u, w) = (fastest(&unknown_ms), fastest(&wrong_ms));
    assert!(
        u / w > 0.5 && u / w < 2.0,
        "unknown {u:.4}s vs wrong {w:.4}s"
    );
}

#[tokio::test]
async fn bad_login_input_is_named() {
    let app = spawn_app().await;
    app.post_json("/api/auth/login", &json!({ "password": "x" }))
        .await
        .field_error("email");
    app.post_json(
        "/api/auth/login",
        &json!({ "email": "a@b.fr", "password": "x", "remember": true }),
    )
    .await
    .field_error("remember");
    app.send(
        app.request(Method::POST, "/api/auth/login")
            .header("Content-Type", "application/json")
            .body("{\"email\":"),
    )
    .await
    .error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn an_unverified_account_gets_the_generic_answer_and_a_new_verification_mail() {
    let app = spawn_app().await;
    let account = app
        .create_account(Role::Client, "late@example.test", None)
        .await;
    let mut active: user::ActiveModel = account.into();
    active.email_verified_at = Set(None);
    active.update(&app.db).await.unwrap();

    let res = app.login("late@example.test", USER_PASSWORD).await;
    res.error(401, "UNAUTHENTICATED");
    assert_eq!(res.json()["error"]["message"], "Invalid email or password");
    app.last_mail("late@example.test", "verify_email").await;
    // Re-sends are rate limited.
    app.login("late@example.test", USER_PASSWORD)
        .await
        .assert_status(401);
    let mails = app.outbox("late@example.test").await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.template == "verify_email")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in() {
    let app = spawn_app().await;
    let account = app
        .create_account(Role::Revendeur, "off@example.test", None)
        .await;
    let mut active: user::ActiveModel = account.into();
    active.is_active = Set(false);
    active.update(&app.db).await.unwrap();
    let res = app.login("off@example.test", USER_PASSWORD).await;
    assert_eq!(res.json()["error"]["message"], "Invalid email or password");
}

#[tokio::test]
async fn ten_failures_lock_the_account_for_a_growing_wait_then_it_unlocks() {
    let app = spawn_app().await;
    let account = app
        .create_account(Role::Client, "target@example.test", None)
        .await;
    for attempt in 1..=10 {
        app.login("target@example.test", &format!("Guess-Number-{attempt:03}"))
            .await
            .error(401, "UNAUTHENTICATED");
    }
    let locked = user::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(locked.failed_login_count, 10);
    let wait = locked.locked_until.unwrap() - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(50) && wait <= chrono::Duration::seconds(60),
        "{wait}"
    );

    // Locked: even the right password gets the generic answer, and the wait grows.
    let res = app.login("target@example.test", USER_PASSWORD).await;
    assert_eq!(res.json()["error"]["message"], "Invalid email or password");
    let longer = user::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let wait = longer.locked_until.unwrap() - Utc::now();
    assert!(wait > chrono::Duration::seconds(110), "{wait}");
    for _ in 0..20 {
        app.login("target@example.test", "Guess-Again-0000")
            .await
            .assert_status(401);
    }
    let capped = user::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let wait = capped.locked_until.unwrap() - Utc::now();
    assert!(
        wait <= chrono::Duration::minutes(15),
        "at most 15 minutes: {wait}"
    );

    // The owner is told once.
    let mails = app.outbox("target@example.test").await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.template == "account_locked")
            .count(),
        1
    );

    // Time passes (the lock is moved into the past): the right password works again.
    let mut active: user::ActiveModel = capped.into();
    active.locked_until = Set(Some(Utc::now() - chrono::Duration::seconds(1)));
    active.update(&app.db).await.unwrap();
    app.login("target@example.test", USER_PASSWORD)
        .await
        .ok(200);
    let reset = user::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reset.failed_login_count, 0);
    assert!(reset.locked_until.is_none());
    assert!(test_support::fixtures::count_events(&app.db, "login_failed").await >= 31);
}

#[tokio::test]
async fn a_login_storm_is_rate_limited_per_ip() {
    let app = test_support::spawn_app_with(
        test_support::TestOptions::default().env("RATE_LIMIT_AUTH", "10/min,burst=3"),
    )
    .await;
    let started = Instant::now();
    for _ in 0..3 {
        app.login("storm@example.test", "Wrong-Password-123")
            .await
            .assert_status(401);
    }
    let res = app.login("storm@example.test", "Wrong-Password-123").await;
    res.error(429, "RATE_LIMITED");
    assert!(res.header("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_counts_every_guess() {
    let app = spawn_app().await;
    let account = app
        .create_account(Role::Client, "burst@example.test", None)
        .await;
    let guesses: Vec<String> = (0..12).map(|i| format!("Parallel-Guess-{i:04}")).collect();
    let results = futures_util::future::join_all(
        guesses
            .iter()
            .map(|guess| app.login("burst@example.test", guess)),
    )
    .await;
    assert!(results.iter().all(|r| r.status == 401));
    let after = user::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.failed_login_count, 12);
    assert!(after.locked_until.unwrap() > Utc::now());
    // Locked now: the right password is refused unchecked.
    app.login("burst@example.test", USER_PASSWORD)
        .await
        .assert_status(401);
}

#[tokio::test]
async fn an_unknown_address_is_audited_by_hash_only() {
    let app = spawn_app().await;
    app.login("typed-my-password-here@example.test", "whatever-123")
        .await
        .assert_status(401);
    let rows = test_support::fixtures::events(&app.db).await;
    let failed = rows.iter().find(|r| r.action == "login_failed").unwrap();
    let text = failed.after.as_ref().unwrap().to_string();
    assert!(!text.contains("typed-my-password-here"), "{text}");
    assert!(text.contains("email_sha256"));
}

/// A hash made with older parameters (m = 19 MiB, t = 2) signs in and is replaced by one of the
/// current parameters; a wrong password leaves it alone, and a hash changed meanwhile is kept.
#[tokio::test]
async fn a_hash_of_older_parameters_is_replaced_at_the_next_login() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
    let app = spawn_app().await;
    let account = app
        .create_account(Role::Client, "ancien@example.test", None)
        .await;
    let older = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).unwrap(),
    )
    .hash_password(USER_PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    // The account with the older hash, active or not.
    let store = |is_active: bool| {
        let mut active: user::ActiveModel = account.clone().into();
        active.password_hash = Set(older.clone());
        active.is_active = Set(is_active);
        active.update(&app.db)
    };
    store(true).await.unwrap();
    let stored = || async {
        user::Entity::find_by_id(account.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    };

    let res = app
        .login("ancien@example.test", "Not-the-password-42")
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(stored().await, older, "a wrong password changes nothing");

    // Refused accounts are not rehashed: their answer must take a wrong password's time.
    store(false).await.unwrap();
    let res = app.login("ancien@example.test", USER_PASSWORD).await;
    assert_eq!(res.status, 401);
    assert_eq!(stored().await, older, "an inactive account keeps its hash");
    store(true).await.unwrap();

    app.login("ancien@example.test", USER_PASSWORD)
        .await
        .ok(200);
    let upgraded = stored().await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{upgraded}"
    );
    app.login("ancien@example.test", USER_PASSWORD)
        .await
        .ok(200);
    assert_eq!(stored().await, upgraded, "a current hash is kept");

    // The rehash replaces only the hash it read: one changed meanwhile stays.
    assert!(
        !auth::users::upgrade_password_hash(&app.db, account.id, &older, "$argon2id$other")
            .await
            .unwrap()
    );
    assert_eq!(stored().await, upgraded);
}
