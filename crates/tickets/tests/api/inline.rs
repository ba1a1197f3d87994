//! A ticket's detail read on the request's own thread (an SQLite file: bench/RESULTS.md item
//! 32) is the pool's, model for model, and the detail route reads it so; so are a list's page
//! and its kept total (item 33), row for row.

use actix_web::ResponseError;
use entity::ticket::{TicketPriority, TicketStatus};
use serde_json::json;
use shared::db::{InlineReads, query_rows_inline};
use shared::pagination::{Order, PageParams, Sort};
use tickets::Scope;
use tickets::counts;
use tickets::filters::TicketFilters;
use tickets::tickets::service::{TicketRow, find_with_parties, list_statements};
use tickets::tickets::{TicketKey, TicketSort, contents};
use uuid::Uuid;

use crate::attachments::{file_form, upload};
use crate::{s, world};

#[tokio::test]
async fn a_ticket_read_inline_is_the_pools_model_for_model() {
    let w = world().await;
    // A chantier with every column filled: dates, coordinates, a budget (each type read).
    let chantier = w
        .post(
            "/api/chantiers",
            &w.staff,
            &json!({
                "nom": "Résidence Les Palmiers", "type": "construction", "client_id": w.company_a(),
                "adresse": "Route de la Corniche", "ville": "Dakar",
                "coordonnees": { "lat": 14.6937, "lng": -17.4441 },
                "statut": "en_cours", "date_debut": "2026-06-15", "date_fin": "2027-12-31",
                "budget_cents": 45_000_000_000i64, "currency": "xof", "avancement": 65,
                "responsable": "Awa Ndiaye",
            }),
        )
        .await
        .ok(201);
    let ticket = w
        .open_ticket(
            &w.client_a,
            json!({ "chantier_id": chantier["id"], "tags": ["urgent", "lot-2"] }),
        )
        .await;
    let id = s(&ticket, "id");
    let numero = s(&ticket, "numero").to_owned();
    let path = format!("/api/tickets-client/{id}");
    // A message of each kind, a status change (history), a file: every branch of the contents.
    w.post(
        &format!("{path}/messages"),
        &w.client_a,
        &json!({ "contenu": "Le garde-corps manque toujours." }),
    )
    .await
    .ok(201);
    w.post(
        &format!("{path}/messages"),
        &w.staff,
        &json!({ "contenu": "Relancer le sous-traitant.", "interne": true }),
    )
    .await
    .ok(201);
    w.patch(&path, &w.staff, &json!({ "status": "en_cours" }))
        .await
        .ok(200);
    upload(
        &w,
        id,
        Some(&w.staff),
        file_form("plan.pdf", "application/pdf", b"%PDF-1.4".to_vec()),
    )
    .await
    .ok(201);
    let bare = w.ticket_of_b().await;

    let inline = InlineReads::for_url(&w.app.config.database_url);
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts = || inline.as_ref().map(|inline| inline.counts());
    let before = counts();
    let id = Uuid::parse_str(id).unwrap();
    let bare_id = Uuid::parse_str(s(&bare, "id")).unwrap();
    let cases = [
        (TicketKey::Numero(numero.clone()), Scope::Staff),
        (TicketKey::Id(id), Scope::Company(w.company_a())),
        (TicketKey::Id(bare_id), Scope::Staff),
        // Another company's ticket, and none at all: a 404 both ways.
        (TicketKey::Id(bare_id), Scope::Company(w.company_a())),
        (TicketKey::Numero("TC-2020-999".to_owned()), Scope::Staff),
    ];
    for (key, scope) in &cases {
        let pooled = find_with_parties(&w.app.db, None, *scope, key).await;
        let read = find_with_parties(&w.app.db, inline.as_deref(), *scope, key).await;
        match (pooled, read) {
            (Ok(pooled), Ok(read)) => {
                assert_eq!(read.ticket, pooled.ticket);
                assert_eq!(read.client, pooled.client);
                assert_eq!(read.chantier, pooled.chantier);
                let pooled = contents::read(&w.app.db, None, *scope, pooled.ticket.id)
                    .await
                    .unwrap();
                let read = contents::read(&w.app.db, inline.as_deref(), *scope, read.ticket.id)
                    .await
                    .unwrap();
                assert_eq!(read.history, pooled.history);
                assert_eq!(read.latest_messages, pooled.latest_messages);
                assert_eq!(read.nb_messages, pooled.nb_messages);
                assert_eq!(read.files, pooled.files);
            }
            (Err(pooled), Err(read)) => {
                assert_eq!(pooled.status_code(), 404);
                assert_eq!(read.status_code(), 404);
            }
            (pooled, read) => panic!("{key:?} as {scope:?}: {pooled:?} / {read:?}"),
        }
    }
    let (chantier_of, with_files) = (
        find_with_parties(&w.app.db, None, Scope::Staff, &cases[0].0)
            .await
            .unwrap(),
        contents::read(&w.app.db, None, Scope::Staff, id)
            .await
            .unwrap(),
    );
    let site = chantier_of.chantier.unwrap();
    assert_eq!(site.latitude, Some(14.6937));
    assert!(site.date_debut.is_some() && site.budget_cents == Some(45_000_000_000));
    assert_eq!(with_files.latest_messages.len(), 2);
    assert_eq!(with_files.files.len(), 1);
    assert!(with_files.history.len() >= 2);
    // Every statement of those ran inline (on PostgreSQL there is nothing to count), and so do
    // the detail route's: the account check and the detail's two statements.
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        assert_eq!(served - before.0, 8);
        w.get(&path, &w.client_a).await.ok(200);
        assert_eq!(counts(), Some((served + 3, failed)));
    }
}

