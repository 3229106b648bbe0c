//! Telling organisations what happened: publishing a message (into the organisation's inbox, and
//! as a pending delivery to each of its webhook endpoints that subscribes to the type, all in
//! the caller's transaction), reading the inbox, and managing webhook endpoints.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::ids::new_id;
use crate::domain::webhook::{DeliveryStatus, EndpointStatus};
use crate::error::{ApiError, NOT_VISIBLE};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::notify::signing;
use crate::notify::store::{self, AttemptRow, DeliveryRow, EndpointRow, MessageRow};

/// Every type of message, as webhook subscriptions name them.
pub const MESSAGE_TYPES: &[&str] = &[
    "pickup.requested",
    "pickup.accepted",
    "pickup.scheduled",
    "pickup.declined",
    "pickup.cancelled",
    "pickup.collected",
    "manifest.flagged",
    "manifest.refused",
    "manifest.receipt_overdue",
    "manifest.revision_proposed",
    "alarm.storage_age",
    "alarm.capacity",
    "licence.expiring",
    "finding.recorded",
    "finding.answered",
    "finding.closed",
    "finding.reopened",
    "finding.overdue",
    "feedback.message",
    "webhook.endpoint_disabled",
];

/// Most webhook endpoints per organisation.
pub const MAX_ENDPOINTS: i64 = 20;

/// Something to tell an organisation.
pub struct Notice<'a> {
    pub type_: &'a str,
    /// The object it is about (a pickup request, a lot, a zone, a licence).
    pub subject_id: &'a str,
    pub title: String,
    pub data: serde_json::Value,
}

fn subscribes(endpoint: &EndpointRow, type_: &str) -> bool {
    endpoint
        .event_types
        .split(',')
        .any(|t| t == "*" || t == type_)
}

/// Publishes a message to an organisation, in the caller's transaction: its inbox gets it, and
/// each active endpoint of the organisation subscribed to the type gets a pending delivery,
/// which the dispatcher sends once the transaction has committed.
pub fn publish(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    organization_id: &str,
    notice: &Notice<'_>,
) -> Result<String, ApiError> {
    let now = now.naive_utc();
    let message = MessageRow {
        id: new_id("msg"),
        organization_id: organization_id.to_owned(),
        type_: notice.type_.to_owned(),
        subject_id: notice.subject_id.to_owned(),
        title: notice.title.clone(),
        data: notice.data.to_string(),
        created_at: now,
        read_at: None,
        read_by: None,
    };
    store::insert_message(conn, &message)?;
    for endpoint in store::active_endpoints_of(conn, organization_id)? {
        if subscribes(&endpoint, notice.type_) {
            store::insert_delivery(
                conn,
                &DeliveryRow {
                    id: new_id("dlv"),
                    message_id: message.id.clone(),
                    endpoint_id: endpoint.id,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: now,
                    claimed_until: None,
                    last_status: None,
                    last_error: None,
                    delivered_at: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
    }
    Ok(message.id)
}

/// Publishes the same notice to several organisations, each once.
pub fn publish_to_all(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    organization_ids: &[String],
    notice: &Notice<'_>,
) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for org in organization_ids {
        if !seen.contains(&org.as_str()) {
            seen.push(org);
            publish(conn, now, org, notice)?;
        }
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "msg_0193f1c2a4b87d21a1c6e1f0b2d3c600",
    "type": "pickup.requested",
    "subject_id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601",
    "title": "Pickup requested: HW08 at Warehouse 1",
    "data": {"id": "pkr_0193f1c2a4b87d21a1c6e1f0b2d3c601", "status": "requested", "category": "HW08", "total_grams": 2100000},
    "created_at": "2026-11-28T08:00:00Z",
    "read": false
}))]
pub struct MessageView {
    pub id: String,
    /// One of the message types (see `GET /webhooks/types`).
    #[serde(rename = "type")]
    pub type_: String,
    pub subject_id: String,
    pub title: String,
    /// The message's content: the same JSON a webhook receives in `data`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_by: Option<String>,
}

pub fn message_view(row: MessageRow) -> MessageView {
    MessageView {
        data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
        id: row.id,
        type_: row.type_,
        subject_id: row.subject_id,
        title: row.title,
        created_at: row.created_at.and_utc(),
        read: row.read_at.is_some(),
        read_at: row.read_at.map(|t| t.and_utc()),
        read_by: row.read_by,
    }
}

/// A page of the organisation's inbox, newest first: all messages or the unread, perhaps only
/// those whose type begins with `prefix`.
pub fn inbox(
    conn: &mut DbConn,
    principal: &Principal,
    unread: bool,
    prefix: Option<&str>,
    page: &PageRequest,
) -> Result<Page<MessageView>, ApiError> {
    let rows = store::list_messages(conn, &principal.organization_id, unread, prefix, page)?;
    Ok(Page::from_rows(rows, page.limit, |m| m.id.as_str()).map(message_view))
}

/// How many messages of the principal's organisation are unread.
pub fn unread_count(conn: &mut DbConn, principal: &Principal) -> Result<i64, ApiError> {
    Ok(store::count_unread(conn, &principal.organization_id)?)
}

