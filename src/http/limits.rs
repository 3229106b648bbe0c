//! Request rate limits for every client: per client address and per access token, over the
//! whole API (`/api/v1`; the probes and `/metrics` are not limited), and a tighter one per
//! client address on the labels' public verification pages (`/api/v1/verify/…`), which answer
//! without sign-in. Past a limit the answer is 429 with `Retry-After`.
//!
//! Each process keeps its own counts in memory (generic cell rate algorithm, `governor`): with
//! several instances behind a load balancer, a client gets up to the limit at each. The limits
//! measure real elapsed time, not the service's clock: they protect the machine, they decide
//! nothing about waste. Tokens are counted by their SHA-256, never kept as such.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitSettings;
use crate::domain::digest::sha256_hex;
use crate::error::ApiError;

/// Requests between two sweeps of the keys not seen for a while.
const SWEEP_EVERY: u64 = 10_000;

pub struct Limits {
    per_address: Option<DefaultKeyedRateLimiter<String>>,
    per_token: Option<DefaultKeyedRateLimiter<String>>,
    verify_per_address: Option<DefaultKeyedRateLimiter<String>>,
    trust_forwarded_for: bool,
    seen: AtomicU64,
}

fn limiter(per_minute: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl Limits {
    pub fn new(settings: &RateLimitSettings, trust_forwarded_for: bool) -> Self {
        Self {
            per_address: limiter(settings.per_address_per_minute),
            per_token: limiter(settings.per_token_per_minute),
            verify_per_address: limiter(settings.verify_per_address_per_minute),
            trust_forwarded_for,
            seen: AtomicU64::new(0),
        }
    }

    fn check(&self, req: &ServiceRequest) -> Result<(), ApiError> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in [&self.per_address, &self.per_token, &self.verify_per_address]
                .into_iter()
                .flatten()
            {
                l.retain_recent();
            }
        }
        let address = crate::http::client_address(req.request(), self.trust_forwarded_for);
        if let Some(l) = &self.per_address {
            refuse_past(l, address.clone(), "too many requests from this address")?;
        }
        if let Some(l) = &self.verify_per_address
            && req.path().starts_with("/api/v1/verify/")
        {
            refuse_past(l, address, "too many label checks from this address")?;
        }
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let (Some(l), Some(token)) = (&self.per_token, token) {
            refuse_past(
                l,
                sha256_hex(token.as_bytes()),
                "too many requests with this token",
            )?;
        }
        Ok(())
    }
}

fn refuse_past(
    limiter: &DefaultKeyedRateLimiter<String>,
    key: String,
    detail: &'static str,
) -> Result<(), ApiError> {
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        tracing::info!(detail, "rate limited");
        ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
            detail,
        }
    })
}

/// Refuses a request to the API past its client's limits.
pub async fn limit_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/")
        && let Some(limits) = req.app_data::<web::Data<Limits>>()
        && let Err(refused) = limits.check(&req)
    {
        // Rendered here, inside the request's scope, so that it carries the request id.
        return Ok(req.error_response(refused).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
