//! The background tasks of a server process: the webhook dispatcher, and the periodic check of
//! the pickup rules that time alone can cross (storage age) and of the conditions told once.
//! Each feature owns its check; this module only calls them.
//!
//! Every process runs them; they are safe side by side on one PostgreSQL (see
//! `notify::dispatcher` and `requests::service`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::config::NotifySettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::notify::dispatcher::Dispatcher;

/// Starts the tasks on the current runtime. They end with it.
pub fn spawn(db: &Db, clock: &Clock, settings: &NotifySettings) -> anyhow::Result<()> {
    if !settings.background_enabled {
        return Ok(());
    }
    let dispatcher = Dispatcher::new(db.clone(), clock.clone(), settings)?;
    actix_web::rt::spawn(dispatcher.run());
    let db = db.clone();
    let clock = clock.clone();
    let every = Duration::from_secs(settings.sweep_interval_secs.max(1));
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = sweep(&db, clock.now()).await {
                tracing::warn!(error = %e, "periodic check failed; retrying at the next one");
            }
        }
    });
    Ok(())
}

type Check = fn(&mut crate::db::DbConn, DateTime<Utc>) -> Result<usize, ApiError>;

/// One periodic check: the pickup rules of every group with waiting lots, then each feature's
/// conditions told once — storage and capacity alarms (lots), overdue receipts (manifests),
/// expiring licences (the registry), overdue findings (patrols) — and the purge of expired
/// idempotency keys. Each runs even if another failed.
pub async fn sweep(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize), ApiError> {
    db.run(move |conn| {
        // A request the rules open here is a change of state like any other: audited, with no
        // person as its actor.
        let audit = crate::audit::context::enter(Some(crate::audit::context::RequestAudit {
            clock: crate::clock::Clock::starting_at(now),
            request_id: None,
            action: "periodic check: pickup rules".to_owned(),
            path: "/api/v1/pickup-requests".to_owned(),
            actor: None,
            body: None,
        }));
        let opened = crate::requests::service::sweep(conn, now).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "checking the pickup rules failed");
            0
        });
        drop(audit);
        // Each feature tells its own conditions; one failing does not stop the others.
        let mut told = 0;
        for (what, check) in [
            (
                "storage and capacity alarms",
                crate::lots::alarms::sweep as Check,
            ),
            ("overdue receipts", crate::manifests::service::tell_overdue),
            (
                "expiring licences",
                crate::registry::directory::service::tell_expiring_licences,
            ),
            ("overdue findings", crate::patrols::service::tell_overdue),
        ] {
            match check(conn, now) {
                Ok(n) => told += n,
                Err(e) => tracing::warn!(error = %e, "checking the {what} failed"),
            }
        }
        // Idempotency keys past their retention (a claim ignores them already).
        let purged = crate::idempotency::purge(conn, now).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "purging the expired idempotency keys failed");
            0
        });
        if opened + told + purged > 0 {
            tracing::info!(opened, told, purged, "periodic check");
        }
        Ok((opened, told))
    })
    .await
}
