//! The stock: what each zone holds (`zones.stored_grams`), the inventory by zone, contract
//! and code, and the ledger of movements (`stock_movements`). Lots own it: a weighing takes a
//! lot in, a correction adjusts it, a void and a collection take it out — all through this
//! module, which nothing else writes.
//!
//! Every change runs in the caller's write transaction, after the pickup group's lock and
//! before any statement lock (see `db::locks`): it takes the zones' rows in zone order, then
//! the inventory's rows in key order, so two transactions touching the same zones cannot wait
//! on each other in a cycle; then it appends one ledger movement per lot. A zone takes weight
//! only up to its capacity (one conditional UPDATE, so concurrent weighings cannot overfill
//! it); it never goes below zero.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::stock_movements;
use crate::db::{DbConn, locks};
use crate::domain::ids::{LotId, new_id};
use crate::error::ApiError;
use crate::lots::store::{self, LotRow};
use crate::registry::warehouses::store::ZoneRow;

/// When and by whom a change to the stock happens: the business time (the weighing's capture,
/// the correction, the void, the collection's capture), the server's time and the user.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The business time: the ledger's date is its date in the park's time zone.
    pub at: DateTime<Utc>,
    /// When the server records the change.
    pub recorded_at: DateTime<Utc>,
    pub by: &'a str,
}

/// The receiving side of a collection, recorded on each movement out.
#[derive(Debug, Clone, Copy)]
pub struct Receiver<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// A change to the stock of one zone for one contract and code: grams, and lots (+1 for a lot
/// that enters, −1 for one that leaves, 0 for a correction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub zone_id: String,
    pub contract_id: String,
    pub waste_code: String,
    pub grams: i64,
    pub lots: i32,
}

/// One line of the ledger, as written.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = stock_movements)]
struct MovementRow {
    id: String,
    park_id: String,
    warehouse_id: String,
    zone_id: String,
    enterprise_id: String,
    contract_id: String,
    lot_id: LotId,
    waste_code: String,
    kind: String,
    category: String,
    movement: String,
    grams: i64,
    lots: i32,
    at: chrono::NaiveDateTime,
    recorded_at: chrono::NaiveDateTime,
    document_number: Option<String>,
    receiver_id: Option<String>,
    receiver_name: Option<String>,
    by_user: String,
}

fn movement_of(
    lot: &LotRow,
    stamp: &Stamp<'_>,
    movement: &str,
    grams: i64,
    lots: i32,
) -> Result<MovementRow, ApiError> {
    let (Some(warehouse_id), Some(zone_id)) = (lot.warehouse_id.clone(), lot.zone_id.clone())
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "lot {} is in no zone: it has no stock",
            lot.id
        )));
    };
    Ok(MovementRow {
        id: new_id("mov"),
        park_id: lot.park_id.clone(),
        warehouse_id,
        zone_id,
        enterprise_id: lot.enterprise_id.clone(),
        contract_id: lot.contract_id.clone(),
        lot_id: lot.id.clone(),
        waste_code: lot.waste_code.clone(),
        kind: lot.kind.clone(),
        category: lot.category.clone(),
        movement: movement.to_owned(),
        grams,
        lots,
        at: stamp.at.naive_utc(),
        recorded_at: stamp.recorded_at.naive_utc(),
        document_number: None,
        receiver_id: None,
        receiver_name: None,
        by_user: stamp.by.to_owned(),
    })
}

fn record(conn: &mut DbConn, rows: &[MovementRow]) -> Result<(), ApiError> {
    // One row at a time: batch inserts do not run on both backends through one connection type.
    for row in rows {
        diesel::insert_into(stock_movements::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

fn stock_key(lot: &LotRow, grams: i64, lots: i32) -> Result<Movement, ApiError> {
    let zone_id = lot.zone_id.clone().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "lot {} is in no zone: it has no stock",
            lot.id
        ))
    })?;
    Ok(Movement {
        zone_id,
        contract_id: lot.contract_id.clone(),
        waste_code: lot.waste_code.clone(),
        grams,
        lots,
    })
}

/// A lot (already inserted, in `zone`) enters its zone at its net weight: refused (409) when
/// the zone would overflow. The ledger's movement `in` is dated at `stamp.at`, the capture.
pub fn take_in(
    conn: &mut DbConn,
    stamp: &Stamp<'_>,
    zone: &ZoneRow,
    lot: &LotRow,
) -> Result<(), ApiError> {
    apply(
        conn,
        stamp.recorded_at,
        vec![stock_key(lot, lot.net_grams, 1)?],
    )
    .map_err(|e| e.for_zone(zone))?;
    record(conn, &[movement_of(lot, stamp, "in", lot.net_grams, 1)?])
}

/// A stored lot's weight changes by `delta` grams: refused (409) when the zone would overflow.
/// The ledger's movement `correction` carries the signed delta.
pub fn adjust(
    conn: &mut DbConn,
    stamp: &Stamp<'_>,
    zone: &ZoneRow,
    lot: &LotRow,
    delta: i64,
) -> Result<(), ApiError> {
    apply(conn, stamp.recorded_at, vec![stock_key(lot, delta, 0)?])
        .map_err(|e| e.for_zone(zone))?;
    record(conn, &[movement_of(lot, stamp, "correction", delta, 0)?])
}

