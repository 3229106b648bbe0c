//! HTTP endpoints of a park's report: `GET /parks/{id}/report` (JSON), `…/report/export.csv`,
//! `…/report/export.xlsx` and `…/report/print` (an A4 page in Chinese). The park office,
//! inspectors of the park's jurisdiction and administrators read it, as the park's figures.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::http::export::{self, Export};
use crate::reports::service::{self, ParkReport, ReportPages};
use crate::state::AppState;

/// The period of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First month `YYYY-MM` (the park's time zone); 11 months before `to` when left out.
    #[param(example = "2026-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// Last month `YYYY-MM`, inclusive, at most 36 months after `from`; this month when left
    /// out.
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
}

async fn load(
    state: &AppState,
    principal: Principal,
    id: String,
    q: ReportQuery,
) -> Result<ParkReport, ApiError> {
    let now = state.clock.now();
    state
        .db
        .snapshot(move |conn| {
            service::read(
                conn,
                now,
                &principal,
                &id,
                q.from.as_deref(),
                q.to.as_deref(),
            )
        })
        .await
}

/// A park's report for the government over a period.
///
/// For the months of the park's time zone from `from` to `to` (at most 36): the park's trends
/// by waste code (as `GET /parks/{id}/trends`: grams weighed per month against the profiles'
/// expectation and the same month a year before, recycled and disposed); the patrols held on
/// the period's days and the findings recorded at them, with how many are closed (rectified),
/// open and overdue today and the rectification rate (closed in percent of findings, rounded
/// down), in all and by enterprise; and how many of the park's enterprises meet each of the
/// five haves today. The park office, inspectors of the park's jurisdiction and administrators
/// read it.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), ReportQuery),
    responses(
        (status = 200, description = "The report", body = ParkReport),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from or to, to before from, or more than 36 months", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/report")]
pub async fn park_report(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<web::Json<ParkReport>, ApiError> {
    load(&state, principal, id.into_inner(), query.into_inner())
        .await
        .map(web::Json)
}

async fn download(
    state: &AppState,
    principal: Principal,
    id: String,
    q: ReportQuery,
    xlsx: bool,
) -> Result<HttpResponse, ApiError> {
    let report = load(state, principal, id, q).await?;
    let ext = if xlsx { "xlsx" } else { "csv" };
    let export = Export {
        file_name: format!(
            "report-{}-{}-{}.{ext}",
            report.park_id, report.from, report.to
        ),
        sheet: "园区报告".to_owned(),
        headers: service::EXPORT_HEADERS.to_vec(),
    };
    let pages = ReportPages::new(report);
    if xlsx {
        export::xlsx_response(&state.db, export, pages).await
    } else {
        export::csv_response(&state.db, export, pages).await
    }
}

/// A park's report as CSV.
///
/// UTF-8 with a byte-order mark, Chinese headers, kilograms with three decimals: the park and
/// period, then the sections one after another, each with its title line and its header line:
/// the trends (each month's codes and total, then the period's total), the patrols (the park,
/// then each enterprise, then the rule of the rectification rate), the five haves.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), ReportQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("园区固体废物管理报告\n园区,Longgang Eco-Industrial Park\n")),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from or to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/report/export.csv")]
pub async fn park_report_csv(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    download(
        &state,
        principal,
        id.into_inner(),
        query.into_inner(),
        false,
    )
    .await
}

/// A park's report as an Excel workbook.
///
/// The rows of the CSV export.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), ReportQuery),
    responses(
        (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from or to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/report/export.xlsx")]
pub async fn park_report_xlsx(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    download(&state, principal, id.into_inner(), query.into_inner(), true).await
}

/// A park's report as a page designed for printing.
///
/// One A4 page (or more) in Chinese, print to PDF from the browser: the park's name and the
/// period, then the trends, the patrols and the five haves as in the JSON report; kilograms
/// with three decimals.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), ReportQuery),
    responses(
        (status = 200, description = "An HTML page", content_type = "text/html", body = String,
            example = json!("<!doctype html><html lang=\"zh-CN\">…</html>")),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from or to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/report/print")]
pub async fn park_report_print(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = load(&state, principal, id.into_inner(), query.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::reports::print::page(&report)))
}
