//! The live feed: delivered to the right sockets only, on one instance and (with Redis) across
//! instances.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use test_support::{TestApp, TestOptions, TestUser};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::{World, s, world, world_with};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open the feed on `app` as `user` (token in the header, or in the query as a browser would).
async fn connect(app: &TestApp, user: &TestUser, in_query: bool) -> Socket {
    let base = format!("ws://127.0.0.1:{}/ws/tickets-client", app.port);
    let mut request = if in_query {
        format!("{base}?access_token={}", user.token)
            .into_client_request()
            .unwrap()
    } else {
        base.into_client_request().unwrap()
    };
    if !in_query {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", user.token).parse().unwrap(),
        );
    }
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    let hello = next(&mut socket).await;
    assert_eq!(hello["type"], "connected", "{hello}");
    socket
}

/// The next event (pings are answered by the library).
async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an event within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

async fn next_of_type(socket: &mut Socket, kind: &str) -> Value {
    let event = next(socket).await;
    assert_eq!(event["type"], kind, "{event}");
    event["data"].clone()
}

/// The handshake's HTTP status when the upgrade is refused.
async fn refused(app: &TestApp, query: &str, bearer: Option<&str>) -> u16 {
    let mut request = format!("ws://127.0.0.1:{}/ws/tickets-client{query}", app.port)
        .into_client_request()
        .unwrap();
    if let Some(token) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        other => panic!("the upgrade should be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn events_reach_exactly_the_sockets_allowed_to_see_them() {
    let w = world().await;
    let mut staff = connect(&w.app, &w.staff, false).await;
    let mut a = connect(&w.app, &w.client_a, true).await;
    let mut b = connect(&w.app, &w.client_b, true).await;

    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    for socket in [&mut staff, &mut a] {
        let data = next_of_type(socket, "ticket_created").await;
        assert_eq!(data["numero"], ticket["numero"]);
        assert_eq!(data["titre"], ticket["titre"]);
    }

    // An internal note: staff only.
    w.post(
        &format!("/api/tickets-client/{id}/messages"),
        &w.staff,
        &json!({ "contenu": "note interne secrète", "interne": true }),
    )
    .await
    .ok(201);
    let note = next_of_type(&mut staff, "message_added").await;
    assert_eq!(note["message"]["interne"], true);
    // Staff also hear the ticket changed (its modification date); the client hears nothing of it.
    // A public answer is the client's next event.
    w.post(
        &format!("/api/tickets-client/{id}/messages"),
        &w.staff,
        &json!({ "contenu": "Nous arrivons." }),
    )
    .await
    .ok(201);
    let public = next_of_type(&mut a, "message_added").await;
    assert_eq!(public["ticket_id"], json!(id));
    assert_eq!(public["message"]["contenu"], "Nous arrivons.");
    assert_eq!(public["message"]["auteur"], "Test superadmin");

    // Changes carry the fields that changed.
    w.patch(
        &format!("/api/tickets-client/{id}"),
        &w.staff,
        &json!({ "status": "en_cours", "priority": "critique" }),
    )
    .await
    .ok(200);
    let updated = next_of_type(&mut a, "ticket_updated").await;
    assert_eq!(updated["id"], json!(id));
    assert_eq!(
        updated["changes"],
        json!({ "status": "en_cours", "priority": "critique" })
    );

    // Attachments.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"photo".to_vec())
            .file_name("photo.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    w.app
        .send(
            w.app
                .request(
                    reqwest::Method::POST,
                    &format!("/api/tickets-client/{id}/attachments"),
                )
                .bearer_auth(&w.client_a.token)
                .multipart(form),
        )
        .await
        .ok(201);
    let attached = next_of_type(&mut a, "attachment_added").await;
    assert_eq!(attached["ticket_id"], json!(id));
    assert_eq!(attached["attachment"]["nom"], "photo.jpg");

    // SLA breach (critique: 4 h to answer — the staff answer came in time, 24 h to resolve).
    w.app.advance_clock(chrono::Duration::hours(25)).await;
    w.app.run_job("tickets.sla_scan", json!({})).await;
    let breach = loop {
        let event = next(&mut a).await;
        if event["type"] == "sla_breach" {
            break event["data"].clone();
        }
        assert_eq!(event["type"], "ticket_updated", "{event}");
    };
    assert_eq!(breach["ticket_id"], json!(id));
    assert_eq!(breach["level"], "breach");

    // Company B heard nothing of all this: its first event is about its own ticket.
    let theirs = w.ticket_of_b().await;
    let first = next_of_type(&mut b, "ticket_created").await;
    assert_eq!(first["id"], theirs["id"]);

    staff.close(None).await.ok();
}

#[tokio::test]
async fn the_feed_requires_a_valid_credential_of_an_allowed_role() {
    let w = world_with(
        TestOptions::default()
            .with_fixtures()
            .env("WS_RECHECK_SECONDS", "1"),
    )
    .await;
    assert_eq!(refused(&w.app, "", None).await, 401);
    assert_eq!(
        refused(&w.app, "?access_token=not-a-token", None).await,
        401
    );
    assert_eq!(refused(&w.app, "", Some("not-a-token")).await, 401);
    assert_eq!(
        refused(
            &w.app,
            &format!("?access_token={}", w.prestataire.token),
            None
        )
        .await,
        403
    );
    assert_eq!(refused(&w.app, "", Some(&w.revendeur.token)).await, 403);
    assert_eq!(refused(&w.app, "?owner=x", Some(&w.staff.token)).await, 422);
    // A plain HTTP request is not an upgrade.
    w.get("/ws/tickets-client", &w.staff)
        .await
        .error(400, "BAD_REQUEST");

    // Logging out closes an open feed at its next check, and the token cannot reconnect.
    let mut socket = connect(&w.app, &w.client_a, true).await;
    w.post("/api/auth/logout", &w.client_a, &json!({}))
        .await
        .assert_status(200);
    let frame = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("the feed closes within 10 s");
    assert_eq!(u16::from(frame.unwrap().code), 4401);
    assert_eq!(
        refused(&w.app, &format!("?access_token={}", w.client_a.token), None).await,
        401
    );
}

#[tokio::test]
async fn with_redis_events_cross_server_instances() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: set TEST_REDIS_URL to run the cross-instance feed test (.ci/run does)");
        return;
    };
    let prefix = format!("presta-test-{}", uuid::Uuid::now_v7().simple());
    let options = || {
        TestOptions::default()
            .with_fixtures()
            .env("REDIS_URL", &redis_url)
            .env("REDIS_PREFIX", &prefix)
    };
    let w: World = world_with(options()).await;
    let other = test_support::spawn_app_with(options().database(w.app.database.clone())).await;

    // Sockets on the second instance; changes made through the first.
    let mut a = connect(&other, &w.client_a, true).await;
    let mut b = connect(&other, &w.client_b, false).await;
    let ticket = w.ticket_of_a().await;
    let created = next_of_type(&mut a, "ticket_created").await;
    assert_eq!(created["id"], ticket["id"]);
    w.post(
        &format!("/api/tickets-client/{}/messages", s(&ticket, "id")),
        &w.staff,
        &json!({ "contenu": "interne", "interne": true }),
    )
    .await
    .ok(201);
    let theirs = w.ticket_of_b().await;
    let first_b = next_of_type(&mut b, "ticket_created").await;
    assert_eq!(first_b["id"], theirs["id"]);
    // The internal note never reached A either: its next event is the staff's public answer.
    w.post(
        &format!("/api/tickets-client/{}/messages", s(&ticket, "id")),
        &w.staff,
        &json!({ "contenu": "Réponse publique" }),
    )
    .await
    .ok(201);
    let answer = next_of_type(&mut a, "message_added").await;
    assert_eq!(answer["message"]["contenu"], "Réponse publique");
}
