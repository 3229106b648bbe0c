//! The "five haves" (五个有) of an enterprise: a person in charge, a storage point, sorting,
//! labels and a disposal contract. Each is computed from the service's data where the data
//! says something, and otherwise taken from what the park office recorded (with who, when and
//! a note). The rules, over the last [`WINDOW_DAYS`] days of the park's time zone (today
//! included):
//!
//! - `person_in_charge`: the profile names a person in charge (no profile: the data says
//!   nothing);
//! - `storage_point`: the profile lists a storage point on the premises, or the enterprise has
//!   an own zone open today in the park's warehouses (neither, without a profile: nothing);
//! - `sorting`: every lot it handed in (weighed, not voided) carries a code of its profile (no
//!   lot flagged `outside_profile`) and lies in a zone of its kind whose categories take it
//!   (no lot: nothing);
//! - `labels`: every hazardous lot it handed in has a digital identification code on each
//!   container and its main components recorded, as the HJ 1276-2022 container label shows
//!   them (no hazardous lot: nothing);
//! - `contract`: it is a member of a contract of its park in force today (always known).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::waste::{CatalogRef, Category, split_refs};
use crate::error::{ApiError, FieldError, Validator};
use crate::profiles::service;
use crate::profiles::store::{self, RecordRow};
use crate::registry::history::{self, Entity};
use crate::registry::parks::service as parks;
use crate::registry::parks::store::{Enterprise, ParkRow};

/// The haves, in the order they are shown.
pub const HAVES: &[&str] = &[
    "person_in_charge",
    "storage_point",
    "sorting",
    "labels",
    "contract",
];
/// Days of lots the sorting and labels look at, today included.
pub const WINDOW_DAYS: i64 = 90;
/// Enterprises a park's list covers, at most.
pub const MAX_ENTERPRISES: i64 = 1000;
/// How a park's list is sorted.
pub const SORTS: &[&str] = &["haves", "-haves", "name"];

/// What the park office recorded of one have.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HaveRecord {
    pub met: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// One of the five haves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HaveStatus {
    /// `person_in_charge`, `storage_point`, `sorting`, `labels` or `contract`.
    pub have: String,
    /// What counts: the data's answer where it gives one, else the park office's record, else
    /// not met.
    pub met: bool,
    /// `data`, `record` or `none`.
    pub source: String,
    /// The data's answer; absent when the data says nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<bool>,
    /// The figures the answer was computed from.
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
    /// The park office's latest record, shown whether or not it counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<HaveRecord>,
}

/// An enterprise's five haves.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "today": "2026-11-28", "window_days": 90, "met": 4,
    "haves": [
        {"have": "person_in_charge", "met": true, "source": "data", "computed": true, "facts": {"person_in_charge": "Chen Jie"}},
        {"have": "storage_point", "met": true, "source": "data", "computed": true, "facts": {"storage_points": 1, "own_zone": false}},
        {"have": "sorting", "met": true, "source": "record", "facts": {"lots": 0},
         "record": {"met": true, "note": "cabinet sorted by category at the visit", "recorded_at": "2026-11-20T03:00:00Z", "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6"}},
        {"have": "labels", "met": false, "source": "none", "facts": {"hazardous_lots": 0}},
        {"have": "contract", "met": true, "source": "data", "computed": true, "facts": {"contracts": 1}}
    ]
}))]
pub struct FiveHavesView {
    pub enterprise_id: String,
    pub name: String,
    pub park_id: String,
    /// The park's today, the day the haves are computed for.
    pub today: NaiveDate,
    /// Days of lots `sorting` and `labels` look at.
    pub window_days: i64,
    /// How many of the five are met.
    pub met: i32,
    pub haves: Vec<HaveStatus>,
}

