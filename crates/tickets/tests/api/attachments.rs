use migration::MigratorTrait;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::storage::sha256_hex as hex_sha256;
use test_support::{TestResponse, TestUser};
use uuid::Uuid;

use crate::{World, s, world};

fn photo(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

pub(crate) async fn upload(
    w: &World,
    id: &str,
    user: Option<&TestUser>,
    form: Form,
) -> TestResponse {
    let mut request = w
        .app
        .request(
            Method::POST,
            &format!("/api/tickets-client/{id}/attachments"),
        )
        .multipart(form);
    if let Some(user) = user {
        request = request.bearer_auth(&user.token);
    }
    w.app.send(request).await
}

pub(crate) fn file_form(name: &str, mime: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    )
}

fn stored_files(w: &World) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&w.app.config.files_dir().join("tickets"))
}

async fn attachment_rows(w: &World) -> u64 {
    entity::ticket_attachment::Entity::find()
        .count(&w.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_file_is_stored_with_its_checksum_and_downloaded_through_its_signed_link() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let bytes = photo(300_000);
    let form = file_form("photo échafaudage.jpg", "image/jpeg", bytes.clone())
        .text("description", "Vue du 3e étage");
    let file = upload(&w, id, Some(&w.client_a), form).await.ok(201);
    assert_eq!(file["nom"], "photo échafaudage.jpg");
    assert_eq!(file["type"], "image/jpeg");
    assert_eq!(file["taille"], 300_000);
    assert_eq!(file["sha256"], hex_sha256(&bytes));
    assert_eq!(file["description"], "Vue du 3e étage");
    assert_eq!(file["interne"], false);
    assert_eq!(stored_files(&w), 1);

    // The link works without a token and gives the same bytes back.
    let download = w.download(s(&file, "url")).await;
    download.assert_status(200);
    assert_eq!(download.body.as_ref(), bytes.as_slice());
    assert_eq!(download.header("content-type"), Some("image/jpeg"));
    let disposition = download.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));

    // The ticket shows it, with a history row.
    let detail = w
        .get(&format!("/api/tickets-client/{id}"), &w.client_a)
        .await
        .ok(200);
    assert_eq!(detail["piece_jointes"][0]["id"], file["id"]);
    assert_eq!(detail["nb_piece_jointes"], 1);
    assert!(
        detail["historique"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "attachment_added")
    );

    // A forged or stale link leads nowhere.
    let url = s(&file, "url");
    let (unsigned, _) = url.split_once("signature=").unwrap();
    let forged = format!("{unsigned}signature={}", "0".repeat(64));
    w.download(&forged).await.error(404, "NOT_FOUND");
    let other_file = url.replace(s(&file, "id"), &uuid::Uuid::now_v7().to_string());
    w.download(&other_file).await.error(404, "NOT_FOUND");
    w.app.advance_clock(chrono::Duration::minutes(61)).await;
    w.download(url).await.error(404, "NOT_FOUND");
}

#[tokio::test]
async fn files_over_ten_megabytes_are_refused_and_nothing_is_kept() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let too_big = file_form("plan.pdf", "application/pdf", photo(10 * 1024 * 1024 + 1));
    upload(&w, id, Some(&w.staff), too_big)
        .await
        .error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(stored_files(&w), 0);
    assert_eq!(attachment_rows(&w).await, 0);
    // Exactly 10 MiB is fine.
    let fits = file_form("plan.pdf", "application/pdf", photo(10 * 1024 * 1024));
    upload(&w, id, Some(&w.staff), fits).await.ok(201);
    assert_eq!(stored_files(&w), 1);
}

