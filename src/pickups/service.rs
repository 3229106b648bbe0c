//! Pickup requests: raised by the contract's rules when enough waits for collection (or by the
//! park office by hand), then accepted, scheduled or declined by the disposer's dispatcher.
//!
//! **Exactly one open request per crossing.** Lots wait in groups: one contract, one place (a
//! warehouse, or the enterprises' doors for route b) and one category. Every change to a group
//! (a weighing, a declaration, a heavier correction, the periodic check, a cancellation) first
//! takes the group's lock (a PostgreSQL advisory lock, held to the end of the transaction; on
//! SQLite the write lock), then looks for the group's open request: if there is one, the new
//! lots join it; if not and a rule is crossed, one request is opened with all waiting lots, and
//! its message is published in the same transaction. The `open_key` column, unique while a
//! request is open, makes a second open request impossible even past the lock. A request that
//! is collected, cancelled or declined frees its key: the rule re-arms.
//!
//! Every transaction that changes a group's lots or its request takes the group's lock first;
//! the row locks it takes afterwards (lots, zones, the request) cannot then form a cycle with
//! another such transaction. Lots and requests are read and authorised before the lock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, authorize};
use crate::db::DbConn;
use crate::domain::contract::DatedRule;
use crate::domain::identity::Role;
use crate::domain::ids::new_id;
use crate::domain::lot::Weighing;
use crate::domain::threshold::{
    Crossing, TriggerKind, WaitingCode, age_crossing, weight_crossing, zone_crossing,
};
use crate::domain::units::{add, total};
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, FieldError, NOT_VISIBLE};
use crate::lots::store::LotRow;
use crate::manifests::store::{self as manifest_store, CollectionRow};
use crate::notify::service::{Notice, publish};
use crate::pickups::store::{self, RequestRow};
use crate::registry::contracts::store::{self as contracts, ContractRow};
use crate::registry::directory::store as directory;
use crate::registry::parks::service as parks;

/// Requests still to be collected.
pub const OPEN_STATUSES: &[&str] = &["requested", "accepted", "scheduled"];

/// Lots wait for collection in groups: one contract, one place, one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub contract_id: String,
    /// The warehouse; `None` for lots waiting at the enterprises' doors (route b).
    pub warehouse_id: Option<String>,
    pub category: String,
}

impl Group {
    pub fn of_lot(lot: &LotRow) -> Self {
        Self {
            contract_id: lot.contract_id.clone(),
            warehouse_id: lot.warehouse_id.clone(),
            category: lot.category.clone(),
        }
    }

    fn of_request(r: &RequestRow) -> Self {
        Self {
            contract_id: r.contract_id.clone(),
            warehouse_id: r.warehouse_id.clone(),
            category: r.category.clone(),
        }
    }

    /// Unique per group: the `open_key` of its open request.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.contract_id,
            self.warehouse_id.as_deref().unwrap_or("door"),
            self.category
        )
    }

    /// Serialises every change to the group until the transaction ends.
    pub fn lock(&self, conn: &mut DbConn) -> Result<(), ApiError> {
        crate::db::lock_keys(conn, &[&format!("pickup:{}", self.key())])?;
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLine {
    pub waste_code: String,
    pub grams: i64,
    pub lots: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLot {
    pub lot_id: String,
    pub enterprise_id: String,
    pub waste_code: String,
    /// `stored`, `declared`, `collected` or `voided`.
    pub status: String,
    /// Weighed net weight, or the estimate of a declaration.
    pub net_grams: i64,
    pub weight_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "route": "warehouse",
    "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "category": "HW08",
    "status": "scheduled",
    "trigger": "weight",
    "trigger_detail": "2100000 g of HW08 wait for collection; the threshold is 2000000 g",
    "scheduled_on": "2026-12-02",
    "carrier_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "driver_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed",
    "created_at": "2026-11-28T08:00:00Z",
    "accepted_at": "2026-11-28T09:00:00Z",
    "scheduled_at": "2026-11-28T09:05:00Z",
    "updated_at": "2026-11-28T09:05:00Z",
    "total_grams": 2100000,
    "lot_count": 7,
    "lines": [{"waste_code": "900-249-08", "grams": 2100000, "lots": 7}]
}))]
pub struct RequestView {
    pub id: String,
    pub park_id: String,
    pub contract_id: String,
    pub disposer_id: String,
    /// `warehouse` (lots stored in the warehouse) or `door` (declared at the enterprises).
    pub route: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    pub category: String,
    /// `requested`, `accepted`, `scheduled`, `collected`, `declined` or `cancelled`.
    pub status: String,
    pub trigger: TriggerKind,
    /// The figures that crossed the rule.
    pub trigger_detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicle_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_id: Option<String>,
    /// Why it was declined or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who raised it by hand; absent when a rule raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When it was collected, declined or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Grams of the lots it covers (for an enterprise, of its own lots), voided lots excluded.
    pub total_grams: i64,
    pub lot_count: i64,
    /// Per code.
    pub lines: Vec<RequestLine>,
    /// The lots, when one request is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lots: Option<Vec<RequestLot>>,
}

