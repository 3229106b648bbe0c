//! Time as the rules see it: instants in UTC (to the microsecond), dates in a park's time zone.
//! The current instant is never read here: it comes from the service's clock
//! (`crate::clock::Clock`) and is passed in.

use chrono::{DateTime, NaiveDate, Utc};

/// A time zone's standard offset from UTC in minutes, as it stands on 1 January 2026 (a fixed
/// instant, so that the answer never depends on when it is asked): the phase of the days the
/// park's lot volumes are added up by. Summer time shifts the zone's midnight off that phase;
/// the figures read the lots of such a day themselves.
pub fn day_phase_minutes(tz: chrono_tz::Tz) -> i32 {
    use chrono::{Offset, TimeZone};
    let reference = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    tz.offset_from_utc_datetime(&reference.naive_utc())
        .fix()
        .local_minus_utc()
        / 60
}

/// The date of an instant in a time zone (a park's).
pub fn local_date(at: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_phase_is_the_standard_offset_whatever_the_season() {
        assert_eq!(day_phase_minutes(chrono_tz::Asia::Shanghai), 480);
        assert_eq!(day_phase_minutes(chrono_tz::America::New_York), -300);
        assert_eq!(day_phase_minutes(chrono_tz::Asia::Kathmandu), 345);
        assert_eq!(day_phase_minutes(chrono_tz::UTC), 0);
    }
}