/// The five haves of a park's enterprises.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "today": "2026-11-28", "sort": "haves",
    "enterprises": [{
        "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.",
        "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "today": "2026-11-28", "window_days": 90, "met": 1,
        "haves": [
            {"have": "person_in_charge", "met": false, "source": "none", "facts": {}},
            {"have": "storage_point", "met": false, "source": "none", "facts": {"own_zone": false}},
            {"have": "sorting", "met": false, "source": "none", "facts": {"lots": 0}},
            {"have": "labels", "met": false, "source": "none", "facts": {"hazardous_lots": 0}},
            {"have": "contract", "met": true, "source": "data", "computed": true, "facts": {"contracts": 1}}
        ]
    }],
    "truncated": false
}))]
pub struct ParkFiveHaves {
    pub park_id: String,
    pub today: NaiveDate,
    /// `haves` (fewest met first), `-haves` (most first) or `name`.
    pub sort: String,
    /// The enterprises in the park today (not left), after the `missing` filter.
    pub enterprises: Vec<FiveHavesView>,
    /// Whether the park has more than 1000 enterprises, of which only the first 1000 (by id)
    /// were looked at.
    pub truncated: bool,
}

/// What the park office records of a have.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"met": true, "note": "cabinet sorted by category at the visit of 2026-11-20"}))]
pub struct HaveRecordRequest {
    pub met: bool,
    /// At most 500 characters.
    pub note: Option<String>,
}

/// The five haves of an enterprise the principal may read.
pub fn read(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
) -> Result<FiveHavesView, ApiError> {
    let e = service::readable(conn, principal, id)?;
    let park = parks::load_park(conn, &e.enterprise.park_id)?;
    five_haves(conn, now, &park.park, &e)
}

/// Records one of the five haves of an enterprise the principal may change (an unknown `have`
/// answers 404 once the body is checked), and answers the five haves with it.
pub fn record_have(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    have: &str,
    body: HaveRecordRequest,
) -> Result<FiveHavesView, ApiError> {
    let e = service::writable(conn, principal, id)?;
    let mut v = Validator::new();
    let have = v.check(parse_have(have));
    let note = body
        .note
        .as_deref()
        .map(|n| v.text("note", n, 0, 500))
        .filter(|n| !n.is_empty());
    v.finish()?;
    let Some(have) = have else {
        return Err(ApiError::NotFound(crate::error::NOT_VISIBLE));
    };
    record(conn, now, &principal.user_id, &e, have, body.met, note)?;
    let park = parks::load_park(conn, &e.enterprise.park_id)?;
    five_haves(conn, now, &park.park, &e)
}

/// The five haves of the enterprises of a park whose figures the principal reads, sorted and
/// filtered as asked.
pub fn read_park(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    sort: Option<&str>,
    missing: Option<&str>,
) -> Result<ParkFiveHaves, ApiError> {
    let park = crate::figures::service::load_park(conn, principal, park_id)?;
    let (sort, missing) = list_query(sort, missing)?;
    of_park(conn, now, &park, &sort, missing)
}

pub fn parse_have(raw: &str) -> Result<&'static str, FieldError> {
    HAVES.iter().copied().find(|h| *h == raw).ok_or_else(|| {
        FieldError::new(
            "have",
            "invalid",
            format!("must be one of: {}", HAVES.join(", ")),
        )
    })
}

fn status(
    have: &str,
    computed: Option<bool>,
    facts: serde_json::Value,
    records: &[RecordRow],
) -> HaveStatus {
    let record = records.iter().find(|r| r.have == have).map(|r| HaveRecord {
        met: r.met,
        note: r.note.clone(),
        recorded_at: r.recorded_at.and_utc(),
        recorded_by: r.recorded_by.clone(),
    });
    let (met, source) = match (computed, &record) {
        (Some(c), _) => (c, "data"),
        (None, Some(r)) => (r.met, "record"),
        (None, None) => (false, "none"),
    };
    HaveStatus {
        have: have.to_owned(),
        met,
        source: source.to_owned(),
        computed,
        facts,
        record,
    }
}

/// Whether a zone of `kind` taking `categories` (empty: all of its kind) may hold a lot of
/// `lot_kind` and `category`.
fn zone_takes(zone_kind: &str, categories: &str, lot_kind: &str, category: &str) -> bool {
    if zone_kind != lot_kind {
        return false;
    }
    let allowed = split_refs(categories);
    allowed.is_empty()
        || Category::parse("category", category)
            .is_ok_and(|c| allowed.contains(&CatalogRef::Category(c)))
}

