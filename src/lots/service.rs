//! Use cases on lots: weigh in, declare, void, correct; the views, the inventory and the alarms.
//! Each write runs in the caller's transaction and keeps the zone's stock, the inventory and the
//! lot's events in step with the lot.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, LotScope, Place, authorize};
use crate::db::DbConn;
use crate::domain::contract::{DatedRule, rule_on};
use crate::domain::ids::{LotId, PickupRequestId, new_id};
use crate::domain::lot::{
    AlarmLevel, ContainerType, LotStatus, PhysicalForm, Weighing, capacity_alarm, storage_alarm,
};
use crate::domain::waste::{CatalogRef, WasteCode, WasteKind, split_refs};
use crate::error::{ApiError, FieldError, NOT_VISIBLE};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::lots::stock;
pub use crate::lots::store::LotFilter;
use crate::lots::store::{self, EventRow, LotRow};
use crate::registry::catalog::service::check_refs_exist;
use crate::registry::contracts::store as contracts;
use crate::registry::parks::{service as parks, store as park_store};
use crate::registry::warehouses::store as warehouse_store;
use crate::requests::service::{Cause, Group};

/// How far in the future a device clock may be ahead of the server's.
pub const CLOCK_SKEW_MINUTES: i64 = 10;
/// How old a capture may be when it reaches the server (a phone may stay offline for days).
pub const MAX_CAPTURE_AGE_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
    "route": "warehouse",
    "status": "stored",
    "waste_code": "900-249-08",
    "kind": "hazardous",
    "category": "HW08",
    "physical_form": "liquid",
    "container_type": "drum",
    "container_count": 2,
    "container_litres": 200,
    "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1",
    "gross_grams": 352500,
    "tare_grams": 32500,
    "net_grams": 320000,
    "weight_source": "scale",
    "scale_id": "SCALE-01",
    "captured_at": "2026-11-28T07:58:12Z",
    "received_at": "2026-11-28T08:00:00Z",
    "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "produced_on": "2026-11-28",
    "label_code": "91440300MA5F0001819002490820261128001",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct LotView {
    #[schema(value_type = String)]
    pub id: LotId,
    pub park_id: String,
    pub enterprise_id: String,
    pub contract_id: String,
    /// `warehouse`: weighed into the shared warehouse; `door`: declared, waiting at the enterprise.
    pub route: String,
    /// `stored`, `declared`, `voided` or `collected`.
    pub status: LotStatus,
    pub waste_code: String,
    pub kind: WasteKind,
    pub category: String,
    pub physical_form: PhysicalForm,
    pub container_type: ContainerType,
    pub container_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_litres: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_grams: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tare_grams: Option<i64>,
    /// Net weight in grams: weighed (`weight_source` `scale`) or estimated (`estimate`).
    pub net_grams: i64,
    pub weight_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_id: Option<String>,
    /// When the device captured the weighing (its clock).
    pub captured_at: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    pub recorded_by: String,
    pub produced_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_components: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The 37-character digital identification code of the HJ 1276-2022 label (hazardous lots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub void_reason: Option<String>,
    /// The open pickup request the lot waits in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub pickup_request_id: Option<PickupRequestId>,
    /// Present and `true` when the lot's code is not in its enterprise's waste profile (the
    /// lot was accepted and flagged for the park office; `GET /anomalies?kind=outside_profile`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_profile: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn view(row: LotRow) -> LotView {
    LotView {
        kind: WasteKind::parse_stored(&row.kind).unwrap_or(WasteKind::Hazardous),
        physical_form: PhysicalForm::parse_stored(&row.physical_form)
            .unwrap_or(PhysicalForm::Solid),
        container_type: ContainerType::parse_stored(&row.container_type)
            .unwrap_or(ContainerType::Other),
        id: row.id,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        contract_id: row.contract_id,
        route: row.route,
        status: row.status,
        waste_code: row.waste_code,
        category: row.category,
        container_count: row.container_count,
        container_litres: row.container_litres,
        warehouse_id: row.warehouse_id,
        zone_id: row.zone_id,
        gross_grams: row.gross_grams,
        tare_grams: row.tare_grams,
        net_grams: row.net_grams,
        weight_source: row.weight_source,
        scale_id: row.scale_id,
        captured_at: row.captured_at.and_utc(),
        received_at: row.received_at.and_utc(),
        recorded_by: row.recorded_by,
        produced_on: row.produced_on,
        main_components: row.main_components,
        note: row.note,
        label_code: row.label_code,
        voided_at: row.voided_at.map(|t| t.and_utc()),
        void_reason: row.void_reason,
        pickup_request_id: row.pickup_request_id,
        outside_profile: false,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// The view of a lot with its profile flag (one more read).
pub fn flagged_view(conn: &mut DbConn, row: LotRow) -> Result<LotView, ApiError> {
    let outside_profile = crate::profiles::store::is_flagged(conn, &row.id)?;
    Ok(LotView {
        outside_profile,
        ..view(row)
    })
}

/// What a lot is described by, on either route.
pub struct Description {
    pub enterprise_id: String,
    pub contract_id: Option<String>,
    pub waste_code: WasteCode,
    pub physical_form: PhysicalForm,
    pub container_type: ContainerType,
    pub container_count: i32,
    pub container_litres: Option<i32>,
    pub produced_on: Option<NaiveDate>,
    pub main_components: Option<String>,
    pub note: Option<String>,
}

/// An inbound weighing at the warehouse (route a).
pub struct WeighIn {
    pub description: Description,
    pub zone_id: String,
    pub weighing: Weighing,
    pub scale_id: String,
    pub captured_at: DateTime<Utc>,
    /// The containers' weights one by one, and their labels' texts.
    pub containers: crate::lots::containers::NewContainers,
}

pub fn place(lot: &store::Lot) -> Place<'_> {
    Place {
        park_id: &lot.lot.park_id,
        region_code: &lot.region_code,
    }
}

pub fn load(conn: &mut DbConn, id: &LotId) -> Result<store::Lot, ApiError> {
    store::find_lot(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// Loads a lot the principal may read.
pub fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &LotId,
) -> Result<store::Lot, ApiError> {
    let lot = load(conn, id)?;
    authorize(
        principal,
        Action::ReadLot {
            enterprise_id: &lot.lot.enterprise_id,
            disposer_id: &lot.disposer_id,
            place: place(&lot),
        },
    )?;
    Ok(lot)
}

/// A page of the lots the scope sees, each with its profile flag (one more read for the page).
pub fn list(
    conn: &mut DbConn,
    scope: &LotScope,
    filter: &LotFilter,
    page: &PageRequest,
) -> Result<Page<LotView>, ApiError> {
    let rows = store::list_lots(conn, scope, filter, page)?;
    let ids: Vec<LotId> = rows.iter().map(|r| r.id.clone()).collect();
    let flagged = crate::profiles::store::flagged_among(conn, &ids)?;
    Ok(
        Page::from_rows(rows, page.limit, |r| r.id.as_str()).map(|r| {
            let outside_profile = flagged.contains(&r.id);
            LotView {
                outside_profile,
                ..view(r)
            }
        }),
    )
}

/// A lot the principal may read, with its profile flag.
pub fn read(conn: &mut DbConn, principal: &Principal, id: &LotId) -> Result<LotView, ApiError> {
    let lot = load_readable(conn, principal, id)?;
    flagged_view(conn, lot.lot)
}

/// What happened to a lot the principal may read.
pub fn history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &LotId,
) -> Result<Vec<EventView>, ApiError> {
    load_readable(conn, principal, id)?;
    events(conn, id)
}

/// The label data of a lot the principal may read, and the labels of its containers (all, or
/// the one at `position`).
pub fn labels(
    conn: &mut DbConn,
    principal: &Principal,
    id: &LotId,
    base_url: &str,
    position: Option<i32>,
) -> Result<(LabelData, Vec<crate::lots::containers::ContainerLabel>), ApiError> {
    let lot = load_readable(conn, principal, id)?;
    let data = label_data(conn, lot)?;
    let labels = crate::lots::containers::labels(conn, &data, base_url, position)?;
    Ok((data, labels))
}

/// The containers of a lot the principal may read.
pub fn containers(
    conn: &mut DbConn,
    principal: &Principal,
    id: &LotId,
    base_url: &str,
) -> Result<Vec<crate::lots::containers::ContainerView>, ApiError> {
    let lot = load_readable(conn, principal, id)?;
    crate::lots::containers::views(conn, &view(lot.lot), base_url)
}

/// The stock of a warehouse the principal may read.
pub fn warehouse_inventory(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    warehouse_id: &str,
) -> Result<InventoryView, ApiError> {
    let w = crate::registry::warehouses::service::load_warehouse(conn, warehouse_id)?;
    authorize(
        principal,
        Action::ReadWarehouse(crate::registry::warehouses::service::place(&w)),
    )?;
    inventory(conn, now, warehouse_id)
}

pub(crate) fn check_capture_time(
    captured_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if captured_at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(ApiError::field(
            "captured_at",
            "in_future",
            "lies in the future: check the device's clock",
        ));
    }
    if captured_at < now - Duration::days(MAX_CAPTURE_AGE_DAYS) {
        return Err(ApiError::field(
            "captured_at",
            "too_old",
            format!("is more than {MAX_CAPTURE_AGE_DAYS} days old; record it with the park office"),
        ));
    }
    Ok(())
}

/// The contract a lot of `code` falls under on `day`: a contract of the park in force that day,
/// in which the enterprise is a member, and that prices the code (or its category).
fn contract_for(
    conn: &mut DbConn,
    park_id: &str,
    d: &Description,
    day: NaiveDate,
) -> Result<contracts::ContractRow, ApiError> {
    let candidates = contracts::contracts_of_member_on(conn, park_id, &d.enterprise_id, day)?;
    if candidates.is_empty() {
        return Err(ApiError::field(
            "enterprise_id",
            "not_in_contract",
            format!("the enterprise is not a member of a contract in force on {day}"),
        ));
    }
    let mut covering = Vec::new();
    for c in candidates {
        let rules: Vec<DatedRule<()>> = contracts::prices_of(conn, &c.id)?
            .iter()
            .filter_map(|p| {
                CatalogRef::parse("", &p.target)
                    .ok()
                    .map(|target| DatedRule {
                        target,
                        effective_from: p.effective_from,
                        value: (),
                    })
            })
            .collect();
        if rule_on(&rules, &d.waste_code, day).is_some() {
            covering.push(c);
        }
    }
    match (d.contract_id.as_deref(), covering.len()) {
        (Some(wanted), _) => covering
            .into_iter()
            .find(|c| c.id == wanted)
            .ok_or_else(|| {
                ApiError::field(
                    "contract_id",
                    "not_applicable",
                    "this contract does not cover the enterprise and code on that day",
                )
            }),
        (None, 0) => Err(ApiError::field(
            "waste_code",
            "not_covered",
            format!(
                "no contract of the enterprise covers {} on {day}",
                d.waste_code
            ),
        )),
        (None, 1) => covering.pop().ok_or(ApiError::NotFound(NOT_VISIBLE)),
        (None, _) => Err(ApiError::field(
            "contract_id",
            "ambiguous",
            "several contracts cover this code: say which one",
        )),
    }
}

fn check_code(conn: &mut DbConn, code: &WasteCode, day: NaiveDate) -> Result<(), ApiError> {
    let errors = check_refs_exist(
        conn,
        |_| "waste_code".to_owned(),
        &[CatalogRef::Code(code.clone())],
        day,
    )?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub(crate) fn event(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lot_id: &LotId,
    kind: &str,
    by: &str,
    reason: Option<String>,
    data: &impl Serialize,
) -> Result<(), ApiError> {
    let data = serde_json::to_string(data)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising an event: {e}")))?;
    store::insert_event(
        conn,
        &EventRow {
            id: new_id("lev"),
            lot_id: lot_id.clone(),
            kind: kind.to_owned(),
            at: now.naive_utc(),
            by_user: by.to_owned(),
            reason,
            data,
        },
    )?;
    Ok(())
}

/// Who may store a lot in a zone: an enterprise's own zone takes only that enterprise's lots
/// (no permit needed); a shared zone takes hazardous waste only under the park's collection
/// permit, valid on the lot's day in the park's time zone and covering its code, and within
/// the permit's annual capacity, if it states one (beyond it: 409).
fn check_storage_point(
    conn: &mut DbConn,
    park: &park_store::ParkRow,
    zone: &warehouse_store::ZoneRow,
    enterprise_id: &str,
    code: &WasteCode,
    day: NaiveDate,
    net_grams: i64,
) -> Result<(), ApiError> {
    use crate::domain::park::{PermitRefusal, permit_allows};
    if let Some(owner) = &zone.enterprise_id {
        return if owner == enterprise_id {
            Ok(())
        } else {
            Err(ApiError::field(
                "zone_id",
                "other_enterprise",
                format!(
                    "zone {} is another enterprise's own storage point",
                    zone.name
                ),
            ))
        };
    }
    if code.kind() != WasteKind::Hazardous {
        return Ok(());
    }
    let permit = parks::permit_terms(park);
    match permit_allows(&permit, code, day) {
        Ok(()) => {}
        Err(PermitRefusal::None) => {
            return Err(ApiError::field(
                "zone_id",
                "no_permit",
                "the park holds no collection permit: hazardous waste enters a shared zone only \
                 under one; store it in the enterprise's own zone",
            ));
        }
        Err(PermitRefusal::NotYetValid(from)) => {
            return Err(ApiError::field(
                "zone_id",
                "permit_not_yet_valid",
                format!(
                    "the park's collection permit is valid from {from}, not on {day}: hazardous \
                     waste enters a shared zone only under a valid permit"
                ),
            ));
        }
        Err(PermitRefusal::Expired(until)) => {
            return Err(ApiError::field(
                "zone_id",
                "permit_expired",
                format!(
                    "the park's collection permit expired after {until}: hazardous waste enters \
                     a shared zone only under a valid permit"
                ),
            ));
        }
        Err(PermitRefusal::NotCovering) => {
            return Err(ApiError::field(
                "waste_code",
                "not_in_permit",
                format!(
                    "the park's collection permit does not cover {code}: it enters only the \
                     enterprise's own zone"
                ),
            ));
        }
    }
    if let Some(capacity) = permit.annual_capacity_grams {
        use chrono::Datelike;
        let tz = parks::park_time_zone(park);
        let first = NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day);
        let next = NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).unwrap_or(day);
        let taken = store::taken_into_shared_zones(
            conn,
            &park.organization_id,
            crate::http::query::start_of_day(first, tz),
            crate::http::query::start_of_day(next, tz),
        )?;
        if taken.saturating_add(net_grams) > capacity {
            return Err(ApiError::Conflict(format!(
                "the park's collection permit allows {capacity} g a year; {taken} g were taken \
                 into its shared zones in {}: {net_grams} g more would exceed it",
                day.year()
            )));
        }
    }
    Ok(())
}

