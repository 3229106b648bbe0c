//! Transfer manifests: issued when a pickup is collected, then signed step by step (consignor,
//! carrier, receiver), revised only with the other signers' approval (every version kept),
//! checked by a mass balance, and read by their parties and the inspectors of both sides of
//! the transfer (the park's jurisdiction and the receiver's).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, ManifestScope, Place, authorize, signs_for};
use crate::db::DbConn;
use crate::domain::identity::Role;
use crate::domain::ids::{LotId, ManifestId, new_id};
use crate::domain::manifest::{
    CaseStatus, Decision, ManifestStatus, Party, RECEIPT_WORKING_DAYS, RevisionStatus, Step,
    allocate, counter_prefix, emergency_measures, mass_balance, number,
};
use crate::domain::park::{Consignor, consignor};
use crate::domain::waste::{WasteKind, parse_characteristics};
use crate::error::{ApiError, FieldError, NOT_VISIBLE};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::lots::store::LotRow;
use crate::manifests::store::{
    self, CollectionRow, ManifestLotRow, ManifestRow, OriginLot, RefusalRow, Related, RevisionRow,
    SignatureRow,
};
use crate::notify::service::{Notice, publish_to_all};
use crate::registry::directory::service::bureaus_over;
use crate::registry::parks::service as parks;

pub use crate::manifests::store::ManifestFilter;

/// A party of a manifest, as printed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyView {
    pub organization_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// The consignor's collection permit, the carrier's transport permit, the receiver's
    /// licence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OriginView {
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub enterprise_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
    pub inbound_grams: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureView {
    /// `confirm`, `take_over`, `receive`, `complete`, `resolve`, `revise`, or
    /// `official_number` (the official number recorded, given in `data`).
    pub step: String,
    pub user_id: String,
    /// The signer's display name.
    pub name: String,
    pub organization_id: String,
    pub organization_name: String,
    pub role: String,
    pub at: DateTime<Utc>,
    /// What was signed for: the receipt (quantities, decision), the treatment, a resolution.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    /// For a signed step: the SHA-256 of the manifest's copy of record as signed (its
    /// canonical JSON; `GET /api/v1/manifests/{id}/versions/{n}` returns the latest of a
    /// version), also written in the audit chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "5d41402abc4b2a76b9719d911017c592aa1c1b6f6b1b8e2b0d2c9b6e7f8a9b0c")]
    pub document_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MassBalanceView {
    pub inbound_grams: i64,
    pub outbound_grams: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_grams: Option<i64>,
    /// Of what was received, the part refused: it arrived, and is weighed in the balance like
    /// the rest (a refusal is no loss).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_grams: Option<i64>,
    /// Of what was received, the part accepted: received less refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_grams: Option<i64>,
    pub tolerance_percent: i64,
    /// Beyond the tolerance: the manifest is flagged for review.
    pub flagged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A lot the receiver refused: the grams of it refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedLotView {
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub grams: i64,
}

/// An enterprise's share of a refusal: the grams of its lots refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusalShareView {
    pub enterprise_id: String,
    pub grams: i64,
}

/// Which lots were refused, and each enterprise's share.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusalView {
    pub lots: Vec<RefusedLotView>,
    pub by_enterprise: Vec<RefusalShareView>,
}

/// A manifest issued to resolve this one's refusal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowerView {
    #[schema(value_type = String)]
    pub id: ManifestId,
    pub number: String,
    /// `return` (to the consignor) or `forward` (to another licensed receiver).
    pub reason: String,
}

/// The refused manifest this one resolves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowsView {
    #[schema(value_type = String)]
    pub id: ManifestId,
    pub number: String,
    /// `return` or `forward`.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900",
    "number": "WT-20264403-000001",
    "official_number": "20264403000123",
    "kind": "hazardous",
    "status": "in_transit",
    "version": 1,
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "collection_id": "col_0193f1c2a4b87d21a1c6e1f0b2d3c901",
    "consignor_type": "park_warehouse",
    "consignor": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "name": "龙岗绿色科技园区管理处", "uscc": "12440300MB2C00005K", "permit": "440300-HW-2026-012"},
    "carrier": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb", "name": "深圳市绿运危险货物运输有限公司", "uscc": "91440300MA5F0C0024", "permit": "粤交运440300001"},
    "vehicle": {"id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ec", "plate": "粤B3H521", "permit": "440300012345"},
    "driver": {"id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed", "name": "王师傅"},
    "escort": {"id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ef", "name": "李押运"},
    "departure_address": "龙岗绿色科技园区 C2 栋",
    "destination_address": "深圳市坪山区环保路 1 号",
    "receiver": {"organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea", "name": "深圳市东江环保处置有限公司", "uscc": "91440300MA5F0D005L", "permit": "440300001"},
    "waste_code": "900-249-08", "waste_name": "其他生产、销售、使用过程中产生的废矿物油", "category": "HW08",
    "characteristics": ["T", "I"], "physical_form": "liquid", "packaging": "drum × 7",
    "emergency_measures": "泄漏时隔离现场……",
    "origins": [{"lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "enterprise_name": "深圳市华信精密电子有限公司", "label_code": "91440300MA5F0001819002490820261128001", "inbound_grams": 320000}],
    "mass_balance": {"inbound_grams": 2100000, "outbound_grams": 2080000, "tolerance_percent": 10, "flagged": false},
    "outbound_basis": "weighed",
    "outbound_scale_id": "SCALE-02",
    "outbound_captured_at": "2026-11-30T07:58:12Z",
    "arrived_at": "2026-11-30T14:05:00Z",
    "receipt_due_on": "2026-12-07",
    "receipt_due_explanation": "5 working days after 2026-11-30; 2026: no holiday calendar is held, so Monday to Friday were counted as working days",
    "receipt_due_assumed_years": [2026],
    "receipt_overdue": false,
    "signatures": [{"step": "confirm", "user_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6", "name": "李敏", "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "organization_name": "龙岗绿色科技园区管理处", "role": "park_office", "at": "2026-11-30T08:10:00Z"}],
    "created_at": "2026-11-30T08:00:00Z",
    "updated_at": "2026-11-30T08:20:00Z"
}))]
pub struct ManifestView {
    #[schema(value_type = String)]
    pub id: ManifestId,
    /// The service's tracking number, gap-free per city and year: `WT-` + year, province and
    /// city of departure + `-` + serial (`WT-20264403-000001`); `WT-G…` for a transfer record
    /// of general waste. Numbers from before the tracking format are 14 digits.
    pub number: String,
    /// The official number the national information system assigned when the consignor
    /// filed the manifest there (14 digits), once recorded; absent until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub official_number: Option<String>,
    /// `hazardous` (a transfer manifest) or `general` (a transfer record).
    pub kind: String,
    /// `draft`, `confirmed`, `in_transit`, `received` or `completed`.
    pub status: ManifestStatus,
    pub version: i32,
    pub park_id: String,
    pub collection_id: String,
    /// `park_warehouse` (the park's warehouse, as collector) or `enterprise`.
    pub consignor_type: String,
    pub consignor: PartyView,
    pub carrier: PartyView,
    pub vehicle: serde_json::Value,
    pub driver: serde_json::Value,
    /// The escort (押运员) named in the pickup's schedule: `{id, name}`; absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub escort: Option<serde_json::Value>,
    pub receiver: PartyView,
    /// Where the waste leaves from: the warehouse's address (the park's for lots collected at
    /// the enterprises' doors), as at the issue. Absent on manifests issued before addresses
    /// were recorded.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub departure_address: String,
    /// Where the waste goes: the receiver's address, as at the issue.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_address: String,
    pub waste_code: String,
    pub waste_name: String,
    pub category: String,
    pub characteristics: Vec<String>,
    pub physical_form: String,
    pub packaging: String,
    pub emergency_measures: String,
    /// The enterprises' lots the manifest groups, with the weight each brought in.
    pub origins: Vec<OriginView>,
    pub mass_balance: MassBalanceView,
    /// How the outbound figure (`mass_balance.outbound_grams`) came about: `weighed`, the
    /// manifest's own weighing (or the vehicle's, when the trip made this manifest alone), with
    /// its scale and capture time; `allocated`, the manifest's share of the vehicle's weighing
    /// in proportion to the inbound weights, which nobody weighed.
    pub outbound_basis: String,
    /// The scale of a weighed outbound figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_scale_id: Option<String>,
    /// When the device captured a weighed outbound figure (its clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_captured_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_grams: Option<i64>,
    /// `accepted`, `partially_refused` or `refused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treatment: Option<String>,
    /// When the waste arrived at the receiver (运抵), as the receiver or the driver recorded
    /// it (or the receipt, when no arrival was recorded before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<DateTime<Utc>>,
    /// While in transit and not yet arrived: the last day (in the park's time zone) by which
    /// the waste must arrive, the take-over day plus the configured transport days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_due_on: Option<NaiveDate>,
    /// Once arrived: the last day the receiver may confirm receipt, 5 working days after the
    /// day of arrival (in the park's time zone) on the working-day calendar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_due_on: Option<NaiveDate>,
    /// How `receipt_due_on` was counted: from which day, on which years' holiday calendar,
    /// and which years had none (counted Monday to Friday).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_due_explanation: Option<String>,
    /// The years without a holiday calendar that `receipt_due_on` was counted across (Monday
    /// to Friday were taken as working days); empty when every year had one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receipt_due_assumed_years: Vec<i32>,
    /// In transit past its deadline: not arrived by `arrival_due_on`, or not received by
    /// `receipt_due_on`.
    pub receipt_overdue: bool,
    /// `open` while refused waste awaits the park office's resolution, then `resolved`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_status: Option<CaseStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_resolution: Option<String>,
    /// Which lots the receiver refused, with the grams of each, and each enterprise's share
    /// (an enterprise sees its own lots and share only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<RefusalView>,
    /// The manifests issued to resolve the refusal (returned or forwarded waste).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followed_by: Vec<FollowerView>,
    /// For a manifest issued to resolve a refusal: the refused manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follows: Option<FollowsView>,
    pub signatures: Vec<SignatureView>,
    /// A revision awaiting approval, if any (how a driver learns of one to approve).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_revision: Option<RevisionView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn party(related: &Related, id: &str, permit: Option<String>) -> PartyView {
    PartyView {
        organization_id: id.to_owned(),
        name: related.names.get(id).cloned().unwrap_or_default(),
        uscc: related.uscc.get(id).cloned(),
        permit,
    }
}

/// The parties of a manifest (who may read it besides the park office and inspectors).
pub fn parties(conn: &mut DbConn, row: &ManifestRow) -> Result<Vec<String>, ApiError> {
    let mut list = vec![
        row.consignor_id.clone(),
        row.carrier_id.clone(),
        row.receiver_id.clone(),
    ];
    list.extend(
        store::origins_of(conn, row)?
            .into_iter()
            .map(|l| l.enterprise_id),
    );
    list.sort();
    list.dedup();
    Ok(list)
}

