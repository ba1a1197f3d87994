//! Ticket creation as a group commit. Every new ticket takes the next number of its year, so
//! creations are serialized by the counter row (PostgreSQL) or by the single writer (SQLite),
//! and each one used to pay a whole transaction: its statements' round trips and a disk flush
//! at commit. Here the creations that arrive while a batch is being written wait for the next
//! batch, which writes them all in one transaction: one counter step per year, one insert of
//! the tickets, one of their history rows, one of their audit rows, one commit. Under load the
//! batches grow by themselves; alone, a creation is a batch of one and waits for nothing.
//!
//! A ticket is answered only once its batch is committed, so nothing answered 201 can be lost.
//! Should a batch fail (a client deleted since it was checked, say), its tickets are written
//! again one by one, so only the faulty one fails.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use entity::{ticket, ticket_history};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel};
use shared::AppError;
use shared::audit::{self, Actor, AuditEntry};
use shared::db::YearCounter;
use tokio::sync::{mpsc, oneshot};

use crate::history::{self, Author, Entry};

/// Most tickets written by one transaction (their rows stay far below SQLite's 32,766 bound
/// parameters per statement).
const MAX_BATCH: usize = 64;

/// A checked ticket waiting for its number: everything but `sequence` and `numero` is final.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub ticket: ticket::Model,
    pub author: Author,
    pub actor: Actor,
    /// The audit row's view of the ticket (made once the number is known).
    pub audit: fn(&ticket::Model) -> AuditEntry,
}

/// What was written for one ticket.
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket: ticket::Model,
    pub history: ticket_history::Model,
}

struct Job {
    db: DatabaseConnection,
    new: NewTicket,
    reply: oneshot::Sender<Result<Created, AppError>>,
}

/// The queue of creations and the task that writes them, started on first use (clones share
/// them).
#[derive(Default, Clone)]
pub struct Creations {
    queue: Arc<Mutex<Option<mpsc::UnboundedSender<Job>>>>,
}

impl std::fmt::Debug for Creations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creations").finish_non_exhaustive()
    }
}

impl Creations {
    /// Write `new` with the next batch; its number and rows once committed.
    ///
    /// # Errors
    /// As the writes of a ticket alone (422 for a reference that vanished, 503 when the
    /// database is unavailable).
    pub async fn create(
        &self,
        db: &DatabaseConnection,
        new: NewTicket,
    ) -> Result<Created, AppError> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job {
            db: db.clone(),
            new,
            reply,
        };
        // A writer whose runtime has gone (a stopped server in the same process) is replaced.
        for _ in 0..2 {
            let sender = self.sender();
            match sender.send(job) {
                Ok(()) => {
                    return answer.await.map_err(|_| {
                        AppError::Unavailable("The ticket writer stopped".to_owned())
                    })?;
                }
                Err(mpsc::error::SendError(returned)) => {
                    job = returned;
                    self.forget(&sender);
                }
            }
        }
        Err(AppError::Unavailable(
            "The ticket writer cannot start".to_owned(),
        ))
    }

    fn sender(&self) -> mpsc::UnboundedSender<Job> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = queue.as_ref().filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(receiver));
        *queue = Some(sender.clone());
        sender
    }

    fn forget(&self, dead: &mpsc::UnboundedSender<Job>) {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if queue.as_ref().is_some_and(|s| s.same_channel(dead)) {
            *queue = None;
        }
    }
}

/// The writer: take what is queued (at most [`MAX_BATCH`]), write it, answer, again.
async fn write_batches(mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let db = first.db.clone();
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let news: Vec<NewTicket> = jobs.iter().map(|j| j.new.clone()).collect();
        match write(&db, news).await {
            Ok(created) => {
                for (job, created) in jobs.into_iter().zip(created) {
                    job.reply.send(Ok(created)).ok();
                }
            }
            Err(err) if jobs.len() == 1 => {
                if let Some(job) = jobs.pop() {
                    job.reply.send(Err(err)).ok();
                }
            }
            Err(_) => {
                // One of them is at fault: each alone, so only that one fails.
                for job in jobs {
                    let one = write(&db, vec![job.new])
                        .await
                        .and_then(|mut created| created.pop().ok_or_else(not_written));
                    job.reply.send(one).ok();
                }
            }
        }
    }
}

fn not_written() -> AppError {
    AppError::internal(sea_orm::DbErr::RecordNotInserted)
}

/// Write `news` in one transaction: numbers, tickets, history rows, audit rows.
async fn write(
    db: &DatabaseConnection,
    mut news: Vec<NewTicket>,
) -> Result<Vec<Created>, AppError> {
    let txn = shared::db::begin_write(db).await?;
    let mut years: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, new) in news.iter().enumerate() {
        years.entry(new.ticket.annee).or_default().push(i);
    }
    for (year, members) in years {
        let n = i32::try_from(members.len()).unwrap_or(i32::MAX);
        let last = shared::db::next_n_in_year(&txn, YearCounter::Tickets, year, n).await?;
        for (sequence, i) in (last - n + 1..).zip(members) {
            let ticket = &mut news[i].ticket;
            ticket.sequence = sequence;
            ticket.numero = format!("TC-{year}-{sequence:03}");
        }
    }
    let created: Vec<Created> = news
        .iter()
        .map(|new| Created {
            history: history::row(
                new.ticket.id,
                &new.author,
                new.ticket.date_creation,
                Entry::new("created", format!("Ticket {} créé", new.ticket.numero)),
            ),
            ticket: new.ticket.clone(),
        })
        .collect();
    ticket::Entity::insert_many(
        created
            .iter()
            .map(|c| c.ticket.clone().into_active_model().reset_all()),
    )
    .exec_without_returning(&txn)
    .await?;
    ticket_history::Entity::insert_many(
        created
            .iter()
            .map(|c| c.history.clone().into_active_model().reset_all()),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::record_many(
        &txn,
        news.iter()
            .zip(&created)
            .map(|(new, c)| (&new.actor, (new.audit)(&c.ticket))),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}
