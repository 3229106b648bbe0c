//! The loading check at collection: the driver scans the label of every container loaded
//! (`scanned_labels`), and the collection is refused while a container of a checked lot was not
//! scanned, or a scan names no container of the lots taken. Hazardous waste is always checked;
//! general waste unless its park turned the check off (`label_scan_general`).
//!
//! A label is scanned by its container's 37-character digital identification code (hazardous
//! waste) or by its QR code: the container's verification URL, or the token at its end.

use std::collections::HashMap;

use crate::db::DbConn;
use crate::domain::ids::LotId;
use crate::domain::waste::WasteKind;
use crate::error::{ApiError, FieldError};
use crate::lots::store::LotRow;

/// Most scans in one collection: a truck's load of containers, with the whole request body
/// within the server's 64 KiB limit (a load of more containers is collected in two trips, by
/// `lot_ids`).
pub const MAX_SCANS: usize = 400;
/// Longest scan, in characters (a verification URL with its host); scans are visible ASCII.
pub const MAX_SCAN_LENGTH: usize = 120;
/// Most unscanned labels one error names; the others are counted.
const NAMED: usize = 10;

/// What a scan may hold: a digital code or a token as it is, or a verification URL, whose
/// token is its last segment (without a query or fragment).
fn keys(scan: &str) -> [&str; 2] {
    let token = scan
        .rsplit_once("/verify/")
        .and_then(|(_, rest)| rest.split(['?', '#']).next())
        .unwrap_or(scan);
    [scan, token]
}

/// Whether the lot's containers must be scanned.
fn checked(lot: &LotRow, scan_general: bool) -> bool {
    lot.kind == WasteKind::Hazardous.as_str() || scan_general
}

/// Checks the scans against the containers of the lots taken; the refusals go to `errors`.
pub fn check_scans(
    conn: &mut DbConn,
    lots: &[LotRow],
    scan_general: bool,
    scanned: Option<&[String]>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    let must = lots.iter().any(|l| checked(l, scan_general));
    let Some(scanned) = scanned else {
        if must {
            errors.push(FieldError::new(
                "scanned_labels",
                "required",
                "scan the label of every container loaded (hazardous waste always; general waste unless the park turned the check off)",
            ));
        }
        return Ok(());
    };
    if lots.is_empty() {
        return Ok(());
    }
    let ids: Vec<&LotId> = lots.iter().map(|l| &l.id).collect();
    let containers = crate::lots::containers::of_lots(conn, &ids)?;
    // Each container by its digital code and by its token.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (c, container) in containers.iter().enumerate() {
        index.insert(container.verify_token.as_str(), c);
        if let Some(code) = &container.label_code {
            index.insert(code.as_str(), c);
        }
    }
    let mut seen = vec![false; containers.len()];
    for (i, scan) in scanned.iter().enumerate() {
        let found = keys(scan).iter().find_map(|k| index.get(k).copied());
        if let Some(c) = found {
            seen[c] = true;
        } else {
            errors.push(FieldError::new(
                format!("scanned_labels[{i}]"),
                "unknown",
                format!("{scan} is the label of no container of the lots collected"),
            ));
        }
    }
    let mut by_lot: HashMap<&str, Vec<usize>> = HashMap::new();
    for (c, container) in containers.iter().enumerate() {
        by_lot.entry(container.lot_id.as_str()).or_default().push(c);
    }
    for lot in lots.iter().filter(|l| checked(l, scan_general)) {
        let of_lot = by_lot.get(lot.id.as_str()).map_or(&[][..], Vec::as_slice);
        let missing: Vec<String> = of_lot
            .iter()
            .filter(|c| !seen[**c])
            .map(|c| &containers[*c])
            .map(|c| match &c.label_code {
                Some(code) => code.clone(),
                None => format!("container {}", c.position),
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut codes = missing
            .iter()
            .take(NAMED)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if missing.len() > NAMED {
            codes.push_str(", …");
        }
        errors.push(FieldError::new(
            "scanned_labels",
            "not_scanned",
            format!(
                "lot {}: {} of its {} container labels were not scanned: {codes}",
                lot.id,
                missing.len(),
                of_lot.len()
            ),
        ));
    }
    Ok(())
}
