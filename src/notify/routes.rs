//! HTTP endpoints of the inbox and of webhook endpoints, deliveries and redelivery.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::{double_option, non_null};
use crate::http::{Json, Page, PageQuery};
use crate::notify::guard::{AllowedHosts, check_url};
use crate::notify::service::{
    self, DeliveryView, EndpointChanges, EndpointView, EndpointWithSecret, MESSAGE_TYPES,
    MessageView, NewEndpoint,
};
use crate::state::AppState;

const URL_MAX: usize = 2000;
const TEXT_MAX: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `true`: only unread messages.
    pub unread: Option<bool>,
    /// Only messages whose type starts with this, e.g. `pickup.` or `alarm.`.
    pub r#type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"unread": 3}))]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"up_to": "msg_0193f1c2a4b87d21a1c6e1f0b2d3c600"}))]
pub struct ReadAllRequest {
    /// Mark read every message up to and including this one (the newest the client showed);
    /// omit to mark all.
    pub up_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"marked": 12}))]
pub struct Marked {
    pub marked: usize,
}

/// The organisation's inbox, newest first: pickup requests and their steps, storage-age and
/// capacity alarms, licence expiries, disabled webhooks. Cursor pages.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(InboxQuery, PageQuery),
    responses((status = 200, description = "One page, newest first", body = Page<MessageView>))
)]
#[get("/inbox")]
pub async fn inbox(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InboxQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<MessageView>>, ApiError> {
    authorize(&principal, Action::ReadInbox)?;
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let prefix = q.r#type.map(|t| {
        let t = v.text("type", &t, 1, 64).to_ascii_lowercase();
        // Message types are lower-case words, dots and underscores: no other LIKE wildcard.
        if !t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        {
            v.push(FieldError::new(
                "type",
                "invalid",
                "a message type or its beginning, e.g. pickup. or alarm.storage_age",
            ));
        }
        t
    });
    v.finish()?;
    let unread = q.unread.unwrap_or(false);
    let page = state
        .db
        .run(move |conn| service::inbox(conn, &principal, unread, prefix.as_deref(), &page))
        .await?;
    Ok(web::Json(page))
}

/// How many messages of the organisation are unread (for a badge).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "The count", body = UnreadCount))
)]
#[get("/inbox/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<UnreadCount>, ApiError> {
    authorize(&principal, Action::ReadInbox)?;
    let unread = state
        .db
        .run(move |conn| service::unread_count(conn, &principal))
        .await?;
    Ok(web::Json(UnreadCount { unread }))
}

/// Mark one message read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, read", body = MessageView),
        (status = 404, description = "No such message in your inbox", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/inbox/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<MessageView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ReadInbox)?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::read_one(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Mark every message read, or every one up to a message.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = ReadAllRequest,
    responses((status = 200, description = "How many were marked", body = Marked))
)]
#[post("/inbox/read")]
pub async fn read_all(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<ReadAllRequest>,
) -> Result<web::Json<Marked>, ApiError> {
    authorize(&principal, Action::ReadInbox)?;
    let mut v = Validator::new();
    let up_to = body.into_inner().up_to.map(|u| v.text("up_to", &u, 1, 64));
    v.finish()?;
    let now = state.clock.now();
    let marked = state
        .db
        .write(move |conn| service::read_all(conn, now, &principal, up_to.as_deref()))
        .await?;
    Ok(web::Json(Marked { marked }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://dispatch.example.com/hooks/wastetrack",
    "description": "dispatch desk",
    "event_types": ["pickup.requested", "pickup.cancelled"]
}))]
pub struct CreateEndpointRequest {
    /// An http or https URL; it may not point at a loopback, private, link-local or
    /// unique-local address.
    pub url: String,
    pub description: Option<String>,
    /// The message types to send; `["*"]` (the default) for all.
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateEndpointRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub url: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = Vec<String>)]
    pub event_types: Option<Vec<String>>,
    /// `true` re-enables a disabled endpoint; `false` pauses it.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"keep_previous_hours": 24}))]
pub struct RotateRequest {
    /// Hours the previous secret keeps signing beside the new one (0 to 168, default 24).
    pub keep_previous_hours: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"types": ["pickup.requested", "pickup.accepted"]}))]
pub struct MessageTypes {
    pub types: Vec<&'static str>,
}

fn check_webhook_url(v: &mut Validator, raw: &str, allowed: &AllowedHosts) -> String {
    let url = v.text("url", raw, 1, URL_MAX);
    if !url.is_empty()
        && let Err(reason) = check_url(&url, allowed)
    {
        v.push(FieldError::new("url", "not_allowed", reason));
    }
    url
}

fn check_types(v: &mut Validator, types: Option<Vec<String>>) -> Option<String> {
    let types = types?;
    if types.is_empty() || types.len() > MESSAGE_TYPES.len() {
        v.push(FieldError::new(
            "event_types",
            "invalid",
            "name 1 or more message types, or [\"*\"]",
        ));
        return None;
    }
    for t in &types {
        if t != "*" && !MESSAGE_TYPES.contains(&t.as_str()) {
            v.push(FieldError::new(
                "event_types",
                "unknown_type",
                format!("{t:?} is not a message type; see GET /api/v1/webhooks/types"),
            ));
            return None;
        }
    }
    Some(types.join(","))
}

