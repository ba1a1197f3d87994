use reqwest::Method;
use test_support::{TestOptions, spawn_app, spawn_app_with};

#[tokio::test]
async fn ready_is_200_while_the_database_answers() {
    let app = spawn_app().await;
    let data = app.get("/ready").await.ok(200);
    assert_eq!(data["status"], "ready");
    let expected = if app.database.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(data["database"], expected);
}

#[tokio::test]
async fn ready_is_an_enveloped_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.get("/ready").await.assert_status(200);
    app.database.destroy().await;
    let res = app.get("/ready").await;
    res.error(503, "UNAVAILABLE");
    // Liveness does not depend on the database.
    app.get("/health").await.assert_status(200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get("/health").await.assert_status(200);
    }
    app.get("/no/such/route").await.assert_status(404);
    let res = app.get("/metrics").await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(res.body.to_vec()).unwrap();
    assert!(
        text.contains(r#"presta_http_requests_total{method="GET",route="/health",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"presta_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"presta_http_request_duration_seconds_bucket{method="GET",route="/health",le="0.005"}"#
    ));
    assert!(text.contains("presta_db_pool_connections"));
    // The recurring SLA scan may be waiting in the queue; nothing has failed.
    assert!(text.contains(r#"presta_jobs{status="queued"} "#), "{text}");
    assert!(text.contains(r#"presta_jobs{status="failed"} 0"#), "{text}");
    assert!(text.contains("presta_http_requests_in_flight"));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_with_no_network() {
    let app = spawn_app().await;
    let res = app.get("/docs/").await;
    res.assert_status(200);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    let html = String::from_utf8(res.body.to_vec()).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The bundle and the initializer pointing at our document come from the binary too.
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    bundle.assert_status(200);
    assert!(bundle.body.len() > 100_000);
    let init = app.get("/docs/swagger-initializer.js").await;
    init.assert_status(200);
    assert!(String::from_utf8_lossy(&init.body).contains("/api-docs/openapi.json"));
    let doc = app.get("/api-docs/openapi.json").await;
    doc.assert_status(200);
    assert_eq!(doc.json()["info"]["title"], "Presta API");
}

#[tokio::test]
async fn unknown_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    for m in ["FOO1", "FOO2", "BAR"] {
        app.send(app.request(Method::from_bytes(m.as_bytes()).unwrap(), "/health"))
            .await
            .error(405, "METHOD_NOT_ALLOWED");
    }
    let text = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(!text.contains("FOO1"));
}

#[tokio::test]
async fn a_metrics_token_when_configured_is_required() {
    let app = spawn_app_with(TestOptions::default().env("METRICS_TOKEN", "scrape-me-please")).await;
    app.get("/metrics").await.error(401, "UNAUTHENTICATED");
    let res = app
        .send(
            app.request(Method::GET, "/metrics")
                .header("Authorization", "Bearer wrong-token-value"),
        )
        .await;
    res.error(401, "UNAUTHENTICATED");
    let res = app
        .send(
            app.request(Method::GET, "/metrics")
                .header("Authorization", "Bearer scrape-me-please"),
        )
        .await;
    res.assert_status(200);
}

#[tokio::test]
async fn on_postgresql_each_http_worker_has_connections_of_its_own() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let own = shared::db::worker_pool(&app.config, 2);
    if !app.database.is_postgres() {
        // SQLite's connections are threads of their own: the shared pool serves every worker.
        assert!(own.is_none());
        return;
    }
    let own = own.unwrap();
    let pool = own.get_postgres_connection_pool();
    assert_eq!(
        pool.options().get_max_connections(),
        app.config.db_max_connections.div_ceil(2)
    );
    // Connected as it is used, on the runtime using it.
    own.execute_unprepared("SELECT 1").await.unwrap();
    assert!(pool.size() >= 1);
    // Outside a runtime there is no worker to own connections: the shared pool serves.
    let config = app.config.clone();
    assert!(
        std::thread::spawn(move || shared::db::worker_pool(&config, 2).is_none())
            .join()
            .unwrap()
    );
    own.close().await.unwrap();

    // The server's workers answer through pools of their own, counted beside the shared one.
    for _ in 0..4 {
        app.get("/ready").await.assert_status(200);
    }
    let shared_pool = app.db.get_postgres_connection_pool().size();
    let text = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    let open: u32 = text
        .lines()
        .find_map(|line| line.strip_prefix("presta_db_pool_connections "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        open > shared_pool,
        "{open} open, {shared_pool} in the shared pool"
    );
}
