use entity::{Role, company, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use test_support::{TestApp, USER_PASSWORD, spawn_app, token_in};

fn client(email: &str) -> Value {
    json!({
        "email": email,
        "password": USER_PASSWORD,
        "full_name": "Marie Durand",
        "role": "client",
        "company_name": "BTP Durand SARL",
        "phone": "+33 6 12 34 56 78"
    })
}

async fn users_with(app: &TestApp, email: &str) -> u64 {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_registers_verifies_its_address_and_signs_in() {
    let app = spawn_app().await;
    let res = app
        .post_json("/api/auth/register", &client("new@example.test"))
        .await;
    let data = res.ok(202);
    assert!(data["message"].as_str().unwrap().contains("e-mail"));

    // Not before verifying.
    app.login("new@example.test", USER_PASSWORD)
        .await
        .error(401, "UNAUTHENTICATED");

    let mail = app.last_mail("new@example.test", "verify_email").await;
    assert!(
        mail.body_text
            .contains("https://app.presta.test/verify-email?token=")
    );
    let token = token_in(&mail.body_text);
    app.post_json("/api/auth/verify-email", &json!({ "token": token }))
        .await
        .ok(200);
    // Single use.
    app.post_json("/api/auth/verify-email", &json!({ "token": token }))
        .await
        .field_error("token");

    let data = app.login("new@example.test", USER_PASSWORD).await.ok(200);
    assert_eq!(data["user"]["role"], "client");
    assert_eq!(data["user"]["company_name"], "BTP Durand SARL");
    let company = company::Entity::find()
        .filter(company::Column::Name.eq("BTP Durand SARL"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data["user"]["company_id"], company.id.to_string());
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "register").await,
        1
    );
}

#[tokio::test]
async fn registering_a_taken_address_answers_the_same_and_tells_the_owner() {
    let app = spawn_app().await;
    app.create_account(Role::Prestataire, "taken@example.test", None)
        .await;
    let fresh = app
        .post_json("/api/auth/register", &client("free@example.test"))
        .await;
    let taken = app
        .post_json("/api/auth/register", &client("Taken@Example.test"))
        .await;
    assert_eq!(fresh.status, taken.status);
    assert_eq!(fresh.json()["data"], taken.json()["data"]);
    assert_eq!(users_with(&app, "taken@example.test").await, 1);
    app.last_mail("taken@example.test", "register_existing")
        .await;
}

#[tokio::test]
async fn superadmin_can_never_be_registered() {
    let app = spawn_app().await;
    let mut body = client("boss@example.test");
    body["role"] = json!("superadmin");
    let messages = app
        .post_json("/api/auth/register", &body)
        .await
        .field_error("role");
    assert_eq!(messages, ["must be one of: client, prestataire, revendeur"]);
    assert_eq!(users_with(&app, "boss@example.test").await, 0);
}

#[tokio::test]
async fn registration_refuses_fields_a_client_may_not_set() {
    let app = spawn_app().await;
    for (field, value) in [
        ("is_active", json!(true)),
        ("company_id", json!("0193a9f0-0000-7000-8000-000000000000")),
        ("email_verified_at", json!("2026-01-01T00:00:00Z")),
        ("id", json!("0193a9f0-0000-7000-8000-000000000001")),
    ] {
        let mut body = client("sneaky@example.test");
        body[field] = value;
        let messages = app
            .post_json("/api/auth/register", &body)
            .await
            .field_error(field);
        assert_eq!(messages, ["is not an allowed field"], "{field}");
    }
    assert_eq!(users_with(&app, "sneaky@example.test").await, 0);
}

#[tokio::test]
async fn bad_registrations_name_the_field() {
    let app = spawn_app().await;
    let mut weak = client("weak@example.test");
    weak["password"] = json!("password1234");
    app.post_json("/api/auth/register", &weak)
        .await
        .field_error("password");
    let mut no_company = client("solo@example.test");
    no_company.as_object_mut().unwrap().remove("company_name");
    app.post_json("/api/auth/register", &no_company)
        .await
        .field_error("company_name");
    let mut blank = client("blank@example.test");
    blank["full_name"] = json!("   ");
    app.post_json("/api/auth/register", &blank)
        .await
        .field_error("full_name");
    let mut bad_email = client("x");
    bad_email["email"] = json!("not-an-email");
    app.post_json("/api/auth/register", &bad_email)
        .await
        .field_error("email");
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Role.ne(Role::Superadmin))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_revendeur_signs_in_only_once_activated() {
    let app = spawn_app().await;
    let body = json!({
        "email": "reseller@example.test",
        "password": USER_PASSWORD,
        "full_name": "Paul Revend",
        "role": "revendeur"
    });
    app.post_json("/api/auth/register", &body).await.ok(202);
    let token = token_in(
        &app.last_mail("reseller@example.test", "verify_email")
            .await
            .body_text,
    );
    app.post_json("/api/auth/verify-email", &json!({ "token": token }))
        .await
        .ok(200);
    app.login("reseller@example.test", USER_PASSWORD)
        .await
        .error(401, "UNAUTHENTICATED");

    // A superadmin activates it (the superadmin routes belong to their own issue).
    let account = test_support::auth_user(&app, "reseller@example.test").await;
    let mut active: user::ActiveModel = account.into();
    active.is_active = Set(true);
    active.update(&app.db).await.unwrap();
    let data = app
        .login("reseller@example.test", USER_PASSWORD)
        .await
        .ok(200);
    assert_eq!(data["user"]["role"], "revendeur");
}

#[tokio::test]
async fn verification_can_be_requested_again_with_the_same_answer_for_anyone() {
    let app = spawn_app().await;
    let known = app
        .post_json("/api/auth/register", &client("again@example.test"))
        .await;
    known.ok(202);
    let a = app
        .post_json(
            "/api/auth/resend-verification",
            &json!({ "email": "again@example.test" }),
        )
        .await;
    let b = app
        .post_json(
            "/api/auth/resend-verification",
            &json!({ "email": "ghost@example.test" }),
        )
        .await;
    assert_eq!(a.status, 202);
    assert_eq!(a.json()["data"], b.json()["data"]);
    app.post_json(
        "/api/auth/verify-email",
        &json!({ "token": "not-a-real-token-at-all" }),
    )
    .await
    .field_error("token");
}
