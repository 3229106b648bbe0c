//! Weights in integer grams and money in integer fen, with the bounds the service accepts.

use crate::error::FieldError;

/// One billion tonnes: far above any real quantity, far below overflow in sums.
pub const MAX_GRAMS: i64 = 1_000_000_000_000_000;
/// ¥10 billion per tonne, in fen: a generous bound that keeps products in range.
pub const MAX_FEN_PER_TONNE: i64 = 1_000_000_000_000;

/// A weight in grams, greater than zero.
pub fn positive_grams(field: &str, value: i64) -> Result<i64, FieldError> {
    if value <= 0 || value > MAX_GRAMS {
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
    if value.abs() > MAX_FEN_PER_TONNE {
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

    #[test]
    fn bounds() {
        assert!(positive_grams("g", 0).is_err());
        assert!(positive_grams("g", -5).is_err());
        assert!(positive_grams("g", MAX_GRAMS + 1).is_err());
        assert_eq!(positive_grams("g", 1500).ok(), Some(1500));
        assert_eq!(fen_per_tonne("p", -120_000).ok(), Some(-120_000));
        assert!(fen_per_tonne("p", i64::MAX).is_err());
    }
}