#[tokio::test]
async fn uploads_check_who_and_what() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let small = || file_form("a.txt", "text/plain", b"bonjour".to_vec());

    upload(&w, id, Some(&w.client_b), small())
        .await
        .error(404, "NOT_FOUND");
    upload(&w, id, Some(&w.prestataire), small())
        .await
        .error(403, "FORBIDDEN");
    upload(&w, id, None, small())
        .await
        .error(401, "UNAUTHENTICATED");
    upload(&w, id, Some(&w.client_a), small().text("interne", "true"))
        .await
        .error(403, "FORBIDDEN");
    upload(
        &w,
        id,
        Some(&w.client_a),
        Form::new().text("description", "sans fichier"),
    )
    .await
    .field_error("file");
    upload(
        &w,
        id,
        Some(&w.client_a),
        file_form("vide.txt", "text/plain", Vec::new()),
    )
    .await
    .field_error("file");
    upload(&w, id, Some(&w.client_a), small().text("owner", "x"))
        .await
        .field_error("owner");
    upload(&w, id, Some(&w.staff), small().text("interne", "peut-être"))
        .await
        .field_error("interne");
    let json_body = w
        .post(
            &format!("/api/tickets-client/{id}/attachments"),
            &w.client_a,
            &json!({ "file": "x" }),
        )
        .await;
    json_body.error(415, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(stored_files(&w), 0);
    assert_eq!(attachment_rows(&w).await, 0);
}

#[tokio::test]
async fn internal_files_stay_with_staff_and_files_go_with_messages() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let internal = upload(
        &w,
        id,
        Some(&w.staff),
        file_form("devis-interne.pdf", "application/pdf", b"%PDF-1.4".to_vec())
            .text("interne", "true"),
    )
    .await
    .ok(201);
    assert_eq!(internal["interne"], true);
    let public = upload(
        &w,
        id,
        Some(&w.client_a),
        file_form("photo.jpg", "image/jpeg", photo(1000)),
    )
    .await
    .ok(201);

    let client_view = w
        .get(&format!("/api/tickets-client/{id}"), &w.client_a)
        .await
        .ok(200);
    let ids: Vec<&Value> = client_view["piece_jointes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["id"])
        .collect();
    assert_eq!(ids, [&public["id"]]);
    assert_eq!(client_view["nb_piece_jointes"], 1);
    let staff_list = w.get("/api/tickets-client", &w.staff).await.json();
    assert_eq!(staff_list["data"][0]["nb_piece_jointes"], 2);
    let client_list = w.get("/api/tickets-client", &w.client_a).await.json();
    assert_eq!(client_list["data"][0]["nb_piece_jointes"], 1);

    // The client cannot attach the internal file to its message (it cannot see it).
    let path = format!("/api/tickets-client/{id}/messages");
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "voir pièce", "piece_jointes": [internal["id"]] }),
    )
    .await
    .field_error("piece_jointes[0]");
    // Staff cannot put it on a public message either.
    w.post(
        &path,
        &w.staff,
        &json!({ "contenu": "voir pièce", "piece_jointes": [internal["id"]] }),
    )
    .await
    .field_error("piece_jointes[0]");
    let message = w
        .post(
            &path,
            &w.client_a,
            &json!({ "contenu": "La photo", "piece_jointes": [public["id"]] }),
        )
        .await
        .ok(201);
    assert_eq!(message["piece_jointes"][0]["id"], public["id"]);
    assert_eq!(message["piece_jointes"][0]["message_id"], message["id"]);
    // Once on a message, a file cannot go on another.
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "encore", "piece_jointes": [public["id"]] }),
    )
    .await
    .field_error("piece_jointes[0]");
    let detail = w
        .get(&format!("/api/tickets-client/{id}"), &w.client_a)
        .await
        .ok(200);
    assert_eq!(
        detail["messages"][0]["piece_jointes"][0]["nom"],
        "photo.jpg"
    );

    // Closed: no more files.
    w.action(id, &w.staff, "cloturer", json!({ "motif": "fait" }))
        .await
        .ok(200);
    upload(
        &w,
        id,
        Some(&w.client_a),
        file_form("b.txt", "text/plain", b"x".to_vec()),
    )
    .await
    .error(409, "CONFLICT");
}

