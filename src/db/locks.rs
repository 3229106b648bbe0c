//! The locks a write transaction takes, and the one order in which it takes them.
//!
//! Two transactions that wait for each other's locks deadlock; they cannot if every transaction
//! takes its locks in one order. That order is [`Rank`]: a transaction may take a lock of the
//! same or a later rank than the latest it holds, or one it already holds (taking it again is
//! free), never an earlier one — [`take`] refuses with an internal error, which the tests on
//! both backends meet on any path that would break the order. The order is:
//!
//! 1. the login throttle of an account and an address;
//! 2. a contract's terms;
//! 3. a producer's label sequence of one code and day: its row, taken by the weighing that
//!    labels a lot's containers before it takes the lot's pickup group, so that the group is
//!    held for fewer statements;
//! 4. a pickup group (its waiting lots and its open request);
//! 5. a manifest (its steps and revisions);
//! 6. the stock: the rows of zones (their stored grams) and of the inventory, taken by
//!    `lots::stock` in zone and key order;
//! 7. the serial of a manifest number;
//! 8. an enterprise's statements, notes and payments;
//! 9. an organisation's webhook endpoints, then one endpoint;
//! 10. a condition told once;
//! 11. the head of the audit chain, taken last of all, just before the commit, by the entry
//!     every audited transaction appends (see `audit::store::append`): the one lock that every
//!     audited writer shares is held only while the entry is written and committed.
//!
//! On PostgreSQL a lock is a transaction-scoped advisory lock on a number derived from its name
//! (several of one rank are taken in sorted order). On SQLite a write transaction already holds
//! the one write lock, so nothing is taken, but the order is checked all the same.

use std::cell::RefCell;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::ApiError;

/// The ranks of locks, in the order a transaction takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Login,
    Contract,
    LabelSequence,
    PickupGroup,
    Manifest,
    Stock,
    ManifestSerial,
    Statement,
    Webhooks,
    Webhook,
    Notice,
    AuditChain,
}

/// One lock, named by what it guards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock<'a> {
    /// Failed logins of one subject (an account or an address), in one throttle scope.
    Login {
        scope: &'a str,
        subject: &'a str,
    },
    Contract(&'a str),
    /// A pickup group, by its key (contract, place, category).
    PickupGroup(&'a str),
    Manifest(&'a str),
    /// The serial of manifest numbers of one prefix (city and year).
    ManifestSerial(&'a str),
    /// The billing of one enterprise.
    Statement(&'a str),
    /// The webhook endpoints of one organisation.
    Webhooks(&'a str),
    Webhook(&'a str),
    /// A condition told once, by its notice key.
    Notice(&'a str),
    /// The head of the audit chain.
    AuditChain,
}

impl Lock<'_> {
    pub fn rank(&self) -> Rank {
        match self {
            Lock::Login { .. } => Rank::Login,
            Lock::Contract(_) => Rank::Contract,
            Lock::PickupGroup(_) => Rank::PickupGroup,
            Lock::Manifest(_) => Rank::Manifest,
            Lock::ManifestSerial(_) => Rank::ManifestSerial,
            Lock::Statement(_) => Rank::Statement,
            Lock::Webhooks(_) => Rank::Webhooks,
            Lock::Webhook(_) => Rank::Webhook,
            Lock::Notice(_) => Rank::Notice,
            Lock::AuditChain => Rank::AuditChain,
        }
    }

    /// The lock's name, from which its advisory-lock number is derived.
    fn name(&self) -> String {
        match self {
            Lock::Login { scope, subject } => format!("login:{scope}:{subject}"),
            Lock::Contract(id) => format!("contract:{id}"),
            Lock::PickupGroup(key) => format!("pickup:{key}"),
            Lock::Manifest(id) => format!("manifest:{id}"),
            Lock::ManifestSerial(prefix) => format!("manifest-serial:{prefix}"),
            Lock::Statement(enterprise) => format!("statement:{enterprise}"),
            Lock::Webhooks(organization) => format!("webhooks:{organization}"),
            Lock::Webhook(id) => format!("webhook:{id}"),
            Lock::Notice(key) => format!("notice:{key}"),
            Lock::AuditChain => "audit-chain".to_owned(),
        }
    }
}

/// What the current write transaction holds: the latest rank and the names taken.
#[derive(Debug, Default)]
struct Held {
    latest: Option<Rank>,
    names: Vec<String>,
}

thread_local! {
    /// The locks of the write transaction running on this thread, if any. A transaction runs
    /// on one thread from begin to end (diesel is synchronous), so the thread is its scope.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Starts the record of a new outermost write transaction on this thread.
pub(crate) fn begin() {
    HELD.with(|h| *h.borrow_mut() = Some(Held::default()));
}

/// Ends the record when the outermost write transaction ends.
pub(crate) fn end() {
    HELD.with(|h| *h.borrow_mut() = None);
}

/// Records that the transaction enters `rank`, or refuses if it holds a later one.
fn enter(rank: Rank, names: &[String]) -> Result<(), ApiError> {
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        let Some(held) = held.as_mut() else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "a {rank:?} lock outside a write transaction"
            )));
        };
        // Taking again locks already held is free: it cannot wait for anyone.
        let again = !names.is_empty() && names.iter().all(|n| held.names.contains(n));
        if let Some(latest) = held.latest
            && rank < latest
            && !again
        {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "lock order broken: a {rank:?} lock after a {latest:?} lock"
            )));
        }
        held.latest = held.latest.max(Some(rank));
        held.names.extend(names.iter().cloned());
        Ok(())
    })
}

