//! Use cases of the waste profiles: read, replace (a new version, the replaced one kept in the
//! registry's revisions with who and when), and the flag a new lot gets when its code is not in
//! its enterprise's profile.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConn;
use crate::domain::ids::LotId;
use crate::domain::units::MAX_GRAMS;
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, FieldError, Validator};
use crate::profiles::store::{self, FlagRow, ProfileRow, StoragePointRow, WasteRow};
use crate::registry::history::{self, Entity};
use crate::registry::parks::service as parks;
use crate::registry::parks::store::Enterprise;

/// Kinds of waste a profile lists, at most (with the storage points, the longest profile fits
/// in the 64 KiB body limit).
pub const MAX_WASTES: usize = 100;
/// Storage points a profile lists, at most.
pub const MAX_STORAGE_POINTS: usize = 20;
/// Longest name of a storage point (as every `name`), and of its location.
pub const POINT_NAME_MAX: usize = crate::registry::parks::routes::NAME_MAX;
pub const LOCATION_MAX: usize = 200;
/// How an enterprise handles a kind of waste today.
pub const HANDLINGS: &[&str] = &["park_warehouse", "own_contract", "recycler"];

/// Loads an enterprise and checks that the principal may read its compliance.
pub fn readable(
    conn: &mut DbConn,
    principal: &Principal,
    enterprise_id: &str,
) -> Result<Enterprise, ApiError> {
    let e = parks::load_enterprise(conn, enterprise_id)?;
    authorize(
        principal,
        Action::ReadCompliance {
            enterprise_id: &e.enterprise.organization_id,
            place: parks::enterprise_place(&e),
        },
    )?;
    Ok(e)
}

/// Loads an enterprise and checks that the principal may keep its compliance.
pub fn writable(
    conn: &mut DbConn,
    principal: &Principal,
    enterprise_id: &str,
) -> Result<Enterprise, ApiError> {
    let e = parks::load_enterprise(conn, enterprise_id)?;
    authorize(
        principal,
        Action::ManageCompliance {
            enterprise_id: &e.enterprise.organization_id,
            place: parks::enterprise_place(&e),
        },
    )?;
    Ok(e)
}

/// A kind of waste the enterprise produces.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileWasteRequest {
    /// A code of the catalog, not withdrawn.
    pub waste_code: String,
    /// Expected quantity per month, in grams (0 for waste produced now and then).
    pub grams_per_month: i64,
    /// `park_warehouse` (handed in to the park's warehouse), `own_contract` (its own licensed
    /// contract) or `recycler` (sold or given to a recycler).
    pub handling: String,
}

/// A storage point inside the enterprise's premises.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoragePointRequest {
    pub name: String,
    /// Where it is (building, floor, room).
    pub location: String,
    /// What it holds at most, in grams.
    pub capacity_grams: Option<i64>,
}

/// The whole profile of an enterprise: what it produces, how much, how it handles each kind
/// today, where it stores waste on its premises. A PUT replaces the profile as a new version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "person_in_charge": "Chen Jie",
    "person_phone": "13800138000",
    "note": "recorded at the site visit of 2026-11-20",
    "wastes": [
        {"waste_code": "900-249-08", "grams_per_month": 300000, "handling": "park_warehouse"},
        {"waste_code": "900-003-S59", "grams_per_month": 1200000, "handling": "recycler"}
    ],
    "storage_points": [
        {"name": "Hazardous waste cabinet", "location": "Building 3, ground floor, east door", "capacity_grams": 500000}
    ]
}))]
pub struct ProfileRequest {
    /// The person in charge of the enterprise's waste (负责人).
    pub person_in_charge: Option<String>,
    /// Their telephone.
    pub person_phone: Option<String>,
    pub note: Option<String>,
    /// At most 100 kinds, each code once.
    pub wastes: Vec<ProfileWasteRequest>,
    /// At most 20.
    #[serde(default)]
    pub storage_points: Vec<StoragePointRequest>,
}

/// A profile checked field by field.
pub struct NewProfile {
    person_in_charge: Option<String>,
    person_phone: Option<String>,
    note: Option<String>,
    wastes: Vec<(WasteCode, i64, String)>,
    points: Vec<(String, String, Option<i64>)>,
}

fn optional_text(v: &mut Validator, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
    let t = v.text(field, raw?, 0, max);
    (!t.is_empty()).then_some(t)
}

