//! Who is looking at a page: the console's session cookie, its form tokens and the page's
//! language.
//!
//! Signing in opens the same kind of session as the API's login (`auth::service::login`); the
//! cookie names that session and its user, sealed with a key derived from the token secret
//! (`TokenKeys::seal`), so any instance sharing the secret opens it. It is `HttpOnly`,
//! `SameSite=Lax`, `Secure` when the service is reached over TLS (`public_base_url` starts with
//! `https://`), and carries no expiry of its own: every page reads the session from the
//! database ([`crate::auth::principal::of_session`]), so logout, an expired or revoked session
//! or a deactivated user end it at once, and the role and organisation are those of now; the
//! cookie itself opens only for `auth.refresh_token_ttl_secs` after sign-in.
//!
//! Every form carries a token sealed over the session id; a POST without it is refused (403)
//! before anything is read or written. The sign-in form, which has no session yet, carries a
//! token sealed over a random nonce kept in a short-lived cookie (double submit).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use chrono_tz::Tz;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::i18n::Locale;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "wt_session";
pub const SIGNIN_COOKIE: &str = "wt_signin";
pub const LANGUAGE_COOKIE: &str = "wt_lang";
/// The hidden field of every form that carries its token.
pub const CSRF_FIELD: &str = "_csrf";

const SESSION_SEAL: &str = "session";
const FORM_SEAL: &str = "form";
pub const SIGNIN_SEAL: &str = "signin";

/// The signed-in person looking at a page: the principal the API would see, the page's
/// language, the token its forms carry, and the time zone its times are written in.
pub struct Viewer {
    pub principal: Principal,
    pub locale: Locale,
    pub csrf: String,
    /// The park's time zone for park and enterprise users; China Standard Time otherwise.
    pub tz: Tz,
    /// The path asked for, to come back to after switching the language.
    pub path: String,
}

/// The language of a request's pages: the switch's cookie, else Chinese.
pub fn locale_of(req: &HttpRequest) -> Locale {
    match req.cookie(LANGUAGE_COOKIE).as_ref().map(Cookie::value) {
        Some("en") => Locale::En,
        _ => Locale::ZhCn,
    }
}

/// Why a page has no viewer: not signed in (the browser is sent to the sign-in page, to come
/// back afterwards), or the session could not be read (the database is unavailable: a page
/// saying so, not a sign-out).
#[derive(Debug)]
pub enum SignInFirst {
    SignIn { next: String },
    Failed(crate::console::page::PageError),
}

impl std::fmt::Display for SignInFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn { .. } => f.write_str("sign in first"),
            Self::Failed(e) => e.fmt(f),
        }
    }
}

impl ResponseError for SignInFirst {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Failed(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn { next } => HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/signin?next={}", url_escape(next)),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish(),
            Self::Failed(e) => e.error_response(),
        }
    }
}

impl FromRequest for Viewer {
    type Error = SignInFirst;
    type Future = Pin<Box<dyn Future<Output = Result<Self, SignInFirst>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let locale = locale_of(req);
        let path = local_path(req.uri().path_and_query().map_or("/", |p| p.as_str()));
        // After signing in, the browser comes back with a GET: a form's address would not answer.
        let next = if req.method() == actix_web::http::Method::GET {
            path.clone()
        } else {
            "/".to_owned()
        };
        Box::pin(async move {
            let sign_in = || SignInFirst::SignIn { next: next.clone() };
            let (Some(state), Some(cookie)) = (state, cookie) else {
                return Err(sign_in());
            };
            let (session_id, user_id) =
                open_session_cookie(&state, &cookie, state.clock.now()).ok_or_else(sign_in)?;
            let principal =
                match crate::auth::principal::of_session(&state, session_id, user_id).await {
                    Ok(principal) => principal,
                    Err(ApiError::Unauthenticated(_)) => return Err(sign_in()),
                    Err(error) => {
                        return Err(SignInFirst::Failed(crate::console::page::PageError {
                            locale,
                            error,
                        }));
                    }
                };
            crate::audit::context::set_actor(&principal);
            let tz = park_time_zone(&state, &principal).await;
            Ok(Viewer {
                csrf: state.keys.seal(FORM_SEAL, &principal.session_id),
                principal,
                locale,
                tz,
                path,
            })
        })
    }
}

async fn park_time_zone(state: &AppState, principal: &Principal) -> Tz {
    let Some(park_id) = principal.park_id.clone() else {
        return chrono_tz::Asia::Shanghai;
    };
    let p = principal.clone();
    let park = state
        .db
        .run(move |conn| crate::registry::parks::service::get_park(conn, &p, &park_id))
        .await;
    park.ok()
        .and_then(|park| park.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

impl Viewer {
    /// Refuses a form whose token is not this session's (403), before it is acted on.
    pub fn check_form(&self, state: &AppState, token: &str) -> Result<(), ApiError> {
        if state
            .keys
            .opens(FORM_SEAL, &self.principal.session_id, token)
        {
            Ok(())
        } else {
            Err(ApiError::Forbidden(FORM_EXPIRED))
        }
    }
}

pub const FORM_EXPIRED: &str =
    "the form has expired or did not come from this console: reload the page and send it again";

/// The session cookie's value for a session of a user signed in at `now`:
/// `session.user.seconds.seal`. It opens for `auth.refresh_token_ttl_secs` after sign-in (as
/// long as the API's sign-in lasts without a new password), and only while the session lives.
pub fn session_cookie(
    state: &AppState,
    session_id: &str,
    user_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Cookie<'static> {
    let message = format!("{session_id}.{user_id}.{}", now.timestamp());
    let seal = state.keys.seal(SESSION_SEAL, &message);
    cookie(state, SESSION_COOKIE, format!("{message}.{seal}"), None)
}

fn open_session_cookie(
    state: &AppState,
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(String, String)> {
    if value.len() > 512 {
        return None;
    }
    let (message, seal) = value.rsplit_once('.')?;
    let mut parts = message.split('.');
    let (session_id, user_id, issued) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !state.keys.opens(SESSION_SEAL, message, seal) {
        return None;
    }
    let issued: i64 = issued.parse().ok()?;
    let lifetime = i64::try_from(state.auth.refresh_token_ttl_secs).unwrap_or(i64::MAX);
    (now.timestamp() < issued.saturating_add(lifetime))
        .then(|| (session_id.to_owned(), user_id.to_owned()))
}

/// A cookie of the console: `HttpOnly`, `SameSite=Lax`, path `/`, `Secure` over TLS.
pub fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_base_url.starts_with("https://"))
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

/// A cookie that removes `name` from the browser.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), None);
    c.make_removal();
    c
}

/// `raw` if it is a path of this site (`/lots?status=stored`), else `/`: a redirect never leaves
/// the site (`//host`, `/\host` and absolute URLs are refused).
pub fn local_path(raw: &str) -> String {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 1024
        && !raw.chars().any(|c| c.is_control());
    if ok { raw.to_owned() } else { "/".to_owned() }
}

/// Percent-encodes a value for a query string.
pub fn url_escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(local_path("/lots?status=stored"), "/lots?status=stored");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/a\r\nSet-Cookie: x"), "/");
    }
}