pub fn place(row: &ManifestRow) -> Place<'_> {
    Place {
        park_id: &row.park_id,
        region_code: &row.region_code,
    }
}

/// The region where the receiver (the disposal company) is registered: the receiving side of
/// the transfer, whose inspectors read the manifest too. Empty if the receiver is not in the
/// directory (no inspector's jurisdiction is empty, so none matches).
pub fn receiver_region(conn: &mut DbConn, row: &ManifestRow) -> Result<String, ApiError> {
    Ok(
        crate::registry::directory::store::find_disposer(conn, &row.receiver_id)?
            .map(|d| d.disposer.region_code)
            .unwrap_or_default(),
    )
}

/// The whole manifest as the API shows it.
/// `only_enterprise`: an enterprise reading sees only its own lots among the origins.
pub fn view(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &ManifestRow,
    tolerance_percent: i64,
    only_enterprise: Option<&str>,
) -> Result<ManifestView, ApiError> {
    views(
        conn,
        now,
        std::slice::from_ref(row),
        tolerance_percent,
        only_enterprise,
    )?
    .pop()
    .ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// The views of several manifests, in their order, in a fixed number of queries (see
/// [`store::related`]).
pub fn views(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    rows: &[ManifestRow],
    tolerance_percent: i64,
    only_enterprise: Option<&str>,
) -> Result<Vec<ManifestView>, ApiError> {
    let related = store::related(conn, rows)?;
    rows.iter()
        .map(|row| view_with(&related, now, row, tolerance_percent, only_enterprise))
        .collect()
}

fn view_with(
    related: &Related,
    now: DateTime<Utc>,
    row: &ManifestRow,
    tolerance_percent: i64,
    only_enterprise: Option<&str>,
) -> Result<ManifestView, ApiError> {
    let park = related
        .parks
        .get(&row.park_id)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let consignor = match row.consignor_type.as_str() {
        "park_warehouse" => PartyView {
            uscc: park.uscc.clone(),
            ..party(
                related,
                &row.consignor_id,
                park.collection_permit_number.clone(),
            )
        },
        _ => party(related, &row.consignor_id, None),
    };
    let carrier = party(
        related,
        &row.carrier_id,
        related.carrier_permits.get(&row.carrier_id).cloned(),
    );
    let licence = row
        .licence_id
        .as_ref()
        .and_then(|id| related.licences.get(id).cloned());
    let receiver = party(related, &row.receiver_id, licence);
    let places = related.places.get(&row.id);
    let vehicle = related.vehicles.get(&row.vehicle_id);
    let driver = related.people.get(&row.driver_id);
    let code = related.codes.get(&row.waste_code);
    let characteristics = code
        .and_then(|(_, c)| parse_characteristics("", c).ok())
        .map(|set| set.into_iter().map(|c| c.as_str().to_owned()).collect())
        .unwrap_or_default();
    let origins = related
        .origins
        .get(&row.id)
        .into_iter()
        .flatten()
        .filter(|o| only_enterprise.is_none_or(|e| e == o.lot.enterprise_id))
        .map(|OriginLot { lot: l, label_code }| OriginView {
            lot_id: l.lot_id.clone(),
            enterprise_id: l.enterprise_id.clone(),
            enterprise_name: related
                .names
                .get(&l.enterprise_id)
                .cloned()
                .unwrap_or_default(),
            label_code: label_code.clone(),
            inbound_grams: l.inbound_grams,
        })
        .collect();
    let signatures = related
        .signatures
        .get(&row.id)
        .into_iter()
        .flatten()
        .map(|s| SignatureView {
            step: s.step.clone(),
            user_id: s.user_id.clone(),
            name: related.people.get(&s.user_id).cloned().unwrap_or_default(),
            organization_id: s.organization_id.clone(),
            organization_name: related
                .names
                .get(&s.organization_id)
                .cloned()
                .unwrap_or_default(),
            role: s.role.clone(),
            at: s.at.and_utc(),
            data: s.data.as_deref().and_then(|d| serde_json::from_str(d).ok()),
            document_sha256: s.document_sha256.clone(),
        })
        .collect();
    let refusal = related.refusals.get(&row.id).map(|refused| {
        let lots: Vec<RefusedLotView> = refused
            .iter()
            .filter(|r| only_enterprise.is_none_or(|e| e == r.enterprise_id))
            .map(|r| RefusedLotView {
                lot_id: r.lot_id.clone(),
                enterprise_id: r.enterprise_id.clone(),
                grams: r.grams,
            })
            .collect();
        let mut by_enterprise: Vec<RefusalShareView> = Vec::new();
        for lot in &lots {
            match by_enterprise
                .iter_mut()
                .find(|s| s.enterprise_id == lot.enterprise_id)
            {
                // Each lot's grams are at most its inbound grams or the refused grams: the sum
                // of a manifest's fits (it is checked when recorded).
                Some(share) => share.grams = share.grams.saturating_add(lot.grams),
                None => by_enterprise.push(RefusalShareView {
                    enterprise_id: lot.enterprise_id.clone(),
                    grams: lot.grams,
                }),
            }
        }
        by_enterprise.sort_by(|a, b| a.enterprise_id.cmp(&b.enterprise_id));
        RefusalView {
            lots,
            by_enterprise,
        }
    });
    // An enterprise learns of the manifests following a refusal that carry its lots (or that
    // it consigns); the others are not its concern.
    let sees_followers = only_enterprise.is_none_or(|e| {
        e == row.consignor_id
            || refusal
                .as_ref()
                .is_some_and(|r| r.lots.iter().any(|l| l.enterprise_id == e))
    });
    let followed_by = related
        .followed_by
        .get(&row.id)
        .into_iter()
        .flatten()
        .filter(|_| sees_followers)
        .map(|f| FollowerView {
            id: f.id.clone(),
            number: f.number.clone(),
            reason: f.reason.clone(),
        })
        .collect();
    let follows = related.follows.get(&row.id).map(|f| FollowsView {
        id: f.id.clone(),
        number: f.number.clone(),
        reason: f.reason.clone(),
    });
    let today = crate::domain::time::local_date(now, parks::park_time_zone(park));
    let arrival = related
        .signatures
        .get(&row.id)
        .into_iter()
        .flatten()
        .find(|s| s.step == ARRIVAL)
        .map(Arrival::of);
    // Until the waste arrives, the manifest's deadline is the arrival's; then the receipt's.
    // Manifests received before arrivals were recorded count as arrived.
    let arrived = arrival.is_some()
        || !matches!(
            row.status,
            ManifestStatus::Draft | ManifestStatus::Confirmed | ManifestStatus::InTransit
        );
    let arrival = arrival.unwrap_or_default();
    let outbound = related.outbounds.get(&row.id);
    Ok(ManifestView {
        id: row.id.clone(),
        number: row.number.clone(),
        official_number: related.official_numbers.get(&row.id).cloned(),
        kind: row.kind.clone(),
        status: row.status,
        version: row.version,
        park_id: row.park_id.clone(),
        collection_id: row.collection_id.clone(),
        consignor_type: row.consignor_type.clone(),
        consignor,
        carrier,
        vehicle: serde_json::json!({
            "id": row.vehicle_id,
            "plate": vehicle.map(|v| v.0.clone()),
            "permit": vehicle.map(|v| v.1.clone()),
        }),
        driver: serde_json::json!({"id": row.driver_id, "name": driver}),
        escort: places
            .and_then(|p| p.escort_id.as_ref())
            .map(|id| serde_json::json!({"id": id, "name": related.people.get(id)})),
        receiver,
        departure_address: places
            .map(|p| p.departure_address.clone())
            .unwrap_or_default(),
        destination_address: places
            .map(|p| p.destination_address.clone())
            .unwrap_or_default(),
        waste_code: row.waste_code.clone(),
        waste_name: code.map(|c| c.0.clone()).unwrap_or_default(),
        category: row.category.clone(),
        characteristics,
        physical_form: row.physical_form.clone(),
        packaging: row.packaging.clone(),
        emergency_measures: row.emergency_measures.clone(),
        origins,
        mass_balance: MassBalanceView {
            inbound_grams: row.inbound_grams,
            outbound_grams: row.outbound_grams,
            received_grams: row.received_grams,
            refused_grams: row.refused_grams.filter(|_| row.received_grams.is_some()),
            accepted_grams: row
                .received_grams
                .map(|received| received.saturating_sub(row.refused_grams.unwrap_or(0))),
            tolerance_percent,
            flagged: row.flag_detail.is_some(),
            detail: row.flag_detail.clone(),
        },
        outbound_basis: outbound.map_or(ALLOCATED, |o| o.basis.as_str()).to_owned(),
        outbound_scale_id: outbound.and_then(|o| o.scale_id.clone()),
        outbound_captured_at: outbound.and_then(|o| o.captured_at).map(|t| t.and_utc()),
        refused_grams: row.refused_grams,
        decision: row.decision.clone(),
        treatment: row.treatment.clone(),
        arrived_at: arrival.arrived_at,
        arrival_due_on: row.receipt_due_on.filter(|_| !arrived),
        receipt_due_on: row.receipt_due_on.filter(|_| arrived),
        receipt_due_explanation: arrival.explanation,
        receipt_due_assumed_years: arrival.assumed_years,
        receipt_overdue: row.status == ManifestStatus::InTransit
            && row.receipt_due_on.is_some_and(|d| d < today),
        case_status: row.case_status,
        case_resolution: row.case_resolution.clone(),
        refusal,
        followed_by,
        follows,
        signatures,
        pending_revision: related
            .pending_revisions
            .get(&row.id)
            .cloned()
            .map(revision_view),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// A copy of a manifest's view (a version's document) as an enterprise sees it, as
/// [`view`] shows it to it: its own lots among the origins and the refused lots, its own share
/// of the refusal, and the manifests following the refusal only where it consigns or has lots
/// refused.
pub fn redact_for_enterprise(data: &mut serde_json::Value, enterprise_id: &str) {
    let own = |v: &serde_json::Value| v["enterprise_id"].as_str() == Some(enterprise_id);
    if let Some(origins) = data["origins"].as_array_mut() {
        origins.retain(own);
    }
    let mut concerned = data["consignor"]["organization_id"].as_str() == Some(enterprise_id);
    if let Some(refusal) = data.get_mut("refusal") {
        for key in ["lots", "by_enterprise"] {
            if let Some(list) = refusal[key].as_array_mut() {
                list.retain(own);
                concerned |= !list.is_empty();
            }
        }
    }
    if !concerned && let Some(fields) = data.as_object_mut() {
        fields.remove("followed_by");
    }
}

/// Whose lots alone a principal sees among a manifest's origins: an enterprise, its own.
pub fn viewer(principal: &Principal) -> Option<&str> {
    crate::auth::policy::sees_lots_only_of(principal)
}

/// A page of the manifests the scope sees, as the principal may read them.
pub fn search(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    scope: &ManifestScope,
    filter: &ManifestFilter,
    page: &PageRequest,
    tolerance_percent: i64,
) -> Result<Page<ManifestView>, ApiError> {
    let rows = store::list_manifests(conn, scope, filter, page)?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    let items = views(conn, now, &page.items, tolerance_percent, viewer(principal))?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A manifest the principal may read, as it may read it.
pub fn read(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    tolerance_percent: i64,
) -> Result<ManifestView, ApiError> {
    let row = load_readable(conn, principal, id)?;
    view(conn, now, &row, tolerance_percent, viewer(principal))
}

/// A manifest the principal may read, and its park's time zone, for the printed page.
pub fn read_for_print(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    tolerance_percent: i64,
) -> Result<(ManifestView, chrono_tz::Tz), ApiError> {
    let row = load_readable(conn, principal, id)?;
    let park = parks::load_park(conn, &row.park_id)?;
    let view = view(conn, now, &row, tolerance_percent, viewer(principal))?;
    Ok((view, parks::park_time_zone(&park.park)))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"version": 1, "created_at": "2026-11-30T08:00:00Z", "data": {"number": "WT-20264403-000001"}, "sha256": "5d41402abc4b2a76b9719d911017c592aa1c1b6f6b1b8e2b0d2c9b6e7f8a9b0c"}))]
pub struct VersionView {
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The manifest as it last stood in this version: its latest copy of record (as last
    /// signed, or as it stood when a revision replaced it).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The SHA-256 of that copy of record: of the bytes `GET /api/v1/manifests/{id}/versions/{n}`
    /// returns. Absent for a version kept before copies of record were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Every version of a manifest the principal may read, oldest first.
pub fn versions(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
) -> Result<Vec<VersionView>, ApiError> {
    load_readable(conn, principal, id)?;
    let only = viewer(principal);
    Ok(store::versions_of(conn, id)?
        .into_iter()
        .map(|v| {
            let mut data: serde_json::Value = serde_json::from_str(&v.document).unwrap_or_default();
            // An enterprise sees only its own lots among the origins and the refused lots, and
            // the manifests following a refusal only where it is concerned, as in the manifest.
            if let Some(me) = only {
                redact_for_enterprise(&mut data, me);
            }
            VersionView {
                version: v.version,
                created_at: v.created_at.and_utc(),
                data,
                sha256: v.sha256,
            }
        })
        .collect())
}

/// The copy of record of version `number` (its document and stored hash), for a principal who
/// reads the manifest whole.
pub fn version_record(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
    number: Option<i32>,
) -> Result<(String, Option<String>), ApiError> {
    let number = readable_whole(conn, principal, id, number)?;
    store::versions_of(conn, id)?
        .into_iter()
        .find(|v| v.version == number)
        .map(|v| (v.document, v.sha256))
        .ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// The copy of record numbered `seq` (its document and hash), for a principal who reads the
/// manifest whole.
pub fn copy_of_record(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
    seq: Option<i32>,
) -> Result<(String, Option<String>), ApiError> {
    let seq = readable_whole(conn, principal, id, seq)?;
    store::record_of(conn, id, seq)?
        .map(|r| (r.document, Some(r.sha256)))
        .ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// Checks that the principal reads the manifest whole (an enterprise reads only its own lots of
/// it), and that a copy's number (from 1) was given.
fn readable_whole(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
    number: Option<i32>,
) -> Result<i32, ApiError> {
    load_readable(conn, principal, id)?;
    if viewer(principal).is_some() {
        return Err(ApiError::Forbidden(
            "the copy of record shows every enterprise's lots; read the manifest instead",
        ));
    }
    number
        .filter(|n| *n >= 1)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// The revisions proposed for a manifest the principal may read, oldest first.
pub fn revisions(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
) -> Result<Vec<RevisionView>, ApiError> {
    load_readable(conn, principal, id)?;
    Ok(store::revisions_of(conn, id)?
        .into_iter()
        .map(revision_view)
        .collect())
}

/// Loads a manifest the principal may read.
pub fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
) -> Result<ManifestRow, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    authorize_read(conn, principal, &row)?;
    Ok(row)
}

fn authorize_read(
    conn: &mut DbConn,
    principal: &Principal,
    row: &ManifestRow,
) -> Result<(), ApiError> {
    let parties = parties(conn, row)?;
    let receiver_region = receiver_region(conn, row)?;
    authorize(
        principal,
        Action::ReadManifest {
            place: place(row),
            receiver_region_code: &receiver_region,
            parties: &parties,
            driver_id: &row.driver_id,
        },
    )
}

/// Re-checks the mass balance; a manifest newly beyond the tolerance is flagged, and the park
/// office and the inspectors of both sides of the transfer (the park's jurisdiction, the
/// receiver's) are told.
fn check_balance(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &mut ManifestRow,
    tolerance_percent: i64,
) -> Result<(), ApiError> {
    let finding = mass_balance(
        row.inbound_grams,
        row.outbound_grams,
        row.received_grams,
        row.refused_grams,
        tolerance_percent,
    );
    // Once flagged, a manifest stays flagged (a later revision adds its finding, never clears
    // the one the park office and the inspectors were told of).
    let Some(finding) = finding else {
        return Ok(());
    };
    if row
        .flag_detail
        .as_deref()
        .is_some_and(|told| told.contains(finding.as_str()))
    {
        return Ok(());
    }
    row.flag_detail = Some(match row.flag_detail.take() {
        Some(earlier) => format!("{earlier}; then {finding}"),
        None => finding,
    });
    let mut audience = vec![row.park_id.clone()];
    audience.extend(bureaus_over(conn, &row.region_code)?);
    let receiving_side = receiver_region(conn, row)?;
    audience.extend(bureaus_over(conn, &receiving_side)?);
    publish_to_all(
        conn,
        now,
        &audience,
        &Notice {
            type_: "manifest.flagged",
            subject_id: row.id.as_str(),
            title: format!(
                "Manifest {}: mass balance beyond {tolerance_percent} %",
                row.number
            ),
            data: serde_json::json!({
                "manifest_id": row.id,
                "number": row.number,
                "inbound_grams": row.inbound_grams,
                "outbound_grams": row.outbound_grams,
                "received_grams": row.received_grams,
                "refused_grams": row.refused_grams,
                "detail": row.flag_detail,
            }),
        },
    )?;
    Ok(())
}

/// What a collection hands to the manifests: the trip and the lots it took.
pub struct Trip<'a> {
    pub collection: &'a CollectionRow,
    pub receiver_id: &'a str,
    /// The receiver's licence covering each hazardous code that day: (code, licence id).
    pub licences: &'a [(String, String)],
    pub lots: &'a [LotRow],
    /// One outbound weighing per manifest, when the driver weighed each separately; empty when
    /// only the vehicle was weighed.
    pub weighings: &'a [ManifestWeighing],
}

/// A manifest's outbound grams, their basis, and the scale and capture time of a weighing.
type OutboundFigure = (i64, &'static str, Option<(String, chrono::NaiveDateTime)>);

/// How a manifest's outbound figure came about.
pub const WEIGHED: &str = "weighed";
/// Its share of the vehicle's weighing, in proportion to the inbound weights.
pub const ALLOCATED: &str = "allocated";

/// A manifest's own outbound weighing at collection: the manifest it weighs (its code, and
/// its consignor where several consignors' manifests share the code), the scale, the device's
/// time and the weights.
#[derive(Debug, Clone)]
pub struct ManifestWeighing {
    pub waste_code: String,
    pub consignor_id: Option<String>,
    pub scale_id: String,
    pub captured_at: DateTime<Utc>,
    pub weighing: crate::domain::lot::Weighing,
}

/// The manifests a collection's lots make, in a stable order: one per (consignor, code), the
/// consignor being the park's warehouse where the park holds a collection permit, else each
/// lot's enterprise.
pub type Groups<'a> = Vec<(GroupKey, Vec<&'a LotRow>)>;

/// Who consigns a group of lots of one code: (consignor id, code, consignor type).
pub type GroupKey = (String, String, &'static str);

/// The zones among the lots' that are an enterprise's own storage point in the park.
pub fn own_zone_ids(conn: &mut DbConn, lots: &[LotRow]) -> Result<Vec<String>, ApiError> {
    let zone_ids: Vec<String> = lots.iter().filter_map(|l| l.zone_id.clone()).collect();
    Ok(
        crate::registry::warehouses::store::own_zones(conn, &zone_ids)?
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
    )
}

/// The manifests a collection's lots make, in a stable order: one per (consignor, code), the
/// consignor being the park's warehouse where the park holds a collection permit, else each
/// lot's enterprise; lots stored in an enterprise's own zone (`own_zones`) always leave with
/// their enterprise.
pub fn groups<'a>(
    park: &crate::registry::parks::store::ParkRow,
    own_zones: &[String],
    lots: &'a [LotRow],
) -> Groups<'a> {
    let who = consignor(park.collection_permit_number.as_deref());
    let mut groups: Groups<'a> = Vec::new();
    for lot in lots {
        let own = lot
            .zone_id
            .as_deref()
            .is_some_and(|z| own_zones.iter().any(|id| id == z));
        let (consignor_id, consignor_type) = match (own, who) {
            (false, Consignor::ParkWarehouse) => (park.organization_id.clone(), "park_warehouse"),
            _ => (lot.enterprise_id.clone(), "enterprise"),
        };
        let key = (consignor_id, lot.waste_code.clone(), consignor_type);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lots)) => lots.push(lot),
            None => groups.push((key, vec![lot])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups
}

/// The manifest weighing of each group (its index in `weighings`), when any was given. A
/// weighing names its group by code, and by consignor where several groups share the code; a
/// weighing that names no group, a second weighing of one group, and (once any is given) a
/// group without one are field errors.
pub fn match_weighings(
    groups: &Groups<'_>,
    weighings: &[ManifestWeighing],
    errors: &mut Vec<FieldError>,
) -> Vec<Option<usize>> {
    let mut of_group: Vec<Option<usize>> = vec![None; groups.len()];
    if weighings.is_empty() {
        return of_group;
    }
    for (i, w) in weighings.iter().enumerate() {
        let same_code: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, ((_, code, _), _))| *code == w.waste_code)
            .map(|(g, _)| g)
            .collect();
        let found = match &w.consignor_id {
            Some(c) => same_code.iter().copied().find(|g| groups[*g].0.0 == *c),
            None if same_code.len() > 1 => {
                errors.push(FieldError::new(
                    format!("manifest_weighings[{i}].consignor_id"),
                    "required",
                    format!(
                        "several consignors' manifests of {} leave on this trip ({}): name the consignor",
                        w.waste_code,
                        same_code
                            .iter()
                            .map(|g| groups[*g].0.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                continue;
            }
            None => same_code.first().copied(),
        };
        match found {
            None => errors.push(FieldError::new(
                format!("manifest_weighings[{i}]"),
                "no_such_manifest",
                match &w.consignor_id {
                    Some(c) => format!(
                        "no manifest of {} consigned by {c} leaves on this trip",
                        w.waste_code
                    ),
                    None => format!("no manifest of {} leaves on this trip", w.waste_code),
                },
            )),
            Some(g) if of_group[g].is_some() => errors.push(FieldError::new(
                format!("manifest_weighings[{i}]"),
                "duplicate",
                format!(
                    "the manifest of {} consigned by {} is weighed once",
                    groups[g].0.1, groups[g].0.0
                ),
            )),
            Some(g) => of_group[g] = Some(i),
        }
    }
    for (g, ((consignor_id, code, _), _)) in groups.iter().enumerate() {
        if of_group[g].is_none() {
            errors.push(FieldError::new(
                "manifest_weighings",
                "missing",
                format!(
                    "the manifest of {code} consigned by {consignor_id} has no weighing: weigh every manifest of the trip, or give only the vehicle's weighing"
                ),
            ));
        }
    }
    of_group
}

fn packaging(lots: &[&LotRow]) -> String {
    let mut counts: Vec<(String, i64)> = Vec::new();
    for lot in lots {
        match counts.iter_mut().find(|(t, _)| *t == lot.container_type) {
            Some((_, n)) => *n += i64::from(lot.container_count),
            None => counts.push((lot.container_type.clone(), i64::from(lot.container_count))),
        }
    }
    counts
        .into_iter()
        .map(|(t, n)| format!("{t} × {n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A lot and the number of the manifest it leaves under: (lot id, number).
pub type LotDocument = (LotId, String);

/// What a collection issues: each manifest with its outbound basis, and per lot the number of
/// its manifest.
pub type Issued = (Vec<(ManifestRow, store::OutboundRow)>, Vec<LotDocument>);

/// Issues the manifests of a collection, in its transaction: one per waste code and
/// consignor (the park's warehouse under its collection permit; an enterprise without one, and
/// for the lots stored in its own zone), numbered from the city's counter, the outbound
/// weighing shared among them in proportion to their inbound weights. Returns the manifests
/// and, per lot, the number of its manifest.
pub fn issue(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    trip: Trip<'_>,
    tolerance_percent: i64,
) -> Result<Issued, ApiError> {
    let park = parks::load_park(conn, &trip.collection.park_id)?;
    let tz = parks::park_time_zone(&park.park);
    let year = trip
        .collection
        .created_at
        .and_utc()
        .with_timezone(&tz)
        .format("%Y")
        .to_string();
    let year: i32 = year.parse().unwrap_or(2026);
    let region = park.park.region_code.clone();
    let city = region.get(..4).unwrap_or(region.as_str()).to_owned();
    // Lots stored in an enterprise's own zone leave with the enterprise as consignor, whatever
    // the park's permit; the others with the park's consignor.
    let own_zones = own_zone_ids(conn, trip.lots)?;
    let departure_address = match trip.lots.iter().find_map(|l| l.warehouse_id.as_deref()) {
        Some(w) => crate::registry::warehouses::store::find_warehouse(conn, w)?
            .map(|w| w.warehouse.address)
            .unwrap_or_else(|| park.park.address.clone()),
        None => park.park.address.clone(),
    };
    let destination_address =
        crate::registry::directory::store::find_disposer(conn, trip.receiver_id)?
            .map(|d| d.disposer.address)
            .unwrap_or_default();
    let groups = groups(&park.park, &own_zones, trip.lots);
    let mut errors = Vec::new();
    let weighed = match_weighings(&groups, trip.weighings, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let inbound: Vec<i64> = groups
        .iter()
        .map(|(_, lots)| crate::domain::units::total(lots.iter().map(|l| l.net_grams)))
        .collect::<Result<_, _>>()?;
    // Each manifest's outbound figure: its own weighing; or, where only the vehicle was
    // weighed, the vehicle's weighing (whole for the trip's only manifest, else shared).
    let vehicle = (
        trip.collection.scale_id.clone(),
        trip.collection.captured_at,
    );
    let shares = allocate(trip.collection.net_grams, &inbound);
    let outbound: Vec<OutboundFigure> = weighed
        .iter()
        .zip(shares)
        .map(|(w, share)| match w.and_then(|i| trip.weighings.get(i)) {
            Some(w) => (
                w.weighing.net(),
                WEIGHED,
                Some((w.scale_id.clone(), w.captured_at.naive_utc())),
            ),
            None if groups.len() == 1 => (share, WEIGHED, Some(vehicle.clone())),
            None => (share, ALLOCATED, None),
        })
        .collect();
    let mut issued = Vec::new();
    let mut documents = Vec::new();
    for (((consignor_id, code, consignor_type), lots), (inbound, (outbound, basis, weighing))) in
        groups.into_iter().zip(inbound.into_iter().zip(outbound))
    {
        let first = lots[0];
        let hazardous = first.kind == WasteKind::Hazardous.as_str();
        let number = mint_number(conn, hazardous, year, &city)?;
        let characteristics = crate::registry::catalog::store::find_code(conn, &code)?
            .and_then(|c| parse_characteristics("", &c.characteristics).ok())
            .map(|set| set.into_iter().collect::<Vec<_>>())
            .unwrap_or_default();
        let mut forms: Vec<&str> = lots.iter().map(|l| l.physical_form.as_str()).collect();
        forms.sort_unstable();
        forms.dedup();
        let mut row = ManifestRow {
            id: ManifestId::new(),
            number,
            kind: if hazardous { "hazardous" } else { "general" }.to_owned(),
            collection_id: trip.collection.id.clone(),
            park_id: park.park.organization_id.clone(),
            region_code: region.clone(),
            status: ManifestStatus::Draft,
            consignor_type: consignor_type.to_owned(),
            consignor_id,
            carrier_id: trip.collection.carrier_id.clone(),
            vehicle_id: trip.collection.vehicle_id.clone(),
            driver_id: trip.collection.driver_id.clone(),
            receiver_id: trip.receiver_id.to_owned(),
            licence_id: trip
                .licences
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, l)| l.clone()),
            waste_code: code.clone(),
            category: first.category.clone(),
            physical_form: forms.join(", "),
            packaging: packaging(&lots),
            emergency_measures: emergency_measures(&characteristics),
            inbound_grams: inbound,
            outbound_grams: outbound,
            received_grams: None,
            refused_grams: None,
            decision: None,
            treatment: None,
            receipt_due_on: None,
            flag_detail: None,
            case_status: None,
            case_resolution: None,
            version: 1,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        store::insert_manifest(conn, &row)?;
        store::insert_places(
            conn,
            &store::PlacesRow {
                manifest_id: row.id.clone(),
                escort_id: trip.collection.escort_id.clone(),
                departure_address: departure_address.clone(),
                destination_address: destination_address.clone(),
            },
        )?;
        let outbound = store::OutboundRow {
            manifest_id: row.id.clone(),
            basis: basis.to_owned(),
            scale_id: weighing.as_ref().map(|w| w.0.clone()),
            captured_at: weighing.map(|w| w.1),
        };
        store::insert_outbound(conn, &outbound)?;
        for lot in &lots {
            documents.push((lot.id.clone(), row.number.clone()));
            store::insert_manifest_lot(
                conn,
                &ManifestLotRow {
                    manifest_id: row.id.clone(),
                    lot_id: lot.id.clone(),
                    enterprise_id: lot.enterprise_id.clone(),
                    inbound_grams: lot.net_grams,
                },
            )?;
        }
        check_balance(conn, now, &mut row, tolerance_percent)?;
        store::save_manifest(conn, &row)?;
        snapshot(conn, now, &row, tolerance_percent, "issue")?;
        issued.push((row, outbound));
    }
    Ok((issued, documents))
}

/// The next tracking number of the city's counter for the year (hazardous manifests and
/// general transfer records count apart), gap-free: taken in the caller's transaction.
fn mint_number(
    conn: &mut DbConn,
    hazardous: bool,
    year: i32,
    city: &str,
) -> Result<String, ApiError> {
    let prefix = counter_prefix(hazardous, year, city);
    let serial = store::next_serial(conn, &prefix)?;
    number(&prefix, serial).ok_or_else(|| {
        ApiError::Conflict(format!(
            "the {year} manifest serials of {city} are exhausted"
        ))
    })
}

/// Keeps the manifest's new version as the API shows it, and its first copy of record
/// (`event`: `issue` or `revision`).
fn snapshot(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &ManifestRow,
    tolerance_percent: i64,
    event: &str,
) -> Result<(), ApiError> {
    let (document, _) = record(conn, now, row, tolerance_percent, event, None)?;
    store::insert_version(conn, &row.id, row.version, &document, row.updated_at)?;
    Ok(())
}

/// Stores a copy of record of the manifest as it stands: its canonical JSON (the whole
/// manifest, as its park office sees it) and the document's SHA-256, numbered among the
/// manifest's copies. Returns the document and its hash.
fn record(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &ManifestRow,
    tolerance_percent: i64,
    event: &str,
    signature_id: Option<&str>,
) -> Result<(String, String), ApiError> {
    let value = serde_json::to_value(view(conn, now, row, tolerance_percent, None)?)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let document = crate::domain::canonical::to_string(&value);
    let sha256 = crate::domain::digest::sha256_hex(document.as_bytes());
    let seq = store::insert_record(
        conn,
        &row.id,
        row.version,
        event,
        signature_id,
        &document,
        &sha256,
        now.naive_utc(),
    )?;
    crate::audit::describe(
        format!("/api/v1/manifests/{}", row.id),
        serde_json::json!({
            "event": event, "version": row.version, "record": seq, "document_sha256": sha256,
        }),
    );
    crate::audit::park(&row.park_id);
    Ok((document, sha256))
}

/// Who signs for a party of a manifest: the organisation and the role.
fn signer(row: &ManifestRow, party: Party) -> (&str, Role) {
    match party {
        Party::Consignor if row.consignor_type == "park_warehouse" => {
            (&row.consignor_id, Role::ParkOffice)
        }
        Party::Consignor => (&row.consignor_id, Role::EnterpriseUser),
        Party::Carrier => (&row.carrier_id, Role::Driver),
        // Returned waste is received by the consignor it returns to, through its signer (a
        // manifest's receiver is the consignor only for a return).
        Party::Receiver if row.receiver_id == row.consignor_id => signer(row, Party::Consignor),
        Party::Receiver => (&row.receiver_id, Role::DisposerDispatcher),
    }
}

fn authorize_party(
    conn: &mut DbConn,
    principal: &Principal,
    row: &ManifestRow,
    party: Party,
) -> Result<(), ApiError> {
    let parties = parties(conn, row)?;
    let receiver_region = receiver_region(conn, row)?;
    let (signer_id, role) = signer(row, party);
    authorize(
        principal,
        Action::SignManifest {
            place: place(row),
            receiver_region_code: &receiver_region,
            parties: &parties,
            driver_id: &row.driver_id,
            signer_id,
            role,
        },
    )
}

/// Records a signature, and the copy of record it signs: the manifest as it now stands, whose
/// hash is kept with the signature and in the audit chain.
fn sign(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    row: &ManifestRow,
    step: &str,
    data: Option<serde_json::Value>,
    tolerance_percent: i64,
) -> Result<(), ApiError> {
    let id = new_id("sig");
    store::insert_signature(
        conn,
        &SignatureRow {
            id: id.clone(),
            manifest_id: row.id.clone(),
            step: step.to_owned(),
            user_id: principal.user_id.clone(),
            organization_id: principal.organization_id.clone(),
            role: principal.role.as_str().to_owned(),
            at: now.naive_utc(),
            data: data.map(|d| d.to_string()),
            document_sha256: None,
        },
    )?;
    let (_, sha256) = record(conn, now, row, tolerance_percent, step, Some(&id))?;
    store::set_signature_document(conn, &id, &sha256)?;
    Ok(())
}

/// Loads a manifest for a change by `party`: authorised on the first read, then locked (one
/// change at a time per manifest) and read again.
fn load_for_change(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ManifestId,
    party: Party,
) -> Result<ManifestRow, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    authorize_party(conn, principal, &row, party)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Manifest(id.as_str()))?;
    store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// Records the official number the national information system assigned to a hazardous-waste
/// manifest when the consignor filed it there. The consignor's signer records it at any step
/// (a manifest filed late, as an emergency paper manifest is, gets it afterwards), and may
/// correct it only while the manifest is a draft: once a signature covers it, it never
/// changes. One official number names one manifest. The recording is kept with the
/// signatures (`official_number`, who and when).
pub fn record_official_number(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    official_number: String,
    tolerance_percent: i64,
) -> Result<ManifestView, ApiError> {
    let mut row = load_for_change(conn, principal, id, Party::Consignor)?;
    if row.kind != "hazardous" {
        return Err(ApiError::field(
            "official_number",
            "not_applicable",
            "a transfer record of general waste has no official manifest number",
        ));
    }
    let recorded = store::official_number_of(conn, &row.id)?;
    if recorded.as_deref() == Some(official_number.as_str()) {
        return view(conn, now, &row, tolerance_percent, viewer(principal));
    }
    if recorded.is_some() && row.status != ManifestStatus::Draft {
        return Err(ApiError::Conflict(format!(
            "the manifest is {} and its official number is recorded: a signed number never changes",
            row.status
        )));
    }
    if store::manifest_of_official_number(conn, &official_number)?.is_some() {
        return Err(ApiError::Conflict(
            "another manifest already has this official number".to_owned(),
        ));
    }
    store::save_official_number(
        conn,
        &store::OfficialNumberRow {
            manifest_id: row.id.clone(),
            official_number: official_number.clone(),
            recorded_by: principal.user_id.clone(),
            recorded_at: now.naive_utc(),
        },
    )?;
    row.updated_at = now.naive_utc();
    store::save_manifest(conn, &row)?;
    sign(
        conn,
        now,
        principal,
        &row,
        "official_number",
        Some(serde_json::json!({ "official_number": official_number })),
        tolerance_percent,
    )?;
    view(conn, now, &row, tolerance_percent, viewer(principal))
}

/// The signature step that records the arrival of the waste at the receiver (运抵). Not a
/// step of [`Step`]: it moves no status, and signing it makes no party one whose approval a
/// revision needs.
pub const ARRIVAL: &str = "arrival";

/// An arrival as its signature keeps it.
#[derive(Debug, Default, Deserialize)]
struct Arrival {
    arrived_at: Option<DateTime<Utc>>,
    explanation: Option<String>,
    #[serde(default)]
    assumed_years: Vec<i32>,
}

impl Arrival {
    fn of(s: &SignatureRow) -> Self {
        s.data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default()
    }
}

/// Records the arrival at `at`: the receipt is then due 5 working days after that day (in the
/// park's time zone), counted on the working-day calendar; the arrival, the due day and how
/// it was counted are kept in the arrival's signature.
fn arrive(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    row: &mut ManifestRow,
    at: DateTime<Utc>,
    with_receipt: bool,
    tolerance_percent: i64,
) -> Result<(), ApiError> {
    let park = parks::load_park(conn, &row.park_id)?;
    let day = crate::domain::time::local_date(at, parks::park_time_zone(&park.park));
    let year = chrono::Datelike::year(&day);
    let due = crate::calendar::store::calendar(conn, year, year + 1)?
        .add_working_days(day, RECEIPT_WORKING_DAYS);
    row.receipt_due_on = Some(due.on);
    row.updated_at = now.naive_utc();
    sign(
        conn,
        now,
        principal,
        row,
        ARRIVAL,
        Some(serde_json::json!({
            "arrived_at": at,
            "receipt_due_on": due.on,
            "explanation": due.explanation,
            "calendar_years": due.calendar_years,
            "assumed_years": due.assumed_years,
            "with_receipt": with_receipt,
        })),
        tolerance_percent,
    )
}

/// The receiver's dispatcher or the manifest's driver records that the waste arrived at the
/// receiver, at `arrived_at` (the device's time; the server's when absent): not before the
/// take-over, not in the future. The receipt is then due 5 working days after the day of
/// arrival. Once per manifest, while it is in transit.
pub fn record_arrival(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    arrived_at: Option<DateTime<Utc>>,
    tolerance_percent: i64,
) -> Result<ManifestView, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let parties = parties(conn, &row)?;
    let receiver_region = receiver_region(conn, &row)?;
    authorize(
        principal,
        Action::RecordArrival {
            place: place(&row),
            receiver_region_code: &receiver_region,
            parties: &parties,
            driver_id: &row.driver_id,
            carrier_id: &row.carrier_id,
            receiver_id: &row.receiver_id,
        },
    )?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Manifest(id.as_str()))?;
    let mut row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    if row.status != ManifestStatus::InTransit {
        return Err(ApiError::Conflict(format!(
            "the manifest is {}; an arrival is recorded while it is in_transit",
            row.status
        )));
    }
    let signatures = store::signatures_of(conn, id)?;
    if signatures.iter().any(|s| s.step == ARRIVAL) {
        return Err(ApiError::Conflict(
            "the arrival of this manifest is recorded already".to_owned(),
        ));
    }
    let at = arrived_at.unwrap_or(now);
    if at > now + chrono::Duration::minutes(crate::lots::service::CLOCK_SKEW_MINUTES) {
        return Err(ApiError::field(
            "arrived_at",
            "in_future",
            "lies in the future: check the device's clock",
        ));
    }
    let taken_over = signatures
        .iter()
        .filter(|s| s.step == Step::TakeOver.as_str())
        .map(|s| s.at.and_utc())
        .max();
    if taken_over.is_some_and(|t| at < t) {
        return Err(ApiError::field(
            "arrived_at",
            "before_take_over",
            "must not be before the take-over",
        ));
    }
    arrive(conn, now, principal, &mut row, at, false, tolerance_percent)?;
    store::save_manifest(conn, &row)?;
    view(conn, now, &row, tolerance_percent, viewer(principal))
}

/// What the receiver records.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Receipt {
    pub received_grams: i64,
    pub decision: Decision,
    pub refused_grams: Option<i64>,
    pub note: Option<String>,
    /// Which lots were refused, and how many grams of each.
    pub refused_lots: Option<Vec<RefusedLot>>,
}

/// A lot the receiver refused (some or all of it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusedLot {
    /// A lot of the manifest.
    #[schema(value_type = String)]
    pub lot_id: LotId,
    /// The grams of it refused: 1 up to the lot's inbound grams on the manifest.
    pub grams: i64,
}

/// The lots a receipt refuses, with the grams of each. Named by the receiver (each a lot of
/// the manifest, once, 1 gram up to its inbound grams, adding up to the refused grams), or
/// implied: a whole refusal refuses every lot, its share of the refused grams in proportion to
/// its inbound grams (whole grams, largest remainder); a partial refusal of a manifest of one
/// lot refuses that lot. A partial refusal of several lots must name them. Nothing is refused
/// on an acceptance.
pub fn refused_lots(
    manifest_id: &ManifestId,
    lots: &[ManifestLotRow],
    decision: Decision,
    refused: i64,
    named: Option<&[RefusedLot]>,
) -> Result<Vec<RefusalRow>, ApiError> {
    let row = |lot: &ManifestLotRow, grams: i64| RefusalRow {
        manifest_id: manifest_id.clone(),
        lot_id: lot.lot_id.clone(),
        enterprise_id: lot.enterprise_id.clone(),
        grams,
    };
    let named = named.filter(|n| !n.is_empty());
    if decision == Decision::Accepted {
        return match named {
            Some(_) => Err(ApiError::field(
                "refused_lots",
                "not_refused",
                "must be absent when the waste is accepted",
            )),
            None => Ok(Vec::new()),
        };
    }
    let Some(named) = named else {
        return match (decision, lots) {
            (Decision::Refused, _) => {
                let weights: Vec<i64> = lots.iter().map(|l| l.inbound_grams).collect();
                Ok(lots
                    .iter()
                    .zip(allocate(refused, &weights))
                    .filter(|(_, grams)| *grams > 0)
                    .map(|(lot, grams)| row(lot, grams))
                    .collect())
            }
            (_, [lot]) => Ok(vec![row(lot, refused)]),
            _ => Err(ApiError::field(
                "refused_lots",
                "required",
                "the manifest carries several lots: name the refused ones and the grams of each",
            )),
        };
    };
    let mut errors = Vec::new();
    let mut rows: Vec<RefusalRow> = Vec::new();
    for (i, given) in named.iter().enumerate() {
        let Some(lot) = lots.iter().find(|l| l.lot_id == given.lot_id) else {
            errors.push(FieldError::new(
                format!("refused_lots[{i}].lot_id"),
                "not_on_manifest",
                "is not a lot of this manifest",
            ));
            continue;
        };
        if rows.iter().any(|r| r.lot_id == given.lot_id) {
            errors.push(FieldError::new(
                format!("refused_lots[{i}].lot_id"),
                "duplicate",
                "names a lot named before",
            ));
            continue;
        }
        if !(1..=lot.inbound_grams).contains(&given.grams) {
            errors.push(FieldError::new(
                format!("refused_lots[{i}].grams"),
                "out_of_range",
                format!(
                    "must be 1 gram or more and at most the lot's {} g on the manifest",
                    lot.inbound_grams
                ),
            ));
            continue;
        }
        rows.push(row(lot, given.grams));
    }
    if errors.is_empty() {
        let sum = crate::domain::units::total(rows.iter().map(|r| r.grams))?;
        if sum != refused {
            errors.push(FieldError::new(
                "refused_lots",
                "sum_mismatch",
                format!("the lots' grams add up to {sum} g; the refused grams are {refused} g"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    rows.sort_by(|a, b| a.lot_id.cmp(&b.lot_id));
    Ok(rows)
}

/// What a step carries besides the signature: the receipt (receive), the treatment
/// (complete).
#[derive(Default)]
pub struct StepData {
    pub receipt: Option<Receipt>,
    pub treatment: Option<String>,
    /// Days after the take-over day within which the waste must arrive (take-over).
    pub transport_days: i64,
}

fn refused_lot_json(r: &RefusalRow) -> serde_json::Value {
    serde_json::json!({"lot_id": r.lot_id, "enterprise_id": r.enterprise_id, "grams": r.grams})
}

/// Tells of a refusal the park office, the consignor, the inspectors of both sides of the
/// transfer (the bureaus whose jurisdiction covers the park's region or the receiver's), each
/// with every refused lot, and each enterprise whose lots the manifest carries, with its own
/// refused lots only (as its view of the manifest shows them).
fn tell_refused(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &ManifestRow,
    receipt: &Receipt,
    refused: i64,
    lots: &[ManifestLotRow],
    refusals: &[RefusalRow],
) -> Result<(), ApiError> {
    let mut audience = vec![row.park_id.clone(), row.consignor_id.clone()];
    audience.extend(bureaus_over(conn, &row.region_code)?);
    let receiving_side = receiver_region(conn, row)?;
    audience.extend(bureaus_over(conn, &receiving_side)?);
    let notice = |only: Option<&str>| {
        let refused_lots: Vec<serde_json::Value> = refusals
            .iter()
            .filter(|r| only.is_none_or(|e| e == r.enterprise_id))
            .map(refused_lot_json)
            .collect();
        Notice {
            type_: "manifest.refused",
            subject_id: row.id.as_str(),
            title: format!(
                "Manifest {}: {} g of {} refused by the receiver",
                row.number, refused, receipt.received_grams
            ),
            data: serde_json::json!({
                "manifest_id": row.id, "number": row.number, "decision": receipt.decision,
                "received_grams": receipt.received_grams, "refused_grams": refused,
                "note": receipt.note, "refused_lots": refused_lots,
            }),
        }
    };
    publish_to_all(conn, now, &audience, &notice(None))?;
    let mut enterprises: Vec<&str> = lots
        .iter()
        .map(|l| l.enterprise_id.as_str())
        .filter(|e| !audience.iter().any(|a| a.as_str() == *e))
        .collect();
    enterprises.sort_unstable();
    enterprises.dedup();
    for enterprise in enterprises {
        crate::notify::service::publish(conn, now, enterprise, &notice(Some(enterprise)))?;
    }
    Ok(())
}

/// Hazardous waste is taken over only with papers valid on the park's day: the vehicle's
/// dangerous-goods permit, the carrier's transport permit (a registered carrier's; a disposal
/// company's own fleet has none recorded here) and the driver's dangerous-goods qualification.
/// A date not recorded is not checked. Refused with 409 naming every paper past its last day.
fn check_transport_papers(
    conn: &mut DbConn,
    row: &ManifestRow,
    today: NaiveDate,
) -> Result<(), ApiError> {
    use crate::registry::directory::store as directory;
    let mut expired = Vec::new();
    if let Some(v) = directory::find_vehicle(conn, &row.vehicle_id)?
        && let Some(until) = v.dangerous_goods_permit_valid_until
        && until < today
    {
        expired.push(format!(
            "the dangerous-goods permit of vehicle {} expired after {until}",
            v.plate
        ));
    }
    if let Some(crate::registry::directory::store::Carrier { carrier: c, name }) =
        directory::find_carrier(conn, &row.carrier_id)?
        && let Some(until) = c.transport_permit_valid_until
        && until < today
    {
        expired.push(format!(
            "the transport permit of carrier {name} expired after {until}"
        ));
    }
    if let Some(d) = crate::identity::store::find_user(conn, &row.driver_id)?
        && let Some(until) = d.dg_qualification_valid_until
        && until < today
    {
        expired.push(format!(
            "the dangerous-goods qualification of driver {} expired after {until}",
            d.display_name
        ));
    }
    if expired.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "hazardous waste is not taken over on {today}: {}",
            expired.join("; ")
        )))
    }
}

/// Signs a step: checks the role and the state, records who and when, and moves the manifest
/// on.
pub fn step(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    (step, given): (Step, StepData),
    tolerance_percent: i64,
) -> Result<ManifestView, ApiError> {
    let StepData {
        receipt,
        treatment,
        transport_days,
    } = given;
    let mut row = load_for_change(conn, principal, id, step.party())?;
    if store::revisions_of(conn, id)?
        .iter()
        .any(|r| r.status == RevisionStatus::Pending)
    {
        return Err(ApiError::Conflict(
            "a revision of this manifest awaits approval; it is decided before the next step"
                .to_owned(),
        ));
    }
    let (from, to) = step.transition();
    if row.status != from {
        return Err(ApiError::Conflict(format!(
            "the manifest is {}; {} needs it {from}",
            row.status,
            step.as_str()
        )));
    }
    let mut data = None;
    match step {
        Step::Confirm => {}
        Step::TakeOver => {
            let park = parks::load_park(conn, &row.park_id)?;
            if park.park.require_official_number
                && row.kind == "hazardous"
                && store::official_number_of(conn, &row.id)?.is_none()
            {
                return Err(ApiError::Conflict(
                    "the park requires the official number before take-over: the consignor \
                     records it with PUT /api/v1/manifests/{id}/official-number"
                        .to_owned(),
                ));
            }
            // Until it arrives, the manifest is held to the arrival's deadline.
            let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
            if row.kind == "hazardous" {
                check_transport_papers(conn, &row, today)?;
            }
            row.receipt_due_on = Some(today + chrono::Duration::days(transport_days.max(0)));
        }
        Step::Receive => {
            let r = receipt.ok_or_else(|| {
                ApiError::field(
                    "received_grams",
                    "required",
                    "the quantity received is required",
                )
            })?;
            if !(0..=crate::domain::units::MAX_GRAMS).contains(&r.received_grams) {
                return Err(ApiError::field(
                    "received_grams",
                    "out_of_range",
                    "must be 0 or more grams, and plausible",
                ));
            }
            let refused = r
                .decision
                .refused_grams(r.received_grams, r.refused_grams)
                .map_err(|m| ApiError::field("refused_grams", "inconsistent", m))?;
            let lots = store::origins_of(conn, &row)?;
            let refusals = refused_lots(
                &row.id,
                &lots,
                r.decision,
                refused,
                r.refused_lots.as_deref(),
            )?;
            // A receipt with no arrival recorded before it (a client that does not record
            // arrivals) records the arrival now: the receipt is on time.
            if !store::signatures_of(conn, id)?
                .iter()
                .any(|s| s.step == ARRIVAL)
            {
                arrive(conn, now, principal, &mut row, now, true, tolerance_percent)?;
            }
            row.received_grams = Some(r.received_grams);
            row.refused_grams = Some(refused);
            row.decision = Some(r.decision.as_str().to_owned());
            store::insert_refusals(conn, &refusals)?;
            if r.decision != Decision::Accepted {
                row.case_status = Some(CaseStatus::Open);
                tell_refused(conn, now, &row, &r, refused, &lots, &refusals)?;
            }
            check_balance(conn, now, &mut row, tolerance_percent)?;
            let refused_lots: Vec<serde_json::Value> =
                refusals.iter().map(refused_lot_json).collect();
            data = Some(serde_json::json!({
                "received_grams": r.received_grams, "decision": r.decision,
                "refused_grams": refused, "note": r.note, "refused_lots": refused_lots,
            }));
        }
        Step::Complete => {
            if row.decision.as_deref() == Some(Decision::Refused.as_str()) {
                return Err(ApiError::Conflict(
                    "the waste was refused: nothing was treated; the park office resolves the case"
                        .to_owned(),
                ));
            }
            if row.case_status == Some(CaseStatus::Open) {
                return Err(ApiError::Conflict(
                    "the case of the refused part is still open: the park office resolves it first"
                        .to_owned(),
                ));
            }
            row.treatment = treatment;
            data = Some(serde_json::json!({"treatment": row.treatment}));
        }
    }
    row.status = to;
    row.updated_at = now.naive_utc();
    store::save_manifest(conn, &row)?;
    sign(
        conn,
        now,
        principal,
        &row,
        step.as_str(),
        data,
        tolerance_percent,
    )?;
    view(conn, now, &row, tolerance_percent, viewer(principal))
}

/// How the park office resolves a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolveAction {
    /// The refused waste goes back to the consignor, under a new manifest.
    Return,
    /// The refused waste goes on to another licensed receiver, under a new manifest.
    Forward,
    /// Resolved otherwise, as the resolution's text says (no new manifest).
    Other,
}

impl ResolveAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Return => "return",
            Self::Forward => "forward",
            Self::Other => "other",
        }
    }
}

