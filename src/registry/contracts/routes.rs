//! HTTP endpoints for contracts and expiry alerts.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::text::parse_reference;
use crate::domain::units::{fen_per_tonne, positive_grams};
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::non_null;
use crate::http::{Json, Page, PageQuery, created};
use crate::registry::contracts::service::{
    self, ContractFilter, ContractSummary, ContractView, Expiration, NewContract, NewMember,
    NewPrice, NewThreshold, TermsView,
};
use crate::registry::history::{HistoryQuery, Revision};
use crate::state::AppState;

/// Most members, prices or thresholds in one request.
const MAX_LINES: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "joined_on": "2026-03-01"}))]
pub struct MemberRequest {
    pub enterprise_id: String,
    /// First day in the contract; default the contract's first day.
    pub joined_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target": "900-249-08", "fen_per_tonne": 320000, "effective_from": "2026-07-01"}))]
pub struct PriceRequest {
    /// A waste code or a category of the catalog.
    pub target: String,
    /// Fen per tonne; negative when the disposer buys the waste.
    pub fen_per_tonne: i64,
    /// Default: the contract's first day.
    pub effective_from: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target": "HW08", "threshold_grams": 2000000, "effective_from": "2026-01-01"}))]
pub struct ThresholdRequest {
    pub target: String,
    /// Waiting quantity, in grams, that triggers a pickup request.
    pub threshold_grams: i64,
    pub effective_from: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "number": "LG-2026-001",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "max_storage_days": 180,
    "members": [{"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7"}],
    "prices": [{"target": "HW08", "fen_per_tonne": 350000}, {"target": "900-041-49", "fen_per_tonne": 500000}],
    "thresholds": [{"target": "HW08", "threshold_grams": 2000000}]
}))]
pub struct CreateContractRequest {
    pub park_id: String,
    pub disposer_id: String,
    /// The contract's number, unique in the park.
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Longest storage of a lot, 1 to 365 days.
    pub max_storage_days: i32,
    /// Fill of a zone, in percent of its capacity (1 to 100, default 80), at which its waste
    /// is called for collection.
    pub pickup_zone_percent: Option<i32>,
    #[serde(default)]
    pub members: Vec<MemberRequest>,
    #[serde(default)]
    pub prices: Vec<PriceRequest>,
    #[serde(default)]
    pub thresholds: Vec<ThresholdRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_to": "2027-12-31"}))]
pub struct UpdateContractRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = NaiveDate)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = i32)]
    pub max_storage_days: Option<i32>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = i32)]
    pub pickup_zone_percent: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"left_on": "2026-09-01"}))]
pub struct LeaveRequest {
    /// First day the enterprise is no longer a member.
    pub left_on: NaiveDate,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    pub park_id: Option<String>,
    pub disposer_id: Option<String>,
    pub enterprise_id: Option<String>,
    /// Only contracts valid on this day (YYYY-MM-DD).
    #[param(value_type = Option<NaiveDate>)]
    pub in_force_on: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TermsQuery {
    /// The waste code, e.g. `900-249-08`: NNN-NNN-NN (hazardous) or NNN-NNN-SNN (general).
    #[param(pattern = r"^[0-9]{3}-[0-9]{3}-S?[0-9]{2}$", example = "900-249-08")]
    pub code: String,
    /// The day (YYYY-MM-DD); default today in the park's time zone.
    #[param(value_type = Option<NaiveDate>)]
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpirationQuery {
    /// Look this many days ahead, 1 to 365 (default 30).
    #[param(value_type = Option<i64>)]
    pub within_days: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpirationList {
    /// Today, in China Standard Time, from which days are counted.
    pub today: NaiveDate,
    pub within_days: i64,
    pub items: Vec<Expiration>,
}

fn parse_day(v: &mut Validator, field: &str, raw: Option<&str>) -> Option<NaiveDate> {
    raw.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| {
        v.check(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "invalid", "must be a date YYYY-MM-DD")),
        )
    })
}

fn parse_price(v: &mut Validator, prefix: &str, p: &PriceRequest) -> Option<NewPrice> {
    let target = v.check(CatalogRef::parse(&format!("{prefix}target"), &p.target));
    let fen = v.check(fen_per_tonne(
        &format!("{prefix}fen_per_tonne"),
        p.fen_per_tonne,
    ));
    Some(NewPrice {
        target: target?,
        fen_per_tonne: fen?,
        effective_from: p.effective_from,
    })
}

fn parse_threshold(v: &mut Validator, prefix: &str, t: &ThresholdRequest) -> Option<NewThreshold> {
    let target = v.check(CatalogRef::parse(&format!("{prefix}target"), &t.target));
    let grams = v.check(positive_grams(
        &format!("{prefix}threshold_grams"),
        t.threshold_grams,
    ));
    Some(NewThreshold {
        target: target?,
        threshold_grams: grams?,
        effective_from: t.effective_from,
    })
}

