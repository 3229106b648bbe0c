//! The constraints the server checks, stated in the schemas: the values of kind fields, the
//! patterns of codes, the ranges of numbers, the lengths of texts. (Statuses are typed: each
//! is a schema of its own, from [`crate::domain::state`], that lists its values.)
//!
//! Most are stated by field name wherever the field appears (a `waste_code` is a waste code in
//! every schema, a `period` a month), so that new schemas get them without being listed here;
//! the values of a field that means different things in different schemas (`kind`) are
//! listed by schema. Values come from the constant the server checks against where there is
//! one (ranges, lengths, provinces, message types, time zones); the patterns of
//! codes, plates, phones and URLs restate the parsers' rules, which the contract test
//! (tests/contract) holds to the server.
//!
//! Texts the server trims have their length in the pattern, since it is counted after
//! trimming; they must hold a character besides white space unless the server takes blank as
//! left out.
//!
//! What JSON Schema cannot say (check characters, references to other objects, dates relative
//! to today) is said in the field's description, by the field's own doc comment; the contract
//! test's hooks (tests/contract/hooks.py) keep or excuse those rules.

use std::collections::BTreeSet;

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::lot::{MAX_GROSS_GRAMS, MAX_LOT_GRAMS};
use crate::domain::units::{MAX_FEN_PER_TONNE, MAX_GRAMS};

/// A full waste code: `900-249-08` (hazardous, category HW08) or `900-003-S59` (general,
/// category S59); the category must exist.
pub const WASTE_CODE: &str =
    "^[0-9]{3}-[0-9]{3}-(0[1-9]|[1-3][0-9]|40|4[5-9]|50|S(0[1-9]|[1-9][0-9]))$";
/// A category: `HW08` (hazardous: HW01 to HW50 but HW41 to HW44) or `S59` (general: S01 to
/// S99).
pub const CATEGORY: &str = "^(HW(0[1-9]|[1-3][0-9]|40|4[5-9]|50)|S(0[1-9]|[1-9][0-9]))$";
/// What a price or threshold applies to: a category or a full code.
pub const CATALOG_REF: &str = "^(HW(0[1-9]|[1-3][0-9]|40|4[5-9]|50)|S(0[1-9]|[1-9][0-9])|[0-9]{3}-[0-9]{3}-(0[1-9]|[1-3][0-9]|40|4[5-9]|50|S(0[1-9]|[1-9][0-9])))$";
/// What a licence covers: a hazardous category or code (general waste needs no licence).
pub const HAZARDOUS_REF: &str =
    "^(HW(0[1-9]|[1-3][0-9]|40|4[5-9]|50)|[0-9]{3}-[0-9]{3}-(0[1-9]|[1-3][0-9]|40|4[5-9]|50))$";
/// A month, `YYYY-MM`.
pub const PERIOD: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// A month of the figures, `YYYY-MM`, of the years 1970 to 9998 (the server counts months
/// after and before it).
pub const FIGURES_PERIOD: &str =
    "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])$";
/// A unified social credit code (GB 32100): 18 characters of its alphabet (no I, O, S, V, Z),
/// the 3rd to the 8th the digits of an area code.
pub const USCC: &str = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$";
/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY: &str = "^[!-~]{1,255}$";
/// A login name as registered: 3 to 64 letters, digits and `. _ - @`.
pub const USERNAME: &str = "^[A-Za-z0-9._@-]{3,64}$";
/// A telephone number: digits, perhaps after a `+`, in one group of 5 to 19 or in two or
/// three groups split by a space or `-` (13800138000, 0755-86001234), 20 characters at most.
/// (The server also takes parentheses and other groupings of 5 digits or more.)
pub const PHONE: &str = "^[+]?([0-9]{5,19}|[0-9]{2,6}([ -][0-9]{3,8}){1,2})$";
/// A vehicle plate of mainland China: a province character, a letter, 5 or 6 letters or digits.
pub const PLATE: &str = "^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Z][0-9A-Z挂学警港澳]{5,6}$";

/// White space as the server trims it (Rust's `char::is_whitespace`), for a character class.
macro_rules! space {
    () => {
        "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
    };
}
/// Control characters (Rust's `char::is_control`), for a character class.
macro_rules! control {
    () => {
        "\\u0000-\\u001f\\u007f-\\u009f"
    };
}

