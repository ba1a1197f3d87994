//! The Presta server as a library: [`Application::build`] wires configuration, database,
//! migrations, storage, rate limiting, jobs, every route scope, OpenAPI and middleware, and binds
//! a listener (port 0 works), so tests start the very same server `main` does.

pub mod health;
pub mod metrics;
pub mod migrate;
pub mod openapi;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, Condition};
use actix_web::{App, HttpServer, http, web};
use sea_orm::DatabaseConnection;
use shared::clock::Clock;
use shared::config::Config;
use shared::events::EventBus;
use shared::jobs::{JobHandler, JobRegistry, JobRunner, RunnerConfig, RunnerHandle};
use shared::mailer::Mailer;
use shared::rate_limit::{RateLimit, RateLimitPolicy, RateLimiter, RedisStore};
use shared::request::RequestContextMiddleware;
use shared::storage::Storage;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::health::Readiness;
use crate::metrics::{Metrics, MetricsMiddleware};
use crate::openapi::RouteTable;

/// Mounts extra documented routes into the API scope (used by tests for fixtures).
pub type RouteConfigurer = Arc<dyn Fn(&mut ServiceConfig) + Send + Sync>;

/// What a caller adds to the standard application: routes and job handlers.
#[derive(Clone, Default)]
pub struct Extensions {
    pub routes: Vec<RouteConfigurer>,
    pub jobs: Vec<(String, Arc<dyn JobHandler>)>,
}

/// Every route of the product, as one `configure` function.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(metrics::prometheus_metrics)
        .configure(auth::routes)
        .configure(tickets::routes)
        .configure(client::routes)
        .configure(planning::routes);
}

/// Job handlers of the product.
#[must_use]
pub fn job_registry(
    config: &Config,
    mailer: &Arc<Mailer>,
    tickets_state: &Arc<tickets::TicketsState>,
    planning_state: &Arc<planning::PlanningState>,
) -> JobRegistry {
    let mut registry = JobRegistry::new();
    registry.register(shared::mailer::SEND_JOB, mailer.job());
    for (kind, handler) in auth::job_handlers(config) {
        registry.register(kind, handler);
    }
    tickets::register_jobs(&mut registry, tickets_state, config.sla_scan_interval);
    planning::register_jobs(&mut registry, planning_state);
    registry
}

/// Live events: through Redis when configured (several instances), else in this process.
async fn event_bus(config: &Config) -> anyhow::Result<EventBus> {
    match &config.redis_url {
        Some(url) => EventBus::redis(url, &config.redis_prefix)
            .await
            .map_err(|e| anyhow::anyhow!("REDIS_URL is set but Redis refused the event feed: {e}")),
        None => Ok(EventBus::in_process()),
    }
}

/// The OpenAPI document of the product (what `presta openapi` prints and CI compares with
/// `openapi/openapi.json`).
#[must_use]
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    document(&[])
}

fn document(extra: &[RouteConfigurer]) -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(routes)
        .configure(|cfg| {
            for configure in extra {
                configure(cfg);
            }
        })
        .split_for_parts();
    doc
}

/// A built server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    runner: Option<RunnerHandle>,
    db: DatabaseConnection,
    bootstrapped: Option<auth::bootstrap::Bootstrapped>,
}

/// A server running in the background (tests): stop it gracefully or crash it.
pub struct RunningApp {
    pub port: u16,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    runner: Option<RunnerHandle>,
}

impl RunningApp {
    /// Stop accepting, finish in-flight requests, let jobs finish or hand them back.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
        shared::db::runtime_stopped();
        if let Some(runner) = self.runner {
            runner.shutdown().await;
        }
    }

    /// Ask the server to stop without waiting (used when a test ends without stopping it).
    /// The job runner stops when this value is dropped.
    pub fn signal_stop(&self) {
        // The command is sent at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }

    /// Stop without any cleanup, as a killed process would.
    pub async fn crash(self) {
        if let Some(runner) = self.runner {
            runner.abort();
        }
        self.handle.stop(false).await;
        let _ = self.task.await;
        shared::db::runtime_stopped();
    }
}

