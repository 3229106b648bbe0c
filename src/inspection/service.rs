//! The inspector's desk: traces and anomaly lists. Reads only; every object in a trace is shown
//! as its own endpoint shows it to the caller, and only if the caller may read it.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, LotScope, ManifestScope, Scope, authorize};
use crate::db::DbConn;
use crate::domain::ids::{LotId, ManifestId, PickupRequestId};
use crate::domain::lot::{AlarmLevel, CAPACITY_WARNING_PERCENT, LotStatus, capacity_alarm};
use crate::domain::manifest::{CaseStatus, ManifestStatus};
use crate::domain::pickup::RequestStatus;
use crate::error::ApiError;
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::inspection::store;
use crate::lots::service::{self as lots, LotView};
use crate::manifests::service::{self as manifests, ManifestView};
use crate::manifests::store::{CollectionRow, ManifestFilter, ManifestRow};
use crate::requests::service::{self as requests, RequestView};

/// The collection (outbound weighing) a lot or a manifest left with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionStep {
    pub id: String,
    #[schema(value_type = String)]
    pub request_id: PickupRequestId,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
    pub scale_id: String,
    /// The device's time of the outbound weighing.
    pub captured_at: DateTime<Utc>,
    /// The whole trip's outbound net weight; not shown to an enterprise, since other
    /// enterprises' waste may ride with its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_grams: Option<i64>,
}

fn collection_step(row: CollectionRow, principal: &Principal) -> CollectionStep {
    CollectionStep {
        net_grams: manifests::viewer(principal)
            .is_none()
            .then_some(row.net_grams),
        id: row.id,
        request_id: row.request_id,
        carrier_id: row.carrier_id,
        vehicle_id: row.vehicle_id,
        driver_id: row.driver_id,
        scale_id: row.scale_id,
        captured_at: row.captured_at.and_utc(),
    }
}

/// A lot from its weighing to its treatment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "stage": "received",
    "lot": {
        "id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
        "route": "warehouse", "status": "collected", "waste_code": "900-249-08", "kind": "hazardous", "category": "HW08",
        "physical_form": "liquid", "container_type": "drum", "container_count": 2, "net_grams": 320000,
        "weight_source": "scale", "captured_at": "2026-11-28T07:58:12Z", "received_at": "2026-11-28T08:00:00Z",
        "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6", "produced_on": "2026-11-28",
        "created_at": "2026-11-28T08:00:00Z", "updated_at": "2026-11-30T08:00:00Z"
    },
    "pickup_requests": [{
        "id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601", "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2", "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
        "route": "warehouse", "category": "HW08", "status": "collected", "trigger": "weight",
        "trigger_detail": "2100000 g of HW08 wait for collection; the threshold is 2000000 g",
        "created_at": "2026-11-28T08:00:00Z", "updated_at": "2026-11-30T08:00:00Z",
        "total_grams": 2100000, "lot_count": 7, "lines": [{"waste_code": "900-249-08", "grams": 2100000, "lots": 7}]
    }],
    "collection": {
        "id": "col_0193f1c2a4b87d21a1c6e1f0b2d3c901", "request_id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601",
        "carrier_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb", "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
        "driver_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed", "scale_id": "SCALE-02",
        "captured_at": "2026-11-30T08:00:00Z", "net_grams": 2080000
    },
    "manifests": []
}))]
pub struct LotTrace {
    /// How far the lot has gone: `declared` or `stored` (waiting), `requested` (in an open
    /// pickup request), `collected` (on a manifest not yet taken over), `in_transit`,
    /// `received`, `completed` (treated), or `voided`.
    pub stage: String,
    pub lot: LotView,
    /// Every pickup request the lot waited in, oldest first (a cancelled or declined one, then
    /// the next), as `GET /pickup-requests/{id}` shows it to you.
    pub pickup_requests: Vec<RequestView>,
    /// The collection it left with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionStep>,
    /// The manifest it left on, as `GET /manifests/{id}` shows it to you: the consignor, the
    /// carrier, the receiver, the receipt (weight, decision, refusal case) and the treatment.
    pub manifests: Vec<ManifestView>,
}

