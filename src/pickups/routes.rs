//! HTTP endpoints for pickup requests. The POSTs honour the `Idempotency-Key` header.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::ids::{LotId, PickupRequestId};
use crate::domain::pickup::RequestStatus;
use crate::domain::waste::Category;
use crate::error::{ApiError, Problem, Validator};
use crate::http::query::state_named;
use crate::http::{Json, Page, PageQuery};
use crate::idempotency::{self, Idempotency};
use chrono::{DateTime, Utc};

use crate::domain::lot::Weighing;
use crate::lots::service::DoorWeighing;
use crate::manifests::service::ManifestWeighing;
use crate::pickups::collect::{self as collection, Collect, CollectionView};
use crate::pickups::service::{self, Schedule};
use crate::requests::service::{self as requests, Raise, RequestFilter, RequestView};
use crate::state::AppState;

/// The longest note or reason, in characters.
pub const TEXT_MAX: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
    "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "category": "HW08",
    "note": "zone A1 is needed for a large delivery next week"
}))]
pub struct RaiseRequest {
    pub contract_id: String,
    /// The warehouse whose stored lots to collect; omit for general waste declared at the
    /// enterprises' doors.
    pub warehouse_id: Option<String>,
    /// HW category, or general-waste category.
    pub category: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "the enterprise will deliver more first"}))]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scheduled_on": "2026-12-02",
    "carrier_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "driver_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed"
}))]
pub struct ScheduleRequest {
    /// The day of the pickup (the park's calendar), today or later.
    pub scheduled_on: NaiveDate,
    /// A registered carrier, or the disposal company itself for its own fleet.
    pub carrier_id: String,
    pub vehicle_id: String,
    /// A user with the driver role in the carrier.
    pub driver_id: String,
    /// The escort (押运员) riding with the driver: an active user of the carrier other than
    /// the driver; shown on the manifests. Absent: none named.
    pub escort_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// `requested`, `accepted`, `scheduled`, `collected`, `declined` or `cancelled`.
    #[param(value_type = Option<RequestStatus>)]
    pub status: Option<String>,
    /// `true`: only requests still to be collected.
    pub open: Option<bool>,
    pub contract_id: Option<String>,
    pub warehouse_id: Option<String>,
}

fn location(r: &RequestView) -> Option<String> {
    Some(format!("/api/v1/pickup-requests/{}", r.id))
}

/// Raise a pickup request by hand (the park office), for the lots of a contract and category
/// that wait at one place. The rules raise requests by themselves; this is for when the park
/// needs collection earlier. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = RaiseRequest,
    responses(
        (status = 201, description = "Raised", body = RequestView, headers(("Location" = String, description = "URL of the request"))),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request is already open for this contract, place and category", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing waits, an invalid category, or a warehouse not of the contract's park", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests")]
pub async fn raise(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    body: Json<RaiseRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let contract_id = v.text("contract_id", &b.contract_id, 1, 64);
    let warehouse_id = b.warehouse_id.map(|w| v.text("warehouse_id", &w, 1, 64));
    let category = v.check(Category::parse("category", b.category.trim()));
    let note = b.note.map(|n| v.text("note", &n, 1, TEXT_MAX));
    let raise = v.finish_with(|| {
        Some(Raise {
            contract_id,
            warehouse_id,
            category: category?.as_str().to_owned(),
            note,
        })
    })?;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        location,
        move |conn, principal| requests::raise(conn, now, principal, raise),
    )
    .await
}

