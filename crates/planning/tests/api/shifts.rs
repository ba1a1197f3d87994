//! Shifts: create with local times (DST-correct), warnings, hard conflicts refused with nothing
//! written, updates re-checked, delete vs cancel, audit rows.

use serde_json::json;

use crate::{BASE, rules, world};

#[tokio::test]
async fn a_shift_is_placed_in_the_sites_time_zone_and_warns_about_a_missing_break() {
    let w = world().await;
    // 2027-03-27 22:00 → 06:00 in Paris: the clocks move forward that night (7 real hours).
    let data = w
        .post(
            &format!("{BASE}/shifts"),
            &w.planner,
            &json!({
                "site_id": w.site, "job_role_id": w.role, "team_id": w.team,
                "date": "2027-03-27", "start_time": "22:00", "end_time": "06:00",
                "break_minutes": 0, "headcount": 2, "notes": "Coulage de dalle"
            }),
        )
        .await
        .ok(201);
    let shift = &data["shift"];
    assert_eq!(shift["status"], "draft");
    assert_eq!(shift["timezone"], "Europe/Paris");
    assert_eq!(shift["starts_at"], "2027-03-27T21:00:00.000Z");
    assert_eq!(shift["ends_at"], "2027-03-28T04:00:00.000Z");
    assert_eq!(shift["date"], "2027-03-27");
    assert_eq!(shift["assigned"], 0);
    assert_eq!(
        rules(&data["conflicts"]),
        vec![("soft".to_owned(), "break_required".to_owned())]
    );
    assert_eq!(data["conflicts"][0]["details"]["missing_minutes"], 20.0);

    let got = w
        .get(
            &format!("{BASE}/shifts/{}", shift["id"].as_str().unwrap()),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(got["starts_at"], shift["starts_at"]);

    let audit = w.audit("create_shift").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["entity_id"], shift["id"]);
    assert!(audit[0]["before"].is_null());
    assert_eq!(audit[0]["after"]["id"], shift["id"]);
    assert_eq!(audit[0]["user_id"], w.planner.id.to_string());
}

#[tokio::test]
async fn bad_input_is_named_and_a_hard_conflict_writes_nothing() {
    let w = world().await;
    let url = format!("{BASE}/shifts");
    let base = json!({ "site_id": w.site, "job_role_id": w.role, "date": "2027-03-01", "start_time": "08:00", "end_time": "16:00" });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    w.post(&url, &w.planner, &with("start_time", json!("8h")))
        .await
        .field_error("start_time");
    w.post(&url, &w.planner, &with("headcount", json!(0)))
        .await
        .field_error("headcount");
    w.post(&url, &w.planner, &with("date", json!("1890-01-01")))
        .await
        .field_error("date");
    w.post(&url, &w.planner, &with("colour", json!("red")))
        .await
        .error(422, "VALIDATION_FAILED");
    // 02:30 does not exist in Paris on 2027-03-28.
    let msg = w
        .post(
            &url,
            &w.planner,
            &with("date", json!("2027-03-28"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("start_time".into(), json!("02:30"));
                    serde_json::Value::Object(o)
                })
                .unwrap(),
        )
        .await
        .field_error("start_time");
    assert!(msg[0].contains("does not exist"), "{msg:?}");

    // Start = end, and an unknown job role: hard conflicts, 409, nothing written.
    let err = w
        .post(&url, &w.planner, &with("end_time", json!("08:00")))
        .await
        .error(409, "CONFLICT");
    assert_eq!(
        rules(&err["details"]["conflicts"]),
        vec![("hard".to_owned(), "invalid_time_range".to_owned())]
    );
    let err = w
        .post(
            &url,
            &w.planner,
            &with("job_role_id", json!(uuid::Uuid::now_v7())),
        )
        .await
        .error(409, "CONFLICT");
    let found = &err["details"]["conflicts"][0];
    assert_eq!(found["rule"], "invalid_reference");
    assert_eq!(found["details"]["field"], "job_role_id");
    assert_eq!(w.shift_count().await, 0);
    assert!(w.audit("create_shift").await.is_empty());
}

#[tokio::test]
async fn an_update_is_checked_again_with_its_assignees() {
    let w = world().await;
    let morning = w.shift("2027-03-01", "06:00", "12:00", json!({})).await;
    let late = w.shift("2027-03-01", "13:00", "19:00", json!({})).await;
    w.assign(&morning, &w.alice).await;
    w.assign(&late, &w.alice).await;
    // Moving the late shift onto the morning double-books Alice: refused, unchanged.
    let url = format!("{BASE}/shifts/{}", late["id"].as_str().unwrap());
    let err = w
        .put(&url, &w.planner, &json!({ "start_time": "11:00" }))
        .await
        .error(409, "CONFLICT");
    let conflicts = err["details"]["conflicts"].as_array().unwrap();
    let double = conflicts
        .iter()
        .find(|c| c["rule"] == "double_booking")
        .unwrap();
    assert_eq!(double["details"]["overlap_minutes"], 60);
    assert_eq!(double["details"]["collaborator_id"], w.alice.id.to_string());
    let same = w.get(&url, &w.planner).await.ok(200);
    assert_eq!(same["start_time"], "13:00");
    // A change without conflict is saved, audited with before and after.
    let data = w
        .put(
            &url,
            &w.planner,
            &json!({ "start_time": "14:00", "end_time": "20:00", "notes": "Finitions" }),
        )
        .await
        .ok(200);
    assert_eq!(data["shift"]["start_time"], "14:00");
    assert_eq!(data["shift"]["notes"], "Finitions");
    let audit = w.audit("update_shift").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["before"]["start_time"], "13:00");
    assert_eq!(audit[0]["after"]["start_time"], "14:00");
    // Publishing through PUT is refused.
    w.put(&url, &w.planner, &json!({ "status": "published" }))
        .await
        .error(409, "CONFLICT");
    w.put(&url, &w.planner, &json!({ "status": "archived" }))
        .await
        .field_error("status");
}

