//! Billing by actual weight: what is billable, the amount of a line and its one rounding rule,
//! periods, money as yuan, and the ageing of what is owed.
//!
//! **Rounding.** A line's amount is `grams × fen_per_tonne / 1 000 000` (a tonne is a million
//! grams), computed exactly and rounded once, to the nearest fen, halves away from zero (四舍五入;
//! a credit of −0.5 fen is −1 fen). A statement's total is the sum of its rounded lines; nothing
//! else is ever rounded.

use chrono::{Datelike, Duration, NaiveDate};

use crate::domain::units::{OutOfRange, subtract, total};
use crate::error::FieldError;

/// Grams in a tonne.
pub const GRAMS_PER_TONNE: i128 = 1_000_000;

/// Largest amount accepted for a payment or a note: ¥100 billion.
pub const MAX_FEN: i64 = 10_000_000_000_000;

/// The amount of a note raised by hand: a credit (negative) or a debit, not 0, at most
/// [`MAX_FEN`] either way.
pub fn note_amount(field: &str, value: i64) -> Result<i64, FieldError> {
    if value == 0 || !(-MAX_FEN..=MAX_FEN).contains(&value) {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("must not be 0, and lie between -{MAX_FEN} and {MAX_FEN} fen"),
        ));
    }
    Ok(value)
}

/// The amount of a payment: 1 to [`MAX_FEN`] fen.
pub fn payment_amount(field: &str, value: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_FEN).contains(&value) {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be from 1 to {MAX_FEN} fen"),
        ));
    }
    Ok(value)
}

/// The note that settles a billed lot: what it should cost now, less what was billed for it so
/// far (its line and every note on it); `None` when nothing is owed either way. Applying it
/// makes line + notes equal the lot's current amount, so a lot is never billed twice. Amounts
/// beyond the range of `i64` are [`OutOfRange`], never wrapped.
pub fn settling_note(
    should_fen: i64,
    line_fen: i64,
    notes_fen: &[i64],
) -> Result<Option<i64>, OutOfRange> {
    let so_far = total(std::iter::once(line_fen).chain(notes_fen.iter().copied()))?;
    let difference = subtract(should_fen, so_far)?;
    Ok((difference != 0).then_some(difference))
}

/// Days after the end of its period that a statement is due.
pub const DAYS_TO_PAY: i64 = 30;