async fn rate_limiter(config: &Config) -> anyhow::Result<Arc<RateLimiter>> {
    let policy = RateLimitPolicy::new(config.rate_limit_default, config.rate_limit_auth)
        .with_auth_paths(auth::CREDENTIAL_PATHS)
        .with_public_prefixes(config.rate_limit_public, &[client::SHARE_PREFIX]);
    let limiter = match &config.redis_url {
        Some(url) => {
            let store = RedisStore::connect(url, &config.redis_prefix)
                .await
                .map_err(|e| anyhow::anyhow!("REDIS_URL is set but Redis is unreachable: {e}"))?;
            RateLimiter::with_redis(policy, store)
        }
        None => RateLimiter::in_memory(policy),
    };
    let limiter = Arc::new(limiter);
    limiter.spawn_eviction(Duration::from_secs(60));
    Ok(limiter)
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::header::ACCEPT,
            http::header::HeaderName::from_static("idempotency-key"),
            http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            http::header::HeaderName::from_static("x-request-id"),
            http::header::RETRY_AFTER,
            http::header::HeaderName::from_static("x-ratelimit-limit"),
            http::header::HeaderName::from_static("x-ratelimit-remaining"),
            http::header::HeaderName::from_static("idempotency-replayed"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Periodic housekeeping, in every instance (each statement is idempotent).
fn spawn_maintenance(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match shared::idempotency::purge_expired(&db).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "expired idempotency keys purged"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "idempotency purge failed"),
            }
            match shared::jobs::purge_finished(&db, 30).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "old finished jobs purged"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "job purge failed"),
            }
        }
    });
}

/// Fold the ticket count changes into their totals every second (see `tickets::counts`), so a
/// kept count stays a read of a few rows however fast tickets change.
fn spawn_count_compaction(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = tickets::counts::compact(&db).await {
                tracing::warn!(error = %err, "ticket count compaction failed");
            }
        }
    });
}