/// A text the server trims and then refuses if it is empty (unless `blank` allows it: then it
/// is taken as left out), longer than `max` characters or holding a control character: white
/// space (control or not) may surround it, and none but the white space outside is a control.
/// The length is stated by the pattern, since it is counted after trimming.
pub fn text(max: Option<usize>, blank: bool) -> String {
    let (space, control) = (space!(), control!());
    let edge = format!("[^{control}{space}]");
    let middle = match max {
        Some(max) => format!("[^{control}]{{0,{}}}", max.saturating_sub(2)),
        None => format!("[^{control}]*"),
    };
    let inner = if max == Some(1) {
        edge
    } else {
        format!("{edge}({middle}{edge})?")
    };
    let inner = if blank { format!("({inner})?") } else { inner };
    format!("^[{space}]*{inner}[{space}]*$")
}

/// A GB/T 2260 region code: six digits, the first two a province's.
pub fn region_code() -> String {
    format!(
        "^({})[0-9]{{4}}$",
        crate::domain::region::PROVINCES.join("|")
    )
}

/// An official manifest number: 14 digits, a year from 2022 to 2099, a province's code, the
/// city's 2 digits and a serial that is not 000000.
pub fn official_number() -> String {
    format!(
        "^20(2[2-9]|[3-9][0-9])({})[0-9]{{2}}([1-9][0-9]{{5}}|0[1-9][0-9]{{4}}|00[1-9][0-9]{{3}}|000[1-9][0-9]{{2}}|0000[1-9][0-9]|00000[1-9])$",
        crate::domain::region::PROVINCES.join("|")
    )
}

/// A jurisdiction: a region-code prefix of 2, 4 or 6 digits, the first two a province's.
pub fn jurisdiction() -> String {
    format!(
        "^({})([0-9]{{2}}){{0,2}}$",
        crate::domain::region::PROVINCES.join("|")
    )
}

/// An absolute http or https URL naming a host (whether the host may be reached is the
/// server's to say).
pub const URL: &str = "^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,4})?(/[!-~]*)?$";

/// The pattern of a field or query parameter, by name, wherever it appears.
fn named_pattern(name: &str) -> Option<String> {
    match name {
        "region_code" => Some(region_code()),
        "jurisdiction" => Some(jurisdiction()),
        "official_number" => Some(official_number()),
        _ => PATTERNS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| (*p).to_owned()),
    }
}

/// The inbox's `type` filter: the beginning of message types (`pickup.`, `alarm.storage_age`),
/// letters, dots and underscores, 1 to 64 of them, with white space around.
fn message_type_prefix() -> String {
    let space = space!();
    format!("^[{space}]*[A-Za-z._]{{1,64}}[{space}]*$")
}

/// Strings of request bodies the server takes as they come, not trimmed: passwords (any
/// character counts) and WeChat codes (no control character), by name, with their pattern.
const RAW: &[(&str, Option<&str>)] = &[
    ("password", None),
    ("current_password", None),
    ("new_password", None),
    ("code", Some(concat!("^[^", control!(), "]*$"))),
];

/// Texts that may be blank (taken as left out), by schema and field; every other free text
/// of a request body must hold something besides white space.
const BLANK_ALLOWED: &[(&str, &str)] = &[
    ("WeighInRequest", "note"),
    ("WeighInRequest", "main_components"),
    ("WeighInRequest", "harmful_components"),
    ("WeighInRequest", "precautions"),
    ("DeclarationRequest", "note"),
    ("DeclarationRequest", "main_components"),
    ("RecordPatrolRequest", "note"),
    ("CloseRequest", "note"),
    ("ProfileRequest", "person_in_charge"),
    ("ProfileRequest", "note"),
    ("HaveRecordRequest", "note"),
];

/// Patterns of request-body strings with a shape of their own, by schema (`""`: any) and field.
const SHAPES: &[(&str, &str, &str)] = &[
    ("CreateUserRequest", "username", USERNAME),
    ("", "contact_phone", PHONE),
    ("ProfileRequest", "person_phone", PHONE),
    ("", "plate", PLATE),
    ("", "url", URL),
];

