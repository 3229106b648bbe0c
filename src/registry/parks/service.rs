//! Use cases on parks and enterprises. Each runs inside the caller's write transaction and
//! records a revision of what it changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, Scope, authorize};
use crate::db::DbConn;
use crate::domain::identity::OrganizationKind;
use crate::domain::park::{Consignor, PermitTerms, consignor};
use crate::domain::region::RegionCode;
use crate::domain::uscc::Uscc;
use crate::domain::waste::{CatalogRef, WasteKind, join_refs, split_refs};
use crate::error::NOT_VISIBLE;
use crate::error::{ApiError, FieldError};
use crate::http::pagination::PageRequest;
use crate::http::{Page, PageQuery};
use crate::identity::service::{NewOrganization, create_organization};
use crate::identity::store::rename_organization;
use crate::registry::history::{self, Entity, HistoryQuery, Revision};
use crate::registry::parks::store::{self, EnterpriseRow, ParkRow};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "name": "Longgang Green Technology Park",
    "region_code": "440307",
    "address": "Longgang District, Shenzhen",
    "time_zone": "Asia/Shanghai",
    "uscc": "12440300MB2C00005K",
    "collection_permit_number": "440300-HW-2026-012",
    "permit_valid_from": "2026-01-01",
    "permit_valid_until": "2030-12-31",
    "permit_scope": ["HW08", "HW49"],
    "permit_annual_capacity_grams": 500000000000i64,
    "consignor": "park_warehouse",
    "require_official_number": false,
    "label_scan_general": true,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct ParkView {
    /// The id of the park's management-office organisation.
    pub id: String,
    pub name: String,
    /// GB/T 2260 code of the county-level region.
    pub region_code: String,
    pub address: String,
    /// IANA time zone in which the park's days and billing periods are counted.
    pub time_zone: String,
    /// The park management office's Unified Social Credit Code (GB 32100-2015), shown for the
    /// park as consignor on manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// The warehouse's hazardous-waste collection permit, if it holds one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_permit_number: Option<String>,
    /// The permit's first valid day (in the park's time zone); absent: no lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit_valid_from: Option<NaiveDate>,
    /// The permit's last valid day (in the park's time zone); absent: no upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit_valid_until: Option<NaiveDate>,
    /// HW categories and hazardous codes the permit covers; empty covers every hazardous code
    /// (a permit recorded as a number alone).
    pub permit_scope: Vec<String>,
    /// The most the park's shared zones may take in per calendar year (park's time zone), in
    /// grams; a weighing beyond it is refused (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit_annual_capacity_grams: Option<i64>,
    /// Who signs outbound manifests as consignor: decided by the collection permit.
    pub consignor: Consignor,
    /// Whether the carrier may take hazardous waste over only once the manifest carries the
    /// official number the national information system assigned (`PUT
    /// /manifests/{id}/official-number`).
    pub require_official_number: bool,
    /// Whether the driver scans the label of every container of general waste at collection
    /// (`scanned_labels`); hazardous waste is always scanned.
    pub label_scan_general: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn park_view(crate::registry::parks::store::Park { park: row, name }: store::Park) -> ParkView {
    ParkView {
        consignor: consignor(row.collection_permit_number.as_deref()),
        id: row.organization_id,
        name,
        region_code: row.region_code,
        address: row.address,
        time_zone: row.time_zone,
        uscc: row.uscc,
        collection_permit_number: row.collection_permit_number,
        permit_valid_from: row.permit_valid_from,
        permit_valid_until: row.permit_valid_until,
        permit_scope: split_refs(&row.permit_scope)
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        permit_annual_capacity_grams: row.permit_annual_capacity_grams,
        require_official_number: row.require_official_number,
        label_scan_general: row.label_scan_general,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// The collection permit's dates, coverage and capacity, as given.
#[derive(Debug, Clone, Default)]
pub struct PermitDetails {
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub scope: Vec<CatalogRef>,
    pub annual_capacity_grams: Option<i64>,
}

pub struct NewPark {
    pub name: String,
    pub region_code: RegionCode,
    pub address: String,
    pub time_zone: chrono_tz::Tz,
    pub uscc: Option<Uscc>,
    pub collection_permit_number: Option<String>,
    pub permit: PermitDetails,
    pub require_official_number: bool,
    pub label_scan_general: bool,
}

/// What the rules need to know of a park's collection permit.
pub fn permit_terms(row: &ParkRow) -> PermitTerms {
    PermitTerms {
        number: row.collection_permit_number.clone(),
        valid_from: row.permit_valid_from,
        valid_until: row.permit_valid_until,
        scope: split_refs(&row.permit_scope),
        annual_capacity_grams: row.permit_annual_capacity_grams,
    }
}

/// Checks a park's permit as it would stand: dates in order, coverage of hazardous waste in
/// the catalog, details only with a number.
fn check_permit(conn: &mut DbConn, now: DateTime<Utc>, row: &ParkRow) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let (Some(from), Some(until)) = (row.permit_valid_from, row.permit_valid_until)
        && until < from
    {
        errors.push(FieldError::new(
            "permit_valid_until",
            "before_start",
            "must not be before permit_valid_from",
        ));
    }
    let scope = split_refs(&row.permit_scope);
    for (i, r) in scope.iter().enumerate() {
        if r.kind() != WasteKind::Hazardous {
            errors.push(FieldError::new(
                format!("permit_scope[{i}]"),
                "not_hazardous",
                format!("{r} is general waste: a collection permit covers HW categories and codes"),
            ));
        }
    }
    errors.extend(crate::registry::catalog::service::check_refs_exist(
        conn,
        |i| format!("permit_scope[{i}]"),
        &scope,
        row.permit_valid_from.unwrap_or(now.date_naive()),
    )?);
    let has_details = row.permit_valid_from.is_some()
        || row.permit_valid_until.is_some()
        || !scope.is_empty()
        || row.permit_annual_capacity_grams.is_some();
    if has_details && row.collection_permit_number.is_none() {
        errors.push(FieldError::new(
            "collection_permit_number",
            "required",
            "a permit's dates, coverage or capacity need its number",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub fn create_park(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    new: NewPark,
) -> Result<ParkView, ApiError> {
    let org = create_organization(
        conn,
        now,
        NewOrganization {
            kind: OrganizationKind::Park,
            name: new.name,
        },
    )?;
    let row = ParkRow {
        organization_id: org.id.clone(),
        region_code: new.region_code.as_str().to_owned(),
        address: new.address,
        time_zone: new.time_zone.name().to_owned(),
        collection_permit_number: new.collection_permit_number,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        require_official_number: new.require_official_number,
        uscc: new.uscc.map(|u| u.as_str().to_owned()),
        permit_valid_from: new.permit.valid_from,
        permit_valid_until: new.permit.valid_until,
        permit_scope: join_refs(&new.permit.scope),
        permit_annual_capacity_grams: new.permit.annual_capacity_grams,
        label_scan_general: new.label_scan_general,
    };
    check_permit(conn, now, &row)?;
    store::insert_park(conn, &row)?;
    store::set_day_phase(
        conn,
        &row.organization_id,
        crate::domain::time::day_phase_minutes(new.time_zone),
    )?;
    let view = park_view(crate::registry::parks::store::Park {
        park: row,
        name: org.name,
    });
    history::record(conn, Entity::Park, &view.id, Some(by), now, &view)?;
    Ok(view)
}

#[derive(Default)]
pub struct ParkChanges {
    pub name: Option<String>,
    pub address: Option<String>,
    pub time_zone: Option<chrono_tz::Tz>,
    pub uscc: Option<Option<Uscc>>,
    pub collection_permit_number: Option<Option<String>>,
    pub permit_valid_from: Option<Option<NaiveDate>>,
    pub permit_valid_until: Option<Option<NaiveDate>>,
    pub permit_scope: Option<Vec<CatalogRef>>,
    pub permit_annual_capacity_grams: Option<Option<i64>>,
    pub require_official_number: Option<bool>,
    pub label_scan_general: Option<bool>,
}

/// Changes a park the principal may update.
pub fn update_park(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    changes: ParkChanges,
) -> Result<ParkView, ApiError> {
    let park = load_park(conn, id)?;
    authorize(principal, Action::UpdatePark(place(&park)))?;
    let by = principal.user_id.as_str();
    let crate::registry::parks::store::Park {
        park: mut row,
        mut name,
    } = park;
    if let Some(new_name) = changes.name {
        rename_organization(conn, &row.organization_id, &new_name, now.naive_utc())?;
        name = new_name;
    }
    if let Some(address) = changes.address {
        row.address = address;
    }
    if let Some(tz) = changes.time_zone {
        row.time_zone = tz.name().to_owned();
        store::set_day_phase(
            conn,
            &row.organization_id,
            crate::domain::time::day_phase_minutes(tz),
        )?;
    }
    if let Some(uscc) = changes.uscc {
        row.uscc = uscc.map(|u| u.as_str().to_owned());
    }
    if let Some(permit) = changes.collection_permit_number {
        // Removing the permit removes its details with it.
        if permit.is_none() {
            row.permit_valid_from = None;
            row.permit_valid_until = None;
            row.permit_scope = String::new();
            row.permit_annual_capacity_grams = None;
        }
        row.collection_permit_number = permit;
    }
    if let Some(v) = changes.permit_valid_from {
        row.permit_valid_from = v;
    }
    if let Some(v) = changes.permit_valid_until {
        row.permit_valid_until = v;
    }
    if let Some(scope) = changes.permit_scope {
        row.permit_scope = join_refs(&scope);
    }
    if let Some(v) = changes.permit_annual_capacity_grams {
        row.permit_annual_capacity_grams = v;
    }
    check_permit(conn, now, &row)?;
    if let Some(required) = changes.require_official_number {
        row.require_official_number = required;
    }
    if let Some(scan) = changes.label_scan_general {
        row.label_scan_general = scan;
    }
    row.updated_at = now.naive_utc();
    store::save_park(conn, &row)?;
    let view = park_view(crate::registry::parks::store::Park { park: row, name });
    history::record(conn, Entity::Park, &view.id, Some(by), now, &view)?;
    Ok(view)
}

/// Loads a park or answers 404.
pub fn load_park(conn: &mut DbConn, id: &str) -> Result<store::Park, ApiError> {
    store::find_park(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub fn place(park: &store::Park) -> Place<'_> {
    Place {
        park_id: &park.park.organization_id,
        region_code: &park.park.region_code,
    }
}

/// The park's time zone (Asia/Shanghai if the stored name no longer parses).
pub fn park_time_zone(row: &ParkRow) -> chrono_tz::Tz {
    row.time_zone
        .parse()
        .unwrap_or(crate::domain::park::DEFAULT_TIME_ZONE)
}

/// The park's first day, in its time zone: parks record no opening date, so the day it was
/// registered here. Nothing is billed for a month that ended before it.
pub fn park_first_day(row: &ParkRow) -> NaiveDate {
    row.created_at
        .and_utc()
        .with_timezone(&park_time_zone(row))
        .date_naive()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.",
    "uscc": "91440300MA5F000181",
    "contact_name": "Chen Jie",
    "contact_phone": "13800138000",
    "joined_on": "2026-01-01",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct EnterpriseView {
    pub id: String,
    pub park_id: String,
    pub name: String,
    /// Unified Social Credit Code (GB 32100-2015).
    pub uscc: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// Day the enterprise joined the park.
    pub joined_on: NaiveDate,
    /// Day the enterprise left the park (it is no longer in the park on that day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn enterprise_view(
    crate::registry::parks::store::Enterprise {
        enterprise: row,
        name,
        region_code: _region,
    }: store::Enterprise,
) -> EnterpriseView {
    EnterpriseView {
        id: row.organization_id,
        park_id: row.park_id,
        name,
        uscc: row.uscc,
        contact_name: row.contact_name,
        contact_phone: row.contact_phone,
        joined_on: row.joined_on,
        left_on: row.left_on,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub struct NewEnterprise {
    pub name: String,
    pub uscc: Uscc,
    pub contact_name: String,
    pub contact_phone: String,
    pub joined_on: Option<NaiveDate>,
}

/// Registers an enterprise in `park`. Its credit code must be unused; it joins today (in the
/// park's time zone) unless a date is given.
pub fn create_enterprise(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    park: &store::Park,
    new: NewEnterprise,
) -> Result<EnterpriseView, ApiError> {
    if store::uscc_taken(conn, new.uscc.as_str())? {
        return Err(ApiError::field(
            "uscc",
            "taken",
            "an enterprise with this credit code is already registered",
        ));
    }
    let org = create_organization(
        conn,
        now,
        NewOrganization {
            kind: OrganizationKind::Enterprise,
            name: new.name,
        },
    )?;
    let row = EnterpriseRow {
        organization_id: org.id,
        park_id: park.park.organization_id.clone(),
        uscc: new.uscc.as_str().to_owned(),
        contact_name: new.contact_name,
        contact_phone: new.contact_phone,
        joined_on: new
            .joined_on
            .unwrap_or_else(|| crate::domain::time::local_date(now, park_time_zone(&park.park))),
        left_on: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert_enterprise(conn, &row).map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            ApiError::field(
                "uscc",
                "taken",
                "an enterprise with this credit code is already registered",
            )
        } else {
            e.into()
        }
    })?;
    let view = enterprise_view(crate::registry::parks::store::Enterprise {
        enterprise: row,
        name: org.name,
        region_code: park.park.region_code.clone(),
    });
    history::record(conn, Entity::Enterprise, &view.id, Some(by), now, &view)?;
    Ok(view)
}

#[derive(Default)]
pub struct EnterpriseChanges {
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub left_on: Option<Option<NaiveDate>>,
}

/// Changes an enterprise the principal may update.
pub fn update_enterprise(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    changes: EnterpriseChanges,
) -> Result<EnterpriseView, ApiError> {
    let e = load_enterprise(conn, id)?;
    authorize(
        principal,
        Action::UpdateEnterprise {
            enterprise_id: &e.enterprise.organization_id,
            place: enterprise_place(&e),
        },
    )?;
    let by = principal.user_id.as_str();
    let crate::registry::parks::store::Enterprise {
        enterprise: mut row,
        mut name,
        region_code: region,
    } = e;
    if let Some(Some(left_on)) = changes.left_on
        && left_on <= row.joined_on
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "left_on",
            "before_joining",
            "must be after the day the enterprise joined",
        )]));
    }
    if let Some(Some(left_on)) = changes.left_on {
        // A contract membership cannot outlive the enterprise's presence in the park.
        let open: Vec<String> =
            crate::registry::contracts::store::memberships_of(conn, &row.organization_id)?
                .into_iter()
                .filter(
                    |crate::registry::contracts::store::Membership {
                         member: m,
                         contract_number: _,
                     }| m.left_on.is_none_or(|l| l > left_on),
                )
                .map(
                    |crate::registry::contracts::store::Membership {
                         member: _,
                         contract_number: number,
                     }| number,
                )
                .collect();
        if !open.is_empty() {
            return Err(ApiError::field(
                "left_on",
                "member_of_contract",
                format!(
                    "the enterprise is a member of contract {} after that day; end its membership first",
                    open.join(", ")
                ),
            ));
        }
    }
    if let Some(new_name) = changes.name {
        rename_organization(conn, &row.organization_id, &new_name, now.naive_utc())?;
        name = new_name;
    }
    if let Some(v) = changes.contact_name {
        row.contact_name = v;
    }
    if let Some(v) = changes.contact_phone {
        row.contact_phone = v;
    }
    if let Some(v) = changes.left_on {
        row.left_on = v;
    }
    row.updated_at = now.naive_utc();
    store::save_enterprise(conn, &row)?;
    let view = enterprise_view(crate::registry::parks::store::Enterprise {
        enterprise: row,
        name,
        region_code: region,
    });
    history::record(conn, Entity::Enterprise, &view.id, Some(by), now, &view)?;
    Ok(view)
}

pub fn load_enterprise(conn: &mut DbConn, id: &str) -> Result<store::Enterprise, ApiError> {
    store::find_enterprise(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub fn enterprise_place(e: &store::Enterprise) -> Place<'_> {
    Place {
        park_id: &e.enterprise.park_id,
        region_code: &e.region_code,
    }
}

/// Loads a park the principal may read (404 otherwise).
fn load_readable_park(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Park, ApiError> {
    let park = load_park(conn, id)?;
    authorize(principal, Action::ReadPark(place(&park)))?;
    Ok(park)
}

/// Loads an enterprise the principal may read (404 otherwise).
fn load_readable_enterprise(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Enterprise, ApiError> {
    let e = load_enterprise(conn, id)?;
    authorize(
        principal,
        Action::ReadEnterprise {
            enterprise_id: &e.enterprise.organization_id,
            place: enterprise_place(&e),
        },
    )?;
    Ok(e)
}

/// One page of the parks within `scope`.
pub fn list_parks(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<ParkView>, ApiError> {
    let rows = store::list_parks(conn, scope, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.park.organization_id.as_str()).map(park_view))
}

/// A park the principal may read.
pub fn get_park(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ParkView, ApiError> {
    load_readable_park(conn, principal, id).map(park_view)
}

/// The versions of a park the principal may read.
pub fn park_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_readable_park(conn, principal, id)?;
    history::list(conn, Entity::Park, id, query, page)
}

/// Registers an enterprise in a park the principal manages: 404 for a park it may not see.
pub fn register_enterprise(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    new: NewEnterprise,
) -> Result<EnterpriseView, ApiError> {
    let park = load_park(conn, park_id)?;
    authorize(principal, Action::ManagePark(place(&park)))?;
    create_enterprise(conn, now, &principal.user_id, &park, new)
}

/// One page of the enterprises within `scope`, optionally of one park.
pub fn list_enterprises(
    conn: &mut DbConn,
    scope: &Scope,
    park_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<EnterpriseView>, ApiError> {
    let rows = store::list_enterprises(conn, scope, park_id, page)?;
    Ok(
        Page::from_rows(rows, page.limit, |r| r.enterprise.organization_id.as_str())
            .map(enterprise_view),
    )
}

/// An enterprise the principal may read.
pub fn get_enterprise(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<EnterpriseView, ApiError> {
    load_readable_enterprise(conn, principal, id).map(enterprise_view)
}

/// The versions of an enterprise the principal may read.
pub fn enterprise_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_readable_enterprise(conn, principal, id)?;
    history::list(conn, Entity::Enterprise, id, query, page)
}
