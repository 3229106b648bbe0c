//! Queries on contracts and their dated rules. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::helper_types::{InnerJoin, IntoBoxed};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::MultiBackend;
use crate::db::schema::{
    contract_members, contract_prices, contract_thresholds, contracts, enterprises, organizations,
    parks,
};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contracts)]
pub struct ContractRow {
    pub id: String,
    pub park_id: String,
    pub disposer_id: String,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub max_storage_days: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub pickup_zone_percent: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contract_members)]
#[diesel(treat_none_as_null = true)]
pub struct MemberRow {
    pub id: String,
    pub contract_id: String,
    pub enterprise_id: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contract_prices)]
pub struct PriceRow {
    pub id: String,
    pub contract_id: String,
    pub target: String,
    pub fen_per_tonne: i64,
    pub effective_from: NaiveDate,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contract_thresholds)]
pub struct ThresholdRow {
    pub id: String,
    pub contract_id: String,
    pub target: String,
    pub threshold_grams: i64,
    pub effective_from: NaiveDate,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
}

/// A contract with its park's region code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contracts)]
pub struct Contract {
    #[diesel(embed)]
    pub contract: ContractRow,
    /// The region code of the contract's park (`parks.region_code`).
    #[diesel(select_expression = parks::region_code)]
    pub region_code: String,
}

/// A member of a contract with the enterprise's name.
#[derive(Debug, Clone, Queryable)]
pub struct Member {
    pub member: MemberRow,
    /// The enterprise's name (`organizations.name`).
    pub name: String,
}

/// An enterprise's membership with the contract's number.
#[derive(Debug, Clone, Queryable)]
pub struct Membership {
    pub member: MemberRow,
    /// The contract's number (`contracts.number`).
    pub contract_number: String,
}

