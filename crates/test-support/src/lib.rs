//! Integration-test harness: the real server on port 0, against a fresh database per test
//! (a SQLite file in a temporary folder, or a PostgreSQL database created for the test and
//! dropped afterwards when `TEST_DATABASE_URL` is set), and a typed HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod fixtures;
pub mod smtp_sink;

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use server::{Application, Extensions, RunningApp};
use shared::config::Config;

/// A database that exists for one test (or one group of restarts of the same test).
pub struct TestDatabase {
    pub url: String,
    data_dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// SQLite in a temp dir, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set.
    pub async fn create() -> Arc<Self> {
        let data_dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("presta_test_{}", uuid::Uuid::now_v7().simple());
                let admin = shared::db::connect_url(&admin_url, 1)
                    .await
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                Arc::new(Self {
                    url,
                    data_dir,
                    postgres: Some((admin_url, name)),
                })
            }
            None => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("presta.db").display()
                );
                Arc::new(Self {
                    url,
                    data_dir,
                    postgres: None,
                })
            }
        }
    }

    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    #[must_use]
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Make the database disappear (the readiness test): drop the PostgreSQL database, or
    /// delete the SQLite file.
    pub async fn destroy(&self) {
        match &self.postgres {
            Some((admin_url, name)) => drop_postgres(admin_url, name).await,
            None => {
                let file = shared::db::sqlite_file(&self.url).expect("sqlite file");
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = file.clone().into_os_string();
                    path.push(suffix);
                    std::fs::remove_file(path).ok();
                }
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if base[..i].ends_with('/') => base.to_owned() + "/",
        Some(i) => base[..=i].to_owned(),
        None => format!("{base}/"),
    };
    match query {
        Some(q) => format!("{prefix}{name}?{q}"),
        None => format!("{prefix}{name}"),
    }
}

async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(admin) = shared::db::connect_url(admin_url, 1).await {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .ok();
        admin.close().await.ok();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime: do the async work on a thread of its own.
            std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_postgres(&admin_url, &name));
                }
            })
            .join()
            .ok();
        }
    }
}

/// The superadmin every test server starts with.
pub const ADMIN_EMAIL: &str = "admin@presta.test";
pub const ADMIN_PASSWORD: &str = "Presta-Root-Passphrase-2026";

