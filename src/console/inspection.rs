//! The anomaly lists of inspectors (every park of their jurisdiction) and park offices (their
//! park), one kind at a time, paged like the API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use maud::html;
use serde::Deserialize;

use crate::auth::policy;
use crate::console::format::{weight, when};
use crate::console::page::{PageError, page, respond, t};
use crate::console::session::{Viewer, url_escape};
use crate::error::Validator;
use crate::http::pagination::PageQuery;
use crate::i18n::Locale;
use crate::inspection::routes::{AnomalyParams, anomaly_request};
use crate::inspection::service::ANOMALY_KINDS;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct AnomalyQuery {
    kind: Option<String>,
    park_id: Option<String>,
    cursor: Option<String>,
}

fn kind_text(l: Locale, kind: &str) -> &'static str {
    match kind {
        "storage_overdue" => t(l, "贮存超期", "Stored too long"),
        "receipt_overdue" => t(l, "接收逾期", "Receipt overdue"),
        "mass_balance" => t(l, "物料不平衡", "Mass balance"),
        "refusal_open" => t(l, "拒收未处理", "Open refusals"),
        "licence_expiring" => t(l, "许可证到期", "Licences expiring"),
        "idle_member" => t(l, "长期无废物", "Idle members"),
        "zone_full" => t(l, "分区将满", "Zones filling"),
        "finding_overdue" => t(l, "整改逾期", "Findings overdue"),
        "outside_profile" => t(l, "超出产废档案", "Outside the profile"),
        _ => t(l, "其他", "Other"),
    }
}

/// Where a subject of an anomaly is shown in the console, if it is.
fn subject_link(kind: &str, subject: &str) -> Option<String> {
    match kind {
        "receipt_overdue" | "mass_balance" | "refusal_open" => {
            Some(format!("/manifests/{}", url_escape(subject)))
        }
        _ => None,
    }
}

/// One list of anomalies (`inspection::service::anomalies` under `policy::anomaly_scope`, as
/// `GET /api/v1/anomalies`).
#[get("/anomalies")]
pub async fn anomaly_list(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<AnomalyQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let kind = q.kind.clone().unwrap_or_else(|| "mass_balance".to_owned());
    // The park asked for, kept in the kinds' links and the next page's.
    let park = q
        .park_id
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| format!("&park_id={}", url_escape(p)))
        .unwrap_or_default();
    let scope = policy::anomaly_scope(&v.principal).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    }
    .parse(&mut val);
    let (park_id, asked) = anomaly_request(
        &mut val,
        AnomalyParams {
            kind: kind.clone(),
            park_id: q.park_id.clone().filter(|p| !p.is_empty()),
            within_days: None,
            months: None,
        },
    );
    let asked = val.finish_with(|| asked).map_err(v.fail())?;
    let (now, principal) = (state.clock.now(), v.principal.clone());
    let found = state
        .db
        .snapshot(move |conn| {
            crate::inspection::service::anomalies(
                conn,
                now,
                &principal,
                scope,
                park_id.as_deref(),
                &asked,
                &page_request,
            )
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "异常清单", "Anomalies");
    let body = html! {
        nav.tabs aria-label=(t(l, "异常类别", "Kinds")) {
            ul {
                @for k in ANOMALY_KINDS {
                    li {
                        @if *k == kind {
                            a href={ "/anomalies?kind=" (k) (park) } aria-current="page" { (kind_text(l, k)) }
                        } @else {
                            a href={ "/anomalies?kind=" (k) (park) } { (kind_text(l, k)) }
                        }
                    }
                }
            }
        }
        h2 { (kind_text(l, &kind)) }
        @if found.items.is_empty() {
            p.muted #no-anomalies { (t(l, "没有此类异常。", "None of this kind.")) }
        } @else {
            div.table-wrap { table #anomalies {
                thead { tr {
                    th scope="col" { (t(l, "对象", "Subject")) }
                    th scope="col" { (t(l, "说明", "What")) }
                    th scope="col" { (t(l, "起始日", "Since")) }
                } }
                tbody {
                    @for a in &found.items {
                        tr data-subject=(a.subject_id) {
                            td {
                                @match subject_link(&a.kind, &a.subject_id) {
                                    Some(href) => a href=(href) { (a.subject_id) },
                                    None => (a.subject_id),
                                }
                            }
                            td { (a.title) }
                            td { (a.since.map(|d| d.to_string()).unwrap_or_default()) }
                        }
                    }
                }
            } }
            @if let Some(cursor) = &found.next_cursor {
                p.pager { a rel="next" href={ "/anomalies?kind=" (kind) (park) "&cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/anomalies", body)))
}

fn stage_text(l: Locale, stage: &str) -> &'static str {
    match stage {
        "declared" => t(l, "已申报，待上门收集", "declared, waiting at the door"),
        "stored" => t(l, "在库待清运", "stored, waiting"),
        "requested" => t(l, "已申请清运", "in a pickup request"),
        "collected" => t(l, "已出库，待承运", "collected, not yet taken over"),
        "in_transit" => t(l, "运输中", "in transit"),
        "received" => t(l, "已接收", "received"),
        "completed" => t(l, "已利用处置", "treated"),
        "voided" => t(l, "已作废", "voided"),
        _ => t(l, "其他", "other"),
    }
}

