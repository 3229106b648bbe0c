//! Rules of a waste lot: its weighing, its label (HJ 1276-2022), and the alarms it raises in
//! storage.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::uscc::Uscc;
use crate::domain::waste::WasteCode;
use crate::error::FieldError;

/// The heaviest lot accepted: 100 tonnes net.
pub const MAX_LOT_GRAMS: i64 = 100_000_000;
/// The heaviest gross weight a weighbridge reading may show: 200 tonnes.
pub const MAX_GROSS_GRAMS: i64 = 200_000_000;
/// How long before its weighing a lot's production may have started.
pub const MAX_PRODUCTION_AGE_DAYS: i64 = 366;

crate::domain::state::states! {
    /// Where a lot is: `stored` in a park's warehouse, `declared` at the producer's door and
    /// waiting for collection, `voided`, or `collected` on a manifest.
    pub enum LotStatus {
        Stored => "stored",
        Declared => "declared",
        Voided => "voided",
        Collected => "collected",
    }
}

/// Physical form (形态) as the label shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhysicalForm {
    Solid,
    SemiSolid,
    Liquid,
    Gas,
}

/// Kind of container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainerType {
    Drum,
    Bag,
    /// Intermediate bulk container (tote, 吨桶).
    Ibc,
    Box,
    Bottle,
    Bulk,
    Other,
}

macro_rules! labelled_enum {
    ($ty:ty { $($variant:ident => $text:literal, $zh:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }

            /// The Chinese word printed on labels.
            pub fn label_zh(self) -> &'static str {
                match self { $(<$ty>::$variant => $zh),+ }
            }

            pub fn parse_stored(s: &str) -> Option<Self> {
                match s { $($text => Some(<$ty>::$variant),)+ _ => None }
            }
        }
    };
}

labelled_enum!(PhysicalForm {
    Solid => "solid", "固态",
    SemiSolid => "semi_solid", "半固态",
    Liquid => "liquid", "液态",
    Gas => "gas", "气态",
});

labelled_enum!(ContainerType {
    Drum => "drum", "桶",
    Bag => "bag", "袋",
    Ibc => "ibc", "吨桶",
    Box => "box", "箱",
    Bottle => "bottle", "瓶",
    Bulk => "bulk", "散装",
    Other => "other", "其他",
});

/// A weighing on a scale: net = gross − tare, all in grams. Made only by [`Weighing::parse`],
/// so a value of this type has passed its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weighing {
    gross: i64,
    tare: i64,
    net: i64,
}

impl Weighing {
    /// The gross weight, in grams.
    pub fn gross(self) -> i64 {
        self.gross
    }

    /// The tare, in grams.
    pub fn tare(self) -> i64 {
        self.tare
    }

    /// The net weight (gross − tare), in grams.
    pub fn net(self) -> i64 {
        self.net
    }

    /// Checks a weighing: a positive gross weight, a tare from zero to below the gross, a net
    /// of at most [`MAX_LOT_GRAMS`], and a stated net (if any) equal to gross − tare.
    pub fn parse(gross: i64, tare: i64, stated_net: Option<i64>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if gross <= 0 || gross > MAX_GROSS_GRAMS {
            errors.push(FieldError::new(
                "gross_grams",
                "out_of_range",
                format!("must be more than 0 and at most {MAX_GROSS_GRAMS} grams"),
            ));
        }
        if tare < 0 {
            errors.push(FieldError::new(
                "tare_grams",
                "out_of_range",
                "must not be negative",
            ));
        } else if gross > 0 && tare >= gross {
            errors.push(FieldError::new(
                "tare_grams",
                "implausible",
                "must be less than the gross weight",
            ));
        }
        // Saturating only where an error is already reported; otherwise 0 ≤ tare < gross ≤
        // MAX_GROSS_GRAMS and the difference is exact.
        let net = gross.saturating_sub(tare);
        if errors.is_empty() && net > MAX_LOT_GRAMS {
            errors.push(FieldError::new(
                "gross_grams",
                "implausible",
                format!("a lot weighs at most {MAX_LOT_GRAMS} grams net"),
            ));
        }
        if let Some(stated) = stated_net
            && errors.is_empty()
            && stated != net
        {
            errors.push(FieldError::new(
                "net_grams",
                "mismatch",
                format!("must equal gross − tare = {net}"),
            ));
        }
        if errors.is_empty() {
            Ok(Self { gross, tare, net })
        } else {
            Err(errors)
        }
    }
}

