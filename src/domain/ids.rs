//! Public identifiers: a short prefix naming the kind of object, then a UUIDv7 in hex.
//!
//! They are opaque to clients and reveal no counts (unlike serial numbers), while their
//! time-ordered bits keep index inserts local and give lists a stable order for cursors.

/// A new identifier for an object of the kind named by `prefix` (e.g. `org`, `usr`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A new identifier whose time part is `at` (UUIDv7 from that instant), for objects whose id
/// must sort with a time they carry (a lot's reception).
pub fn new_id_at(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos());
    format!("{prefix}_{}", uuid::Uuid::new_v7(ts).simple())
}

/// The smallest identifier of this kind that can be allocated at `at` or later: ids sort by
/// their allocation time, so a time window is an id range.
pub fn lower_bound(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    format!("{prefix}_{:012x}", millis & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_ordered_by_creation() {
        let a = new_id("org");
        let b = new_id("org");
        let hex = a.strip_prefix("org_").unwrap_or_default();
        assert!(
            hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()),
            "{a}"
        );
        assert!(a < b, "{a} !< {b}");
        let before = lower_bound(
            "org",
            chrono::Utc::now() - chrono::Duration::milliseconds(1),
        );
        let after = lower_bound("org", chrono::Utc::now() + chrono::Duration::seconds(1));
        let id = new_id("org");
        assert!(before <= id && id < after, "{before} <= {id} < {after}");
        let at = chrono::Utc::now() - chrono::Duration::days(3);
        let dated = new_id_at("lot", at);
        assert!(
            lower_bound("lot", at) <= dated
                && dated < lower_bound("lot", at + chrono::Duration::milliseconds(1))
        );
    }
}