/// What a lot's stage is, from its status, its open request and its manifests.
fn stage(lot: &LotView, manifests: &[ManifestView]) -> String {
    if lot.status == LotStatus::Voided {
        return LotStatus::Voided.as_str().to_owned();
    }
    if let Some(m) = manifests.last() {
        return match m.status {
            ManifestStatus::Draft | ManifestStatus::Confirmed => LotStatus::Collected.as_str(),
            other => other.as_str(),
        }
        .to_owned();
    }
    if lot.status == LotStatus::Collected {
        LotStatus::Collected.as_str().to_owned()
    } else if lot.pickup_request_id.is_some() {
        RequestStatus::Requested.as_str().to_owned()
    } else {
        lot.status.as_str().to_owned()
    }
}

/// A lot's trace: the lot, the pickup requests it waited in, the collection, the manifest with
/// its receipt and treatment. 404 for a lot the principal may not read.
pub fn lot_trace(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &LotId,
    tolerance_percent: i64,
) -> Result<LotTrace, ApiError> {
    let lot = lots::load_readable(conn, principal, id)?;
    let mut pickup_requests = Vec::new();
    for row in crate::requests::store::requests_of_lot(conn, id)? {
        if requests::load_readable(conn, principal, &row.id).is_ok() {
            pickup_requests.push(requests::view_for(conn, principal, &row, false)?);
        }
    }
    let mut manifest_views = Vec::new();
    let mut collection = None;
    for row in crate::manifests::store::manifests_of_lot(conn, id)? {
        if manifests::load_readable(conn, principal, &row.id).is_err() {
            continue;
        }
        collection = crate::manifests::store::find_collection(conn, &row.collection_id)?
            .map(|c| collection_step(c, principal));
        manifest_views.push(manifests::view(
            conn,
            now,
            &row,
            tolerance_percent,
            manifests::viewer(principal),
        )?);
    }
    let lot = lots::view(lot.lot);
    Ok(LotTrace {
        stage: stage(&lot, &manifest_views),
        lot,
        pickup_requests,
        collection,
        manifests: manifest_views,
    })
}

/// A lot a manifest groups, back to its enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceLot {
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub enterprise_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
    /// What the lot weighed when it came in.
    pub inbound_grams: i64,
    /// The lot as it is now, when you may read it (the inspectors of the receiving side read
    /// the manifest, not the lots of a park outside their jurisdiction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<LotView>,
}

/// An enterprise whose waste a manifest carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceEnterprise {
    pub enterprise_id: String,
    pub name: String,
    pub lots: i64,
    pub inbound_grams: i64,
}

