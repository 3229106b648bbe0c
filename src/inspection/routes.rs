//! HTTP endpoints of the inspector's desk: a lot's and a manifest's trace, and the anomaly lists.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::ids::{LotId, ManifestId};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::{Page, PageQuery};
use crate::inspection::service::{
    self, ANOMALY_KINDS, Anomaly, AnomalyQuery, LotTrace, ManifestTrace,
};
use crate::state::AppState;

/// The trace of a lot in one call: the lot, every pickup request it waited in, the collection,
/// the manifest with its receipt (weight, decision, refusal case) and treatment, and how far it
/// has gone (`stage`). Read by whoever may read the lot; each part shown as its own endpoint
/// shows it to you.
#[utoipa::path(
    tag = "inspection",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id")),
    responses(
        (status = 200, description = "The lot's trace", body = LotTrace),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}/trace")]
pub async fn lot_trace(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<LotTrace>, ApiError> {
    let now = state.clock.now();
    let id = LotId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    let trace = state
        .db
        .snapshot(move |conn| service::lot_trace(conn, now, &principal, &id, tolerance))
        .await?;
    Ok(web::Json(trace))
}

/// The trace of a manifest in one call: the manifest, its collection and pickup request, and
/// every lot and enterprise it carries (an enterprise sees only its own lots; a lot's current
/// state is shown to those who may read the lot). Read by whoever may read the manifest: its
/// park office, its parties and driver, and the inspectors of both sides of the transfer.
#[utoipa::path(
    tag = "inspection",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "The manifest's trace", body = ManifestTrace),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/trace")]
pub async fn manifest_trace(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ManifestTrace>, ApiError> {
    let now = state.clock.now();
    let id = ManifestId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    let trace = state
        .db
        .snapshot(move |conn| service::manifest_trace(conn, now, &principal, &id, tolerance))
        .await?;
    Ok(web::Json(trace))
}

/// Default and bounds of `within_days`.
const WITHIN_DAYS: (i64, i64, i64) = (30, 1, 365);
/// Default and bounds of `months`.
const MONTHS: (i64, i64, i64) = (3, 1, 24);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomalyParams {
    /// Which list: `storage_overdue` (stored lots past their contract's storage period),
    /// `receipt_overdue` (manifests in transit past their receipt's due day), `mass_balance`
    /// (manifests flagged by their mass balance), `refusal_open` (refusals whose case is open),
    /// `licence_expiring` (licences of the disposal companies concerned that ended or end
    /// within `within_days`), `idle_member` (members of a contract in force with no lot under
    /// it for `months` months), `zone_full` (zones at 90 % of their capacity or full),
    /// `finding_overdue` (findings of patrols not closed past their deadline in the park's
    /// time zone).
    /// `outside_profile` (lots whose code is not in their enterprise's waste profile).
    #[param(example = "storage_overdue")]
    pub kind: String,
    /// Only this park (one you may read).
    pub park_id: Option<String>,
    /// `licence_expiring`: days before and after today, 1 to 365 (default 30).
    #[param(value_type = Option<i64>)]
    pub within_days: Option<String>,
    /// `idle_member`: months without a lot, 1 to 24 (default 3).
    #[param(value_type = Option<i64>)]
    pub months: Option<String>,
}

/// The list `AnomalyParams` ask for, every field checked (the park, if one is named, and the
/// query; the query is `None` when the kind is not one of [`ANOMALY_KINDS`]).
pub fn anomaly_request(
    v: &mut Validator,
    q: AnomalyParams,
) -> (Option<String>, Option<AnomalyQuery>) {
    let kind = crate::http::query::one_of(v, "kind", Some(q.kind), ANOMALY_KINDS);
    let park_id = q.park_id.map(|p| v.text("park_id", &p, 1, 64));
    let within_days = bounded(v, "within_days", q.within_days.as_deref(), WITHIN_DAYS);
    let months = bounded(v, "months", q.months.as_deref(), MONTHS);
    let query = kind.map(|kind| AnomalyQuery {
        kind,
        within_days,
        months: u32::try_from(months).unwrap_or(3),
    });
    (park_id, query)
}

fn bounded(
    v: &mut Validator,
    field: &str,
    raw: Option<&str>,
    (default, min, max): (i64, i64, i64),
) -> i64 {
    match raw.map(str::trim) {
        None => default,
        Some("") => {
            v.push(crate::http::pagination::empty(field, "for the default"));
            default
        }
        Some(raw) => v
            .check(
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        FieldError::new(
                            field,
                            "out_of_range",
                            format!("must be a whole number from {min} to {max}"),
                        )
                    }),
            )
            .unwrap_or(default),
    }
}

/// Anomaly lists for inspectors (every park of the jurisdiction; manifests on both sides of a
/// transfer) and park offices (their park): one `kind` at a time, cursor pages in the order of
/// the subjects' ids. Each item names its subject (a lot, manifest, licence, contract
/// membership or zone), its park and the figures of the condition.
#[utoipa::path(
    tag = "inspection",
    security(("bearer" = [])),
    params(AnomalyParams, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<Anomaly>),
        (status = 403, description = "Your role reads no anomaly lists", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid kind, bound or page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/anomalies")]
pub async fn anomalies(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AnomalyParams>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<Anomaly>>, ApiError> {
    let now = state.clock.now();
    let scope = policy::anomaly_scope(&principal)?;
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let (park_id, query) = anomaly_request(&mut v, q);
    let query = v.finish_with(|| query)?;
    let found = state
        .db
        .snapshot(move |conn| {
            service::anomalies(
                conn,
                now,
                &principal,
                scope,
                park_id.as_deref(),
                &query,
                &page,
            )
        })
        .await?;
    Ok(web::Json(found))
}
