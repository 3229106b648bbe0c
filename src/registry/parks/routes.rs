//! HTTP endpoints for parks and enterprises: extract, authorise, call, respond.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy::{self, Action, authorize};
use crate::domain::park::parse_time_zone;
use crate::domain::region::RegionCode;
use crate::domain::text::{parse_phone, parse_reference};
use crate::domain::units::positive_grams;
use crate::domain::uscc::Uscc;
use crate::domain::waste::{CatalogRef, parse_refs};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::{double_option, non_null};
use crate::http::{Json, Page, PageQuery, created};
use crate::registry::history::{HistoryQuery, Revision};
use crate::registry::parks::service::{
    self, EnterpriseChanges, EnterpriseView, NewEnterprise, NewPark, ParkChanges, ParkView,
    PermitDetails,
};
use crate::state::AppState;

pub const NAME_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 300;
pub const PERSON_MAX: usize = 100;
/// Entries of a permit's coverage, at most.
pub const PERMIT_SCOPE_MAX: usize = 100;

fn permit_scope(v: &mut Validator, raw: &[String]) -> Option<Vec<CatalogRef>> {
    if raw.len() > PERMIT_SCOPE_MAX {
        v.push(FieldError::new(
            "permit_scope",
            "invalid_length",
            format!("must list at most {PERMIT_SCOPE_MAX} categories or codes"),
        ));
        return None;
    }
    match parse_refs("permit_scope", raw) {
        Ok(refs) => Some(refs),
        Err(errors) => {
            errors.into_iter().for_each(|e| v.push(e));
            None
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Longgang Green Technology Park",
    "region_code": "440307",
    "address": "Longgang District, Shenzhen",
    "time_zone": "Asia/Shanghai",
    "uscc": "12440300MB2C00005K",
    "collection_permit_number": "440300-HW-2026-012",
    "permit_valid_from": "2026-01-01",
    "permit_valid_until": "2030-12-31",
    "permit_scope": ["HW08"],
    "permit_annual_capacity_grams": 500000000000i64
}))]
pub struct CreateParkRequest {
    pub name: String,
    /// 6-digit GB/T 2260 region code of the park's county-level district.
    pub region_code: String,
    pub address: String,
    /// IANA time zone; default `Asia/Shanghai`.
    pub time_zone: Option<String>,
    /// The park management office's Unified Social Credit Code; a wrong check character is
    /// refused naming the right one.
    pub uscc: Option<String>,
    /// The warehouse's hazardous-waste collection permit, when it holds one.
    pub collection_permit_number: Option<String>,
    /// The permit's first valid day; absent: no lower bound. Needs the permit's number.
    pub permit_valid_from: Option<NaiveDate>,
    /// The permit's last valid day, not before `permit_valid_from`; absent: no upper bound.
    pub permit_valid_until: Option<NaiveDate>,
    /// HW categories (`HW08`) and hazardous codes (`900-041-49`) of the catalog the permit
    /// covers, at most 100; empty or absent covers every hazardous code.
    #[serde(default)]
    pub permit_scope: Vec<String>,
    /// The most the park's shared zones take in per calendar year, in grams.
    pub permit_annual_capacity_grams: Option<i64>,
    /// Take-over of hazardous waste only under a manifest carrying its official number;
    /// default `false`.
    #[serde(default)]
    pub require_official_number: bool,
    /// The driver scans the label of every container of general waste at collection;
    /// default `true` (hazardous waste is always scanned).
    pub label_scan_general: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"address": "No. 8 Baolong Road, Longgang District, Shenzhen", "collection_permit_number": null}))]
