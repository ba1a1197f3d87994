use reqwest::Method;
use test_support::{TestOptions, spawn_app, spawn_app_with};

const ORIGIN: &str = "https://app.presta.example";

#[tokio::test]
async fn a_configured_origin_gets_a_preflight_answer_and_exposed_headers() {
    let app = spawn_app_with(TestOptions::default().env("CORS_ORIGINS", ORIGIN)).await;
    let res = app
        .send(
            app.request(Method::OPTIONS, "/health")
                .header("Origin", ORIGIN)
                .header("Access-Control-Request-Method", "GET")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization, idempotency-key",
                ),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));
    let allowed = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("idempotency-key"),
        "{allowed}"
    );

    let res = app
        .send(app.request(Method::GET, "/health").header("Origin", ORIGIN))
        .await;
    res.assert_status(200);
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
}

#[tokio::test]
async fn another_origin_is_not_granted_access() {
    let app = spawn_app_with(TestOptions::default().env("CORS_ORIGINS", ORIGIN)).await;
    // The preflight is refused (with the envelope)...
    let res = app
        .send(
            app.request(Method::OPTIONS, "/health")
                .header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "GET"),
        )
        .await;
    res.error(400, "BAD_REQUEST");
    assert!(res.header("access-control-allow-origin").is_none());
    // ...and a simple request gets no grant, so the browser withholds the response.
    let res = app
        .send(
            app.request(Method::GET, "/health")
                .header("Origin", "https://evil.example"),
        )
        .await;
    assert!(res.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_no_cross_origin_access_is_granted() {
    let app = spawn_app().await;
    let res = app
        .send(app.request(Method::GET, "/health").header("Origin", ORIGIN))
        .await;
    res.assert_status(200);
    assert!(res.header("access-control-allow-origin").is_none());
}
