//! The stock: what each zone holds (`zones.stored_grams`) and the inventory by zone, contract
//! and code. Lots own it: a weighing takes a lot in, a correction adjusts it, a void and a
//! collection take it out — all through this module, which nothing else writes.
//!
//! Every change runs in the caller's write transaction, after the pickup group's lock and
//! before any statement lock (see `db::locks`): it takes the zones' rows in zone order, then
//! the inventory's rows in key order, so two transactions touching the same zones cannot wait
//! on each other in a cycle. A zone takes weight only up to its capacity (one conditional
//! UPDATE, so concurrent weighings cannot overfill it); it never goes below zero.

use chrono::{DateTime, Utc};

use crate::db::{DbConn, locks};
use crate::error::ApiError;
use crate::lots::store;
use crate::registry::warehouses::store::ZoneRow;

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

/// A lot enters a zone: refused (409) when the zone would overflow.
pub fn take_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    zone: &ZoneRow,
    contract_id: &str,
    waste_code: &str,
    grams: i64,
) -> Result<(), ApiError> {
    apply(
        conn,
        now,
        vec![Movement {
            zone_id: zone.id.clone(),
            contract_id: contract_id.to_owned(),
            waste_code: waste_code.to_owned(),
            grams,
            lots: 1,
        }],
    )
    .map_err(|e| e.for_zone(zone))
}

/// A stored lot's weight changes by `delta` grams: refused (409) when the zone would overflow.
pub fn adjust(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    zone: &ZoneRow,
    contract_id: &str,
    waste_code: &str,
    delta: i64,
) -> Result<(), ApiError> {
    apply(
        conn,
        now,
        vec![Movement {
            zone_id: zone.id.clone(),
            contract_id: contract_id.to_owned(),
            waste_code: waste_code.to_owned(),
            grams: delta,
            lots: 0,
        }],
    )
    .map_err(|e| e.for_zone(zone))
}

/// Stored lots leave their zones (a void, a collection): `taken` lists each lot's zone,
/// contract, code and grams.
pub fn take_out(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    taken: impl IntoIterator<Item = Movement>,
) -> Result<(), ApiError> {
    let out = taken
        .into_iter()
        .map(|m| Movement {
            grams: -m.grams,
            lots: -1,
            ..m
        })
        .collect();
    apply(conn, now, out).map_err(StockError::into_api)
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
