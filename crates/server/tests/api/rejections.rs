//! Every way the framework can reject a request answers the envelope, never plain text.

use reqwest::Method;
use serde_json::json;
use test_support::spawn_app_with_fixtures;

fn valid() -> serde_json::Value {
    json!({ "name": "Chantier Nord", "email": "chef@example.fr", "count": 3 })
}

#[tokio::test]
async fn a_valid_body_is_accepted() {
    let app = spawn_app_with_fixtures().await;
    let data = app.post_json("/test/echo", &valid()).await.ok(201);
    assert_eq!(data["name"], "Chantier Nord");
    assert_eq!(data["tags"], json!([]));
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .send(
            app.request(Method::POST, "/test/echo")
                .header("Content-Type", "application/json")
                .body(r#"{"name": "x", "#),
        )
        .await;
    res.error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn an_empty_body_is_a_400() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .send(
            app.request(Method::POST, "/test/echo")
                .header("Content-Type", "application/json"),
        )
        .await;
    res.error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_a_415() {
    let app = spawn_app_with_fixtures().await;
    let body = serde_json::to_string(&valid()).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app.request(Method::POST, "/test/echo").body(body.clone());
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        app.send(request).await.error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    // A vendor +json type is JSON.
    let res = app
        .send(
            app.request(Method::POST, "/test/echo")
                .header("Content-Type", "application/vnd.presta+json")
                .body(body),
        )
        .await;
    res.assert_status(201);
}

#[tokio::test]
async fn a_json_body_over_one_mebibyte_is_a_413() {
    let app = spawn_app_with_fixtures().await;
    let big = format!(
        r#"{{"name":"x","email":"a@b.fr","count":1,"tags":["{}"]}}"#,
        "a".repeat(1024 * 1024 + 10)
    );
    let res = app
        .send(
            app.request(Method::POST, "/test/echo")
                .header("Content-Type", "application/json")
                .body(big),
        )
        .await;
    let error = res.error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(error["details"]["limit_bytes"], 1024 * 1024);
}

#[tokio::test]
async fn invalid_fields_are_each_named() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .post_json(
            "/test/echo",
            &json!({ "name": "", "email": "not-an-email", "count": 11 }),
        )
        .await;
    assert_eq!(res.field_error("email"), ["must be a valid email address"]);
    assert_eq!(res.field_error("count"), ["must be between 1 and 10"]);
    assert_eq!(
        res.field_error("name"),
        ["must have between 1 and 50 characters or items"]
    );
}

#[tokio::test]
async fn a_wrong_type_or_a_missing_field_is_named() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .post_json(
            "/test/echo",
            &json!({ "name": "x", "email": "a@b.fr", "count": "three" }),
        )
        .await;
    assert_eq!(res.field_error("count"), ["must be a non-negative integer"]);
    let res = app
        .post_json("/test/echo", &json!({ "name": "x", "count": 1 }))
        .await;
    assert_eq!(res.field_error("email"), ["is required"]);
}

#[tokio::test]
async fn unknown_fields_are_refused_so_nothing_can_be_mass_assigned() {
    let app = spawn_app_with_fixtures().await;
    let mut body = valid();
    body["role"] = json!("superadmin");
    let res = app.post_json("/test/echo", &body).await;
    assert_eq!(res.field_error("role"), ["is not an allowed field"]);
}

#[tokio::test]
async fn a_bad_path_parameter_is_a_422_naming_it() {
    let app = spawn_app_with_fixtures().await;
    let res = app.get("/test/events/not-a-uuid").await;
    assert_eq!(res.field_error("id"), ["must be a UUID"]);
}

#[tokio::test]
async fn a_bad_query_parameter_is_a_422_naming_it() {
    let app = spawn_app_with_fixtures().await;
    let res = app.get("/test/files").await;
    assert_eq!(res.field_error("key"), ["is required"]);
    let res = app.get("/test/events?action=").await;
    res.field_error("action");
}

#[tokio::test]
async fn no_rejection_answers_in_plain_text() {
    let app = spawn_app_with_fixtures().await;
    let requests = vec![
        app.request(Method::GET, "/nope"),
        app.request(Method::DELETE, "/health"),
        app.request(Method::POST, "/test/echo").body("x"),
        app.request(Method::POST, "/test/echo")
            .header("Content-Type", "application/json")
            .body("[1,2"),
        app.request(Method::GET, "/test/events?page=zero"),
        app.request(Method::GET, "/test/events/123"),
        app.request(Method::GET, "/test/internal-error"),
        app.request(Method::POST, "/test/files?name=a.txt")
            .body(vec![0u8; 2 * 1024 * 1024]),
    ];
    for request in requests {
        let res = app.send(request).await;
        assert!(res.status >= 400, "status {}", res.status);
        let body = res.json();
        assert_eq!(body["success"], false, "{body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn nul_characters_are_a_422_on_every_database() {
    let app = spawn_app_with_fixtures().await;
    let res = app.get("/test/events?action=bad%00value").await;
    assert_eq!(
        res.field_error("action"),
        ["must not contain NUL characters"]
    );
    let res = app
        .post_json(
            "/test/echo",
            &json!({ "name": "a\u{0}b", "email": "a@b.fr", "count": 1 }),
        )
        .await;
    assert_eq!(res.field_error("name"), ["must not contain NUL characters"]);
}

#[tokio::test]
async fn a_rewritten_error_stays_readable_when_compressed() {
    use std::io::Read;
    let app = spawn_app_with_fixtures().await;
    // web::Bytes over its limit: the framework answers in plain text, we rewrite it.
    let res = app
        .send(
            app.request(Method::POST, "/test/files?name=big.bin")
                .header("Accept-Encoding", "gzip")
                .body(vec![0u8; 2 * 1024 * 1024]),
        )
        .await;
    assert_eq!(res.status, 413);
    let body = if res.header("content-encoding") == Some("gzip") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(res.body.as_ref())
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(res.body.to_vec()).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "PAYLOAD_TOO_LARGE");
}