/// Marks every message of the principal's organisation read, or every one up to `up_to`; how
/// many were.
pub fn read_all(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    up_to: Option<&str>,
) -> Result<usize, ApiError> {
    Ok(store::mark_read(
        conn,
        &principal.organization_id,
        None,
        up_to,
        &principal.user_id,
        now.naive_utc(),
    )?)
}

/// A page of the organisation's webhook endpoints.
pub fn endpoints(
    conn: &mut DbConn,
    principal: &Principal,
    page: &PageRequest,
) -> Result<Page<EndpointView>, ApiError> {
    let rows = store::list_endpoints(conn, &principal.organization_id, page)?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id.as_str()).map(|e| endpoint_view(&e)))
}

/// Marks one message of the principal's organisation read.
pub fn read_one(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
) -> Result<MessageView, ApiError> {
    let message = store::find_message(conn, id)?
        .filter(|m| m.organization_id == principal.organization_id)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let now = now.naive_utc();
    store::mark_read(
        conn,
        &principal.organization_id,
        Some(id),
        None,
        &principal.user_id,
        now,
    )?;
    let message = store::find_message(conn, &message.id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    Ok(message_view(message))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "whe_0193f1c2a4b87d21a1c6e1f0b2d3c700",
    "url": "https://dispatch.example.com/hooks/wastetrack",
    "description": "dispatch desk",
    "event_types": ["pickup.requested", "pickup.cancelled"],
    "status": "active",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The message types sent here; `["*"]` for all.
    pub event_types: Vec<String>,
    /// `active` or `disabled`.
    pub status: EndpointStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed, if the last one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs, after a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with its signing secret: shown once, when created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "whe_0193f1c2a4b87d21a1c6e1f0b2d3c700",
    "url": "https://dispatch.example.com/hooks/wastetrack",
    "event_types": ["*"],
    "status": "active",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
}))]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// The `whsec_…` secret that signs every delivery (Standard Webhooks). Keep it: it is not
    /// shown again.
    pub secret: String,
}

pub fn endpoint_view(row: &EndpointRow) -> EndpointView {
    EndpointView {
        id: row.id.clone(),
        url: row.url.clone(),
        description: row.description.clone(),
        event_types: row.event_types.split(',').map(str::to_owned).collect(),
        status: row.status,
        disabled_reason: row.disabled_reason.clone(),
        failing_since: row.failing_since.map(|t| t.and_utc()),
        previous_secret_expires_at: row
            .previous_expires_at
            .filter(|_| row.previous_secret.is_some())
            .map(|t| t.and_utc()),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// Loads an endpoint of the principal's organisation.
pub fn load_own_endpoint(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<EndpointRow, ApiError> {
    store::find_endpoint(conn, id)?
        .filter(|e| e.organization_id == principal.organization_id)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
}

pub fn create_endpoint(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    new: NewEndpoint,
) -> Result<EndpointWithSecret, ApiError> {
    crate::db::locks::take(
        conn,
        crate::db::locks::Lock::Webhooks(&principal.organization_id),
    )?;
    if store::count_endpoints(conn, &principal.organization_id)? >= MAX_ENDPOINTS {
        return Err(ApiError::Conflict(format!(
            "an organisation has at most {MAX_ENDPOINTS} webhook endpoints"
        )));
    }
    let now = now.naive_utc();
    let row = EndpointRow {
        id: new_id("whe"),
        organization_id: principal.organization_id.clone(),
        url: new.url,
        description: new.description,
        event_types: new.event_types,
        secret: signing::new_secret(),
        previous_secret: None,
        previous_expires_at: None,
        status: EndpointStatus::Active,
        disabled_reason: None,
        failing_since: None,
        created_by: Some(principal.user_id.clone()),
        created_at: now,
        updated_at: now,
    };
    store::insert_endpoint(conn, &row)?;
    Ok(EndpointWithSecret {
        endpoint: endpoint_view(&row),
        secret: row.secret,
    })
}

pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<String>,
    pub enabled: Option<bool>,
}

pub fn update_endpoint(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    changes: EndpointChanges,
) -> Result<EndpointView, ApiError> {
    load_own_endpoint(conn, principal, id)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Webhook(id))?;
    let mut row = load_own_endpoint(conn, principal, id)?;
    if let Some(url) = changes.url {
        row.url = url;
    }
    if let Some(description) = changes.description {
        row.description = description;
    }
    if let Some(types) = changes.event_types {
        row.event_types = types;
    }
    match changes.enabled {
        Some(true) => {
            row.status = EndpointStatus::Active;
            row.disabled_reason = None;
            row.failing_since = None;
        }
        Some(false) => {
            row.status = EndpointStatus::Disabled;
            row.disabled_reason = Some("disabled by its owner".to_owned());
        }
        None => {}
    }
    row.updated_at = now.naive_utc();
    store::save_endpoint(conn, &row)?;
    Ok(endpoint_view(&row))
}

/// Replaces the signing secret. The previous one keeps signing beside the new one (two
/// signatures in `webhook-signature`) for `overlap`, so receivers can switch without a gap.
pub fn rotate_secret(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    overlap: Duration,
) -> Result<EndpointWithSecret, ApiError> {
    load_own_endpoint(conn, principal, id)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Webhook(id))?;
    let mut row = load_own_endpoint(conn, principal, id)?;
    row.previous_secret = (overlap > Duration::zero()).then(|| row.secret.clone());
    row.previous_expires_at = (overlap > Duration::zero()).then(|| (now + overlap).naive_utc());
    row.secret = signing::new_secret();
    row.updated_at = now.naive_utc();
    store::save_endpoint(conn, &row)?;
    Ok(EndpointWithSecret {
        endpoint: endpoint_view(&row),
        secret: row.secret,
    })
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "attempted_at": "2026-11-28T08:00:01Z", "http_status": 503, "duration_ms": 41
}))]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<i32>,
    /// Why the attempt failed without an answer (refused address, timeout, connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "dlv_0193f1c2a4b87d21a1c6e1f0b2d3c800",
    "message_id": "msg_0193f1c2a4b87d21a1c6e1f0b2d3c600",
    "type": "pickup.requested",
    "status": "delivered",
    "attempts": 2,
    "next_attempt_at": "2026-11-28T08:00:06Z",
    "last_status": 200,
    "delivered_at": "2026-11-28T08:00:06Z",
    "created_at": "2026-11-28T08:00:00Z",
    "log": [{"attempted_at": "2026-11-28T08:00:01Z", "http_status": 503, "duration_ms": 41},
            {"attempted_at": "2026-11-28T08:00:06Z", "http_status": 200, "duration_ms": 12}]
}))]
pub struct DeliveryView {
    pub id: String,
    /// The message sent, also its `webhook-id`.
    pub message_id: String,
    #[serde(rename = "type")]
    pub type_: String,
    /// `pending`, `delivered` or `failed` (gave up, or the endpoint was disabled).
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first (in a list of deliveries, left empty: read one delivery).
    pub log: Vec<AttemptView>,
}

