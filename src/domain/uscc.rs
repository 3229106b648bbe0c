//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters: registration department (1), organisation type (1), GB/T 2260 area code (6),
//! organisation code (9), check character (1), over a 31-character alphabet without I, O, S,
//! V and Z. The check character is computed from the first 17 with weights 3^(i-1) mod 31.

use std::fmt;

use crate::error::FieldError;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A credit code whose check character is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The check character for the first 17 characters (which must be in the alphabet).
pub fn check_character(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl Uscc {
    /// Parses a credit code (letters are upper-cased, surrounding spaces ignored). A wrong
    /// check character is refused with a message naming the expected one.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 18 {
            return Err(FieldError::new(
                field,
                "invalid_length",
                "a unified social credit code has 18 characters",
            ));
        }
        if let Some(bad) = bytes.iter().find(|b| value_of(**b).is_none()) {
            return Err(FieldError::new(
                field,
                "invalid_character",
                format!(
                    "'{}' cannot appear in a credit code (allowed: 0-9 and A-Y without I, O, S, V, Z)",
                    *bad as char
                ),
            ));
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new(
                field,
                "invalid",
                "characters 3 to 8 must be the 6-digit area code",
            ));
        }
        let expected = check_character(&bytes[..17])
            .ok_or_else(|| FieldError::new(field, "invalid", "not a credit code"))?;
        if bytes[17] as char != expected {
            return Err(FieldError::new(
                field,
                "check_character",
                format!(
                    "the check character is wrong: for these first 17 characters it must be '{expected}'"
                ),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GB/T 2260 area code embedded in the credit code.
    pub fn area_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_examples_are_valid() {
        for code in [
            "91350100M000100Y43",
            "91130200699229617X",
            " 91350100m000100y43 ",
        ] {
            assert!(Uscc::parse("uscc", code).is_ok(), "{code}");
        }
    }

    #[test]
    fn a_wrong_check_character_names_the_expected_one() {
        let err = Uscc::parse("uscc", "91350100M000100Y44")
            .err()
            .map(|e| (e.code, e.message));
        let (code, message) = err.expect("refused");
        assert_eq!(code, "check_character");
        assert!(message.contains("'3'"), "{message}");
    }

    #[test]
    fn malformed_codes_are_refused() {
        for code in [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100M0001O0Y43",
            "913501A0M000100Y43",
        ] {
            assert!(Uscc::parse("uscc", code).is_err(), "{code}");
        }
    }

    #[test]
    fn generated_codes_validate() {
        let first = b"91440300MA5F00012";
        let check = check_character(first).expect("alphabet");
        let code = format!("{}{check}", std::str::from_utf8(first).unwrap_or_default());
        assert_eq!(
            Uscc::parse("uscc", &code)
                .map(|c| c.area_code().to_owned())
                .ok()
                .as_deref(),
            Some("440300")
        );
    }
}