/// Configuration for a test server: fast jobs, generous rate limits, fixed secrets.
#[must_use]
pub fn test_config(database: &TestDatabase, overrides: &HashMap<String, String>) -> Config {
    let mut vars: HashMap<String, String> = [
        ("APP_ENV", "test"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("HTTP_WORKERS", "2"),
        (
            "JWT_SECRET",
            "test-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ),
        (
            "ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("RATE_LIMIT_DEFAULT", "600000/min,burst=100000"),
        ("RATE_LIMIT_AUTH", "600000/min,burst=100000"),
        ("RATE_LIMIT_PUBLIC", "600000/min,burst=100000"),
        ("JOB_WORKERS", "2"),
        ("JOB_POLL_INTERVAL_MS", "25"),
        ("JOB_LEASE_SECONDS", "30"),
        ("JOB_RETRY_BASE_MS", "50"),
        ("RUST_LOG", "warn"),
        ("ADMIN_EMAIL", ADMIN_EMAIL),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("PUBLIC_URL", "https://app.presta.test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.insert("DATABASE_URL".to_owned(), database.url.clone());
    vars.insert(
        "DATA_DIR".to_owned(),
        database.data_dir().display().to_string(),
    );
    for (k, v) in overrides {
        vars.insert(k.clone(), v.clone());
    }
    Config::from_lookup(|key| vars.get(key).cloned()).expect("valid test configuration")
}

/// How to start a test server.
#[derive(Default)]
pub struct TestOptions {
    /// Environment-style overrides (`RATE_LIMIT_DEFAULT`, `TRUSTED_PROXIES`, ...).
    pub env: HashMap<String, String>,
    /// Extra routes and job handlers (fixtures).
    pub extensions: Extensions,
    /// Reuse an existing database (restart tests); a fresh one otherwise.
    pub database: Option<Arc<TestDatabase>>,
}

impl TestOptions {
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    #[must_use]
    pub fn with_fixtures(mut self) -> Self {
        self.extensions = fixtures::extensions();
        self
    }

    #[must_use]
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    #[must_use]
    pub fn database(mut self, database: Arc<TestDatabase>) -> Self {
        self.database = Some(database);
        self
    }
}

/// A running server and what a test needs around it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// A connection of the test's own to the same database, for assertions and seeding.
    pub db: DatabaseConnection,
    pub config: Config,
    pub http: reqwest::Client,
    pub database: Arc<TestDatabase>,
    running: Option<RunningApp>,
}

/// The standard server on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

/// The standard server plus the test fixtures (routes under `/test`, job kinds `test.*`).
pub async fn spawn_app_with_fixtures() -> TestApp {
    spawn_app_with(TestOptions::default().with_fixtures()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    init_test_logging();
    let database = match options.database {
        Some(database) => database,
        None => TestDatabase::create().await,
    };
    let config = test_config(&database, &options.env);
    let app = Application::build_with(config.clone(), options.extensions)
        .await
        .expect("the server builds");
    let port = app.port();
    let db = app.db().clone();
    let running = app.spawn();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db,
        config,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        database,
        running: Some(running),
    }
}

/// `TEST_LOG=1` prints the servers' logs while tests run; `TEST_LOG_FILE=<path>` appends them
/// (JSON, debug level for our crates) to a file, which CI then searches for every secret the
/// tests recorded in `TEST_SECRETS_FILE` (see [`remember_secret`]).
fn init_test_logging() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Ok(path) = std::env::var("TEST_LOG_FILE") {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .expect("open TEST_LOG_FILE");
            let filter = tracing_subscriber::EnvFilter::new(
                "info,server=debug,shared=debug,auth=debug,actix_http::h1::dispatcher=off",
            );
            let _ = tracing_subscriber::fmt()
                .json()
                .with_env_filter(filter)
                .with_writer(std::sync::Mutex::new(file))
                .try_init();
        } else if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber_init();
        }
    });
}

/// Note a secret a test handled (password, token, code) so CI can check it never reached the
/// logs. A no-op unless `TEST_SECRETS_FILE` is set.
pub fn remember_secret(secret: &str) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Ok(path) = std::env::var("TEST_SECRETS_FILE")
        && secret.len() >= 8
        && let Ok(_guard) = LOCK.lock()
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        use std::io::Write as _;
        let _ = writeln!(file, "{secret}");
    }
}

fn tracing_subscriber_init() -> Option<()> {
    let config = Config::from_lookup(|k| match k {
        "APP_ENV" => Some("test".to_owned()),
        "JWT_SECRET" => Some("test-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz".to_owned()),
        "ENCRYPTION_KEY" => Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned()),
        "RUST_LOG" => std::env::var("RUST_LOG").ok().or(Some("info".to_owned())),
        _ => None,
    })
    .ok()?;
    server::telemetry::init(&config);
    Some(())
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl TestResponse {
    /// The body as JSON (panics with the body when it is not).
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): status {} body {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Assert the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Assert a success envelope with this status; returns `data`.
    #[track_caller]
    pub fn ok(&self, expected: u16) -> Value {
        self.assert_status(expected);
        let body = self.json();
        assert_eq!(body["success"], Value::Bool(true), "{body}");
        assert!(body["timestamp"].is_string(), "{body}");
        body["data"].clone()
    }

    /// Assert an error envelope with this status and code; returns `error`.
    #[track_caller]
    pub fn error(&self, expected: u16, code: &str) -> Value {
        self.assert_status(expected);
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "error body is not JSON ({content_type}): {:?}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["success"], Value::Bool(false), "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(body["timestamp"].is_string(), "{body}");
        body["error"].clone()
    }

    /// Assert a 422 naming `field`; returns that field's messages.
    #[track_caller]
    pub fn field_error(&self, field: &str) -> Vec<String> {
        let error = self.error(422, "VALIDATION_FAILED");
        let messages = error["details"]["fields"][field]
            .as_array()
            .unwrap_or_else(|| panic!("no error for field `{field}` in {error}"));
        messages
            .iter()
            .map(|m| m.as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A test that did not stop its server still frees the server's threads.
        if let Some(running) = self.running.take() {
            running.signal_stop();
        }
    }
}

impl TestApp {
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request builder for anything the helpers below do not cover.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Send and read the whole response.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("response body");
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// Stop gracefully (in-flight requests finish, running jobs are handed back).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Stop as a killed process would: no cleanup, job leases left to expire.
    pub async fn crash(&mut self) {
        if let Some(running) = self.running.take() {
            running.crash().await;
        }
    }
}

/// An account a test signs in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: uuid::Uuid,
    pub email: String,
    pub password: String,
    pub role: entity::Role,
    pub company_id: Option<uuid::Uuid>,
    /// Access token.
    pub token: String,
    pub refresh_token: String,
}