/// A resolution of a refusal's case.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub action: ResolveAction,
    /// What the park office says of it (required for `other`).
    pub text: Option<String>,
    /// For `forward`: the disposal company the waste goes on to.
    pub receiver_id: Option<String>,
}

/// The park office resolves the case of refused waste: by returning it to the consignor or
/// forwarding it to another licensed receiver, each under a new manifest following the
/// refused one, or otherwise, saying how. The case is closed and the resolution signed.
pub fn resolve(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    resolution: Resolution,
    tolerance_percent: i64,
) -> Result<ManifestView, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let parties = parties(conn, &row)?;
    let receiver_region = receiver_region(conn, &row)?;
    authorize(
        principal,
        Action::SignManifest {
            place: place(&row),
            receiver_region_code: &receiver_region,
            parties: &parties,
            driver_id: &row.driver_id,
            signer_id: &row.park_id,
            role: Role::ParkOffice,
        },
    )?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Manifest(id.as_str()))?;
    let mut row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    if row.case_status != Some(CaseStatus::Open) {
        return Err(ApiError::Conflict(
            "the manifest has no open case of refused waste".to_owned(),
        ));
    }
    if resolution.action != ResolveAction::Forward && resolution.receiver_id.is_some() {
        return Err(ApiError::field(
            "receiver_id",
            "not_applicable",
            "only a forward names a receiver",
        ));
    }
    let follower = match resolution.action {
        ResolveAction::Other => None,
        action => Some(follow_up(
            conn,
            now,
            &row,
            action,
            resolution.receiver_id.as_deref(),
            tolerance_percent,
        )?),
    };
    let text = match (&resolution.text, &follower) {
        (Some(text), _) => text.clone(),
        (None, Some(f)) if resolution.action == ResolveAction::Return => {
            format!("returned to the consignor under manifest {}", f.number)
        }
        (None, Some(f)) => format!("forwarded to another receiver under manifest {}", f.number),
        (None, None) => {
            return Err(ApiError::field(
                "resolution",
                "required",
                "say how the case was resolved",
            ));
        }
    };
    row.case_status = Some(CaseStatus::Resolved);
    row.case_resolution = Some(text.clone());
    row.updated_at = now.naive_utc();
    store::save_manifest(conn, &row)?;
    let mut data = serde_json::json!({"action": resolution.action, "resolution": text});
    if let Some(f) = &follower {
        data["manifest_id"] = serde_json::json!(f.id);
        data["number"] = serde_json::json!(f.number);
        data["receiver_id"] = serde_json::json!(f.receiver_id);
        data["grams"] = serde_json::json!(f.inbound_grams);
    }
    sign(
        conn,
        now,
        principal,
        &row,
        "resolve",
        Some(data),
        tolerance_percent,
    )?;
    view(conn, now, &row, tolerance_percent, viewer(principal))
}