/// Computes the five haves of an enterprise on the park's today.
pub fn five_haves(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    park: &ParkRow,
    enterprise: &Enterprise,
) -> Result<FiveHavesView, ApiError> {
    let tz = parks::park_time_zone(park);
    let today = crate::domain::time::local_date(now, tz);
    let since = crate::http::query::start_of_day(today - Duration::days(WINDOW_DAYS - 1), tz);
    let id = &enterprise.enterprise.organization_id;
    let profile = store::find_profile(conn, id)?;
    let points = if profile.is_some() {
        store::storage_points_of(conn, id)?.len()
    } else {
        0
    };
    let records = store::records_of(conn, id)?;
    let mut haves = Vec::with_capacity(HAVES.len());

    let person = profile.as_ref().and_then(|p| p.person_in_charge.clone());
    haves.push(status(
        "person_in_charge",
        profile.as_ref().map(|_| person.is_some()),
        serde_json::json!({"person_in_charge": person}),
        &records,
    ));

    let own_zone = store::has_own_zone(conn, id, today)?;
    let storage = if own_zone || points > 0 {
        Some(true)
    } else {
        profile.as_ref().map(|_| false)
    };
    haves.push(status(
        "storage_point",
        storage,
        serde_json::json!({"storage_points": points, "own_zone": own_zone}),
        &records,
    ));

    let sorted = store::lots_by_zone_since(conn, id, since)?;
    let zone_ids: Vec<String> = sorted.iter().filter_map(|s| s.zone_id.clone()).collect();
    let zones = store::zone_rules(conn, &zone_ids)?;
    let lots: i64 = sorted.iter().map(|s| s.lots).sum();
    let flagged: i64 = sorted.iter().map(|s| s.flagged).sum();
    let misplaced: i64 = sorted
        .iter()
        .filter(|s| {
            s.zone_id.as_ref().is_some_and(|z| {
                !zones.iter().any(
                    |crate::profiles::store::ZoneRule {
                         zone_id: zid,
                         kind,
                         categories: cats,
                     }| {
                        zid == z && zone_takes(kind, cats, &s.kind, &s.category)
                    },
                )
            })
        })
        .map(|s| s.lots)
        .sum();
    haves.push(status(
        "sorting",
        (lots > 0).then_some(flagged == 0 && misplaced == 0),
        serde_json::json!({"lots": lots, "outside_profile": flagged, "in_wrong_zone": misplaced}),
        &records,
    ));

    let labels = store::label_facts(conn, id, since)?;
    haves.push(status(
        "labels",
        (labels.lots > 0).then_some(labels.without_components == 0 && labels.without_codes == 0),
        serde_json::json!({"hazardous_lots": labels.lots,
            "without_main_components": labels.without_components,
            "containers_without_identification_codes": labels.without_codes}),
        &records,
    ));

    let contracts = crate::registry::contracts::store::contracts_of_member_on(
        conn,
        &enterprise.enterprise.park_id,
        id,
        today,
    )?;
    haves.push(status(
        "contract",
        Some(!contracts.is_empty()),
        serde_json::json!({"contracts": contracts.len()}),
        &records,
    ));

    let met = i32::try_from(haves.iter().filter(|h| h.met).count()).unwrap_or(0);
    Ok(FiveHavesView {
        enterprise_id: id.clone(),
        name: enterprise.name.clone(),
        park_id: enterprise.enterprise.park_id.clone(),
        today,
        window_days: WINDOW_DAYS,
        met,
        haves,
    })
}

/// Records the park office's finding on one have (the latest record counts where the data says
/// nothing); every record is kept in the revisions (entity `five_have`).
pub fn record(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    enterprise: &Enterprise,
    have: &str,
    met: bool,
    note: Option<String>,
) -> Result<(), ApiError> {
    let row = RecordRow {
        enterprise_id: enterprise.enterprise.organization_id.clone(),
        have: have.to_owned(),
        met,
        note,
        recorded_at: now.naive_utc(),
        recorded_by: by.to_owned(),
    };
    store::upsert_record(conn, &row)?;
    history::record(
        conn,
        Entity::FiveHave,
        &format!("{}:{have}", row.enterprise_id),
        Some(by),
        now,
        &serde_json::json!({"enterprise_id": row.enterprise_id, "have": have, "met": met, "note": row.note}),
    )
}

