//! Queries on parks and enterprises. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{enterprises, organizations, parks};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = parks)]
#[diesel(treat_none_as_null = true)]
pub struct ParkRow {
    pub organization_id: String,
    pub region_code: String,
    pub address: String,
    pub time_zone: String,
    pub collection_permit_number: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub require_official_number: bool,
    pub uscc: Option<String>,
    pub permit_valid_from: Option<NaiveDate>,
    pub permit_valid_until: Option<NaiveDate>,
    /// The codes and categories the permit covers, joined (`domain::waste::join_refs`); empty
    /// covers every hazardous code.
    pub permit_scope: String,
    pub permit_annual_capacity_grams: Option<i64>,
    pub label_scan_general: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = enterprises)]
#[diesel(treat_none_as_null = true)]
pub struct EnterpriseRow {
    pub organization_id: String,
    pub park_id: String,
    pub uscc: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A park with its name (from its organisation).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = parks)]
pub struct Park {
    #[diesel(embed)]
    pub park: ParkRow,
    /// The park office's name (`organizations.name`).
    #[diesel(select_expression = organizations::name)]
    pub name: String,
}

/// An enterprise with its name and its park's region code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprises)]
pub struct Enterprise {
    #[diesel(embed)]
    pub enterprise: EnterpriseRow,
    /// The enterprise's name (`organizations.name`).
    #[diesel(select_expression = organizations::name)]
    pub name: String,
    /// The region code of the enterprise's park (`parks.region_code`).
    #[diesel(select_expression = parks::region_code)]
    pub region_code: String,
}

pub fn insert_park(conn: &mut DbConn, row: &ParkRow) -> QueryResult<()> {
    diesel::insert_into(parks::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Sets the phase of the days a park's lot volumes are added up by (see migration
/// `…_lot_volumes`), re-adding its lots' volumes when the phase changes: a park's time zone
/// changes rarely, and its totals then follow in the same transaction.
pub fn set_day_phase(conn: &mut DbConn, park_id: &str, minutes: i32) -> QueryResult<()> {
    use crate::db::schema::{lot_volumes, park_day_phase};
    let current: Option<i32> = park_day_phase::table
        .find(park_id)
        .select(park_day_phase::minutes)
        .first(conn)
        .optional()?;
    if current == Some(minutes) {
        return Ok(());
    }
    // On PostgreSQL, no lot changes while the totals are added up again (a lot written meanwhile
    // would be counted under the old phase); SQLite's writers already take turns.
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("LOCK TABLE lots IN SHARE MODE").execute(pg)?;
    }
    diesel::delete(park_day_phase::table.find(park_id)).execute(conn)?;
    diesel::insert_into(park_day_phase::table)
        .values((
            park_day_phase::park_id.eq(park_id),
            park_day_phase::minutes.eq(minutes),
        ))
        .execute(conn)?;
    let day = match conn {
        DbConn::Pg(_) => "CAST(captured_at + make_interval(mins => $2) AS DATE)",
        DbConn::Sqlite(_) => "date(captured_at, printf('%+d minutes', $2))",
    };
    diesel::delete(lot_volumes::table.filter(lot_volumes::park_id.eq(park_id))).execute(conn)?;
    let rebuild = [format!(
        "INSERT INTO lot_volumes (park_id, day, waste_code, enterprise_id, contract_id, grams, lots) \
             SELECT park_id, {day}, waste_code, enterprise_id, contract_id, SUM(net_grams), COUNT(*) \
             FROM lots WHERE park_id = $1 AND status IN ('stored', 'collected') \
             GROUP BY park_id, {day}, waste_code, enterprise_id, contract_id"
    )];
    for sql in rebuild {
        match conn {
            DbConn::Pg(pg) => diesel::sql_query(sql)
                .bind::<diesel::sql_types::Text, _>(park_id)
                .bind::<diesel::sql_types::Integer, _>(minutes)
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::sql_query(sql.replace("$1", "?1").replace("$2", "?2"))
                .bind::<diesel::sql_types::Text, _>(park_id)
                .bind::<diesel::sql_types::Integer, _>(minutes)
                .execute(lite)?,
        };
    }
    Ok(())
}

pub fn save_park(conn: &mut DbConn, row: &ParkRow) -> QueryResult<()> {
    diesel::update(parks::table.find(&row.organization_id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_park(conn: &mut DbConn, id: &str) -> QueryResult<Option<Park>> {
    parks::table
        .inner_join(organizations::table)
        .filter(parks::organization_id.eq(id))
        .select(Park::as_select())
        .first(conn)
        .optional()
}

pub fn list_parks(conn: &mut DbConn, scope: &Scope, page: &PageRequest) -> QueryResult<Vec<Park>> {
    let mut q = parks::table
        .inner_join(organizations::table)
        .select(Park::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) | Scope::Own(id) => q.filter(parks::organization_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
    };
    if let Some(after) = &page.after {
        q = q.filter(parks::organization_id.gt(after.clone()));
    }
    q.order(parks::organization_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_enterprise(conn: &mut DbConn, row: &EnterpriseRow) -> QueryResult<()> {
    diesel::insert_into(enterprises::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_enterprise(conn: &mut DbConn, row: &EnterpriseRow) -> QueryResult<()> {
    diesel::update(enterprises::table.find(&row.organization_id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn uscc_taken(conn: &mut DbConn, uscc: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        enterprises::table
            .filter(enterprises::uscc.eq(uscc))
            .select(enterprises::organization_id),
    ))
    .get_result(conn)
}

pub fn find_enterprise(conn: &mut DbConn, id: &str) -> QueryResult<Option<Enterprise>> {
    enterprises::table
        .inner_join(organizations::table)
        .inner_join(parks::table)
        .filter(enterprises::organization_id.eq(id))
        .select(Enterprise::as_select())
        .first(conn)
        .optional()
}

pub fn list_enterprises(
    conn: &mut DbConn,
    scope: &Scope,
    park_id: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<Enterprise>> {
    let mut q = enterprises::table
        .inner_join(organizations::table)
        .inner_join(parks::table)
        .select(Enterprise::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) => q.filter(enterprises::park_id.eq(id.clone())),
        Scope::Own(id) => q.filter(enterprises::organization_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
    };
    if let Some(park) = park_id {
        q = q.filter(enterprises::park_id.eq(park.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(enterprises::organization_id.gt(after.clone()));
    }
    q.order(enterprises::organization_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}
