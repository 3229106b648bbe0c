//! The park office's view of its warehouse: each zone's fill against its capacity, what is
//! stored in it by code, the open alarms and the open pickup requests.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};

use crate::auth::policy;
use crate::console::format::{percent, weight, when};
use crate::console::page::{PageError, page, respond, t};
use crate::console::session::Viewer;
use crate::domain::lot::AlarmLevel;
use crate::error::ApiError;
use crate::figures::service::CategoryStockView;
use crate::http::pagination::PageRequest;
use crate::i18n::Locale;
use crate::lots::service::{AlarmList, InventoryView};
use crate::requests::service::RequestView;
use crate::state::AppState;

/// Most warehouses, open requests and alarms of each kind a dashboard shows.
const SHOWN: i64 = 20;

struct Dashboard {
    warehouses: Vec<(String, InventoryView)>,
    /// Per warehouse, its categories against their pickup thresholds.
    categories: std::collections::HashMap<String, Vec<CategoryStockView>>,
    alarms: AlarmList,
    requests: Vec<RequestView>,
}

/// The dashboard, read in one snapshot with the use cases the API's inventory, alarms and
/// pickup-request list call, under the same policy.
#[get("/dashboard")]
pub async fn show(state: web::Data<AppState>, v: Viewer) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let principal = v.principal.clone();
    if principal.role != crate::domain::identity::Role::ParkOffice {
        return Err(v.fail()(ApiError::Forbidden(
            "the warehouse dashboard is the park office's",
        )));
    }
    let data = state
        .db
        .snapshot(move |conn| {
            let first = PageRequest {
                limit: SHOWN,
                after: None,
            };
            let scope = policy::warehouse_scope(&principal)?;
            let warehouses =
                crate::registry::warehouses::service::list_warehouses(conn, &scope, None, &first)?;
            let mut stock = Vec::with_capacity(warehouses.items.len());
            for w in warehouses.items {
                let inventory =
                    crate::lots::service::warehouse_inventory(conn, now, &principal, &w.id)?;
                stock.push((w.name, inventory));
            }
            let alarms = crate::lots::service::alarms(conn, now, &policy::lot_scope(&principal)?)?;
            let categories = match &principal.park_id {
                Some(park_id) => {
                    crate::figures::service::read_stock(conn, now, &principal, park_id)?
                        .warehouses
                        .into_iter()
                        .map(|w| (w.warehouse_id, w.categories))
                        .collect()
                }
                None => std::collections::HashMap::new(),
            };
            let filter = crate::requests::store::RequestFilter {
                status: None,
                contract_id: None,
                warehouse_id: None,
                open: true,
            };
            let requests = crate::requests::service::list(
                conn,
                &principal,
                &policy::pickup_scope(&principal)?,
                &filter,
                &first,
            )?;
            Ok(Dashboard {
                warehouses: stock,
                categories,
                alarms,
                requests: requests.items,
            })
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "仓库概况", "Warehouse");
    let body = html! {
        @if data.warehouses.is_empty() {
            p.muted { (t(l, "园区还没有仓库。", "The park has no warehouse yet.")) }
        }
        @for (name, inventory) in &data.warehouses {
            section.card aria-labelledby={ "wh-" (inventory.warehouse_id) } {
                h2 id={ "wh-" (inventory.warehouse_id) } { (name) }
                div.zones {
                    @for zone in &inventory.zones {
                        (zone_gauge(l, zone))
                    }
                }
                @if let Some(categories) = data.categories.get(&inventory.warehouse_id) {
                    @if !categories.is_empty() {
                        h3 { (t(l, "按类别对照清运阈值", "By category, against the pickup threshold")) }
                        div.zones {
                            @for c in categories {
                                (category_gauge(l, c))
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="alarms" {
            h2 #alarms { (t(l, "报警", "Alarms")) }
            (alarms(&v, &data.alarms))
        }
        section.card aria-labelledby="requests" {
            h2 #requests { (t(l, "待清运的转移申请", "Open pickup requests")) }
            (requests(&v, &data.requests))
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/dashboard", body)))
}

fn level(l: Locale, level: AlarmLevel) -> (&'static str, &'static str) {
    match level {
        AlarmLevel::Warning => ("alarm-warning", t(l, "预警", "warning")),
        AlarmLevel::Exceeded => ("alarm-exceeded", t(l, "超限", "exceeded")),
    }
}

fn zone_gauge(l: Locale, zone: &crate::lots::service::ZoneStock) -> Markup {
    let id = format!("zone-{}", zone.zone_id);
    let fill = percent(zone.stored_grams, zone.capacity_grams);
    html! {
        div.gauge data-zone=(zone.zone_id) {
            h3 { label for=(id) { (zone.name) } }
            // Grams as the meter's numbers: exact integers, shown as kg or t beside it.
            meter id=(id) min="0" max=(zone.capacity_grams) value=(zone.stored_grams)
                low=(zone.capacity_grams / 10 * 9) high=(zone.capacity_grams / 10 * 9)
                optimum="0" {
                (fill) "%"
            }
            div.figures {
                span.stored { (weight(zone.stored_grams)) " / " (weight(zone.capacity_grams)) }
                span.fill { (fill) "%" }
            }
            @if let Some(alarm) = zone.capacity_alarm {
                @let (class, text) = level(l, alarm);
                p class=(class) { (text) }
            }
            @if !zone.lines.is_empty() {
                table {
                    caption.muted { (t(l, "按废物代码", "By waste code")) }
                    thead { tr {
                        th scope="col" { (t(l, "代码", "Code")) }
                        th.number scope="col" { (t(l, "重量", "Weight")) }
                        th.number scope="col" { (t(l, "批次", "Lots")) }
                        th.number.optional scope="col" { (t(l, "最久(天)", "Oldest (days)")) }
                    } }
                    tbody {
                        @for line in &zone.lines {
                            tr {
                                td { (line.waste_code) }
                                td.number { (weight(line.grams)) }
                                td.number { (line.lots) }
                                td.number.optional { (line.oldest_age_days.map(|d| d.to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn category_gauge(l: Locale, c: &CategoryStockView) -> Markup {
    let id = format!("category-{}-{}", c.contract_id, c.category);
    html! {
        div.gauge data-category=(c.category) {
            label for=(id) { (c.category) " · " (c.stored_lots) (t(l, " 批", " lots")) }
            @match c.threshold_grams {
                Some(threshold) => {
                    meter id=(id) min="0" max=(threshold) value=(c.stored_grams.min(threshold))
                        low=(threshold / 10 * 8) high=(threshold / 10 * 8) optimum="0" {
                        (c.threshold_percent.unwrap_or(0)) "%"
                    }
                    div.figures {
                        span.stored { (weight(c.stored_grams)) " / " (weight(threshold)) }
                        span { (c.threshold_percent.unwrap_or(0)) "%" }
                    }
                }
                None => {
                    p.figures #(id) { (weight(c.stored_grams)) " · " (t(l, "无清运阈值", "no pickup threshold")) }
                }
            }
        }
    }
}

fn alarms(v: &Viewer, alarms: &AlarmList) -> Markup {
    let l = v.locale;
    if alarms.storage.is_empty() && alarms.capacity.is_empty() {
        return html! { p.muted #no-alarms { (t(l, "没有报警。", "No alarms.")) } };
    }
    html! {
        ul.alarm-list {
            @for a in alarms.capacity.iter().take(SHOWN as usize) {
                @let (class, text) = level(l, a.level);
                li { span class=(class) { (text) } " " (a.zone_name) ": "
                     (weight(a.stored_grams)) " / " (weight(a.capacity_grams)) }
            }
            @for a in alarms.storage.iter().take(SHOWN as usize) {
                @let (class, text) = level(l, a.level);
                li { span class=(class) { (text) } " " (a.waste_code) " · "
                     (t(l, "已贮存", "stored for ")) (a.days_stored) (t(l, " 天，上限 ", " days of at most "))
                     (a.max_storage_days) (t(l, " 天", "")) " · " (when(a.weighed_at, v.tz)) }
            }
        }
    }
}

fn requests(v: &Viewer, requests: &[RequestView]) -> Markup {
    let l = v.locale;
    if requests.is_empty() {
        return html! { p.muted #no-requests { (t(l, "没有待清运的申请。", "No open requests.")) } };
    }
    html! {
        div.table-wrap { table #open-requests {
            thead { tr {
                th scope="col" { (t(l, "提出时间", "Raised")) }
                th scope="col" { (t(l, "类别", "Category")) }
                th scope="col" { (t(l, "状态", "Status")) }
                th scope="col" { (t(l, "原因", "Why")) }
            } }
            tbody {
                @for r in requests {
                    tr data-request=(r.id.as_str()) {
                        td { a href={ "/pickups/" (crate::console::session::url_escape(r.id.as_str())) } { (when(r.created_at, v.tz)) } }
                        td { (r.category) }
                        td { (crate::console::lots::status_text(l, r.status.as_str())) }
                        td { (r.trigger_detail) }
                    }
                }
            }
        } }
    }
}
