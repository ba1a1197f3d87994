//! The SLA watch: a recurring job that finds tickets whose SLA reached `warning` or `breach`
//! since it was last announced. A warning is written in the history, sent to the live feed and
//! mailed to the person in charge; a breach also raises the escalation level and is mailed to
//! every superadmin. Each ticket is handled in its own transaction and announced once per level
//! (a conditional update makes concurrent scans harmless).

use std::sync::Arc;

use entity::ticket::{self, TicketStatus};
use entity::{Role, company, user};
use sea_orm::sea_query::{Cond, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::audit::{self, Actor, AuditEntry};
use shared::jobs::{JobContext, JobError, JobHandler};
use shared::mailer::{self, Email};

use crate::TicketsState;
use crate::events::{self, event};
use crate::filters::{self, t, tcol};
use crate::history::{self, Author, Entry};
use crate::scope::Scope;
use crate::sla::SlaLevel;
use crate::tickets::TicketKey;
use crate::tickets::service::{self as tickets, Edit};

pub const SLA_SCAN_JOB: &str = "tickets.sla_scan";
/// Tickets looked at per query.
const BATCH: u64 = 200;
/// The highest escalation level.
const MAX_ESCALATION: i32 = 5;

pub struct SlaScanJob {
    pub state: Arc<TicketsState>,
}

#[async_trait::async_trait]
impl JobHandler for SlaScanJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        let report = scan(ctx.db(), &self.state).await?;
        if report.warnings + report.breaches > 0 {
            ctx.log(
                "info",
                format!(
                    "{} warning(s), {} breach(es) announced",
                    report.warnings, report.breaches
                ),
            )
            .await?;
        }
        Ok(Some(json!({
            "warnings": report.warnings,
            "breaches": report.breaches,
        })))
    }
}

/// What a scan announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub warnings: usize,
    pub breaches: usize,
}

/// Look for tickets to announce and announce them.
///
/// # Errors
/// Database errors.
pub async fn scan(db: &DatabaseConnection, state: &TicketsState) -> Result<ScanReport, JobError> {
    let mut report = ScanReport::default();
    let mut seen = std::collections::HashSet::new();
    loop {
        let now = state.clock.now();
        let level = filters::sla_level_expr(now);
        let notified = || tcol(ticket::Column::SlaNotifiedLevel);
        let mut select = filters::tickets_only();
        select
            .column((t(), ticket::Column::Id))
            .and_where(tcol(ticket::Column::Status).is_in([
                TicketStatus::Nouveau.as_str(),
                TicketStatus::EnCours.as_str(),
                TicketStatus::EnAttente.as_str(),
            ]))
            .cond_where(
                Cond::any()
                    .add(
                        level
                            .clone()
                            .eq(SlaLevel::Breach.as_str())
                            .and(notified().lt(SlaLevel::Breach.number())),
                    )
                    .add(
                        level
                            .eq(SlaLevel::Warning.as_str())
                            .and(notified().lt(SlaLevel::Warning.number())),
                    ),
            )
            .limit(BATCH);
        let ids: Vec<uuid::Uuid> = db
            .query_all(&select)
            .await?
            .iter()
            .filter_map(|row| row.try_get_by_index::<uuid::Uuid>(0).ok())
            .filter(|id| seen.insert(*id))
            .collect();
        if ids.is_empty() {
            break;
        }
        for id in ids {
            match announce(db, state, id).await {
                Ok(Some(SlaLevel::Breach)) => report.breaches += 1,
                Ok(Some(_)) => report.warnings += 1,
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(ticket_id = %id, error = %err, "SLA announcement failed");
                }
            }
        }
    }
    Ok(report)
}

