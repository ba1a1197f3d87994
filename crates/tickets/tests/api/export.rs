use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use test_support::{TestOptions, TestUser};

use crate::{World, s, world, world_with};

const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"clic\")";

async fn export(w: &World, user: &TestUser, body: Value) -> Value {
    w.post("/api/tickets-client/export", user, &body)
        .await
        .ok(201)
}

async fn file(w: &World, export: &Value) -> Vec<u8> {
    let res = w.download(s(export, "url")).await;
    res.assert_status(200);
    res.body.to_vec()
}

/// Two tickets of A (one with a formula for a title), one of B.
async fn seeded(w: &World) -> (Value, Value, Value) {
    let a1 = w
        .open_ticket(
            &w.staff,
            json!({ "titre": FORMULA, "priority": "critique" }),
        )
        .await;
    let a2 = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Fissure dans la dalle", "priority": "basse" }),
        )
        .await;
    let b1 = w.ticket_of_b().await;
    (a1, a2, b1)
}

#[tokio::test]
async fn csv_exports_parse_back_with_formulas_neutralised() {
    let w = world().await;
    let (a1, _, _) = seeded(&w).await;
    let done = export(&w, &w.staff, json!({ "format": "csv" })).await;
    assert_eq!(done["status"], "ready");
    assert_eq!(done["rows"], 3);
    assert_eq!(done["format"], "csv");
    assert!(done["expires_at"].is_string());
    let bytes = file(&w, &done).await;
    let text = String::from_utf8(bytes).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 BOM for spreadsheets");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "numero",
            "titre",
            "status",
            "priority",
            "categorie",
            "client_nom",
            "chantier_nom",
            "responsable",
            "date_creation",
            "date_limite",
            "sla_status"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let row = rows.iter().find(|r| &r[0] == s(&a1, "numero")).unwrap();
    assert_eq!(&row[1], format!("'{FORMULA}"));
    assert_eq!(&row[3], "critique");
    assert_eq!(&row[5], "SARL Construction Plus");
    assert_eq!(&row[10], "ok");

    // Filters and fields.
    let filtered = export(
        &w,
        &w.staff,
        json!({ "format": "csv", "filters": { "priority": "basse" }, "fields": ["titre", "priority"] }),
    )
    .await;
    assert_eq!(filtered["rows"], 1);
    let text = String::from_utf8(file(&w, &filtered).await).unwrap();
    assert_eq!(
        text.trim_start_matches('\u{feff}').trim_end(),
        "titre,priority\nFissure dans la dalle,basse"
    );
}

#[tokio::test]
async fn excel_json_and_pdf_exports_are_real_files() {
    let w = world().await;
    let (a1, a2, _) = seeded(&w).await;

    let xlsx = export(
        &w,
        &w.staff,
        json!({ "format": "excel", "fields": ["numero", "titre", "nb_messages"] }),
    )
    .await;
    let bytes = file(&w, &xlsx).await;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range("Tickets").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(rows[0], ["numero", "titre", "nb_messages"]);
    assert_eq!(rows.len(), 4);
    let formula_row = rows.iter().find(|r| r[0] == s(&a1, "numero")).unwrap();
    assert_eq!(formula_row[1], format!("'{FORMULA}"));
    assert_eq!(formula_row[2], "0");

    let json_export = export(
        &w,
        &w.staff,
        json!({ "format": "json", "fields": ["numero", "tags", "client_id"], "filters": { "client_id": w.company_a() } }),
    )
    .await;
    let parsed: Value = serde_json::from_slice(&file(&w, &json_export).await).unwrap();
    assert_eq!(parsed["count"], 2);
    let tickets = parsed["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    for ticket in tickets {
        let keys: Vec<&String> = ticket.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{ticket}");
        assert_eq!(ticket["client_id"], json!(w.company_a()));
        assert!(ticket["tags"].is_array());
    }

    let pdf = export(&w, &w.staff, json!({ "format": "pdf" })).await;
    let res = w.download(s(&pdf, "url")).await;
    res.assert_status(200);
    assert_eq!(res.header("content-type"), Some("application/pdf"));
    let bytes = res.body.to_vec();
    assert!(bytes.starts_with(b"%PDF"));
    let document = lopdf::Document::load_mem(&bytes).unwrap();
    let text = document.extract_text(&[1]).unwrap();
    assert!(text.contains("Export des tickets clients"), "{text}");
    assert!(text.contains(s(&a2, "numero")), "{text}");
    assert!(text.contains("Fissure dans la dalle"), "{text}");
    assert!(text.contains("Page 1 / 1"), "{text}");
}

