//! HTTP endpoints of the enterprises' compliance: the waste profile (`GET|PUT
//! /enterprises/{id}/profile`, `…/profile/versions`), the five haves (`GET
//! /enterprises/{id}/five-haves`, `PUT …/five-haves/{have}`, `GET /parks/{id}/five-haves`) and
//! the trends (`GET /{enterprises|parks}/{id}/trends`, `…/trends/export.csv|xlsx`).

use actix_web::{HttpResponse, get, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::http::export::{self, Export};
use crate::http::{Json, Page, PageQuery};
use crate::profiles::haves::{self, FiveHavesView, HaveRecordRequest, ParkFiveHaves};
use crate::profiles::service::{self, ProfileRequest, ProfileView};
use crate::profiles::trends::{self, TrendFigures, TrendPages, Whose};
use crate::registry::history::{HistoryQuery, Revision};
use crate::state::AppState;

/// Read an enterprise's waste profile.
///
/// The kinds of waste it produces (codes of the catalog) with the grams expected per month and
/// how each is handled today, its person in charge and its storage points on its premises, as
/// of the latest version. The park office, inspectors of the park's jurisdiction and the
/// enterprise itself read it.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The profile", body = ProfileView),
        (status = 404, description = "No such enterprise, not one you may see, or no profile yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}/profile")]