pub fn insert_contract(conn: &mut DbConn, row: &ContractRow) -> QueryResult<()> {
    diesel::insert_into(contracts::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_contract(conn: &mut DbConn, row: &ContractRow) -> QueryResult<()> {
    diesel::update(contracts::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_contract(conn: &mut DbConn, id: &str) -> QueryResult<Option<Contract>> {
    contracts::table
        .inner_join(parks::table)
        .filter(contracts::id.eq(id))
        .select(Contract::as_select())
        .first(conn)
        .optional()
}

pub fn number_taken(conn: &mut DbConn, park_id: &str, number: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        contracts::table
            .filter(contracts::park_id.eq(park_id))
            .filter(contracts::number.eq(number))
            .select(contracts::id),
    ))
    .get_result(conn)
}

#[derive(Debug, Default)]
pub struct ContractFilter {
    pub park_id: Option<String>,
    pub disposer_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub in_force_on: Option<NaiveDate>,
    /// Contracts ending in this inclusive range (for alerts).
    pub ending_between: Option<(NaiveDate, NaiveDate)>,
}

/// The contracts a scope sees, joined with their parks, boxed so that callers add their own
/// selection and filters. `Own` is the contracts an organisation is party to: as the disposer
/// or as a member enterprise (ever).
fn scoped(
    scope: &Scope,
) -> IntoBoxed<'static, InnerJoin<contracts::table, parks::table>, MultiBackend> {
    let q = contracts::table.inner_join(parks::table).into_boxed();
    match scope {
        Scope::All => q,
        Scope::Park(id) => q.filter(contracts::park_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
        Scope::Own(org) => q.filter(
            contracts::disposer_id
                .eq(org.clone())
                .or(contracts::id.eq_any(
                    contract_members::table
                        .filter(contract_members::enterprise_id.eq(org.clone()))
                        .select(contract_members::contract_id),
                )),
        ),
    }
}

pub fn list_contracts(
    conn: &mut DbConn,
    scope: &Scope,
    filter: &ContractFilter,
    page: &PageRequest,
) -> QueryResult<Vec<Contract>> {
    let mut q = scoped(scope).select(Contract::as_select());
    if let Some(park) = &filter.park_id {
        q = q.filter(contracts::park_id.eq(park.clone()));
    }
    if let Some(disposer) = &filter.disposer_id {
        q = q.filter(contracts::disposer_id.eq(disposer.clone()));
    }
    if let Some(enterprise) = &filter.enterprise_id {
        q = q.filter(
            contracts::id.eq_any(
                contract_members::table
                    .filter(contract_members::enterprise_id.eq(enterprise.clone()))
                    .select(contract_members::contract_id),
            ),
        );
    }
    if let Some(day) = filter.in_force_on {
        q = q
            .filter(contracts::valid_from.le(day))
            .filter(contracts::valid_to.ge(day));
    }
    if let Some((from, to)) = filter.ending_between {
        q = q
            .filter(contracts::valid_to.ge(from))
            .filter(contracts::valid_to.le(to));
    }
    if let Some(after) = &page.after {
        q = q.filter(contracts::id.gt(after.clone()));
    }
    q.order(contracts::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// Members with their enterprise names, in order of joining.
pub fn members_of(conn: &mut DbConn, contract_id: &str) -> QueryResult<Vec<Member>> {
    contract_members::table
        .inner_join(organizations::table.on(organizations::id.eq(contract_members::enterprise_id)))
        .filter(contract_members::contract_id.eq(contract_id))
        .select((MemberRow::as_select(), organizations::name))
        .order((
            contract_members::joined_on.asc(),
            contract_members::id.asc(),
        ))
        .load(conn)
}

pub fn insert_member(conn: &mut DbConn, row: &MemberRow) -> QueryResult<()> {
    diesel::insert_into(contract_members::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_member(conn: &mut DbConn, row: &MemberRow) -> QueryResult<()> {
    diesel::update(contract_members::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn prices_of(conn: &mut DbConn, contract_id: &str) -> QueryResult<Vec<PriceRow>> {
    contract_prices::table
        .filter(contract_prices::contract_id.eq(contract_id))
        .select(PriceRow::as_select())
        .order((
            contract_prices::target.asc(),
            contract_prices::effective_from.asc(),
        ))
        .load(conn)
}

pub fn insert_price(conn: &mut DbConn, row: &PriceRow) -> QueryResult<()> {
    diesel::insert_into(contract_prices::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn thresholds_of(conn: &mut DbConn, contract_id: &str) -> QueryResult<Vec<ThresholdRow>> {
    contract_thresholds::table
        .filter(contract_thresholds::contract_id.eq(contract_id))
        .select(ThresholdRow::as_select())
        .order((
            contract_thresholds::target.asc(),
            contract_thresholds::effective_from.asc(),
        ))
        .load(conn)
}

pub fn insert_threshold(conn: &mut DbConn, row: &ThresholdRow) -> QueryResult<()> {
    diesel::insert_into(contract_thresholds::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The disposers of the contracts a scope sees (for licence alerts).
pub fn disposers_in_scope(conn: &mut DbConn, scope: &Scope) -> QueryResult<Vec<String>> {
    scoped(scope)
        .select(contracts::disposer_id)
        .distinct()
        .load(conn)
}

/// The contracts of a park, valid on `day`, in which the enterprise is a member that day.
pub fn contracts_of_member_on(
    conn: &mut DbConn,
    park_id: &str,
    enterprise_id: &str,
    day: NaiveDate,
) -> QueryResult<Vec<ContractRow>> {
    // The enterprise must also be in the park that day.
    contracts::table
        .inner_join(contract_members::table)
        .inner_join(
            enterprises::table.on(enterprises::organization_id.eq(contract_members::enterprise_id)),
        )
        .filter(enterprises::joined_on.le(day))
        .filter(
            enterprises::left_on
                .is_null()
                .or(enterprises::left_on.gt(day)),
        )
        .filter(contracts::park_id.eq(park_id))
        .filter(contracts::valid_from.le(day))
        .filter(contracts::valid_to.ge(day))
        .filter(contract_members::enterprise_id.eq(enterprise_id))
        .filter(contract_members::joined_on.le(day))
        .filter(
            contract_members::left_on
                .is_null()
                .or(contract_members::left_on.gt(day)),
        )
        .select(ContractRow::as_select())
        .distinct()
        .order(contracts::id.asc())
        .load(conn)
}

/// The memberships of an enterprise in any contract, with the contract's number.
pub fn memberships_of(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<Membership>> {
    contract_members::table
        .inner_join(contracts::table)
        .filter(contract_members::enterprise_id.eq(enterprise_id))
        .select((MemberRow::as_select(), contracts::number))
        .load(conn)
}

/// The park offices of the parks whose contracts a disposer is party to.
pub fn parks_of_disposer(conn: &mut DbConn, disposer_id: &str) -> QueryResult<Vec<String>> {
    contracts::table
        .filter(contracts::disposer_id.eq(disposer_id))
        .select(contracts::park_id)
        .distinct()
        .load(conn)
}
