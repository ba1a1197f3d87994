//! Workers that run queued jobs inside the server process.
//!
//! Delivery is at least once: a job whose lease expires (its worker died or stalled) runs again,
//! so handlers must be idempotent. While a lease holds, no other worker runs the job: every claim
//! gets its own lock token, and a worker that lost its lease stops touching the row.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
    Value as SqlValue,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;
use uuid::Uuid;

use entity::job::{self, JobStatus};

use super::{log, placeholder};

/// Why a handler did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (after a backoff) while attempts remain. The message is shown to
    /// whoever reads the job's status: keep internals (SQL, paths) out of it.
    #[error("{0}")]
    Retryable(String),
    /// Will never succeed (bad payload, missing data): fail now.
    #[error("{0}")]
    Permanent(String),
    /// The handler saw the cancellation and stopped.
    #[error("cancelled")]
    Cancelled,
}

impl From<DbErr> for JobError {
    /// The cause goes to the server log; the job keeps a message fit for its readers.
    fn from(err: DbErr) -> Self {
        tracing::warn!(error = %err, "database error in a job");
        Self::Retryable("temporary database error".to_owned())
    }
}

/// A job's code. Implementations are registered by kind in a [`JobRegistry`].
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Do the work. Return a JSON result (kept on the job) or an error. Long handlers should call
    /// [`JobContext::progress`] and check [`JobContext::is_cancelled`] between steps.
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError>;
}

/// Handlers by kind, and the kinds that run on a schedule.
#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    recurring: Vec<(String, Duration)>,
}

impl JobRegistry {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) -> &mut Self {
        self.handlers.insert(kind.into(), handler);
        self
    }

    /// Register a handler that also runs every `every` (empty payload). Each instance schedules
    /// it, and a unique key keeps a single run queued or running across all of them.
    pub fn register_recurring(
        &mut self,
        kind: impl Into<String>,
        handler: Arc<dyn JobHandler>,
        every: Duration,
    ) -> &mut Self {
        let kind = kind.into();
        self.recurring.push((kind.clone(), every));
        self.register(kind, handler)
    }

    #[must_use]
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }
}

/// What a running handler can see and do.
pub struct JobContext {
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    /// 1 for the first run.
    pub attempt: i32,
    pub max_attempts: i32,
    db: DatabaseConnection,
    /// This claim's lock token: only the holder may update the row.
    lock: String,
    cancelled: Arc<AtomicBool>,
    /// The handler saw a stop request (so its result may be partial).
    observed_stop: AtomicBool,
}

impl JobContext {
    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The payload as a typed value.
    ///
    /// # Errors
    /// [`JobError::Permanent`]: a payload that does not parse never will.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone())
            .map_err(|e| JobError::Permanent(format!("invalid payload: {e}")))
    }

    /// Stop was requested: a user cancelled the job, or the server is shutting down (then the
    /// job is handed back to the queue and runs again later, so stopping early is safe).
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        let stop = self.cancelled.load(Ordering::Relaxed);
        if stop {
            self.observed_stop.store(true, Ordering::Relaxed);
        }
        stop
    }

    /// Record progress (0..=100) and what is happening.
    ///
    /// # Errors
    /// Database errors.
    pub async fn progress(&self, percent: u8, message: Option<&str>) -> Result<(), DbErr> {
        job::Entity::update_many()
            .col_expr(job::Column::Progress, i32::from(percent.min(100)).into())
            .col_expr(
                job::Column::ProgressMessage,
                message.map(str::to_owned).into(),
            )
            .col_expr(job::Column::UpdatedAt, Utc::now().into())
            .filter(job::Column::Id.eq(self.id))
            .filter(job::Column::LockedBy.eq(self.lock.as_str()))
            .exec(&self.db)
            .await
            .map(|_| ())
    }

    /// Append a line to the job's log.
    ///
    /// # Errors
    /// Database errors.
    pub async fn log(&self, level: &str, message: impl Into<String>) -> Result<(), DbErr> {
        log(&self.db, self.id, level, message).await
    }
}

