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
