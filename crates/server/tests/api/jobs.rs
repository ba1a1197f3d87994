use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::jobs::NewJob;
use test_support::fixtures::{count_events, extensions_with_counter};
use test_support::{TestApp, TestOptions, spawn_app_with, spawn_app_with_fixtures};

async fn enqueue(app: &TestApp, body: Value) -> String {
    let data = app.post_json("/test/jobs", &body).await.ok(202);
    data["id"].as_str().unwrap().to_owned()
}

/// Poll the status route until the job reaches one of `statuses`.
async fn wait_for(app: &TestApp, id: &str, statuses: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job = app.get(&format!("/test/jobs/{id}")).await.ok(200);
        if statuses.contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job never reached {statuses:?}: {job}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn log_messages(job: &Value) -> Vec<String> {
    job["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_job_runs_and_reports_progress_result_and_log() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(
        &app,
        json!({ "kind": "test.echo", "payload": { "hello": "world" } }),
    )
    .await;
    let job = wait_for(&app, &id, &["succeeded", "failed"]).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["progress"], 100);
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["result"], json!({ "hello": "world" }));
    assert!(job["finished_at"].is_string());
    assert!(job["elapsed_ms"].as_i64().unwrap() >= 0);
    let logs = log_messages(&job);
    assert!(logs[0].starts_with("started attempt 1 of 5"), "{logs:?}");
    assert!(logs.iter().any(|l| l == "echoing the payload"), "{logs:?}");
    assert!(
        logs.last().unwrap().starts_with("succeeded on attempt 1"),
        "{logs:?}"
    );
}

#[tokio::test]
async fn a_job_enqueued_in_a_failed_transaction_never_exists() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .post_json(
            "/test/jobs",
            &json!({ "kind": "test.echo", "fail_after_enqueue": true }),
        )
        .await;
    res.error(409, "CONFLICT");
    let echo_jobs = entity::job::Entity::find()
        .filter(entity::job::Column::Kind.eq("test.echo"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(echo_jobs, 0);
    assert_eq!(count_events(&app.db, "enqueue_job").await, 0);
}

#[tokio::test]
async fn failures_are_retried_with_backoff_until_success() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(
        &app,
        json!({ "kind": "test.flaky", "payload": { "succeed_on": 3 }, "max_attempts": 5 }),
    )
    .await;
    let job = wait_for(&app, &id, &["succeeded", "failed"]).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["attempts"], 3);
    assert_eq!(job["result"], json!({ "succeeded_on": 3 }));
    assert_eq!(job["last_error"], "transient failure on attempt 2");
    let logs = job["logs"].as_array().unwrap();
    let retries: Vec<&Value> = logs
        .iter()
        .filter(|l| l["message"].as_str().unwrap().contains("retrying in"))
        .collect();
    assert_eq!(retries.len(), 2, "{logs:?}");
    // Backoff: the second retry waits about twice the first (base 50 ms, ±20 % jitter).
    let at = |needle: &str| {
        let entry = logs
            .iter()
            .find(|l| l["message"].as_str().unwrap().starts_with(needle))
            .unwrap();
        chrono::DateTime::parse_from_rfc3339(entry["at"].as_str().unwrap()).unwrap()
    };
    let first_gap = at("started attempt 2") - at("attempt 1 of 5 failed");
    let second_gap = at("started attempt 3") - at("attempt 2 of 5 failed");
    assert!(first_gap.num_milliseconds() >= 35, "{first_gap}");
    assert!(second_gap.num_milliseconds() >= 75, "{second_gap}");
}

#[tokio::test]
async fn a_job_out_of_attempts_fails_with_its_last_error() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(
        &app,
        json!({ "kind": "test.flaky", "payload": { "succeed_on": 10 }, "max_attempts": 2 }),
    )
    .await;
    let job = wait_for(&app, &id, &["succeeded", "failed"]).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["attempts"], 2);
    assert_eq!(job["last_error"], "transient failure on attempt 2");
}

#[tokio::test]
async fn a_permanent_error_fails_at_once() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(&app, json!({ "kind": "test.fail", "max_attempts": 5 })).await;
    let job = wait_for(&app, &id, &["succeeded", "failed"]).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["last_error"], "the payload can never work");
}

#[tokio::test]
async fn a_queued_job_cancelled_before_it_runs_never_runs() {
    let mut idle = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("JOB_WORKERS", "0"),
    )
    .await;
    let id = enqueue(&idle, json!({ "kind": "test.echo" })).await;
    let job = idle
        .post_json(&format!("/test/jobs/{id}/cancel"), &json!({}))
        .await
        .ok(202);
    assert_eq!(job["status"], "cancelled");
    idle.stop().await;

    let worker = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .database(idle.database.clone()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = worker.get(&format!("/test/jobs/{id}")).await.ok(200);
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["attempts"], 0);
}