#[tokio::test]
async fn a_list_page_read_inline_is_the_pools_row_for_row() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Lot B").await;
    // Rows with and without a chantier, tags, a person in charge, messages (a staff-only one:
    // counted for staff, not for the client) and a file: every column of a row.
    let first = w
        .open_ticket(
            &w.client_a,
            json!({ "chantier_id": chantier["id"], "tags": ["lot-2"], "priority": "normale" }),
        )
        .await;
    let path = format!("/api/tickets-client/{}", s(&first, "id"));
    w.patch(
        &path,
        &w.staff,
        &json!({ "status": "en_cours", "responsable": "Awa Ndiaye" }),
    )
    .await
    .ok(200);
    w.post(
        &format!("{path}/messages"),
        &w.staff,
        &json!({ "contenu": "Relancer le sous-traitant.", "interne": true }),
    )
    .await
    .ok(201);
    upload(
        &w,
        s(&first, "id"),
        Some(&w.staff),
        file_form("plan.pdf", "application/pdf", b"%PDF-1.4".to_vec()),
    )
    .await
    .ok(201);
    for _ in 0..2 {
        w.ticket_of_a().await;
        w.ticket_of_b().await;
    }

    let inline = InlineReads::for_url(&w.app.config.database_url);
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts_now = || inline.as_ref().map(|inline| inline.counts());
    let before = counts_now();
    let backend = w.app.db.get_database_backend();
    let by_date = Sort::<TicketSort>::default();
    let by_title = Sort {
        field: TicketSort::Titre,
        order: Order::Asc,
    };
    let in_progress = TicketFilters {
        status: Some(TicketStatus::EnCours),
        priority: Some(TicketPriority::Normale),
        ..TicketFilters::default()
    };
    let cases = [
        (Scope::Staff, TicketFilters::default(), by_date, 1, 100),
        (Scope::Staff, TicketFilters::default(), by_title, 2, 2),
        (Scope::Staff, in_progress.clone(), by_date, 1, 20),
        (
            Scope::Company(w.company_a()),
            TicketFilters::default(),
            by_date,
            1,
            100,
        ),
        (
            Scope::Company(w.company_b()),
            in_progress.clone(),
            by_date,
            1,
            100,
        ),
    ];
    let mut read_rows = 0;
    for (scope, filters, sort, page, limit) in &cases {
        let page = PageParams {
            page: *page,
            limit: *limit,
        };
        let now = chrono::Utc::now();
        let (_, select) = list_statements(backend, *scope, filters, page, *sort, now).unwrap();
        let pooled = query_rows_inline(&w.app.db, None, select.clone(), TicketRow::from_columns)
            .await
            .unwrap();
        let read = query_rows_inline(
            &w.app.db,
            inline.as_deref(),
            select,
            TicketRow::from_columns,
        )
        .await
        .unwrap();
        assert_eq!(
            format!("{read:?}"),
            format!("{pooled:?}"),
            "{scope:?} {filters:?}"
        );
        read_rows += read.len();
    }
    // Three tickets of company A's, two of company B's; the first in full: its chantier, tags,
    // person in charge and, for staff, its internal message and its file.
    // (All five, the second page's two, the one in progress, company A's three, and none of
    // company B's in progress.)
    assert_eq!(read_rows, 5 + 2 + 1 + 3);
    let (_, select) = list_statements(
        backend,
        Scope::Staff,
        &in_progress,
        PageParams::default(),
        by_date,
        chrono::Utc::now(),
    )
    .unwrap();
    let row = &query_rows_inline(
        &w.app.db,
        inline.as_deref(),
        select,
        TicketRow::from_columns,
    )
    .await
    .unwrap()[0];
    assert_eq!(row.chantier_nom.as_deref(), Some("Lot B"));
    assert_eq!(row.responsable.as_deref(), Some("Awa Ndiaye"));
    assert_eq!(row.tags, ["lot-2"]);
    assert_eq!((row.nb_messages, row.nb_piece_jointes), (1, 1));
    for filters in [TicketFilters::default(), in_progress.clone()] {
        let pooled = counts::kept(&w.app.db, None, &filters).await.unwrap();
        let read = counts::kept(&w.app.db, inline.as_deref(), &filters)
            .await
            .unwrap();
        assert_eq!(read, pooled);
    }
    assert_eq!(
        counts::total(&w.app.db, inline.as_deref(), &TicketFilters::default())
            .await
            .unwrap(),
        5
    );

    // Every statement of those ran inline (on PostgreSQL there is nothing to count), and so do
    // the list route's where an index gives a page's order: the account check, the page and
    // its kept total. A page sorted otherwise goes to the pool, and so does a company's total.
    if let (Some((served, failed)), Some(before)) = (counts_now(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        assert_eq!(served - before.0, 5 + 1 + 2 + 1);
        let staff = "/api/tickets-client?status=en_cours&priority=normale&limit=1";
        let page = w.get(staff, &w.staff).await;
        page.ok(200);
        assert_eq!(page.json()["meta"]["total"], 1);
        w.get("/api/tickets-client?limit=2", &w.staff).await.ok(200);
        assert_eq!(counts_now(), Some((served + 6, failed)));
        w.get("/api/tickets-client?sort=titre&limit=2", &w.staff)
            .await
            .ok(200);
        w.get("/api/tickets-client?limit=2", &w.client_a)
            .await
            .ok(200);
        assert_eq!(counts_now(), Some((served + 6 + 2 + 2, failed)));
        // A company naming a client (another's here: an empty page) has its page read through
        // the pool: the index walk would check one of its two client conditions row by row.
        let other = format!("/api/tickets-client?client_id={}&limit=2", w.company_b());
        let page = w.get(&other, &w.client_a).await;
        page.ok(200);
        assert_eq!(page.json()["meta"]["total"], 0);
        assert_eq!(counts_now(), Some((served + 6 + 2 + 2 + 1, failed)));
    }
}
