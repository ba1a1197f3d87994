//! Assignments: hard conflicts refused with nothing written (double booking, rest, skill,
//! leave, holiday, headcount), soft ones returned, status moves, delete, audit.

use serde_json::json;

use crate::{BASE, rules, world};

#[tokio::test]
async fn a_double_booking_is_refused_and_nothing_is_written() {
    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let b = w.shift("2027-03-01", "11:00", "15:00", json!({})).await;
    let first = w.assign(&a, &w.alice).await;
    assert_eq!(first["assignment"]["status"], "confirmed");
    assert_eq!(first["assignment"]["source"], "manual");
    assert_eq!(first["conflicts"], json!([]));
    let before = w.assignment_count().await;
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": b["id"], "collaborator_id": w.alice.id }),
        )
        .await
        .error(409, "CONFLICT");
    let conflicts = &err["details"]["conflicts"];
    assert!(rules(conflicts).contains(&("hard".to_owned(), "double_booking".to_owned())));
    let double = conflicts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "double_booking")
        .unwrap();
    assert_eq!(double["details"]["overlap_minutes"], 60);
    assert_eq!(double["details"]["shift_id"], b["id"]);
    assert_eq!(double["details"]["other_shift_id"], a["id"]);
    assert_eq!(w.assignment_count().await, before);
    assert_eq!(w.audit("assign_collaborator").await.len(), 1);
}

#[tokio::test]
async fn rest_skill_leave_holiday_and_headcount_are_hard() {
    let w = world().await;
    // Rest: 14:00–22:00 then 06:00 the next day is 8 h of rest.
    let evening = w.shift("2027-03-01", "14:00", "22:00", json!({})).await;
    let morning = w.shift("2027-03-02", "06:00", "12:00", json!({})).await;
    w.assign(&evening, &w.alice).await;
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": morning["id"], "collaborator_id": w.alice.id }),
        )
        .await
        .error(409, "CONFLICT");
    let rest = err["details"]["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "min_rest")
        .unwrap()
        .clone();
    assert_eq!(rest["details"]["rest_minutes"], 480);
    assert_eq!(rest["details"]["missing_minutes"], 180);
    // Skill: Carl has none.
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": morning["id"], "collaborator_id": w.carl.id }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "missing_skill".to_owned())]
    );
    // Leave: Bob is away on the 2nd.
    w.post(&format!("{BASE}/leaves"), &w.planner, &json!({ "collaborator_id": w.bob.id, "starts_at": "2027-03-02T00:00:00Z", "ends_at": "2027-03-03T00:00:00Z", "kind": "conges" })).await.ok(201);
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": morning["id"], "collaborator_id": w.bob.id }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "on_leave".to_owned())]
    );
    // Holiday on the site.
    w.post(
        &format!("{BASE}/holidays"),
        &w.planner,
        &json!({ "site_id": w.site, "date": "2027-03-04", "name": "Fête locale" }),
    )
    .await
    .ok(201);
    let feast = w.shift("2027-03-04", "08:00", "12:00", json!({})).await;
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": feast["id"], "collaborator_id": w.bob.id }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "public_holiday".to_owned())]
    );
    // Headcount: one seat, two people.
    let solo = w
        .shift("2027-03-05", "08:00", "12:00", json!({ "headcount": 1 }))
        .await;
    w.assign(&solo, &w.bob).await;
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": solo["id"], "collaborator_id": w.alice.id }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "headcount_exceeded".to_owned())]
    );
    assert_eq!(w.assignment_count().await, 2);
}