/// Issues the manifest that takes refused waste back to the consignor (`return`: the consignor
/// is the receiver too, and signs the receipt) or on to another disposal company licensed for
/// the code on the park's day (`forward`). It follows the refused manifest: the same park,
/// consignor, carrier, vehicle, driver, code and packaging; its lots are the refused lots at
/// their refused grams, and its weight (inbound and outbound) is the refused grams. Numbered
/// from the same gap-free counter as the manifests of a collection, in the resolution's year.
fn follow_up(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    first: &ManifestRow,
    action: ResolveAction,
    receiver_id: Option<&str>,
    tolerance_percent: i64,
) -> Result<ManifestRow, ApiError> {
    let refusals = store::refusals_of(conn, &first.id)?;
    if refusals.is_empty() {
        return Err(ApiError::field(
            "action",
            "no_refused_lots",
            "the refused lots of this manifest were not recorded: resolve it with action other and a resolution",
        ));
    }
    let park = parks::load_park(conn, &first.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let hazardous = first.kind == WasteKind::Hazardous.as_str();
    let (receiver, licence) = match (action, receiver_id) {
        (ResolveAction::Forward, Some(to)) => {
            if to == first.receiver_id {
                return Err(ApiError::field(
                    "receiver_id",
                    "same_receiver",
                    "is the receiver that refused the waste: forward it to another",
                ));
            }
            if crate::registry::directory::store::find_disposer(conn, to)?.is_none() {
                return Err(ApiError::field(
                    "receiver_id",
                    "not_a_disposer",
                    "is not a disposal company of the directory",
                ));
            }
            let licence = if hazardous {
                let licences = crate::registry::directory::store::licences_of(conn, to)?;
                let covering = crate::registry::directory::service::covering_licence(
                    &licences,
                    &first.waste_code,
                    today,
                )?;
                if covering.is_none() {
                    return Err(ApiError::field(
                        "receiver_id",
                        "code_not_licensed",
                        format!(
                            "the disposal company's licence does not cover {} on {today}",
                            first.waste_code
                        ),
                    ));
                }
                covering
            } else {
                None
            };
            (to.to_owned(), licence)
        }
        (ResolveAction::Forward, None) => {
            return Err(ApiError::field(
                "receiver_id",
                "required",
                "name the disposal company the waste is forwarded to",
            ));
        }
        _ => (first.consignor_id.clone(), None),
    };
    let grams = crate::domain::units::total(refusals.iter().map(|r| r.grams))?;
    let year = chrono::Datelike::year(&today);
    let city = first
        .region_code
        .get(..4)
        .unwrap_or(first.region_code.as_str())
        .to_owned();
    let number = mint_number(conn, hazardous, year, &city)?;
    let mut row = ManifestRow {
        id: ManifestId::new(),
        number,
        status: ManifestStatus::Draft,
        receiver_id: receiver,
        licence_id: licence,
        inbound_grams: grams,
        outbound_grams: grams,
        received_grams: None,
        refused_grams: None,
        decision: None,
        treatment: None,
        receipt_due_on: None,
        flag_detail: None,
        case_status: None,
        case_resolution: None,
        version: 1,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        ..first.clone()
    };
    store::insert_manifest(conn, &row)?;
    store::insert_follow(
        conn,
        &store::FollowRow {
            manifest_id: row.id.clone(),
            follows_manifest_id: first.id.clone(),
            reason: action.as_str().to_owned(),
        },
    )?;
    // The waste leaves the receiver that refused it, for the new receiver, or back to the park
    // its consignor sent it from; its quantity is the refused one the receiver weighed.
    let address_of = |conn: &mut DbConn, id: &str| -> Result<Option<String>, ApiError> {
        Ok(crate::registry::directory::store::find_disposer(conn, id)?.map(|d| d.disposer.address))
    };
    let departure_address = address_of(conn, &first.receiver_id)?.unwrap_or_default();
    let destination_address = match action {
        ResolveAction::Forward => address_of(conn, &row.receiver_id)?.unwrap_or_default(),
        _ => parks::load_park(conn, &first.park_id)?.park.address,
    };
    store::insert_places(
        conn,
        &store::PlacesRow {
            manifest_id: row.id.clone(),
            escort_id: None,
            departure_address,
            destination_address,
        },
    )?;
    store::insert_outbound(
        conn,
        &store::OutboundRow {
            manifest_id: row.id.clone(),
            basis: WEIGHED.to_owned(),
            scale_id: None,
            captured_at: None,
        },
    )?;
    check_balance(conn, now, &mut row, tolerance_percent)?;
    store::save_manifest(conn, &row)?;
    snapshot(conn, now, &row, tolerance_percent, "issue")?;
    Ok(row)
}

/// What a revision may change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    pub outbound_grams: Option<i64>,
    pub received_grams: Option<i64>,
    pub refused_grams: Option<i64>,
    pub packaging: Option<String>,
    pub emergency_measures: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "rev_0193f1c2a4b87d21a1c6e1f0b2d3c950",
    "manifest_id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900",
    "proposed_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed",
    "proposed_org": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "reason": "the scale ticket was misread",
    "changes": {"outbound_grams": 2090000},
    "status": "pending",
    "needed": ["consignor", "receiver"],
    "approved": ["receiver"],
    "created_at": "2026-11-30T09:00:00Z"
}))]
pub struct RevisionView {
    pub id: String,
    #[schema(value_type = String)]
    pub manifest_id: ManifestId,
    pub proposed_by: String,
    pub proposed_org: String,
    pub reason: String,
    pub changes: Changes,
    /// `pending`, `applied` or `rejected`.
    pub status: RevisionStatus,
    /// The parties whose approval is needed: every other party whose step was signed. Each
    /// approves through its signer (the consignor's user, the manifest's driver for the
    /// carrier, the receiver's dispatcher), even where two parties are one organisation.
    pub needed: Vec<Party>,
    /// The parties that approved, in the order they did.
    pub approved: Vec<Party>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parties stored as a comma-separated list of their names.
fn parties_in(list: &str) -> Vec<Party> {
    split(list)
        .iter()
        .filter_map(|p| Party::parse_stored(p))
        .collect()
}

fn party_list(parties: &[Party]) -> String {
    parties
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn revision_view(row: RevisionRow) -> RevisionView {
    RevisionView {
        changes: serde_json::from_str(&row.changes).unwrap_or_default(),
        needed: parties_in(&row.needed),
        approved: parties_in(&row.approved),
        id: row.id,
        manifest_id: row.manifest_id,
        proposed_by: row.proposed_by,
        proposed_org: row.proposed_org,
        reason: row.reason,
        status: row.status,
        created_at: row.created_at.and_utc(),
        decided_at: row.decided_at.map(|t| t.and_utc()),
    }
}

/// The parties whose step was signed (consignor: confirm; carrier: take over; receiver: receive,
/// complete), in that order: the parties whose approval a revision needs. Decided by the step
/// signed, never by the signer's organisation: a disposal company with its own fleet is the
/// carrier and the receiver, and the take-over signed by its driver is not a receipt.
fn signed_parties(conn: &mut DbConn, row: &ManifestRow) -> Result<Vec<Party>, ApiError> {
    let signed: Vec<Party> = store::signatures_of(conn, &row.id)?
        .iter()
        .filter_map(|s| Step::parse_stored(&s.step))
        .map(Step::party)
        .collect();
    Ok(Party::ALL
        .into_iter()
        .filter(|p| signed.contains(p))
        .collect())
}

/// The party whose signer the principal is on this manifest, if any (at most one: each party
/// signs in its own role).
fn party_of(principal: &Principal, row: &ManifestRow) -> Option<Party> {
    Party::ALL.into_iter().find(|party| {
        let (org, role) = signer(row, *party);
        signs_for(principal, org, role, &row.driver_id)
    })
}

/// The party a principal proposes or approves a revision for: the one it signs for, once that
/// party's step was signed.
fn signing_party(
    conn: &mut DbConn,
    principal: &Principal,
    row: &ManifestRow,
) -> Result<Party, ApiError> {
    let signed = signed_parties(conn, row)?;
    if let Some(party) = party_of(principal, row).filter(|p| signed.contains(p)) {
        return Ok(party);
    }
    authorize_read(conn, principal, row)?;
    Err(ApiError::Forbidden(
        "only the signer of a party whose step was signed proposes or approves a revision",
    ))
}

/// Applies changes to a manifest, checking them; returns the field errors.
fn apply(row: &mut ManifestRow, c: &Changes) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let max = crate::domain::units::MAX_GRAMS;
    for (field, value) in [
        ("changes.outbound_grams", c.outbound_grams),
        ("changes.received_grams", c.received_grams),
        ("changes.refused_grams", c.refused_grams),
    ] {
        if value.is_some_and(|v| !(0..=max).contains(&v)) {
            errors.push(FieldError::new(
                field,
                "out_of_range",
                "must be 0 or more grams, and plausible",
            ));
        }
    }
    if (c.received_grams.is_some() || c.refused_grams.is_some()) && row.received_grams.is_none() {
        errors.push(FieldError::new(
            "changes.received_grams",
            "not_received",
            "the receiver has not recorded a receipt yet",
        ));
    }
    if let Some(v) = c.outbound_grams {
        row.outbound_grams = v;
    }
    if let Some(v) = c.received_grams {
        row.received_grams = Some(v);
    }
    if let Some(v) = c.refused_grams {
        row.refused_grams = Some(v);
    }
    if let (Some(decision), Some(received)) = (
        row.decision.as_deref().and_then(Decision::parse_stored),
        row.received_grams,
    ) && let Err(message) = decision.refused_grams(received, row.refused_grams)
    {
        errors.push(FieldError::new(
            "changes.refused_grams",
            "inconsistent",
            format!("{message} (the decision was {})", decision.as_str()),
        ));
    }
    if let Some(v) = &c.packaging {
        row.packaging = v.clone();
    }
    if let Some(v) = &c.emergency_measures {
        row.emergency_measures = v.clone();
    }
    errors
}

fn apply_revision(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &mut ManifestRow,
    revision: &mut RevisionRow,
    tolerance_percent: i64,
) -> Result<(), ApiError> {
    let changes: Changes = serde_json::from_str(&revision.changes).unwrap_or_default();
    let errors = apply(row, &changes);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // The version being replaced is kept as it stood when revised, signatures included: a
    // last copy of record of it, inserted beside the earlier ones.
    let before = store::find_manifest(conn, &row.id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    record(conn, now, &before, tolerance_percent, "superseded", None)?;
    row.version += 1;
    row.updated_at = now.naive_utc();
    check_balance(conn, now, row, tolerance_percent)?;
    store::save_manifest(conn, row)?;
    snapshot(conn, now, row, tolerance_percent, "revision")?;
    revision.status = RevisionStatus::Applied;
    revision.decided_at = Some(now.naive_utc());
    Ok(())
}

/// A party that signed proposes a change; it applies once every other party that signed
/// approves (at once when there is none).
pub fn propose(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    reason: String,
    changes: Changes,
    tolerance_percent: i64,
) -> Result<RevisionView, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let party = signing_party(conn, principal, &row)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Manifest(id.as_str()))?;
    let mut row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let mut probe = row.clone();
    let errors = apply(&mut probe, &changes);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if changes
        .refused_grams
        .is_some_and(|v| Some(v) != row.refused_grams)
        && !store::refusals_of(conn, id)?.is_empty()
    {
        return Err(ApiError::field(
            "changes.refused_grams",
            "refused_lots_recorded",
            "the refused lots are recorded with their grams: a revision does not change them",
        ));
    }
    if store::revisions_of(conn, id)?
        .iter()
        .any(|r| r.status == RevisionStatus::Pending)
    {
        return Err(ApiError::Conflict(
            "a revision of this manifest awaits approval; approve or reject it first".to_owned(),
        ));
    }
    let needed: Vec<Party> = signed_parties(conn, &row)?
        .into_iter()
        .filter(|p| *p != party)
        .collect();
    let mut told: Vec<String> = needed
        .iter()
        .map(|p| signer(&row, *p).0.to_owned())
        .collect();
    told.sort();
    told.dedup();
    let mut revision = RevisionRow {
        id: new_id("rev"),
        manifest_id: id.clone(),
        proposed_by: principal.user_id.clone(),
        proposed_org: principal.organization_id.clone(),
        reason,
        changes: serde_json::to_string(&changes).map_err(|e| ApiError::Internal(e.into()))?,
        status: RevisionStatus::Pending,
        needed: party_list(&needed),
        approved: String::new(),
        decided_by: None,
        created_at: now.naive_utc(),
        decided_at: None,
    };
    if needed.is_empty() {
        apply_revision(conn, now, &mut row, &mut revision, tolerance_percent)?;
    } else {
        publish_to_all(
            conn,
            now,
            &told,
            &Notice {
                type_: "manifest.revision_proposed",
                subject_id: id.as_str(),
                title: format!("Manifest {}: a revision awaits your approval", row.number),
                data: serde_json::json!({"manifest_id": id, "revision_id": revision.id, "reason": revision.reason, "changes": changes}),
            },
        )?;
    }
    store::insert_revision(conn, &revision)?;
    sign(
        conn,
        now,
        principal,
        &row,
        "revise",
        Some(serde_json::json!({"revision_id": revision.id})),
        tolerance_percent,
    )?;
    Ok(revision_view(revision))
}