pub struct UpdateParkRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub time_zone: Option<String>,
    /// The office's Unified Social Credit Code; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub uscc: Option<Option<String>>,
    /// `null` removes the permit with its dates, coverage and capacity (the enterprises become
    /// the consignors).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub collection_permit_number: Option<Option<String>>,
    /// The permit's first valid day; `null`: no lower bound.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub permit_valid_from: Option<Option<NaiveDate>>,
    /// The permit's last valid day; `null`: no upper bound.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub permit_valid_until: Option<Option<NaiveDate>>,
    /// The categories and codes the permit covers (at most 100); `[]` covers every hazardous
    /// code.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = Vec<String>)]
    pub permit_scope: Option<Vec<String>>,
    /// The annual capacity in grams; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub permit_annual_capacity_grams: Option<Option<i64>>,
    /// Take-over of hazardous waste only under a manifest carrying its official number.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub require_official_number: Option<bool>,
    /// The driver scans the label of every container of general waste at collection
    /// (`false`: only hazardous waste's).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub label_scan_general: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.",
    "uscc": "91440300MA5F000181",
    "contact_name": "Chen Jie",
    "contact_phone": "13800138000",
    "joined_on": "2026-01-01"
}))]
pub struct CreateEnterpriseRequest {
    pub park_id: String,
    pub name: String,
    /// Unified Social Credit Code; a wrong check character is refused naming the right one.
    pub uscc: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// Day the enterprise joined the park; default today in the park's time zone.
    pub joined_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_phone": "0755-86001234", "left_on": "2026-12-31"}))]
pub struct UpdateEnterpriseRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub contact_name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub contact_phone: Option<String>,
    /// The day the enterprise leaves the park; `null` undoes a recorded departure.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub left_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseFilter {
    /// Only the enterprises of this park.
    pub park_id: Option<String>,
}

