//! Who reaches what: planners everything; a collaborator their own published shifts,
//! assignments, availability and leaves, and declaring availability; everyone else nothing.

use reqwest::Method;
use serde_json::json;

use crate::{BASE, World, world};

/// Every route of the planning, with a body for writes.
fn routes(
    w: &World,
    shift: &str,
    assignment: &str,
) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let id = uuid::Uuid::now_v7();
    vec![
        (Method::GET, format!("{BASE}/shift-templates"), None),
        (
            Method::POST,
            format!("{BASE}/shift-templates"),
            Some(
                json!({ "site_id": w.site, "job_role_id": w.role, "name": "Matin", "start_time": "07:00", "end_time": "15:00", "days": [1] }),
            ),
        ),
        (Method::GET, format!("{BASE}/shift-templates/{id}"), None),
        (
            Method::PUT,
            format!("{BASE}/shift-templates/{id}"),
            Some(
                json!({ "site_id": w.site, "job_role_id": w.role, "name": "Matin", "start_time": "07:00", "end_time": "15:00", "days": [1] }),
            ),
        ),
        (Method::DELETE, format!("{BASE}/shift-templates/{id}"), None),
        (
            Method::POST,
            format!("{BASE}/shift-templates/{id}/generate"),
            Some(json!({ "from": "2027-03-01", "to": "2027-03-07" })),
        ),
        (
            Method::POST,
            format!("{BASE}/shifts"),
            Some(
                json!({ "site_id": w.site, "job_role_id": w.role, "date": "2027-03-10", "start_time": "07:00", "end_time": "15:00" }),
            ),
        ),
        (
            Method::PUT,
            format!("{BASE}/shifts/{shift}"),
            Some(json!({ "notes": "x" })),
        ),
        (Method::DELETE, format!("{BASE}/shifts/{shift}"), None),
        (
            Method::POST,
            format!("{BASE}/assignments"),
            Some(json!({ "shift_id": shift, "collaborator_id": w.bob.id })),
        ),
        (
            Method::PUT,
            format!("{BASE}/assignments/{assignment}"),
            Some(json!({ "status": "declined" })),
        ),
        (
            Method::DELETE,
            format!("{BASE}/assignments/{assignment}"),
            None,
        ),
        (Method::GET, format!("{BASE}/rules"), None),
        (
            Method::PUT,
            format!("{BASE}/rules/min_rest"),
            Some(json!({ "params": { "hours": 12 } })),
        ),
        (
            Method::POST,
            format!("{BASE}/conflicts/preview"),
            Some(json!({ "shift_id": shift })),
        ),
        (
            Method::POST,
            format!("{BASE}/publish"),
            Some(json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-02" })),
        ),
        (
            Method::POST,
            format!("{BASE}/auto-assign/start"),
            Some(json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-02" })),
        ),
        (Method::GET, format!("{BASE}/auto-assign/status/{id}"), None),
        (Method::DELETE, format!("{BASE}/auto-assign/{id}"), None),
        (Method::GET, format!("{BASE}/audit"), None),
        (Method::GET, format!("{BASE}/skills"), None),
        (
            Method::POST,
            format!("{BASE}/skills"),
            Some(json!({ "name": "Soudure" })),
        ),
        (Method::GET, format!("{BASE}/teams"), None),
        (
            Method::POST,
            format!("{BASE}/teams"),
            Some(json!({ "name": "B" })),
        ),
        (
            Method::PUT,
            format!("{BASE}/teams/{}", w.team),
            Some(json!({ "name": "A2" })),
        ),
        (Method::GET, format!("{BASE}/job-roles"), None),
        (
            Method::POST,
            format!("{BASE}/job-roles"),
            Some(json!({ "name": "Grutier" })),
        ),
        (
            Method::PUT,
            format!("{BASE}/job-roles/{}", w.role),
            Some(json!({ "name": "Électricien" })),
        ),
        (Method::GET, format!("{BASE}/sites"), None),
        (
            Method::PUT,
            format!("{BASE}/sites/{}", w.site),
            Some(json!({ "timezone": "Europe/Paris" })),
        ),
        (Method::GET, format!("{BASE}/collaborators"), None),
        (
            Method::PUT,
            format!("{BASE}/collaborators/{}", w.bob.id),
            Some(json!({ "skills": [] })),
        ),
        (Method::GET, format!("{BASE}/holidays"), None),
        (
            Method::POST,
            format!("{BASE}/holidays"),
            Some(json!({ "date": "2027-05-01", "name": "Fête du travail" })),
        ),
        (Method::DELETE, format!("{BASE}/holidays/{id}"), None),
        (
            Method::POST,
            format!("{BASE}/leaves"),
            Some(
                json!({ "collaborator_id": w.bob.id, "starts_at": "2027-04-01T00:00:00Z", "ends_at": "2027-04-02T00:00:00Z", "kind": "conges" }),
            ),
        ),
        (Method::DELETE, format!("{BASE}/leaves/{id}"), None),
    ]
}

#[tokio::test]
async fn only_planners_change_the_planning_and_other_roles_get_nothing() {
    let w = world().await;
    let shift = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let assignment = w.assign(&shift, &w.alice).await;
    let (s, a) = (
        shift["id"].as_str().unwrap().to_owned(),
        assignment["assignment"]["id"].as_str().unwrap().to_owned(),
    );
    let shifts = w.shift_count().await;
    let assignments = w.assignment_count().await;
    for (method, path, body) in routes(&w, &s, &a) {
        for user in [&w.alice, &w.client, &w.revendeur] {
            w.call(method.clone(), &path, Some(user), body.as_ref())
                .await
                .error(403, "FORBIDDEN");
        }
        w.call(method.clone(), &path, None, body.as_ref())
            .await
            .error(401, "UNAUTHENTICATED");
    }
    // The collaborator-readable routes refuse other roles and anonymous callers too.
    for path in [
        format!("{BASE}/shifts"),
        format!("{BASE}/shifts/{s}"),
        format!("{BASE}/assignments"),
        format!("{BASE}/assignments/{a}"),
        format!("{BASE}/availability"),
        format!("{BASE}/leaves"),
    ] {
        for user in [&w.client, &w.revendeur] {
            w.get(&path, user).await.error(403, "FORBIDDEN");
        }
        w.call(Method::GET, &path, None, None)
            .await
            .error(401, "UNAUTHENTICATED");
    }
    assert_eq!(w.shift_count().await, shifts);
    assert_eq!(w.assignment_count().await, assignments);
}

#[tokio::test]
async fn a_collaborator_reads_only_their_own_published_shifts_and_declares_availability() {
    let w = world().await;
    let mine = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let theirs = w.shift("2027-03-02", "08:00", "12:00", json!({})).await;
    let draft = w.shift("2027-03-20", "08:00", "12:00", json!({})).await;
    let a = w.assign(&mine, &w.alice).await;
    let b = w.assign(&theirs, &w.bob).await;
    w.assign(&draft, &w.alice).await;
    w.post(
        &format!("{BASE}/publish"),
        &w.planner,
        &json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-07" }),
    )
    .await
    .ok(200);

    let list = w.get(&format!("{BASE}/shifts"), &w.alice).await.ok(200);
    let ids: Vec<&serde_json::Value> = list.as_array().unwrap().iter().map(|s| &s["id"]).collect();
    assert_eq!(ids, vec![&mine["id"]]);
    assert_eq!(list[0]["assignments"].as_array().unwrap().len(), 1);
    w.get(
        &format!("{BASE}/shifts/{}", mine["id"].as_str().unwrap()),
        &w.alice,
    )
    .await
    .ok(200);
    // Bob's shift and Alice's own draft are not hers to see.
    w.get(
        &format!("{BASE}/shifts/{}", theirs["id"].as_str().unwrap()),
        &w.alice,
    )
    .await
    .error(404, "NOT_FOUND");
    w.get(
        &format!("{BASE}/shifts/{}", draft["id"].as_str().unwrap()),
        &w.alice,
    )
    .await
    .error(404, "NOT_FOUND");
    w.get(
        &format!("{BASE}/shifts?collaborator_id={}", w.bob.id),
        &w.alice,
    )
    .await
    .error(403, "FORBIDDEN");
    let mine_only = w
        .get(&format!("{BASE}/assignments"), &w.alice)
        .await
        .ok(200);
    assert_eq!(mine_only.as_array().unwrap().len(), 1);
    assert_eq!(mine_only[0]["id"], a["assignment"]["id"]);
    w.get(
        &format!(
            "{BASE}/assignments/{}",
            b["assignment"]["id"].as_str().unwrap()
        ),
        &w.alice,
    )
    .await
    .error(404, "NOT_FOUND");

    // Availability: her own, declared by herself; not Bob's, not a team's.
    let window = w
        .post(&format!("{BASE}/availability"), &w.alice, &json!({ "starts_at": "2027-03-08T06:00:00Z", "ends_at": "2027-03-08T18:00:00Z", "note": "Dispo lundi" }))
        .await
        .ok(201);
    assert_eq!(window["collaborator_id"], w.alice.id.to_string());
    w.post(&format!("{BASE}/availability"), &w.alice, &json!({ "collaborator_id": w.bob.id, "starts_at": "2027-03-08T06:00:00Z", "ends_at": "2027-03-08T18:00:00Z" })).await.error(403, "FORBIDDEN");
    w.post(
        &format!("{BASE}/availability"),
        &w.alice,
        &json!({ "starts_at": "2027-03-08T18:00:00Z", "ends_at": "2027-03-08T06:00:00Z" }),
    )
    .await
    .field_error("ends_at");
    let read = w
        .get(
            &format!("{BASE}/availability?from=2027-03-01&to=2027-03-14"),
            &w.alice,
        )
        .await
        .ok(200);
    assert_eq!(read[0]["collaborator_id"], w.alice.id.to_string());
    assert_eq!(read[0]["windows"].as_array().unwrap().len(), 1);
    assert_eq!(read[0]["shifts"].as_array().unwrap().len(), 1);
    assert_eq!(read[0]["worked_hours"], 3.5);
    w.get(
        &format!("{BASE}/availability?collaborator_id={}", w.bob.id),
        &w.alice,
    )
    .await
    .error(403, "FORBIDDEN");
    w.get(&format!("{BASE}/availability?team_id={}", w.team), &w.alice)
        .await
        .error(403, "FORBIDDEN");
    // A shift outside her declared window on that day warns (soft).
    let outside = w.shift("2027-03-08", "17:00", "21:00", json!({})).await;
    let data = w.assign(&outside, &w.alice).await;
    assert!(
        crate::rules(&data["conflicts"])
            .contains(&("soft".to_owned(), "outside_availability".to_owned()))
    );
    // Drafts stay hidden from her until published.
    let month = w
        .get(
            &format!("{BASE}/availability?from=2027-03-01&to=2027-03-31"),
            &w.alice,
        )
        .await
        .ok(200);
    assert_eq!(month[0]["shifts"].as_array().unwrap().len(), 1);
    // The planner reads the team.
    let team = w
        .get(
            &format!(
                "{BASE}/availability?team_id={}&from=2027-03-01&to=2027-03-14",
                w.team
            ),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(team.as_array().unwrap().len(), 2);
    w.get(&format!("{BASE}/availability"), &w.planner)
        .await
        .field_error("collaborator_id");
    w.get(
        &format!(
            "{BASE}/availability?collaborator_id={}&from=2027-01-01&to=2027-12-31",
            w.alice.id
        ),
        &w.planner,
    )
    .await
    .field_error("to");
    // Removing a window: hers yes, not someone else's.
    let bob_window = w
        .post(&format!("{BASE}/availability"), &w.planner, &json!({ "collaborator_id": w.bob.id, "starts_at": "2027-03-08T06:00:00Z", "ends_at": "2027-03-08T18:00:00Z" }))
        .await
        .ok(201);
    w.delete(
        &format!("{BASE}/availability/{}", bob_window["id"].as_str().unwrap()),
        &w.alice,
    )
    .await
    .error(404, "NOT_FOUND");
    w.delete(
        &format!("{BASE}/availability/{}", window["id"].as_str().unwrap()),
        &w.alice,
    )
    .await
    .ok(200);
    assert_eq!(w.audit("declare_availability").await.len(), 2);
}