/// A party whose approval is needed approves (the revision applies once all have) or rejects.
pub fn decide(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    revision_id: &str,
    approve: bool,
    tolerance_percent: i64,
) -> Result<RevisionView, ApiError> {
    let row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let party = signing_party(conn, principal, &row)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Manifest(id.as_str()))?;
    let mut row = store::find_manifest(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let mut revision = store::find_revision(conn, revision_id)?
        .filter(|r| r.manifest_id == *id)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    if revision.status != RevisionStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "the revision is {}",
            revision.status
        )));
    }
    let needed = parties_in(&revision.needed);
    let mut approved = parties_in(&revision.approved);
    if !needed.contains(&party) {
        return Err(ApiError::Forbidden(
            "the approval of the party you sign for is not needed for this revision",
        ));
    }
    if approve {
        if !approved.contains(&party) {
            approved.push(party);
        }
        revision.approved = party_list(&approved);
        if needed.iter().all(|n| approved.contains(n)) {
            apply_revision(conn, now, &mut row, &mut revision, tolerance_percent)?;
        }
    } else {
        revision.status = RevisionStatus::Rejected;
        revision.decided_at = Some(now.naive_utc());
    }
    revision.decided_by = Some(principal.user_id.clone());
    store::save_revision(conn, &revision)?;
    sign(
        conn,
        now,
        principal,
        &row,
        if approve {
            "approve_revision"
        } else {
            "reject_revision"
        },
        Some(serde_json::json!({"revision_id": revision.id})),
        tolerance_percent,
    )?;
    Ok(revision_view(revision))
}

