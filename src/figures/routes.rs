//! HTTP endpoints of the figures: `GET /parks/{id}/figures/stock`, `…/figures/latency` and
//! `…/figures/volumes`.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::figures::service::{self, LatencyFigures, StockFigures, VolumeFigures};
use crate::state::AppState;

/// A range of months of the park's time zone.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthsQuery {
    /// First month `YYYY-MM` (the park's time zone); 11 months before `to` when left out.
    #[param(example = "2026-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// Last month `YYYY-MM`, inclusive, at most 36 months after `from`; this month when left
    /// out.
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumesQuery {
    /// First month `YYYY-MM` (the park's time zone); 11 months before `to` when left out.
    #[param(example = "2026-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// Last month `YYYY-MM`, inclusive, at most 36 months after `from`; this month when left
    /// out.
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
    /// Group by `code`, `enterprise`, `disposer` or `month` (the default).
    #[param(example = "code")]
    pub by: Option<String>,
}

/// The stock of a park's warehouses now.
///
/// Per warehouse: each zone's stored grams against its capacity, and per contract and category
/// the stored grams and lots against the contract's pickup threshold for the category, in
/// force today. Read from the stock kept exact with every weighing, correction, void and
/// collection. The park office and inspectors of the park's region read it.
#[utoipa::path(
    tag = "figures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id")),
    responses(
        (status = 200, description = "The stock", body = StockFigures),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/figures/stock")]
pub async fn stock(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<StockFigures>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let view = state
        .db
        .snapshot(move |conn| service::read_stock(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Pickup and receipt latency per month.
///
/// For each month of the park's time zone from `from` to `to`: the pickup latency, from a
/// pickup request being raised to its collection (the capture time of the outbound weighing),
/// of the collections of the month; and the receipt latency, from the carrier's take-over of a
/// manifest to the receiver's receipt, of the receipts of the month. Each as a count, the mean
/// (rounded down) and the longest, in whole seconds; a month with none has only its count, 0.
#[utoipa::path(
    tag = "figures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), MonthsQuery),
    responses(
        (status = 200, description = "Latencies per month", body = LatencyFigures),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from or to, to before from, or more than 36 months", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/figures/latency")]
pub async fn latency(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<MonthsQuery>,
) -> Result<web::Json<LatencyFigures>, ApiError> {
    let now = state.clock.now();
    let (id, q) = (id.into_inner(), query.into_inner());
    let view = state
        .db
        .snapshot(move |conn| {
            service::read_latency(
                conn,
                now,
                &principal,
                &id,
                q.from.as_deref(),
                q.to.as_deref(),
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// Volumes handed in, per waste code, enterprise, disposer or month.
///
/// The net weight of the park's weighed lots whose business time (the weighing's capture, or
/// the weighing at the door when collected there) lies in the months `from` to `to` of the
/// park's time zone, grouped by `by`: waste code, enterprise, disposal company (the contract's)
/// or month. Voided lots and declarations not yet weighed do not count. The 200 heaviest groups
/// are listed (every month, by month); the totals cover all of them.
#[utoipa::path(
    tag = "figures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), VolumesQuery),
    responses(
        (status = 200, description = "Volumes", body = VolumeFigures),
        (status = 403, description = "Your role reads no park's figures", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one whose figures you may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from, to or by, to before from, or more than 36 months", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/figures/volumes")]
pub async fn volumes(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<VolumesQuery>,
) -> Result<web::Json<VolumeFigures>, ApiError> {
    let now = state.clock.now();
    let (id, q) = (id.into_inner(), query.into_inner());
    let view = state
        .db
        .snapshot(move |conn| {
            service::read_volumes(
                conn,
                now,
                &principal,
                &id,
                q.from.as_deref(),
                q.to.as_deref(),
                q.by.as_deref(),
            )
        })
        .await?;
    Ok(web::Json(view))
}
