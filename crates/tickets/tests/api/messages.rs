use reqwest::Method;
use serde_json::{Value, json};

use crate::{World, s, world};

async fn post_message(w: &World, id: &str, user: &test_support::TestUser, body: Value) -> Value {
    w.post(&format!("/api/tickets-client/{id}/messages"), user, &body)
        .await
        .ok(201)
}

fn contents(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(m, "contenu").to_owned())
        .collect()
}

/// Internal notes never reach a client: not in the detail, the message list, the counts, the
/// history, the search or the export.
#[tokio::test]
async fn clients_never_see_internal_notes_anywhere() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    post_message(
        &w,
        id,
        &w.staff,
        json!({ "contenu": "Une équipe arrive demain." }),
    )
    .await;
    let note = post_message(
        &w,
        id,
        &w.staff,
        json!({ "contenu": "Sous-traitant zorglub peu fiable", "interne": true }),
    )
    .await;
    assert_eq!(note["interne"], true);
    assert_eq!(note["auteur"], "Test superadmin");

    // Staff see both.
    let staff_view = w
        .get(&format!("/api/tickets-client/{id}"), &w.staff)
        .await
        .ok(200);
    assert_eq!(staff_view["nb_messages"], 2);
    assert_eq!(staff_view["messages"].as_array().unwrap().len(), 2);

    // The client sees the public one only.
    let client_view = w
        .get(&format!("/api/tickets-client/{id}"), &w.client_a)
        .await
        .ok(200);
    assert_eq!(client_view["nb_messages"], 1);
    assert_eq!(
        contents(&client_view["messages"]),
        ["Une équipe arrive demain."]
    );
    let history = client_view["historique"].to_string();
    assert!(!history.contains("interne"), "{history}");
    assert_eq!(
        client_view["historique"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "message_added")
            .count(),
        1
    );
    let listed = w
        .get(&format!("/api/tickets-client/{id}/messages"), &w.client_a)
        .await
        .json();
    assert_eq!(listed["meta"]["total"], 1);
    assert_eq!(contents(&listed["data"]), ["Une équipe arrive demain."]);
    let list = w.get("/api/tickets-client", &w.client_a).await.json();
    assert_eq!(list["data"][0]["nb_messages"], 1);
    let staff_list = w.get("/api/tickets-client", &w.staff).await.json();
    assert_eq!(staff_list["data"][0]["nb_messages"], 2);

    // Search: staff find the note's words, the client does not.
    let found = w
        .get("/api/tickets-client/search?q=zorglub", &w.staff)
        .await
        .ok(200);
    assert_eq!(found["total"], 1);
    let hidden = w
        .get("/api/tickets-client/search?q=zorglub", &w.client_a)
        .await
        .ok(200);
    assert_eq!(hidden["total"], 0);
    let filtered = w
        .get("/api/tickets-client?search=zorglub", &w.client_a)
        .await
        .json();
    assert_eq!(filtered["meta"]["total"], 0);

    // Export: the client's counts leave the note out.
    let export = w
        .post(
            "/api/tickets-client/export",
            &w.client_a,
            &json!({ "format": "json", "fields": ["numero", "nb_messages", "description"] }),
        )
        .await
        .ok(201);
    let file = w.download(s(&export, "url")).await;
    file.assert_status(200);
    let text = String::from_utf8(file.body.to_vec()).unwrap();
    assert!(!text.contains("zorglub"), "{text}");
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["tickets"][0]["nb_messages"], 1);
}

#[tokio::test]
async fn writing_messages_follows_the_rules() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let path = format!("/api/tickets-client/{id}/messages");

    let message = post_message(
        &w,
        id,
        &w.client_a,
        json!({ "contenu": "Merci", "auteur": "Test client" }),
    )
    .await;
    assert_eq!(message["auteur"], "Test client");
    assert_eq!(message["interne"], false);

    // The author is the signed-in user: no speaking for someone else.
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "x", "auteur": "Jean Dupont" }),
    )
    .await
    .field_error("auteur");
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "x", "interne": true }),
    )
    .await
    .error(403, "FORBIDDEN");
    w.post(&path, &w.client_a, &json!({ "contenu": "   " }))
        .await
        .field_error("contenu");
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "x".repeat(20_001) }),
    )
    .await
    .field_error("contenu");
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "x", "author_id": w.staff.id }),
    )
    .await
    .field_error("author_id");
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "x", "piece_jointes": [uuid::Uuid::now_v7()] }),
    )
    .await
    .field_error("piece_jointes[0]");
    w.post(&path, &w.client_b, &json!({ "contenu": "x" }))
        .await
        .error(404, "NOT_FOUND");
    w.post(&path, &w.prestataire, &json!({ "contenu": "x" }))
        .await
        .error(403, "FORBIDDEN");
    w.call(Method::POST, &path, None, Some(&json!({ "contenu": "x" })))
        .await
        .error(401, "UNAUTHENTICATED");
    w.get(&path, &w.client_b).await.error(404, "NOT_FOUND");
    w.get(&path, &w.revendeur).await.error(403, "FORBIDDEN");
    w.call(Method::GET, &path, None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get(&format!("{path}?limit=0"), &w.client_a)
        .await
        .field_error("limit");

    // A closed ticket takes no message until reopened.
    w.action(id, &w.client_a, "cloturer", json!({ "motif": "Fini" }))
        .await
        .ok(200);
    w.post(
        &path,
        &w.client_a,
        &json!({ "contenu": "Encore une chose" }),
    )
    .await
    .error(409, "CONFLICT");

    // Pages, oldest first.
    let other = w.ticket_of_a().await;
    let other_id = s(&other, "id");
    for i in 0..5 {
        post_message(
            &w,
            other_id,
            &w.staff,
            json!({ "contenu": format!("m{i}") }),
        )
        .await;
    }
    let page = w
        .get(
            &format!("/api/tickets-client/{other_id}/messages?limit=2&page=2"),
            &w.client_a,
        )
        .await
        .json();
    assert_eq!(page["meta"]["total"], 5);
    assert_eq!(contents(&page["data"]), ["m2", "m3"]);
}

