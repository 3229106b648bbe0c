//! Typed settings: built-in defaults, then an optional TOML file, then `WASTETRACK_*`
//! environment variables (nested keys joined by `__`, e.g. `WASTETRACK_AUTH__JWT_SECRET`).
//!
//! Every setting has a working default, so `wastetrack serve` needs no file. Secrets are
//! `SecretString`s: their `Debug` output is redacted, so printing the settings is safe.

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::telemetry::LogFormat;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free port.
    pub listen: String,
    /// `sqlite://path/to/file.db` (the embedded default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Connections in the pool.
    pub database_max_connections: u32,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// A `tracing` filter, e.g. `info` or `info,wastetrack=debug`.
    pub log_filter: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    pub shutdown_timeout_secs: u64,
    /// Take the client address from the last entry of `X-Forwarded-For`, the one your proxy
    /// appends (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// The URL at which clients reach this service, as printed in labels' QR codes (default
    /// `http://` + `listen`).
    pub public_base_url: Option<String>,
    /// Answer every request with a `Server-Timing` header giving its database time and the
    /// number of SQL statements it executed (for developers and the benchmark; it tells
    /// clients a little about the work behind each request).
    pub server_timing: bool,
    /// Password of the platform administrator created on an empty database. When unset, one is
    /// generated and printed once.
    #[serde(serialize_with = "redacted")]
    pub admin_password: Option<SecretString>,
    pub auth: AuthSettings,
    pub notify: NotifySettings,
    pub wechat: WechatSettings,
    pub metrics: MetricsSettings,
    pub rate_limit: RateLimitSettings,
    /// Difference by weight, in percent, beyond which a manifest's mass balance (lots in,
    /// weighed out, received) flags it for review.
    pub mass_balance_tolerance_percent: i64,
    /// Days after the day of take-over (in the park's time zone) within which the waste of a
    /// manifest must be recorded as arrived; a transfer not arrived by the end of the last is
    /// overdue (0 to 30).
    pub manifest_transport_days: i64,
    /// For tests and training only: the service's clock shows this instant at start and runs
    /// on from there, so that every date rule (storage age, due dates, statement months,
    /// manifest years, token expiry) sees that time. Unset, the machine's clock is used; never
    /// set it in production.
    pub clock_start_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Pickup rules checked over time, and the webhook dispatcher.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct NotifySettings {
    /// Run the webhook dispatcher and the periodic checks in this process.
    pub background_enabled: bool,
    /// How often an idle dispatcher looks for due deliveries.
    pub poll_interval_ms: u64,
    /// How often the storage-age and zone-capacity rules, alarms and licence expiries are
    /// checked (weighings check the rules at once).
    pub sweep_interval_secs: u64,
    pub webhook_connect_timeout_secs: u64,
    /// Longest an attempt may take, answer included.
    pub webhook_timeout_secs: u64,
    /// How long a dispatcher holds a claimed delivery; after that (e.g. if the process died),
    /// another takes it. Must exceed the timeout.
    pub webhook_claim_lease_secs: u64,
    /// Delays between attempts, in seconds, comma-separated; after the last, a delivery fails.
    pub webhook_retry_schedule_secs: String,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub webhook_disable_after_secs: u64,
    /// Hosts (names or addresses, comma-separated) that webhooks may reach even though they are
    /// loopback, private or link-local, e.g. a receiver on this machine.
    pub webhook_allowed_hosts: String,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            background_enabled: true,
            poll_interval_ms: 500,
            sweep_interval_secs: 60,
            webhook_connect_timeout_secs: 5,
            webhook_timeout_secs: 15,
            webhook_claim_lease_secs: 60,
            webhook_retry_schedule_secs: "5,300,1800,7200,18000,36000,50400,72000,72000".to_owned(),
            webhook_disable_after_secs: 3 * 24 * 3600,
            webhook_allowed_hosts: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AuthSettings {
    /// `iss` of issued access tokens, and the only issuer accepted.
    pub issuer: String,
    /// `aud` of issued access tokens, and the only audience accepted.
    pub audience: String,
    /// The one signing algorithm accepted: HS256, HS384 or HS512.
    pub algorithm: String,
    /// Key id (`kid` header) of the signing key.
    pub jwt_key_id: String,
    /// Signing secret, at least 32 bytes. When unset, a random one is made at start: tokens then
    /// do not survive a restart and cannot be shared between instances.
    #[serde(serialize_with = "redacted")]
    pub jwt_secret: Option<SecretString>,
    /// Retired keys still accepted for verification while their tokens expire, as
    /// `kid=secret` pairs separated by commas.
    #[serde(serialize_with = "redacted")]
    pub jwt_retired_keys: Option<SecretString>,
    /// Lifetime of an access token.
    pub access_token_ttl_secs: u64,
    /// Lifetime of one refresh token (each refresh issues a new one).
    pub refresh_token_ttl_secs: u64,
    /// Absolute lifetime of a session (a login and all its refreshes).
    pub session_max_age_secs: u64,
    /// Window over which failed logins are counted.
    pub login_window_secs: u64,
    /// Failed logins allowed per account from one client address within the window (the
    /// guesser is throttled, not the account's owner elsewhere); also the wrong current
    /// passwords allowed per signed-in account.
    pub login_max_failures_per_account: u32,
    /// Failed logins allowed per client address within the window.
    pub login_max_failures_per_address: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://data/wastetrack.db".to_owned(),
            database_max_connections: 10,
            workers: 0,
            log_filter: "info".to_owned(),
            log_format: LogFormat::Text,
            body_limit_bytes: 64 * 1024,
            shutdown_timeout_secs: 30,
            trust_forwarded_for: false,
            public_base_url: None,
            server_timing: false,
            admin_password: None,
            auth: AuthSettings::default(),
            notify: NotifySettings::default(),
            wechat: WechatSettings::default(),
            metrics: MetricsSettings::default(),
            rate_limit: RateLimitSettings::default(),
            mass_balance_tolerance_percent: crate::domain::manifest::DEFAULT_TOLERANCE_PERCENT,
            manifest_transport_days: crate::domain::manifest::DEFAULT_TRANSPORT_DAYS,
            clock_start_at: None,
        }
    }
}

