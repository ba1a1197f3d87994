//! `POST /api/tickets-client/export`: the filtered tickets as CSV, Excel (.xlsx), JSON or PDF,
//! produced by a background job and downloaded through a signed, expiring link. The request
//! waits a few seconds for the file (201 when ready) and otherwise answers 202 with the same
//! link, which serves the file once it exists.
//!
//! Text cells that begin with `=`, `+`, `-`, `@` (or a tab or carriage return) are prefixed with
//! `'` in CSV, Excel and PDF, so a spreadsheet never runs them as formulas.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{post, web};
use chrono::{DateTime, Utc};
use entity::job::JobStatus;
use entity::{job, ticket, ticket_export};
use sea_orm::sea_query::{ExprTrait, Order as SqlOrder};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, IntoActiveModel,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::audit::{self, AuditEntry};
use shared::envelope::{format_utc, serialize_utc};
use shared::extract::Json;
use shared::jobs::{JobContext, JobError, JobHandler, NewJob};
use shared::openapi::errors;
use shared::storage::Storage;
use shared::{ApiResponse, AppError};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::filters::{self, TicketFilters, tcol};
use crate::scope::{Caller, Scope};
use crate::tickets::service::{self as tickets, TicketRow};

pub const EXPORT_JOB: &str = "tickets.export";
/// Rows an export may hold.
pub const MAX_ROWS: u64 = 200_000;
/// A PDF is a table to read: beyond this, export CSV or Excel instead.
pub const MAX_PDF_ROWS: u64 = 5_000;
/// Rows read per query while exporting.
const BATCH: u64 = 1_000;

/// File formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Excel,
    Json,
    Pdf,
}

impl ExportFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Excel => "excel",
            Self::Json => "json",
            Self::Pdf => "pdf",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Excel => "xlsx",
            Self::Json => "json",
            Self::Pdf => "pdf",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Excel => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Json => "application/json",
            Self::Pdf => "application/pdf",
        }
    }
}

/// Columns an export can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportField {
    Numero,
    Titre,
    Description,
    Status,
    Priority,
    Categorie,
    ClientId,
    ClientNom,
    ChantierId,
    ChantierNom,
    Responsable,
    DateCreation,
    DateModification,
    DateLimite,
    SlaStatus,
    Tags,
    NbMessages,
    NbPieceJointes,
    EscalationLevel,
}

/// `fields` in the OpenAPI document: 1 to 19 distinct columns (every [`ExportField`] once), or
/// `null` for the default set.
fn fields_schema() -> utoipa::openapi::Schema {
    use utoipa::PartialSchema;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let columns = ArrayBuilder::new()
        .items(ExportField::schema())
        .min_items(Some(1))
        .max_items(Some(19))
        .unique_items(true);
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(columns)
        .description(Some(
            "Columns, in order, each once (default: numero, titre, status, priority, categorie, \
             client_nom, chantier_nom, responsable, date_creation, date_limite, sla_status).",
        ))
        .build()
        .into()
}

/// Used when `fields` is absent.
pub const DEFAULT_FIELDS: &[ExportField] = &[
    ExportField::Numero,
    ExportField::Titre,
    ExportField::Status,
    ExportField::Priority,
    ExportField::Categorie,
    ExportField::ClientNom,
    ExportField::ChantierNom,
    ExportField::Responsable,
    ExportField::DateCreation,
    ExportField::DateLimite,
    ExportField::SlaStatus,
];

/// A cell: text, or a count.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
}