pub fn delivery_view(row: DeliveryRow, type_: String, attempts: Vec<AttemptRow>) -> DeliveryView {
    DeliveryView {
        id: row.id,
        message_id: row.message_id,
        type_,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at.and_utc(),
        last_status: row.last_status,
        last_error: row.last_error,
        delivered_at: row.delivered_at.map(|t| t.and_utc()),
        created_at: row.created_at.and_utc(),
        log: attempts
            .into_iter()
            .map(|a| AttemptView {
                attempted_at: a.attempted_at.and_utc(),
                http_status: a.http_status,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

pub fn deliveries(
    conn: &mut DbConn,
    principal: &Principal,
    endpoint_id: &str,
    page: &PageRequest,
) -> Result<Page<DeliveryView>, ApiError> {
    load_own_endpoint(conn, principal, endpoint_id)?;
    let rows = store::list_deliveries(conn, endpoint_id, page)?;
    Ok(
        Page::from_rows(rows, page.limit, |d| d.delivery.id.as_str())
            .map(|d| delivery_view(d.delivery, d.message_type, Vec::new())),
    )
}

fn load_own_delivery(
    conn: &mut DbConn,
    principal: &Principal,
    endpoint_id: &str,
    delivery_id: &str,
) -> Result<(EndpointRow, DeliveryRow, MessageRow), ApiError> {
    let endpoint = load_own_endpoint(conn, principal, endpoint_id)?;
    let delivery = store::find_delivery(conn, delivery_id)?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let message =
        store::find_message(conn, &delivery.message_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    Ok((endpoint, delivery, message))
}

pub fn delivery(
    conn: &mut DbConn,
    principal: &Principal,
    endpoint_id: &str,
    delivery_id: &str,
) -> Result<DeliveryView, ApiError> {
    let (_, delivery, message) = load_own_delivery(conn, principal, endpoint_id, delivery_id)?;
    let attempts = store::attempts_of(conn, &delivery.id)?;
    Ok(delivery_view(delivery, message.type_, attempts))
}

/// Sends a delivery again, whatever its state: it becomes pending and due now.
pub fn redeliver(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    endpoint_id: &str,
    delivery_id: &str,
) -> Result<DeliveryView, ApiError> {
    let (endpoint, mut delivery, message) =
        load_own_delivery(conn, principal, endpoint_id, delivery_id)?;
    if endpoint.status != EndpointStatus::Active {
        return Err(ApiError::Conflict(
            "the endpoint is disabled: enable it first".to_owned(),
        ));
    }
    let now = now.naive_utc();
    if delivery.claimed_until.is_some_and(|until| until > now) {
        return Err(ApiError::Conflict(
            "the delivery is being sent right now; look at its log in a moment".to_owned(),
        ));
    }
    delivery.status = DeliveryStatus::Pending;
    delivery.next_attempt_at = now;
    delivery.claimed_until = None;
    delivery.updated_at = now;
    store::save_delivery(conn, &delivery)?;
    let attempts = store::attempts_of(conn, &delivery.id)?;
    Ok(delivery_view(delivery, message.type_, attempts))
}
