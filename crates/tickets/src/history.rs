//! The `historique` of a ticket: one row per change, with its author. Status rows also drive the
//! SLA clock ([`timeline`]).

use chrono::{DateTime, Utc};
use entity::ticket::TicketStatus;
use entity::{ticket_history, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use serde::Serialize;
use shared::envelope::serialize_utc;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::scope::Scope;
use crate::sla::Timeline;

/// Author name of changes the server makes by itself (SLA escalation).
pub const SYSTEM_AUTHOR: &str = "Système";

pub const STATUS_CHANGE: &str = "status_change";

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Author {
    pub id: Option<Uuid>,
    pub name: String,
}

impl Author {
    #[must_use]
    pub fn system() -> Self {
        Self {
            id: None,
            name: SYSTEM_AUTHOR.to_owned(),
        }
    }

    /// A user, by id (their current full name).
    ///
    /// # Errors
    /// Database errors.
    pub async fn user(db: &impl ConnectionTrait, id: Uuid) -> Result<Self, DbErr> {
        let name = user::Entity::find_by_id(id)
            .one(db)
            .await?
            .map_or_else(|| "Utilisateur supprimé".to_owned(), |u| u.full_name);
        Ok(Self { id: Some(id), name })
    }
}

/// One history row to write.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: &'static str,
    pub description: String,
    pub field: Option<&'static str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub interne: bool,
}

impl Entry {
    pub fn new(action: &'static str, description: impl Into<String>) -> Self {
        Self {
            action,
            description: description.into(),
            field: None,
            old_value: None,
            new_value: None,
            interne: false,
        }
    }

    /// A field going from `old` to `new`.
    #[must_use]
    pub fn change(
        mut self,
        field: &'static str,
        old: Option<impl ToString>,
        new: Option<impl ToString>,
    ) -> Self {
        self.field = Some(field);
        self.old_value = old.map(|v| v.to_string());
        self.new_value = new.map(|v| v.to_string());
        self
    }

    #[must_use]
    pub fn internal(mut self, interne: bool) -> Self {
        self.interne = interne;
        self
    }
}

/// Append `entry` to `ticket_id`'s history; the row written.
///
/// # Errors
/// Database errors.
pub async fn record(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
    author: &Author,
    at: DateTime<Utc>,
    entry: Entry,
) -> Result<ticket_history::Model, DbErr> {
    row(ticket_id, author, at, entry)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
}

/// The history row [`record`] writes (for writers that insert several at once).
#[must_use]
pub fn row(
    ticket_id: Uuid,
    author: &Author,
    at: DateTime<Utc>,
    entry: Entry,
) -> ticket_history::Model {
    ticket_history::Model {
        id: Uuid::now_v7(),
        ticket_id,
        action: entry.action.to_owned(),
        description: entry.description,
        auteur: author.name.clone(),
        author_id: author.id,
        field: entry.field.map(str::to_owned),
        old_value: entry.old_value,
        new_value: entry.new_value,
        interne: entry.interne,
        created_at: at,
    }
}

/// A history row as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryView {
    pub id: Uuid,
    #[schema(example = "status_change")]
    pub action: String,
    #[schema(example = "Statut changé de 'nouveau' à 'en_cours'")]
    pub description: String,
    #[schema(example = "Jean Dupont")]
    pub auteur: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date: DateTime<Utc>,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

impl From<ticket_history::Model> for HistoryView {
    fn from(row: ticket_history::Model) -> Self {
        Self {
            id: row.id,
            action: row.action,
            description: row.description,
            auteur: row.auteur,
            date: row.created_at,
            field: row.field,
            old_value: row.old_value,
            new_value: row.new_value,
        }
    }
}

/// From a ticket's whole history (as [`crate::tickets::contents`] reads it): its status
/// timeline, and the rows `scope` may see.
#[must_use]
pub fn split(
    scope: Scope,
    ticket: &entity::ticket::Model,
    rows: Vec<ticket_history::Model>,
) -> (Timeline, Vec<HistoryView>) {
    let timeline = timeline_of(ticket, &rows);
    let visible = rows
        .into_iter()
        .filter(|row| scope.is_staff() || !row.interne)
        .map(HistoryView::from)
        .collect();
    (timeline, visible)
}

/// The ticket's status timeline, read from its history.
///
/// # Errors
/// Database errors.
pub async fn timeline(
    db: &impl ConnectionTrait,
    ticket: &entity::ticket::Model,
) -> Result<Timeline, DbErr> {
    let rows = ticket_history::Entity::find()
        .filter(ticket_history::Column::TicketId.eq(ticket.id))
        .filter(ticket_history::Column::Action.eq(STATUS_CHANGE))
        .order_by_asc(ticket_history::Column::CreatedAt)
        .order_by_asc(ticket_history::Column::Id)
        .all(db)
        .await?;
    Ok(timeline_of(ticket, &rows))
}

/// The status timeline in `rows` (the ticket's history, oldest first; other actions ignored).
fn timeline_of(ticket: &entity::ticket::Model, rows: &[ticket_history::Model]) -> Timeline {
    let transitions = rows
        .iter()
        .filter(|row| row.action == STATUS_CHANGE)
        .filter_map(|row| {
            let status = TicketStatus::ALL
                .iter()
                .copied()
                .find(|s| Some(s.as_str()) == row.new_value.as_deref())?;
            Some((row.created_at, status))
        })
        .collect();
    Timeline {
        created_at: ticket.date_creation,
        transitions,
        first_response_at: ticket.first_response_at,
    }
}
