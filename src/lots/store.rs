//! Queries on lots, their events, the inventory and label sequences. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::LotScope;
use crate::db::schema::{
    contracts, inventory, lot_events, lots, manifest_lots, manifests, parks, pickup_request_lots,
    zones,
};
use crate::db::{DbConn, MultiBackend};
use crate::domain::ids::{LotId, PickupRequestId};
use crate::domain::lot::LotStatus;
use crate::http::pagination::PageRequest;
use crate::http::query::{DayOrInstant, start_of_day};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = lots)]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct LotRow {
    pub id: LotId,
    pub park_id: String,
    pub enterprise_id: String,
    pub contract_id: String,
    pub route: String,
    pub status: LotStatus,
    pub waste_code: String,
    pub kind: String,
    pub category: String,
    pub physical_form: String,
    pub container_type: String,
    pub container_count: i32,
    pub container_litres: Option<i32>,
    pub warehouse_id: Option<String>,
    pub zone_id: Option<String>,
    pub gross_grams: Option<i64>,
    pub tare_grams: Option<i64>,
    pub net_grams: i64,
    pub weight_source: String,
    pub scale_id: Option<String>,
    pub captured_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub recorded_by: String,
    pub produced_on: NaiveDate,
    pub main_components: Option<String>,
    pub note: Option<String>,
    pub label_code: Option<String>,
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The open pickup request the lot waits in, if any.
    pub pickup_request_id: Option<PickupRequestId>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lot_events)]
pub struct EventRow {
    pub id: String,
    pub lot_id: LotId,
    pub kind: String,
    pub at: NaiveDateTime,
    pub by_user: String,
    pub reason: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inventory)]
pub struct InventoryRow {
    pub zone_id: String,
    pub contract_id: String,
    pub waste_code: String,
    pub grams: i64,
    pub lots: i32,
    pub updated_at: NaiveDateTime,
}

/// A lot with what its access check reads besides the lot: its park's region code and its
/// contract's disposer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub struct Lot {
    #[diesel(embed)]
    pub lot: LotRow,
    /// The region code of the lot's park (`parks.region_code`).
    #[diesel(select_expression = parks::region_code)]
    pub region_code: String,
    /// The disposer of the lot's contract (`contracts.disposer_id`).
    #[diesel(select_expression = contracts::disposer_id)]
    pub disposer_id: String,
}

