//! Use cases of authentication: log in, refresh, log out, change one's password.

use actix_web::web;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::store::{self, RefreshTokenRow, SessionRow, ThrottleScope};
use crate::auth::{Principal, password, tokens};
use crate::config::AuthSettings;
use crate::db::DbConn;
use crate::db::locks::Lock;
use crate::domain::identity::NewPassword;
use crate::domain::ids::new_id;
use crate::error::ApiError;
use crate::error::NOT_VISIBLE;
use crate::identity::store as users;
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "invalid username or password";
const BAD_REFRESH: &str = "the refresh token is invalid, expired or revoked";

/// Whether a WeChat account is linked to you. The WeChat identifiers themselves are not shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"linked": true, "linked_at": "2026-11-25T02:00:00Z"}))]
pub struct WechatLinkView {
    pub linked: bool,
    pub linked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Option<store::WechatLinkRow>> for WechatLinkView {
    fn from(row: Option<store::WechatLinkRow>) -> Self {
        Self {
            linked: row.is_some(),
            linked_at: row.map(|r| r.linked_at.and_utc()),
        }
    }
}

/// What a successful login or refresh hands out.
pub struct Issued {
    /// The instant of issue, from which the lifetimes are counted.
    pub issued_at: DateTime<Utc>,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Verifies a username and password; on success opens a session.
///
/// Failed attempts are counted per account and per client address over a sliding window; past
/// the limit, attempts are refused with 429 before the password is even checked. Each attempt
/// is recorded as a failure *before* its password check (under a lock on its account and
/// address), and the record is removed only when the password is right: attempts sent all at
/// once count as much as attempts sent one by one.
pub async fn login(
    state: &AppState,
    username: String,
    password_given: String,
    address: String,
) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let username = username.trim().to_lowercase();
    let limits = state.auth.clone();
    let (attempt, user) = {
        let (username, address) = (username.clone(), address.clone());
        state
            .db
            .write(move |conn| {
                // The account is throttled for the address that guesses it, not for everyone:
                // a guesser cannot lock its owner out.
                let account_address = format!("{username} {address}");
                let attempt = reserve_attempt(
                    conn,
                    &limits,
                    &[
                        (ThrottleScope::AccountAddress, &account_address),
                        (ThrottleScope::Address, &address),
                    ],
                    now,
                )?;
                // Kept in the audit chain as an attempt; a success follows it as a login.
                crate::audit::describe(
                    format!("/api/v1/auth/login/{username}"),
                    serde_json::json!({"event": "login_attempt", "address": address}),
                );
                Ok((attempt, users::find_user_by_username(conn, &username)?))
            })
            .await?
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = {
        let _permit =
            state.password_checks.acquire().await.map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("password check queue closed: {e}"))
            })?;
        web::block(move || match stored_hash {
            Some(hash) => password::verify(&password_given, &hash),
            None => {
                password::verify_dummy(&password_given);
                false
            }
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password check failed: {e}")))?
    };

    // A wrong password, or the right one of a deactivated user: the attempt stays a failure.
    let Some(user) = user.filter(|u| password_ok && u.deactivated_at.is_none()) else {
        tracing::info!("login failed");
        crate::metrics::login_failed("password", "credentials");
        return Err(ApiError::Unauthenticated(BAD_CREDENTIALS));
    };
    let settings = state.auth.clone();
    let user_id = user.id.clone();
    let actor = crate::audit::context::Actor {
        user_id: user.id.clone(),
        organization_id: user.organization_id.clone(),
        role: user.role.clone(),
        park_id: None,
    };
    let (session_id, refresh_token, refresh_expires_at) = state
        .db
        .write(move |conn| {
            crate::audit::context::actor(actor);
            crate::audit::describe(
                format!("/api/v1/users/{user_id}"),
                serde_json::json!({"event": "login", "address": address}),
            );
            for id in &attempt {
                store::delete_failure(conn, id)?;
            }
            store::clear_failures(
                conn,
                ThrottleScope::AccountAddress,
                &format!("{username} {address}"),
            )?;
            open_session(conn, &settings, &user_id, now)
        })
        .await?;
    tracing::info!(user_id = %user.id, session_id = %session_id, "logged in");
    let (access_token, access_expires_at) = state.keys.issue(&user.id, &session_id, now)?;
    Ok(Issued {
        issued_at: now,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

/// Under a lock on the subjects, refuses an attempt past any subject's limit (429), else
/// records it as a failure for each subject; returns the records' ids, to be removed if the
/// attempt succeeds.
fn reserve_attempt(
    conn: &mut DbConn,
    settings: &AuthSettings,
    subjects: &[(ThrottleScope, &str)],
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    let scopes: Vec<String> = subjects
        .iter()
        .map(|(scope, _)| format!("{scope:?}"))
        .collect();
    let locks: Vec<Lock<'_>> = subjects
        .iter()
        .zip(&scopes)
        .map(|((_, subject), scope)| Lock::Login { scope, subject })
        .collect();
    crate::db::locks::take_all(conn, &locks)?;
    store::prune_failures(conn, (now - window(settings)).naive_utc())?;
    for (scope, subject) in subjects {
        check_throttle(conn, settings, *scope, subject, now)?;
    }
    subjects
        .iter()
        .map(|(scope, subject)| {
            Ok(store::insert_failure(
                conn,
                *scope,
                subject,
                now.naive_utc(),
            )?)
        })
        .collect()
}

fn window(settings: &AuthSettings) -> Duration {
    Duration::seconds(i64::try_from(settings.login_window_secs).unwrap_or(900))
}

fn check_throttle(
    conn: &mut DbConn,
    settings: &AuthSettings,
    scope: ThrottleScope,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let max = match scope {
        ThrottleScope::Account | ThrottleScope::AccountAddress => {
            settings.login_max_failures_per_account
        }
        ThrottleScope::Address => settings.login_max_failures_per_address,
    } as usize;
    let window = window(settings);
    let failures = store::failures_since(conn, scope, subject, (now - window).naive_utc())?;
    if failures.len() < max {
        return Ok(());
    }
    // Attempts are allowed again once enough failures have left the window.
    let frees_at = failures[failures.len() - max].and_utc() + window;
    let retry_after_secs = u64::try_from((frees_at - now).num_seconds().max(1)).unwrap_or(1);
    tracing::warn!(scope = ?scope, "login throttled");
    crate::metrics::login_failed("any", "throttled");
    Err(ApiError::TooManyRequests {
        retry_after_secs,
        detail: match scope {
            ThrottleScope::Account => "too many failed logins for this account",
            ThrottleScope::AccountAddress => {
                "too many failed logins for this account from this address"
            }
            ThrottleScope::Address => "too many failed logins from this address",
        },
    })
}

/// Creates a session with its first refresh token; returns (session id, token, token expiry).
fn open_session(
    conn: &mut DbConn,
    settings: &AuthSettings,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<(String, String, DateTime<Utc>), ApiError> {
    let session = SessionRow {
        id: new_id("ses"),
        user_id: user_id.to_owned(),
        created_at: now.naive_utc(),
        expires_at: (now + secs(settings.session_max_age_secs)).naive_utc(),
        revoked_at: None,
        revoked_reason: None,
    };
    store::insert_session(conn, &session)?;
    let (token, expires_at) = add_refresh_token(conn, settings, &session, now)?;
    Ok((session.id, token, expires_at))
}

fn add_refresh_token(
    conn: &mut DbConn,
    settings: &AuthSettings,
    session: &SessionRow,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let token = tokens::new_refresh_token();
    let expires_at =
        (now + secs(settings.refresh_token_ttl_secs)).min(session.expires_at.and_utc());
    store::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            token_hash: tokens::digest(&token),
            session_id: session.id.clone(),
            created_at: now.naive_utc(),
            expires_at: expires_at.naive_utc(),
            used_at: None,
        },
    )?;
    Ok((token, expires_at))
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000))
}

enum Refreshed {
    Rotated {
        user_id: String,
        session_id: String,
        token: String,
        expires_at: DateTime<Utc>,
    },
    Invalid,
    /// An already-rotated token came back: it may have been stolen, so the family is revoked.
    Reused {
        session_id: String,
    },
}

/// Exchanges a refresh token for a new access token and a new refresh token. A token can be
/// used once; presenting it again revokes its whole session.
pub async fn refresh(state: &AppState, presented: String) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let settings = state.auth.clone();
    let hash = tokens::digest(&presented);
    let outcome = state
        .db
        // The revocation of a reused family must be committed even though the request fails,
        // so the outcome is returned as a value, not an error.
        .write(move |conn| {
            let Some((token, session)) = store::find_refresh_token(conn, &hash)? else {
                return Ok(Refreshed::Invalid);
            };
            if token.used_at.is_some() {
                store::revoke_session(conn, &session.id, "refresh token reused", now.naive_utc())?;
                return Ok(Refreshed::Reused {
                    session_id: session.id,
                });
            }
            let live =
                store::live_session_user(conn, &session.id, &session.user_id, now.naive_utc())?;
            if live.is_none() || token.expires_at <= now.naive_utc() {
                return Ok(Refreshed::Invalid);
            }
            if !store::claim_refresh_token(conn, &hash, now.naive_utc())? {
                // A concurrent request used the same token first: that is reuse too.
                store::revoke_session(conn, &session.id, "refresh token reused", now.naive_utc())?;
                return Ok(Refreshed::Reused {
                    session_id: session.id,
                });
            }
            let (token, expires_at) = add_refresh_token(conn, &settings, &session, now)?;
            Ok::<_, ApiError>(Refreshed::Rotated {
                user_id: session.user_id,
                session_id: session.id,
                token,
                expires_at,
            })
        })
        .await?;
    match outcome {
        Refreshed::Rotated {
            user_id,
            session_id,
            token,
            expires_at,
        } => {
            let (access_token, access_expires_at) = state.keys.issue(&user_id, &session_id, now)?;
            Ok(Issued {
                issued_at: now,
                access_token,
                access_expires_at,
                refresh_token: token,
                refresh_expires_at: expires_at,
            })
        }
        Refreshed::Reused { session_id } => {
            tracing::warn!(session_id = %session_id, "refresh token reuse detected; session revoked");
            Err(ApiError::Unauthenticated(BAD_REFRESH))
        }
        Refreshed::Invalid => Err(ApiError::Unauthenticated(BAD_REFRESH)),
    }
}

