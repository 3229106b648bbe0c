//! Working days as the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的
//! 通知) has them: Monday to Friday, less the public holidays, plus the weekend days made
//! working days (调休). A year whose notice the service does not hold falls back to Monday to
//! Friday, and every result says which years were counted each way.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::error::FieldError;

/// Years a calendar may be kept for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// One year of the notice: its public holidays and its make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Year {
    pub holidays: BTreeSet<NaiveDate>,
    pub workdays: BTreeSet<NaiveDate>,
}

impl Year {
    /// Checks a year's lists: every date in that year, none both a holiday and a working day,
    /// and a make-up working day on a Saturday or Sunday (on any other day it changes nothing,
    /// so it is a mistake). Duplicates are taken once.
    pub fn parse(
        year: i32,
        holidays: &[NaiveDate],
        workdays: &[NaiveDate],
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, days) in [("holidays", holidays), ("workdays", workdays)] {
            for (i, day) in days.iter().enumerate() {
                if day.year() != year {
                    errors.push(FieldError::new(
                        format!("{field}[{i}]"),
                        "other_year",
                        format!("{day} is not in {year}"),
                    ));
                }
            }
        }
        for (i, day) in workdays.iter().enumerate() {
            if !is_weekend(*day) {
                errors.push(FieldError::new(
                    format!("workdays[{i}]"),
                    "not_weekend",
                    format!(
                        "{day} is a weekday: a make-up working day falls on a Saturday or Sunday"
                    ),
                ));
            }
            if holidays.contains(day) {
                errors.push(FieldError::new(
                    format!("workdays[{i}]"),
                    "both",
                    format!("{day} is listed as a holiday and as a working day"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                holidays: holidays.iter().copied().collect(),
                workdays: workdays.iter().copied().collect(),
            })
        } else {
            Err(errors)
        }
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The years the service holds a notice for.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub years: BTreeMap<i32, Year>,
}

/// A day `n` working days after another, with how it was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub on: NaiveDate,
    /// The years counted by their holiday calendar.
    pub calendar_years: Vec<i32>,
    /// The years without one, counted Monday to Friday.
    pub assumed_years: Vec<i32>,
    /// In words, for the people held to the day.
    pub explanation: String,
}

impl Calendar {
    /// Whether `day` is a working day; `None` when its year has no calendar (then Monday to
    /// Friday are).
    fn working(&self, day: NaiveDate) -> (bool, bool) {
        match self.years.get(&day.year()) {
            Some(y) => (
                y.workdays.contains(&day) || (!is_weekend(day) && !y.holidays.contains(&day)),
                true,
            ),
            None => (!is_weekend(day), false),
        }
    }

    /// The day `n` working days after `from`: `from` itself is not counted (a period counted
    /// in days starts on the next day), so 5 working days from an arrival on a Monday with no
    /// holiday end on the next Monday.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Due {
        let mut day = from;
        let mut left = n;
        let mut known = BTreeSet::new();
        let mut assumed = BTreeSet::new();
        while left > 0 {
            day += Duration::days(1);
            let (working, has_calendar) = self.working(day);
            if has_calendar {
                known.insert(day.year());
            } else {
                assumed.insert(day.year());
            }
            if working {
                left -= 1;
            }
        }
        let calendar_years: Vec<i32> = known.into_iter().collect();
        let assumed_years: Vec<i32> = assumed.into_iter().collect();
        let list = |years: &[i32]| {
            years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let mut explanation = format!("{n} working days after {from}");
        if !calendar_years.is_empty() {
            explanation.push_str(&format!(
                "; {}: the State Council's holiday calendar, with its public holidays and make-up working days",
                list(&calendar_years)
            ));
        }
        if !assumed_years.is_empty() {
            explanation.push_str(&format!(
                "; {}: no holiday calendar is held, so Monday to Friday were counted as working days",
                list(&assumed_years)
            ));
        }
        Due {
            on: day,
            calendar_years,
            assumed_years,
            explanation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn days(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|d| day(d)).collect()
    }

    /// The 2025 notice: Spring Festival 28 January to 4 February, with Sunday 26 January and
    /// Saturday 8 February worked.
    fn spring_festival_2025() -> Calendar {
        let holidays = days(&[
            "2025-01-01",
            "2025-01-28",
            "2025-01-29",
            "2025-01-30",
            "2025-01-31",
            "2025-02-01",
            "2025-02-02",
            "2025-02-03",
            "2025-02-04",
        ]);
        let workdays = days(&["2025-01-26", "2025-02-08"]);
        let year = Year::parse(2025, &holidays, &workdays).expect("a valid year");
        Calendar {
            years: BTreeMap::from([(2025, year)]),
        }
    }

    #[test]
    fn the_spring_festival_and_its_make_up_days_count() {
        let c = spring_festival_2025();
        // Arrived Friday 24 January: Sunday 26 (worked), Monday 27, then the holiday to
        // Tuesday 4 February; Wednesday 5, Thursday 6, Friday 7.
        let due = c.add_working_days(day("2025-01-24"), 5);
        assert_eq!(due.on, day("2025-02-07"));
        assert_eq!(due.calendar_years, vec![2025]);
        assert!(due.assumed_years.is_empty());
        assert!(
            due.explanation
                .contains("2025: the State Council's holiday calendar"),
            "{}",
            due.explanation
        );
        // Arrived on the holiday's first day: 5, 6, 7, Saturday 8 (worked), Monday 10.
        assert_eq!(
            c.add_working_days(day("2025-01-28"), 5).on,
            day("2025-02-10")
        );
        // Monday to Friday alone would have said Friday 31 January.
        assert_eq!(
            Calendar::default()
                .add_working_days(day("2025-01-24"), 5)
                .on,
            day("2025-01-31")
        );
    }

    #[test]
    fn a_year_without_a_calendar_falls_back_to_monday_to_friday_and_says_so() {
        let c = spring_festival_2025();
        // Arrived Tuesday 30 December 2025: Wednesday 31, then 2026 (no calendar held):
        // Thursday 1 January counts as a working day.
        let due = c.add_working_days(day("2025-12-30"), 5);
        assert_eq!(due.on, day("2026-01-06"));
        assert_eq!(due.calendar_years, vec![2025]);
        assert_eq!(due.assumed_years, vec![2026]);
        assert!(
            due.explanation
                .contains("2026: no holiday calendar is held, so Monday to Friday were counted"),
            "{}",
            due.explanation
        );
        let none = Calendar::default().add_working_days(day("2026-11-27"), 5);
        assert_eq!(none.on, day("2026-12-04"));
        assert_eq!(none.calendar_years, Vec::<i32>::new());
        assert_eq!(none.assumed_years, vec![2026]);
    }

    #[test]
    fn a_year_is_checked_date_by_date() {
        let errors = Year::parse(
            2025,
            &days(&["2025-10-01", "2024-12-31"]),
            &days(&["2025-09-28", "2025-09-29", "2025-10-01"]),
        )
        .expect_err("invalid");
        let found: Vec<(String, String)> = errors.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            found,
            vec![
                ("holidays[1]".to_owned(), "other_year".to_owned()),
                ("workdays[1]".to_owned(), "not_weekend".to_owned()),
                ("workdays[2]".to_owned(), "not_weekend".to_owned()),
                ("workdays[2]".to_owned(), "both".to_owned()),
            ]
        );
        let year = Year::parse(2025, &days(&["2025-10-01", "2025-10-01"]), &[]).expect("valid");
        assert_eq!(year.holidays.len(), 1, "a date given twice is taken once");
    }
}
