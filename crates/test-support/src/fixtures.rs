//! Routes and job handlers that exist only in tests, to exercise the foundation (extractors,
//! pagination, idempotency, audit, storage, jobs) through HTTP with the real middleware stack.
//! They are written exactly like product routes: documented, validated, no SQL in handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, get, post, web};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::audit::{self, Actor, AuditEntry};
use shared::extract::{Json, Path, Query};
use shared::idempotency::{Idempotency, IdempotencyKeyHeader};
use shared::jobs::{self, JobContext, JobError, JobHandler, JobView, NewJob};
use shared::openapi::errors;
use shared::pagination::{PageParams, Sort, SortField, fetch_page};
use shared::request::RequestContext;
use shared::storage::Storage;
use shared::{ApiResponse, AppError, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use auth::{AuthUser, RequireRole};
use entity::Role;
use entity::audit_log;
use server::Extensions;

/// Routes and job kinds of the fixtures.
#[must_use]
pub fn extensions() -> Extensions {
    extensions_with_counter(Arc::new(Mutex::new(HashMap::new())))
}

/// Fixtures whose `test.count` job records its runs in `counter` (job id -> runs).
#[must_use]
pub fn extensions_with_counter(counter: RunCounter) -> Extensions {
    Extensions {
        routes: vec![Arc::new(|cfg| {
            cfg.service(echo)
                .service(list_events)
                .service(get_event)
                .service(create_job)
                .service(get_job)
                .service(cancel_job)
                .service(upload_file)
                .service(download_file)
                .service(advance_clock)
                .service(internal_error);
            // One guarded scope per portal role, as the portal crates mount theirs.
            for (prefix, role) in [
                ("/test/portal/client", Role::Client),
                ("/test/portal/prestataire", Role::Prestataire),
                ("/test/portal/revendeur", Role::Revendeur),
                ("/test/portal/superadmin", Role::Superadmin),
            ] {
                cfg.service(
                    utoipa_actix_web::scope::scope(prefix)
                        .wrap(RequireRole(role))
                        .service(whoami),
                );
            }
        })],
        jobs: vec![
            (
                "test.echo".to_owned(),
                Arc::new(EchoJob) as Arc<dyn JobHandler>,
            ),
            ("test.flaky".to_owned(), Arc::new(FlakyJob)),
            ("test.fail".to_owned(), Arc::new(FailJob)),
            ("test.wait".to_owned(), Arc::new(WaitJob)),
            ("test.count".to_owned(), Arc::new(CountJob(counter))),
        ],
    }
}

pub type RunCounter = Arc<Mutex<HashMap<Uuid, u32>>>;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoRequest {
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub name: String,
    #[validate(email)]
    #[schema(format = "email", example = "chef@example.fr")]
    pub email: String,
    #[validate(range(min = 1, max = 10))]
    #[schema(minimum = 1, maximum = 10)]
    pub count: u32,
    #[serde(default)]
    #[validate(length(max = 5))]
    #[schema(max_items = 5)]
    pub tags: Vec<String>,
}

/// Echo a validated body back (201).
#[utoipa::path(
    tag = "test",
    request_body = EchoRequest,
    responses((status = 201, body = ApiResponse<EchoRequest>), errors::PublicWrite)
)]
#[post("/test/echo")]
async fn echo(body: Json<EchoRequest>) -> ApiResponse<EchoRequest> {
    ApiResponse::created(body.into_inner())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSort {
    Timestamp,
    Action,
}

impl SortField for EventSort {
    const FIELDS: &'static [(&'static str, Self)] =
        &[("timestamp", Self::Timestamp), ("action", Self::Action)];
    const DEFAULT: Self = Self::Timestamp;
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
pub struct EventFilter {
    /// Only this action.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub action: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    #[serde(serialize_with = "shared::envelope::serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: chrono::DateTime<chrono::Utc>,
}

impl From<audit_log::Model> for EventView {
    fn from(m: audit_log::Model) -> Self {
        Self {
            id: m.id,
            action: m.action,
            entity: m.entity,
            entity_id: m.entity_id,
            ip: m.ip,
            request_id: m.request_id,
            timestamp: m.timestamp,
        }
    }
}

