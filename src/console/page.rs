//! The frame of every page — head, navigation for the viewer's role, language switch, sign-out
//! — and the pieces forms share: a field with its label and the API's message for it.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use maud::{DOCTYPE, Markup, html};

use crate::console::session::{CSRF_FIELD, Viewer, url_escape};
use crate::domain::identity::Role;
use crate::error::ApiError;
use crate::i18n::Locale;

/// The console's pages load their own style sheet and script and nothing else; forms post only
/// to the console itself; no page can be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; img-src 'self' data:; font-src 'none'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `zh` or `en`, by the page's language.
pub fn t(locale: Locale, zh: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::ZhCn => zh,
        Locale::En => en,
    }
}

/// A query's or form's value as given: trimmed, and none when empty.
pub fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An HTML answer of the console: never cached, under the console's policy.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .body(markup.into_string())
}

/// Sends the browser on to `path` after a form (303, so a reload does not send it again).
pub fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, path.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A whole page without navigation (sign-in, errors before sign-in).
pub fn bare(locale: Locale, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(locale.tag()) {
            (head(title))
            body {
                main.narrow { (body) }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · wastetrack" }
            link rel="stylesheet" href=(crate::console::assets::CSS_PATH);
            script src=(crate::console::assets::JS_PATH) defer {}
        }
    }
}

/// Where `role` may go, as (path, Chinese, English).
fn sections(role: Role) -> &'static [(&'static str, &'static str, &'static str)] {
    match role {
        Role::ParkOffice => &[
            ("/dashboard", "仓库概况", "Warehouse"),
            ("/lots", "入库批次", "Lots"),
            ("/lots/new", "称重入库", "Weigh in"),
            ("/lots/declare", "申报待收", "Declare"),
            ("/pickups", "转移申请", "Pickup requests"),
            ("/manifests", "转移联单", "Manifests"),
            ("/statements", "对账单", "Statements"),
            ("/remittances", "代收结算", "Remittances"),
            ("/ledgers", "管理台账", "Ledgers"),
            ("/anomalies", "异常清单", "Anomalies"),
            ("/figures", "图表", "Charts"),
        ],
        Role::DisposerDispatcher => &[
            ("/pickups", "清运申请", "Pickup requests"),
            ("/manifests", "转移联单", "Manifests"),
            ("/lots", "废物批次", "Lots"),
            ("/remittances", "代收结算", "Remittances"),
        ],
        Role::Driver => &[
            ("/pickups", "清运任务", "Pickups"),
            ("/manifests", "转移联单", "Manifests"),
        ],
        Role::Inspector => &[
            ("/parks", "辖区园区", "Parks"),
            ("/manifests", "转移联单", "Manifests"),
            ("/anomalies", "异常清单", "Anomalies"),
            ("/lots", "废物批次", "Lots"),
            ("/pickups", "转移申请", "Pickup requests"),
        ],
        Role::PlatformAdmin => &[
            ("/lots", "废物批次", "Lots"),
            ("/pickups", "转移申请", "Pickup requests"),
            ("/manifests", "转移联单", "Manifests"),
        ],
        Role::EnterpriseUser => &[
            ("/lots", "废物批次", "Lots"),
            ("/lots/declare", "申报待收", "Declare"),
            ("/pickups", "转移申请", "Pickup requests"),
            ("/manifests", "转移联单", "Manifests"),
            ("/statements", "对账单", "Statements"),
            ("/ledgers", "管理台账", "Ledgers"),
        ],
    }
}

