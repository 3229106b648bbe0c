//! Structured logs and request ids.
//!
//! `tracing_actix_web::TracingLogger` opens one span per request carrying a `request_id`; every
//! log line written while serving the request (including inside blocking database work, see
//! `db::Db::run`) is written inside that span. [`request_context`] returns the id in the
//! `x-request-id` header and makes it available to error bodies, with the language negotiated
//! from `Accept-Language` (see `crate::i18n`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Installs the global subscriber. Calling it twice is harmless (the second call does nothing).
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init(),
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
    // A subscriber already installed (tests start many servers) is fine.
    let _ = result;
}

tokio::task_local! {
    static REQUEST_ID: String;
    static DB_WORK: Arc<DbWorkTotal>;
}

/// Database work done for a request: statements executed and time spent, including the wait
/// for a pooled connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct DbWork {
    pub statements: u64,
    pub elapsed: Duration,
}

/// A request's running total of [`DbWork`].
#[derive(Debug, Default)]
struct DbWorkTotal {
    statements: AtomicU64,
    micros: AtomicU64,
}

/// Adds database work to the total of the request being served on this task, if any.
pub fn add_db_work(work: DbWork) {
    let _ = DB_WORK.try_with(|total| {
        total
            .statements
            .fetch_add(work.statements, Ordering::Relaxed);
        let micros = u64::try_from(work.elapsed.as_micros()).unwrap_or(u64::MAX);
        total.micros.fetch_add(micros, Ordering::Relaxed);
    });
}

/// The `Server-Timing` entry of a request's database work (`db;dur=<ms>;desc="<n> statements"`):
/// browsers' developer tools show it, and the statement-count test reads it.
fn server_timing(total: &DbWorkTotal) -> String {
    let micros = total.micros.load(Ordering::Relaxed);
    format!(
        "db;dur={}.{:03};desc=\"{} statements\"",
        micros / 1000,
        micros % 1000,
        total.statements.load(Ordering::Relaxed)
    )
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Puts the request id into the response header and the task-local, and writes one access
/// log line per request.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let started = Instant::now();
    // Handlers' and extractors' errors arrive here already rendered (inside this scope, so
    // their bodies carry the id); only a middleware's own error would pass through as `Err`.
    // So are they in the language the client asked for.
    let locale = crate::i18n::Locale::negotiate(&req);
    let timing = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|state| state.server_timing);
    let db_work = Arc::new(DbWorkTotal::default());
    let mut response = crate::i18n::scope(
        locale,
        REQUEST_ID.scope(id.clone(), DB_WORK.scope(db_work.clone(), next.call(req))),
    )
    .await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if timing && let Ok(value) = HeaderValue::from_str(&server_timing(&db_work)) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("server-timing"),
            value,
        );
    }
    tracing::info!(
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        db_statements = db_work.statements.load(Ordering::Relaxed),
        db_us = db_work.micros.load(Ordering::Relaxed),
        "request served"
    );
    Ok(response)
}

/// The per-request root span: tracing-actix-web's fields plus the authenticated `user_id`,
/// filled in by the principal extractor.
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(request, user_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
