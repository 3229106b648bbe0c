//! Use cases on the directory. Each runs inside the caller's write transaction and records a
//! revision of what it changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Scope, authorize};
use crate::db::DbConn;
use crate::domain::contract::LicenceTerms;
use crate::domain::identity::OrganizationKind;
use crate::domain::ids::new_id;
use crate::domain::region::{Jurisdiction, RegionCode};
use crate::domain::uscc::Uscc;
use crate::domain::waste::{CatalogRef, WasteKind, join_refs, split_refs};
use crate::error::NOT_VISIBLE;
use crate::error::{ApiError, FieldError};
use crate::http::pagination::PageRequest;
use crate::http::{Page, PageQuery};
use crate::identity::service::{NewOrganization, create_organization};
use crate::identity::store::{find_organization, rename_organization};
use crate::registry::catalog::service::check_refs_exist;
use crate::registry::directory::store::{
    self, BureauRow, CarrierRow, DisposerRow, LicenceRow, VehicleRow,
};
use crate::registry::history::{self, Entity, HistoryQuery, Revision};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "name": "Shenzhen Dongjiang Environmental Disposal Co., Ltd.",
    "uscc": "91440300MA5F0D005L",
    "region_code": "440307",
    "address": "Pingshan District, Shenzhen",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct DisposerView {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub region_code: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn disposer_view(
    store::Disposer {
        disposer: row,
        name,
    }: store::Disposer,
) -> DisposerView {
    DisposerView {
        id: row.organization_id,
        name,
        uscc: row.uscc,
        region_code: row.region_code,
        address: row.address,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub struct NewParty {
    pub name: String,
    pub uscc: Uscc,
    pub region_code: RegionCode,
}

pub fn create_disposer(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    party: NewParty,
    address: String,
) -> Result<DisposerView, ApiError> {
    if store::disposer_uscc_taken(conn, party.uscc.as_str())? {
        return Err(ApiError::field(
            "uscc",
            "taken",
            "a disposal company with this credit code is already registered",
        ));
    }
    let org = create_organization(
        conn,
        now,
        NewOrganization {
            kind: OrganizationKind::DisposalCompany,
            name: party.name,
        },
    )?;
    let row = DisposerRow {
        organization_id: org.id,
        uscc: party.uscc.as_str().to_owned(),
        region_code: party.region_code.as_str().to_owned(),
        address,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert_disposer(conn, &row)?;
    let view = disposer_view(store::Disposer {
        disposer: row,
        name: org.name,
    });
    history::record(conn, Entity::Disposer, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Renames a disposal company or changes its address.
pub fn update_disposer(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    id: &str,
    new_name: Option<String>,
    address: Option<String>,
) -> Result<DisposerView, ApiError> {
    let store::Disposer {
        disposer: mut row,
        mut name,
    } = load_disposer(conn, id)?;
    if let Some(n) = new_name {
        rename_organization(conn, &row.organization_id, &n, now.naive_utc())?;
        name = n;
    }
    if let Some(a) = address {
        row.address = a;
    }
    row.updated_at = now.naive_utc();
    store::save_disposer(conn, &row)?;
    let view = disposer_view(store::Disposer {
        disposer: row,
        name,
    });
    history::record(conn, Entity::Disposer, &view.id, Some(by), now, &view)?;
    Ok(view)
}

pub fn load_disposer(conn: &mut DbConn, id: &str) -> Result<store::Disposer, ApiError> {
    store::find_disposer(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "lic_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "number": "粤危废经第440300001号",
    "issuing_authority": "广东省生态环境厅",
    "valid_from": "2026-01-01",
    "valid_to": "2030-12-31",
    "annual_capacity_grams": 30000000000i64,
    "scope": ["HW08", "HW12", "HW49"],
    "created_at": "2026-11-28T08:00:00Z"
}))]
pub struct LicenceView {
    pub id: String,
    pub disposer_id: String,
    /// Hazardous-waste business licence number.
    pub number: String,
    pub issuing_authority: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Annual quantity the licence covers, in grams.
    pub annual_capacity_grams: i64,
    /// The HW categories and waste codes the licence covers.
    pub scope: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub fn licence_view(row: LicenceRow) -> LicenceView {
    LicenceView {
        scope: split_refs(&row.scope)
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        id: row.id,
        disposer_id: row.disposer_id,
        number: row.number,
        issuing_authority: row.issuing_authority,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        annual_capacity_grams: row.annual_capacity_grams,
        created_at: row.created_at.and_utc(),
    }
}

pub fn licence_terms(row: &LicenceRow) -> LicenceTerms {
    LicenceTerms {
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        scope: split_refs(&row.scope),
    }
}

/// Of a disposal company's licences, the one covering a waste code on a day (the park's), if
/// any: its id. The one check of a receiver's licence, at a collection and wherever refused
/// waste is forwarded.
pub fn covering_licence(
    licences: &[LicenceRow],
    waste_code: &str,
    day: NaiveDate,
) -> Result<Option<String>, ApiError> {
    let target = CatalogRef::parse("", waste_code)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored code: {}", e.message)))?;
    Ok(licences
        .iter()
        .find(|l| crate::domain::contract::licence_covers(&[licence_terms(l)], &target, day))
        .map(|l| l.id.clone()))
}

pub struct NewLicence {
    pub number: String,
    pub issuing_authority: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub annual_capacity_grams: i64,
    pub scope: Vec<CatalogRef>,
}

/// Records a licence of a disposer. Its scope must name hazardous categories or codes of the
/// catalog; the number must be new for this disposer.
pub fn add_licence(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    disposer_id: &str,
    new: NewLicence,
) -> Result<LicenceView, ApiError> {
    let mut errors = Vec::new();
    if new.valid_to < new.valid_from {
        errors.push(FieldError::new(
            "valid_to",
            "before_start",
            "must not be before valid_from",
        ));
    }
    for (i, r) in new.scope.iter().enumerate() {
        if r.kind() != WasteKind::Hazardous {
            errors.push(FieldError::new(
                format!("scope[{i}]"),
                "not_hazardous",
                format!(
                    "{r} is general waste: a hazardous-waste licence covers HW categories and codes"
                ),
            ));
        }
    }
    errors.extend(check_refs_exist(
        conn,
        |i| format!("scope[{i}]"),
        &new.scope,
        new.valid_from,
    )?);

    if store::licences_of(conn, disposer_id)?
        .iter()
        .any(|l| l.number == new.number)
    {
        errors.push(FieldError::new(
            "number",
            "taken",
            "this disposer already has a licence with this number",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = LicenceRow {
        id: new_id("lic"),
        disposer_id: disposer_id.to_owned(),
        number: new.number,
        issuing_authority: new.issuing_authority,
        valid_from: new.valid_from,
        valid_to: new.valid_to,
        annual_capacity_grams: new.annual_capacity_grams,
        scope: join_refs(&new.scope),
        created_at: now.naive_utc(),
    };
    store::insert_licence(conn, &row)?;
    let view = licence_view(row);
    history::record(conn, Entity::Licence, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Ends a licence early (revocation, surrender): its validity may only be shortened.
pub fn end_licence(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    id: &str,
    valid_to: NaiveDate,
) -> Result<LicenceView, ApiError> {
    let mut row = store::find_licence(conn, id)?.ok_or(ApiError::NotFound("no such licence"))?;
    if valid_to > row.valid_to || valid_to < row.valid_from {
        return Err(ApiError::field(
            "valid_to",
            "out_of_range",
            format!(
                "a licence can only be shortened: choose a day from {} to {}",
                row.valid_from, row.valid_to
            ),
        ));
    }
    row.valid_to = valid_to;
    store::save_licence(conn, &row)?;
    let view = licence_view(row);
    history::record(conn, Entity::Licence, &view.id, Some(by), now, &view)?;
    Ok(view)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "name": "Shenzhen Lvyun Hazardous Goods Transport Co., Ltd.",
    "uscc": "91440300MA5F0C0024",
    "region_code": "440307",
    "transport_permit_number": "粤交运管许可深字440300012345号",
    "transport_permit_valid_until": "2029-06-30",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct CarrierView {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub region_code: String,
    /// Road transport operating permit (道路运输经营许可证) number.
    pub transport_permit_number: String,
    /// The permit's last valid day: past it, the carrier's drivers take no hazardous waste
    /// over. Absent: not recorded (not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_permit_valid_until: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn carrier_view(store::Carrier { carrier: row, name }: store::Carrier) -> CarrierView {
    CarrierView {
        id: row.organization_id,
        name,
        uscc: row.uscc,
        region_code: row.region_code,
        transport_permit_number: row.transport_permit_number,
        transport_permit_valid_until: row.transport_permit_valid_until,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub fn create_carrier(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    party: NewParty,
    (transport_permit_number, transport_permit_valid_until): (String, Option<NaiveDate>),
) -> Result<CarrierView, ApiError> {
    if store::carrier_uscc_taken(conn, party.uscc.as_str())? {
        return Err(ApiError::field(
            "uscc",
            "taken",
            "a carrier with this credit code is already registered",
        ));
    }
    let org = create_organization(
        conn,
        now,
        NewOrganization {
            kind: OrganizationKind::Carrier,
            name: party.name,
        },
    )?;
    let row = CarrierRow {
        organization_id: org.id,
        uscc: party.uscc.as_str().to_owned(),
        region_code: party.region_code.as_str().to_owned(),
        transport_permit_number,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        transport_permit_valid_until,
    };
    store::insert_carrier(conn, &row)?;
    let view = carrier_view(store::Carrier {
        carrier: row,
        name: org.name,
    });
    history::record(conn, Entity::Carrier, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Renames a carrier or changes its permit.
pub fn update_carrier(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    id: &str,
    new_name: Option<String>,
    (permit, valid_until): (Option<String>, Option<NaiveDate>),
) -> Result<CarrierView, ApiError> {
    let store::Carrier {
        carrier: mut row,
        mut name,
    } = load_carrier(conn, id)?;
    if let Some(n) = new_name {
        rename_organization(conn, &row.organization_id, &n, now.naive_utc())?;
        name = n;
    }
    if let Some(p) = permit {
        row.transport_permit_number = p;
    }
    if let Some(v) = valid_until {
        row.transport_permit_valid_until = Some(v);
    }
    row.updated_at = now.naive_utc();
    store::save_carrier(conn, &row)?;
    let view = carrier_view(store::Carrier { carrier: row, name });
    history::record(conn, Entity::Carrier, &view.id, Some(by), now, &view)?;
    Ok(view)
}

pub fn load_carrier(conn: &mut DbConn, id: &str) -> Result<store::Carrier, ApiError> {
    store::find_carrier(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "veh_0193f1c2a4b87d21a1c6e1f0b2d3c4ed",
    "operator_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ec",
    "plate": "粤B12345",
    "dangerous_goods_permit_number": "440300012345",
    "dangerous_goods_permit_valid_until": "2028-03-31",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct VehicleView {
    pub id: String,
    /// The carrier or disposal company running the vehicle.
    pub operator_id: String,
    pub plate: String,
    /// Road transport permit for dangerous goods (道路危险货物运输许可) of the vehicle.
    pub dangerous_goods_permit_number: String,
    /// The permit's last valid day: past it, the vehicle takes no hazardous waste over.
    /// Absent: not recorded (not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_goods_permit_valid_until: Option<NaiveDate>,
    /// The day the vehicle left the fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn vehicle_view(row: VehicleRow) -> VehicleView {
    VehicleView {
        id: row.id,
        operator_id: row.operator_id,
        plate: row.plate,
        dangerous_goods_permit_number: row.dangerous_goods_permit_number,
        dangerous_goods_permit_valid_until: row.dangerous_goods_permit_valid_until,
        retired_on: row.retired_on,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// The kind of a fleet's operator: a carrier or a disposal company, or a field error.
pub fn check_operator(conn: &mut DbConn, operator_id: &str) -> Result<(), ApiError> {
    let kind = find_organization(conn, operator_id)?.map(|o| o.kind);
    match kind.as_deref() {
        Some("carrier" | "disposal_company") => Ok(()),
        Some(_) => Err(ApiError::field(
            "operator_id",
            "not_an_operator",
            "vehicles belong to a carrier or a disposal company",
        )),
        None => Err(ApiError::field(
            "operator_id",
            "not_found",
            "no such organisation",
        )),
    }
}

pub fn add_vehicle(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    operator_id: &str,
    plate: String,
    (permit, valid_until): (String, Option<NaiveDate>),
) -> Result<VehicleView, ApiError> {
    if store::active_plate_taken(conn, &plate)? {
        return Err(ApiError::field(
            "plate",
            "taken",
            "a vehicle in service already has this plate",
        ));
    }
    let row = VehicleRow {
        id: new_id("veh"),
        operator_id: operator_id.to_owned(),
        plate,
        dangerous_goods_permit_number: permit,
        retired_on: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        dangerous_goods_permit_valid_until: valid_until,
    };
    store::insert_vehicle(conn, &row).map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            ApiError::field(
                "plate",
                "taken",
                "a vehicle in service already has this plate",
            )
        } else {
            e.into()
        }
    })?;
    let view = vehicle_view(row);
    history::record(conn, Entity::Vehicle, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Changes the permit of a vehicle of a fleet the principal manages, or takes it out of (or
/// back into) service.
pub fn update_vehicle(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    (permit, valid_until): (Option<String>, Option<NaiveDate>),
    retired_on: Option<Option<NaiveDate>>,
) -> Result<VehicleView, ApiError> {
    let mut row = load_vehicle(conn, id)?;
    authorize(
        principal,
        Action::ManageVehicles {
            operator_id: &row.operator_id,
        },
    )?;
    let by = principal.user_id.as_str();
    if let Some(p) = permit {
        row.dangerous_goods_permit_number = p;
    }
    if let Some(v) = valid_until {
        row.dangerous_goods_permit_valid_until = Some(v);
    }
    if let Some(r) = retired_on {
        if r.is_none() && row.retired_on.is_some() && store::active_plate_taken(conn, &row.plate)? {
            return Err(ApiError::field(
                "retired_on",
                "plate_taken",
                "another vehicle in service now has this plate",
            ));
        }
        row.retired_on = r;
    }
    row.updated_at = now.naive_utc();
    store::save_vehicle(conn, &row)?;
    let view = vehicle_view(row);
    history::record(conn, Entity::Vehicle, &view.id, Some(by), now, &view)?;
    Ok(view)
}

pub fn load_vehicle(conn: &mut DbConn, id: &str) -> Result<VehicleRow, ApiError> {
    store::find_vehicle(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ee",
    "name": "Shenzhen Municipal Ecology and Environment Bureau, Longgang Office",
    "jurisdiction": "440307",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct BureauView {
    pub id: String,
    pub name: String,
    /// Region-code prefix of the regions the bureau supervises (2, 4 or 6 digits).
    pub jurisdiction: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn bureau_view(store::Bureau { bureau: row, name }: store::Bureau) -> BureauView {
    BureauView {
        id: row.organization_id,
        name,
        jurisdiction: row.jurisdiction,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub fn create_bureau(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    name: String,
    jurisdiction: Jurisdiction,
) -> Result<BureauView, ApiError> {
    let org = create_organization(
        conn,
        now,
        NewOrganization {
            kind: OrganizationKind::EnvironmentBureau,
            name,
        },
    )?;
    let row = BureauRow {
        organization_id: org.id,
        jurisdiction: jurisdiction.as_str().to_owned(),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert_bureau(conn, &row)?;
    let view = bureau_view(store::Bureau {
        bureau: row,
        name: org.name,
    });
    history::record(conn, Entity::Bureau, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Renames a bureau or changes its jurisdiction.
pub fn update_bureau(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    id: &str,
    new_name: Option<String>,
    jurisdiction: Option<Jurisdiction>,
) -> Result<BureauView, ApiError> {
    let store::Bureau {
        bureau: mut row,
        mut name,
    } = load_bureau(conn, id)?;
    if let Some(n) = new_name {
        rename_organization(conn, &row.organization_id, &n, now.naive_utc())?;
        name = n;
    }
    if let Some(j) = jurisdiction {
        row.jurisdiction = j.as_str().to_owned();
    }
    row.updated_at = now.naive_utc();
    store::save_bureau(conn, &row)?;
    let view = bureau_view(store::Bureau { bureau: row, name });
    history::record(conn, Entity::Bureau, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// The environment bureaus whose jurisdiction covers a region: whose inspectors are told of
/// what happens there.
pub fn bureaus_over(conn: &mut DbConn, region_code: &str) -> Result<Vec<String>, ApiError> {
    Ok(store::all_bureaus(conn)?
        .into_iter()
        .filter(|b| crate::domain::region::in_jurisdiction(region_code, &b.jurisdiction))
        .map(|b| b.organization_id)
        .collect())
}

pub fn load_bureau(conn: &mut DbConn, id: &str) -> Result<store::Bureau, ApiError> {
    store::find_bureau(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

/// Licences are announced this many days before they end.
pub const LICENCE_NOTICE_DAYS: i64 = 30;

/// Tells, once each, the licences ending within [`LICENCE_NOTICE_DAYS`]: to the disposal
/// company and the park offices of the parks whose contracts it is party to. Returns how many
/// were told.
pub fn tell_expiring_licences(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut told = 0;
    // Counted in the same zone as GET /expirations, so both give the same days left.
    let today = crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE);
    let ending = store::licences_ending(
        conn,
        today,
        today + chrono::Duration::days(LICENCE_NOTICE_DAYS),
        None,
    )?;
    for crate::registry::directory::store::Licence {
        licence,
        disposer_name,
    } in ending
    {
        let key = format!("licence:{}:{}", licence.id, licence.valid_to);
        let mut audience = vec![licence.disposer_id.clone()];
        audience.extend(crate::registry::contracts::store::parks_of_disposer(
            conn,
            &licence.disposer_id,
        )?);
        let notice = crate::notify::service::Notice {
            type_: "licence.expiring",
            subject_id: &licence.id,
            title: format!(
                "Licence {} of {disposer_name} ends on {}",
                licence.number, licence.valid_to
            ),
            data: serde_json::json!({
                "licence_id": licence.id,
                "number": licence.number,
                "disposer_id": licence.disposer_id,
                "disposer_name": disposer_name,
                "valid_to": licence.valid_to,
                "days_left": (licence.valid_to - today).num_days(),
            }),
        };
        if crate::notify::alarms::tell_once(conn, now, &key, &audience, &notice)? {
            told += 1;
        }
    }
    Ok(told)
}

/// One page of the disposal companies within `scope`.
pub fn list_disposers(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<DisposerView>, ApiError> {
    let rows = store::list_disposers(conn, scope, page)?;
    Ok(
        Page::from_rows(rows, page.limit, |r| r.disposer.organization_id.as_str())
            .map(disposer_view),
    )
}

/// A disposal company.
pub fn get_disposer(conn: &mut DbConn, id: &str) -> Result<DisposerView, ApiError> {
    load_disposer(conn, id).map(disposer_view)
}

/// The versions of a disposal company.
pub fn disposer_history(
    conn: &mut DbConn,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_disposer(conn, id)?;
    history::list(conn, Entity::Disposer, id, query, page)
}

/// Records a licence of an existing disposal company (see [`add_licence`]).
pub fn record_licence(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    disposer_id: &str,
    new: NewLicence,
) -> Result<LicenceView, ApiError> {
    load_disposer(conn, disposer_id)?;
    add_licence(conn, now, by, disposer_id, new)
}

/// The licences of a disposal company, in order of validity.
pub fn list_licences(conn: &mut DbConn, disposer_id: &str) -> Result<Vec<LicenceView>, ApiError> {
    load_disposer(conn, disposer_id)?;
    Ok(store::licences_of(conn, disposer_id)?
        .into_iter()
        .map(licence_view)
        .collect())
}

/// One page of the carriers within `scope`.
pub fn list_carriers(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<CarrierView>, ApiError> {
    let rows = store::list_carriers(conn, scope, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.carrier.organization_id.as_str()).map(carrier_view))
}

/// A carrier.
pub fn get_carrier(conn: &mut DbConn, id: &str) -> Result<CarrierView, ApiError> {
    load_carrier(conn, id).map(carrier_view)
}

/// The versions of a carrier.
pub fn carrier_history(
    conn: &mut DbConn,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_carrier(conn, id)?;
    history::list(conn, Entity::Carrier, id, query, page)
}

/// Registers a vehicle in a fleet the principal manages (see [`add_vehicle`]).
pub fn register_vehicle(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    operator_id: &str,
    plate: String,
    permit: (String, Option<NaiveDate>),
) -> Result<VehicleView, ApiError> {
    authorize(principal, Action::ManageVehicles { operator_id })?;
    check_operator(conn, operator_id)?;
    add_vehicle(conn, now, &principal.user_id, operator_id, plate, permit)
}

/// One page of the vehicles, of one fleet or all.
pub fn list_vehicles(
    conn: &mut DbConn,
    operator_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<VehicleView>, ApiError> {
    let rows = store::list_vehicles(conn, operator_id, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id.as_str()).map(vehicle_view))
}

/// A driver of a fleet, as a dispatcher names them in a schedule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed", "username": "driver.1", "display_name": "王师傅"}))]
pub struct DriverView {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// The active drivers of a fleet (a carrier, or a disposal company's own).
pub fn list_drivers(conn: &mut DbConn, operator_id: &str) -> Result<Vec<DriverView>, ApiError> {
    // A fleet is a carrier's or a disposal company's: any other id names none.
    let kind = find_organization(conn, operator_id)?.map(|o| o.kind);
    if !matches!(kind.as_deref(), Some("carrier" | "disposal_company")) {
        return Err(ApiError::NotFound(NOT_VISIBLE));
    }
    Ok(crate::identity::store::drivers_of(conn, operator_id)?
        .into_iter()
        .map(|u| DriverView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
        })
        .collect())
}

/// Loads a vehicle of a fleet the principal may read (404 otherwise).
fn load_readable_vehicle(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<VehicleRow, ApiError> {
    let row = load_vehicle(conn, id)?;
    authorize(
        principal,
        Action::ReadVehicles {
            operator_id: &row.operator_id,
        },
    )?;
    Ok(row)
}

/// A vehicle of a fleet the principal may read.
pub fn get_vehicle(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<VehicleView, ApiError> {
    load_readable_vehicle(conn, principal, id).map(vehicle_view)
}

/// The versions of a vehicle of a fleet the principal may read.
pub fn vehicle_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_readable_vehicle(conn, principal, id)?;
    history::list(conn, Entity::Vehicle, id, query, page)
}

/// One page of the bureaus within `scope`.
pub fn list_bureaus(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<BureauView>, ApiError> {
    let rows = store::list_bureaus(conn, scope, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.bureau.organization_id.as_str()).map(bureau_view))
}

/// An environment bureau.
pub fn get_bureau(conn: &mut DbConn, id: &str) -> Result<BureauView, ApiError> {
    load_bureau(conn, id).map(bureau_view)
}
