//! `/api/clients`: the client companies tickets are about (companies of type `client`), with
//! their ticket and chantier counts and their satisfaction (the average of the ratings clients
//! gave when closing tickets). Staff manage them; a client user sees its own company.

use actix_web::{get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::company::{self, ClientKind, CompanyType};
use entity::{chantier, ticket};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order as SqlOrder, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, IntoActiveModel,
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

use crate::scope::{Caller, Scope};
use crate::tickets::service::open_statuses;

/// A client company with its aggregates (seed 003).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    pub id: Uuid,
    #[schema(example = "SARL Construction Plus")]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: Option<ClientKind>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub adresse: Option<String>,
    pub ville: Option<String>,
    pub nb_tickets: i64,
    /// Not resolved or closed.
    pub nb_tickets_ouverts: i64,
    pub nb_chantiers: i64,
    /// Average rating (1..=5, one decimal) of its closed tickets; `null` before any rating.
    #[schema(example = 4.5)]
    pub note_satisfaction: Option<f64>,
    #[serde(serialize_with = "serialize_utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct ClientRow {
    id: Uuid,
    name: String,
    client_kind: Option<ClientKind>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    city: Option<String>,
    created_at: DateTime<Utc>,
    nb_tickets: i64,
    nb_tickets_ouverts: i64,
    nb_chantiers: i64,
    note_satisfaction: Option<f64>,
}

impl From<ClientRow> for ClientView {
    fn from(row: ClientRow) -> Self {
        Self {
            id: row.id,
            nom: row.name,
            kind: row.client_kind,
            email: row.email,
            telephone: row.phone,
            adresse: row.address,
            ville: row.city,
            nb_tickets: row.nb_tickets,
            nb_tickets_ouverts: row.nb_tickets_ouverts,
            nb_chantiers: row.nb_chantiers,
            note_satisfaction: row.note_satisfaction.map(|n| (n * 10.0).round() / 10.0),
            created_at: row.created_at,
        }
    }
}

fn co() -> Alias {
    Alias::new("co")
}

/// The aggregates of the client `co`, as sub-queries.
fn aggregates(select: &mut SelectStatement) {
    let x = Alias::new("x");
    let tickets_of = || {
        Query::select()
            .from_as(ticket::Entity, x.clone())
            .and_where(
                Expr::col((x.clone(), ticket::Column::ClientId))
                    .equals((co(), company::Column::Id)),
            )
            .to_owned()
    };
    select
        .expr_as(
            Expr::from(tickets_of().expr(Expr::cust("COUNT(*)")).to_owned()),
            Alias::new("nb_tickets"),
        )
        .expr_as(
            Expr::from(
                tickets_of()
                    .expr(Expr::cust("COUNT(*)"))
                    .and_where(
                        Expr::col((x.clone(), ticket::Column::Status)).is_in(open_statuses()),
                    )
                    .to_owned(),
            ),
            Alias::new("nb_tickets_ouverts"),
        )
        .expr_as(
            Expr::from(
                Query::select()
                    .expr(Expr::cust("COUNT(*)"))
                    .from_as(chantier::Entity, x.clone())
                    .and_where(
                        Expr::col((x.clone(), chantier::Column::ClientId))
                            .equals((co(), company::Column::Id)),
                    )
                    .to_owned(),
            ),
            Alias::new("nb_chantiers"),
        )
        .expr_as(
            // REAL on both databases (PostgreSQL's avg of an integer would be numeric).
            Expr::from(
                tickets_of()
                    .expr(Expr::cust("AVG(CAST(x.note_satisfaction AS REAL))"))
                    .to_owned(),
            ),
            Alias::new("note_satisfaction"),
        );
}

/// Client companies `scope` may see, matching `conditions` (no columns yet).
fn client_companies(scope: Scope, conditions: &[Expr]) -> SelectStatement {
    let mut select = Query::select();
    select.from_as(company::Entity, co()).and_where(
        Expr::col((co(), company::Column::CompanyType)).eq(CompanyType::Client.to_value()),
    );
    if let Some(company) = scope.company() {
        select.and_where(Expr::col((co(), company::Column::Id)).eq(company));
    }
    for condition in conditions {
        select.and_where(condition.clone());
    }
    select
}