/// Tells once, for each manifest in transit past its deadline, the park office, the receiver
/// and the inspectors of both sides of the transfer: once when the waste has not arrived
/// within the transport days, once when its receipt is not confirmed within 5 working days of
/// its arrival. Each in its own transaction.
pub fn tell_overdue(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    // Candidates by the latest calendar on earth; each then by its park's own date.
    let tomorrow = now.date_naive() + chrono::Duration::days(1);
    let mut told = 0;
    for row in store::receipts_overdue(conn, tomorrow)? {
        let park = parks::load_park(conn, &row.park_id)?;
        let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
        let Some(due) = row.receipt_due_on.filter(|due| *due < today) else {
            continue;
        };
        let arrived = store::signatures_of(conn, &row.id)?
            .iter()
            .any(|s| s.step == ARRIVAL);
        let mut audience = vec![row.park_id.clone(), row.receiver_id.clone()];
        audience.extend(bureaus_over(conn, &row.region_code)?);
        let receiving_side = receiver_region(conn, &row)?;
        audience.extend(bureaus_over(conn, &receiving_side)?);
        let (key, title, data) = if arrived {
            (
                format!("manifest-overdue:{}", row.id),
                format!("Manifest {}: receipt not confirmed by {due}", row.number),
                serde_json::json!({"manifest_id": row.id, "number": row.number, "arrived": true, "receipt_due_on": due}),
            )
        } else {
            (
                format!("manifest-not-arrived:{}", row.id),
                format!(
                    "Manifest {}: the waste has not arrived by {due}",
                    row.number
                ),
                serde_json::json!({"manifest_id": row.id, "number": row.number, "arrived": false, "arrival_due_on": due}),
            )
        };
        let notice = Notice {
            type_: "manifest.receipt_overdue",
            subject_id: row.id.as_str(),
            title,
            data,
        };
        if crate::notify::alarms::tell_once(conn, now, &key, &audience, &notice)? {
            told += 1;
        }
    }
    Ok(told)
}

