//! Queries of the enterprises' compliance: profiles, the lots' profile flags, the five haves'
//! records and the figures they are computed from. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;
use crate::db::schema::{
    enterprise_profiles, five_have_records, lot_containers, lot_profile_flags, lots,
    profile_storage_points, profile_wastes, zones,
};
use crate::domain::ids::LotId;
use crate::domain::lot::LotStatus;
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = enterprise_profiles)]
#[diesel(treat_none_as_null = true)]
pub struct ProfileRow {
    pub enterprise_id: String,
    pub park_id: String,
    pub person_in_charge: Option<String>,
    pub person_phone: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = profile_wastes)]
pub struct WasteRow {
    pub enterprise_id: String,
    pub waste_code: String,
    pub grams_per_month: i64,
    pub handling: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = profile_storage_points)]
pub struct StoragePointRow {
    pub enterprise_id: String,
    pub position: i32,
    pub name: String,
    pub location: String,
    pub capacity_grams: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lot_profile_flags)]
pub struct FlagRow {
    pub lot_id: LotId,
    pub park_id: String,
    pub enterprise_id: String,
    pub waste_code: String,
    pub flagged_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = five_have_records)]
#[diesel(treat_none_as_null = true)]
pub struct RecordRow {
    pub enterprise_id: String,
    pub have: String,
    pub met: bool,
    pub note: Option<String>,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: String,
}

