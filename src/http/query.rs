//! Query parameters shared by the list endpoints: a value among a fixed set, and a time bound
//! given as a day or an instant. As for `limit` and `cursor` (see [`super::pagination`]), a
//! parameter left out means no filter, and one given empty is refused with a 422 naming it.

use crate::error::{FieldError, Validator};

/// Parses a `from`/`to` bound: a day in China Standard Time (its start, or with `end` the start
/// of the next day) or an RFC 3339 instant.
pub fn time_bound(
    v: &mut Validator,
    field: &str,
    raw: Option<&str>,
    end: bool,
) -> Option<chrono::NaiveDateTime> {
    let raw = raw.map(str::trim)?;
    if raw.is_empty() {
        v.push(super::pagination::empty(field, "for no bound"));
        return None;
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.naive_utc());
    }
    let day = v.check(
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                field,
                "invalid",
                "must be a day YYYY-MM-DD or an RFC 3339 instant",
            )
        }),
    )?;
    let day = if end { day.succ_opt()? } else { day };
    let start = day.and_hms_opt(0, 0, 0)?;
    Some(start - chrono::Duration::hours(8))
}

/// A bound given as a local day (of the park each object belongs to) or as an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrInstant {
    Day(chrono::NaiveDate),
    Instant(chrono::NaiveDateTime),
}

/// Parses a `from`/`to` bound on a business date: a day `YYYY-MM-DD`, counted in the time zone
/// of each object's park, or an RFC 3339 instant.
pub fn day_or_instant(v: &mut Validator, field: &str, raw: Option<&str>) -> Option<DayOrInstant> {
    let raw = raw.map(str::trim)?;
    if raw.is_empty() {
        v.push(super::pagination::empty(field, "for no bound"));
        return None;
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(DayOrInstant::Instant(t.naive_utc()));
    }
    v.check(
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(DayOrInstant::Day)
            .map_err(|_| {
                FieldError::new(
                    field,
                    "invalid",
                    "must be a day YYYY-MM-DD or an RFC 3339 instant",
                )
            }),
    )
}

/// The instant a local day starts in a time zone (its earliest, should the day start twice).
pub fn start_of_day(day: chrono::NaiveDate, tz: chrono_tz::Tz) -> chrono::NaiveDateTime {
    use chrono::TimeZone;
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.naive_utc(),
        // A day that starts in a gap (no zone of China has one): its first hour.
        None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or(midnight, |t| t.naive_utc()),
    }
}

/// The state named, if it is one of the state's values; otherwise a field error naming them
/// (as [`one_of`]).
pub fn state_named<S: crate::domain::state::State>(
    v: &mut Validator,
    field: &str,
    raw: Option<String>,
) -> Option<S> {
    one_of(v, field, raw, S::NAMES).and_then(|s| S::parse_stored(&s))
}

/// The value if it is one of `allowed`; otherwise a field error naming them.
pub fn one_of(
    v: &mut Validator,
    field: &str,
    raw: Option<String>,
    allowed: &[&str],
) -> Option<String> {
    let raw = raw?;
    if raw.trim().is_empty() {
        v.push(super::pagination::empty(field, "for no filter"));
        return None;
    }
    if allowed.contains(&raw.as_str()) {
        Some(raw)
    } else {
        v.push(FieldError::new(
            field,
            "invalid",
            format!("must be one of: {}", allowed.join(", ")),
        ));
        None
    }
}
