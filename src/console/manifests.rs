//! Transfer manifests: the search of whoever may read them, with the API's filters and paging,
//! and each manifest's printable page.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::policy;
use crate::console::format::{weight, when};
use crate::console::lots::status_text;
use crate::console::page::{PageError, described_by, field, field_messages, page, respond, t};
use crate::console::session::{Viewer, url_escape};
use crate::domain::ids::ManifestId;
use crate::error::Validator;
use crate::http::pagination::PageQuery;
use crate::manifests::routes::{ManifestQuery, manifest_filter};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    number: Option<String>,
    status: Option<String>,
    waste_code: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The manifests the viewer may read (`manifests::service::search` under
/// `policy::manifest_scope`, as `GET /api/v1/manifests`), newest first, 50 a page.
#[get("/manifests")]
pub async fn manifest_search(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let now = state.clock.now();
    let scope = policy::manifest_scope(&v.principal).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: given(&q.cursor),
    }
    .parse(&mut val);
    let filter = manifest_filter(
        &mut val,
        ManifestQuery {
            number: given(&q.number),
            official_number: None,
            park_id: None,
            party: None,
            waste_code: given(&q.waste_code),
            status: given(&q.status),
            flagged: None,
            from: given(&q.from),
            to: given(&q.to),
        },
    );
    let l = v.locale;
    let checked = val.finish();
    let errors = match &checked {
        Err(e) => field_messages(e, l),
        Ok(()) => HashMap::new(),
    };
    let found = match checked {
        Err(_) => None,
        Ok(()) => {
            let (principal, tolerance) =
                (v.principal.clone(), state.mass_balance_tolerance_percent);
            Some(
                state
                    .db
                    .run(move |conn| {
                        crate::manifests::service::search(
                            conn,
                            now,
                            &principal,
                            &scope,
                            &filter,
                            &page_request,
                            tolerance,
                        )
                    })
                    .await
                    .map_err(v.fail())?,
            )
        }
    };
    let title = t(l, "转移联单", "Manifests");
    let filters: String = [
        ("number", &q.number),
        ("status", &q.status),
        ("waste_code", &q.waste_code),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .iter()
    .filter_map(|(name, value)| given(value).map(|v| format!("{name}={}&", url_escape(&v))))
    .collect();
    let body = html! {
        (search_form(&v, &q, &errors))
        @match &found {
            None => p.muted { (t(l, "请修正筛选条件。", "Correct the filters.")) },
            Some(found) if found.items.is_empty() => p.muted #no-manifests { (t(l, "没有符合条件的联单。", "No manifests match.")) },
            Some(found) => {
                div.table-wrap { table #manifests {
                    thead { tr {
                        th scope="col" { (t(l, "联单编号", "Number")) }
                        th scope="col" { (t(l, "状态", "Status")) }
                        th scope="col" { (t(l, "废物", "Waste")) }
                        th.number scope="col" { (t(l, "重量", "Weight")) }
                        th.optional scope="col" { (t(l, "移出人", "Consignor")) }
                        th.optional scope="col" { (t(l, "接受人", "Receiver")) }
                        th.optional scope="col" { (t(l, "创建时间", "Created")) }
                    } }
                    tbody {
                        @for m in &found.items {
                            tr data-manifest=(m.id.as_str()) {
                                td { a href={ "/manifests/" (url_escape(m.id.as_str())) "/print" } { (m.number) } }
                                td { (status_text(l, m.status.as_str())) }
                                td { (m.waste_code) " " (m.waste_name) }
                                td.number { (weight(m.mass_balance.outbound_grams)) }
                                td.optional { (m.consignor.name) }
                                td.optional { (m.receiver.name) }
                                td.optional { (when(m.created_at, v.tz)) }
                            }
                        }
                    }
                } }
                @if let Some(cursor) = &found.next_cursor {
                    p.pager { a rel="next" href={ "/manifests?" (filters) "cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
                }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(respond(status, page(&v, title, "/manifests", body)))
}

fn search_form(v: &Viewer, q: &SearchQuery, errors: &HashMap<String, String>) -> Markup {
    let l = v.locale;
    let input = |name: &str, value: &Option<String>, kind: &str| {
        let error = errors.get(name);
        html! {
            input id=(name) name=(name) type=(kind) maxlength="64" value=(value.as_deref().unwrap_or(""))
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described_by(name, error)];
        }
    };
    let status = q.status.as_deref().unwrap_or("");
    html! {
        form.filters method="get" action="/manifests" role="search" {
            (field("number", t(l, "联单编号", "Number"), errors.get("number"), input("number", &q.number, "text")))
            (field("status", t(l, "状态", "Status"), errors.get("status"), html! {
                select #status name="status" {
                    option value="" selected[status.is_empty()] { (t(l, "全部", "All")) }
                    @for s in ["draft", "confirmed", "in_transit", "received", "completed"] {
                        option value=(s) selected[status == s] { (status_text(l, s)) }
                    }
                }
            }))
            (field("waste_code", t(l, "废物代码", "Waste code"), errors.get("waste_code"), input("waste_code", &q.waste_code, "text")))
            (field("from", t(l, "创建日期自", "Created from"), errors.get("from"), input("from", &q.from, "date")))
            (field("to", t(l, "至", "to"), errors.get("to"), input("to", &q.to, "date")))
            button type="submit" { (t(l, "查询", "Search")) }
        }
        @if let Some(message) = errors.get("cursor").or(errors.get("")) {
            p.banner.bad role="alert" { (message) }
        }
    }
}

/// The manifest's printable page: the API's (`GET /api/v1/manifests/{id}/print.html`), read
/// by the same use case for the signed-in viewer.
#[get("/manifests/{id}/print")]
pub async fn manifest_print(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let id = ManifestId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    let url = format!("{}/api/v1/manifests/{id}/print.html", state.public_base_url);
    let principal = v.principal.clone();
    let (view, tz) = state
        .db
        .run(move |conn| {
            crate::manifests::service::read_for_print(conn, now, &principal, &id, tolerance)
        })
        .await
        .map_err(v.fail())?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(crate::manifests::print::page(&view, &url, tz)))
}
