//! Billing by actual weight: what is billable, the amount of a line and its one rounding rule,
//! periods, money as yuan, and the ageing of what is owed.
//!
//! **Rounding.** A line's amount is `grams × fen_per_tonne / 1 000 000` (a tonne is a million
//! grams), computed exactly and rounded once, to the nearest fen, halves away from zero (四舍五入;
//! a credit of −0.5 fen is −1 fen). A statement's total is the sum of its rounded lines; nothing
//! else is ever rounded.

use chrono::{Datelike, Duration, NaiveDate};

/// Grams in a tonne.
pub const GRAMS_PER_TONNE: i128 = 1_000_000;

/// Largest amount accepted for a payment or a note: ¥100 billion.
pub const MAX_FEN: i64 = 10_000_000_000_000;

/// The note that settles a billed lot: what it should cost now, less what was billed for it so
/// far (its line and every note on it); `None` when nothing is owed either way. Applying it
/// makes line + notes equal the lot's current amount, so a lot is never billed twice.
pub fn settling_note(should_fen: i64, line_fen: i64, notes_fen: &[i64]) -> Option<i64> {
    let so_far = line_fen + notes_fen.iter().sum::<i64>();
    let difference = should_fen - so_far;
    (difference != 0).then_some(difference)
}

/// Days after the end of its period that a statement is due.
pub const DAYS_TO_PAY: i64 = 30;

