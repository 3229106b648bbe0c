//! HTTP endpoints of the directory: disposers and licences, carriers, vehicles, bureaus.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy::{self, Action, authorize};
use crate::domain::region::{Jurisdiction, RegionCode};
use crate::domain::text::parse_reference;
use crate::domain::units::positive_grams;
use crate::domain::uscc::Uscc;
use crate::domain::vehicle::parse_plate;
use crate::domain::waste::parse_refs;
use crate::error::{ApiError, Problem, Validator};
use crate::http::json::{double_option, non_null};
use crate::http::{Json, Page, PageQuery, created};
use crate::registry::directory::service::{
    self, BureauView, CarrierView, DisposerView, DriverView, LicenceView, NewLicence, NewParty,
    VehicleView,
};
use crate::registry::history::{HistoryQuery, Revision};
use crate::registry::parks::routes::{ADDRESS_MAX, NAME_MAX};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Shenzhen Dongjiang Environmental Disposal Co., Ltd.",
    "uscc": "91440300MA5F0D005L",
    "region_code": "440310",
    "address": "Pingshan District, Shenzhen"
}))]
pub struct CreateDisposerRequest {
    pub name: String,
    pub uscc: String,
    /// GB/T 2260 code of the region where the company is registered.
    pub region_code: String,
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"address": "No. 1 Huanbao Road, Pingshan District, Shenzhen"}))]
pub struct UpdateDisposerRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub address: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "number": "粤危废经第440300001号",
    "issuing_authority": "广东省生态环境厅",
    "valid_from": "2026-01-01",
    "valid_to": "2030-12-31",
    "annual_capacity_grams": 30000000000i64,
    "scope": ["HW08", "HW12", "900-041-49"]
}))]
pub struct CreateLicenceRequest {
    pub number: String,
    pub issuing_authority: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Annual quantity covered, in grams.
    pub annual_capacity_grams: i64,
    /// HW categories (`HW08`) and hazardous codes (`900-041-49`) covered; at most 100.
    pub scope: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_to": "2027-06-30"}))]
pub struct EndLicenceRequest {
    /// The new last day of validity; a licence can only be shortened.
    pub valid_to: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Shenzhen Lvyun Hazardous Goods Transport Co., Ltd.",
    "uscc": "91440300MA5F0C0024",
    "region_code": "440307",
    "transport_permit_number": "粤交运管许可深字440300012345号",
    "transport_permit_valid_until": "2029-06-30"
}))]
pub struct CreateCarrierRequest {
    pub name: String,
    pub uscc: String,
    pub region_code: String,
    /// Road transport operating permit number.
    pub transport_permit_number: String,
    /// The permit's last valid day; past it the carrier takes no hazardous waste over.
    pub transport_permit_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"transport_permit_number": "粤交运管许可深字440300099999号"}))]
pub struct UpdateCarrierRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub transport_permit_number: Option<String>,
    /// The permit's last valid day (a renewed permit's, say).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = NaiveDate)]
    pub transport_permit_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "operator_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "plate": "粤B12345",
    "dangerous_goods_permit_number": "440300012345",
    "dangerous_goods_permit_valid_until": "2028-03-31"
}))]
pub struct CreateVehicleRequest {
    /// A carrier, or a disposal company running its own fleet.
    pub operator_id: String,
    pub plate: String,
    pub dangerous_goods_permit_number: String,
    /// The permit's last valid day; past it the vehicle takes no hazardous waste over.
    pub dangerous_goods_permit_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"retired_on": "2026-12-31"}))]
pub struct UpdateVehicleRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub dangerous_goods_permit_number: Option<String>,
    /// The permit's last valid day (a renewed permit's, say).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = NaiveDate)]
    pub dangerous_goods_permit_valid_until: Option<NaiveDate>,
    /// The day the vehicle leaves the fleet; `null` puts it back in service.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub retired_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VehicleFilter {
    /// Only the vehicles of this carrier or disposal company.
    pub operator_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shenzhen Ecology and Environment Bureau, Longgang Office", "jurisdiction": "440307"}))]