#[tokio::test]
async fn a_client_exports_its_own_tickets_only() {
    let w = world().await;
    seeded(&w).await;
    let mine = export(
        &w,
        &w.client_b,
        json!({ "format": "json", "fields": ["client_nom"] }),
    )
    .await;
    assert_eq!(mine["rows"], 1);
    let parsed: Value = serde_json::from_slice(&file(&w, &mine).await).unwrap();
    assert_eq!(parsed["tickets"][0]["client_nom"], "Bâtiments Sahel");
    // Asking for another company's tickets gives none.
    let other = export(
        &w,
        &w.client_b,
        json!({ "format": "csv", "filters": { "client_id": w.company_a() } }),
    )
    .await;
    assert_eq!(other["rows"], 0);
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("export_tickets"))
        .count(&w.app.db)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn export_requests_are_checked() {
    let w = world().await;
    let path = "/api/tickets-client/export";
    for (body, field) in [
        (json!({ "format": "xml" }), "format"),
        (json!({}), "format"),
        (
            json!({ "format": "csv", "fields": ["password"] }),
            "fields[0]",
        ),
        (
            json!({ "format": "csv", "fields": ["titre", "titre"] }),
            "fields[1]",
        ),
        (json!({ "format": "csv", "fields": [] }), "fields"),
        (
            json!({ "format": "csv", "filters": { "status": "perdu" } }),
            "filters.status",
        ),
        (
            json!({ "format": "csv", "filters": { "owner": "x" } }),
            "filters.owner",
        ),
        (
            json!({ "format": "csv", "filters": { "date_from": "2026-02-01", "date_to": "2026-01-01" } }),
            "filters.date_to",
        ),
        (json!({ "format": "csv", "url": "http://x" }), "url"),
    ] {
        w.post(path, &w.staff, &body).await.field_error(field);
    }
    w.call(Method::POST, path, None, Some(&json!({ "format": "csv" })))
        .await
        .error(401, "UNAUTHENTICATED");
    w.post(path, &w.prestataire, &json!({ "format": "csv" }))
        .await
        .error(403, "FORBIDDEN");
    let exports = entity::ticket_export::Entity::find()
        .count(&w.app.db)
        .await
        .unwrap();
    assert_eq!(exports, 0);
}

#[tokio::test]
async fn a_slow_export_answers_202_and_its_link_serves_the_file_once_ready() {
    let w = world_with(
        TestOptions::default()
            .with_fixtures()
            .env("EXPORT_WAIT_MS", "0"),
    )
    .await;
    seeded(&w).await;
    let pending = w
        .post(
            "/api/tickets-client/export",
            &w.staff,
            &json!({ "format": "csv" }),
        )
        .await
        .ok(202);
    assert_eq!(pending["status"], "pending");
    let url = s(&pending, "url").to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let res = w.download(&url).await;
        if res.status == 200 {
            assert!(String::from_utf8_lossy(&res.body).contains("numero"));
            break;
        }
        let data = res.ok(202);
        assert!(matches!(s(&data, "status"), "queued" | "running"), "{data}");
        assert_eq!(res.header("retry-after"), Some("2"));
        assert!(
            std::time::Instant::now() < deadline,
            "the export never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The link expires with the export.
    w.app.advance_clock(chrono::Duration::hours(25)).await;
    w.download(&url).await.error(404, "NOT_FOUND");
}
