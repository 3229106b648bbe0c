//! Waste codes and categories of the national catalogs.
//!
//! Hazardous waste (《国家危险废物名录》): an 8-digit code written `NNN-NNN-NN` — industry source,
//! sequence, and the HW category number (HW01–HW50, without HW41–HW44). General industrial solid
//! waste (《固体废物分类与代码目录》): here written `NNN-NNN-SNN` with its category `S01`–`S99`.
//! The general-code layout is this project's reading of the 2024 catalog and is kept in this one
//! place so that it can be corrected.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WasteKind {
    Hazardous,
    General,
}

impl WasteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hazardous => "hazardous",
            Self::General => "general",
        }
    }

    pub fn parse_stored(s: &str) -> Option<Self> {
        match s {
            "hazardous" => Some(Self::Hazardous),
            "general" => Some(Self::General),
            _ => None,
        }
    }
}

/// A category: `HW08` (hazardous) or `S17` (general).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(String);

fn two_digits(s: &str) -> Option<u8> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl Category {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        Self::from_normalised(&value).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid_category",
                format!("{value:?} is not a category: HW01–HW50 (no HW41–HW44) or S01–S99"),
            )
        })
    }

    fn from_normalised(value: &str) -> Option<Self> {
        if let Some(n) = value.strip_prefix("HW").and_then(two_digits) {
            return ((1..=50).contains(&n) && !(41..=44).contains(&n))
                .then(|| Self(value.to_owned()));
        }
        if let Some(n) = value.strip_prefix('S').and_then(two_digits) {
            return (1..=99).contains(&n).then(|| Self(value.to_owned()));
        }
        None
    }

    pub fn kind(&self) -> WasteKind {
        if self.0.starts_with("HW") {
            WasteKind::Hazardous
        } else {
            WasteKind::General
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full waste code: `900-249-08` (hazardous, category HW08) or `900-001-S17` (general).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WasteCode {
    code: String,
    category: Category,
}

impl WasteCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        Self::from_normalised(&value).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid_code",
                format!("{value:?} is not a waste code: NNN-NNN-NN for hazardous waste (e.g. 900-041-49), NNN-NNN-SNN for general waste"),
            )
        })
    }

    fn from_normalised(value: &str) -> Option<Self> {
        let mut parts = value.split('-');
        let (source, sequence, tail) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || ![source, sequence]
                .iter()
                .all(|p| p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let category = match tail.strip_prefix('S') {
            Some(number) => two_digits(number).and_then(|_| Category::from_normalised(tail))?,
            None => {
                two_digits(tail).and_then(|_| Category::from_normalised(&format!("HW{tail}")))?
            }
        };
        Some(Self {
            code: value.to_owned(),
            category,
        })
    }

    pub fn category(&self) -> &Category {
        &self.category
    }

    pub fn kind(&self) -> WasteKind {
        self.category.kind()
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }
}

impl fmt::Display for WasteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// What a price, a threshold, a licence or a zone refers to: a whole category or one code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CatalogRef {
    Category(Category),
    Code(WasteCode),
}

impl CatalogRef {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        if let Some(code) = WasteCode::from_normalised(&value) {
            return Ok(Self::Code(code));
        }
        if let Some(category) = Category::from_normalised(&value) {
            return Ok(Self::Category(category));
        }
        Err(FieldError::new(
            field,
            "invalid_code",
            format!(
                "{value:?} is neither a waste code (e.g. 900-041-49) nor a category (e.g. HW49, S17)"
            ),
        ))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Category(c) => c.as_str(),
            Self::Code(c) => c.as_str(),
        }
    }

    pub fn category(&self) -> &Category {
        match self {
            Self::Category(c) => c,
            Self::Code(c) => c.category(),
        }
    }

    pub fn kind(&self) -> WasteKind {
        self.category().kind()
    }

    /// Whether this reference includes `other`: a category includes itself and its codes; a
    /// code includes only itself.
    pub fn includes(&self, other: &CatalogRef) -> bool {
        match (self, other) {
            (Self::Category(a), Self::Category(b)) => a == b,
            (Self::Category(a), Self::Code(b)) => a == b.category(),
            (Self::Code(a), Self::Code(b)) => a == b,
            (Self::Code(_), Self::Category(_)) => false,
        }
    }
}

