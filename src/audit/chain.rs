//! The hash chain, without I/O: what an entry's hash covers, and the walk that finds the first
//! broken link.
//!
//! An entry's hash is the SHA-256 (lowercase hex) of the canonical JSON (see
//! `domain::canonical`) of the object of its fields: `seq`, `prev_hash`, `at` (RFC 3339 in UTC
//! with microseconds), `request_id`, `user_id`, `organization_id`, `role`, `action`, `object`,
//! `park_id` and `summary`, absent values as `null`. The first entry's `prev_hash` is
//! [`GENESIS`]; every later entry's is the hash of the entry before it, whose `seq` is one less.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry before it takes its place in the chain.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub object: String,
    pub park_id: Option<String>,
    pub summary: String,
}

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub fields: NewEntry,
}

/// The instant as hashed: both backends store microseconds.
pub fn instant(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The hash of an entry with these fields at this place.
pub fn hash(seq: i64, prev_hash: &str, e: &NewEntry) -> String {
    let value = json!({
        "seq": seq,
        "prev_hash": prev_hash,
        "at": instant(e.at.naive_utc()),
        "request_id": e.request_id,
        "user_id": e.user_id,
        "organization_id": e.organization_id,
        "role": e.role,
        "action": e.action,
        "object": e.object,
        "park_id": e.park_id,
        "summary": e.summary,
    });
    crate::domain::digest::sha256_hex(crate::domain::canonical::to_string(&value).as_bytes())
}

/// Why a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// The entry's fields do not give its stored hash: the entry was altered.
    Altered,
    /// The entry's `prev_hash` is not the hash of the entry before it: an entry was altered,
    /// inserted or replaced before it.
    Unlinked,
    /// The entry's `seq` does not follow the one before it: entries were removed.
    Missing,
}

/// The first broken link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BrokenLink {
    /// The entry at which the chain breaks.
    #[schema(example = 1042)]
    pub seq: i64,
    pub reason: Break,
}

/// The walk along the chain, fed entries in `seq` order, page by page.
#[derive(Debug, Default)]
pub struct Walk {
    /// The first entry seen: its `seq` and `prev_hash` (the anchor of an archived prefix).
    pub first: Option<(i64, String)>,
    last: Option<(i64, String)>,
    pub checked: u64,
    pub broken: Option<BrokenLink>,
}

impl Walk {
    /// Checks the next entry; returns false once the chain is broken.
    pub fn step(&mut self, entry: &Entry) -> bool {
        if self.broken.is_some() {
            return false;
        }
        self.checked += 1;
        let reason = if hash(entry.seq, &entry.prev_hash, &entry.fields) != entry.hash {
            Some(Break::Altered)
        } else {
            match &self.last {
                None => None,
                Some((seq, _)) if entry.seq != seq + 1 => Some(Break::Missing),
                Some((_, h)) if *h != entry.prev_hash => Some(Break::Unlinked),
                Some(_) => None,
            }
        };
        if self.first.is_none() {
            self.first = Some((entry.seq, entry.prev_hash.clone()));
        }
        self.last = Some((entry.seq, entry.hash.clone()));
        if let Some(reason) = reason {
            self.broken = Some(BrokenLink {
                seq: entry.seq,
                reason,
            });
            return false;
        }
        true
    }

    /// The last entry checked: its `seq` and hash.
    pub fn head(&self) -> Option<&(i64, String)> {
        self.last.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let fields = NewEntry {
                    at: DateTime::from_timestamp(1_790_000_000 + seq, 0).unwrap_or_default(),
                    request_id: Some(format!("r{seq}")),
                    user_id: Some("usr_a".into()),
                    organization_id: Some("org_a".into()),
                    role: Some("park_office".into()),
                    action: "POST /api/v1/lots".into(),
                    object: format!("/api/v1/lots/l{seq}"),
                    park_id: None,
                    summary: "{}".into(),
                };
                let h = hash(seq, &prev, &fields);
                let entry = Entry {
                    seq,
                    prev_hash: prev.clone(),
                    hash: h.clone(),
                    fields,
                };
                prev = h;
                entry
            })
            .collect()
    }

    fn walk(entries: &[Entry]) -> Walk {
        let mut w = Walk::default();
        for e in entries {
            if !w.step(e) {
                break;
            }
        }
        w
    }

    #[test]
    fn an_intact_chain_walks_to_its_head() {
        let w = walk(&chain(5));
        assert_eq!(w.broken, None);
        assert_eq!(w.checked, 5);
        assert_eq!(w.head().map(|h| h.0), Some(5));
    }

    #[test]
    fn the_first_broken_link_is_named() {
        let mut entries = chain(5);
        entries[2].fields.summary = "{\"forged\":true}".into();
        assert_eq!(
            walk(&entries).broken,
            Some(BrokenLink {
                seq: 3,
                reason: Break::Altered
            })
        );
        let mut entries = chain(5);
        entries.remove(3);
        assert_eq!(
            walk(&entries).broken,
            Some(BrokenLink {
                seq: 5,
                reason: Break::Missing
            })
        );
        // Rehashing an altered entry does not help: the next one no longer links to it.
        let mut entries = chain(5);
        entries[1].fields.object = "/elsewhere".into();
        entries[1].hash = hash(2, &entries[1].prev_hash, &entries[1].fields);
        assert_eq!(
            walk(&entries).broken,
            Some(BrokenLink {
                seq: 3,
                reason: Break::Unlinked
            })
        );
    }
}