/// New passwords, by schema and field: at least `PASSWORD_MIN` characters (and hard enough to
/// guess, which no schema can say).
const NEW_PASSWORDS: &[(&str, &str)] = &[
    ("CreateUserRequest", "password"),
    ("UpdateUserRequest", "password"),
    ("ChangePasswordRequest", "new_password"),
];

/// Items of request-body arrays, by name: a pattern, or the values allowed.
const ITEM_PATTERNS: &[(&str, &str)] = &[
    ("categories", CATEGORY),
    ("scope", HAZARDOUS_REF),
    ("permit_scope", HAZARDOUS_REF),
];

const ROUTES: &[&str] = crate::lots::routes::LOT_ROUTES;
const KINDS: &[&str] = &["hazardous", "general"];

/// Values of string fields, by schema and field.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "AgeingBucket",
        "bucket",
        &crate::domain::billing::AGEING_BUCKETS,
    ),
    (
        "DeliveryView",
        "type",
        crate::notify::service::MESSAGE_TYPES,
    ),
    (
        "EventView",
        "kind",
        &["recorded", "declared", "corrected", "voided"],
    ),
    ("Anomaly", "kind", crate::inspection::service::ANOMALY_KINDS),
    (
        "ProfileWasteRequest",
        "handling",
        crate::profiles::service::HANDLINGS,
    ),
    (
        "ProfileWaste",
        "handling",
        crate::profiles::service::HANDLINGS,
    ),
    ("HaveStatus", "have", crate::profiles::haves::HAVES),
    ("HaveStatus", "source", &["data", "record", "none"]),
    ("TrendFigures", "by", crate::profiles::trends::TREND_KEYS),
    ("Expiration", "kind", &["licence", "contract"]),
    ("LotView", "route", ROUTES),
    ("LotView", "weight_source", &["scale", "estimate"]),
    ("ManifestSummary", "kind", KINDS),
    ("ManifestView", "kind", KINDS),
    (
        "ManifestView",
        "consignor_type",
        &["park_warehouse", "enterprise"],
    ),
    (
        "ManifestView",
        "decision",
        &["accepted", "partially_refused", "refused"],
    ),
    ("MessageView", "type", crate::notify::service::MESSAGE_TYPES),
    ("RequestLot", "weight_source", &["scale", "estimate"]),
    ("RequestView", "route", ROUTES),
    ("TokenResponse", "token_type", &["Bearer"]),
];

/// Values of query parameters, by path and parameter.
const QUERY_ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "/api/v1/anomalies",
        "kind",
        crate::inspection::service::ANOMALY_KINDS,
    ),
    (
        "/api/v1/parks/{id}/five-haves",
        "sort",
        crate::profiles::haves::SORTS,
    ),
    (
        "/api/v1/parks/{id}/five-haves",
        "missing",
        crate::profiles::haves::HAVES,
    ),
    ("/api/v1/lots", "route", ROUTES),
    (
        "/api/v1/lots/{id}/label.svg",
        "size",
        &["100", "150", "200"],
    ),
    (
        "/api/v1/lots/{id}/label.html",
        "size",
        &["100", "150", "200"],
    ),
];

/// Patterns of string fields and query parameters, by name, wherever they appear.
const PATTERNS: &[(&str, &str)] = &[
    ("waste_code", WASTE_CODE),
    ("category", CATEGORY),
    ("target", CATALOG_REF),
    ("period", PERIOD),
    ("uscc", USCC),
];

/// What a pattern cannot say, added to the field's description wherever the field appears.
const NOTES: &[(&str, &str)] = &[
    (
        "uscc",
        "A unified social credit code (GB 32100): both check characters (the 17th, of the \
         organisation code, and the 18th) must be right; letters may be sent in lower case.",
    ),
    (
        "waste_code",
        "The category must exist (HW01–HW50 but HW41–HW44, S01–S99); in a request, the code \
         must be in the catalog.",
    ),
    (
        "region_code",
        "The first two digits must name a province (GB/T 2260).",
    ),
];