/// A manifest back to every lot and enterprise it carries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "manifest": {
        "id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900", "number": "WT-20264403-000001", "kind": "hazardous",
        "status": "in_transit", "version": 1, "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "collection_id": "col_0193f1c2a4b87d21a1c6e1f0b2d3c901", "consignor_type": "park_warehouse",
        "consignor": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "name": "龙岗绿色科技园区管理处"},
        "carrier": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb", "name": "深圳市绿运危险货物运输有限公司"},
        "vehicle": {"id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec", "plate": "粤B3H521"},
        "driver": {"id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed", "name": "王师傅"},
        "receiver": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea", "name": "东莞市环保处置有限公司"},
        "waste_code": "900-249-08", "waste_name": "废矿物油", "category": "HW08", "characteristics": ["T", "I"],
        "physical_form": "liquid", "packaging": "drum × 2", "emergency_measures": "泄漏时隔离现场……",
        "origins": [{"lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
            "enterprise_name": "深圳市华信精密电子有限公司", "inbound_grams": 320000}],
        "mass_balance": {"inbound_grams": 320000, "outbound_grams": 318000, "tolerance_percent": 10, "flagged": false},
        "outbound_basis": "weighed", "outbound_scale_id": "SCALE-02", "outbound_captured_at": "2026-11-30T07:58:12Z",
        "receipt_due_on": "2026-12-07", "receipt_overdue": false, "signatures": [],
        "created_at": "2026-11-30T08:00:00Z", "updated_at": "2026-11-30T08:20:00Z"
    },
    "collection": {
        "id": "col_0193f1c2a4b87d21a1c6e1f0b2d3c901", "request_id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601",
        "carrier_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb", "vehicle_id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
        "driver_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed", "scale_id": "SCALE-02",
        "captured_at": "2026-11-30T08:00:00Z", "net_grams": 318000
    },
    "lots": [{"lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
        "enterprise_name": "深圳市华信精密电子有限公司", "inbound_grams": 320000}],
    "enterprises": [{"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "name": "深圳市华信精密电子有限公司",
        "lots": 1, "inbound_grams": 320000}]
}))]
pub struct ManifestTrace {
    /// The manifest as `GET /manifests/{id}` shows it to you (an enterprise sees only its own
    /// lots among the origins).
    pub manifest: ManifestView,
    /// The pickup request it was collected for, when you may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup_request: Option<RequestView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionStep>,
    /// Every lot it carries (that you may see among its origins), with the lot as it is now
    /// when you may read it.
    pub lots: Vec<TraceLot>,
    /// Every enterprise whose lots it carries, with their count and inbound weight.
    pub enterprises: Vec<TraceEnterprise>,
}

