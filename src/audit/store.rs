//! Queries on the audit chain: appending under the chain-head lock, reading pages, walking it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::chain::{self, Entry, NewEntry, Walk};
use crate::auth::policy::Scope;
use crate::db::DbConn;
use crate::db::schema::{audit_entries, parks};
use crate::http::pagination::PageRequest;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_entries)]
pub struct EntryRow {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub at: NaiveDateTime,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub object: String,
    pub park_id: Option<String>,
    pub summary: String,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Self {
        Entry {
            seq: r.seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
            fields: NewEntry {
                at: r.at.and_utc(),
                request_id: r.request_id,
                user_id: r.user_id,
                organization_id: r.organization_id,
                role: r.role,
                action: r.action,
                object: r.object,
                park_id: r.park_id,
                summary: r.summary,
            },
        }
    }
}

/// Appends an entry at the head of the chain; returns its `seq`.
///
/// Called last in its transaction: the chain-head lock (the last rank of `db::locks`) is held
/// from here to the commit, so concurrent writers append one after another without holding it
/// while they do their own work. On SQLite the write transaction already serialises writers.
pub fn append(conn: &mut DbConn, entry: &NewEntry) -> QueryResult<i64> {
    crate::db::locks::take_chain_head(conn)?;
    let head: Option<(i64, String)> = audit_entries::table
        .order(audit_entries::seq.desc())
        .select((audit_entries::seq, audit_entries::hash))
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = head.map_or((1, chain::GENESIS.to_owned()), |(s, h)| (s + 1, h));
    let at = entry.at.naive_utc();
    let hash = chain::hash(seq, &prev_hash, entry);
    diesel::insert_into(audit_entries::table)
        .values(&EntryRow {
            seq,
            prev_hash,
            hash,
            at,
            request_id: entry.request_id.clone(),
            user_id: entry.user_id.clone(),
            organization_id: entry.organization_id.clone(),
            role: entry.role.clone(),
            action: entry.action.clone(),
            object: entry.object.clone(),
            park_id: entry.park_id.clone(),
            summary: entry.summary.clone(),
        })
        .execute(conn)?;
    Ok(seq)
}

/// A page of the entries a scope may read, newest first, after the cursor's `seq`.
pub fn page(conn: &mut DbConn, scope: &Scope, page: &PageRequest) -> QueryResult<Vec<EntryRow>> {
    let mut q = audit_entries::table
        .select(EntryRow::as_select())
        .into_boxed();
    q = match scope {
        Scope::All => q,
        Scope::Park(id) | Scope::Own(id) => q.filter(audit_entries::park_id.eq(id.clone())),
        Scope::Jurisdiction(prefix) => q.filter(
            audit_entries::park_id.eq_any(
                parks::table
                    .filter(parks::region_code.like(format!("{prefix}%")))
                    .select(parks::organization_id.nullable()),
            ),
        ),
    };
    if let Some(after) = page.after.as_deref() {
        // A cursor that is no number names nothing after it.
        let after: i64 = after.parse().unwrap_or(i64::MIN);
        q = q.filter(audit_entries::seq.lt(after));
    }
    q.order(audit_entries::seq.desc())
        .limit(page.limit + 1)
        .load(conn)
}

/// Walks the whole chain from its first kept entry, a thousand entries at a time, until the
/// head or the first broken link.
pub fn walk(conn: &mut DbConn) -> QueryResult<Walk> {
    const BATCH: i64 = 1000;
    let mut walk = Walk::default();
    let mut after = i64::MIN;
    loop {
        let rows: Vec<EntryRow> = audit_entries::table
            .filter(audit_entries::seq.gt(after))
            .order(audit_entries::seq.asc())
            .limit(BATCH)
            .select(EntryRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(walk);
        };
        for row in rows {
            if !walk.step(&Entry::from(row)) {
                return Ok(walk);
            }
        }
        after = last;
    }
}

/// The entries of one object, oldest first (a manifest's steps, a lot's changes).
pub fn of_object(conn: &mut DbConn, object: &str) -> QueryResult<Vec<EntryRow>> {
    audit_entries::table
        .filter(audit_entries::object.eq(object))
        .order(audit_entries::seq.asc())
        .select(EntryRow::as_select())
        .load(conn)
}
