//! HTTP plumbing shared by every feature: the JSON body extractor, pagination, streamed CSV
//! and Excel downloads, the fallbacks that keep every error response a problem document, and
//! the security headers of every response.

pub mod export;
pub mod fallback;
pub mod headers;
pub mod json;
pub mod limits;
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

/// The client's address, for throttling: the peer, or the proxy-reported client when the
/// deployment says it runs behind a trusted proxy.
pub fn client_address(req: &actix_web::HttpRequest, trust_forwarded_for: bool) -> String {
    // Behind a trusted proxy, the client is the last address in X-Forwarded-For: the one the
    // proxy appended. Earlier entries are written by the client and prove nothing.
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()
                .map(|a| a.trim().to_owned())
        })
        .flatten()
        .filter(|a| !a.is_empty());
    let raw = forwarded
        .or_else(|| req.peer_addr().map(|a| a.ip().to_string()))
        .unwrap_or_else(|| "unknown".to_owned());
    raw.parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .or_else(|_| {
            raw.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
        })
        .unwrap_or(raw)
}