/// Tuning of a runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs run at the same time by this process.
    pub concurrency: usize,
    /// Sleep between polls when the queue is empty.
    pub poll_interval: Duration,
    /// How long a claim stays valid without renewal.
    pub lease: Duration,
    /// First retry delay; doubles per attempt, capped at one hour.
    pub retry_base: Duration,
    /// On shutdown, how long running jobs get to finish before they are handed back.
    pub shutdown_grace: Duration,
}

/// Claims currently held by this process: `(job id, lock token)`.
type Held = Arc<Mutex<HashSet<(Uuid, String)>>>;

/// Runs jobs from the queue.
pub struct JobRunner {
    db: DatabaseConnection,
    registry: JobRegistry,
    config: RunnerConfig,
    worker_id: String,
}

/// Handle to stop a started runner. Dropping it also stops the workers (without the grace
/// period or the hand-back).
pub struct RunnerHandle {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    db: DatabaseConnection,
    worker_id: String,
    grace: Duration,
    held: Held,
}

impl RunnerHandle {
    /// Stop claiming, let running jobs finish within the grace period, then hand any that are
    /// still running back to the queue (without spending an attempt) for another worker.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + self.grace;
        for mut task in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
        let held: Vec<(Uuid, String)> = self
            .held
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default();
        for (id, lock) in held {
            if let Err(err) = hand_back(&self.db, id, &lock).await {
                tracing::warn!(job_id = %id, error = %err, "could not hand a job back to the queue");
            }
        }
    }

    /// Stop at once, as a crash would: running jobs keep their lease until it expires and
    /// another worker takes them over.
    pub fn abort(self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }

    #[must_use]
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }
}

/// Back-off before attempt `attempts + 1`: `base * 2^(attempts-1)`, ±20 % jitter, at most 1 h.
#[must_use]
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let raw = base.saturating_mul(2u32.saturating_pow(exponent));
    let capped = raw.min(Duration::from_secs(3600));
    let jitter = rand::random_range(0.8..1.2);
    capped.mul_f64(jitter)
}

/// An update that releases the claim (no lock holder, no lease) and stamps `updated_at`.
fn unlocked(now: chrono::DateTime<Utc>) -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(job::Column::LockedBy, Option::<String>::None.into())
        .col_expr(
            job::Column::LockedUntil,
            Option::<chrono::DateTime<Utc>>::None.into(),
        )
        .col_expr(job::Column::UpdatedAt, now.into())
}

/// Release a claim without spending its attempt (shutdown): back to the queue, or cancelled if
/// a cancellation arrived meanwhile.
async fn hand_back(db: &DatabaseConnection, id: Uuid, lock: &str) -> Result<(), DbErr> {
    let now = Utc::now();
    let cancelled = unlocked(now)
        .col_expr(job::Column::Status, JobStatus::Cancelled.as_str().into())
        .col_expr(job::Column::FinishedAt, now.into())
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(lock))
        .filter(job::Column::CancelRequested.eq(true));
    let cancelled = transition(
        db,
        id,
        cancelled,
        "warn",
        "cancelled while the server shut down",
    )
    .await?;
    if cancelled {
        return Ok(());
    }
    let requeued = unlocked(now)
        .col_expr(job::Column::Status, JobStatus::Queued.as_str().into())
        .col_expr(
            job::Column::Attempts,
            sea_orm::ExprTrait::sub(sea_orm::sea_query::Expr::col(job::Column::Attempts), 1),
        )
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(lock));
    transition(
        db,
        id,
        requeued,
        "warn",
        "handed back to the queue at shutdown",
    )
    .await?;
    Ok(())
}