/// A manifest's trace: the manifest, its collection and pickup request, every lot and
/// enterprise. 404 for a manifest the principal may not read.
pub fn manifest_trace(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    tolerance_percent: i64,
) -> Result<ManifestTrace, ApiError> {
    let row = manifests::load_readable(conn, principal, id)?;
    let manifest = manifests::view(
        conn,
        now,
        &row,
        tolerance_percent,
        manifests::viewer(principal),
    )?;
    let collection = crate::manifests::store::find_collection(conn, &row.collection_id)?;
    let pickup_request = match &collection {
        Some(c) => match requests::load_readable(conn, principal, &c.request_id) {
            Ok(request) => Some(requests::view_for(
                conn,
                principal,
                &request.request,
                false,
            )?),
            Err(_) => None,
        },
        None => None,
    };
    let mut lots_seen = Vec::new();
    let mut enterprises: Vec<TraceEnterprise> = Vec::new();
    for origin in &manifest.origins {
        let lot = match lots::load_readable(conn, principal, &origin.lot_id) {
            Ok(lot) => Some(lots::view(lot.lot)),
            Err(ApiError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        match enterprises
            .iter_mut()
            .find(|e| e.enterprise_id == origin.enterprise_id)
        {
            Some(e) => {
                e.lots += 1;
                e.inbound_grams =
                    crate::domain::units::total([e.inbound_grams, origin.inbound_grams])?;
            }
            None => enterprises.push(TraceEnterprise {
                enterprise_id: origin.enterprise_id.clone(),
                name: origin.enterprise_name.clone(),
                lots: 1,
                inbound_grams: origin.inbound_grams,
            }),
        }
        lots_seen.push(TraceLot {
            lot_id: origin.lot_id.clone(),
            enterprise_id: origin.enterprise_id.clone(),
            enterprise_name: origin.enterprise_name.clone(),
            label_code: origin.label_code.clone(),
            inbound_grams: origin.inbound_grams,
            lot,
        });
    }
    enterprises.sort_by(|a, b| a.enterprise_id.cmp(&b.enterprise_id));
    Ok(ManifestTrace {
        collection: collection.map(|c| collection_step(c, principal)),
        manifest,
        pickup_request,
        lots: lots_seen,
        enterprises,
    })
}

/// The kinds of anomaly, as `GET /anomalies?kind=` names them.
pub const ANOMALY_KINDS: &[&str] = &[
    "storage_overdue",
    "receipt_overdue",
    "mass_balance",
    "refusal_open",
    "licence_expiring",
    "idle_member",
    "zone_full",
    "finding_overdue",
    "outside_profile",
];

/// One condition an inspector or the park office should look at.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "storage_overdue",
    "subject_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "title": "Lot of 900-249-08 stored 190 of 180 days",
    "since": "2026-05-29",
    "detail": {"waste_code": "900-249-08", "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "net_grams": 320000,
        "weighed_at": "2026-05-29T08:00:00Z", "days_stored": 190, "max_storage_days": 180}
}))]
pub struct Anomaly {
    /// The kind asked for.
    pub kind: String,
    /// What it is about: a lot (`storage_overdue`, `outside_profile`), a manifest (`receipt_overdue`,
    /// `mass_balance`, `refusal_open`), a licence (`licence_expiring`), a contract
    /// membership (`idle_member`), a zone (`zone_full`) or a patrol's finding
    /// (`finding_overdue`).
    pub subject_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub park_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposer_id: Option<String>,
    pub title: String,
    /// The day the condition began, or begins (a licence's last day of validity), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// The figures of the condition, by kind.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// What `GET /anomalies` asks.
pub struct AnomalyQuery {
    pub kind: String,
    /// `licence_expiring`: licences that ended or end this many days before or after today.
    pub within_days: i64,
    /// `idle_member`: months without a lot.
    pub months: u32,
}

fn lot_scope(scope: &Scope) -> LotScope {
    match scope {
        Scope::All => LotScope::All,
        Scope::Park(id) | Scope::Own(id) => LotScope::Park(id.clone()),
        Scope::Jurisdiction(prefix) => LotScope::Jurisdiction(prefix.clone()),
    }
}

fn manifest_scope(scope: &Scope) -> ManifestScope {
    match scope {
        Scope::All => ManifestScope::All,
        Scope::Park(id) | Scope::Own(id) => ManifestScope::Park(id.clone()),
        Scope::Jurisdiction(prefix) => ManifestScope::Jurisdiction(prefix.clone()),
    }
}

/// One page of the anomalies of a kind within a scope (from [`crate::auth::policy::anomaly_scope`],
/// narrowed to `park_id` when given, a park the principal must then be able to read), in the
/// order of their subjects' ids.
pub fn anomalies(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    scope: Scope,
    park_id: Option<&str>,
    query: &AnomalyQuery,
    page: &PageRequest,
) -> Result<Page<Anomaly>, ApiError> {
    let scope = match park_id {
        Some(park) => narrow_to_park(conn, principal, park)?,
        None => scope,
    };
    let scope = &scope;
    let rows = match query.kind.as_str() {
        "storage_overdue" => storage_overdue(conn, now, scope, page)?,
        "receipt_overdue" | "mass_balance" | "refusal_open" => {
            manifest_anomalies(conn, now, scope, &query.kind, page)?
        }
        "licence_expiring" => licences(conn, now, scope, query.within_days, page)?,
        "idle_member" => idle_members(conn, now, scope, query.months, page)?,
        "zone_full" => zones_full(conn, now, scope, page)?,
        "finding_overdue" => findings_overdue(conn, now, scope, page)?,
        "outside_profile" => outside_profile(conn, scope, page)?,
        _ => {
            return Err(ApiError::field(
                "kind",
                "invalid",
                format!("must be one of {}", ANOMALY_KINDS.join(", ")),
            ));
        }
    };
    Ok(Page::from_rows(rows, page.limit, |(key, _)| key.as_str()).map(|(_, a)| a))
}

/// Keeps the first `limit + 1` rows in key order (enough for a page and to tell that more follow).
fn first_page<T>(mut rows: Vec<(String, T)>, page: &PageRequest) -> Vec<(String, T)> {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.truncate(usize::try_from(page.limit + 1).unwrap_or(usize::MAX));
    rows
}

fn after(key: &str, page: &PageRequest) -> bool {
    page.after.as_deref().is_none_or(|a| key > a)
}

/// Stored lots past their contract's whole storage period (the `exceeded` storage alarm).
fn storage_overdue(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let scope = lot_scope(scope);
    let mut rows = Vec::new();
    // Per contract, the first page of its lots past its period; the first page of them all
    // is among them.
    for (contract_id, max_days) in crate::lots::store::contracts_with_stored(conn, &scope)? {
        let cutoff = (now - Duration::days(i64::from(max_days))).naive_utc();
        for lot in
            crate::lots::store::stored_before_by_id(conn, &scope, &contract_id, cutoff, page)?
        {
            let weighed = lot.captured_at.and_utc();
            let days = (now - weighed).num_days();
            rows.push((
                lot.id.to_string(),
                Anomaly {
                    kind: "storage_overdue".to_owned(),
                    title: format!("Lot of {} stored {days} of {max_days} days", lot.waste_code),
                    since: Some(
                        (weighed + Duration::days(i64::from(max_days)))
                            .with_timezone(&crate::domain::park::DEFAULT_TIME_ZONE)
                            .date_naive(),
                    ),
                    detail: serde_json::json!({
                        "waste_code": lot.waste_code,
                        "zone_id": lot.zone_id,
                        "net_grams": lot.net_grams,
                        "weighed_at": weighed,
                        "days_stored": days,
                        "max_storage_days": max_days,
                    }),
                    subject_id: lot.id.into_string(),
                    park_id: Some(lot.park_id),
                    enterprise_id: Some(lot.enterprise_id),
                    disposer_id: None,
                },
            ));
        }
    }
    Ok(first_page(rows, page))
}

/// Manifests whose receipt is overdue, whose mass balance is flagged, or whose refusal's case
/// is open: on both sides of the transfer for an inspector.
fn manifest_anomalies(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    kind: &str,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let mut filter = ManifestFilter::default();
    match kind {
        "receipt_overdue" => {
            filter.receipt_due_before = crate::lots::store::park_time_zones(conn)?
                .into_iter()
                .map(|zone| {
                    let tz = zone
                        .parse()
                        .unwrap_or(crate::domain::park::DEFAULT_TIME_ZONE);
                    (zone, crate::domain::time::local_date(now, tz))
                })
                .collect();
        }
        "mass_balance" => filter.flagged = Some(true),
        _ => filter.case_status = Some(CaseStatus::Open),
    }
    let rows =
        crate::manifests::store::list_manifests(conn, &manifest_scope(scope), &filter, page)?;
    Ok(rows
        .into_iter()
        .map(|m| (m.id.to_string(), manifest_anomaly(kind, m)))
        .collect())
}

fn manifest_anomaly(kind: &str, m: ManifestRow) -> Anomaly {
    let (title, since) = match kind {
        "receipt_overdue" => (
            format!(
                // The deadline is the arrival's until the waste arrived, then the receipt's.
                "Manifest {}: in transit past its deadline of {}",
                m.number,
                m.receipt_due_on.map(|d| d.to_string()).unwrap_or_default()
            ),
            m.receipt_due_on.and_then(|d| d.succ_opt()),
        ),
        "mass_balance" => (
            format!(
                "Manifest {}: {}",
                m.number,
                m.flag_detail.clone().unwrap_or_default()
            ),
            None,
        ),
        _ => (
            format!(
                "Manifest {}: {} g refused, the case is open",
                m.number,
                m.refused_grams.unwrap_or_default()
            ),
            None,
        ),
    };
    Anomaly {
        kind: kind.to_owned(),
        title,
        since,
        detail: serde_json::json!({
            "number": m.number,
            "status": m.status,
            "waste_code": m.waste_code,
            "receiver_id": m.receiver_id,
            "inbound_grams": m.inbound_grams,
            "outbound_grams": m.outbound_grams,
            "received_grams": m.received_grams,
            "refused_grams": m.refused_grams,
            "decision": m.decision,
            "receipt_due_on": m.receipt_due_on,
            "flag_detail": m.flag_detail,
            "case_status": m.case_status,
        }),
        subject_id: m.id.into_string(),
        park_id: Some(m.park_id),
        enterprise_id: None,
        disposer_id: Some(m.receiver_id),
    }
}

/// Licences that ended in the last `within_days` days or end in the next `within_days`, of
/// the disposal companies of the scope: those in contract with its parks and, for an
/// inspector, those registered in its jurisdiction.
fn licences(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    within_days: i64,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    // Expiry is counted in China Standard Time, as for `GET /alerts/expirations`.
    let today = crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE);
    let disposers = match scope {
        Scope::All => None,
        Scope::Park(_) | Scope::Own(_) => Some(
            crate::registry::contracts::store::disposers_in_scope(conn, scope)?,
        ),
        Scope::Jurisdiction(prefix) => {
            let mut ids = crate::registry::contracts::store::disposers_in_scope(conn, scope)?;
            ids.extend(store::disposers_registered_in(conn, prefix)?);
            ids.sort();
            ids.dedup();
            Some(ids)
        }
    };
    let window = Duration::days(within_days);
    let rows = crate::registry::directory::store::licences_ending(
        conn,
        today - window,
        today + window,
        disposers.as_deref(),
    )?
    .into_iter()
    .filter(
        |crate::registry::directory::store::Licence {
             licence: l,
             disposer_name: _,
         }| after(&l.id, page),
    )
    .map(
        |crate::registry::directory::store::Licence {
             licence: l,
             disposer_name: name,
         }| {
            let days_left = crate::domain::contract::days_until(today, l.valid_to);
            let title = if l.valid_to < today {
                format!("Licence {} of {name} ended on {}", l.number, l.valid_to)
            } else {
                format!("Licence {} of {name} ends on {}", l.number, l.valid_to)
            };
            (
                l.id.clone(),
                Anomaly {
                    kind: "licence_expiring".to_owned(),
                    title,
                    since: Some(l.valid_to),
                    detail: serde_json::json!({
                        "number": l.number,
                        "disposer_name": name,
                        "valid_from": l.valid_from,
                        "valid_to": l.valid_to,
                        "days_left": days_left,
                        "expired": l.valid_to < today,
                    }),
                    subject_id: l.id,
                    park_id: None,
                    enterprise_id: None,
                    disposer_id: Some(l.disposer_id),
                },
            )
        },
    )
    .collect();
    Ok(first_page(rows, page))
}