/// What an enterprise is told of why a request was raised: the rule, not the other
/// enterprises' figures.
fn trigger_for_enterprise(row: &RequestRow) -> String {
    match TriggerKind::parse_stored(&row.trigger_kind) {
        TriggerKind::Weight => format!(
            "the contract's weight threshold for {} was reached",
            row.category
        ),
        TriggerKind::ZoneCapacity => {
            "a zone of the warehouse reached its share of capacity".to_owned()
        }
        TriggerKind::StorageAge => {
            "waste has been stored for most of the contract's period".to_owned()
        }
        TriggerKind::Manual => "raised by the park office".to_owned(),
    }
}

/// The request as one audience sees it: an enterprise sees only its own lots in it, and not the
/// figures of the others.
fn view(
    row: &RequestRow,
    lots: &[LotRow],
    only_enterprise: Option<&str>,
    with_lots: bool,
) -> Result<RequestView, ApiError> {
    let lots: Vec<&LotRow> = lots
        .iter()
        .filter(|l| l.status != "voided")
        .filter(|l| only_enterprise.is_none_or(|e| l.enterprise_id == e))
        .collect();
    let mut lines: Vec<RequestLine> = Vec::new();
    for lot in &lots {
        match lines.iter_mut().find(|l| l.waste_code == lot.waste_code) {
            Some(line) => {
                line.grams = add(line.grams, lot.net_grams)?;
                line.lots += 1;
            }
            None => lines.push(RequestLine {
                waste_code: lot.waste_code.clone(),
                grams: lot.net_grams,
                lots: 1,
            }),
        }
    }
    lines.sort_by(|a, b| a.waste_code.cmp(&b.waste_code));
    Ok(RequestView {
        id: row.id.clone(),
        park_id: row.park_id.clone(),
        contract_id: row.contract_id.clone(),
        disposer_id: row.disposer_id.clone(),
        route: row.route.clone(),
        warehouse_id: row.warehouse_id.clone(),
        category: row.category.clone(),
        status: row.status.clone(),
        trigger: TriggerKind::parse_stored(&row.trigger_kind),
        trigger_detail: if only_enterprise.is_some() {
            trigger_for_enterprise(row)
        } else {
            row.trigger_detail.clone()
        },
        note: row.note.clone(),
        scheduled_on: row.scheduled_on,
        carrier_id: row.carrier_id.clone(),
        vehicle_id: row.vehicle_id.clone(),
        driver_id: row.driver_id.clone(),
        reason: row.reason.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at.and_utc(),
        accepted_at: row.accepted_at.map(|t| t.and_utc()),
        scheduled_at: row.scheduled_at.map(|t| t.and_utc()),
        closed_at: row.closed_at.map(|t| t.and_utc()),
        updated_at: row.updated_at.and_utc(),
        total_grams: total(lots.iter().map(|l| l.net_grams))?,
        lot_count: i64::try_from(lots.len()).unwrap_or(i64::MAX),
        lines,
        lots: with_lots.then(|| {
            lots.iter()
                .map(|l| RequestLot {
                    lot_id: l.id.clone(),
                    enterprise_id: l.enterprise_id.clone(),
                    waste_code: l.waste_code.clone(),
                    status: l.status.clone(),
                    net_grams: l.net_grams,
                    weight_source: l.weight_source.clone(),
                    zone_id: l.zone_id.clone(),
                    label_code: l.label_code.clone(),
                })
                .collect()
        }),
    })
}

/// The request as the principal may see it.
pub fn view_for(
    conn: &mut DbConn,
    principal: &Principal,
    row: &RequestRow,
    with_lots: bool,
) -> Result<RequestView, ApiError> {
    let lots = store::lots_of(conn, &row.id)?;
    let only =
        (principal.role == Role::EnterpriseUser).then_some(principal.organization_id.as_str());
    view(row, &lots, only, with_lots)
}

fn place(r: &store::Request) -> Place<'_> {
    Place {
        park_id: &r.0.park_id,
        region_code: &r.1,
    }
}

/// Loads a request the principal may read; returns it with the enterprises it covers.
pub fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Request, ApiError> {
    let request = store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let enterprises = store::enterprises_of(conn, id)?;
    authorize(
        principal,
        Action::ReadPickup {
            place: place(&request),
            disposer_id: &request.0.disposer_id,
            enterprise_ids: &enterprises,
            driver_id: request.0.driver_id.as_deref(),
        },
    )?;
    Ok(request)
}

/// Tells every party of a request what happened: the park office, the disposer, the carrier
/// once scheduled, and each enterprise concerned (with only its own lots).
fn announce(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    type_: &str,
    row: &RequestRow,
    title: String,
) -> Result<(), ApiError> {
    announce_to(conn, now, type_, row, title, &[], None)
}