/// List pickup requests: a park office its park's, a disposal company its own, an enterprise
/// those covering its lots, a driver those assigned to it, an inspector its jurisdiction's.
/// Cursor pages, oldest first.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(RequestQuery, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<RequestView>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pickup-requests")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<RequestQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<RequestView>>, ApiError> {
    let scope = policy::pickup_scope(&principal)?;
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let filter = RequestFilter {
        status: state_named(&mut v, "status", q.status),
        contract_id: q.contract_id,
        warehouse_id: q.warehouse_id,
        open: q.open.unwrap_or(false),
    };
    v.finish()?;
    let page = state
        .db
        .run(move |conn| requests::list(conn, &principal, &scope, &filter, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a pickup request with its lots (an enterprise sees only its own lots in it).
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id")),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pickup-requests/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<RequestView>, ApiError> {
    let id = PickupRequestId::from(id.into_inner());
    let view = state
        .db
        .run(move |conn| requests::get(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

fn reason(body: Json<ReasonRequest>) -> Result<String, ApiError> {
    let mut v = Validator::new();
    let reason = v.text("reason", &body.into_inner().reason, 1, TEXT_MAX);
    v.finish()?;
    Ok(reason)
}

/// Cancel an open request with a reason (the park office). Its lots wait again, and the rules
/// may raise a new request. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Cancelled", body = RequestView),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already collected, declined or cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let reason = reason(body)?;
    let id = PickupRequestId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::cancel(conn, now, p, &id, reason),
    )
    .await
}

/// Accept a request (the disposal company's dispatcher). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    responses(
        (status = 200, description = "Accepted", body = RequestView),
        (status = 403, description = "Not the disposal company's dispatcher", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in the requested state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let id = PickupRequestId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::accept(conn, now, p, &id),
    )
    .await
}

/// Schedule (or reschedule) the pickup: a day, a carrier (or the disposal company's own
/// fleet), one of its vehicles and one of its drivers (the disposal company's dispatcher).
/// Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ScheduleRequest,
    responses(
        (status = 200, description = "Scheduled", body = RequestView),
        (status = 403, description = "Not the disposal company's dispatcher", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already collected, declined or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A past day, or a vehicle or driver not of the carrier", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests/{id}/schedule")]
pub async fn schedule(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ScheduleRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let s = Schedule {
        scheduled_on: b.scheduled_on,
        carrier_id: v.text("carrier_id", &b.carrier_id, 1, 64),
        vehicle_id: v.text("vehicle_id", &b.vehicle_id, 1, 64),
        driver_id: v.text("driver_id", &b.driver_id, 1, 64),
        escort_id: b
            .escort_id
            .as_deref()
            .map(|e| v.text("escort_id", e, 1, 64)),
    };
    v.finish()?;
    let id = PickupRequestId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::schedule(conn, now, p, &id, s),
    )
    .await
}