/// Members of a contract in force who have handed in no lot under it for `months` months
/// (and were members all that time).
fn idle_members(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    months: u32,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let tz = crate::domain::park::DEFAULT_TIME_ZONE;
    let today = crate::domain::time::local_date(now, tz);
    let since = today
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    let since_at = crate::http::query::start_of_day(since, tz);
    let rows = store::idle_members(conn, scope, today, since, since_at, page)?;
    let mut out = Vec::with_capacity(rows.len());
    for crate::inspection::store::IdleMember {
        member_id,
        enterprise_id,
        contract_id,
        joined_on,
        contract_number: number,
        park_id,
    } in rows
    {
        let last = store::last_lot_at(conn, &enterprise_id, &contract_id)?.map(|t| t.and_utc());
        let name = crate::identity::store::find_organization(conn, &enterprise_id)?
            .map(|o| o.name)
            .unwrap_or_default();
        out.push((
            member_id.clone(),
            Anomaly {
                kind: "idle_member".to_owned(),
                title: format!("{name}: no lot under contract {number} for {months} months"),
                since: Some(last.map_or(joined_on, |t| t.with_timezone(&tz).date_naive())),
                detail: serde_json::json!({
                    "contract_id": contract_id,
                    "contract_number": number,
                    "enterprise_name": name,
                    "joined_on": joined_on,
                    "last_lot_at": last,
                    "months": months,
                }),
                subject_id: member_id,
                park_id: Some(park_id),
                enterprise_id: Some(enterprise_id),
                disposer_id: None,
            },
        ));
    }
    Ok(out)
}