#[tokio::test]
async fn deleting_a_draft_removes_it_and_deleting_a_published_shift_cancels_it() {
    let w = world().await;
    let draft = w.shift("2027-03-02", "08:00", "12:00", json!({})).await;
    w.assign(&draft, &w.alice).await;
    let url = format!("{BASE}/shifts/{}", draft["id"].as_str().unwrap());
    let gone = w.delete(&url, &w.planner).await.ok(200);
    assert_eq!(gone["outcome"], "deleted");
    w.get(&url, &w.planner).await.error(404, "NOT_FOUND");
    assert_eq!(w.assignment_count().await, 0);
    assert_eq!(w.audit("delete_shift").await.len(), 1);

    let kept = w.shift("2027-03-03", "08:00", "12:00", json!({})).await;
    w.assign(&kept, &w.bob).await;
    w.post(
        &format!("{BASE}/publish"),
        &w.planner,
        &json!({ "site_id": w.site, "from": "2027-03-03", "to": "2027-03-03" }),
    )
    .await
    .ok(200);
    let url = format!("{BASE}/shifts/{}", kept["id"].as_str().unwrap());
    let cancelled = w.delete(&url, &w.planner).await.ok(200);
    assert_eq!(cancelled["outcome"], "cancelled");
    assert_eq!(cancelled["shift"]["status"], "cancelled");
    assert_eq!(cancelled["shift"]["assignments"][0]["status"], "cancelled");
    assert_eq!(cancelled["shift"]["assigned"], 0);
    w.delete(&url, &w.planner).await.error(409, "CONFLICT");
    let audit = w.audit("cancel_shift").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["before"]["status"], "published");
    assert_eq!(audit[0]["after"]["status"], "cancelled");
    // Bob is told.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let told = entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(w.bob.id))
        .filter(entity::notification::Column::Kind.eq("shift_cancelled"))
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(told.len(), 1);
}

#[tokio::test]
async fn lists_filter_by_site_status_and_dates() {
    let w = world().await;
    for day in ["2027-03-01", "2027-03-02", "2027-03-08"] {
        w.shift(day, "08:00", "12:00", json!({})).await;
    }
    let page = w
        .app
        .send(w.app.authed(
            reqwest::Method::GET,
            &format!(
                "{BASE}/shifts?site_id={}&from=2027-03-01&to=2027-03-07&status=draft",
                w.site
            ),
            &w.planner.token,
        ))
        .await;
    page.assert_status(200);
    let body = page.json();
    assert_eq!(body["meta"]["total"], 2);
    assert_eq!(body["data"][0]["date"], "2027-03-01");
    w.get(
        &format!("{BASE}/shifts?from=2027-03-09&to=2027-03-01"),
        &w.planner,
    )
    .await
    .field_error("to");
    w.get(&format!("{BASE}/shifts?status=open"), &w.planner)
        .await
        .error(422, "VALIDATION_FAILED");
}

#[tokio::test]
async fn moving_a_shift_far_away_still_checks_its_assignees_there() {
    let w = world().await;
    let now = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let later = w.shift("2027-05-10", "08:00", "12:00", json!({})).await;
    w.assign(&now, &w.alice).await;
    w.assign(&later, &w.alice).await;
    // Ten weeks later, onto Alice's other shift: refused although the two were far apart.
    let url = format!("{BASE}/shifts/{}", now["id"].as_str().unwrap());
    let err = w
        .put(&url, &w.planner, &json!({ "date": "2027-05-10" }))
        .await
        .error(409, "CONFLICT");
    assert!(
        rules(&err["details"]["conflicts"])
            .contains(&("hard".to_owned(), "double_booking".to_owned()))
    );
    assert_eq!(w.get(&url, &w.planner).await.ok(200)["date"], "2027-03-01");
    // Far-out dates are refused by name, never a crash.
    w.get(
        &format!(
            "{BASE}/availability?collaborator_id={}&from=%2B262143-12-25",
            w.alice.id
        ),
        &w.planner,
    )
    .await
    .field_error("from");
    w.get(&format!("{BASE}/audit?to=%2B262143-12-31"), &w.planner)
        .await
        .field_error("to");
    w.get(
        &format!("{BASE}/leaves?from=2027-01-01&to=%2B262143-12-31"),
        &w.planner,
    )
    .await
    .field_error("to");
}
