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
use crate::domain::ids::{LotId, PickupRequestId};
use crate::domain::lot::LotStatus;
use crate::domain::pickup::RequestStatus;
use crate::domain::threshold::{
    Crossing, TriggerKind, WaitingCode, age_crossing, weight_crossing, zone_crossing,
};
use crate::domain::units::{add, total};
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, NOT_VISIBLE};
use crate::notify::service::{Notice, publish};
use crate::registry::contracts::store::{self as contracts, ContractRow};
use crate::registry::parks::service as parks;
use crate::requests::store::{self, MemberLot, RequestRow};

pub use crate::requests::store::RequestFilter;
/// Lots wait for collection in groups: one contract, one place, one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub contract_id: String,
    /// The warehouse; `None` for lots waiting at the enterprises' doors (route b).
    pub warehouse_id: Option<String>,
    pub category: String,
}

impl Group {
    /// The group of a lot: its contract, its warehouse (none at a door), its category.
    pub fn of(contract_id: &str, warehouse_id: Option<&str>, category: &str) -> Self {
        Self {
            contract_id: contract_id.to_owned(),
            warehouse_id: warehouse_id.map(str::to_owned),
            category: category.to_owned(),
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
        crate::db::locks::take(conn, crate::db::locks::Lock::PickupGroup(&self.key()))?;
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
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub waste_code: String,
    /// `stored`, `declared`, `collected` or `voided`.
    pub status: LotStatus,
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
    #[schema(value_type = String)]
    pub id: PickupRequestId,
    pub park_id: String,
    pub contract_id: String,
    pub disposer_id: String,
    /// `warehouse` (lots stored in the warehouse) or `door` (declared at the enterprises).
    pub route: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    pub category: String,
    /// `requested`, `accepted`, `scheduled`, `collected`, `declined` or `cancelled`.
    pub status: RequestStatus,
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
    /// The escort (押运员) named in the schedule, a user of the carrier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escort_id: Option<String>,
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
pub(crate) fn view(
    row: &RequestRow,
    lots: &[MemberLot],
    only_enterprise: Option<&str>,
    with_lots: bool,
) -> Result<RequestView, ApiError> {
    let lots: Vec<&MemberLot> = lots
        .iter()
        .filter(|l| l.status != LotStatus::Voided)
        .filter(|l| only_enterprise.is_none_or(|e| l.enterprise_id == e))
        .collect();
    let lines = lines_of(lots.iter().map(|l| (l.waste_code.as_str(), l.net_grams, 1)))?;
    let listed = with_lots.then(|| {
        lots.iter()
            .map(|l| RequestLot {
                lot_id: l.id.clone(),
                enterprise_id: l.enterprise_id.clone(),
                waste_code: l.waste_code.clone(),
                status: l.status,
                net_grams: l.net_grams,
                weight_source: l.weight_source.clone(),
                zone_id: l.zone_id.clone(),
                label_code: l.label_code.clone(),
            })
            .collect()
    });
    view_of_lines(row, lines, only_enterprise, listed)
}

/// Lines per code from `(code, grams, lots)`, in code order.
fn lines_of<'a>(
    items: impl Iterator<Item = (&'a str, i64, i64)>,
) -> Result<Vec<RequestLine>, ApiError> {
    let mut lines: Vec<RequestLine> = Vec::new();
    for (code, grams, lots) in items {
        match lines.iter_mut().find(|l| l.waste_code == code) {
            Some(line) => {
                line.grams = add(line.grams, grams)?;
                line.lots = line.lots.saturating_add(lots);
            }
            None => lines.push(RequestLine {
                waste_code: code.to_owned(),
                grams,
                lots,
            }),
        }
    }
    lines.sort_by(|a, b| a.waste_code.cmp(&b.waste_code));
    Ok(lines)
}

/// The request with its lines (voided lots left out, an enterprise's own only) and, when one
/// request is read, its lots.
fn view_of_lines(
    row: &RequestRow,
    lines: Vec<RequestLine>,
    only_enterprise: Option<&str>,
    lots: Option<Vec<RequestLot>>,
) -> Result<RequestView, ApiError> {
    Ok(RequestView {
        id: row.id.clone(),
        park_id: row.park_id.clone(),
        contract_id: row.contract_id.clone(),
        disposer_id: row.disposer_id.clone(),
        route: row.route.clone(),
        warehouse_id: row.warehouse_id.clone(),
        category: row.category.clone(),
        status: row.status,
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
        escort_id: row.escort_id.clone(),
        reason: row.reason.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at.and_utc(),
        accepted_at: row.accepted_at.map(|t| t.and_utc()),
        scheduled_at: row.scheduled_at.map(|t| t.and_utc()),
        closed_at: row.closed_at.map(|t| t.and_utc()),
        updated_at: row.updated_at.and_utc(),
        total_grams: total(lines.iter().map(|l| l.grams))?,
        lot_count: lines.iter().fold(0i64, |n, l| n.saturating_add(l.lots)),
        lines,
        lots,
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
    let only = crate::auth::policy::sees_lots_only_of(principal);
    view(row, &lots, only, with_lots)
}

pub(crate) fn place(r: &store::Request) -> Place<'_> {
    Place {
        park_id: &r.request.park_id,
        region_code: &r.region_code,
    }
}

/// One page of the requests in a scope, each as the principal may see it.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    scope: &crate::auth::policy::PickupScope,
    filter: &store::RequestFilter,
    page: &crate::http::pagination::PageRequest,
) -> Result<crate::http::Page<RequestView>, ApiError> {
    let rows = store::list_requests(conn, scope, filter, page)?;
    let page = crate::http::Page::from_rows(rows, page.limit, |r| r.id.as_str());
    // The page's lines in one query, whatever the requests hold.
    let only = crate::auth::policy::sees_lots_only_of(principal);
    let ids: Vec<PickupRequestId> = page.items.iter().map(|r| r.id.clone()).collect();
    let totals = store::lines_of(conn, &ids, only)?;
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        let lines = lines_of(
            totals
                .iter()
                .filter(|t| t.request_id == row.id)
                .map(|t| (t.waste_code.as_str(), t.grams, t.lots)),
        )?;
        items.push(view_of_lines(row, lines, only, None)?);
    }
    Ok(crate::http::Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A request the principal may read, with its lots as the principal may see them.
pub fn get(
    conn: &mut DbConn,
    principal: &Principal,
    id: &PickupRequestId,
) -> Result<RequestView, ApiError> {
    let request = load_readable(conn, principal, id)?;
    view_for(conn, principal, &request.request, true)
}

/// Loads a request the principal may read; returns it with the enterprises it covers.
pub fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &PickupRequestId,
) -> Result<store::Request, ApiError> {
    let request = store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let enterprises = store::enterprises_of(conn, id)?;
    authorize(
        principal,
        Action::ReadPickup {
            place: place(&request),
            disposer_id: &request.request.disposer_id,
            enterprise_ids: &enterprises,
            driver_id: request.request.driver_id.as_deref(),
        },
    )?;
    Ok(request)
}

/// Tells every party of a request what happened: the park office, the disposer, the carrier
/// once scheduled, and each enterprise concerned (with only its own lots).
pub(crate) fn announce(
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
pub(crate) fn announce_to(
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
                subject_id: row.id.as_str(),
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
                subject_id: row.id.as_str(),
                title: title.clone(),
                data: own,
            },
        )?;
    }
    Ok(())
}

pub(crate) fn title(row: &RequestRow, what: RequestStatus) -> String {
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

/// What waits in a group, from its running totals.
struct Waiting {
    totals: Vec<store::WaitingTotal>,
}

impl Waiting {
    fn read(conn: &mut DbConn, group: &Group) -> Result<Self, ApiError> {
        Ok(Self {
            totals: store::waiting_totals(
                conn,
                &group.contract_id,
                &group.category,
                group.warehouse_id.as_deref(),
            )?,
        })
    }

    fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    fn lots(&self) -> i64 {
        self.totals.iter().fold(0, |n, t| n.saturating_add(t.lots))
    }
}

/// The first rule the waiting lots cross, if any: weight, then zone capacity, then age.
fn crossing(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: Option<NaiveDate>,
    contract: &ContractRow,
    group: &Group,
    waiting: &Waiting,
) -> Result<Option<Crossing>, ApiError> {
    let today = match today {
        Some(today) => today,
        None => {
            let park = parks::load_park(conn, &contract.park_id)?;
            now.with_timezone(&parks::park_time_zone(&park.park))
                .date_naive()
        }
    };
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
    for t in &waiting.totals {
        let Ok(code) = WasteCode::parse("", &t.waste_code) else {
            continue;
        };
        match codes.iter_mut().find(|c| c.code == code) {
            Some(c) => c.grams = add(c.grams, t.grams)?,
            None => codes.push(WaitingCode {
                code,
                grams: t.grams,
            }),
        }
    }
    if let Some(c) = weight_crossing(&codes, &rules, today) {
        return Ok(Some(c));
    }
    let mut zones: Vec<String> = waiting
        .totals
        .iter()
        .map(|t| t.zone.clone())
        .filter(|z| !z.is_empty())
        .collect();
    zones.sort();
    zones.dedup();
    if !zones.is_empty() {
        for (name, stored, capacity) in store::zone_fill(conn, &zones)? {
            if let Some(c) = zone_crossing(&name, stored, capacity, contract.pickup_zone_percent) {
                return Ok(Some(c));
            }
        }
    }
    // The totals' `oldest` may be earlier than the oldest lot still waiting: only when it says
    // the rule is crossed are the lots themselves read.
    let age = |at: chrono::NaiveDateTime| {
        age_crossing((now.naive_utc() - at).num_days(), contract.max_storage_days)
    };
    if waiting
        .totals
        .iter()
        .filter_map(|t| t.oldest)
        .min()
        .and_then(age)
        .is_none()
    {
        return Ok(None);
    }
    let oldest = store::oldest_waiting(
        conn,
        &group.contract_id,
        &group.category,
        group.warehouse_id.as_deref(),
    )?;
    Ok(oldest.and_then(age))
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
    crossing: Crossing,
    raised_by: Option<RaisedBy<'_>>,
) -> Result<RequestRow, ApiError> {
    let (by, note) = match raised_by {
        Some(r) => (Some(r.principal), r.note),
        None => (None, None),
    };
    let row = RequestRow {
        id: PickupRequestId::new(),
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
        status: RequestStatus::Requested,
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
        escort_id: None,
    };
    store::insert_request(conn, &row)?;
    crate::metrics::pickup_request_raised(&row.trigger_kind);
    store::attach_waiting(
        conn,
        &row.id,
        &group.contract_id,
        &group.category,
        group.warehouse_id.as_deref(),
        now.naive_utc(),
    )?;
    announce(
        conn,
        now,
        "pickup.requested",
        &row,
        title(&row, RequestStatus::Requested),
    )?;
    tracing::info!(request = %row.id, group = %group.key(), trigger = %row.trigger_kind, "pickup requested");
    Ok(row)
}

/// What caused a group's rules to be checked.
#[derive(Debug, Clone, Copy)]
pub enum Cause<'a> {
    /// A lot that was never in a request joined the group (a weighing, a declaration), under
    /// this contract, already read by the caller, on this day in the park's time zone.
    NewLot {
        lot_id: &'a LotId,
        enterprise_id: &'a str,
        contract: &'a ContractRow,
        today: NaiveDate,
    },
    /// Anything else: a correction, the periodic check.
    Other,
}

/// What checking a group's rules did.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// The open request the group's waiting lots joined, or the one they opened.
    pub request_id: Option<PickupRequestId>,
    /// The request it opened, if it opened one.
    pub opened: Option<RequestRow>,
}