pub fn insert_lot(conn: &mut DbConn, row: &LotRow) -> QueryResult<()> {
    diesel::insert_into(lots::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Saves a changed lot only if it is still in the state it was read in (same status, same
/// `updated_at`): of two concurrent changes to one lot, the second finds nothing to update.
/// Returns whether the lot was saved.
pub fn save_lot_if_unchanged(
    conn: &mut DbConn,
    row: &LotRow,
    read_status: LotStatus,
    read_updated_at: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        lots::table
            .filter(lots::id.eq(&row.id))
            .filter(lots::status.eq(read_status))
            .filter(lots::updated_at.eq(read_updated_at)),
    )
    .set(row)
    .execute(conn)?;
    Ok(updated == 1)
}

/// The lots a pickup request covers or covered, as they are now, in id order.
pub fn lots_of_request(
    conn: &mut DbConn,
    request_id: &PickupRequestId,
) -> QueryResult<Vec<LotRow>> {
    lots::table
        .inner_join(pickup_request_lots::table)
        .filter(pickup_request_lots::request_id.eq(request_id))
        .select(LotRow::as_select())
        .order(lots::id.asc())
        .load(conn)
}

pub fn find_lot(conn: &mut DbConn, id: &LotId) -> QueryResult<Option<Lot>> {
    lots::table
        .inner_join(parks::table.on(parks::organization_id.eq(lots::park_id)))
        .inner_join(contracts::table.on(contracts::id.eq(lots::contract_id)))
        .filter(lots::id.eq(id))
        .select(Lot::as_select())
        .first(conn)
        .optional()
}

pub fn insert_event(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(lot_events::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn events_of(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Vec<EventRow>> {
    lot_events::table
        .filter(lot_events::lot_id.eq(lot_id))
        .select(EventRow::as_select())
        .order(lot_events::id.asc())
        .load(conn)
}

#[derive(Debug, Clone, Default)]
pub struct LotFilter {
    pub status: Option<LotStatus>,
    pub route: Option<String>,
    pub park_id: Option<String>,
    pub zone_id: Option<String>,
    pub waste_code: Option<String>,
    pub enterprise_id: Option<String>,
    /// Lots on (`true`) or not on (`false`) a manifest flagged by its mass balance.
    pub flagged: Option<bool>,
    /// The business date: weighed (captured) on or after this day of the lot's park, or instant.
    pub captured_from: Option<DayOrInstant>,
    /// Weighed before the end of this day of the lot's park, or before this instant.
    pub captured_to: Option<DayOrInstant>,
    pub received_from: Option<NaiveDateTime>,
    pub received_before: Option<NaiveDateTime>,
}

type LotCondition =
    Box<dyn BoxableExpression<lots::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// A bound on the capture time: an instant as it is; a day in the time zone of each lot's park
/// (one condition per time zone the parks use, usually one).
fn captured_condition(zones: &[String], bound: DayOrInstant, end: bool) -> LotCondition {
    let compare = |at: NaiveDateTime| -> LotCondition {
        if end {
            Box::new(lots::captured_at.lt(at))
        } else {
            Box::new(lots::captured_at.ge(at))
        }
    };
    match bound {
        DayOrInstant::Instant(at) => compare(at),
        DayOrInstant::Day(day) => {
            let day = if end {
                day.succ_opt().unwrap_or(day)
            } else {
                day
            };
            let mut condition: LotCondition =
                Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
            for zone in zones {
                let tz = zone
                    .parse()
                    .unwrap_or(crate::domain::park::DEFAULT_TIME_ZONE);
                let in_zone: LotCondition = Box::new(
                    lots::park_id
                        .eq_any(
                            parks::table
                                .filter(parks::time_zone.eq(zone.clone()))
                                .select(parks::organization_id),
                        )
                        .and(compare(start_of_day(day, tz))),
                );
                condition = Box::new(condition.or(in_zone));
            }
            condition
        }
    }
}

/// The time zones the parks use.
pub fn park_time_zones(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    parks::table
        .select(parks::time_zone)
        .distinct()
        .order(parks::time_zone.asc())
        .load(conn)
}

/// Lots in id (creation) order after the cursor: keyset pagination, so a page costs the same
/// at any depth. Each filter has an index leading with the scope's park.
pub fn list_lots(
    conn: &mut DbConn,
    scope: &LotScope,
    filter: &LotFilter,
    page: &PageRequest,
) -> QueryResult<Vec<LotRow>> {
    let mut q = lots::table.select(LotRow::as_select()).into_boxed();
    q = match scope {
        LotScope::All => q,
        LotScope::Park(id) => q.filter(lots::park_id.eq(id.clone())),
        LotScope::Jurisdiction(prefix) => q.filter(
            lots::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id),
            ),
        ),
        LotScope::Enterprise(id) => q.filter(lots::enterprise_id.eq(id.clone())),
        LotScope::Disposer(id) => q.filter(
            lots::contract_id.eq_any(
                contracts::table
                    .filter(contracts::disposer_id.eq(id.clone()))
                    .select(contracts::id),
            ),
        ),
    };
    if let Some(v) = filter.status {
        q = q.filter(lots::status.eq(v));
    }
    if let Some(v) = &filter.route {
        q = q.filter(lots::route.eq(v.clone()));
    }
    if let Some(v) = &filter.park_id {
        q = q.filter(lots::park_id.eq(v.clone()));
    }
    if let Some(v) = &filter.zone_id {
        q = q.filter(lots::zone_id.eq(v.clone()));
    }
    if let Some(v) = &filter.waste_code {
        q = q.filter(lots::waste_code.eq(v.clone()));
    }
    if let Some(v) = &filter.enterprise_id {
        q = q.filter(lots::enterprise_id.eq(v.clone()));
    }
    if let Some(flagged) = filter.flagged {
        let on_flagged = manifest_lots::table
            .inner_join(manifests::table)
            .filter(manifests::flag_detail.is_not_null())
            .select(manifest_lots::lot_id);
        q = if flagged {
            q.filter(lots::id.eq_any(on_flagged))
        } else {
            q.filter(lots::id.ne_all(on_flagged))
        };
    }
    if filter.captured_from.is_some() || filter.captured_to.is_some() {
        let zones = park_time_zones(conn)?;
        if let Some(b) = filter.captured_from {
            q = q.filter(captured_condition(&zones, b, false));
        }
        if let Some(b) = filter.captured_to {
            q = q.filter(captured_condition(&zones, b, true));
        }
    }
    // Ids are time-ordered (UUIDv7, allocated on reception), so a reception window is also an
    // id range: the pagination index serves the date filter too.
    if let Some(v) = filter.received_from {
        q = q
            .filter(lots::received_at.ge(v))
            .filter(lots::id.ge(LotId::lower_bound(v.and_utc())));
    }
    if let Some(v) = filter.received_before {
        q = q
            .filter(lots::received_at.lt(v))
            .filter(lots::id.lt(LotId::lower_bound(v.and_utc())));
    }
    if let Some(after) = &page.after {
        q = q.filter(lots::id.gt(after.clone()));
    }
    q.order(lots::id.asc()).limit(page.limit + 1).load(conn)
}

/// Adds to the stock of a zone, contract and code (creating the row at the first lot; no
/// overflow in SQL: the row is part of the zone's stock, at most its capacity, at most
/// MAX_GRAMS = 10^15 g). The UPDATE is atomic; a first INSERT that loses a race to a concurrent one falls back to the
/// UPDATE inside a savepoint, so no weighing is lost.
/// Adds `delta` grams to a zone's stock (no overflow in SQL: the stock stays within the
/// capacity, at most MAX_GRAMS = 10^15 g, and a delta is at most that in size). Returns whether
/// it did: waste may leave a zone
/// whatever its capacity (the stock never goes below zero), but may enter only as far as the
/// capacity. A single conditional UPDATE, so concurrent weighings cannot overfill a zone (the
/// row lock serialises them on PostgreSQL; SQLite has one writer).
pub fn add_to_zone(conn: &mut DbConn, zone_id: &str, delta: i64) -> QueryResult<bool> {
    let zone = zones::table
        .filter(zones::id.eq(zone_id))
        .filter((zones::stored_grams + delta).ge(0));
    let updated = if delta > 0 {
        diesel::update(zone.filter((zones::stored_grams + delta).le(zones::capacity_grams)))
            .set(zones::stored_grams.eq(zones::stored_grams + delta))
            .execute(conn)?
    } else {
        diesel::update(zone)
            .set(zones::stored_grams.eq(zones::stored_grams + delta))
            .execute(conn)?
    };
    Ok(updated == 1)
}

pub fn add_inventory(
    conn: &mut DbConn,
    zone_id: &str,
    contract_id: &str,
    waste_code: &str,
    grams: i64,
    lots_delta: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let key = inventory::table.find((zone_id, contract_id, waste_code));
    let update = |conn: &mut DbConn| {
        diesel::update(key)
            .set((
                inventory::grams.eq(inventory::grams + grams),
                inventory::lots.eq(inventory::lots + lots_delta),
                inventory::updated_at.eq(now),
            ))
            .execute(conn)
    };
    if update(conn)? == 1 {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(inventory::table)
            .values((
                inventory::zone_id.eq(zone_id),
                inventory::contract_id.eq(contract_id),
                inventory::waste_code.eq(waste_code),
                inventory::grams.eq(grams),
                inventory::lots.eq(lots_delta),
                inventory::updated_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if crate::db::is_unique_violation(&e) => update(conn).map(drop),
        Err(e) => Err(e),
    }
}

/// The stock of a warehouse's zones, row by row.
pub fn inventory_of(conn: &mut DbConn, warehouse_id: &str) -> QueryResult<Vec<InventoryRow>> {
    inventory::table
        .inner_join(zones::table)
        .filter(zones::warehouse_id.eq(warehouse_id))
        .filter(inventory::lots.gt(0))
        .select(InventoryRow::as_select())
        .order((
            inventory::zone_id.asc(),
            inventory::contract_id.asc(),
            inventory::waste_code.asc(),
        ))
        .load(conn)
}

/// A zone, contract and code, with when its oldest stored lot was weighed in.
pub type OldestLot = (Option<String>, String, String, Option<NaiveDateTime>);

/// When the oldest stored lot of each zone, contract and code of a warehouse was weighed in.
pub fn oldest_stored(conn: &mut DbConn, warehouse_id: &str) -> QueryResult<Vec<OldestLot>> {
    lots::table
        .filter(lots::warehouse_id.eq(warehouse_id))
        .filter(lots::status.eq(LotStatus::Stored))
        .group_by((lots::zone_id, lots::contract_id, lots::waste_code))
        .select((
            lots::zone_id,
            lots::contract_id,
            lots::waste_code,
            diesel::dsl::min(lots::captured_at),
        ))
        .load(conn)
}

fn stored_in_scope(scope: &LotScope) -> StoredInScope<'static> {
    let q = lots::table
        .inner_join(contracts::table.on(contracts::id.eq(lots::contract_id)))
        .inner_join(parks::table.on(parks::organization_id.eq(lots::park_id)))
        .filter(lots::status.eq(LotStatus::Stored))
        .into_boxed();
    match scope {
        LotScope::All => q,
        LotScope::Park(id) => q.filter(lots::park_id.eq(id.clone())),
        LotScope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
        LotScope::Enterprise(id) => q.filter(lots::enterprise_id.eq(id.clone())),
        LotScope::Disposer(id) => q.filter(contracts::disposer_id.eq(id.clone())),
    }
}

type StoredInScope<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::Filter<
        diesel::helper_types::InnerJoinOn<
            diesel::helper_types::InnerJoinOn<
                lots::table,
                contracts::table,
                diesel::helper_types::Eq<contracts::id, lots::contract_id>,
            >,
            parks::table,
            diesel::helper_types::Eq<parks::organization_id, lots::park_id>,
        >,
        diesel::helper_types::Eq<lots::status, LotStatus>,
    >,
    crate::db::MultiBackend,
>;

/// The contracts under which a scope has stored lots, with their maximum storage periods.
pub fn contracts_with_stored(
    conn: &mut DbConn,
    scope: &LotScope,
) -> QueryResult<Vec<(String, i32)>> {
    stored_in_scope(scope)
        .select((contracts::id, contracts::max_storage_days))
        .distinct()
        .load(conn)
}

/// Stored lots of a scope under one contract weighed in at or before `cutoff`, oldest first;
/// at most `limit`.
pub fn stored_since_before(
    conn: &mut DbConn,
    scope: &LotScope,
    contract_id: &str,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<LotRow>> {
    stored_in_scope(scope)
        .filter(lots::contract_id.eq(contract_id.to_owned()))
        .filter(lots::captured_at.le(cutoff))
        .select(LotRow::as_select())
        .order(lots::captured_at.asc())
        .limit(limit)
        .load(conn)
}

/// Stored lots of a scope under one contract weighed in at or before `cutoff`, in id order
/// after `after`: a page (of at most `limit`) of the lots past a storage limit.
pub fn stored_before_by_id(
    conn: &mut DbConn,
    scope: &LotScope,
    contract_id: &str,
    cutoff: NaiveDateTime,
    page: &PageRequest,
) -> QueryResult<Vec<LotRow>> {
    let mut q = stored_in_scope(scope)
        .filter(lots::contract_id.eq(contract_id.to_owned()))
        .filter(lots::captured_at.le(cutoff));
    if let Some(after) = &page.after {
        q = q.filter(lots::id.gt(after.clone()));
    }
    q.select(LotRow::as_select())
        .order(lots::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// The time zone of every park, by park id.
pub fn park_zones(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    parks::table
        .select((parks::organization_id, parks::time_zone))
        .load(conn)
}

/// Grams of hazardous waste taken into a park's shared zones (those of no enterprise) by the
/// lots captured in `[from, to)`, voided lots left out: what counts against the collection
/// permit's annual capacity.
pub fn taken_into_shared_zones(
    conn: &mut DbConn,
    park_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    let grams: Option<i64> = lots::table
        .inner_join(zones::table.on(lots::zone_id.eq(zones::id.nullable())))
        .filter(lots::park_id.eq(park_id))
        .filter(lots::kind.eq("hazardous"))
        .filter(zones::enterprise_id.is_null())
        .filter(lots::voided_at.is_null())
        .filter(lots::captured_at.ge(from))
        .filter(lots::captured_at.lt(to))
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("CAST(SUM(lots.net_grams) AS BIGINT)"))
        .first(conn)?;
    Ok(grams.unwrap_or(0))
}
