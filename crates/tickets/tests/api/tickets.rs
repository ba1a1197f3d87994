use chrono::{DateTime, Datelike, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{World, s, world};

fn at(value: &Value, key: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s(value, key))
        .unwrap()
        .with_timezone(&Utc)
}

async fn audit_actions(w: &World, entity_id: &str) -> Vec<String> {
    entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::EntityId.eq(entity_id))
        .all(&w.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect()
}

#[tokio::test]
async fn staff_opens_a_numbered_ticket_with_its_sla_running() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Résidence Les Jardins").await;
    let ticket = w
        .open_ticket(
            &w.staff,
            json!({ "chantier_id": chantier["id"], "tags": ["Urgent", "chantier_a"] }),
        )
        .await;
    let year = Utc::now().year();
    assert_eq!(s(&ticket, "numero"), format!("TC-{year}-001"));
    assert_eq!(ticket["status"], "nouveau");
    assert_eq!(ticket["priority"], "haute");
    assert_eq!(ticket["client"]["id"], json!(w.company_a()));
    assert_eq!(ticket["client"]["nom"], "SARL Construction Plus");
    assert_eq!(ticket["chantier"]["nom"], "Résidence Les Jardins");
    assert_eq!(ticket["tags"], json!(["urgent", "chantier_a"]));
    assert_eq!(ticket["sla_status"], "ok");
    // haute: 48 h to resolve, 8 h to answer.
    let created = at(&ticket, "date_creation");
    assert_eq!(
        at(&ticket, "date_limite") - created,
        chrono::Duration::hours(48)
    );
    assert_eq!(
        at(&ticket["sla_details"]["premiere_reponse"], "echeance") - created,
        chrono::Duration::hours(8)
    );
    assert_eq!(ticket["sla_details"]["pourcentage"], 0);
    assert_eq!(ticket["historique"][0]["action"], "created");
    assert_eq!(ticket["historique"][0]["auteur"], "Test superadmin");
    assert_eq!(audit_actions(&w, s(&ticket, "id")).await, ["create_ticket"]);
    // The second one follows.
    let next = w.ticket_of_a().await;
    assert_eq!(s(&next, "numero"), format!("TC-{year}-002"));
}

#[tokio::test]
async fn a_client_opens_tickets_for_its_own_company_only() {
    let w = world().await;
    let ticket = w.open_ticket(&w.client_a, json!({})).await;
    assert_eq!(ticket["client"]["id"], json!(w.company_a()));
    let own = w
        .open_ticket(&w.client_a, json!({ "client_id": w.company_a() }))
        .await;
    assert_eq!(own["client"]["id"], json!(w.company_a()));

    // Naming another company is refused without saying whether it exists.
    let res = w
        .post(
            "/api/tickets-client",
            &w.client_a,
            &json!({ "titre": "x", "description": "y", "categorie": "autre", "client_id": w.company_b() }),
        )
        .await;
    res.field_error("client_id");
    // Staff must say which client.
    w.post(
        "/api/tickets-client",
        &w.staff,
        &json!({ "titre": "x", "description": "y", "categorie": "autre" }),
    )
    .await
    .field_error("client_id");
    // A chantier of another client does not fit.
    let chantier_b = w.chantier(w.company_b(), "Chantier B").await;
    w.post(
        "/api/tickets-client",
        &w.client_a,
        &json!({ "titre": "x", "description": "y", "categorie": "autre", "chantier_id": chantier_b["id"] }),
    )
    .await
    .field_error("chantier_id");
}

