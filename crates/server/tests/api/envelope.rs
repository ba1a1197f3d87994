use reqwest::Method;
use test_support::{spawn_app, spawn_app_with_fixtures};

#[tokio::test]
async fn success_responses_use_the_envelope_and_carry_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    let data = res.ok(200);
    assert_eq!(data["status"], "ok");
    let body = res.json();
    assert!(body.get("meta").is_none(), "meta only on lists: {body}");
    let ts = body["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z'));
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
    let id = res.header("x-request-id").unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "generated ids are UUIDs: {id}"
    );
}

#[tokio::test]
async fn a_sane_client_request_id_is_echoed_and_an_insane_one_replaced() {
    let app = spawn_app().await;
    let res = app
        .send(
            app.request(Method::GET, "/health")
                .header("X-Request-Id", "trace-42.abc"),
        )
        .await;
    assert_eq!(res.header("x-request-id"), Some("trace-42.abc"));

    let res = app
        .send(
            app.request(Method::GET, "/health")
                .header("X-Request-Id", "bad id\twith spaces"),
        )
        .await;
    let id = res.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn an_unknown_route_is_an_enveloped_404() {
    let app = spawn_app().await;
    let res = app.get("/api/does-not-exist").await;
    let error = res.error(404, "NOT_FOUND");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("/api/does-not-exist")
    );
    assert!(res.header("x-request-id").is_some());
}

#[tokio::test]
async fn a_known_route_with_the_wrong_method_is_an_enveloped_405_with_allow() {
    let app = spawn_app().await;
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let res = app.send(app.request(method.clone(), "/health")).await;
        let error = res.error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(res.header("allow"), Some("GET"), "{method}");
        assert_eq!(error["details"]["allowed_methods"][0], "GET");
    }
}

#[tokio::test]
async fn an_internal_error_hides_its_cause_and_keeps_the_request_id() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .send(
            app.request(Method::GET, "/test/internal-error")
                .header("X-Request-Id", "req-500"),
        )
        .await;
    let error = res.error(500, "INTERNAL");
    let text = String::from_utf8_lossy(&res.body);
    for secret in ["hunter2", "postgres://", "/srv/presta", "db.rs"] {
        assert!(!text.contains(secret), "leaked {secret}: {text}");
    }
    assert_eq!(error["message"], "Internal server error");
    assert_eq!(res.header("x-request-id"), Some("req-500"));
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_asks() {
    let app = spawn_app().await;
    let res = app
        .send(
            app.request(Method::GET, "/api-docs/openapi.json")
                .header("Accept-Encoding", "gzip"),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
}
