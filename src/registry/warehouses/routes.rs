//! HTTP endpoints for warehouses and zones.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::units::positive_grams;
use crate::domain::waste::{Category, WasteKind};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::{double_option, non_null};
use crate::http::{Json, Page, PageQuery, created};
use crate::registry::history::{HistoryQuery, Revision};
use crate::registry::parks::routes::{ADDRESS_MAX, NAME_MAX};
use crate::registry::warehouses::service::{
    self, NewZone, WarehouseChanges, WarehouseView, ZoneChanges, ZoneView,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "name": "Shared temporary-storage warehouse No. 1",
    "address": "Building C2, Longgang Green Technology Park"
}))]
pub struct CreateWarehouseRequest {
    pub park_id: String,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Warehouse No. 1 (east)"}))]
pub struct UpdateWarehouseRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub address: Option<String>,
    /// The day the warehouse stops taking waste; `null` reopens it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closed_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "A1 waste oil", "kind": "hazardous", "categories": ["HW08", "HW09"], "capacity_grams": 5000000000i64}))]
pub struct CreateZoneRequest {
    pub name: String,
    pub kind: WasteKind,
    /// Categories the zone may hold (`HW08`, `S17`); empty or absent means any of its kind.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Capacity in grams.
    pub capacity_grams: i64,
    /// An enterprise of the park whose own storage point the zone is: only its lots enter
    /// (hazardous ones without the park's collection permit), and they leave with the
    /// enterprise as consignor. Absent: a zone shared by the park's enterprises.
    pub enterprise_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"capacity_grams": 8000000000i64}))]
pub struct UpdateZoneRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = Vec<String>)]
    pub categories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = i64)]
    pub capacity_grams: Option<i64>,
    /// The day the zone stops taking waste; `null` reopens it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closed_on: Option<Option<NaiveDate>>,
    /// The enterprise whose own storage point the zone becomes; `null` makes it shared. Only
    /// while the zone is empty.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub enterprise_id: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarehouseFilter {
    /// Only the warehouses of this park.
    pub park_id: Option<String>,
}

fn parse_categories(v: &mut Validator, raw: &[String]) -> Option<Vec<Category>> {
    if raw.len() > 50 {
        v.push(FieldError::new(
            "categories",
            "too_long",
            "at most 50 categories",
        ));
        return None;
    }
    let parsed: Vec<Option<Category>> = raw
        .iter()
        .enumerate()
        .map(|(i, c)| v.check(Category::parse(&format!("categories[{i}]"), c)))
        .collect();
    parsed.into_iter().collect()
}

