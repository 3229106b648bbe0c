//! HTTP endpoints of authentication: extract, call the service, respond.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, service};
use crate::domain::identity::{NewPassword, PASSWORD_MAX, USERNAME_MAX};
use crate::error::{ApiError, Problem, Validator};
use crate::http::Json;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "park.office", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q3Xh0p1sV9n2…"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "a longer passphrase 2026"}))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Tokens handed out by a login or a refresh.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0…",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "q3Xh0p1sV9n2…",
    "refresh_expires_in": 1209600
}))]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Use once at `/auth/refresh`; it is replaced by a new one each time.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

impl From<service::Issued> for TokenResponse {
    fn from(issued: service::Issued) -> Self {
        let now = issued.issued_at;
        Self {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: (issued.access_expires_at - now).num_seconds().max(0),
            refresh_token: issued.refresh_token,
            refresh_expires_in: (issued.refresh_expires_at - now).num_seconds().max(0),
        }
    }
}

/// Log in with a username and password.
///
/// Failed attempts are limited per account and per client address; past the limit the answer
/// is 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let mut v = Validator::new();
    v.text("username", &body.username, 1, USERNAME_MAX);
    if body.password.is_empty() || body.password.chars().count() > PASSWORD_MAX {
        v.push(crate::error::FieldError::new(
            "password",
            "invalid_length",
            format!("must be 1 to {PASSWORD_MAX} characters"),
        ));
    }
    v.finish()?;
    let address = client_address(&req, state.trust_forwarded_for);
    let issued = service::login(&state, body.username, body.password, address).await?;
    Ok(web::Json(issued.into()))
}

/// Exchange a refresh token for new tokens.
///
/// Each refresh token works once. Presenting one that was already used revokes the whole
/// session it belongs to (it may have been stolen).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let mut v = Validator::new();
    v.text("refresh_token", &body.refresh_token, 1, 128);
    v.finish()?;
    Ok(web::Json(
        service::refresh(&state, body.refresh_token).await?.into(),
    ))
}

/// End the current session: its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    service::logout(&state, &principal).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change your own password. Your other sessions are ended.
///
/// A wrong current password counts against the account as a failed login; past the limit the
/// answer is 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Current password wrong or new password unacceptable", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords for this account (they count as failed logins)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut v = Validator::new();
    if body.current_password.is_empty() || body.current_password.chars().count() > PASSWORD_MAX {
        v.push(crate::error::FieldError::new(
            "current_password",
            "invalid_length",
            format!("must be 1 to {PASSWORD_MAX} characters"),
        ));
    }
    let new = v.check(NewPassword::parse("new_password", &body.new_password));
    v.finish()?;
    let new =
        new.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("validated password missing")))?;
    service::change_password(&state, &principal, body.current_password, new).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The client's address, for throttling: the peer, or the proxy-reported client when the
/// deployment says it runs behind a trusted proxy.
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
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