/// WeChat sign-in for the mini-program: the service exchanges `wx.login`'s code at WeChat's
/// code2session endpoint. Off until both `appid` and `secret` are set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct WechatSettings {
    /// The mini-program's AppID.
    pub appid: Option<String>,
    /// The mini-program's AppSecret; never logged.
    #[serde(serialize_with = "redacted")]
    pub secret: Option<SecretString>,
    /// WeChat's code2session endpoint; point it at `wastetrack wechat-stand-in` to try sign-in
    /// without WeChat.
    pub code2session_url: String,
    /// Time allowed for WeChat's answer, in milliseconds (100 to 60000).
    pub timeout_ms: u64,
}

/// Requests per minute allowed to one client of the API (a burst of that many at once); 0 turns
/// a limit off. Past it: 429 with `Retry-After`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Per client address (behind a proxy, see `trust_forwarded_for`).
    pub per_address_per_minute: u32,
    /// Per access token.
    pub per_token_per_minute: u32,
    /// Per client address, to the public verification pages of labels (`/api/v1/verify/…`),
    /// besides the limit above: nobody scanning labels needs more, and it slows a search for
    /// tokens further.
    pub verify_per_address_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            per_address_per_minute: 1200,
            per_token_per_minute: 600,
            verify_per_address_per_minute: 30,
        }
    }
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Addresses or CIDR networks, comma-separated, served without a token.
    pub allowed_addresses: String,
    /// A bearer token (at least 16 characters) that reads the metrics from anywhere.
    #[serde(serialize_with = "redacted")]
    pub token: Option<SecretString>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            allowed_addresses: "127.0.0.1,::1".to_owned(),
            token: None,
        }
    }
}

impl Default for WechatSettings {
    fn default() -> Self {
        Self {
            appid: None,
            secret: None,
            code2session_url: "https://api.weixin.qq.com/sns/jscode2session".to_owned(),
            timeout_ms: 5000,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "wastetrack".to_owned(),
            audience: "wastetrack-api".to_owned(),
            algorithm: "HS256".to_owned(),
            jwt_key_id: "k1".to_owned(),
            jwt_secret: None,
            jwt_retired_keys: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            session_max_age_secs: 90 * 24 * 3600,
            login_window_secs: 15 * 60,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 50,
        }
    }
}

