//! Durable background jobs on the application's own database.
//!
//! - [`enqueue`] inserts a job with the caller's connection, so a job enqueued inside a
//!   transaction exists exactly when the transaction commits.
//! - [`runner::JobRunner`] runs handlers in the server process: it claims one due job at a time
//!   with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a single atomic `UPDATE … RETURNING`
//!   under SQLite's write lock), renews the lease while the handler runs, retries failures with
//!   exponential backoff, and takes over jobs whose worker died once their lease expires. While a
//!   lease holds no other worker (in this instance or another) runs the job; delivery overall is
//!   at least once (a job whose worker died runs again), so handlers are idempotent. A restart
//!   resumes what was pending. Leases compare the instances' clocks: keep them in sync (NTP).
//! - Handlers report progress (percent + message) and log lines, readable with [`status`].
//!
//! Why not apalis (the library the stack suggests)? Its SQL storages push through their own
//! sqlx pool, so a job cannot be enqueued inside a sea-orm transaction without writing into the
//! library's private schema; failed jobs are re-fetched immediately (its backoff lives in memory
//! and is lost on restart); it has no progress or per-job log; and SQLite and PostgreSQL are two
//! different storage types with two migration systems. The queue below is small, uses our one
//! migration system and our one connection pool, and behaves the same on both databases.

pub mod runner;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Statement,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::job::{self, JobStatus};
use entity::job_log;

pub use runner::{
    JobContext, JobError, JobHandler, JobRegistry, JobRunner, RunnerConfig, RunnerHandle,
    recurring_key,
};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub max_attempts: i32,
    pub priority: i32,
    pub run_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub unique_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` (the registered handler's name) with a JSON payload.
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            max_attempts: 5,
            priority: 0,
            run_at: None,
            created_by: None,
            unique_key: None,
        }
    }

    #[must_use]
    pub fn max_attempts(mut self, attempts: i32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    #[must_use]
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    #[must_use]
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    #[must_use]
    pub fn created_by(mut self, user: Option<Uuid>) -> Self {
        self.created_by = user;
        self
    }

    /// While a job with this key is queued or running, [`enqueue_unique`] adds no other.
    #[must_use]
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

fn active_model(id: Uuid, new: NewJob) -> job::ActiveModel {
    let now = Utc::now();
    job::ActiveModel {
        id: Set(id),
        kind: Set(new.kind),
        payload: Set(new.payload),
        status: Set(JobStatus::Queued),
        priority: Set(new.priority),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts),
        run_at: Set(new.run_at.unwrap_or(now)),
        locked_by: Set(None),
        locked_until: Set(None),
        progress: Set(0),
        progress_message: Set(None),
        result: Set(None),
        last_error: Set(None),
        cancel_requested: Set(false),
        created_by: Set(new.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        unique_key: Set(new.unique_key),
    }
}

/// Insert a job. Pass the transaction that makes the change the job is about.
///
/// # Errors
/// Database errors.
pub async fn enqueue(db: &impl ConnectionTrait, new: NewJob) -> Result<job::Model, DbErr> {
    active_model(Uuid::now_v7(), new).insert(db).await
}

/// Insert a job unless one with the same [`NewJob::unique_key`] is queued or running.
/// `Ok(None)`: there already is one. Safe under concurrency (a partial unique index decides),
/// and usable inside a transaction (the conflict does not abort it).
///
/// # Errors
/// Database errors.
pub async fn enqueue_unique(
    db: &impl ConnectionTrait,
    new: NewJob,
) -> Result<Option<job::Model>, DbErr> {
    let id = Uuid::now_v7();
    let inserted = job::Entity::insert(active_model(id, new))
        .on_conflict(
            sea_orm::sea_query::OnConflict::new()
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    job::Entity::find_by_id(id).one(db).await
}

/// A job as the status service shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub kind: String,
    /// queued | running | succeeded | failed | cancelled
    #[schema(example = "running")]
    pub status: String,
    /// 0..=100
    pub progress: i32,
    pub progress_message: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub cancel_requested: bool,
    pub last_error: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    #[serde(serialize_with = "crate::envelope::serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::envelope::serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub run_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::envelope::serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::envelope::serialize_utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall time from first start to finish (or until now while it runs), in milliseconds.
    pub elapsed_ms: Option<i64>,
    pub logs: Vec<JobLogView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobLogView {
    /// info | warn | error
    pub level: String,
    pub message: String,
    #[serde(serialize_with = "crate::envelope::serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
}

impl JobView {
    #[must_use]
    pub fn new(job: job::Model, logs: Vec<job_log::Model>) -> Self {
        let elapsed_ms = job
            .started_at
            .map(|started| (job.finished_at.unwrap_or_else(Utc::now) - started).num_milliseconds());
        Self {
            id: job.id,
            kind: job.kind,
            status: job.status.as_str().to_owned(),
            progress: job.progress,
            progress_message: job.progress_message,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            cancel_requested: job.cancel_requested,
            last_error: job.last_error,
            result: job.result,
            created_at: job.created_at,
            run_at: job.run_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            elapsed_ms,
            logs: logs
                .into_iter()
                .map(|l| JobLogView {
                    level: l.level,
                    message: l.message,
                    at: l.created_at,
                })
                .collect(),
        }
    }
}

/// The job and its log, if it exists.
///
/// # Errors
/// Database errors.
pub async fn status(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<JobView>, DbErr> {
    let Some(job) = job::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let logs = job_log::Entity::find()
        .filter(job_log::Column::JobId.eq(id))
        .order_by_asc(job_log::Column::CreatedAt)
        .order_by_asc(job_log::Column::Id)
        .all(db)
        .await?;
    Ok(Some(JobView::new(job, logs)))
}

/// What [`cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It had not started: it never will.
    Cancelled,
    /// It is running: its handler is told and stops at its next check.
    Requested,
    /// Already finished; nothing to do.
    AlreadyFinished(JobStatus),
}

