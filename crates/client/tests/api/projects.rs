//! Projects: list with filters, detail, comments, files, stats, timeline, status requests.

use entity::project::{self, ProjectStatus};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{World, audits, same_page, world};

fn file(name: &str, mime: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    )
}

async fn upload_to(w: &World, project: uuid::Uuid, form: Form) -> test_support::TestResponse {
    w.app
        .send(
            w.app
                .authed(
                    Method::POST,
                    &format!("/api/client/projects/{project}/upload"),
                    &w.client_a.token,
                )
                .multipart(form),
        )
        .await
}

#[tokio::test]
async fn the_list_filters_searches_sorts_and_pages() {
    let w = world().await;
    let a = w.company_a();
    w.project(a, "Rénovation du siège", ProjectStatus::InProgress)
        .await;
    w.project(a, "Extension entrepôt", ProjectStatus::Planning)
        .await;
    w.project(a, "Parking 100% visiteurs", ProjectStatus::Delivered)
        .await;
    let all = w
        .app
        .send(w.app.authed(
            Method::GET,
            "/api/client/projects?limit=2&sort=name&order=asc",
            &w.client_a.token,
        ))
        .await;
    let body = all.json();
    assert_eq!(body["meta"]["total"], 3, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["name"], "Extension entrepôt");
    let in_progress = w
        .get("/api/client/projects?status=in_progress", &w.client_a)
        .await
        .ok(200);
    assert_eq!(in_progress.as_array().unwrap().len(), 1);
    assert_eq!(in_progress[0]["budget_used_percent"], 25.0);
    // Case-insensitive, wildcards taken literally.
    let found = w
        .get("/api/client/projects?search=EXTENSION", &w.client_a)
        .await
        .ok(200);
    assert_eq!(found.as_array().unwrap().len(), 1);
    let percent = w
        .get("/api/client/projects?search=%25", &w.client_a)
        .await
        .ok(200);
    // A literal `%`: as a wildcard it would match all three.
    assert_eq!(percent.as_array().unwrap().len(), 1);
    let underscore = w
        .get("/api/client/projects?search=_", &w.client_a)
        .await
        .ok(200);
    assert!(underscore.as_array().unwrap().is_empty());
    let today = w.today();
    let range = w
        .get(
            &format!("/api/client/projects?date_from={today}&date_to={today}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(range.as_array().unwrap().len(), 3);
    let tomorrow = today + chrono::Days::new(1);
    let later = w
        .get(
            &format!("/api/client/projects?date_from={tomorrow}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert!(later.as_array().unwrap().is_empty());
    let before = w
        .get("/api/client/projects?date_to=2001-01-01", &w.client_a)
        .await
        .ok(200);
    assert!(before.as_array().unwrap().is_empty());
    // Days far outside any project's life are refused by name, not by the database.
    for query in [
        "date_to=%2B262142-12-31",
        "date_from=0001-01-01",
        "date_to=2999-01-01",
    ] {
        let refused = w
            .get(&format!("/api/client/projects?{query}"), &w.client_a)
            .await;
        let field = query.split('=').next().unwrap();
        assert!(
            !refused.field_error(field).is_empty(),
            "{query}: {}",
            refused.status
        );
    }
    // Bad input names the field.
    assert!(
        !w.get("/api/client/projects?status=done", &w.client_a)
            .await
            .field_error("status")
            .is_empty()
    );
    assert!(
        !w.get("/api/client/projects?sort=budget", &w.client_a)
            .await
            .field_error("sort")
            .is_empty()
    );
    assert!(
        !w.get("/api/client/projects?colour=red", &w.client_a)
            .await
            .field_error("colour")
            .is_empty()
    );
    let reversed = w
        .get(
            "/api/client/projects?date_from=2026-05-02&date_to=2026-05-01",
            &w.client_a,
        )
        .await;
    assert!(!reversed.field_error("date_to").is_empty());
}

#[tokio::test]
async fn stats_are_computed_from_the_projects() {
    let w = world().await;
    let a = w.company_a();
    let un = w.project(a, "Un", ProjectStatus::InProgress).await;
    w.project(a, "Deux", ProjectStatus::InProgress).await;
    let done = w.project(a, "Trois", ProjectStatus::Delivered).await;
    w.put(
        &format!("/api/client/projects/{done}/status"),
        &w.client_a,
        &json!({ "status": "completed" }),
    )
    .await
    .ok(200);
    let delivered = w.project(a, "Quatre", ProjectStatus::Delivered).await;
    let other = w
        .project(w.company_b(), "Autre", ProjectStatus::InProgress)
        .await;
    // Past their end date: one late project (in progress), and three that are not late (a
    // completed one, a delivered one awaiting acceptance, another company's).
    project::Entity::update_many()
        .col_expr(
            project::Column::EndDate,
            Expr::value(w.today() - chrono::Days::new(1)),
        )
        .filter(project::Column::Id.is_in([un, done, delivered, other]))
        .exec(&w.app.db)
        .await
        .unwrap();
    let stats = w
        .get("/api/client/projects/stats", &w.client_a)
        .await
        .ok(200);
    assert_eq!(stats["total"], 4);
    assert_eq!(stats["active"], 3);
    assert_eq!(stats["overdue"], 1);
    // Four budgets of 10,000.00 with 2,500.00 spent each.
    assert_eq!(stats["budget_total_cents"], 4_000_000);
    assert_eq!(stats["spent_total_cents"], 1_000_000);
    assert_eq!(stats["budget_used_percent"], 25.0);
    // Active projects are at 10 %.
    assert_eq!(stats["average_progress"], 10.0);
    let by_status = stats["by_status"].as_array().unwrap();
    assert_eq!(by_status.len(), 6);
    let count = |s: &str| by_status.iter().find(|x| x["status"] == s).unwrap()["count"].clone();
    assert_eq!(count("in_progress"), 2);
    assert_eq!(count("delivered"), 1);
    assert_eq!(count("completed"), 1);
    assert_eq!(count("cancelled"), 0);
    // The dashboard shows the same figures.
    let dashboard = w
        .get("/api/client/dashboard/stats", &w.client_a)
        .await
        .ok(200);
    assert_eq!(dashboard["projects"]["total"], 4);
    assert_eq!(dashboard["projects"]["active"], 3);
    assert_eq!(dashboard["projects"]["completed"], 1);
    assert_eq!(dashboard["projects"]["overdue"], 1);
}

#[tokio::test]
async fn a_client_approves_pauses_resumes_and_sends_back_but_nothing_else() {
    let w = world().await;
    let p = w
        .project(w.company_a(), "Livraison", ProjectStatus::Delivered)
        .await;
    let path = format!("/api/client/projects/{p}/status");
    let detail = w
        .get(&format!("/api/client/projects/{p}"), &w.client_a)
        .await
        .ok(200);
    assert_eq!(
        detail["allowed_status_changes"],
        json!(["completed", "in_progress"])
    );
    // Sending back needs a reason; nothing changes without it.
    let no_reason = w
        .put(&path, &w.client_a, &json!({ "status": "in_progress" }))
        .await;
    assert!(!no_reason.field_error("reason").is_empty());
    // Not a client's move.
    let refused = w
        .put(&path, &w.client_a, &json!({ "status": "cancelled" }))
        .await;
    let error = refused.error(409, "CONFLICT");
    assert_eq!(
        error["details"]["allowed"],
        json!(["completed", "in_progress"]),
        "{error}"
    );
    assert!(
        !w.put(&path, &w.client_a, &json!({ "status": "finished" }))
            .await
            .field_error("status")
            .is_empty()
    );
    let back = w
        .put(
            &path,
            &w.client_a,
            &json!({ "status": "in_progress", "reason": "Finitions à reprendre" }),
        )
        .await
        .ok(200);
    assert_eq!(back["status"], "in_progress");
    let paused = w
        .put(&path, &w.client_a, &json!({ "status": "on_hold" }))
        .await
        .ok(200);
    assert_eq!(paused["status"], "on_hold");
    w.put(&path, &w.client_a, &json!({ "status": "completed" }))
        .await
        .error(409, "CONFLICT");
    let resumed = w
        .put(&path, &w.client_a, &json!({ "status": "in_progress" }))
        .await
        .ok(200);
    assert_eq!(resumed["status"], "in_progress");
    assert_eq!(audits(&w, "change_project_status").await, 1 + 3);
    // The colleague was told.
    let notes = w
        .get("/api/client/notifications", &w.colleague_a)
        .await
        .ok(200);
    assert_eq!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "project_status")
            .count(),
        1 + 3
    );
    // Approving sets progress to 100.
    let p2 = w
        .project(w.company_a(), "Livraison 2", ProjectStatus::Delivered)
        .await;
    let done = w
        .put(
            &format!("/api/client/projects/{p2}/status"),
            &w.client_a,
            &json!({ "status": "completed" }),
        )
        .await
        .ok(200);
    assert_eq!(done["progress"], 100);
    w.put(
        &format!("/api/client/projects/{p2}/status"),
        &w.client_a,
        &json!({ "status": "on_hold" }),
    )
    .await
    .error(409, "CONFLICT");
}

#[tokio::test]
async fn comments_files_and_milestones_make_the_timeline_in_order() {
    let w = world().await;
    let p = w
        .project(w.company_a(), "Chantier", ProjectStatus::InProgress)
        .await;
    let base = format!("/api/client/projects/{p}");
    let blank = w
        .post(
            &format!("{base}/comment"),
            &w.client_a,
            &json!({ "content": "   " }),
        )
        .await;
    assert!(!blank.field_error("content").is_empty());
    assert!(
        !w.post(&format!("{base}/comment"), &w.client_a, &json!({}))
            .await
            .field_error("content")
            .is_empty()
    );
    let comment = w
        .post(
            &format!("{base}/comment"),
            &w.client_a,
            &json!({ "content": "Où en est la dalle ?" }),
        )
        .await
        .ok(201);
    assert!(comment["author_name"].is_string());
    let stored = upload_to(
        &w,
        p,
        file(
            "photo.png",
            "image/png",
            b"\x89PNG\r\n\x1a\nfake-but-png-magic".to_vec(),
        ),
    )
    .await
    .ok(201);
    assert_eq!(stored["project_id"], p.to_string());
    assert_eq!(stored["category"], "deliverable");
    client::projects::service::record_milestone(
        &w.app.db,
        &shared::audit::Actor::system(),
        p,
        "Gros œuvre terminé",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let timeline = w
        .get(&format!("{base}/timeline"), &w.client_a)
        .await
        .ok(200);
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "status_changed",
            "comment",
            "file_uploaded",
            "milestone"
        ]
    );
    assert_eq!(timeline[1]["detail"]["to"], "in_progress");
    let files = w.get(&format!("{base}/files"), &w.client_a).await.ok(200);
    assert_eq!(files.as_array().unwrap().len(), 1);
    assert_eq!(files[0]["name"], "photo.png");
    let detail = w.get(&base, &w.client_a).await.ok(200);
    assert_eq!(detail["nb_comments"], 1);
    assert_eq!(detail["nb_files"], 1);
    assert_eq!(
        detail["recent_comments"][0]["content"],
        "Où en est la dalle ?"
    );
    // Deleting the file is on the timeline too.
    let photo = files[0]["id"].as_str().unwrap();
    w.call(
        Method::DELETE,
        &format!("/api/client/documents/{photo}"),
        Some(&w.client_a),
        None,
    )
    .await
    .assert_status(204);
    let timeline = w
        .get(&format!("{base}/timeline"), &w.client_a)
        .await
        .ok(200);
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "file_deleted");
    assert_eq!(last["detail"]["name"], "photo.png");
    // The project's upload refuses a project id of its own choosing.
    let extra = file("x.txt", "text/plain", b"x".to_vec()).text("project_id", p.to_string());
    assert!(
        !upload_to(&w, p, extra)
            .await
            .field_error("project_id")
            .is_empty()
    );
    assert_eq!(audits(&w, "add_project_comment").await, 1);
    // Unknown project.
    w.get(
        &format!("/api/client/projects/{}", uuid::Uuid::now_v7()),
        &w.client_a,
    )
    .await
    .error(404, "NOT_FOUND");
    assert!(
        !w.get("/api/client/projects/not-a-uuid", &w.client_a)
            .await
            .field_error("id")
            .is_empty()
    );
}

