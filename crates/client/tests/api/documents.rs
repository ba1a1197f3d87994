//! Documents: uploads (limit, checksum, type), list, categories, preview, download, delete.

use entity::document;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use sha2::{Digest, Sha256};

use crate::{World, audits, world};

pub fn file(name: &str, mime: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    )
}

pub async fn upload(
    w: &World,
    user: &test_support::TestUser,
    form: Form,
) -> test_support::TestResponse {
    w.app
        .send(
            w.app
                .authed(Method::POST, "/api/client/documents/upload", &user.token)
                .multipart(form),
        )
        .await
}

/// Files in the object store (local folder in tests).
fn files_on_disk(w: &World) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(&w.app.config.files_dir())
}

async fn stored(w: &World) -> u64 {
    document::Entity::find().count(&w.app.db).await.unwrap()
}

#[tokio::test]
async fn uploads_are_stored_with_their_checksum_and_come_back_intact() {
    let w = world().await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let form = file("relevé.bin", "application/octet-stream", bytes.clone())
        .text("category", "report")
        .text("description", "Relevé de mesures");
    let doc = upload(&w, &w.client_a, form).await.ok(201);
    assert_eq!(doc["name"], "relevé.bin");
    assert_eq!(doc["size"], 200_000);
    assert_eq!(doc["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(doc["category"], "report");
    assert_eq!(doc["category_label"], "Rapports");
    assert_eq!(doc["can_delete"], true);
    assert_eq!(doc["preview"], "none");
    let id = doc["id"].as_str().unwrap();
    let download = w
        .get(&format!("/api/client/documents/{id}/download"), &w.client_a)
        .await;
    download.assert_status(200);
    assert_eq!(download.body.as_ref(), bytes.as_slice());
    // The colleague sees it too; company B does not.
    w.get(&format!("/api/client/documents/{id}"), &w.colleague_a)
        .await
        .ok(200);
    w.get(&format!("/api/client/documents/{id}"), &w.client_b)
        .await
        .error(404, "NOT_FOUND");
    assert_eq!(audits(&w, "upload_document").await, 1);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_store_nothing() {
    let w = world().await;
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    upload(&w, &w.client_a, file("big.txt", "text/plain", big))
        .await
        .error(413, "PAYLOAD_TOO_LARGE");
    let exactly = vec![b'x'; 10 * 1024 * 1024];
    upload(&w, &w.client_a, file("limit.txt", "text/plain", exactly))
        .await
        .ok(201);
    assert_eq!(stored(&w).await, 1);
    let fake = upload(
        &w,
        &w.client_a,
        file(
            "photo.png",
            "image/png",
            b"<script>alert(1)</script>".to_vec(),
        ),
    )
    .await;
    assert!(!fake.field_error("file").is_empty());
    let category = upload(
        &w,
        &w.client_a,
        file("a.txt", "text/plain", b"a".to_vec()).text("category", "secret"),
    )
    .await;
    assert!(!category.field_error("category").is_empty());
    let project = upload(
        &w,
        &w.client_a,
        file("a.txt", "text/plain", b"a".to_vec())
            .text("project_id", uuid::Uuid::now_v7().to_string()),
    )
    .await;
    assert!(!project.field_error("project_id").is_empty());
    let empty = upload(&w, &w.client_a, file("a.txt", "text/plain", Vec::new())).await;
    assert!(!empty.field_error("file").is_empty());
    let none = upload(&w, &w.client_a, Form::new().text("category", "report")).await;
    assert!(!none.field_error("file").is_empty());
    let json = w
        .post(
            "/api/client/documents/upload",
            &w.client_a,
            &serde_json::json!({ "file": "x" }),
        )
        .await;
    json.error(415, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(stored(&w).await, 1);
    assert_eq!(files_on_disk(&w), 1);
    assert_eq!(audits(&w, "upload_document").await, 1);
}

#[tokio::test]
async fn documents_are_listed_by_category_project_and_search() {
    let w = world().await;
    let p = w
        .project(
            w.company_a(),
            "Siège",
            entity::project::ProjectStatus::InProgress,
        )
        .await;
    upload(
        &w,
        &w.client_a,
        file(
            "contrat-cadre.pdf",
            "application/pdf",
            b"%PDF-1.4 contrat".to_vec(),
        )
        .text("category", "contract"),
    )
    .await
    .ok(201);
    upload(
        &w,
        &w.client_a,
        file("plan.pdf", "application/pdf", b"%PDF-1.4 plan".to_vec())
            .text("category", "plan")
            .text("project_id", p.to_string()),
    )
    .await
    .ok(201);
    upload(
        &w,
        &w.client_a,
        file("notes.txt", "text/plain", b"notes".to_vec()).text("description", "Contrat annexe"),
    )
    .await
    .ok(201);
    upload(&w, &w.client_b, file("b.txt", "text/plain", b"b".to_vec()))
        .await
        .ok(201);
    let contracts = w
        .get("/api/client/documents?category=contract", &w.client_a)
        .await
        .ok(200);
    assert_eq!(contracts.as_array().unwrap().len(), 1);
    let of_project = w
        .get(
            &format!("/api/client/documents?project_id={p}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(of_project.as_array().unwrap().len(), 1);
    assert_eq!(of_project[0]["project_name"], "Siège");
    let searched = w
        .get(
            "/api/client/documents?search=CONTRAT&sort=name&order=asc",
            &w.client_a,
        )
        .await
        .ok(200);
    let names: Vec<&str> = searched
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["contrat-cadre.pdf", "notes.txt"]);
    let categories = w
        .get("/api/client/documents/categories", &w.client_a)
        .await
        .ok(200);
    let categories = categories.as_array().unwrap();
    assert_eq!(categories.len(), 8);
    let count = |c: &str| {
        categories.iter().find(|x| x["code"] == c).unwrap()["count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        (
            count("contract"),
            count("plan"),
            count("other"),
            count("invoice")
        ),
        (1, 1, 1, 0)
    );
    assert!(
        !w.get("/api/client/documents?category=nope", &w.client_a)
            .await
            .field_error("category")
            .is_empty()
    );
    // Another method on a fixed path is 405, not a document lookup.
    let wrong = w
        .call(
            Method::DELETE,
            "/api/client/documents/categories",
            Some(&w.client_a),
            None,
        )
        .await;
    wrong.assert_status(405);
}

#[tokio::test]
async fn previews_show_images_and_pdf_in_place_and_text_as_an_excerpt() {
    let w = world().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-rest".to_vec();
    let image = upload(
        &w,
        &w.client_a,
        file("plan.png", "application/octet-stream", png.clone()),
    )
    .await
    .ok(201);
    assert_eq!(image["content_type"], "image/png");
    assert_eq!(image["preview"], "inline");
    let shown = w
        .get(
            &format!(
                "/api/client/documents/{}/preview",
                image["id"].as_str().unwrap()
            ),
            &w.client_a,
        )
        .await;
    shown.assert_status(200);
    assert_eq!(shown.header("content-type"), Some("image/png"));
    assert!(
        shown
            .header("content-disposition")
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(shown.body.as_ref(), png.as_slice());
    let long = "ligne de texte accentuée\n".repeat(400);
    let text = upload(
        &w,
        &w.client_a,
        file("journal.txt", "text/plain", long.clone().into_bytes()),
    )
    .await
    .ok(201);
    let excerpt = w
        .get(
            &format!(
                "/api/client/documents/{}/preview",
                text["id"].as_str().unwrap()
            ),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(excerpt["truncated"], true);
    let shown = excerpt["excerpt"].as_str().unwrap();
    assert_eq!(shown.chars().count(), 4000);
    assert!(long.starts_with(shown));
    let zip = upload(
        &w,
        &w.client_a,
        file("archive.zip", "application/zip", b"PK\x03\x04".to_vec()),
    )
    .await
    .ok(201);
    w.get(
        &format!(
            "/api/client/documents/{}/preview",
            zip["id"].as_str().unwrap()
        ),
        &w.client_a,
    )
    .await
    .error(409, "CONFLICT");
}

#[tokio::test]
async fn a_company_deletes_its_own_uploads_only() {
    let w = world().await;
    let mine = upload(&w, &w.client_a, file("a.txt", "text/plain", b"a".to_vec()))
        .await
        .ok(201);
    let id = mine["id"].as_str().unwrap();
    // A document the business provided.
    let theirs = document::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::now_v7()),
        company_id: sea_orm::Set(w.company_a()),
        project_id: sea_orm::Set(None),
        name: sea_orm::Set("contrat.pdf".into()),
        category: sea_orm::Set(entity::document::DocumentCategory::Contract),
        description: sea_orm::Set(None),
        content_type: sea_orm::Set("application/pdf".into()),
        size: sea_orm::Set(1),
        sha256: sea_orm::Set("0".repeat(64)),
        storage_key: sea_orm::Set("documents/none".into()),
        uploaded_by: sea_orm::Set(None),
        uploaded_by_client: sea_orm::Set(false),
        uploader_name: sea_orm::Set(None),
        created_at: sea_orm::Set(chrono::Utc::now()),
    };
    let theirs = sea_orm::ActiveModelTrait::insert(theirs, &w.app.db)
        .await
        .unwrap();
    let path = format!("/api/client/documents/{}", theirs.id);
    w.get(&path, &w.client_a).await.ok(200);
    w.call(Method::DELETE, &path, Some(&w.client_a), None)
        .await
        .error(403, "FORBIDDEN");
    // B cannot delete A's.
    w.call(
        Method::DELETE,
        &format!("/api/client/documents/{id}"),
        Some(&w.client_b),
        None,
    )
    .await
    .error(404, "NOT_FOUND");
    let deleted = w
        .call(
            Method::DELETE,
            &format!("/api/client/documents/{id}"),
            Some(&w.colleague_a),
            None,
        )
        .await;
    deleted.assert_status(204);
    w.get(&format!("/api/client/documents/{id}"), &w.client_a)
        .await
        .error(404, "NOT_FOUND");
    assert_eq!(audits(&w, "delete_document").await, 1);
    assert_eq!(stored(&w).await, 1);
}
