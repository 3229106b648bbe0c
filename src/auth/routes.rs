//! HTTP endpoints of authentication: extract, call the service, respond.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::service::{self, WechatLinkView};
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
    /// 10 to 256 characters, and hard enough to guess (a strength estimator, zxcvbn score 3 or
    /// more, refuses common passwords: 422 `too_weak`).
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
    let address = crate::http::client_address(&req, state.trust_forwarded_for);
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

/// A code from the mini-program's `wx.login`, to sign in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "user-zhangwei.2"}))]
pub struct WechatLoginRequest {
    /// The code `wx.login` gave (single use, valid five minutes); the service exchanges it with
    /// WeChat. `user-NAME.N` is what `wastetrack wechat-stand-in` understands.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

/// A code from the mini-program's `wx.login`, to link the WeChat account behind it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "user-zhangwei.1"}))]
pub struct WechatLinkRequest {
    /// The code `wx.login` gave (single use, valid five minutes); the service exchanges it with
    /// WeChat. `user-NAME.N` is what `wastetrack wechat-stand-in` understands.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

fn wechat_code(code: String) -> Result<String, ApiError> {
    crate::auth::wechat::check_code(&code)?;
    Ok(code)
}

/// Sign in from the mini-program with `wx.login`'s code.
///
/// The service exchanges the code at WeChat's code2session endpoint and signs in the user
/// linked to that WeChat account, with the same tokens as a password login. An account linked
/// to nobody gets a 401 (never a new account); such attempts are counted per client address
/// like failed logins. WeChat's `session_key` is neither returned nor stored.
#[utoipa::path(
    tag = "auth",
    request_body = WechatLoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "This WeChat account is linked to no active user", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "WeChat blocks this account's sign-in as high-risk", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is malformed, unknown to WeChat, expired or already used", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins from this address, or WeChat's limit for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "WeChat sign-in is not configured, or WeChat did not answer (in time)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/wechat/login")]
pub async fn wechat_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<WechatLoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let code = wechat_code(body.into_inner().code)?;
    let address = crate::http::client_address(&req, state.trust_forwarded_for);
    let issued = service::wechat_login(&state, code, address).await?;
    Ok(web::Json(issued.into()))
}

/// Whether a WeChat account is linked to you.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your link to WeChat", body = WechatLinkView),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/wechat/link")]
pub async fn wechat_link_status(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<WechatLinkView>, ApiError> {
    Ok(web::Json(
        service::wechat_link_of(&state, &principal).await?.into(),
    ))
}

/// Link your WeChat account (from a `wx.login` code), so that the mini-program signs you in.
///
/// One WeChat account per user and one user per WeChat account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = WechatLinkRequest,
    responses(
        (status = 201, description = "Linked", body = WechatLinkView, headers(("Location" = String, description = "URL of your link"))),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "WeChat blocks this account as high-risk", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You already have a link, or this WeChat account is linked to another user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is malformed, unknown to WeChat, expired or already used", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "WeChat's limit for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "WeChat sign-in is not configured, or WeChat did not answer (in time)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/wechat/link")]
pub async fn wechat_link(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<WechatLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = wechat_code(body.into_inner().code)?;
    let row = service::wechat_link(&state, &principal, code).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/v1/auth/wechat/link"))
        .json(WechatLinkView::from(Some(row))))
}

/// Unlink your WeChat account: the mini-program no longer signs you in.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No WeChat account is linked to you", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/auth/wechat/link")]
pub async fn wechat_unlink(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    service::wechat_unlink(&state, &principal).await?;
    Ok(HttpResponse::NoContent().finish())
}
