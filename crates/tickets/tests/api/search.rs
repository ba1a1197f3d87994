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