/// Records a lot weighed into the warehouse: checks the enterprise, contract, code and zone,
/// takes the weight into the zone's stock (refused if it would overfill it), allocates the
/// label code, and adds to the inventory — all in the caller's transaction.
pub fn weigh_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    new: WeighIn,
) -> Result<LotView, ApiError> {
    let (zone, warehouse, park) = warehouse_store::find_zone_in_place(conn, &new.zone_id)?
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    authorize(principal, Action::ManagePark(parks::place(&park)))?;
    check_capture_time(new.captured_at, now)?;
    let d = &new.description;
    let enterprise = park_store::find_enterprise(conn, &d.enterprise_id)?
        .filter(|e| e.enterprise.park_id == park.park.organization_id)
        .ok_or_else(|| {
            ApiError::field(
                "enterprise_id",
                "not_in_park",
                "no such enterprise in this warehouse's park",
            )
        })?;
    let local_today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let day = new
        .captured_at
        .with_timezone(&parks::park_time_zone(&park.park))
        .date_naive();
    check_code(conn, &d.waste_code, day)?;
    let contract = contract_for(conn, &park.park.organization_id, d, day)?;

    let kind = d.waste_code.kind();
    let zone_kind = WasteKind::parse_stored(&zone.kind).unwrap_or(WasteKind::Hazardous);
    if zone.closed_on.is_some_and(|c| c <= day)
        || warehouse.warehouse.closed_on.is_some_and(|c| c <= day)
    {
        return Err(ApiError::field(
            "zone_id",
            "closed",
            "the zone or its warehouse is closed",
        ));
    }
    if kind != zone_kind {
        return Err(ApiError::field(
            "zone_id",
            "wrong_kind",
            format!(
                "{} waste cannot go into a {} zone",
                kind.as_str(),
                zone_kind.as_str()
            ),
        ));
    }
    let allowed = split_refs(&zone.categories);
    let category = CatalogRef::Category(d.waste_code.category().clone());
    if !allowed.is_empty() && !allowed.contains(&category) {
        return Err(ApiError::field(
            "zone_id",
            "category_not_allowed",
            format!(
                "zone {} holds only {}, not {}",
                zone.name,
                allowed
                    .iter()
                    .map(CatalogRef::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                d.waste_code.category()
            ),
        ));
    }
    check_storage_point(
        conn,
        &park.park,
        &zone,
        &enterprise.enterprise.organization_id,
        &d.waste_code,
        day,
        new.weighing.net(),
    )?;
    let produced_on =
        crate::domain::lot::production_date("produced_on", d.produced_on.unwrap_or(day), day)
            .map_err(|e| ApiError::Validation(vec![e]))?;
    // One code per container, from the producer's sequence of the day (hazardous waste), and
    // the profile's read: neither needs the pickup group, whose lock every weighing into the
    // group waits for, so both come before it (see `db::locks`).
    let mut containers = new.containers;
    containers.codes = crate::lots::containers::allocate_codes(
        conn,
        &enterprise.enterprise.organization_id,
        &enterprise.enterprise.uscc,
        &d.waste_code,
        produced_on,
        d.container_count,
    )?;
    let outside_profile = crate::profiles::service::outside_profile(
        conn,
        &enterprise.enterprise.organization_id,
        d.waste_code.as_str(),
    )?;
    // The pickup group's lock comes before the stock (see `db::locks`).
    Group {
        contract_id: contract.id.clone(),
        warehouse_id: Some(warehouse.warehouse.id.clone()),
        category: d.waste_code.category().as_str().to_owned(),
    }
    .lock(conn)?;
    let label_code = containers.codes.first().cloned();
    let row = LotRow {
        // Minted from the reception time, so that date windows and ids agree.
        id: LotId::new_at(now),
        park_id: park.park.organization_id.clone(),
        enterprise_id: enterprise.enterprise.organization_id.clone(),
        contract_id: contract.id.clone(),
        route: "warehouse".to_owned(),
        status: LotStatus::Stored,
        waste_code: d.waste_code.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        category: d.waste_code.category().as_str().to_owned(),
        physical_form: d.physical_form.as_str().to_owned(),
        container_type: d.container_type.as_str().to_owned(),
        container_count: d.container_count,
        container_litres: d.container_litres,
        warehouse_id: Some(warehouse.warehouse.id.clone()),
        zone_id: Some(zone.id.clone()),
        gross_grams: Some(new.weighing.gross()),
        tare_grams: Some(new.weighing.tare()),
        net_grams: new.weighing.net(),
        weight_source: "scale".to_owned(),
        scale_id: Some(new.scale_id.clone()),
        captured_at: new.captured_at.naive_utc(),
        received_at: now.naive_utc(),
        recorded_by: principal.user_id.clone(),
        produced_on,
        main_components: d.main_components.clone(),
        note: d.note.clone(),
        label_code,
        voided_at: None,
        void_reason: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        pickup_request_id: None,
    };
    store::insert_lot(conn, &row)?;
    crate::lots::containers::insert(conn, &row.id, row.container_count, containers)?;
    stock::take_in(
        conn,
        &stock::Stamp {
            at: new.captured_at,
            recorded_at: now,
            by: &principal.user_id,
        },
        &zone,
        &row,
    )?;
    if outside_profile {
        crate::profiles::service::flag(conn, now, for_profile(&row))?;
    }
    let view = LotView {
        outside_profile,
        ..view(row)
    };
    event(
        conn,
        now,
        &view.id,
        "recorded",
        &principal.user_id,
        None,
        &view,
    )?;
    let (lot_id, enterprise_id) = (view.id.clone(), view.enterprise_id.clone());
    settle(
        conn,
        now,
        Cause::NewLot {
            lot_id: &lot_id,
            enterprise_id: &enterprise_id,
            contract: &contract,
            today: local_today,
        },
        view,
    )
}

/// What the waste-profile flag needs of a new lot.
fn for_profile(row: &LotRow) -> crate::profiles::service::NewLot<'_> {
    crate::profiles::service::NewLot {
        lot_id: &row.id,
        park_id: &row.park_id,
        enterprise_id: &row.enterprise_id,
        waste_code: &row.waste_code,
    }
}

