use entity::{Role, user};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::json;
use test_support::{TestApp, spawn_app};

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> test_support::TestResponse {
    app.send(app.authed(Method::PUT, path, token).json(&body))
        .await
}

#[tokio::test]
async fn the_profile_can_be_updated_through_both_routes_with_an_audit_trail() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let data = put(
        &app,
        "/api/auth/profile",
        &user.token,
        json!({ "full_name": "Jean Martin", "phone": "+33 1 23 45 67 89" }),
    )
    .await
    .ok(200);
    assert_eq!(data["full_name"], "Jean Martin");
    assert_eq!(data["phone"], "+33 1 23 45 67 89");
    let data = put(
        &app,
        "/api/auth/update-profile",
        &user.token,
        json!({ "full_name": "Jean M." }),
    )
    .await
    .ok(200);
    assert_eq!(data["full_name"], "Jean M.");
    assert_eq!(data["phone"], "+33 1 23 45 67 89");
    let rows = test_support::fixtures::events(&app.db).await;
    let audit = rows
        .iter()
        .filter(|r| r.action == "update_profile")
        .collect::<Vec<_>>();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        audit[0].before.as_ref().unwrap()["full_name"],
        "Test prestataire"
    );
    assert_eq!(audit[0].after.as_ref().unwrap()["full_name"], "Jean Martin");
}

#[tokio::test]
async fn the_profile_refuses_role_company_activation_and_email() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Client).await;
    for (field, value) in [
        ("role", json!("superadmin")),
        ("is_active", json!(true)),
        ("company_id", json!("0193a9f0-0000-7000-8000-000000000000")),
        ("email", json!("other@example.test")),
    ] {
        for path in ["/api/auth/profile", "/api/auth/update-profile"] {
            let res = put(&app, path, &user.token, json!({ field: value })).await;
            assert_eq!(
                res.field_error(field),
                ["is not an allowed field"],
                "{path} {field}"
            );
        }
    }
    let account = user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.role, Role::Client);
    put(
        &app,
        "/api/auth/profile",
        &user.token,
        json!({ "full_name": "" }),
    )
    .await
    .field_error("full_name");
}

#[tokio::test]
async fn ai_keys_are_stored_encrypted_and_only_ever_shown_masked() {
    let app = spawn_app().await;
    let user = app.login_as(Role::Prestataire).await;
    let google = "AIzaSyD-example-google-key-0123456789";
    let openai = "sk-proj-example-openai-key-abcdefghijkl";
    test_support::remember_secret(google);
    test_support::remember_secret(openai);
    let data = put(
        &app,
        "/api/auth/update-api-keys",
        &user.token,
        json!({ "google_ai_key": google, "openai_key": openai }),
    )
    .await
    .ok(200);
    assert_eq!(
        data["google_ai_key"],
        json!({ "configured": true, "masked": "AIza…6789" })
    );
    assert_eq!(data["openai_key"]["masked"], "sk-p…ijkl");
    let text = String::from_utf8_lossy(
        &app.send(app.authed(Method::GET, "/api/auth/me", &user.token))
            .await
            .body,
    )
    .to_string();
    assert!(!text.contains(google) && !text.contains(openai));

    let account = user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stored = account.google_ai_key_enc.unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("AIza"));

    // Absent: kept; null: removed.
    let data = put(
        &app,
        "/api/auth/update-api-keys",
        &user.token,
        json!({ "openai_key": null }),
    )
    .await
    .ok(200);
    assert_eq!(data["google_ai_key"]["configured"], true);
    assert_eq!(
        data["openai_key"],
        json!({ "configured": false, "masked": null })
    );
    put(
        &app,
        "/api/auth/update-api-keys",
        &user.token,
        json!({ "openai_key": "short" }),
    )
    .await
    .field_error("openai_key");
    let rows = test_support::fixtures::events(&app.db).await;
    let text = format!("{rows:?}");
    assert!(!text.contains(google), "keys never reach the audit log");
}

#[tokio::test]
async fn permissions_follow_the_role() {
    let app = spawn_app().await;
    for role in Role::all() {
        let user = app.login_as(role).await;
        let data = app
            .send(app.authed(Method::GET, "/api/auth/permissions", &user.token))
            .await
            .ok(200);
        assert_eq!(data["role"], role.as_str());
        let permissions: Vec<&str> = data["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(permissions, auth::permissions::for_role(role));
    }
}

#[tokio::test]
async fn me_shows_the_account_with_its_company_as_login_does() {
    let app = spawn_app().await;
    let email = "me-client@example.test";
    let client = app
        .login_as_email(Role::Client, email, Some("Bâtiments Durand"))
        .await;
    let data = crate::me(&app, &client.token).await.ok(200);
    assert_eq!(data["email"], email);
    assert_eq!(data["role"], "client");
    assert_eq!(
        data["company_id"],
        client.company_id.unwrap().to_string().as_str()
    );
    assert_eq!(data["company_name"], "Bâtiments Durand");
    // The same view as the one login answers with, field for field (but the time of the
    // last login, which that login moves).
    let mut login = app.login(email, &client.password).await.ok(200);
    let mut data = data;
    data.as_object_mut().unwrap().remove("last_login_at");
    login["user"]
        .as_object_mut()
        .unwrap()
        .remove("last_login_at");
    assert_eq!(data, login["user"]);

    // Staff have no company.
    let staff = app.login_as(Role::Prestataire).await;
    let data = crate::me(&app, &staff.token).await.ok(200);
    assert_eq!(data["id"], staff.id.to_string().as_str());
    assert!(data["company_id"].is_null() && data["company_name"].is_null());
}

/// The caller's account view read on the request's own thread (an SQLite file:
/// bench/RESULTS.md item 36) is the pool's, field for field, and `GET /api/auth/me` reads it so.
#[tokio::test]
async fn the_account_view_read_inline_is_the_pools() {
    let app = spawn_app().await;
    let inline = shared::db::InlineReads::for_url(&app.config.database_url);
    assert_eq!(inline.is_some(), !app.database.is_postgres());
    let inline = inline.as_deref();
    let client = app.login_as(Role::Client).await;
    let staff = app.login_as(Role::Superadmin).await;
    put(
        &app,
        "/api/auth/profile",
        &client.token,
        json!({ "full_name": "Awa Diop", "phone": "+221 77 123 45 67" }),
    )
    .await
    .ok(200);
    let counts = || inline.map(shared::db::InlineReads::counts);
    let before = counts();
    for (id, company) in [(client.id, true), (staff.id, false)] {
        let pooled = auth::users::load_view(&app.db, None, id).await.unwrap();
        let read = auth::users::load_view(&app.db, inline, id).await.unwrap();
        let (pooled, read) = (
            serde_json::to_value(pooled).unwrap(),
            serde_json::to_value(read).unwrap(),
        );
        assert_eq!(read, pooled);
        assert_eq!(read["company_name"].is_string(), company, "{read}");
    }
    // An account that is not there: 401 both ways.
    for inline in [None, inline] {
        let gone = auth::users::load_view(&app.db, inline, uuid::Uuid::now_v7()).await;
        assert!(
            matches!(gone, Err(shared::AppError::Unauthenticated(_))),
            "{gone:?}"
        );
    }
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        assert_eq!(served - before.0, 3);
        let me = app
            .send(app.authed(Method::GET, "/api/auth/me", &client.token))
            .await
            .ok(200);
        assert_eq!(me["full_name"], "Awa Diop");
        // The account check and the view.
        assert_eq!(counts(), Some((served + 2, failed)));
    }
}