/// Cancel a job: one statement, so the job cannot move between "queued" and "running" under
/// the request.
///
/// # Errors
/// Database errors; `Ok(None)` when there is no such job.
pub async fn cancel(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<CancelOutcome>, DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let queued = JobStatus::Queued.as_str();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut bind = |value: sea_orm::Value| {
        values.push(value);
        placeholder(backend, values.len())
    };
    let sql = format!(
        "UPDATE jobs SET cancel_requested = {yes}, \
           status = CASE WHEN status = {q1} THEN {cancelled} ELSE status END, \
           finished_at = CASE WHEN status = {q2} THEN {now1} ELSE finished_at END, \
           updated_at = {now2} \
         WHERE id = {id} AND status IN ({q3}, {running}) RETURNING status",
        yes = bind(true.into()),
        q1 = bind(queued.into()),
        cancelled = bind(JobStatus::Cancelled.as_str().into()),
        q2 = bind(queued.into()),
        now1 = bind(now.into()),
        now2 = bind(now.into()),
        id = bind(id.into()),
        q3 = bind(queued.into()),
        running = bind(JobStatus::Running.as_str().into()),
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    match row {
        Some(row) => {
            let status: String = row.try_get("", "status")?;
            if status == JobStatus::Cancelled.as_str() {
                log(db, id, "warn", "cancelled before it started").await?;
                Ok(Some(CancelOutcome::Cancelled))
            } else {
                log(db, id, "warn", "cancellation requested").await?;
                Ok(Some(CancelOutcome::Requested))
            }
        }
        None => Ok(job::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|job| CancelOutcome::AlreadyFinished(job.status))),
    }
}

/// Append a log line to a job.
///
/// # Errors
/// Database errors.
pub async fn log(
    db: &impl ConnectionTrait,
    job_id: Uuid,
    level: &str,
    message: impl Into<String>,
) -> Result<(), DbErr> {
    let mut message: String = message.into();
    if message.len() > 4000 {
        let mut cut = 4000;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    job_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        job_id: Set(job_id),
        level: Set(level.to_owned()),
        message: Set(message),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Number of jobs per status (for metrics and monitoring).
///
/// # Errors
/// Database errors.
pub async fn counts(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status",
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "status")?,
                row.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

/// Delete finished jobs (and their logs) older than `days`.
///
/// # Errors
/// Database errors.
pub async fn purge_finished(db: &impl ConnectionTrait, days: i64) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - chrono::Duration::days(days);
    let result = job::Entity::delete_many()
        .filter(job::Column::FinishedAt.lt(cutoff))
        .filter(job::Column::Status.is_in([
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// `$n` on PostgreSQL, `?` on SQLite.
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}
