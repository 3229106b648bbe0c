//! The console's style sheet and script, compiled into the binary: nothing to build or fetch.
//! Their paths carry a version, so browsers may keep them for a year.

use actix_web::http::header;
use actix_web::{HttpResponse, get};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// Raise the version in these paths (and the routes below) whenever a file changes.
pub const CSS_PATH: &str = "/assets/console-4.css";
pub const JS_PATH: &str = "/assets/console-4.js";

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

#[get("/assets/console-4.css")]
pub async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

#[get("/assets/console-4.js")]
pub async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}
