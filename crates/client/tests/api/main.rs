//! The client portal through HTTP against the real server and a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod documents;
mod finance;
mod overview;
mod projects;
mod shares;

use chrono::NaiveDate;
use client::ClientState;
use client::invoices::service::{NewInvoice, NewLine};
use client::projects::service::NewProject;
use entity::Role;
use entity::project::ProjectStatus;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select, TryIntoModel};
use serde_json::Value;
use shared::audit::Actor;
use shared::clock::Clock;
use shared::storage::Storage;
use test_support::{TestApp, TestOptions, TestResponse, TestUser, spawn_app_with};
use uuid::Uuid;

/// A server with two client companies (A and B), staff, and the roles the portal refuses.
pub struct World {
    pub app: TestApp,
    pub state: ClientState,
    pub client_a: TestUser,
    /// A second user of company A.
    pub colleague_a: TestUser,
    pub client_b: TestUser,
    pub staff: TestUser,
    pub prestataire: TestUser,
    pub revendeur: TestUser,
}

pub async fn world() -> World {
    let app = spawn_app_with(TestOptions::default().with_fixtures()).await;
    let tag = Uuid::now_v7().simple().to_string();
    let client_a = app
        .login_as_email(
            Role::Client,
            &format!("a-{tag}@durand.test"),
            Some("Bâtiments Durand"),
        )
        .await;
    let colleague_a = app
        .login_as_email(
            Role::Client,
            &format!("a2-{tag}@durand.test"),
            Some("Bâtiments Durand"),
        )
        .await;
    let client_b = app
        .login_as_email(
            Role::Client,
            &format!("b-{tag}@sahel.test"),
            Some("Sahel Travaux"),
        )
        .await;
    let staff = app.login_as(Role::Superadmin).await;
    let prestataire = app.login_as(Role::Prestataire).await;
    let revendeur = app.login_as(Role::Revendeur).await;
    let state = ClientState::from_config(
        &app.config,
        Clock::system(),
        Storage::from_config(&app.config).unwrap(),
    );
    World {
        app,
        state,
        client_a,
        colleague_a,
        client_b,
        staff,
        prestataire,
        revendeur,
    }
}

impl World {
    pub fn company_a(&self) -> Uuid {
        self.client_a.company_id.unwrap()
    }

    pub fn company_b(&self) -> Uuid {
        self.client_b.company_id.unwrap()
    }

    pub fn today(&self) -> NaiveDate {
        self.state.today()
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

    pub async fn put(&self, path: &str, user: &TestUser, body: &Value) -> TestResponse {
        self.call(Method::PUT, path, Some(user), Some(body)).await
    }

    /// A project of `company` (staff side), in `status`.
    pub async fn project(&self, company: Uuid, name: &str, status: ProjectStatus) -> Uuid {
        let project = client::projects::service::create(
            &self.app.db,
            &Actor::system(),
            NewProject {
                company_id: company,
                chantier_id: None,
                name: name.to_owned(),
                description: Some(format!("Description de {name}")),
                status: ProjectStatus::Planning,
                progress: 10,
                budget_cents: Some(1_000_000),
                spent_cents: 250_000,
                currency: "EUR".to_owned(),
                start_date: Some(self.today()),
                end_date: Some(self.today() + chrono::Days::new(30)),
                manager_name: Some("Camille Martin".to_owned()),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        if status != ProjectStatus::Planning {
            client::projects::service::staff_set_status(
                &self.app.db,
                &Actor::system(),
                project.id,
                status,
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        }
        project.id
    }

    /// An invoice of `company` (staff side).
    pub async fn invoice(
        &self,
        company: Uuid,
        issue: NaiveDate,
        due: NaiveDate,
        lines: Vec<NewLine>,
    ) -> entity::invoice::Model {
        client::invoices::service::issue(
            &self.app.db,
            &self.state,
            &Actor::system(),
            NewInvoice {
                company_id: company,
                project_id: None,
                issue_date: issue,
                due_date: due,
                lines,
                notes: None,
            },
        )
        .await
        .unwrap()
    }

    /// What `select` reads through the pool, checked equal, model for model and column for
    /// column, to what it reads on the calling thread (an SQLite file; on PostgreSQL the pool
    /// alone reads).
    pub async fn models_both_ways<E>(&self, select: impl Fn() -> Select<E>) -> Vec<E::Model>
    where
        E: EntityTrait,
        E::Model: PartialEq + std::fmt::Debug,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let pooled = shared::db::find_all_inline(&self.app.db, None, select())
            .await
            .unwrap();
        let inline = self.state.inline_reads.as_deref();
        assert_eq!(
            shared::db::find_all_inline(&self.app.db, inline, select())
                .await
                .unwrap(),
            pooled
        );
        pooled
    }

    /// [`Self::models_both_ways`] of company A's rows of `E`, by id: `company` is `E`'s company
    /// column, `id` its key.
    pub async fn company_models_both_ways<E>(
        &self,
        company: E::Column,
        id: E::Column,
    ) -> Vec<E::Model>
    where
        E: EntityTrait,
        E::Model: PartialEq + std::fmt::Debug,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        self.models_both_ways(|| {
            E::find()
                .filter(company.eq(self.company_a()))
                .order_by_asc(id)
        })
        .await
    }

    /// Statements run on the calling thread and statements sent to the pool so far (`None` on
    /// PostgreSQL, where nothing runs inline).
    pub fn inline_counts(&self) -> Option<(u64, u64)> {
        self.state
            .inline_reads
            .as_deref()
            .map(shared::db::InlineReads::counts)
    }
}

/// A list page read through the pool (`pooled`) and inline (`read`): the same items and
/// figures (the envelopes' times differ); the page inline, as JSON.
pub fn same_page(pooled: &impl serde::Serialize, read: &impl serde::Serialize) -> Value {
    let (pooled, read) = (
        serde_json::to_value(pooled).unwrap(),
        serde_json::to_value(read).unwrap(),
    );
    assert_eq!(read["data"], pooled["data"]);
    assert_eq!(read["meta"], pooled["meta"]);
    read
}

pub fn line(
    description: &str,
    quantity_milli: i64,
    unit_price_cents: i64,
    vat_rate_bp: i32,
) -> NewLine {
    NewLine {
        description: description.to_owned(),
        quantity_milli,
        unit_price_cents,
        vat_rate_bp,
    }
}

/// How many audit rows of `action` there are.
pub async fn audits(w: &World, action: &str) -> usize {
    test_support::fixtures::count_events(&w.app.db, action).await
}
