//! The constraints the server checks, stated in the schemas: the values of status and kind
//! fields, the patterns of codes, the ranges of numbers, the lengths of texts.
//!
//! Most are stated by field name wherever the field appears (a `waste_code` is a waste code in
//! every schema, a `period` a month), so that new schemas get them without being listed here;
//! the values of a field that means different things in different schemas (`status`) are
//! listed by schema. Every value comes from the constant the server checks against.
//!
//! What JSON Schema cannot say (check characters, references to other objects, dates relative
//! to today) is said in the field's description, by the field's own doc comment.

use std::collections::BTreeSet;

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::lot::{MAX_GROSS_GRAMS, MAX_LOT_GRAMS};
use crate::domain::units::{MAX_FEN_PER_TONNE, MAX_GRAMS};

/// A full waste code: `900-249-08` (hazardous) or `900-003-S59` (general).
pub const WASTE_CODE: &str = "^[0-9]{3}-[0-9]{3}-S?[0-9]{2}$";
/// A category: `HW08` (hazardous) or `S59` (general).
pub const CATEGORY: &str = "^(HW[0-9]{2}|S[0-9]{2})$";
/// What a price or threshold applies to: a category or a full code.
pub const CATALOG_REF: &str = "^(HW[0-9]{2}|S[0-9]{2}|[0-9]{3}-[0-9]{3}-S?[0-9]{2})$";
/// A month, `YYYY-MM`.
pub const PERIOD: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// A GB/T 2260 region code.
pub const REGION_CODE: &str = "^[0-9]{6}$";
/// A jurisdiction: a region-code prefix of 2, 4 or 6 digits.
pub const JURISDICTION: &str = "^([0-9]{2}|[0-9]{4}|[0-9]{6})$";
/// A unified social credit code (GB 32100): 18 characters of its alphabet (no I, O, S, V, Z).
pub const USCC: &str = "^[0-9A-HJ-NPQRTUWXY]{18}$";
/// An official manifest number: 14 digits.
pub const OFFICIAL_NUMBER: &str = "^[0-9]{14}$";
/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY: &str = "^[!-~]{1,255}$";

/// A free text the server trims and then refuses if it holds a control character: white space
/// (control or not) may surround it, none but the white space outside may be a control.
pub const TEXT: &str = "^[\\t\\n\\u000b\\u000c\\r \\u0085]*[^\\u0000-\\u001f\\u007f-\\u009f]*[\\t\\n\\u000b\\u000c\\r \\u0085]*$";

/// Free texts of request bodies checked for control characters, by name.
const TEXTS: &[&str] = &[
    "name",
    "display_name",
    "issuing_authority",
    "address",
    "contact_name",
    "description",
    "note",
    "reason",
    "resolution",
    "refresh_token",
];

const LOT_STATUSES: &[&str] = crate::lots::routes::LOT_STATUSES;
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
        "status",
        &["pending", "delivered", "failed"],
    ),
    (
        "DeliveryView",
        "type",
        crate::notify::service::MESSAGE_TYPES,
    ),
    ("EndpointView", "status", &["active", "disabled"]),
    (
        "EventView",
        "kind",
        &["recorded", "declared", "corrected", "voided"],
    ),
    ("Anomaly", "kind", crate::inspection::service::ANOMALY_KINDS),
    ("Expiration", "kind", &["licence", "contract"]),
    ("LotView", "route", ROUTES),
    ("LotView", "status", LOT_STATUSES),
    ("LotView", "weight_source", &["scale", "estimate"]),
    ("ManifestSummary", "kind", KINDS),
    (
        "ManifestSummary",
        "status",
        crate::manifests::routes::STATUSES,
    ),
    ("ManifestView", "kind", KINDS),
    ("ManifestView", "status", crate::manifests::routes::STATUSES),
    ("ManifestView", "case_status", &["open", "resolved"]),
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
    ("RequestLot", "status", LOT_STATUSES),
    ("RequestLot", "weight_source", &["scale", "estimate"]),
    ("RequestView", "route", ROUTES),
    ("RequestView", "status", crate::pickups::routes::STATUSES),
    (
        "RevisionView",
        "status",
        &["pending", "applied", "rejected"],
    ),
    ("TokenResponse", "token_type", &["Bearer"]),
];