/// Like [`announce`], to chosen audiences: `also` are told besides the parties (e.g. a carrier
/// replaced by a reschedule); `only_enterprises`, when given, limits the message to those
/// enterprises (e.g. those whose first lot just joined the request).
fn announce_to(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    type_: &str,
    row: &RequestRow,
    title: String,
    also: &[String],
    only_enterprises: Option<&[String]>,
) -> Result<(), ApiError> {
    let lots = store::lots_of(conn, &row.id)?;
    let full = serde_json::to_value(view(row, &lots, None, false)?)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut parties = vec![row.park_id.clone(), row.disposer_id.clone()];
    parties.extend(row.carrier_id.iter().cloned());
    parties.extend(also.iter().cloned());
    parties.sort();
    parties.dedup();
    if only_enterprises.is_some() {
        parties.clear();
    }
    for party in &parties {
        publish(
            conn,
            now,
            party,
            &Notice {
                type_,
                subject_id: &row.id,
                title: title.clone(),
                data: full.clone(),
            },
        )?;
    }
    for enterprise in store::enterprises_of(conn, &row.id)? {
        if parties.contains(&enterprise)
            || only_enterprises.is_some_and(|only| !only.contains(&enterprise))
        {
            continue;
        }
        let own = serde_json::to_value(view(row, &lots, Some(&enterprise), false)?)
            .map_err(|e| ApiError::Internal(e.into()))?;
        publish(
            conn,
            now,
            &enterprise,
            &Notice {
                type_,
                subject_id: &row.id,
                title: title.clone(),
                data: own,
            },
        )?;
    }
    Ok(())
}

fn title(row: &RequestRow, what: &str) -> String {
    format!(
        "Pickup {what}: {} {}",
        row.category,
        if row.route == "door" {
            "at the enterprises"
        } else {
            "in the warehouse"
        }
    )
}

/// The first rule the waiting lots cross, if any: weight, then zone capacity, then age.
fn crossing(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    contract: &ContractRow,
    waiting: &[LotRow],
) -> Result<Option<Crossing>, ApiError> {
    let park = parks::load_park(conn, &contract.park_id)?;
    let today = now
        .with_timezone(&parks::park_time_zone(&park.0))
        .date_naive();
    let rules: Vec<DatedRule<i64>> = contracts::thresholds_of(conn, &contract.id)?
        .into_iter()
        .filter_map(|t| {
            CatalogRef::parse("", &t.target)
                .ok()
                .map(|target| DatedRule {
                    target,
                    effective_from: t.effective_from,
                    value: t.threshold_grams,
                })
        })
        .collect();
    let mut codes: Vec<WaitingCode> = Vec::new();
    for lot in waiting {
        let Ok(code) = WasteCode::parse("", &lot.waste_code) else {
            continue;
        };
        match codes.iter_mut().find(|c| c.code == code) {
            Some(c) => c.grams = add(c.grams, lot.net_grams)?,
            None => codes.push(WaitingCode {
                code,
                grams: lot.net_grams,
            }),
        }
    }
    if let Some(c) = weight_crossing(&codes, &rules, today) {
        return Ok(Some(c));
    }
    let mut zones: Vec<String> = waiting.iter().filter_map(|l| l.zone_id.clone()).collect();
    zones.sort();
    zones.dedup();
    for (name, stored, capacity) in store::zone_fill(conn, &zones)? {
        if let Some(c) = zone_crossing(&name, stored, capacity, contract.pickup_zone_percent) {
            return Ok(Some(c));
        }
    }
    let oldest = waiting.iter().map(|l| l.captured_at).min();
    Ok(oldest
        .and_then(|at| age_crossing((now.naive_utc() - at).num_days(), contract.max_storage_days)))
}

/// Who raised a request by hand, and why.
struct RaisedBy<'a> {
    principal: &'a Principal,
    note: Option<String>,
}

fn open_request(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    contract: &ContractRow,
    group: &Group,
    waiting: &[LotRow],
    crossing: Crossing,
    raised_by: Option<RaisedBy<'_>>,
) -> Result<RequestRow, ApiError> {
    let (by, note) = match raised_by {
        Some(r) => (Some(r.principal), r.note),
        None => (None, None),
    };
    let row = RequestRow {
        id: new_id("pkr"),
        park_id: contract.park_id.clone(),
        contract_id: contract.id.clone(),
        disposer_id: contract.disposer_id.clone(),
        route: if group.warehouse_id.is_some() {
            "warehouse"
        } else {
            "door"
        }
        .to_owned(),
        warehouse_id: group.warehouse_id.clone(),
        category: group.category.clone(),
        status: "requested".to_owned(),
        trigger_kind: crossing.kind.as_str().to_owned(),
        trigger_detail: crossing.detail,
        open_key: Some(group.key()),
        note,
        scheduled_on: None,
        carrier_id: None,
        vehicle_id: None,
        driver_id: None,
        reason: None,
        created_by: by.map(|p| p.user_id.clone()),
        created_at: now.naive_utc(),
        accepted_at: None,
        accepted_by: None,
        scheduled_at: None,
        scheduled_by: None,
        closed_at: None,
        closed_by: None,
        updated_at: now.naive_utc(),
    };
    store::insert_request(conn, &row)?;
    store::attach(conn, &row.id, waiting, now.naive_utc())?;
    announce(
        conn,
        now,
        "pickup.requested",
        &row,
        title(&row, "requested"),
    )?;
    tracing::info!(request = %row.id, group = %group.key(), trigger = %row.trigger_kind, "pickup requested");
    Ok(row)
}

