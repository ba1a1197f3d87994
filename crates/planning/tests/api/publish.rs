//! Publishing: refused while a hard conflict remains, then all drafts at once with audit rows,
//! notifications and e-mails.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{BASE, world};

#[tokio::test]
async fn publish_is_refused_while_a_hard_conflict_remains_then_publishes_everything() {
    let w = world().await;
    let a = w.shift("2027-03-01", "08:00", "12:00", json!({})).await;
    let b = w.shift("2027-03-02", "08:00", "12:00", json!({})).await;
    let outside = w.shift("2027-03-09", "08:00", "12:00", json!({})).await;
    w.assign(&a, &w.alice).await;
    let bob_on_b = w.assign(&b, &w.bob).await;
    // Bob falls ill after being assigned: the plan now breaks a hard rule.
    w.post(&format!("{BASE}/leaves"), &w.planner, &json!({ "collaborator_id": w.bob.id, "starts_at": "2027-03-02T00:00:00Z", "ends_at": "2027-03-04T00:00:00Z", "kind": "maladie", "reason": "Grippe" }))
        .await
        .ok(201);
    let body = json!({ "site_id": w.site, "from": "2027-03-01", "to": "2027-03-07" });
    let err = w
        .post(&format!("{BASE}/publish"), &w.planner, &body)
        .await
        .error(409, "CONFLICT");
    let conflicts = err["details"]["conflicts"].as_array().unwrap();
    assert!(conflicts.iter().any(
        |c| c["rule"] == "on_leave" && c["details"]["collaborator_id"] == w.bob.id.to_string()
    ));
    let still = w
        .get(
            &format!("{BASE}/shifts/{}", a["id"].as_str().unwrap()),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(still["status"], "draft");
    assert!(w.audit("publish_planning").await.is_empty());

    // Reassign Bob's shift to Alice and publish.
    w.delete(
        &format!(
            "{BASE}/assignments/{}",
            bob_on_b["assignment"]["id"].as_str().unwrap()
        ),
        &w.planner,
    )
    .await
    .ok(200);
    w.assign(&b, &w.alice).await;
    let done = w
        .post(&format!("{BASE}/publish"), &w.planner, &body)
        .await
        .ok(200);
    assert_eq!(done["published"], 2);
    assert_eq!(done["notified"], 1);
    let ids: Vec<&str> = done["shift_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ids.contains(&a["id"].as_str().unwrap()) && ids.contains(&b["id"].as_str().unwrap()));
    let now_a = w
        .get(
            &format!("{BASE}/shifts/{}", a["id"].as_str().unwrap()),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(now_a["status"], "published");
    assert!(now_a["published_at"].is_string());
    let untouched = w
        .get(
            &format!("{BASE}/shifts/{}", outside["id"].as_str().unwrap()),
            &w.planner,
        )
        .await
        .ok(200);
    assert_eq!(untouched["status"], "draft");

    let per_shift = w.audit("publish_shift").await;
    assert_eq!(per_shift.len(), 2);
    assert_eq!(per_shift[0]["before"]["status"], "draft");
    assert_eq!(per_shift[0]["after"]["status"], "published");
    let whole = w.audit("publish_planning").await;
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0]["after"]["published"], 2);
    assert_eq!(whole[0]["user_id"], w.planner.id.to_string());

    let told = entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(w.alice.id))
        .filter(entity::notification::Column::Kind.eq("planning_published"))
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(told.len(), 1);
    assert!(
        told[0]
            .body
            .as_deref()
            .unwrap()
            .contains("2027-03-02 08:00–12:00")
    );
    let mail = w.app.last_mail(&w.alice.email, "planning_published").await;
    assert!(
        mail.body_text.contains("2027-03-01 08:00–12:00"),
        "{}",
        mail.body_text
    );
    assert!(
        w.app
            .outbox(&w.bob.email)
            .await
            .iter()
            .all(|m| m.template != "planning_published")
    );

    // Publishing again finds nothing to do; bad periods are named.
    let again = w
        .post(&format!("{BASE}/publish"), &w.planner, &body)
        .await
        .ok(200);
    assert_eq!(again["published"], 0);
    w.post(
        &format!("{BASE}/publish"),
        &w.planner,
        &json!({ "site_id": w.site, "from": "2027-03-07", "to": "2027-03-01" }),
    )
    .await
    .field_error("to");
    w.post(
        &format!("{BASE}/publish"),
        &w.planner,
        &json!({ "site_id": uuid::Uuid::now_v7(), "from": "2027-03-01", "to": "2027-03-02" }),
    )
    .await
    .field_error("site_id");
}
