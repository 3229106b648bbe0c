//! The collection of a scheduled pickup by the driver: the outbound weighing, the lots taken
//! leaving the stock (door lots get the driver's weighing), the manifests issued, the request
//! collected and its rule re-armed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConn;
use crate::domain::ids::{LotId, ManifestId, PickupRequestId, new_id};
use crate::domain::lot::{LotStatus, Weighing};
use crate::domain::manifest::ManifestStatus;
use crate::domain::pickup::RequestStatus;
use crate::error::{ApiError, FieldError};
use crate::lots::service::{DoorWeighing, Handover};
use crate::lots::store::LotRow;
use crate::manifests::service::ManifestWeighing;
use crate::manifests::store::{self as manifest_store, CollectionRow, ManifestRow, OutboundRow};
use crate::pickups::service::check_crew;
use crate::registry::directory::store as directory;
use crate::registry::parks::service as parks;
use crate::requests::service::{announce, check_status, load_for_change, place, title};
use crate::requests::store::{self, RequestRow};

/// The driver's record of a pickup: the lots taken, the vehicle, the outbound weighing.
pub struct Collect {
    /// The lots taken; all those waiting in the request when `None`.
    pub lot_ids: Option<Vec<LotId>>,
    pub vehicle_id: String,
    /// The driver; the signed-in driver (or the one scheduled) when `None`.
    pub driver_id: Option<String>,
    pub scale_id: String,
    pub captured_at: DateTime<Utc>,
    /// The loaded vehicle's weighing; optional when every manifest is weighed by itself.
    pub weighing: Option<Weighing>,
    pub door: Vec<DoorWeighing>,
    /// One weighing per manifest, when the driver weighed each kind (or consignor) separately.
    pub manifest_weighings: Vec<ManifestWeighing>,
    /// The container labels the driver scanned at loading; `None` when none were sent.
    pub scanned_labels: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestSummary {
    #[schema(value_type = String)]
    pub id: ManifestId,
    pub number: String,
    /// `hazardous` or `general`.
    pub kind: String,
    pub waste_code: String,
    pub status: ManifestStatus,
    pub consignor_id: String,
    pub inbound_grams: i64,
    pub outbound_grams: i64,
    /// `weighed` (the manifest's own weighing, or the vehicle's for a trip's only manifest) or
    /// `allocated` (its share of the vehicle's weighing, not weighed).
    pub outbound_basis: String,
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
    "manifests": [{"id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900", "number": "WT-20264403-000001", "kind": "hazardous",
        "waste_code": "900-249-08", "status": "draft", "consignor_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "inbound_grams": 2100000, "outbound_grams": 2080000, "outbound_basis": "weighed", "flagged": false}]
}))]
pub struct CollectionView {
    pub id: String,
    #[schema(value_type = String)]
    pub request_id: PickupRequestId,
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
    #[schema(value_type = Vec<String>)]
    pub lot_ids: Vec<LotId>,
    pub manifests: Vec<ManifestSummary>,
}

