//! Queries on pickup requests and the lots they cover. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::PickupScope;
use crate::db::DbConn;
use crate::db::schema::{lots, parks, pickup_request_lots, pickup_requests, pickup_waiting, zones};
use crate::domain::ids::{LotId, PickupRequestId};
use crate::domain::lot::LotStatus;
use crate::domain::pickup::RequestStatus;
use crate::http::pagination::PageRequest;

/// A lot as a request sees it: what it weighs, whose it is, where it waits. The lots' rows
/// belong to `lots`; this is a read-only view of the columns a request needs.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub struct MemberLot {
    pub id: LotId,
    pub enterprise_id: String,
    pub waste_code: String,
    pub status: LotStatus,
    pub net_grams: i64,
    pub weight_source: String,
    pub zone_id: Option<String>,
    pub label_code: Option<String>,
    pub captured_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pickup_requests)]
#[diesel(treat_none_as_null = true)]
pub struct RequestRow {
    pub id: PickupRequestId,
    pub park_id: String,
    pub contract_id: String,
    pub disposer_id: String,
    pub route: String,
    pub warehouse_id: Option<String>,
    pub category: String,
    pub status: RequestStatus,
    pub trigger_kind: String,
    pub trigger_detail: String,
    pub open_key: Option<String>,
    pub note: Option<String>,
    pub scheduled_on: Option<NaiveDate>,
    pub carrier_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub driver_id: Option<String>,
    pub reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<String>,
    pub scheduled_at: Option<NaiveDateTime>,
    pub scheduled_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
    pub updated_at: NaiveDateTime,
    /// The escort (押运员) named in the schedule, a user of the carrier.
    pub escort_id: Option<String>,
}

/// A request with what its access check reads besides the request: its park's region code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pickup_requests)]
pub struct Request {
    #[diesel(embed)]
    pub request: RequestRow,
    /// The region code of the request's park (`parks.region_code`).
    #[diesel(select_expression = parks::region_code)]
    pub region_code: String,
}