/// Takes a lock until the transaction ends.
pub fn take(conn: &mut DbConn, lock: Lock<'_>) -> Result<(), ApiError> {
    take_all(conn, std::slice::from_ref(&lock))
}

/// Takes locks of one rank until the transaction ends, in sorted order.
pub fn take_all(conn: &mut DbConn, locks: &[Lock<'_>]) -> Result<(), ApiError> {
    let Some(rank) = locks.first().map(Lock::rank) else {
        return Ok(());
    };
    if locks.iter().any(|l| l.rank() != rank) {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "locks of several ranks taken at once"
        )));
    }
    let names: Vec<String> = locks.iter().map(Lock::name).collect();
    let new: Vec<String> = HELD.with(|h| {
        let held = h.borrow();
        names
            .iter()
            .filter(|n| !held.as_ref().is_some_and(|held| held.names.contains(n)))
            .cloned()
            .collect()
    });
    enter(rank, &names)?;
    let DbConn::Pg(pg) = conn else { return Ok(()) };
    // A lock already held is not asked for again.
    let mut ids: Vec<i64> = new.iter().map(|n| lock_id(n)).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(pg)?;
    }
    Ok(())
}

/// Takes the head of the audit chain until the transaction ends. Its rank is the last, so no
/// order can be broken by it; it returns diesel's error to be usable where the transaction's
/// own error type is any.
pub(crate) fn take_chain_head(conn: &mut DbConn) -> QueryResult<()> {
    take(conn, Lock::AuditChain).map_err(|e| {
        diesel::result::Error::QueryBuilderError(format!("the audit chain's lock: {e}").into())
    })
}

/// Records that the transaction now takes the row locks of the stock (zones, inventory).
pub fn enter_stock() -> Result<(), ApiError> {
    enter(Rank::Stock, &[])
}

/// Records that the transaction now takes the row of a producer's label sequence.
pub fn enter_label_sequence() -> Result<(), ApiError> {
    enter(Rank::LabelSequence, &[])
}

/// The advisory-lock number of a name.
pub(crate) fn lock_id(name: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within<T>(f: impl FnOnce() -> T) -> T {
        begin();
        let out = f();
        end();
        out
    }

    #[test]
    fn locks_are_taken_in_rank_order_or_again() {
        within(|| {
            assert!(enter(Rank::PickupGroup, &["pickup:g".into()]).is_ok());
            assert!(enter_stock().is_ok());
            assert!(enter(Rank::Statement, &["statement:e".into()]).is_ok());
            // The group again (e.g. a correction checking its group's rules): already held.
            assert!(enter(Rank::PickupGroup, &["pickup:g".into()]).is_ok());
            // Another group after the statement lock: refused.
            assert!(enter(Rank::PickupGroup, &["pickup:h".into()]).is_err());
            assert!(enter_stock().is_err(), "the stock after the statement lock");
        });
    }

    #[test]
    fn a_lock_outside_a_write_transaction_is_refused() {
        end();
        assert!(enter(Rank::Notice, &["notice:x".into()]).is_err());
    }

    #[test]
    fn each_transaction_starts_afresh() {
        within(|| enter(Rank::Notice, &["notice:x".into()]).map(drop)).ok();
        within(|| {
            assert!(enter(Rank::Login, &["login:a:b".into()]).is_ok());
        });
    }
}
