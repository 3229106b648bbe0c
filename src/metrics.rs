//! Prometheus metrics of this process, served at `/metrics` in the text format to the addresses
//! and the token the settings allow.
//!
//! Counters and histograms live in one registry per process (several app instances on one
//! PostgreSQL are scraped one by one and summed by Prometheus). The database pool's gauges and
//! the outbox backlog are read when scraped. Labels are bounded: a request's route is its
//! pattern (`/api/v1/lots/{id}`), never its path.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, get, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::threshold::TriggerKind;
use crate::error::ApiError;
use crate::state::AppState;

/// Buckets of request and transaction durations, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pool_wait: Histogram,
    transactions: HistogramVec,
    deliveries: IntCounterVec,
    pickup_requests: IntCounterVec,
    login_failures: IntCounterVec,
    pool_in_use: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    outbox_backlog: IntGauge,
}

type Made<T> = prometheus::Result<T>;

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Made<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Made<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Made<HistogramVec> {
    let h = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
        labels,
    )?;
    registry.register(Box::new(h.clone()))?;
    Ok(h)
}

/// The process's metrics; `None` only if the fixed definitions below were invalid, which the
/// tests would show at once (every record is then skipped rather than the request failed).
static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match Metrics::new() {
    Ok(m) => Some(m),
    Err(e) => {
        tracing::error!(error = %e, "metrics could not be defined");
        None
    }
});

impl Metrics {
    fn new() -> Made<Self> {
        let r = Registry::new_custom(Some("wastetrack".to_owned()), None)?;
        let pool_wait = Histogram::with_opts(
            HistogramOpts::new(
                "db_pool_wait_seconds",
                "Time spent waiting for a database connection from the pool",
            )
            .buckets(BUCKETS.to_vec()),
        )?;
        r.register(Box::new(pool_wait.clone()))?;
        let m = Metrics {
            http_requests: counter(
                &r,
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
                &["method", "route", "status"],
            )?,
            http_duration: histogram(
                &r,
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by method and route pattern",
                &["method", "route"],
            )?,
            pool_wait,
            transactions: histogram(
                &r,
                "db_write_transaction_seconds",
                "Duration of write transactions, by outcome (committed or rolled_back)",
                &["outcome"],
            )?,
            deliveries: counter(
                &r,
                "webhook_delivery_attempts_total",
                "Webhook delivery attempts, by outcome (delivered, gone, failed)",
                &["outcome"],
            )?,
            pickup_requests: counter(
                &r,
                "pickup_requests_raised_total",
                "Pickup requests raised, by trigger",
                &["trigger"],
            )?,
            login_failures: counter(
                &r,
                "login_failures_total",
                "Failed sign-ins, by method (password, wechat) and reason",
                &["method", "reason"],
            )?,
            pool_in_use: gauge(
                &r,
                "db_pool_connections_in_use",
                "Database connections handed out",
            )?,
            pool_idle: gauge(&r, "db_pool_connections_idle", "Idle database connections")?,
            pool_max: gauge(
                &r,
                "db_pool_connections_max",
                "Largest number of database connections",
            )?,
            outbox_backlog: gauge(
                &r,
                "outbox_pending_deliveries",
                "Webhook deliveries waiting to be sent or retried",
            )?,
            registry: r,
        };
        // Every known series starts at zero, so that rates and alerts see it before its first event.
        for outcome in ["committed", "rolled_back"] {
            m.transactions.with_label_values(&[outcome]);
        }
        for outcome in ["delivered", "gone", "failed"] {
            m.deliveries.with_label_values(&[outcome]);
        }
        for trigger in [
            TriggerKind::Weight,
            TriggerKind::ZoneCapacity,
            TriggerKind::StorageAge,
            TriggerKind::Manual,
        ] {
            m.pickup_requests.with_label_values(&[trigger.as_str()]);
        }
        for (method, reason) in [
            ("password", "credentials"),
            ("wechat", "not_linked"),
            ("any", "throttled"),
        ] {
            m.login_failures.with_label_values(&[method, reason]);
        }
        Ok(m)
    }
}

fn metrics() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

/// One answered HTTP request.
pub fn request_answered(method: &str, route: &str, status: u16, started: Instant) {
    let Some(m) = metrics() else { return };
    m.http_requests
        .with_label_values(&[method, route, &status.to_string()])
        .inc();
    m.http_duration
        .with_label_values(&[method, route])
        .observe(started.elapsed().as_secs_f64());
}

