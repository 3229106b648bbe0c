//! Rules of the "1+N" contract: validity, membership, prices and thresholds in force on a day,
//! and whether a disposer's licence covers what it is priced for.
//!
//! Dates are calendar days in the park's time zone. A validity period includes both ends.
//! Membership: an enterprise is a member from `joined_on` (included) until `left_on`
//! (excluded: on that day it is no longer a member).

use chrono::NaiveDate;

use crate::domain::waste::{CatalogRef, WasteCode};

/// Whether `day` lies in the inclusive period.
pub fn in_period(day: NaiveDate, from: NaiveDate, to: NaiveDate) -> bool {
    from <= day && day <= to
}

/// Whether a member is in the contract on `day`.
pub fn member_on(day: NaiveDate, joined_on: NaiveDate, left_on: Option<NaiveDate>) -> bool {
    joined_on <= day && left_on.is_none_or(|left| day < left)
}

/// What the rules need to know of a licence.
#[derive(Debug, Clone)]
pub struct LicenceTerms {
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub scope: Vec<CatalogRef>,
}

/// Whether some licence valid on `day` covers `target`. A category is covered only by a licence
/// listing the whole category; a code by one listing the code or its category.
pub fn licence_covers(licences: &[LicenceTerms], target: &CatalogRef, day: NaiveDate) -> bool {
    licences.iter().any(|l| {
        in_period(day, l.valid_from, l.valid_to) && l.scope.iter().any(|s| s.includes(target))
    })
}

/// A dated rule of the contract: a price in fen per tonne or a threshold in grams.
#[derive(Debug, Clone)]
pub struct DatedRule<T> {
    pub target: CatalogRef,
    pub effective_from: NaiveDate,
    pub value: T,
}

/// The rule in force for `code` on `day`: among rules already effective, one naming the code
/// itself wins over one naming its category; among those, the latest effective date wins.
pub fn rule_on<'a, T>(
    rules: &'a [DatedRule<T>],
    code: &WasteCode,
    day: NaiveDate,
) -> Option<&'a DatedRule<T>> {
    let target = CatalogRef::Code(code.clone());
    let latest = |specific: bool| {
        rules
            .iter()
            .filter(|r| r.effective_from <= day)
            .filter(|r| {
                if specific {
                    r.target == target
                } else {
                    r.target.includes(&target) && r.target != target
                }
            })
            .max_by_key(|r| r.effective_from)
    };
    latest(true).or_else(|| latest(false))
}

/// Days from `today` until `end`; negative when already past.
pub fn days_until(today: NaiveDate, end: NaiveDate) -> i64 {
    (end - today).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn r(s: &str) -> CatalogRef {
        CatalogRef::parse("t", s).expect("ref")
    }

    #[test]
    fn membership_ends_on_the_day_of_leaving() {
        assert!(member_on(day("2026-03-01"), day("2026-03-01"), None));
        assert!(!member_on(day("2026-02-28"), day("2026-03-01"), None));
        assert!(member_on(
            day("2026-05-31"),
            day("2026-03-01"),
            Some(day("2026-06-01"))
        ));
        assert!(!member_on(
            day("2026-06-01"),
            day("2026-03-01"),
            Some(day("2026-06-01"))
        ));
    }

    #[test]
    fn licences_cover_by_category_or_code_while_valid() {
        let licences = [LicenceTerms {
            valid_from: day("2026-01-01"),
            valid_to: day("2026-12-31"),
            scope: vec![r("HW08"), r("900-041-49")],
        }];
        assert!(licence_covers(
            &licences,
            &r("900-249-08"),
            day("2026-06-01")
        ));
        assert!(licence_covers(&licences, &r("HW08"), day("2026-06-01")));
        assert!(licence_covers(
            &licences,
            &r("900-041-49"),
            day("2026-06-01")
        ));
        assert!(
            !licence_covers(&licences, &r("HW49"), day("2026-06-01")),
            "one code does not cover its category"
        );
        assert!(!licence_covers(
            &licences,
            &r("900-252-12"),
            day("2026-06-01")
        ));
        assert!(
            !licence_covers(&licences, &r("900-249-08"), day("2027-01-01")),
            "expired"
        );
    }

    #[test]
    fn the_most_specific_latest_rule_applies() {
        let code = WasteCode::parse("c", "900-249-08").expect("code");
        let rules = [
            DatedRule {
                target: r("HW08"),
                effective_from: day("2026-01-01"),
                value: 100,
            },
            DatedRule {
                target: r("HW08"),
                effective_from: day("2026-07-01"),
                value: 150,
            },
            DatedRule {
                target: r("900-249-08"),
                effective_from: day("2026-09-01"),
                value: 90,
            },
        ];
        let at = |d: &str| rule_on(&rules, &code, day(d)).map(|r| r.value);
        assert_eq!(at("2025-12-31"), None);
        assert_eq!(at("2026-03-01"), Some(100));
        assert_eq!(at("2026-07-01"), Some(150));
        assert_eq!(at("2026-09-01"), Some(90));
        let other = WasteCode::parse("c", "900-214-08").expect("code");
        assert_eq!(
            rule_on(&rules, &other, day("2026-09-01")).map(|r| r.value),
            Some(150)
        );
    }
}
