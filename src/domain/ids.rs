//! Public identifiers: a short prefix naming the kind of object, then a UUIDv7 in hex.
//!
//! They are opaque to clients and reveal no counts (unlike serial numbers), while their
//! time-ordered bits keep index inserts local and give lists a stable order for cursors.

/// A new identifier for an object of the kind named by `prefix` (e.g. `org`, `usr`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A new identifier whose time part is `at` (UUIDv7 from that instant), for objects whose id
/// must sort with a time they carry (a lot's reception).
pub fn new_id_at(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos());
    format!("{prefix}_{}", uuid::Uuid::new_v7(ts).simple())
}

/// The smallest identifier of this kind that can be allocated at `at` or later: ids sort by
/// their allocation time, so a time window is an id range.
pub fn lower_bound(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    format!("{prefix}_{:012x}", millis & 0xffff_ffff_ffff)
}

/// Declares a newtype over the identifier of one kind of object, so that ids of different kinds
/// cannot be swapped: its prefix, constructors of new ids, serde as a plain string, the OpenAPI
/// schema of a plain string, and diesel over `Text` on every backend (rows hold it, filters take
/// it). Any string converts into it: an id read from a URL is looked up as it is, and an
/// unknown one is simply not found.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        // An id is allocated, never defaulted: `new` is deliberately not `Default`.
        #[allow(clippy::new_without_default)]
        impl $name {
            /// The prefix of this kind of id.
            pub const PREFIX: &'static str = $prefix;

            /// A new id, later in order than every id allocated before it.
            pub fn new() -> Self {
                Self(new_id(Self::PREFIX))
            }

            /// A new id whose time part is `at` (see [`new_id_at`]).
            pub fn new_at(at: chrono::DateTime<chrono::Utc>) -> Self {
                Self(new_id_at(Self::PREFIX, at))
            }

            /// The smallest id of this kind that can be allocated at `at` or later (see
            /// [`lower_bound`]).
            pub fn lower_bound(at: chrono::DateTime<chrono::Utc>) -> String {
                lower_bound(Self::PREFIX, at)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {}

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
                    self.0.as_str(),
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
                <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                    bytes,
                )
                .map(Self)
            }
        }
    };
}

id_type!(
    /// The id of a lot: one weighing of one waste in its containers (`lot_…`).
    LotId,
    "lot"
);

id_type!(
    /// The id of a pickup request: lots a park asks the disposer to collect (`pkr_…`).
    PickupRequestId,
    "pkr"
);

id_type!(
    /// The id of a transfer manifest (`man_…`).
    ManifestId,
    "man"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_ordered_by_creation() {
        let a = new_id("org");
        let b = new_id("org");
        let hex = a.strip_prefix("org_").unwrap_or_default();
        assert!(
            hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()),
            "{a}"
        );
        assert!(a < b, "{a} !< {b}");
        let before = lower_bound(
            "org",
            chrono::Utc::now() - chrono::Duration::milliseconds(1),
        );
        let after = lower_bound("org", chrono::Utc::now() + chrono::Duration::seconds(1));
        let id = new_id("org");
        assert!(before <= id && id < after, "{before} <= {id} < {after}");
        let at = chrono::Utc::now() - chrono::Duration::days(3);
        let dated = new_id_at("lot", at);
        assert!(
            lower_bound("lot", at) <= dated
                && dated < lower_bound("lot", at + chrono::Duration::milliseconds(1))
        );
    }

    #[test]
    fn typed_ids_carry_their_prefix() {
        assert_eq!(
            (LotId::PREFIX, PickupRequestId::PREFIX, ManifestId::PREFIX),
            ("lot", "pkr", "man")
        );
        for id in [
            LotId::new().into_string(),
            PickupRequestId::new().into_string(),
            ManifestId::new().into_string(),
        ] {
            let (prefix, hex) = id.split_once('_').unwrap_or_default();
            assert!(["lot", "pkr", "man"].contains(&prefix), "{id}");
            assert!(
                hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()),
                "{id}"
            );
        }
        let at = chrono::Utc::now() - chrono::Duration::days(3);
        let dated = LotId::new_at(at);
        assert!(dated.as_str().starts_with("lot_"), "{dated}");
        assert!(
            LotId::lower_bound(at).as_str() <= dated.as_str()
                && dated.as_str()
                    < LotId::lower_bound(at + chrono::Duration::milliseconds(1)).as_str()
        );
    }

    #[test]
    fn typed_ids_are_ordered_by_creation() {
        let ids: Vec<ManifestId> = (0..100).map(|_| ManifestId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        let earlier = PickupRequestId::new_at(chrono::Utc::now() - chrono::Duration::seconds(5));
        assert!(earlier < PickupRequestId::new());
    }

    #[test]
    fn typed_ids_are_plain_strings_in_json() {
        let id = LotId::new();
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{id}\""));
        let back: LotId = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, id);
        // Any string is an id as far as parsing goes: an unknown one is simply not found.
        let odd: ManifestId =
            serde_json::from_str("\"not an id\"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(odd.as_str(), "not an id");
        assert_eq!(odd.to_string(), "not an id");
        assert!(serde_json::from_str::<PickupRequestId>("42").is_err());
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Holder {
            lot_id: LotId,
            request_id: Option<PickupRequestId>,
        }
        let holder = Holder {
            lot_id: id.clone(),
            request_id: None,
        };
        let value = serde_json::to_value(&holder).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::json!({ "lot_id": id.as_str(), "request_id": null })
        );
        assert_eq!(serde_json::from_value::<Holder>(value).ok(), Some(holder));
    }

    #[test]
    fn typed_ids_are_text_in_the_database() {
        use diesel::prelude::*;
        use diesel::sql_types::Text;
        let sqlite =
            diesel::SqliteConnection::establish(":memory:").unwrap_or_else(|e| panic!("{e}"));
        let mut conn = crate::db::DbConn::Sqlite(sqlite);
        let id = LotId::new();
        let back: LotId = diesel::select(id.clone().into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, id);
        let text: String = diesel::select((&id).into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text, id.as_str());
        let typed: Option<ManifestId> =
            diesel::select(Some("man_1").into_sql::<diesel::sql_types::Nullable<Text>>())
                .get_result(&mut conn)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(typed, Some(ManifestId::from("man_1")));
    }

    #[test]
    fn typed_ids_have_the_schema_of_a_string() {
        use utoipa::PartialSchema;
        let schema = |s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            serde_json::to_value(s).unwrap_or_default()
        };
        assert_eq!(schema(LotId::schema()), schema(String::schema()));
        assert_eq!(schema(ManifestId::schema()), schema(String::schema()));
    }
}
