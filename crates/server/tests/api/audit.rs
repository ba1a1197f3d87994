use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use test_support::fixtures::events;
use test_support::spawn_app_with_fixtures;

#[tokio::test]
async fn a_write_appends_an_audit_row_with_ip_request_id_and_after_state() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .send(
            app.request(Method::POST, "/test/jobs")
                .header("X-Request-Id", "audit-req-1")
                .json(&json!({ "kind": "test.echo" })),
        )
        .await;
    let job = res.ok(202);
    let rows = events(&app.db).await;
    let row = rows.iter().find(|r| r.action == "enqueue_job").unwrap();
    assert_eq!(row.entity, "job");
    assert_eq!(row.entity_id.as_deref(), job["id"].as_str());
    assert_eq!(row.request_id.as_deref(), Some("audit-req-1"));
    assert_eq!(row.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(row.after, Some(json!({ "kind": "test.echo" })));
    assert!((chrono::Utc::now() - row.timestamp).num_seconds() < 60);
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_or_erase_the_audit_log() {
    let app = spawn_app_with_fixtures().await;
    test_support::fixtures::seed_events(&app.db, 1, "immutable").await;
    let backend = app.db.get_database_backend();
    for sql in [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
    ] {
        let result = app
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await;
        let err = result.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        test_support::fixtures::count_events(&app.db, "immutable").await,
        1
    );
}