/// Announce one ticket's SLA level if it is above what was announced (own transaction).
async fn announce(
    db: &DatabaseConnection,
    state: &TicketsState,
    id: uuid::Uuid,
) -> Result<Option<SlaLevel>, shared::AppError> {
    let now = state.clock.now();
    let txn = shared::db::begin_write(db).await?;
    let ticket = tickets::find(&txn, Scope::Staff, &TicketKey::Id(id)).await?;
    if ticket.status.is_done() {
        return Ok(None);
    }
    let timeline = history::timeline(&txn, &ticket).await?;
    let level = state.sla.read(&timeline, ticket.priority, now).level();
    if level.number() <= ticket.sla_notified_level {
        return Ok(None);
    }
    // Claim the announcement: only one scan moves the level up.
    let claimed = ticket::Entity::update_many()
        .col_expr(ticket::Column::SlaNotifiedLevel, Expr::val(level.number()))
        .filter(ticket::Column::Id.eq(id))
        .filter(ticket::Column::SlaNotifiedLevel.lt(level.number()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let mut ticket = ticket;
    ticket.sla_notified_level = level.number();
    let client = company::Entity::find_by_id(ticket.client_id)
        .one(&txn)
        .await?;
    let mut edit = Edit::new(ticket, Author::system(), now);
    let (kind, what) = match level {
        SlaLevel::Breach => ("sla_breach", "SLA dépassé"),
        _ => ("sla_warning", "SLA bientôt dépassé"),
    };
    edit.note(Entry::new(
        kind,
        format!(
            "{what} (échéance {} UTC)",
            edit.ticket.date_limite.format("%d/%m/%Y %H:%M")
        ),
    ));
    if level == SlaLevel::Breach && edit.ticket.escalation_level < MAX_ESCALATION {
        let next = edit.ticket.escalation_level + 1;
        edit.escalate(next, " (SLA dépassé)")?;
    }

    // Who hears about it: the person in charge, and every superadmin for a breach.
    let mut recipients: Vec<user::Model> = Vec::new();
    if let Some(responsable) = edit.ticket.responsable_id
        && let Some(account) = user::Entity::find_by_id(responsable)
            .filter(user::Column::IsActive.eq(true))
            .one(&txn)
            .await?
    {
        recipients.push(account);
    }
    if level == SlaLevel::Breach {
        for admin in user::Entity::find()
            .filter(user::Column::Role.eq(Role::Superadmin))
            .filter(user::Column::IsActive.eq(true))
            .all(&txn)
            .await?
        {
            if !recipients.iter().any(|r| r.id == admin.id) {
                recipients.push(admin);
            }
        }
    }
    let client_name = client.map(|c| c.name).unwrap_or_default();
    for recipient in &recipients {
        mailer::queue(
            &txn,
            Email {
                to: recipient.email.clone(),
                subject: format!(
                    "[Presta] {what} : {} — {}",
                    edit.ticket.numero, edit.ticket.titre
                ),
                body: format!(
                    "Bonjour {},\n\nLe ticket {} « {} » ({client_name}, priorité {}) : {}.\n\
                     Échéance de résolution : {} UTC.\nNiveau d'escalade : {}.\n\n\
                     {}/tickets-client/{}\n",
                    recipient.full_name,
                    edit.ticket.numero,
                    edit.ticket.titre,
                    edit.ticket.priority,
                    what.to_lowercase(),
                    edit.ticket.date_limite.format("%d/%m/%Y %H:%M"),
                    edit.ticket.escalation_level,
                    state.public_url,
                    edit.ticket.numero,
                ),
                template: if level == SlaLevel::Breach {
                    "ticket_sla_breach"
                } else {
                    "ticket_sla_warning"
                },
                user_id: Some(recipient.id),
            },
        )
        .await?;
    }
    let company_id = edit.ticket.client_id;
    let (saved, updated) = edit.save(&txn, state).await?;
    audit::record(
        &txn,
        &Actor::system(),
        AuditEntry::new(kind, "ticket")
            .entity_id(saved.id)
            .after(&json!({
                "numero": saved.numero,
                "level": level,
                "escalation_level": saved.escalation_level,
                "date_limite": shared::envelope::format_utc(&saved.date_limite),
                "notified": recipients.iter().map(|r| r.id).collect::<Vec<_>>(),
            })),
    )
    .await?;
    txn.commit().await?;
    let mut published = vec![event(
        kind,
        company_id,
        false,
        json!({
            "ticket_id": saved.id,
            "numero": saved.numero,
            "level": level,
            "escalation_level": saved.escalation_level,
            "date_limite": shared::envelope::format_utc(&saved.date_limite),
        }),
    )];
    published.extend(updated);
    events::publish(&state.bus, published).await;
    Ok(Some(level))
}
