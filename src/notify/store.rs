//! Queries on messages (inbox and outbox), notices, webhook endpoints, deliveries and attempts.
//! Diesel only; no rules. Row claiming is the one place that speaks each backend's SQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    delivery_attempts, messages, notices, webhook_deliveries, webhook_endpoints,
};
use crate::domain::webhook::{DeliveryStatus, EndpointStatus};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub organization_id: String,
    pub type_: String,
    pub subject_id: String,
    pub title: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
    pub read_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
#[diesel(treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<NaiveDateTime>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(treat_none_as_null = true)]
pub struct DeliveryRow {
    pub id: String,
    pub message_id: String,
    pub endpoint_id: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = delivery_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: NaiveDateTime,
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

pub fn insert_message(conn: &mut DbConn, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(messages::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_message(conn: &mut DbConn, id: &str) -> QueryResult<Option<MessageRow>> {
    messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .optional()
}

/// An organisation's messages, newest first.
pub fn list_messages(
    conn: &mut DbConn,
    organization_id: &str,
    unread_only: bool,
    type_prefix: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<MessageRow>> {
    let mut q = messages::table
        .filter(messages::organization_id.eq(organization_id))
        .select(MessageRow::as_select())
        .into_boxed();
    if unread_only {
        q = q.filter(messages::read_at.is_null());
    }
    if let Some(prefix) = type_prefix {
        q = q.filter(messages::type_.like(format!("{prefix}%")));
    }
    if let Some(after) = &page.after {
        q = q.filter(messages::id.lt(after.clone()));
    }
    q.order(messages::id.desc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn count_unread(conn: &mut DbConn, organization_id: &str) -> QueryResult<i64> {
    messages::table
        .filter(messages::organization_id.eq(organization_id))
        .filter(messages::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks unread messages of an organisation read: one (`id`), or all up to and including
/// `up_to`. Returns how many changed.
pub fn mark_read(
    conn: &mut DbConn,
    organization_id: &str,
    id: Option<&str>,
    up_to: Option<&str>,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let mut q = diesel::update(messages::table)
        .filter(messages::organization_id.eq(organization_id))
        .filter(messages::read_at.is_null())
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(messages::id.eq(id.to_owned()));
    }
    if let Some(up_to) = up_to {
        q = q.filter(messages::id.le(up_to.to_owned()));
    }
    q.set((
        messages::read_at.eq(Some(at)),
        messages::read_by.eq(Some(by)),
    ))
    .execute(conn)
}

/// Records that a condition was told; false when it already was.
pub fn insert_notice(conn: &mut DbConn, key: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let exists = notices::table.find(key).count().get_result::<i64>(conn)? > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(notices::table)
        .values((notices::key.eq(key), notices::created_at.eq(at)))
        .execute(conn)?;
    Ok(true)
}

pub fn notices_with_prefix(conn: &mut DbConn, prefix: &str) -> QueryResult<Vec<String>> {
    notices::table
        .filter(notices::key.like(format!("{prefix}%")))
        .select(notices::key)
        .load(conn)
}

pub fn delete_notice(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(notices::table.find(key))
        .execute(conn)
        .map(drop)
}

pub fn insert_endpoint(conn: &mut DbConn, row: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_endpoint(conn: &mut DbConn, row: &EndpointRow) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

/// Sets only what the dispatcher decides of an endpoint (its health), so that a concurrent
/// change by its owner (a new secret, a new URL) is never overwritten.
pub fn set_endpoint_health(conn: &mut DbConn, endpoint: &EndpointRow) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(&endpoint.id))
        .set((
            webhook_endpoints::status.eq(endpoint.status),
            webhook_endpoints::disabled_reason.eq(&endpoint.disabled_reason),
            webhook_endpoints::failing_since.eq(endpoint.failing_since),
            webhook_endpoints::updated_at.eq(endpoint.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn find_endpoint(conn: &mut DbConn, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
}

pub fn count_endpoints(conn: &mut DbConn, organization_id: &str) -> QueryResult<i64> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .count()
        .get_result(conn)
}

pub fn active_endpoints_of(
    conn: &mut DbConn,
    organization_id: &str,
) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .filter(webhook_endpoints::status.eq(EndpointStatus::Active))
        .select(EndpointRow::as_select())
        .load(conn)
}

pub fn list_endpoints(
    conn: &mut DbConn,
    organization_id: &str,
    page: &PageRequest,
) -> QueryResult<Vec<EndpointRow>> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .select(EndpointRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(webhook_endpoints::id.gt(after.clone()));
    }
    q.order(webhook_endpoints::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_delivery(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_delivery(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// A delivery with its message's type.
#[derive(Debug, Clone, Queryable)]
pub struct Delivery {
    pub delivery: DeliveryRow,
    /// The message's type (`messages.type`).
    pub message_type: String,
}

/// An endpoint's deliveries, newest first, with their message's type.
pub fn list_deliveries(
    conn: &mut DbConn,
    endpoint_id: &str,
    page: &PageRequest,
) -> QueryResult<Vec<Delivery>> {
    let mut q = webhook_deliveries::table
        .inner_join(messages::table)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select((DeliveryRow::as_select(), messages::type_))
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(webhook_deliveries::id.lt(after.clone()));
    }
    q.order(webhook_deliveries::id.desc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_attempt(conn: &mut DbConn, row: &AttemptRow) -> QueryResult<()> {
    diesel::insert_into(delivery_attempts::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn attempts_of(conn: &mut DbConn, delivery_id: &str) -> QueryResult<Vec<AttemptRow>> {
    delivery_attempts::table
        .filter(delivery_attempts::delivery_id.eq(delivery_id))
        .select(AttemptRow::as_select())
        .order(delivery_attempts::id.asc())
        .load(conn)
}

/// Claims up to `limit` pending deliveries that are due and held by nobody, holding each until
/// `lease_until`. On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so several
/// dispatchers never pick the same row; SQLite runs this inside its single write lock.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    use diesel::sql_types::{BigInt, Timestamp};
    const PICK: &str = "SELECT id FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until < $1) \
         ORDER BY next_attempt_at LIMIT $2";
    #[derive(QueryableByName)]
    struct Picked {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let ids: Vec<String> = match conn {
        DbConn::Pg(pg) => diesel::sql_query(format!("{PICK} FOR UPDATE SKIP LOCKED"))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<Picked>(pg)?,
        DbConn::Sqlite(lite) => diesel::sql_query(PICK.replace('$', "?"))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<Picked>(lite)?,
    }
    .into_iter()
    .map(|p| p.id)
    .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .set(webhook_deliveries::claimed_until.eq(Some(lease_until)))
        .execute(conn)?;
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq_any(&ids))
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Deliveries waiting to be sent or retried (the outbox's backlog).
pub fn pending_deliveries(conn: &mut DbConn) -> QueryResult<i64> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending))
        .count()
        .get_result(conn)
}
