//! Queries of the inspector's desk that span several features' tables. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{contract_members, contracts, lots, parks};
use crate::domain::lot::LotStatus;
use crate::http::pagination::PageRequest;

/// A member of a contract, with the contract's number and park.
#[derive(Debug, Clone, Queryable)]
pub struct IdleMember {
    pub member_id: String,
    pub enterprise_id: String,
    pub contract_id: String,
    pub joined_on: NaiveDate,
    pub contract_number: String,
    pub park_id: String,
}

/// The members of the contracts of a scope in force on `today` who were members on `since`
/// and are still, and who handed in no lot under the contract (voided ones do not count)
/// weighed or declared from `since_at` on; in member id order after the cursor. Each row:
/// member id, enterprise, contract, joined on, contract number, park.
pub fn idle_members(
    conn: &mut DbConn,
    scope: &Scope,
    today: NaiveDate,
    since: NaiveDate,
    since_at: NaiveDateTime,
    page: &PageRequest,
) -> QueryResult<Vec<IdleMember>> {
    let recent = lots::table
        .filter(lots::enterprise_id.eq(contract_members::enterprise_id))
        .filter(lots::contract_id.eq(contract_members::contract_id))
        .filter(lots::status.ne(LotStatus::Voided))
        .filter(lots::captured_at.ge(since_at));
    let mut q = contract_members::table
        .inner_join(contracts::table.inner_join(parks::table))
        .filter(contracts::valid_from.le(today))
        .filter(contracts::valid_to.ge(today))
        .filter(contract_members::joined_on.le(since))
        .filter(
            contract_members::left_on
                .is_null()
                .or(contract_members::left_on.gt(today)),
        )
        .filter(not(exists(recent)))
        .select((
            contract_members::id,
            contract_members::enterprise_id,
            contract_members::contract_id,
            contract_members::joined_on,
            contracts::number,
            contracts::park_id,
        ))
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) | Scope::Own(id) => q.filter(contracts::park_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(parks::region_code.like(format!("{prefix}%"))),
    };
    if let Some(after) = &page.after {
        q = q.filter(contract_members::id.gt(after.clone()));
    }
    q.order(contract_members::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// When an enterprise last handed in a lot under a contract (voided ones aside), if ever.
pub fn last_lot_at(
    conn: &mut DbConn,
    enterprise_id: &str,
    contract_id: &str,
) -> QueryResult<Option<NaiveDateTime>> {
    lots::table
        .filter(lots::enterprise_id.eq(enterprise_id))
        .filter(lots::contract_id.eq(contract_id))
        .filter(lots::status.ne(LotStatus::Voided))
        .select(diesel::dsl::max(lots::captured_at))
        .first(conn)
}

/// The disposal companies registered in a jurisdiction (a region-code prefix).
pub fn disposers_registered_in(conn: &mut DbConn, prefix: &str) -> QueryResult<Vec<String>> {
    use crate::db::schema::disposers;
    disposers::table
        .filter(disposers::region_code.like(format!("{prefix}%")))
        .select(disposers::organization_id)
        .load(conn)
}