/// Records the collection of a scheduled request, in one transaction: the lots taken leave
/// the stock (door lots get the driver's weighing), the manifests are issued, the request is
/// collected (its rule re-arms) and lots left behind wait again. Refused: a vehicle or driver
/// not of the scheduled carrier, a hazardous code the disposer's licence does not cover that
/// day, a lot not in the request or already collected, a container label not scanned (or a
/// scan of no container of the lots taken). Every refusal of the input is found
/// before anything is written, and told at once.
pub fn collect(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &PickupRequestId,
    c: Collect,
    tolerance_percent: i64,
) -> Result<CollectionView, ApiError> {
    let mut row = load_collectable(conn, principal, id)?;
    crate::lots::service::check_capture_time(c.captured_at, now)?;
    let park = parks::load_park(conn, &row.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));

    let mut errors: Vec<FieldError> = Vec::new();
    for (i, w) in c.door.iter().enumerate() {
        capture_time(
            &format!("door_weighings[{i}]."),
            w.captured_at,
            now,
            &mut errors,
        );
    }
    for (i, w) in c.manifest_weighings.iter().enumerate() {
        capture_time(
            &format!("manifest_weighings[{i}]."),
            w.captured_at,
            now,
            &mut errors,
        );
    }
    let crew = check_crew_of(conn, principal, &row, &c, today, &mut errors)?;
    let lots = select_lots(conn, id, c.lot_ids.as_deref(), &mut errors)?;
    let licences = check_licences(conn, &row.disposer_id, &lots, today, &mut errors)?;
    check_weighings(&c, &lots, &mut errors);
    crate::pickups::loading::check_scans(
        conn,
        &lots,
        park.park.label_scan_general,
        c.scanned_labels.as_deref(),
        &mut errors,
    )?;
    let own_zones = crate::manifests::service::own_zone_ids(conn, &lots)?;
    crate::manifests::service::match_weighings(
        &crate::manifests::service::groups(&park.park, &own_zones, &lots),
        &c.manifest_weighings,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let receiver_name = crate::identity::store::find_organization(conn, &row.disposer_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let collection_id = new_id("col");
    let lots = crate::lots::service::leave_with_collection(
        conn,
        now,
        lots,
        &Handover {
            by: &principal.user_id,
            collection_id: &collection_id,
            request_id: id,
            captured_at: c.captured_at,
            door: &c.door,
            receiver: crate::lots::stock::Receiver {
                id: &row.disposer_id,
                name: &receiver_name,
            },
        },
    )?;
    let collection = CollectionRow {
        id: collection_id,
        request_id: id.to_owned(),
        park_id: row.park_id.clone(),
        carrier_id: crew.carrier_id,
        vehicle_id: c.vehicle_id.clone(),
        driver_id: crew.driver_id,
        scale_id: c.scale_id.clone(),
        gross_grams: c.weighing.map(|w| w.gross()),
        tare_grams: c.weighing.map(|w| w.tare()),
        net_grams: match c.weighing {
            Some(w) => w.net(),
            None => {
                crate::domain::units::total(c.manifest_weighings.iter().map(|w| w.weighing.net()))?
            }
        },
        captured_at: c.captured_at.naive_utc(),
        recorded_by: principal.user_id.clone(),
        created_at: now.naive_utc(),
        escort_id: row.escort_id.clone(),
    };
    manifest_store::insert_collection(conn, &collection)?;
    let (manifests, documents) = crate::manifests::service::issue(
        conn,
        now,
        crate::manifests::service::Trip {
            collection: &collection,
            receiver_id: &row.disposer_id,
            licences: &licences,
            lots: &lots,
            weighings: &c.manifest_weighings,
        },
        tolerance_percent,
    )?;
    crate::lots::stock::name_documents(conn, &documents)?;
    close_collected(conn, now, principal, &mut row)?;
    Ok(view(collection, lots, manifests))
}

/// The request, authorised for collection and locked (its group's lock), if it is scheduled.
fn load_collectable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &PickupRequestId,
) -> Result<RequestRow, ApiError> {
    let request = load_for_change(conn, id, |conn, r| {
        let enterprises = store::enterprises_of(conn, &r.request.id)?;
        authorize(
            principal,
            Action::CollectPickup {
                place: place(r),
                disposer_id: &r.request.disposer_id,
                enterprise_ids: &enterprises,
                driver_id: r.request.driver_id.as_deref(),
            },
        )
    })?;
    check_status(
        &request.request,
        &[RequestStatus::Scheduled],
        RequestStatus::Collected,
    )?;
    Ok(request.request)
}

/// Who carries: the scheduled carrier and the driver (the signed-in driver, the one named, or
/// the one scheduled), with a vehicle of the carrier in service on the park's day.
struct Crew {
    carrier_id: String,
    driver_id: String,
}

