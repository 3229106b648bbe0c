//! Queries on sessions, refresh tokens and failed logins. Diesel only; no rules.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    bureaus, enterprises, login_failures, organizations, refresh_tokens, sessions, users,
    wechat_links,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// The user behind a live session: what the principal extractor needs.
#[derive(Debug, Clone, Queryable)]
pub struct SessionUser {
    pub user_id: String,
    pub username: String,
    pub role: String,
    pub organization_id: String,
    pub organization_kind: String,
    /// For an enterprise user: the park of its enterprise.
    pub enterprise_park_id: Option<String>,
    /// For an inspector: the jurisdiction of its bureau.
    pub jurisdiction: Option<String>,
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_refresh_token(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The user of session `session_id` if the session belongs to `user_id`, is neither revoked nor
/// expired, and the user is active.
pub fn live_session_user(
    conn: &mut DbConn,
    session_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<SessionUser>> {
    sessions::table
        .inner_join(users::table.inner_join(organizations::table))
        .left_join(enterprises::table.on(enterprises::organization_id.eq(users::organization_id)))
        .left_join(bureaus::table.on(bureaus::organization_id.eq(users::organization_id)))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::deactivated_at.is_null())
        .select((
            users::id,
            users::username,
            users::role,
            users::organization_id,
            organizations::kind,
            enterprises::park_id.nullable(),
            bureaus::jurisdiction.nullable(),
        ))
        .first(conn)
        .optional()
}

pub fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<(RefreshTokenRow, SessionRow)>> {
    refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((RefreshTokenRow::as_select(), SessionRow::as_select()))
        .first(conn)
        .optional()
}

/// Marks a refresh token used, only if it was not used yet. Returns whether this call did it:
/// of two concurrent refreshes with one token, exactly one wins.
pub fn claim_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_session(
    conn: &mut DbConn,
    session_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// Revokes every live session of a user, except `keep` (the caller's own, when it changes its
/// password).
pub fn revoke_user_sessions(
    conn: &mut DbConn,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep.unwrap_or("")))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// One account, from anywhere (wrong current passwords of a signed-in user).
    Account,
    /// One client address, whatever the account.
    Address,
    /// One account from one client address: the guesser, not the account's owner elsewhere.
    AccountAddress,
}

impl ThrottleScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Address => "address",
            Self::AccountAddress => "account_address",
        }
    }
}

/// Times of the failures of `subject` since `since`, oldest first.
pub fn failures_since(
    conn: &mut DbConn,
    scope: ThrottleScope,
    subject: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    login_failures::table
        .filter(login_failures::scope.eq(scope.as_str()))
        .filter(login_failures::subject.eq(subject))
        .filter(login_failures::failed_at.gt(since))
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .load(conn)
}

/// Records a failed (or not yet successful) attempt; returns its id.
pub fn insert_failure(
    conn: &mut DbConn,
    scope: ThrottleScope,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = crate::domain::ids::new_id("lf");
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(&id),
            login_failures::scope.eq(scope.as_str()),
            login_failures::subject.eq(subject),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn delete_failure(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.find(id)).execute(conn)
}

pub fn clear_failures(
    conn: &mut DbConn,
    scope: ThrottleScope,
    subject: &str,
) -> QueryResult<usize> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::scope.eq(scope.as_str()))
            .filter(login_failures::subject.eq(subject)),
    )
    .execute(conn)
}

/// Forgets failures older than `before`: they no longer count, so the table stays small.
pub fn prune_failures(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(before))).execute(conn)
}

/// A WeChat account linked to a user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wechat_links)]
pub struct WechatLinkRow {
    pub user_id: String,
    pub appid: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub linked_at: NaiveDateTime,
}

pub fn insert_wechat_link(conn: &mut DbConn, row: &WechatLinkRow) -> QueryResult<()> {
    diesel::insert_into(wechat_links::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn wechat_link_of_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<WechatLinkRow>> {
    wechat_links::table
        .find(user_id)
        .select(WechatLinkRow::as_select())
        .first(conn)
        .optional()
}

pub fn wechat_link_of_openid(
    conn: &mut DbConn,
    appid: &str,
    openid: &str,
) -> QueryResult<Option<WechatLinkRow>> {
    wechat_links::table
        .filter(wechat_links::appid.eq(appid))
        .filter(wechat_links::openid.eq(openid))
        .select(WechatLinkRow::as_select())
        .first(conn)
        .optional()
}

pub fn delete_wechat_link(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    diesel::delete(wechat_links::table.find(user_id)).execute(conn)
}
