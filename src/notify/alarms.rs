//! Conditions told once to the organisations concerned. Each condition has a notice key; a
//! condition whose key is already recorded is not told again. The key is taken under a lock in
//! the transaction that publishes the message, so two server processes checking at once tell
//! it once. The features find their conditions (storage age and zone fill in `lots::alarms`,
//! overdue receipts in `manifests`, expiring licences in `registry::directory`) and tell them
//! here.

use chrono::{DateTime, Utc};

use crate::db::{DbConn, write_transaction};
use crate::error::ApiError;
use crate::notify::service::{Notice, publish_to_all};
use crate::notify::store;

/// Tells a condition once: records its key and publishes, in one transaction.
pub fn tell_once(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    key: &str,
    audience: &[String],
    notice: &Notice<'_>,
) -> Result<bool, ApiError> {
    write_transaction(conn, |conn| {
        crate::db::locks::take(conn, crate::db::locks::Lock::Notice(key))?;
        if !store::insert_notice(conn, key, now.naive_utc())? {
            return Ok(false);
        }
        publish_to_all(conn, now, audience, notice)?;
        Ok(true)
    })
}

/// Forgets the told conditions whose keys start with `prefix` and are not `still`: a condition
/// that has ended may be told again when it comes back. Each under the same lock as the telling.
pub fn forget_ended(conn: &mut DbConn, prefix: &str, still: &[String]) -> Result<(), ApiError> {
    for key in store::notices_with_prefix(conn, prefix)? {
        if !still.iter().any(|s| key.starts_with(s.as_str())) {
            write_transaction(conn, |conn| {
                crate::db::locks::take(conn, crate::db::locks::Lock::Notice(&key))?;
                store::delete_notice(conn, &key)?;
                Ok::<_, ApiError>(())
            })?;
        }
    }
    Ok(())
}