/// Decline a request with a reason (the disposal company's dispatcher). Its lots wait again.
/// Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Declined", body = RequestView),
        (status = 403, description = "Not the disposal company's dispatcher", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already scheduled, collected, declined or cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests/{id}/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let reason = reason(body)?;
    let id = PickupRequestId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::decline(conn, now, p, &id, reason),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoorWeighingRequest {
    pub lot_id: String,
    pub gross_grams: i64,
    pub tare_grams: i64,
    pub net_grams: Option<i64>,
    /// The scale that weighed the lot at the door; the collection's `scale_id` when omitted.
    pub scale_id: Option<String>,
    /// When the device captured the door weighing (its clock; at most 10 minutes ahead, 30
    /// days old); the collection's `captured_at` when omitted.
    pub captured_at: Option<DateTime<Utc>>,
}

/// One manifest's own outbound weighing, when the driver weighs each kind of waste (or each
/// consignor's) separately.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestWeighingRequest {
    /// The manifest's waste code.
    pub waste_code: String,
    /// The manifest's consignor (the park, or the enterprise); needed only when several
    /// consignors' manifests of the code leave on the trip.
    pub consignor_id: Option<String>,
    /// The scale that weighed it.
    pub scale_id: String,
    /// When the device captured the weighing (its clock; at most 10 minutes ahead, 30 days old).
    pub captured_at: DateTime<Utc>,
    pub gross_grams: i64,
    pub tare_grams: i64,
    /// If given, equal to gross − tare.
    pub net_grams: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "scale_id": "SCALE-02",
    "captured_at": "2026-11-30T16:02:11+08:00",
    "gross_grams": 2130000,
    "tare_grams": 50000,
    "scanned_labels": ["91440300MA5F0001819002490820261128001"]
}))]
pub struct CollectRequest {
    /// The lots taken; all those waiting in the request when omitted.
    pub lot_ids: Option<Vec<String>>,
    /// A vehicle of the scheduled carrier.
    pub vehicle_id: String,
    /// The driver; the signed-in driver (or the one scheduled) when omitted.
    pub driver_id: Option<String>,
    /// The scale or device that weighed.
    pub scale_id: String,
    /// When the device captured the weighing (its own clock; at most 10 minutes ahead, 30 days
    /// old).
    pub captured_at: DateTime<Utc>,
    /// The loaded vehicle's outbound weighing: gross, tare and (if given, equal to gross − tare)
    /// net, in grams. Required unless `manifest_weighings` weighs every manifest; kept on the
    /// collection when both are given.
    pub gross_grams: Option<i64>,
    pub tare_grams: Option<i64>,
    pub net_grams: Option<i64>,
    /// The driver's weighing of each lot collected at an enterprise's door (route b).
    #[serde(default)]
    pub door_weighings: Vec<DoorWeighingRequest>,
    /// One outbound weighing per manifest (per waste code, and consignor where several
    /// consignors' manifests share a code): each manifest then carries its own weighing
    /// (`outbound_basis: weighed`) rather than a share of the vehicle's (`allocated`). Once
    /// one is given, every manifest of the trip needs one.
    #[serde(default)]
    pub manifest_weighings: Vec<ManifestWeighingRequest>,
    /// The labels the driver scanned while loading, one per container: a hazardous
    /// container's 37-character digital identification code, or what a label's QR code holds
    /// (the container's verification URL, or its token). Every container of a hazardous lot
    /// must be scanned, and of a general lot unless the park turned the check off
    /// (`label_scan_general`); then this list is required. A scan of no container of the lots
    /// taken is refused. At most 400, each 1 to 120 visible ASCII characters.
    pub scanned_labels: Option<Vec<String>>,
}

