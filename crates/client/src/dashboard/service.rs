//! The dashboard: figures across the portal, and the company's recent activity merged from
//! project events, documents, invoices, payments and tickets.

use chrono::{DateTime, Utc};
use entity::payment::PaymentStatus;
use entity::{document, invoice, notification, payment, project_event};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use shared::pagination::PageParams;
use shared::{AppError, PageMeta, Paginated};
use uuid::Uuid;

use super::{
    Activity, DashboardStats, DocumentFigures, InvoiceFigures, ProjectFigures, TicketFigures,
};
use crate::caller::ClientUser;
use crate::invoices::service as invoices;
use crate::{ClientState, documents, finance, projects};

/// Figures across the portal for the caller.
///
/// # Errors
/// Database errors.
pub async fn stats(
    db: &impl ConnectionTrait,
    state: &ClientState,
    caller: &ClientUser,
) -> Result<DashboardStats, AppError> {
    let p = projects::service::stats(db, caller.company_id, state.today(), &state.currency).await?;
    let (documents, size) = documents::service::totals(db, caller.company_id).await?;
    let balance = finance::service::balance(db, state, caller.company_id).await?;
    let (tickets_total, tickets_open) =
        tickets::tickets::service::company_counts(db, caller.company_id).await?;
    let unread = notification::Entity::find()
        .filter(notification::Column::UserId.eq(caller.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let completed = p
        .by_status
        .iter()
        .find(|s| s.status == "completed")
        .map_or(0, |s| s.count);
    Ok(DashboardStats {
        projects: ProjectFigures {
            total: p.total,
            active: p.active,
            completed,
            overdue: p.overdue,
            average_progress: p.average_progress,
        },
        documents: DocumentFigures {
            total: documents,
            size_bytes: size,
        },
        invoices: InvoiceFigures {
            open: balance.open_invoices,
            overdue: balance.overdue_invoices,
            outstanding_cents: balance.outstanding_cents,
            overdue_cents: balance.overdue_cents,
            currency: balance.currency,
        },
        tickets: TicketFigures {
            total: tickets_total,
            open: tickets_open,
        },
        unread_notifications: unread,
    })
}

/// An activity and the id of the row it comes from (unique across sources: UUIDv7), which
/// orders rows of the same instant.
fn item(
    row: Uuid,
    kind: &str,
    title: String,
    at: DateTime<Utc>,
    subject_type: &str,
    subject_id: Uuid,
    link: String,
) -> (Activity, Uuid) {
    (
        Activity {
            kind: kind.to_owned(),
            title,
            at,
            subject_type: subject_type.to_owned(),
            subject_id,
            link,
        },
        row,
    )
}

/// Invoices newest first (the order of `idx-invoices-company_id-created_at-id`).
fn newest_invoices(select: Select<invoice::Entity>) -> Select<invoice::Entity> {
    select
        .order_by_desc(invoice::Column::CreatedAt)
        .order_by_desc(invoice::Column::Id)
}

/// The company's payments the feed shows: all but the failed ones.
fn feed_payments(company_id: Uuid) -> Select<payment::Entity> {
    payment::Entity::find()
        .filter(payment::Column::CompanyId.eq(company_id))
        .filter(payment::Column::Status.ne(PaymentStatus::Failed))
}

/// Payments newest first, placed at their confirmation once confirmed as the feed places
/// them: the expression and order of `idx-payments-company_id-shown_at-id`, which serves only
/// statements that write the same expression.
fn newest_payments(select: Select<payment::Entity>) -> Select<payment::Entity> {
    select
        .order_by_desc(Func::coalesce([
            Expr::col(payment::Column::ConfirmedAt),
            Expr::col(payment::Column::CreatedAt),
        ]))
        .order_by_desc(payment::Column::Id)
}

/// A page of the company's recent activity, newest first. Each source gives its newest
/// `offset + limit` rows; merged and cut, the page is exact.
///
/// # Errors
/// Database errors.
pub async fn activity(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    page: PageParams,
) -> Result<Paginated<Activity>, AppError> {
    let want = page.offset() + page.limit;
    let mut items = Vec::new();
    let mut total = 0u64;

    let events =
        project_event::Entity::find().filter(project_event::Column::CompanyId.eq(company_id));
    total += events.clone().count(db).await?;
    for e in events
        .order_by_desc(project_event::Column::OccurredAt)
        .order_by_desc(project_event::Column::Id)
        .limit(want)
        .all(db)
        .await?
    {
        items.push(item(
            e.id,
            &format!("project_{}", e.kind),
            e.title,
            e.occurred_at,
            "project",
            e.project_id,
            format!("/api/client/projects/{}", e.project_id),
        ));
    }

    // Documents outside projects (uploads to a project are project events already).
    let docs = document::Entity::find()
        .filter(document::Column::CompanyId.eq(company_id))
        .filter(document::Column::ProjectId.is_null());
    total += docs.clone().count(db).await?;
    for d in docs
        .order_by_desc(document::Column::CreatedAt)
        .order_by_desc(document::Column::Id)
        .limit(want)
        .all(db)
        .await?
    {
        items.push(item(
            d.id,
            "document_added",
            format!("Document ajouté : {}", d.name),
            d.created_at,
            "document",
            d.id,
            format!("/api/client/documents/{}", d.id),
        ));
    }

    let invs = invoices::visible(company_id);
    total += invs.clone().count(db).await?;
    for i in newest_invoices(invs).limit(want).all(db).await? {
        items.push(item(
            i.id,
            "invoice_issued",
            format!("Facture {} émise", i.number),
            i.created_at,
            "invoice",
            i.id,
            format!("/api/client/invoices/{}", i.id),
        ));
    }

    let pays = feed_payments(company_id);
    total += pays.clone().count(db).await?;
    for p in newest_payments(pays).limit(want).all(db).await? {
        let (kind, title, at) = match (p.status, p.confirmed_at) {
            (PaymentStatus::Completed, Some(at)) => (
                "payment_confirmed",
                format!("Paiement {} confirmé", p.reference),
                at,
            ),
            _ => (
                "payment_announced",
                format!("Paiement {} annoncé", p.reference),
                p.created_at,
            ),
        };
        items.push(item(
            p.id,
            kind,
            title,
            at,
            "invoice",
            p.invoice_id,
            format!("/api/client/invoices/{}", p.invoice_id),
        ));
    }

    let (ticket_total, _) = tickets::tickets::service::company_counts(db, company_id).await?;
    total += ticket_total;
    for t in tickets::tickets::service::company_latest(db, company_id, want).await? {
        items.push(item(
            t.id,
            "ticket_created",
            format!("Ticket {} : {}", t.numero, t.titre),
            t.date_creation,
            "ticket",
            t.id,
            format!("/api/client/support/tickets?search={}", t.numero),
        ));
    }

    items.sort_by(|a, b| b.0.at.cmp(&a.0.at).then_with(|| b.1.cmp(&a.1)));
    let start = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let data = items
        .into_iter()
        .map(|(activity, _)| activity)
        .skip(start)
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .collect();
    Ok(Paginated::new(
        data,
        PageMeta::new(page.page, page.limit, total),
    ))
}

#[cfg(test)]
mod tests {
    use sea_orm::QueryTrait;

    use super::*;

    #[tokio::test]
    async fn the_feed_reads_the_newest_invoices_and_payments_from_their_indexes_in_order() {
        let app = test_support::spawn_app().await;
        let company = Uuid::now_v7();
        for (select, index) in [
            (
                newest_invoices(invoices::visible(company))
                    .limit(20)
                    .into_query(),
                "idx-invoices-company_id-created_at-id",
            ),
            (
                newest_payments(feed_payments(company))
                    .limit(20)
                    .into_query(),
                "idx-payments-company_id-shown_at-id",
            ),
        ] {
            let plan = test_support::query_plan(&app.db, &select).await;
            assert!(plan.contains(index), "{index} not in the plan:\n{plan}");
            // Read in the index's order: no sort of the rows.
            assert!(
                !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
                "sorted:\n{plan}"
            );
        }
    }
}
