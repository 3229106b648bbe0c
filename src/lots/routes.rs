//! HTTP endpoints for lots, labels, inventory and alarms. The POSTs a phone sends honour the
//! `Idempotency-Key` header.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::ids::LotId;
use crate::domain::lot::{ContainerType, LabelSize, LotStatus, PhysicalForm, Weighing, estimate};
use crate::domain::waste::WasteCode;
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::query::{day_or_instant, one_of, state_named, time_bound};
use crate::http::{Json, Page, PageQuery};
use crate::idempotency::{self, Idempotency};
use crate::lots::containers::{self, ContainerLabel, ContainerView};
use crate::lots::labels;
use crate::lots::service::{
    self, AlarmList, Correction, Description, EventView, InventoryView, LotFilter, LotView, WeighIn,
};
use crate::state::AppState;

const TEXT_MAX: usize = 500;

/// How a lot came: weighed into the warehouse, or declared at the enterprise's door.
pub const LOT_ROUTES: &[&str] = &["warehouse", "door"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "waste_code": "900-249-08",
    "physical_form": "liquid",
    "container_type": "drum",
    "container_count": 2,
    "container_litres": 200,
    "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1",
    "gross_grams": 352500,
    "tare_grams": 32500,
    "scale_id": "SCALE-01",
    "captured_at": "2026-11-28T15:58:12+08:00",
    "main_components": "矿物油、铁屑",
    "container_grams": [161000, 159000],
    "harmful_components": "石油烃"
}))]
pub struct WeighInRequest {
    pub enterprise_id: String,
    /// Needed only when several contracts of the enterprise cover the code.
    pub contract_id: Option<String>,
    pub waste_code: String,
    pub physical_form: PhysicalForm,
    pub container_type: ContainerType,
    /// 1 to 10000.
    pub container_count: i32,
    /// Volume of one container; chooses the label size.
    pub container_litres: Option<i32>,
    pub zone_id: String,
    pub gross_grams: i64,
    pub tare_grams: i64,
    /// If given, must equal gross − tare.
    pub net_grams: Option<i64>,
    /// The scale or device that weighed (scales used for settlement must be verified).
    pub scale_id: String,
    /// When the device captured the weighing (its own clock; at most 10 minutes ahead, 30 days old).
    pub captured_at: DateTime<Utc>,
    /// Default: the day of `captured_at` in the park's time zone.
    pub produced_on: Option<NaiveDate>,
    pub main_components: Option<String>,
    pub note: Option<String>,
    /// The containers weighed one by one: one weight per container (at most 999), each more
    /// than 0, together the net weight. Without it, each label shows the lot's weight shared.
    pub container_grams: Option<Vec<i64>>,
    /// Harmful constituents (有害成分) printed on the labels (at most 500 characters).
    pub harmful_components: Option<String>,
    /// Precautions (注意事项) printed on the labels (at most 500 characters); default: from the
    /// code's hazard characteristics.
    pub precautions: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "waste_code": "900-003-S59",
    "physical_form": "solid",
    "container_type": "bulk",
    "container_count": 1,
    "estimated_grams": 850000,
    "note": "scrap offcuts by the loading bay"
}))]
pub struct DeclarationRequest {
    pub enterprise_id: String,
    pub contract_id: Option<String>,
    /// A general-waste code: hazardous waste is handed into the warehouse.
    pub waste_code: String,
    pub physical_form: PhysicalForm,
    pub container_type: ContainerType,
    pub container_count: i32,
    pub container_litres: Option<i32>,
    /// The enterprise's estimate; the driver's weighing at pickup gives the real weight.
    pub estimated_grams: i64,
    pub produced_on: Option<NaiveDate>,
    pub main_components: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "entered twice by mistake"}))]