/// Checks a group's rules after a change, in the caller's transaction: new waiting lots join
/// the group's open request, or open one if a rule is crossed. Returns a request it opened.
pub fn evaluate(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    group: &Group,
) -> Result<Option<RequestRow>, ApiError> {
    group.lock(conn)?;
    let waiting = store::waiting_lots(
        conn,
        &group.contract_id,
        &group.category,
        group.warehouse_id.as_deref(),
    )?;
    if waiting.is_empty() {
        return Ok(None);
    }
    if let Some(mut open) = store::find_open(conn, &group.key())? {
        let before = store::enterprises_of(conn, &open.id)?;
        store::attach(conn, &open.id, &waiting, now.naive_utc())?;
        open.updated_at = now.naive_utc();
        store::save_request(conn, &open)?;
        // An enterprise whose first lot joins is told of the request, as the others were.
        let mut newcomers: Vec<String> = waiting
            .iter()
            .map(|l| l.enterprise_id.clone())
            .filter(|e| !before.contains(e))
            .collect();
        newcomers.sort();
        newcomers.dedup();
        if !newcomers.is_empty() {
            let title = title(&open, "requested");
            announce_to(
                conn,
                now,
                "pickup.requested",
                &open,
                title,
                &[],
                Some(&newcomers),
            )?;
        }
        return Ok(None);
    }
    // Lots of a request cancelled or declined do not call again by themselves: a new lot must
    // join them (or the park office raises a request by hand).
    if !store::any_never_requested(
        conn,
        &group.contract_id,
        &group.category,
        group.warehouse_id.as_deref(),
    )? {
        return Ok(None);
    }
    let contract = contracts::find_contract(conn, &group.contract_id)?
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?
        .0;
    match crossing(conn, now, &contract, &waiting)? {
        Some(c) => open_request(conn, now, &contract, group, &waiting, c, None).map(Some),
        None => Ok(None),
    }
}

/// Checks every group with waiting lots (the storage-age rule is crossed by time alone, and a
/// zone can fill through another contract's lots). Each group in its own transaction.
pub fn sweep(db_conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let groups = store::waiting_groups(db_conn)?;
    let mut opened = 0;
    for (contract_id, warehouse_id, category) in groups {
        let group = Group {
            contract_id,
            warehouse_id,
            category,
        };
        // One group's failure must not stop the others.
        match crate::db::write_transaction(db_conn, |conn| evaluate(conn, now, &group)) {
            Ok(Some(_)) => opened += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(group = %group.key(), error = %e, "checking a pickup group failed")
            }
        }
    }
    Ok(opened)
}

/// A request raised by the park office by hand for a group with waiting lots.
pub struct Raise {
    pub contract_id: String,
    pub warehouse_id: Option<String>,
    pub category: String,
    pub note: Option<String>,
}

pub fn raise(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    r: Raise,
) -> Result<RequestView, ApiError> {
    let contract =
        contracts::find_contract(conn, &r.contract_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    authorize(
        principal,
        Action::ManagePark(Place {
            park_id: &contract.0.park_id,
            region_code: &contract.1,
        }),
    )?;
    if let Some(w) = &r.warehouse_id {
        let warehouse = crate::registry::warehouses::store::find_warehouse(conn, w)?
            .filter(|w| w.0.park_id == contract.0.park_id)
            .ok_or_else(|| {
                ApiError::field(
                    "warehouse_id",
                    "not_found",
                    "no such warehouse in the contract's park",
                )
            })?;
        drop(warehouse);
    }
    let group = Group {
        contract_id: r.contract_id,
        warehouse_id: r.warehouse_id,
        category: r.category,
    };
    group.lock(conn)?;
    if let Some(open) = store::find_open(conn, &group.key())? {
        return Err(ApiError::Conflict(format!(
            "request {} is already open for this contract, place and category; its lots are in it",
            open.id
        )));
    }
    let waiting = store::waiting_lots(
        conn,
        &group.contract_id,
        &group.category,
        group.warehouse_id.as_deref(),
    )?;
    if waiting.is_empty() {
        return Err(ApiError::field(
            "category",
            "nothing_waiting",
            "no lot of this contract and category waits for collection at this place",
        ));
    }
    let crossing = Crossing {
        kind: TriggerKind::Manual,
        detail: "raised by the park office".to_owned(),
    };
    let row = open_request(
        conn,
        now,
        &contract.0,
        &group,
        &waiting,
        crossing,
        Some(RaisedBy {
            principal,
            note: r.note,
        }),
    )?;
    view_for(conn, principal, &row, true)
}

/// Loads a request for a change: takes its group's lock first, then reads it.
fn load_for_change(
    conn: &mut DbConn,
    id: &str,
    authorized: impl FnOnce(&mut DbConn, &store::Request) -> Result<(), ApiError>,
) -> Result<store::Request, ApiError> {
    let request = store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    // Who may not change it does not get to hold its group's lock.
    authorized(conn, &request)?;
    Group::of_request(&request.0).lock(conn)?;
    store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

fn check_status(row: &RequestRow, allowed: &[&str], action: &str) -> Result<(), ApiError> {
    if allowed.contains(&row.status.as_str()) {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "the request is {}; it cannot be {action}",
            row.status
        )))
    }
}

