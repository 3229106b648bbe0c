//! Queries on warehouses and zones. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{parks, warehouses, zones};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = warehouses)]
#[diesel(treat_none_as_null = true)]
pub struct WarehouseRow {
    pub id: String,
    pub park_id: String,
    pub name: String,
    pub address: String,
    pub closed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = zones)]
#[diesel(treat_none_as_null = true)]
pub struct ZoneRow {
    pub id: String,
    pub warehouse_id: String,
    pub name: String,
    pub kind: String,
    pub categories: String,
    pub capacity_grams: i64,
    pub closed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Kept by the lots that enter and leave the zone, never by a zone update.
    #[diesel(skip_update)]
    pub stored_grams: i64,
    /// The enterprise whose own storage point the zone is; `None`: shared.
    pub enterprise_id: Option<String>,
}

/// A warehouse with its park's region code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = warehouses)]
pub struct Warehouse {
    #[diesel(embed)]
    pub warehouse: WarehouseRow,
    /// The region code of the warehouse's park (`parks.region_code`).
    #[diesel(select_expression = parks::region_code)]
    pub region_code: String,
}

pub fn insert_warehouse(conn: &mut DbConn, row: &WarehouseRow) -> QueryResult<()> {
    diesel::insert_into(warehouses::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_warehouse(conn: &mut DbConn, row: &WarehouseRow) -> QueryResult<()> {
    diesel::update(warehouses::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_warehouse(conn: &mut DbConn, id: &str) -> QueryResult<Option<Warehouse>> {
    warehouses::table
        .inner_join(parks::table)
        .filter(warehouses::id.eq(id))
        .select(Warehouse::as_select())
        .first(conn)
        .optional()
}

pub fn warehouse_name_taken(
    conn: &mut DbConn,
    park_id: &str,
    name: &str,
    except: Option<&str>,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        warehouses::table
            .filter(warehouses::park_id.eq(park_id))
            .filter(warehouses::name.eq(name))
            .filter(warehouses::id.ne(except.unwrap_or("")))
            .select(warehouses::id),
    ))
    .get_result(conn)
}

pub fn list_warehouses(
    conn: &mut DbConn,
    scope: &Scope,
    park_id: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<Warehouse>> {
    let mut q = warehouses::table
        .inner_join(parks::table)
        .select(Warehouse::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) | Scope::Own(id) => q.filter(warehouses::park_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
    };
    if let Some(park) = park_id {
        q = q.filter(warehouses::park_id.eq(park.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(warehouses::id.gt(after.clone()));
    }
    q.order(warehouses::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_zone(conn: &mut DbConn, row: &ZoneRow) -> QueryResult<()> {
    diesel::insert_into(zones::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_zone(conn: &mut DbConn, row: &ZoneRow) -> QueryResult<()> {
    diesel::update(zones::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_zone(conn: &mut DbConn, id: &str) -> QueryResult<Option<ZoneRow>> {
    zones::table
        .find(id)
        .select(ZoneRow::as_select())
        .first(conn)
        .optional()
}

/// A zone with its warehouse (and the park's region code) and its park (and the park's name),
/// in one query: what a weighing checks before it takes a lot in.
pub fn find_zone_in_place(
    conn: &mut DbConn,
    id: &str,
) -> QueryResult<Option<(ZoneRow, Warehouse, crate::registry::parks::store::Park)>> {
    use crate::db::schema::organizations;
    use crate::registry::parks::store::ParkRow;
    let found: Vec<(ZoneRow, WarehouseRow, ParkRow, String)> = zones::table
        .inner_join(warehouses::table.inner_join(parks::table.inner_join(organizations::table)))
        .filter(zones::id.eq(id))
        .select((
            ZoneRow::as_select(),
            WarehouseRow::as_select(),
            ParkRow::as_select(),
            organizations::name,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .next()
        .map(|(zone, warehouse, park, name)| {
            let region_code = park.region_code.clone();
            (
                zone,
                Warehouse {
                    warehouse,
                    region_code,
                },
                crate::registry::parks::store::Park { park, name },
            )
        }))
}

pub fn zones_of(conn: &mut DbConn, warehouse_id: &str) -> QueryResult<Vec<ZoneRow>> {
    zones::table
        .filter(zones::warehouse_id.eq(warehouse_id))
        .select(ZoneRow::as_select())
        .order(zones::id.asc())
        .load(conn)
}

/// Zones open on `today` within a scope filled to at least `percent` of their capacity,
/// fullest first.
pub fn zones_near_capacity(
    conn: &mut DbConn,
    today: chrono::NaiveDate,
    scope: &crate::auth::policy::LotScope,
    percent: i64,
) -> QueryResult<Vec<ZoneRow>> {
    let mut q = zones::table
        .inner_join(warehouses::table.inner_join(parks::table))
        .filter(zones::closed_on.is_null().or(zones::closed_on.gt(today)))
        // No overflow: stock and capacity are at most MAX_GRAMS = 10^15 g, so the products are
        // at most 10^17 (the percent is at most 100), far inside a bigint.
        .filter((zones::stored_grams * 100).ge(zones::capacity_grams * percent))
        .select(ZoneRow::as_select())
        .into_boxed();
    use crate::auth::policy::LotScope;
    q = match scope {
        LotScope::All => q,
        LotScope::Park(id) => q.filter(warehouses::park_id.eq(id.clone())),
        LotScope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
        // Zones are the park's business.
        LotScope::Enterprise(_) | LotScope::Disposer(_) => return Ok(Vec::new()),
    };
    let mut zones: Vec<ZoneRow> = q.order(zones::id.asc()).limit(500).load(conn)?;
    zones.sort_by_key(|z| {
        std::cmp::Reverse(i128::from(z.stored_grams) * 1000 / i128::from(z.capacity_grams.max(1)))
    });
    Ok(zones)
}

/// Sets a zone's capacity if its stock fits: one conditional UPDATE, so a weighing committing
/// meanwhile cannot leave the zone over its new capacity. Returns whether it did.
pub fn set_capacity(conn: &mut DbConn, zone_id: &str, capacity: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        zones::table
            .filter(zones::id.eq(zone_id))
            .filter(zones::stored_grams.le(capacity)),
    )
    .set(zones::capacity_grams.eq(capacity))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Among the given zones, those assigned to an enterprise as its own: (zone id, enterprise id).
pub fn own_zones(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, Option<String>)> = zones::table
        .filter(zones::id.eq_any(ids))
        .filter(zones::enterprise_id.is_not_null())
        .select((zones::id, zones::enterprise_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(z, e)| e.map(|e| (z, e)))
        .collect())
}