/// Values of query parameters, by path and parameter.
const QUERY_ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "/api/v1/anomalies",
        "kind",
        crate::inspection::service::ANOMALY_KINDS,
    ),
    ("/api/v1/lots", "status", LOT_STATUSES),
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
    (
        "/api/v1/manifests",
        "status",
        crate::manifests::routes::STATUSES,
    ),
    (
        "/api/v1/pickup-requests",
        "status",
        crate::pickups::routes::STATUSES,
    ),
];

/// Patterns of string fields and query parameters, by name, wherever they appear.
const PATTERNS: &[(&str, &str)] = &[
    ("waste_code", WASTE_CODE),
    ("category", CATEGORY),
    ("target", CATALOG_REF),
    ("period", PERIOD),
    ("region_code", REGION_CODE),
    ("jurisdiction", JURISDICTION),
    ("uscc", USCC),
    ("official_number", OFFICIAL_NUMBER),
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
    (
        "official_number",
        "The year (digits 1–4) must be 2022 to 2099, digits 5–6 must name a province \
         (GB/T 2260), and the serial (digits 9–14) must not be 000000.",
    ),
];

/// Ranges of integer fields of request bodies, by name: the server's bounds.
const RANGES: &[(&str, i64, i64)] = &[
    ("gross_grams", 1, MAX_GROSS_GRAMS),
    ("tare_grams", 0, MAX_GROSS_GRAMS - 1),
    ("net_grams", 1, MAX_LOT_GRAMS),
    ("estimated_grams", 1, MAX_LOT_GRAMS),
    ("capacity_grams", 1, MAX_GRAMS),
    ("threshold_grams", 1, MAX_GRAMS),
    ("fen_per_tonne", -MAX_FEN_PER_TONNE, MAX_FEN_PER_TONNE),
    ("container_count", 1, 10_000),
    ("container_litres", 1, 100_000),
    ("pickup_zone_percent", 1, 100),
    (
        "max_storage_days",
        1,
        crate::registry::contracts::service::MAX_STORAGE_DAYS as i64,
    ),
    ("keep_previous_hours", 0, 168),
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
    ("description", 500),
    ("note", 500),
    ("reason", 500),
    ("resolution", 500),
    ("username", crate::domain::identity::USERNAME_MAX),
    ("password", crate::domain::identity::PASSWORD_MAX),
    ("current_password", crate::domain::identity::PASSWORD_MAX),
    ("new_password", crate::domain::identity::PASSWORD_MAX),
];

/// Query parameters' ranges, by name, wherever they appear.
const QUERY_RANGES: &[(&str, i64, i64)] = &[("within_days", 1, 365), ("months", 1, 24)];

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
                let RefOr::T(Schema::Object(property)) = property else {
                    continue;
                };
                constrain(name, field, property, request, required.contains(field));
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in super::operations_mut(item) {
            for param in op.parameters.iter_mut().flatten() {
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
                    ParameterIn::Query => {
                        if let Some((.., values)) = QUERY_ENUMS
                            .iter()
                            .find(|(p, n, _)| p == path && *n == param.name)
                        {
                            schema.enum_values = Some(values.iter().map(|v| (*v).into()).collect());
                        }
                        if let Some((_, pattern)) = PATTERNS.iter().find(|(n, _)| *n == param.name)
                        {
                            schema.pattern.get_or_insert_with(|| (*pattern).to_owned());
                        }
                        if let Some((_, min, max)) =
                            QUERY_RANGES.iter().find(|(n, ..)| *n == param.name)
                        {
                            schema.minimum = Some((*min).into());
                            schema.maximum = Some((*max).into());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

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
            && let Some((_, pattern)) = PATTERNS.iter().find(|(n, _)| *n == field)
        {
            property
                .pattern
                .get_or_insert_with(|| (*pattern).to_owned());
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
    if string && property.enum_values.is_none() && property.format.is_none() {
        if required {
            property.min_length.get_or_insert(1);
        }
        if let Some((_, max)) = LENGTHS.iter().find(|(n, _)| *n == field) {
            property.max_length = Some(*max);
        }
        if property.pattern.is_none() && TEXTS.contains(&field) {
            property.pattern = Some(TEXT.to_owned());
        }
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