fn check_lines(v: &mut Validator, field: &str, len: usize) {
    if len > MAX_LINES {
        v.push(FieldError::new(
            field,
            "too_long",
            format!("at most {MAX_LINES} entries"),
        ));
    }
}

/// Conclude a "1+N" contract between the park office, a disposal company and enterprises of the
/// park (administrators, the park's office). Refused when the disposal company holds no licence
/// valid on the day a hazardous price takes effect that covers what is priced.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    request_body = CreateContractRequest,
    responses(
        (status = 201, description = "Concluded", body = ContractView, headers(("Location" = String, description = "URL of the contract"))),
        (status = 403, description = "You may not manage this park", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, unknown code, enterprise outside the park, or not covered by a valid licence", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts")]
pub async fn create_contract(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateContractRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let park_id = v.text("park_id", &body.park_id, 1, 64);
    let disposer_id = v.text("disposer_id", &body.disposer_id, 1, 64);
    let number = v.check(parse_reference("number", &body.number));
    check_lines(&mut v, "members", body.members.len());
    check_lines(&mut v, "prices", body.prices.len());
    check_lines(&mut v, "thresholds", body.thresholds.len());
    let prices: Vec<Option<NewPrice>> = body
        .prices
        .iter()
        .enumerate()
        .map(|(i, p)| parse_price(&mut v, &format!("prices[{i}]."), p))
        .collect();
    let thresholds: Vec<Option<NewThreshold>> = body
        .thresholds
        .iter()
        .enumerate()
        .map(|(i, t)| parse_threshold(&mut v, &format!("thresholds[{i}]."), t))
        .collect();
    let new = v.finish_with(|| {
        Some(NewContract {
            number: number?,
            disposer_id,
            valid_from: body.valid_from,
            valid_to: body.valid_to,
            max_storage_days: body.max_storage_days,
            pickup_zone_percent: body.pickup_zone_percent.unwrap_or(80),
            members: body
                .members
                .into_iter()
                .map(|m| NewMember {
                    enterprise_id: m.enterprise_id,
                    joined_on: m.joined_on,
                })
                .collect(),
            prices: prices.into_iter().collect::<Option<_>>()?,
            thresholds: thresholds.into_iter().collect::<Option<_>>()?,
        })
    })?;
    let view = state
        .db
        .write(move |conn| service::conclude_contract(conn, now, &principal, &park_id, new))
        .await?;
    Ok(created(
        format!("/api/v1/contracts/{}", view.summary.id),
        &view,
    ))
}

/// List the contracts you may see: the park office its park's, an inspector its
/// jurisdiction's, a disposal company or an enterprise those it is party to.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(ContractQuery, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ContractSummary>),
        (status = 403, description = "Your role reads no contracts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts")]