/// A lot's way from its weighing to its treatment (`inspection::service::lot_trace`, as
/// `GET /api/v1/lots/{id}/trace`): the weighing, each pickup request it waited in, the
/// collection it left with and the manifest it left on, as each reads to the viewer.
#[get("/lots/{id}/trace")]
pub async fn lot_trace(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = crate::domain::ids::LotId::from(id.into_inner());
    let (now, principal) = (state.clock.now(), v.principal.clone());
    let tolerance = state.mass_balance_tolerance_percent;
    let trace = state
        .db
        .snapshot(move |conn| {
            crate::inspection::service::lot_trace(conn, now, &principal, &id, tolerance)
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let lot = &trace.lot;
    let title = t(l, "批次追溯", "Lot trace");
    let body = html! {
        section.card {
            dl.facts {
                dt { (t(l, "批次", "Lot")) } dd { (lot.id.as_str()) }
                dt { (t(l, "当前阶段", "Stage")) } dd #stage { (stage_text(l, &trace.stage)) }
                dt { (t(l, "废物代码", "Waste code")) } dd { (lot.waste_code) }
                dt { (t(l, "净重", "Net")) } dd { (weight(lot.net_grams)) }
                @if let Some(code) = &lot.label_code {
                    dt { (t(l, "标签识别码", "Label code")) } dd { (code) }
                }
            }
        }
        section.card aria-labelledby="steps" {
            h2 #steps { (t(l, "经过", "Its way")) }
            ol.trace {
                li { (when(lot.captured_at, v.tz)) " · " (t(l, "称重入库", "weighed in")) " · " (weight(lot.net_grams)) }
                @for r in &trace.pickup_requests {
                    li data-request=(r.id.as_str()) {
                        (when(r.created_at, v.tz)) " · " (t(l, "转移申请", "pickup request")) " · "
                        (crate::console::lots::status_text(l, r.status.as_str()))
                        @if let Some(day) = r.scheduled_on { " · " (t(l, "清运日期 ", "pickup day ")) (day) }
                    }
                }
                @if let Some(c) = &trace.collection {
                    li { (when(c.captured_at, v.tz)) " · " (t(l, "出库称重", "weighed out"))
                         @if let Some(net) = c.net_grams { " · " (weight(net)) } }
                }
                @for m in &trace.manifests {
                    li data-manifest=(m.id.as_str()) {
                        (when(m.created_at, v.tz)) " · " (t(l, "转移联单 ", "manifest "))
                        a href={ "/manifests/" (url_escape(m.id.as_str())) } { (m.number) }
                        " · " (crate::console::lots::status_text(l, m.status.as_str()))
                    }
                }
            }
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/lots", body)))
}

#[derive(Debug, Default, Deserialize)]
pub struct ParksQuery {
    cursor: Option<String>,
}

/// The parks the viewer may read (`registry::parks::service::list_parks` under
/// `policy::park_scope`, as `GET /api/v1/parks`): an inspector those of its jurisdiction, each
/// with its anomalies and its charts.
#[get("/parks")]
pub async fn park_list(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<ParksQuery>,
) -> Result<HttpResponse, PageError> {
    let scope = policy::park_scope(&v.principal).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: query.into_inner().cursor.filter(|c| !c.is_empty()),
    }
    .parse(&mut val);
    val.finish().map_err(v.fail())?;
    let parks = state
        .db
        .run(move |conn| crate::registry::parks::service::list_parks(conn, &scope, &page_request))
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "辖区园区", "Parks");
    let body = html! {
        @if parks.items.is_empty() {
            p.muted #no-parks { (t(l, "没有可查看的园区。", "No parks to read.")) }
        } @else {
            div.table-wrap { table #parks {
                thead { tr {
                    th scope="col" { (t(l, "园区", "Park")) }
                    th scope="col" { (t(l, "行政区划代码", "Region code")) }
                    th.optional scope="col" { (t(l, "地址", "Address")) }
                    th scope="col" { (t(l, "查看", "Open")) }
                } }
                tbody {
                    @for park in &parks.items {
                        tr data-park=(park.id) {
                            td { (park.name) }
                            td { (park.region_code) }
                            td.optional { (park.address) }
                            td {
                                a href={ "/anomalies?park_id=" (url_escape(&park.id)) } { (t(l, "异常", "Anomalies")) }
                                " · "
                                a href={ "/figures?park_id=" (url_escape(&park.id)) } { (t(l, "图表", "Charts")) }
                                " · "
                                a href={ "/ledgers?park_id=" (url_escape(&park.id)) } { (t(l, "台账", "Ledgers")) }
                            }
                        }
                    }
                }
            } }
            @if let Some(cursor) = &parks.next_cursor {
                p.pager { a rel="next" href={ "/parks?cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/parks", body)))
}
