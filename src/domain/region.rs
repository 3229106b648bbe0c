//! GB/T 2260 administrative region codes and inspectors' jurisdictions.
//!
//! A region code has 6 digits: province (2), prefecture-level city (2), county (2). The full
//! list changes yearly and is not shipped; the province part is checked against the fixed list
//! of provincial-level divisions, the rest only for shape.

use crate::error::FieldError;

/// Provincial-level divisions of GB/T 2260 (including 71 Taiwan, 81 Hong Kong, 82 Macao).
pub const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Checks that `digits` (2 or more ASCII digits) begin with a provincial-level code.
pub fn check_province(field: &str, digits: &str) -> Result<(), FieldError> {
    if PROVINCES.contains(&&digits[..2]) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "unknown_province",
            format!("{} is not a province code of GB/T 2260", &digits[..2]),
        ))
    }
}

/// A 6-digit region code with a known province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "invalid",
                "a GB/T 2260 region code has 6 digits, e.g. 440307",
            ));
        }
        check_province(field, value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Province and prefecture-level city: the 4 digits a manifest number carries.
    pub fn city_prefix(&self) -> &str {
        &self.0[..4]
    }
}

/// A jurisdiction: the prefix of the region codes it covers — 2 digits (a province), 4 (a
/// city) or 6 (a county).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jurisdiction(String);

impl Jurisdiction {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if !matches!(value.len(), 2 | 4 | 6) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "invalid",
                "a jurisdiction is a region-code prefix of 2, 4 or 6 digits",
            ));
        }
        check_province(field, value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a region lies in a jurisdiction given as a prefix.
pub fn in_jurisdiction(region_code: &str, jurisdiction: &str) -> bool {
    !jurisdiction.is_empty() && region_code.starts_with(jurisdiction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_and_jurisdictions() {
        assert_eq!(
            RegionCode::parse("r", "440307")
                .map(|r| r.city_prefix().to_owned())
                .ok()
                .as_deref(),
            Some("4403")
        );
        for bad in ["44030", "4403071", "44030a", "990307", ""] {
            assert!(RegionCode::parse("r", bad).is_err(), "{bad}");
        }
        assert!(Jurisdiction::parse("j", "4403").is_ok());
        assert!(Jurisdiction::parse("j", "440").is_err());
        assert!(in_jurisdiction("440307", "4403"));
        assert!(in_jurisdiction("440307", "44"));
        assert!(!in_jurisdiction("440307", "4401"));
        assert!(!in_jurisdiction("440307", ""));
    }
}
