//! Invoices, PDF, payments (idempotent), balance, ledger and yearly summary, checked against
//! hand-computed figures.

use chrono::{Datelike, Days, NaiveDate};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{World, audits, line, same_page, world};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The running balances of a ledger page, in order.
fn running_balances(ledger: &Value) -> Vec<i64> {
    ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["running_balance_cents"].as_i64().unwrap())
        .collect()
}

/// Three invoices of company A last year (issued in January, February and March), so the
/// figures hold whatever the date today:
/// 1. 3 × 333.33 € at 20 % → base 999.99, VAT 200.00, total 1,199.99; due long ago (overdue).
/// 2. 1.5 × 450.00 € at 10 % + 1 × 100.00 € at 20 % → bases 675.00 / 100.00, VAT 67.50 + 20.00,
///    total 862.50; due in the future.
/// 3. 1 × 0.05 € at 5.5 % → VAT 0.00 (0.275 cents), total 0.05; due in the future.
async fn three_invoices(w: &World) -> Vec<entity::invoice::Model> {
    let year = w.today().year() - 1;
    let later = w.today() + Days::new(60);
    vec![
        w.invoice(
            w.company_a(),
            day(year, 1, 10),
            day(year, 1, 10),
            vec![line("Études", 3000, 33_333, 2000)],
        )
        .await,
        w.invoice(
            w.company_a(),
            day(year, 2, 5),
            later,
            vec![
                line("Main d'œuvre", 1500, 45_000, 1000),
                line("Déplacement", 1000, 10_000, 2000),
            ],
        )
        .await,
        w.invoice(
            w.company_a(),
            day(year, 3, 1),
            later,
            vec![line("Timbre", 1000, 5, 550)],
        )
        .await,
    ]
}

