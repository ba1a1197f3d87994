//! `/api/chantiers`: construction sites of client companies, with their progress, budget,
//! coordinates and ticket counts. Staff manage them; a client user sees its company's.

use actix_web::{get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::chantier::{self, ChantierStatut, ChantierType};
use entity::company::{self, CompanyType};
use entity::ticket;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, Order as SqlOrder, Query, SelectStatement,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Serialize};
use shared::audit::{self, AuditEntry};
use shared::envelope::serialize_utc;
use shared::extract::{Json, Path};
use shared::openapi::errors;
use shared::pagination::{Filters, Order, PageParams, Sort, SortField};
use shared::{ApiResponse, AppError, PageMeta, Paginated};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::TicketsState;
use crate::scope::{Caller, Scope};
use crate::tickets::service::open_statuses;

/// GPS position.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Coordonnees {
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(example = 14.6937, minimum = -90, maximum = 90)]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(example = -17.4441, minimum = -180, maximum = 180)]
    pub lng: f64,
}

/// A chantier (seed 003).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChantierView {
    pub id: Uuid,
    #[schema(example = "Résidence Les Jardins")]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: ChantierType,
    pub client_id: Uuid,
    pub client_nom: Option<String>,
    pub adresse: Option<String>,
    pub ville: Option<String>,
    pub coordonnees: Option<Coordonnees>,
    pub statut: ChantierStatut,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_debut: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_fin: Option<NaiveDate>,
    /// Minor units of `currency`.
    #[schema(example = 45_000_000_000_i64)]
    pub budget_cents: Option<i64>,
    #[schema(example = "XOF")]
    pub currency: String,
    /// Progress, 0..=100.
    #[schema(example = 65)]
    pub avancement: i32,
    pub responsable: Option<String>,
    pub nb_tickets: i64,
    pub nb_tickets_ouverts: i64,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct ChantierRow {
    id: Uuid,
    nom: String,
    chantier_type: ChantierType,
    client_id: Uuid,
    client_nom: Option<String>,
    adresse: Option<String>,
    ville: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    statut: ChantierStatut,
    date_debut: Option<NaiveDate>,
    date_fin: Option<NaiveDate>,
    budget_cents: Option<i64>,
    currency: String,
    avancement: i32,
    responsable: Option<String>,
    nb_tickets: i64,
    nb_tickets_ouverts: i64,
    created_at: DateTime<Utc>,
}

impl From<ChantierRow> for ChantierView {
    fn from(row: ChantierRow) -> Self {
        Self {
            id: row.id,
            nom: row.nom,
            kind: row.chantier_type,
            client_id: row.client_id,
            client_nom: row.client_nom,
            adresse: row.adresse,
            ville: row.ville,
            coordonnees: match (row.latitude, row.longitude) {
                (Some(lat), Some(lng)) => Some(Coordonnees { lat, lng }),
                _ => None,
            },
            statut: row.statut,
            date_debut: row.date_debut,
            date_fin: row.date_fin,
            budget_cents: row.budget_cents,
            currency: row.currency,
            avancement: row.avancement,
            responsable: row.responsable,
            nb_tickets: row.nb_tickets,
            nb_tickets_ouverts: row.nb_tickets_ouverts,
            created_at: row.created_at,
        }
    }
}

fn cs() -> Alias {
    Alias::new("cs")
}

/// Chantiers `scope` may see, matching `conditions`, with their columns.
fn chantiers_select(scope: Scope, conditions: &[Expr], with_columns: bool) -> SelectStatement {
    let co = Alias::new("co");
    let x = Alias::new("x");
    let mut select = Query::select();
    select.from_as(chantier::Entity, cs()).join_as(
        JoinType::LeftJoin,
        company::Entity,
        co.clone(),
        Expr::col((co.clone(), company::Column::Id)).equals((cs(), chantier::Column::ClientId)),
    );
    if let Some(company) = scope.company() {
        select.and_where(Expr::col((cs(), chantier::Column::ClientId)).eq(company));
    }
    for condition in conditions {
        select.and_where(condition.clone());
    }
    if !with_columns {
        return select;
    }
    for column in [
        chantier::Column::Id,
        chantier::Column::Nom,
        chantier::Column::ChantierType,
        chantier::Column::ClientId,
        chantier::Column::Adresse,
        chantier::Column::Ville,
        chantier::Column::Latitude,
        chantier::Column::Longitude,
        chantier::Column::Statut,
        chantier::Column::DateDebut,
        chantier::Column::DateFin,
        chantier::Column::BudgetCents,
        chantier::Column::Currency,
        chantier::Column::Avancement,
        chantier::Column::Responsable,
        chantier::Column::CreatedAt,
    ] {
        select.column((cs(), column));
    }
    let tickets_of = || {
        Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_as(ticket::Entity, x.clone())
            .and_where(
                Expr::col((x.clone(), ticket::Column::ChantierId))
                    .equals((cs(), chantier::Column::Id)),
            )
            .to_owned()
    };
    select
        .expr_as(
            Expr::col((co, company::Column::Name)),
            Alias::new("client_nom"),
        )
        .expr_as(Expr::from(tickets_of()), Alias::new("nb_tickets"))
        .expr_as(
            Expr::from(
                tickets_of()
                    .and_where(
                        Expr::col((x.clone(), ticket::Column::Status)).is_in(open_statuses()),
                    )
                    .to_owned(),
            ),
            Alias::new("nb_tickets_ouverts"),
        );
    select
}

