//! The webhook dispatcher: a background task of every server process that claims due
//! deliveries, sends them, and records each attempt.
//!
//! - **At least once.** A delivery row is written in the same transaction as the change it tells
//!   of. A dispatcher claims it for a lease (`claim_lease_secs`); if the process dies while
//!   sending, the lease runs out and any process sends it again.
//! - **Several processes.** On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so two processes
//!   never claim the same row; on SQLite the claim runs under the single write lock.
//! - **Retries.** Only a 2xx answer counts. Other answers, timeouts and refused connections are
//!   retried on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h: about three
//!   days), each delay with ±10 % jitter; then the delivery fails. A 410 disables the endpoint
//!   at once; an endpoint failing without a success for `disable_after_secs` is disabled, and
//!   its organisation is told in its inbox.
//! - **Safety.** Redirects are not followed; connect and total timeouts bound every attempt;
//!   names are resolved through [`GuardedResolver`].

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;

use crate::clock::Clock;
use crate::config::NotifySettings;
use crate::db::{Db, DbConn};
use crate::domain::ids::new_id;
use crate::domain::webhook::{DeliveryStatus, EndpointStatus};
use crate::error::ApiError;
use crate::notify::guard::{AllowedHosts, GuardedResolver, check_url};
use crate::notify::service::{Notice, publish};
use crate::notify::signing::signature_header;
use crate::notify::store::{self, AttemptRow, DeliveryRow, EndpointRow, MessageRow};

/// Deliveries claimed at once by one dispatcher.
const BATCH: i64 = 16;
/// Deliveries one process sends at once.
const MAX_IN_FLIGHT: usize = 32;
/// Longest error text kept per attempt.
const ERROR_MAX: usize = 500;

/// How the dispatcher retries and gives up.
#[derive(Debug, Clone)]
pub struct Policy {
    pub retry_schedule: Vec<StdDuration>,
    pub claim_lease: StdDuration,
    pub disable_after: StdDuration,
    pub poll_interval: StdDuration,
    pub allowed_hosts: Arc<AllowedHosts>,
}

impl Policy {
    pub fn from_settings(s: &NotifySettings) -> anyhow::Result<Self> {
        let retry_schedule = s
            .webhook_retry_schedule_secs
            .split(',')
            .map(|d| d.trim().parse::<u64>().map(StdDuration::from_secs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("notify.webhook_retry_schedule_secs: {e}"))?;
        if s.webhook_claim_lease_secs <= s.webhook_timeout_secs {
            anyhow::bail!(
                "notify.webhook_claim_lease_secs must exceed notify.webhook_timeout_secs, or a slow receiver would be sent the same delivery twice at once"
            );
        }
        Ok(Self {
            retry_schedule,
            claim_lease: StdDuration::from_secs(s.webhook_claim_lease_secs),
            disable_after: StdDuration::from_secs(s.webhook_disable_after_secs),
            poll_interval: StdDuration::from_millis(s.poll_interval_ms.max(10)),
            allowed_hosts: Arc::new(AllowedHosts::parse(&s.webhook_allowed_hosts)),
        })
    }

    /// When to try again after `attempts` failed attempts, or `None` to give up.
    pub fn next_delay(&self, attempts: i32, jitter_permille: i64) -> Option<Duration> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        let base = self.retry_schedule.get(index)?;
        let ms = i64::try_from(base.as_millis()).unwrap_or(i64::MAX / 2000);
        Some(Duration::milliseconds(
            ms.saturating_mul(jitter_permille) / 1000,
        ))
    }
}

