//! Organisations, roles and the rules that bind them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// The kinds of organisation that take part in the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// The operator of this deployment.
    Platform,
    /// An industrial park's management office, which runs the shared warehouse.
    Park,
    /// A waste-producing enterprise in a park.
    Enterprise,
    /// A licensed hazardous-waste disposal company.
    DisposalCompany,
    /// A road carrier transporting waste for a disposer.
    Carrier,
    /// An environment bureau (生态环境局) supervising a jurisdiction.
    EnvironmentBureau,
}

/// Every user has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    ParkOffice,
    EnterpriseUser,
    DisposerDispatcher,
    Driver,
    Inspector,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
        }

        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(<$ty>::$variant),)+
                    _ => Err(format!(
                        "must be one of: {}",
                        <$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(OrganizationKind {
    Platform => "platform",
    Park => "park",
    Enterprise => "enterprise",
    DisposalCompany => "disposal_company",
    Carrier => "carrier",
    EnvironmentBureau => "environment_bureau",
});

text_enum!(Role {
    PlatformAdmin => "platform_admin",
    ParkOffice => "park_office",
    EnterpriseUser => "enterprise_user",
    DisposerDispatcher => "disposer_dispatcher",
    Driver => "driver",
    Inspector => "inspector",
});

impl Role {
    /// Whether a user of this role may belong to an organisation of that kind. Drivers work for
    /// a carrier or directly for a disposal company; every other role has one kind.
    pub fn fits(self, kind: OrganizationKind) -> bool {
        use OrganizationKind as K;
        matches!(
            (self, kind),
            (Role::PlatformAdmin, K::Platform)
                | (Role::ParkOffice, K::Park)
                | (Role::EnterpriseUser, K::Enterprise)
                | (Role::DisposerDispatcher, K::DisposalCompany)
                | (Role::Driver, K::Carrier | K::DisposalCompany)
                | (Role::Inspector, K::EnvironmentBureau)
        )
    }
}

pub const USERNAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;

/// A login name: 3 to 64 characters of `a-z 0-9 . _ -` (and `@`), compared case-insensitively
/// (it is stored lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let len = value.chars().count();
        if !(3..=USERNAME_MAX).contains(&len) {
            return Err(FieldError::new(
                field,
                "invalid_length",
                format!("must be 3 to {USERNAME_MAX} characters"),
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(FieldError::new(
                field,
                "invalid",
                "may contain only letters, digits and . _ - @",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as chosen by a person: long enough, hard enough to guess, and bounded so that
/// hashing stays cheap.
pub struct NewPassword(String);

/// The least zxcvbn score a new password needs: 3, "safely unguessable" (about 10^8 guesses or
/// more), which also refuses common passwords, keyboard walks, repeats and dates.
const PASSWORD_MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;
/// Characters of a password the estimator reads (its work grows with the length; beyond this
/// a password's strength is settled by its first characters).
const PASSWORD_ESTIMATED_CHARS: usize = 100;

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < PASSWORD_MIN {
            return Err(FieldError::new(
                field,
                "too_short",
                format!("must be at least {PASSWORD_MIN} characters"),
            ));
        }
        if len > PASSWORD_MAX {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("must be at most {PASSWORD_MAX} characters"),
            ));
        }
        let estimated: String = raw.chars().take(PASSWORD_ESTIMATED_CHARS).collect();
        let estimate = zxcvbn::zxcvbn(&estimated, &["wastetrack", "password"]);
        if estimate.score() < PASSWORD_MIN_SCORE {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "it is too easy to guess".to_owned());
            return Err(FieldError::new(
                field,
                "too_weak",
                format!("is too easy to guess ({hint}); use a longer phrase of uncommon words"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "password1234",
            "qwertyuiop12",
            "1234567890",
            "iloveyou123",
            "aaaaaaaaaaaa",
            "wastetrack2026",
            "P@ssw0rd2026",
            "abcabcabcabcabcabc",
            &"ab".repeat(128),
        ] {
            let refused = NewPassword::parse("password", weak).err();
            assert_eq!(
                refused.map(|e| e.code),
                Some("too_weak".to_owned()),
                "{weak}"
            );
        }
        for strong in [
            "correct horse battery",
            "a longer passphrase 2026",
            "tiger marble quietly 47",
            "demo-password-2026",
        ] {
            assert!(NewPassword::parse("password", strong).is_ok(), "{strong}");
        }
        // Too short is said before too weak.
        let short = NewPassword::parse("password", "abc").err();
        assert_eq!(short.map(|e| e.code), Some("too_short".to_owned()));
    }

    #[test]
    fn roles_fit_their_organisation_kinds() {
        assert!(Role::Driver.fits(OrganizationKind::Carrier));
        assert!(Role::Driver.fits(OrganizationKind::DisposalCompany));
        assert!(!Role::Driver.fits(OrganizationKind::Park));
        assert!(!Role::Inspector.fits(OrganizationKind::Enterprise));
        for role in Role::ALL {
            assert!(
                OrganizationKind::ALL.iter().any(|k| role.fits(*k)),
                "{role} fits no kind"
            );
        }
    }

    #[test]
    fn text_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(*role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_are_normalised_and_bounded() {
        assert_eq!(
            Username::parse("u", " Alice.W ")
                .map(|u| u.0)
                .ok()
                .as_deref(),
            Some("alice.w")
        );
        assert!(Username::parse("u", "ab").is_err());
        assert!(Username::parse("u", "has space").is_err());
        assert!(Username::parse("u", &"a".repeat(65)).is_err());
    }
}