fn check_crew_of(
    conn: &mut DbConn,
    principal: &Principal,
    row: &RequestRow,
    c: &Collect,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Result<Crew, ApiError> {
    let acting = crate::auth::policy::acting_driver(principal);
    if let Some(me) = acting
        && c.driver_id.as_deref().is_some_and(|d| d != me)
    {
        errors.push(FieldError::new(
            "driver_id",
            "not_you",
            "a driver records their own collection; leave driver_id out",
        ));
    }
    let crew = Crew {
        carrier_id: row.carrier_id.clone().unwrap_or_default(),
        driver_id: c
            .driver_id
            .clone()
            .or_else(|| acting.map(str::to_owned))
            .or_else(|| row.driver_id.clone())
            .unwrap_or_default(),
    };
    check_crew(
        conn,
        &crew.carrier_id,
        &c.vehicle_id,
        &crew.driver_id,
        today,
        errors,
    )?;
    Ok(crew)
}

/// The lots taken: those named, or all that wait in the request. A lot already collected is a
/// conflict; one not waiting in the request is refused.
fn select_lots(
    conn: &mut DbConn,
    id: &PickupRequestId,
    named: Option<&[LotId]>,
    errors: &mut Vec<FieldError>,
) -> Result<Vec<LotRow>, ApiError> {
    let covered = crate::lots::store::lots_of_request(conn, id)?;
    let waiting = |l: &&LotRow| {
        l.pickup_request_id.as_ref() == Some(id)
            && matches!(l.status, LotStatus::Stored | LotStatus::Declared)
    };
    let mut selected: Vec<LotRow> = Vec::new();
    match named {
        None => selected.extend(covered.iter().filter(waiting).cloned()),
        Some(ids) => {
            for lot_id in ids {
                match covered.iter().find(|l| l.id == *lot_id) {
                    Some(l) if l.status == LotStatus::Collected => {
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
    Ok(selected)
}

/// The receiver's licence covering each hazardous code on the park's day: `(code, licence id)`
/// for the manifests; a code no licence covers is refused.
fn check_licences(
    conn: &mut DbConn,
    disposer_id: &str,
    lots: &[LotRow],
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Result<Vec<(String, String)>, ApiError> {
    let licences = directory::licences_of(conn, disposer_id)?;
    let mut licence_of_code: Vec<(String, String)> = Vec::new();
    for lot in lots {
        if lot.kind != "hazardous" || licence_of_code.iter().any(|(c, _)| *c == lot.waste_code) {
            continue;
        }
        match crate::registry::directory::service::covering_licence(
            &licences,
            &lot.waste_code,
            today,
        )? {
            Some(l) => licence_of_code.push((lot.waste_code.clone(), l)),
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
    Ok(licence_of_code)
}

/// Door lots need the driver's weighing (one each); the warehouse load needs the vehicle's.
fn check_weighings(c: &Collect, lots: &[LotRow], errors: &mut Vec<FieldError>) {
    for (i, w) in c.door.iter().enumerate() {
        if !lots.iter().any(|l| l.id == w.lot_id && l.route == "door") {
            errors.push(FieldError::new(
                format!("door_weighings[{i}].lot_id"),
                "not_a_door_lot",
                "not a lot collected at a door in this pickup",
            ));
        }
    }
    for lot in lots.iter().filter(|l| l.route == "door") {
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
    if c.weighing.is_none() && c.manifest_weighings.is_empty() {
        errors.push(FieldError::new(
            "gross_grams",
            "required",
            "the loaded vehicle's outbound weighing: give gross_grams and tare_grams (or weigh each manifest in manifest_weighings)",
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
}

/// A weighing's capture time, checked as the collection's is, its errors named under `prefix`.
fn capture_time(prefix: &str, at: DateTime<Utc>, now: DateTime<Utc>, errors: &mut Vec<FieldError>) {
    if let Err(ApiError::Validation(found)) = crate::lots::service::check_capture_time(at, now) {
        errors.extend(found.into_iter().map(|mut e| {
            e.field = format!("{prefix}{}", e.field);
            e
        }));
    }
}

/// The request is collected: its rule re-arms, lots left behind wait again, its parties are
/// told.
fn close_collected(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    row: &mut RequestRow,
) -> Result<(), ApiError> {
    row.status = RequestStatus::Collected;
    row.open_key = None;
    row.closed_at = Some(now.naive_utc());
    row.closed_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, row)?;
    store::detach_all(conn, &row.id)?;
    announce(
        conn,
        now,
        "pickup.collected",
        row,
        title(row, RequestStatus::Collected),
    )
}

fn view(
    collection: CollectionRow,
    lots: Vec<LotRow>,
    manifests: Vec<(ManifestRow, OutboundRow)>,
) -> CollectionView {
    CollectionView {
        id: collection.id,
        request_id: collection.request_id,
        carrier_id: collection.carrier_id,
        vehicle_id: collection.vehicle_id,
        driver_id: collection.driver_id,
        scale_id: collection.scale_id,
        gross_grams: collection.gross_grams,
        tare_grams: collection.tare_grams,
        net_grams: collection.net_grams,
        captured_at: collection.captured_at.and_utc(),
        lot_ids: lots.into_iter().map(|l| l.id).collect(),
        manifests: manifests
            .into_iter()
            .map(|(m, basis)| ManifestSummary {
                flagged: m.flag_detail.is_some(),
                id: m.id,
                number: m.number,
                kind: m.kind,
                waste_code: m.waste_code,
                status: m.status,
                consignor_id: m.consignor_id,
                inbound_grams: m.inbound_grams,
                outbound_grams: m.outbound_grams,
                outbound_basis: basis.basis,
            })
            .collect(),
    }
}