pub struct VoidRequest {
    /// Why the lot is voided (1 to 500 characters).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"gross_grams": 351000, "tare_grams": 32500, "scale_id": "SCALE-02", "reason": "scale was not zeroed"}))]
pub struct CorrectionRequest {
    /// A stored lot: the new weighing.
    pub gross_grams: Option<i64>,
    pub tare_grams: Option<i64>,
    pub net_grams: Option<i64>,
    pub scale_id: Option<String>,
    pub captured_at: Option<DateTime<Utc>>,
    /// A declaration: the new estimate.
    pub estimated_grams: Option<i64>,
    /// Why the weight changes (1 to 500 characters).
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LotQuery {
    /// `stored`, `declared`, `voided` or `collected`.
    #[param(value_type = Option<LotStatus>)]
    pub status: Option<String>,
    /// `warehouse` or `door`.
    pub route: Option<String>,
    pub park_id: Option<String>,
    pub zone_id: Option<String>,
    pub waste_code: Option<String>,
    pub enterprise_id: Option<String>,
    /// `true`: only lots that left on a manifest whose mass balance is beyond the tolerance;
    /// `false`: only the others.
    pub flagged: Option<bool>,
    /// The business date: weighed (the device's capture time) on or after this day
    /// (YYYY-MM-DD, in the time zone of the lot's park) or instant (RFC 3339).
    pub from: Option<String>,
    /// Weighed before the end of this day (YYYY-MM-DD, in the park's time zone) or before this
    /// instant (RFC 3339).
    pub to: Option<String>,
    /// Received by the server on or after this day (YYYY-MM-DD, China Standard Time) or
    /// instant (RFC 3339): for audit.
    pub received_from: Option<String>,
    /// Received before the end of this day (YYYY-MM-DD, China Standard Time) or before this
    /// instant (RFC 3339).
    pub received_to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabelQuery {
    /// Label side in mm: `100`, `150` or `200`; default by container volume (≤ 50 L: 100,
    /// to 450 L: 150, larger: 200).
    pub size: Option<String>,
    /// The container (1 to the lot's number of containers); default: the first.
    pub container: Option<i32>,
}

fn bounded(v: &mut Validator, field: &str, value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| v.text(field, s, 1, TEXT_MAX))
}

fn description(
    v: &mut Validator,
    enterprise_id: &str,
    contract_id: Option<String>,
    waste_code: &str,
    (physical_form, container_type, container_count, container_litres): (
        PhysicalForm,
        ContainerType,
        i32,
        Option<i32>,
    ),
    (produced_on, main_components, note): (Option<NaiveDate>, Option<&str>, Option<&str>),
) -> Option<Description> {
    let enterprise_id = v.text("enterprise_id", enterprise_id, 1, 64);
    let code = v.check(WasteCode::parse("waste_code", waste_code));
    service::check_containers(v, container_count, container_litres);
    let main_components = bounded(v, "main_components", main_components);
    let note = bounded(v, "note", note);
    Some(Description {
        enterprise_id,
        contract_id,
        waste_code: code?,
        physical_form,
        container_type,
        container_count,
        container_litres,
        produced_on,
        main_components,
        note,
    })
}

fn lot_location(lot: &LotView) -> Option<String> {
    Some(format!("/api/v1/lots/{}", lot.id))
}

/// The weighing a request describes, every field checked; every invalid field is reported at
/// once. The API's `POST /lots` and the console's weigh-in form both come through here.
pub fn weigh_in_command(b: WeighInRequest) -> Result<WeighIn, ApiError> {
    let mut v = Validator::new();
    let d = description(
        &mut v,
        &b.enterprise_id,
        b.contract_id,
        &b.waste_code,
        (
            b.physical_form,
            b.container_type,
            b.container_count,
            b.container_litres,
        ),
        (
            b.produced_on,
            b.main_components.as_deref(),
            b.note.as_deref(),
        ),
    );
    let zone_id = v.text("zone_id", &b.zone_id, 1, 64);
    let scale_id = v.text("scale_id", &b.scale_id, 1, 64);
    let weighing = match Weighing::parse(b.gross_grams, b.tare_grams, b.net_grams) {
        Ok(w) => Some(w),
        Err(errors) => {
            errors.into_iter().for_each(|e| v.push(e));
            None
        }
    };
    let weights = match (&b.container_grams, &weighing) {
        (Some(grams), Some(w)) => v.check(crate::domain::label::container_weights(
            "container_grams",
            grams,
            b.container_count,
            w.net(),
        )),
        _ => None,
    };
    let new_containers = containers::NewContainers {
        codes: Vec::new(),
        weights,
        harmful_components: bounded(
            &mut v,
            "harmful_components",
            b.harmful_components.as_deref(),
        ),
        precautions: bounded(&mut v, "precautions", b.precautions.as_deref()),
    };
    v.finish_with(|| {
        Some(WeighIn {
            description: d?,
            zone_id,
            weighing: weighing?,
            scale_id,
            captured_at: b.captured_at,
            containers: new_containers,
        })
    })
}

/// Record a lot weighed into the shared warehouse (park office). Refused, saying why, for a code
/// the contract does not cover, an enterprise outside the contract, hazardous waste into a
/// general zone, a zone not allowed for the lot's category, or a zone that would overflow.
/// Send an `Idempotency-Key`: a retry then never records a second lot.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unique per request; a retry with the same key and body replays the first answer")),
    request_body = WeighInRequest,
    responses(
        (status = 201, description = "Recorded", body = LotView, headers(("Location" = String, description = "URL of the lot"))),
        (status = 403, description = "Not the park office of this warehouse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such zone, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The zone would overflow, or the same key is still being processed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid weighing, code not covered, enterprise outside the contract, wrong zone, or the key reused for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/lots")]
pub async fn weigh_in(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    body: Json<WeighInRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let new = weigh_in_command(body.into_inner())?;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        lot_location,
        move |conn, principal| service::weigh_in(conn, now, principal, new),
    )
    .await
}

/// Declare general waste waiting at the enterprise's door, to be weighed by the driver at pickup
/// (the enterprise, or its park office). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unique per request; a retry with the same key and body replays the first answer")),
    request_body = DeclarationRequest,
    responses(
        (status = 201, description = "Declared", body = LotView, headers(("Location" = String, description = "URL of the lot"))),
        (status = 403, description = "You may not declare for this enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same key is still being processed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Hazardous waste, code not covered, or enterprise outside the contract", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/lots/declarations")]
pub async fn declare(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    body: Json<DeclarationRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (d, estimate) = declaration_command(body.into_inner())?;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        lot_location,
        move |conn, principal| service::declare(conn, now, principal, d, estimate),
    )
    .await
}

/// The checks of a declaration (`POST /lots/declarations`): its description and its estimate,
/// every bad field reported at once.
pub fn declaration_command(b: DeclarationRequest) -> Result<(Description, i64), ApiError> {
    let mut v = Validator::new();
    let d = description(
        &mut v,
        &b.enterprise_id,
        b.contract_id,
        &b.waste_code,
        (
            b.physical_form,
            b.container_type,
            b.container_count,
            b.container_litres,
        ),
        (
            b.produced_on,
            b.main_components.as_deref(),
            b.note.as_deref(),
        ),
    );
    let estimated = v.check(estimate("estimated_grams", b.estimated_grams));
    v.finish_with(|| Some((d?, estimated?)))
}

/// List lots: a park office its park's, an inspector those of every park of its jurisdiction,
/// an enterprise its own, a disposal company those of its contracts. Filter by status, route,
/// park, zone, code, enterprise, a flagged manifest, business date (when weighed, in the park's
/// time zone) and reception date. Cursor pages, oldest first.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(LotQuery, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<LotView>),
        (status = 403, description = "Your role lists no lots", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<LotQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<LotView>>, ApiError> {
    let scope = policy::lot_scope(&principal)?;
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let filter = lot_filter(&mut v, q);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list(conn, &scope, &filter, &page))
        .await?;
    Ok(web::Json(page))
}

/// The filters of `GET /lots` and its exports.
pub fn lot_filter(v: &mut Validator, q: LotQuery) -> LotFilter {
    LotFilter {
        status: state_named(v, "status", q.status),
        route: one_of(v, "route", q.route, LOT_ROUTES),
        park_id: q.park_id,
        zone_id: q.zone_id,
        waste_code: q
            .waste_code
            .as_deref()
            .and_then(|c| v.check(WasteCode::parse("waste_code", c)))
            .map(|c| c.as_str().to_owned()),
        enterprise_id: q.enterprise_id,
        flagged: q.flagged,
        captured_from: day_or_instant(v, "from", q.from.as_deref()),
        captured_to: day_or_instant(v, "to", q.to.as_deref()),
        received_from: time_bound(v, "received_from", q.received_from.as_deref(), false),
        received_before: time_bound(v, "received_to", q.received_to.as_deref(), true),
    }
}

/// The lots of `GET /lots` (the same filters and scope), as CSV (UTF-8 with a byte-order mark,
/// Chinese headers, kilograms with three decimals), streamed.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(LotQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("批次编号,园区,产废单位,合同,进入方式,状态,废物代码,废物类别,废物类型,…\n")),
        (status = 403, description = "Your role lists no lots", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let (export, pages) = lot_export(&principal, query.into_inner(), "csv")?;
    crate::http::export::csv_response(&state.db, export, pages).await
}

/// The lots of `GET /lots` (the same filters and scope) as an Excel workbook.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(LotQuery),
    responses(
        (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
        (status = 403, description = "Your role lists no lots", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/export.xlsx")]
pub async fn export_xlsx(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let (export, pages) = lot_export(&principal, query.into_inner(), "xlsx")?;
    crate::http::export::xlsx_response(&state.db, export, pages).await
}

fn lot_export(
    principal: &Principal,
    q: LotQuery,
    ext: &str,
) -> Result<(crate::http::export::Export, service::LotPages), ApiError> {
    let scope = policy::lot_scope(principal)?;
    let mut v = Validator::new();
    let filter = lot_filter(&mut v, q);
    v.finish()?;
    Ok((
        crate::http::export::Export {
            file_name: format!("lots.{ext}"),
            sheet: "废物批次".to_owned(),
            headers: service::EXPORT_HEADERS.to_vec(),
        },
        service::LotPages::new(scope, filter),
    ))
}

/// Read a lot (the URL in its label's QR code).
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id")),
    responses(
        (status = 200, description = "The lot", body = LotView),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<LotView>, ApiError> {
    let id = LotId::from(id.into_inner());
    let lot = state
        .db
        .run(move |conn| service::read(conn, &principal, &id))
        .await?;
    Ok(web::Json(lot))
}

/// What happened to a lot: recorded or declared, corrected (before and after), voided.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id")),
    responses(
        (status = 200, description = "Events, oldest first", body = Vec<EventView>),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<EventView>>, ApiError> {
    let id = LotId::from(id.into_inner());
    let events = state
        .db
        .run(move |conn| service::history(conn, &principal, &id))
        .await?;
    Ok(web::Json(events))
}

/// Void a lot with a reason (the park office; an enterprise its own declarations). It stays
/// visible, and leaves the stock. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The voided lot", body = LotView),
        (status = 403, description = "You may read but not void this lot", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already voided or collected", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/lots/{id}/void")]
pub async fn void(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let reason = v.text("reason", &body.into_inner().reason, 1, TEXT_MAX);
    v.finish()?;
    let id = LotId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_: &LotView| None,
        move |conn, principal| service::void(conn, now, principal, &id, reason),
    )
    .await
}

/// Correct a lot's weight with a reason: a new weighing for a stored lot, a new estimate for a
/// declaration. The previous weighing stays in the lot's history; the stock follows. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = CorrectionRequest,
    responses(
        (status = 200, description = "The corrected lot", body = LotView),
        (status = 403, description = "You may read but not correct this lot", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Voided or collected, or the zone would overflow", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid weighing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/lots/{id}/corrections")]
pub async fn correct(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<CorrectionRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let reason = v.text("reason", &b.reason, 1, TEXT_MAX);
    let scale_id = b.scale_id.as_deref().map(|s| v.text("scale_id", s, 1, 64));
    let weighing = match (b.gross_grams, b.tare_grams) {
        (Some(gross), Some(tare)) => match Weighing::parse(gross, tare, b.net_grams) {
            Ok(w) => Some(w),
            Err(errors) => {
                errors.into_iter().for_each(|e| v.push(e));
                None
            }
        },
        (None, None) => None,
        _ => {
            v.push(FieldError::new(
                "tare_grams",
                "required",
                "gross_grams and tare_grams go together",
            ));
            None
        }
    };
    let estimated_grams = b
        .estimated_grams
        .and_then(|e| v.check(estimate("estimated_grams", e)));
    v.finish()?;
    let correction = Correction {
        weighing,
        estimated_grams,
        scale_id,
        captured_at: b.captured_at,
        reason,
    };
    let id = LotId::from(id.into_inner());
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_: &LotView| None,
        move |conn, principal| service::correct(conn, now, principal, &id, correction),
    )
    .await
}

async fn label_data(
    state: &AppState,
    principal: Principal,
    id: LotId,
    query: LabelQuery,
    all: bool,
) -> Result<(service::LabelData, Vec<ContainerLabel>, LabelSize), ApiError> {
    let size = match query.size.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            LabelSize::parse(raw)
                .ok_or_else(|| ApiError::field("size", "invalid", "must be 100, 150 or 200"))?,
        ),
    };
    let position = match query.container {
        Some(p) if !(1..=10_000).contains(&p) => {
            return Err(ApiError::field(
                "container",
                "out_of_range",
                "must be 1 to 10000",
            ));
        }
        Some(p) => Some(p),
        None if all => None,
        None => Some(1),
    };
    let base_url = state.public_base_url.clone();
    let (data, labels) = state
        .db
        .run(move |conn| service::labels(conn, &principal, &id, &base_url, position))
        .await?;
    let size = size.unwrap_or_else(|| LabelSize::for_container(data.lot.container_litres));
    Ok((data, labels, size))
}

/// One container's label (HJ 1276-2022) as SVG, at its printed size in millimetres; its QR
/// code holds the container's public verification page.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id"), LabelQuery),
    responses(
        (status = 200, description = "The label", content_type = "image/svg+xml", body = String,
            example = json!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100mm\" height=\"100mm\" viewBox=\"0 0 100 100\">…</svg>")),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid size, or no such container", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}/label.svg")]
