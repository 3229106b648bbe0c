//! The dispatch of a pickup request: the disposal company accepts, schedules (a day, a carrier,
//! a vehicle in service and a driver) or declines it; the park office cancels it. Each change
//! takes the request's group lock first (see `requests`).

use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConn;
use crate::domain::identity::Role;
use crate::domain::ids::PickupRequestId;
use crate::domain::pickup::RequestStatus;
use crate::error::{ApiError, FieldError};
use crate::registry::directory::store as directory;
use crate::registry::parks::service as parks;
use crate::requests::service::{
    RequestView, announce, announce_to, check_status, close, load_for_change, place, title,
    view_for,
};
use crate::requests::store;

fn authorize_dispatch(
    conn: &mut DbConn,
    principal: &Principal,
    r: &store::Request,
) -> Result<(), ApiError> {
    let enterprises = store::enterprises_of(conn, &r.request.id)?;
    authorize(
        principal,
        Action::DispatchPickup {
            place: place(r),
            disposer_id: &r.request.disposer_id,
            enterprise_ids: &enterprises,
            driver_id: r.request.driver_id.as_deref(),
        },
    )
}

/// The park office cancels an open request with a reason.
pub fn cancel(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &PickupRequestId,
    reason: String,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, request| {
        let enterprises = store::enterprises_of(conn, &request.request.id)?;
        authorize(
            principal,
            Action::CancelPickup {
                place: place(request),
                disposer_id: &request.request.disposer_id,
                enterprise_ids: &enterprises,
                driver_id: request.request.driver_id.as_deref(),
            },
        )
    })?;
    let mut row = request.request;
    check_status(&row, RequestStatus::OPEN, RequestStatus::Cancelled)?;
    close(
        conn,
        now,
        principal,
        &mut row,
        RequestStatus::Cancelled,
        reason,
    )?;
    announce(
        conn,
        now,
        "pickup.cancelled",
        &row,
        title(&row, RequestStatus::Cancelled),
    )?;
    view_for(conn, principal, &row, true)
}

/// The disposer's dispatcher accepts a request.
pub fn accept(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &PickupRequestId,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.request;
    check_status(&row, &[RequestStatus::Requested], RequestStatus::Accepted)?;
    row.status = RequestStatus::Accepted;
    row.accepted_at = Some(now.naive_utc());
    row.accepted_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, &row)?;
    announce(
        conn,
        now,
        "pickup.accepted",
        &row,
        title(&row, RequestStatus::Accepted),
    )?;
    view_for(conn, principal, &row, true)
}

/// The disposer's dispatcher declines a request with a reason; its lots wait again.
pub fn decline(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &PickupRequestId,
    reason: String,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.request;
    check_status(
        &row,
        &[RequestStatus::Requested, RequestStatus::Accepted],
        RequestStatus::Declined,
    )?;
    close(
        conn,
        now,
        principal,
        &mut row,
        RequestStatus::Declined,
        reason,
    )?;
    announce(
        conn,
        now,
        "pickup.declined",
        &row,
        title(&row, RequestStatus::Declined),
    )?;
    view_for(conn, principal, &row, true)
}

/// Checks that a vehicle in service on `day` and an active driver belong to the carrier (a
/// registered carrier, or a disposal company's own fleet).
pub(crate) fn check_crew(
    conn: &mut DbConn,
    carrier_id: &str,
    vehicle_id: &str,
    driver_id: &str,
    day: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    match directory::find_vehicle(conn, vehicle_id)? {
        Some(v) if v.operator_id != carrier_id => errors.push(FieldError::new(
            "vehicle_id",
            "not_of_carrier",
            "the vehicle does not belong to the carrier",
        )),
        Some(v) if v.retired_on.is_some_and(|r| r <= day) => errors.push(FieldError::new(
            "vehicle_id",
            "retired",
            format!("the vehicle is out of service on {day}"),
        )),
        Some(_) => {}
        None => errors.push(FieldError::new(
            "vehicle_id",
            "not_found",
            "no such vehicle",
        )),
    }
    match crate::identity::store::find_user(conn, driver_id)? {
        Some(d) if d.organization_id != carrier_id || d.role != Role::Driver.as_str() => errors
            .push(FieldError::new(
                "driver_id",
                "not_of_carrier",
                "not a driver of the carrier",
            )),
        Some(d) if d.deactivated_at.is_some() => errors.push(FieldError::new(
            "driver_id",
            "deactivated",
            "this driver's account is deactivated",
        )),
        Some(_) => {}
        None => errors.push(FieldError::new("driver_id", "not_found", "no such driver")),
    }
    Ok(())
}

