//! Signing in and out of the console, and the language switch.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use maud::html;
use rand::RngCore;
use serde::Deserialize;

use crate::console::page::{PageError, bare, respond, see_other, t};
use crate::console::session::{
    self, CSRF_FIELD, LANGUAGE_COOKIE, SIGNIN_COOKIE, SIGNIN_SEAL, Viewer, local_path, locale_of,
};
use crate::error::ApiError;
use crate::i18n::Locale;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct FormToken {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// The sign-in form: a new nonce in a short-lived cookie, its seal in the form.
#[get("/signin")]
pub async fn signin_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let next = local_path(query.next.as_deref().unwrap_or("/"));
    signin_page(&state, locale_of(&req), StatusCode::OK, &next, "", None)
}

fn signin_page(
    state: &AppState,
    l: Locale,
    status: StatusCode,
    next: &str,
    username: &str,
    problem: Option<String>,
) -> HttpResponse {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = state.keys.seal(SIGNIN_SEAL, &nonce);
    let title = t(l, "登录", "Sign in");
    let body = html! {
        h1 { "wastetrack · " (title) }
        @if let Some(p) = &problem {
            p.banner.bad role="alert" id="signin-error" { (p) }
        }
        form.stacked method="post" action="/signin" {
            input type="hidden" name=(CSRF_FIELD) value=(token);
            input type="hidden" name="next" value=(next);
            div.field {
                label for="username" { (t(l, "用户名", "Username")) }
                input #username name="username" type="text" autocomplete="username" required
                    maxlength="64" value=(username) autofocus;
            }
            div.field {
                label for="password" { (t(l, "密码", "Password")) }
                input #password name="password" type="password" autocomplete="current-password"
                    required maxlength="256";
            }
            button type="submit" { (title) }
        }
        p { a lang=(other_tag(l)) href={ "/language?to=" (other_tag(l)) "&back=/signin" } { (other_name(l)) } }
    };
    let mut response = respond(status, bare(l, title, body));
    let presign = session::cookie(
        state,
        SIGNIN_COOKIE,
        nonce,
        Some(CookieDuration::minutes(30)),
    );
    // A page built without a cookie jar still answers; only the cookie would be missing.
    let _ = response.add_cookie(&presign);
    response
}

fn other_tag(l: Locale) -> &'static str {
    match l {
        Locale::ZhCn => "en",
        Locale::En => "zh-CN",
    }
}

fn other_name(l: Locale) -> &'static str {
    match l {
        Locale::ZhCn => "English",
        Locale::En => "中文",
    }
}

/// Checks the form's token against the nonce cookie, then the password as the API's login
/// does (same throttling, same session); on success sets the session cookie.
#[post("/signin")]
pub async fn signin_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let l = locale_of(&req);
    let form = form.into_inner();
    let next = local_path(&form.next);
    let nonce = req.cookie(SIGNIN_COOKIE).map(|c| c.value().to_owned());
    if !nonce.is_some_and(|n| state.keys.opens(SIGNIN_SEAL, &n, &form.csrf)) {
        let problem = ApiError::Forbidden(session::FORM_EXPIRED).problem_in(l);
        return Ok(signin_page(
            &state,
            l,
            StatusCode::FORBIDDEN,
            &next,
            &form.username,
            Some(problem.detail),
        ));
    }
    if form.username.len() > 64 || form.password.len() > 256 {
        let problem = ApiError::Unauthenticated("invalid username or password").problem_in(l);
        return Ok(signin_page(
            &state,
            l,
            StatusCode::UNAUTHORIZED,
            &next,
            "",
            Some(problem.detail),
        ));
    }
    let address = crate::http::client_address(&req, state.trust_forwarded_for);
    let issued =
        match crate::auth::service::login(&state, form.username.clone(), form.password, address)
            .await
        {
            Ok(issued) => issued,
            Err(e @ (ApiError::Unauthenticated(_) | ApiError::TooManyRequests { .. })) => {
                let status = actix_web::ResponseError::status_code(&e);
                let mut page = signin_page(
                    &state,
                    l,
                    status,
                    &next,
                    &form.username,
                    Some(e.problem_in(l).detail),
                );
                // When to try again, as the API's login says it.
                if let ApiError::TooManyRequests {
                    retry_after_secs, ..
                } = e
                {
                    page.headers_mut().insert(
                        actix_web::http::header::RETRY_AFTER,
                        actix_web::http::header::HeaderValue::from(retry_after_secs),
                    );
                }
                return Ok(page);
            }
            Err(error) => return Err(PageError { locale: l, error }),
        };
    let claims = state
        .keys
        .verify(&issued.access_token, state.clock.now())
        .map_err(|e| PageError {
            locale: l,
            error: ApiError::Internal(anyhow::anyhow!("a token just issued: {e}")),
        })?;
    let mut response = see_other(&next);
    let cookie = session::session_cookie(&state, &claims.sid, &claims.sub, state.clock.now());
    let removal = session::removal(&state, SIGNIN_COOKIE);
    for c in [&cookie, &removal] {
        response.add_cookie(c).map_err(|e| PageError {
            locale: l,
            error: ApiError::Internal(anyhow::anyhow!("setting a cookie: {e}")),
        })?;
    }
    Ok(response)
}

/// Ends the session (as the API's logout does) and removes the cookie.
#[post("/signout")]
pub async fn sign_out(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<FormToken>,
) -> Result<HttpResponse, PageError> {
    viewer
        .check_form(&state, &form.csrf)
        .map_err(viewer.fail())?;
    crate::auth::service::logout(&state, &viewer.principal)
        .await
        .map_err(viewer.fail())?;
    let mut response = see_other("/signin");
    response
        .add_cookie(&session::removal(&state, session::SESSION_COOKIE))
        .map_err(|e| viewer.fail()(ApiError::Internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    to: Option<String>,
    back: Option<String>,
}

/// The language switch: remembers the choice for a year and goes back to the page.
#[get("/language")]
pub async fn language(
    state: web::Data<AppState>,
    query: web::Query<LanguageQuery>,
) -> HttpResponse {
    let tag = match query.to.as_deref() {
        Some("en") => "en",
        _ => "zh-CN",
    };
    let mut response = see_other(&local_path(query.back.as_deref().unwrap_or("/")));
    let cookie = session::cookie(
        &state,
        LANGUAGE_COOKIE,
        tag.to_owned(),
        Some(CookieDuration::days(365)),
    );
    let _ = response.add_cookie(&cookie);
    response
}