async fn fetch(
    db: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<ChantierView>, AppError> {
    Ok(db
        .query_all(select)
        .await?
        .iter()
        .map(|row| ChantierRow::from_query_result(row, "").map(ChantierView::from))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Sortable fields of the chantier list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChantierSort {
    CreatedAt,
    Nom,
    DateDebut,
    DateFin,
    Avancement,
}

impl SortField for ChantierSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("created_at", Self::CreatedAt),
        ("nom", Self::Nom),
        ("date_debut", Self::DateDebut),
        ("date_fin", Self::DateFin),
        ("avancement", Self::Avancement),
    ];
    const DEFAULT: Self = Self::CreatedAt;
}

/// Filters of the chantier list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChantierFilters {
    pub client_id: Option<Uuid>,
    pub statut: Option<ChantierStatut>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ChantierType>,
    /// Exact city.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub ville: Option<String>,
}

/// A page of the chantiers `scope` may see.
///
/// # Errors
/// Database errors.
pub async fn list_chantiers(
    db: &impl ConnectionTrait,
    scope: Scope,
    filters: &ChantierFilters,
    page: PageParams,
    sort: Sort<ChantierSort>,
) -> Result<Paginated<ChantierView>, AppError> {
    let mut conditions = Vec::new();
    if let Some(client) = filters.client_id {
        conditions.push(Expr::col((cs(), chantier::Column::ClientId)).eq(client));
    }
    if let Some(statut) = filters.statut {
        conditions.push(Expr::col((cs(), chantier::Column::Statut)).eq(statut.to_value()));
    }
    if let Some(kind) = filters.kind {
        conditions.push(Expr::col((cs(), chantier::Column::ChantierType)).eq(kind.to_value()));
    }
    if let Some(ville) = &filters.ville {
        conditions.push(Expr::col((cs(), chantier::Column::Ville)).eq(ville.trim()));
    }
    let mut count = chantiers_select(scope, &conditions, false);
    count.expr(Expr::cust("COUNT(*)"));
    let total = db
        .query_one(&count)
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let total = u64::try_from(total).unwrap_or(0);
    let order = match sort.order {
        Order::Asc => SqlOrder::Asc,
        Order::Desc => SqlOrder::Desc,
    };
    let column = match sort.field {
        ChantierSort::CreatedAt => chantier::Column::CreatedAt,
        ChantierSort::Nom => chantier::Column::Nom,
        ChantierSort::DateDebut => chantier::Column::DateDebut,
        ChantierSort::DateFin => chantier::Column::DateFin,
        ChantierSort::Avancement => chantier::Column::Avancement,
    };
    let mut select = chantiers_select(scope, &conditions, true);
    select
        .order_by((cs(), column), order.clone())
        .order_by((cs(), chantier::Column::Id), order)
        .limit(page.limit)
        .offset(page.offset());
    let items = if page.offset() >= total {
        Vec::new()
    } else {
        fetch(db, &select).await?
    };
    Ok(Paginated::new(
        items,
        PageMeta::new(page.page, page.limit, total),
    ))
}

/// One chantier `scope` may see.
///
/// # Errors
/// 404 otherwise.
pub async fn get_chantier(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: Uuid,
) -> Result<ChantierView, AppError> {
    let select = chantiers_select(
        scope,
        &[Expr::col((cs(), chantier::Column::Id)).eq(id)],
        true,
    );
    fetch(db, &select)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("No such chantier"))
}