/// The list's counts of messages and files, as the staff and the ticket's client see them.
async fn listed_counts(w: &World, id: &str) -> [(i64, i64); 2] {
    let mut counts = [(0, 0); 2];
    for (slot, user) in counts.iter_mut().zip([&w.staff, &w.client_a]) {
        let list = w.get("/api/tickets-client", user).await.ok(200);
        let row = list
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["id"] == id)
            .unwrap();
        *slot = (
            row["nb_messages"].as_i64().unwrap(),
            row["nb_piece_jointes"].as_i64().unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn the_list_counts_follow_messages_and_files_as_they_come_go_and_turn_internal() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let other = w.ticket_of_a().await;
    let path = format!("/api/tickets-client/{id}/messages");
    assert_eq!(listed_counts(&w, id).await, [(0, 0), (0, 0)]);

    let file = upload(
        &w,
        id,
        Some(&w.staff),
        file_form("plan.pdf", "application/pdf", b"%PDF-1.4".to_vec()),
    )
    .await
    .ok(201);
    w.post(&path, &w.client_a, &json!({ "contenu": "Bonjour" }))
        .await
        .ok(201);
    assert_eq!(listed_counts(&w, id).await, [(1, 1), (1, 1)]);

    // An internal message takes the public file with it: both are the staff's alone.
    w.post(
        &path,
        &w.staff,
        &json!({ "contenu": "Pour l'équipe", "interne": true, "piece_jointes": [file["id"]] }),
    )
    .await
    .ok(201);
    assert_eq!(listed_counts(&w, id).await, [(2, 1), (1, 0)]);
    // Another ticket's counts are its own.
    assert_eq!(listed_counts(&w, s(&other, "id")).await, [(0, 0), (0, 0)]);

    // Whatever else changes the rows (a repair, a purge), the counts follow: a message made
    // public, then deleted with its file.
    let db = &w.app.db;
    let file_id = Uuid::parse_str(s(&file, "id")).unwrap();
    let internal = entity::ticket_attachment::Entity::find_by_id(file_id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .message_id
        .unwrap();
    entity::ticket_message::Entity::update_many()
        .col_expr(entity::ticket_message::Column::Interne, Expr::value(false))
        .filter(entity::ticket_message::Column::Id.eq(internal))
        .exec(db)
        .await
        .unwrap();
    assert_eq!(listed_counts(&w, id).await, [(2, 1), (2, 0)]);
    entity::ticket_attachment::Entity::delete_many()
        .filter(entity::ticket_attachment::Column::MessageId.eq(internal))
        .exec(db)
        .await
        .unwrap();
    entity::ticket_message::Entity::delete_by_id(internal)
        .exec(db)
        .await
        .unwrap();
    assert_eq!(listed_counts(&w, id).await, [(1, 0), (1, 0)]);
}

#[tokio::test]
async fn the_migration_counts_the_messages_and_files_already_there() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let path = format!("/api/tickets-client/{id}/messages");
    upload(
        &w,
        id,
        Some(&w.staff),
        file_form("devis.pdf", "application/pdf", b"%PDF-1.4".to_vec()).text("interne", "true"),
    )
    .await
    .ok(201);
    upload(
        &w,
        id,
        Some(&w.client_a),
        file_form("a.jpg", "image/jpeg", photo(10)),
    )
    .await
    .ok(201);
    for (contenu, interne) in [("un", false), ("deux", true), ("trois", false)] {
        w.post(
            &path,
            &w.staff,
            &json!({ "contenu": contenu, "interne": interne }),
        )
        .await
        .ok(201);
    }
    let expected = [(3, 2), (2, 1)];
    assert_eq!(listed_counts(&w, id).await, expected);

    // The database as it was before the migration (no counts, no triggers), with the same
    // rows; then the migration again.
    let db = &w.app.db;
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut undo = Vec::new();
    for table in ["ticket_messages", "ticket_attachments"] {
        if postgres {
            undo.push(format!("DROP FUNCTION presta_{table}_kept() CASCADE"));
        } else {
            for event in ["insert", "delete", "update"] {
                undo.push(format!("DROP TRIGGER {table}_kept_{event}"));
            }
        }
    }
    for column in [
        "messages_count",
        "public_messages_count",
        "attachments_count",
        "public_attachments_count",
    ] {
        undo.push(format!("ALTER TABLE tickets DROP COLUMN {column}"));
    }
    undo.push(
        "DELETE FROM seaql_migrations \
         WHERE version = 'm20261206_000001_ticket_kept_item_counts'"
            .to_owned(),
    );
    for statement in undo {
        db.execute_unprepared(&statement).await.unwrap();
    }
    migration::Migrator::up(db, None).await.unwrap();
    assert_eq!(listed_counts(&w, id).await, expected);
}