#[tokio::test]
async fn a_running_job_stops_when_cancelled_and_keeps_its_partial_result() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(
        &app,
        json!({ "kind": "test.wait", "payload": { "ms": 10000 } }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let job = app.get(&format!("/test/jobs/{id}")).await.ok(200);
        if job["status"] == "running" && job["progress"].as_i64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "never started: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let job = app
        .post_json(&format!("/test/jobs/{id}/cancel"), &json!({}))
        .await
        .ok(202);
    assert_eq!(job["cancel_requested"], true);
    let job = wait_for(&app, &id, &["cancelled", "succeeded", "failed"]).await;
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["result"]["stopped"], true);
    assert!(job["result"]["steps_done"].as_i64().unwrap() < 500);
}

#[tokio::test]
async fn pending_jobs_resume_after_a_restart() {
    let mut first = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("JOB_WORKERS", "0"),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            enqueue(
                &first,
                json!({ "kind": "test.echo", "payload": { "n": n } }),
            )
            .await,
        );
    }
    first.stop().await;

    let second = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .database(first.database.clone()),
    )
    .await;
    for id in &ids {
        let job = wait_for(&second, id, &["succeeded", "failed"]).await;
        assert_eq!(job["status"], "succeeded");
    }
}

#[tokio::test]
async fn a_job_whose_server_crashed_is_taken_over_when_its_lease_expires() {
    let options = || {
        TestOptions::default()
            .with_fixtures()
            .env("JOB_LEASE_SECONDS", "1")
    };
    let mut first = spawn_app_with(options()).await;
    let id = enqueue(
        &first,
        json!({ "kind": "test.wait", "payload": { "ms": 600 } }),
    )
    .await;
    wait_for(&first, &id, &["running"]).await;
    first.crash().await;

    let second = spawn_app_with(options().database(first.database.clone())).await;
    let job = wait_for(&second, &id, &["succeeded", "failed"]).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["attempts"], 2, "the crashed attempt counts");
    assert_eq!(job["result"]["stopped"], false);
}

#[tokio::test]
async fn a_graceful_stop_hands_a_running_job_back_without_spending_an_attempt() {
    let mut first = spawn_app_with_fixtures().await;
    let id = enqueue(
        &first,
        json!({ "kind": "test.wait", "payload": { "ms": 5000 } }),
    )
    .await;
    wait_for(&first, &id, &["running"]).await;
    first.stop().await;
    let job = first_status(&first, &id).await;
    assert_eq!(job.status.as_str(), "queued");
    assert_eq!(job.attempts, 0);
}

/// The job as stored, read on a connection of its own: the stopped server's pool may hold
/// PostgreSQL connections opened by its HTTP workers, whose runtimes are gone.
async fn first_status(app: &TestApp, id: &str) -> entity::job::Model {
    use sea_orm::EntityTrait;
    let db = shared::db::connect_url(&app.config.database_url, 1)
        .await
        .unwrap();
    let job = entity::job::Entity::find_by_id(uuid::Uuid::parse_str(id).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    db.close().await.ok();
    job
}

#[tokio::test]
async fn several_instances_never_run_a_job_twice() {
    let counter = Arc::new(Mutex::new(HashMap::new()));
    let options = || {
        TestOptions::default()
            .extensions(extensions_with_counter(counter.clone()))
            .env("JOB_WORKERS", "4")
            .env("JOB_POLL_INTERVAL_MS", "5")
    };
    let a = spawn_app_with(options()).await;
    let b = spawn_app_with(options().database(a.database.clone())).await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        let job = shared::jobs::enqueue(&a.db, NewJob::new("test.count", json!({})))
            .await
            .unwrap();
        ids.push(job.id);
    }
    for id in &ids {
        let job = wait_for(&b, &id.to_string(), &["succeeded", "failed"]).await;
        assert_eq!(job["status"], "succeeded");
    }
    let runs = counter.lock().unwrap().clone();
    assert_eq!(runs.len(), 40);
    assert!(runs.values().all(|n| *n == 1), "{runs:?}");
}

#[tokio::test]
async fn a_job_cancelled_between_retries_ends_cancelled() {
    let app = spawn_app_with_fixtures().await;
    let id = enqueue(
        &app,
        json!({ "kind": "test.flaky", "payload": { "succeed_on": 100 }, "max_attempts": 25 }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let job = app.get(&format!("/test/jobs/{id}")).await.ok(200);
        if job["attempts"].as_i64().unwrap() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "never retried: {job}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.post_json(&format!("/test/jobs/{id}/cancel"), &json!({}))
        .await
        .ok(202);
    let job = wait_for(&app, &id, &["cancelled", "succeeded", "failed"]).await;
    assert_eq!(job["status"], "cancelled");
    let attempts = job["attempts"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = app.get(&format!("/test/jobs/{id}")).await.ok(200);
    assert_eq!(later["status"], "cancelled");
    assert_eq!(
        later["attempts"].as_i64().unwrap(),
        attempts,
        "it never ran again"
    );
}
