//! Queries of patrols, threads (findings and feedback), their messages and photos. Diesel
//! only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{parks, patrols, thread_messages, thread_photos, threads};
use crate::domain::patrol::ThreadStatus;
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patrols)]
pub struct PatrolRow {
    pub id: String,
    pub park_id: String,
    pub enterprise_id: Option<String>,
    pub warehouse_id: Option<String>,
    pub patrolled_on: NaiveDate,
    /// A JSON array of names.
    pub people: String,
    /// A JSON array of `{"item", "result"}`.
    pub checklist: String,
    pub note: Option<String>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = threads)]
#[diesel(treat_none_as_null = true)]
pub struct ThreadRow {
    pub id: String,
    pub kind: String,
    pub park_id: String,
    pub enterprise_id: Option<String>,
    pub warehouse_id: Option<String>,
    pub patrol_id: Option<String>,
    pub subject: String,
    pub severity: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub status: ThreadStatus,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = thread_messages)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub kind: String,
    pub body: Option<String>,
    pub author_id: String,
    pub organization_id: String,
    pub created_at: NaiveDateTime,
}

/// A photo without its bytes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = thread_photos)]
pub struct PhotoMeta {
    pub id: String,
    pub thread_id: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub organization_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = thread_photos)]
pub struct NewPhoto<'a> {
    pub id: &'a str,
    pub thread_id: &'a str,
    pub content_type: &'a str,
    pub byte_size: i64,
    pub sha256: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: &'a str,
    pub organization_id: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_patrol(conn: &mut DbConn, row: &PatrolRow) -> QueryResult<()> {
    diesel::insert_into(patrols::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_patrol(conn: &mut DbConn, id: &str) -> QueryResult<Option<PatrolRow>> {
    patrols::table
        .find(id)
        .select(PatrolRow::as_select())
        .first(conn)
        .optional()
}

/// What `GET /patrols` narrows its list to; `None` for no filter.
#[derive(Debug, Clone, Default)]
pub struct PatrolFilter {
    pub enterprise_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// The first day of the patrols, inclusive (the patrol's day is a day of its park).
    pub from: Option<NaiveDate>,
    /// The last day, inclusive.
    pub to: Option<NaiveDate>,
}

/// Patrols of a scope in id order after the cursor (`Own`: of that enterprise), as the
/// filter narrows them.
pub fn list_patrols(
    conn: &mut DbConn,
    scope: &Scope,
    filter: &PatrolFilter,
    page: &PageRequest,
) -> QueryResult<Vec<PatrolRow>> {
    let mut q = patrols::table.select(PatrolRow::as_select()).into_boxed();
    if let Some(id) = &filter.enterprise_id {
        q = q.filter(patrols::enterprise_id.eq(id.clone()));
    }
    if let Some(id) = &filter.warehouse_id {
        q = q.filter(patrols::warehouse_id.eq(id.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(patrols::patrolled_on.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(patrols::patrolled_on.le(to));
    }
    q = match scope {
        Scope::All => q,
        Scope::Park(id) => q.filter(patrols::park_id.eq(id.clone())),
        Scope::Own(id) => q.filter(patrols::enterprise_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(
            patrols::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id),
            ),
        ),
    };
    if let Some(after) = &page.after {
        q = q.filter(patrols::id.gt(after.clone()));
    }
    q.order(patrols::id.asc()).limit(page.limit + 1).load(conn)
}

/// Patrols of a park held on the days from `from` to before `until` (the park's dates), in id
/// order.
pub fn patrols_held(
    conn: &mut DbConn,
    park_id: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<PatrolRow>> {
    patrols::table
        .filter(patrols::park_id.eq(park_id))
        .filter(patrols::patrolled_on.ge(from))
        .filter(patrols::patrolled_on.lt(until))
        .select(PatrolRow::as_select())
        .order(patrols::id.asc())
        .load(conn)
}

/// The findings recorded at the patrols of a park held on the days from `from` to before
/// `until`, in id order.
pub fn findings_held(
    conn: &mut DbConn,
    park_id: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<ThreadRow>> {
    threads::table
        .filter(threads::kind.eq("finding"))
        .filter(threads::patrol_id.is_not_null())
        .filter(
            threads::patrol_id.assume_not_null().eq_any(
                patrols::table
                    .filter(patrols::park_id.eq(park_id.to_owned()))
                    .filter(patrols::patrolled_on.ge(from))
                    .filter(patrols::patrolled_on.lt(until))
                    .select(patrols::id),
            ),
        )
        .select(ThreadRow::as_select())
        .order(threads::id.asc())
        .load(conn)
}

pub fn insert_thread(conn: &mut DbConn, row: &ThreadRow) -> QueryResult<()> {
    diesel::insert_into(threads::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_thread(conn: &mut DbConn, row: &ThreadRow) -> QueryResult<()> {
    diesel::update(threads::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_thread(conn: &mut DbConn, id: &str) -> QueryResult<Option<ThreadRow>> {
    threads::table
        .find(id)
        .select(ThreadRow::as_select())
        .first(conn)
        .optional()
}

/// The findings of a patrol, in the order they were recorded.
pub fn findings_of(conn: &mut DbConn, patrol_id: &str) -> QueryResult<Vec<ThreadRow>> {
    threads::table
        .filter(threads::patrol_id.eq(patrol_id))
        .select(ThreadRow::as_select())
        .order(threads::id.asc())
        .load(conn)
}

/// Threads of a kind within a scope in id order after the cursor, optionally of one status.
pub fn list_threads(
    conn: &mut DbConn,
    kind: &str,
    scope: &Scope,
    status: Option<ThreadStatus>,
    page: &PageRequest,
) -> QueryResult<Vec<ThreadRow>> {
    let mut q = threads::table
        .filter(threads::kind.eq(kind.to_owned()))
        .select(ThreadRow::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) => q.filter(threads::park_id.eq(id.clone())),
        Scope::Own(id) => q.filter(threads::enterprise_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(
            threads::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id),
            ),
        ),
    };
    if let Some(status) = status {
        q = q.filter(threads::status.eq(status));
    }
    if let Some(after) = &page.after {
        q = q.filter(threads::id.gt(after.clone()));
    }
    q.order(threads::id.asc()).limit(page.limit + 1).load(conn)
}

/// Findings not closed whose deadline is before the local day given for the parks of each
/// time zone (time zone, that zone's today), within a scope, in id order after `after`; at
/// most `limit` when given.
pub fn overdue_findings(
    conn: &mut DbConn,
    scope: &Scope,
    due_before: &[(String, NaiveDate)],
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<ThreadRow>> {
    let mut overdue: Box<
        dyn BoxableExpression<
                threads::table,
                crate::db::MultiBackend,
                SqlType = diesel::sql_types::Bool,
            >,
    > = Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
    for (zone, today) in due_before {
        overdue = Box::new(
            overdue.or(threads::park_id
                .eq_any(
                    parks::table
                        .filter(parks::time_zone.eq(zone.clone()))
                        .select(parks::organization_id),
                )
                .and(threads::deadline.assume_not_null().lt(*today))),
        );
    }
    let mut q = threads::table
        .filter(threads::kind.eq("finding"))
        .filter(threads::status.ne(ThreadStatus::Closed))
        .filter(threads::deadline.is_not_null())
        .filter(overdue)
        .select(ThreadRow::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) => q.filter(threads::park_id.eq(id.clone())),
        Scope::Own(id) => q.filter(threads::enterprise_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(
            threads::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id),
            ),
        ),
    };
    if let Some(after) = after {
        q = q.filter(threads::id.gt(after.to_owned()));
    }
    q = q.order(threads::id.asc());
    if let Some(limit) = limit {
        q = q.limit(limit);
    }
    q.load(conn)
}

/// The time zones of the parks, each once.
pub fn park_time_zones(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    parks::table
        .select(parks::time_zone)
        .distinct()
        .order(parks::time_zone.asc())
        .load(conn)
}

pub fn insert_message(conn: &mut DbConn, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(thread_messages::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn messages_of(conn: &mut DbConn, thread_id: &str) -> QueryResult<Vec<MessageRow>> {
    thread_messages::table
        .filter(thread_messages::thread_id.eq(thread_id))
        .select(MessageRow::as_select())
        .order(thread_messages::id.asc())
        .load(conn)
}

pub fn count_messages(conn: &mut DbConn, thread_id: &str) -> QueryResult<i64> {
    thread_messages::table
        .filter(thread_messages::thread_id.eq(thread_id))
        .count()
        .get_result(conn)
}

pub fn insert_photo(conn: &mut DbConn, photo: &NewPhoto<'_>) -> QueryResult<()> {
    diesel::insert_into(thread_photos::table)
        .values(photo)
        .execute(conn)
        .map(drop)
}

pub fn photos_of(conn: &mut DbConn, thread_id: &str) -> QueryResult<Vec<PhotoMeta>> {
    thread_photos::table
        .filter(thread_photos::thread_id.eq(thread_id))
        .select(PhotoMeta::as_select())
        .order(thread_photos::id.asc())
        .load(conn)
}

pub fn count_photos(conn: &mut DbConn, thread_id: &str) -> QueryResult<i64> {
    thread_photos::table
        .filter(thread_photos::thread_id.eq(thread_id))
        .count()
        .get_result(conn)
}

pub fn find_photo(conn: &mut DbConn, id: &str) -> QueryResult<Option<PhotoMeta>> {
    thread_photos::table
        .find(id)
        .select(PhotoMeta::as_select())
        .first(conn)
        .optional()
}

pub fn photo_bytes(conn: &mut DbConn, id: &str) -> QueryResult<Vec<u8>> {
    thread_photos::table
        .find(id)
        .select(thread_photos::bytes)
        .first(conn)
}
