//! `?page=&limit=` and `?sort=&order=` (conventions §4), and the SQL page query with its exact
//! count.
//!
//! Values are checked, never clamped: `limit` above 100, `page` below 1, non-numbers and unknown
//! sort fields answer 422 naming the parameter.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};
use sea_orm::sea_query::{Expr, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order as SeaOrder, PaginatorTrait,
    QuerySelect, QueryTrait, Select, TryIntoModel,
};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};

use crate::db::{InlineReads, count_of, find_all_inline, try_inline};
use crate::envelope::{PageMeta, Paginated};
use crate::error::{AppError, FieldErrors};
use crate::extract::parse_query;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;
/// Beyond any real list; keeps offsets far from overflow.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// Which page of a list, from `?page=1&limit=20`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageParams {
    /// 1-based page number.
    pub page: u64,
    /// Items per page, 1..=100.
    pub limit: u64,
}

impl Default for PageParams {
    fn default() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl PageParams {
    /// Rows to skip.
    #[must_use]
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }

    /// Parse from a query string (other parameters are ignored).
    ///
    /// # Errors
    /// 422 naming `page` or `limit` when either is not a number in range.
    pub fn from_query(query: &str) -> Result<Self, AppError> {
        #[derive(Deserialize)]
        struct Raw {
            page: Option<String>,
            limit: Option<String>,
        }
        let raw: Raw = parse_query(query)?;
        let mut errors = FieldErrors::new();
        let page = match raw.page.as_deref().map(str::parse::<u64>) {
            None => 1,
            Some(Ok(page)) if (1..=MAX_PAGE).contains(&page) => page,
            Some(_) => {
                errors.add(
                    "page",
                    format!("must be an integer between 1 and {MAX_PAGE}"),
                );
                1
            }
        };
        let limit = match raw.limit.as_deref().map(str::parse::<u64>) {
            None => DEFAULT_LIMIT,
            Some(Ok(limit)) if (1..=MAX_LIMIT).contains(&limit) => limit,
            Some(_) => {
                errors.add(
                    "limit",
                    format!("must be an integer between 1 and {MAX_LIMIT}"),
                );
                DEFAULT_LIMIT
            }
        };
        errors.into_result()?;
        Ok(Self { page, limit })
    }
}

impl FromRequest for PageParams {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_query(req.query_string()))
    }
}

impl utoipa::IntoParams for PageParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("page")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Page number, starting at 1."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .maximum(Some(MAX_PAGE))
                        .default(Some(1.into())),
                ))
                .build(),
            ParameterBuilder::new()
                .name("limit")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Items per page, at most 100."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .maximum(Some(MAX_LIMIT))
                        .default(Some(DEFAULT_LIMIT.into())),
                ))
                .build(),
        ]
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl From<Order> for SeaOrder {
    fn from(order: Order) -> Self {
        match order {
            Order::Asc => SeaOrder::Asc,
            Order::Desc => SeaOrder::Desc,
        }
    }
}

/// The sortable fields of one resource: the whitelist `?sort=` is checked against.
pub trait SortField: Copy + Send + Sync + 'static {
    /// Accepted names (documented in OpenAPI) and the field each one means.
    const FIELDS: &'static [(&'static str, Self)];
    /// Used when `?sort=` is absent (newest first by convention).
    const DEFAULT: Self;
    const DEFAULT_ORDER: Order = Order::Desc;
}

/// `?sort=<field>&order=asc|desc`, checked against `F`'s whitelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub order: Order,
}

impl<F: SortField> Default for Sort<F> {
    fn default() -> Self {
        Self {
            field: F::DEFAULT,
            order: F::DEFAULT_ORDER,
        }
    }
}

impl<F: SortField> Sort<F> {
    /// Parse from a query string (other parameters are ignored).
    ///
    /// # Errors
    /// 422 naming `sort` (with the allowed names) or `order`.
    pub fn from_query(query: &str) -> Result<Self, AppError> {
        #[derive(Deserialize)]
        struct Raw {
            sort: Option<String>,
            order: Option<String>,
        }
        let raw: Raw = parse_query(query)?;
        let mut errors = FieldErrors::new();
        let field = match raw.sort.as_deref() {
            None => F::DEFAULT,
            Some(name) => match F::FIELDS.iter().find(|(n, _)| *n == name) {
                Some((_, field)) => *field,
                None => {
                    let names: Vec<&str> = F::FIELDS.iter().map(|(n, _)| *n).collect();
                    errors.add("sort", format!("must be one of: {}", names.join(", ")));
                    F::DEFAULT
                }
            },
        };
        let order = match raw.order.as_deref() {
            None => F::DEFAULT_ORDER,
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(_) => {
                errors.add("order", "must be one of: asc, desc");
                F::DEFAULT_ORDER
            }
        };
        errors.into_result()?;
        Ok(Self { field, order })
    }
}