pub async fn label_svg(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<LabelQuery>,
) -> Result<HttpResponse, ApiError> {
    let (data, labels, size) = label_data(
        &state,
        principal,
        LotId::from(id.into_inner()),
        query.into_inner(),
        false,
    )
    .await?;
    let svg = labels
        .first()
        .map(|l| labels::svg(&data, l, size))
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}

/// A printable page with the labels of the lot's containers (or of one, with `container`): one
/// label per container, two (for two opposite sides) on containers over 450 L.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id"), LabelQuery),
    responses(
        (status = 200, description = "An HTML page that prints the labels at size", content_type = "text/html", body = String,
            example = json!("<!doctype html><html lang=\"zh-CN\">…</html>")),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid size, or no such container", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}/label.html")]
pub async fn label_page(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<LabelQuery>,
) -> Result<HttpResponse, ApiError> {
    let (data, labels, size) = label_data(
        &state,
        principal,
        LotId::from(id.into_inner()),
        query.into_inner(),
        true,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(labels::printable_page(&data, &labels, size)))
}

/// The lot's containers: each one's digital identification code, weight (its own, or the lot's
/// shared) and the public verification page its label's QR code holds.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lot id")),
    responses(
        (status = 200, description = "The containers, in order", body = Vec<ContainerView>),
        (status = 404, description = "No such lot, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/lots/{id}/containers")]
