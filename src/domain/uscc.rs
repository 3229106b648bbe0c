//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters: registration department (1), organisation type (1), GB/T 2260 area code (6),
//! organisation code (9), check character (1), over a 31-character alphabet without I, O, S,
//! V and Z. The check character is computed from the first 17 with weights 3^(i-1) mod 31.
//!
//! Characters 9 to 17 are a GB 11714 organisation code with a check character of its own: over
//! the body of 8 characters (digits 0–9, letters A–Z valued 10–35) with weights
//! `3 7 9 10 5 8 4 2`, check = 11 − (Σ mod 11), where 10 is written `X` and 11 is `0`. Both
//! checks must hold.

use std::fmt;

use crate::error::FieldError;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the 8 body characters of a GB 11714 organisation code.
const ORGANIZATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

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

/// A character's value in a GB 11714 organisation code: digits 0–9, letters A–Z 10–35.
fn organization_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The check character of a GB 11714 organisation code for its 8 body characters.
pub fn organization_check_character(body: &[u8]) -> Option<char> {
    if body.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in body.iter().zip(ORGANIZATION_WEIGHTS) {
        sum += organization_value(*c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        // 1 to 9.
        check => char::from_digit(check, 10)?,
    })
}

/// A whole credit code from its first 16 characters (which must be in the alphabet): the
/// organisation code's check character, then the code's own, are appended.
pub fn complete(first16: &str) -> Option<String> {
    let bytes = first16.as_bytes();
    if bytes.len() != 16 {
        return None;
    }
    let organization = organization_check_character(&bytes[8..16])?;
    let first17 = format!("{first16}{organization}");
    let check = check_character(first17.as_bytes())?;
    Some(format!("{first17}{check}"))
}

impl Uscc {
    /// Parses a credit code (letters are upper-cased, surrounding spaces ignored). A wrong
    /// check character, of the organisation code (character 17) or of the whole code (character
    /// 18), is refused with a message naming the expected one; the organisation code is checked
    /// first, since character 17 enters the whole code's check.
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
        let organization = organization_check_character(&bytes[8..16])
            .ok_or_else(|| FieldError::new(field, "invalid", "not a credit code"))?;
        if bytes[16] as char != organization {
            return Err(FieldError::new(
                field,
                "organization_check_character",
                format!(
                    "characters 9 to 17 are an organisation code whose check character is wrong: for '{}' it must be '{organization}'",
                    &value[8..16]
                ),
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
    use proptest::prelude::*;

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
    fn the_organisation_codes_of_the_examples_check() {
        assert_eq!(organization_check_character(b"M000100Y"), Some('4'));
        assert_eq!(organization_check_character(b"69922961"), Some('7'));
        // Σ ≡ 1 (mod 11) gives 10, written X; Σ ≡ 0 gives 11, written 0.
        assert_eq!(organization_check_character(b"00000001"), Some('9'));
        assert_eq!(organization_check_character(b"00000000"), Some('0'));
        assert_eq!(organization_check_character(b"10000000"), Some('8'));
        assert_eq!(organization_check_character(b"00000005"), Some('1'));
        assert_eq!(organization_check_character(b"00000006"), Some('X'));
        assert_eq!(organization_check_character(b"0000000"), None);
        assert_eq!(organization_check_character(b"0000000-"), None);
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
    fn a_wrong_organisation_check_character_is_refused_though_the_last_one_fits() {
        // Character 17 changed from 4 to 5, and character 18 recomputed for it.
        let first17 = b"91350100M000100Y5";
        let last = check_character(first17).expect("alphabet");
        let code = format!("{}{last}", std::str::from_utf8(first17).unwrap_or_default());
        let err = Uscc::parse("uscc", &code).expect_err("refused");
        assert_eq!(err.field, "uscc");
        assert_eq!(err.code, "organization_check_character");
        assert!(err.message.contains("'4'"), "{}", err.message);
        // A code generated with the whole code's check alone.
        let first17 = b"91440300MA5F00012";
        let last = check_character(first17).expect("alphabet");
        let code = format!("{}{last}", std::str::from_utf8(first17).unwrap_or_default());
        assert_eq!(
            Uscc::parse("uscc", &code).err().map(|e| e.code).as_deref(),
            Some("organization_check_character")
        );
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
    fn completed_codes_validate() {
        let code = complete("91440300MA5F0001").expect("alphabet");
        assert_eq!(code.len(), 18);
        assert_eq!(
            Uscc::parse("uscc", &code)
                .map(|c| c.area_code().to_owned())
                .ok()
                .as_deref(),
            Some("440300")
        );
        assert_eq!(
            complete("91350100M000100Y").as_deref(),
            Some("91350100M000100Y43")
        );
        assert_eq!(
            complete("9113020069922961").as_deref(),
            Some("91130200699229617X")
        );
        assert_eq!(complete("91350100M000100"), None);
    }

    /// Any of the 31 characters of the alphabet.
    fn alphabet() -> impl Strategy<Value = u8> {
        proptest::sample::select(ALPHABET.to_vec())
    }

    proptest! {
        /// A completed code passes both checks; any other character 17, with character 18
        /// recomputed for it, fails the organisation code's check.
        #[test]
        fn both_checks_hold_and_character_17_is_checked(
            head in proptest::collection::vec(alphabet(), 2),
            area in proptest::collection::vec(proptest::sample::select(b"0123456789".to_vec()), 6),
            body in proptest::collection::vec(alphabet(), 8),
            other in alphabet(),
        ) {
            let first16: Vec<u8> = head.into_iter().chain(area).chain(body).collect();
            let first16 = String::from_utf8(first16).unwrap_or_default();
            let code = complete(&first16).unwrap_or_default();
            prop_assert!(Uscc::parse("uscc", &code).is_ok(), "{}", code);
            prop_assert_eq!(code.as_bytes()[16] as char, organization_check_character(&code.as_bytes()[8..16]).unwrap_or('?'));
            if other != code.as_bytes()[16] {
                let first17 = format!("{first16}{}", other as char);
                let last = check_character(first17.as_bytes()).unwrap_or('?');
                let wrong = format!("{first17}{last}");
                let err = Uscc::parse("uscc", &wrong).err();
                prop_assert_eq!(err.map(|e| e.code), Some("organization_check_character".to_owned()));
            }
        }
    }
}
