//! When waste waiting for collection calls for a pickup: the contract's three rules.
//!
//! - **Weight.** Per waste code or category, a threshold in grams. Each waiting code falls under
//!   the rule in force for it (a rule naming the code wins over one naming its category, see
//!   [`rule_on`]); the grams of all codes under one rule are added, and the rule is crossed
//!   when they reach its threshold.
//! - **Zone capacity.** A zone holding waiting lots is filled to the contract's share of its
//!   capacity (`pickup_zone_percent`, 80 % by default).
//! - **Storage age.** The oldest waiting lot reaches the storage-age warning, 80 % of the
//!   contract's maximum storage period: collection is called early enough to happen in time.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::contract::{DatedRule, rule_on};
use crate::domain::lot::storage_alarm;
use crate::domain::waste::WasteCode;

/// Which rule raised a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Weight,
    ZoneCapacity,
    StorageAge,
    Manual,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weight => "weight",
            Self::ZoneCapacity => "zone_capacity",
            Self::StorageAge => "storage_age",
            Self::Manual => "manual",
        }
    }

    pub fn parse_stored(s: &str) -> Self {
        match s {
            "weight" => Self::Weight,
            "zone_capacity" => Self::ZoneCapacity,
            "storage_age" => Self::StorageAge,
            _ => Self::Manual,
        }
    }
}

/// A rule that is crossed, and the figures that cross it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub kind: TriggerKind,
    pub detail: String,
}

/// Grams of one code waiting for collection.
#[derive(Debug, Clone)]
pub struct WaitingCode {
    pub code: WasteCode,
    pub grams: i64,
}

/// The first weight rule crossed by the waiting codes on `day`, if any.
pub fn weight_crossing(
    waiting: &[WaitingCode],
    rules: &[DatedRule<i64>],
    day: NaiveDate,
) -> Option<Crossing> {
    // Sum the grams per rule (by index: rules are not comparable by value), exactly: an i128
    // cannot overflow below 2^64 codes of at most 2^63 grams each.
    let mut sums: Vec<(usize, i128)> = Vec::new();
    for w in waiting {
        let Some(rule) = rule_on(rules, &w.code, day) else {
            continue;
        };
        let index = rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap_or_default();
        match sums.iter_mut().find(|(i, _)| *i == index) {
            Some((_, sum)) => *sum += i128::from(w.grams),
            None => sums.push((index, i128::from(w.grams))),
        }
    }
    sums.sort_unstable();
    sums.into_iter().find_map(|(index, grams)| {
        let rule = &rules[index];
        (grams >= i128::from(rule.value)).then(|| Crossing {
            kind: TriggerKind::Weight,
            detail: format!(
                "{} g of {} wait for collection; the threshold is {} g",
                grams,
                rule.target.as_str(),
                rule.value
            ),
        })
    })
}

/// Whether a zone is filled to `percent` of its capacity.
pub fn zone_crossing(
    zone_name: &str,
    stored: i64,
    capacity: i64,
    percent: i32,
) -> Option<Crossing> {
    (capacity > 0 && i128::from(stored) * 100 >= i128::from(capacity) * i128::from(percent)).then(
        || Crossing {
            kind: TriggerKind::ZoneCapacity,
            detail: format!(
                "zone {zone_name} holds {stored} of {capacity} g, at least {percent} % of its capacity"
            ),
        },
    )
}

/// Whether the oldest waiting lot, stored `days` whole days, calls for collection under a
/// maximum storage period of `max_days`.
pub fn age_crossing(days: i64, max_days: i32) -> Option<Crossing> {
    storage_alarm(days, i64::from(max_days)).map(|_| Crossing {
        kind: TriggerKind::StorageAge,
        detail: format!("the oldest lot has been stored {days} days of the {max_days} allowed"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::waste::CatalogRef;

    fn code(s: &str) -> WasteCode {
        WasteCode::parse("", s).expect("code")
    }

    fn rule(target: &str, grams: i64) -> DatedRule<i64> {
        DatedRule {
            target: CatalogRef::parse("", target).expect("target"),
            effective_from: day(1),
            value: grams,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("day")
    }

    fn waiting(list: &[(&str, i64)]) -> Vec<WaitingCode> {
        list.iter()
            .map(|(c, g)| WaitingCode {
                code: code(c),
                grams: *g,
            })
            .collect()
    }

    #[test]
    fn sums_beyond_the_range_of_i64_are_exact() {
        let rules = [rule("HW08", i64::MAX)];
        let huge = waiting(&[("900-249-08", i64::MAX), ("900-214-08", i64::MAX)]);
        let crossing = weight_crossing(&huge, &rules, day(5)).expect("crossed");
        assert!(
            crossing
                .detail
                .starts_with("18446744073709551614 g of HW08"),
            "{}",
            crossing.detail
        );
    }

    #[test]
    fn a_category_rule_adds_the_codes_it_governs() {
        let rules = [rule("HW08", 1_000_000)];
        let below = waiting(&[("900-249-08", 600_000), ("900-214-08", 399_999)]);
        assert_eq!(weight_crossing(&below, &rules, day(5)), None);
        let at = waiting(&[("900-249-08", 600_000), ("900-214-08", 400_000)]);
        let crossing = weight_crossing(&at, &rules, day(5)).expect("crossed");
        assert_eq!(crossing.kind, TriggerKind::Weight);
        assert!(
            crossing.detail.contains("1000000 g of HW08"),
            "{}",
            crossing.detail
        );
    }

    #[test]
    fn a_code_rule_takes_its_code_out_of_the_category_sum() {
        let rules = [rule("HW08", 1_000_000), rule("900-249-08", 5_000_000)];
        // 900-249-08 counts only against its own, higher threshold.
        let list = waiting(&[("900-249-08", 900_000), ("900-214-08", 200_000)]);
        assert_eq!(weight_crossing(&list, &rules, day(5)), None);
        let list = waiting(&[("900-249-08", 5_000_000)]);
        assert!(weight_crossing(&list, &rules, day(5)).is_some());
    }

    #[test]
    fn rules_not_yet_in_force_and_uncovered_codes_do_not_count() {
        let mut later = rule("HW08", 1);
        later.effective_from = day(20);
        let list = waiting(&[("900-249-08", 10_000_000)]);
        assert_eq!(weight_crossing(&list, &[later], day(5)), None);
        assert_eq!(weight_crossing(&list, &[rule("HW49", 1)], day(5)), None);
    }

    #[test]
    fn zone_and_age_rules() {
        assert_eq!(zone_crossing("A", 79, 100, 80), None);
        assert!(zone_crossing("A", 80, 100, 80).is_some());
        assert_eq!(zone_crossing("A", 0, 0, 80), None);
        assert!(zone_crossing("A", i64::MAX, i64::MAX, 100).is_some());
        assert_eq!(age_crossing(143, 180), None);
        assert_eq!(
            age_crossing(144, 180).map(|c| c.kind),
            Some(TriggerKind::StorageAge)
        );
    }
}