pub fn insert_request(conn: &mut DbConn, row: &RequestRow) -> QueryResult<()> {
    diesel::insert_into(pickup_requests::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_request(conn: &mut DbConn, row: &RequestRow) -> QueryResult<()> {
    diesel::update(pickup_requests::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_request(conn: &mut DbConn, id: &PickupRequestId) -> QueryResult<Option<Request>> {
    pickup_requests::table
        .inner_join(parks::table)
        .filter(pickup_requests::id.eq(id))
        .select(Request::as_select())
        .first(conn)
        .optional()
}

/// Every request a lot waited in (a cancelled or declined one, then the next), oldest first.
pub fn requests_of_lot(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Vec<RequestRow>> {
    pickup_requests::table
        .inner_join(pickup_request_lots::table)
        .filter(pickup_request_lots::lot_id.eq(lot_id))
        .select(RequestRow::as_select())
        .order((
            pickup_request_lots::added_at.asc(),
            pickup_requests::id.asc(),
        ))
        .load(conn)
}

pub fn find_open(conn: &mut DbConn, open_key: &str) -> QueryResult<Option<RequestRow>> {
    pickup_requests::table
        .filter(pickup_requests::open_key.eq(open_key))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// The lots of a contract and category that wait for collection at one place (a warehouse, or
/// the enterprises' doors when `warehouse_id` is `None`) and are in no open request, as a
/// query on one index (`lots_waiting_idx`).
fn waiting<'a>(
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> lots::BoxedQuery<'a, crate::db::MultiBackend> {
    let q = lots::table
        .filter(lots::contract_id.eq(contract_id.to_owned()))
        .filter(lots::category.eq(category.to_owned()))
        .filter(lots::pickup_request_id.is_null())
        .into_boxed();
    match warehouse_id {
        Some(w) => q
            .filter(lots::status.eq(LotStatus::Stored))
            .filter(lots::warehouse_id.eq(w.to_owned())),
        None => q
            .filter(lots::status.eq(LotStatus::Declared))
            .filter(lots::route.eq("door")),
    }
}

/// The waiting lots of a group (see [`waiting`]).
pub fn waiting_lots(
    conn: &mut DbConn,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> QueryResult<Vec<MemberLot>> {
    waiting(contract_id, category, warehouse_id)
        .select(MemberLot::as_select())
        .order(lots::id.asc())
        .load(conn)
}

/// What waits in a group, by zone and code, from the running totals the database keeps with
/// every change to a lot (so its cost does not grow with the lots waiting).
#[derive(Debug, Clone, Queryable)]
pub struct WaitingTotal {
    /// The zone's id, or "" at the doors.
    pub zone: String,
    pub waste_code: String,
    pub grams: i64,
    pub lots: i64,
    /// When the oldest was weighed or declared, or earlier (see the `pickup_waiting` table).
    pub oldest: Option<NaiveDateTime>,
}

pub fn waiting_totals(
    conn: &mut DbConn,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> QueryResult<Vec<WaitingTotal>> {
    pickup_waiting::table
        .filter(pickup_waiting::contract_id.eq(contract_id))
        .filter(pickup_waiting::place.eq(warehouse_id.unwrap_or("")))
        .filter(pickup_waiting::category.eq(category))
        .filter(pickup_waiting::lots.gt(0))
        .select((
            pickup_waiting::zone,
            pickup_waiting::waste_code,
            pickup_waiting::grams,
            pickup_waiting::lots,
            pickup_waiting::oldest,
        ))
        .load(conn)
}

/// When the oldest waiting lot of a group was weighed (or declared), on the waiting index.
pub fn oldest_waiting(
    conn: &mut DbConn,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> QueryResult<Option<NaiveDateTime>> {
    waiting(contract_id, category, warehouse_id)
        .select(diesel::dsl::min(lots::captured_at))
        .first(conn)
}

/// Every group (contract, warehouse or door, category) with lots waiting in no request.
pub fn waiting_groups(conn: &mut DbConn) -> QueryResult<Vec<(String, Option<String>, String)>> {
    pickup_waiting::table
        .filter(pickup_waiting::lots.gt(0))
        .select((
            pickup_waiting::contract_id,
            pickup_waiting::place,
            pickup_waiting::category,
        ))
        .distinct()
        .load::<(String, String, String)>(conn)
        .map(|groups| {
            groups
                .into_iter()
                .map(|(c, place, category)| (c, Some(place).filter(|p| !p.is_empty()), category))
                .collect()
        })
}

/// Puts every waiting lot of a group in a request: the request's list, and each lot's open
/// request. Two statements, whatever the number of lots. Returns the number of lots added.
pub fn attach_waiting(
    conn: &mut DbConn,
    request_id: &PickupRequestId,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Text, Timestamp};
    diesel::insert_into(pickup_request_lots::table)
        .values(waiting(contract_id, category, warehouse_id).select((
            request_id.clone().into_sql::<Text>(),
            lots::id,
            lots::enterprise_id,
            at.into_sql::<Timestamp>(),
        )))
        .into_columns((
            pickup_request_lots::request_id,
            pickup_request_lots::lot_id,
            pickup_request_lots::enterprise_id,
            pickup_request_lots::added_at,
        ))
        .execute(conn)?;
    // The lots just listed (listed at `at`, in this transaction) now wait in the request.
    diesel::update(
        lots::table
            .filter(
                lots::id.eq_any(
                    pickup_request_lots::table
                        .filter(pickup_request_lots::request_id.eq(request_id))
                        .filter(pickup_request_lots::added_at.eq(at))
                        .select(pickup_request_lots::lot_id),
                ),
            )
            .filter(lots::pickup_request_id.is_null()),
    )
    .set(lots::pickup_request_id.eq(request_id))
    .execute(conn)
}

/// The enterprises with lots waiting in a group that have none yet in a request.
pub fn waiting_newcomers(
    conn: &mut DbConn,
    request_id: &PickupRequestId,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> QueryResult<Vec<String>> {
    waiting(contract_id, category, warehouse_id)
        .filter(diesel::dsl::not(diesel::dsl::exists(
            pickup_request_lots::table
                .filter(pickup_request_lots::request_id.eq(request_id.clone()))
                .filter(pickup_request_lots::enterprise_id.eq(lots::enterprise_id)),
        )))
        .select(lots::enterprise_id)
        .distinct()
        .load(conn)
}

/// Puts one lot in a request: the request's list, and the lot's open request.
pub fn attach_one(
    conn: &mut DbConn,
    request_id: &PickupRequestId,
    lot_id: &LotId,
    enterprise_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(pickup_request_lots::table)
        .values((
            pickup_request_lots::request_id.eq(request_id),
            pickup_request_lots::lot_id.eq(lot_id),
            pickup_request_lots::enterprise_id.eq(enterprise_id),
            pickup_request_lots::added_at.eq(at),
        ))
        .execute(conn)?;
    diesel::update(lots::table.find(lot_id))
        .set(lots::pickup_request_id.eq(request_id))
        .execute(conn)
        .map(drop)
}

/// Whether an enterprise has lots in a request's list.
pub fn has_member(
    conn: &mut DbConn,
    request_id: &PickupRequestId,
    enterprise_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        pickup_request_lots::table
            .filter(pickup_request_lots::enterprise_id.eq(enterprise_id))
            .filter(pickup_request_lots::request_id.eq(request_id)),
    ))
    .get_result(conn)
}

/// Records that a request changed at `at`.
pub fn touch_request(
    conn: &mut DbConn,
    id: &PickupRequestId,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(pickup_requests::table.find(id))
        .set(pickup_requests::updated_at.eq(at))
        .execute(conn)
        .map(drop)
}

/// Whether some lot waiting in the group was never in a request.
pub fn any_never_requested(
    conn: &mut DbConn,
    contract_id: &str,
    category: &str,
    warehouse_id: Option<&str>,
) -> QueryResult<bool> {
    Ok(waiting(contract_id, category, warehouse_id)
        .filter(diesel::dsl::not(diesel::dsl::exists(
            pickup_request_lots::table.filter(pickup_request_lots::lot_id.eq(lots::id)),
        )))
        .select(lots::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Frees the lots still waiting in a request that ends without collection; they wait again.
pub fn detach_all(conn: &mut DbConn, request_id: &PickupRequestId) -> QueryResult<usize> {
    diesel::update(lots::table.filter(lots::pickup_request_id.eq(request_id)))
        .set(lots::pickup_request_id.eq(None::<PickupRequestId>))
        .execute(conn)
}

/// The lots a request covers or covered, as they are now.
pub fn lots_of(conn: &mut DbConn, request_id: &PickupRequestId) -> QueryResult<Vec<MemberLot>> {
    pickup_request_lots::table
        .inner_join(lots::table)
        .filter(pickup_request_lots::request_id.eq(request_id))
        .select(MemberLot::as_select())
        .order(lots::id.asc())
        .load(conn)
}

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    pickup_request_lots::request_id,
    pickup_request_lots::enterprise_id,
    lots::waste_code,
);

/// What a request holds of one waste code.
#[derive(Debug, Clone)]
pub struct CodeTotal {
    pub request_id: PickupRequestId,
    pub waste_code: String,
    /// The net grams of the request's lots of the code.
    pub grams: i64,
    /// The number of the request's lots of the code.
    pub lots: i64,
}

/// Grams and lots per request and code of the requests `ids`, voided lots left out (and, for an
/// enterprise, the others' lots).
pub fn lines_of(
    conn: &mut DbConn,
    ids: &[PickupRequestId],
    only_enterprise: Option<&str>,
) -> QueryResult<Vec<CodeTotal>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(PickupRequestId, String, String, i64, i64)> = pickup_request_lots::table
        .inner_join(lots::table)
        .filter(pickup_request_lots::request_id.eq_any(ids))
        .filter(lots::status.ne(LotStatus::Voided))
        .group_by((
            pickup_request_lots::request_id,
            pickup_request_lots::enterprise_id,
            lots::waste_code,
        ))
        .select((
            pickup_request_lots::request_id,
            pickup_request_lots::enterprise_id,
            lots::waste_code,
            // A sum of BIGINT is NUMERIC on PostgreSQL: cast back (the grams of one request's
            // lots of one enterprise and code are far from 2^63).
            diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(lots.net_grams) AS BIGINT)"),
            diesel::dsl::count(lots::id),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, e, ..)| only_enterprise.is_none_or(|only| only == e))
        .map(|(request_id, _, waste_code, grams, lots)| CodeTotal {
            request_id,
            waste_code,
            grams,
            lots,
        })
        .collect())
}

/// The enterprises whose lots a request covers or covered.
pub fn enterprises_of(conn: &mut DbConn, request_id: &PickupRequestId) -> QueryResult<Vec<String>> {
    pickup_request_lots::table
        .filter(pickup_request_lots::request_id.eq(request_id))
        .select(pickup_request_lots::enterprise_id)
        .distinct()
        .load(conn)
}

/// Zones' name, stored grams and capacity.
pub fn zone_fill(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i64, i64)>> {
    zones::table
        .filter(zones::id.eq_any(ids))
        .select((zones::name, zones::stored_grams, zones::capacity_grams))
        .load(conn)
}

#[derive(Debug, Default)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub contract_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// Only open requests (requested, accepted, scheduled).
    pub open: bool,
}

pub fn list_requests(
    conn: &mut DbConn,
    scope: &PickupScope,
    filter: &RequestFilter,
    page: &PageRequest,
) -> QueryResult<Vec<RequestRow>> {
    let RequestFilter {
        status,
        contract_id,
        warehouse_id,
        open,
    } = filter;
    let unfiltered = status.is_none() && contract_id.is_none() && warehouse_id.is_none() && !*open;
    if let (PickupScope::Enterprise(enterprise), true) = (scope, unfiltered) {
        // An enterprise's own requests, nothing else narrowing them: the page's ids read in
        // key order from the index of its lots' requests, however many it ever had.
        let ids: Vec<PickupRequestId> = pickup_request_lots::table
            .filter(pickup_request_lots::enterprise_id.eq(enterprise))
            .filter(pickup_request_lots::request_id.gt(page.after.clone().unwrap_or_default()))
            .select(pickup_request_lots::request_id)
            .distinct()
            .order(pickup_request_lots::request_id.asc())
            .limit(page.limit + 1)
            .load(conn)?;
        return pickup_requests::table
            .filter(pickup_requests::id.eq_any(ids))
            .select(RequestRow::as_select())
            .order(pickup_requests::id.asc())
            .load(conn);
    }
    let mut q = pickup_requests::table
        .select(RequestRow::as_select())
        .into_boxed();
    q = match scope {
        PickupScope::All => q,
        PickupScope::Park(id) => q.filter(pickup_requests::park_id.eq(id.clone())),
        PickupScope::Jurisdiction(prefix) => q.filter(
            pickup_requests::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id),
            ),
        ),
        PickupScope::Disposer(id) => q.filter(pickup_requests::disposer_id.eq(id.clone())),
        PickupScope::Enterprise(id) => q.filter(
            pickup_requests::id.eq_any(
                pickup_request_lots::table
                    .filter(pickup_request_lots::enterprise_id.eq(id.clone()))
                    .select(pickup_request_lots::request_id),
            ),
        ),
        PickupScope::Driver(id) => q.filter(pickup_requests::driver_id.eq(id.clone())),
    };
    if let Some(v) = filter.status {
        q = q.filter(pickup_requests::status.eq(v));
    }
    if let Some(v) = &filter.contract_id {
        q = q.filter(pickup_requests::contract_id.eq(v.clone()));
    }
    if let Some(v) = &filter.warehouse_id {
        q = q.filter(pickup_requests::warehouse_id.eq(v.clone()));
    }
    if filter.open {
        q = q.filter(pickup_requests::open_key.is_not_null());
    }
    if let Some(after) = &page.after {
        q = q.filter(pickup_requests::id.gt(after.clone()));
    }
    q.order(pickup_requests::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}