/// Checks a profile, every bad field reported at once (field names such as
/// `wastes[2].waste_code`).
pub fn parse(body: ProfileRequest) -> Result<NewProfile, ApiError> {
    let mut v = Validator::new();
    let person_in_charge = optional_text(
        &mut v,
        "person_in_charge",
        body.person_in_charge.as_deref(),
        crate::registry::parks::routes::PERSON_MAX,
    );
    let person_phone = body
        .person_phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| v.check(crate::domain::text::parse_phone("person_phone", p)));
    let note = optional_text(&mut v, "note", body.note.as_deref(), 500);
    if body.wastes.len() > MAX_WASTES {
        v.push(FieldError::new(
            "wastes",
            "too_long",
            format!("at most {MAX_WASTES} kinds of waste"),
        ));
    }
    if body.storage_points.len() > MAX_STORAGE_POINTS {
        v.push(FieldError::new(
            "storage_points",
            "too_long",
            format!("at most {MAX_STORAGE_POINTS} storage points"),
        ));
    }
    let mut wastes: Vec<(WasteCode, i64, String)> = Vec::new();
    for (i, w) in body.wastes.iter().enumerate().take(MAX_WASTES) {
        let code = v.check(WasteCode::parse(
            &format!("wastes[{i}].waste_code"),
            &w.waste_code,
        ));
        if !(0..=MAX_GRAMS).contains(&w.grams_per_month) {
            v.push(FieldError::new(
                format!("wastes[{i}].grams_per_month"),
                "out_of_range",
                format!("must be a whole number of grams from 0 to {MAX_GRAMS}"),
            ));
        }
        let handling = w.handling.trim();
        if !HANDLINGS.contains(&handling) {
            v.push(FieldError::new(
                format!("wastes[{i}].handling"),
                "invalid",
                format!("must be one of: {}", HANDLINGS.join(", ")),
            ));
        }
        if let Some(code) = code {
            if wastes.iter().any(|(c, ..)| c == &code) {
                v.push(FieldError::new(
                    format!("wastes[{i}].waste_code"),
                    "duplicate",
                    "each code is listed once",
                ));
            }
            wastes.push((code, w.grams_per_month, handling.to_owned()));
        }
    }
    let mut points = Vec::new();
    for (i, p) in body
        .storage_points
        .iter()
        .enumerate()
        .take(MAX_STORAGE_POINTS)
    {
        let name = v.text(
            &format!("storage_points[{i}].name"),
            &p.name,
            1,
            POINT_NAME_MAX,
        );
        let location = v.text(
            &format!("storage_points[{i}].location"),
            &p.location,
            1,
            LOCATION_MAX,
        );
        let capacity = p.capacity_grams.and_then(|c| {
            v.check(crate::domain::units::positive_grams(
                &format!("storage_points[{i}].capacity_grams"),
                c,
            ))
        });
        points.push((name, location, capacity));
    }
    v.finish()?;
    Ok(NewProfile {
        person_in_charge,
        person_phone,
        note,
        wastes,
        points,
    })
}

/// A kind of waste in a profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileWaste {
    pub waste_code: String,
    /// The code's category (`HW08`, `S59`).
    pub category: String,
    /// `hazardous` or `general`.
    pub kind: String,
    pub grams_per_month: i64,
    pub handling: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoragePoint {
    pub name: String,
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_grams: Option<i64>,
}