/// Ends the principal's session: its refresh tokens and access tokens stop working.
pub async fn logout(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let session_id = principal.session_id.clone();
    let now = state.clock.now().naive_utc();
    state
        .db
        .write(move |conn| Ok(store::revoke_session(conn, &session_id, "logout", now)?))
        .await?;
    tracing::info!(session_id = %principal.session_id, "logged out");
    Ok(())
}

/// Changes the principal's own password after checking the current one; every other session
/// of the user is ended.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: String,
    new: NewPassword,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let user_id = principal.user_id.clone();
    let username = principal.username.clone();
    let limits = state.auth.clone();
    // Wrong current passwords count against the account like failed logins.
    let (attempt, user) = state
        .db
        .write(move |conn| {
            let attempt =
                reserve_attempt(conn, &limits, &[(ThrottleScope::Account, &username)], now)?;
            let user = users::find_user(conn, &user_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
            Ok((attempt, user))
        })
        .await?;
    let new_hash = {
        let _permit =
            state.password_checks.acquire().await.map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("password check queue closed: {e}"))
            })?;
        web::block(move || {
            if password::verify(&current, &user.password_hash) {
                password::hash(new.expose()).map(Some)
            } else {
                Ok(None)
            }
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing failed: {e}")))??
    };
    let Some(new_hash) = new_hash else {
        return Err(ApiError::field(
            "current_password",
            "mismatch",
            "is not your current password",
        ));
    };
    let (user_id, session_id) = (principal.user_id.clone(), principal.session_id.clone());
    state
        .db
        .write(move |conn| {
            for id in &attempt {
                store::delete_failure(conn, id)?;
            }
            users::update_user(
                conn,
                &user_id,
                &users::UserChanges {
                    password_hash: Some(new_hash),
                    updated_at: Some(now.naive_utc()),
                    ..Default::default()
                },
            )?;
            store::revoke_user_sessions(
                conn,
                &user_id,
                Some(&session_id),
                "password changed",
                now.naive_utc(),
            )?;
            Ok(())
        })
        .await
}

