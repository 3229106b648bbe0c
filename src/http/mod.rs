//! HTTP plumbing shared by every feature: the JSON body extractor, pagination, streamed CSV
//! and Excel downloads, the fallbacks that keep every error response a problem document, and
//! the security headers of every response.

pub mod export;
pub mod fallback;
pub mod headers;
pub mod json;
pub mod pagination;
pub mod query;

pub use json::Json;
pub use pagination::{Page, PageQuery};

/// `201 Created` with a `Location` header and the new object as body.
pub fn created<T: serde::Serialize>(location: String, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(body)
}