/// `POST /api/chantiers`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChantierRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(example = "Nouveau chantier", min_length = 1, max_length = 255)]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: ChantierType,
    pub client_id: Uuid,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub adresse: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub ville: Option<String>,
    #[validate(nested)]
    pub coordonnees: Option<Coordonnees>,
    /// Default `planifie`.
    pub statut: Option<ChantierStatut>,
    #[schema(value_type = Option<String>, format = Date, example = "2026-03-01")]
    pub date_debut: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date, example = "2027-12-31")]
    pub date_fin: Option<NaiveDate>,
    /// Minor units.
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub budget_cents: Option<i64>,
    /// ISO 4217 (default: the server's `DEFAULT_CURRENCY`).
    #[validate(length(equal = 3))]
    #[schema(example = "XOF", min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    pub avancement: Option<i32>,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub responsable: Option<String>,
}

/// `PATCH /api/chantiers/{id}`: only the fields sent change; `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChantierRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub nom: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ChantierType>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 1000))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000)]
    pub adresse: Option<Option<String>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub ville: Option<Option<String>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(nested)]
    #[schema(value_type = Option<Coordonnees>)]
    pub coordonnees: Option<Option<Coordonnees>>,
    pub statut: Option<ChantierStatut>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date_debut: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date_fin: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(range(min = 0))]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub budget_cents: Option<Option<i64>>,
    #[validate(length(equal = 3))]
    #[schema(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    pub avancement: Option<i32>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 255))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub responsable: Option<Option<String>>,
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn currency(value: &str) -> Result<String, AppError> {
    let upper = value.trim().to_uppercase();
    if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(upper)
    } else {
        Err(AppError::invalid(
            "currency",
            "must be an ISO 4217 code such as EUR or XOF",
        ))
    }
}

fn check_dates(debut: Option<NaiveDate>, fin: Option<NaiveDate>) -> Result<(), AppError> {
    if let (Some(debut), Some(fin)) = (debut, fin)
        && fin < debut
    {
        return Err(AppError::invalid(
            "date_fin",
            "must not be before date_debut",
        ));
    }
    Ok(())
}

fn audit_view(row: &chantier::Model) -> serde_json::Value {
    serde_json::json!({
        "nom": row.nom,
        "type": row.chantier_type,
        "client_id": row.client_id,
        "adresse": row.adresse,
        "ville": row.ville,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "statut": row.statut,
        "date_debut": row.date_debut,
        "date_fin": row.date_fin,
        "budget_cents": row.budget_cents,
        "currency": row.currency,
        "avancement": row.avancement,
        "responsable": row.responsable,
    })
}

/// Create a chantier for a client company (staff).
///
/// # Errors
/// 403 for a client user; 422 for bad input or an unknown client.
pub async fn create_chantier(
    db: &DatabaseConnection,
    state: &TicketsState,
    caller: &Caller,
    request: CreateChantierRequest,
) -> Result<ChantierView, AppError> {
    caller.scope.require_staff("create chantiers")?;
    let nom = request.nom.trim().to_owned();
    if nom.is_empty() {
        return Err(AppError::invalid("nom", "must not be blank"));
    }
    check_dates(request.date_debut, request.date_fin)?;
    let currency = match &request.currency {
        Some(code) => currency(code)?,
        None => state.default_currency.clone(),
    };
    let now = Utc::now();
    let txn = shared::db::begin_write(db).await?;
    company::Entity::find_by_id(request.client_id)
        .filter(company::Column::CompanyType.eq(CompanyType::Client))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("client_id", "no such client"))?;
    let created = chantier::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(request.client_id),
        nom: Set(nom),
        chantier_type: Set(request.kind),
        adresse: Set(trimmed(request.adresse)),
        ville: Set(trimmed(request.ville)),
        latitude: Set(request.coordonnees.map(|c| c.lat)),
        longitude: Set(request.coordonnees.map(|c| c.lng)),
        statut: Set(request.statut.unwrap_or(ChantierStatut::Planifie)),
        date_debut: Set(request.date_debut),
        date_fin: Set(request.date_fin),
        budget_cents: Set(request.budget_cents),
        currency: Set(currency),
        avancement: Set(request.avancement.unwrap_or(0)),
        responsable: Set(trimmed(request.responsable)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("create_chantier", "chantier")
            .entity_id(created.id)
            .after(&audit_view(&created)),
    )
    .await?;
    txn.commit().await?;
    get_chantier(db, Scope::Staff, created.id).await
}