#[tokio::test]
async fn creating_refuses_bad_input_and_mass_assignment() {
    let w = world().await;
    let base =
        json!({ "titre": "Fuite", "description": "Eau au sous-sol", "categorie": "travaux" });
    for (field, value) in [
        ("titre", json!("")),
        ("titre", json!("x".repeat(256))),
        ("titre", json!("   ")),
        ("description", json!("")),
        ("priority", json!("urgente")),
        ("categorie", json!("plomberie")),
        ("tags", json!(["a b"])),
        ("numero", json!("TC-1999-001")),
        ("status", json!("resolu")),
        ("escalation_level", json!(5)),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let res = w.post("/api/tickets-client", &w.client_a, &body).await;
        assert_eq!(res.status, 422, "{field}: {:?}", res.body);
        let error = res.json()["error"].clone();
        let fields = error["details"]["fields"].as_object().unwrap();
        assert!(
            fields.keys().any(|k| k.starts_with(field)),
            "{field} not named in {error}"
        );
    }
    // Nothing was created by any of them.
    let list = w.get("/api/tickets-client", &w.staff).await;
    assert_eq!(list.json()["meta"]["total"], 0);
}

#[tokio::test]
async fn who_may_read_a_ticket() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let numero = s(&ticket, "numero");
    for path in [
        format!("/api/tickets-client/{id}"),
        format!("/api/tickets-client/{numero}"),
        format!("/api/tickets-client/{}", numero.to_lowercase()),
    ] {
        let staff = w.get(&path, &w.staff).await.ok(200);
        assert_eq!(staff["id"], ticket["id"]);
        w.get(&path, &w.client_a).await.ok(200);
        w.get(&path, &w.client_b).await.error(404, "NOT_FOUND");
        w.get(&path, &w.prestataire).await.error(403, "FORBIDDEN");
        w.get(&path, &w.revendeur).await.error(403, "FORBIDDEN");
        w.call(Method::GET, &path, None, None)
            .await
            .error(401, "UNAUTHENTICATED");
    }
    w.get("/api/tickets-client/not-a-ticket", &w.staff)
        .await
        .field_error("id");
    w.get(
        &format!("/api/tickets-client/{}", uuid::Uuid::now_v7()),
        &w.staff,
    )
    .await
    .error(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_list_is_scoped_filtered_sorted_and_paginated() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Les Jardins").await;
    let a1 = w
        .open_ticket(&w.staff, json!({ "priority": "critique", "categorie": "securite", "chantier_id": chantier["id"] }))
        .await;
    let a2 = w
        .open_ticket(
            &w.staff,
            json!({ "priority": "basse", "categorie": "qualite" }),
        )
        .await;
    let b1 = w.ticket_of_b().await;
    w.action(
        s(&a2, "id"),
        &w.staff,
        "affecter",
        json!({ "responsable": "Marie Martin" }),
    )
    .await
    .ok(200);

    let all = w.get("/api/tickets-client", &w.staff).await;
    assert_eq!(all.status, 200);
    let body = all.json();
    assert_eq!(body["meta"]["total"], 3);
    // Newest first.
    assert_eq!(body["data"][0]["id"], b1["id"]);
    let first = &body["data"][2];
    assert_eq!(first["id"], a1["id"]);
    assert_eq!(first["client_nom"], "SARL Construction Plus");
    assert_eq!(first["chantier_nom"], "Les Jardins");
    assert_eq!(first["sla_status"], "ok");
    assert_eq!(first["nb_messages"], 0);

    let mine = w.get("/api/tickets-client", &w.client_a).await.json();
    assert_eq!(mine["meta"]["total"], 2);
    assert!(
        mine["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["client_id"] == json!(w.company_a()))
    );
    // A client naming another company's id still sees only its own.
    let other = w
        .get(
            &format!("/api/tickets-client?client_id={}", w.company_b()),
            &w.client_a,
        )
        .await
        .json();
    assert_eq!(other["meta"]["total"], 0);

    let total = |query: String| {
        let w = &w;
        async move {
            w.get(&format!("/api/tickets-client?{query}"), &w.staff)
                .await
                .json()["meta"]["total"]
                .clone()
        }
    };
    assert_eq!(total("priority=critique".into()).await, 1);
    assert_eq!(total("categorie=qualite".into()).await, 1);
    assert_eq!(total("status=nouveau".into()).await, 3);
    assert_eq!(total(format!("client_id={}", w.company_b())).await, 1);
    assert_eq!(
        total(format!("chantier_id={}", s(&chantier, "id"))).await,
        1
    );
    assert_eq!(total("responsable=Marie%20Martin".into()).await, 1);
    assert_eq!(total("sla_status=ok".into()).await, 3);
    assert_eq!(total("sla_status=breach".into()).await, 0);
    let today = Utc::now().date_naive();
    assert_eq!(total(format!("date_from={today}&date_to={today}")).await, 3);
    assert_eq!(
        total(format!("date_to={}", today - chrono::Duration::days(1))).await,
        0
    );

    let sorted = w
        .get("/api/tickets-client?sort=priority&order=asc", &w.staff)
        .await
        .json();
    assert_eq!(sorted["data"][0]["priority"], "critique");
    assert_eq!(sorted["data"][2]["priority"], "basse");

    let page = w
        .get("/api/tickets-client?limit=2&page=2", &w.staff)
        .await
        .json();
    assert_eq!(page["meta"]["pages"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);

    for (query, field) in [
        ("status=ouvert", "status"),
        ("priority=1", "priority"),
        ("sla_status=late", "sla_status"),
        ("client_id=abc", "client_id"),
        ("date_from=31/01/2026", "date_from"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to"),
        ("clientId=x", "clientId"),
        ("sort=password", "sort"),
        ("limit=101", "limit"),
    ] {
        w.get(&format!("/api/tickets-client?{query}"), &w.staff)
            .await
            .field_error(field);
    }
    // Text without a word matches nothing rather than everything.
    let nothing = w
        .get("/api/tickets-client?search=%20--%20", &w.staff)
        .await
        .json();
    assert_eq!(nothing["meta"]["total"], 0);
    w.call(Method::GET, "/api/tickets-client", None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get("/api/tickets-client", &w.prestataire)
        .await
        .error(403, "FORBIDDEN");
}

/// Every page of every sort holds the rows the whole sorted list holds there, once each, with
/// their own names and counts: the page's rows are found by key first and then joined to
/// their details in the keys' order (SQLite), so this fails if the join or the order drifts.
#[tokio::test]
async fn pages_of_each_sort_follow_the_whole_order_with_each_row_once() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Les Jardins").await;
    let priorities = ["basse", "critique", "normale", "haute"];
    let mut opened = Vec::new();
    for k in 0..11_usize {
        // Titles in another order than creation, with two equal titles (ties go by id).
        let titre = format!(
            "Ticket {}",
            ["k", "c", "h", "a", "e", "j", "b", "f", "i", "d", "d"][k]
        );
        let mut extra = json!({ "titre": titre, "priority": priorities[k % 4] });
        if k % 3 == 0 {
            extra["chantier_id"] = chantier["id"].clone();
        }
        if k == 4 {
            extra["client_id"] = json!(w.company_b());
        }
        opened.push(w.open_ticket(&w.staff, extra).await);
    }
    let noted = s(&opened[5], "id").to_owned();
    for body in [
        json!({ "contenu": "Une équipe passe demain." }),
        json!({ "contenu": "Note interne", "interne": true }),
    ] {
        w.post(
            &format!("/api/tickets-client/{noted}/messages"),
            &w.staff,
            &body,
        )
        .await
        .ok(201);
    }
    let rank = |p: &str| {
        priorities
            .iter()
            .position(|x| *x == p)
            .map(|i| [3, 0, 2, 1][i])
    };
    let ids = |v: &[Value]| v.iter().map(|t| s(t, "id").to_owned()).collect::<Vec<_>>();

    for (user, count) in [(&w.staff, 11), (&w.client_a, 10)] {
        let whole = w.get("/api/tickets-client?limit=100", user).await.json();
        let rows = whole["data"].as_array().unwrap().clone();
        assert_eq!(rows.len(), count);
        let noted_row = rows.iter().find(|t| s(t, "id") == noted).unwrap();
        let visible_messages = if user.role == entity::Role::Superadmin {
            2
        } else {
            1
        };
        assert_eq!(noted_row["nb_messages"], visible_messages);
        for row in &rows {
            let mine = opened.iter().find(|t| t["id"] == row["id"]).unwrap();
            assert_eq!(row["titre"], mine["titre"]);
            assert_eq!(row["numero"], mine["numero"]);
            let expected_chantier = if mine["chantier"].is_null() {
                Value::Null
            } else {
                json!("Les Jardins")
            };
            assert_eq!(row["chantier_nom"], expected_chantier, "{row}");
            assert!(row["client_nom"].is_string(), "{row}");
        }
        for (sort, order) in [
            ("titre", "asc"),
            ("titre", "desc"),
            ("priority", "asc"),
            ("numero", "desc"),
            ("date_creation", "asc"),
        ] {
            let whole = w
                .get(
                    &format!("/api/tickets-client?limit=100&sort={sort}&order={order}"),
                    user,
                )
                .await
                .json();
            let sorted = whole["data"].as_array().unwrap().clone();
            let mut expected = sorted.clone();
            expected.sort_by(|a, b| {
                let by = match sort {
                    "titre" => s(a, "titre").cmp(s(b, "titre")),
                    "priority" => rank(s(a, "priority")).cmp(&rank(s(b, "priority"))),
                    "numero" => s(a, "numero")
                        .len()
                        .cmp(&s(b, "numero").len())
                        .then(s(a, "numero").cmp(s(b, "numero"))),
                    _ => at(a, "date_creation").cmp(&at(b, "date_creation")),
                };
                by.then(s(a, "id").cmp(s(b, "id")))
            });
            if order == "desc" {
                expected.reverse();
            }
            assert_eq!(ids(&sorted), ids(&expected), "{sort} {order}");
            let mut paged = Vec::new();
            for page in 1..=3 {
                let body = w
                    .get(
                        &format!(
                            "/api/tickets-client?limit=4&page={page}&sort={sort}&order={order}"
                        ),
                        user,
                    )
                    .await
                    .json();
                assert_eq!(body["meta"]["total"], count);
                paged.extend(body["data"].as_array().unwrap().iter().cloned());
            }
            assert_eq!(paged, sorted, "{sort} {order}");
        }
    }
}

#[tokio::test]
async fn staff_update_tickets_and_every_change_is_in_the_history() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");
    let path = format!("/api/tickets-client/{id}");
    let prestataire_id = w.prestataire.id;
    let updated = w
        .patch(
            &path,
            &w.staff,
            &json!({
                "status": "en_cours",
                "priority": "critique",
                "responsable_id": prestataire_id,
                "tags": ["suivi"],
                "titre": "Garde-corps manquant",
            }),
        )
        .await
        .ok(200);
    assert_eq!(updated["status"], "en_cours");
    assert_eq!(updated["priority"], "critique");
    assert_eq!(updated["responsable"], "Test prestataire");
    assert_eq!(updated["responsable_id"], json!(prestataire_id));
    assert_eq!(updated["tags"], json!(["suivi"]));
    assert_eq!(updated["titre"], "Garde-corps manquant");
    // critique: the deadline is now 24 h after creation.
    assert_eq!(
        at(&updated, "date_limite") - at(&updated, "date_creation"),
        chrono::Duration::hours(24)
    );
    let actions: Vec<&str> = updated["historique"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    for expected in [
        "created",
        "updated",
        "priority_change",
        "tags_change",
        "assigned",
        "status_change",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let status_row = updated["historique"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == "status_change")
        .unwrap();
    assert_eq!(
        status_row["description"],
        "Statut changé de 'nouveau' à 'en_cours'"
    );
    assert_eq!(status_row["auteur"], "Test superadmin");
    assert_eq!(
        audit_actions(&w, id).await,
        ["create_ticket", "update_ticket"]
    );

    // Unassign by name.
    let cleared = w
        .patch(&path, &w.staff, &json!({ "responsable": null }))
        .await
        .ok(200);
    assert_eq!(cleared["responsable"], Value::Null);
    assert_eq!(cleared["responsable_id"], Value::Null);

    // The workflow refuses going back to `nouveau`.
    w.patch(&path, &w.staff, &json!({ "status": "nouveau" }))
        .await
        .error(409, "CONFLICT");
    // An empty patch changes nothing and writes nothing.
    let before = w.get(&path, &w.staff).await.ok(200);
    let same = w.patch(&path, &w.staff, &json!({})).await.ok(200);
    assert_eq!(same["historique"], before["historique"]);
    assert_eq!(same["date_modification"], before["date_modification"]);
    // No mass assignment.
    w.patch(&path, &w.staff, &json!({ "client_id": w.company_b() }))
        .await
        .field_error("client_id");
    w.patch(&path, &w.staff, &json!({ "numero": "TC-1-1" }))
        .await
        .field_error("numero");
    // A client account cannot be put in charge.
    w.patch(&path, &w.staff, &json!({ "responsable_id": w.client_a.id }))
        .await
        .field_error("responsable_id");
}

#[tokio::test]
async fn a_client_may_edit_the_text_of_its_own_tickets_only() {
    let w = world().await;
    let ticket = w.open_ticket(&w.client_a, json!({})).await;
    let path = format!("/api/tickets-client/{}", s(&ticket, "id"));
    let edited = w
        .patch(
            &path,
            &w.client_a,
            &json!({ "description": "Plus de détails." }),
        )
        .await
        .ok(200);
    assert_eq!(edited["description"], "Plus de détails.");
    for body in [
        json!({ "status": "resolu" }),
        json!({ "priority": "critique" }),
        json!({ "responsable": "Moi" }),
        json!({ "tags": ["x"] }),
    ] {
        w.patch(&path, &w.client_a, &body)
            .await
            .error(403, "FORBIDDEN");
    }
    w.patch(&path, &w.client_b, &json!({ "titre": "x" }))
        .await
        .error(404, "NOT_FOUND");
    w.patch(&path, &w.prestataire, &json!({ "titre": "x" }))
        .await
        .error(403, "FORBIDDEN");
    w.call(Method::PATCH, &path, None, Some(&json!({ "titre": "x" })))
        .await
        .error(401, "UNAUTHENTICATED");
    w.patch(&path, &w.client_a, &json!({ "titre": "" }))
        .await
        .field_error("titre");
}

#[tokio::test]
async fn actions_follow_the_seed_and_their_rules() {
    let w = world().await;
    let ticket = w.ticket_of_a().await;
    let id = s(&ticket, "id");

    let assigned = w
        .action(
            id,
            &w.staff,
            "affecter",
            json!({ "responsable": "Jean Dupont" }),
        )
        .await
        .ok(200);
    assert_eq!(assigned["responsable"], "Jean Dupont");
    w.action(
        id,
        &w.staff,
        "affecter",
        json!({ "responsable": "X", "responsable_id": w.revendeur.id }),
    )
    .await
    .field_error("data.responsable_id");

    let escalated = w
        .action(id, &w.staff, "escalader", json!({ "niveau": 2 }))
        .await
        .ok(200);
    assert_eq!(escalated["escalation_level"], 2);
    w.action(id, &w.staff, "escalader", json!({ "niveau": 1 }))
        .await
        .error(409, "CONFLICT");
    w.action(id, &w.staff, "escalader", json!({ "niveau": 9 }))
        .await
        .field_error("data.niveau");

    let prioritised = w
        .action(
            id,
            &w.staff,
            "changer_priorite",
            json!({ "priority": "basse" }),
        )
        .await
        .ok(200);
    assert_eq!(prioritised["priority"], "basse");
    assert_eq!(
        at(&prioritised, "date_limite") - at(&prioritised, "date_creation"),
        chrono::Duration::hours(240)
    );

    let tagged = w
        .action(
            id,
            &w.staff,
            "ajouter_tags",
            json!({ "tags": ["Suivi", "urgent"] }),
        )
        .await
        .ok(200);
    assert_eq!(tagged["tags"], json!(["suivi", "urgent"]));

    // The client may not run staff actions on its own ticket, nor anything on another's.
    for (action, data) in [
        ("affecter", json!({ "responsable": "Moi" })),
        ("escalader", json!({ "niveau": 3 })),
        ("changer_priorite", json!({ "priority": "critique" })),
        ("ajouter_tags", json!({ "tags": ["x"] })),
    ] {
        w.action(id, &w.client_a, action, data.clone())
            .await
            .error(403, "FORBIDDEN");
        w.action(id, &w.client_b, action, data)
            .await
            .error(404, "NOT_FOUND");
    }
    w.action(id, &w.client_b, "cloturer", json!({ "motif": "x" }))
        .await
        .error(404, "NOT_FOUND");

    // Staff may not rate; the client closes with a rating.
    w.action(
        id,
        &w.staff,
        "cloturer",
        json!({ "motif": "Fait", "note_satisfaction": 5 }),
    )
    .await
    .field_error("data.note_satisfaction");
    let closed = w
        .action(
            id,
            &w.client_a,
            "cloturer",
            json!({ "motif": "Réparé", "note_satisfaction": 4 }),
        )
        .await
        .ok(200);
    assert_eq!(closed["status"], "ferme");
    assert_eq!(closed["note_satisfaction"], 4);
    assert_eq!(closed["motif_cloture"], "Réparé");
    assert!(closed["date_cloture"].is_string());
    assert_eq!(closed["sla_details"]["en_pause"], true);
    w.action(id, &w.client_a, "cloturer", json!({ "motif": "encore" }))
        .await
        .error(409, "CONFLICT");
    // A closed ticket takes no edits from the client until reopened.
    w.patch(
        &format!("/api/tickets-client/{id}"),
        &w.client_a,
        &json!({ "titre": "x" }),
    )
    .await
    .error(409, "CONFLICT");

    let reopened = w
        .action(
            id,
            &w.client_a,
            "reopen",
            json!({ "motif": "Le problème est revenu" }),
        )
        .await
        .ok(200);
    assert_eq!(reopened["status"], "en_cours");
    assert_eq!(reopened["date_cloture"], Value::Null);
    w.action(id, &w.client_a, "reopen", json!({ "motif": "x" }))
        .await
        .error(409, "CONFLICT");

    // Bad requests.
    w.post(
        &format!("/api/tickets-client/{id}/action"),
        &w.staff,
        &json!({ "action": "supprimer" }),
    )
    .await
    .field_error("action");
    w.action(id, &w.staff, "cloturer", json!({}))
        .await
        .field_error("data.motif");
    w.action(
        id,
        &w.staff,
        "changer_priorite",
        json!({ "priority": "haute", "role": "superadmin" }),
    )
    .await
    .field_error("data.role");
    w.call(
        Method::POST,
        &format!("/api/tickets-client/{id}/action"),
        None,
        Some(&json!({ "action": "reopen", "data": { "motif": "x" } })),
    )
    .await
    .error(401, "UNAUTHENTICATED");
    w.action(id, &w.revendeur, "reopen", json!({ "motif": "x" }))
        .await
        .error(403, "FORBIDDEN");

    let actions = audit_actions(&w, id).await;
    for expected in [
        "ticket_affecter",
        "ticket_escalader",
        "ticket_changer_priorite",
        "ticket_ajouter_tags",
        "ticket_cloturer",
        "ticket_reopen",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn fixed_paths_beside_tickets_answer_405_with_their_own_methods() {
    let w = world().await;
    for (method, path, allowed) in [
        (Method::PATCH, "/api/tickets-client/bulk", "POST"),
        (Method::GET, "/api/tickets-client/export", "POST"),
        (Method::PATCH, "/api/tickets-client/stats", "GET"),
        (Method::PATCH, "/api/tickets-client/search", "GET"),
    ] {
        let reply = w.call(method, path, Some(&w.staff), Some(&json!({}))).await;
        reply.error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(reply.header("allow"), Some(allowed), "{path}");
    }
    // A ticket number is still a ticket.
    let ticket = w.ticket_of_a().await;
    w.get(
        &format!("/api/tickets-client/{}", s(&ticket, "numero")),
        &w.staff,
    )
    .await
    .ok(200);
}