#[tokio::test]
async fn invoices_show_their_lines_and_vat_per_rate() {
    let w = world().await;
    let inv = three_invoices(&w).await;
    let year = w.today().year() - 1;
    assert_eq!(inv[0].number, format!("FAC-{year}-0001"));
    assert_eq!(inv[2].number, format!("FAC-{year}-0003"));
    assert_eq!(
        (inv[0].subtotal_cents, inv[0].vat_cents, inv[0].total_cents),
        (99_999, 20_000, 119_999)
    );
    assert_eq!(
        (inv[1].subtotal_cents, inv[1].vat_cents, inv[1].total_cents),
        (77_500, 8_750, 86_250)
    );
    assert_eq!(
        (inv[2].subtotal_cents, inv[2].vat_cents, inv[2].total_cents),
        (5, 0, 5)
    );
    let detail = w
        .get(&format!("/api/client/invoices/{}", inv[1].id), &w.client_a)
        .await
        .ok(200);
    assert_eq!(detail["number"], inv[1].number);
    assert_eq!(detail["lines"][0]["quantity"], "1.5");
    assert_eq!(detail["lines"][0]["total_ht_cents"], 67_500);
    assert_eq!(
        detail["vat_breakdown"],
        json!([
            { "rate": "10.00", "rate_bp": 1000, "base_cents": 67_500, "vat_cents": 6_750 },
            { "rate": "20.00", "rate_bp": 2000, "base_cents": 10_000, "vat_cents": 2_000 },
        ])
    );
    assert_eq!(detail["seller"]["name"], "Presta SAS");
    assert_eq!(detail["client"]["name"], "Bâtiments Durand");
    let overdue = w
        .get("/api/client/invoices?status=overdue", &w.client_a)
        .await
        .ok(200);
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["overdue"], true);
    let feb = w
        .get(
            &format!("/api/client/invoices?date_from={year}-02-01&date_to={year}-02-28"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(feb.as_array().unwrap().len(), 1);
    let by_total = w
        .get("/api/client/invoices?sort=total&order=asc", &w.client_a)
        .await
        .ok(200);
    assert_eq!(by_total[0]["total_cents"], 5);
    assert!(
        !w.get("/api/client/invoices?status=late", &w.client_a)
            .await
            .field_error("status")
            .is_empty()
    );
    assert!(
        !w.get("/api/client/invoices?date_from=yesterday", &w.client_a)
            .await
            .field_error("date_from")
            .is_empty()
    );
}

#[tokio::test]
async fn the_pdf_is_a_real_invoice() {
    let w = world().await;
    let inv = three_invoices(&w).await;
    let response = w
        .get(
            &format!("/api/client/invoices/{}/pdf", inv[1].id),
            &w.client_a,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/pdf"));
    let document = lopdf::Document::load_mem(&response.body).unwrap();
    let text = document.extract_text(&[1]).unwrap();
    assert!(text.contains(&inv[1].number), "{text}");
    assert!(text.contains("862,50"), "{text}");
    assert!(
        text.contains("Bâtiments Durand") || text.contains("Durand"),
        "{text}"
    );
    assert!(text.contains("Presta SAS"), "{text}");
    w.get(
        &format!("/api/client/invoices/{}/pdf", inv[1].id),
        &w.client_b,
    )
    .await
    .error(404, "NOT_FOUND");
}

#[tokio::test]
async fn payments_are_checked_against_what_is_left_and_replays_pay_once() {
    let w = world().await;
    let inv = three_invoices(&w).await;
    let over = w
        .post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[1].id, "amount_cents": 86_251, "method": "card" }),
        )
        .await;
    assert!(
        over.field_error("amount_cents")[0].contains("86250"),
        "{:?}",
        over.field_error("amount_cents")
    );
    assert!(
        !w.post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[1].id, "amount_cents": 0, "method": "card" })
        )
        .await
        .field_error("amount_cents")
        .is_empty()
    );
    assert!(
        !w.post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[1].id, "amount_cents": 10, "method": "cash" })
        )
        .await
        .field_error("method")
        .is_empty()
    );
    // Idempotency: the same key twice records one payment and answers the same.
    let request = || {
        w.app
            .authed(Method::POST, "/api/client/payments/new", &w.client_a.token)
            .header("Idempotency-Key", "pay-inv2-first-half")
            .json(&json!({ "invoice_id": inv[1].id, "amount_cents": 50_000, "method": "bank_transfer" }))
    };
    let first = w.app.send(request()).await.ok(201);
    let again = w.app.send(request()).await.ok(201);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["status"], "pending");
    assert_eq!(first["instructions"]["reference"], first["reference"]);
    assert!(first["reference"].as_str().unwrap().starts_with(&format!(
        "PAY-{}-",
        inv[1].number.trim_start_matches("FAC-")
    )));
    assert_eq!(audits(&w, "create_payment").await, 1);
    // The pending 500.00 counts: 362.50 is left to announce.
    let over = w
        .post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[1].id, "amount_cents": 36_251, "method": "card" }),
        )
        .await;
    assert!(!over.field_error("amount_cents").is_empty());
    // Confirmation pays the invoice down.
    let id: uuid::Uuid = first["id"].as_str().unwrap().parse().unwrap();
    client::payments::service::confirm(&w.app.db, &w.state, &shared::audit::Actor::system(), id)
        .await
        .unwrap();
    let detail = w
        .get(&format!("/api/client/invoices/{}", inv[1].id), &w.client_a)
        .await
        .ok(200);
    assert_eq!(detail["status"], "partially_paid");
    assert_eq!(detail["paid_cents"], 50_000);
    assert_eq!(detail["balance_due_cents"], 36_250);
    assert_eq!(detail["payments"][0]["status"], "completed");
    let rest = w
        .post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[1].id, "amount_cents": 36_250, "method": "card" }),
        )
        .await
        .ok(201);
    client::payments::service::confirm(
        &w.app.db,
        &w.state,
        &shared::audit::Actor::system(),
        rest["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    w.post(
        "/api/client/payments/new",
        &w.client_a,
        &json!({ "invoice_id": inv[1].id, "amount_cents": 1, "method": "card" }),
    )
    .await
    .error(409, "CONFLICT");
    let paid = w
        .get("/api/client/invoices?status=paid", &w.client_a)
        .await
        .ok(200);
    assert_eq!(paid.as_array().unwrap().len(), 1);
    let list = w
        .get(
            "/api/client/payments?status=completed&sort=amount&order=asc",
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["amount_cents"], 36_250);
    assert_eq!(list[0]["invoice_number"], inv[1].number);
    // B cannot pay A's invoice, nor see A's payments.
    let foreign = w
        .post(
            "/api/client/payments/new",
            &w.client_b,
            &json!({ "invoice_id": inv[0].id, "amount_cents": 1, "method": "card" }),
        )
        .await;
    assert!(!foreign.field_error("invoice_id").is_empty());
    assert!(
        w.get("/api/client/payments", &w.client_b)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn balance_ledger_and_summary_add_up() {
    let w = world().await;
    let inv = three_invoices(&w).await;
    // 200.00 confirmed on invoice 1, 100.00 announced on invoice 2.
    let p = w
        .post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": inv[0].id, "amount_cents": 20_000, "method": "card" }),
        )
        .await
        .ok(201);
    client::payments::service::confirm(
        &w.app.db,
        &w.state,
        &shared::audit::Actor::system(),
        p["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    w.post(
        "/api/client/payments/new",
        &w.client_a,
        &json!({ "invoice_id": inv[1].id, "amount_cents": 10_000, "method": "bank_transfer" }),
    )
    .await
    .ok(201);
    let balance = w.get("/api/client/balance", &w.client_a).await.ok(200);
    // Invoiced 1,199.99 + 862.50 + 0.05 = 2,062.54; paid 200.00; left 1,862.54.
    assert_eq!(balance["total_invoiced_cents"], 206_254);
    assert_eq!(balance["total_paid_cents"], 20_000);
    assert_eq!(balance["pending_payments_cents"], 10_000);
    assert_eq!(balance["outstanding_cents"], 186_254);
    assert_eq!(balance["overdue_cents"], 99_999);
    assert_eq!(balance["open_invoices"], 3);
    assert_eq!(balance["overdue_invoices"], 1);
    // The earliest due date of the open invoices not yet overdue.
    assert_eq!(
        balance["next_due_date"],
        (w.today() + Days::new(60)).to_string()
    );
    let ledger = w
        .get("/api/client/transactions?limit=100", &w.client_a)
        .await
        .ok(200);
    let running = running_balances(&ledger);
    // Invoices by issue date, then the payment confirmed today.
    assert_eq!(running, [119_999, 206_249, 206_254, 186_254]);
    assert_eq!(ledger[3]["kind"], "payment");
    assert_eq!(ledger[3]["credit_cents"], 20_000);
    // A page further on keeps the running balance of everything before it.
    let page2 = w
        .get("/api/client/transactions?limit=2&page=2", &w.client_a)
        .await
        .ok(200);
    assert_eq!(page2[0]["running_balance_cents"], 206_254);
    let payments_only = w
        .get("/api/client/transactions?kind=payment", &w.client_a)
        .await
        .ok(200);
    assert_eq!(payments_only.as_array().unwrap().len(), 1);
    let year = w.today().year() - 1;
    // Filtered by date and kind, the running balances still count every line before.
    let from_february = w
        .get(
            &format!("/api/client/transactions?date_from={year}-02-01"),
            &w.client_a,
        )
        .await
        .ok(200);
    let running = running_balances(&from_february);
    assert_eq!(running, [206_249, 206_254, 186_254]);
    assert_eq!(from_february[2]["reference"], p["reference"]);
    assert_eq!(
        from_february[2]["description"],
        format!("Paiement {}", inv[0].number)
    );
    let january_invoices = w
        .get(
            &format!("/api/client/transactions?date_to={year}-01-31&kind=invoice"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(january_invoices.as_array().unwrap().len(), 1);
    assert_eq!(january_invoices[0]["running_balance_cents"], 119_999);
    assert_eq!(january_invoices[0]["debit_cents"], 119_999);
    let summary = w
        .get(
            &format!("/api/client/financial-summary?year={year}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(summary["invoiced_cents"], 206_254);
    assert_eq!(summary["outstanding_cents"], 186_254);
    assert_eq!(summary["invoices"], 3);
    let months = summary["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[0]["invoiced_cents"], 119_999);
    assert_eq!(months[1]["invoiced_cents"], 86_250);
    assert_eq!(months[2]["invoiced_cents"], 5);
    // The payment was confirmed today: it counts this year, in this month.
    assert_eq!(summary["paid_cents"], 0);
    let this_year = w
        .get(
            &format!("/api/client/financial-summary?year={}", year + 1),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(this_year["invoiced_cents"], 0);
    assert_eq!(this_year["paid_cents"], 20_000);
    let this_month = usize::try_from(w.today().month0()).unwrap();
    assert_eq!(this_year["months"][this_month]["paid_cents"], 20_000);
    assert!(
        !w.get("/api/client/financial-summary?year=1999", &w.client_a)
            .await
            .field_error("year")
            .is_empty()
    );
    // Company B owes nothing.
    assert_eq!(
        w.get("/api/client/balance", &w.client_b).await.ok(200)["total_invoiced_cents"],
        0
    );
}

/// A payment of `amount` on `invoice`, announced by client A and confirmed; its id.
async fn paid(w: &World, invoice: Uuid, amount: i64) -> Uuid {
    let p = w
        .post(
            "/api/client/payments/new",
            &w.client_a,
            &json!({ "invoice_id": invoice, "amount_cents": amount, "method": "card" }),
        )
        .await
        .ok(201);
    p["id"].as_str().unwrap().parse().unwrap()
}

async fn confirmed(w: &World, payment: Uuid) {
    client::payments::service::confirm(
        &w.app.db,
        &w.state,
        &shared::audit::Actor::system(),
        payment,
    )
    .await
    .unwrap();
}

/// What the ledger's entries say, in order: kind, invoice, payment, debit, credit and running
/// balance.
fn entries(ledger: &Value) -> Vec<(String, String, Value, i64, i64, i64)> {
    ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["invoice_id"].as_str().unwrap().to_owned(),
                e["payment_id"].clone(),
                e["debit_cents"].as_i64().unwrap(),
                e["credit_cents"].as_i64().unwrap(),
                e["running_balance_cents"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The database orders, sums and pages the ledger: each day's invoices by number, then its
/// payments by confirmation (not by announcement); pages and filters keep the running balance
/// of every line before them; a page past the end still counts the lines; a cancelled invoice,
/// the payment on it, an announced payment and another company's invoice count nowhere.
#[tokio::test]
async fn the_ledger_is_ordered_summed_and_paged_whole() {
    let w = world().await;
    let today = w.today();
    let year = today.year() - 1;
    let a1 = w
        .invoice(
            w.company_a(),
            day(year, 5, 2),
            today,
            vec![line("a", 1000, 10_000, 2000)],
        )
        .await;
    let a2 = w
        .invoice(
            w.company_a(),
            day(year, 5, 2),
            today,
            vec![line("b", 2000, 5_000, 1000)],
        )
        .await;
    let a3 = w
        .invoice(
            w.company_a(),
            day(year, 5, 3),
            today,
            vec![line("c", 1000, 1_000, 0)],
        )
        .await;
    let cancelled = w
        .invoice(
            w.company_a(),
            day(year, 5, 3),
            today,
            vec![line("d", 1000, 7_777, 0)],
        )
        .await;
    let b = w
        .invoice(
            w.company_b(),
            day(year, 5, 2),
            today,
            vec![line("e", 1000, 9_999, 0)],
        )
        .await;
    let a4 = w
        .invoice(w.company_a(), today, today, vec![line("f", 1000, 500, 0)])
        .await;
    assert_eq!(
        (
            a1.total_cents,
            a2.total_cents,
            a3.total_cents,
            a4.total_cents
        ),
        (12_000, 11_000, 1_000, 500)
    );
    // Announced in the order 1, 2, 3; confirmed in the order 3, 1, 2.
    let p1 = paid(&w, a1.id, 3_000).await;
    let p2 = paid(&w, a1.id, 2_000).await;
    let p3 = paid(&w, a3.id, 1_000).await;
    let on_cancelled = paid(&w, cancelled.id, 7_777).await;
    paid(&w, a2.id, 4_000).await; // announced only
    for p in [p3, p1, p2, on_cancelled] {
        confirmed(&w, p).await;
    }
    entity::invoice::Entity::update_many()
        .col_expr(
            entity::invoice::Column::Status,
            sea_orm::sea_query::Expr::value(entity::invoice::InvoiceStatus::Cancelled),
        )
        .filter(entity::invoice::Column::Id.eq(cancelled.id))
        .exec(&w.app.db)
        .await
        .unwrap();

    let full = w
        .get("/api/client/transactions?limit=100", &w.client_a)
        .await;
    assert_eq!(full.json()["meta"]["total"], 7);
    let full = full.ok(200);
    let id = |u: Uuid| u.to_string();
    let none = Value::Null;
    let pay = |u: Uuid| Value::String(u.to_string());
    assert_eq!(
        entries(&full),
        [
            ("invoice".into(), id(a1.id), none.clone(), 12_000, 0, 12_000),
            ("invoice".into(), id(a2.id), none.clone(), 11_000, 0, 23_000),
            ("invoice".into(), id(a3.id), none.clone(), 1_000, 0, 24_000),
            ("invoice".into(), id(a4.id), none.clone(), 500, 0, 24_500),
            ("payment".into(), id(a3.id), pay(p3), 0, 1_000, 23_500),
            ("payment".into(), id(a1.id), pay(p1), 0, 3_000, 20_500),
            ("payment".into(), id(a1.id), pay(p2), 0, 2_000, 18_500),
        ]
    );
    assert!(a1.number < a2.number, "{} {}", a1.number, a2.number);
    assert_eq!(full[0]["date"], day(year, 5, 2).to_string());
    assert_eq!(full[0]["reference"], a1.number);
    assert_eq!(full[0]["description"], format!("Facture {}", a1.number));
    assert_eq!(full[3]["date"], today.to_string());
    assert_eq!(full[4]["date"], today.to_string());
    assert_eq!(full[4]["description"], format!("Paiement {}", a3.number));
    assert!(
        full[4]["reference"]
            .as_str()
            .is_some_and(|r| !r.is_empty() && r != a3.number),
        "{}",
        full[4]
    );
    // The balance agrees with the last running balance.
    assert_eq!(
        w.get("/api/client/balance", &w.client_a).await.ok(200)["outstanding_cents"],
        18_500
    );

    // Pages of three, put together, are the whole ledger; past the end, none but the count.
    let mut pages = Vec::new();
    for page in 1..=3 {
        let got = w
            .get(
                &format!("/api/client/transactions?limit=3&page={page}"),
                &w.client_a,
            )
            .await;
        assert_eq!(got.json()["meta"]["total"], 7);
        pages.extend(got.ok(200).as_array().unwrap().clone());
    }
    assert_eq!(Value::Array(pages), full);
    let past = w
        .get("/api/client/transactions?limit=3&page=4", &w.client_a)
        .await;
    assert_eq!(past.json()["meta"]["total"], 7);
    assert_eq!(past.json()["meta"]["pages"], 3);
    assert_eq!(past.ok(200), json!([]));

    // Filters keep the lines' own running balances.
    let payments = w
        .get(
            "/api/client/transactions?kind=payment&limit=2&page=2",
            &w.client_a,
        )
        .await;
    assert_eq!(payments.json()["meta"]["total"], 3);
    assert_eq!(payments.ok(200), json!([full[6]]));
    let second_day = day(year, 5, 3);
    let one_day = w
        .get(
            &format!("/api/client/transactions?date_from={second_day}&date_to={second_day}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(one_day, json!([full[2]]));
    let todays_invoices = w
        .get(
            &format!("/api/client/transactions?date_from={today}&kind=invoice"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(todays_invoices, json!([full[3]]));
    let nothing = w
        .get(
            &format!("/api/client/transactions?date_to={}", day(year, 5, 1)),
            &w.client_a,
        )
        .await;
    assert_eq!(nothing.json()["meta"]["total"], 0);
    assert_eq!(nothing.ok(200), json!([]));

    // The year's summary counts the same lines, by month.
    let last_year = w
        .get(
            &format!("/api/client/financial-summary?year={year}"),
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(
        (
            &last_year["invoiced_cents"],
            &last_year["invoices"],
            &last_year["outstanding_cents"],
            &last_year["paid_cents"],
        ),
        (&json!(24_000), &json!(3), &json!(18_000), &json!(0))
    );
    assert_eq!(last_year["months"][4]["invoiced_cents"], 24_000);
    assert_eq!(last_year["months"][4]["invoices"], 3);
    let this_year = w
        .get(
            &format!("/api/client/financial-summary?year={}", today.year()),
            &w.client_a,
        )
        .await
        .ok(200);
    let month = usize::try_from(today.month0()).unwrap();
    assert_eq!(this_year["invoiced_cents"], 500);
    assert_eq!(this_year["paid_cents"], 6_000);
    assert_eq!(this_year["months"][month]["paid_cents"], 6_000);
    assert_eq!(this_year["months"][month]["invoiced_cents"], 500);
    assert_eq!(this_year["outstanding_cents"], 500);

    // Company B sees its own invoice alone.
    let theirs = w.get("/api/client/transactions", &w.client_b).await.ok(200);
    assert_eq!(
        entries(&theirs),
        [("invoice".into(), id(b.id), none, 9_999, 0, 9_999)]
    );
}

#[tokio::test]
async fn invoice_numbers_have_no_gaps_under_parallel_issuing() {
    let w = world().await;
    let today = w.today();
    let futures = (0..8).map(|_| {
        w.invoice(
            w.company_a(),
            today,
            today,
            vec![line("x", 1000, 100, 2000)],
        )
    });
    let issued = futures_util::future::join_all(futures).await;
    let mut numbers: Vec<i32> = issued.iter().map(|i| i.sequence).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
}

#[tokio::test]
async fn parallel_announcements_never_exceed_what_is_left() {
    let w = world().await;
    let today = w.today();
    // 750.00 + 20 % = 900.00.
    let invoice = w
        .invoice(
            w.company_a(),
            today,
            today,
            vec![line("Travaux", 1000, 75_000, 2000)],
        )
        .await;
    assert_eq!(invoice.total_cents, 90_000);
    let attempts = (0..6).map(|i| {
        let request = w
            .app
            .authed(Method::POST, "/api/client/payments/new", &w.client_a.token)
            .header("Idempotency-Key", format!("parallel-{i}"))
            .json(&json!({ "invoice_id": invoice.id, "amount_cents": 40_000, "method": "card" }));
        w.app.send(request)
    });
    let responses = futures_util::future::join_all(attempts).await;
    let accepted = responses.iter().filter(|r| r.status == 201).count();
    for r in responses.iter().filter(|r| r.status != 201) {
        assert!(!r.field_error("amount_cents").is_empty(), "{}", r.status);
    }
    // Two of 400.00 fit in 900.00; a third would not.
    assert_eq!(accepted, 2);
    // Confirming one payment twice at once counts it once.
    let payments = w.get("/api/client/payments", &w.client_a).await.ok(200);
    let id: uuid::Uuid = payments[0]["id"].as_str().unwrap().parse().unwrap();
    let staff = shared::audit::Actor::system();
    let confirms =
        (0..4).map(|_| client::payments::service::confirm(&w.app.db, &w.state, &staff, id));
    let results = futures_util::future::join_all(confirms).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let detail = w
        .get(&format!("/api/client/invoices/{}", invoice.id), &w.client_a)
        .await
        .ok(200);
    assert_eq!(detail["paid_cents"], 40_000);
    assert_eq!(detail["status"], "partially_paid");
}

#[tokio::test]
async fn an_invoice_detail_shows_its_own_lines_in_order_and_no_draft() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let w = world().await;
    let today = w.today();
    let names = ["Un", "Deux", "Trois", "Quatre", "Cinq"];
    let lines = names.iter().map(|n| line(n, 1000, 100, 2000)).collect();
    let invoice = w.invoice(w.company_a(), today, today, lines).await;
    // Another invoice of the company, whose lines must not show.
    let other = w
        .invoice(
            w.company_a(),
            today,
            today,
            vec![line("Autre", 1000, 1, 2000)],
        )
        .await;
    let path = format!("/api/client/invoices/{}", invoice.id);
    let detail = w.get(&path, &w.client_a).await.ok(200);
    let shown: Vec<_> = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["description"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, names);
    assert_eq!(detail["client"]["name"], "Bâtiments Durand");
    assert_eq!(detail["payments"], json!([]));
    // Another company's client does not see it.
    w.get(&path, &w.client_b).await.error(404, "NOT_FOUND");
    // Nor does anyone a draft.
    let mut draft: entity::invoice::ActiveModel = other.into();
    draft.status = Set(entity::invoice::InvoiceStatus::Draft);
    let draft = draft.update(&w.app.db).await.unwrap();
    w.get(&format!("/api/client/invoices/{}", draft.id), &w.client_a)
        .await
        .error(404, "NOT_FOUND");
}

/// An invoice's detail read on the request's own thread (an SQLite file: bench/RESULTS.md
/// item 35) is the pool's, model for model, and the detail route reads it so.
#[tokio::test]
async fn an_invoice_read_inline_is_the_pools_model_for_model() {
    let w = world().await;
    let inv = three_invoices(&w).await;
    // A payment confirmed and one pending: both kinds of payment row, with and without a
    // confirmation time.
    for (key, amount) in [("inline-a", 50_000), ("inline-b", 10_000)] {
        let paid = w
            .app
            .send(
                w.app
                    .authed(Method::POST, "/api/client/payments/new", &w.client_a.token)
                    .header("Idempotency-Key", key)
                    .json(&json!({ "invoice_id": inv[1].id, "amount_cents": amount, "method": "card" })),
            )
            .await
            .ok(201);
        if key == "inline-a" {
            let id: Uuid = paid["id"].as_str().unwrap().parse().unwrap();
            client::payments::service::confirm(
                &w.app.db,
                &w.state,
                &shared::audit::Actor::system(),
                id,
            )
            .await
            .unwrap();
        }
    }
    let inline = w.state.inline_reads.as_deref();
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts = || inline.map(shared::db::InlineReads::counts);
    let before = counts();
    let cases = [
        (w.company_a(), inv[1].id),
        (w.company_a(), inv[2].id),
        // Another company's invoice, and none at all.
        (w.company_b(), inv[1].id),
        (w.company_a(), Uuid::now_v7()),
    ];
    let mut found = 0;
    for (company, id) in cases {
        let pooled = client::invoices::contents::read(&w.app.db, None, company, id)
            .await
            .unwrap();
        let read = client::invoices::contents::read(&w.app.db, inline, company, id)
            .await
            .unwrap();
        match (pooled, read) {
            (Some(pooled), Some(read)) => {
                assert_eq!(read.invoice, pooled.invoice);
                assert_eq!(read.client, pooled.client);
                assert_eq!(read.lines, pooled.lines);
                assert_eq!(read.payments, pooled.payments);
                found += 1;
            }
            (None, None) => {}
            (pooled, read) => panic!("{company} {id}: {pooled:?} / {read:?}"),
        }
    }
    assert_eq!(found, 2);
    let two = client::invoices::contents::read(&w.app.db, inline, w.company_a(), inv[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.lines.len(), 2);
    assert_eq!(two.payments.len(), 2);
    assert!(two.payments.iter().any(|p| p.confirmed_at.is_some()));
    assert!(two.invoice.paid_at.is_none() && two.invoice.paid_cents == 50_000);
    // Every statement of those ran inline (on PostgreSQL there is nothing to count), and so do
    // the detail route's: the account check and the invoice's one statement.
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        assert_eq!(served - before.0, 5);
        w.get(&format!("/api/client/invoices/{}", inv[1].id), &w.client_a)
            .await
            .ok(200);
        assert_eq!(counts(), Some((served + 2, failed)));
    }
}

/// A page of invoices read on the request's own thread (an SQLite file: bench/RESULTS.md item
/// 36), with its total and the pending payments, is the pool's, invoice for invoice.
#[tokio::test]
async fn an_invoice_page_read_inline_is_the_pools_invoice_for_invoice() {
    use client::invoices::{InvoiceFilters, InvoiceSort, InvoiceStatusFilter, service};
    use shared::pagination::{Order, PageParams, Sort};

    let w = world().await;
    let inv = three_invoices(&w).await;
    w.app
        .send(
            w.app
                .authed(Method::POST, "/api/client/payments/new", &w.client_a.token)
                .header("Idempotency-Key", "inline-page")
                .json(
                    &json!({ "invoice_id": inv[1].id, "amount_cents": 10_000, "method": "card" }),
                ),
        )
        .await
        .ok(201);
    let inline = w.state.inline_reads.as_deref();
    assert_eq!(inline.is_some(), !w.app.database.is_postgres());
    let counts = || w.inline_counts();
    // The models themselves, every column (the summaries leave some out).
    let start = counts();
    let invoices = w
        .company_models_both_ways::<entity::invoice::Entity>(
            entity::invoice::Column::CompanyId,
            entity::invoice::Column::Id,
        )
        .await;
    assert_eq!(invoices.len(), 3);
    let payments = w
        .company_models_both_ways::<entity::payment::Entity>(
            entity::payment::Column::CompanyId,
            entity::payment::Column::Id,
        )
        .await;
    assert_eq!(payments.len(), 1);
    if let (Some(start), Some(now)) = (start, counts()) {
        assert_eq!((now.0 - start.0, now.1), (2, start.1));
    }
    let before = counts();
    let status = |status| InvoiceFilters {
        status: Some(status),
        ..InvoiceFilters::default()
    };
    let by_total = Sort {
        field: InvoiceSort::Total,
        order: Order::Desc,
    };
    let page = |page, limit| PageParams { page, limit };
    let cases = [
        (
            w.company_a(),
            InvoiceFilters::default(),
            page(1, 100),
            Sort::default(),
        ),
        (
            w.company_a(),
            status(InvoiceStatusFilter::Open),
            page(1, 1),
            by_total,
        ),
        (
            w.company_a(),
            status(InvoiceStatusFilter::Overdue),
            page(1, 20),
            by_total,
        ),
        (
            w.company_a(),
            InvoiceFilters::default(),
            page(3, 1),
            Sort::default(),
        ),
        (
            w.company_b(),
            InvoiceFilters::default(),
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
                .map(|i| {
                    (
                        i["id"].as_str().unwrap().to_owned(),
                        i["pending_cents"].as_i64().unwrap(),
                    )
                })
                .collect::<Vec<_>>(),
            read["meta"]["total"].as_u64().unwrap(),
        ));
    }
    let id = |i: usize| inv[i].id.to_string();
    assert_eq!(shown[0].1, 3);
    assert!(shown[0].0.contains(&(id(1), 10_000)));
    assert_eq!(shown[1], (vec![(id(0), 0)], 3));
    assert_eq!(shown[2], (vec![(id(0), 0)], 1));
    assert_eq!(shown[3].1, 3);
    assert_eq!(shown[3].0.len(), 1);
    assert_eq!(shown[4], (Vec::new(), 0));
    if let (Some((served, failed)), Some(before)) = (counts(), before) {
        assert_eq!(failed, before.1, "a statement went to the pool");
        // Pages 5, totals 2 (a full first page, a later page), pending payments 4 (none for
        // the empty page).
        assert_eq!(served - before.0, 11);
        let listed = w.get("/api/client/invoices?limit=100", &w.client_a).await;
        listed.ok(200);
        assert_eq!(listed.json()["meta"]["total"], 3);
        // The account check, the page and its pending payments.
        assert_eq!(counts(), Some((served + 3, failed)));
    }
}
