//! A form's write done once: the form carries a key made when the page was drawn, sent as the
//! write's `Idempotency-Key`, so the same form sent twice (a double click, a retry after a lost
//! answer) replays the first answer instead of writing again; one sent while the first is
//! still being written waits for it.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;

/// How long a second sending waits for the first, in steps of 100 ms.
const WAITS: u32 = 50;

/// Why a form sent again is refused when its first sending was refused.
const SENT_BEFORE: &str = "this form was sent before and refused: correct it and send it again";

/// Why a form sent again with other values is refused.
const SENT_CHANGED: &str =
    "this form was already sent with other values: open the form again to send new ones";

/// The form's key as an `Idempotency-Key`: none when it is empty or not one the API accepts.
pub fn key_of(raw: &str) -> Idempotency {
    Idempotency(
        Some(raw.trim().to_owned())
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic())),
    )
}

/// Runs the work `make` gives as `idempotency::run` does for the API, under the form's key and
/// the digest of its `fields` (kept by the audit chain as the form's body),
/// waiting while a first sending of the same form is in flight (`make` gives the work again
/// for each try); then the id of what it created (the last segment of the answer's
/// `Location`), or a conflict when the first sending was refused.
pub async fn once<T, W, L, M>(
    state: &AppState,
    principal: &Principal,
    (req, fields): (&HttpRequest, &[u8]),
    key: &str,
    location: L,
    make: M,
) -> Result<String, ApiError>
where
    T: Serialize + Send + 'static,
    W: FnOnce(&mut DbConn, &Principal) -> Result<T, ApiError> + Send + 'static,
    L: FnOnce(&T) -> Option<String> + Clone + Send + 'static,
    M: Fn() -> Result<W, ApiError>,
{
    // The form's fields are what the audit chain keeps of it, as it keeps an API request's
    // body; and "the same form" is the same fields (the form's token and key left out), as the
    // API's "same request" is the same body: the form sent again changed is refused.
    crate::audit::context::set_body(fields);
    req.extensions_mut().insert(crate::idempotency::BodyDigest(
        crate::domain::digest::sha256_hex(fields),
    ));
    let mut outcome = Err(ApiError::Internal(anyhow::anyhow!("no attempt made")));
    for _ in 0..WAITS {
        let work = match make() {
            Ok(work) => work,
            Err(e) => return Err(e),
        };
        outcome = idempotency::run(
            state,
            principal.clone(),
            req,
            key_of(key),
            StatusCode::CREATED,
            location.clone(),
            work,
        )
        .await
        .map_err(|e| match e {
            ApiError::Validation(errors) if errors.iter().any(|f| f.field == "Idempotency-Key") => {
                ApiError::Conflict(SENT_CHANGED.to_owned())
            }
            other => other,
        })
        .and_then(|answer| created(&answer));
        match &outcome {
            Err(e) if idempotency::is_in_progress(e) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            _ => break,
        }
    }
    outcome
}

/// The id an answer names: that of what was created, or of what a second sending of the same
/// form replays; a replayed refusal is said to be one.
fn created(answer: &HttpResponse) -> Result<String, ApiError> {
    if answer.status() != StatusCode::CREATED {
        return Err(ApiError::Conflict(SENT_BEFORE.to_owned()));
    }
    answer
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a write answered without its object")))
}
