//! Small text fields with a shape: telephone numbers and permit or licence numbers.

use crate::error::FieldError;

/// A telephone number: digits with optional `+`, `-`, spaces and parentheses, 5 to 20
/// characters, at least 5 digits (a mobile such as 13800138000 or a landline 0755-86001234).
pub fn parse_phone(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shape = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if !(5..=20).contains(&value.chars().count()) || digits < 5 || !shape {
        return Err(FieldError::new(
            field,
            "invalid",
            "a telephone number of 5 to 20 digits, e.g. 13800138000 or 0755-86001234",
        ));
    }
    Ok(value.to_owned())
}

/// A permit, licence or contract number: 1 to 64 printable characters without spaces at
/// either end.
pub fn parse_reference(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid",
            "must be 1 to 64 printable characters",
        ));
    }
    Ok(value.to_owned())
}

/// Text as written into a spreadsheet cell (CSV or Excel): text that a spreadsheet would run
/// as a formula (starting with `=`, `+`, `-` or `@`) is kept as text with a leading `'`.
pub fn spreadsheet_text(t: &str) -> String {
    if t.starts_with(['=', '+', '-', '@']) {
        format!("'{t}")
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_references() {
        assert!(parse_phone("p", "13800138000").is_ok());
        assert!(parse_phone("p", "0755-8600 1234").is_ok());
        assert!(parse_phone("p", "call me").is_err());
        assert!(parse_phone("p", "123").is_err());
        assert!(parse_reference("n", " 粤危废经第440300001号 ").is_ok());
        assert!(parse_reference("n", "").is_err());
        assert!(parse_reference("n", &"x".repeat(65)).is_err());
    }
}