/// Checks a group's rules after a change, in the caller's transaction: new waiting lots join
/// the group's open request, or open one if a rule is crossed.
///
/// Its cost does not grow with the lots waiting or the request's size: it reads the group's
/// running totals, the open request by its key, and, only when a request opens, the rules.
pub fn evaluate(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    group: &Group,
    cause: Cause<'_>,
) -> Result<Evaluation, ApiError> {
    group.lock(conn)?;
    if let Some(open) = store::find_open(conn, &group.key())? {
        let (contract, category, warehouse) = (
            &group.contract_id,
            &group.category,
            group.warehouse_id.as_deref(),
        );
        // An enterprise whose first lot joins is told of the request, as the others were.
        let newcomers = match cause {
            // The usual case: the new lot is the only one waiting (the others are in the
            // request already), and it joins by its id.
            Cause::NewLot {
                lot_id,
                enterprise_id,
                ..
            } if Waiting::read(conn, group)?.lots() == 1 => {
                let newcomer = !store::has_member(conn, &open.id, enterprise_id)?;
                store::attach_one(conn, &open.id, lot_id, enterprise_id, now.naive_utc())?;
                if newcomer {
                    vec![enterprise_id.to_owned()]
                } else {
                    Vec::new()
                }
            }
            _ => {
                let newcomers =
                    store::waiting_newcomers(conn, &open.id, contract, category, warehouse)?;
                store::attach_waiting(
                    conn,
                    &open.id,
                    contract,
                    category,
                    warehouse,
                    now.naive_utc(),
                )?;
                newcomers
            }
        };
        store::touch_request(conn, &open.id, now.naive_utc())?;
        if !newcomers.is_empty() {
            let title = title(&open, RequestStatus::Requested);
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
        return Ok(Evaluation {
            request_id: Some(open.id),
            opened: None,
        });
    }
    let waiting = Waiting::read(conn, group)?;
    if waiting.is_empty() {
        return Ok(Evaluation::default());
    }
    let loaded;
    let (contract, today) = match cause {
        Cause::NewLot {
            contract, today, ..
        } => (contract, Some(today)),
        Cause::Other => {
            // Lots of a request cancelled or declined do not call again by themselves: a new
            // lot must join them (or the park office raises a request by hand).
            if !store::any_never_requested(
                conn,
                &group.contract_id,
                &group.category,
                group.warehouse_id.as_deref(),
            )? {
                return Ok(Evaluation::default());
            }
            loaded = contracts::find_contract(conn, &group.contract_id)?
                .ok_or(ApiError::NotFound(NOT_VISIBLE))?
                .contract;
            (&loaded, None)
        }
    };
    match crossing(conn, now, today, contract, group, &waiting)? {
        Some(c) => {
            let row = open_request(conn, now, contract, group, c, None)?;
            Ok(Evaluation {
                request_id: Some(row.id.clone()),
                opened: Some(row),
            })
        }
        None => Ok(Evaluation::default()),
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
        match crate::db::write_transaction(db_conn, |conn| {
            let evaluation = evaluate(conn, now, &group, Cause::Other)?;
            // Only a request opened is a change worth an audit entry.
            match &evaluation.opened {
                Some(row) => {
                    crate::audit::context::describe(
                        format!("/api/v1/pickup-requests/{}", row.id),
                        serde_json::json!({
                            "opened": row.id,
                            "trigger": row.trigger_kind,
                            "detail": row.trigger_detail,
                        }),
                    );
                    crate::audit::context::park(&row.park_id);
                }
                // The group had waiting lots (that is why it is checked): they joined.
                None => match &evaluation.request_id {
                    Some(id) => crate::audit::context::describe(
                        format!("/api/v1/pickup-requests/{id}"),
                        serde_json::json!({ "joined": id }),
                    ),
                    None => crate::audit::context::skip(),
                },
            }
            Ok::<_, ApiError>(evaluation)
        }) {
            Ok(Evaluation {
                opened: Some(_), ..
            }) => opened += 1,
            Ok(_) => {}
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
    let members = crate::registry::contracts::service::member_ids(conn, &r.contract_id)?;
    authorize(
        principal,
        Action::ManageContract {
            place: Place {
                park_id: &contract.contract.park_id,
                region_code: &contract.region_code,
            },
            disposer_id: &contract.contract.disposer_id,
            member_ids: &members,
        },
    )?;
    if let Some(w) = &r.warehouse_id {
        let warehouse = crate::registry::warehouses::store::find_warehouse(conn, w)?
            .filter(|w| w.warehouse.park_id == contract.contract.park_id)
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
    if Waiting::read(conn, &group)?.is_empty() {
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
        &contract.contract,
        &group,
        crossing,
        Some(RaisedBy {
            principal,
            note: r.note,
        }),
    )?;
    view_for(conn, principal, &row, true)
}

/// Loads a request for a change: takes its group's lock first, then reads it.
pub(crate) fn load_for_change(
    conn: &mut DbConn,
    id: &PickupRequestId,
    authorized: impl FnOnce(&mut DbConn, &store::Request) -> Result<(), ApiError>,
) -> Result<store::Request, ApiError> {
    let request = store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    // Who may not change it does not get to hold its group's lock.
    authorized(conn, &request)?;
    Group::of_request(&request.request).lock(conn)?;
    store::find_request(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub(crate) fn check_status(
    row: &RequestRow,
    allowed: &[RequestStatus],
    action: RequestStatus,
) -> Result<(), ApiError> {
    if allowed.contains(&row.status) {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "the request is {}; it cannot be {action}",
            row.status
        )))
    }
}

/// Ends an open request without collection: its lots wait again, and the rule re-arms.
pub(crate) fn close(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    row: &mut RequestRow,
    status: RequestStatus,
    reason: String,
) -> Result<(), ApiError> {
    let now = now.naive_utc();
    row.status = status;
    row.reason = Some(reason);
    row.open_key = None;
    row.closed_at = Some(now);
    row.closed_by = Some(principal.user_id.clone());
    row.updated_at = now;
    store::save_request(conn, row)?;
    store::detach_all(conn, &row.id)?;
    Ok(())
}

/// After a lot of an open request was voided: a request left with no lot is cancelled, and
/// its parties are told. In the caller's transaction, which holds the group's lock.
pub fn after_void(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    request_id: &PickupRequestId,
) -> Result<(), ApiError> {
    let Some(store::Request {
        request: mut row, ..
    }) = store::find_request(conn, request_id)?
    else {
        return Ok(());
    };
    if !row.status.is_open()
        || store::lots_of(conn, request_id)?
            .iter()
            .any(|l| l.status != LotStatus::Voided)
    {
        return Ok(());
    }
    close(
        conn,
        now,
        principal,
        &mut row,
        RequestStatus::Cancelled,
        "every lot of the request was voided".to_owned(),
    )?;
    announce(
        conn,
        now,
        "pickup.cancelled",
        &row,
        title(&row, RequestStatus::Cancelled),
    )
}
