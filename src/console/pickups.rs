//! Pickup requests: the list of whoever may read them, one request with its lines, and the
//! disposal company's steps (accept, schedule with its fleet, decline) and the park office's
//! cancellation — each through the use case the API's route calls.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::policy;
use crate::console::format::{weight, when};
use crate::console::lots::status_text;
use crate::console::page::{
    PageError, csrf, described_by, field, form_messages, page, respond, see_other, select_control,
    t,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::identity::Role;
use crate::domain::ids::PickupRequestId;
use crate::domain::pickup::RequestStatus;
use crate::error::{ApiError, FieldError, Validator};
use crate::http::pagination::{PageQuery, PageRequest};
use crate::pickups::routes::TEXT_MAX;
use crate::pickups::service::Schedule;
use crate::requests::service::RequestView;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `all` for every request; open ones otherwise.
    show: Option<String>,
    cursor: Option<String>,
}

/// The pickup requests the viewer may read (`requests::service::list` under
/// `policy::pickup_scope`, as `GET /api/v1/pickup-requests`), open ones first by default.
#[get("/pickups")]
pub async fn pickup_list(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let all = q.show.as_deref() == Some("all");
    let scope = policy::pickup_scope(&v.principal).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    }
    .parse(&mut val);
    val.finish().map_err(v.fail())?;
    let principal = v.principal.clone();
    let filter = crate::requests::store::RequestFilter {
        status: None,
        contract_id: None,
        warehouse_id: None,
        open: !all,
    };
    let requests = state
        .db
        .run(move |conn| {
            crate::requests::service::list(conn, &principal, &scope, &filter, &page_request)
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "转移申请", "Pickup requests");
    let show = if all { "all" } else { "open" };
    let body = html! {
        p {
            @if all {
                a href="/pickups" { (t(l, "只看未完成的", "Open ones only")) }
            } @else {
                a href="/pickups?show=all" { (t(l, "查看全部", "Show all")) }
            }
        }
        @if requests.items.is_empty() {
            p.muted #no-requests { (t(l, "没有转移申请。", "No pickup requests.")) }
        } @else {
            div.table-wrap { table #requests {
                thead { tr {
                    th scope="col" { (t(l, "提出时间", "Raised")) }
                    th scope="col" { (t(l, "类别", "Category")) }
                    th.number scope="col" { (t(l, "重量", "Weight")) }
                    th scope="col" { (t(l, "状态", "Status")) }
                    th.optional scope="col" { (t(l, "清运日期", "Pickup day")) }
                } }
                tbody {
                    @for r in &requests.items {
                        tr data-request=(r.id.as_str()) {
                            td { a href={ "/pickups/" (url_escape(r.id.as_str())) } { (when(r.created_at, v.tz)) } }
                            td { (r.category) }
                            td.number { (weight(r.total_grams)) }
                            td { (status_text(l, r.status.as_str())) }
                            td.optional { (r.scheduled_on.map(|d| d.to_string()).unwrap_or_default()) }
                        }
                    }
                }
            } }
            @if let Some(cursor) = &requests.next_cursor {
                p.pager { a rel="next" href={ "/pickups?show=" (show) "&cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/pickups", body)))
}

/// A fleet a disposal company may schedule with: its carriers' and its own vehicles and drivers.
struct Fleet {
    carriers: Vec<(String, String)>,
    vehicles: Vec<(String, String)>,
    drivers: Vec<(String, String)>,
}

fn fleet(
    conn: &mut crate::db::DbConn,
    principal: &crate::auth::Principal,
    l: crate::i18n::Locale,
) -> Result<Fleet, ApiError> {
    let first = PageRequest {
        limit: crate::http::pagination::MAX_LIMIT,
        after: None,
    };
    let directory = crate::registry::directory::service::list_carriers(
        conn,
        &policy::directory_scope(principal)?,
        &first,
    )?;
    let mut operators: Vec<(String, String)> = directory
        .items
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    operators.sort_by(|a, b| a.1.cmp(&b.1));
    operators.push((
        principal.organization_id.clone(),
        t(l, "自有车队", "Own fleet").to_owned(),
    ));
    let (mut vehicles, mut drivers) = (Vec::new(), Vec::new());
    for (id, name) in &operators {
        for vehicle in
            crate::registry::directory::service::list_vehicles(conn, Some(id), &first)?.items
        {
            vehicles.push((vehicle.id, format!("{name} · {}", vehicle.plate)));
        }
        for driver in crate::registry::directory::service::list_drivers(conn, id)? {
            drivers.push((driver.id, format!("{name} · {}", driver.display_name)));
        }
    }
    Ok(Fleet {
        carriers: operators,
        vehicles,
        drivers,
    })
}

/// What a request's page shows besides the request: the fleet for its schedule form.
struct Shown {
    request: RequestView,
    fleet: Option<Fleet>,
}

/// The form a step sends: its token and, for a schedule or a refusal, its fields.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    scheduled_on: String,
    #[serde(default)]
    carrier_id: String,
    #[serde(default)]
    vehicle_id: String,
    #[serde(default)]
    driver_id: String,
    #[serde(default)]
    reason: String,
}