/// Record the collection of a scheduled pickup (its driver, from a phone; or the disposer's
/// dispatcher): the lots taken (all of the request by default), the vehicle, the outbound
/// weighing, and for lots at the enterprises' doors each one's weighing. The lots leave the
/// stock and the transfer manifests are issued. Honours `Idempotency-Key`: retry freely.
#[utoipa::path(
    tag = "pickups",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pickup request id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = CollectRequest,
    responses(
        (status = 201, description = "Collected; the manifests issued", body = CollectionView, headers(("Location" = String, description = "URL of the request"))),
        (status = 403, description = "Not the scheduled driver or the disposer's dispatcher", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled, or a lot already collected", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A vehicle or driver not of the carrier, a code the licence does not cover that day, a lot not in the request, a missing weighing, a container label not scanned or a scan of no container collected", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pickup-requests/{id}/collect")]
pub async fn collect(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<CollectRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    if b.lot_ids.as_ref().is_some_and(|l| l.len() > 1000) {
        v.push(crate::error::FieldError::new(
            "lot_ids",
            "too_many",
            "at most 1000 lots",
        ));
    }
    if b.door_weighings.len() > 1000 {
        v.push(crate::error::FieldError::new(
            "door_weighings",
            "too_many",
            "at most 1000 weighings",
        ));
    }
    if b.scanned_labels
        .as_ref()
        .is_some_and(|s| s.len() > crate::pickups::loading::MAX_SCANS)
    {
        v.push(crate::error::FieldError::new(
            "scanned_labels",
            "too_many",
            format!("at most {} scans", crate::pickups::loading::MAX_SCANS),
        ));
    }
    let scanned_labels = b.scanned_labels.as_ref().map(|scans| {
        scans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                v.text(
                    &format!("scanned_labels[{i}]"),
                    s,
                    1,
                    crate::pickups::loading::MAX_SCAN_LENGTH,
                )
            })
            .collect::<Vec<_>>()
    });
    if b.manifest_weighings.len() > 1000 {
        v.push(crate::error::FieldError::new(
            "manifest_weighings",
            "too_many",
            "at most 1000 weighings",
        ));
    }
    let vehicle_id = v.text("vehicle_id", &b.vehicle_id, 1, 64);
    let driver_id = b.driver_id.map(|d| v.text("driver_id", &d, 1, 64));
    let lot_ids = b.lot_ids.map(|ids| {
        ids.iter()
            .enumerate()
            .map(|(i, l)| LotId::from(v.text(&format!("lot_ids[{i}]"), l, 1, 64)))
            .collect::<Vec<_>>()
    });
    let scale_id = v.text("scale_id", &b.scale_id, 1, 64);
    if b.gross_grams.is_some() != b.tare_grams.is_some()
        || (b.net_grams.is_some() && b.gross_grams.is_none())
    {
        v.push(crate::error::FieldError::new(
            if b.gross_grams.is_none() {
                "gross_grams"
            } else {
                "tare_grams"
            },
            "required",
            "the vehicle's weighing takes gross_grams and tare_grams together",
        ));
    }
    let door_scales: Vec<String> = b
        .door_weighings
        .iter()
        .enumerate()
        .map(|(i, d)| {
            v.text(&format!("door_weighings[{i}].lot_id"), &d.lot_id, 1, 64);
            d.scale_id.as_deref().map_or_else(
                || scale_id.clone(),
                |s| v.text(&format!("door_weighings[{i}].scale_id"), s, 1, 64),
            )
        })
        .collect();
    let manifest_texts: Vec<(String, Option<String>, String)> = b
        .manifest_weighings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                v.text(
                    &format!("manifest_weighings[{i}].waste_code"),
                    &m.waste_code,
                    1,
                    16,
                ),
                m.consignor_id
                    .as_deref()
                    .map(|c| v.text(&format!("manifest_weighings[{i}].consignor_id"), c, 1, 64)),
                v.text(
                    &format!("manifest_weighings[{i}].scale_id"),
                    &m.scale_id,
                    1,
                    64,
                ),
            )
        })
        .collect();
    let mut parse = |prefix: &str, gross: i64, tare: i64, net: Option<i64>| match Weighing::parse(
        gross, tare, net,
    ) {
        Ok(w) => Some(w),
        Err(errors) => {
            for mut e in errors {
                e.field = format!("{prefix}{}", e.field);
                v.push(e);
            }
            None
        }
    };
    let weighing = match (b.gross_grams, b.tare_grams) {
        (Some(gross), Some(tare)) => parse("", gross, tare, b.net_grams),
        _ => None,
    };
    let door: Vec<DoorWeighing> = b
        .door_weighings
        .iter()
        .zip(door_scales)
        .enumerate()
        .filter_map(|(i, (d, scale))| {
            parse(
                &format!("door_weighings[{i}]."),
                d.gross_grams,
                d.tare_grams,
                d.net_grams,
            )
            .map(|w| DoorWeighing {
                lot_id: LotId::from(d.lot_id.clone()),
                weighing: w,
                scale_id: scale,
                captured_at: d.captured_at.unwrap_or(b.captured_at),
            })
        })
        .collect();
    let manifest_weighings: Vec<ManifestWeighing> = b
        .manifest_weighings
        .iter()
        .zip(manifest_texts)
        .enumerate()
        .filter_map(|(i, (m, (waste_code, consignor_id, scale_id)))| {
            parse(
                &format!("manifest_weighings[{i}]."),
                m.gross_grams,
                m.tare_grams,
                m.net_grams,
            )
            .map(|w| ManifestWeighing {
                waste_code,
                consignor_id,
                scale_id,
                captured_at: m.captured_at,
                weighing: w,
            })
        })
        .collect();
    v.finish()?;
    let c = Collect {
        lot_ids,
        vehicle_id,
        driver_id,
        scale_id,
        captured_at: b.captured_at,
        weighing,
        door,
        manifest_weighings,
        scanned_labels,
    };
    let id = PickupRequestId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        |c: &CollectionView| Some(format!("/api/v1/pickup-requests/{}", c.request_id)),
        move |conn, principal| collection::collect(conn, now, principal, &id, c, tolerance),
    )
    .await
}
