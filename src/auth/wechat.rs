//! WeChat mini-program sign-in: the code from `wx.login` is exchanged at WeChat's code2session
//! endpoint (`GET …/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`) for
//! the user's `openid` (and `unionid` when the mini-program is bound to an open platform
//! account), or an `errcode` with its `errmsg`.
//!
//! The answer's `session_key` is never read into memory: the service decrypts no WeChat data,
//! so it neither stores it nor hands it to the client. The AppSecret travels only in the query
//! of the exchange, never in a log line (reqwest's errors are logged without their URL).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::WechatSettings;
use crate::error::{ApiError, FieldError};

/// Longest `js_code` accepted (WeChat's are 32 characters).
pub const CODE_MAX: usize = 128;
/// Longest `openid` or `unionid` taken from WeChat's answer (theirs are 28 characters).
const ID_MAX: usize = 128;

/// A configured mini-program: where and as whom to exchange codes.
pub struct Wechat {
    client: reqwest::Client,
    url: reqwest::Url,
    appid: String,
    secret: SecretString,
}

/// Who WeChat says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatUser {
    pub appid: String,
    pub openid: String,
    pub unionid: Option<String>,
}

/// WeChat's answer, without `session_key` (left unread on purpose).
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// `errcode` values that code2session documents.
pub mod errcode {
    /// The code is invalid (or expired: codes live five minutes).
    pub const INVALID_CODE: i64 = 40029;
    /// The code was already exchanged.
    pub const CODE_USED: i64 = 40163;
    /// Too many exchanges for this user (100 a minute).
    pub const RATE_LIMITED: i64 = 45011;
    /// WeChat blocks this user's sign-in as high-risk.
    pub const HIGH_RISK: i64 = 40226;
    /// WeChat is busy; try again.
    pub const BUSY: i64 = -1;
}

impl Wechat {
    /// `None` while the AppID or the AppSecret is unset: WeChat sign-in is then off.
    pub fn from_settings(settings: &WechatSettings) -> anyhow::Result<Option<Self>> {
        let (Some(appid), Some(secret)) = (&settings.appid, &settings.secret) else {
            return Ok(None);
        };
        if appid.trim().is_empty() || secret.expose_secret().trim().is_empty() {
            anyhow::bail!("wechat.appid and wechat.secret must not be empty when set");
        }
        if !(100..=60_000).contains(&settings.timeout_ms) {
            anyhow::bail!("wechat.timeout_ms must be 100 to 60000");
        }
        let url = reqwest::Url::parse(&settings.code2session_url)
            .map_err(|e| anyhow::anyhow!("wechat.code2session_url is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            anyhow::bail!("wechat.code2session_url must be an http or https URL");
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(Self {
            client,
            url,
            appid: appid.trim().to_owned(),
            secret: secret.clone(),
        }))
    }

    /// Exchanges a `wx.login` code; WeChat's refusals become answers the mini-program can act
    /// on (422 on `code`, 429, 403), and its silence or confusion a 503.
    pub async fn exchange(&self, code: &str) -> Result<WechatUser, ApiError> {
        let response = self
            .client
            .get(self.url.clone())
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose_secret()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| {
                let e = e.without_url();
                tracing::warn!(error = %e, timeout = e.is_timeout(), "WeChat code2session failed");
                if e.is_timeout() {
                    ApiError::Unavailable("WeChat did not answer in time; try again")
                } else {
                    ApiError::Unavailable("WeChat could not be reached; try again")
                }
            })?;
        let status = response.status();
        // WeChat answers JSON labelled text/plain: the body is read whatever its type.
        let body = response.bytes().await.map_err(|e| {
            tracing::warn!(error = %e.without_url(), "WeChat code2session answer cut short");
            ApiError::Unavailable("WeChat's answer was cut short; try again")
        })?;
        let answer: Answer = match serde_json::from_slice(&body) {
            Ok(answer) if status.is_success() => answer,
            _ => {
                tracing::warn!(
                    status = status.as_u16(),
                    "WeChat code2session answered unreadably"
                );
                return Err(ApiError::Unavailable(
                    "WeChat answered in a way this service does not understand",
                ));
            }
        };
        self.read(answer)
    }

    fn read(&self, answer: Answer) -> Result<WechatUser, ApiError> {
        match answer.errcode.unwrap_or(0) {
            0 => {}
            errcode::INVALID_CODE => {
                return Err(code_error(
                    "invalid",
                    "WeChat does not know this code, or it expired: call wx.login again",
                ));
            }
            errcode::CODE_USED => {
                return Err(code_error(
                    "used",
                    "this code was already used: call wx.login again",
                ));
            }
            errcode::RATE_LIMITED => {
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: 60,
                    detail: "WeChat limits sign-ins of this user to 100 a minute",
                });
            }
            errcode::HIGH_RISK => {
                return Err(ApiError::Forbidden(
                    "WeChat blocks this account's sign-in as high-risk",
                ));
            }
            errcode::BUSY => return Err(ApiError::Unavailable("WeChat is busy; try again")),
            other => {
                // Among them 40013 / 40125 (this server's AppID or AppSecret is wrong).
                tracing::error!(
                    errcode = other,
                    errmsg = answer.errmsg.as_deref().unwrap_or(""),
                    "WeChat code2session refused the exchange"
                );
                return Err(ApiError::Unavailable(
                    "WeChat refused the exchange; the service's WeChat settings may be wrong",
                ));
            }
        }
        let openid = answer.openid.filter(|id| valid_id(id)).ok_or_else(|| {
            tracing::warn!("WeChat code2session answered without a usable openid");
            ApiError::Unavailable("WeChat answered without the user's openid")
        })?;
        Ok(WechatUser {
            appid: self.appid.clone(),
            openid,
            unionid: answer.unionid.filter(|id| valid_id(id)),
        })
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= ID_MAX
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn code_error(code: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new("code", code, message)])
}

/// Checks a `js_code` before it is sent anywhere.
pub fn check_code(code: &str) -> Result<(), ApiError> {
    let chars = code.chars().count();
    if chars == 0 || chars > CODE_MAX || code.chars().any(char::is_control) {
        return Err(code_error(
            "invalid",
            &format!("must be 1 to {CODE_MAX} characters, as wx.login gives it"),
        ));
    }
    Ok(())
}