/// The headers of a manifest export (Chinese, with units).
pub const EXPORT_HEADERS: [&str; 26] = [
    "跟踪编号",
    "联单编号（全国系统）",
    "类型",
    "状态",
    "园区",
    "移出人",
    "承运人",
    "车辆",
    "接受人",
    "废物代码",
    "废物类别",
    "物理形态",
    "包装方式",
    "入库重量（千克，保留3位小数）",
    "出库重量（千克，保留3位小数）",
    "出库重量依据",
    "出库称重设备",
    "出库称重时间（UTC）",
    "接收重量（千克，保留3位小数）",
    "拒收重量（千克，保留3位小数）",
    "接收结论",
    "处置方式",
    "应运抵日期",
    "接收确认期限",
    "重量差异标记",
    "生成时间（UTC）",
];

/// The rows of a manifest export: the manifests of `GET /manifests`, a page at a time.
pub struct ManifestPages {
    scope: crate::auth::policy::ManifestScope,
    filter: store::ManifestFilter,
    after: Option<String>,
    done: bool,
    names: crate::registry::names::Names,
}

impl ManifestPages {
    pub fn new(scope: crate::auth::policy::ManifestScope, filter: store::ManifestFilter) -> Self {
        Self {
            scope,
            filter,
            after: None,
            done: false,
            names: crate::registry::names::Names::default(),
        }
    }
}

