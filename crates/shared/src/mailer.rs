//! E-mail: written to the `outbox_emails` table in the transaction that causes it, then delivered
//! by a background job — over SMTP (lettre) when `SMTP_URL` is set, otherwise kept in the outbox
//! and announced in the log (recipient and subject only: bodies carry tokens). A mail is thus
//! never lost to a crash or an SMTP outage; failures retry with the job queue's backoff.

use std::sync::Arc;

use chrono::Utc;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use entity::outbox_email;

use crate::config::Config;
use crate::jobs::{self, JobContext, JobError, JobHandler, NewJob};

/// Job kind that delivers one outbox row.
pub const SEND_JOB: &str = "mail.send";

/// A mail to send.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What kind of mail it is (`verify_email`, `reset_password`, ...).
    pub template: &'static str,
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SendPayload {
    outbox_id: Uuid,
}

/// Put a mail in the outbox and schedule its delivery. Pass the transaction of the change the
/// mail is about: no change, no mail; a change, a mail.
///
/// # Errors
/// Database errors.
pub async fn queue(db: &impl ConnectionTrait, email: Email) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    outbox_email::ActiveModel {
        id: Set(id),
        to_address: Set(email.to),
        subject: Set(email.subject),
        body_text: Set(email.body),
        template: Set(email.template.to_owned()),
        user_id: Set(email.user_id),
        status: Set(outbox_email::PENDING.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
    }
    .insert(db)
    .await?;
    let payload = serde_json::to_value(SendPayload { outbox_id: id }).unwrap_or(Value::Null);
    jobs::enqueue(db, NewJob::new(SEND_JOB, payload).max_attempts(8)).await?;
    Ok(id)
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is not a valid SMTP URL: {0}")]
    Url(String),
    #[error("MAIL_FROM is not a mailbox: {0}")]
    From(String),
}

/// Delivers outbox rows.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// SMTP when `SMTP_URL` is set (`smtp://user:pass@host:587?tls=required`, `smtps://...`),
    /// otherwise outbox-only.
    ///
    /// # Errors
    /// A malformed `SMTP_URL` or `MAIL_FROM`.
    pub fn from_config(config: &Config) -> Result<Self, MailError> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let transport = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .build(),
            ),
            None => None,
        };
        Ok(Self { transport, from })
    }

    #[must_use]
    pub fn uses_smtp(&self) -> bool {
        self.transport.is_some()
    }

    /// The job handler delivering this mailer's mail.
    #[must_use]
    pub fn job(self: &Arc<Self>) -> Arc<dyn JobHandler> {
        Arc::new(SendMail(Arc::clone(self)))
    }
}

struct SendMail(Arc<Mailer>);

async fn mark(
    db: &impl ConnectionTrait,
    row: outbox_email::Model,
    status: &str,
    error: Option<String>,
) -> Result<(), DbErr> {
    let sent = status == outbox_email::SENT || status == outbox_email::LOGGED;
    let attempts = row.attempts + 1;
    let mut active: outbox_email::ActiveModel = row.into();
    active.status = Set(status.to_owned());
    active.attempts = Set(attempts);
    active.last_error = Set(error);
    if sent {
        active.sent_at = Set(Some(Utc::now()));
    }
    active.update(db).await.map(|_| ())
}

#[async_trait::async_trait]
impl JobHandler for SendMail {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        let payload: SendPayload = ctx.payload()?;
        let Some(row) = outbox_email::Entity::find_by_id(payload.outbox_id)
            .one(ctx.db())
            .await?
        else {
            return Err(JobError::Permanent("the outbox row is gone".to_owned()));
        };
        if row.status == outbox_email::SENT || row.status == outbox_email::LOGGED {
            return Ok(None);
        }
        let Some(transport) = &self.0.transport else {
            tracing::info!(
                to = %row.to_address,
                subject = %row.subject,
                template = %row.template,
                "e-mail kept in the outbox (no SMTP_URL configured)"
            );
            mark(ctx.db(), row, outbox_email::LOGGED, None).await?;
            return Ok(None);
        };
        let to: Mailbox = match row.to_address.parse() {
            Ok(to) => to,
            Err(err) => {
                let message = format!("invalid recipient: {err}");
                mark(ctx.db(), row, outbox_email::FAILED, Some(message.clone())).await?;
                return Err(JobError::Permanent(message));
            }
        };
        let message = Message::builder()
            .from(self.0.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(row.body_text.clone())
            .map_err(|e| JobError::Permanent(format!("cannot build the message: {e}")))?;
        match transport.send(message).await {
            Ok(_) => {
                tracing::info!(to = %row.to_address, subject = %row.subject, "e-mail sent");
                let mut row = row;
                if row.body_text.contains("token=") {
                    // Delivered: a copy of a live single-use link has no business in a table
                    // that backups and staff can read.
                    row.body_text =
                        "(delivered; the body held a single-use link and was cleared)".to_owned();
                    let mut active: outbox_email::ActiveModel = row.clone().into();
                    active.body_text = Set(row.body_text.clone());
                    active.update(ctx.db()).await?;
                }
                mark(ctx.db(), row, outbox_email::SENT, None).await?;
                Ok(None)
            }
            Err(err) => {
                let message = format!("SMTP delivery failed: {err}");
                tracing::warn!(to = %row.to_address, error = %err, "e-mail delivery failed");
                let attempts_left = ctx.attempt < ctx.max_attempts;
                let status = if attempts_left {
                    outbox_email::PENDING
                } else {
                    outbox_email::FAILED
                };
                mark(ctx.db(), row, status, Some(message.clone())).await?;
                Err(JobError::Retryable(message))
            }
        }
    }
}