/// The five haves of every enterprise in the park today, filtered to those missing `missing`
/// and sorted.
pub fn of_park(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    park: &ParkRow,
    sort: &str,
    missing: Option<&str>,
) -> Result<ParkFiveHaves, ApiError> {
    let today = crate::domain::time::local_date(now, parks::park_time_zone(park));
    let mut enterprises = crate::registry::parks::store::list_enterprises(
        conn,
        &crate::auth::policy::Scope::Park(park.organization_id.clone()),
        None,
        &crate::http::pagination::PageRequest {
            limit: MAX_ENTERPRISES,
            after: None,
        },
    )?;
    let truncated = enterprises.len() > usize::try_from(MAX_ENTERPRISES).unwrap_or(usize::MAX);
    enterprises.truncate(usize::try_from(MAX_ENTERPRISES).unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for e in enterprises.iter().filter(|e| {
        e.enterprise.joined_on <= today && e.enterprise.left_on.is_none_or(|l| l > today)
    }) {
        let view = five_haves(conn, now, park, e)?;
        if let Some(m) = missing
            && view.haves.iter().any(|h| h.have == m && h.met)
        {
            continue;
        }
        out.push(view);
    }
    match sort {
        "-haves" => out.sort_by(|a, b| b.met.cmp(&a.met).then(a.name.cmp(&b.name))),
        "name" => out.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => out.sort_by(|a, b| a.met.cmp(&b.met).then(a.name.cmp(&b.name))),
    }
    Ok(ParkFiveHaves {
        park_id: park.organization_id.clone(),
        today,
        sort: sort.to_owned(),
        enterprises: out,
        truncated,
    })
}

/// The `sort` and `missing` of a park's list, both reported at once.
pub fn list_query(
    sort: Option<&str>,
    missing: Option<&str>,
) -> Result<(String, Option<&'static str>), ApiError> {
    let mut v = crate::error::Validator::new();
    let sort = match sort.map(str::trim) {
        None => Some("haves".to_owned()),
        Some(s) if SORTS.contains(&s) => Some(s.to_owned()),
        Some(_) => {
            v.push(FieldError::new(
                "sort",
                "invalid",
                format!("must be one of: {}", SORTS.join(", ")),
            ));
            None
        }
    };
    let missing = match missing.map(str::trim) {
        None => Some(None),
        Some(m) => match HAVES.iter().copied().find(|h| *h == m) {
            Some(h) => Some(Some(h)),
            None => {
                v.push(FieldError::new(
                    "missing",
                    "invalid",
                    format!("must be one of: {}", HAVES.join(", ")),
                ));
                None
            }
        },
    };
    v.finish_with(|| Some((sort?, missing?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_takes_lots_of_its_kind_and_listed_categories() {
        assert!(zone_takes("hazardous", "HW08", "hazardous", "HW08"));
        assert!(zone_takes("hazardous", "", "hazardous", "HW49"));
        assert!(!zone_takes("hazardous", "HW08", "hazardous", "HW49"));
        assert!(!zone_takes("general", "", "hazardous", "HW08"));
    }

    #[test]
    fn the_data_counts_before_the_record() {
        let rec = RecordRow {
            enterprise_id: "e".into(),
            have: "labels".into(),
            met: true,
            note: None,
            recorded_at: chrono::NaiveDateTime::default(),
            recorded_by: "u".into(),
        };
        let s = status(
            "labels",
            Some(false),
            serde_json::json!({}),
            std::slice::from_ref(&rec),
        );
        assert!(!s.met);
        assert_eq!(s.source, "data");
        let s = status("labels", None, serde_json::json!({}), &[rec]);
        assert!(s.met);
        assert_eq!(s.source, "record");
        let s = status("labels", None, serde_json::json!({}), &[]);
        assert!(!s.met);
        assert_eq!(s.source, "none");
    }
}
