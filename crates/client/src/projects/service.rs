//! Projects of a client company: listing, detail, comments, files, stats, the timeline of
//! recorded events and the status changes a client may ask for. Staff-side creation and
//! milestones are service functions here until the superadmin portal exposes them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::project::ProjectStatus;
use entity::{document, project, project_comment, project_event};
use sea_orm::sea_query::{Expr, ExprTrait, Func, NullOrdering};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::json;
use shared::audit::{self, Actor, AuditEntry};
use shared::db::{InlineReads, count_of, sum_bigint, when};
use shared::notifications::{Notice, notify_company};
use shared::pagination::{PageParams, Sort, fetch_models_page, fetch_page, page_and_total};
use shared::{AppError, Paginated};
use uuid::Uuid;

use super::{
    ChangeStatusRequest, CommentRequest, CommentView, ProjectDetail, ProjectFilters, ProjectSort,
    ProjectStats, ProjectView, StatusCount, TimelineEvent,
};
use crate::caller::ClientUser;
use crate::text;

/// One status's projects, counted and summed by the database.
#[derive(Debug, FromQueryResult)]
struct StatusFigures {
    status: ProjectStatus,
    count: i64,
    budget: Option<i64>,
    spent: Option<i64>,
    progress: Option<i64>,
    /// Those whose end date is past.
    ended: Option<i64>,
}

/// Event kinds of the timeline.
pub mod kind {
    pub const CREATED: &str = "created";
    pub const STATUS_CHANGED: &str = "status_changed";
    pub const COMMENT: &str = "comment";
    pub const FILE_UPLOADED: &str = "file_uploaded";
    pub const FILE_DELETED: &str = "file_deleted";
    pub const MILESTONE: &str = "milestone";
}

/// How many comments the detail shows (the newest).
const DETAIL_COMMENTS: u64 = 20;

fn of_company(company_id: Uuid) -> Select<project::Entity> {
    project::Entity::find().filter(project::Column::CompanyId.eq(company_id))
}

