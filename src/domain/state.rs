//! States: the fixed sets of values a status column holds (a lot's, a pickup request's, a
//! manifest's …), as enums rather than texts.
//!
//! [`states!`] declares one: each value with the text it is stored and served as. The enum gets
//! [`State`] (every value, its text, parsing the text back), `Display`, serde and utoipa under
//! the same texts (so the OpenAPI document lists them), and diesel's mapping to a `Text`
//! column on either backend: row structs hold the enum and filters take it
//! (`lots::status.eq(LotStatus::Stored)`). A text read from the database that names no value
//! is a deserialization error, not a panic.

use std::fmt;

/// A fixed set of values stored as texts.
pub trait State: Copy + Eq + 'static {
    /// The name of the set, for errors (`LotStatus`).
    const NAME: &'static str;
    /// Every value, in the order of their declaration.
    const ALL: &'static [Self];
    /// Every value's text, in the same order.
    const NAMES: &'static [&'static str];

    /// The text the value is stored and served as.
    fn as_str(self) -> &'static str;

    /// The value a stored text names; `None` when it names none.
    fn parse_stored(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// A text that names no value of a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState {
    pub state: &'static str,
    pub text: String,
}

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a {}", self.text, self.state)
    }
}

impl std::error::Error for UnknownState {}

/// Parses a stored text, or says which state it is not.
pub fn parse<S: State>(s: &str) -> Result<S, UnknownState> {
    S::parse_stored(s).ok_or_else(|| UnknownState {
        state: S::NAME,
        text: s.to_owned(),
    })
}

/// Declares a state enum: its values, each with its text.
///
/// ```ignore
/// states! {
///     /// Where a lot is.
///     pub enum LotStatus {
///         Stored => "stored",
///         Collected => "collected",
///     }
/// }
/// ```
macro_rules! states {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident => $text:tt
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $crate::domain::state::State for $name {
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl $name {
            /// Every value, in the order of their declaration.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text the value is stored and served as.
            pub fn as_str(self) -> &'static str {
                <Self as $crate::domain::state::State>::as_str(self)
            }

            /// The value a stored text names; `None` when it names none.
            pub fn parse_stored(s: &str) -> Option<Self> {
                <Self as $crate::domain::state::State>::parse_stored(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::state::UnknownState;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::domain::state::parse(s)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Ok($crate::domain::state::parse::<Self>(&text)?)
            }
        }
    };
}

pub(crate) use states;

#[cfg(test)]
mod tests {
    use super::*;

    states! {
        /// A state of the tests.
        pub enum Light {
            Green => "green",
            InTransit => "in_transit",
        }
    }

    #[test]
    fn the_macro_gives_every_value_its_text_and_back() {
        assert_eq!(Light::ALL, &[Light::Green, Light::InTransit]);
        assert_eq!(<Light as State>::NAMES, &["green", "in_transit"]);
        for light in Light::ALL {
            assert_eq!(Light::parse_stored(light.as_str()), Some(*light));
            assert_eq!(light.to_string(), light.as_str());
            assert_eq!(light.as_str().parse::<Light>(), Ok(*light));
            assert_eq!(
                serde_json::to_value(light).ok(),
                Some(serde_json::Value::from(light.as_str()))
            );
            assert_eq!(
                serde_json::from_value::<Light>(light.as_str().into()).ok(),
                Some(*light)
            );
        }
        for text in ["", "Green", "in-transit", "red", " green"] {
            assert_eq!(Light::parse_stored(text), None, "{text}");
            assert_eq!(
                text.parse::<Light>().map_err(|e| e.to_string()),
                Err(format!("{text:?} is not a Light"))
            );
            assert!(serde_json::from_value::<Light>(text.into()).is_err());
        }
    }

    /// Every state of the service: its texts are distinct, and each parses back to its value.
    pub(crate) fn round_trips<S: State + std::fmt::Debug>() {
        assert_eq!(S::ALL.len(), S::NAMES.len(), "{}", S::NAME);
        for (value, text) in S::ALL.iter().zip(S::NAMES) {
            assert_eq!(value.as_str(), *text);
            assert_eq!(S::parse_stored(text), Some(*value));
        }
        let mut names = S::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), S::NAMES.len(), "{}", S::NAME);
        for text in ["", "unknown", "STORED", "open "] {
            assert_eq!(S::parse_stored(text), None, "{} {text}", S::NAME);
            assert!(parse::<S>(text).is_err());
        }
    }

    #[test]
    fn every_state_round_trips() {
        use crate::domain::lot::LotStatus;
        use crate::domain::manifest::{CaseStatus, ManifestStatus, RevisionStatus};
        use crate::domain::patrol::ThreadStatus;
        use crate::domain::pickup::RequestStatus;
        use crate::domain::webhook::{DeliveryStatus, EndpointStatus};
        round_trips::<Light>();
        round_trips::<LotStatus>();
        round_trips::<RequestStatus>();
        round_trips::<ManifestStatus>();
        round_trips::<CaseStatus>();
        round_trips::<RevisionStatus>();
        round_trips::<DeliveryStatus>();
        round_trips::<EndpointStatus>();
        round_trips::<ThreadStatus>();
    }

    #[test]
    fn the_stored_texts_are_those_of_the_schema() {
        use crate::domain::lot::LotStatus;
        use crate::domain::manifest::{CaseStatus, ManifestStatus, RevisionStatus};
        use crate::domain::patrol::ThreadStatus;
        use crate::domain::pickup::RequestStatus;
        use crate::domain::webhook::{DeliveryStatus, EndpointStatus};
        assert_eq!(
            <LotStatus as State>::NAMES,
            ["stored", "declared", "voided", "collected"]
        );
        assert_eq!(
            <RequestStatus as State>::NAMES,
            [
                "requested",
                "accepted",
                "scheduled",
                "collected",
                "declined",
                "cancelled"
            ]
        );
        assert_eq!(
            RequestStatus::OPEN,
            [
                RequestStatus::Requested,
                RequestStatus::Accepted,
                RequestStatus::Scheduled
            ]
        );
        assert_eq!(
            <ManifestStatus as State>::NAMES,
            ["draft", "confirmed", "in_transit", "received", "completed"]
        );
        assert_eq!(<CaseStatus as State>::NAMES, ["open", "resolved"]);
        assert_eq!(
            <RevisionStatus as State>::NAMES,
            ["pending", "applied", "rejected"]
        );
        assert_eq!(
            <DeliveryStatus as State>::NAMES,
            ["pending", "delivered", "failed"]
        );
        assert_eq!(<EndpointStatus as State>::NAMES, ["active", "disabled"]);
        assert_eq!(
            <ThreadStatus as State>::NAMES,
            ["open", "answered", "closed"]
        );
    }
}
