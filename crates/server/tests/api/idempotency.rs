use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use test_support::{TestApp, TestOptions, TestResponse, spawn_app_with};

use entity::job;

async fn app() -> TestApp {
    // No workers: jobs stay queued, so replays compare identical bodies.
    spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("JOB_WORKERS", "0"),
    )
    .await
}

async fn post(app: &TestApp, key: Option<&str>, body: &Value) -> TestResponse {
    let mut request = app.request(Method::POST, "/test/jobs").json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    app.send(request).await
}

async fn jobs_of_kind(app: &TestApp, kind: &str) -> u64 {
    job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_replay_returns_the_first_response_and_creates_nothing() {
    let app = app().await;
    let body = json!({ "kind": "test.echo", "payload": { "n": 1 } });
    let first = post(&app, Some("key-1"), &body).await;
    let created = first.ok(202);
    assert!(first.header("idempotency-replayed").is_none());

    let second = post(&app, Some("key-1"), &body).await;
    second.assert_status(202);
    assert_eq!(second.header("idempotency-replayed"), Some("true"));
    assert_eq!(second.body, first.body, "the very same bytes");
    assert_eq!(second.json()["data"]["id"], created["id"]);
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 1);
}

#[tokio::test]
async fn without_a_key_each_post_acts() {
    let app = app().await;
    let body = json!({ "kind": "test.echo" });
    post(&app, None, &body).await.assert_status(202);
    post(&app, None, &body).await.assert_status(202);
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = app().await;
    post(&app, Some("key-2"), &json!({ "kind": "test.echo" }))
        .await
        .assert_status(202);
    let res = post(&app, Some("key-2"), &json!({ "kind": "test.fail" })).await;
    res.field_error("Idempotency-Key");
    assert_eq!(jobs_of_kind(&app, "test.fail").await, 0);
}

#[tokio::test]
async fn concurrent_duplicates_act_once() {
    let app = app().await;
    let body = json!({ "kind": "test.echo", "payload": { "parallel": true } });
    let responses =
        futures_util::future::join_all((0..8).map(|_| post(&app, Some("key-parallel"), &body)))
            .await;
    let mut ids = std::collections::HashSet::new();
    for res in &responses {
        match res.status {
            202 => {
                ids.insert(res.json()["data"]["id"].as_str().unwrap().to_owned());
            }
            409 => {
                res.error(409, "CONFLICT");
            }
            other => panic!("unexpected status {other}: {:?}", res.body),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the same job");
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 1);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("JOB_WORKERS", "0")
            .env("TRUSTED_PROXIES", "127.0.0.1"),
    )
    .await;
    let body = json!({ "kind": "test.echo" });
    for ip in ["198.51.100.10", "198.51.100.11"] {
        let res = app
            .send(
                app.request(Method::POST, "/test/jobs")
                    .header("X-Forwarded-For", ip)
                    .header("Idempotency-Key", "shared-key")
                    .json(&body),
            )
            .await;
        res.assert_status(202);
        assert!(
            res.header("idempotency-replayed").is_none(),
            "{ip} saw another caller's response"
        );
    }
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 2);
}

#[tokio::test]
async fn an_unusable_key_is_a_422() {
    let app = app().await;
    let long = "k".repeat(256);
    let res = post(&app, Some(&long), &json!({ "kind": "test.echo" })).await;
    res.field_error("Idempotency-Key");
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 0);
}

#[tokio::test]
async fn a_rejected_request_releases_its_key_for_the_corrected_one() {
    let app = app().await;
    let res = post(&app, Some("key-fix"), &json!({ "kind": "" })).await;
    res.field_error("kind");
    let res = post(&app, Some("key-fix"), &json!({ "kind": "test.echo" })).await;
    res.assert_status(202);
    assert!(res.header("idempotency-replayed").is_none());
    assert_eq!(jobs_of_kind(&app, "test.echo").await, 1);
}