/// Zones at 90 % of their capacity or full.
fn zones_full(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let today = crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE);
    let zones = crate::registry::warehouses::store::zones_near_capacity(
        conn,
        today,
        &lot_scope(scope),
        CAPACITY_WARNING_PERCENT,
    )?;
    let mut rows = Vec::new();
    for zone in zones.into_iter().filter(|z| after(&z.id, page)) {
        let Some(level) = capacity_alarm(zone.stored_grams, zone.capacity_grams) else {
            continue;
        };
        let park_id = crate::registry::warehouses::store::find_warehouse(conn, &zone.warehouse_id)?
            .map(|w| w.warehouse.park_id);
        let percent = i128::from(zone.stored_grams) * 100 / i128::from(zone.capacity_grams.max(1));
        rows.push((
            zone.id.clone(),
            Anomaly {
                kind: "zone_full".to_owned(),
                title: format!("Zone {} holds {percent} % of its capacity", zone.name),
                since: None,
                detail: serde_json::json!({
                    "zone_name": zone.name,
                    "warehouse_id": zone.warehouse_id,
                    "stored_grams": zone.stored_grams,
                    "capacity_grams": zone.capacity_grams,
                    "percent": i64::try_from(percent).unwrap_or(i64::MAX),
                    "level": match level {
                        AlarmLevel::Warning => "warning",
                        AlarmLevel::Exceeded => "exceeded",
                    },
                }),
                subject_id: zone.id,
                park_id,
                enterprise_id: None,
                disposer_id: None,
            },
        ));
    }
    Ok(first_page(rows, page))
}