/// Open a warehouse in a park (administrators, the park's office).
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    request_body = CreateWarehouseRequest,
    responses(
        (status = 201, description = "Created", body = WarehouseView, headers(("Location" = String, description = "URL of the warehouse"))),
        (status = 403, description = "You may not manage this park", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/warehouses")]
pub async fn create_warehouse(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateWarehouseRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let park_id = v.text("park_id", &body.park_id, 1, 64);
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let address = v.text("address", &body.address, 1, ADDRESS_MAX);
    v.finish()?;
    let view = state
        .db
        .write(move |conn| service::open_warehouse(conn, now, &principal, &park_id, name, address))
        .await?;
    Ok(created(format!("/api/v1/warehouses/{}", view.id), &view))
}

/// List the warehouses you may see (park offices their park's, inspectors their jurisdiction's).
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(WarehouseFilter, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<WarehouseView>),
        (status = 403, description = "Your role lists no warehouses", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses")]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<WarehouseFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<WarehouseView>>, ApiError> {
    let scope = policy::warehouse_scope(&principal)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let park_id = filter.into_inner().park_id;
    let page = state
        .db
        .run(move |conn| service::list_warehouses(conn, &scope, park_id.as_deref(), &page))
        .await?;
    Ok(web::Json(page))
}

/// Read a warehouse.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    responses(
        (status = 200, description = "The warehouse", body = WarehouseView),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses/{id}")]
pub async fn get_warehouse(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<WarehouseView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_warehouse(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Rename, move or close a warehouse (administrators, the park's office).
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    request_body = UpdateWarehouseRequest,
    responses(
        (status = 200, description = "The updated warehouse", body = WarehouseView),
        (status = 403, description = "You may read but not change this warehouse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/warehouses/{id}")]
pub async fn update_warehouse(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateWarehouseRequest>,
) -> Result<web::Json<WarehouseView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let changes = WarehouseChanges {
        name: body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX)),
        address: body
            .address
            .as_deref()
            .map(|a| v.text("address", a, 1, ADDRESS_MAX)),
        closed_on: body.closed_on,
    };
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::update_warehouse(conn, now, &principal, &id, changes))
        .await?;
    Ok(web::Json(view))
}

/// Every version of a warehouse; with `as_of`, the version current then.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses/{id}/history")]
pub async fn warehouse_history(
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
        .run(move |conn| service::warehouse_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}

/// Add a storage zone to a warehouse (administrators, the park's office).
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    request_body = CreateZoneRequest,
    responses(
        (status = 201, description = "Created", body = ZoneView, headers(("Location" = String, description = "URL of the zone"))),
        (status = 403, description = "You may read but not change this warehouse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, a category of the other kind or not in the catalog", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/warehouses/{id}/zones")]
pub async fn create_zone(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<CreateZoneRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let categories = parse_categories(&mut v, &body.categories);
    let capacity = v.check(positive_grams("capacity_grams", body.capacity_grams));
    let enterprise_id = body
        .enterprise_id
        .as_deref()
        .map(|e| v.text("enterprise_id", e, 1, 64));
    let new = v.finish_with(|| {
        Some(NewZone {
            name,
            kind: body.kind,
            categories: categories?,
            capacity_grams: capacity?,
            enterprise_id,
        })
    })?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::create_zone(conn, now, &principal, &id, new))
        .await?;
    Ok(created(format!("/api/v1/zones/{}", view.id), &view))
}

/// The zones of a warehouse.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    responses(
        (status = 200, description = "Every zone (at most 200)", body = Vec<ZoneView>),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses/{id}/zones")]
pub async fn list_zones(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<ZoneView>>, ApiError> {
    let id = id.into_inner();
    let zones = state
        .db
        .run(move |conn| service::list_zones(conn, &principal, &id))
        .await?;
    Ok(web::Json(zones))
}

/// Read a zone.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id")),
    responses(
        (status = 200, description = "The zone", body = ZoneView),
        (status = 404, description = "No such zone, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/zones/{id}")]
pub async fn get_zone(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ZoneView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_zone(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Rename a zone, change its categories or capacity, or close it.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id")),
    request_body = UpdateZoneRequest,
    responses(
        (status = 200, description = "The updated zone", body = ZoneView),
        (status = 403, description = "You may read but not change this zone", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such zone, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/zones/{id}")]
pub async fn update_zone(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateZoneRequest>,
) -> Result<web::Json<ZoneView>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX));
    let categories = body
        .categories
        .as_deref()
        .map(|c| parse_categories(&mut v, c));
    let capacity = body
        .capacity_grams
        .map(|c| v.check(positive_grams("capacity_grams", c)));
    let enterprise_id = body
        .enterprise_id
        .map(|e| e.map(|e| v.text("enterprise_id", &e, 1, 64)));
    let changes = v.finish_with(|| {
        Some(ZoneChanges {
            name,
            categories: match categories {
                Some(parsed) => Some(parsed?),
                None => None,
            },
            capacity_grams: match capacity {
                Some(parsed) => Some(parsed?),
                None => None,
            },
            closed_on: body.closed_on,
            enterprise_id,
        })
    })?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::update_zone(conn, now, &principal, &id, changes))
        .await?;
    Ok(web::Json(view))
}

/// Every version of a zone; with `as_of`, the version current then.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "Versions", body = Page<Revision>),
        (status = 404, description = "No such zone, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/zones/{id}/history")]
pub async fn zone_history(
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
        .run(move |conn| service::zone_history(conn, &principal, &id, &query, &page))
        .await?;
    Ok(web::Json(page))
}
