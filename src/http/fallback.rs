//! What answers when no handler does, and the safety net that turns any other error response
//! into a problem document.
//!
//! Whether an unmatched request names a known path with the wrong method (405, with `Allow`) or
//! an unknown path (404) is decided from the OpenAPI document, which lists every route.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};

use crate::error::{ApiError, PROBLEM_JSON, Problem, problem_type_uri};

/// Every documented route: its path template split into segments, and its methods.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                let mut methods: Vec<String> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_owned())
                .collect();
                methods.dedup();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on `path`, or `None` when no route has this path.
    ///
    /// Where several templates match, the one the router would pick decides: a literal segment
    /// wins over a `{param}` (`/lots/declarations` is not `/lots/{id}`), segment by segment
    /// from the left.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
        let is_param = |s: &str| s.starts_with('{') && s.ends_with('}');
        let mut best: Option<(Vec<bool>, Vec<String>)> = None;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == wanted.len()
                && segments
                    .iter()
                    .zip(&wanted)
                    .all(|(s, w)| (is_param(s) && !w.is_empty()) || s == w);
            if !matches {
                continue;
            }
            let literal: Vec<bool> = segments.iter().map(|s| !is_param(s)).collect();
            match &mut best {
                Some((rank, found)) if *rank == literal => found.extend(methods.iter().cloned()),
                Some((rank, _)) if *rank > literal => {}
                _ => best = Some((literal, methods.clone())),
            }
        }
        best.map(|(_, methods)| methods)
    }
}

/// The app's default service: 405 for a known path, 404 otherwise.
pub async fn not_matched(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(mut methods) => {
            methods.sort();
            methods.dedup();
            ApiError::MethodNotAllowed {
                allow: methods.join(", "),
            }
        }
        None => ApiError::NotFound("there is no resource at this path"),
    })
}

/// Replaces the body of any error response that is not already a problem document (actix's
/// own plain-text errors, for instance) with one for the same status.
pub async fn problem_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The console's pages answer their errors as pages.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if status.as_u16() < 400 || is_problem || is_page {
        return Ok(response);
    }
    let locale = crate::i18n::current_locale();
    let problem = generic_problem(status, locale);
    Ok(response.map_body(|head, _| {
        head.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        head.headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(locale.tag()),
        );
        head.headers
            .append(header::VARY, HeaderValue::from_static("accept-language"));
        head.headers.remove(header::CONTENT_LENGTH);
        actix_web::body::BoxBody::new(serde_json::to_vec(&problem).unwrap_or_default())
    }))
}

fn generic_problem(status: StatusCode, locale: crate::i18n::Locale) -> Problem {
    let reason = status.canonical_reason().unwrap_or("Error");
    let slug = match status.as_u16() {
        400 => "malformed-request".to_owned(),
        500..=599 => "internal".to_owned(),
        _ => reason.to_lowercase().replace(' ', "-"),
    };
    Problem {
        problem_type: problem_type_uri(&slug),
        title: locale.text(reason),
        status: status.as_u16(),
        detail: locale.text(&if status.is_server_error() {
            "an unexpected error occurred; it has been logged under the request id".to_owned()
        } else {
            format!("the request was refused: {}", reason.to_lowercase())
        }),
        request_id: crate::telemetry::current_request_id(),
        errors: Vec::new(),
    }
}

/// Maps errors of actix's query-string and path extractors to problem documents.
/// A query string whose parameters do not fit: 422, naming the parameter when serde does.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> Error {
    let message = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let error = match (named("missing field `"), named("duplicate field `")) {
        (Some(field), _) => crate::error::FieldError::new(field, "required", "is required"),
        (_, Some(field)) => crate::error::FieldError::new(field, "duplicate", "is given twice"),
        _ => crate::error::FieldError::new("query", "invalid", message.clone()),
    };
    ApiError::Validation(vec![error]).into()
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> Error {
    tracing::debug!(error = %err, "path did not parse");
    ApiError::NotFound("there is no resource at this path").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_and_methods_are_told_apart() {
        let table = RouteTable {
            routes: vec![
                (
                    vec!["api".into(), "v1".into(), "users".into()],
                    vec!["GET".into(), "POST".into()],
                ),
                (
                    vec!["api".into(), "v1".into(), "users".into(), "{id}".into()],
                    vec!["GET".into()],
                ),
            ],
        };
        assert_eq!(
            table.allowed("/api/v1/users"),
            Some(vec!["GET".to_owned(), "POST".to_owned()])
        );
        assert_eq!(
            table.allowed("/api/v1/users/usr_1"),
            Some(vec!["GET".to_owned()])
        );
        assert_eq!(table.allowed("/api/v1/users/usr_1/x"), None);
        assert_eq!(table.allowed("/api/v1/user"), None);
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let route = |path: &str, methods: &[&str]| {
            (
                path.split('/').map(str::to_owned).collect(),
                methods.iter().map(|m| (*m).to_owned()).collect(),
            )
        };
        let table = RouteTable {
            routes: vec![
                route("lots/{id}", &["GET", "PATCH"]),
                route("lots/declarations", &["POST"]),
            ],
        };
        assert_eq!(
            table.allowed("/lots/declarations"),
            Some(vec!["POST".to_owned()])
        );
        assert_eq!(
            table.allowed("/lots/lot_1"),
            Some(vec!["GET".to_owned(), "PATCH".to_owned()])
        );
    }
}