/// A project of the caller's company.
///
/// # Errors
/// 404 when it is not the company's (or does not exist); database errors.
pub async fn find(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<project::Model, AppError> {
    of_company(company_id)
        .filter(project::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("No such project"))
}

/// The same, locked until the caller's write transaction ends (PostgreSQL), so two requests
/// cannot both act on the status they read.
///
/// # Errors
/// 404, database errors.
pub async fn find_for_update(
    txn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<project::Model, AppError> {
    shared::db::for_update(
        of_company(company_id).filter(project::Column::Id.eq(id)),
        txn,
    )
    .one(txn)
    .await?
    .ok_or_else(|| AppError::not_found("No such project"))
}

/// The API view of a project row.
#[must_use]
pub fn view(project: project::Model, today: NaiveDate) -> ProjectView {
    let budget_used_percent = project.budget_cents.filter(|b| *b > 0).map(|budget| {
        #[allow(clippy::cast_precision_loss)]
        let share = project.spent_cents as f64 * 100.0 / budget as f64;
        (share * 10.0).round() / 10.0
    });
    ProjectView {
        overdue: project.status.is_active()
            && project.status != ProjectStatus::Delivered
            && project.end_date.is_some_and(|end| end < today),
        id: project.id,
        name: project.name,
        description: project.description,
        status: project.status,
        progress: project.progress,
        budget_cents: project.budget_cents,
        spent_cents: project.spent_cents,
        budget_used_percent,
        currency: project.currency,
        start_date: project.start_date,
        end_date: project.end_date,
        manager_name: project.manager_name,
        chantier_id: project.chantier_id,
        created_at: project.created_at,
        updated_at: project.updated_at,
    }
}

/// A page of the company's projects. On an SQLite file the page and its total are read on the
/// request's own thread (`inline`, each statement within its budget); `db` is the pool, never
/// a transaction.
///
/// # Errors
/// 422 for a reversed date range; database errors.
pub async fn list(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    company_id: Uuid,
    filters: &ProjectFilters,
    page: PageParams,
    sort: Sort<ProjectSort>,
    today: NaiveDate,
) -> Result<Paginated<ProjectView>, AppError> {
    let mut query = of_company(company_id);
    if let Some(status) = filters.status {
        query = query.filter(project::Column::Status.eq(status));
    }
    text::check_range(filters.date_from, filters.date_to)?;
    if let Some(from) = filters.date_from {
        query = query.filter(project::Column::CreatedAt.gte(text::day_start(from)));
    }
    if let Some(to) = filters.date_to {
        query = query.filter(project::Column::CreatedAt.lt(text::day_end(to)));
    }
    if let Some(term) = filters
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        query = query.filter(text::search(
            &[project::Column::Name, project::Column::Description],
            term,
        ));
    }
    let order: sea_orm::Order = sort.order.into();
    let column = match sort.field {
        ProjectSort::CreatedAt => project::Column::CreatedAt,
        ProjectSort::Name => project::Column::Name,
        ProjectSort::EndDate => project::Column::EndDate,
        ProjectSort::Progress => project::Column::Progress,
        ProjectSort::Status => project::Column::Status,
    };
    // Projects without an end date last, on SQLite as on PostgreSQL.
    query = query
        .order_by_with_nulls(column, order.clone(), NullOrdering::Last)
        .order_by(project::Column::Id, order);
    Ok(fetch_models_page(db, inline, query, page)
        .await?
        .map(|p| view(p, today)))
}

/// What a client may move a project to from `from` (and from where a hold resumes).
#[must_use]
pub fn client_transitions(
    from: ProjectStatus,
    before_hold: Option<ProjectStatus>,
) -> Vec<ProjectStatus> {
    match from {
        // Approve the delivery, or send it back for changes.
        ProjectStatus::Delivered => vec![ProjectStatus::Completed, ProjectStatus::InProgress],
        ProjectStatus::Planning | ProjectStatus::InProgress => vec![ProjectStatus::OnHold],
        ProjectStatus::OnHold => vec![before_hold.unwrap_or(ProjectStatus::InProgress)],
        ProjectStatus::Completed | ProjectStatus::Cancelled => Vec::new(),
    }
}

/// One project with its latest comments and counts.
///
/// # Errors
/// 404, database errors.
pub async fn detail(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
    today: NaiveDate,
) -> Result<ProjectDetail, AppError> {
    let project = find(db, company_id, id).await?;
    let of_project =
        || project_comment::Entity::find().filter(project_comment::Column::ProjectId.eq(id));
    // The latest comments are the first page, newest first.
    let (mut comments, nb_comments) = page_and_total(
        PageParams {
            page: 1,
            limit: DETAIL_COMMENTS,
        },
        || {
            of_project()
                .order_by_desc(project_comment::Column::CreatedAt)
                .order_by_desc(project_comment::Column::Id)
                .limit(DETAIL_COMMENTS)
                .all(db)
        },
        || of_project().count(db),
    )
    .await?;
    comments.reverse();
    let nb_files = document::Entity::find()
        .filter(document::Column::ProjectId.eq(id))
        .filter(document::Column::CompanyId.eq(company_id))
        .count(db)
        .await?;
    let allowed = client_transitions(project.status, project.status_before_hold);
    Ok(ProjectDetail {
        project: view(project, today),
        nb_comments,
        nb_files,
        recent_comments: comments.into_iter().map(comment_view).collect(),
        allowed_status_changes: allowed,
    })
}

fn comment_view(comment: project_comment::Model) -> CommentView {
    CommentView {
        id: comment.id,
        author_id: comment.author_id,
        author_name: comment.author_name,
        content: comment.content,
        created_at: comment.created_at,
    }
}

/// Record a timeline event (inside the caller's transaction).
///
/// # Errors
/// Database errors.
pub async fn record_event(
    db: &impl ConnectionTrait,
    project: &project::Model,
    kind: &str,
    title: String,
    detail: Option<serde_json::Value>,
    actor: (Option<Uuid>, Option<String>),
    at: DateTime<Utc>,
) -> Result<project_event::Model, AppError> {
    Ok(project_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        project_id: Set(project.id),
        company_id: Set(project.company_id),
        kind: Set(kind.to_owned()),
        title: Set(title),
        detail: Set(detail.map(|d| d.to_string())),
        actor_id: Set(actor.0),
        actor_name: Set(actor.1),
        occurred_at: Set(at),
    }
    .insert(db)
    .await?)
}