/// Audit events, paginated and sorted in SQL.
#[utoipa::path(
    tag = "test",
    params(PageParams, Sort<EventSort>, EventFilter),
    responses((status = 200, body = Paginated<EventView>), errors::PublicRead)
)]
#[get("/test/events")]
async fn list_events(
    db: web::Data<DatabaseConnection>,
    page: PageParams,
    sort: Sort<EventSort>,
    filter: Query<EventFilter>,
) -> Result<Paginated<EventView>, AppError> {
    let mut select = audit_log::Entity::find();
    if let Some(action) = &filter.action {
        select = select.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    let column = match sort.field {
        EventSort::Timestamp => audit_log::Column::Timestamp,
        EventSort::Action => audit_log::Column::Action,
    };
    let select = select
        .order_by(column, sort.order.into())
        .order_by(audit_log::Column::Id, sort.order.into());
    Ok(fetch_page(db.get_ref(), select, page)
        .await?
        .map(EventView::from))
}

/// One audit event.
#[utoipa::path(
    tag = "test",
    params(("id" = Uuid, Path, description = "Event id")),
    responses((status = 200, body = ApiResponse<EventView>), errors::PublicRead)
)]
#[get("/test/events/{id}")]
async fn get_event(
    db: web::Data<DatabaseConnection>,
    id: Path<Uuid>,
) -> Result<ApiResponse<EventView>, AppError> {
    let event = audit_log::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await?
        .ok_or_else(|| AppError::not_found("Event not found"))?;
    Ok(ApiResponse::ok(event.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: Value,
    #[validate(range(min = 1, max = 25))]
    #[schema(minimum = 1, maximum = 25)]
    pub max_attempts: Option<i32>,
    /// Enqueue, write the audit row, then fail: the transaction must leave nothing behind.
    #[serde(default)]
    pub fail_after_enqueue: bool,
}

/// Enqueue a job and audit it, in one transaction (idempotent with `Idempotency-Key`).
#[utoipa::path(
    tag = "test",
    request_body = CreateJobRequest,
    params(IdempotencyKeyHeader),
    responses((status = 202, body = ApiResponse<JobView>), errors::PublicWrite)
)]
#[post("/test/jobs", wrap = "Idempotency")]
async fn create_job(
    db: web::Data<DatabaseConnection>,
    ctx: RequestContext,
    body: Json<CreateJobRequest>,
) -> Result<ApiResponse<JobView>, AppError> {
    let body = body.into_inner();
    let txn = shared::db::begin_write(db.get_ref()).await?;
    let mut new = NewJob::new(body.kind, body.payload);
    if let Some(max) = body.max_attempts {
        new = new.max_attempts(max);
    }
    let job = jobs::enqueue(&txn, new).await?;
    audit::record(
        &txn,
        &Actor::from_request(&ctx, None),
        AuditEntry::new("enqueue_job", "job")
            .entity_id(job.id)
            .after(&json!({ "kind": job.kind })),
    )
    .await?;
    if body.fail_after_enqueue {
        // Dropping the transaction rolls both inserts back.
        return Err(AppError::conflict("Asked to fail after enqueueing"));
    }
    txn.commit().await?;
    let view = jobs::status(db.get_ref(), job.id)
        .await?
        .ok_or_else(|| AppError::not_found("Job not found"))?;
    Ok(ApiResponse::accepted(view))
}

/// A job's status, progress and log.
#[utoipa::path(
    tag = "test",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, body = ApiResponse<JobView>), errors::PublicRead)
)]
#[get("/test/jobs/{id}")]
async fn get_job(
    db: web::Data<DatabaseConnection>,
    id: Path<Uuid>,
) -> Result<ApiResponse<JobView>, AppError> {
    jobs::status(db.get_ref(), id.into_inner())
        .await?
        .map(ApiResponse::ok)
        .ok_or_else(|| AppError::not_found("Job not found"))
}

/// Cancel a job.
#[utoipa::path(
    tag = "test",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 202, body = ApiResponse<JobView>), errors::PublicWrite)
)]
#[post("/test/jobs/{id}/cancel")]
async fn cancel_job(
    db: web::Data<DatabaseConnection>,
    id: Path<Uuid>,
) -> Result<ApiResponse<JobView>, AppError> {
    let id = id.into_inner();
    jobs::cancel(db.get_ref(), id)
        .await?
        .ok_or_else(|| AppError::not_found("Job not found"))?;
    let view = jobs::status(db.get_ref(), id)
        .await?
        .ok_or_else(|| AppError::not_found("Job not found"))?;
    Ok(ApiResponse::accepted(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredFile {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
pub struct FileName {
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Store the raw body as a file.
#[utoipa::path(
    tag = "test",
    params(FileName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes (not empty)"),
    responses((status = 201, body = ApiResponse<StoredFile>), errors::PublicWrite)
)]
#[post("/test/files")]
async fn upload_file(
    storage: web::Data<Storage>,
    query: Query<FileName>,
    body: web::Bytes,
) -> Result<ApiResponse<StoredFile>, AppError> {
    if body.is_empty() {
        return Err(AppError::invalid("body", "must not be empty"));
    }
    let key = Storage::new_key("tests", &query.name);
    let stored = storage.put(&key, body).await?;
    Ok(ApiResponse::created(StoredFile {
        key: stored.key,
        size: stored.size,
        sha256: stored.sha256,
    }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
pub struct FileKey {
    #[validate(length(min = 1, max = 300))]
    #[param(min_length = 1, max_length = 300)]
    pub key: String,
}

/// Stream a stored file back.
#[utoipa::path(
    tag = "test",
    params(FileKey),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), errors::PublicRead)
)]
#[get("/test/files")]
async fn download_file(
    storage: web::Data<Storage>,
    query: Query<FileKey>,
) -> Result<HttpResponse, AppError> {
    let object = storage.get(&query.key).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("content-length", object.size.to_string()))
        .streaming(object.stream))
}

/// Who the guard let in.
#[utoipa::path(
    tag = "test",
    security(("bearer" = [])),
    responses((status = 200, body = ApiResponse<AuthUser>), errors::AuthedRead)
)]
#[get("/whoami")]
async fn whoami(caller: AuthUser) -> ApiResponse<AuthUser> {
    ApiResponse::ok(caller)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    /// Seconds to move the server's clock forward.
    #[validate(range(min = 0, max = 315_360_000))]
    #[schema(minimum = 0, maximum = 315_360_000)]
    pub seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    /// The server's time now.
    pub now: String,
    /// How far ahead of the system clock it is, in seconds.
    pub offset_seconds: i64,
}