/// The detail shows the latest 200 messages a caller may see, oldest first, with how many
/// there are and each one's files; the ticket's own file list leaves out the internal files
/// for a client.
#[tokio::test]
async fn the_detail_shows_the_latest_messages_with_their_files() {
    use chrono::{Duration, Utc};
    use entity::{ticket_attachment, ticket_message};
    use sea_orm::{ActiveValue::Set, EntityTrait};

    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let ticket_id: uuid::Uuid = id.parse().unwrap();
    let start = Utc::now() - Duration::days(1);
    // 210 messages, one a second; every seventh one an internal note (30 of them).
    let messages: Vec<ticket_message::ActiveModel> = (0..210)
        .map(|i| ticket_message::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            ticket_id: Set(ticket_id),
            author_id: Set(None),
            auteur: Set("Équipe".into()),
            contenu: Set(format!("m{i:03}")),
            interne: Set(i % 7 == 0),
            created_at: Set(start + Duration::seconds(i)),
        })
        .collect();
    let newest = messages[209].id.clone().unwrap();
    let oldest = messages[0].id.clone().unwrap();
    ticket_message::Entity::insert_many(messages)
        .exec(&w.app.db)
        .await
        .unwrap();
    let file = |nom: &str, message_id: Option<uuid::Uuid>, interne: bool, at: i64| {
        ticket_attachment::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            ticket_id: Set(ticket_id),
            message_id: Set(message_id),
            nom: Set(nom.into()),
            content_type: Set("text/plain".into()),
            taille: Set(3),
            sha256: Set("0".repeat(64)),
            storage_key: Set(format!("tickets/{ticket_id}/{nom}")),
            description: Set(None),
            interne: Set(interne),
            uploaded_by: Set(None),
            created_at: Set(start + Duration::seconds(at)),
        }
    };
    ticket_attachment::Entity::insert_many([
        file("plan.txt", Some(newest), false, 209),
        file("ancien.txt", Some(oldest), true, 0),
        file("devis.txt", None, true, 100),
    ])
    .exec(&w.app.db)
    .await
    .unwrap();

    let path = format!("/api/tickets-client/{id}");
    let staff = w.get(&path, &w.staff).await.ok(200);
    assert_eq!(staff["nb_messages"], 210);
    let shown = contents(&staff["messages"]);
    let latest: Vec<String> = (10..210).map(|i| format!("m{i:03}")).collect();
    assert_eq!(shown, latest);
    let files_of = |view: &Value, nth: usize| -> Vec<String> {
        view["messages"][nth]["piece_jointes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| s(f, "nom").to_owned())
            .collect()
    };
    assert_eq!(files_of(&staff, 199), ["plan.txt"]);
    assert!(files_of(&staff, 0).is_empty());
    let ticket_files = |view: &Value| -> Vec<String> {
        view["piece_jointes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| s(f, "nom").to_owned())
            .collect()
    };
    assert_eq!(
        ticket_files(&staff),
        ["ancien.txt", "devis.txt", "plan.txt"]
    );
    assert_eq!(staff["historique"][0]["action"], "created");

    // The client sees the 180 public messages, all of them, and the public file.
    let client = w.get(&path, &w.client_a).await.ok(200);
    assert_eq!(client["nb_messages"], 180);
    let public: Vec<String> = (0..210)
        .filter(|i| i % 7 != 0)
        .map(|i| format!("m{i:03}"))
        .collect();
    assert_eq!(contents(&client["messages"]), public);
    assert_eq!(files_of(&client, 179), ["plan.txt"]);
    assert_eq!(ticket_files(&client), ["plan.txt"]);
}
