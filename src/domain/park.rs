//! Facts about a park that decide how waste leaves it.

use serde::Serialize;
use utoipa::ToSchema;

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
}