impl ExportField {
    /// The JSON name (also the CSV/Excel header).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Numero => "numero",
            Self::Titre => "titre",
            Self::Description => "description",
            Self::Status => "status",
            Self::Priority => "priority",
            Self::Categorie => "categorie",
            Self::ClientId => "client_id",
            Self::ClientNom => "client_nom",
            Self::ChantierId => "chantier_id",
            Self::ChantierNom => "chantier_nom",
            Self::Responsable => "responsable",
            Self::DateCreation => "date_creation",
            Self::DateModification => "date_modification",
            Self::DateLimite => "date_limite",
            Self::SlaStatus => "sla_status",
            Self::Tags => "tags",
            Self::NbMessages => "nb_messages",
            Self::NbPieceJointes => "nb_piece_jointes",
            Self::EscalationLevel => "escalation_level",
        }
    }

    /// Relative width of the column in the PDF table.
    fn weight(self) -> f32 {
        match self {
            Self::Titre | Self::Description => 3.0,
            Self::ClientNom | Self::ChantierNom | Self::Responsable | Self::Tags => 2.0,
            Self::ClientId | Self::ChantierId => 2.6,
            Self::DateCreation | Self::DateModification | Self::DateLimite => 1.9,
            Self::Numero | Self::Categorie | Self::Priority | Self::Status => 1.2,
            Self::SlaStatus | Self::NbMessages | Self::NbPieceJointes | Self::EscalationLevel => {
                0.9
            }
        }
    }

    fn cell(self, row: &TicketRow) -> Cell {
        let text = |s: &str| Cell::Text(s.to_owned());
        let opt = |s: &Option<String>| Cell::Text(s.clone().unwrap_or_default());
        match self {
            Self::Numero => text(&row.numero),
            Self::Titre => text(&row.titre),
            Self::Description => text(&row.description),
            Self::Status => text(row.status.as_str()),
            Self::Priority => text(row.priority.as_str()),
            Self::Categorie => text(row.categorie.as_str()),
            Self::ClientId => Cell::Text(row.client_id.to_string()),
            Self::ClientNom => opt(&row.client_nom),
            Self::ChantierId => {
                Cell::Text(row.chantier_id.map(|id| id.to_string()).unwrap_or_default())
            }
            Self::ChantierNom => opt(&row.chantier_nom),
            Self::Responsable => opt(&row.responsable),
            Self::DateCreation => Cell::Text(format_utc(&row.date_creation)),
            Self::DateModification => Cell::Text(format_utc(&row.date_modification)),
            Self::DateLimite => Cell::Text(format_utc(&row.date_limite)),
            Self::SlaStatus => text(row.sla_status.as_str()),
            Self::Tags => Cell::Text(row.tags.join(", ")),
            Self::NbMessages => Cell::Number(row.nb_messages),
            Self::NbPieceJointes => Cell::Number(row.nb_piece_jointes),
            Self::EscalationLevel => Cell::Number(i64::from(row.escalation_level)),
        }
    }

    /// The JSON value of the field.
    fn json(self, row: &TicketRow) -> Value {
        match self {
            Self::Tags => json!(row.tags),
            Self::ChantierId => json!(row.chantier_id),
            Self::ClientNom => json!(row.client_nom),
            Self::ChantierNom => json!(row.chantier_nom),
            Self::Responsable => json!(row.responsable),
            other => match other.cell(row) {
                Cell::Text(text) => json!(text),
                Cell::Number(n) => json!(n),
            },
        }
    }
}

/// Keep a spreadsheet from reading a cell as a formula.
#[must_use]
pub fn neutralize(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// `POST /api/tickets-client/export`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// The list's filters.
    #[validate(nested)]
    pub filters: Option<TicketFilters>,
    /// Columns, in order (default: numero, titre, status, priority, categorie, client_nom,
    /// chantier_nom, responsable, date_creation, date_limite, sla_status).
    #[validate(length(min = 1, max = 19))]
    #[schema(schema_with = fields_schema)]
    pub fields: Option<Vec<ExportField>>,
}

/// Where to fetch an export.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportResponse {
    pub id: Uuid,
    /// Signed download link (no token needed) until `expires_at`.
    pub url: String,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub format: ExportFormat,
    /// `ready`, or `pending` (the link answers 202 until the file exists).
    #[schema(example = "ready")]
    pub status: String,
    /// Rows in the file (once ready).
    pub rows: Option<i32>,
    pub size: Option<i64>,
    pub job_id: Uuid,
}

/// The path a signed export link points to.
#[must_use]
pub fn export_path(id: Uuid) -> String {
    format!("/api/tickets-client/files/exports/{id}")
}

fn response(
    state: &TicketsState,
    export: &ticket_export::Model,
    format: ExportFormat,
) -> ExportResponse {
    ExportResponse {
        id: export.id,
        url: state
            .signer
            .sign(&export_path(export.id), export.expires_at),
        expires_at: export.expires_at,
        format,
        status: if export.storage_key.is_some() {
            "ready".to_owned()
        } else {
            "pending".to_owned()
        },
        rows: export.row_count,
        size: export.size,
        job_id: export.job_id,
    }
}