/// Change a chantier (staff).
///
/// # Errors
/// 403 for a client user; 404 for an unknown chantier; 422 for bad input.
pub async fn update_chantier(
    db: &DatabaseConnection,
    caller: &Caller,
    id: Uuid,
    request: UpdateChantierRequest,
) -> Result<ChantierView, AppError> {
    caller.scope.require_staff("change chantiers")?;
    let txn = shared::db::begin_write(db).await?;
    let before = chantier::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("No such chantier"))?;
    let mut row = before.clone().into_active_model();
    if let Some(nom) = &request.nom {
        let nom = nom.trim();
        if nom.is_empty() {
            return Err(AppError::invalid("nom", "must not be blank"));
        }
        row.nom = Set(nom.to_owned());
    }
    if let Some(kind) = request.kind {
        row.chantier_type = Set(kind);
    }
    if let Some(adresse) = request.adresse {
        row.adresse = Set(trimmed(adresse));
    }
    if let Some(ville) = request.ville {
        row.ville = Set(trimmed(ville));
    }
    if let Some(coordonnees) = request.coordonnees {
        row.latitude = Set(coordonnees.map(|c| c.lat));
        row.longitude = Set(coordonnees.map(|c| c.lng));
    }
    if let Some(statut) = request.statut {
        row.statut = Set(statut);
    }
    let debut = request.date_debut.unwrap_or(before.date_debut);
    let fin = request.date_fin.unwrap_or(before.date_fin);
    check_dates(debut, fin)?;
    row.date_debut = Set(debut);
    row.date_fin = Set(fin);
    if let Some(budget) = request.budget_cents {
        row.budget_cents = Set(budget);
    }
    if let Some(code) = &request.currency {
        row.currency = Set(currency(code)?);
    }
    if let Some(avancement) = request.avancement {
        row.avancement = Set(avancement);
    }
    if let Some(responsable) = request.responsable {
        row.responsable = Set(trimmed(responsable));
    }
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("update_chantier", "chantier")
            .entity_id(id)
            .before(&audit_view(&before))
            .after(&audit_view(&after)),
    )
    .await?;
    txn.commit().await?;
    get_chantier(db, Scope::Staff, id).await
}

/// List chantiers with their ticket counts (a client sees its company's).
#[utoipa::path(
    tag = "chantiers",
    security(("bearer" = [])),
    params(PageParams, Sort<ChantierSort>, ChantierFilters),
    responses((status = 200, description = "A page of chantiers", body = Paginated<ChantierView>), errors::AuthedRead)
)]
#[get("")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    page: PageParams,
    sort: Sort<ChantierSort>,
    filters: Filters<ChantierFilters>,
) -> Result<Paginated<ChantierView>, AppError> {
    list_chantiers(
        db.get_ref(),
        caller.scope,
        &filters.into_inner(),
        page,
        sort,
    )
    .await
}

/// Create a chantier for a client (staff).
#[utoipa::path(
    tag = "chantiers",
    security(("bearer" = [])),
    request_body = CreateChantierRequest,
    responses((status = 201, description = "The new chantier", body = ApiResponse<ChantierView>), errors::AuthedWrite)
)]
#[post("")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    state: web::Data<TicketsState>,
    caller: Caller,
    body: Json<CreateChantierRequest>,
) -> Result<ApiResponse<ChantierView>, AppError> {
    Ok(ApiResponse::created(
        create_chantier(db.get_ref(), &state, &caller, body.into_inner()).await?,
    ))
}

/// One chantier.
#[utoipa::path(
    tag = "chantiers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Chantier id")),
    responses((status = 200, description = "The chantier", body = ApiResponse<ChantierView>), errors::AuthedRead)
)]
#[get("/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: Path<Uuid>,
) -> Result<ApiResponse<ChantierView>, AppError> {
    Ok(ApiResponse::ok(
        get_chantier(db.get_ref(), caller.scope, id.into_inner()).await?,
    ))
}

/// Change a chantier (staff).
#[utoipa::path(
    tag = "chantiers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Chantier id")),
    request_body = UpdateChantierRequest,
    responses((status = 200, description = "The chantier", body = ApiResponse<ChantierView>), errors::AuthedWrite)
)]
#[patch("/{id}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<UpdateChantierRequest>,
) -> Result<ApiResponse<ChantierView>, AppError> {
    Ok(ApiResponse::ok(
        update_chantier(db.get_ref(), &caller, id.into_inner(), body.into_inner()).await?,
    ))
}