impl Application {
    /// Build the standard server.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, storage or Redis misconfigured, port taken.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Extensions::default()).await
    }

    /// Build the server with extra routes and job handlers.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, storage or Redis misconfigured, port taken.
    pub async fn build_with(config: Config, extensions: Extensions) -> anyhow::Result<Self> {
        migrate::run(&config).await?;
        let db = shared::db::connect(&config).await?;
        let storage = Storage::from_config(&config)?;
        let limiter = rate_limiter(&config).await?;
        let metrics = Metrics::new()?;
        let mailer = Arc::new(Mailer::from_config(&config)?);
        let auth_state = auth::AuthState::from_config(&config)
            .map_err(|e| anyhow::anyhow!("password hashing set-up failed: {e}"))?;
        let bootstrapped = auth::bootstrap::ensure_superadmin(&db, &auth_state.hasher, &config)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "creating the first superadmin (ADMIN_EMAIL/ADMIN_PASSWORD): {}",
                    e.envelope().error.message_with_details()
                )
            })?;

        let clock = Clock::system();
        let tickets_state = Arc::new(
            tickets::TicketsState::from_config(
                &config,
                clock.clone(),
                event_bus(&config).await?,
                storage.clone(),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
        );
        let client_state =
            client::ClientState::from_config(&config, clock.clone(), storage.clone());
        let planning_state = Arc::new(
            planning::PlanningState::from_config(&config, clock.clone())
                .map_err(|e| anyhow::anyhow!(e))?,
        );
        let mut registry = job_registry(&config, &mailer, &tickets_state, &planning_state);
        for (kind, handler) in &extensions.jobs {
            registry.register(kind.clone(), Arc::clone(handler));
        }
        // Background work has its own small pool, opened here on the main runtime. On
        // PostgreSQL a connection belongs to the runtime that opened it: one opened by an HTTP
        // worker dies with that worker when the server stops, and the runner, which hands its
        // jobs back after the server has stopped, must not depend on it.
        let background_db = shared::db::connect_url(
            &config.database_url,
            u32::try_from(config.job_workers)
                .unwrap_or(8)
                .saturating_add(2),
        )
        .await?;
        let runner = (config.job_workers > 0).then(|| {
            JobRunner::new(
                background_db.clone(),
                registry,
                RunnerConfig {
                    concurrency: config.job_workers,
                    poll_interval: config.job_poll_interval,
                    lease: config.job_lease,
                    retry_base: config.job_retry_base,
                    shutdown_grace: Duration::from_secs(10),
                },
            )
            .start()
        });
        spawn_maintenance(background_db.clone());
        spawn_count_compaction(background_db.clone());

        let doc = document(&extensions.routes);
        let route_table = web::Data::new(RouteTable::from_openapi(&doc));
        let readiness = web::Data::new(Readiness {
            sqlite_file: shared::db::sqlite_file(&config.database_url),
            timeout: Duration::from_secs(2),
        });
        let db_data = web::Data::new(db.clone());
        let storage = web::Data::new(storage);
        let limiter_data = web::Data::new(Arc::clone(&limiter));
        let metrics_data = web::Data::new(metrics.clone());
        let config_data = web::Data::new(config.clone());
        let auth_data = web::Data::new(auth_state);
        let tickets_data = web::Data::from(Arc::clone(&tickets_state));
        let client_data = web::Data::new(client_state);
        let planning_data = web::Data::from(Arc::clone(&planning_state));
        let clock_data = web::Data::new(clock);
        let extra_routes = extensions.routes.clone();
        let trusted = config.trusted_proxies.clone();
        let cors_origins = config.cors_origins.clone();

        let storage_backend = storage.backend();
        let rate_limit_store = if limiter.is_shared() {
            "redis"
        } else {
            "memory"
        };
        let listener = TcpListener::bind(config.bind_address())?;
        let port = listener.local_addr()?.port();
        metrics.add_pool(&db);
        let workers = config.http_workers;
        let pool_config = config.clone();
        let server = HttpServer::new(move || {
            let extra_routes = extra_routes.clone();
            // On PostgreSQL each worker has connections of its own, answered on its own
            // thread (`shared::db::worker_pool`; bench/RESULTS.md item 37).
            let db_data = match shared::db::worker_pool(&pool_config, workers) {
                Some(own) => {
                    metrics.add_pool(&own);
                    web::Data::new(own)
                }
                None => db_data.clone(),
            };
            let app = App::new()
                // Listed innermost first: a request meets Compress, the request context,
                // metrics, CORS, authentication (so budgets belong to users) and the rate
                // limiter. Compress is outermost so it encodes the final bytes, including error
                // bodies the request context rewrote.
                .wrap(RateLimit::new(Arc::clone(&limiter)))
                .wrap(auth::Authenticate)
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(MetricsMiddleware(metrics.clone()))
                .wrap(RequestContextMiddleware::new(trusted.clone()))
                .wrap(Compress::default())
                .configure(shared::extract::framework_error_handlers)
                .app_data(db_data.clone())
                .app_data(storage.clone())
                .app_data(limiter_data.clone())
                .app_data(metrics_data.clone())
                .app_data(config_data.clone())
                .app_data(auth_data.clone())
                .app_data(tickets_data.clone())
                .app_data(client_data.clone())
                .app_data(planning_data.clone())
                .app_data(clock_data.clone())
                .app_data(readiness.clone())
                .app_data(route_table.clone())
                .into_utoipa_app()
                .configure(routes)
                .configure(move |cfg| {
                    for configure in &extra_routes {
                        configure(cfg);
                    }
                })
                .into_app();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", doc.clone()))
                .default_service(web::to(openapi::fallback))
        })
        .workers(config.http_workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();

        tracing::info!(
            address = %config.bind_address(),
            port,
            database = shared::db::backend_name(&db),
            storage = storage_backend,
            rate_limit_store,
            job_workers = config.job_workers,
            "presta listening"
        );
        Ok(Self {
            port,
            server,
            runner,
            db,
            bootstrapped,
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The superadmin this start created (its generated password is to be shown once).
    #[must_use]
    pub fn bootstrapped(&self) -> Option<&auth::bootstrap::Bootstrapped> {
        self.bootstrapped.as_ref()
    }

    /// Serve until the process is told to stop (SIGINT/SIGTERM), then drain jobs.
    ///
    /// # Errors
    /// The HTTP server failed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // The HTTP workers' runtimes are gone, and the connections they opened with them.
        shared::db::runtime_stopped();
        if let Some(runner) = self.runner {
            runner.shutdown().await;
        }
        result
    }

    /// Serve in the background on the current runtime.
    #[must_use]
    pub fn spawn(self) -> RunningApp {
        let handle = self.server.handle();
        let task = tokio::spawn(self.server);
        RunningApp {
            port: self.port,
            handle,
            task,
            runner: self.runner,
        }
    }
}