/// Ask for an export (the job is queued in the same transaction as its record).
///
/// # Errors
/// 422 for bad filters or too many rows for the format; database errors.
pub async fn request(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    request: ExportRequest,
) -> Result<(ticket_export::Model, ExportFormat), AppError> {
    let filters = request.filters.clone().unwrap_or_default();
    let fields = request
        .fields
        .clone()
        .unwrap_or_else(|| DEFAULT_FIELDS.to_vec());
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].contains(field) {
            return Err(AppError::invalid(format!("fields[{i}]"), "is listed twice"));
        }
    }
    let now = state.clock.now();
    let mut base = filters::tickets_only();
    filters::apply(
        &mut base,
        db.get_database_backend(),
        caller.scope,
        &filters,
        now,
    )
    .map_err(|err| prefix_fields(err, "filters"))?;
    let rows = tickets::count(db, &base).await?;
    let limit = if request.format == ExportFormat::Pdf {
        MAX_PDF_ROWS
    } else {
        MAX_ROWS
    };
    if rows > limit {
        return Err(AppError::invalid(
            "filters",
            format!(
                "{rows} tickets match; a {} export holds at most {limit} (narrow the filters{})",
                request.format.as_str(),
                if request.format == ExportFormat::Pdf {
                    ", or export CSV or Excel"
                } else {
                    ""
                }
            ),
        ));
    }
    let id = Uuid::now_v7();
    let file_name = format!(
        "tickets-{}.{}",
        now.format("%Y-%m-%d-%H%M%S"),
        request.format.extension()
    );
    let stored_request = json!({ "filters": filters, "fields": fields });
    let txn = shared::db::begin_write(db).await?;
    let job = shared::jobs::enqueue(
        &txn,
        NewJob::new(EXPORT_JOB, json!({ "export_id": id }))
            .max_attempts(3)
            .created_by(Some(caller.user_id)),
    )
    .await?;
    let export = ticket_export::ActiveModel {
        id: Set(id),
        created_by: Set(caller.user_id),
        company_id: Set(caller.scope.company()),
        format: Set(request.format.as_str().to_owned()),
        file_name: Set(file_name),
        content_type: Set(request.format.content_type().to_owned()),
        request: Set(stored_request.clone()),
        job_id: Set(job.id),
        storage_key: Set(None),
        size: Set(None),
        sha256: Set(None),
        row_count: Set(None),
        expires_at: Set(now
            + chrono::Duration::from_std(state.export_ttl)
                .unwrap_or_else(|_| chrono::Duration::hours(24))),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("export_tickets", "ticket_export")
            .entity_id(id)
            .after(&json!({
                "format": request.format,
                "filters": stored_request["filters"],
                "fields": stored_request["fields"],
                "rows": rows,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok((export, request.format))
}

/// Name a filter's field under `filters.`.
fn prefix_fields(err: AppError, prefix: &str) -> AppError {
    match err {
        AppError::Validation(fields) => {
            let mut out = shared::FieldErrors::new();
            for (field, messages) in fields.fields() {
                for message in messages {
                    out.add(format!("{prefix}.{field}"), message.clone());
                }
            }
            AppError::Validation(out)
        }
        other => other,
    }
}

/// Wait (a little) for the export's file.
async fn wait_ready(
    db: &DatabaseConnection,
    export: ticket_export::Model,
    wait: Duration,
) -> Result<ticket_export::Model, AppError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut current = export;
    while current.storage_key.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let job = job::Entity::find_by_id(current.job_id).one(db).await?;
        if let Some(found) = ticket_export::Entity::find_by_id(current.id)
            .one(db)
            .await?
        {
            current = found;
        }
        if job.is_some_and(|j| matches!(j.status, JobStatus::Failed | JobStatus::Cancelled)) {
            break;
        }
    }
    Ok(current)
}

/// Export the tickets matching the filters (the caller's company only, for a client).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    request_body = ExportRequest,
    responses(
        (status = 201, description = "The file is ready at `url`", body = ApiResponse<ExportResponse>),
        (status = 202, description = "Still being produced: `url` answers 202 until it is ready", body = ApiResponse<ExportResponse>),
        errors::AuthedWrite
    )
)]
#[post("/export")]
pub async fn create_export(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    body: Json<ExportRequest>,
) -> Result<ApiResponse<ExportResponse>, AppError> {
    let (export, format) = request(db.get_ref(), &state, &caller, body.into_inner()).await?;
    let export = wait_ready(db.get_ref(), export, state.export_wait).await?;
    let body = response(&state, &export, format);
    Ok(if export.storage_key.is_some() {
        ApiResponse::created(body)
    } else {
        ApiResponse::accepted(body)
    })
}

