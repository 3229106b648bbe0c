//! A stand-in for WeChat's code2session endpoint, for tests and for trying the mini-program's
//! sign-in without WeChat (`wastetrack wechat-stand-in`). It answers as WeChat documents it:
//! JSON labelled `text/plain`, `openid` / `session_key` / `unionid` on success, `errcode` /
//! `errmsg` otherwise, each code usable once.
//!
//! Codes it understands (a real `wx.login` code is an opaque 32-character string):
//! - `user-NAME` or `user-NAME.ANYTHING`: the WeChat user NAME (letters, digits, `-`, `_`) signs
//!   in; the same NAME always has the same openid for one AppID, and what follows the dot makes
//!   each code new (a code works once).
//! - `err-N`: WeChat's error N (e.g. `err-40029`, `err-45011`, `err--1`).
//! - `slow-MS-NAME`: like `user-NAME`, answered after MS milliseconds (at most two minutes).
//! - `garbage`: an answer that is not JSON.
//!
//! Anything else is an invalid code (40029); a wrong AppID, AppSecret or grant type is refused
//! as WeChat refuses it.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::domain::digest::sha256_hex;

struct StandIn {
    appid: String,
    secret: String,
    used: Mutex<HashSet<String>>,
}

#[derive(Deserialize)]
struct Query {
    appid: Option<String>,
    secret: Option<String>,
    js_code: Option<String>,
    grant_type: Option<String>,
}

/// Serves the stand-in on `listener` (path `/sns/jscode2session`) for one AppID and AppSecret.
pub fn server(
    listener: TcpListener,
    appid: String,
    secret: String,
) -> std::io::Result<actix_web::dev::Server> {
    let state = web::Data::new(StandIn {
        appid,
        secret,
        used: Mutex::new(HashSet::new()),
    });
    Ok(
        HttpServer::new(move || App::new().app_data(state.clone()).service(code2session))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run(),
    )
}

/// WeChat's message for an error code, as its documentation gives it.
fn errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        40002 => "invalid grant_type",
        40013 => "invalid appid",
        40029 => "invalid code",
        40125 => "invalid appsecret",
        40163 => "code been used",
        40226 => "high risk user",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        _ => "error",
    }
}

fn answer(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(body.to_string())
}

fn error(code: i64) -> HttpResponse {
    answer(json!({"errcode": code, "errmsg": errmsg(code)}))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[get("/sns/jscode2session")]
async fn code2session(state: web::Data<StandIn>, query: web::Query<Query>) -> HttpResponse {
    let q = query.into_inner();
    if q.appid.as_deref() != Some(state.appid.as_str()) {
        return error(40013);
    }
    if q.secret.as_deref() != Some(state.secret.as_str()) {
        return error(40125);
    }
    if q.grant_type.as_deref() != Some("authorization_code") {
        return error(40002);
    }
    let code = q.js_code.unwrap_or_default();
    if let Some(n) = code.strip_prefix("err-") {
        return error(n.parse().unwrap_or(40029));
    }
    if code == "garbage" {
        return HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>bad gateway</html>");
    }
    let (delay_ms, user) = match code.strip_prefix("slow-").map(|r| r.split_once('-')) {
        Some(Some((ms, user))) => (ms.parse::<u64>().unwrap_or(0), user),
        Some(None) => return error(40029),
        None => match code.strip_prefix("user-") {
            Some(user) => (0, user),
            None => return error(40029),
        },
    };
    let name = user.split('.').next().unwrap_or_default();
    if !valid_name(name) {
        return error(40029);
    }
    let fresh = state
        .used
        .lock()
        .map(|mut used| used.insert(code.clone()))
        .unwrap_or(false);
    if !fresh {
        return error(40163);
    }
    if delay_ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(delay_ms.min(120_000))).await;
    }
    let id = |kind: &str, prefix: &str| {
        let hex = sha256_hex(format!("{kind}:{}:{name}", state.appid).as_bytes());
        format!("{prefix}{}", &hex[..27])
    };
    let session_key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    answer(json!({
        "openid": id("openid", "o"),
        "session_key": session_key,
        "unionid": id("unionid", "u"),
    }))
}
