//! Prometheus metrics: request counts and latency by route and status, requests in flight,
//! database pool, job queue depth and rate-limit keys. `GET /metrics` renders the text format.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::future::LocalBoxFuture;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};
use secrecy::ExposeSecret;
use shared::AppError;
use shared::config::Config;
use shared::rate_limit::RateLimiter;

/// Latency buckets (seconds), fine-grained below 10 ms where this server should live.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    db_pool_size: IntGauge,
    db_pool_idle: IntGauge,
    jobs: IntGaugeVec,
    rate_limit_keys: IntGauge,
    /// The pools whose connections `db_pool_*` count: the server's shared pool and, on
    /// PostgreSQL, each HTTP worker's own (`shared::db::worker_pool`).
    pools: std::sync::Mutex<Vec<DatabaseConnection>>,
}

/// One registry per server instance (tests run several in one process).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Metrics {
    /// # Errors
    /// A metric could not be registered (a programming error: duplicate name).
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("presta".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let in_flight = IntGauge::new("http_requests_in_flight", "Requests being served")?;
        let db_pool_size = IntGauge::new("db_pool_connections", "Open database connections")?;
        let db_pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let jobs = IntGaugeVec::new(Opts::new("jobs", "Background jobs by status"), &["status"])?;
        let rate_limit_keys = IntGauge::new(
            "rate_limit_tracked_keys",
            "Keys held by the in-process rate-limit store",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(db_pool_size.clone()))?;
        registry.register(Box::new(db_pool_idle.clone()))?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(rate_limit_keys.clone()))?;
        Ok(Self(Arc::new(Inner {
            registry,
            requests,
            latency,
            in_flight,
            db_pool_size,
            db_pool_idle,
            jobs,
            rate_limit_keys,
            pools: std::sync::Mutex::default(),
        })))
    }

    /// Count `db`'s connections in the pool gauges.
    pub fn add_pool(&self, db: &DatabaseConnection) {
        self.0
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(db.clone());
    }

    /// Open and idle connections of the pools added with [`Self::add_pool`].
    fn pool_gauges(&self) -> (u32, usize) {
        let pools = self
            .0
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pools
            .iter()
            .map(|db| match db.get_database_backend() {
                DbBackend::Sqlite => {
                    let pool = db.get_sqlite_connection_pool();
                    (pool.size(), pool.num_idle())
                }
                DbBackend::Postgres => {
                    let pool = db.get_postgres_connection_pool();
                    (pool.size(), pool.num_idle())
                }
                _ => (0, 0),
            })
            .fold((0, 0), |(size, idle), (s, i)| {
                (size.saturating_add(s), idle.saturating_add(i))
            })
    }

    async fn refresh_gauges(&self, db: &DatabaseConnection, limiter: &RateLimiter) {
        let (size, idle) = self.pool_gauges();
        self.0.db_pool_size.set(i64::from(size));
        self.0
            .db_pool_idle
            .set(i64::try_from(idle).unwrap_or(i64::MAX));
        self.0
            .rate_limit_keys
            .set(i64::try_from(limiter.memory().len()).unwrap_or(i64::MAX));
        if let Ok(counts) = shared::jobs::counts(db).await {
            self.0.jobs.reset();
            for status in ["queued", "running", "succeeded", "failed", "cancelled"] {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                self.0.jobs.with_label_values(&[status]).set(n);
            }
        }
    }

    fn render(&self) -> Result<String, AppError> {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.0.registry.gather(), &mut buffer)
            .map_err(AppError::internal)?;
        String::from_utf8(buffer).map_err(AppError::internal)
    }
}

/// Prometheus text exposition. Not rate limited. When `METRICS_TOKEN` is set, scrapers must send
/// it as `Authorization: Bearer <token>`.
#[utoipa::path(
    tag = "system",
    security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, response = shared::openapi::Unauthenticated),
        (status = 500, response = shared::openapi::Internal),
    )
)]
#[get("/metrics")]
pub async fn prometheus_metrics(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    config: web::Data<Config>,
    db: web::Data<DatabaseConnection>,
    limiter: web::Data<Arc<RateLimiter>>,
) -> Result<HttpResponse, AppError> {
    if let Some(expected) = &config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.expose_secret().as_bytes()) {
            return Err(AppError::unauthenticated(
                "A valid metrics token is required",
            ));
        }
    }
    metrics.refresh_gauges(&db, &limiter).await;
    let body = metrics.render()?;
    Ok(HttpResponse::Ok()
        .insert_header(ContentType(
            "text/plain; version=0.0.4"
                .parse()
                .unwrap_or(mime::TEXT_PLAIN),
        ))
        .body(body))
}

/// Compare secrets without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Records every request (after routing, so the label is the route pattern, never the raw path).
#[derive(Clone)]
pub struct MetricsMiddleware(pub Metrics);

impl<S, B> Transform<S, ServiceRequest> for MetricsMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = MetricsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(MetricsService {
            service: Rc::new(service),
            metrics: self.0.clone(),
        }))
    }
}

pub struct MetricsService<S> {
    service: Rc<S>,
    metrics: Metrics,
}

impl<S, B> Service<ServiceRequest> for MetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let metrics = self.metrics.clone();
        // A label per known method only: arbitrary methods must not grow the registry.
        let method = match req.method().as_str() {
            m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
            _ => "OTHER",
        }
        .to_owned();
        metrics.0.in_flight.inc();
        let fut = self.service.call(req);
        Box::pin(async move {
            let result = fut.await;
            metrics.0.in_flight.dec();
            let (route, status) = match &result {
                Ok(res) => (
                    res.request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".to_owned()),
                    res.status().as_u16(),
                ),
                Err(err) => (
                    "unmatched".to_owned(),
                    err.as_response_error().status_code().as_u16(),
                ),
            };
            let status = status.to_string();
            metrics
                .0
                .requests
                .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
                .inc();
            metrics
                .0
                .latency
                .with_label_values(&[method.as_str(), route.as_str()])
                .observe(started.elapsed().as_secs_f64());
            result
        })
    }
}