/// Checks the pickup rules of the lot's group after a change to it (the lot may join or open a
/// pickup request), and returns the lot as it now is.
fn settle(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    cause: Cause<'_>,
    mut lot: LotView,
) -> Result<LotView, ApiError> {
    let group = Group {
        contract_id: lot.contract_id.clone(),
        warehouse_id: lot.warehouse_id.clone(),
        category: lot.category.clone(),
    };
    let evaluation = crate::requests::service::evaluate(conn, now, &group, cause)?;
    match cause {
        // A new lot waits, so it is in the request its group joined or opened, if any.
        Cause::NewLot { .. } => {
            if evaluation.request_id.is_some() {
                lot.pickup_request_id = evaluation.request_id;
            }
            Ok(lot)
        }
        Cause::Other => Ok(LotView {
            outside_profile: lot.outside_profile,
            ..view(load(conn, &lot.id)?.lot)
        }),
    }
}

/// Declares general waste waiting at the enterprise's door for collection there (route b). The
/// weight is an estimate; the driver's weighing at pickup gives the real one.
pub fn declare(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    d: Description,
    estimated_grams: i64,
) -> Result<LotView, ApiError> {
    let enterprise = park_store::find_enterprise(conn, &d.enterprise_id)?
        .ok_or_else(|| ApiError::NotFound(NOT_VISIBLE))?;
    authorize(
        principal,
        Action::DeclareLot {
            enterprise_id: &enterprise.enterprise.organization_id,
            place: Place {
                park_id: &enterprise.enterprise.park_id,
                region_code: &enterprise.region_code,
            },
        },
    )?;
    if d.waste_code.kind() == WasteKind::Hazardous {
        return Err(ApiError::field(
            "waste_code",
            "hazardous_at_door",
            "hazardous waste is handed into the park's warehouse and weighed there; only general waste is collected at the door",
        ));
    }
    let park = parks::load_park(conn, &enterprise.enterprise.park_id)?;
    let day = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let local_today = day;
    check_code(conn, &d.waste_code, day)?;
    let contract = contract_for(conn, &park.park.organization_id, &d, day)?;
    Group {
        contract_id: contract.id.clone(),
        warehouse_id: None,
        category: d.waste_code.category().as_str().to_owned(),
    }
    .lock(conn)?;
    let row = LotRow {
        // Minted from the reception time, so that date windows and ids agree.
        id: LotId::new_at(now),
        park_id: park.park.organization_id.clone(),
        enterprise_id: enterprise.enterprise.organization_id.clone(),
        contract_id: contract.id.clone(),
        route: "door".to_owned(),
        status: LotStatus::Declared,
        waste_code: d.waste_code.as_str().to_owned(),
        kind: WasteKind::General.as_str().to_owned(),
        category: d.waste_code.category().as_str().to_owned(),
        physical_form: d.physical_form.as_str().to_owned(),
        container_type: d.container_type.as_str().to_owned(),
        container_count: d.container_count,
        container_litres: d.container_litres,
        warehouse_id: None,
        zone_id: None,
        gross_grams: None,
        tare_grams: None,
        net_grams: estimated_grams,
        weight_source: "estimate".to_owned(),
        scale_id: None,
        captured_at: now.naive_utc(),
        received_at: now.naive_utc(),
        recorded_by: principal.user_id.clone(),
        produced_on: crate::domain::lot::production_date(
            "produced_on",
            d.produced_on.unwrap_or(day),
            day,
        )
        .map_err(|e| ApiError::Validation(vec![e]))?,
        main_components: d.main_components,
        note: d.note,
        label_code: None,
        voided_at: None,
        void_reason: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        pickup_request_id: None,
    };
    store::insert_lot(conn, &row)?;
    crate::lots::containers::insert(conn, &row.id, row.container_count, Default::default())?;
    let outside_profile = crate::profiles::service::flag_new_lot(conn, now, for_profile(&row))?;
    let view = LotView {
        outside_profile,
        ..view(row)
    };
    event(
        conn,
        now,
        &view.id,
        "declared",
        &principal.user_id,
        None,
        &view,
    )?;
    let (lot_id, enterprise_id) = (view.id.clone(), view.enterprise_id.clone());
    settle(
        conn,
        now,
        Cause::NewLot {
            lot_id: &lot_id,
            enterprise_id: &enterprise_id,
            contract: &contract,
            today: local_today,
        },
        view,
    )
}

