//! The audit writer (conventions §9).
//!
//! Services call [`record`] with the same connection they write with — usually the transaction —
//! so the audit row exists exactly when the change does.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use entity::audit_log;

use crate::request::RequestContext;

/// Who acted and from where: built once per request and handed to services.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// An authenticated (or not) caller of the current request.
    #[must_use]
    pub fn from_request(ctx: &RequestContext, user_id: Option<Uuid>) -> Self {
        Self {
            user_id,
            ip: ctx.ip_string(),
            request_id: Some(ctx.request_id.clone()),
        }
    }

    /// The server itself (jobs, start-up tasks).
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }
}

/// One audited change.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    pub fn new(action: impl Into<String>, entity: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            entity: entity.into(),
            entity_id: None,
            before: None,
            after: None,
        }
    }

    #[must_use]
    pub fn entity_id(mut self, id: impl ToString) -> Self {
        self.entity_id = Some(id.to_string());
        self
    }

    /// State before the change (anything serialisable; `Null` when it cannot be).
    #[must_use]
    pub fn before(mut self, before: &impl Serialize) -> Self {
        self.before = Some(serde_json::to_value(before).unwrap_or(Value::Null));
        self
    }

    #[must_use]
    pub fn after(mut self, after: &impl Serialize) -> Self {
        self.after = Some(serde_json::to_value(after).unwrap_or(Value::Null));
        self
    }
}

/// Append an audit row on `db` (pass the transaction that holds the change).
///
/// # Errors
/// The insert failed; the caller's transaction should then roll back.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    entry: AuditEntry,
) -> Result<audit_log::Model, DbErr> {
    row(actor, entry).insert(db).await
}

/// Append several audit rows in one statement (nothing when `entries` is empty).
///
/// # Errors
/// The insert failed; the caller's transaction should then roll back.
pub async fn record_many<'a>(
    db: &impl ConnectionTrait,
    entries: impl IntoIterator<Item = (&'a Actor, AuditEntry)>,
) -> Result<(), DbErr> {
    let rows: Vec<_> = entries
        .into_iter()
        .map(|(actor, entry)| row(actor, entry))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    audit_log::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn row(actor: &Actor, entry: AuditEntry) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(actor.user_id),
        action: Set(entry.action),
        entity: Set(entry.entity),
        entity_id: Set(entry.entity_id),
        before: Set(entry.before),
        after: Set(entry.after),
        ip: Set(actor.ip.clone()),
        request_id: Set(actor.request_id.clone()),
        timestamp: Set(Utc::now()),
    }
}