/// The basis of an outbound figure as the exports and the print write it.
pub fn basis_zh(basis: &str) -> &'static str {
    if basis == WEIGHED {
        "称重"
    } else {
        "分摊（按入库重量分摊整车称重）"
    }
}

fn manifest_cells(
    m: ManifestRow,
    outbound: Option<&store::OutboundRow>,
    names: &crate::registry::names::Names,
    facts: &store::ExportFacts,
) -> Vec<crate::http::export::Cell> {
    use crate::http::export::Cell;
    use crate::manifests::words::{forms_zh, packaging_zh, zh};
    let grams = |g: Option<i64>| g.map_or(Cell::Empty, Cell::Grams);
    // Until the waste arrives, the stored deadline is the arrival's; then the receipt's.
    let arrived = facts.arrived.contains(&m.id)
        || !matches!(
            m.status,
            ManifestStatus::Draft | ManifestStatus::Confirmed | ManifestStatus::InTransit
        );
    let due = m.receipt_due_on.map(|d| d.to_string());
    let (arrival_due, receipt_due) = if arrived { (None, due) } else { (due, None) };
    vec![
        Cell::text(m.number),
        Cell::opt(facts.official_numbers.get(&m.id).cloned()),
        Cell::text(zh(&m.kind)),
        Cell::text(zh(m.status.as_str())),
        Cell::text(names.of(&m.park_id)),
        Cell::text(names.of(&m.consignor_id)),
        Cell::text(names.of(&m.carrier_id)),
        Cell::text(names.of(&m.vehicle_id)),
        Cell::text(names.of(&m.receiver_id)),
        Cell::text(m.waste_code),
        Cell::text(m.category),
        Cell::text(forms_zh(&m.physical_form)),
        Cell::text(packaging_zh(&m.packaging)),
        Cell::Grams(m.inbound_grams),
        Cell::Grams(m.outbound_grams),
        Cell::text(basis_zh(outbound.map_or(ALLOCATED, |o| o.basis.as_str()))),
        Cell::opt(outbound.and_then(|o| o.scale_id.clone())),
        Cell::opt(
            outbound
                .and_then(|o| o.captured_at)
                .map(|t| t.and_utc().format("%Y-%m-%d %H:%M:%S").to_string()),
        ),
        grams(m.received_grams),
        grams(m.refused_grams),
        Cell::opt(m.decision.as_deref().map(|d| zh(d).to_owned())),
        Cell::opt(m.treatment),
        Cell::opt(arrival_due),
        Cell::opt(receipt_due),
        Cell::text(if m.flag_detail.is_some() {
            "是"
        } else {
            "否"
        }),
        Cell::text(
            m.created_at
                .and_utc()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        ),
    ]
}

impl crate::http::export::Pages for ManifestPages {
    fn next_page(
        &mut self,
        conn: &mut DbConn,
    ) -> Result<Option<Vec<Vec<crate::http::export::Cell>>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let (rows, last) = crate::http::export::page_of(
            |page| {
                Ok(store::list_manifests(
                    conn,
                    &self.scope,
                    &self.filter,
                    page,
                )?)
            },
            self.after.take(),
        )?;
        self.done = last;
        if rows.is_empty() {
            return Ok(None);
        }
        self.after = rows.last().map(|r| r.id.to_string());
        self.names.learn(
            conn,
            rows.iter().flat_map(|m| {
                [
                    m.park_id.as_str(),
                    m.consignor_id.as_str(),
                    m.carrier_id.as_str(),
                    m.vehicle_id.as_str(),
                    m.receiver_id.as_str(),
                ]
            }),
        )?;
        let facts = store::export_facts(conn, &rows)?;
        let outbounds =
            store::outbounds_of(conn, &rows.iter().map(|m| m.id.clone()).collect::<Vec<_>>())?;
        let names = &self.names;
        Ok(Some(
            rows.into_iter()
                .map(|m| {
                    let outbound = outbounds.get(&m.id);
                    manifest_cells(m, outbound, names, &facts)
                })
                .collect(),
        ))
    }
}