/// The columns of [`ClientRow`].
fn row_columns(select: &mut SelectStatement) {
    for column in [
        company::Column::Id,
        company::Column::Name,
        company::Column::ClientKind,
        company::Column::Email,
        company::Column::Phone,
        company::Column::Address,
        company::Column::City,
        company::Column::CreatedAt,
    ] {
        select.column((co(), column));
    }
    aggregates(select);
}

/// Sortable fields of the client list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSort {
    CreatedAt,
    Nom,
    Ville,
}

impl SortField for ClientSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("created_at", Self::CreatedAt),
        ("nom", Self::Nom),
        ("ville", Self::Ville),
    ];
    const DEFAULT: Self = Self::CreatedAt;
}

/// Filters of the client list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientFilters {
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ClientKind>,
    /// Exact city.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub ville: Option<String>,
}

async fn fetch(
    db: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<ClientView>, AppError> {
    Ok(db
        .query_all(select)
        .await?
        .iter()
        .map(|row| ClientRow::from_query_result(row, "").map(ClientView::from))
        .collect::<Result<Vec<_>, _>>()?)
}

/// A page of the clients `scope` may see.
///
/// # Errors
/// Database errors.
pub async fn list_clients(
    db: &impl ConnectionTrait,
    scope: Scope,
    filters: &ClientFilters,
    page: PageParams,
    sort: Sort<ClientSort>,
) -> Result<Paginated<ClientView>, AppError> {
    let mut conditions = Vec::new();
    if let Some(kind) = filters.kind {
        conditions.push(Expr::col((co(), company::Column::ClientKind)).eq(kind.to_value()));
    }
    if let Some(ville) = &filters.ville {
        conditions.push(Expr::col((co(), company::Column::City)).eq(ville.trim()));
    }
    let mut count = client_companies(scope, &conditions);
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
        ClientSort::CreatedAt => company::Column::CreatedAt,
        ClientSort::Nom => company::Column::Name,
        ClientSort::Ville => company::Column::City,
    };
    let mut select = client_companies(scope, &conditions);
    row_columns(&mut select);
    select
        .order_by((co(), column), order.clone())
        .order_by((co(), company::Column::Id), order)
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

/// One client `scope` may see.
///
/// # Errors
/// 404 otherwise.
pub async fn get_client(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: Uuid,
) -> Result<ClientView, AppError> {
    let mut select = client_companies(scope, &[Expr::col((co(), company::Column::Id)).eq(id)]);
    row_columns(&mut select);
    fetch(db, &select)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("No such client"))
}

/// `POST /api/clients`.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(example = "Entreprise XYZ", min_length = 1, max_length = 255)]
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: ClientKind,
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 50))]
    #[schema(example = "+221 33 824 56 78", min_length = 3, max_length = 50)]
    pub telephone: Option<String>,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub adresse: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(example = "Dakar", min_length = 1, max_length = 100)]
    pub ville: Option<String>,
}

/// `PATCH /api/clients/{id}`: only the fields sent change; `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub nom: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ClientKind>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(email, length(max = 254))]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 3, max = 50))]
    #[schema(value_type = Option<String>, min_length = 3, max_length = 50)]
    pub telephone: Option<Option<String>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 1000))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000)]
    pub adresse: Option<Option<String>>,
    #[serde(default, deserialize_with = "shared::extract::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub ville: Option<Option<String>>,
}

fn required_text(value: &str, field: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be blank"));
    }
    Ok(value.to_owned())
}

fn optional_text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Create a client company (staff).
///
/// # Errors
/// 403 for a client user; 422 for bad input.
pub async fn create_client(
    db: &DatabaseConnection,
    caller: &Caller,
    request: CreateClientRequest,
) -> Result<ClientView, AppError> {
    caller.scope.require_staff("create clients")?;
    let nom = required_text(&request.nom, "nom")?;
    let mut row = company::new_client(&nom, Some(request.kind));
    row.email = Set(optional_text(request.email).map(|e| e.to_lowercase()));
    row.phone = Set(optional_text(request.telephone));
    row.address = Set(optional_text(request.adresse));
    row.city = Set(optional_text(request.ville));
    let txn = shared::db::begin_write(db).await?;
    let created = row.insert(&txn).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("create_client", "company")
            .entity_id(created.id)
            .after(&audit_view(&created)),
    )
    .await?;
    txn.commit().await?;
    get_client(db, Scope::Staff, created.id).await
}