impl<F: SortField> FromRequest for Sort<F> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_query(req.query_string()))
    }
}

impl<F: SortField> utoipa::IntoParams for Sort<F> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let names: Vec<&str> = F::FIELDS.iter().map(|(n, _)| *n).collect();
        let default_name = F::FIELDS
            .iter()
            .find(|(_, f)| std::mem::discriminant(f) == std::mem::discriminant(&F::DEFAULT))
            .map(|(n, _)| *n);
        let default_order = match F::DEFAULT_ORDER {
            Order::Asc => "asc",
            Order::Desc => "desc",
        };
        vec![
            ParameterBuilder::new()
                .name("sort")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Field to sort by."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(names))
                        .default(default_name.map(Into::into)),
                ))
                .build(),
            ParameterBuilder::new()
                .name("order")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Sort direction."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["asc", "desc"]))
                        .default(Some(default_order.into())),
                ))
                .build(),
        ]
    }
}

/// The query parameters [`PageParams`] and [`Sort`] read.
pub const PAGING_PARAMS: &[&str] = &["page", "limit", "sort", "order"];

/// The filters of a paginated list: every query parameter except the paging ones, parsed into
/// `T` (give `T` `#[serde(deny_unknown_fields)]` so a misspelt filter answers 422 instead of
/// silently listing everything), then validated.
#[derive(Debug)]
pub struct Filters<T>(pub T);

impl<T> Filters<T> {
    pub fn into_inner(self) -> T {
        self.0
    }

    /// Parse from a whole query string.
    ///
    /// # Errors
    /// 422 naming the parameter that is unknown, does not parse or fails a rule.
    pub fn from_query(query: &str) -> Result<Self, AppError>
    where
        T: serde::de::DeserializeOwned + validator::Validate,
    {
        let rest: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(query.as_bytes())
                    .filter(|(key, _)| !PAGING_PARAMS.contains(&key.as_ref())),
            )
            .finish();
        let value: T = parse_query(&rest)?;
        crate::extract::validate(&value)?;
        Ok(Self(value))
    }
}

impl<T> FromRequest for Filters<T>
where
    T: serde::de::DeserializeOwned + validator::Validate + 'static,
{
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_query(req.query_string()))
    }
}

/// Run a select as one page plus its exact total, both in SQL (see [`page_and_total`]).
///
/// # Errors
/// Database errors from either query.
pub async fn fetch_page<'db, C, S>(
    db: &'db C,
    select: S,
    page: PageParams,
) -> Result<Paginated<<S::Selector as sea_orm::SelectorTrait>::Item>, DbErr>
where
    C: ConnectionTrait,
    S: PaginatorTrait<'db, C>,
{
    let paginator = select.paginate(db, page.limit);
    let (items, total) = page_and_total(
        page,
        || paginator.fetch_page(page.page - 1),
        || paginator.num_items(),
    )
    .await?;
    Ok(Paginated::new(
        items,
        PageMeta::new(page.page, page.limit, total),
    ))
}

/// [`fetch_page`] for a select of whole models (`E::find()` and its conditions and order): the
/// page and its total are read on the request's own thread when `inline` is given and `db` is
/// an SQLite file ([`InlineReads`]: each statement within its budget of SQLite's work), else,
/// or when either cannot be read there, through the pool, the same statements as
/// [`fetch_page`]'s. `db` is the pool, never a transaction: an inline read does not see a
/// transaction's own writes.
///
/// # Errors
/// The pool's errors.
pub async fn fetch_models_page<E>(
    db: &DatabaseConnection,
    inline: Option<&InlineReads>,
    select: Select<E>,
    page: PageParams,
) -> Result<Paginated<E::Model>, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let backend = db.get_database_backend();
    let rows = || {
        find_all_inline(
            db,
            inline,
            select.clone().limit(page.limit).offset(page.offset()),
        )
    };
    let count = || async {
        // As sea-orm's paginator counts.
        let statement = backend.build(
            SelectStatement::new()
                .expr(Expr::cust("COUNT(*) AS num_items"))
                .from_subquery(
                    select
                        .as_query()
                        .clone()
                        .reset_limit()
                        .reset_offset()
                        .clear_order_by()
                        .to_owned(),
                    "sub_query",
                ),
        );
        if let Some(total) = try_inline(backend, inline, |inline| {
            inline.query_one(&statement, |row| row.get::<_, i64>(0))
        }) {
            return Ok(count_of(total));
        }
        Ok(match db.query_one_raw(statement).await? {
            Some(row) => count_of(row.try_get::<i64>("", "num_items")?),
            None => 0,
        })
    };
    let (items, total) = page_and_total(page, rows, count).await?;
    Ok(Paginated::new(
        items,
        PageMeta::new(page.page, page.limit, total),
    ))
}