/// The export job: read the rows in batches, render, store, record.
pub struct ExportJob {
    pub state: Arc<TicketsState>,
}

#[derive(Deserialize)]
struct ExportPayload {
    export_id: Uuid,
}

#[derive(Deserialize)]
struct StoredRequest {
    filters: TicketFilters,
    fields: Vec<ExportField>,
}

#[async_trait::async_trait]
impl JobHandler for ExportJob {
    async fn run(&self, ctx: &JobContext) -> Result<Option<Value>, JobError> {
        let payload: ExportPayload = ctx.payload()?;
        let db = ctx.db();
        let Some(export) = ticket_export::Entity::find_by_id(payload.export_id)
            .one(db)
            .await?
        else {
            return Err(JobError::Permanent("the export record is gone".to_owned()));
        };
        if export.storage_key.is_some() {
            // Done by an earlier attempt.
            return Ok(Some(json!({ "rows": export.row_count })));
        }
        let stored: StoredRequest = serde_json::from_value(export.request.clone())
            .map_err(|e| JobError::Permanent(format!("unreadable export request: {e}")))?;
        let format = match export.format.as_str() {
            "csv" => ExportFormat::Csv,
            "excel" => ExportFormat::Excel,
            "json" => ExportFormat::Json,
            "pdf" => ExportFormat::Pdf,
            other => return Err(JobError::Permanent(format!("unknown format {other}"))),
        };
        let scope = export.company_id.map_or(Scope::Staff, Scope::Company);
        let rows = read_rows(ctx, &self.state, scope, &stored.filters).await?;
        ctx.progress(80, Some("writing the file")).await?;
        let generated_at = self.state.clock.now();
        let fields = stored.fields;
        let bytes = tokio::task::spawn_blocking(move || {
            render(format, &fields, &rows, generated_at).map(|b| (b, rows.len()))
        })
        .await
        .map_err(|e| JobError::Retryable(format!("rendering stopped: {e}")))?
        .map_err(JobError::Permanent)?;
        let (bytes, count) = bytes;
        let key = Storage::new_key("exports", &export.file_name);
        let stored = self
            .state
            .storage
            .put(&key, bytes::Bytes::from(bytes))
            .await
            .map_err(|e| JobError::Retryable(format!("storing the file failed: {e}")))?;
        let mut active = export.into_active_model();
        active.storage_key = Set(Some(stored.key));
        active.size = Set(Some(i64::try_from(stored.size).unwrap_or(i64::MAX)));
        active.sha256 = Set(Some(stored.sha256));
        active.row_count = Set(Some(i32::try_from(count).unwrap_or(i32::MAX)));
        active.update(db).await?;
        ctx.progress(100, Some("ready")).await?;
        Ok(Some(json!({ "rows": count })))
    }
}

