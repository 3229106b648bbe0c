//! Time as the service keeps it: UTC, to the microsecond (PostgreSQL's precision, so that
//! both backends store and return the same instants).

use chrono::{DateTime, SubsecRound, Utc};

/// The current instant, truncated to microseconds.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
