//! HTTP plumbing shared by every feature: the JSON body extractor, pagination, and the
//! fallbacks that keep every error response a problem document.

pub mod fallback;
pub mod json;
pub mod pagination;

pub use json::Json;
pub use pagination::{Page, PageQuery};
