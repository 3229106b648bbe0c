//! Queries on disposers, licences, carriers, vehicles and bureaus. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{bureaus, carriers, disposers, licences, organizations, vehicles};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = disposers)]
pub struct DisposerRow {
    pub organization_id: String,
    pub uscc: String,
    pub region_code: String,
    pub address: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = licences)]
pub struct LicenceRow {
    pub id: String,
    pub disposer_id: String,
    pub number: String,
    pub issuing_authority: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub annual_capacity_grams: i64,
    pub scope: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = carriers)]
pub struct CarrierRow {
    pub organization_id: String,
    pub uscc: String,
    pub region_code: String,
    pub transport_permit_number: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The transport permit's last valid day; `None`: not recorded.
    pub transport_permit_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = vehicles)]
#[diesel(treat_none_as_null = true)]
pub struct VehicleRow {
    pub id: String,
    pub operator_id: String,
    pub plate: String,
    pub dangerous_goods_permit_number: String,
    pub retired_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The vehicle's dangerous-goods permit's last valid day; `None`: not recorded.
    pub dangerous_goods_permit_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bureaus)]
pub struct BureauRow {
    pub organization_id: String,
    pub jurisdiction: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A disposal company with its name (from its organisation).
#[derive(Debug, Clone, Queryable)]
pub struct Disposer {
    pub disposer: DisposerRow,
    pub name: String,
}

/// A licence with its disposal company's name.
#[derive(Debug, Clone, Queryable)]
pub struct Licence {
    pub licence: LicenceRow,
    pub disposer_name: String,
}

/// A carrier with its name (from its organisation).
#[derive(Debug, Clone, Queryable)]
pub struct Carrier {
    pub carrier: CarrierRow,
    pub name: String,
}

/// An environment bureau with its name (from its organisation).
#[derive(Debug, Clone, Queryable)]
pub struct Bureau {
    pub bureau: BureauRow,
    pub name: String,
}

pub fn insert_disposer(conn: &mut DbConn, row: &DisposerRow) -> QueryResult<()> {
    diesel::insert_into(disposers::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_disposer(conn: &mut DbConn, row: &DisposerRow) -> QueryResult<()> {
    diesel::update(disposers::table.find(&row.organization_id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_disposer(conn: &mut DbConn, id: &str) -> QueryResult<Option<Disposer>> {
    disposers::table
        .inner_join(organizations::table)
        .filter(disposers::organization_id.eq(id))
        .select((DisposerRow::as_select(), organizations::name))
        .first(conn)
        .optional()
}

pub fn list_disposers(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> QueryResult<Vec<Disposer>> {
    let mut q = disposers::table
        .inner_join(organizations::table)
        .select((DisposerRow::as_select(), organizations::name))
        .into_boxed();
    if let Scope::Own(id) | Scope::Park(id) = scope {
        q = q.filter(disposers::organization_id.eq(id.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(disposers::organization_id.gt(after.clone()));
    }
    q.order(disposers::organization_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn disposer_uscc_taken(conn: &mut DbConn, uscc: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        disposers::table
            .filter(disposers::uscc.eq(uscc))
            .select(disposers::organization_id),
    ))
    .get_result(conn)
}

pub fn insert_licence(conn: &mut DbConn, row: &LicenceRow) -> QueryResult<()> {
    diesel::insert_into(licences::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_licence(conn: &mut DbConn, row: &LicenceRow) -> QueryResult<()> {
    diesel::update(licences::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_licence(conn: &mut DbConn, id: &str) -> QueryResult<Option<LicenceRow>> {
    licences::table
        .find(id)
        .select(LicenceRow::as_select())
        .first(conn)
        .optional()
}

/// Every licence of a disposer, oldest first.
pub fn licences_of(conn: &mut DbConn, disposer_id: &str) -> QueryResult<Vec<LicenceRow>> {
    licences::table
        .filter(licences::disposer_id.eq(disposer_id))
        .select(LicenceRow::as_select())
        .order((licences::valid_from.asc(), licences::id.asc()))
        .load(conn)
}

/// Licences whose validity ends between the two days (inclusive), with the disposer's name.
pub fn licences_ending(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    disposer_ids: Option<&[String]>,
) -> QueryResult<Vec<Licence>> {
    let mut q = licences::table
        .inner_join(disposers::table.inner_join(organizations::table))
        .filter(licences::valid_to.ge(from))
        .filter(licences::valid_to.le(to))
        .select((LicenceRow::as_select(), organizations::name))
        .into_boxed();
    if let Some(ids) = disposer_ids {
        q = q.filter(licences::disposer_id.eq_any(ids.to_vec()));
    }
    q.order((licences::valid_to.asc(), licences::id.asc()))
        .load(conn)
}

pub fn insert_carrier(conn: &mut DbConn, row: &CarrierRow) -> QueryResult<()> {
    diesel::insert_into(carriers::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_carrier(conn: &mut DbConn, row: &CarrierRow) -> QueryResult<()> {
    diesel::update(carriers::table.find(&row.organization_id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_carrier(conn: &mut DbConn, id: &str) -> QueryResult<Option<Carrier>> {
    carriers::table
        .inner_join(organizations::table)
        .filter(carriers::organization_id.eq(id))
        .select((CarrierRow::as_select(), organizations::name))
        .first(conn)
        .optional()
}

pub fn list_carriers(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> QueryResult<Vec<Carrier>> {
    let mut q = carriers::table
        .inner_join(organizations::table)
        .select((CarrierRow::as_select(), organizations::name))
        .into_boxed();
    if let Scope::Own(id) | Scope::Park(id) = scope {
        q = q.filter(carriers::organization_id.eq(id.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(carriers::organization_id.gt(after.clone()));
    }
    q.order(carriers::organization_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn carrier_uscc_taken(conn: &mut DbConn, uscc: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        carriers::table
            .filter(carriers::uscc.eq(uscc))
            .select(carriers::organization_id),
    ))
    .get_result(conn)
}

pub fn insert_vehicle(conn: &mut DbConn, row: &VehicleRow) -> QueryResult<()> {
    diesel::insert_into(vehicles::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_vehicle(conn: &mut DbConn, row: &VehicleRow) -> QueryResult<()> {
    diesel::update(vehicles::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_vehicle(conn: &mut DbConn, id: &str) -> QueryResult<Option<VehicleRow>> {
    vehicles::table
        .find(id)
        .select(VehicleRow::as_select())
        .first(conn)
        .optional()
}

pub fn active_plate_taken(conn: &mut DbConn, plate: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        vehicles::table
            .filter(vehicles::plate.eq(plate))
            .filter(vehicles::retired_on.is_null())
            .select(vehicles::id),
    ))
    .get_result(conn)
}

pub fn list_vehicles(
    conn: &mut DbConn,
    operator_id: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<VehicleRow>> {
    let mut q = vehicles::table.select(VehicleRow::as_select()).into_boxed();
    if let Some(op) = operator_id {
        q = q.filter(vehicles::operator_id.eq(op.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(vehicles::id.gt(after.clone()));
    }
    q.order(vehicles::id.asc()).limit(page.limit + 1).load(conn)
}

pub fn insert_bureau(conn: &mut DbConn, row: &BureauRow) -> QueryResult<()> {
    diesel::insert_into(bureaus::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_bureau(conn: &mut DbConn, row: &BureauRow) -> QueryResult<()> {
    diesel::update(bureaus::table.find(&row.organization_id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_bureau(conn: &mut DbConn, id: &str) -> QueryResult<Option<Bureau>> {
    bureaus::table
        .inner_join(organizations::table)
        .filter(bureaus::organization_id.eq(id))
        .select((BureauRow::as_select(), organizations::name))
        .first(conn)
        .optional()
}

pub fn list_bureaus(
    conn: &mut DbConn,
    scope: &Scope,
    page: &PageRequest,
) -> QueryResult<Vec<Bureau>> {
    let mut q = bureaus::table
        .inner_join(organizations::table)
        .select((BureauRow::as_select(), organizations::name))
        .into_boxed();
    if let Scope::Own(id) | Scope::Park(id) = scope {
        q = q.filter(bureaus::organization_id.eq(id.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(bureaus::organization_id.gt(after.clone()));
    }
    q.order(bureaus::organization_id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// Every bureau (a few per deployment), for finding those whose jurisdiction covers a place.
pub fn all_bureaus(conn: &mut DbConn) -> QueryResult<Vec<BureauRow>> {
    bureaus::table
        .select(BureauRow::as_select())
        .order(bureaus::organization_id.asc())
        .load(conn)
}