/// An enterprise's waste profile, as of its latest version.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "version": 2,
    "person_in_charge": "Chen Jie",
    "person_phone": "13800138000",
    "wastes": [
        {"waste_code": "900-249-08", "category": "HW08", "kind": "hazardous", "grams_per_month": 300000, "handling": "park_warehouse"},
        {"waste_code": "900-003-S59", "category": "S59", "kind": "general", "grams_per_month": 1200000, "handling": "recycler"}
    ],
    "storage_points": [
        {"name": "Hazardous waste cabinet", "location": "Building 3, ground floor, east door", "capacity_grams": 500000}
    ],
    "updated_at": "2026-11-28T08:00:00Z",
    "updated_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6"
}))]
pub struct ProfileView {
    pub enterprise_id: String,
    pub park_id: String,
    /// 1 for the first profile, one more with each replacement.
    pub version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_in_charge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// By code.
    pub wastes: Vec<ProfileWaste>,
    pub storage_points: Vec<StoragePoint>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

fn waste_view(w: WasteRow) -> ProfileWaste {
    let (category, kind) = match WasteCode::parse("", &w.waste_code) {
        Ok(c) => (
            c.category().as_str().to_owned(),
            c.kind().as_str().to_owned(),
        ),
        Err(_) => (String::new(), String::new()),
    };
    ProfileWaste {
        waste_code: w.waste_code,
        category,
        kind,
        grams_per_month: w.grams_per_month,
        handling: w.handling,
    }
}

fn view(row: ProfileRow, wastes: Vec<WasteRow>, points: Vec<StoragePointRow>) -> ProfileView {
    ProfileView {
        enterprise_id: row.enterprise_id,
        park_id: row.park_id,
        version: row.version,
        person_in_charge: row.person_in_charge,
        person_phone: row.person_phone,
        note: row.note,
        wastes: wastes.into_iter().map(waste_view).collect(),
        storage_points: points
            .into_iter()
            .map(|p| StoragePoint {
                name: p.name,
                location: p.location,
                capacity_grams: p.capacity_grams,
            })
            .collect(),
        updated_at: row.updated_at.and_utc(),
        updated_by: row.updated_by,
    }
}

/// The enterprise's profile, if it has one.
/// The versions of the waste profile of an enterprise the principal may read, oldest first; with
/// `as_of`, the version in force then.
pub fn profile_versions(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &history::HistoryQuery,
    page: &crate::http::PageQuery,
) -> Result<crate::http::Page<history::Revision>, ApiError> {
    readable(conn, principal, id)?;
    history::list(conn, Entity::Profile, id, query, page)
}

/// The waste profile of an enterprise the principal may read.
pub fn read_profile(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<ProfileView, ApiError> {
    let e = readable(conn, principal, id)?;
    find(conn, &e.enterprise.organization_id)?.ok_or(ApiError::NotFound(
        "the enterprise has no waste profile yet",
    ))
}

/// Replaces the waste profile of an enterprise the principal may change: the next version.
pub fn replace_profile(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    body: ProfileRequest,
) -> Result<ProfileView, ApiError> {
    let e = writable(conn, principal, id)?;
    let new = parse(body)?;
    replace(conn, now, &principal.user_id, &e, new).map(|(v, _)| v)
}

pub fn find(conn: &mut DbConn, enterprise_id: &str) -> Result<Option<ProfileView>, ApiError> {
    let Some(row) = store::find_profile(conn, enterprise_id)? else {
        return Ok(None);
    };
    let wastes = store::wastes_of(conn, enterprise_id)?;
    let points = store::storage_points_of(conn, enterprise_id)?;
    Ok(Some(view(row, wastes, points)))
}

/// Replaces the enterprise's profile with a new version; the codes must be in the catalog and
/// not withdrawn on the park's today. Every version is kept (`revisions`, entity `profile`).
pub fn replace(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    enterprise: &Enterprise,
    new: NewProfile,
) -> Result<(ProfileView, bool), ApiError> {
    let park = parks::load_park(conn, &enterprise.enterprise.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let refs: Vec<CatalogRef> = new
        .wastes
        .iter()
        .map(|(c, ..)| CatalogRef::Code(c.clone()))
        .collect();
    let errors = crate::registry::catalog::service::check_refs_exist(
        conn,
        |i| format!("wastes[{i}].waste_code"),
        &refs,
        today,
    )?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = &enterprise.enterprise.organization_id;
    let previous = store::find_profile(conn, id)?;
    let row = ProfileRow {
        enterprise_id: id.clone(),
        park_id: enterprise.enterprise.park_id.clone(),
        person_in_charge: new.person_in_charge,
        person_phone: new.person_phone,
        note: new.note,
        version: previous.as_ref().map_or(1, |p| p.version.saturating_add(1)),
        updated_at: now.naive_utc(),
        updated_by: by.to_owned(),
    };
    let wastes: Vec<WasteRow> = new
        .wastes
        .into_iter()
        .map(|(code, grams, handling)| WasteRow {
            enterprise_id: id.clone(),
            waste_code: code.as_str().to_owned(),
            grams_per_month: grams,
            handling,
        })
        .collect();
    let points: Vec<StoragePointRow> = new
        .points
        .into_iter()
        .enumerate()
        .map(|(i, (name, location, capacity_grams))| StoragePointRow {
            enterprise_id: id.clone(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            name,
            location,
            capacity_grams,
        })
        .collect();
    store::replace_profile(conn, &row, previous.is_some(), &wastes, &points)?;
    let mut wastes = wastes;
    wastes.sort_by(|a, b| a.waste_code.cmp(&b.waste_code));
    let view = view(row, wastes, points);
    history::record(conn, Entity::Profile, id, Some(by), now, &view)?;
    Ok((view, previous.is_none()))
}

/// Flags a new lot whose code its enterprise's profile does not list (an enterprise without a
/// profile is not flagged): the lot is accepted, and the park office finds it in
/// `GET /anomalies?kind=outside_profile`. One read, and one insert for a flagged lot.
pub fn flag_new_lot(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lot: NewLot<'_>,
) -> Result<bool, ApiError> {
    let outside = outside_profile(conn, lot.enterprise_id, lot.waste_code)?;
    if outside {
        flag(conn, now, lot)?;
    }
    Ok(outside)
}

/// Whether the enterprise's profile leaves out `waste_code` (false without a profile): the read
/// of [`flag_new_lot`], for a caller that reads before it inserts the lot.
pub fn outside_profile(
    conn: &mut DbConn,
    enterprise_id: &str,
    waste_code: &str,
) -> Result<bool, ApiError> {
    Ok(store::profile_lists(conn, enterprise_id, waste_code)? == Some(false))
}

/// Flags a new lot as outside its enterprise's profile (see [`outside_profile`]).
pub fn flag(conn: &mut DbConn, now: DateTime<Utc>, lot: NewLot<'_>) -> Result<(), ApiError> {
    store::insert_flag(
        conn,
        &FlagRow {
            lot_id: lot.lot_id.to_owned(),
            park_id: lot.park_id.to_owned(),
            enterprise_id: lot.enterprise_id.to_owned(),
            waste_code: lot.waste_code.to_owned(),
            flagged_at: now.naive_utc(),
        },
    )?;
    Ok(())
}

/// What the flag needs of a new lot (the lots feature passes it, so that profiles stay below
/// lots).
#[derive(Debug, Clone, Copy)]
pub struct NewLot<'a> {
    pub lot_id: &'a LotId,
    pub park_id: &'a str,
    pub enterprise_id: &'a str,
    pub waste_code: &'a str,
}