/// Apply `update` (a change of job `id`'s state) and, if it took, write its log line in the same
/// transaction: a reader never sees the new status without the line that tells it.
async fn transition(
    db: &DatabaseConnection,
    id: Uuid,
    update: sea_orm::UpdateMany<job::Entity>,
    level: &str,
    message: impl Into<String>,
) -> Result<bool, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let applied = update.exec(&txn).await?.rows_affected == 1;
    if applied {
        log(&txn, id, level, message).await?;
    }
    txn.commit().await?;
    Ok(applied)
}

fn lease_until(lease: Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60))
}

/// Atomically take the next due job of one of `kinds`: a queued job whose time has come, or a
/// running one whose worker stopped renewing its lease. On PostgreSQL the inner select skips rows
/// other workers hold (`FOR UPDATE SKIP LOCKED`); on SQLite the statement runs under the
/// database write lock, so it is atomic with respect to every other writer.
async fn claim(
    db: &DatabaseConnection,
    lock: &str,
    kinds: &[String],
    lease: Duration,
) -> Result<Option<job::Model>, DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let mut values: Vec<SqlValue> = Vec::new();
    // Placeholders are numbered in the order they appear in the text (SQLite's `?` needs that).
    let mut bind = |value: SqlValue| {
        values.push(value);
        placeholder(backend, values.len())
    };
    let set = format!(
        "status = {}, locked_by = {}, locked_until = {}, attempts = attempts + 1, \
         started_at = COALESCE(started_at, {}), updated_at = {}",
        bind(JobStatus::Running.as_str().into()),
        bind(lock.into()),
        bind(lease_until(lease).into()),
        bind(now.into()),
        bind(now.into()),
    );
    let due = format!(
        "((status = {} AND run_at <= {}) \
          OR (status = {} AND locked_until < {} AND attempts < max_attempts)) \
         AND cancel_requested = {}",
        bind(JobStatus::Queued.as_str().into()),
        bind(now.into()),
        bind(JobStatus::Running.as_str().into()),
        bind(now.into()),
        bind(false.into()),
    );
    let kind_list = kinds
        .iter()
        .map(|kind| bind(kind.as_str().into()))
        .collect::<Vec<_>>()
        .join(", ");
    let lock_clause = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE jobs SET {set} WHERE id = (SELECT id FROM jobs WHERE {due} AND kind IN ({kind_list}) \
         ORDER BY priority DESC, run_at ASC, id ASC LIMIT 1{lock_clause}) RETURNING *"
    );
    job::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .one(db)
        .await
}

/// Finish what nobody will finish: running jobs whose lease expired and that were cancelled or
/// are out of attempts, and queued jobs that were cancelled.
async fn reap(db: &DatabaseConnection) -> Result<(), DbErr> {
    let now = Utc::now();
    let stale = job::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Running))
                        .add(job::Column::LockedUntil.lt(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Queued))
                        .add(job::Column::CancelRequested.eq(true)),
                ),
        )
        .all(db)
        .await?;
    for job in stale {
        let (status, error, message) = if job.cancel_requested {
            (
                JobStatus::Cancelled,
                None,
                "cancelled; its worker had stopped",
            )
        } else if job.attempts >= job.max_attempts {
            (
                JobStatus::Failed,
                Some("its worker stopped on the last attempt".to_owned()),
                "worker lost on the last attempt; job failed",
            )
        } else {
            continue;
        };
        let mut update = unlocked(now)
            .col_expr(job::Column::Status, status.as_str().into())
            .col_expr(job::Column::FinishedAt, now.into())
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::Status.eq(job.status));
        if let Some(error) = error {
            update = update.col_expr(job::Column::LastError, Some(error).into());
        }
        // Only if nobody renewed or changed it since we looked.
        update = match &job.locked_by {
            Some(lock) => update.filter(job::Column::LockedBy.eq(lock.as_str())),
            None => update.filter(job::Column::LockedBy.is_null()),
        };
        transition(db, job.id, update, "warn", message).await?;
    }
    Ok(())
}