fn authorize_dispatch(
    conn: &mut DbConn,
    principal: &Principal,
    r: &store::Request,
) -> Result<(), ApiError> {
    let enterprises = store::enterprises_of(conn, &r.0.id)?;
    authorize(
        principal,
        Action::DispatchPickup {
            place: place(r),
            disposer_id: &r.0.disposer_id,
            enterprise_ids: &enterprises,
            driver_id: r.0.driver_id.as_deref(),
        },
    )
}

/// Ends an open request without collection: its lots wait again, and the rule re-arms.
fn close(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    row: &mut RequestRow,
    status: &str,
    reason: String,
) -> Result<(), ApiError> {
    let now = now.naive_utc();
    row.status = status.to_owned();
    row.reason = Some(reason);
    row.open_key = None;
    row.closed_at = Some(now);
    row.closed_by = Some(principal.user_id.clone());
    row.updated_at = now;
    store::save_request(conn, row)?;
    store::detach_all(conn, &row.id)?;
    Ok(())
}

/// The park office cancels an open request with a reason.
pub fn cancel(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, request| {
        if authorize(principal, Action::ManagePark(place(request))).is_ok() {
            return Ok(());
        }
        let enterprises = store::enterprises_of(conn, &request.0.id)?;
        authorize(
            principal,
            Action::ReadPickup {
                place: place(request),
                disposer_id: &request.0.disposer_id,
                enterprise_ids: &enterprises,
                driver_id: request.0.driver_id.as_deref(),
            },
        )?;
        Err(ApiError::Forbidden(
            "only the park office cancels a pickup request",
        ))
    })?;
    let mut row = request.0;
    check_status(&row, OPEN_STATUSES, "cancelled")?;
    close(conn, now, principal, &mut row, "cancelled", reason)?;
    announce(
        conn,
        now,
        "pickup.cancelled",
        &row,
        title(&row, "cancelled"),
    )?;
    view_for(conn, principal, &row, true)
}

/// The disposer's dispatcher accepts a request.
pub fn accept(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.0;
    check_status(&row, &["requested"], "accepted")?;
    row.status = "accepted".to_owned();
    row.accepted_at = Some(now.naive_utc());
    row.accepted_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, &row)?;
    announce(conn, now, "pickup.accepted", &row, title(&row, "accepted"))?;
    view_for(conn, principal, &row, true)
}

/// The disposer's dispatcher declines a request with a reason; its lots wait again.
pub fn decline(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.0;
    check_status(&row, &["requested", "accepted"], "declined")?;
    close(conn, now, principal, &mut row, "declined", reason)?;
    announce(conn, now, "pickup.declined", &row, title(&row, "declined"))?;
    view_for(conn, principal, &row, true)
}

/// Checks that a vehicle in service on `day` and an active driver belong to the carrier (a
/// registered carrier, or a disposal company's own fleet).
fn check_crew(
    conn: &mut DbConn,
    carrier_id: &str,
    vehicle_id: &str,
    driver_id: &str,
    day: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    match directory::find_vehicle(conn, vehicle_id)? {
        Some(v) if v.operator_id != carrier_id => errors.push(FieldError::new(
            "vehicle_id",
            "not_of_carrier",
            "the vehicle does not belong to the carrier",
        )),
        Some(v) if v.retired_on.is_some_and(|r| r <= day) => errors.push(FieldError::new(
            "vehicle_id",
            "retired",
            format!("the vehicle is out of service on {day}"),
        )),
        Some(_) => {}
        None => errors.push(FieldError::new(
            "vehicle_id",
            "not_found",
            "no such vehicle",
        )),
    }
    match crate::identity::store::find_user(conn, driver_id)? {
        Some(d) if d.organization_id != carrier_id || d.role != Role::Driver.as_str() => errors
            .push(FieldError::new(
                "driver_id",
                "not_of_carrier",
                "not a driver of the carrier",
            )),
        Some(d) if d.deactivated_at.is_some() => errors.push(FieldError::new(
            "driver_id",
            "deactivated",
            "this driver's account is deactivated",
        )),
        Some(_) => {}
        None => errors.push(FieldError::new("driver_id", "not_found", "no such driver")),
    }
    Ok(())
}

/// When, with which vehicle and driver, the disposer comes.
pub struct Schedule {
    pub scheduled_on: NaiveDate,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
}