/// Add a comment (and its timeline event); the company's other users are notified.
///
/// # Errors
/// 404, 422 (blank), database errors.
pub async fn comment(
    db: &DatabaseConnection,
    caller: &ClientUser,
    id: Uuid,
    request: CommentRequest,
    now: DateTime<Utc>,
) -> Result<CommentView, AppError> {
    let content = text::required(&request.content, "content")?;
    let txn = shared::db::begin_write(db).await?;
    let project = find(&txn, caller.company_id, id).await?;
    let name = caller.name.clone();
    let comment = project_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        project_id: Set(project.id),
        author_id: Set(Some(caller.user_id)),
        author_name: Set(name.clone()),
        content: Set(content.clone()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let excerpt: String = content.chars().take(140).collect();
    record_event(
        &txn,
        &project,
        kind::COMMENT,
        format!("Commentaire de {name}"),
        Some(json!({ "comment_id": comment.id, "excerpt": excerpt })),
        (Some(caller.user_id), Some(name.clone())),
        now,
    )
    .await?;
    notify_company(
        &txn,
        project.company_id,
        Some(caller.user_id),
        &Notice::new(
            "project_comment",
            format!("Nouveau commentaire sur « {} »", project.name),
        )
        .body(excerpt)
        .link(format!("/api/client/projects/{}", project.id)),
        now,
    )
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("add_project_comment", "project_comment")
            .entity_id(comment.id)
            .after(&json!({ "project_id": project.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(comment_view(comment))
}

/// A page of the project's timeline, oldest first.
///
/// # Errors
/// 404, database errors.
pub async fn timeline(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
    page: PageParams,
) -> Result<Paginated<TimelineEvent>, AppError> {
    find(db, company_id, id).await?;
    let query = project_event::Entity::find()
        .filter(project_event::Column::ProjectId.eq(id))
        .order_by_asc(project_event::Column::OccurredAt)
        .order_by_asc(project_event::Column::Id);
    Ok(fetch_page(db, query, page)
        .await?
        .map(|event| TimelineEvent {
            id: event.id,
            kind: event.kind,
            title: event.title,
            detail: event.detail.and_then(|d| serde_json::from_str(&d).ok()),
            actor_name: event.actor_name,
            occurred_at: event.occurred_at,
        }))
}

/// Counts by status, budget used and progress over the company's projects.
///
/// # Errors
/// Database errors.
pub async fn stats(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    today: NaiveDate,
    currency: &str,
) -> Result<ProjectStats, AppError> {
    // One row per status, summed from the index that holds these columns.
    let rows: Vec<StatusFigures> = of_company(company_id)
        .select_only()
        .column(project::Column::Status)
        .column_as(
            Expr::from(Func::count(Expr::col(project::Column::Id))),
            "count",
        )
        .column_as(
            sum_bigint(Expr::col(project::Column::BudgetCents)),
            "budget",
        )
        .column_as(sum_bigint(Expr::col(project::Column::SpentCents)), "spent")
        .column_as(sum_bigint(Expr::col(project::Column::Progress)), "progress")
        .column_as(
            sum_bigint(when(Expr::col(project::Column::EndDate).lt(today), 1)),
            "ended",
        )
        .group_by(project::Column::Status)
        .into_model()
        .all(db)
        .await?;
    let mut by_status: BTreeMap<&'static str, u64> =
        ProjectStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let (mut total, mut budget, mut spent, mut active, mut progress_sum, mut overdue) =
        (0u64, 0i64, 0i64, 0u64, 0i64, 0u64);
    for r in &rows {
        let n = count_of(r.count);
        total += n;
        *by_status.entry(r.status.as_str()).or_default() += n;
        budget += r.budget.unwrap_or(0);
        spent += r.spent.unwrap_or(0);
        if r.status.is_active() {
            active += n;
            progress_sum += r.progress.unwrap_or(0);
            // Delivered projects wait for the client's acceptance, not for work: not late.
            if r.status != ProjectStatus::Delivered {
                overdue += count_of(r.ended);
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let average_progress = if active == 0 {
        0.0
    } else {
        ((progress_sum as f64 / active as f64) * 10.0).round() / 10.0
    };
    #[allow(clippy::cast_precision_loss)]
    let budget_used_percent = if budget > 0 {
        ((spent as f64 * 100.0 / budget as f64) * 10.0).round() / 10.0
    } else {
        0.0
    };
    Ok(ProjectStats {
        total,
        active,
        overdue,
        by_status: by_status
            .into_iter()
            .map(|(status, count)| StatusCount {
                status: status.to_owned(),
                count,
            })
            .collect(),
        budget_total_cents: budget,
        spent_total_cents: spent,
        budget_used_percent,
        average_progress,
        currency: currency.to_owned(),
    })
}

/// A client's status request: approve a delivery, send it back, put on hold, resume.
///
/// # Errors
/// 404; 409 for a change a client may not make (the allowed ones in `details`); 422 when
/// sending a delivery back without a reason.
pub async fn change_status(
    db: &DatabaseConnection,
    caller: &ClientUser,
    id: Uuid,
    request: ChangeStatusRequest,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<ProjectView, AppError> {
    let reason = text::optional(request.reason.as_deref(), "reason")?;
    let txn = shared::db::begin_write(db).await?;
    let project = find_for_update(&txn, caller.company_id, id).await?;
    let from = project.status;
    let to = request.status;
    let allowed = client_transitions(from, project.status_before_hold);
    if !allowed.contains(&to) {
        return Err(AppError::conflict_with(
            format!(
                "A client cannot move a project from {} to {}",
                from.as_str(),
                to.as_str()
            ),
            json!({ "from": from, "to": to, "allowed": allowed }),
        ));
    }
    if from == ProjectStatus::Delivered && to == ProjectStatus::InProgress && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "say what needs changing when sending a delivery back",
        ));
    }
    let name = caller.name.clone();
    let before = project.clone();
    let mut active: project::ActiveModel = project.clone().into();
    active.status = Set(to);
    active.status_before_hold = Set((to == ProjectStatus::OnHold).then_some(from));
    if to == ProjectStatus::Completed {
        active.progress = Set(100);
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let title = match (from, to) {
        (ProjectStatus::Delivered, ProjectStatus::Completed) => {
            format!("Livraison approuvée par {name}")
        }
        (ProjectStatus::Delivered, _) => format!("Modifications demandées par {name}"),
        (_, ProjectStatus::OnHold) => format!("Projet mis en pause par {name}"),
        _ => format!("Projet repris par {name}"),
    };
    record_event(
        &txn,
        &updated,
        kind::STATUS_CHANGED,
        title.clone(),
        Some(json!({ "from": from, "to": to, "reason": reason })),
        (Some(caller.user_id), Some(name)),
        now,
    )
    .await?;
    notify_company(
        &txn,
        updated.company_id,
        Some(caller.user_id),
        &Notice::new("project_status", format!("« {} » : {title}", updated.name))
            .link(format!("/api/client/projects/{}", updated.id)),
        now,
    )
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("change_project_status", "project")
            .entity_id(updated.id)
            .before(&json!({ "status": before.status }))
            .after(&json!({ "status": updated.status, "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(view(updated, today))
}

/// A new project (staff side; the superadmin portal will expose it).
#[derive(Debug, Clone)]
pub struct NewProject {
    pub company_id: Uuid,
    pub chantier_id: Option<Uuid>,
    pub name: String,
    pub description: Option<String>,
    pub status: ProjectStatus,
    pub progress: i32,
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub manager_name: Option<String>,
}

/// Create a project and its `created` event.
///
/// # Errors
/// 422 for a blank name or a progress outside 0..=100; database errors.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewProject,
    now: DateTime<Utc>,
) -> Result<project::Model, AppError> {
    let name = text::required(&new.name, "name")?;
    if !(0..=100).contains(&new.progress) {
        return Err(AppError::invalid("progress", "must be between 0 and 100"));
    }
    let txn = shared::db::begin_write(db).await?;
    let project = project::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(new.company_id),
        chantier_id: Set(new.chantier_id),
        name: Set(name.clone()),
        description: Set(new.description),
        status: Set(new.status),
        status_before_hold: Set(None),
        progress: Set(new.progress),
        budget_cents: Set(new.budget_cents),
        spent_cents: Set(new.spent_cents),
        currency: Set(new.currency),
        start_date: Set(new.start_date),
        end_date: Set(new.end_date),
        manager_name: Set(new.manager_name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_event(
        &txn,
        &project,
        kind::CREATED,
        format!("Projet « {name} » créé"),
        Some(json!({ "status": project.status })),
        (actor.user_id, None),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("create_project", "project")
            .entity_id(project.id)
            .after(&json!({ "company_id": project.company_id, "name": project.name })),
    )
    .await?;
    txn.commit().await?;
    Ok(project)
}

/// Staff moving a project (any status), with its event and a notification to the company.
///
/// # Errors
/// 404, database errors.
pub async fn staff_set_status(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    to: ProjectStatus,
    progress: Option<i32>,
    now: DateTime<Utc>,
) -> Result<project::Model, AppError> {
    let txn = shared::db::begin_write(db).await?;
    let project = shared::db::for_update(project::Entity::find_by_id(id), &txn)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such project"))?;
    let from = project.status;
    // Paused again: it still resumes to where it was before the first pause.
    let before_hold = if from == ProjectStatus::OnHold {
        project.status_before_hold
    } else {
        Some(from)
    };
    let mut active: project::ActiveModel = project.into();
    active.status = Set(to);
    active.status_before_hold = Set(if to == ProjectStatus::OnHold {
        before_hold
    } else {
        None
    });
    if let Some(progress) = progress {
        active.progress = Set(progress.clamp(0, 100));
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let title = format!("Statut : {} → {}", from.as_str(), to.as_str());
    record_event(
        &txn,
        &updated,
        kind::STATUS_CHANGED,
        title.clone(),
        Some(json!({ "from": from, "to": to })),
        (actor.user_id, None),
        now,
    )
    .await?;
    notify_company(
        &txn,
        updated.company_id,
        None,
        &Notice::new("project_status", format!("« {} » : {title}", updated.name))
            .link(format!("/api/client/projects/{}", updated.id)),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("change_project_status", "project")
            .entity_id(updated.id)
            .before(&json!({ "status": from }))
            .after(&json!({ "status": to })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// A milestone reached on a project (staff side), on its timeline.
///
/// # Errors
/// 404, database errors.
pub async fn record_milestone(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    title: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let title = text::required(title, "title")?;
    let txn = shared::db::begin_write(db).await?;
    let project = project::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such project"))?;
    record_event(
        &txn,
        &project,
        kind::MILESTONE,
        title.clone(),
        None,
        (actor.user_id, None),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("record_project_milestone", "project")
            .entity_id(project.id)
            .after(&json!({ "title": title })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ids and names of the company's projects, for labels.
///
/// # Errors
/// Database errors.
pub async fn names(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    ids: Vec<Uuid>,
) -> Result<BTreeMap<Uuid, String>, AppError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(Uuid, String)> = of_company(company_id)
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Name)
        .filter(project::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