/// Renew the lease; `Ok(Some(cancel_requested))`, or `Ok(None)` if the claim is no longer ours.
async fn heartbeat(
    db: &DatabaseConnection,
    id: Uuid,
    lock: &str,
    lease: Duration,
) -> Result<Option<bool>, DbErr> {
    let now = Utc::now();
    let result = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, lease_until(lease).into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(lock))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    Ok(job::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|j| j.cancel_requested))
}

enum Outcome {
    Succeeded(Option<Value>),
    Cancelled(Option<Value>),
    Retry(String),
    Failed(String),
}

async fn finish(
    db: &DatabaseConnection,
    job: &job::Model,
    lock: &str,
    outcome: Outcome,
    retry_base: Duration,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut update = unlocked(now);
    let (level, message) = match &outcome {
        Outcome::Succeeded(result) => {
            update = update
                .col_expr(job::Column::Status, JobStatus::Succeeded.as_str().into())
                .col_expr(job::Column::Progress, 100.into())
                .col_expr(job::Column::Result, result.clone().into())
                .col_expr(job::Column::FinishedAt, now.into());
            ("info", format!("succeeded on attempt {}", job.attempts))
        }
        Outcome::Cancelled(result) => {
            update = update
                .col_expr(job::Column::Status, JobStatus::Cancelled.as_str().into())
                .col_expr(job::Column::Result, result.clone().into())
                .col_expr(job::Column::FinishedAt, now.into());
            ("warn", "cancelled while running".to_owned())
        }
        Outcome::Retry(error) if job.attempts < job.max_attempts => {
            let delay = backoff(retry_base, job.attempts);
            let run_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
            update = update
                .col_expr(job::Column::Status, JobStatus::Queued.as_str().into())
                .col_expr(job::Column::RunAt, run_at.into())
                .col_expr(job::Column::LastError, Some(error.clone()).into());
            (
                "warn",
                format!(
                    "attempt {} of {} failed: {error}; retrying in {:.1}s",
                    job.attempts,
                    job.max_attempts,
                    delay.as_secs_f64()
                ),
            )
        }
        Outcome::Retry(error) | Outcome::Failed(error) => {
            update = update
                .col_expr(job::Column::Status, JobStatus::Failed.as_str().into())
                .col_expr(job::Column::LastError, Some(error.clone()).into())
                .col_expr(job::Column::FinishedAt, now.into());
            (
                "error",
                format!(
                    "failed on attempt {} of {}: {error}",
                    job.attempts, job.max_attempts
                ),
            )
        }
    };
    let update = update
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::LockedBy.eq(lock));
    if !transition(db, job.id, update, level, message).await? {
        tracing::warn!(job_id = %job.id, "job was taken over by another worker before it finished");
    }
    Ok(())
}

impl JobRunner {
    #[must_use]
    pub fn new(db: DatabaseConnection, registry: JobRegistry, config: RunnerConfig) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "presta".to_owned());
        Self {
            db,
            registry,
            config,
            worker_id: format!("{host}:{}:{}", std::process::id(), Uuid::now_v7()),
        }
    }

    /// Start `concurrency` worker loops on the current Tokio runtime.
    #[must_use]
    pub fn start(self) -> RunnerHandle {
        let (shutdown, watcher) = watch::channel(false);
        let kinds = Arc::new(self.registry.kinds());
        let registry = Arc::new(self.registry);
        let config = Arc::new(self.config);
        let held: Held = Arc::new(Mutex::new(HashSet::new()));
        let mut tasks = Vec::new();
        for (kind, every) in registry.recurring.clone() {
            tasks.push(tokio::spawn(schedule(
                self.db.clone(),
                kind,
                every,
                watcher.clone(),
            )));
        }
        if !kinds.is_empty() {
            for slot in 0..config.concurrency {
                let worker = Worker {
                    db: self.db.clone(),
                    registry: Arc::clone(&registry),
                    kinds: Arc::clone(&kinds),
                    config: Arc::clone(&config),
                    worker_id: self.worker_id.clone(),
                    shutdown: watcher.clone(),
                    held: Arc::clone(&held),
                    reaper: slot == 0,
                };
                tasks.push(tokio::spawn(worker.run()));
            }
        }
        tracing::info!(
            worker_id = %self.worker_id,
            concurrency = config.concurrency,
            kinds = ?kinds,
            "job runner started"
        );
        RunnerHandle {
            shutdown,
            tasks,
            db: self.db,
            worker_id: self.worker_id,
            grace: config.shutdown_grace,
            held,
        }
    }
}

