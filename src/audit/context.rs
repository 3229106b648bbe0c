//! Who is changing what: the audit context of a request, carried to the transaction that writes
//! its change, where the entry is appended before the commit.
//!
//! A state-changing request (any method but GET, HEAD and OPTIONS) runs inside [`scope`], which
//! records the request id, the route's method and pattern (the action) and the path (the
//! object, unless the service names another). The `Principal` extractor adds the actor, the
//! JSON extractor the request's body with its secrets blanked (the summary). Task-locals do not
//! cross into the blocking pool, so `Db::run` takes a copy ([`current`]) before it leaves the
//! executor and installs it on the blocking thread ([`enter`]); the outermost
//! `write_transaction` then appends one entry when its work succeeded ([`append_pending`]), in
//! the same transaction. A transaction of a state-changing request is thus audited without its
//! handler doing anything; services only refine the entry ([`describe`], [`actor`]). Bookkeeping
//! transactions that change no state (claiming an Idempotency-Key) say so with [`skip`].

use std::cell::RefCell;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use serde_json::Value;

use crate::auth::Principal;
use crate::clock::Clock;
use crate::db::DbConn;
use crate::state::AppState;

/// Who acted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub organization_id: String,
    pub role: String,
    /// The actor's park (a park office's own, an enterprise's), when it has one.
    pub park_id: Option<String>,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Self {
            user_id: p.user_id.clone(),
            organization_id: p.organization_id.clone(),
            role: p.role.as_str().to_owned(),
            park_id: p.park_id.clone(),
        }
    }
}

/// What a state-changing request brings to its audit entries.
#[derive(Debug, Clone)]
pub struct RequestAudit {
    pub clock: Clock,
    pub request_id: Option<String>,
    /// The route: method and pattern, e.g. `POST /api/v1/lots/{id}/void`.
    pub action: String,
    /// The path requested, the object unless the service names another.
    pub path: String,
    pub actor: Option<Actor>,
    /// The request's JSON body, secrets blanked, in canonical form.
    pub body: Option<Value>,
}

/// What the service adds to the entry of its transaction.
#[derive(Debug, Default)]
struct Notes {
    object: Option<String>,
    change: Option<Value>,
    park_id: Option<String>,
    actor: Option<Actor>,
    skip: bool,
}

tokio::task_local! {
    static REQUEST: RefCell<RequestAudit>;
}

thread_local! {
    /// The request whose blocking work runs on this thread, installed by [`enter`].
    static CURRENT: RefCell<Option<RequestAudit>> = const { RefCell::new(None) };
    /// The outermost write transaction running on this thread, if it is audited.
    static PENDING: RefCell<Option<(RequestAudit, Notes)>> = const { RefCell::new(None) };
}

/// Whether a method changes state: every one but GET, HEAD and OPTIONS.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Runs a state-changing request inside its audit context.
pub async fn scope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let clock = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.clock.clone());
    let (true, Some(clock)) = (changes_state(req.method()), clock) else {
        return next.call(req).await;
    };
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string);
    let pattern = req
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_owned());
    let audit = RequestAudit {
        clock,
        request_id,
        action: format!("{} {pattern}", req.method()),
        path: req.path().to_owned(),
        actor: None,
        body: None,
    };
    REQUEST.scope(RefCell::new(audit), next.call(req)).await
}

/// Records the authenticated actor of the request being served, if it changes state.
pub fn set_actor(principal: &Principal) {
    let _ = REQUEST.try_with(|r| r.borrow_mut().actor = Some(Actor::from(principal)));
}

/// Records the JSON body of the request being served, if it changes state, with the values of
/// members that hold secrets blanked.
pub fn set_body(bytes: &[u8]) {
    let _ = REQUEST.try_with(|r| {
        let body = serde_json::from_slice::<Value>(bytes)
            .map(|mut v| {
                blank_secrets(&mut v);
                v
            })
            .ok();
        r.borrow_mut().body = body;
    });
}

/// Names of members whose values are never written into the log.
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "code"]
        .iter()
        .any(|s| key.contains(s))
        && !key.ends_with("waste_code")
        && key != "waste_codes"
        && key != "region_code"
}