/// The message types a webhook can subscribe to.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "Every message type", body = MessageTypes))
)]
#[get("/webhooks/types")]
pub async fn message_types(_principal: Principal) -> web::Json<MessageTypes> {
    web::Json(MessageTypes {
        types: MESSAGE_TYPES.to_vec(),
    })
}

/// Register a webhook endpoint of your organisation. Deliveries follow the Standard Webhooks
/// specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the answer holds the
/// signing secret, shown only this once.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = CreateEndpointRequest,
    responses(
        (status = 201, description = "Registered", body = EndpointWithSecret, headers(("Location" = String, description = "URL of the endpoint"))),
        (status = 403, description = "Drivers do not manage webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation has the most endpoints allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or forbidden URL, unknown message type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageWebhooks)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    let url = check_webhook_url(&mut v, &b.url, &state.webhook_hosts);
    let description = b
        .description
        .map(|d| v.text("description", &d, 1, TEXT_MAX));
    let event_types = check_types(&mut v, b.event_types.or_else(|| Some(vec!["*".to_owned()])));
    let new = v.finish_with(|| {
        Some(NewEndpoint {
            url,
            description,
            event_types: event_types?,
        })
    })?;
    let created = state
        .db
        .write(move |conn| service::create_endpoint(conn, now, &principal, new))
        .await?;
    Ok(crate::http::created(
        format!("/api/v1/webhooks/{}", created.endpoint.id),
        &created,
    ))
}

/// Your organisation's webhook endpoints.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page", body = Page<EndpointView>))
)]
#[get("/webhooks")]
pub async fn list_endpoints(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<EndpointView>>, ApiError> {
    authorize(&principal, Action::ManageWebhooks)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::endpoints(conn, &principal, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read one of your organisation's webhook endpoints (without its secret).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        (status = 404, description = "No such endpoint of your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<EndpointView>, ApiError> {
    authorize(&principal, Action::ManageWebhooks)?;
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| service::load_own_endpoint(conn, &principal, &id))
        .await?;
    Ok(web::Json(service::endpoint_view(&row)))
}

/// Change an endpoint: URL, description, message types; re-enable or pause it.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    request_body = UpdateEndpointRequest,
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        (status = 404, description = "No such endpoint of your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or forbidden URL, unknown message type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateEndpointRequest>,
) -> Result<web::Json<EndpointView>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageWebhooks)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    let changes = EndpointChanges {
        url: b
            .url
            .map(|u| check_webhook_url(&mut v, &u, &state.webhook_hosts)),
        description: b
            .description
            .map(|d| d.map(|d| v.text("description", &d, 1, TEXT_MAX))),
        event_types: check_types(&mut v, b.event_types),
        enabled: b.enabled,
    };
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::update_endpoint(conn, now, &principal, &id, changes))
        .await?;
    Ok(web::Json(view))
}

/// Replace the endpoint's signing secret. The previous one keeps signing beside the new one
/// for `keep_previous_hours`, so the receiver can switch without losing a message.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    request_body = RotateRequest,
    responses(
        (status = 200, description = "The endpoint with its new secret, shown only this once", body = EndpointWithSecret),
        (status = 404, description = "No such endpoint of your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Overlap out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<RotateRequest>,
) -> Result<web::Json<EndpointWithSecret>, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageWebhooks)?;
    let hours = body.into_inner().keep_previous_hours.unwrap_or(24);
    if !(0..=168).contains(&hours) {
        return Err(ApiError::field(
            "keep_previous_hours",
            "out_of_range",
            "must be 0 to 168 hours",
        ));
    }
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| {
            service::rotate_secret(conn, now, &principal, &id, chrono::Duration::hours(hours))
        })
        .await?;
    Ok(web::Json(view))
}

/// The delivery log of an endpoint, newest first (each delivery's attempts: read it).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), PageQuery),
    responses(
        (status = 200, description = "One page, newest first", body = Page<DeliveryView>),
        (status = 404, description = "No such endpoint of your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<DeliveryView>>, ApiError> {
    authorize(&principal, Action::ManageWebhooks)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let id = id.into_inner();
    let page = state
        .db
        .run(move |conn| service::deliveries(conn, &principal, &id, &page))
        .await?;
    Ok(web::Json(page))
}

/// One delivery with every attempt: when, the receiver's status or the error, how long.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryView),
        (status = 404, description = "No such delivery of your endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<DeliveryView>, ApiError> {
    authorize(&principal, Action::ManageWebhooks)?;
    let (id, delivery_id) = path.into_inner();
    let view = state
        .db
        .run(move |conn| service::delivery(conn, &principal, &id, &delivery_id))
        .await?;
    Ok(web::Json(view))
}

/// Send a delivery again now, whatever its state (after fixing the receiver, say).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = DeliveryView),
        (status = 404, description = "No such delivery of your endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ManageWebhooks)?;
    let (id, delivery_id) = path.into_inner();
    let view = state
        .db
        .write(move |conn| service::redeliver(conn, now, &principal, &id, &delivery_id))
        .await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(view))
}
