//! Time as the service keeps it: UTC, to the microsecond (PostgreSQL's precision, so that
//! both backends store and return the same instants).

use chrono::{DateTime, SubsecRound, Utc};

/// The current instant, truncated to microseconds.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Today's date in a time zone (a park's).
pub fn today_in(tz: chrono_tz::Tz) -> chrono::NaiveDate {
    now().with_timezone(&tz).date_naive()
}
