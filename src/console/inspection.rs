//! The anomaly lists of inspectors (every park of their jurisdiction) and park offices (their
//! park), one kind at a time, paged like the API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use maud::html;
use serde::Deserialize;

use crate::auth::policy;
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
    let kind = q.kind.unwrap_or_else(|| "mass_balance".to_owned());
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
            park_id: None,
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
                            a href={ "/anomalies?kind=" (k) } aria-current="page" { (kind_text(l, k)) }
                        } @else {
                            a href={ "/anomalies?kind=" (k) } { (kind_text(l, k)) }
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
                p.pager { a rel="next" href={ "/anomalies?kind=" (kind) "&cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/anomalies", body)))
}
