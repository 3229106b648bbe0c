//! Facts about a park that decide how waste leaves it.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::waste::{CatalogRef, WasteCode};

/// Who signs a transfer manifest as consignor (移出人) for waste leaving the park.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Consignor {
    /// The park's warehouse, acting as collector under its collection permit: one manifest per
    /// trip and kind of waste, grouping the enterprises' lots.
    ParkWarehouse,
    /// Each enterprise stays the consignor: one manifest per enterprise and kind of waste.
    Enterprise,
}

/// The one place where the consignor is decided: a park whose warehouse holds a hazardous-waste
/// collection permit consigns; otherwise each enterprise does.
pub fn consignor(collection_permit_number: Option<&str>) -> Consignor {
    match collection_permit_number {
        Some(permit) if !permit.trim().is_empty() => Consignor::ParkWarehouse,
        _ => Consignor::Enterprise,
    }
}

/// What the rules need to know of the park's collection permit (收集许可).
///
/// Compatibility: a permit recorded as a number alone (before permits had dates) has no
/// bounds: it is valid every day. An empty scope covers every hazardous code. The annual
/// capacity, when given, is the most the park's shared zones take in per calendar year.
#[derive(Debug, Clone, Default)]
pub struct PermitTerms {
    pub number: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub scope: Vec<CatalogRef>,
    pub annual_capacity_grams: Option<i64>,
}

/// Why a permit does not let a lot of hazardous waste into a shared zone on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitRefusal {
    /// The park holds no collection permit.
    None,
    /// The permit is valid only from this day.
    NotYetValid(NaiveDate),
    /// The permit's last valid day.
    Expired(NaiveDate),
    /// The permit does not cover the code.
    NotCovering,
}

/// Whether the park's collection permit lets a lot of `code` into a shared zone on `day`:
/// held, valid that day (both ends included), and covering the code or its category.
pub fn permit_allows(
    permit: &PermitTerms,
    code: &WasteCode,
    day: NaiveDate,
) -> Result<(), PermitRefusal> {
    if permit.number.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(PermitRefusal::None);
    }
    if let Some(from) = permit.valid_from
        && day < from
    {
        return Err(PermitRefusal::NotYetValid(from));
    }
    if let Some(until) = permit.valid_until
        && day > until
    {
        return Err(PermitRefusal::Expired(until));
    }
    let target = CatalogRef::Code(code.clone());
    if !permit.scope.is_empty() && !permit.scope.iter().any(|s| s.includes(&target)) {
        return Err(PermitRefusal::NotCovering);
    }
    Ok(())
}

/// A park's time zone unless it names another, and the zone in which dates that concern
/// several parks at once are counted (licence expiry, zones' closing days): China Standard
/// Time, that of every park so far.
pub const DEFAULT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Time zones accepted for a park: any IANA name known to the time-zone database.
pub fn parse_time_zone(field: &str, raw: &str) -> Result<chrono_tz::Tz, crate::error::FieldError> {
    raw.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        crate::error::FieldError::new(
            field,
            "invalid",
            format!("{raw:?} is not an IANA time zone such as Asia/Shanghai"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permit_decides_the_consignor() {
        assert_eq!(consignor(Some("440300-HW-0012")), Consignor::ParkWarehouse);
        assert_eq!(consignor(Some("  ")), Consignor::Enterprise);
        assert_eq!(consignor(None), Consignor::Enterprise);
        assert!(parse_time_zone("tz", "Asia/Shanghai").is_ok());
        assert!(parse_time_zone("tz", "Mars/Olympus").is_err());
    }

    #[test]
    fn a_permit_admits_what_it_covers_while_valid() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let code = WasteCode::parse("c", "900-249-08").expect("code");
        let other = WasteCode::parse("c", "900-041-49").expect("code");
        let permit = PermitTerms {
            number: Some("440300-HW-0012".to_owned()),
            valid_from: Some(day("2026-01-01")),
            valid_until: Some(day("2026-12-31")),
            scope: vec![CatalogRef::parse("s", "HW08").expect("ref")],
            annual_capacity_grams: None,
        };
        assert_eq!(permit_allows(&permit, &code, day("2026-01-01")), Ok(()));
        assert_eq!(permit_allows(&permit, &code, day("2026-12-31")), Ok(()));
        assert_eq!(
            permit_allows(&permit, &code, day("2027-01-01")),
            Err(PermitRefusal::Expired(day("2026-12-31")))
        );
        assert_eq!(
            permit_allows(&permit, &code, day("2025-12-31")),
            Err(PermitRefusal::NotYetValid(day("2026-01-01")))
        );
        assert_eq!(
            permit_allows(&permit, &other, day("2026-06-01")),
            Err(PermitRefusal::NotCovering)
        );
        let legacy = PermitTerms {
            number: Some("440300-HW-0012".to_owned()),
            ..PermitTerms::default()
        };
        assert_eq!(permit_allows(&legacy, &other, day("2099-01-01")), Ok(()));
        assert_eq!(
            permit_allows(&PermitTerms::default(), &code, day("2026-06-01")),
            Err(PermitRefusal::None)
        );
    }
}