fn blank_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if is_secret(key) && !member.is_null() {
                    *member = Value::String("(withheld)".to_owned());
                } else {
                    blank_secrets(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(blank_secrets),
        _ => {}
    }
}

/// A copy of the audit context of the request being served, for its blocking work.
pub fn current() -> Option<RequestAudit> {
    REQUEST.try_with(|r| r.borrow().clone()).ok()
}

/// Installs `audit` as the context of the blocking work on this thread until the guard drops.
pub fn enter(audit: Option<RequestAudit>) -> Entered {
    CURRENT.with(|c| *c.borrow_mut() = audit);
    Entered(())
}

/// Removes the blocking work's context when dropped (the thread serves other work next).
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
        PENDING.with(|p| *p.borrow_mut() = None);
    }
}

/// Called as the outermost write transaction begins.
pub(crate) fn begin_transaction() {
    let audit = CURRENT.with(|c| c.borrow().clone());
    PENDING.with(|p| *p.borrow_mut() = audit.map(|a| (a, Notes::default())));
}

/// Called as the outermost write transaction ends, committed or not.
pub(crate) fn end_transaction() {
    PENDING.with(|p| *p.borrow_mut() = None);
}

fn note(f: impl FnOnce(&mut Notes)) {
    PENDING.with(|p| {
        if let Some((_, notes)) = p.borrow_mut().as_mut() {
            f(notes);
        }
    });
}

/// Names the object the transaction changed and what changed in it.
pub fn describe(object: impl Into<String>, change: Value) {
    let object = object.into();
    note(|n| {
        n.object = Some(object);
        n.change = Some(change);
    });
}

/// Names the object the transaction changed, unless already named (e.g. the `Location` of what
/// a request created).
pub fn object_if_unnamed(object: &str) {
    note(|n| {
        if n.object.is_none() {
            n.object = Some(object.to_owned());
        }
    });
}

/// Names the park the changed object belongs to (which inspectors and park offices read the
/// entry).
pub fn park(park_id: &str) {
    let park_id = park_id.to_owned();
    note(|n| n.park_id = Some(park_id));
}

/// Names the actor where the request has no principal (a login).
pub fn actor(actor: Actor) {
    note(|n| n.actor = Some(actor));
}

/// Marks the transaction as bookkeeping that changes no state: no entry.
pub fn skip() {
    note(|n| n.skip = true);
}

/// Appends the entry of the running transaction, if it is audited; called after its work
/// succeeded, before the commit.
pub(crate) fn append_pending(conn: &mut DbConn) -> diesel::QueryResult<()> {
    let Some((audit, notes)) = PENDING.with(|p| p.borrow_mut().take()) else {
        return Ok(());
    };
    if notes.skip {
        return Ok(());
    }
    let actor = notes.actor.or(audit.actor);
    let mut summary = serde_json::Map::new();
    if let Some(body) = audit.body {
        summary.insert("request".to_owned(), body);
    }
    if let Some(change) = notes.change {
        summary.insert("change".to_owned(), change);
    }
    let entry = super::chain::NewEntry {
        at: audit.clock.now(),
        request_id: audit.request_id,
        park_id: notes
            .park_id
            .or_else(|| actor.as_ref().and_then(|a| a.park_id.clone())),
        user_id: actor.as_ref().map(|a| a.user_id.clone()),
        organization_id: actor.as_ref().map(|a| a.organization_id.clone()),
        role: actor.map(|a| a.role),
        action: audit.action,
        object: notes.object.unwrap_or(audit.path),
        summary: crate::domain::canonical::to_string(&Value::Object(summary)),
    };
    super::store::append(conn, &entry).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_withheld_and_codes_of_waste_kept() {
        let mut body = serde_json::json!({
            "username": "a", "password": "p", "new_password": "q",
            "code": "wx", "waste_code": "900-041-49", "items": [{"secret": "s"}]
        });
        blank_secrets(&mut body);
        assert_eq!(body["password"], "(withheld)");
        assert_eq!(body["new_password"], "(withheld)");
        assert_eq!(body["code"], "(withheld)");
        assert_eq!(body["items"][0]["secret"], "(withheld)");
        assert_eq!(body["waste_code"], "900-041-49");
        assert_eq!(body["username"], "a");
    }
}
