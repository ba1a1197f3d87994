use chrono::{Duration, Utc};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{s, world};

#[tokio::test]
async fn stats_count_what_the_caller_may_see() {
    let w = world().await;
    let chantier = w.chantier(w.company_a(), "Les Jardins").await;
    let t1 = w
        .open_ticket(&w.staff, json!({ "priority": "critique", "categorie": "securite", "chantier_id": chantier["id"] }))
        .await;
    let t2 = w
        .open_ticket(
            &w.staff,
            json!({ "priority": "normale", "categorie": "qualite" }),
        )
        .await;
    w.open_ticket(
        &w.staff,
        json!({ "priority": "basse", "categorie": "delais" }),
    )
    .await;
    w.open_ticket(
        &w.staff,
        json!({ "priority": "haute", "categorie": "travaux", "client_id": w.company_b() }),
    )
    .await;
    w.patch(
        &format!("/api/tickets-client/{}", s(&t1, "id")),
        &w.staff,
        &json!({ "status": "en_cours" }),
    )
    .await
    .ok(200);
    w.patch(
        &format!("/api/tickets-client/{}", s(&t2, "id")),
        &w.staff,
        &json!({ "status": "resolu" }),
    )
    .await
    .ok(200);

    let all = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    assert_eq!(
        all["totaux"],
        json!({ "total": 4, "nouveau": 2, "en_cours": 1, "en_attente": 0, "resolu": 1, "ferme": 0 })
    );
    assert_eq!(
        all["priorites"],
        json!({ "critique": 1, "haute": 1, "normale": 1, "basse": 1 })
    );
    assert_eq!(all["sla"], json!({ "ok": 4, "warning": 0, "breach": 0 }));
    assert_eq!(all["categories"]["securite"], 1);
    assert_eq!(all["categories"]["autre"], 0);
    let days = all["tendances"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(today["date"], Utc::now().date_naive().to_string());
    assert_eq!(today["nouveaux"], 4);
    assert_eq!(today["resolus"], 1);
    assert!(days[..29].iter().all(|d| d["nouveaux"] == 0));

    // A client: its company only.
    let a = w
        .get("/api/tickets-client/stats", &w.client_a)
        .await
        .ok(200);
    assert_eq!(a["totaux"]["total"], 3);
    let b = w
        .get("/api/tickets-client/stats", &w.client_b)
        .await
        .ok(200);
    assert_eq!(b["totaux"]["total"], 1);
    let b_on_a = w
        .get(
            &format!("/api/tickets-client/stats?client_id={}", w.company_a()),
            &w.client_b,
        )
        .await
        .ok(200);
    assert_eq!(b_on_a["totaux"]["total"], 0);

    // Filters.
    let on_site = w
        .get(
            &format!(
                "/api/tickets-client/stats?chantier_id={}",
                s(&chantier, "id")
            ),
            &w.staff,
        )
        .await
        .ok(200);
    assert_eq!(on_site["totaux"]["total"], 1);
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let before = w
        .get(
            &format!("/api/tickets-client/stats?date_from={yesterday}&date_to={yesterday}"),
            &w.staff,
        )
        .await
        .ok(200);
    assert_eq!(before["totaux"]["total"], 0);
    assert_eq!(before["tendances"].as_array().unwrap().len(), 1);

    // A resolution on a later day counts on that day.
    w.app.advance_clock(Duration::days(2)).await;
    w.action(
        s(&t1, "id"),
        &w.staff,
        "cloturer",
        json!({ "motif": "fini" }),
    )
    .await
    .ok(200);
    let later = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    let days = later["tendances"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["resolus"], 1);
    assert_eq!(days[days.len() - 3]["nouveaux"], 4);
}

#[tokio::test]
async fn stats_parameters_are_checked() {
    let w = world().await;
    let path = "/api/tickets-client/stats";
    for (query, field) in [
        ("date_from=hier", "date_from"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to"),
        ("date_from=2024-01-01&date_to=2026-01-01", "date_to"),
        ("client_id=1", "client_id"),
        ("status=nouveau", "status"),
    ] {
        w.get(&format!("{path}?{query}"), &w.staff)
            .await
            .field_error(field);
    }
    w.call(Method::GET, path, None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get(path, &w.prestataire).await.error(403, "FORBIDDEN");
}

/// A `date_from` before every ticket of these tests: with it, the figures are counted live.
fn live_from() -> chrono::NaiveDate {
    (Utc::now() - Duration::days(300)).date_naive()
}

/// The staff's statistics from the kept counts, and counted live (a date filter that still
/// takes every ticket).
async fn kept_and_live_stats(w: &crate::World) -> (serde_json::Value, serde_json::Value) {
    let from = live_from();
    let kept = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    let live = w
        .get(
            &format!("/api/tickets-client/stats?date_from={from}"),
            &w.staff,
        )
        .await
        .ok(200);
    (kept, live)
}

/// The staff's unfiltered statistics and triage list totals come from the counts the database
/// keeps; with a date filter that still takes every ticket, the same figures are counted live.
async fn kept_and_live_counts_agree(w: &crate::World) {
    let (kept, live) = kept_and_live_stats(w).await;
    let from = live_from();
    for part in ["totaux", "priorites", "sla", "categories"] {
        assert_eq!(kept[part], live[part], "{part}");
    }
    // The trend ignores the date filter; a filter on the one client these tests open tickets
    // for counts it live.
    let live_trend = w
        .get(
            &format!("/api/tickets-client/stats?client_id={}", w.company_a()),
            &w.staff,
        )
        .await
        .ok(200);
    for part in ["tendances", "totaux", "sla"] {
        assert_eq!(kept[part], live_trend[part], "{part}");
    }
    for status in ["nouveau", "en_cours", "en_attente", "resolu", "ferme"] {
        for priority in ["", "&priority=critique", "&priority=normale"] {
            let list = |extra: String| {
                let path = format!("/api/tickets-client?limit=1&status={status}{priority}{extra}");
                async move {
                    let res = w.get(&path, &w.staff).await;
                    res.assert_status(200);
                    res.json()["meta"]["total"].clone()
                }
            };
            let kept = list(String::new()).await;
            let live = list(format!("&date_from={from}")).await;
            assert_eq!(kept, live, "{status}{priority}");
        }
    }
}

#[tokio::test]
async fn kept_counts_stay_exact_through_every_kind_of_change() {
    let w = world().await;
    let mut ids = Vec::new();
    for (priority, categorie) in [
        ("critique", "securite"),
        ("haute", "qualite"),
        ("normale", "delais"),
        ("basse", "travaux"),
        ("normale", "qualite"),
    ] {
        let t = w
            .open_ticket(
                &w.staff,
                json!({ "priority": priority, "categorie": categorie }),
            )
            .await;
        ids.push(s(&t, "id").to_owned());
    }
    let patch = |i: usize, body: serde_json::Value| {
        let path = format!("/api/tickets-client/{}", ids[i]);
        let w = &w;
        async move { w.patch(&path, &w.staff, &body).await.ok(200) }
    };
    patch(0, json!({ "status": "en_cours" })).await;
    kept_and_live_counts_agree(&w).await;

    // Deadlines pass; then tickets are paused in breach (waiting, resolved) or kept running.
    w.app.advance_clock(Duration::days(3)).await;
    patch(0, json!({ "status": "en_attente" })).await;
    patch(1, json!({ "status": "resolu" })).await;
    patch(
        2,
        json!({ "priority": "critique", "categorie": "securite" }),
    )
    .await;
    let stats = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    assert_eq!(stats["sla"]["ok"], 0, "{stats}");
    kept_and_live_counts_agree(&w).await;

    // Folded into the totals, the counts are the same.
    tickets::counts::compact(&w.app.db).await.unwrap();
    kept_and_live_counts_agree(&w).await;

    // Changes after a compaction, one of them several tickets at once.
    w.post(
        "/api/tickets-client/bulk",
        &w.staff,
        &json!({ "ticket_ids": [ids[3], ids[4]], "action": "changer_priorite", "data": { "priority": "haute" } }),
    )
    .await
    .ok(200);
    w.action(&ids[1], &w.staff, "cloturer", json!({ "motif": "fini" }))
        .await
        .ok(200);
    patch(4, json!({ "status": "en_cours" })).await;
    w.open_ticket(
        &w.staff,
        json!({ "priority": "basse", "categorie": "autre" }),
    )
    .await;
    kept_and_live_counts_agree(&w).await;
    tickets::counts::compact(&w.app.db).await.unwrap();
    assert_eq!(tickets::counts::compact(&w.app.db).await.unwrap(), 0);
    kept_and_live_counts_agree(&w).await;
    let stats = w.get("/api/tickets-client/stats", &w.staff).await.ok(200);
    assert_eq!(stats["totaux"]["total"], 6);
    assert_eq!(stats["totaux"]["ferme"], 1);

    // Resolved, reopened the next day (no longer resolved), resolved again a day later: the
    // trend counts it on the last day only, kept as live, and so does a range of one day.
    patch(3, json!({ "status": "resolu" })).await;
    w.app.advance_clock(Duration::days(1)).await;
    w.action(&ids[3], &w.staff, "reopen", json!({ "motif": "pas fini" }))
        .await
        .ok(200);
    kept_and_live_counts_agree(&w).await;
    w.app.advance_clock(Duration::days(1)).await;
    patch(3, json!({ "status": "resolu" })).await;
    kept_and_live_counts_agree(&w).await;
    let trend = |path: String| {
        let w = &w;
        async move {
            let stats = w.get(&path, &w.staff).await.ok(200);
            stats["tendances"].clone()
        }
    };
    // The server's today (its clock was moved): the last day of the default trend.
    let days = trend("/api/tickets-client/stats".to_owned()).await;
    let today = days.as_array().unwrap().last().unwrap()["date"].clone();
    let today = today.as_str().unwrap();
    let range = format!("date_from={today}&date_to={today}");
    let kept = trend(format!("/api/tickets-client/stats?{range}")).await;
    assert_eq!(
        kept,
        json!([{ "date": today, "nouveaux": 0, "resolus": 1 }])
    );
    let live = trend(format!(
        "/api/tickets-client/stats?{range}&client_id={}",
        w.company_a()
    ))
    .await;
    assert_eq!(kept, live);
}

/// The staff-wide SLA levels (from the instants indexed over the running tickets and the kept
/// counts), checked against the same levels counted live, ticket by ticket.
async fn sla_levels(w: &crate::World) -> serde_json::Value {
    let (kept, live) = kept_and_live_stats(w).await;
    assert_eq!(kept["sla"], live["sla"]);
    kept["sla"].clone()
}

/// Critique tickets (4 h to answer, 24 h to resolve, warning at 75 %) reach each level through
/// each clock, answered in time, answered late or not answered, running or paused.
#[tokio::test]
async fn running_tickets_are_counted_at_each_sla_level() {
    let w = world().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = w
            .open_ticket(&w.staff, json!({ "priority": "critique" }))
            .await;
        ids.push(s(&t, "id").to_owned());
    }
    let levels = |ok: u64, warning: u64, breach: u64| json!({ "ok": ok, "warning": warning, "breach": breach });
    assert_eq!(sla_levels(&w).await, levels(3, 0, 0));
    let answer = |i: usize| {
        let path = format!("/api/tickets-client/{}/messages", ids[i]);
        let w = &w;
        async move {
            w.post(&path, &w.staff, &json!({ "contenu": "Une équipe arrive." }))
                .await
                .ok(201);
        }
    };

    // 3 h unanswered: every first-response clock warns.
    w.app.advance_clock(Duration::hours(3)).await;
    assert_eq!(sla_levels(&w).await, levels(0, 3, 0));
    // Answered in time: ok again.
    answer(0).await;
    assert_eq!(sla_levels(&w).await, levels(1, 2, 0));

    // 5 h: answered late stays in breach; unanswered is in breach; a new ticket is ok.
    w.app.advance_clock(Duration::hours(2)).await;
    answer(1).await;
    w.open_ticket(&w.staff, json!({ "priority": "critique" }))
        .await;
    assert_eq!(sla_levels(&w).await, levels(2, 0, 2));

    // 19 h: the first ticket's resolution clock warns (79 %), the new one went unanswered.
    w.app.advance_clock(Duration::hours(14)).await;
    assert_eq!(sla_levels(&w).await, levels(0, 1, 3));

    // Paused, a ticket keeps its level; resolved tickets are counted with theirs.
    w.patch(
        &format!("/api/tickets-client/{}", ids[1]),
        &w.staff,
        &json!({ "status": "en_attente" }),
    )
    .await
    .ok(200);
    w.patch(
        &format!("/api/tickets-client/{}", ids[0]),
        &w.staff,
        &json!({ "status": "resolu" }),
    )
    .await
    .ok(200);
    assert_eq!(sla_levels(&w).await, levels(0, 1, 3));
    tickets::counts::compact(&w.app.db).await.unwrap();
    assert_eq!(sla_levels(&w).await, levels(0, 1, 3));

    // The late answer put that ticket's instants in the past (the empty hour): the compaction
    // drops such hours, which the statistics never read again.
    let past = sea_orm::Statement::from_string(
        w.app.db.get_database_backend(),
        "SELECT COUNT(*) FROM ticket_sla_hour_counts WHERE hour = ''",
    );
    let row = w.app.db.query_one_raw(past).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0);
}

/// The levels within the hour of an instant, counted from the kept hourly counts (the hours
/// after now's) and from the instants' indexes (now's hour): a critique ticket opened at half
/// past the hour warns 3 h later and is in breach 4 h later; a quarter of an hour before each
/// instant, in that instant's hour, it is not there yet, and a quarter of an hour after, it is.
#[tokio::test]
async fn sla_levels_change_within_the_hour_of_an_instant() {
    use chrono::Timelike;

    let w = world().await;
    let now = Utc::now();
    let past_the_hour = i64::from(now.minute() * 60 + now.second());
    w.app
        .advance_clock(Duration::seconds(
            (30 * 60 - past_the_hour).rem_euclid(3600),
        ))
        .await;
    w.open_ticket(&w.staff, json!({ "priority": "critique" }))
        .await;
    let levels = |ok: u64, warning: u64, breach: u64| json!({ "ok": ok, "warning": warning, "breach": breach });
    assert_eq!(sla_levels(&w).await, levels(1, 0, 0));

    w.app.advance_clock(Duration::minutes(2 * 60 + 45)).await;
    assert_eq!(sla_levels(&w).await, levels(1, 0, 0));
    tickets::counts::compact(&w.app.db).await.unwrap();
    assert_eq!(sla_levels(&w).await, levels(1, 0, 0));
    w.app.advance_clock(Duration::minutes(30)).await;
    assert_eq!(sla_levels(&w).await, levels(0, 1, 0));
    w.app.advance_clock(Duration::minutes(30)).await;
    assert_eq!(sla_levels(&w).await, levels(0, 1, 0));
    w.app.advance_clock(Duration::minutes(30)).await;
    assert_eq!(sla_levels(&w).await, levels(0, 0, 1));
}