/// Ranges of integer fields of request bodies, by name: the server's bounds.
const RANGES: &[(&str, i64, i64)] = &[
    ("gross_grams", 1, MAX_GROSS_GRAMS),
    ("tare_grams", 0, MAX_GROSS_GRAMS - 1),
    ("net_grams", 1, MAX_LOT_GRAMS),
    ("estimated_grams", 1, MAX_LOT_GRAMS),
    ("capacity_grams", 1, MAX_GRAMS),
    ("annual_capacity_grams", 1, MAX_GRAMS),
    ("permit_annual_capacity_grams", 1, MAX_GRAMS),
    ("threshold_grams", 1, MAX_GRAMS),
    ("fen_per_tonne", -MAX_FEN_PER_TONNE, MAX_FEN_PER_TONNE),
    ("container_count", 1, 10_000),
    ("container_litres", 1, 100_000),
    // A refused lot's grams: at most the lot's inbound grams (checked against the lot).
    ("grams", 1, MAX_LOT_GRAMS),
    ("pickup_zone_percent", 1, 100),
    (
        "max_storage_days",
        1,
        crate::registry::contracts::service::MAX_STORAGE_DAYS as i64,
    ),
    ("keep_previous_hours", 0, 168),
    ("grams_per_month", 0, MAX_GRAMS),
];

/// Longest texts of request bodies, by name, in characters (after trimming).
const LENGTHS: &[(&str, usize)] = &[
    ("name", crate::registry::parks::routes::NAME_MAX),
    ("display_name", crate::registry::parks::routes::NAME_MAX),
    (
        "issuing_authority",
        crate::registry::parks::routes::NAME_MAX,
    ),
    ("address", crate::registry::parks::routes::ADDRESS_MAX),
    ("contact_name", crate::registry::parks::routes::PERSON_MAX),
    (
        "person_in_charge",
        crate::registry::parks::routes::PERSON_MAX,
    ),
    ("location", crate::profiles::service::LOCATION_MAX),
    ("description", 500),
    ("note", 500),
    ("reason", 500),
    ("resolution", 500),
    ("username", crate::domain::identity::USERNAME_MAX),
    ("password", crate::domain::identity::PASSWORD_MAX),
    ("current_password", crate::domain::identity::PASSWORD_MAX),
    ("new_password", crate::domain::identity::PASSWORD_MAX),
    ("transport_permit_number", REFERENCE_MAX),
    ("dangerous_goods_permit_number", REFERENCE_MAX),
    ("collection_permit_number", REFERENCE_MAX),
    ("number", REFERENCE_MAX),
    ("treatment", 200),
    ("reference", 200),
    ("url", 2000),
    ("main_components", 500),
    ("harmful_components", 500),
    ("precautions", 500),
    ("packaging", 500),
    ("emergency_measures", 500),
    ("source", 200),
    ("up_to", ID_MAX),
    ("item", crate::patrols::routes::ITEM_MAX),
    ("subject", crate::patrols::routes::SUBJECT_MAX),
    ("text", crate::patrols::routes::TEXT_MAX),
];

/// Longest permit, licence and contract numbers.
const REFERENCE_MAX: usize = 64;
/// Longest ids (every field named `…_id`).
const ID_MAX: usize = 64;

/// Query parameters' ranges, by name, wherever they appear.
const QUERY_RANGES: &[(&str, i64, i64)] = &[
    ("within_days", 1, 365),
    ("months", 1, 24),
    ("container", 1, 10_000),
];