const WECHAT_OFF: &str = "WeChat sign-in is not configured on this server";
const WECHAT_NOT_LINKED: &str = "this WeChat account is linked to no active user: sign in once \
     with your username and password, then link it with POST /auth/wechat/link";

fn wechat(state: &AppState) -> Result<&crate::auth::wechat::Wechat, ApiError> {
    state
        .wechat
        .as_ref()
        .ok_or(ApiError::Unavailable(WECHAT_OFF))
}

/// Signs in the active user linked to the WeChat account behind a `wx.login` code. An
/// unknown WeChat account gets a 401, never an account; like failed password logins, such
/// attempts are counted per client address, and refused with 429 past the limit.
pub async fn wechat_login(
    state: &AppState,
    code: String,
    address: String,
) -> Result<Issued, ApiError> {
    let wechat = wechat(state)?;
    let now = state.clock.now();
    let limits = state.auth.clone();
    let attempt = state
        .db
        .write(move |conn| {
            reserve_attempt(conn, &limits, &[(ThrottleScope::Address, &address)], now)
        })
        .await?;
    let who = wechat.exchange(&code).await?;
    let settings = state.auth.clone();
    let opened = state
        .db
        .write(move |conn| {
            let Some(link) = store::wechat_link_of_openid(conn, &who.appid, &who.openid)? else {
                return Ok(None);
            };
            let active =
                users::find_user(conn, &link.user_id)?.is_some_and(|u| u.deactivated_at.is_none());
            if !active {
                return Ok(None);
            }
            for id in &attempt {
                store::delete_failure(conn, id)?;
            }
            let (session_id, token, expires_at) =
                open_session(conn, &settings, &link.user_id, now)?;
            Ok(Some((link.user_id, session_id, token, expires_at)))
        })
        .await?;
    let Some((user_id, session_id, refresh_token, refresh_expires_at)) = opened else {
        tracing::info!("WeChat sign-in of an account linked to no active user");
        crate::metrics::login_failed("wechat", "not_linked");
        return Err(ApiError::Unauthenticated(WECHAT_NOT_LINKED));
    };
    tracing::info!(user_id = %user_id, session_id = %session_id, "logged in with WeChat");
    let (access_token, access_expires_at) = state.keys.issue(&user_id, &session_id, now)?;
    Ok(Issued {
        issued_at: now,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

/// Links the WeChat account behind a `wx.login` code to the principal: one WeChat account per
/// user and one user per WeChat account (409 otherwise).
pub async fn wechat_link(
    state: &AppState,
    principal: &Principal,
    code: String,
) -> Result<store::WechatLinkRow, ApiError> {
    let who = wechat(state)?.exchange(&code).await?;
    let now = state.clock.now().naive_utc();
    let user_id = principal.user_id.clone();
    let row = state
        .db
        .write(move |conn| {
            if store::wechat_link_of_user(conn, &user_id)?.is_some() {
                return Err(ApiError::Conflict(
                    "you have already linked a WeChat account: unlink it first".to_owned(),
                ));
            }
            if store::wechat_link_of_openid(conn, &who.appid, &who.openid)?.is_some() {
                return Err(ApiError::Conflict(
                    "this WeChat account is linked to another user".to_owned(),
                ));
            }
            let row = store::WechatLinkRow {
                user_id,
                appid: who.appid,
                openid: who.openid,
                unionid: who.unionid,
                linked_at: now,
            };
            store::insert_wechat_link(conn, &row)?;
            Ok(row)
        })
        .await?;
    tracing::info!(user_id = %principal.user_id, "WeChat account linked");
    Ok(row)
}

/// The principal's linked WeChat account, if any.
pub async fn wechat_link_of(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<store::WechatLinkRow>, ApiError> {
    let user_id = principal.user_id.clone();
    state
        .db
        .run(move |conn| Ok(store::wechat_link_of_user(conn, &user_id)?))
        .await
}

/// Removes the principal's link to WeChat (404 when there is none). Sessions already open
/// with WeChat stay open until they end or the user logs out.
pub async fn wechat_unlink(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let user_id = principal.user_id.clone();
    let removed = state
        .db
        .write(move |conn| Ok(store::delete_wechat_link(conn, &user_id)?))
        .await?;
    if removed == 0 {
        return Err(ApiError::NotFound("no WeChat account is linked to you"));
    }
    tracing::info!(user_id = %principal.user_id, "WeChat account unlinked");
    Ok(())
}
