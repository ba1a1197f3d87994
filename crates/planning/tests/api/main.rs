//! Planning PRO through HTTP against the real server and a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod assignments;
mod auto_assign;
mod preview;
mod publish;
mod setup;
mod shifts;

use entity::Role;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::{TestApp, TestOptions, TestResponse, TestUser, spawn_app_with};
use uuid::Uuid;

/// A server with a planner, two skilled collaborators (Alice, Bob), an unskilled one (Carl),
/// a client and a revendeur; a site (chantier) in Europe/Paris, a team, a skill and a job
/// role requiring it.
pub struct World {
    pub app: TestApp,
    pub planner: TestUser,
    pub alice: TestUser,
    pub bob: TestUser,
    pub carl: TestUser,
    pub client: TestUser,
    pub revendeur: TestUser,
    pub site: String,
    pub team: String,
    pub skill: String,
    pub role: String,
}

pub const BASE: &str = "/api/v1/planning";

pub async fn world() -> World {
    world_with(TestOptions::default().with_fixtures()).await
}

pub async fn world_with(options: TestOptions) -> World {
    let app = spawn_app_with(options).await;
    let planner = app.login_as(Role::Superadmin).await;
    let alice = app.login_as(Role::Prestataire).await;
    let bob = app.login_as(Role::Prestataire).await;
    let carl = app.login_as(Role::Prestataire).await;
    let client = app.login_as(Role::Client).await;
    let revendeur = app.login_as(Role::Revendeur).await;
    let mut w = World {
        app,
        planner,
        alice,
        bob,
        carl,
        client,
        revendeur,
        site: String::new(),
        team: String::new(),
        skill: String::new(),
        role: String::new(),
    };
    let chantier = w
        .call(
            Method::POST,
            "/api/chantiers",
            Some(&w.planner),
            Some(&json!({ "nom": "Tour Horizon", "type": "construction", "client_id": w.client.company_id.unwrap(), "ville": "Lyon" })),
        )
        .await
        .ok(201);
    w.site = chantier["id"].as_str().unwrap().to_owned();
    w.put(
        &format!("{BASE}/sites/{}", w.site),
        &w.planner,
        &json!({ "timezone": "Europe/Paris" }),
    )
    .await
    .ok(200);
    w.skill = id(&w
        .post(
            &format!("{BASE}/skills"),
            &w.planner,
            &json!({ "name": "Habilitation électrique" }),
        )
        .await
        .ok(201));
    w.team = id(&w
        .post(
            &format!("{BASE}/teams"),
            &w.planner,
            &json!({ "name": "Équipe A" }),
        )
        .await
        .ok(201));
    w.role = id(&w
        .post(
            &format!("{BASE}/job-roles"),
            &w.planner,
            &json!({ "name": "Électricien", "required_skills": [w.skill] }),
        )
        .await
        .ok(201));
    for person in [w.alice.id, w.bob.id] {
        w.put(
            &format!("{BASE}/collaborators/{person}"),
            &w.planner,
            &json!({ "team_id": w.team, "skills": [w.skill] }),
        )
        .await
        .ok(200);
    }
    w
}

/// `value["id"]` as a string.
pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

impl World {
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

    pub async fn put(&self, path: &str, user: &TestUser, body: &Value) -> TestResponse {
        self.call(Method::PUT, path, Some(user), Some(body)).await
    }

    pub async fn delete(&self, path: &str, user: &TestUser) -> TestResponse {
        self.call(Method::DELETE, path, Some(user), None).await
    }

    /// A draft shift of the world's site and role (201), `extra` merged in; returns the shift.
    pub async fn shift(&self, date: &str, start: &str, end: &str, extra: Value) -> Value {
        let mut body = json!({
            "site_id": self.site,
            "job_role_id": self.role,
            "team_id": self.team,
            "date": date,
            "start_time": start,
            "end_time": end,
            "break_minutes": 30,
            "headcount": 2,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let data = self
            .post(&format!("{BASE}/shifts"), &self.planner, &body)
            .await
            .ok(201);
        data["shift"].clone()
    }

    /// Assign `who` (201) and return `{assignment, conflicts}`.
    pub async fn assign(&self, shift: &Value, who: &TestUser) -> Value {
        self.post(
            &format!("{BASE}/assignments"),
            &self.planner,
            &json!({ "shift_id": shift["id"], "collaborator_id": who.id }),
        )
        .await
        .ok(201)
    }

    /// Rows of the planning audit with `action`.
    pub async fn audit(&self, action: &str) -> Vec<Value> {
        self.get(
            &format!("{BASE}/audit?action={action}&limit=100"),
            &self.planner,
        )
        .await
        .ok(200)
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// How many assignments exist (any status).
    pub async fn assignment_count(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::planning::assignment::Entity::find()
            .count(&self.app.db)
            .await
            .unwrap()
    }

    /// How many shifts exist (any status).
    pub async fn shift_count(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::planning::shift::Entity::find()
            .count(&self.app.db)
            .await
            .unwrap()
    }
}

/// The rules of the conflicts in a 409's details (or a write's `conflicts`).
pub fn rules(conflicts: &Value) -> Vec<(String, String)> {
    conflicts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn uuid(value: &Value) -> Uuid {
    Uuid::parse_str(value.as_str().unwrap()).unwrap()
}
