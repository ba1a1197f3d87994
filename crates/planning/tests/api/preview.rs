//! Conflict preview: the same engine, ranked fixes, nothing written.

use serde_json::{Value, json};

use crate::{BASE, World, world};

#[tokio::test]
async fn a_preview_finds_conflicts_suggests_fixes_and_changes_nothing() {
    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    w.assign(&a, &w.alice).await;
    let shifts = w.shift_count().await;
    let assignments = w.assignment_count().await;
    let audit = w.audit("create_shift").await.len();

    // A new shift overlapping Alice's, with Alice and Carl on it.
    let preview = w
        .post(
            &format!("{BASE}/conflicts/preview"),
            &w.planner,
            &json!({
                "shift": { "site_id": w.site, "job_role_id": w.role, "date": "2027-03-01", "start_time": "10:00", "end_time": "14:00", "headcount": 2 },
                "collaborator_ids": [w.alice.id, w.carl.id]
            }),
        )
        .await
        .ok(200);
    assert_eq!(preview["can_save"], false);
    let conflicts = preview["conflicts"].as_array().unwrap();
    let double = conflicts
        .iter()
        .find(|c| c["rule"] == "double_booking")
        .unwrap();
    assert_eq!(double["type"], "hard");
    let fixes = double["suggestions"].as_array().unwrap();
    // Bob is qualified and free: the first fix; moving the shift 2 h later clears the overlap.
    assert_eq!(fixes[0]["action"], "reassign");
    assert_eq!(fixes[0]["collaborator_id"], w.bob.id.to_string());
    assert!(
        fixes[0]["resolves"]
            .as_array()
            .unwrap()
            .contains(&json!("double_booking"))
    );
    let later = fixes.iter().find(|f| f["action"] == "move_shift").unwrap();
    assert_eq!(later["shift_offset_minutes"], 120);
    assert!(
        fixes
            .iter()
            .any(|f| f["action"] == "unassign" && f["coverage_delta"] == -1)
    );
    let skill = conflicts
        .iter()
        .find(|c| c["rule"] == "missing_skill")
        .unwrap();
    assert_eq!(skill["details"]["collaborator_id"], w.carl.id.to_string());

    // An existing shift with changes: moving it clear of Alice is fine.
    let ok = w
        .post(
            &format!("{BASE}/conflicts/preview"),
            &w.planner,
            &json!({ "shift_id": a["id"], "changes": { "start_time": "13:00", "end_time": "17:00" } }),
        )
        .await
        .ok(200);
    assert_eq!(ok["can_save"], true);
    assert_eq!(ok["shift"]["starts_at"], "2027-03-01T12:00:00.000Z");

    assert_eq!(w.shift_count().await, shifts);
    assert_eq!(w.assignment_count().await, assignments);
    assert_eq!(w.audit("create_shift").await.len(), audit);
    let same = w
        .get(
            &format!("{BASE}/shifts/{}", a["id"].as_str().unwrap()),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(same["start_time"], "08:00");

    // Bad payloads are named.
    w.post(&format!("{BASE}/conflicts/preview"), &w.planner, &json!({}))
        .await
        .field_error("shift");
    w.post(
        &format!("{BASE}/conflicts/preview"),
        &w.planner,
        &json!({ "shift_id": a["id"], "changes": { "start_time": "25:00" } }),
    )
    .await
    .field_error("start_time");
    w.post(
        &format!("{BASE}/conflicts/preview"),
        &w.planner,
        &json!({ "shift_id": uuid::Uuid::now_v7() }),
    )
    .await
    .error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_preview_never_offers_the_seat_to_someone_busy_on_another_site() {
    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    w.assign(&a, &w.alice).await;
    // Bob works on another chantier (no team) at the same time.
    let other_site = w
        .call(
            reqwest::Method::POST,
            "/api/chantiers",
            Some(&w.planner),
            Some(&json!({ "nom": "Dépôt Nord", "type": "construction", "client_id": w.client.company_id.unwrap(), "ville": "Lille" })),
        )
        .await
        .ok(201);
    let elsewhere = w
        .shift(
            "2027-03-01",
            "09:00",
            "15:00",
            json!({ "site_id": other_site["id"], "team_id": null }),
        )
        .await;
    w.assign(&elsewhere, &w.bob).await;

    let fixes = alices_double_booking_fixes(&w, "2027-03-01").await;
    assert!(
        !fixes
            .iter()
            .any(|f| f["collaborator_id"] == w.bob.id.to_string()),
        "Bob is busy on the other site: {fixes:?}"
    );
    // What is offered instead still clears the overlap (moving the shift, or the unassign).
    assert!(fixes.iter().any(|f| f["action"] == "unassign"));

    // The next day Bob is free, and the hours he works elsewhere count in the offer.
    let b = w.shift("2027-03-02", "08:00", "12:00", json!({})).await;
    w.assign(&b, &w.alice).await;
    let bob = alices_double_booking_fixes(&w, "2027-03-02")
        .await
        .into_iter()
        .find(|f| f["action"] == "reassign" && f["collaborator_id"] == w.bob.id.to_string())
        .unwrap();
    assert!(
        bob["description"]
            .as_str()
            .unwrap()
            .contains("(5.5 h planned"),
        "{bob}"
    );
}

/// The fixes a preview offers for Alice's double booking on a new 10:00–14:00 shift of the
/// world's site on `date`.
async fn alices_double_booking_fixes(w: &World, date: &str) -> Vec<Value> {
    let preview = w
        .post(
            &format!("{BASE}/conflicts/preview"),
            &w.planner,
            &json!({
                "shift": { "site_id": w.site, "job_role_id": w.role, "date": date, "start_time": "10:00", "end_time": "14:00", "headcount": 1 },
                "collaborator_ids": [w.alice.id]
            }),
        )
        .await
        .ok(200);
    preview["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "double_booking")
        .unwrap()["suggestions"]
        .as_array()
        .unwrap()
        .clone()
}

/// Previews take turns ([`planning::PREVIEWS_PER_CORE`] per core): with every turn taken, a
/// preview does not answer (a free one answers in tens of milliseconds), and it answers once a
/// turn is free, giving its turn back.
#[tokio::test]
async fn a_preview_waits_for_a_turn_when_every_turn_is_taken() {
    use std::time::Duration;

    use planning::conflicts::service::{self, Subject};
    use planning::shifts::service::ShiftChange;

    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let id = uuid::Uuid::parse_str(a["id"].as_str().unwrap()).unwrap();
    let state = planning::PlanningState::from_config(&w.app.config, shared::clock::Clock::system())
        .unwrap();
    let turns = state.previews.available_permits();
    assert!(turns >= planning::PREVIEWS_PER_CORE);
    let taken = std::sync::Arc::clone(&state.previews)
        .acquire_many_owned(u32::try_from(turns).unwrap())
        .await
        .unwrap();
    let preview = service::preview(
        &w.app.db,
        &state,
        Subject::Existing(id, ShiftChange::default()),
        vec![w.alice.id],
    );
    tokio::pin!(preview);
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut preview)
            .await
            .is_err(),
        "the preview ran without a turn"
    );
    drop(taken);
    let done = tokio::time::timeout(Duration::from_secs(10), preview)
        .await
        .expect("the preview still waited after a turn was freed")
        .unwrap();
    assert!(done.can_save);
    assert_eq!(done.shift.collaborator_ids, vec![w.alice.id]);
    assert_eq!(state.previews.available_permits(), turns);
}