fn audit_view(company: &company::Model) -> serde_json::Value {
    serde_json::json!({
        "nom": company.name,
        "type": company.client_kind,
        "email": company.email,
        "telephone": company.phone,
        "adresse": company.address,
        "ville": company.city,
    })
}

/// Change a client company (staff).
///
/// # Errors
/// 403 for a client user; 404 for an unknown client; 422 for bad input.
pub async fn update_client(
    db: &DatabaseConnection,
    caller: &Caller,
    id: Uuid,
    request: UpdateClientRequest,
) -> Result<ClientView, AppError> {
    caller.scope.require_staff("change clients")?;
    let txn = shared::db::begin_write(db).await?;
    let before = company::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|c| c.company_type == CompanyType::Client)
        .ok_or_else(|| AppError::not_found("No such client"))?;
    let mut row = before.clone().into_active_model();
    if let Some(nom) = &request.nom {
        row.name = Set(required_text(nom, "nom")?);
    }
    if let Some(kind) = request.kind {
        row.client_kind = Set(Some(kind));
    }
    if let Some(email) = request.email {
        row.email = Set(optional_text(email).map(|e| e.to_lowercase()));
    }
    if let Some(phone) = request.telephone {
        row.phone = Set(optional_text(phone));
    }
    if let Some(address) = request.adresse {
        row.address = Set(optional_text(address));
    }
    if let Some(city) = request.ville {
        row.city = Set(optional_text(city));
    }
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor,
        AuditEntry::new("update_client", "company")
            .entity_id(id)
            .before(&audit_view(&before))
            .after(&audit_view(&after)),
    )
    .await?;
    txn.commit().await?;
    get_client(db, Scope::Staff, id).await
}

/// List client companies with their ticket and chantier counts (a client sees its own).
#[utoipa::path(
    tag = "clients",
    security(("bearer" = [])),
    params(PageParams, Sort<ClientSort>, ClientFilters),
    responses((status = 200, description = "A page of clients", body = Paginated<ClientView>), errors::AuthedRead)
)]
#[get("")]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    page: PageParams,
    sort: Sort<ClientSort>,
    filters: Filters<ClientFilters>,
) -> Result<Paginated<ClientView>, AppError> {
    list_clients(
        db.get_ref(),
        caller.scope,
        &filters.into_inner(),
        page,
        sort,
    )
    .await
}

/// Create a client company (staff).
#[utoipa::path(
    tag = "clients",
    security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses((status = 201, description = "The new client", body = ApiResponse<ClientView>), errors::AuthedWrite)
)]
#[post("")]
pub async fn create(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateClientRequest>,
) -> Result<ApiResponse<ClientView>, AppError> {
    Ok(ApiResponse::created(
        create_client(db.get_ref(), &caller, body.into_inner()).await?,
    ))
}

/// One client company.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = ApiResponse<ClientView>), errors::AuthedRead)
)]
#[get("/{id}")]
pub async fn get(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: Path<Uuid>,
) -> Result<ApiResponse<ClientView>, AppError> {
    Ok(ApiResponse::ok(
        get_client(db.get_ref(), caller.scope, id.into_inner()).await?,
    ))
}

/// Change a client company (staff).
#[utoipa::path(
    tag = "clients",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Client id")),
    request_body = UpdateClientRequest,
    responses((status = 200, description = "The client", body = ApiResponse<ClientView>), errors::AuthedWrite)
)]
#[patch("/{id}")]
pub async fn update(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<UpdateClientRequest>,
) -> Result<ApiResponse<ClientView>, AppError> {
    Ok(ApiResponse::ok(
        update_client(db.get_ref(), &caller, id.into_inner(), body.into_inner()).await?,
    ))
}
