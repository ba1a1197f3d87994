//! The planning's building blocks: sites' time zones, skills, teams, job roles, collaborators'
//! profiles, holidays and templates, with their bad input.

use serde_json::json;

use crate::{BASE, id, world};

#[tokio::test]
async fn building_blocks_are_checked_and_audited() {
    let w = world().await;
    w.put(
        &format!("{BASE}/sites/{}", w.site),
        &w.planner,
        &json!({ "timezone": "Mars/Olympus" }),
    )
    .await
    .field_error("timezone");
    w.put(
        &format!("{BASE}/sites/{}", w.site),
        &w.planner,
        &json!({ "timezone": "Europe/Paris", "capacity_hard": 2, "capacity_soft": 3 }),
    )
    .await
    .field_error("capacity_soft");
    w.put(
        &format!("{BASE}/sites/{}", uuid::Uuid::now_v7()),
        &w.planner,
        &json!({ "timezone": "UTC" }),
    )
    .await
    .error(404, "NOT_FOUND");
    let site = w
        .put(
            &format!("{BASE}/sites/{}", w.site),
            &w.planner,
            &json!({ "timezone": "America/Cayenne", "capacity_hard": 3, "capacity_soft": 2 }),
        )
        .await
        .ok(200);
    assert_eq!(site["timezone"], "America/Cayenne");
    let sites = w.get(&format!("{BASE}/sites"), &w.planner).await.ok(200);
    assert_eq!(sites[0]["capacity_hard"], 3);
    // Shifts follow the site's zone (UTC-3).
    let shift = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    assert_eq!(shift["starts_at"], "2027-03-01T11:00:00.000Z");
    // With shifts placed, the zone no longer changes (their instants were computed in it).
    let err = w
        .put(
            &format!("{BASE}/sites/{}", w.site),
            &w.planner,
            &json!({ "timezone": "Europe/Paris" }),
        )
        .await
        .error(409, "CONFLICT");
    assert_eq!(err["details"]["shifts"], 1);
    w.put(
        &format!("{BASE}/sites/{}", w.site),
        &w.planner,
        &json!({ "timezone": "America/Cayenne", "capacity_hard": 4 }),
    )
    .await
    .ok(200);

    w.post(
        &format!("{BASE}/skills"),
        &w.planner,
        &json!({ "name": "Habilitation électrique" }),
    )
    .await
    .error(409, "CONFLICT");
    w.post(
        &format!("{BASE}/skills"),
        &w.planner,
        &json!({ "name": "" }),
    )
    .await
    .field_error("name");
    w.post(
        &format!("{BASE}/skills"),
        &w.planner,
        &json!({ "name": "   " }),
    )
    .await
    .field_error("name");
    w.post(
        &format!("{BASE}/teams"),
        &w.planner,
        &json!({ "name": " " }),
    )
    .await
    .field_error("name");
    w.post(
        &format!("{BASE}/job-roles"),
        &w.planner,
        &json!({ "name": "Soudeur", "required_skills": [uuid::Uuid::now_v7()] }),
    )
    .await
    .field_error("required_skills");
    w.put(
        &format!("{BASE}/job-roles/{}", uuid::Uuid::now_v7()),
        &w.planner,
        &json!({ "name": "X" }),
    )
    .await
    .error(404, "NOT_FOUND");
    w.post(
        &format!("{BASE}/teams"),
        &w.planner,
        &json!({ "name": "T", "site_id": uuid::Uuid::now_v7() }),
    )
    .await
    .field_error("site_id");
    w.put(
        &format!("{BASE}/collaborators/{}", w.client.id),
        &w.planner,
        &json!({ "skills": [] }),
    )
    .await
    .error(404, "NOT_FOUND");
    w.put(
        &format!("{BASE}/collaborators/{}", w.carl.id),
        &w.planner,
        &json!({ "max_hours_week": 500 }),
    )
    .await
    .field_error("max_hours_week");
    let carl = w
        .put(
            &format!("{BASE}/collaborators/{}", w.carl.id),
            &w.planner,
            &json!({ "team_id": w.team, "skills": [w.skill, w.skill], "max_hours_week": 35 }),
        )
        .await
        .ok(200);
    assert_eq!(carl["skills"], json!([w.skill]));
    let team = w
        .get(
            &format!("{BASE}/collaborators?team_id={}", w.team),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(team.as_array().unwrap().len(), 3);

    let holiday = w
        .post(
            &format!("{BASE}/holidays"),
            &w.planner,
            &json!({ "date": "2027-05-01", "name": "Fête du travail" }),
        )
        .await
        .ok(201);
    w.post(
        &format!("{BASE}/holidays"),
        &w.planner,
        &json!({ "date": "2027-05-01", "name": "Encore" }),
    )
    .await
    .error(409, "CONFLICT");
    let listed = w
        .get(
            &format!(
                "{BASE}/holidays?site_id={}&from=2027-01-01&to=2027-12-31",
                w.site
            ),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    w.delete(&format!("{BASE}/holidays/{}", id(&holiday)), &w.planner)
        .await
        .ok(200);

    for action in [
        "update_site",
        "create_skill",
        "create_team",
        "create_job_role",
        "update_collaborator",
        "create_holiday",
        "delete_holiday",
    ] {
        assert!(!w.audit(action).await.is_empty(), "no {action} audit row");
    }
}

#[tokio::test]
async fn templates_make_draft_shifts_once_per_weekday() {
    let w = world().await;
    let url = format!("{BASE}/shift-templates");
    let body = json!({ "site_id": w.site, "job_role_id": w.role, "team_id": w.team, "name": "Matin", "start_time": "07:00", "end_time": "15:00", "days": [1, 3, 5], "break_minutes": 30, "headcount": 3 });
    let template = w.post(&url, &w.planner, &body).await.ok(201);
    assert_eq!(template["days"], json!([1, 3, 5]));
    let mut bad = body.clone();
    bad["days"] = json!([8]);
    w.post(&url, &w.planner, &bad).await.field_error("days");
    let mut bad = body.clone();
    bad["job_role_id"] = json!(uuid::Uuid::now_v7());
    w.post(&url, &w.planner, &bad)
        .await
        .field_error("job_role_id");

    let made = w
        .post(
            &format!("{url}/{}/generate", id(&template)),
            &w.planner,
            &json!({ "from": "2027-03-01", "to": "2027-03-14" }),
        )
        .await
        .ok(201);
    assert_eq!(made["created"], 6);
    let again = w
        .post(
            &format!("{url}/{}/generate", id(&template)),
            &w.planner,
            &json!({ "from": "2027-03-01", "to": "2027-03-21" }),
        )
        .await
        .ok(201);
    assert_eq!(again["created"], 3);
    assert_eq!(again["skipped"], 6);
    assert_eq!(w.shift_count().await, 9);
    let mut changed = body.clone();
    changed["name"] = json!("Matin long");
    let updated = w
        .put(&format!("{url}/{}", id(&template)), &w.planner, &changed)
        .await
        .ok(200);
    assert_eq!(updated["name"], "Matin long");
    w.delete(&format!("{url}/{}", id(&template)), &w.planner)
        .await
        .ok(200);
    w.get(&format!("{url}/{}", id(&template)), &w.planner)
        .await
        .error(404, "NOT_FOUND");
    assert_eq!(w.shift_count().await, 9);
}
