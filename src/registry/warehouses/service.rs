//! Use cases on warehouses and zones. Each runs inside the caller's write transaction and
//! records a revision of what it changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, Scope, authorize};
use crate::db::DbConn;
use crate::domain::ids::new_id;
use crate::domain::waste::{CatalogRef, Category, WasteKind, join_refs, split_refs};
use crate::error::NOT_VISIBLE;
use crate::error::{ApiError, FieldError};
use crate::http::Page;
use crate::http::PageQuery;
use crate::http::pagination::PageRequest;
use crate::registry::catalog::service::check_refs_exist;
use crate::registry::history::{self, Entity, HistoryQuery, Revision};
use crate::registry::parks::service as parks;
use crate::registry::warehouses::store::{self, WarehouseRow, ZoneRow};

/// Zones per warehouse, at most.
pub const MAX_ZONES: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "name": "Shared temporary-storage warehouse No. 1",
    "address": "Building C2, Longgang Green Technology Park",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct WarehouseView {
    pub id: String,
    pub park_id: String,
    pub name: String,
    pub address: String,
    /// The day the warehouse stopped taking waste.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1",
    "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "name": "A1 waste oil",
    "kind": "hazardous",
    "categories": ["HW08", "HW09"],
    "capacity_grams": 5000000000i64,
    "stored_grams": 352500,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct ZoneView {
    pub id: String,
    pub warehouse_id: String,
    pub name: String,
    /// A zone holds hazardous or general waste, never both.
    pub kind: WasteKind,
    /// The categories the zone may hold; empty means any category of its kind.
    pub categories: Vec<String>,
    /// Capacity in grams.
    pub capacity_grams: i64,
    /// Grams of waste stored in the zone now.
    pub stored_grams: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    /// The enterprise whose own storage point the zone is (only its lots enter, and leave with
    /// it as consignor); absent for a zone shared under the park's collection permit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn warehouse_view(
    crate::registry::warehouses::store::Warehouse {
        warehouse: row,
        region_code: _region,
    }: store::Warehouse,
) -> WarehouseView {
    WarehouseView {
        id: row.id,
        park_id: row.park_id,
        name: row.name,
        address: row.address,
        closed_on: row.closed_on,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub fn zone_view(row: ZoneRow) -> ZoneView {
    ZoneView {
        kind: WasteKind::parse_stored(&row.kind).unwrap_or(WasteKind::Hazardous),
        categories: split_refs(&row.categories)
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        id: row.id,
        warehouse_id: row.warehouse_id,
        name: row.name,
        capacity_grams: row.capacity_grams,
        stored_grams: row.stored_grams,
        closed_on: row.closed_on,
        enterprise_id: row.enterprise_id,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// Checks that an enterprise a zone is assigned to is one of the warehouse's park.
fn check_zone_enterprise(
    conn: &mut DbConn,
    park_id: &str,
    enterprise_id: &str,
) -> Result<(), ApiError> {
    match crate::registry::parks::store::find_enterprise(conn, enterprise_id)? {
        Some(e) if e.enterprise.park_id == park_id => Ok(()),
        _ => Err(ApiError::field(
            "enterprise_id",
            "not_in_park",
            "no such enterprise in this warehouse's park",
        )),
    }
}

pub fn load_warehouse(conn: &mut DbConn, id: &str) -> Result<store::Warehouse, ApiError> {
    store::find_warehouse(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub fn place(w: &store::Warehouse) -> Place<'_> {
    Place {
        park_id: &w.warehouse.park_id,
        region_code: &w.region_code,
    }
}

fn name_taken() -> ApiError {
    ApiError::field(
        "name",
        "taken",
        "the park already has a warehouse with this name",
    )
}

pub fn create_warehouse(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    park_id: &str,
    region: String,
    name: String,
    address: String,
) -> Result<WarehouseView, ApiError> {
    if store::warehouse_name_taken(conn, park_id, &name, None)? {
        return Err(name_taken());
    }
    let row = WarehouseRow {
        id: new_id("wh"),
        park_id: park_id.to_owned(),
        name,
        address,
        closed_on: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert_warehouse(conn, &row)?;
    let view = warehouse_view(crate::registry::warehouses::store::Warehouse {
        warehouse: row,
        region_code: region,
    });
    history::record(conn, Entity::Warehouse, &view.id, Some(by), now, &view)?;
    Ok(view)
}

#[derive(Default)]
pub struct WarehouseChanges {
    pub name: Option<String>,
    pub address: Option<String>,
    pub closed_on: Option<Option<NaiveDate>>,
}

/// Renames, moves or closes a warehouse the principal may manage.
pub fn update_warehouse(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    changes: WarehouseChanges,
) -> Result<WarehouseView, ApiError> {
    let crate::registry::warehouses::store::Warehouse {
        warehouse: mut row,
        region_code: region,
    } = load_manageable(conn, principal, id)?;
    let by = principal.user_id.as_str();
    if let Some(name) = changes.name {
        if store::warehouse_name_taken(conn, &row.park_id, &name, Some(&row.id))? {
            return Err(name_taken());
        }
        row.name = name;
    }
    if let Some(address) = changes.address {
        row.address = address;
    }
    if let Some(closed_on) = changes.closed_on {
        row.closed_on = closed_on;
    }
    row.updated_at = now.naive_utc();
    store::save_warehouse(conn, &row)?;
    let view = warehouse_view(crate::registry::warehouses::store::Warehouse {
        warehouse: row,
        region_code: region,
    });
    history::record(conn, Entity::Warehouse, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Checks that a zone's categories are of its kind and in the catalog.
fn check_categories(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: WasteKind,
    categories: &[Category],
) -> Result<(), ApiError> {
    let mut errors: Vec<FieldError> = categories
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind() != kind)
        .map(|(i, c)| {
            FieldError::new(
                format!("categories[{i}]"),
                "wrong_kind",
                format!(
                    "{c} is {} waste; a {} zone holds only {} waste",
                    c.kind().as_str(),
                    kind.as_str(),
                    kind.as_str()
                ),
            )
        })
        .collect();
    let refs: Vec<CatalogRef> = categories
        .iter()
        .cloned()
        .map(CatalogRef::Category)
        .collect();
    let unknown = check_refs_exist(
        conn,
        |i| format!("categories[{i}]"),
        &refs,
        now.date_naive(),
    )?;
    // One error per entry: a category of the wrong kind is not also reported as unknown.
    for e in unknown {
        if !errors.iter().any(|known| known.field == e.field) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub struct NewZone {
    pub name: String,
    pub kind: WasteKind,
    pub categories: Vec<Category>,
    pub capacity_grams: i64,
    pub enterprise_id: Option<String>,
}

pub fn add_zone(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    warehouse: &store::Warehouse,
    new: NewZone,
) -> Result<ZoneView, ApiError> {
    check_categories(conn, now, new.kind, &new.categories)?;
    if let Some(e) = &new.enterprise_id {
        check_zone_enterprise(conn, &warehouse.warehouse.park_id, e)?;
    }
    let existing = store::zones_of(conn, &warehouse.warehouse.id)?;
    if existing.iter().any(|z| z.name == new.name) {
        return Err(ApiError::field(
            "name",
            "taken",
            "the warehouse already has a zone with this name",
        ));
    }
    if existing.len() >= MAX_ZONES {
        return Err(ApiError::Conflict(format!(
            "a warehouse holds at most {MAX_ZONES} zones"
        )));
    }
    let refs: Vec<CatalogRef> = new
        .categories
        .into_iter()
        .map(CatalogRef::Category)
        .collect();
    let row = ZoneRow {
        id: new_id("zone"),
        warehouse_id: warehouse.warehouse.id.clone(),
        name: new.name,
        kind: new.kind.as_str().to_owned(),
        categories: join_refs(&refs),
        capacity_grams: new.capacity_grams,
        closed_on: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        stored_grams: 0,
        enterprise_id: new.enterprise_id,
    };
    store::insert_zone(conn, &row)?;
    let view = zone_view(row);
    history::record(conn, Entity::Zone, &view.id, Some(by), now, &view)?;
    Ok(view)
}

#[derive(Default)]
pub struct ZoneChanges {
    pub name: Option<String>,
    pub categories: Option<Vec<Category>>,
    pub capacity_grams: Option<i64>,
    pub closed_on: Option<Option<NaiveDate>>,
    pub enterprise_id: Option<Option<String>>,
}

/// Renames a zone the principal may manage, changes its categories or capacity, or closes it.
pub fn update_zone(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    changes: ZoneChanges,
) -> Result<ZoneView, ApiError> {
    let (mut row, w) = load_zone(conn, id)?;
    authorize_manage(principal, &w)?;
    let by = principal.user_id.as_str();
    let kind = WasteKind::parse_stored(&row.kind).unwrap_or(WasteKind::Hazardous);
    if let Some(name) = changes.name {
        if store::zones_of(conn, &row.warehouse_id)?
            .iter()
            .any(|z| z.name == name && z.id != row.id)
        {
            return Err(ApiError::field(
                "name",
                "taken",
                "the warehouse already has a zone with this name",
            ));
        }
        row.name = name;
    }
    if let Some(categories) = changes.categories {
        check_categories(conn, now, kind, &categories)?;
        row.categories = join_refs(
            &categories
                .into_iter()
                .map(CatalogRef::Category)
                .collect::<Vec<_>>(),
        );
    }
    if let Some(capacity) = changes.capacity_grams {
        if !store::set_capacity(conn, &row.id, capacity)? {
            return Err(ApiError::field(
                "capacity_grams",
                "below_stock",
                format!("the zone holds {} grams now", row.stored_grams),
            ));
        }
        row.capacity_grams = capacity;
    }
    if let Some(closed_on) = changes.closed_on {
        row.closed_on = closed_on;
    }
    if let Some(enterprise_id) = changes.enterprise_id
        && enterprise_id != row.enterprise_id
    {
        // The lots in a zone were taken in under its assignment: it changes only when empty.
        if row.stored_grams > 0 {
            return Err(ApiError::field(
                "enterprise_id",
                "not_empty",
                format!(
                    "the zone holds {} grams now: its assignment changes only when it is empty",
                    row.stored_grams
                ),
            ));
        }
        if let Some(e) = &enterprise_id {
            let park_id = load_warehouse(conn, &row.warehouse_id)?.warehouse.park_id;
            check_zone_enterprise(conn, &park_id, e)?;
        }
        row.enterprise_id = enterprise_id;
    }
    row.updated_at = now.naive_utc();
    store::save_zone(conn, &row)?;
    let view = zone_view(row);
    history::record(conn, Entity::Zone, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// A zone with its warehouse (for the access check).
pub fn load_zone(conn: &mut DbConn, id: &str) -> Result<(ZoneRow, store::Warehouse), ApiError> {
    let zone = store::find_zone(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let warehouse = load_warehouse(conn, &zone.warehouse_id)?;
    Ok((zone, warehouse))
}

/// A park office of another park, or a role without access, must not learn that the warehouse
/// exists; an inspector may read it but not change it.
fn authorize_manage(principal: &Principal, w: &store::Warehouse) -> Result<(), ApiError> {
    authorize(principal, Action::ManageWarehouse(place(w)))
}

/// Loads a warehouse the principal may read (404 otherwise).
fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Warehouse, ApiError> {
    let w = load_warehouse(conn, id)?;
    authorize(principal, Action::ReadWarehouse(place(&w)))?;
    Ok(w)
}

/// Loads a warehouse the principal may change (see [`authorize_manage`]).
fn load_manageable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Warehouse, ApiError> {
    let w = load_warehouse(conn, id)?;
    authorize_manage(principal, &w)?;
    Ok(w)
}

/// Opens a warehouse in a park the principal manages: 404 for a park it may not see.
pub fn open_warehouse(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    name: String,
    address: String,
) -> Result<WarehouseView, ApiError> {
    let park = parks::load_park(conn, park_id)?;
    authorize(principal, Action::ManagePark(parks::place(&park)))?;
    create_warehouse(
        conn,
        now,
        &principal.user_id,
        park_id,
        park.park.region_code.clone(),
        name,
        address,
    )
}

/// One page of the warehouses within `scope`, optionally of one park.
pub fn list_warehouses(
    conn: &mut DbConn,
    scope: &Scope,
    park_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<WarehouseView>, ApiError> {
    let rows = store::list_warehouses(conn, scope, park_id, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.warehouse.id.as_str()).map(warehouse_view))
}

/// A warehouse the principal may read.
pub fn get_warehouse(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<WarehouseView, ApiError> {
    load_readable(conn, principal, id).map(warehouse_view)
}

/// The versions of a warehouse the principal may read.
pub fn warehouse_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_readable(conn, principal, id)?;
    history::list(conn, Entity::Warehouse, id, query, page)
}

/// Adds a storage zone to a warehouse the principal may manage.
pub fn create_zone(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    warehouse_id: &str,
    new: NewZone,
) -> Result<ZoneView, ApiError> {
    let w = load_manageable(conn, principal, warehouse_id)?;
    add_zone(conn, now, &principal.user_id, &w, new)
}

/// The zones of a warehouse the principal may read.
pub fn list_zones(
    conn: &mut DbConn,
    principal: &Principal,
    warehouse_id: &str,
) -> Result<Vec<ZoneView>, ApiError> {
    load_readable(conn, principal, warehouse_id)?;
    Ok(store::zones_of(conn, warehouse_id)?
        .into_iter()
        .map(zone_view)
        .collect())
}

/// A zone of a warehouse the principal may read.
pub fn get_zone(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ZoneView, ApiError> {
    let (zone, w) = load_zone(conn, id)?;
    authorize(principal, Action::ReadWarehouse(place(&w)))?;
    Ok(zone_view(zone))
}

/// The versions of a zone of a warehouse the principal may read.
pub fn zone_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    let (_, w) = load_zone(conn, id)?;
    authorize(principal, Action::ReadWarehouse(place(&w)))?;
    history::list(conn, Entity::Zone, id, query, page)
}