/// The amount of a line, in fen, rounded once (see the module).
pub fn line_amount(grams: i64, fen_per_tonne: i64) -> i64 {
    let product = i128::from(grams) * i128::from(fen_per_tonne);
    let quotient = product / GRAMS_PER_TONNE;
    let remainder = product % GRAMS_PER_TONNE;
    let rounded = if remainder.abs() * 2 >= GRAMS_PER_TONNE {
        quotient + product.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// Fen as yuan with two decimals: `-1234` → `-12.34`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Grams as kilograms with three decimals.
pub fn kilograms(grams: i64) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let abs = grams.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// A billing period: one calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    /// `YYYY-MM`.
    pub fn parse(raw: &str) -> Option<Self> {
        let (y, m) = raw.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let period = Self {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
        };
        period.first_day().map(|_| period)
    }

    pub fn of(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    /// The first day after the period.
    pub fn end(self) -> Option<NaiveDate> {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
    }

    pub fn due_on(self) -> Option<NaiveDate> {
        self.end().map(|end| end + Duration::days(DAYS_TO_PAY - 1))
    }

    pub fn as_string(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// Ageing buckets of an amount past its due day.
pub fn ageing_bucket(days_past_due: i64) -> &'static str {
    match days_past_due {
        i64::MIN..=0 => "current",
        1..=30 => "1-30",
        31..=60 => "31-60",
        61..=90 => "61-90",
        _ => "over_90",
    }
}

pub const AGEING_BUCKETS: [&str; 5] = ["current", "1-30", "31-60", "61-90", "over_90"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounding_is_half_away_from_zero_once() {
        // 1 kg at 2 800 yuan/t (280 000 fen/t) is 280 fen.
        assert_eq!(line_amount(1_000, 280_000), 280);
        // 1 g at 500 000 fen/t is 0.5 fen: rounds to 1; 1 g at 499 999 fen/t to 0.
        assert_eq!(line_amount(1, 500_000), 1);
        assert_eq!(line_amount(1, 499_999), 0);
        // Credits round symmetrically.
        assert_eq!(line_amount(1, -500_000), -1);
        assert_eq!(line_amount(3, -166_667), -1);
        assert_eq!(line_amount(0, 999), 0);
    }

    #[test]
    fn money_and_weights_print_exactly() {
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(kilograms(320_500), "320.500");
    }

    #[test]
    fn periods_are_calendar_months() {
        let p = Period::parse("2026-12").expect("period");
        assert_eq!(p.first_day(), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(p.end(), NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(p.due_on(), NaiveDate::from_ymd_opt(2027, 1, 30));
        assert!(Period::parse("2026-13").is_none());
        assert!(Period::parse("26-01").is_none());
        assert_eq!(
            Period::of(NaiveDate::from_ymd_opt(2026, 2, 28).expect("day")).as_string(),
            "2026-02"
        );
        assert_eq!(ageing_bucket(0), "current");
        assert_eq!(ageing_bucket(45), "31-60");
        assert_eq!(ageing_bucket(400), "over_90");
    }

    proptest! {
        /// A rounded line is the exact amount rounded to the nearest fen, halves away from zero:
        /// within half a fen, and exactly half a fen only away from zero.
        #[test]
        fn a_line_is_the_exact_amount_rounded_once(grams in 0i64..=10_000_000_000, price in -10_000_000i64..=10_000_000) {
            let amount = line_amount(grams, price);
            let exact2 = i128::from(grams) * i128::from(price) * 2;
            let diff2 = i128::from(amount) * GRAMS_PER_TONNE * 2 - exact2;
            prop_assert!(diff2.abs() <= GRAMS_PER_TONNE);
            if diff2.abs() == GRAMS_PER_TONNE {
                // A tie: rounded away from zero.
                prop_assert!(i128::from(amount).abs() * GRAMS_PER_TONNE * 2 > exact2.abs());
            }
        }

        /// Whatever happens to a billed lot after issue (new weights, new prices, a void), the
        /// notes raised keep line + notes equal to what the lot costs now: never billed twice,
        /// never missed.
        #[test]
        fn notes_keep_a_lot_billed_exactly_once(
            first in (1i64..=5_000_000, -2_000_000i64..=5_000_000),
            changes in proptest::collection::vec(proptest::option::of((1i64..=5_000_000, -2_000_000i64..=5_000_000)), 0..12),
        ) {
            let line = line_amount(first.0, first.1);
            let mut notes: Vec<i64> = Vec::new();
            let mut current = line;
            for change in changes {
                // None: the lot is voided (costs nothing); Some: a new weight or price.
                current = change.map_or(0, |(g, p)| line_amount(g, p));
                if let Some(note) = settling_note(current, line, &notes) {
                    notes.push(note);
                }
                prop_assert_eq!(line + notes.iter().sum::<i64>(), current);
            }
            // Settling again raises nothing.
            prop_assert_eq!(settling_note(current, line, &notes), None);
        }

        /// The lines of a statement sum to its total, which is Σ weight × price under the rule,
        /// whatever the order of the lines.
        #[test]
        fn lines_sum_to_the_total_in_any_order(lines in proptest::collection::vec((1i64..=50_000_000, -2_000_000i64..=5_000_000), 0..40)) {
            let total: i64 = lines.iter().map(|(g, p)| line_amount(*g, *p)).sum();
            let mut reversed = lines.clone();
            reversed.reverse();
            let again: i64 = reversed.iter().map(|(g, p)| line_amount(*g, *p)).sum();
            prop_assert_eq!(total, again);
            let exact: i128 = lines.iter().map(|(g, p)| i128::from(*g) * i128::from(*p)).sum();
            // Each line is off by at most half a fen.
            let n = i128::try_from(lines.len()).unwrap_or(0);
            prop_assert!((i128::from(total) * GRAMS_PER_TONNE * 2 - exact * 2).abs() <= n * GRAMS_PER_TONNE);
        }

        /// Yuan strings parse back to the same fen.
        #[test]
        fn yuan_round_trips(fen in -1_000_000_000_000i64..=1_000_000_000_000) {
            let text = yuan(fen);
            let (units, cents) = text.trim_start_matches('-').split_once('.').unwrap_or_default();
            let back = units.parse::<i64>().unwrap_or_default() * 100 + cents.parse::<i64>().unwrap_or_default();
            prop_assert_eq!(if text.starts_with('-') { -back } else { back }, fen);
        }
    }
}
