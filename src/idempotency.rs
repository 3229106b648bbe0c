//! `Idempotency-Key` for retried POSTs (IETF httpapi draft): a phone on a poor network may send
//! the same request several times, and only the first may take effect.
//!
//! - same key and same request: the first response is replayed;
//! - same key and another request: 422;
//! - same key while the first request is still running: 409.
//!
//! Keys are scoped to the caller and kept for 48 hours (then a claim ignores them and the
//! periodic check deletes them). The first request's effect and its
//! stored response commit in one transaction, so a crash cannot leave a done request without
//! its replay (nor a replay without its effect). A request that ends in a server error releases
//! its key, so that it can be retried.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::Principal;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, write_transaction};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// How long keys are kept.
pub const RETENTION_HOURS: i64 = 48;
/// A request still marked running after this long is taken to have died with its process.
pub const ABANDONED_AFTER_SECS: i64 = 60;

/// The SHA-256 of the request body, left in the request's extensions by the JSON extractor.
#[derive(Debug, Clone)]
pub struct BodyDigest(pub String);

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<String>);

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get("idempotency-key").map(|v| {
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| {
                    !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "the Idempotency-Key header must be 1 to 255 visible ASCII characters"
                            .to_owned(),
                    )
                })
        });
        std::future::ready(match value {
            None => Ok(Self(None)),
            Some(Ok(key)) => Ok(Self(Some(key))),
            Some(Err(e)) => Err(e),
        })
    }
}

/// What identifies "the same request": method, path and body.
pub fn fingerprint(req: &HttpRequest) -> String {
    let digest = req
        .extensions()
        .get::<BodyDigest>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    format!("{} {} {digest}", req.method(), req.path())
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    user_id: String,
    key: String,
    fingerprint: String,
    locked_at: NaiveDateTime,
    status: Option<i32>,
    location: Option<String>,
    body: Option<String>,
    created_at: NaiveDateTime,
}

/// A stored response, replayed for a retry.
struct Stored {
    status: i32,
    location: Option<String>,
    body: String,
}

impl Stored {
    fn response(&self) -> HttpResponse {
        let status = u16::try_from(self.status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut response = HttpResponse::build(status);
        let content_type = if status.is_success() {
            "application/json"
        } else {
            PROBLEM_JSON
        };
        response.insert_header((header::CONTENT_TYPE, content_type));
        response.insert_header(("idempotent-replayed", "true"));
        if let Some(location) = self
            .location
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            response.insert_header((header::LOCATION, location));
        }
        response.body(self.body.clone())
    }
}

enum Begun {
    /// The key is this request's, claimed at this instant: the claim's token. A request that
    /// stalls past [`ABANDONED_AFTER_SECS`] may lose its claim to a retry; then its own effect
    /// is rolled back, because completing requires the same token.
    Proceed(NaiveDateTime),
    Replay(Stored),
}

/// Keys created before this are past their retention.
fn expiry(now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::hours(RETENTION_HOURS)
}

/// Removes the keys past their retention; run by the periodic check (`background::sweep`),
/// not by each request, so that claiming a key costs the same however many are kept.
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(expiry(now.naive_utc()))),
    )
    .execute(conn)?)
}