#[tokio::test]
async fn soft_conflicts_come_back_with_the_write_and_rules_can_change() {
    let w = world().await;
    // A 12-hour day: over the 10-hour daily cap (soft).
    let long = w.shift("2027-03-01", "06:00", "18:30", json!({})).await;
    let data = w.assign(&long, &w.alice).await;
    let found = rules(&data["conflicts"]);
    assert_eq!(found, vec![("soft".to_owned(), "max_hours_day".to_owned())]);
    assert_eq!(data["conflicts"][0]["details"]["over_hours"], 2.0);
    // The planner makes the daily cap hard: Bob is then refused.
    let rule = w
        .put(
            &format!("{BASE}/rules/max_hours_day"),
            &w.planner,
            &json!({ "severity": "hard", "params": { "hours": 11 } }),
        )
        .await
        .ok(200);
    assert_eq!(rule["severity"], "hard");
    assert_eq!(rule["params"]["hours"], 11);
    let err = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": long["id"], "collaborator_id": w.bob.id }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "max_hours_day".to_owned())]
    );
    // Structural rules cannot be turned off; unknown parameters are named.
    w.put(
        &format!("{BASE}/rules/double_booking"),
        &w.planner,
        &json!({ "enabled": false }),
    )
    .await
    .field_error("enabled");
    w.put(
        &format!("{BASE}/rules/min_rest"),
        &w.planner,
        &json!({ "params": { "minutes": 3 } }),
    )
    .await
    .field_error("params.minutes");
    w.put(
        &format!("{BASE}/rules/min_rest"),
        &w.planner,
        &json!({ "params": { "hours": 99 } }),
    )
    .await
    .field_error("params.hours");
    w.put(
        &format!("{BASE}/rules/nope"),
        &w.planner,
        &json!({ "enabled": true }),
    )
    .await
    .error(404, "NOT_FOUND");
    let all = w.get(&format!("{BASE}/rules"), &w.planner).await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 17);
    assert_eq!(w.audit("update_rule").await.len(), 1);
}

#[tokio::test]
async fn status_moves_are_checked_and_audited() {
    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let b = w.shift("2027-03-01", "10:00", "14:00", json!({})).await;
    let proposed = w
        .post(
            &format!("{BASE}/assignments"),
            &w.planner,
            &json!({ "shift_id": a["id"], "collaborator_id": w.alice.id, "status": "proposed" }),
        )
        .await
        .ok(201);
    let url = format!(
        "{BASE}/assignments/{}",
        proposed["assignment"]["id"].as_str().unwrap()
    );
    let declined = w
        .put(&url, &w.planner, &json!({ "status": "declined" }))
        .await
        .ok(200);
    assert_eq!(declined["assignment"]["status"], "declined");
    // Declined frees Alice: she can take b; bringing a back would now double-book her.
    w.assign(&b, &w.alice).await;
    let err = w
        .put(&url, &w.planner, &json!({ "status": "confirmed" }))
        .await
        .error(409, "CONFLICT");
    assert!(
        rules(&err["details"]["conflicts"])
            .contains(&("hard".to_owned(), "double_booking".to_owned()))
    );
    let still = w.get(&url, &w.planner).await.ok(200);
    assert_eq!(still["status"], "declined");
    w.put(&url, &w.planner, &json!({ "status": "maybe" }))
        .await
        .field_error("status");
    w.post(
        &format!("{BASE}/assignments"),
        &w.planner,
        &json!({ "shift_id": a["id"], "collaborator_id": w.bob.id, "status": "declined" }),
    )
    .await
    .field_error("status");
    w.post(
        &format!("{BASE}/assignments"),
        &w.planner,
        &json!({ "shift_id": uuid::Uuid::now_v7(), "collaborator_id": w.bob.id }),
    )
    .await
    .field_error("shift_id");
    // Already on the shift.
    w.post(
        &format!("{BASE}/assignments"),
        &w.planner,
        &json!({ "shift_id": a["id"], "collaborator_id": w.alice.id }),
    )
    .await
    .error(409, "CONFLICT");
    let audit = w.audit("update_assignment").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["before"]["status"], "proposed");
    assert_eq!(audit[0]["after"]["status"], "declined");
    w.delete(&url, &w.planner).await.ok(200);
    w.delete(&url, &w.planner).await.error(404, "NOT_FOUND");
    let gone = w.audit("delete_assignment").await;
    assert_eq!(gone.len(), 1);
    assert!(gone[0]["after"].is_null());
    assert_eq!(gone[0]["before"]["collaborator_id"], w.alice.id.to_string());
}