pub fn document(doc: &mut OpenApi) {
    let requests = request_schemas(doc);
    if let Some(components) = doc.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            let RefOr::T(Schema::Object(object)) = schema else {
                continue;
            };
            let request = requests.contains(name);
            let required: BTreeSet<String> = object.required.iter().cloned().collect();
            for (field, property) in object.properties.iter_mut() {
                match property {
                    RefOr::T(Schema::Object(property)) => {
                        constrain(name, field, property, request, required.contains(field));
                    }
                    RefOr::T(Schema::Array(array)) if request => {
                        constrain_items(field, array);
                        if name == "AddFindingsRequest" && field == "findings" {
                            array.min_items = Some(1);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in super::operations_mut(item) {
            for param in op.parameters.iter_mut().flatten() {
                if param.parameter_in == ParameterIn::Query
                    && let Some(replacement) = query_schema(path, &param.name)
                {
                    param.schema = Some(replacement);
                }
                // A have of the five, named in the path.
                if param.parameter_in == ParameterIn::Path
                    && path.contains("/five-haves/")
                    && param.name == "have"
                {
                    param.schema = serde_json::from_value(serde_json::json!({
                        "type": "string",
                        "enum": crate::profiles::haves::HAVES,
                    }))
                    .ok();
                }
                if param.parameter_in == ParameterIn::Query
                    && path.contains("/ledger")
                    && param.name == "kind"
                {
                    param.required = utoipa::openapi::Required::True;
                }
                let Some(RefOr::T(Schema::Object(schema))) = param.schema.as_mut() else {
                    continue;
                };
                match param.parameter_in {
                    ParameterIn::Header if param.name.eq_ignore_ascii_case("Idempotency-Key") => {
                        schema.schema_type = utoipa::openapi::Type::String.into();
                        schema.pattern = Some(IDEMPOTENCY_KEY.to_owned());
                        schema.min_length = Some(1);
                        schema.max_length = Some(255);
                    }
                    ParameterIn::Path if param.name == "code" => {
                        schema.pattern = Some(WASTE_CODE.to_owned());
                    }
                    ParameterIn::Query => {
                        if let Some((.., values)) = QUERY_ENUMS.iter().find(|(p, n, _)| {
                            *n == param.name && (p == path || is_export_of(path, p))
                        }) {
                            schema.enum_values = Some(values.iter().map(|v| (*v).into()).collect());
                        }
                        if let Some(pattern) = named_pattern(&param.name) {
                            schema.pattern = Some(pattern);
                        }
                        if param.name == "code" {
                            schema.pattern = Some(WASTE_CODE.to_owned());
                        }
                        if let Some((_, min, max)) =
                            QUERY_RANGES.iter().find(|(n, ..)| *n == param.name)
                        {
                            schema.minimum = Some((*min).into());
                            schema.maximum = Some((*max).into());
                        }
                        // The manifests' and the anomalies' `park_id` is checked as a text;
                        // elsewhere it only narrows the list (no park: no item).
                        let checked_park = param.name == "park_id"
                            && (path.contains("/manifests") || path.ends_with("/anomalies"));
                        if let Some((_, max, blank)) = QUERY_TEXTS
                            .iter()
                            .find(|(n, ..)| *n == param.name && (*n != "park_id" || checked_park))
                        {
                            if !blank {
                                schema.min_length = Some(1);
                            }
                            schema.pattern = Some(text(Some(*max), *blank));
                        }
                        if param.name == "type" && path.ends_with("/inbox") {
                            schema.min_length = Some(1);
                            schema.pattern = Some(message_type_prefix());
                        }
                        if param.name == "cursor" {
                            // Opaque: only its emptiness is refused by its shape.
                            schema.min_length = Some(1);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Whether `path` is one of the exports (`…/export.csv`, `…/export.xlsx`) of the list `list`,
/// which take the list's filters.
fn is_export_of(path: &str, list: &str) -> bool {
    path.strip_prefix(list)
        .is_some_and(|rest| rest.starts_with("/export."))
}

/// Query parameters whose schema is replaced, by path and name: ledger periods, the bounds
/// of lists (a day or an instant), instants.
fn query_schema(path: &str, name: &str) -> Option<RefOr<Schema>> {
    let ledger = path.contains("/ledger");
    let value = match name {
        "kind" if ledger => serde_json::json!({"type": "string", "enum": KINDS}),
        "month" if ledger => serde_json::json!({"type": "string", "pattern": PERIOD}),
        "from" | "to" if ledger || path == "/api/v1/patrols" => {
            serde_json::json!({"type": "string", "format": "date"})
        }
        "from" | "to"
            if path.contains("/figures/")
                || path.contains("/trends")
                || path.contains("/report") =>
        {
            serde_json::json!({"type": "string", "pattern": FIGURES_PERIOD})
        }
        "by" if path.contains("/trends") => serde_json::json!({
            "type": "string",
            "enum": crate::profiles::trends::TREND_KEYS,
        }),
        "by" if path.contains("/figures/") => serde_json::json!({
            "type": "string",
            "enum": ["code", "enterprise", "disposer", "month"],
        }),
        "from" | "to" | "received_from" | "received_to" => serde_json::json!({
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
        }),
        "as_of" => serde_json::json!({"type": "string", "format": "date-time"}),
        // Given empty, these are taken as left out.
        "in_force_on" | "on" => serde_json::json!({
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "maxLength": 0},
            ],
        }),
        _ => return None,
    };
    serde_json::from_value(value).ok()
}

/// Free-text query parameters, by name, with their longest length (counted after trimming)
/// and whether blank is taken as left out (otherwise the server refuses it).
const QUERY_TEXTS: &[(&str, usize, bool)] = &[
    ("number", 32, false),
    ("party", 64, false),
    ("park_id", 64, false),
    ("edition", 32, false),
    ("q", 50, true),
    ("source", 200, false),
];

fn constrain(schema: &str, field: &str, property: &mut Object, request: bool, required: bool) {
    let is = |t: utoipa::openapi::Type| match &property.schema_type {
        utoipa::openapi::schema::SchemaType::Type(x) => *x == t,
        utoipa::openapi::schema::SchemaType::Array(types) => types.contains(&t),
        utoipa::openapi::schema::SchemaType::AnyValue => false,
    };
    let string = is(utoipa::openapi::Type::String);
    let integer = is(utoipa::openapi::Type::Integer);
    let nullable = is(utoipa::openapi::Type::Null);
    if string {
        if let Some((.., values)) = ENUMS.iter().find(|(s, f, _)| *s == schema && *f == field) {
            let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
            if nullable {
                values.push(serde_json::Value::Null);
            }
            property.enum_values = Some(values);
        }
        if property.format.is_none()
            && let Some(pattern) = named_pattern(field)
        {
            property.pattern = Some(pattern);
        }
        if let Some((_, note)) = NOTES.iter().find(|(n, _)| *n == field) {
            property.description = Some(match property.description.take() {
                Some(own) => format!("{own} {note}"),
                None => (*note).to_owned(),
            });
        }
    }
    if !request {
        return;
    }
    if integer && let Some((_, min, max)) = RANGES.iter().find(|(n, ..)| *n == field) {
        property.minimum = Some((*min).into());
        property.maximum = Some((*max).into());
    }
    if integer && field == "amount_fen" {
        // A payment is positive; a note's amount is signed (and not 0, which the description
        // says).
        let max = crate::domain::billing::MAX_FEN;
        property.minimum = Some(if schema == "PaymentRequest" { 1 } else { -max }.into());
        property.maximum = Some(max.into());
    }
    if string && field == "time_zone" && property.enum_values.is_none() {
        let mut zones: Vec<serde_json::Value> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|z| z.name().into())
            .collect();
        if nullable {
            zones.push(serde_json::Value::Null);
        }
        property.enum_values = Some(zones);
    }
    if string && property.enum_values.is_none() && property.format.is_none() {
        if required {
            property.min_length.get_or_insert(1);
        }
        if NEW_PASSWORDS.contains(&(schema, field)) {
            property.min_length = Some(crate::domain::identity::PASSWORD_MIN);
        }
        let max = LENGTHS
            .iter()
            .find(|(n, _)| *n == field)
            .map(|(_, max)| *max)
            .or_else(|| field.ends_with("_id").then_some(ID_MAX));
        if property.pattern.is_none() {
            if let Some((.., shape)) = SHAPES
                .iter()
                .find(|(s, f, _)| (s.is_empty() || *s == schema) && *f == field)
            {
                property.pattern = Some((*shape).to_owned());
                if field == "contact_phone" || field == "person_phone" {
                    property.max_length = Some(20);
                }
            } else if let Some((_, raw)) = RAW.iter().find(|(n, _)| *n == field) {
                property.pattern = raw.map(str::to_owned);
                if let Some(max) = max {
                    property.max_length = Some(max);
                }
            } else {
                // Trimmed: the length is counted inside, so it is the pattern's to state.
                property.max_length = None;
                let blank = BLANK_ALLOWED.contains(&(schema, field));
                property.pattern = Some(text(max, blank));
            }
        } else if let Some(max) = max {
            property.max_length = Some(max);
        }
    }
}

/// The items of a request body's array field.
fn constrain_items(field: &str, array: &mut utoipa::openapi::schema::Array) {
    // A patrol's checklist and findings (items of their own schemas).
    if field == "checklist" {
        array.max_items = Some(crate::patrols::routes::MAX_CHECKLIST);
    }
    if field == "findings" {
        array.max_items = Some(crate::patrols::routes::MAX_FINDINGS);
    }
    match field {
        "wastes" => array.max_items = Some(crate::profiles::service::MAX_WASTES),
        "storage_points" => array.max_items = Some(crate::profiles::service::MAX_STORAGE_POINTS),
        _ => {}
    }
    let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items else {
        return;
    };
    let RefOr::T(Schema::Object(items)) = items.as_mut() else {
        return;
    };
    if let Some((_, pattern)) = ITEM_PATTERNS.iter().find(|(n, _)| *n == field) {
        items.pattern.get_or_insert_with(|| (*pattern).to_owned());
    }
    if field == "categories" {
        array.max_items = Some(50);
    }
    if field == "container_grams" {
        // One weight per container, each 1 g to a lot's most; together the net weight (which
        // no schema can say).
        items.minimum = Some(1.into());
        items.maximum = Some(MAX_LOT_GRAMS.into());
        array.min_items = Some(1);
        array.max_items = Some(crate::domain::label::MAX_WEIGHED_CONTAINERS);
    }
    if field == "scanned_labels" {
        // The labels scanned at loading: visible ASCII (codes, tokens, URLs), bounded so that
        // the longest list fits in the body limit.
        items.pattern.get_or_insert_with(|| {
            format!("^[!-~]{{1,{}}}$", crate::pickups::loading::MAX_SCAN_LENGTH)
        });
        array.max_items = Some(crate::pickups::loading::MAX_SCANS);
    }
    if field == "holidays" || field == "workdays" {
        // A year of the working-day calendar: at most every day of it.
        array.max_items = Some(crate::calendar::routes::MAX_DAYS);
    }
    if field == "scope" {
        // A licence's scope: 1 to 100 categories or codes, none twice.
        array.min_items = Some(1);
        array.max_items = Some(100);
        array.unique_items = true;
    }
    if field == "permit_scope" {
        // A collection permit's coverage: at most 100 categories or codes, none twice; empty
        // covers every hazardous code.
        array.max_items = Some(crate::registry::parks::routes::PERMIT_SCOPE_MAX);
        array.unique_items = true;
    }
    if field == "people" {
        // The people of a patrol: 1 to 10 names.
        items.pattern = Some(text(Some(crate::patrols::routes::PERSON_MAX), false));
        array.min_items = Some(1);
        array.max_items = Some(crate::patrols::routes::MAX_PEOPLE);
    }
    if field.ends_with("_ids") {
        items
            .pattern
            .get_or_insert_with(|| text(Some(ID_MAX), false));
    }
    if field == "event_types" {
        // Message types, or `*` for all: 1 to as many as there are types.
        let types = crate::notify::service::MESSAGE_TYPES;
        items.enum_values = Some(
            std::iter::once("*")
                .chain(types.iter().copied())
                .map(Into::into)
                .collect(),
        );
        array.min_items = Some(1);
        array.max_items = Some(types.len());
    }
}

/// The schemas request bodies use, directly or through other schemas.
fn request_schemas(doc: &OpenApi) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
        {
            if let Some(body) = &op.request_body {
                let text = serde_json::to_string(body).unwrap_or_default();
                todo.extend(references(&text));
            }
        }
    }
    let schemas = doc.components.as_ref().map(|c| &c.schemas);
    while let Some(name) = todo.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.and_then(|s| s.get(&name)) {
            let text = serde_json::to_string(schema).unwrap_or_default();
            todo.extend(references(&text));
        }
    }
    found
}

fn references(json: &str) -> Vec<String> {
    const PREFIX: &str = "#/components/schemas/";
    json.split(PREFIX)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}
