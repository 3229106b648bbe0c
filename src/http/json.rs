//! `Json<T>`: the request-body extractor used by every handler.
//!
//! Unlike actix's own, it reports problems as the API promises: a wrong content type is 415, a
//! body over the limit 413, malformed JSON 400, and a well-formed body with a bad, unknown or
//! missing field 422 naming that field (request types use `deny_unknown_fields`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// The configured body limit, in bytes, registered as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map_or(64 * 1024, |l| l.0);
        let checked = check_headers(req, limit);
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            checked?;
            let body = read_limited(&mut payload, limit).await?;
            // Kept for the Idempotency-Key check: "the same request" means the same bytes.
            req.extensions_mut().insert(crate::idempotency::BodyDigest(
                crate::domain::digest::sha256_hex(&body),
            ));
            crate::audit::context::set_body(&body);
            decode(&body).map(Json)
        })
    }
}

fn check_headers(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let is_json = matches!(req.mime_type(), Ok(Some(m))
        if m.type_() == mime::APPLICATION && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON)));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType(
            "the request body must be JSON (Content-Type: application/json)".to_owned(),
        ));
    }
    check_declared_length(req, limit)
}

/// Refuses early a body whose declared length is over the limit.
pub fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(())
}

/// Reads a whole request body, refusing it (413) as soon as it grows past `limit` bytes.
pub async fn read_limited<S>(payload: &mut S, limit: usize) -> Result<web::BytesMut, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest(format!("could not read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a JSON document into `T`, naming the offending field on failure.
///
/// An integer field takes any integral JSON number: `28293.0` is the integer 28293 to JSON
/// Schema, and generated clients may send it so; `28293.5` is refused (422, naming the field).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let error = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
            return Ok(value);
        }
        Err(e) => e,
    };
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.classify() != serde_json::error::Category::Data {
        return Err(ApiError::BadRequest(format!("malformed JSON: {inner}")));
    }
    // A document that is not JSON at all (trailing garbage after a partial object, say) is
    // malformed, whatever its fields.
    let mut document = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(document) => document,
        Err(syntax) => return Err(ApiError::BadRequest(format!("malformed JSON: {syntax}"))),
    };
    // Integral numbers written with a fraction or an exponent: read again as integers.
    if integral_floats_to_integers(&mut document) {
        return serde_path_to_error::deserialize(document).map_err(|e| {
            let path = e.path().to_string();
            ApiError::Validation(vec![field_error(&path, &e.into_inner().to_string())])
        });
    }
    Err(ApiError::Validation(vec![field_error(
        &path,
        &strip_position(&inner.to_string()),
    )]))
}

/// Replaces every number with an integral value written as a float (`28293.0`, `2.8293e4`) by
/// that integer, when it fits an `i64`; tells whether any was replaced.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^63 is exactly representable; every integral f64 below it fits an i64.
            if f.fract() == 0.0
                && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
            {
                *value = serde_json::Value::from(f as i64);
                true
            } else {
                false
            }
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| integral_floats_to_integers(item) | any),
        serde_json::Value::Object(fields) => fields
            .values_mut()
            .fold(false, |any, item| integral_floats_to_integers(item) | any),
        _ => false,
    }
}

/// serde's messages end in " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn field_error(path: &str, message: &str) -> FieldError {
    let parent = if path == "." { "" } else { path };
    // serde_path_to_error ends the path with the field itself for unknown fields, and at the
    // enclosing object for missing ones.
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else if parent == name || parent.ends_with(&format!(".{name}")) {
            parent.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(join)
    };
    if let Some(field) = named("unknown field `") {
        return FieldError::new(field, "unknown_field", "is not a field of this request");
    }
    if let Some(field) = named("missing field `") {
        return FieldError::new(field, "required", "is required");
    }
    let field = if parent.is_empty() {
        "body".to_owned()
    } else {
        parent.to_owned()
    };
    let code = if message.starts_with(NOT_NULLABLE) {
        "not_nullable"
    } else if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid"
    };
    FieldError::new(field, code, message)
}

/// For optional fields that may also be cleared: absent → `None`, `null` → `Some(None)`,
/// a value → `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "double_option")]`
/// and `#[schema(value_type = Option<T>)]`; the row saved must write `None` as NULL
/// (`#[diesel(treat_none_as_null = true)]`), or the clearing is lost.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// What a `null` is told for a field that cannot be cleared.
const NOT_NULLABLE: &str =
    "cannot be cleared: null is not allowed here; leave the field out to keep its value";

/// For optional fields that cannot be cleared (those of a PATCH that are never empty):
/// absent → `None`, a value → `Some(v)`, `null` → 422 naming the field (`not_nullable`)
/// rather than silently meaning "unchanged". Use with
/// `#[serde(default, deserialize_with = "non_null")]` and `#[schema(value_type = T)]`, so that
/// the document does not call the field nullable.
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    match <Option<T> as serde::Deserialize>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom(NOT_NULLABLE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: i64,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        grams: i64,
    }

    fn field_of(body: &str) -> (String, String) {
        match decode::<Sample>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => (errors[0].field.clone(), errors[0].code.clone()),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field() {
        assert_eq!(
            field_of(r#"{"name":"a","count":"x"}"#),
            ("count".into(), "invalid_type".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a"}"#),
            ("count".into(), "required".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","count":1,"extra":1}"#),
            ("extra".into(), "unknown_field".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","count":1,"inner":{"grams":1.5}}"#),
            ("inner.grams".into(), "invalid_type".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","count":1,"inner":{"kg":1}}"#),
            ("inner.kg".into(), "unknown_field".into())
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Changes {
        #[serde(default, deserialize_with = "non_null")]
        name: Option<String>,
        #[serde(default, deserialize_with = "double_option")]
        permit: Option<Option<String>>,
    }

    #[test]
    fn null_clears_what_may_be_cleared_and_is_refused_elsewhere() {
        let changes = |body: &str| decode::<Changes>(body.as_bytes());
        let absent = changes("{}").expect("absent");
        assert_eq!((absent.name, absent.permit), (None, None));
        let set = changes(r#"{"name":"a","permit":"p"}"#).expect("values");
        assert_eq!(
            (set.name, set.permit),
            (Some("a".to_owned()), Some(Some("p".to_owned())))
        );
        let cleared = changes(r#"{"permit":null}"#).expect("cleared");
        assert_eq!((cleared.name, cleared.permit), (None, Some(None)));
        match changes(r#"{"permit":null,"name":null}"#) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    (errors[0].field.as_str(), errors[0].code.as_str()),
                    ("name", "not_nullable")
                );
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        match changes(r#"{"name":3}"#) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].code, "invalid_type"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn integral_numbers_fill_integer_fields() {
        let sample = decode::<Sample>(br#"{"name":"a","count":28293.0,"inner":{"grams":2.5e3}}"#)
            .expect("integral numbers are integers");
        assert_eq!(sample.count, 28293);
        assert_eq!(sample.inner.map(|i| i.grams), Some(2500));
        assert_eq!(
            field_of(r#"{"name":"a","count":28293.5}"#),
            ("count".into(), "invalid_type".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","count":1.0,"inner":{"grams":0.5}}"#),
            ("inner.grams".into(), "invalid_type".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","count":1.0,"extra":1}"#),
            ("extra".into(), "unknown_field".into())
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in ["", "{", r#"{"name":"a","count":1} trailing"#, "nul"] {
            assert!(
                matches!(
                    decode::<Sample>(body.as_bytes()),
                    Err(ApiError::BadRequest(_))
                ),
                "{body:?}"
            );
        }
    }
}