/// A page of a signed-in viewer: navigation by role, the page's heading, its body.
pub fn page(v: &Viewer, title: &str, active: &str, body: Markup) -> Markup {
    let l = v.locale;
    let (other, other_name) = match l {
        Locale::ZhCn => ("en", "English"),
        Locale::En => ("zh-CN", "中文"),
    };
    html! {
        (DOCTYPE)
        html lang=(l.tag()) {
            (head(title))
            body {
                a.skip href="#main" { (t(l, "跳到正文", "Skip to content")) }
                header.top {
                    nav aria-label=(t(l, "主导航", "Main")) {
                        span.brand { "wastetrack" }
                        ul {
                            @for (path, zh, en) in sections(v.principal.role) {
                                li {
                                    @if *path == active {
                                        a href=(path) aria-current="page" { (t(l, zh, en)) }
                                    } @else {
                                        a href=(path) { (t(l, zh, en)) }
                                    }
                                }
                            }
                        }
                    }
                    div.account {
                        span.user { (v.principal.username) }
                        a lang=(other) href={ "/language?to=" (other) "&back=" (url_escape(&v.path)) } { (other_name) }
                        form method="post" action="/signout" {
                            (csrf(v))
                            button type="submit" { (t(l, "退出", "Sign out")) }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden token every form of a signed-in page carries.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(v.csrf); }
}

/// The messages of a refused request, by field name (as the API names them), in `locale`; the
/// messages that name no field under `""`.
pub fn field_messages(error: &ApiError, locale: Locale) -> HashMap<String, String> {
    let problem = error.problem_in(locale);
    let mut out = HashMap::new();
    match problem.errors.as_slice() {
        [] => {
            out.insert(String::new(), problem.detail);
        }
        errors => {
            for e in errors {
                out.entry(e.field.clone())
                    .and_modify(|m: &mut String| {
                        m.push_str("; ");
                        m.push_str(&e.message);
                    })
                    .or_insert_with(|| e.message.clone());
            }
        }
    }
    out
}

/// The messages of a refused form by the form's field: `place` says where an API field is on
/// the form; the messages of fields it does not show go above the form (under `""`).
pub fn form_messages(
    error: &ApiError,
    locale: Locale,
    place: impl Fn(&str) -> Option<&'static str>,
) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (field, message) in field_messages(error, locale) {
        let at = place(&field).unwrap_or_default().to_owned();
        out.entry(at)
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&message);
            })
            .or_insert(message);
    }
    out
}

/// A labelled field with its message, if any, tied to it for assistive technology.
pub fn field(name: &str, label: &str, error: Option<&String>, control: Markup) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) }
            (control)
            @if let Some(message) = error {
                p.error id=(error_id) role="alert" { (message) }
            }
        }
    }
}

/// A select named `name` with a first empty choice, `chosen` selected, tied to its message.
pub fn select_control(
    l: Locale,
    name: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &HashMap<String, String>,
) -> Markup {
    let error = errors.get(name);
    html! {
        select id=(name) name=(name) required aria-invalid=[error.map(|_| "true")]
            aria-describedby=[described_by(name, error)] {
            option value="" { (t(l, "请选择", "Choose")) }
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    }
}

/// A text input named `name` holding `value`, for the keyboard `mode` (`text`, `numeric`,
/// `decimal`), at most `max` characters, required or not, tied to its message.
pub fn text_control(
    name: &str,
    value: &str,
    (mode, max, required): (&str, u32, bool),
    errors: &HashMap<String, String>,
) -> Markup {
    let error = errors.get(name);
    html! {
        input id=(name) name=(name) type="text" inputmode=(mode) maxlength=(max) required[required]
            value=(value) aria-invalid=[error.map(|_| "true")]
            aria-describedby=[described_by(name, error)];
    }
}

/// The `aria-describedby` of a field's control when it has a message.
pub fn described_by(name: &str, error: Option<&String>) -> Option<String> {
    error.map(|_| format!("{name}-error"))
}

/// A refused page: the problem in the page's language, as a page of its own.
#[derive(Debug)]
pub struct PageError {
    pub locale: Locale,
    pub error: ApiError,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = &self.error {
            tracing::error!(error = ?cause, "console page failed");
        }
        let l = self.locale;
        let problem = self.error.problem_in(l);
        let body = html! {
            h1 { (problem.title) }
            p.problem { (problem.detail) }
            p { a href="/" { (t(l, "返回首页", "Back to the start")) } }
        };
        let mut response = respond(self.status_code(), bare(l, &problem.title, body));
        // When to try again, as the API says it.
        let retry_after = match &self.error {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(retry_after_secs.to_string()),
            ApiError::Unavailable(_) => Some(crate::error::UNAVAILABLE_RETRY_AFTER_SECS.to_owned()),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl Viewer {
    /// Turns an error of a use case into this viewer's error page.
    pub fn fail(&self) -> impl Fn(ApiError) -> PageError + '_ {
        move |error| PageError {
            locale: self.locale,
            error,
        }
    }
}