/// Claims the key for this request, or tells what to answer instead.
fn begin(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Begun, ApiError> {
    let now = now.naive_utc();
    let existing = idempotency_keys::table
        .find((user_id, key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    // A key past its retention is forgotten, whether or not the periodic purge (`purge`) has
    // removed it yet: the claim reads one row by its key, whatever the number kept.
    let existing = match existing {
        Some(row) if row.created_at < expiry(now) => {
            diesel::delete(idempotency_keys::table.find((user_id, key))).execute(conn)?;
            None
        }
        other => other,
    };
    // Claiming a key changes no state of the service's own: no audit entry.
    crate::audit::skip();
    let Some(row) = existing else {
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values(&KeyRow {
                user_id: user_id.to_owned(),
                key: key.to_owned(),
                fingerprint: fingerprint.to_owned(),
                locked_at: now,
                status: None,
                location: None,
                body: None,
                created_at: now,
            })
            .execute(conn);
        return match inserted {
            Ok(_) => Ok(Begun::Proceed(now)),
            // A concurrent request with the same key got there first.
            Err(e) if crate::db::is_unique_violation(&e) => Err(in_progress()),
            Err(e) => Err(e.into()),
        };
    };
    if row.fingerprint != fingerprint {
        return Err(ApiError::field(
            "Idempotency-Key",
            "reused",
            "this key was already used for a different request; use a new key for a new request",
        ));
    }
    match (row.status, row.body) {
        (Some(status), Some(body)) => Ok(Begun::Replay(Stored {
            status,
            location: row.location,
            body,
        })),
        _ if row.locked_at < now - Duration::seconds(ABANDONED_AFTER_SECS) => {
            // Take over only the claim that was read: of two retries, one wins.
            let taken = diesel::update(
                idempotency_keys::table
                    .find((user_id, key))
                    .filter(idempotency_keys::status.is_null())
                    .filter(idempotency_keys::locked_at.eq(row.locked_at)),
            )
            .set(idempotency_keys::locked_at.eq(now))
            .execute(conn)?;
            if taken == 1 {
                Ok(Begun::Proceed(now))
            } else {
                Err(in_progress())
            }
        }
        _ => Err(in_progress()),
    }
}

const IN_PROGRESS: &str =
    "a request with this Idempotency-Key is still being processed; retry later";

/// Whether a request was refused because another with its key is still being processed.
pub fn is_in_progress(e: &ApiError) -> bool {
    matches!(e, ApiError::Conflict(m) if m == IN_PROGRESS)
}

fn in_progress() -> ApiError {
    ApiError::Conflict(IN_PROGRESS.to_owned())
}

/// Stores the answer, if the claim is still this request's.
fn complete(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    token: NaiveDateTime,
    stored: &Stored,
) -> Result<(), ApiError> {
    let updated = diesel::update(idempotency_keys::table)
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .filter(idempotency_keys::status.is_null())
        .filter(idempotency_keys::locked_at.eq(token))
        .set((
            idempotency_keys::status.eq(Some(stored.status)),
            idempotency_keys::location.eq(stored.location.clone()),
            idempotency_keys::body.eq(Some(stored.body.clone())),
        ))
        .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        // A retry took the key over while this request stalled: it answers instead.
        Err(in_progress())
    }
}

fn release(conn: &mut DbConn, user_id: &str, key: &str, token: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table)
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .filter(idempotency_keys::status.is_null())
        .filter(idempotency_keys::locked_at.eq(token))
        .execute(conn)
        .map(drop)
}

/// Runs `work` for the principal in one write transaction and answers `status` with its result
/// as JSON (and a `Location` from `location`), honouring the `Idempotency-Key` when one was
/// sent: keys are the principal's, and a request is recognised by its fingerprint.
pub async fn run<T, W, L>(
    state: &AppState,
    principal: Principal,
    req: &HttpRequest,
    key: Idempotency,
    status: StatusCode,
    location: L,
    work: W,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    W: FnOnce(&mut DbConn, &Principal) -> Result<T, ApiError> + Send + 'static,
    L: FnOnce(&T) -> Option<String> + Send + 'static,
{
    let (db, now) = (&state.db, state.clock.now());
    let fingerprint = fingerprint(req);
    let user_id = principal.user_id.clone();
    let user_id = user_id.as_str();
    let work = move |conn: &mut DbConn| work(conn, &principal);
    let Some(key) = key.0 else {
        let (value, location) = db
            .write(move |conn| {
                let value = work(conn)?;
                let location = location(&value);
                if let Some(l) = &location {
                    crate::audit::object_if_unnamed(l);
                }
                Ok((value, location))
            })
            .await?;
        return Ok(respond(status, location, &value));
    };
    let (user, k, fp) = (user_id.to_owned(), key.clone(), fingerprint);
    let token = match db
        .write(move |conn| begin(conn, now, &user, &k, &fp))
        .await?
    {
        Begun::Replay(stored) => return Ok(stored.response()),
        Begun::Proceed(token) => token,
    };
    let (user, k) = (user_id.to_owned(), key.clone());
    let outcome = db
        .write(move |conn| {
            let value = work(conn)?;
            let location = location(&value);
            if let Some(l) = &location {
                crate::audit::object_if_unnamed(l);
            }
            let body = serde_json::to_string(&value)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising a response: {e}")))?;
            complete(
                conn,
                &user,
                &k,
                token,
                &Stored {
                    status: i32::from(status.as_u16()),
                    location: location.clone(),
                    body: body.clone(),
                },
            )?;
            Ok((location, body))
        })
        .await;
    match outcome {
        Ok((location, body)) => {
            let mut response = HttpResponse::build(status);
            response.insert_header((header::CONTENT_TYPE, "application/json"));
            if let Some(location) = location {
                response.insert_header((header::LOCATION, location));
            }
            Ok(response.body(body))
        }
        // Lost the key to a retry: that retry answers; this one's effect was rolled back.
        Err(e) if is_in_progress(&e) => Err(e),
        Err(e) => {
            // A refusal is an answer too: replay it. A server error is not: free the key.
            let user = user_id.to_owned();
            let code = e.status_code();
            let problem = serde_json::to_string(&e.problem()).unwrap_or_default();
            db.run(move |conn| {
                if code.is_server_error() {
                    release(conn, &user, &key, token)?;
                } else {
                    // If a retry took the key over meanwhile, it answers; nothing to store.
                    let stored = write_transaction(conn, |conn| {
                        crate::audit::skip();
                        complete(
                            conn,
                            &user,
                            &key,
                            token,
                            &Stored {
                                status: i32::from(code.as_u16()),
                                location: None,
                                body: problem,
                            },
                        )
                    });
                    if let Err(e) = stored
                        && !is_in_progress(&e)
                    {
                        tracing::warn!(error = %e, "could not store a refusal for replay");
                    }
                }
                Ok(())
            })
            .await?;
            Err(e)
        }
    }
}

fn respond<T: Serialize>(status: StatusCode, location: Option<String>, value: &T) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    response.json(value)
}
