//! Weights in integer grams and money in integer fen: the bounds the service accepts, and totals
//! that never wrap.
//!
//! Every bound check holds for every `i64` (ranges, never `abs()`, which overflows for
//! `i64::MIN`). Every total of grams or fen is summed with [`total`] or checked arithmetic: a sum
//! that would leave the range of `i64` is an [`OutOfRange`] error, never a wrapped number.

use std::fmt;

use crate::error::FieldError;

/// One billion tonnes: far above any real quantity, far below overflow in sums.
pub const MAX_GRAMS: i64 = 1_000_000_000_000_000;
/// ¥10 billion per tonne, in fen: a generous bound that keeps products in range.
pub const MAX_FEN_PER_TONNE: i64 = 1_000_000_000_000;

/// A total of grams or fen that does not fit in an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a total of grams or fen is beyond the range of a 64-bit integer")
    }
}

impl std::error::Error for OutOfRange {}

/// The sum of amounts of grams or of fen, or [`OutOfRange`] when it leaves the range of `i64`.
/// Summed exactly in `i128` (fewer than 2^64 terms of at most 2^63 each cannot overflow it), so
/// the result does not depend on the order of the terms.
pub fn total(values: impl IntoIterator<Item = i64>) -> Result<i64, OutOfRange> {
    let sum: i128 = values.into_iter().map(i128::from).sum();
    i64::try_from(sum).map_err(|_| OutOfRange)
}

/// `a + b` for grams or fen, or [`OutOfRange`].
pub fn add(a: i64, b: i64) -> Result<i64, OutOfRange> {
    a.checked_add(b).ok_or(OutOfRange)
}

/// `a − b` for grams or fen, or [`OutOfRange`].
pub fn subtract(a: i64, b: i64) -> Result<i64, OutOfRange> {
    a.checked_sub(b).ok_or(OutOfRange)
}

/// A weight in grams, greater than zero.
pub fn positive_grams(field: &str, value: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_GRAMS).contains(&value) {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be a whole number of grams from 1 to {MAX_GRAMS}"),
        ));
    }
    Ok(value)
}

/// A price in fen per tonne; negative when the disposer buys the waste.
pub fn fen_per_tonne(field: &str, value: i64) -> Result<i64, FieldError> {
    if !(-MAX_FEN_PER_TONNE..=MAX_FEN_PER_TONNE).contains(&value) {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be between -{MAX_FEN_PER_TONNE} and {MAX_FEN_PER_TONNE} fen per tonne"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds() {
        assert!(positive_grams("g", 0).is_err());
        assert!(positive_grams("g", -5).is_err());
        assert!(positive_grams("g", MAX_GRAMS + 1).is_err());
        assert!(positive_grams("g", i64::MIN).is_err());
        assert_eq!(positive_grams("g", 1500).ok(), Some(1500));
        assert_eq!(positive_grams("g", MAX_GRAMS).ok(), Some(MAX_GRAMS));
        assert_eq!(fen_per_tonne("p", -120_000).ok(), Some(-120_000));
        assert!(fen_per_tonne("p", i64::MAX).is_err());
        assert!(fen_per_tonne("p", i64::MIN).is_err());
        assert!(fen_per_tonne("p", -MAX_FEN_PER_TONNE - 1).is_err());
        assert_eq!(
            fen_per_tonne("p", -MAX_FEN_PER_TONNE).ok(),
            Some(-MAX_FEN_PER_TONNE)
        );
    }

    #[test]
    fn totals_refuse_to_wrap() {
        assert_eq!(total([]), Ok(0));
        assert_eq!(total([i64::MAX, 1, -1]), Ok(i64::MAX));
        assert_eq!(total([i64::MIN, -1]), Err(OutOfRange));
        assert_eq!(total([i64::MAX, 1]), Err(OutOfRange));
        assert_eq!(add(i64::MIN, -1), Err(OutOfRange));
        assert_eq!(subtract(0, i64::MIN), Err(OutOfRange));
        assert_eq!(subtract(-1, i64::MIN), Ok(i64::MAX));
    }

    proptest! {
        /// The bounds hold for every i64, `i64::MIN` and `i64::MAX` included.
        #[test]
        fn bounds_hold_over_the_whole_range(value in any::<i64>()) {
            let grams = positive_grams("g", value);
            prop_assert_eq!(grams.is_ok(), (1..=MAX_GRAMS).contains(&value));
            if let Err(e) = grams {
                prop_assert_eq!(e.field, "g");
                prop_assert_eq!(e.code, "out_of_range");
            }
            let price = fen_per_tonne("p", value);
            prop_assert_eq!(price.is_ok(), i128::from(value).abs() <= i128::from(MAX_FEN_PER_TONNE));
            if let Ok(p) = price {
                prop_assert_eq!(p, value);
            }
        }

        /// The edges of the range, where `abs()` and plain sums break, are covered too.
        #[test]
        fn bounds_hold_at_the_edges(value in prop_oneof![
            Just(i64::MIN), Just(i64::MIN + 1), Just(i64::MAX), Just(-1i64), Just(0i64), Just(1i64),
            Just(MAX_GRAMS), Just(MAX_GRAMS + 1), Just(-MAX_FEN_PER_TONNE - 1), Just(MAX_FEN_PER_TONNE + 1),
        ]) {
            prop_assert_eq!(positive_grams("g", value).is_ok(), (1..=MAX_GRAMS).contains(&value));
            prop_assert_eq!(
                fen_per_tonne("p", value).is_ok(),
                i128::from(value).abs() <= i128::from(MAX_FEN_PER_TONNE)
            );
        }

        /// A total is the exact sum when that fits in an i64, and an error otherwise: never a
        /// wrapped number.
        #[test]
        fn a_total_is_exact_or_refused(values in proptest::collection::vec(
            prop_oneof![any::<i64>(), -1_000i64..1_000, Just(i64::MIN), Just(i64::MAX)], 0..8)
        ) {
            let exact: i128 = values.iter().map(|v| i128::from(*v)).sum();
            match total(values.iter().copied()) {
                Ok(sum) => prop_assert_eq!(i128::from(sum), exact),
                Err(OutOfRange) => prop_assert!(i64::try_from(exact).is_err()),
            }
            let mut reversed = values.clone();
            reversed.reverse();
            prop_assert_eq!(total(reversed), total(values));
        }

        #[test]
        fn sums_and_differences_are_exact_or_refused(a in any::<i64>(), b in any::<i64>()) {
            let sum = i128::from(a) + i128::from(b);
            prop_assert_eq!(add(a, b).ok().map(i128::from), i64::try_from(sum).ok().map(i128::from));
            let difference = i128::from(a) - i128::from(b);
            prop_assert_eq!(
                subtract(a, b).ok().map(i128::from),
                i64::try_from(difference).ok().map(i128::from)
            );
        }
    }
}
