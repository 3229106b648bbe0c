//! Queries on organisations and users. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{organizations, users};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub deactivated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A driver's dangerous-goods qualification (危险货物运输从业资格): number, last valid day.
    pub dg_qualification_number: Option<String>,
    pub dg_qualification_valid_until: Option<NaiveDate>,
}

pub fn insert_organization(conn: &mut DbConn, row: &OrganizationRow) -> QueryResult<()> {
    diesel::insert_into(organizations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_organization(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .find(id)
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()
}

/// Organisations in id (creation) order, optionally of one kind; `limit + 1` rows at most.
pub fn list_organizations(
    conn: &mut DbConn,
    kind: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<OrganizationRow>> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(organizations::kind.eq(kind.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(organizations::id.gt(after.clone()));
    }
    query
        .order(organizations::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_user(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_user_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn username_taken(conn: &mut DbConn, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ))
    .get_result(conn)
}

pub fn any_user_exists(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
}

/// Users in id order, optionally of one organisation; `limit + 1` rows at most.
pub fn list_users(
    conn: &mut DbConn,
    organization_id: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(org) = organization_id {
        query = query.filter(users::organization_id.eq(org.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(users::id.gt(after.clone()));
    }
    query
        .order(users::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// The active users with the driver role of an organisation (at most 500), by name.
pub fn drivers_of(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::organization_id.eq(organization_id))
        .filter(users::role.eq("driver"))
        .filter(users::deactivated_at.is_null())
        .select(UserRow::as_select())
        .order((users::display_name.asc(), users::id.asc()))
        .limit(500)
        .load(conn)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub deactivated_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
    pub dg_qualification_number: Option<Option<String>>,
    pub dg_qualification_valid_until: Option<Option<NaiveDate>>,
}

pub fn update_user(conn: &mut DbConn, id: &str, changes: &UserChanges) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn rename_organization(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(organizations::table.find(id))
        .set((
            organizations::name.eq(name),
            organizations::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Whether an organisation of this kind and name exists.
pub fn organization_named(conn: &mut DbConn, kind: &str, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organizations::table
            .filter(organizations::kind.eq(kind))
            .filter(organizations::name.eq(name))
            .select(organizations::id),
    ))
    .get_result(conn)
}
