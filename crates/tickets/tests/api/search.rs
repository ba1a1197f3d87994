use reqwest::Method;
use serde_json::{Value, json};

use crate::{World, s, world};

async fn search(w: &World, user: &test_support::TestUser, q: &str) -> Value {
    w.get(
        &format!("/api/tickets-client/search?q={}", url_encode(q)),
        user,
    )
    .await
    .ok(200)
}

fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn numeros(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(r, "numero").to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_words_without_accents_by_prefix_and_ranks_titles_first() {
    let w = world().await;
    let in_title = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Échafaudage instable", "description": "Le garde-corps bouge." }),
        )
        .await;
    let in_description = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Contrôle sécurité", "description": "Vérifier l'échafaudage nord et les filets." }),
        )
        .await;
    let unrelated = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Fuite d'eau au sous-sol", "description": "Infiltration après la pluie." }),
        )
        .await;

    let found = search(&w, &w.staff, "echafaudage").await;
    assert_eq!(found["total"], 2);
    assert_eq!(
        numeros(&found),
        [s(&in_title, "numero"), s(&in_description, "numero")]
    );
    let scores: Vec<f64> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores[0] > scores[1], "{scores:?}");
    assert!(scores.iter().all(|s| *s > 0.0 && *s < 1.0), "{scores:?}");
    assert_eq!(found["results"][0]["status"], "nouveau");

    // While typing: the last word is a prefix.
    assert_eq!(search(&w, &w.staff, "infiltr").await["total"], 1);
    // Several words must all be there.
    assert_eq!(search(&w, &w.staff, "fuite pluie").await["total"], 1);
    assert_eq!(search(&w, &w.staff, "fuite echafaudage").await["total"], 0);
    // By number.
    let by_number = search(&w, &w.staff, s(&unrelated, "numero")).await;
    assert_eq!(numeros(&by_number)[0], s(&unrelated, "numero"));
    // Query syntax is just text.
    assert_eq!(search(&w, &w.staff, "\"fuite\" OR zzz*").await["total"], 0);
    assert_eq!(search(&w, &w.staff, "NEAR(fuite").await["total"], 0);
    // limit
    let limited = w
        .get("/api/tickets-client/search?q=e&limit=1", &w.staff)
        .await
        .ok(200);
    assert!(limited["results"].as_array().unwrap().len() <= 1);

    // The list's `search` filter uses the same engine.
    let listed = w
        .get(
            "/api/tickets-client?search=echafaudage&sort=numero&order=asc",
            &w.staff,
        )
        .await
        .json();
    assert_eq!(listed["meta"]["total"], 2);
}

#[tokio::test]
async fn search_is_scoped_and_checked() {
    let w = world().await;
    w.open_ticket(&w.staff, json!({ "titre": "Fissure dalle parking" }))
        .await;
    w.open_ticket(
        &w.staff,
        json!({ "titre": "Fissure mur mitoyen", "client_id": w.company_b() }),
    )
    .await;
    assert_eq!(search(&w, &w.staff, "fissure").await["total"], 2);
    let a = search(&w, &w.client_a, "fissure").await;
    assert_eq!(a["total"], 1);
    assert_eq!(a["results"][0]["client_id"], json!(w.company_a()));
    assert_eq!(search(&w, &w.client_b, "parking").await["total"], 0);

    let path = "/api/tickets-client/search";
    w.get(path, &w.staff).await.field_error("q");
    w.get(&format!("{path}?q="), &w.staff)
        .await
        .field_error("q");
    // Punctuation alone finds nothing (it is not an error: the user may still be typing).
    assert_eq!(search(&w, &w.staff, "**").await["total"], 0);
    assert_eq!(search(&w, &w.staff, "--").await["results"], json!([]));
    w.get(&format!("{path}?q={}", "a".repeat(201)), &w.staff)
        .await
        .field_error("q");
    w.get(&format!("{path}?q=x&limit=0"), &w.staff)
        .await
        .field_error("limit");
    w.get(&format!("{path}?q=x&limit=101"), &w.staff)
        .await
        .field_error("limit");
    w.get(&format!("{path}?q=x&owner=me"), &w.staff)
        .await
        .field_error("owner");
    w.call(Method::GET, &format!("{path}?q=x"), None, None)
        .await
        .error(401, "UNAUTHENTICATED");
    w.get(&format!("{path}?q=x"), &w.revendeur)
        .await
        .error(403, "FORBIDDEN");
}

/// The page is the head of the whole ranking: the best match first, then equal matches newest
/// first; a client's page is the staff's ranking restricted to its company, and staff also find
/// a ticket by its messages alone.
#[tokio::test]
async fn search_pages_are_the_head_of_the_ranking_newest_first_among_equals() {
    let w = world().await;
    // Opened first, yet it ranks first: both words twice in its title.
    let best = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Fissure porteur, fissure porteur", "description": "Voir plan." }),
        )
        .await;
    let equal = json!({ "titre": "Fissure porteur", "description": "Voir plan." });
    let mut of_a = Vec::new();
    let mut all = Vec::new();
    for i in 0..6 {
        let extra = if i % 3 == 2 {
            let mut b = equal.clone();
            b["client_id"] = json!(w.company_b());
            b
        } else {
            equal.clone()
        };
        let ticket = w.open_ticket(&w.staff, extra).await;
        if i % 3 != 2 {
            of_a.push(s(&ticket, "numero").to_owned());
        }
        all.push(s(&ticket, "numero").to_owned());
    }
    let by_message = w
        .open_ticket(
            &w.staff,
            json!({ "titre": "Reprise d'enduit", "description": "Façade est." }),
        )
        .await;
    w.post(
        &format!("/api/tickets-client/{}/messages", s(&by_message, "id")),
        &w.staff,
        &json!({ "contenu": "Une fissure sur le mur porteur derrière l'enduit." }),
    )
    .await
    .ok(201);
    // Found by its words and by a message: ranked once.
    w.post(
        &format!("/api/tickets-client/{}/messages", s(&best, "id")),
        &w.staff,
        &json!({ "contenu": "Fissure du voile porteur confirmée." }),
    )
    .await
    .ok(201);

    let staff = search(&w, &w.staff, "fissure porteur").await;
    assert_eq!(staff["total"], 8);
    let ranked = numeros(&staff);
    assert_eq!(ranked.len(), 8, "{staff}");
    assert_eq!(ranked[0], s(&best, "numero"));
    let equals: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(ranked[1..7], equals[..], "{staff}");
    assert_eq!(ranked[7], s(&by_message, "numero"));
    for limit in [1, 3, 7] {
        let page = w
            .get(
                &format!("/api/tickets-client/search?q=fissure%20porteur&limit={limit}"),
                &w.staff,
            )
            .await
            .ok(200);
        assert_eq!(page["total"], 8);
        assert_eq!(numeros(&page), ranked[..limit], "limit {limit}");
    }

    let client = search(&w, &w.client_a, "fissure porteur").await;
    assert_eq!(client["total"], 5);
    let mut expected = vec![s(&best, "numero").to_owned()];
    expected.extend(of_a.iter().rev().cloned());
    assert_eq!(numeros(&client), expected);
    let page = w
        .get(
            "/api/tickets-client/search?q=fissure%20porteur&limit=2",
            &w.client_a,
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 5);
    assert_eq!(numeros(&page), expected[..2]);
    assert_eq!(search(&w, &w.client_b, "fissure porteur").await["total"], 2);
}
