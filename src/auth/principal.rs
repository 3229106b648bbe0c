//! The authenticated principal: a handler that needs a signed-in user takes a `Principal`
//! argument, and the request is refused with 401 before the handler runs otherwise.
//!
//! Besides the token's signature and claims, the session is checked in the database on every
//! request, so that logout, a detected refresh-token reuse or a deactivated user take effect at
//! once, and the role and organisation come from the database, not from the token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::store;
use crate::domain::identity::{OrganizationKind, Role};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub organization_id: String,
    pub organization_kind: OrganizationKind,
    pub session_id: String,
    /// The park the principal belongs to: its own for a park office, its enterprise's for an
    /// enterprise user.
    pub park_id: Option<String>,
    /// For an inspector: the region-code prefix of its bureau's jurisdiction.
    pub jurisdiction: Option<String>,
}

const INVALID_TOKEN: &str = "the access token is missing, invalid or expired";

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let token = token.ok_or(ApiError::Unauthenticated(INVALID_TOKEN))?;
            let claims = state.keys.verify(&token, state.clock.now()).map_err(|e| {
                tracing::info!(reason = %e, "access token refused");
                ApiError::Unauthenticated(INVALID_TOKEN)
            })?;
            let principal = of_session(&state, claims.sid, claims.sub).await?;
            tracing::Span::current().record("user_id", principal.user_id.as_str());
            crate::audit::context::set_actor(&principal);
            Ok(principal)
        })
    }
}

/// The principal of a live session of an active user, read from the database: the role and the
/// organisation as they are now, whatever the token or cookie that named the session says.
/// The API's bearer tokens and the console's session cookie both come through here.
pub async fn of_session(
    state: &AppState,
    session_id: String,
    user_id: String,
) -> Result<Principal, ApiError> {
    let now = state.clock.now().naive_utc();
    let (sid, sub) = (session_id.clone(), user_id);
    let found = state
        .db
        .run(move |conn| Ok(store::live_session_user(conn, &sid, &sub, now)?))
        .await?
        .ok_or_else(|| {
            tracing::info!("access token of an ended session or inactive user");
            ApiError::Unauthenticated(INVALID_TOKEN)
        })?;
    Ok(Principal {
        role: found
            .role
            .parse()
            .map_err(|e: String| ApiError::Internal(anyhow::anyhow!("stored role: {e}")))?,
        organization_kind: found.organization_kind.parse().map_err(|e: String| {
            ApiError::Internal(anyhow::anyhow!("stored organisation kind: {e}"))
        })?,
        park_id: match found.organization_kind.as_str() {
            "park" => Some(found.organization_id.clone()),
            _ => found.enterprise_park_id,
        },
        jurisdiction: found.jurisdiction,
        user_id: found.user_id,
        username: found.username,
        organization_id: found.organization_id,
        session_id,
    })
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 4096)
        .then(|| token.to_owned())
}