/// One request: its figures, its lines per code, and the steps the viewer may take now.
#[get("/pickups/{id}")]
pub async fn pickup_page(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = PickupRequestId::from(id.into_inner());
    request_page(
        &state,
        &v,
        &id,
        StatusCode::OK,
        &StepForm::default(),
        &HashMap::new(),
    )
    .await
}

async fn request_page(
    state: &AppState,
    v: &Viewer,
    id: &PickupRequestId,
    status: StatusCode,
    form: &StepForm,
    errors: &HashMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let (principal, id, l) = (v.principal.clone(), id.clone(), v.locale);
    let shown = state
        .db
        .snapshot(move |conn| {
            let request = crate::requests::service::get(conn, &principal, &id)?;
            let fleet = (principal.role == Role::DisposerDispatcher
                && request.status == RequestStatus::Accepted)
                .then(|| fleet(conn, &principal, l))
                .transpose()?;
            Ok(Shown { request, fleet })
        })
        .await
        .map_err(v.fail())?;
    let r = &shown.request;
    let path = format!("/pickups/{}", url_escape(r.id.as_str()));
    let title = t(l, "转移申请", "Pickup request");
    let dispatcher = v.principal.role == Role::DisposerDispatcher;
    let office = v.principal.role == Role::ParkOffice;
    let body = html! {
        @if let Some(message) = errors.get("") {
            p.banner.bad role="alert" #step-error { (message) }
        }
        section.card {
            dl.facts {
                dt { (t(l, "状态", "Status")) } dd #status { (status_text(l, r.status.as_str())) }
                dt { (t(l, "类别", "Category")) } dd { (r.category) }
                dt { (t(l, "重量", "Weight")) } dd { (weight(r.total_grams)) " · " (r.lot_count) (t(l, " 批", " lots")) }
                dt { (t(l, "提出时间", "Raised")) } dd { (when(r.created_at, v.tz)) }
                dt { (t(l, "原因", "Why")) } dd { (r.trigger_detail) }
                @if let Some(day) = r.scheduled_on {
                    dt { (t(l, "清运日期", "Pickup day")) } dd #scheduled-on { (day) }
                }
                @if let Some(reason) = &r.reason {
                    dt { (t(l, "说明", "Reason")) } dd { (reason) }
                }
            }
            table {
                caption.muted { (t(l, "按废物代码", "By waste code")) }
                thead { tr {
                    th scope="col" { (t(l, "代码", "Code")) }
                    th.number scope="col" { (t(l, "重量", "Weight")) }
                    th.number scope="col" { (t(l, "批次", "Lots")) }
                } }
                tbody {
                    @for line in &r.lines {
                        tr { td { (line.waste_code) } td.number { (weight(line.grams)) } td.number { (line.lots) } }
                    }
                }
            }
        }
        @if dispatcher && r.status == RequestStatus::Requested {
            form #accept method="post" action={ (path) "/accept" } {
                (csrf(v))
                button type="submit" { (t(l, "接受申请", "Accept")) }
            }
        }
        @if let Some(fleet) = &shown.fleet {
            section.card aria-labelledby="schedule-title" {
                h2 #schedule-title { (t(l, "安排清运", "Schedule the pickup")) }
                form.stacked #schedule method="post" action={ (path) "/schedule" } novalidate {
                    (csrf(v))
                    (field("scheduled_on", t(l, "清运日期", "Pickup day"), errors.get("scheduled_on"), html! {
                        input #scheduled_on name="scheduled_on" type="date" required value=(form.scheduled_on)
                            aria-invalid=[errors.get("scheduled_on").map(|_| "true")]
                            aria-describedby=[described_by("scheduled_on", errors.get("scheduled_on"))];
                    }))
                    (choice("carrier_id", t(l, "承运单位", "Carrier"), &fleet.carriers, &form.carrier_id, errors, l))
                    (choice("vehicle_id", t(l, "车辆", "Vehicle"), &fleet.vehicles, &form.vehicle_id, errors, l))
                    (choice("driver_id", t(l, "驾驶员", "Driver"), &fleet.drivers, &form.driver_id, errors, l))
                    button type="submit" { (t(l, "确定排期", "Schedule")) }
                }
            }
        }
        @if (dispatcher && matches!(r.status, RequestStatus::Requested | RequestStatus::Accepted))
            || (office && r.status.is_open()) {
            @let (step, label) = if dispatcher {
                ("decline", t(l, "拒绝申请", "Decline"))
            } else {
                ("cancel", t(l, "取消申请", "Cancel the request"))
            };
            section.card {
                form.stacked #{ (step) } method="post" action={ (path) "/" (step) } novalidate {
                    (csrf(v))
                    (field("reason", t(l, "原因", "Reason"), errors.get("reason"), html! {
                        input #reason name="reason" type="text" required maxlength="500" value=(form.reason)
                            aria-invalid=[errors.get("reason").map(|_| "true")]
                            aria-describedby=[described_by("reason", errors.get("reason"))];
                    }))
                    button type="submit" { (label) }
                }
            }
        }
        p { a href="/pickups" { (t(l, "返回列表", "Back to the list")) } }
    };
    Ok(respond(status, page(v, title, "/pickups", body)))
}

