//! Billing: statements (the park office issues them; an enterprise reads its own with its
//! balance), each statement with its lines, and its exports as downloads.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;

use crate::auth::policy;
use crate::billing::service::{BalanceView, StatementSummary, StatementView};
use crate::console::format::{weight, when, yuan};
use crate::console::page::{
    PageError, csrf, described_by, field, form_messages, page, respond, see_other, t,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::identity::Role;
use crate::error::{ApiError, Validator};
use crate::http::Page;
use crate::http::pagination::PageQuery;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    enterprise_id: String,
    #[serde(default)]
    period: String,
}

struct Listed {
    statements: Page<StatementSummary>,
    names: HashMap<String, String>,
    balance: Option<BalanceView>,
}

/// The statements the viewer may read (`billing::service::statements` under
/// `policy::statement_scope`, as `GET /api/v1/statements`); for the park office the form that
/// issues one, for an enterprise its balance.
#[get("/statements")]
pub async fn statement_list(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    list_page(
        &state,
        &v,
        query.into_inner().cursor,
        StatusCode::OK,
        &IssueForm::default(),
        &HashMap::new(),
    )
    .await
}

async fn list_page(
    state: &AppState,
    v: &Viewer,
    cursor: Option<String>,
    status: StatusCode,
    form: &IssueForm,
    errors: &HashMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let (park, enterprise) = policy::statement_scope(&v.principal, None).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: cursor.filter(|c| !c.is_empty()),
    }
    .parse(&mut val);
    val.finish().map_err(v.fail())?;
    let (now, principal) = (state.clock.now(), v.principal.clone());
    let listed = state
        .db
        .snapshot(move |conn| {
            let statements = crate::billing::service::statements(
                conn,
                park.as_deref(),
                enterprise.as_deref(),
                None,
                &page_request,
            )?;
            let names = crate::console::lots::enterprise_names(conn, &principal)?;
            let balance = match principal.role {
                Role::EnterpriseUser => Some(crate::billing::service::balance(
                    conn,
                    now,
                    &principal,
                    &principal.organization_id,
                )?),
                _ => None,
            };
            Ok(Listed {
                statements,
                names,
                balance,
            })
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "对账单", "Statements");
    let mut enterprises: Vec<(&String, &String)> = listed.names.iter().collect();
    enterprises.sort_by(|a, b| a.1.cmp(b.1));
    let body = html! {
        @if let Some(b) = &listed.balance {
            section.card aria-labelledby="balance" {
                h2 #balance { (t(l, "账户余额", "Balance")) }
                dl.facts {
                    dt { (t(l, "已出账", "Billed")) } dd { (yuan(b.billed_fen)) }
                    dt { (t(l, "调整", "Notes")) } dd { (yuan(b.notes_fen)) }
                    dt { (t(l, "已付款", "Paid")) } dd { (yuan(b.paid_fen)) }
                    dt { (t(l, "应付余额", "Balance due")) } dd #balance-due { (yuan(b.balance_fen)) }
                }
                p { a #balance-details href={ "/balances/" (url_escape(&b.enterprise_id)) } { (t(l, "账龄与付款记录", "Ageing and payments")) } }
            }
        }
        @if v.principal.role == Role::ParkOffice {
            section.card aria-labelledby="issue-title" {
                h2 #issue-title { (t(l, "出具对账单", "Issue a statement")) }
                @if let Some(message) = errors.get("") {
                    p.banner.bad role="alert" #issue-error { (message) }
                }
                form.filters #issue method="post" action="/statements" novalidate {
                    (csrf(v))
                    (field("enterprise_id", t(l, "企业", "Enterprise"), errors.get("enterprise_id"), html! {
                        select #enterprise_id name="enterprise_id" required
                            aria-invalid=[errors.get("enterprise_id").map(|_| "true")]
                            aria-describedby=[described_by("enterprise_id", errors.get("enterprise_id"))] {
                            option value="" { (t(l, "请选择", "Choose")) }
                            @for (id, name) in &enterprises {
                                option value=(id) selected[**id == form.enterprise_id] { (name) }
                            }
                        }
                    }))
                    (field("period", t(l, "月份（YYYY-MM）", "Month (YYYY-MM)"), errors.get("period"), html! {
                        input #period name="period" type="text" inputmode="numeric" required maxlength="7"
                            placeholder="2026-10" value=(form.period)
                            aria-invalid=[errors.get("period").map(|_| "true")]
                            aria-describedby=[described_by("period", errors.get("period"))];
                    }))
                    button type="submit" { (t(l, "出具", "Issue")) }
                }
            }
            section.card aria-labelledby="balance-title" {
                h2 #balance-title { (t(l, "企业余额与付款", "Balances and payments")) }
                form.filters #balance-form method="get" action="/balances" {
                    div.field {
                        label for="balance-enterprise" { (t(l, "企业", "Enterprise")) }
                        select #balance-enterprise name="enterprise_id" required {
                            @for (id, name) in &enterprises {
                                option value=(id) { (name) }
                            }
                        }
                    }
                    button type="submit" { (t(l, "查看余额", "Show the balance")) }
                }
            }
        }
        @if listed.statements.items.is_empty() {
            p.muted #no-statements { (t(l, "还没有对账单。", "No statements yet.")) }
        } @else {
            div.table-wrap { table #statements {
                thead { tr {
                    th scope="col" { (t(l, "编号", "Number")) }
                    th scope="col" { (t(l, "企业", "Enterprise")) }
                    th scope="col" { (t(l, "月份", "Month")) }
                    th.number scope="col" { (t(l, "应付金额", "Amount due")) }
                    th.optional scope="col" { (t(l, "付款期限", "Due")) }
                } }
                tbody {
                    @for s in &listed.statements.items {
                        tr data-statement=(s.id) {
                            td { a href={ "/statements/" (url_escape(&s.id)) } { (s.number) } }
                            td {
                                @if v.principal.role == Role::ParkOffice {
                                    a href={ "/balances/" (url_escape(&s.enterprise_id)) } { (listed.names.get(&s.enterprise_id).unwrap_or(&s.enterprise_id)) }
                                } @else {
                                    (listed.names.get(&s.enterprise_id).unwrap_or(&s.enterprise_id))
                                }
                            }
                            td { (s.period) }
                            td.number { (yuan(s.amount_due_fen)) }
                            td.optional { (s.due_on) }
                        }
                    }
                }
            } }
            @if let Some(cursor) = &listed.statements.next_cursor {
                p.pager { a rel="next" href={ "/statements?cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    Ok(respond(status, page(v, title, "/statements", body)))
}

/// Issues a statement through `billing::service::issue`, as `POST /api/v1/statements` does.
#[post("/statements")]
pub async fn statement_issue(
    state: web::Data<AppState>,
    v: Viewer,
    form: web::Form<IssueForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let mut val = Validator::new();
    let enterprise_id = val.text("enterprise_id", &form.enterprise_id, 1, 64);
    let period = crate::billing::routes::period(&mut val, form.period.trim());
    let checked = val.finish_with(|| period);
    let outcome = match checked {
        Err(e) => Err(e),
        Ok(period) => {
            let (now, principal) = (state.clock.now(), v.principal.clone());
            crate::audit::context::set_body(
                &serde_json::to_vec(&serde_json::json!({
                    "enterprise_id": enterprise_id, "period": form.period, "via": "console",
                }))
                .unwrap_or_default(),
            );
            state
                .db
                .write(move |conn| {
                    let s = crate::billing::service::issue(
                        conn,
                        now,
                        &principal,
                        &enterprise_id,
                        period,
                    )?;
                    crate::audit::context::object_if_unnamed(&format!(
                        "/api/v1/statements/{}",
                        s.id
                    ));
                    Ok(s)
                })
                .await
        }
    };
    match outcome {
        Ok(s) => Ok(see_other(&format!("/statements/{}", url_escape(&s.id)))),
        Err(error @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            let errors = form_messages(&error, v.locale, |f| {
                ["enterprise_id", "period"].into_iter().find(|k| *k == f)
            });
            list_page(&state, &v, None, status, &form, &errors).await
        }
        Err(error) => Err(v.fail()(error)),
    }
}

async fn read(state: &AppState, v: &Viewer, id: String) -> Result<StatementView, PageError> {
    let principal = v.principal.clone();
    state
        .db
        .run(move |conn| crate::billing::service::read_statement(conn, &principal, &id))
        .await
        .map_err(v.fail())
}

/// One statement: its lines, its totals per code, its notes, and its exports.
#[get("/statements/{id}")]
pub async fn statement_page(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = read(&state, &v, id.into_inner()).await?;
    let l = v.locale;
    let path = format!("/statements/{}", url_escape(&s.id));
    let title = t(l, "对账单", "Statement");
    let body = html! {
        section.card {
            dl.facts {
                dt { (t(l, "编号", "Number")) } dd #number { (s.number) }
                dt { (t(l, "月份", "Month")) } dd { (s.period) }
                dt { (t(l, "出具时间", "Issued")) } dd { (when(s.issued_at, v.tz)) }
                dt { (t(l, "付款期限", "Due")) } dd { (s.due_on) }
                dt { (t(l, "金额", "Total")) } dd #total { (yuan(s.total_fen)) }
                dt { (t(l, "调整", "Notes")) } dd { (yuan(s.notes_fen)) }
                dt { (t(l, "应付金额", "Amount due")) } dd #amount-due { (yuan(s.amount_due_fen)) }
            }
            p {
                a #export-csv href={ (path) "/export.csv" } download { (t(l, "下载 CSV", "Download CSV")) }
                " · "
                a #export-xlsx href={ (path) "/export.xlsx" } download { (t(l, "下载 Excel", "Download Excel")) }
            }
        }
        section.card aria-labelledby="by-code" {
            h2 #by-code { (t(l, "按废物代码", "By waste code")) }
            table {
                thead { tr {
                    th scope="col" { (t(l, "代码", "Code")) }
                    th.number scope="col" { (t(l, "重量", "Weight")) }
                    th.number scope="col" { (t(l, "金额", "Amount")) }
                } }
                tbody {
                    @for c in &s.totals_by_code {
                        tr { td { (c.waste_code) } td.number { (weight(c.grams)) } td.number { (yuan(c.amount_fen)) } }
                    }
                }
            }
        }
        section.card aria-labelledby="lines" {
            h2 #lines { (t(l, "明细", "Lines")) }
            div.table-wrap { table #statement-lines {
                thead { tr {
                    th scope="col" { (t(l, "计费日期", "Day")) }
                    th scope="col" { (t(l, "代码", "Code")) }
                    th.number scope="col" { (t(l, "重量", "Weight")) }
                    th.number.optional scope="col" { (t(l, "单价（元/吨）", "Price (per t)")) }
                    th.number scope="col" { (t(l, "金额", "Amount")) }
                } }
                tbody {
                    @for line in &s.lines {
                        tr data-lot=(line.lot_id.as_str()) {
                            td { (line.billable_on) }
                            td { (line.waste_code) }
                            td.number { (weight(line.grams)) }
                            td.number.optional { (yuan(line.fen_per_tonne)) }
                            td.number { (yuan(line.amount_fen)) }
                        }
                    }
                }
            } }
        }
        p { a href="/statements" { (t(l, "返回列表", "Back to the list")) } }
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, title, "/statements", body),
    ))
}

/// An export as a download, never kept by a cache (it holds an enterprise's money).
pub fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> HttpResponse {
    let mut response = crate::billing::routes::download(content_type, name, bytes);
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The statement as CSV, as `GET /api/v1/statements/{id}/export.csv` gives it.
#[get("/statements/{id}/export.csv")]
pub async fn statement_csv(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = read(&state, &v, id.into_inner()).await?;
    let bytes = crate::billing::export::statement_csv(&s).map_err(v.fail())?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("statement-{}.csv", s.number),
        bytes,
    ))
}

/// The statement as an Excel workbook, as `GET /api/v1/statements/{id}/export.xlsx` gives it.
#[get("/statements/{id}/export.xlsx")]
pub async fn statement_xlsx(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = read(&state, &v, id.into_inner()).await?;
    let bytes = crate::billing::export::statement_xlsx(&s).map_err(v.fail())?;
    Ok(download(
        crate::http::export::XLSX,
        &format!("statement-{}.xlsx", s.number),
        bytes,
    ))
}