/// The rows of `page` (`rows` reads them) and the total (`count` counts them), with as few
/// queries as the page allows: a first page is read first and counted only when it is full
/// (a shorter one holds everything); a later page is counted first, so a page past the end
/// costs the count alone.
///
/// # Errors
/// The errors of either query.
pub async fn page_and_total<T, E, R, RF, C, CF>(
    page: PageParams,
    rows: R,
    count: C,
) -> Result<(Vec<T>, u64), E>
where
    R: FnOnce() -> RF,
    RF: Future<Output = Result<Vec<T>, E>>,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<u64, E>>,
{
    if page.page > 1 {
        let total = count().await?;
        let items = if page.offset() >= total {
            Vec::new()
        } else {
            rows().await?
        };
        return Ok((items, total));
    }
    let items = rows().await?;
    let total = match u64::try_from(items.len()) {
        Ok(read) if read < page.limit => read,
        _ => count().await?,
    };
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum TicketSort {
        CreatedAt,
        Priority,
    }

    impl SortField for TicketSort {
        const FIELDS: &'static [(&'static str, Self)] = &[
            ("created_at", Self::CreatedAt),
            ("priority", Self::Priority),
        ];
        const DEFAULT: Self = Self::CreatedAt;
    }

    fn field_names(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(f) => f.fields().keys().cloned().collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    /// Runs `page_and_total` over `rows` rows, returning the page, the total and the queries.
    async fn paged(page: u64, limit: u64, rows: u64) -> (Vec<u64>, u64, Vec<&'static str>) {
        let queries = std::cell::RefCell::new(Vec::new());
        let params = PageParams { page, limit };
        let all: Vec<u64> = (0..rows).collect();
        let run = page_and_total(
            params,
            || async {
                queries.borrow_mut().push("rows");
                let start = usize::try_from(params.offset()).unwrap().min(all.len());
                let end = (start + usize::try_from(limit).unwrap()).min(all.len());
                Ok::<_, ()>(all[start..end].to_vec())
            },
            || async {
                queries.borrow_mut().push("count");
                Ok(rows)
            },
        );
        let (items, total) = run.await.unwrap();
        (items, total, queries.into_inner())
    }

    #[tokio::test]
    async fn a_short_first_page_is_not_counted_and_a_page_past_the_end_is_not_read() {
        assert_eq!(paged(1, 20, 0).await, (vec![], 0, vec!["rows"]));
        assert_eq!(paged(1, 20, 7).await, ((0..7).collect(), 7, vec!["rows"]));
        assert_eq!(
            paged(1, 20, 20).await,
            ((0..20).collect(), 20, vec!["rows", "count"])
        );
        assert_eq!(
            paged(1, 20, 47).await,
            ((0..20).collect(), 47, vec!["rows", "count"])
        );
        assert_eq!(
            paged(3, 20, 47).await,
            ((40..47).collect(), 47, vec!["count", "rows"])
        );
        assert_eq!(paged(4, 20, 47).await, (vec![], 47, vec!["count"]));
    }

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(PageParams::from_query("").unwrap(), PageParams::default());
        let sort = Sort::<TicketSort>::from_query("").unwrap();
        assert_eq!(sort.field, TicketSort::CreatedAt);
        assert_eq!(sort.order, Order::Desc);
    }

    #[test]
    fn out_of_range_values_are_refused_not_clamped() {
        assert_eq!(
            field_names(PageParams::from_query("limit=101").unwrap_err()),
            ["limit"]
        );
        assert_eq!(
            field_names(PageParams::from_query("limit=0").unwrap_err()),
            ["limit"]
        );
        assert_eq!(
            field_names(PageParams::from_query("page=0").unwrap_err()),
            ["page"]
        );
        assert_eq!(
            field_names(PageParams::from_query("page=-1").unwrap_err()),
            ["page"]
        );
        assert_eq!(
            field_names(PageParams::from_query("page=x&limit=y").unwrap_err()),
            ["limit", "page"]
        );
        assert_eq!(
            PageParams::from_query("page=3&limit=100").unwrap(),
            PageParams {
                page: 3,
                limit: 100
            }
        );
    }

    #[test]
    fn sort_is_checked_against_the_whitelist() {
        assert_eq!(
            field_names(Sort::<TicketSort>::from_query("sort=password").unwrap_err()),
            ["sort"]
        );
        assert_eq!(
            field_names(Sort::<TicketSort>::from_query("order=up").unwrap_err()),
            ["order"]
        );
        let sort = Sort::<TicketSort>::from_query("sort=priority&order=asc").unwrap();
        assert_eq!(sort.field, TicketSort::Priority);
        assert_eq!(sort.order, Order::Asc);
    }

    #[test]
    fn offset_is_zero_based() {
        assert_eq!(PageParams { page: 1, limit: 20 }.offset(), 0);
        assert_eq!(PageParams { page: 3, limit: 20 }.offset(), 40);
    }
}