/// Move the server's clock forward (time-based rules such as SLA deadlines).
#[utoipa::path(
    tag = "test",
    request_body = AdvanceClock,
    responses((status = 200, body = ApiResponse<ClockView>), errors::PublicWrite)
)]
#[post("/test/clock")]
async fn advance_clock(
    clock: web::Data<shared::clock::Clock>,
    body: Json<AdvanceClock>,
) -> ApiResponse<ClockView> {
    clock.advance(chrono::Duration::seconds(body.seconds));
    ApiResponse::ok(ClockView {
        now: shared::envelope::format_utc(&clock.now()),
        offset_seconds: clock.offset().num_seconds(),
    })
}

/// Fails with a cause that must never reach the client.
#[utoipa::path(tag = "test", responses(errors::PublicRead))]
#[get("/test/internal-error")]
async fn internal_error() -> Result<HttpResponse, AppError> {
    Err(AppError::internal(std::io::Error::other(
        "connection to postgres://admin:hunter2@db.internal/presta refused at /srv/presta/src/db.rs",
    )))
}

struct EchoJob;

#[async_trait::async_trait]
impl JobHandler for EchoJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        ctx.progress(50, Some("halfway")).await?;
        ctx.log("info", "echoing the payload").await?;
        Ok(Some(ctx.payload.clone()))
    }
}

/// Fails until attempt `succeed_on`.
struct FlakyJob;

#[async_trait::async_trait]
impl JobHandler for FlakyJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        #[derive(Deserialize)]
        struct Payload {
            succeed_on: i32,
        }
        let payload: Payload = ctx.payload()?;
        if ctx.attempt < payload.succeed_on {
            return Err(JobError::Retryable(format!(
                "transient failure on attempt {}",
                ctx.attempt
            )));
        }
        Ok(Some(json!({ "succeeded_on": ctx.attempt })))
    }
}

struct FailJob;

#[async_trait::async_trait]
impl JobHandler for FailJob {
    async fn run(&self, _ctx: &JobContext) -> Result<Option<Value>, JobError> {
        Err(JobError::Permanent("the payload can never work".to_owned()))
    }
}

/// Works in steps of 20 ms for `ms` milliseconds, reporting progress, until done or cancelled
/// (then it keeps what it has: the number of steps finished).
struct WaitJob;

#[async_trait::async_trait]
impl JobHandler for WaitJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        #[derive(Deserialize)]
        struct Payload {
            ms: u64,
        }
        let payload: Payload = ctx.payload()?;
        let steps = (payload.ms / 20).max(1);
        for step in 0..steps {
            if ctx.is_cancelled() {
                return Ok(Some(json!({ "steps_done": step, "stopped": true })));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            let percent = u8::try_from((step + 1) * 100 / steps).unwrap_or(100);
            ctx.progress(percent.min(99), Some("working")).await?;
        }
        Ok(Some(json!({ "steps_done": steps, "stopped": false })))
    }
}

/// Counts how many times each job ran (to prove no job runs twice).
struct CountJob(RunCounter);

#[async_trait::async_trait]
impl JobHandler for CountJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        if let Ok(mut runs) = self.0.lock() {
            *runs.entry(ctx.id).or_insert(0) += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(None)
    }
}

/// Audit rows for list tests, written through the audit writer.
pub async fn seed_events(db: &DatabaseConnection, count: usize, action: &str) {
    let txn = db.begin().await.expect("begin");
    for i in 0..count {
        audit::record(
            &txn,
            &Actor::system(),
            AuditEntry::new(action, "fixture").entity_id(i),
        )
        .await
        .expect("audit row");
    }
    txn.commit().await.expect("commit");
}

/// Count audit rows with this action.
pub async fn count_events(db: &DatabaseConnection, action: &str) -> usize {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(db)
        .await
        .expect("audit rows")
        .len()
}

/// Events ordered by time, for assertions.
pub async fn events(db: &DatabaseConnection) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Timestamp)
        .all(db)
        .await
        .expect("audit rows")
}