impl Settings {
    /// The service's clock: the machine's, or one running from `clock_start_at`.
    pub fn clock(&self) -> crate::clock::Clock {
        match self.clock_start_at {
            Some(at) => {
                tracing::warn!(%at, "the clock runs from clock_start_at: every date rule reads it; never set this in production");
                crate::clock::Clock::starting_at(at)
            }
            None => crate::clock::Clock::system(),
        }
    }

    /// Loads the settings. `file` is an explicit config file (it must exist); without one,
    /// `wastetrack.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_with(file, None)
    }

    /// Like [`Settings::load`], with `environment` in place of the process's when given.
    fn load_with(
        file: Option<&Path>,
        environment: Option<config::Map<String, String>>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder();
        builder = match file {
            Some(path) => builder.add_source(config::File::from(path).required(true)),
            None => builder.add_source(config::File::with_name("wastetrack.toml").required(false)),
        };
        let settings: Self = builder
            .add_source(
                config::Environment::with_prefix("WASTETRACK")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(environment),
            )
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        Ok(settings)
    }

    /// The environment variable of every setting (`WASTETRACK_LISTEN`,
    /// `WASTETRACK_AUTH__JWT_SECRET`, …), sorted, derived from the settings themselves: what
    /// the README's tables and the deployment files may name.
    pub fn environment_names() -> anyhow::Result<Vec<String>> {
        let serde_json::Value::Object(fields) = serde_json::to_value(Self::default())? else {
            anyhow::bail!("the settings do not serialize as an object");
        };
        let mut names = Vec::new();
        for (key, value) in fields {
            let key = key.to_uppercase();
            match value {
                serde_json::Value::Object(nested) => names.extend(
                    nested
                        .keys()
                        .map(|k| format!("WASTETRACK_{key}__{}", k.to_uppercase())),
                ),
                _ => names.push(format!("WASTETRACK_{key}")),
            }
        }
        names.sort();
        Ok(names)
    }
}

/// A secret serializes as `"[redacted]"` when set, so that settings can be shown without it.
fn redacted<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some("[redacted]"),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every derived name reaches its setting: each set to a value other than the default
    /// changes what is loaded.
    #[test]
    fn every_environment_name_sets_its_setting() {
        let names = Settings::environment_names().unwrap_or_default();
        assert!(names.len() > 30, "{names:?}");
        assert!(names.contains(&"WASTETRACK_AUTH__JWT_SECRET".to_owned()));
        let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
        let default_of = |name: &str| {
            let path = name.trim_start_matches("WASTETRACK_").to_lowercase();
            match path.split_once("__") {
                Some((section, key)) => defaults[section][key].clone(),
                None => defaults[path.as_str()].clone(),
            }
        };
        let mut environment = config::Map::new();
        for name in &names {
            let other = match (name.as_str(), default_of(name)) {
                ("WASTETRACK_LOG_FORMAT", _) => "json".to_owned(),
                ("WASTETRACK_AUTH__ALGORITHM", _) => "HS512".to_owned(),
                ("WASTETRACK_CLOCK_START_AT", _) => "2026-11-25T02:00:00Z".to_owned(),
                (_, serde_json::Value::Bool(b)) => (!b).to_string(),
                (_, serde_json::Value::Number(n)) => (n.as_i64().unwrap_or(0) + 1).to_string(),
                (_, serde_json::Value::String(s)) => format!("{s}-changed"),
                _ => "changed".to_owned(),
            };
            environment.insert(name.clone(), other);
        }
        let loaded =
            Settings::load_with(None, Some(environment)).unwrap_or_else(|e| panic!("{e:#}"));
        let loaded = serde_json::to_value(loaded).unwrap_or_default();
        for name in &names {
            let path = name.trim_start_matches("WASTETRACK_").to_lowercase();
            let value = match path.split_once("__") {
                Some((section, key)) => loaded[section][key].clone(),
                None => loaded[path.as_str()].clone(),
            };
            assert_ne!(value, default_of(name), "{name} did not change its setting");
        }
    }
}
