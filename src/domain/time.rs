//! Time as the rules see it: instants in UTC (to the microsecond), dates in a park's time zone.
//! The current instant is never read here: it comes from the service's clock
//! (`crate::clock::Clock`) and is passed in.

use chrono::{DateTime, NaiveDate, Utc};

/// The date of an instant in a time zone (a park's).
pub fn local_date(at: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}