pub async fn list_containers(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<ContainerView>>, ApiError> {
    let id = LotId::from(id.into_inner());
    let base_url = state.public_base_url.clone();
    let views = state
        .db
        .run(move |conn| service::containers(conn, &principal, &id, &base_url))
        .await?;
    Ok(web::Json(views))
}

/// The stock of a warehouse, kept exact with every weighing: per zone its fill, per contract
/// and code the grams, the lots and the age of the oldest.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    responses(
        (status = 200, description = "The stock", body = InventoryView),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses/{id}/inventory")]
pub async fn inventory(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<InventoryView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let view = state
        .db
        .snapshot(move |conn| service::warehouse_inventory(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Storage alarms (lots at 80 % and 100 % of their contract's maximum storage period) and
/// capacity alarms (zones at 90 % and full), among what you may see.
#[utoipa::path(
    tag = "lots",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Current alarms (at most 500 of each kind)", body = AlarmList),
        (status = 403, description = "Your role receives no alarms", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/alarms")]
pub async fn alarms(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<AlarmList>, ApiError> {
    let now = state.clock.now();
    let scope = policy::lot_scope(&principal)?;
    let alarms = state
        .db
        .run(move |conn| service::alarms(conn, now, &scope))
        .await?;
    Ok(web::Json(alarms))
}
