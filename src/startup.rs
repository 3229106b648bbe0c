//! Builds the application: pool, migrations, first administrator, routes, middleware, server.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::auth::tokens::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::http::fallback::{self, RouteTable};
use crate::http::json::BodyLimit;
use crate::openapi::RenderedDocument;
use crate::state::AppState;
use crate::telemetry::{self, RootSpan};

/// Brings a database up to date before use: applies pending migrations, adds the built-in
/// catalog seed, and creates the first administrator on an empty database (returning its
/// generated password, if one was generated). Blocking.
pub fn prepare_database(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
    admin_password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let mut conn = db.get()?;
    // Several instances may start at once on one PostgreSQL: one prepares, the others wait.
    crate::db::session_lock(&mut conn, "wastetrack:prepare-database")?;
    let prepared = (|| {
        let applied = crate::db::run_migrations(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let seeded = crate::registry::catalog::service::seed_builtin(&mut conn, now)?;
        if seeded > 0 {
            tracing::info!(categories = seeded, "seeded the built-in HW categories");
        }
        crate::identity::service::bootstrap_admin(&mut conn, now, admin_password)
    })();
    crate::db::session_unlock(&mut conn, "wastetrack:prepare-database")?;
    prepared
}

/// `host:port` as clients would use it: the bound port replaces a requested port 0.
fn listener_address(listen: &str, port: u16) -> String {
    let host = listen.rsplit_once(':').map_or(listen, |(host, _)| host);
    format!("{host}:{port}")
}

pub struct Application {
    server: Server,
    port: u16,
    /// The generated password of a just-created administrator, to print once.
    pub bootstrap_password: Option<String>,
}

impl Application {
    /// Opens the database, applies migrations, creates the first administrator if the database
    /// has no user, and binds the listener (port 0 picks a free one). The server starts serving
    /// when the returned value is awaited with [`Application::run_until_stopped`].
    ///
    /// The clock is the machine's, unless `clock_start_at` is set (training and tests only).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let clock = settings.clock();
        Self::build_with_clock(settings, clock).await
    }

    /// Like [`Application::build`], with a clock of the caller's (tests move it).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database_url, settings.database_max_connections)?;
        let admin_password = settings
            .admin_password
            .as_ref()
            .map(|p| p.expose_secret().to_owned());
        let bootstrap_db = db.clone();
        let now = clock.now();
        let bootstrap_password =
            web::block(move || prepare_database(&bootstrap_db, now, admin_password.as_deref()))
                .await
                .context("start-up task failed")??;

        let keys = TokenKeys::from_settings(&settings.auth)?;
        if keys.ephemeral {
            tracing::warn!(
                "no auth.jwt_secret configured: a random signing key is used, so tokens die with this \
                 process and are not accepted by other instances; set WASTETRACK_AUTH__JWT_SECRET"
            );
        }

        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        tracing::info!(listen = %settings.listen, port, backend = ?db.backend(), "wastetrack listening");

        crate::background::spawn(&db, &clock, &settings.notify)?;
        if !(0..=100).contains(&settings.mass_balance_tolerance_percent) {
            anyhow::bail!("mass_balance_tolerance_percent must be 0 to 100");
        }
        if !(0..=30).contains(&settings.manifest_transport_days) {
            anyhow::bail!("manifest_transport_days must be 0 to 30");
        }
        let wechat = crate::auth::wechat::Wechat::from_settings(&settings.wechat)?;
        let state = web::Data::new(AppState {
            wechat,
            mass_balance_tolerance_percent: settings.mass_balance_tolerance_percent,
            manifest_transport_days: settings.manifest_transport_days,
            webhook_hosts: std::sync::Arc::new(crate::notify::guard::AllowedHosts::parse(
                &settings.notify.webhook_allowed_hosts,
            )),
            db,
            clock,
            keys,
            auth: settings.auth.clone(),
            trust_forwarded_for: settings.trust_forwarded_for,
            server_timing: settings.server_timing,
            public_base_url: settings
                .public_base_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", listener_address(&settings.listen, port)))
                .trim_end_matches('/')
                .to_owned(),
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
        });
        let doc = crate::openapi::document();
        let routes = web::Data::new(RouteTable::from_openapi(&doc));
        let rendered = web::Data::new(RenderedDocument(
            doc.to_pretty_json()
                .context("rendering the OpenAPI document")?,
        ));
        let body_limit = settings.body_limit_bytes;
        let limits = web::Data::new(crate::http::limits::Limits::new(
            &settings.rate_limit,
            settings.trust_forwarded_for,
        ));
        let metrics_access = web::Data::new(crate::metrics::Access::parse(
            &settings.metrics.allowed_addresses,
            settings.metrics.token.clone(),
        )?);

        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(crate::routes::configure)
                .split_for_parts();
            let app = app.configure(crate::console::configure);
            app.app_data(state.clone())
                .app_data(routes.clone())
                .app_data(rendered.clone())
                .app_data(metrics_access.clone())
                .app_data(limits.clone())
                .app_data(web::Data::new(BodyLimit(body_limit)))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
                .app_data(web::PathConfig::default().error_handler(fallback::path_error))
                .default_service(web::to(fallback::not_matched))
                .wrap(from_fn(crate::audit::context::scope))
                .wrap(from_fn(fallback::problem_bodies))
                .wrap(from_fn(crate::http::limits::limit_requests))
                .wrap(from_fn(crate::http::headers::security_headers))
                .wrap(from_fn(crate::metrics::count_requests))
                .wrap(from_fn(telemetry::request_context))
                .wrap(TracingLogger::<RootSpan>::new())
        })
        .listen(listener)?
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(30));
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Self {
            server: server.run(),
            port,
            bootstrap_password,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully (what SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish (up to
    /// `shutdown_timeout_secs`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