/// The disposer's dispatcher schedules (or reschedules) the pickup: a day, a carrier (a
/// licensed carrier, or the disposer's own fleet), one of its vehicles in service and one of
/// its drivers. Scheduling a request not yet accepted accepts it.
pub fn schedule(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    s: Schedule,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.0;
    check_status(&row, OPEN_STATUSES, "scheduled")?;
    let park = parks::load_park(conn, &row.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.0));
    let mut errors = Vec::new();
    if s.scheduled_on < today {
        errors.push(FieldError::new(
            "scheduled_on",
            "in_past",
            format!("must be today ({today}) or later"),
        ));
    }
    let carrier_ok =
        s.carrier_id == row.disposer_id || directory::find_carrier(conn, &s.carrier_id)?.is_some();
    if !carrier_ok {
        errors.push(FieldError::new(
            "carrier_id",
            "not_found",
            "no such carrier: name a registered carrier or the disposal company itself",
        ));
    }
    check_crew(
        conn,
        &s.carrier_id,
        &s.vehicle_id,
        &s.driver_id,
        s.scheduled_on,
        &mut errors,
    )?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if row.accepted_at.is_none() {
        row.accepted_at = Some(now.naive_utc());
        row.accepted_by = Some(principal.user_id.clone());
    }
    // A carrier replaced by this schedule is told too: it is no longer booked.
    let replaced: Vec<String> = row
        .carrier_id
        .iter()
        .filter(|c| **c != s.carrier_id)
        .cloned()
        .collect();
    row.status = "scheduled".to_owned();
    row.scheduled_on = Some(s.scheduled_on);
    row.carrier_id = Some(s.carrier_id);
    row.vehicle_id = Some(s.vehicle_id);
    row.driver_id = Some(s.driver_id);
    row.scheduled_at = Some(now.naive_utc());
    row.scheduled_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, &row)?;
    let title = title(&row, "scheduled");
    announce_to(conn, now, "pickup.scheduled", &row, title, &replaced, None)?;
    view_for(conn, principal, &row, true)
}

/// After a lot of an open request was voided: a request left with no lot is cancelled, and
/// its parties are told. In the caller's transaction, which holds the group's lock.
pub fn after_void(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    request_id: &str,
) -> Result<(), ApiError> {
    let Some((mut row, _)) = store::find_request(conn, request_id)? else {
        return Ok(());
    };
    if !OPEN_STATUSES.contains(&row.status.as_str())
        || store::lots_of(conn, request_id)?
            .iter()
            .any(|l| l.status != "voided")
    {
        return Ok(());
    }
    close(
        conn,
        now,
        principal,
        &mut row,
        "cancelled",
        "every lot of the request was voided".to_owned(),
    )?;
    announce(
        conn,
        now,
        "pickup.cancelled",
        &row,
        title(&row, "cancelled"),
    )
}

/// A lot at an enterprise's door, weighed by the driver at pickup (route b).
pub struct DoorWeighing {
    pub lot_id: String,
    pub weighing: Weighing,
}

/// The driver's record of a pickup: the lots taken, the vehicle, the outbound weighing.
pub struct Collect {
    /// The lots taken; all those waiting in the request when `None`.
    pub lot_ids: Option<Vec<String>>,
    pub vehicle_id: String,
    /// The driver; the signed-in driver (or the one scheduled) when `None`.
    pub driver_id: Option<String>,
    pub scale_id: String,
    pub captured_at: DateTime<Utc>,
    /// The loaded vehicle's weighing at the warehouse; for lots collected at the doors, the sum
    /// of the door weighings when absent.
    pub weighing: Option<Weighing>,
    pub door: Vec<DoorWeighing>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestSummary {
    pub id: String,
    pub number: String,
    /// `hazardous` or `general`.
    pub kind: String,
    pub waste_code: String,
    pub status: String,
    pub consignor_id: String,
    pub inbound_grams: i64,
    pub outbound_grams: i64,
    /// The mass balance is beyond the tolerance.
    pub flagged: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "col_0193f1c2a4b87d21a1c6e1f0b2d3c901",
    "request_id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601",
    "carrier_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "driver_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed",
    "scale_id": "SCALE-02",
    "gross_grams": 2130000, "tare_grams": 50000, "net_grams": 2080000,
    "captured_at": "2026-11-30T08:00:00Z",
    "lot_ids": ["lot_0193f1c2a4b87d21a1c6e1f0b2d3c500"],
    "manifests": [{"id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900", "number": "20264403000001", "kind": "hazardous",
        "waste_code": "900-249-08", "status": "draft", "consignor_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "inbound_grams": 2100000, "outbound_grams": 2080000, "flagged": false}]
}))]
pub struct CollectionView {
    pub id: String,
    pub request_id: String,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
    pub scale_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_grams: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tare_grams: Option<i64>,
    pub net_grams: i64,
    pub captured_at: DateTime<Utc>,
    pub lot_ids: Vec<String>,
    pub manifests: Vec<ManifestSummary>,
}