/// Who may void or correct a lot: the park office (and administrators); the enterprise itself
/// for its own declarations.
fn authorize_change(principal: &Principal, lot: &store::Lot) -> Result<(), ApiError> {
    authorize(
        principal,
        Action::ChangeLot {
            enterprise_id: &lot.lot.enterprise_id,
            disposer_id: &lot.disposer_id,
            place: place(lot),
            declared: lot.lot.route == "door" && lot.lot.status == LotStatus::Declared,
        },
    )
}

/// Saves the changed lot, first of all, if nobody changed it since it was read: two concurrent
/// voids or corrections of one lot cannot both take its weight out of the stock.
fn claim(conn: &mut DbConn, row: &LotRow, read: &LotRow) -> Result<(), ApiError> {
    if store::save_lot_if_unchanged(conn, row, read.status, read.updated_at)? {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "the lot was changed by another request meanwhile; read it again and retry".to_owned(),
        ))
    }
}

fn check_changeable(lot: &LotRow) -> Result<(), ApiError> {
    match lot.status {
        LotStatus::Stored | LotStatus::Declared => Ok(()),
        other => Err(ApiError::Conflict(format!(
            "the lot is {other} and can no longer change"
        ))),
    }
}

/// Takes a lot out of the records with a reason: it stays visible, marked voided, and leaves
/// the zone's stock and the inventory.
pub fn void(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &LotId,
    reason: String,
) -> Result<LotView, ApiError> {
    let lot = load(conn, id)?;
    authorize_change(principal, &lot)?;
    check_changeable(&lot.lot)?;
    // The pickup group's lock before the lot's row (see `requests`); then read again,
    // as a concurrent change may have committed meanwhile.
    Group::of(
        &lot.lot.contract_id,
        lot.lot.warehouse_id.as_deref(),
        &lot.lot.category,
    )
    .lock(conn)?;
    let lot = load(conn, id)?;
    check_changeable(&lot.lot)?;
    let read = lot.lot;
    let row = LotRow {
        status: LotStatus::Voided,
        voided_at: Some(now.naive_utc()),
        void_reason: Some(reason.clone()),
        updated_at: now.naive_utc(),
        ..read.clone()
    };
    claim(conn, &row, &read)?;
    if row.zone_id.is_some() && read.status == LotStatus::Stored {
        stock::take_out(
            conn,
            &stock::Stamp {
                at: now,
                recorded_at: now,
                by: &principal.user_id,
            },
            stock::Exit::Void,
            std::slice::from_ref(&read),
        )?;
    }
    crate::billing::service::after_lot_change(conn, now, &principal.user_id, &row.id, &reason)?;
    let view = flagged_view(conn, row)?;
    event(
        conn,
        now,
        &view.id,
        "voided",
        &principal.user_id,
        Some(reason),
        &view,
    )?;
    if let Some(request_id) = &view.pickup_request_id {
        crate::requests::service::after_void(conn, now, principal, request_id)?;
    }
    Ok(view)
}