/// A connection was taken from the pool after waiting since `started`.
pub fn pool_waited(started: Instant) {
    if let Some(m) = metrics() {
        m.pool_wait.observe(started.elapsed().as_secs_f64());
    }
}

/// A write transaction ended.
pub fn transaction_ended(started: Instant, committed: bool) {
    let outcome = if committed {
        "committed"
    } else {
        "rolled_back"
    };
    let Some(m) = metrics() else { return };
    m.transactions
        .with_label_values(&[outcome])
        .observe(started.elapsed().as_secs_f64());
}

/// A webhook delivery attempt ended: `delivered`, `gone` (410) or `failed`.
pub fn delivery_attempted(outcome: &'static str) {
    if let Some(m) = metrics() {
        m.deliveries.with_label_values(&[outcome]).inc();
    }
}

/// A pickup request was raised by `trigger` (its `trigger_kind`).
pub fn pickup_request_raised(trigger: &str) {
    let Some(m) = metrics() else { return };
    m.pickup_requests.with_label_values(&[trigger]).inc();
}

/// A sign-in failed.
pub fn login_failed(method: &'static str, reason: &'static str) {
    let Some(m) = metrics() else { return };
    m.login_failures.with_label_values(&[method, reason]).inc();
}

/// Counts and times every answered request by its route pattern.
pub async fn count_requests(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    let route = response.request().match_pattern();
    request_answered(
        method.as_str(),
        route.as_deref().unwrap_or("unmatched"),
        response.status().as_u16(),
        started,
    );
    Ok(response)
}

/// Who may read `/metrics`: addresses or networks, and a bearer token.
pub struct Access {
    networks: Vec<ipnet::IpNet>,
    token: Option<SecretString>,
}

impl Access {
    /// `allowed` is a comma-separated list of addresses or CIDR networks.
    pub fn parse(allowed: &str, token: Option<SecretString>) -> anyhow::Result<Self> {
        let mut networks = Vec::new();
        for item in allowed.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(net) => net,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "metrics.allowed_addresses: {item:?} is neither an address nor a network"
                        )
                    })?,
            };
            networks.push(net);
        }
        if token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            anyhow::bail!("metrics.token must be at least 16 characters");
        }
        Ok(Self { networks, token })
    }

    fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let presented = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let (Some(expected), Some(presented)) = (&self.token, presented) {
            use subtle::ConstantTimeEq;
            let same: bool = expected
                .expose_secret()
                .as_bytes()
                .ct_eq(presented.as_bytes())
                .into();
            return if same {
                Ok(())
            } else {
                Err(ApiError::Unauthenticated("the metrics token is wrong"))
            };
        }
        let peer = req.peer_addr().map(|a| a.ip());
        if peer.is_some_and(|ip| self.networks.iter().any(|n| n.contains(&ip))) {
            return Ok(());
        }
        Err(ApiError::Forbidden(
            "metrics are served to metrics.allowed_addresses, or with metrics.token",
        ))
    }
}

/// Prometheus metrics in the text format.
///
/// Served to the addresses of the `metrics.allowed_addresses` setting (by default this machine)
/// or with `Authorization: Bearer` and the `metrics.token` setting.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4",
            example = "# HELP wastetrack_http_requests_total HTTP requests answered, by method, route pattern and status\n# TYPE wastetrack_http_requests_total counter\nwastetrack_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1\n"),
        (status = 401, description = "A wrong metrics token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither an allowed address nor a token", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn serve(
    state: web::Data<AppState>,
    access: web::Data<Access>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    access.check(&req)?;
    let m = metrics().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("metrics undefined")))?;
    let pool = state.db.pool_state();
    m.pool_in_use
        .set(i64::from(pool.connections.saturating_sub(pool.idle)));
    m.pool_idle.set(i64::from(pool.idle));
    m.pool_max.set(i64::from(pool.max));
    match state
        .db
        .run(|conn| Ok(crate::notify::store::pending_deliveries(conn)?))
        .await
    {
        Ok(n) => m.outbox_backlog.set(n),
        Err(e) => tracing::warn!(error = %e, "outbox backlog not read for the metrics"),
    }
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&m.registry.gather(), &mut body)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding the metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}