impl fmt::Display for CatalogRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a list of catalog references, reporting bad entries as `field[i]`.
pub fn parse_refs(field: &str, raw: &[String]) -> Result<Vec<CatalogRef>, Vec<FieldError>> {
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in raw.iter().enumerate() {
        match CatalogRef::parse(&format!("{field}[{i}]"), item) {
            Ok(r) if refs.contains(&r) => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "duplicate",
                format!("{r} is listed twice"),
            )),
            Ok(r) => refs.push(r),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(refs)
    } else {
        Err(errors)
    }
}

/// Joins references for storage (`HW08,900-041-49`).
pub fn join_refs(refs: &[CatalogRef]) -> String {
    refs.iter()
        .map(CatalogRef::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads references stored by [`join_refs`]; entries that no longer parse are skipped.
pub fn split_refs(stored: &str) -> Vec<CatalogRef> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| CatalogRef::parse("", s).ok())
        .collect()
}

/// Hazard characteristics: T toxic, C corrosive, I ignitable, R reactive, In infectious.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Characteristic {
    T,
    C,
    I,
    R,
    In,
}

impl Characteristic {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "T" => Some(Self::T),
            "C" => Some(Self::C),
            "I" => Some(Self::I),
            "R" => Some(Self::R),
            "In" | "IN" => Some(Self::In),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::T => "T",
            Self::C => "C",
            Self::I => "I",
            Self::R => "R",
            Self::In => "In",
        }
    }
}

/// Parses one or more characteristics separated by commas, slashes, semicolons or spaces.
pub fn parse_characteristics(
    field: &str,
    raw: &str,
) -> Result<BTreeSet<Characteristic>, FieldError> {
    let mut set = BTreeSet::new();
    for part in raw
        .split([',', '/', ';', ' ', '，', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let c = Characteristic::parse(part).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid",
                format!("{part:?} is not a hazard characteristic (T, C, I, R, In)"),
            )
        })?;
        set.insert(c);
    }
    Ok(set)
}

pub fn join_characteristics(set: &BTreeSet<Characteristic>) -> String {
    set.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(
            Category::parse("c", "hw08").map(|c| c.kind()).ok(),
            Some(WasteKind::Hazardous)
        );
        assert_eq!(
            Category::parse("c", "S17").map(|c| c.kind()).ok(),
            Some(WasteKind::General)
        );
        for bad in ["HW41", "HW44", "HW00", "HW51", "HW8", "S00", "S100", "X01"] {
            assert!(Category::parse("c", bad).is_err(), "{bad}");
        }
        assert!(Category::parse("c", "HW45").is_ok());
    }

    #[test]
    fn codes_carry_their_category() {
        let code = WasteCode::parse("c", "900-041-49").expect("valid");
        assert_eq!(code.category().as_str(), "HW49");
        assert_eq!(code.kind(), WasteKind::Hazardous);
        let general = WasteCode::parse("c", "900-001-s17").expect("valid");
        assert_eq!(general.as_str(), "900-001-S17");
        assert_eq!(general.kind(), WasteKind::General);
        for bad in [
            "900-041-42",
            "900-041-4",
            "90-041-49",
            "900041-49",
            "900-041-49-1",
            "900-04a-49",
            "900-041-HW49",
        ] {
            assert!(WasteCode::parse("c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references_include_their_codes() {
        let hw08 = CatalogRef::parse("r", "HW08").expect("category");
        let oil = CatalogRef::parse("r", "900-249-08").expect("code");
        let rags = CatalogRef::parse("r", "900-041-49").expect("code");
        assert!(hw08.includes(&oil));
        assert!(!hw08.includes(&rags));
        assert!(oil.includes(&oil));
        assert!(!oil.includes(&hw08));
        assert_eq!(
            split_refs(&join_refs(&[hw08.clone(), rags.clone()])),
            vec![hw08, rags]
        );
        assert!(parse_refs("scope", &["HW08".into(), "hw08".into()]).is_err());
    }

    #[test]
    fn characteristics() {
        let set = parse_characteristics("c", "T, In/I").expect("valid");
        assert_eq!(join_characteristics(&set), "T,I,In");
        assert!(parse_characteristics("c", "T,X").is_err());
        assert!(
            parse_characteristics("c", "")
                .expect("empty is a set")
                .is_empty()
        );
    }
}
