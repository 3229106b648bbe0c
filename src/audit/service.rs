//! Reading and verifying the audit chain.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::chain::{BrokenLink, GENESIS};
use crate::audit::store::{self, EntryRow};
use crate::auth::Principal;
use crate::auth::policy::{self, Scope};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::Page;
use crate::http::pagination::PageRequest;

/// One entry of the audit chain.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 1042,
    "at": "2026-11-30T08:10:00Z",
    "request_id": "5f0c3c1e-0a43-4c1e-9a0f-3a2d6f1b7c55",
    "user_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "role": "park_office",
    "action": "POST /api/v1/lots/{id}/void",
    "object": "/api/v1/lots/lot_0193f1c2a4b87d21a1c6e1f0b2d3c4e7/void",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "summary": {"request": {"reason": "weighed twice"}},
    "prev_hash": "9b0e1c7f3a1d2e4b5c6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c",
    "hash": "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
}))]
pub struct EntryView {
    /// The entry's place in the chain, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The `x-request-id` of the request that made the change.
    pub request_id: Option<String>,
    /// Who acted; absent for a failed login of an unknown account.
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub role: Option<String>,
    /// The route: method and path pattern.
    pub action: String,
    /// The object changed: its address.
    pub object: String,
    /// The park the object belongs to, when known.
    pub park_id: Option<String>,
    /// What changed: the request's body (secrets withheld) as `request`, and what the service
    /// tells of the change as `change`.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// The hash of the entry before it (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of the entry's canonical JSON (see the README, "Audit chain").
    pub hash: String,
}

impl From<EntryRow> for EntryView {
    fn from(r: EntryRow) -> Self {
        Self {
            seq: r.seq,
            at: r.at.and_utc(),
            request_id: r.request_id,
            user_id: r.user_id,
            organization_id: r.organization_id,
            role: r.role,
            action: r.action,
            object: r.object,
            park_id: r.park_id,
            summary: serde_json::from_str(&r.summary)
                .unwrap_or(serde_json::Value::String(r.summary)),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The outcome of a walk along the chain.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "intact": true,
    "entries_checked": 1042,
    "first_seq": 1,
    "anchor": GENESIS,
    "head_seq": 1042,
    "head_hash": "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
}))]
pub struct VerifyReport {
    /// Whether every link holds.
    pub intact: bool,
    pub entries_checked: u64,
    /// The first entry kept (1 unless older entries were archived).
    pub first_seq: Option<i64>,
    /// The `prev_hash` of the first entry kept: 64 zeros, or the hash of the last archived
    /// entry, to be compared with the archive's.
    pub anchor: Option<String>,
    /// The last entry checked and its hash (the head, when the chain is intact).
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    /// The first broken link, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<BrokenLink>,
}

/// Walks the chain from its first kept entry to its head.
pub fn verify(conn: &mut DbConn) -> Result<VerifyReport, ApiError> {
    let walk = store::walk(conn)?;
    Ok(VerifyReport {
        intact: walk.broken.is_none(),
        entries_checked: walk.checked,
        first_seq: walk.first.as_ref().map(|f| f.0),
        anchor: walk.first.as_ref().map(|f| f.1.clone()),
        head_seq: walk.head().map(|h| h.0),
        head_hash: walk.head().map(|h| h.1.clone()),
        first_broken: walk.broken,
    })
}

/// A page of the entries the principal may read: all for administrators, its park's for a park
/// office, its jurisdiction's parks' for an inspector.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    page: &PageRequest,
) -> Result<Page<EntryView>, ApiError> {
    let scope: Scope = policy::audit_scope(principal)?;
    let rows: Vec<(String, EntryRow)> = store::page(conn, &scope, page)?
        .into_iter()
        .map(|r| (r.seq.to_string(), r))
        .collect();
    Ok(Page::from_rows(rows, page.limit, |r| r.0.as_str()).map(|(_, r)| EntryView::from(r)))
}