/// A stored lot's capture time is corrected: its movement `in` moves to the new business time,
/// and so do its corrections dated before it (a lot's weight cannot change before it entered).
/// The ledgers of the periods concerned change with it; the lot's event `corrected` keeps the
/// time before and after.
pub fn redate(
    conn: &mut DbConn,
    lot_id: &LotId,
    captured_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let at = captured_at.naive_utc();
    diesel::update(
        stock_movements::table
            .filter(stock_movements::lot_id.eq(lot_id))
            .filter(
                stock_movements::movement
                    .eq("in")
                    .or(stock_movements::movement
                        .eq("correction")
                        .and(stock_movements::at.lt(at))),
            ),
    )
    .set(stock_movements::at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Why stored lots leave their zones.
#[derive(Debug, Clone, Copy)]
pub enum Exit<'a> {
    Void,
    /// A collection by `receiver`: the movements get their manifest numbers once issued
    /// ([`name_documents`]).
    Collection(Receiver<'a>),
}

/// Stored lots leave their zones (a void, a collection), each at its weight as read (`lots`
/// as they were stored).
pub fn take_out(
    conn: &mut DbConn,
    stamp: &Stamp<'_>,
    exit: Exit<'_>,
    lots: &[LotRow],
) -> Result<(), ApiError> {
    let moves = lots
        .iter()
        .map(|l| stock_key(l, -l.net_grams, -1))
        .collect::<Result<Vec<_>, _>>()?;
    apply(conn, stamp.recorded_at, moves).map_err(StockError::into_api)?;
    let rows = lots
        .iter()
        .map(|l| {
            Ok(match exit {
                Exit::Void => movement_of(l, stamp, "void", -l.net_grams, -1)?,
                Exit::Collection(r) => {
                    let mut row = movement_of(l, stamp, "out", -l.net_grams, -1)?;
                    row.receiver_id = Some(r.id.to_owned());
                    row.receiver_name = Some(r.name.to_owned());
                    row
                }
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    record(conn, &rows)
}

/// The manifest (or transfer record) number of each lot collected: `(lot id, number)`, written
/// on its movement out.
pub fn name_documents(conn: &mut DbConn, documents: &[(LotId, String)]) -> Result<(), ApiError> {
    for (lot_id, number) in documents {
        diesel::update(
            stock_movements::table
                .filter(stock_movements::lot_id.eq(lot_id))
                .filter(stock_movements::movement.eq("out"))
                .filter(stock_movements::document_number.is_null()),
        )
        .set(stock_movements::document_number.eq(number))
        .execute(conn)?;
    }
    Ok(())
}

/// Why a change to the stock was refused.
enum StockError {
    /// A zone would hold more than its capacity.
    Overflow {
        zone_id: String,
        adding: i64,
    },
    /// A zone would hold less than nothing: the stock and the lots disagree.
    Negative {
        zone_id: String,
    },
    Other(ApiError),
}

impl From<ApiError> for StockError {
    fn from(e: ApiError) -> Self {
        StockError::Other(e)
    }
}

impl From<diesel::result::Error> for StockError {
    fn from(e: diesel::result::Error) -> Self {
        StockError::Other(e.into())
    }
}

impl StockError {
    /// The refusal as told about a zone the caller has read.
    fn for_zone(self, zone: &ZoneRow) -> ApiError {
        match self {
            StockError::Overflow { adding, .. } => ApiError::Conflict(format!(
                "zone {} cannot take {adding} more grams: it holds {} of {} grams",
                zone.name, zone.stored_grams, zone.capacity_grams
            )),
            other => other.into_api(),
        }
    }

    fn into_api(self) -> ApiError {
        match self {
            StockError::Overflow { zone_id, adding } => {
                ApiError::Conflict(format!("zone {zone_id} cannot take {adding} more grams"))
            }
            StockError::Negative { zone_id } => {
                ApiError::Internal(anyhow::anyhow!("zone {zone_id} stock would go below zero"))
            }
            StockError::Other(e) => e,
        }
    }
}

/// Applies movements: the zones' stock, one row per zone in zone order, then the inventory, one
/// row per key in key order. Movements of one zone or key are added up first. No sum can
/// overflow: a zone's stock never exceeds its capacity (at most `MAX_GRAMS` = 10^15 g), and the
/// lots moved at once are stored lots of the zones, whose weights add up to their stock.
fn apply(conn: &mut DbConn, now: DateTime<Utc>, moves: Vec<Movement>) -> Result<(), StockError> {
    locks::enter_stock()?;
    let mut zones: Vec<(String, i64)> = Vec::new();
    let mut keys: Vec<((String, String, String), i64, i32)> = Vec::new();
    for m in moves {
        match zones.iter_mut().find(|(z, _)| *z == m.zone_id) {
            Some((_, g)) => *g += m.grams,
            None => zones.push((m.zone_id.clone(), m.grams)),
        }
        let key = (m.zone_id, m.contract_id, m.waste_code);
        match keys.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, g, n)) => {
                *g += m.grams;
                *n += m.lots;
            }
            None => keys.push((key, m.grams, m.lots)),
        }
    }
    zones.sort();
    for (zone_id, delta) in zones {
        if !store::add_to_zone(conn, &zone_id, delta)? {
            return Err(if delta > 0 {
                StockError::Overflow {
                    zone_id,
                    adding: delta,
                }
            } else {
                StockError::Negative { zone_id }
            });
        }
    }
    keys.sort();
    for ((zone_id, contract_id, code), grams, lots) in keys {
        store::add_inventory(
            conn,
            &zone_id,
            &contract_id,
            &code,
            grams,
            lots,
            now.naive_utc(),
        )?;
    }
    Ok(())
}
