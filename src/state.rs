//! What every handler can reach: the application state, built once at start-up and shared by
//! all workers.

use crate::auth::tokens::TokenKeys;
use crate::clock::Clock;
use crate::config::AuthSettings;
use crate::db::Db;

/// What every handler can reach, shared by all workers.
pub struct AppState {
    pub db: Db,
    /// The one source of "now" for every rule.
    pub clock: Clock,
    pub keys: TokenKeys,
    pub auth: AuthSettings,
    /// WeChat sign-in for the mini-program; `None` while it is not configured.
    pub wechat: Option<crate::auth::wechat::Wechat>,
    pub trust_forwarded_for: bool,
    /// Base of the URLs printed in labels' QR codes, without a trailing slash.
    pub public_base_url: String,
    /// Password checks running at once: each takes ~19 MiB and a core for a while, so a flood
    /// of logins queues here instead of exhausting memory.
    pub password_checks: tokio::sync::Semaphore,
    /// Internal hosts that webhook URLs may name anyway.
    pub webhook_hosts: std::sync::Arc<crate::notify::guard::AllowedHosts>,
    /// Mass-balance tolerance of manifests, in percent by weight.
    pub mass_balance_tolerance_percent: i64,
    /// Days after the take-over day within which a manifest's waste must arrive.
    pub manifest_transport_days: i64,
    /// Whether responses carry a `Server-Timing` header with their database work.
    pub server_timing: bool,
}