/// The unique key of a recurring kind's pending run.
#[must_use]
pub fn recurring_key(kind: &str) -> String {
    format!("recurring:{kind}")
}

/// Keep one run of a recurring `kind` queued: at start, then every `every`.
async fn schedule(
    db: DatabaseConnection,
    kind: String,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
        }
        let new = super::NewJob::new(kind.clone(), Value::Object(serde_json::Map::new()))
            .max_attempts(1)
            .unique_key(recurring_key(&kind));
        if let Err(err) = super::enqueue_unique(&db, new).await {
            tracing::warn!(kind = %kind, error = %err, "could not schedule a recurring job");
        }
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Removes a claim from the held set when dropped (however `execute` ends).
struct Holding<'a> {
    held: &'a Held,
    claim: (Uuid, String),
    released: bool,
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        // An aborted execution keeps its entry, so a shutdown still hands the job back.
        if self.released
            && let Ok(mut held) = self.held.lock()
        {
            held.remove(&self.claim);
        }
    }
}

struct Worker {
    db: DatabaseConnection,
    registry: Arc<JobRegistry>,
    kinds: Arc<Vec<String>>,
    config: Arc<RunnerConfig>,
    worker_id: String,
    shutdown: watch::Receiver<bool>,
    held: Held,
    /// One loop per process also finishes jobs nobody else will (see [`reap`]).
    reaper: bool,
}

impl Worker {
    fn stopping(&self) -> bool {
        // A dropped handle (closed channel) means stop too.
        *self.shutdown.borrow() || self.shutdown.has_changed().is_err()
    }