/// The amount of a line, in fen, rounded once (see the module); [`OutOfRange`] when it does not
/// fit in an `i64` (never for a lot and a price within their bounds: at most 10^8 g × 10^12
/// fen/t ÷ 10^6 = 10^14 fen).
pub fn line_amount(grams: i64, fen_per_tonne: i64) -> Result<i64, OutOfRange> {
    // |grams × price| ≤ 2^126: exact in an i128.
    let product = i128::from(grams) * i128::from(fen_per_tonne);
    let quotient = product / GRAMS_PER_TONNE;
    let remainder = product % GRAMS_PER_TONNE;
    let rounded = if remainder.abs() * 2 >= GRAMS_PER_TONNE {
        quotient + product.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).map_err(|_| OutOfRange)
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

/// Grams as tonnes with six decimals (exact, from the integer; every `i64`, `i64::MIN` too).
pub fn tonnes(grams: i64) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let abs = grams.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
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

    /// The month before.
    pub fn previous(self) -> Self {
        if self.month <= 1 {
            Self {
                year: self.year.saturating_sub(1),
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
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
    use crate::domain::lot::MAX_LOT_GRAMS;
    use crate::domain::units::MAX_FEN_PER_TONNE;
    use proptest::prelude::*;

    fn line(grams: i64, price: i64) -> i64 {
        line_amount(grams, price).unwrap_or_else(|_| panic!("{grams} g at {price} fen/t"))
    }

    #[test]
    fn rounding_is_half_away_from_zero_once() {
        // 1 kg at 2 800 yuan/t (280 000 fen/t) is 280 fen.
        assert_eq!(line(1_000, 280_000), 280);
        // 1 g at 500 000 fen/t is 0.5 fen: rounds to 1; 1 g at 499 999 fen/t to 0.
        assert_eq!(line(1, 500_000), 1);
        assert_eq!(line(1, 499_999), 0);
        // Credits round symmetrically.
        assert_eq!(line(1, -500_000), -1);
        assert_eq!(line(3, -166_667), -1);
        assert_eq!(line(0, 999), 0);
    }

    #[test]
    fn a_line_beyond_the_range_is_refused_not_clamped() {
        assert_eq!(line_amount(i64::MAX, i64::MAX), Err(OutOfRange));
        assert_eq!(line_amount(i64::MIN, i64::MAX), Err(OutOfRange));
        assert_eq!(line_amount(i64::MIN, 1_000_000), Ok(i64::MIN));
        // The largest lot at the highest price fits with room to spare.
        assert_eq!(
            line_amount(MAX_LOT_GRAMS, MAX_FEN_PER_TONNE),
            Ok(100_000_000_000_000)
        );
    }

    #[test]
    fn note_and_payment_amounts_are_bounded_at_the_edges() {
        for bad in [
            i64::MIN,
            i64::MIN + 1,
            -MAX_FEN - 1,
            0,
            MAX_FEN + 1,
            i64::MAX,
        ] {
            assert!(note_amount("amount_fen", bad).is_err(), "{bad}");
        }
        for good in [-MAX_FEN, -1, 1, MAX_FEN] {
            assert_eq!(note_amount("amount_fen", good).ok(), Some(good));
        }
        for bad in [i64::MIN, -1, 0, MAX_FEN + 1, i64::MAX] {
            assert!(payment_amount("amount_fen", bad).is_err(), "{bad}");
        }
        for good in [1, MAX_FEN] {
            assert_eq!(payment_amount("amount_fen", good).ok(), Some(good));
        }
    }

    #[test]
    fn money_and_weights_print_exactly() {
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(i64::MIN), "-92233720368547758.08");
        assert_eq!(kilograms(320_500), "320.500");
        assert_eq!(kilograms(i64::MIN), "-9223372036854775.808");
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
            let amount = line(grams, price);
            let exact2 = i128::from(grams) * i128::from(price) * 2;
            let diff2 = i128::from(amount) * GRAMS_PER_TONNE * 2 - exact2;
            prop_assert!(diff2.abs() <= GRAMS_PER_TONNE);
            if diff2.abs() == GRAMS_PER_TONNE {
                // A tie: rounded away from zero.
                prop_assert!(i128::from(amount).abs() * GRAMS_PER_TONNE * 2 > exact2.abs());
            }
        }

        /// Over the whole range of i64, a line is the exact amount rounded when that fits in an
        /// i64, and refused otherwise: never clamped or wrapped.
        #[test]
        fn a_line_is_exact_or_refused_over_the_whole_range(
            grams in prop_oneof![any::<i64>(), -10_000_000_000i64..=10_000_000_000, Just(i64::MIN), Just(i64::MAX)],
            price in prop_oneof![any::<i64>(), -10_000_000_000i64..=10_000_000_000, Just(i64::MIN), Just(i64::MAX)],
        ) {
            // |grams × price| ≤ 2^126: exact in an i128.
            let exact = i128::from(grams) * i128::from(price);
            match line_amount(grams, price) {
                Ok(amount) => {
                    // Within half a fen, and a tie rounded away from zero.
                    let diff = i128::from(amount) * GRAMS_PER_TONNE - exact;
                    prop_assert!(diff.abs() * 2 <= GRAMS_PER_TONNE);
                    if diff.abs() * 2 == GRAMS_PER_TONNE {
                        prop_assert!((i128::from(amount) * GRAMS_PER_TONNE).abs() > exact.abs());
                    }
                }
                // Refused only when the amount, rounded either way, does not fit.
                Err(OutOfRange) => {
                    let truncated = exact / GRAMS_PER_TONNE;
                    prop_assert!(i64::try_from(truncated + exact.signum()).is_err());
                }
            }
        }

        /// Within the bounds of a lot and a price, a line always fits.
        #[test]
        fn a_bounded_line_always_fits(grams in 1i64..=MAX_LOT_GRAMS, price in -MAX_FEN_PER_TONNE..=MAX_FEN_PER_TONNE) {
            prop_assert!(line_amount(grams, price).is_ok());
        }

        /// The bounds of notes and payments hold for every i64.
        #[test]
        fn note_and_payment_bounds_hold_over_the_whole_range(value in any::<i64>()) {
            let in_range = i128::from(value).abs() <= i128::from(MAX_FEN);
            prop_assert_eq!(note_amount("amount_fen", value).is_ok(), value != 0 && in_range);
            prop_assert_eq!(payment_amount("amount_fen", value).is_ok(), value > 0 && in_range);
        }

        /// Whatever happens to a billed lot after issue (new weights, new prices, a void), the
        /// notes raised keep line + notes equal to what the lot costs now: never billed twice,
        /// never missed.
        #[test]
        fn notes_keep_a_lot_billed_exactly_once(
            first in (1i64..=5_000_000, -2_000_000i64..=5_000_000),
            changes in proptest::collection::vec(proptest::option::of((1i64..=5_000_000, -2_000_000i64..=5_000_000)), 0..12),
        ) {
            let billed = line(first.0, first.1);
            let mut notes: Vec<i64> = Vec::new();
            let mut current = billed;
            for change in changes {
                // None: the lot is voided (costs nothing); Some: a new weight or price.
                current = change.map_or(0, |(g, p)| line(g, p));
                if let Some(note) = settling_note(current, billed, &notes)? {
                    notes.push(note);
                }
                prop_assert_eq!(billed + notes.iter().sum::<i64>(), current);
            }
            // Settling again raises nothing.
            prop_assert_eq!(settling_note(current, billed, &notes), Ok(None));
        }

        /// Over the whole range of i64, a settling note is the exact difference when that fits,
        /// and refused otherwise.
        #[test]
        fn a_settling_note_is_exact_or_refused(
            should in any::<i64>(),
            billed in any::<i64>(),
            notes in proptest::collection::vec(prop_oneof![any::<i64>(), -1_000i64..1_000], 0..6),
        ) {
            let so_far: i128 = i128::from(billed) + notes.iter().map(|n| i128::from(*n)).sum::<i128>();
            let difference = i128::from(should) - so_far;
            match settling_note(should, billed, &notes) {
                Ok(note) => {
                    prop_assert!(i64::try_from(so_far).is_ok());
                    prop_assert_eq!(note.map(i128::from), (difference != 0).then_some(difference));
                }
                Err(OutOfRange) => prop_assert!(i64::try_from(so_far).is_err() || i64::try_from(difference).is_err()),
            }
        }

        /// The lines of a statement sum to its total, which is Σ weight × price under the rule,
        /// whatever the order of the lines.
        #[test]
        fn lines_sum_to_the_total_in_any_order(lines in proptest::collection::vec((1i64..=50_000_000, -2_000_000i64..=5_000_000), 0..40)) {
            let sum = total(lines.iter().map(|(g, p)| line(*g, *p)))?;
            let mut reversed = lines.clone();
            reversed.reverse();
            let again = total(reversed.iter().map(|(g, p)| line(*g, *p)))?;
            prop_assert_eq!(sum, again);
            let exact: i128 = lines.iter().map(|(g, p)| i128::from(*g) * i128::from(*p)).sum();
            // Each line is off by at most half a fen.
            let n = i128::try_from(lines.len()).unwrap_or(0);
            prop_assert!((i128::from(sum) * GRAMS_PER_TONNE * 2 - exact * 2).abs() <= n * GRAMS_PER_TONNE);
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