/// Register a park (platform administrators).
#[utoipa::path(
    tag = "parks",
    security(("bearer" = [])),
    request_body = CreateParkRequest,
    responses(
        (status = 201, description = "Registered", body = ParkView, headers(("Location" = String, description = "URL of the park"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/parks")]
pub async fn create_park(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateParkRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let region_code = v.check(RegionCode::parse("region_code", &body.region_code));
    let address = v.text("address", &body.address, 1, ADDRESS_MAX);
    let time_zone = match &body.time_zone {
        Some(tz) => v.check(parse_time_zone("time_zone", tz)),
        None => Some(crate::domain::park::DEFAULT_TIME_ZONE),
    };
    let permit = body
        .collection_permit_number
        .as_deref()
        .map(|p| v.check(parse_reference("collection_permit_number", p)));
    let uscc = body
        .uscc
        .as_deref()
        .map(|u| v.check(Uscc::parse("uscc", u)));
    let scope = permit_scope(&mut v, &body.permit_scope);
    let capacity = body
        .permit_annual_capacity_grams
        .map(|c| v.check(positive_grams("permit_annual_capacity_grams", c)));
    let new = v.finish_with(|| {
        Some(NewPark {
            name,
            region_code: region_code?,
            address,
            time_zone: time_zone?,
            uscc: match uscc {
                Some(u) => Some(u?),
                None => None,
            },
            collection_permit_number: permit.flatten(),
            permit: PermitDetails {
                valid_from: body.permit_valid_from,
                valid_until: body.permit_valid_until,
                scope: scope?,
                annual_capacity_grams: match capacity {
                    Some(c) => Some(c?),
                    None => None,
                },
            },
            require_official_number: body.require_official_number,
            label_scan_general: body.label_scan_general.unwrap_or(true),
        })
    })?;
    let by = principal.user_id.clone();
    let view = state
        .db
        .write(move |conn| service::create_park(conn, now, &by, new))
        .await?;
    Ok(created(format!("/api/v1/parks/{}", view.id), &view))
}

/// List the parks you may see: all (administrators), your own (park office, enterprise), those
/// in your jurisdiction (inspectors).
#[utoipa::path(
    tag = "parks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ParkView>),
        (status = 403, description = "Your role lists no parks", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks")]
pub async fn list_parks(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<ParkView>>, ApiError> {
    let scope = policy::park_scope(&principal)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list_parks(conn, &scope, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a park.
#[utoipa::path(
    tag = "parks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id")),
    responses(
        (status = 200, description = "The park", body = ParkView),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}")]
pub async fn get_park(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ParkView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_park(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a park's name, address, time zone, credit code or collection permit (its number,
/// dates, coverage and capacity) (administrators, the park's own office). Every change is kept in the park's history.
#[utoipa::path(
    tag = "parks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id")),
    request_body = UpdateParkRequest,
    responses(
        (status = 200, description = "The updated park", body = ParkView),
        (status = 403, description = "You may read but not change this park", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/parks/{id}")]
pub async fn update_park(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateParkRequest>,
) -> Result<web::Json<ParkView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let changes = ParkChanges {
        name: body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX)),
        address: body
            .address
            .as_deref()
            .map(|a| v.text("address", a, 1, ADDRESS_MAX)),
        time_zone: body
            .time_zone
            .as_deref()
            .and_then(|tz| v.check(parse_time_zone("time_zone", tz))),
        collection_permit_number: body
            .collection_permit_number
            .map(|p| p.and_then(|p| v.check(parse_reference("collection_permit_number", &p)))),
        uscc: body
            .uscc
            .map(|u| u.and_then(|u| v.check(Uscc::parse("uscc", &u)))),
        permit_valid_from: body.permit_valid_from,
        permit_valid_until: body.permit_valid_until,
        permit_scope: body
            .permit_scope
            .as_deref()
            .and_then(|s| permit_scope(&mut v, s)),
        permit_annual_capacity_grams: body
            .permit_annual_capacity_grams
            .map(|c| c.and_then(|c| v.check(positive_grams("permit_annual_capacity_grams", c)))),
        require_official_number: body.require_official_number,
        label_scan_general: body.label_scan_general,
    };
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::update_park(conn, now, &principal, &id, changes))
        .await?;
    Ok(web::Json(view))
}

/// Every version of a park, oldest first; with `as_of`, the version current at that instant.
#[utoipa::path(
    tag = "parks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Park id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/parks/{id}/history")]
pub async fn park_history(
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
        .run(move |conn| service::park_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// Register an enterprise in a park (administrators, the park's office).
#[utoipa::path(
    tag = "enterprises",
    security(("bearer" = [])),
    request_body = CreateEnterpriseRequest,
    responses(
        (status = 201, description = "Registered", body = EnterpriseView, headers(("Location" = String, description = "URL of the enterprise"))),
        (status = 403, description = "You may not register enterprises in this park", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input: a wrong credit code names the right check character", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enterprises")]
pub async fn create_enterprise(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateEnterpriseRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let park_id = v.text("park_id", &body.park_id, 1, 64);
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let uscc = v.check(Uscc::parse("uscc", &body.uscc));
    let contact_name = v.text("contact_name", &body.contact_name, 1, PERSON_MAX);
    let contact_phone = v.check(parse_phone("contact_phone", &body.contact_phone));
    let new = v.finish_with(|| {
        Some(NewEnterprise {
            name,
            uscc: uscc?,
            contact_name,
            contact_phone: contact_phone?,
            joined_on: body.joined_on,
        })
    })?;
    let view = state
        .db
        .write(move |conn| service::register_enterprise(conn, now, &principal, &park_id, new))
        .await?;
    Ok(created(format!("/api/v1/enterprises/{}", view.id), &view))
}

/// List the enterprises you may see: a park office its park's, an inspector those in its
/// jurisdiction, an enterprise user its own.
#[utoipa::path(
    tag = "enterprises",
    security(("bearer" = [])),
    params(EnterpriseFilter, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<EnterpriseView>),
        (status = 403, description = "Your role lists no enterprises", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises")]
pub async fn list_enterprises(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<EnterpriseFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<EnterpriseView>>, ApiError> {
    let scope = policy::enterprise_scope(&principal)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let park_id = filter.into_inner().park_id;
    let page = state
        .db
        .run(move |conn| service::list_enterprises(conn, &scope, park_id.as_deref(), &page))
        .await?;
    Ok(web::Json(page))
}

/// Read an enterprise.
#[utoipa::path(
    tag = "enterprises",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The enterprise", body = EnterpriseView),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}")]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<EnterpriseView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_enterprise(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change an enterprise's name or contact, or record the day it leaves the park
/// (administrators, the park's office).
#[utoipa::path(
    tag = "enterprises",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    request_body = UpdateEnterpriseRequest,
    responses(
        (status = 200, description = "The updated enterprise", body = EnterpriseView),
        (status = 403, description = "You may read but not change this enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/enterprises/{id}")]
pub async fn update_enterprise(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateEnterpriseRequest>,
) -> Result<web::Json<EnterpriseView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let changes = EnterpriseChanges {
        name: body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX)),
        contact_name: body
            .contact_name
            .as_deref()
            .map(|n| v.text("contact_name", n, 1, PERSON_MAX)),
        contact_phone: body
            .contact_phone
            .as_deref()
            .and_then(|p| v.check(parse_phone("contact_phone", p))),
        left_on: body.left_on,
    };
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::update_enterprise(conn, now, &principal, &id, changes))
        .await?;
    Ok(web::Json(view))
}

/// Every version of an enterprise, oldest first; with `as_of`, the version current then.
#[utoipa::path(
    tag = "enterprises",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}/history")]
pub async fn enterprise_history(
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
        .run(move |conn| service::enterprise_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}
