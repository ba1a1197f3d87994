use std::time::Duration;

use reqwest::Method;
use test_support::{TestOptions, spawn_app_with};

fn limited(default: &str) -> TestOptions {
    TestOptions::default()
        .with_fixtures()
        .env("RATE_LIMIT_DEFAULT", default)
}

#[tokio::test]
async fn exceeding_the_budget_answers_429_with_retry_after_and_limit_headers() {
    let app = spawn_app_with(limited("60/min,burst=3")).await;
    for remaining in ["2", "1", "0"] {
        let res = app.get("/test/events").await;
        res.assert_status(200);
        assert_eq!(res.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(res.header("x-ratelimit-remaining"), Some(remaining));
    }
    let res = app.get("/test/events").await;
    let error = res.error(429, "RATE_LIMITED");
    let retry_after: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(error["details"]["retry_after_seconds"], retry_after);
    assert_eq!(res.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(res.header("x-ratelimit-remaining"), Some("0"));
}

#[tokio::test]
async fn the_budget_refills_at_the_sustained_rate() {
    // 60/min: one more request every second.
    let app = spawn_app_with(limited("60/min,burst=2")).await;
    app.get("/test/events").await.assert_status(200);
    app.get("/test/events").await.assert_status(200);
    let refused = app.get("/test/events").await;
    refused.assert_status(429);
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    app.get("/test/events").await.assert_status(200);
}

#[tokio::test]
async fn each_client_ip_has_its_own_budget_behind_a_trusted_proxy() {
    let app =
        spawn_app_with(limited("60/min,burst=2").env("TRUSTED_PROXIES", "127.0.0.1/32")).await;
    let from = |ip: &'static str| {
        app.request(Method::GET, "/test/events")
            .header("X-Forwarded-For", ip)
    };
    app.send(from("198.51.100.1")).await.assert_status(200);
    app.send(from("198.51.100.1")).await.assert_status(200);
    app.send(from("198.51.100.1"))
        .await
        .error(429, "RATE_LIMITED");
    // Another client behind the same proxy is untouched.
    app.send(from("198.51.100.2")).await.assert_status(200);
}

#[tokio::test]
async fn a_spoofed_forwarded_for_buys_no_fresh_budget() {
    // No trusted proxy: the header is the client's own words and is ignored.
    let app = spawn_app_with(limited("60/min,burst=2")).await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        app.send(
            app.request(Method::GET, "/test/events")
                .header("X-Forwarded-For", ip),
        )
        .await
        .assert_status(200);
    }
    let res = app
        .send(
            app.request(Method::GET, "/test/events")
                .header("X-Forwarded-For", "203.0.113.3"),
        )
        .await;
    res.error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn probes_metrics_and_docs_are_never_limited() {
    let app = spawn_app_with(limited("60/min,burst=1")).await;
    app.get("/test/events").await.assert_status(200);
    app.get("/test/events").await.assert_status(429);
    for _ in 0..5 {
        app.get("/health").await.assert_status(200);
        app.get("/ready").await.assert_status(200);
        app.get("/metrics").await.assert_status(200);
        app.get("/api-docs/openapi.json").await.assert_status(200);
    }
}

#[tokio::test]
async fn credential_endpoints_spend_a_stricter_budget_of_their_own() {
    let app = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("RATE_LIMIT_AUTH", "6/min,burst=2"),
    )
    .await;
    for _ in 0..2 {
        let res = app.send(app.request(Method::POST, "/api/auth/login")).await;
        assert_ne!(res.status, 429);
    }
    let res = app.send(app.request(Method::POST, "/api/auth/login")).await;
    res.error(429, "RATE_LIMITED");
    assert!(res.header("retry-after").unwrap().parse::<u64>().unwrap() >= 9);
    // The default bucket is separate.
    app.get("/test/events").await.assert_status(200);
}

#[tokio::test]
async fn percent_encoding_a_credential_path_does_not_escape_its_bucket() {
    let app = spawn_app_with(
        TestOptions::default()
            .with_fixtures()
            .env("RATE_LIMIT_AUTH", "6/min,burst=2"),
    )
    .await;
    for path in ["/api/auth/login", "/api/auth/logi%6E"] {
        let res = app.send(app.request(Method::POST, path)).await;
        assert_ne!(res.status, 429, "{path}");
    }
    let res = app
        .send(app.request(Method::POST, "/api/auth/%6Cogin"))
        .await;
    res.error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn with_redis_several_instances_share_one_budget() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: set TEST_REDIS_URL to run the shared-budget test (.ci/run does)");
        return;
    };
    let prefix = format!("presta-test-{}", uuid::Uuid::now_v7().simple());
    let options = || {
        limited("60/min,burst=4")
            .env("REDIS_URL", &redis_url)
            .env("REDIS_PREFIX", &prefix)
    };
    let a = spawn_app_with(options()).await;
    let b = spawn_app_with(options().database(a.database.clone())).await;
    a.get("/test/events").await.assert_status(200);
    b.get("/test/events").await.assert_status(200);
    a.get("/test/events").await.assert_status(200);
    let res = b.get("/test/events").await;
    res.assert_status(200);
    assert_eq!(res.header("x-ratelimit-remaining"), Some("0"));
    a.get("/test/events").await.error(429, "RATE_LIMITED");
    b.get("/test/events").await.error(429, "RATE_LIMITED");
}