pub async fn list_contracts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ContractQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<ContractSummary>>, ApiError> {
    let scope = policy::contract_scope(&principal)?;
    let query = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let in_force_on = parse_day(&mut v, "in_force_on", query.in_force_on.as_deref());
    v.finish()?;
    let filter = ContractFilter {
        park_id: query.park_id,
        disposer_id: query.disposer_id,
        enterprise_id: query.enterprise_id,
        in_force_on,
        ending_between: None,
    };
    let page = state
        .db
        .run(move |conn| service::list_contracts(conn, &scope, &filter, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a contract with its members, prices and thresholds (past and present).
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses(
        (status = 200, description = "The contract", body = ContractView),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts/{id}")]
pub async fn get_contract(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ContractView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_contract(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Extend or shorten a contract, or change its storage limit (administrators, the park office).
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    request_body = UpdateContractRequest,
    responses(
        (status = 200, description = "The updated contract", body = ContractView),
        (status = 403, description = "You may read but not change this contract", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/contracts/{id}")]
pub async fn update_contract(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateContractRequest>,
) -> Result<web::Json<ContractView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::update_contract(
                conn,
                now,
                &principal,
                &id,
                body.valid_to,
                body.max_storage_days,
                body.pickup_zone_percent,
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// Every version of a contract; with `as_of`, the version current then.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts/{id}/history")]
pub async fn contract_history(
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
        .run(move |conn| service::contract_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// An enterprise of the park joins the contract.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    request_body = MemberRequest,
    responses(
        (status = 200, description = "The contract with its new member", body = ContractView),
        (status = 403, description = "You may read but not change this contract", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an enterprise of the park, outside the period, or already a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<MemberRequest>,
) -> Result<web::Json<ContractView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::join_contract(
                conn,
                now,
                &principal,
                &id,
                NewMember {
                    enterprise_id: body.enterprise_id,
                    joined_on: body.joined_on,
                },
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// An enterprise leaves the contract from a given day.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), ("enterprise_id" = String, Path, description = "Enterprise id")),
    request_body = LeaveRequest,
    responses(
        (status = 200, description = "The contract", body = ContractView),
        (status = 403, description = "You may read but not change this contract", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or open membership", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Leaving before joining", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts/{id}/members/{enterprise_id}/leave")]
pub async fn end_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: Json<LeaveRequest>,
) -> Result<web::Json<ContractView>, ApiError> {
    let now = state.clock.now();
    let (id, enterprise_id) = path.into_inner();
    let left_on = body.into_inner().left_on;
    let view = state
        .db
        .write(move |conn| {
            service::leave_contract(conn, now, &principal, &id, &enterprise_id, left_on)
        })
        .await?;
    Ok(web::Json(view))
}

/// Add a price (a new one for a target supersedes the earlier from its effective day).
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    request_body = PriceRequest,
    responses(
        (status = 200, description = "The contract with the new price", body = ContractView),
        (status = 403, description = "You may read but not change this contract", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown code, outside the period, duplicate, or not covered by a valid licence", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts/{id}/prices")]
pub async fn add_price(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<PriceRequest>,
) -> Result<web::Json<ContractView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let price = parse_price(&mut v, "", &body);
    let price = v.finish_with(|| price)?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::price_contract(conn, now, &principal, &id, price))
        .await?;
    Ok(web::Json(view))
}

/// Add a pickup threshold (a new one for a target supersedes the earlier from its effective day).
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    request_body = ThresholdRequest,
    responses(
        (status = 200, description = "The contract with the new threshold", body = ContractView),
        (status = 403, description = "You may read but not change this contract", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown code, outside the period or duplicate", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts/{id}/thresholds")]
pub async fn add_threshold(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ThresholdRequest>,
) -> Result<web::Json<ContractView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let threshold = parse_threshold(&mut v, "", &body);
    let threshold = v.finish_with(|| threshold)?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::set_contract_threshold(conn, now, &principal, &id, threshold))
        .await?;
    Ok(web::Json(view))
}

/// The price and pickup threshold that applied to a waste code on a day.
#[utoipa::path(
    tag = "contracts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), TermsQuery),
    responses(
        (status = 200, description = "What the contract said that day", body = TermsView),
        (status = 404, description = "No such contract, or not one you are party to", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a waste code or a date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts/{id}/terms")]
pub async fn terms(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<TermsQuery>,
) -> Result<web::Json<TermsView>, ApiError> {
    let query = query.into_inner();
    let mut v = Validator::new();
    let code = v.check(WasteCode::parse("code", &query.code));
    let on = parse_day(&mut v, "on", query.on.as_deref());
    let code = v.finish_with(|| code)?;
    let id = id.into_inner();
    let now = state.clock.now();
    let view = state
        .db
        .run(move |conn| service::contract_terms(conn, now, &principal, &id, &code, on))
        .await?;
    Ok(web::Json(view))
}

/// Licences and contracts that end within the coming days, among those you may see.
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    params(ExpirationQuery),
    responses(
        (status = 200, description = "What ends soon, soonest first (at most 500)", body = ExpirationList),
        (status = 403, description = "Your role receives no expiry alerts", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid window", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/alerts/expirations")]
pub async fn expirations(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExpirationQuery>,
) -> Result<web::Json<ExpirationList>, ApiError> {
    let scope = policy::contract_scope(&principal)?;
    let mut v = Validator::new();
    let within_days = match query.within_days.as_deref().map(str::trim) {
        None | Some("") => 30,
        Some(raw) => v
            .check(
                raw.parse::<i64>()
                    .ok()
                    .filter(|d| (1..=365).contains(d))
                    .ok_or_else(|| {
                        FieldError::new(
                            "within_days",
                            "out_of_range",
                            "must be a whole number of days from 1 to 365",
                        )
                    }),
            )
            .unwrap_or(30),
    };
    v.finish()?;
    // Expiry is counted in whole days in China Standard Time, the zone of every park so far.
    let today =
        crate::domain::time::local_date(state.clock.now(), crate::domain::park::DEFAULT_TIME_ZONE);
    let licence_scope = policy::licence_alert_scope(&principal);
    let items = state
        .db
        .run(move |conn| {
            service::expirations(conn, &scope, licence_scope.as_ref(), today, within_days)
        })
        .await?;
    Ok(web::Json(ExpirationList {
        today,
        within_days,
        items,
    }))
}