pub async fn get_profile(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ProfileView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::read_profile(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Replace an enterprise's waste profile.
///
/// The body is the whole profile: it becomes the next version (the first PUT creates version
/// 1); the replaced version stays readable in `…/profile/versions` with who replaced it and
/// when. Each code must be in the catalog and not withdrawn, and listed once. From then on, a
/// lot of a code the profile does not list is accepted but flagged (`outside_profile`). The
/// park office writes it; the enterprise and inspectors get 403.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    request_body = ProfileRequest,
    responses(
        (status = 200, description = "The profile as now stored", body = ProfileView),
        (status = 403, description = "You may read but not change this enterprise's profile", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, named by field (e.g. wastes[0].waste_code)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/enterprises/{id}/profile")]
pub async fn put_profile(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ProfileRequest>,
) -> Result<web::Json<ProfileView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let body = body.into_inner();
    let view = state
        .db
        .write(move |conn| service::replace_profile(conn, now, &principal, &id, body))
        .await?;
    Ok(web::Json(view))
}

/// The versions of an enterprise's waste profile.
///
/// Every version as it was stored, oldest first, with who stored it and when; with `as_of`,
/// only the version in force then.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions, oldest first", body = Page<Revision>),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad as_of, limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}/profile/versions")]
pub async fn profile_versions(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<HistoryQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<Revision>>, ApiError> {
    let id = id.into_inner();
    let (query, page) = (query.into_inner(), page.into_inner());
    let page = state
        .db
        .run(move |conn| service::profile_versions(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// An enterprise's five haves (五个有).
///
/// A person in charge, a storage point, sorting, labels and a disposal contract, each computed
/// from the service's data where the data says something (`source` `data`), else the park
/// office's latest record (`record`), else not met (`none`); with the figures each was computed
/// from. Sorting and labels look at the lots of the last 90 days of the park's time zone. The
/// park office, inspectors of the jurisdiction and the enterprise itself read it.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The five haves", body = FiveHavesView),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}/five-haves")]
pub async fn five_haves(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<FiveHavesView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let view = state
        .db
        .snapshot(move |conn| haves::read(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Record one of an enterprise's five haves.
///
/// What the park office found (met or not, with a note), counted where the data says nothing
/// (no profile, no lots in the last 90 days); shown beside the data's answer otherwise. The
/// latest record of a have replaces the one before, which stays in the audit log and the
/// revisions. The park office writes; the enterprise and inspectors get 403.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Enterprise id"),
        ("have" = String, Path, description = "`person_in_charge`, `storage_point`, `sorting`, `labels` or `contract`"),
    ),
    request_body = HaveRecordRequest,
    responses(
        (status = 200, description = "The five haves with the record", body = FiveHavesView),
        (status = 403, description = "You may read but not record this enterprise's five haves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown have, or a bad note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/enterprises/{id}/five-haves/{have}")]
pub async fn record_have(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: Json<HaveRecordRequest>,
) -> Result<web::Json<FiveHavesView>, ApiError> {
    let now = state.clock.now();
    let (id, have) = path.into_inner();
    let body = body.into_inner();
    let view = state
        .db
        .write(move |conn| haves::record_have(conn, now, &principal, &id, &have, body))
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiveHavesQuery {
    /// `haves` (fewest met first, the default), `-haves` (most first) or `name`.
    #[param(example = "haves")]
    pub sort: Option<String>,
    /// Only the enterprises that lack this have.
    #[param(example = "contract")]
    pub missing: Option<String>,
}

/// The five haves of a park's enterprises.
///
/// Every enterprise in the park today, with its five haves, sorted by how many are met (or by
/// name), optionally only those lacking one. The park office and inspectors of the park's
/// jurisdiction read it.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), FiveHavesQuery),
    responses(
        (status = 200, description = "The park's enterprises", body = ParkFiveHaves),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad sort or missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/five-haves")]
pub async fn park_five_haves(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<FiveHavesQuery>,
) -> Result<web::Json<ParkFiveHaves>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let q = query.into_inner();
    let view = state
        .db
        .snapshot(move |conn| {
            haves::read_park(
                conn,
                now,
                &principal,
                &id,
                q.sort.as_deref(),
                q.missing.as_deref(),
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// The months and grouping of a trends request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    /// First month `YYYY-MM` (the park's time zone); 11 months before `to` when left out.
    #[param(example = "2026-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// Last month `YYYY-MM`, inclusive, at most 36 months after `from`; this month when left
    /// out.
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
    /// Group by `code` (the default) or `category`.
    #[param(example = "code")]
    pub by: Option<String>,
}

impl TrendsQuery {
    fn asked(self) -> trends::Asked {
        trends::Asked {
            from: self.from,
            to: self.to,
            by: self.by,
        }
    }
}

async fn figures(
    state: &AppState,
    principal: Principal,
    whose: Whose,
    q: TrendsQuery,
) -> Result<TrendFigures, ApiError> {
    let now = state.clock.now();
    let asked = q.asked();
    state
        .db
        .snapshot(move |conn| trends::read(conn, now, &principal, whose, &asked))
        .await
}

async fn download(
    state: &AppState,
    principal: Principal,
    whose: Whose,
    q: TrendsQuery,
    xlsx: bool,
) -> Result<HttpResponse, ApiError> {
    let view = figures(state, principal, whose, q).await?;
    let ext = if xlsx { "xlsx" } else { "csv" };
    let who = view.enterprise_id.as_deref().unwrap_or(&view.park_id);
    let export = Export {
        file_name: format!("trends-{who}-{}-{}-{}.{ext}", view.by, view.from, view.to),
        sheet: "减量与趋势".to_owned(),
        headers: trends::EXPORT_HEADERS.to_vec(),
    };
    let pages = TrendPages::new(view);
    if xlsx {
        export::xlsx_response(&state.db, export, pages).await
    } else {
        export::csv_response(&state.db, export, pages).await
    }
}

macro_rules! trend_routes {
    (
        $variant:ident,
        $json:ident = $json_path:literal, $json_doc:literal, $who:literal,
        $csv:ident = $csv_path:literal, $csv_doc:literal,
        $xlsx:ident = $xlsx_path:literal, $xlsx_doc:literal
    ) => {
        #[doc = $json_doc]
        ///
        #[doc = "Per month of the park's time zone from `from` to `to` (at most 36), by waste code or category: the grams weighed (lots weighed and not voided, by business time, added up by the database), the same month a year before, the grams the current waste profiles expect per month, and what of it was recycled (a negative price in the contract in force on the month's last day, or a code the enterprise's profile hands to a recycler) or disposed; with each month's totals, its recycled share and its change against the year before."]
        ///
        #[doc = $who]
        #[utoipa::path(
            tag = "compliance",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), TrendsQuery),
            responses(
                (status = 200, description = "The trends", body = TrendFigures),
                (status = 403, description = "Your role does not read these figures", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such object, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A bad from, to or by, to before from, or more than 36 months", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($json_path)]
        pub async fn $json(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<TrendsQuery>,
        ) -> Result<web::Json<TrendFigures>, ApiError> {
            figures(&state, principal, Whose::$variant(id.into_inner()), query.into_inner())
                .await
                .map(web::Json)
        }

        #[doc = $csv_doc]
        ///
        #[doc = "UTF-8 with a byte-order mark, Chinese headers, kilograms with three decimals: per month each code or category, then the month's total (合计)."]
        #[utoipa::path(
            tag = "compliance",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), TrendsQuery),
            responses(
                (status = 200, description = "CSV", content_type = "text/csv", body = String,
                    example = json!("月份,废物代码或类别,名称,本月重量（千克，保留3位小数）,批次数,去年同月重量（千克，保留3位小数）,预计重量（千克，保留3位小数）,回收利用重量（千克，保留3位小数）,处置重量（千克，保留3位小数）\n")),
                (status = 403, description = "Your role does not read these figures", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such object, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A bad from, to or by", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($csv_path)]
        pub async fn $csv(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<TrendsQuery>,
        ) -> Result<HttpResponse, ApiError> {
            download(&state, principal, Whose::$variant(id.into_inner()), query.into_inner(), false).await
        }

        #[doc = $xlsx_doc]
        ///
        #[doc = "The rows of the CSV export."]
        #[utoipa::path(
            tag = "compliance",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), TrendsQuery),
            responses(
                (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
                    example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
                (status = 403, description = "Your role does not read these figures", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such object, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A bad from, to or by", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($xlsx_path)]
        pub async fn $xlsx(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<TrendsQuery>,
        ) -> Result<HttpResponse, ApiError> {
            download(&state, principal, Whose::$variant(id.into_inner()), query.into_inner(), true).await
        }
    };
}

trend_routes!(
    Enterprise,
    enterprise_trends = "/enterprises/{id}/trends",
    "An enterprise's monthly waste against its profile and the year before.",
    "The park office, inspectors of the park's jurisdiction and the enterprise itself read them.",
    enterprise_trends_csv = "/enterprises/{id}/trends/export.csv",
    "An enterprise's trends as CSV.",
    enterprise_trends_xlsx = "/enterprises/{id}/trends/export.xlsx",
    "An enterprise's trends as an Excel workbook."
);

trend_routes!(
    Park,
    park_trends = "/parks/{id}/trends",
    "A park's monthly waste against its enterprises' profiles and the year before.",
    "The park office and inspectors of the park's jurisdiction read them.",
    park_trends_csv = "/parks/{id}/trends/export.csv",
    "A park's trends as CSV.",
    park_trends_xlsx = "/parks/{id}/trends/export.xlsx",
    "A park's trends as an Excel workbook."
);