/// Records the collection of a scheduled request, in one transaction: the lots taken leave
/// the stock (door lots get the driver's weighing), the manifests are issued, the request is
/// collected (its rule re-arms) and lots left behind wait again. Refused: a vehicle or driver
/// not of the scheduled carrier, a hazardous code the disposer's licence does not cover that
/// day, a lot not in the request or already collected.
pub fn collect(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    c: Collect,
    tolerance_percent: i64,
) -> Result<CollectionView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| {
        let enterprises = store::enterprises_of(conn, &r.0.id)?;
        authorize(
            principal,
            Action::CollectPickup {
                place: place(r),
                disposer_id: &r.0.disposer_id,
                enterprise_ids: &enterprises,
                driver_id: r.0.driver_id.as_deref(),
            },
        )
    })?;
    let mut row = request.0;
    check_status(&row, &["scheduled"], "collected")?;
    crate::lots::service::check_capture_time(c.captured_at, now)?;
    let carrier_id = row.carrier_id.clone().unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    if principal.role == Role::Driver
        && c.driver_id
            .as_deref()
            .is_some_and(|d| d != principal.user_id)
    {
        errors.push(FieldError::new(
            "driver_id",
            "not_you",
            "a driver records their own collection; leave driver_id out",
        ));
    }
    let driver_id = c
        .driver_id
        .clone()
        .or_else(|| (principal.role == Role::Driver).then(|| principal.user_id.clone()))
        .or_else(|| row.driver_id.clone())
        .unwrap_or_default();
    check_crew(
        conn,
        &carrier_id,
        &c.vehicle_id,
        &driver_id,
        now.date_naive(),
        &mut errors,
    )?;

    // The lots: those named, or all that wait in the request.
    let covered = store::lots_of(conn, id)?;
    let waiting = |l: &&LotRow| {
        l.pickup_request_id.as_deref() == Some(id)
            && (l.status == "stored" || l.status == "declared")
    };
    let mut selected: Vec<LotRow> = Vec::new();
    match &c.lot_ids {
        None => selected.extend(covered.iter().filter(waiting).cloned()),
        Some(ids) => {
            for lot_id in ids {
                match covered.iter().find(|l| l.id == *lot_id) {
                    Some(l) if l.status == "collected" => {
                        return Err(ApiError::Conflict(format!(
                            "lot {lot_id} was already collected"
                        )));
                    }
                    Some(l) if waiting(&l) => {
                        if !selected.iter().any(|s| s.id == l.id) {
                            selected.push(l.clone());
                        }
                    }
                    _ => errors.push(FieldError::new(
                        "lot_ids",
                        "not_in_request",
                        format!("lot {lot_id} does not wait in this request"),
                    )),
                }
            }
        }
    }
    if selected.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("lot_ids", "empty", "no lot to collect"));
    }

    // The receiver's licence must cover each hazardous code on the day.
    let park = parks::load_park(conn, &row.park_id)?;
    let today = now
        .with_timezone(&parks::park_time_zone(&park.0))
        .date_naive();
    let licences = directory::licences_of(conn, &row.disposer_id)?;
    let mut licence_of_code: Vec<(String, String)> = Vec::new();
    for lot in &selected {
        if lot.kind != "hazardous" || licence_of_code.iter().any(|(c, _)| *c == lot.waste_code) {
            continue;
        }
        let target = CatalogRef::parse("", &lot.waste_code)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored code: {}", e.message)))?;
        let covering = licences.iter().find(|l| {
            crate::domain::contract::licence_covers(
                &[crate::registry::directory::service::licence_terms(l)],
                &target,
                today,
            )
        });
        match covering {
            Some(l) => licence_of_code.push((lot.waste_code.clone(), l.id.clone())),
            None => errors.push(FieldError::new(
                "lot_ids",
                "code_not_licensed",
                format!(
                    "the disposal company's licence does not cover {} on {today}",
                    lot.waste_code
                ),
            )),
        }
    }

    // Door lots need the driver's weighing; the warehouse load needs the vehicle's.
    for (i, w) in c.door.iter().enumerate() {
        if !selected
            .iter()
            .any(|l| l.id == w.lot_id && l.route == "door")
        {
            errors.push(FieldError::new(
                format!("door_weighings[{i}].lot_id"),
                "not_a_door_lot",
                "not a lot collected at a door in this pickup",
            ));
        }
    }
    for lot in selected.iter().filter(|l| l.route == "door") {
        if !c.door.iter().any(|w| w.lot_id == lot.id) {
            errors.push(FieldError::new(
                "door_weighings",
                "missing",
                format!(
                    "lot {} is weighed at the enterprise's door: give its weighing",
                    lot.id
                ),
            ));
        }
    }
    if c.weighing.is_none() {
        errors.push(FieldError::new(
            "gross_grams",
            "required",
            "the loaded vehicle's outbound weighing: give gross_grams and tare_grams",
        ));
    }
    let mut weighed: Vec<&str> = c.door.iter().map(|w| w.lot_id.as_str()).collect();
    weighed.sort_unstable();
    if weighed.windows(2).any(|w| w[0] == w[1]) {
        errors.push(FieldError::new(
            "door_weighings",
            "duplicate",
            "a lot is weighed once at its door",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    // Lot rows first (in id order), then the zones' stock and the inventory, each in key
    // order: two collections touching the same zones cannot wait on each other in a cycle.
    let collection_id = new_id("col");
    selected.sort_by(|a, b| a.id.cmp(&b.id));
    let mut zone_deltas: Vec<(String, i64)> = Vec::new();
    let mut stock_deltas: Vec<((String, String, String), i64, i32)> = Vec::new();
    for lot in &mut selected {
        let read = lot.clone();
        if let Some(w) = c.door.iter().find(|w| w.lot_id == lot.id) {
            lot.gross_grams = Some(w.weighing.gross);
            lot.tare_grams = Some(w.weighing.tare);
            lot.net_grams = w.weighing.net;
            lot.weight_source = "scale".to_owned();
            lot.scale_id = Some(c.scale_id.clone());
            // The driver's weighing at the door: billed by its weight, on its day.
            lot.captured_at = c.captured_at.naive_utc();
        }
        lot.status = "collected".to_owned();
        lot.pickup_request_id = None;
        lot.updated_at = now.naive_utc();
        if !crate::lots::store::save_lot_if_unchanged(conn, lot, &read.status, read.updated_at)? {
            return Err(ApiError::Conflict(format!(
                "lot {} was changed by another request meanwhile; retry",
                lot.id
            )));
        }
        // The deltas cannot overflow: the stored lots of a zone add up to its stock, which
        // never exceeds its capacity (at most MAX_GRAMS = 10^15 g).
        if let (Some(zone_id), "stored") = (read.zone_id.clone(), read.status.as_str()) {
            match zone_deltas.iter_mut().find(|(z, _)| *z == zone_id) {
                Some((_, d)) => *d -= read.net_grams,
                None => zone_deltas.push((zone_id.clone(), -read.net_grams)),
            }
            let key = (zone_id, read.contract_id.clone(), read.waste_code.clone());
            match stock_deltas.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, g, n)) => {
                    *g -= read.net_grams;
                    *n -= 1;
                }
                None => stock_deltas.push((key, -read.net_grams, -1)),
            }
        }
        crate::lots::service::event(
            conn,
            now,
            &lot.id,
            "collected",
            &principal.user_id,
            None,
            &serde_json::json!({
                "collection_id": collection_id, "request_id": id,
                "net_grams_before": read.net_grams, "net_grams": lot.net_grams,
                "weight_source": lot.weight_source,
            }),
        )?;
    }
    zone_deltas.sort();
    for (zone_id, delta) in zone_deltas {
        if !crate::registry::warehouses::store::add_to_zone(conn, &zone_id, delta)? {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "zone {zone_id} stock would go negative"
            )));
        }
    }
    stock_deltas.sort();
    for ((zone_id, contract_id, code), grams, lots) in stock_deltas {
        crate::lots::store::add_inventory(
            conn,
            &zone_id,
            &contract_id,
            &code,
            grams,
            lots,
            now.naive_utc(),
        )?;
    }
    let collection = CollectionRow {
        id: collection_id,
        request_id: id.to_owned(),
        park_id: row.park_id.clone(),
        carrier_id: carrier_id.clone(),
        vehicle_id: c.vehicle_id.clone(),
        driver_id: driver_id.clone(),
        scale_id: c.scale_id.clone(),
        gross_grams: c.weighing.map(|w| w.gross),
        tare_grams: c.weighing.map(|w| w.tare),
        net_grams: c.weighing.map_or(0, |w| w.net),
        captured_at: c.captured_at.naive_utc(),
        recorded_by: principal.user_id.clone(),
        created_at: now.naive_utc(),
    };
    manifest_store::insert_collection(conn, &collection)?;
    let manifests = crate::manifests::service::issue(
        conn,
        now,
        crate::manifests::service::Trip {
            collection: &collection,
            receiver_id: &row.disposer_id,
            licences: &licence_of_code,
            lots: &selected,
        },
        tolerance_percent,
    )?;

    // The request is collected: its rule re-arms; lots left behind wait again.
    row.status = "collected".to_owned();
    row.open_key = None;
    row.closed_at = Some(now.naive_utc());
    row.closed_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, &row)?;
    store::detach_all(conn, id)?;
    announce(
        conn,
        now,
        "pickup.collected",
        &row,
        title(&row, "collected"),
    )?;
    Ok(CollectionView {
        id: collection.id,
        request_id: id.to_owned(),
        carrier_id,
        vehicle_id: collection.vehicle_id,
        driver_id,
        scale_id: collection.scale_id,
        gross_grams: collection.gross_grams,
        tare_grams: collection.tare_grams,
        net_grams: collection.net_grams,
        captured_at: c.captured_at,
        lot_ids: selected.into_iter().map(|l| l.id).collect(),
        manifests: manifests
            .into_iter()
            .map(|m| ManifestSummary {
                flagged: m.flag_detail.is_some(),
                id: m.id,
                number: m.number,
                kind: m.kind,
                waste_code: m.waste_code,
                status: m.status,
                consignor_id: m.consignor_id,
                inbound_grams: m.inbound_grams,
                outbound_grams: m.outbound_grams,
            })
            .collect(),
    })
}