pub struct CreateBureauRequest {
    pub name: String,
    /// Region-code prefix of the supervised regions: 2 (province), 4 (city) or 6 (county) digits.
    pub jurisdiction: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"jurisdiction": "4403"}))]
pub struct UpdateBureauRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub jurisdiction: Option<String>,
}

fn parse_party(
    v: &mut Validator,
    name: &str,
    uscc: &str,
    region_code: &str,
) -> (String, Option<Uscc>, Option<RegionCode>) {
    (
        v.text("name", name, 1, NAME_MAX),
        v.check(Uscc::parse("uscc", uscc)),
        v.check(RegionCode::parse("region_code", region_code)),
    )
}

fn page_of(page: &PageQuery) -> Result<crate::http::pagination::PageRequest, ApiError> {
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    Ok(page)
}

/// Register a licensed disposal company (platform administrators).
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    request_body = CreateDisposerRequest,
    responses(
        (status = 201, description = "Registered", body = DisposerView, headers(("Location" = String, description = "URL of the company"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disposers")]
pub async fn create_disposer(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateDisposerRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let (name, uscc, region_code) = parse_party(&mut v, &body.name, &body.uscc, &body.region_code);
    let address = v.text("address", &body.address, 1, ADDRESS_MAX);
    let party = v.finish_with(|| {
        Some(NewParty {
            name,
            uscc: uscc?,
            region_code: region_code?,
        })
    })?;
    let view = state
        .db
        .write(move |conn| service::create_disposer(conn, now, &principal.user_id, party, address))
        .await?;
    Ok(created(format!("/api/v1/disposers/{}", view.id), &view))
}

/// List the licensed disposal companies (park offices, dispatchers, inspectors see the whole
/// directory; a disposal company itself).
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page", body = Page<DisposerView>))
)]
#[get("/disposers")]
pub async fn list_disposers(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<DisposerView>>, ApiError> {
    let scope = policy::directory_scope(&principal)?;
    let page = page_of(&page)?;
    let page = state
        .db
        .run(move |conn| service::list_disposers(conn, &scope, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a disposal company.
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Disposal company id")),
    responses(
        (status = 200, description = "The company", body = DisposerView),
        (status = 404, description = "No such company, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/disposers/{id}")]
pub async fn get_disposer(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<DisposerView>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadDisposer { disposer_id: &id })?;
    let view = state
        .db
        .run(move |conn| service::get_disposer(conn, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a disposal company's name or address (platform administrators).
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Disposal company id")),
    request_body = UpdateDisposerRequest,
    responses(
        (status = 200, description = "The updated company", body = DisposerView),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/disposers/{id}")]
pub async fn update_disposer(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateDisposerRequest>,
) -> Result<web::Json<DisposerView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX));
    let address = body
        .address
        .as_deref()
        .map(|a| v.text("address", a, 1, ADDRESS_MAX));
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::update_disposer(conn, now, &principal.user_id, &id, name, address)
        })
        .await?;
    Ok(web::Json(view))
}

/// Every version of a disposal company; with `as_of`, the version current then.
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Disposal company id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such company, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/disposers/{id}/history")]
pub async fn disposer_history(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<HistoryQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<Revision>>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadDisposer { disposer_id: &id })?;
    let (query, page) = (query.into_inner(), page.into_inner());
    let page = state
        .db
        .run(move |conn| service::disposer_history(conn, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// Record a hazardous-waste business licence of a disposal company (platform administrators,
/// after checking the licence).
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Disposal company id")),
    request_body = CreateLicenceRequest,
    responses(
        (status = 201, description = "Recorded", body = LicenceView, headers(("Location" = String, description = "URL of the company's licences"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or a scope entry not in the catalog or not hazardous", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disposers/{id}/licences")]
pub async fn add_licence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<CreateLicenceRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let number = v.check(parse_reference("number", &body.number));
    let issuing_authority = v.text("issuing_authority", &body.issuing_authority, 1, NAME_MAX);
    let capacity = v.check(positive_grams(
        "annual_capacity_grams",
        body.annual_capacity_grams,
    ));
    let scope = if body.scope.is_empty() || body.scope.len() > 100 {
        v.push(crate::error::FieldError::new(
            "scope",
            "invalid_length",
            "must list 1 to 100 categories or codes",
        ));
        None
    } else {
        match parse_refs("scope", &body.scope) {
            Ok(refs) => Some(refs),
            Err(errors) => {
                errors.into_iter().for_each(|e| v.push(e));
                None
            }
        }
    };
    let new = v.finish_with(|| {
        Some(NewLicence {
            number: number?,
            issuing_authority,
            valid_from: body.valid_from,
            valid_to: body.valid_to,
            annual_capacity_grams: capacity?,
            scope: scope?,
        })
    })?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::record_licence(conn, now, &principal.user_id, &id, new))
        .await?;
    Ok(created(
        format!("/api/v1/disposers/{}/licences", view.disposer_id),
        &view,
    ))
}

/// The licences of a disposal company, in order of validity.
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Disposal company id")),
    responses(
        (status = 200, description = "Every licence, past and present", body = Vec<LicenceView>),
        (status = 404, description = "No such company, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/disposers/{id}/licences")]
pub async fn list_licences(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<LicenceView>>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadDisposer { disposer_id: &id })?;
    let licences = state
        .db
        .run(move |conn| service::list_licences(conn, &id))
        .await?;
    Ok(web::Json(licences))
}

/// End a licence early, e.g. when it is revoked (platform administrators).
#[utoipa::path(
    tag = "disposers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Licence id")),
    request_body = EndLicenceRequest,
    responses(
        (status = 200, description = "The shortened licence", body = LicenceView),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such licence", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not within the current validity", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/licences/{id}")]
pub async fn end_licence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<EndLicenceRequest>,
) -> Result<web::Json<LicenceView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let valid_to = body.into_inner().valid_to;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::end_licence(conn, now, &principal.user_id, &id, valid_to))
        .await?;
    Ok(web::Json(view))
}

/// Register a carrier (platform administrators).
#[utoipa::path(
    tag = "carriers",
    security(("bearer" = [])),
    request_body = CreateCarrierRequest,
    responses(
        (status = 201, description = "Registered", body = CarrierView, headers(("Location" = String, description = "URL of the carrier"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carriers")]
pub async fn create_carrier(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateCarrierRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let (name, uscc, region_code) = parse_party(&mut v, &body.name, &body.uscc, &body.region_code);
    let permit = v.check(parse_reference(
        "transport_permit_number",
        &body.transport_permit_number,
    ));
    let (party, permit) = v.finish_with(|| {
        Some((
            NewParty {
                name,
                uscc: uscc?,
                region_code: region_code?,
            },
            permit?,
        ))
    })?;
    let valid_until = body.transport_permit_valid_until;
    let view = state
        .db
        .write(move |conn| {
            service::create_carrier(conn, now, &principal.user_id, party, (permit, valid_until))
        })
        .await?;
    Ok(created(format!("/api/v1/carriers/{}", view.id), &view))
}

/// List carriers (park offices, dispatchers, inspectors; a carrier sees itself).
#[utoipa::path(
    tag = "carriers",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page", body = Page<CarrierView>))
)]
#[get("/carriers")]
pub async fn list_carriers(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<CarrierView>>, ApiError> {
    let scope = policy::directory_scope(&principal)?;
    let page = page_of(&page)?;
    let page = state
        .db
        .run(move |conn| service::list_carriers(conn, &scope, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a carrier.
#[utoipa::path(
    tag = "carriers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Carrier id")),
    responses(
        (status = 200, description = "The carrier", body = CarrierView),
        (status = 404, description = "No such carrier, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carriers/{id}")]
pub async fn get_carrier(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CarrierView>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadCarrier { carrier_id: &id })?;
    let view = state
        .db
        .run(move |conn| service::get_carrier(conn, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a carrier's name or permit (platform administrators).
#[utoipa::path(
    tag = "carriers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Carrier id")),
    request_body = UpdateCarrierRequest,
    responses(
        (status = 200, description = "The updated carrier", body = CarrierView),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such carrier", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/carriers/{id}")]
pub async fn update_carrier(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateCarrierRequest>,
) -> Result<web::Json<CarrierView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX));
    let permit = body
        .transport_permit_number
        .as_deref()
        .and_then(|p| v.check(parse_reference("transport_permit_number", p)));
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::update_carrier(
                conn,
                now,
                &principal.user_id,
                &id,
                name,
                (permit, body.transport_permit_valid_until),
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// Every version of a carrier; with `as_of`, the version current then.
#[utoipa::path(
    tag = "carriers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Carrier id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such carrier, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carriers/{id}/history")]
pub async fn carrier_history(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<HistoryQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<Revision>>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadCarrier { carrier_id: &id })?;
    let (query, page) = (query.into_inner(), page.into_inner());
    let page = state
        .db
        .run(move |conn| service::carrier_history(conn, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// Register a vehicle in a fleet (platform administrators; a disposer's dispatcher for its own
/// fleet).
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    request_body = CreateVehicleRequest,
    responses(
        (status = 201, description = "Registered", body = VehicleView, headers(("Location" = String, description = "URL of the vehicle"))),
        (status = 403, description = "You may not manage this fleet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a fleet you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or a plate already in service", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/vehicles")]
pub async fn create_vehicle(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateVehicleRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let operator_id = v.text("operator_id", &body.operator_id, 1, 64);
    let plate = v.check(parse_plate("plate", &body.plate));
    let permit = v.check(parse_reference(
        "dangerous_goods_permit_number",
        &body.dangerous_goods_permit_number,
    ));
    let (plate, permit) = v.finish_with(|| Some((plate?, permit?)))?;
    let view = state
        .db
        .write(move |conn| {
            service::register_vehicle(
                conn,
                now,
                &principal,
                &operator_id,
                plate,
                (permit, body.dangerous_goods_permit_valid_until),
            )
        })
        .await?;
    Ok(created(format!("/api/v1/vehicles/{}", view.id), &view))
}

/// List vehicles: the whole directory for park offices, dispatchers and inspectors, one's own
/// fleet for the others.
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    params(VehicleFilter, PageQuery),
    responses((status = 200, description = "One page", body = Page<VehicleView>))
)]
#[get("/vehicles")]
pub async fn list_vehicles(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<VehicleFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<VehicleView>>, ApiError> {
    let operator = policy::vehicle_operator(&principal, filter.into_inner().operator_id)?;
    let page = page_of(&page)?;
    let page = state
        .db
        .run(move |conn| service::list_vehicles(conn, operator.as_deref(), &page))
        .await?;
    Ok(web::Json(page))
}

/// The active drivers of a fleet (a carrier, or a disposal company's own): for whoever may read
/// the fleet's vehicles.
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    params(("operator_id" = String, Path, description = "The carrier or disposal company")),
    responses(
        (status = 200, description = "The drivers, by name", body = Vec<DriverView>),
        (status = 404, description = "Not a fleet you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/fleets/{operator_id}/drivers")]
pub async fn list_drivers(
    state: web::Data<AppState>,
    principal: Principal,
    operator_id: web::Path<String>,
) -> Result<web::Json<Vec<DriverView>>, ApiError> {
    let operator_id = operator_id.into_inner();
    authorize(
        &principal,
        Action::ReadVehicles {
            operator_id: &operator_id,
        },
    )?;
    let drivers = state
        .db
        .run(move |conn| service::list_drivers(conn, &operator_id))
        .await?;
    Ok(web::Json(drivers))
}

/// Read a vehicle.
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Vehicle id")),
    responses(
        (status = 200, description = "The vehicle", body = VehicleView),
        (status = 404, description = "No such vehicle, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/vehicles/{id}")]
pub async fn get_vehicle(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<VehicleView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_vehicle(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a vehicle's permit or take it out of (or back into) service.
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Vehicle id")),
    request_body = UpdateVehicleRequest,
    responses(
        (status = 200, description = "The updated vehicle", body = VehicleView),
        (status = 403, description = "You may not manage this fleet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vehicle, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/vehicles/{id}")]
pub async fn update_vehicle(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateVehicleRequest>,
) -> Result<web::Json<VehicleView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let permit = body
        .dangerous_goods_permit_number
        .as_deref()
        .and_then(|p| v.check(parse_reference("dangerous_goods_permit_number", p)));
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::update_vehicle(
                conn,
                now,
                &principal,
                &id,
                (permit, body.dangerous_goods_permit_valid_until),
                body.retired_on,
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// Every version of a vehicle; with `as_of`, the version current then.
#[utoipa::path(
    tag = "vehicles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Vehicle id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such vehicle, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/vehicles/{id}/history")]
pub async fn vehicle_history(
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
        .run(move |conn| service::vehicle_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// Register an environment bureau with its jurisdiction (platform administrators).
#[utoipa::path(
    tag = "bureaus",
    security(("bearer" = [])),
    request_body = CreateBureauRequest,
    responses(
        (status = 201, description = "Registered", body = BureauView, headers(("Location" = String, description = "URL of the bureau"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bureaus")]
pub async fn create_bureau(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateBureauRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let jurisdiction = v.check(Jurisdiction::parse("jurisdiction", &body.jurisdiction));
    let jurisdiction = v.finish_with(|| jurisdiction)?;
    let view = state
        .db
        .write(move |conn| {
            service::create_bureau(conn, now, &principal.user_id, name, jurisdiction)
        })
        .await?;
    Ok(created(format!("/api/v1/bureaus/{}", view.id), &view))
}

/// List environment bureaus: all (administrators) or one's own.
#[utoipa::path(
    tag = "bureaus",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page", body = Page<BureauView>))
)]
#[get("/bureaus")]
pub async fn list_bureaus(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<BureauView>>, ApiError> {
    let scope = policy::bureau_scope(&principal);
    let page = page_of(&page)?;
    let page = state
        .db
        .run(move |conn| service::list_bureaus(conn, &scope, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read an environment bureau (administrators, the bureau's own users).
#[utoipa::path(
    tag = "bureaus",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Bureau id")),
    responses(
        (status = 200, description = "The bureau", body = BureauView),
        (status = 404, description = "No such bureau, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/bureaus/{id}")]
pub async fn get_bureau(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<BureauView>, ApiError> {
    let id = id.into_inner();
    authorize(&principal, Action::ReadBureau { bureau_id: &id })?;
    let view = state
        .db
        .run(move |conn| service::get_bureau(conn, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a bureau's name or jurisdiction (platform administrators).
#[utoipa::path(
    tag = "bureaus",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Bureau id")),
    request_body = UpdateBureauRequest,
    responses(
        (status = 200, description = "The updated bureau", body = BureauView),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bureau", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/bureaus/{id}")]
pub async fn update_bureau(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateBureauRequest>,
) -> Result<web::Json<BureauView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageDirectory)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX));
    let jurisdiction = body
        .jurisdiction
        .as_deref()
        .and_then(|j| v.check(Jurisdiction::parse("jurisdiction", j)));
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::update_bureau(conn, now, &principal.user_id, &id, name, jurisdiction)
        })
        .await?;
    Ok(web::Json(view))
}
