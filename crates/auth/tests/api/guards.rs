//! The role × portal matrix of the reusable guard (the portal crates mount the same guard).

use entity::Role;
use reqwest::Method;
use test_support::{TestOptions, spawn_app_with};

#[tokio::test]
async fn each_portal_admits_its_role_only() {
    let app = spawn_app_with(TestOptions::default().with_fixtures()).await;
    let portals = [
        ("client", Role::Client),
        ("prestataire", Role::Prestataire),
        ("revendeur", Role::Revendeur),
        ("superadmin", Role::Superadmin),
    ];
    let mut users = Vec::new();
    for role in Role::all() {
        users.push(app.login_as(role).await);
    }
    for (portal, portal_role) in portals {
        let path = format!("/test/portal/{portal}/whoami");
        // Anonymous: 401.
        app.send(app.request(Method::GET, &path))
            .await
            .error(401, "UNAUTHENTICATED");
        // A broken token: 401 too, never anonymous access.
        app.send(app.authed(Method::GET, &path, "not-a-token"))
            .await
            .error(401, "UNAUTHENTICATED");
        for user in &users {
            let res = app.send(app.authed(Method::GET, &path, &user.token)).await;
            if user.role == portal_role {
                let data = res.ok(200);
                assert_eq!(data["id"], user.id.to_string(), "{portal}");
            } else {
                let error = res.error(403, "FORBIDDEN");
                assert!(
                    error["message"].as_str().unwrap().contains(portal),
                    "{error}"
                );
            }
        }
    }
}

#[tokio::test]
async fn budgets_belong_to_users_not_to_their_shared_address() {
    let app = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("RATE_LIMIT_DEFAULT", "60/min,burst=3"),
    )
    .await;
    let a = app.login_as(Role::Client).await;
    let b = app.login_as(Role::Client).await;
    for _ in 0..3 {
        app.send(app.authed(Method::GET, "/api/auth/me", &a.token))
            .await
            .assert_status(200);
    }
    app.send(app.authed(Method::GET, "/api/auth/me", &a.token))
        .await
        .error(429, "RATE_LIMITED");
    // Same IP, another user: a budget of its own.
    app.send(app.authed(Method::GET, "/api/auth/me", &b.token))
        .await
        .assert_status(200);
}
