//! HTTP endpoints of the audit chain: its entries, and the walk that verifies it. There is no
//! endpoint that changes or removes an entry.

use actix_web::{get, web};

use crate::audit::service::{self, EntryView, VerifyReport};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Problem, Validator};
use crate::http::{Page, PageQuery};
use crate::state::AppState;

/// Walk the audit chain from its first kept entry to its head and report the first broken
/// link (administrators).
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The outcome of the walk; `intact` is false and `first_broken` names the entry when a link is broken", body = VerifyReport),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<VerifyReport>, ApiError> {
    authorize(&principal, Action::VerifyAudit)?;
    let report = state.db.snapshot(service::verify).await?;
    Ok(web::Json(report))
}

/// List audit entries, newest first: all of them for administrators, those of its park's
/// objects for a park office, those of the parks of its jurisdiction for an inspector.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<EntryView>),
        (status = 403, description = "The role reads no audit entries", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit/entries")]
pub async fn entries(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<EntryView>>, ApiError> {
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    crate::auth::policy::audit_scope(&principal)?;
    let found = state
        .db
        .run(move |conn| service::list(conn, &principal, &page))
        .await?;
    Ok(web::Json(found))
}