/// The HTTP client for webhooks.
pub fn client(s: &NotifySettings, allowed: Arc<AllowedHosts>) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(StdDuration::from_secs(s.webhook_connect_timeout_secs))
        .timeout(StdDuration::from_secs(s.webhook_timeout_secs))
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allowed }))
        .user_agent(concat!("wastetrack-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// What came of one attempt.
#[derive(Debug)]
pub enum Outcome {
    Answered(u16),
    Failed(String),
}

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    clock: Clock,
    client: reqwest::Client,
    policy: Arc<Policy>,
}

impl Dispatcher {
    pub fn new(db: Db, clock: Clock, settings: &NotifySettings) -> anyhow::Result<Self> {
        let policy = Policy::from_settings(settings)?;
        let client = client(settings, policy.allowed_hosts.clone())?;
        Ok(Self {
            db,
            clock,
            client,
            policy: Arc::new(policy),
        })
    }

    /// Runs forever: claims due deliveries and sends each in its own task, up to
    /// `MAX_IN_FLIGHT` at once (so one slow receiver does not hold up the others); sleeps when
    /// nothing is due.
    pub async fn run(self) {
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        loop {
            let free = slots.available_permits();
            if free == 0 {
                // Every slot is busy: wait for a delivery to end.
                if let Ok(permit) = slots.clone().acquire_owned().await {
                    drop(permit);
                }
                continue;
            }
            match self
                .claim(i64::try_from(free).unwrap_or(BATCH).min(BATCH))
                .await
            {
                Ok(claimed) if !claimed.is_empty() => {
                    for delivery in claimed {
                        // Only this loop takes slots, and it claimed no more than were free.
                        let Ok(permit) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        let this = self.clone();
                        actix_web::rt::spawn(async move {
                            if let Err(e) = this.deliver(delivery).await {
                                tracing::warn!(error = %e, "recording a webhook attempt failed");
                            }
                            drop(permit);
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying")
                }
            }
            tokio::time::sleep(self.policy.poll_interval).await;
        }
    }

    /// Claims up to `limit` due deliveries for the lease.
    async fn claim(&self, limit: i64) -> Result<Vec<DeliveryRow>, ApiError> {
        let lease = Duration::from_std(self.policy.claim_lease).unwrap_or(Duration::minutes(1));
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |conn| Ok(store::claim_due(conn, now, now + lease, limit)?))
            .await
    }

    async fn deliver(&self, delivery: DeliveryRow) -> Result<(), ApiError> {
        let (endpoint_id, message_id) = (delivery.endpoint_id.clone(), delivery.message_id.clone());
        let loaded = self
            .db
            .run(move |conn| {
                Ok((
                    store::find_endpoint(conn, &endpoint_id)?,
                    store::find_message(conn, &message_id)?,
                ))
            })
            .await?;
        let (endpoint, message) = match loaded {
            (Some(endpoint), Some(message)) if endpoint.status == EndpointStatus::Active => {
                (endpoint, message)
            }
            _ => {
                let now = self.clock.now();
                return self
                    .db
                    .write(move |conn| skip(conn, now, &delivery.id))
                    .await;
            }
        };
        let started = Instant::now();
        let outcome = self.send(&endpoint, &message).await;
        crate::metrics::delivery_attempted(match &outcome {
            Outcome::Answered(code) if (200..300).contains(code) => "delivered",
            Outcome::Answered(410) => "gone",
            Outcome::Answered(_) | Outcome::Failed(_) => "failed",
        });
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        tracing::info!(delivery = %delivery.id, endpoint = %delivery.endpoint_id, outcome = ?outcome, elapsed_ms = elapsed, "webhook attempt");
        let policy = self.policy.clone();
        let jitter = rand::rng().random_range(900..=1100);
        let now = self.clock.now();
        self.db
            .write(move |conn| record(conn, now, &policy, &delivery.id, outcome, elapsed, jitter))
            .await
    }

    async fn send(&self, endpoint: &EndpointRow, message: &MessageRow) -> Outcome {
        // Addresses written in the URL are checked here (names, by the resolver): the
        // allowed hosts may have changed since the endpoint was saved.
        let url = match check_url(&endpoint.url, &self.policy.allowed_hosts) {
            Ok(url) => url,
            Err(reason) => return Outcome::Failed(format!("refused: the URL {reason}")),
        };
        let body = serde_json::json!({
            "type": message.type_,
            "timestamp": message.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": serde_json::from_str::<serde_json::Value>(&message.data).unwrap_or_default(),
        })
        .to_string();
        let now = self.clock.now();
        let mut secrets = vec![endpoint.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&endpoint.previous_secret, endpoint.previous_expires_at)
            && until > now.naive_utc()
        {
            secrets.push(previous);
        }
        // The receiver checks `webhook-timestamp` against its own clock to refuse replays, so
        // it is the machine's true time, whatever the service's clock shows (only tests and
        // training move that one).
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature_header(&secrets, &message.id, timestamp, body.as_bytes());
        let sent = self
            .client
            .post(url)
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => Outcome::Answered(response.status().as_u16()),
            Err(e) => Outcome::Failed(describe(&e)),
        }
    }
}

/// An error with its causes, e.g. the resolver's refusal inside a connection error.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(ERROR_MAX).collect()
}

fn disable(
    conn: &mut DbConn,
    endpoint: &mut EndpointRow,
    reason: String,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    endpoint.status = EndpointStatus::Disabled;
    endpoint.disabled_reason = Some(reason.clone());
    endpoint.updated_at = now;
    // Saved first, so that the message telling of it is not queued for this endpoint.
    store::set_endpoint_health(conn, endpoint)?;
    publish(
        conn,
        now.and_utc(),
        &endpoint.organization_id.clone(),
        &Notice {
            type_: "webhook.endpoint_disabled",
            subject_id: &endpoint.id,
            title: format!("Webhook endpoint disabled: {}", endpoint.url),
            data: serde_json::json!({"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason}),
        },
    )?;
    tracing::warn!(endpoint = %endpoint.id, %reason, "webhook endpoint disabled");
    Ok(())
}

/// Ends a delivery whose endpoint was disabled (or removed) after the message was queued: not
/// an attempt, so nothing is sent and no attempt is logged.
fn skip(conn: &mut DbConn, now: DateTime<Utc>, delivery_id: &str) -> Result<(), ApiError> {
    let Some(mut delivery) = store::find_delivery(conn, delivery_id)? else {
        return Ok(());
    };
    delivery.status = DeliveryStatus::Failed;
    delivery.claimed_until = None;
    delivery.last_error = Some("the endpoint is disabled".to_owned());
    delivery.updated_at = now.naive_utc();
    store::save_delivery(conn, &delivery)?;
    Ok(())
}

/// Records an attempt and decides what follows: delivered, another attempt later, or failed.
pub fn record(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    policy: &Policy,
    delivery_id: &str,
    outcome: Outcome,
    elapsed_ms: i64,
    jitter_permille: i64,
) -> Result<(), ApiError> {
    let now = now.naive_utc();
    let Some(mut delivery) = store::find_delivery(conn, delivery_id)? else {
        return Ok(());
    };
    let Some(mut endpoint) = store::find_endpoint(conn, &delivery.endpoint_id)? else {
        return Ok(());
    };
    let (http_status, error) = match &outcome {
        Outcome::Answered(code) => (Some(i32::from(*code)), None),
        Outcome::Failed(e) => (None, Some(e.clone())),
    };
    store::insert_attempt(
        conn,
        &AttemptRow {
            id: new_id("att"),
            delivery_id: delivery.id.clone(),
            attempted_at: now,
            http_status,
            error: error.clone(),
            duration_ms: elapsed_ms,
        },
    )?;
    delivery.attempts += 1;
    delivery.claimed_until = None;
    delivery.last_status = http_status;
    delivery.last_error = error;
    delivery.updated_at = now;
    let endpoint_before = (endpoint.status, endpoint.failing_since);
    match outcome {
        Outcome::Answered(code) if (200..300).contains(&code) => {
            delivery.status = DeliveryStatus::Delivered;
            delivery.delivered_at = Some(now);
            endpoint.failing_since = None;
        }
        Outcome::Answered(410) => {
            delivery.status = DeliveryStatus::Failed;
            if endpoint.status == EndpointStatus::Active {
                disable(
                    conn,
                    &mut endpoint,
                    "the receiver answered 410 Gone".to_owned(),
                    now,
                )?;
            }
        }
        Outcome::Answered(_) | Outcome::Failed(_) => {
            match policy.next_delay(delivery.attempts, jitter_permille) {
                Some(delay) => delivery.next_attempt_at = now + delay,
                None => delivery.status = DeliveryStatus::Failed,
            }
            let since = *endpoint.failing_since.get_or_insert(now);
            let disable_after =
                Duration::from_std(policy.disable_after).unwrap_or(Duration::days(3));
            if endpoint.status == EndpointStatus::Active && now - since >= disable_after {
                delivery.status = DeliveryStatus::Failed;
                disable(
                    conn,
                    &mut endpoint,
                    format!(
                        "every attempt has failed since {}",
                        since
                            .and_utc()
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    now,
                )?;
            }
        }
    }
    store::save_delivery(conn, &delivery)?;
    if (endpoint.status, endpoint.failing_since) != endpoint_before {
        store::set_endpoint_health(conn, &endpoint)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_about_three_days() {
        let policy = Policy::from_settings(&NotifySettings::default()).expect("policy");
        let total: u64 = policy.retry_schedule.iter().map(|d| d.as_secs()).sum();
        assert!((70 * 3600..=74 * 3600).contains(&total), "{total} s");
        assert_eq!(policy.next_delay(0, 1000), None);
        assert_eq!(policy.next_delay(1, 1000), Some(Duration::seconds(5)));
        assert_eq!(
            policy.next_delay(1, 900),
            Some(Duration::milliseconds(4500))
        );
        assert_eq!(policy.next_delay(2, 1100), Some(Duration::seconds(330)));
        let attempts = i32::try_from(policy.retry_schedule.len()).expect("len");
        assert!(policy.next_delay(attempts, 1000).is_some());
        assert_eq!(policy.next_delay(attempts + 1, 1000), None);
    }

    #[test]
    fn a_lease_shorter_than_the_timeout_is_refused() {
        let settings = NotifySettings {
            webhook_claim_lease_secs: 10,
            webhook_timeout_secs: 10,
            ..NotifySettings::default()
        };
        assert!(Policy::from_settings(&settings).is_err());
    }
}
