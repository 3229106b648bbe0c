//! How the console writes and reads quantities: money in yuan with two decimals, weights in kg
//! or t, times in the park's time zone — from and to the integers the service keeps (fen,
//! grams, UTC), with no floating point on the way.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::i18n::Locale;

/// Fen as yuan with two decimals and thousands separated: `¥1,234.50`, `-¥0.05`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", grouped(abs / 100), abs % 100)
}

/// Grams as kg below a tonne (`350.5 kg`, one decimal at most as a scale shows it), as t from a
/// tonne on (`12.345 t`).
pub fn weight(grams: i64) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let abs = grams.unsigned_abs();
    if abs >= 1_000_000 {
        format!(
            "{sign}{}.{:03} t",
            grouped(abs / 1_000_000),
            abs % 1_000_000 / 1000
        )
    } else {
        let tenths = abs % 1000 / 100;
        if tenths == 0 {
            format!("{sign}{} kg", abs / 1000)
        } else {
            format!("{sign}{}.{tenths} kg", abs / 1000)
        }
    }
}

/// `part` of `whole` in whole percent, rounded down; 0 for an empty whole.
pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let p = i128::from(part.max(0)) * 100 / i128::from(whole);
    i64::try_from(p).unwrap_or(i64::MAX)
}

/// An instant as the park's wall-clock time, to the minute: `2026-12-01 16:05`.
pub fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Why a weight typed in kg was refused, in the page's language.
pub fn kg_problem(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn => "请填写以千克为单位的数值，最多三位小数，不用千位分隔符，例如 1350.5",
        Locale::En => {
            "enter a number of kilograms with at most three decimals and no thousands separator, e.g. 1350.5"
        }
    }
}

/// Why an amount typed in yuan was refused, in the page's language.
pub fn yuan_problem(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn => "请填写以元为单位的金额，最多两位小数，不用千位分隔符，例如 1350.50",
        Locale::En => {
            "enter an amount in yuan with at most two decimals and no thousands separator, e.g. 1350.50"
        }
    }
}

/// A weight typed in kilograms (`350`, `350.5`, `0.125`) as grams. `None` for anything else: a
/// sign, a comma (a thousands separator or a decimal comma: which one cannot be told, so neither
/// is guessed), more than three decimals, a value beyond `i64` grams.
pub fn parse_kg(text: &str) -> Option<i64> {
    parse_decimal(text, 3)
}

/// An amount typed in yuan (`840`, `840.5`, `0.05`) as fen, read as [`parse_kg`] reads
/// kilograms, with at most two decimals.
pub fn parse_yuan(text: &str) -> Option<i64> {
    parse_decimal(text, 2)
}

/// An unsigned decimal with at most `places` decimals, as an integer of its smallest unit.
fn parse_decimal(text: &str, places: usize) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > places {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<places$}").parse().ok()?;
    whole
        .checked_mul(10_i64.checked_pow(u32::try_from(places).ok()?)?)?
        .checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_in_yuan_with_two_decimals() {
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(123_450), "¥1,234.50");
        assert_eq!(yuan(-5), "-¥0.05");
        assert_eq!(yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
        assert_eq!(yuan(i64::MAX), "¥92,233,720,368,547,758.07");
    }

    #[test]
    fn weights_are_written_in_kg_below_a_tonne_and_in_t_above() {
        assert_eq!(weight(0), "0 kg");
        assert_eq!(weight(350_500), "350.5 kg");
        assert_eq!(weight(350_549), "350.5 kg");
        assert_eq!(weight(999_999), "999.9 kg");
        assert_eq!(weight(1_000_000), "1.000 t");
        assert_eq!(weight(12_345_678), "12.345 t");
        assert_eq!(weight(-2_000), "-2 kg");
        assert_eq!(weight(i64::MIN), "-9,223,372,036,854.775 t");
    }

    #[test]
    fn percent_holds_for_every_value() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 0), 0);
        assert_eq!(percent(-5, 10), 0);
        assert_eq!(percent(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn kilograms_typed_become_exact_grams() {
        assert_eq!(parse_kg("350"), Some(350_000));
        assert_eq!(parse_kg(" 350.5 "), Some(350_500));
        assert_eq!(parse_kg("0.125"), Some(125));
        assert_eq!(parse_kg("1,234"), None);
        assert_eq!(parse_kg("1.2345"), None);
        assert_eq!(parse_kg("-1"), None);
        assert_eq!(parse_kg("1e3"), None);
        assert_eq!(parse_kg(""), None);
        assert_eq!(parse_kg("."), None);
        assert_eq!(parse_kg("9223372036854776"), None);
        assert_eq!(parse_kg("9223372036854775.807"), Some(i64::MAX));
    }

    #[test]
    fn yuan_typed_become_exact_fen() {
        assert_eq!(parse_yuan("840"), Some(84_000));
        assert_eq!(parse_yuan("840.5"), Some(84_050));
        assert_eq!(parse_yuan("0.05"), Some(5));
        assert_eq!(parse_yuan("0.005"), None);
        assert_eq!(parse_yuan("1,000"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan("92233720368547758.07"), Some(i64::MAX));
        assert_eq!(parse_yuan("92233720368547758.08"), None);
    }

    #[test]
    fn times_are_the_parks_wall_clock() {
        let at = "2026-12-31T16:00:00Z".parse().unwrap_or_default();
        assert_eq!(when(at, chrono_tz::Asia::Shanghai), "2027-01-01 00:00");
    }
}
