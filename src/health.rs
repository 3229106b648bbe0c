//! Liveness and readiness probes.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    pub status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(tag = "health", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database is reachable and every migration this binary knows is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or migrations pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let pending = state
        .db
        .run(|conn| {
            crate::db::has_pending_migrations(conn).map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                ApiError::Unavailable("the database is unreachable")
            })
        })
        .await?;
    if pending {
        return Err(ApiError::Unavailable(
            "database migrations are pending; run `wastetrack migrate`",
        ));
    }
    Ok(web::Json(Health { status: "ready" }))
}