/// A password that passes the policy.
pub const USER_PASSWORD: &str = "Correct-Horse-Battery-9";

fn hasher() -> &'static auth::password::PasswordHasher {
    static HASHER: std::sync::OnceLock<auth::password::PasswordHasher> = std::sync::OnceLock::new();
    HASHER.get_or_init(|| auth::password::PasswordHasher::new().expect("argon2 parameters"))
}

impl TestApp {
    /// A request with a bearer token.
    pub fn authed(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// Create an active, verified account (through the service, as the CLI does).
    pub async fn create_account(
        &self,
        role: entity::Role,
        email: &str,
        company: Option<&str>,
    ) -> entity::user::Model {
        remember_secret(USER_PASSWORD);
        auth::bootstrap::create_account(
            &self.db,
            hasher(),
            auth::bootstrap::NewAccount {
                email: email.to_owned(),
                password: USER_PASSWORD.to_owned(),
                full_name: format!("Test {role}"),
                role,
                company: company.map(str::to_owned).or_else(|| {
                    (role == entity::Role::Client).then(|| format!("Company of {email}"))
                }),
                must_change_password: false,
            },
            &shared::audit::Actor::system(),
        )
        .await
        .expect("create a test account")
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        remember_secret(password);
        self.post_json(
            "/api/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    /// A fresh account of `role`, signed in.
    pub async fn login_as(&self, role: entity::Role) -> TestUser {
        let email = format!("{role}-{}@example.test", uuid::Uuid::now_v7().simple());
        self.login_as_email(role, &email, None).await
    }

    /// A fresh account with this address (and company, for a client), signed in.
    pub async fn login_as_email(
        &self,
        role: entity::Role,
        email: &str,
        company: Option<&str>,
    ) -> TestUser {
        let account = if role == entity::Role::Superadmin && email == ADMIN_EMAIL {
            auth::users::find_by_email(&self.db, ADMIN_EMAIL)
                .await
                .expect("db")
                .expect("the bootstrapped superadmin")
        } else {
            self.create_account(role, email, company).await
        };
        let password = if email == ADMIN_EMAIL {
            ADMIN_PASSWORD
        } else {
            USER_PASSWORD
        };
        let data = self.login(email, password).await.ok(200);
        let token = data["token"].as_str().expect("token").to_owned();
        let refresh_token = data["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_owned();
        remember_secret(&token);
        remember_secret(&refresh_token);
        TestUser {
            id: account.id,
            email: email.to_owned(),
            password: password.to_owned(),
            role,
            company_id: account.company_id,
            token,
            refresh_token,
        }
    }

    /// The mails queued for an address, oldest first.
    pub async fn outbox(&self, to: &str) -> Vec<entity::outbox_email::Model> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        entity::outbox_email::Entity::find()
            .filter(entity::outbox_email::Column::ToAddress.eq(to.to_lowercase()))
            .order_by_asc(entity::outbox_email::Column::CreatedAt)
            .order_by_asc(entity::outbox_email::Column::Id)
            .all(&self.db)
            .await
            .expect("outbox rows")
    }

    /// The newest mail of `template` to `to` (waits a little for it).
    pub async fn last_mail(&self, to: &str, template: &str) -> entity::outbox_email::Model {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(mail) = self
                .outbox(to)
                .await
                .into_iter()
                .rev()
                .find(|m| m.template == template)
            {
                return mail;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {template} mail to {to}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The `token=` value of the link in a mail body.
#[must_use]
pub fn token_in(body: &str) -> String {
    let start = body.find("token=").expect("a link with a token") + "token=".len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    remember_secret(&token);
    token
}

/// How the database reads `select`: SQLite's query plan, or PostgreSQL's with sequential and
/// bitmap scans and sorts made the dearest choices (the tables of a test are nearly empty, and
/// PostgreSQL would read such a table whole rather than through an index).
pub async fn query_plan(
    db: &DatabaseConnection,
    select: &sea_orm::sea_query::SelectStatement,
) -> String {
    statement_plan(db, &db.get_database_backend().build(select)).await
}

/// [`query_plan`] of a built statement.
pub async fn statement_plan(db: &DatabaseConnection, statement: &sea_orm::Statement) -> String {
    use sea_orm::{DbBackend, Statement, TransactionTrait};
    let backend = db.get_database_backend();
    let explain = |prefix: &str| {
        Statement::from_sql_and_values(
            backend,
            format!("{prefix} {}", statement.sql),
            statement.values.clone().map(|v| v.0).unwrap_or_default(),
        )
    };
    let lines = |rows: Vec<sea_orm::QueryResult>, column: &str| {
        rows.iter()
            .map(|r| r.try_get::<String>("", column).expect("a plan line"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if backend == DbBackend::Postgres {
        let txn = db.begin().await.expect("a transaction");
        txn.execute_unprepared(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
             SET LOCAL enable_sort = off",
        )
        .await
        .expect("planner settings");
        let rows = txn
            .query_all_raw(explain("EXPLAIN"))
            .await
            .expect("the plan");
        txn.rollback().await.expect("rollback");
        lines(rows, "QUERY PLAN")
    } else {
        let rows = db
            .query_all_raw(explain("EXPLAIN QUERY PLAN"))
            .await
            .expect("the plan");
        lines(rows, "detail")
    }
}

/// The account with this address (which must exist).
pub async fn auth_user(app: &TestApp, email: &str) -> entity::user::Model {
    auth::users::find_by_email(&app.db, email)
        .await
        .expect("db")
        .expect("the account exists")
}

impl TestApp {
    /// Wait until the job queue has nothing queued or running (mail jobs and the like), the
    /// next scheduled run of a recurring job aside.
    pub async fn wait_for_jobs(&self) {
        use entity::job::{Column, JobStatus};
        use sea_orm::sea_query::Condition;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let pending = entity::job::Entity::find()
                .filter(Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
                .filter(
                    Condition::any()
                        .add(Column::UniqueKey.is_null())
                        .add(Column::UniqueKey.not_like("recurring:%"))
                        .add(Column::Status.eq(JobStatus::Running)),
                )
                .count(&self.db)
                .await
                .expect("jobs");
            if pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{pending} jobs never finished"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl TestApp {
    /// Move the server's clock forward (needs the fixtures).
    pub async fn advance_clock(&self, by: chrono::Duration) {
        self.post_json(
            "/test/clock",
            &serde_json::json!({ "seconds": by.num_seconds() }),
        )
        .await
        .ok(200);
    }

    /// Run a job of `kind` now through the queue and return its finished status (needs the
    /// fixtures).
    pub async fn run_job(&self, kind: &str, payload: serde_json::Value) -> serde_json::Value {
        let job = self
            .post_json(
                "/test/jobs",
                &serde_json::json!({ "kind": kind, "payload": payload, "max_attempts": 1 }),
            )
            .await
            .ok(202);
        let id = job["id"].as_str().expect("job id").to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let status = self.get(&format!("/test/jobs/{id}")).await.ok(200);
            if matches!(
                status["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job {kind} never finished"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
