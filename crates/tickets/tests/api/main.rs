//! Tickets-Clients BTP through HTTP against the real server and a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attachments;
mod bulk;
mod chantiers;
mod clients;
mod export;
mod inline;
mod messages;
mod numbering;
mod search;
mod sla;
mod stats;
mod tickets;
mod ws;

use entity::Role;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::{TestApp, TestOptions, TestResponse, TestUser, spawn_app_with};

/// A server with the people every test needs: staff, two client companies, and the two roles
/// that have no business with tickets.
pub struct World {
    pub app: TestApp,
    pub staff: TestUser,
    /// A user of company A ("Construction Plus").
    pub client_a: TestUser,
    /// A user of company B ("Bâtiments Sahel").
    pub client_b: TestUser,
    pub prestataire: TestUser,
    pub revendeur: TestUser,
}

pub async fn world() -> World {
    world_with(TestOptions::default().with_fixtures()).await
}

pub async fn world_with(options: TestOptions) -> World {
    let app = spawn_app_with(options).await;
    let staff = app.login_as(Role::Superadmin).await;
    let client_a = app
        .login_as_email(
            Role::Client,
            &format!("a-{}@construction-plus.test", uuid::Uuid::now_v7().simple()),
            Some("SARL Construction Plus"),
        )
        .await;
    let client_b = app
        .login_as_email(
            Role::Client,
            &format!("b-{}@sahel.test", uuid::Uuid::now_v7().simple()),
            Some("Bâtiments Sahel"),
        )
        .await;
    let prestataire = app.login_as(Role::Prestataire).await;
    let revendeur = app.login_as(Role::Revendeur).await;
    World {
        app,
        staff,
        client_a,
        client_b,
        prestataire,
        revendeur,
    }
}

impl World {
    pub fn company_a(&self) -> uuid::Uuid {
        self.client_a.company_id.unwrap()
    }

    pub fn company_b(&self) -> uuid::Uuid {
        self.client_b.company_id.unwrap()
    }

    /// Any request, as `user` (anonymous when `None`).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: Option<&TestUser>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.app.request(method, path);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.app.send(request).await
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> TestResponse {
        self.call(Method::GET, path, Some(user), None).await
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: &Value) -> TestResponse {
        self.call(Method::POST, path, Some(user), Some(body)).await
    }

    pub async fn patch(&self, path: &str, user: &TestUser, body: &Value) -> TestResponse {
        self.call(Method::PATCH, path, Some(user), Some(body)).await
    }

    /// A ticket opened by `user` (201), with `extra` fields merged in.
    pub async fn open_ticket(&self, user: &TestUser, extra: Value) -> Value {
        let mut body = json!({
            "titre": "Problème de sécurité sur échafaudages",
            "description": "Un garde-corps manque au troisième étage.",
            "priority": "haute",
            "categorie": "securite",
        });
        if user.role == Role::Superadmin && extra.get("client_id").is_none() {
            body["client_id"] = json!(self.company_a());
        }
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post("/api/tickets-client", user, &body).await.ok(201)
    }

    /// A ticket of company A, opened by staff.
    pub async fn ticket_of_a(&self) -> Value {
        self.open_ticket(&self.staff, json!({})).await
    }

    /// A ticket of company B, opened by staff.
    pub async fn ticket_of_b(&self) -> Value {
        self.open_ticket(&self.staff, json!({ "client_id": self.company_b() }))
            .await
    }

    /// A chantier of `client_id` (staff).
    pub async fn chantier(&self, client_id: uuid::Uuid, nom: &str) -> Value {
        self.post(
            "/api/chantiers",
            &self.staff,
            &json!({ "nom": nom, "type": "construction", "client_id": client_id, "ville": "Dakar" }),
        )
        .await
        .ok(201)
    }

    pub async fn action(
        &self,
        id: &str,
        user: &TestUser,
        action: &str,
        data: Value,
    ) -> TestResponse {
        self.post(
            &format!("/api/tickets-client/{id}/action"),
            user,
            &json!({ "action": action, "data": data }),
        )
        .await
    }
}

impl World {
    /// Follow a signed link (minted for `PUBLIC_URL`) on the test server, without a token.
    pub async fn download(&self, url: &str) -> TestResponse {
        let path = url
            .strip_prefix(&self.app.config.public_url)
            .unwrap_or_else(|| panic!("{url} is not a link to this server"));
        self.app.get(path).await
    }
}

/// The string at `value[key]`.
pub fn s<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{key}` in {value}"))
}