/// When, with which vehicle and driver, the disposer comes.
pub struct Schedule {
    pub scheduled_on: NaiveDate,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
    /// The escort (押运员), a user of the carrier; optional.
    pub escort_id: Option<String>,
}

/// The escort named in a schedule: an active user of the carrier, not the driver.
fn check_escort(
    conn: &mut DbConn,
    carrier_id: &str,
    s: &Schedule,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    let Some(escort_id) = s.escort_id.as_deref() else {
        return Ok(());
    };
    match crate::identity::store::find_user(conn, escort_id)? {
        Some(u) if u.organization_id != carrier_id => errors.push(FieldError::new(
            "escort_id",
            "not_of_carrier",
            "not a user of the carrier",
        )),
        Some(u) if u.deactivated_at.is_some() => errors.push(FieldError::new(
            "escort_id",
            "deactivated",
            "this escort's account is deactivated",
        )),
        Some(_) if escort_id == s.driver_id => errors.push(FieldError::new(
            "escort_id",
            "is_driver",
            "the escort rides beside the driver: name another user",
        )),
        Some(_) => {}
        None => errors.push(FieldError::new("escort_id", "not_found", "no such user")),
    }
    Ok(())
}

/// The disposer's dispatcher schedules (or reschedules) the pickup: a day, a carrier (a
/// licensed carrier, or the disposer's own fleet), one of its vehicles in service and one of
/// its drivers. Scheduling a request not yet accepted accepts it.
pub fn schedule(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &PickupRequestId,
    s: Schedule,
) -> Result<RequestView, ApiError> {
    let request = load_for_change(conn, id, |conn, r| authorize_dispatch(conn, principal, r))?;
    let mut row = request.request;
    check_status(&row, RequestStatus::OPEN, RequestStatus::Scheduled)?;
    let park = parks::load_park(conn, &row.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let mut errors = Vec::new();
    if s.scheduled_on < today {
        errors.push(FieldError::new(
            "scheduled_on",
            "in_past",
            format!("must be today ({today}) or later"),
        ));
    }
    let carrier_ok =
        s.carrier_id == row.disposer_id || directory::find_carrier(conn, &s.carrier_id)?.is_some();
    if !carrier_ok {
        errors.push(FieldError::new(
            "carrier_id",
            "not_found",
            "no such carrier: name a registered carrier or the disposal company itself",
        ));
    }
    check_crew(
        conn,
        &s.carrier_id,
        &s.vehicle_id,
        &s.driver_id,
        s.scheduled_on,
        &mut errors,
    )?;
    check_escort(conn, &s.carrier_id, &s, &mut errors)?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if row.accepted_at.is_none() {
        row.accepted_at = Some(now.naive_utc());
        row.accepted_by = Some(principal.user_id.clone());
    }
    // A carrier replaced by this schedule is told too: it is no longer booked.
    let replaced: Vec<String> = row
        .carrier_id
        .iter()
        .filter(|c| **c != s.carrier_id)
        .cloned()
        .collect();
    row.status = RequestStatus::Scheduled;
    row.scheduled_on = Some(s.scheduled_on);
    row.carrier_id = Some(s.carrier_id);
    row.vehicle_id = Some(s.vehicle_id);
    row.driver_id = Some(s.driver_id);
    row.escort_id = s.escort_id;
    row.scheduled_at = Some(now.naive_utc());
    row.scheduled_by = Some(principal.user_id.clone());
    row.updated_at = now.naive_utc();
    store::save_request(conn, &row)?;
    let title = title(&row, RequestStatus::Scheduled);
    announce_to(conn, now, "pickup.scheduled", &row, title, &replaced, None)?;
    view_for(conn, principal, &row, true)
}