/// A correction of a lot's weight: a new weighing (stored lots) or a new estimate (declarations).
pub struct Correction {
    pub weighing: Option<Weighing>,
    pub estimated_grams: Option<i64>,
    pub scale_id: Option<String>,
    pub captured_at: Option<DateTime<Utc>>,
    pub reason: String,
}

#[derive(Serialize)]
struct Corrected<'a> {
    before: &'a LotView,
    after: &'a LotView,
}

/// Replaces a lot's weight with a reason. The weighing is not edited in place: the lot's events
/// keep the one before and the one after; the zone's stock and the inventory follow.
pub fn correct(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &LotId,
    c: Correction,
) -> Result<LotView, ApiError> {
    let lot = load(conn, id)?;
    authorize_change(principal, &lot)?;
    check_changeable(&lot.lot)?;
    Group::of(
        &lot.lot.contract_id,
        lot.lot.warehouse_id.as_deref(),
        &lot.lot.category,
    )
    .lock(conn)?;
    let lot = load(conn, id)?;
    check_changeable(&lot.lot)?;
    let before = view(lot.lot.clone());
    let read = lot.lot.clone();
    let mut row = lot.lot;
    let new_net = match (row.status, c.weighing, c.estimated_grams) {
        (LotStatus::Stored, Some(w), None) => {
            if let Some(at) = c.captured_at {
                check_capture_time(at, now)?;
                row.captured_at = at.naive_utc();
            }
            row.gross_grams = Some(w.gross());
            row.tare_grams = Some(w.tare());
            if let Some(scale) = c.scale_id {
                row.scale_id = Some(scale);
            }
            w.net()
        }
        (LotStatus::Declared, None, Some(estimate)) => estimate,
        (LotStatus::Stored, _, Some(_)) => {
            return Err(ApiError::field(
                "estimated_grams",
                "not_applicable",
                "a stored lot is corrected with a new weighing (gross_grams, tare_grams), not an estimate",
            ));
        }
        (LotStatus::Stored, None, None) => {
            return Err(ApiError::field(
                "gross_grams",
                "required",
                "a stored lot is corrected with a new weighing (gross_grams, tare_grams)",
            ));
        }
        (_, Some(_), _) => {
            return Err(ApiError::field(
                "gross_grams",
                "not_applicable",
                "a declaration is corrected with a new estimated_grams; the driver weighs it at pickup",
            ));
        }
        _ => {
            return Err(ApiError::field(
                "estimated_grams",
                "required",
                "a declaration is corrected with a new estimated_grams",
            ));
        }
    };
    // Both at most MAX_LOT_GRAMS = 10^8 g: the difference cannot overflow.
    let delta = new_net - read.net_grams;
    row.net_grams = new_net;
    row.updated_at = now.naive_utc();
    claim(conn, &row, &read)?;
    crate::lots::containers::share_weights(conn, &row.id)?;
    if let (Some(zone_id), LotStatus::Stored) = (row.zone_id.as_deref(), row.status) {
        let zone =
            warehouse_store::find_zone(conn, zone_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
        stock::adjust(
            conn,
            &stock::Stamp {
                at: now,
                recorded_at: now,
                by: &principal.user_id,
            },
            &zone,
            &row,
            delta,
        )?;
        if row.captured_at != read.captured_at {
            stock::redate(conn, &row.id, row.captured_at.and_utc())?;
        }
    }
    crate::billing::service::after_lot_change(conn, now, &principal.user_id, &row.id, &c.reason)?;
    let after = flagged_view(conn, row)?;
    event(
        conn,
        now,
        &after.id,
        "corrected",
        &principal.user_id,
        Some(c.reason),
        &Corrected {
            before: &before,
            after: &after,
        },
    )?;
    settle(conn, now, Cause::Other, after)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "corrected",
    "at": "2026-11-28T09:10:00Z",
    "by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "reason": "scale was not zeroed",
    "data": {"before": {"net_grams": 320000}, "after": {"net_grams": 318500}}
}))]
pub struct EventView {
    /// `recorded`, `declared`, `corrected` or `voided`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The lot as recorded, or `{before, after}` for a correction.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

pub fn events(conn: &mut DbConn, lot_id: &LotId) -> Result<Vec<EventView>, ApiError> {
    Ok(store::events_of(conn, lot_id)?
        .into_iter()
        .map(|e| EventView {
            kind: e.kind,
            at: e.at.and_utc(),
            by: e.by_user,
            reason: e.reason,
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockLine {
    pub contract_id: String,
    pub waste_code: String,
    pub grams: i64,
    pub lots: i32,
    /// When the oldest lot of this line was weighed in (its storage began).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_weighed_at: Option<DateTime<Utc>>,
    /// Whole days since then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_age_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneStock {
    pub zone_id: String,
    pub name: String,
    pub kind: WasteKind,
    pub capacity_grams: i64,
    pub stored_grams: i64,
    /// `warning` from 90 % of the capacity, `exceeded` when full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_alarm: Option<AlarmLevel>,
    pub lines: Vec<StockLine>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "zones": [{
        "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "name": "A1 waste oil", "kind": "hazardous",
        "capacity_grams": 5000000000i64, "stored_grams": 320000,
        "lines": [{"contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2", "waste_code": "900-249-08", "grams": 320000, "lots": 1,
                   "oldest_weighed_at": "2026-11-28T08:00:00Z", "oldest_age_days": 0}]
    }]
}))]
pub struct InventoryView {
    pub warehouse_id: String,
    pub zones: Vec<ZoneStock>,
}

/// The stock of a warehouse: per zone its total and fill, and per contract and code the grams,
/// the number of lots and the age of the oldest.
pub fn inventory(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    warehouse_id: &str,
) -> Result<InventoryView, ApiError> {
    let lines = store::inventory_of(conn, warehouse_id)?;
    let oldest = store::oldest_stored(conn, warehouse_id)?;
    let zones = warehouse_store::zones_of(conn, warehouse_id)?
        .into_iter()
        .map(|z| ZoneStock {
            lines: lines
                .iter()
                .filter(|l| l.zone_id == z.id)
                .map(|l| {
                    let weighed = oldest
                        .iter()
                        .find(|(zone, contract, code, _)| {
                            zone.as_deref() == Some(l.zone_id.as_str())
                                && *contract == l.contract_id
                                && *code == l.waste_code
                        })
                        .and_then(|o| o.3)
                        .map(|t| t.and_utc());
                    StockLine {
                        contract_id: l.contract_id.clone(),
                        waste_code: l.waste_code.clone(),
                        grams: l.grams,
                        lots: l.lots,
                        oldest_age_days: weighed.map(|t| (now - t).num_days()),
                        oldest_weighed_at: weighed,
                    }
                })
                .collect(),
            capacity_alarm: capacity_alarm(z.stored_grams, z.capacity_grams),
            kind: WasteKind::parse_stored(&z.kind).unwrap_or(WasteKind::Hazardous),
            zone_id: z.id,
            name: z.name,
            capacity_grams: z.capacity_grams,
            stored_grams: z.stored_grams,
        })
        .collect();
    Ok(InventoryView {
        warehouse_id: warehouse_id.to_owned(),
        zones,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorageAlarm {
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub waste_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    /// When the lot was weighed in: its storage began.
    pub weighed_at: DateTime<Utc>,
    pub days_stored: i64,
    pub max_storage_days: i32,
    /// `warning` at 80 % of the contract's maximum storage period, `exceeded` at 100 %.
    pub level: AlarmLevel,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityAlarm {
    pub zone_id: String,
    pub zone_name: String,
    pub warehouse_id: String,
    pub stored_grams: i64,
    pub capacity_grams: i64,
    /// `warning` from 90 % of the capacity, `exceeded` when full.
    pub level: AlarmLevel,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "storage": [{"lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
        "waste_code": "900-249-08", "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "weighed_at": "2026-06-01T08:00:00Z",
        "days_stored": 150, "max_storage_days": 180, "level": "warning"}],
    "capacity": [{"zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "zone_name": "A1 waste oil", "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
        "stored_grams": 4600000000i64, "capacity_grams": 5000000000i64, "level": "warning"}]
}))]
pub struct AlarmList {
    pub storage: Vec<StorageAlarm>,
    pub capacity: Vec<CapacityAlarm>,
}

/// Most alarms of each kind returned, oldest lots first.
pub const MAX_ALARMS: i64 = 500;

/// The stored lots of a scope past the storage-age warning of their contract, with the park of
/// each: storage begins when the lot is weighed in, and per contract the database returns only
/// the lots past 80 % of its period, oldest first, at most `per_contract` of them.
pub fn storage_alarms(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &LotScope,
    per_contract: i64,
) -> Result<Vec<(StorageAlarm, String)>, ApiError> {
    let mut alarms = Vec::new();
    for (contract_id, max_days) in store::contracts_with_stored(conn, scope)? {
        let max = i64::from(max_days);
        let warn_after_days = (max * 80 + 99) / 100;
        let cutoff = (now - Duration::days(warn_after_days)).naive_utc();
        for lot in store::stored_since_before(conn, scope, &contract_id, cutoff, per_contract)? {
            let weighed = lot.captured_at.and_utc();
            let days = (now - weighed).num_days();
            if let Some(level) = storage_alarm(days, max) {
                let alarm = StorageAlarm {
                    lot_id: lot.id,
                    enterprise_id: lot.enterprise_id,
                    waste_code: lot.waste_code,
                    zone_id: lot.zone_id,
                    weighed_at: weighed,
                    days_stored: days,
                    max_storage_days: max_days,
                    level,
                };
                alarms.push((alarm, lot.park_id));
            }
        }
    }
    Ok(alarms)
}

/// Storage-age and capacity alarms within a scope, as of now.
pub fn alarms(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &LotScope,
) -> Result<AlarmList, ApiError> {
    let mut storage: Vec<StorageAlarm> = storage_alarms(conn, now, scope, MAX_ALARMS)?
        .into_iter()
        .map(|(alarm, _park)| alarm)
        .collect();
    storage.sort_by_key(|a| a.weighed_at);
    storage.truncate(usize::try_from(MAX_ALARMS).unwrap_or(500));
    // Zones are the park's: enterprises and disposers see only their lots' ages.
    let capacity = warehouse_store::zones_near_capacity(
        conn,
        crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE),
        scope,
        crate::domain::lot::CAPACITY_WARNING_PERCENT,
    )?
    .into_iter()
    .filter_map(|z| {
        capacity_alarm(z.stored_grams, z.capacity_grams).map(|level| CapacityAlarm {
            zone_id: z.id,
            zone_name: z.name,
            warehouse_id: z.warehouse_id,
            stored_grams: z.stored_grams,
            capacity_grams: z.capacity_grams,
            level,
        })
    })
    .collect();
    Ok(AlarmList { storage, capacity })
}

/// The label data of a lot: the enterprise, the code's catalog entry.
pub struct LabelData {
    pub lot: LotView,
    pub producer: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub code_name: String,
    pub characteristics: Vec<String>,
}

pub fn label_data(conn: &mut DbConn, lot: store::Lot) -> Result<LabelData, ApiError> {
    let enterprise = parks::load_enterprise(conn, &lot.lot.enterprise_id)?;
    let code = crate::registry::catalog::store::find_code(conn, &lot.lot.waste_code)?
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let characteristics = crate::domain::waste::parse_characteristics("", &code.characteristics)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    Ok(LabelData {
        lot: view(lot.lot),
        producer: enterprise.name,
        contact_name: enterprise.enterprise.contact_name,
        contact_phone: enterprise.enterprise.contact_phone,
        code_name: code.name_zh,
        characteristics,
    })
}

/// Field errors for a lot's description, shared by both routes.
pub fn check_containers(v: &mut crate::error::Validator, count: i32, litres: Option<i32>) {
    if !(1..=10_000).contains(&count) {
        v.push(FieldError::new(
            "container_count",
            "out_of_range",
            "must be 1 to 10000",
        ));
    }
    if litres.is_some_and(|l| !(1..=100_000).contains(&l)) {
        v.push(FieldError::new(
            "container_litres",
            "out_of_range",
            "must be 1 to 100000 litres",
        ));
    }
}

/// A lot at an enterprise's door, weighed by the driver at pickup (route b), on its own scale
/// at its own time.
pub struct DoorWeighing {
    pub lot_id: LotId,
    pub weighing: Weighing,
    pub scale_id: String,
    pub captured_at: DateTime<Utc>,
}

/// The collection that lots leave with: who recorded it, its id and request, the time the
/// stored lots leave the stock (the vehicle's weighing), and the driver's weighings at the
/// doors.
pub struct Handover<'a> {
    pub by: &'a str,
    pub collection_id: &'a str,
    pub request_id: &'a PickupRequestId,
    pub captured_at: DateTime<Utc>,
    pub door: &'a [DoorWeighing],
    /// The receiving side (the disposal company), recorded in the ledger.
    pub receiver: stock::Receiver<'a>,
}

/// Lots leave with a collection, in the caller's transaction: each is marked collected (a door
/// lot with the driver's weighing, billed by it on its day), its event recorded, and those
/// stored in a zone leave the stock. The lots' rows are written first, in id order, then the
/// stock (see `stock`). A lot changed by another request meanwhile is refused (409). Returns the
/// lots as they now are.
pub fn leave_with_collection(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mut lots: Vec<LotRow>,
    h: &Handover<'_>,
) -> Result<Vec<LotRow>, ApiError> {
    lots.sort_by(|a, b| a.id.cmp(&b.id));
    let mut leaving = Vec::new();
    for lot in &mut lots {
        let read = lot.clone();
        let door_weighing = h.door.iter().find(|w| w.lot_id == lot.id);
        let door = door_weighing.is_some();
        if let Some(w) = door_weighing {
            lot.gross_grams = Some(w.weighing.gross());
            lot.tare_grams = Some(w.weighing.tare());
            lot.net_grams = w.weighing.net();
            lot.weight_source = "scale".to_owned();
            lot.scale_id = Some(w.scale_id.clone());
            lot.captured_at = w.captured_at.naive_utc();
        }
        lot.status = LotStatus::Collected;
        lot.pickup_request_id = None;
        lot.updated_at = now.naive_utc();
        if !store::save_lot_if_unchanged(conn, lot, read.status, read.updated_at)? {
            return Err(ApiError::Conflict(format!(
                "lot {} was changed by another request meanwhile; retry",
                lot.id
            )));
        }
        if read.zone_id.is_some() && read.status == LotStatus::Stored {
            leaving.push(read.clone());
        }
        event(
            conn,
            now,
            &lot.id,
            "collected",
            h.by,
            None,
            &serde_json::json!({
                "collection_id": h.collection_id, "request_id": h.request_id,
                "net_grams_before": read.net_grams, "net_grams": lot.net_grams,
                "weight_source": lot.weight_source,
                "door_weighing": door.then(|| serde_json::json!({
                    "scale_id": lot.scale_id, "captured_at": lot.captured_at.and_utc(),
                })),
            }),
        )?;
    }
    stock::take_out(
        conn,
        &stock::Stamp {
            at: h.captured_at,
            recorded_at: now,
            by: h.by,
        },
        stock::Exit::Collection(h.receiver),
        &leaving,
    )?;
    Ok(lots)
}

/// The headers of a lot export (Chinese, with units).
pub const EXPORT_HEADERS: [&str; 26] = [
    "批次编号",
    "园区",
    "产废单位",
    "合同",
    "进入方式",
    "状态",
    "废物代码",
    "废物类别",
    "废物类型",
    "物理形态",
    "包装方式",
    "包装数量",
    "仓库",
    "贮存区",
    "毛重（千克，保留3位小数）",
    "皮重（千克，保留3位小数）",
    "净重（千克，保留3位小数）",
    "重量来源",
    "称重设备",
    "业务日期",
    "称重时间（UTC）",
    "接收时间（UTC）",
    "标签识别码",
    "作废时间（UTC）",
    "作废原因",
    "经办人",
];

fn lot_cells(
    l: LotRow,
    tz: chrono_tz::Tz,
    names: &crate::registry::names::Names,
) -> Vec<crate::http::export::Cell> {
    use crate::http::export::Cell;
    let time = |t: chrono::NaiveDateTime| t.and_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    vec![
        Cell::text(l.id),
        Cell::text(names.of(&l.park_id)),
        Cell::text(names.of(&l.enterprise_id)),
        Cell::text(names.of(&l.contract_id)),
        Cell::text(if l.route == "warehouse" {
            "入库"
        } else {
            "上门收集"
        }),
        Cell::text(match l.status {
            LotStatus::Stored => "在库",
            LotStatus::Declared => "待收集",
            LotStatus::Voided => "已作废",
            LotStatus::Collected => "已转移",
        }),
        Cell::text(l.waste_code),
        Cell::text(l.category),
        Cell::text(if l.kind == "hazardous" {
            "危险废物"
        } else {
            "一般工业固体废物"
        }),
        Cell::text(l.physical_form),
        Cell::text(l.container_type),
        Cell::Count(i64::from(l.container_count)),
        Cell::opt(l.warehouse_id.map(|w| names.of(&w))),
        Cell::opt(l.zone_id.map(|z| names.of(&z))),
        l.gross_grams.map_or(Cell::Empty, Cell::Grams),
        l.tare_grams.map_or(Cell::Empty, Cell::Grams),
        Cell::Grams(l.net_grams),
        Cell::text(if l.weight_source == "scale" {
            "称重"
        } else {
            "估算"
        }),
        Cell::opt(l.scale_id),
        Cell::text(crate::domain::time::local_date(l.captured_at.and_utc(), tz).to_string()),
        Cell::text(time(l.captured_at)),
        Cell::text(time(l.received_at)),
        Cell::opt(l.label_code),
        Cell::opt(l.voided_at.map(time)),
        Cell::opt(l.void_reason),
        Cell::text(names.of(&l.recorded_by)),
    ]
}

/// The rows of a lot export: the lots of `GET /lots` for a scope and filter, a page at a time.
pub struct LotPages {
    scope: LotScope,
    filter: store::LotFilter,
    after: Option<String>,
    zones: Option<Vec<(String, String)>>,
    done: bool,
    names: crate::registry::names::Names,
}

impl LotPages {
    pub fn new(scope: LotScope, filter: store::LotFilter) -> Self {
        Self {
            scope,
            filter,
            after: None,
            zones: None,
            done: false,
            names: crate::registry::names::Names::default(),
        }
    }
}

impl crate::http::export::Pages for LotPages {
    fn next_page(
        &mut self,
        conn: &mut DbConn,
    ) -> Result<Option<Vec<Vec<crate::http::export::Cell>>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        if self.zones.is_none() {
            self.zones = Some(store::park_zones(conn)?);
        }
        let (rows, last) = crate::http::export::page_of(
            |page| Ok(store::list_lots(conn, &self.scope, &self.filter, page)?),
            self.after.take(),
        )?;
        self.done = last;
        if rows.is_empty() {
            return Ok(None);
        }
        self.after = rows.last().map(|r| r.id.to_string());
        self.names.learn(
            conn,
            rows.iter().flat_map(|l| {
                [
                    l.park_id.as_str(),
                    l.enterprise_id.as_str(),
                    l.contract_id.as_str(),
                    l.warehouse_id.as_deref().unwrap_or_default(),
                    l.zone_id.as_deref().unwrap_or_default(),
                    l.recorded_by.as_str(),
                ]
            }),
        )?;
        let names = &self.names;
        let zones = self.zones.as_deref().unwrap_or_default();
        let tz_of = |park: &str| {
            zones
                .iter()
                .find(|(id, _)| id == park)
                .and_then(|(_, tz)| tz.parse().ok())
                .unwrap_or(crate::domain::park::DEFAULT_TIME_ZONE)
        };
        Ok(Some(
            rows.into_iter()
                .map(|l| {
                    let tz = tz_of(&l.park_id);
                    lot_cells(l, tz, names)
                })
                .collect(),
        ))
    }
}
