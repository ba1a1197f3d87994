//! Auto-assign end to end on the job queue, and cancellation.

use serde_json::{Value, json};

use crate::{BASE, World, world, world_with};

async fn finished(w: &World, job: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = w
            .get(&format!("{BASE}/auto-assign/status/{job}"), &w.planner)
            .await
            .ok(200);
        if matches!(
            status["state"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "auto-assign never finished: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn auto_assign_fills_open_seats_with_proposals_and_leaves_confirmed_ones_alone() {
    let w = world().await;
    // A week of morning shifts for two people each; Alice is confirmed on Monday.
    let mut shifts = Vec::new();
    for day in 1..=5 {
        shifts.push(
            w.shift(&format!("2027-03-0{day}"), "07:00", "15:00", json!({}))
                .await,
        );
    }
    let pinned = w.assign(&shifts[0], &w.alice).await;
    let started = w
        .app
        .send(
            w.app
                .authed(
                    reqwest::Method::POST,
                    &format!("{BASE}/auto-assign/start"),
                    &w.planner.token,
                )
                .json(&json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-07" })),
        )
        .await;
    let job = started.ok(202);
    let id = job["job_id"].as_str().unwrap().to_owned();
    let status = finished(&w, &id).await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["progress"], 100);
    assert_eq!(status["required"], 10);
    // Only Alice and Bob are qualified: one shift a day each, every seat filled.
    assert_eq!(status["filled"], 10);
    assert_eq!(status["coverage"], 1.0);
    assert_eq!(status["proposed"], 9);
    assert!(
        status["remaining_conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] != "hard")
    );
    assert!(!status["log"].as_array().unwrap().is_empty());
    assert!(status["elapsed_ms"].as_i64().is_some());

    let all = w
        .get(&format!("{BASE}/assignments?limit=100"), &w.planner)
        .await
        .ok(200);
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 10);
    for row in rows {
        if row["id"] == pinned["assignment"]["id"] {
            assert_eq!(row["status"], "confirmed");
            assert_eq!(row["source"], "manual");
        } else {
            assert_eq!(row["status"], "proposed");
            assert_eq!(row["source"], "auto");
            assert!(row["score"].as_f64().is_some_and(|s| s > 0.0 && s <= 1.0));
            assert_ne!(row["collaborator_id"], w.carl.id.to_string());
        }
    }
    // The stored plan publishes: no hard conflict anywhere.
    w.post(
        &format!("{BASE}/publish"),
        &w.planner,
        &json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-07" }),
    )
    .await
    .ok(200);
    assert_eq!(w.audit("assign_collaborator").await.len(), 10);
    // A finished run cannot be cancelled.
    w.delete(&format!("{BASE}/auto-assign/{id}"), &w.planner)
        .await
        .error(409, "CONFLICT");
}

#[tokio::test]
async fn a_queued_run_can_be_cancelled_and_never_runs() {
    let w = world_with(
        test_support::TestOptions::default()
            .with_fixtures()
            .env("JOB_WORKERS", "0"),
    )
    .await;
    w.shift("2027-03-01", "07:00", "15:00", json!({})).await;
    let job = w
        .post(
            &format!("{BASE}/auto-assign/start"),
            &w.planner,
            &json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-01" }),
        )
        .await
        .ok(202);
    assert_eq!(job["state"], "queued");
    let id = job["job_id"].as_str().unwrap();
    let cancelled = w
        .delete(&format!("{BASE}/auto-assign/{id}"), &w.planner)
        .await
        .ok(200);
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(w.assignment_count().await, 0);
    w.get(
        &format!("{BASE}/auto-assign/status/{}", uuid::Uuid::now_v7()),
        &w.planner,
    )
    .await
    .error(404, "NOT_FOUND");
    w.post(
        &format!("{BASE}/auto-assign/start"),
        &w.planner,
        &json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-06-01" }),
    )
    .await
    .field_error("to");
    w.post(&format!("{BASE}/auto-assign/start"), &w.planner, &json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-02", "time_budget_seconds": 0 })).await.field_error("time_budget_seconds");
}