pub fn find_profile(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Option<ProfileRow>> {
    enterprise_profiles::table
        .find(enterprise_id)
        .select(ProfileRow::as_select())
        .first(conn)
        .optional()
}

pub fn wastes_of(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<WasteRow>> {
    profile_wastes::table
        .filter(profile_wastes::enterprise_id.eq(enterprise_id))
        .select(WasteRow::as_select())
        .order(profile_wastes::waste_code.asc())
        .load(conn)
}

pub fn storage_points_of(
    conn: &mut DbConn,
    enterprise_id: &str,
) -> QueryResult<Vec<StoragePointRow>> {
    profile_storage_points::table
        .filter(profile_storage_points::enterprise_id.eq(enterprise_id))
        .select(StoragePointRow::as_select())
        .order(profile_storage_points::position.asc())
        .load(conn)
}

/// Replaces the profile and its lines with `row`, `wastes` and `points`.
pub fn replace_profile(
    conn: &mut DbConn,
    row: &ProfileRow,
    exists: bool,
    wastes: &[WasteRow],
    points: &[StoragePointRow],
) -> QueryResult<()> {
    diesel::delete(
        profile_wastes::table.filter(profile_wastes::enterprise_id.eq(&row.enterprise_id)),
    )
    .execute(conn)?;
    diesel::delete(
        profile_storage_points::table
            .filter(profile_storage_points::enterprise_id.eq(&row.enterprise_id)),
    )
    .execute(conn)?;
    if exists {
        diesel::update(enterprise_profiles::table.find(&row.enterprise_id))
            .set(row)
            .execute(conn)?;
    } else {
        diesel::insert_into(enterprise_profiles::table)
            .values(row)
            .execute(conn)?;
    }
    // One row at a time: the multi-backend connection has no batch insert.
    for w in wastes {
        diesel::insert_into(profile_wastes::table)
            .values(w)
            .execute(conn)?;
    }
    for p in points {
        diesel::insert_into(profile_storage_points::table)
            .values(p)
            .execute(conn)?;
    }
    Ok(())
}

/// Whether the enterprise has a profile, and whether it lists `code`: one statement, so that
/// a weighing pays one read for its flag. `None`: no profile.
pub fn profile_lists(
    conn: &mut DbConn,
    enterprise_id: &str,
    code: &str,
) -> QueryResult<Option<bool>> {
    let row: Option<Option<String>> = enterprise_profiles::table
        .left_join(
            profile_wastes::table.on(profile_wastes::enterprise_id
                .eq(enterprise_profiles::enterprise_id)
                .and(profile_wastes::waste_code.eq(code))),
        )
        .filter(enterprise_profiles::enterprise_id.eq(enterprise_id))
        .select(profile_wastes::waste_code.nullable())
        .first(conn)
        .optional()?;
    Ok(row.map(|c| c.is_some()))
}

pub fn insert_flag(conn: &mut DbConn, row: &FlagRow) -> QueryResult<()> {
    diesel::insert_into(lot_profile_flags::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn is_flagged(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        lot_profile_flags::table.filter(lot_profile_flags::lot_id.eq(lot_id)),
    ))
    .get_result(conn)
}

/// Of `lot_ids`, those flagged.
pub fn flagged_among(conn: &mut DbConn, lot_ids: &[LotId]) -> QueryResult<Vec<LotId>> {
    if lot_ids.is_empty() {
        return Ok(Vec::new());
    }
    lot_profile_flags::table
        .filter(lot_profile_flags::lot_id.eq_any(lot_ids))
        .select(lot_profile_flags::lot_id)
        .load(conn)
}

/// What the anomaly list shows of a flagged lot.
#[derive(Debug, Clone, Queryable)]
pub struct FlaggedLot {
    pub lot_id: LotId,
    pub park_id: String,
    pub enterprise_id: String,
    pub waste_code: String,
    pub flagged_at: NaiveDateTime,
    pub net_grams: i64,
    pub captured_at: NaiveDateTime,
}

/// Flagged lots not voided within `scope` (a park, the parks of a jurisdiction, all), in the
/// order of their ids, after the page's cursor.
pub fn flagged_lots(
    conn: &mut DbConn,
    scope: &crate::auth::policy::Scope,
    page: &PageRequest,
) -> QueryResult<Vec<FlaggedLot>> {
    use crate::auth::policy::Scope;
    use crate::db::schema::parks;
    let mut q = lot_profile_flags::table
        .inner_join(lots::table.on(lots::id.eq(lot_profile_flags::lot_id)))
        .inner_join(parks::table.on(parks::organization_id.eq(lot_profile_flags::park_id)))
        .filter(lots::status.ne(LotStatus::Voided))
        .select((
            lot_profile_flags::lot_id,
            lot_profile_flags::park_id,
            lot_profile_flags::enterprise_id,
            lot_profile_flags::waste_code,
            lot_profile_flags::flagged_at,
            lots::net_grams,
            lots::captured_at,
        ))
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) | Scope::Own(id) => q.filter(lot_profile_flags::park_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
    };
    if let Some(after) = &page.after {
        q = q.filter(lot_profile_flags::lot_id.gt(after.clone()));
    }
    q.order(lot_profile_flags::lot_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn records_of(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<RecordRow>> {
    five_have_records::table
        .filter(five_have_records::enterprise_id.eq(enterprise_id))
        .select(RecordRow::as_select())
        .load(conn)
}

pub fn upsert_record(conn: &mut DbConn, row: &RecordRow) -> QueryResult<()> {
    let updated = diesel::update(five_have_records::table.find((&row.enterprise_id, &row.have)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(five_have_records::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Whether the enterprise has an own zone in the park's warehouses open on `day`.
pub fn has_own_zone(conn: &mut DbConn, enterprise_id: &str, day: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        zones::table
            .filter(zones::enterprise_id.eq(enterprise_id))
            .filter(zones::closed_on.is_null().or(zones::closed_on.gt(day))),
    ))
    .get_result(conn)
}

/// The enterprise's weighed lots since `since` (not voided, not merely declared) per zone,
/// category and kind, with how many of them were flagged outside its profile.
#[derive(Debug, Clone, QueryableByName)]
pub struct SortedLots {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub zone_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub lots: i64,
    #[diesel(sql_type = BigInt)]
    pub flagged: i64,
}

pub fn lots_by_zone_since(
    conn: &mut DbConn,
    enterprise_id: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<SortedLots>> {
    let sql = "SELECT l.zone_id AS zone_id, l.category AS category, l.kind AS kind, \
               CAST(COUNT(*) AS BIGINT) AS lots, CAST(COUNT(f.lot_id) AS BIGINT) AS flagged \
               FROM lots l LEFT JOIN lot_profile_flags f ON f.lot_id = l.id \
               WHERE l.enterprise_id = $1 AND l.captured_at >= $2 \
               AND l.status IN ('stored', 'collected') \
               GROUP BY l.zone_id, l.category, l.kind";
    match conn {
        DbConn::Pg(pg) => diesel::sql_query(sql)
            .bind::<Text, _>(enterprise_id)
            .bind::<diesel::sql_types::Timestamp, _>(since)
            .load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(sql.replace("$1", "?").replace("$2", "?"))
            .bind::<Text, _>(enterprise_id)
            .bind::<diesel::sql_types::Timestamp, _>(since)
            .load(lite),
    }
}

/// The enterprise's hazardous lots weighed since `since` (not voided): how many, how many
/// lack their main components, and how many of their containers lack a digital identification
/// code.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelFacts {
    pub lots: i64,
    pub without_components: i64,
    pub without_codes: i64,
}

pub fn label_facts(
    conn: &mut DbConn,
    enterprise_id: &str,
    since: NaiveDateTime,
) -> QueryResult<LabelFacts> {
    let weighed = || {
        lots::table
            .filter(lots::enterprise_id.eq(enterprise_id))
            .filter(lots::kind.eq("hazardous"))
            .filter(lots::captured_at.ge(since))
            .filter(lots::status.eq_any([LotStatus::Stored, LotStatus::Collected]))
    };
    let total: i64 = weighed().count().get_result(conn)?;
    let without_components: i64 = weighed()
        .filter(
            lots::main_components
                .is_null()
                .or(lots::main_components.eq("")),
        )
        .count()
        .get_result(conn)?;
    let without_codes: i64 = weighed()
        .inner_join(lot_containers::table.on(lot_containers::lot_id.eq(lots::id)))
        .filter(lot_containers::label_code.is_null())
        .count()
        .get_result(conn)?;
    Ok(LabelFacts {
        lots: total,
        without_components,
        without_codes,
    })
}

/// A zone's kind and the categories it takes.
#[derive(Debug, Clone, Queryable)]
pub struct ZoneRule {
    pub zone_id: String,
    pub kind: String,
    /// The categories, as stored (comma-separated).
    pub categories: String,
}

/// The categories a zone takes and its kind.
pub fn zone_rules(conn: &mut DbConn, zone_ids: &[String]) -> QueryResult<Vec<ZoneRule>> {
    if zone_ids.is_empty() {
        return Ok(Vec::new());
    }
    zones::table
        .filter(zones::id.eq_any(zone_ids))
        .select((zones::id, zones::kind, zones::categories))
        .load(conn)
}

/// The weighed grams and lots of one month, code, contract and enterprise.
#[derive(Debug, Clone, QueryableByName)]
pub struct MonthSums {
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = Text)]
    pub waste_code: String,
    #[diesel(sql_type = Text)]
    pub contract_id: String,
    #[diesel(sql_type = Text)]
    pub enterprise_id: String,
    #[diesel(sql_type = BigInt)]
    pub grams: i64,
    #[diesel(sql_type = BigInt)]
    pub lots: i64,
}

/// The weighed lots of a park, or of one of its enterprises (`enterprise_id` empty: all),
/// whose business time lies within `bounds` (the months' first instants and the end), added up
/// per month, code, contract and enterprise by the database: the same lots the figures' volumes count,
/// from the same index.
pub fn monthly(
    conn: &mut DbConn,
    park_id: &str,
    enterprise_id: &str,
    bounds: &[NaiveDateTime],
) -> QueryResult<Vec<MonthSums>> {
    use crate::figures::store::{bucket, range, through};
    let lots = through(conn, "lots", "l", "lots_figures_idx");
    let sql = format!(
        "SELECT bucket, waste_code, contract_id, enterprise_id, \
         CAST(SUM(net_grams) AS BIGINT) AS grams, CAST(COUNT(*) AS BIGINT) AS lots \
         FROM (SELECT {} AS bucket, waste_code, contract_id, enterprise_id, net_grams FROM {lots} \
         WHERE park_id = $1 AND ($2 = '' OR enterprise_id = $2) AND {} \
         AND status IN ('stored', 'collected')) t \
         GROUP BY bucket, waste_code, contract_id, enterprise_id \
         ORDER BY bucket, waste_code, contract_id, enterprise_id",
        bucket("captured_at", bounds),
        range("captured_at", bounds),
    );
    match conn {
        DbConn::Pg(pg) => diesel::sql_query(sql)
            .bind::<Text, _>(park_id)
            .bind::<Text, _>(enterprise_id)
            .load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(sql.replace("$1", "?1").replace("$2", "?2"))
            .bind::<Text, _>(park_id)
            .bind::<Text, _>(enterprise_id)
            .load(lite),
    }
}

/// What a current profile expects of one code: grams per month and the handling.
#[derive(Debug, Clone, Queryable)]
pub struct Expectation {
    pub enterprise_id: String,
    pub waste_code: String,
    pub handling: String,
    pub grams_per_month: i64,
}

/// The expected grams per month of each code over the current profiles of a park's
/// enterprises, or of one enterprise (`enterprise_id` empty: all), with their handling.
pub fn expectations(
    conn: &mut DbConn,
    park_id: &str,
    enterprise_id: &str,
) -> QueryResult<Vec<Expectation>> {
    let mut q = profile_wastes::table
        .inner_join(
            enterprise_profiles::table
                .on(enterprise_profiles::enterprise_id.eq(profile_wastes::enterprise_id)),
        )
        .filter(enterprise_profiles::park_id.eq(park_id))
        .select((
            profile_wastes::enterprise_id,
            profile_wastes::waste_code,
            profile_wastes::handling,
            profile_wastes::grams_per_month,
        ))
        .into_boxed();
    if !enterprise_id.is_empty() {
        q = q.filter(profile_wastes::enterprise_id.eq(enterprise_id.to_owned()));
    }
    q.load(conn)
}

/// The Chinese names of the codes and of the categories among `keys`.
pub fn names(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<(String, String)>> {
    use crate::db::schema::{waste_categories, waste_codes};
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<(String, String)> = waste_codes::table
        .filter(waste_codes::code.eq_any(keys))
        .select((waste_codes::code, waste_codes::name_zh))
        .load(conn)?;
    out.extend(
        waste_categories::table
            .filter(waste_categories::code.eq_any(keys))
            .select((waste_categories::code, waste_categories::name_zh))
            .load::<(String, String)>(conn)?,
    );
    Ok(out)
}