/// Every matching row, newest first, read in keyset batches.
async fn read_rows(
    ctx: &JobContext,
    state: &TicketsState,
    scope: Scope,
    filters: &TicketFilters,
) -> Result<Vec<TicketRow>, JobError> {
    let db = ctx.db();
    let now = state.clock.now();
    let backend = db.get_database_backend();
    let mut base = filters::from_tickets();
    filters::apply(&mut base, backend, scope, filters, now)
        .map_err(|e| JobError::Permanent(format!("invalid filters: {e}")))?;
    let total = tickets::count(db, &base).await?;
    let mut out: Vec<TicketRow> = Vec::new();
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        if ctx.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        let mut select = base.clone();
        tickets::row_columns(&mut select, scope, now);
        if let Some((at, id)) = after {
            select.and_where(
                tcol(ticket::Column::DateCreation)
                    .lt(at)
                    .or(tcol(ticket::Column::DateCreation)
                        .eq(at)
                        .and(tcol(ticket::Column::Id).lt(id))),
            );
        }
        select
            .order_by((filters::t(), ticket::Column::DateCreation), SqlOrder::Desc)
            .order_by((filters::t(), ticket::Column::Id), SqlOrder::Desc)
            .limit(BATCH);
        let batch = tickets::rows(db, db.get_database_backend().build(&select)).await?;
        let done = (batch.len() as u64) < BATCH;
        after = batch.last().map(|r| (r.date_creation, r.id));
        out.extend(batch);
        let percent = (out.len() as u64 * 80)
            .checked_div(total)
            .map_or(80, |p| u8::try_from(Ord::min(p, 80)).unwrap_or(80));
        ctx.progress(percent, Some("reading tickets")).await?;
        if done {
            break;
        }
    }
    Ok(out)
}

/// The file's bytes.
///
/// # Errors
/// A message if the writer failed.
pub fn render(
    format: ExportFormat,
    fields: &[ExportField],
    rows: &[TicketRow],
    generated_at: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    match format {
        ExportFormat::Csv => render_csv(fields, rows),
        ExportFormat::Excel => render_xlsx(fields, rows),
        ExportFormat::Json => render_json(fields, rows, generated_at),
        ExportFormat::Pdf => Ok(crate::export::pdf::render(fields, rows, generated_at)),
    }
}

fn render_csv(fields: &[ExportField], rows: &[TicketRow]) -> Result<Vec<u8>, String> {
    // A BOM so spreadsheet programs read the accents as UTF-8.
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer
            .write_record(fields.iter().map(|f| f.name()))
            .map_err(|e| e.to_string())?;
        for row in rows {
            let record: Vec<String> = fields
                .iter()
                .map(|f| match f.cell(row) {
                    Cell::Text(text) => neutralize(&text),
                    Cell::Number(n) => n.to_string(),
                })
                .collect();
            writer.write_record(&record).map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn render_xlsx(fields: &[ExportField], rows: &[TicketRow]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(|e| e.to_string())?;
    sheet.set_name("Tickets").map_err(|e| e.to_string())?;
    for (col, field) in fields.iter().enumerate() {
        let col = u16::try_from(col).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, field.name(), &bold)
            .map_err(|e| e.to_string())?;
        sheet
            .set_column_width(col, f64::from(field.weight()) * 9.0)
            .map_err(|e| e.to_string())?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        for (col, field) in fields.iter().enumerate() {
            let col = u16::try_from(col).map_err(|e| e.to_string())?;
            match field.cell(row) {
                Cell::Text(text) => {
                    // Excel cells hold at most 32,767 characters.
                    let text: String = neutralize(&text).chars().take(32_000).collect();
                    sheet
                        .write_string(r, col, text)
                        .map_err(|e| e.to_string())?;
                }
                #[allow(clippy::cast_precision_loss)]
                Cell::Number(n) => {
                    sheet
                        .write_number(r, col, n as f64)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    let last_row = u32::try_from(rows.len()).map_err(|e| e.to_string())?;
    let last_col = u16::try_from(fields.len().saturating_sub(1)).map_err(|e| e.to_string())?;
    sheet
        .autofilter(0, 0, last_row, last_col)
        .map_err(|e| e.to_string())?;
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

fn render_json(
    fields: &[ExportField],
    rows: &[TicketRow],
    generated_at: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let tickets: Vec<Value> = rows
        .iter()
        .map(|row| {
            Value::Object(
                fields
                    .iter()
                    .map(|f| (f.name().to_owned(), f.json(row)))
                    .collect(),
            )
        })
        .collect();
    serde_json::to_vec(&json!({
        "generated_at": format_utc(&generated_at),
        "count": tickets.len(),
        "fields": fields,
        "tickets": tickets,
    }))
    .map_err(|e| e.to_string())
}

pub mod pdf;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralize("+33 1 23"), "'+33 1 23");
        assert_eq!(neutralize("-1"), "'-1");
        assert_eq!(neutralize("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize("\tx"), "'\tx");
        assert_eq!(neutralize("Fuite d'eau"), "Fuite d'eau");
        assert_eq!(neutralize(""), "");
    }
}