/// An estimated weight, as an enterprise declares it: 1 gram to [`MAX_LOT_GRAMS`].
pub fn estimate(field: &str, grams: i64) -> Result<i64, FieldError> {
    if (1..=MAX_LOT_GRAMS).contains(&grams) {
        Ok(grams)
    } else {
        Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be 1 to {MAX_LOT_GRAMS} grams"),
        ))
    }
}

/// The production date of a lot weighed (or declared) on `day`: not later than that day, and
/// not more than [`MAX_PRODUCTION_AGE_DAYS`] earlier (storage is limited to a year).
pub fn production_date(
    field: &str,
    produced_on: NaiveDate,
    day: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    if produced_on > day {
        return Err(FieldError::new(
            field,
            "in_future",
            format!("must not be after {day}"),
        ));
    }
    if (day - produced_on).num_days() > MAX_PRODUCTION_AGE_DAYS {
        return Err(FieldError::new(
            field,
            "too_old",
            format!("must be within {MAX_PRODUCTION_AGE_DAYS} days before {day}"),
        ));
    }
    Ok(produced_on)
}

/// The 37-character digital identification code (数字识别码) of one container's hazardous-waste
/// label. HJ 1276-2022 makes it of four segments, 37 characters in all: the producing (or
/// collecting) unit's code, the waste code, the production (or collection) date code, and a
/// sequence number. Where each length comes from:
///
/// - unit code, 18: the standard refers to HJ 608 (排污单位编码规则) for it, whose unit code is
///   the unified social credit code of GB 32100 — 18 characters;
/// - waste code, 8: the 《国家危险废物名录》 code `NNN-NNN-NN` without its dashes;
/// - date code, 8: the day as YYYYMMDD;
/// - sequence, 3: what remains of the 37 (001 to 999), counting the containers labelled that
///   day by the unit for that waste code.
///
/// The four-segment, 37-character structure was checked against published summaries of the
/// standard; the full text of its annex was not at hand, so the split of the last two segments
/// (8 + 3) remains this project's reading, kept in this one function.
pub fn digital_code(
    producer: &Uscc,
    code: &WasteCode,
    produced_on: NaiveDate,
    sequence: u32,
) -> Option<String> {
    let digits: String = code.as_str().chars().filter(char::is_ascii_digit).collect();
    if code.kind() != crate::domain::waste::WasteKind::Hazardous
        || digits.len() != 8
        || !(1..=999).contains(&sequence)
    {
        return None;
    }
    let id = format!(
        "{}{digits}{}{sequence:03}",
        producer.as_str(),
        produced_on.format("%Y%m%d")
    );
    (id.len() == 37).then_some(id)
}

/// Label sizes of HJ 1276-2022, chosen by container volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum LabelSize {
    /// 100 × 100 mm, 3 mm text: containers up to 50 L.
    #[serde(rename = "100")]
    Small,
    /// 150 × 150 mm, 5 mm text: containers from 50 L to 450 L.
    #[serde(rename = "150")]
    Medium,
    /// 200 × 200 mm, 6 mm text: containers of 450 L and more.
    #[serde(rename = "200")]
    Large,
}

impl LabelSize {
    pub fn for_container(litres: Option<i32>) -> Self {
        match litres {
            Some(l) if l >= 450 => Self::Large,
            Some(l) if l > 50 => Self::Medium,
            _ => Self::Small,
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "100" => Some(Self::Small),
            "150" => Some(Self::Medium),
            "200" => Some(Self::Large),
            _ => None,
        }
    }

    /// Side of the square label, in millimetres.
    pub fn side_mm(self) -> u32 {
        match self {
            Self::Small => 100,
            Self::Medium => 150,
            Self::Large => 200,
        }
    }

    /// Height of the text, in millimetres.
    pub fn text_mm(self) -> u32 {
        match self {
            Self::Small => 3,
            Self::Medium => 5,
            Self::Large => 6,
        }
    }
}

/// How far a lot is into its allowed storage period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmLevel {
    /// 80 % of the period (or of the zone's capacity) reached.
    Warning,
    /// The period is over (or the zone is full).
    Exceeded,
}

/// The alarm for a lot stored `days` days when at most `max_days` are allowed: at 80 % a
/// warning, at 100 % exceeded.
pub fn storage_alarm(days: i64, max_days: i64) -> Option<AlarmLevel> {
    if max_days <= 0 || days * 100 < max_days * 80 {
        None
    } else if days >= max_days {
        Some(AlarmLevel::Exceeded)
    } else {
        Some(AlarmLevel::Warning)
    }
}

/// Share of its capacity at which a zone is said to near it.
pub const CAPACITY_WARNING_PERCENT: i64 = 90;