    async fn run(mut self) {
        loop {
            if self.stopping() {
                break;
            }
            if self.reaper
                && let Err(err) = reap(&self.db).await
            {
                tracing::warn!(error = %err, "job reaper failed");
            }
            let lock = format!("{}#{}", self.worker_id, Uuid::now_v7());
            match claim(&self.db, &lock, &self.kinds, self.config.lease).await {
                Ok(Some(job)) => {
                    // A claim that raced the shutdown signal goes straight back, unspent: the
                    // stopping server would only interrupt it (and another worker may just
                    // have handed this very job back).
                    if self.stopping() {
                        if let Err(err) = hand_back(&self.db, job.id, &lock).await {
                            tracing::warn!(job_id = %job.id, error = %err, "could not requeue a job at shutdown");
                        }
                        break;
                    }
                    self.execute(job, lock).await;
                    continue;
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "could not claim a job"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.poll_interval) => {}
                changed = self.shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }

    async fn execute(&self, job: job::Model, lock: String) {
        let Some(handler) = self.registry.handlers.get(&job.kind).cloned() else {
            return;
        };
        if let Ok(mut held) = self.held.lock() {
            held.insert((job.id, lock.clone()));
        }
        let mut holding = Holding {
            held: &self.held,
            claim: (job.id, lock.clone()),
            released: false,
        };
        let span =
            tracing::info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempts);
        let cancelled = Arc::new(AtomicBool::new(job.cancel_requested));
        let lost = Arc::new(AtomicBool::new(false));
        let ctx = JobContext {
            id: job.id,
            kind: job.kind.clone(),
            payload: job.payload.clone(),
            attempt: job.attempts,
            max_attempts: job.max_attempts,
            db: self.db.clone(),
            lock: lock.clone(),
            cancelled: Arc::clone(&cancelled),
            observed_stop: AtomicBool::new(false),
        };
        if let Err(err) = log(
            &self.db,
            job.id,
            "info",
            format!(
                "started attempt {} of {} on {}",
                job.attempts, job.max_attempts, self.worker_id
            ),
        )
        .await
        {
            tracing::warn!(error = %err, "could not write the job log");
        }

        // Renew the lease (and watch for cancellation) while the handler runs. The guard stops
        // the heartbeat whenever this future ends, including when the worker is aborted.
        let beat = AbortOnDrop({
            let db = self.db.clone();
            let lock = lock.clone();
            let lease = self.config.lease;
            let cancelled = Arc::clone(&cancelled);
            let lost = Arc::clone(&lost);
            let mut shutdown = self.shutdown.clone();
            let id = job.id;
            let every = (lease / 3)
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(20));
            tokio::spawn(async move {
                let mut stop_seen = false;
                loop {
                    if stop_seen {
                        tokio::time::sleep(every).await;
                    } else {
                        tokio::select! {
                            () = tokio::time::sleep(every) => {}
                            _ = shutdown.changed() => {
                                // Ask the handler to stop; the runner hands the job back.
                                stop_seen = true;
                                cancelled.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    match heartbeat(&db, id, &lock, lease).await {
                        Ok(Some(cancel)) => {
                            if cancel {
                                cancelled.store(true, Ordering::Relaxed);
                            }
                        }
                        Ok(None) => {
                            lost.store(true, Ordering::Relaxed);
                            cancelled.store(true, Ordering::Relaxed);
                            break;
                        }
                        Err(err) => tracing::warn!(error = %err, "job heartbeat failed"),
                    }
                }
            })
        });

        let result = AssertUnwindSafe(handler.run(&ctx).instrument(span))
            .catch_unwind()
            .await;
        drop(beat);

        if lost.load(Ordering::Relaxed) {
            tracing::warn!(job_id = %job.id, "lease lost while running; the result is dropped");
            holding.released = true;
            return;
        }
        let cancel_requested = match job::Entity::find_by_id(job.id).one(&self.db).await {
            Ok(row) => row.is_some_and(|j| j.cancel_requested),
            Err(err) => {
                tracing::warn!(error = %err, "could not read the job back");
                false
            }
        };
        let stopped_for_shutdown = self.stopping()
            && !cancel_requested
            && (ctx.observed_stop.load(Ordering::Relaxed)
                || matches!(result, Ok(Err(JobError::Cancelled))));
        if stopped_for_shutdown {
            // Stopped for a shutdown, not by a user: hand it back for the next worker.
            if let Err(err) = hand_back(&self.db, job.id, &lock).await {
                tracing::warn!(error = %err, "could not requeue a job at shutdown");
            }
            holding.released = true;
            return;
        }
        let outcome = match result {
            // A cancelled job ends cancelled whatever the handler answered.
            Ok(Ok(value)) if cancel_requested => Outcome::Cancelled(value),
            _ if cancel_requested => Outcome::Cancelled(None),
            Ok(Ok(value)) => Outcome::Succeeded(value),
            Ok(Err(JobError::Cancelled)) => Outcome::Cancelled(None),
            Ok(Err(JobError::Retryable(e))) => Outcome::Retry(e),
            Ok(Err(JobError::Permanent(e))) => Outcome::Failed(e),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(job_id = %job.id, panic = %message, "job handler panicked");
                Outcome::Retry("the handler crashed".to_owned())
            }
        };
        match finish(&self.db, &job, &lock, outcome, self.config.retry_base).await {
            Ok(()) => holding.released = true,
            Err(err) => {
                // Keep the claim listed: a shutdown will hand it back; otherwise its lease expires.
                tracing::error!(job_id = %job.id, error = %err, "could not record a job's outcome");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(1);
        let first = backoff(base, 1);
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200));
        let third = backoff(base, 3);
        assert!(third >= Duration::from_millis(3200) && third <= Duration::from_millis(4800));
        assert!(backoff(base, 40) <= Duration::from_secs(4320));
    }
}