/// A page of projects read on the request's own thread (an SQLite file: bench/RESULTS.md item
/// 36) is the pool's, project for project, with the same total, and the list route reads it so.
#[tokio::test]
async fn a_project_page_read_inline_is_the_pools_project_for_project() {
    use client::projects::{ProjectFilters, ProjectSort, service};
    use shared::pagination::{Order, PageParams, Sort};

    let w = world().await;
    for (name, status) in [
        ("Façade nord", ProjectStatus::InProgress),
        ("Toiture", ProjectStatus::InProgress),
        ("Parking", ProjectStatus::Planning),
        ("Cuisine", ProjectStatus::OnHold),
        ("Zinguerie", ProjectStatus::InProgress),
    ] {
        w.project(w.company_a(), name, status).await;
    }
    w.project(w.company_b(), "Entrepôt", ProjectStatus::InProgress)
        .await;
    let inline = w.state.inline_reads.as_deref();
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts = || w.inline_counts();
    // The models themselves, every column (the view leaves some out), the one on hold with
    // the status it left.
    let start = counts();
    let pooled = w
        .company_models_both_ways::<project::Entity>(
            project::Column::CompanyId,
            project::Column::Id,
        )
        .await;
    assert_eq!(pooled.len(), 5);
    assert!(pooled.iter().any(|p| p.status_before_hold.is_some()));
    if let (Some(start), Some(now)) = (start, counts()) {
        assert_eq!((now.0 - start.0, now.1), (1, start.1));
    }
    let before = counts();
    let in_progress = ProjectFilters {
        status: Some(ProjectStatus::InProgress),
        ..ProjectFilters::default()
    };
    let searched = ProjectFilters {
        search: Some("TOIT".to_owned()),
        ..ProjectFilters::default()
    };
    let by_name = Sort {
        field: ProjectSort::Name,
        order: Order::Asc,
    };
    let page = |page, limit| PageParams { page, limit };
    let cases = [
        (
            w.company_a(),
            ProjectFilters::default(),
            page(1, 100),
            Sort::default(),
        ),
        (w.company_a(), in_progress.clone(), page(1, 2), by_name),
        (w.company_a(), in_progress, page(2, 2), by_name),
        (w.company_a(), searched, page(1, 20), Sort::default()),
        (
            w.company_a(),
            ProjectFilters::default(),
            page(9, 20),
            by_name,
        ),
        (
            w.company_b(),
            ProjectFilters::default(),
            page(1, 20),
            Sort::default(),
        ),
    ];
    let mut shown = Vec::new();
    for (company, filters, page, sort) in cases {
        let list =
            |inline| service::list(&w.app.db, inline, company, &filters, page, sort, w.today());
        let read = same_page(&list(None).await.unwrap(), &list(inline).await.unwrap());
        shown.push((
            read["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
            read["meta"]["total"].as_u64().unwrap(),
        ));
    }
    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(shown[0].1, 5);
    assert_eq!(shown[1], (names(&["Façade nord", "Toiture"]), 3));
    assert_eq!(shown[2], (names(&["Zinguerie"]), 3));
    assert_eq!(shown[3], (names(&["Toiture"]), 1));
    assert_eq!(shown[4], (Vec::new(), 5));
    assert_eq!(shown[5], (names(&["Entrepôt"]), 1));
    // Every statement ran inline (none went to the pool), and so does the route's page.
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        // Pages 5 (the fifth case's total is below its offset: no page read); totals 3 (a
        // full first page, two later pages).
        assert_eq!(served - before.0, 8);
        let listed = w
            .get(
                "/api/client/projects?status=in_progress&limit=100",
                &w.client_a,
            )
            .await;
        listed.ok(200);
        assert_eq!(listed.json()["meta"]["total"], 3);
        // The account check and the page (shorter than the limit: no count).
        assert_eq!(counts(), Some((served + 2, failed)));
    }
}