/// The alarm for a zone holding `stored` grams of `capacity`: nearly full, or full.
pub fn capacity_alarm(stored: i64, capacity: i64) -> Option<AlarmLevel> {
    if capacity <= 0
        || i128::from(stored) * 100 < i128::from(capacity) * i128::from(CAPACITY_WARNING_PERCENT)
    {
        None
    } else if stored >= capacity {
        Some(AlarmLevel::Exceeded)
    } else {
        Some(AlarmLevel::Warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn edge() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -1_000i64..=MAX_GROSS_GRAMS + 1_000,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(MAX_LOT_GRAMS),
            Just(MAX_GROSS_GRAMS),
        ]
    }

    proptest! {
        /// Over the whole range of i64, a weighing is accepted exactly when it is within its
        /// bounds, and its net is then exactly gross − tare.
        #[test]
        fn weighings_are_bounded_over_the_whole_range(gross in edge(), tare in edge(), stated in proptest::option::of(edge())) {
            let exact = i128::from(gross) - i128::from(tare);
            let plausible = (1..=MAX_GROSS_GRAMS).contains(&gross)
                && (0..gross).contains(&tare)
                && exact <= i128::from(MAX_LOT_GRAMS)
                && stated.is_none_or(|n| i128::from(n) == exact);
            match Weighing::parse(gross, tare, stated) {
                Ok(w) => {
                    prop_assert!(plausible);
                    prop_assert_eq!(i128::from(w.net), exact);
                }
                Err(errors) => {
                    prop_assert!(!plausible);
                    prop_assert!(!errors.is_empty());
                }
            }
        }

        #[test]
        fn estimates_are_bounded_over_the_whole_range(grams in edge()) {
            prop_assert_eq!(estimate("g", grams).is_ok(), (1..=MAX_LOT_GRAMS).contains(&grams));
        }
    }

    #[test]
    fn weighings_are_plausible() {
        assert_eq!(
            Weighing::parse(12_500, 500, None).map(|w| w.net).ok(),
            Some(12_000)
        );
        assert!(Weighing::parse(12_500, 500, Some(12_000)).is_ok());
        assert!(Weighing::parse(12_500, 500, Some(12_001)).is_err());
        assert!(Weighing::parse(0, 0, None).is_err());
        assert!(Weighing::parse(500, 500, None).is_err());
        assert!(Weighing::parse(500, -1, None).is_err());
        assert!(Weighing::parse(MAX_LOT_GRAMS + 2, 1, None).is_err());
        assert!(
            Weighing::parse(9_000_000_000_000_000_000, 8_999_999_999_999_990_000, None).is_err()
        );
        assert!(estimate("e", MAX_LOT_GRAMS + 1).is_err());
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        assert!(production_date("p", day, day).is_ok());
        assert!(production_date("p", day + chrono::Duration::days(1), day).is_err());
        assert!(production_date("p", day - chrono::Duration::days(400), day).is_err());
    }

    #[test]
    fn the_digital_code_has_37_characters() {
        let uscc = Uscc::parse("u", "91350100M000100Y43").expect("valid");
        let code = WasteCode::parse("c", "900-041-49").expect("valid");
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let id = digital_code(&uscc, &code, day, 7).expect("code");
        assert_eq!(id, "91350100M000100Y439000414920261128007");
        assert_eq!(id.len(), 37);
        assert!(digital_code(&uscc, &code, day, 1000).is_none());
        let general = WasteCode::parse("c", "900-001-S59").expect("valid");
        assert!(digital_code(&uscc, &general, day, 1).is_none());
    }

    #[test]
    fn label_sizes_follow_the_container() {
        assert_eq!(LabelSize::for_container(Some(20)), LabelSize::Small);
        assert_eq!(LabelSize::for_container(Some(50)), LabelSize::Small);
        assert_eq!(LabelSize::for_container(Some(200)), LabelSize::Medium);
        assert_eq!(LabelSize::for_container(Some(1000)), LabelSize::Large);
        assert_eq!(LabelSize::for_container(None), LabelSize::Small);
    }

    #[test]
    fn alarms_at_80_and_100_percent() {
        assert_eq!(storage_alarm(143, 180), None);
        assert_eq!(storage_alarm(144, 180), Some(AlarmLevel::Warning));
        assert_eq!(storage_alarm(180, 180), Some(AlarmLevel::Exceeded));
        assert_eq!(capacity_alarm(89, 100), None);
        assert_eq!(capacity_alarm(90, 100), Some(AlarmLevel::Warning));
        assert_eq!(capacity_alarm(100, 100), Some(AlarmLevel::Exceeded));
    }
}
