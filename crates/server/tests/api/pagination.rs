use test_support::fixtures::seed_events;
use test_support::spawn_app_with_fixtures;

#[tokio::test]
async fn pages_come_from_sql_with_an_exact_total() {
    let app = spawn_app_with_fixtures().await;
    seed_events(&app.db, 45, "seeded").await;
    let res = app.get("/test/events?action=seeded&limit=20&page=1").await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["data"].as_array().unwrap().len(), 20);
    assert_eq!(
        body["meta"],
        serde_json::json!({ "page": 1, "limit": 20, "total": 45, "pages": 3 })
    );
    let last = app
        .get("/test/events?action=seeded&limit=20&page=3")
        .await
        .json();
    assert_eq!(last["data"].as_array().unwrap().len(), 5);
    let beyond = app
        .get("/test/events?action=seeded&limit=20&page=9")
        .await
        .json();
    assert_eq!(beyond["data"].as_array().unwrap().len(), 0);
    assert_eq!(beyond["meta"]["total"], 45);
}

#[tokio::test]
async fn the_default_page_is_the_first_twenty_newest_first() {
    let app = spawn_app_with_fixtures().await;
    seed_events(&app.db, 25, "seeded").await;
    let body = app.get("/test/events").await.json();
    assert_eq!(body["meta"]["limit"], 20);
    assert_eq!(body["meta"]["page"], 1);
    let items = body["data"].as_array().unwrap();
    let stamps: Vec<&str> = items
        .iter()
        .map(|i| i["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first by default");
}

#[tokio::test]
async fn pages_do_not_overlap_and_cover_everything() {
    let app = spawn_app_with_fixtures().await;
    seed_events(&app.db, 23, "seeded").await;
    let mut seen = std::collections::HashSet::new();
    for page in 1..=3 {
        let body = app
            .get(&format!(
                "/test/events?action=seeded&limit=10&page={page}&sort=timestamp&order=asc"
            ))
            .await
            .json();
        for item in body["data"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "duplicate across pages"
            );
        }
    }
    assert_eq!(seen.len(), 23);
}

#[tokio::test]
async fn out_of_range_or_non_numeric_parameters_are_422_never_clamped() {
    let app = spawn_app_with_fixtures().await;
    for (query, field) in [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("page=1.5", "page"),
        ("sort=password_hash", "sort"),
        ("order=sideways", "order"),
    ] {
        let res = app.get(&format!("/test/events?{query}")).await;
        assert!(!res.field_error(field).is_empty(), "{query}");
    }
    let res = app.get("/test/events?sort=nope").await;
    assert_eq!(
        res.field_error("sort"),
        ["must be one of: timestamp, action"]
    );
    app.get("/test/events?limit=100").await.assert_status(200);
}

#[tokio::test]
async fn sorting_follows_the_whitelisted_field_and_order() {
    let app = spawn_app_with_fixtures().await;
    seed_events(&app.db, 3, "b_action").await;
    seed_events(&app.db, 3, "a_action").await;
    let body = app.get("/test/events?sort=action&order=asc").await.json();
    let actions: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "a_action");
    assert_eq!(actions[5], "b_action");
}