fn choice(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &HashMap<String, String>,
    l: crate::i18n::Locale,
) -> Markup {
    field(
        name,
        label,
        errors.get(name),
        select_control(l, name, options, chosen, errors),
    )
}

/// A step of a request, by name, as the API's route of the same name takes it.
enum Step {
    Accept,
    Schedule(Schedule),
    Decline(String),
    Cancel(String),
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Accept => "accept",
        Step::Schedule(_) => "schedule",
        Step::Decline(_) => "decline",
        Step::Cancel(_) => "cancel",
    }
}

fn parse_step(step: &str, form: &StepForm) -> Result<Step, ApiError> {
    let mut v = Validator::new();
    let step = match step {
        "accept" => Step::Accept,
        "schedule" => {
            let scheduled_on = match NaiveDate::parse_from_str(form.scheduled_on.trim(), "%Y-%m-%d")
            {
                Ok(day) => Some(day),
                Err(_) => {
                    v.push(FieldError::new(
                        "scheduled_on",
                        "invalid",
                        "must be a date YYYY-MM-DD",
                    ));
                    None
                }
            };
            let s = Schedule {
                scheduled_on: scheduled_on.unwrap_or_default(),
                carrier_id: v.text("carrier_id", &form.carrier_id, 1, 64),
                vehicle_id: v.text("vehicle_id", &form.vehicle_id, 1, 64),
                driver_id: v.text("driver_id", &form.driver_id, 1, 64),
                escort_id: None,
            };
            Step::Schedule(s)
        }
        "decline" => Step::Decline(v.text("reason", &form.reason, 1, TEXT_MAX)),
        "cancel" => Step::Cancel(v.text("reason", &form.reason, 1, TEXT_MAX)),
        _ => return Err(ApiError::NotFound(crate::error::NOT_VISIBLE)),
    };
    v.finish()?;
    Ok(step)
}

/// Takes a step of a request: the form's token first, then the step's use case in one write
/// transaction; a refusal shows the request again with the messages beside their fields.
#[post("/pickups/{id}/{step}")]
pub async fn pickup_step(
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    let (id, step) = path.into_inner();
    let form = form.into_inner();
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let id = PickupRequestId::from(id);
    let outcome = match parse_step(&step, &form) {
        Err(e) => Err(e),
        Ok(step) => {
            let (now, principal, id) = (state.clock.now(), v.principal.clone(), id.clone());
            let object = format!("/api/v1/pickup-requests/{id}/{}", step_name(&step));
            crate::audit::context::set_body(
                &serde_json::to_vec(&serde_json::json!({
                    "scheduled_on": form.scheduled_on, "carrier_id": form.carrier_id,
                    "vehicle_id": form.vehicle_id, "driver_id": form.driver_id,
                    "reason": form.reason, "via": "console",
                }))
                .unwrap_or_default(),
            );
            state
                .db
                .write(move |conn| {
                    crate::audit::context::object_if_unnamed(&object);
                    match step {
                        Step::Accept => crate::pickups::service::accept(conn, now, &principal, &id),
                        Step::Schedule(s) => {
                            crate::pickups::service::schedule(conn, now, &principal, &id, s)
                        }
                        Step::Decline(reason) => {
                            crate::pickups::service::decline(conn, now, &principal, &id, reason)
                        }
                        Step::Cancel(reason) => {
                            crate::pickups::service::cancel(conn, now, &principal, &id, reason)
                        }
                    }
                })
                .await
        }
    };
    match outcome {
        Ok(request) => Ok(see_other(&format!(
            "/pickups/{}",
            url_escape(request.id.as_str())
        ))),
        Err(error @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            let errors = form_messages(&error, v.locale, |field| {
                [
                    "scheduled_on",
                    "carrier_id",
                    "vehicle_id",
                    "driver_id",
                    "reason",
                ]
                .into_iter()
                .find(|f| *f == field)
            });
            request_page(&state, &v, &id, status, &form, &errors).await
        }
        Err(error) => Err(v.fail()(error)),
    }
}