/// Findings of patrols not closed past their deadline in their park's time zone.
fn findings_overdue(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let due_before = crate::patrols::service::todays(conn, now)?;
    let rows = crate::patrols::store::overdue_findings(
        conn,
        scope,
        &due_before,
        page.after.as_deref(),
        Some(page.limit + 1),
    )?;
    Ok(rows
        .into_iter()
        .map(|f| {
            let deadline = f.deadline.unwrap_or(NaiveDate::MIN);
            (
                f.id.clone(),
                Anomaly {
                    kind: "finding_overdue".to_owned(),
                    title: format!("Finding not rectified by {deadline}: {}", f.subject),
                    since: deadline.succ_opt(),
                    detail: serde_json::json!({
                        "patrol_id": f.patrol_id,
                        "warehouse_id": f.warehouse_id,
                        "description": f.subject,
                        "severity": f.severity,
                        "deadline": deadline,
                        "status": f.status,
                    }),
                    subject_id: f.id,
                    park_id: Some(f.park_id),
                    enterprise_id: f.enterprise_id,
                    disposer_id: None,
                },
            )
        })
        .collect())
}

/// Lots (not voided) whose code is not in their enterprise's waste profile: accepted, and
/// flagged for the park office when weighed or declared.
fn outside_profile(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Vec<(String, Anomaly)>, ApiError> {
    let rows = crate::profiles::store::flagged_lots(conn, scope, page)?;
    Ok(rows
        .into_iter()
        .map(|l| {
            let weighed = l.captured_at.and_utc();
            (
                l.lot_id.to_string(),
                Anomaly {
                    kind: "outside_profile".to_owned(),
                    title: format!(
                        "Lot of {} is not in its enterprise's waste profile",
                        l.waste_code
                    ),
                    since: Some(
                        weighed
                            .with_timezone(&crate::domain::park::DEFAULT_TIME_ZONE)
                            .date_naive(),
                    ),
                    detail: serde_json::json!({
                        "waste_code": l.waste_code,
                        "net_grams": l.net_grams,
                        "weighed_at": weighed,
                        "flagged_at": l.flagged_at.and_utc(),
                    }),
                    subject_id: l.lot_id.into_string(),
                    park_id: Some(l.park_id),
                    enterprise_id: Some(l.enterprise_id),
                    disposer_id: None,
                },
            )
        })
        .collect())
}

/// Narrows a scope to one park the principal may read (404 otherwise).
pub fn narrow_to_park(
    conn: &mut DbConn,
    principal: &Principal,
    park_id: &str,
) -> Result<Scope, ApiError> {
    let park = crate::registry::parks::service::load_park(conn, park_id)?;
    authorize(
        principal,
        Action::ReadPark(crate::registry::parks::service::place(&park)),
    )?;
    Ok(Scope::Park(park_id.to_owned()))
}
