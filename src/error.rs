//! The one error type at the HTTP edge, rendered as RFC 9457 problem details.
//!
//! Use [`ApiError`] from handlers and services. Database errors are mapped here, in one place:
//! "not found" becomes 404, a unique violation 409, anything else 500. The body of a 5xx never
//! carries the cause: the cause is logged with the request id, and the body names that id.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::Locale;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The one answer for an object that does not exist or that the caller may not see: the same
/// words in both cases, so that other tenants' ids cannot be probed.
pub const NOT_VISIBLE: &str = "no such object, or not one you may see";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `password` or `lines[2].code`; query parameters
    /// and path segments are named as they are.
    #[schema(example = "username")]
    pub field: String,
    /// Stable machine-readable reason, e.g. `required`, `too_long`, `invalid`.
    #[schema(example = "too_long")]
    pub code: String,
    /// Human-readable explanation, in the language of the answer (zh-CN unless
    /// `Accept-Language` prefers English).
    #[schema(example = "must be at most 64 characters")]
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:wastetrack:problem:validation",
    "title": "Your request parameters didn't validate",
    "status": 422,
    "detail": "1 field is invalid",
    "request_id": "5f0c3c1e-0a43-4c1e-9a0f-3a2d6f1b7c55",
    "errors": [{"field": "username", "code": "required", "message": "must not be empty"}]
}))]
pub struct Problem {
    /// A stable URI naming the kind of problem; see the README for the list.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request's id, as in the `x-request-id` response header; quote it when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For validation problems: every invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is well-formed but some fields are invalid (422).
    #[error("invalid request: {}", summarize(.0))]
    Validation(Vec<FieldError>),
    /// The request cannot be parsed at all (400): malformed JSON, a bad query string.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// No valid credentials (401).
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but this role may not do this (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such object, or not one the caller may see (404).
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// The request conflicts with the current state (409), e.g. a duplicate.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests {
        retry_after_secs: u64,
        detail: &'static str,
    },
    /// The database is unreachable or the pool exhausted (503).
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
    /// Anything unexpected (500). The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::BadRequest(_) => "malformed-request",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) => "service-unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "Your request parameters didn't validate",
            Self::BadRequest(_) => "The request could not be parsed",
            Self::Unauthenticated(_) => "Authentication is required",
            Self::Forbidden(_) => "You may not do this",
            Self::NotFound(_) => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Conflict(_) => "Conflict with the current state",
            Self::PayloadTooLarge { .. } => "Request body too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => match errors.len() {
                1 => format!("{} is invalid: {}", errors[0].field, errors[0].message),
                n => format!("{n} fields are invalid"),
            },
            Self::BadRequest(d) => d.clone(),
            Self::Unauthenticated(d) | Self::Forbidden(d) | Self::NotFound(d) => (*d).to_owned(),
            Self::MethodNotAllowed { allow } => format!("this resource allows only: {allow}"),
            Self::Conflict(d) => d.clone(),
            Self::PayloadTooLarge { limit } => {
                format!("the request body exceeds the limit of {limit} bytes")
            }
            Self::UnsupportedMediaType(d) => d.clone(),
            Self::TooManyRequests {
                retry_after_secs,
                detail,
            } => {
                format!("{detail}; retry after {retry_after_secs} seconds")
            }
            Self::Unavailable(d) => (*d).to_owned(),
            Self::Internal(_) => {
                "an unexpected error occurred; it has been logged under the request id".to_owned()
            }
        }
    }

    /// The problem document for this error, in the language of the request being served.
    pub fn problem(&self) -> Problem {
        self.problem_in(crate::i18n::current_locale())
    }

    /// The problem document for this error in `locale`: the title, the detail and the fields'
    /// messages are translated; the type, the status and the fields' names and codes are not.
    pub fn problem_in(&self, locale: Locale) -> Problem {
        Problem {
            problem_type: problem_type_uri(self.slug()),
            title: locale.text(self.title()),
            status: self.status_code().as_u16(),
            detail: locale.text(&self.detail()),
            request_id: crate::telemetry::current_request_id(),
            errors: match self {
                Self::Validation(errors) => errors
                    .iter()
                    .map(|e| FieldError {
                        message: locale.text(&e.message),
                        ..e.clone()
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }
    }
}

pub fn problem_type_uri(slug: &str) -> String {
    format!("urn:wastetrack:problem:{slug}")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        let locale = crate::i18n::current_locale();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(locale.tag()),
        ));
        response.insert_header((header::VARY, HeaderValue::from_static("accept-language")));
        match self {
            Self::Unauthenticated(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, v));
                }
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER_SECS),
                ));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&self.problem_in(locale)).unwrap_or_default())
    }
}

/// When a client told the service is unavailable (the database busy or unreachable) should try
/// again, in seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: &str = "2";

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound(NOT_VISIBLE),
            // PostgreSQL refuses text with a NUL character; such a value names nothing stored.
            Error::DatabaseError(_, info) if info.message().contains("invalid byte sequence") => {
                Self::BadRequest(
                    "the request contains text with a NUL character or invalid UTF-8".to_owned(),
                )
            }
            // SQLite's busy timeout ran out: the database is overloaded, not broken.
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::Unavailable("the database is busy; retry shortly")
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "unique violation");
                Self::Conflict("an object with the same unique value already exists".to_owned())
            }
            // PostgreSQL broke a cycle of waits by failing one transaction: it may be retried.
            Error::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                Self::Conflict(
                    "a concurrent change touched the same data; retry the request".to_owned(),
                )
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::Conflict(
                "a concurrent change touched the same data; retry the request".to_owned(),
            ),
            other => Self::Internal(anyhow::Error::new(other).context("database error")),
        }
    }
}

/// A total of grams or fen that no input of the request pushed out of range (those are refused
/// with a 422 naming the field where they arise): an internal error, never a wrapped number.
impl From<crate::domain::units::OutOfRange> for ApiError {
    fn from(e: crate::domain::units::OutOfRange) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

/// Collects field errors so that a request reports every invalid field at once.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Records the error of a fallible parse and returns the value when it parsed.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// A trimmed text of `min..=max` characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let value = value.trim();
        let len = value.chars().count();
        if len < min {
            let message = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            };
            self.errors.push(FieldError::new(
                field,
                if min == 1 { "required" } else { "too_short" },
                message,
            ));
        } else if len > max {
            self.errors.push(FieldError::new(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            ));
        } else if value.chars().any(char::is_control) {
            self.errors.push(FieldError::new(
                field,
                "invalid",
                "must not contain control characters",
            ));
        }
        value.to_owned()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }

    /// Ends validation: every recorded error, or the value `build` assembles from the parsed
    /// fields (each an `Option` that is `Some` when no error was recorded for it).
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a validated field is missing")))
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.errors).finish()
    }
}
