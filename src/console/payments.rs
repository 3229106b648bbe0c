//! Money collected: an enterprise's balance with what it owes by age and its payments, the
//! park office recording a payment, and the remittance the park office owes a disposal company
//! for a month, with its exports.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use crate::billing::routes::{PaymentRequest, RemittanceQuery, payment_command};
use crate::billing::service::{BalanceView, PaymentView, RemittanceView};
use crate::console::format::{parse_yuan, when, yuan, yuan_problem};
use crate::console::page::{
    PageError, csrf, field, form_messages, given, page, respond, see_other, t, text_control,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::billing::Period;
use crate::domain::identity::Role;
use crate::error::{ApiError, FieldError};
use crate::i18n::Locale;
use crate::registry::names::Names;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct BalanceQuery {
    enterprise_id: Option<String>,
    /// Set after a payment was recorded, to confirm it.
    paid: Option<String>,
}

/// The park office's way to an enterprise's balance from the statements page.
#[get("/balances")]
pub async fn balance_of(v: Viewer, query: web::Query<BalanceQuery>) -> HttpResponse {
    let id = match (v.principal.role, query.into_inner().enterprise_id) {
        (Role::EnterpriseUser, _) => Some(v.principal.organization_id.clone()),
        (_, id) => id.filter(|id| !id.trim().is_empty()),
    };
    match id {
        Some(id) => see_other(&format!("/balances/{}", url_escape(id.trim()))),
        None => see_other("/statements"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PaymentForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    paid_on: String,
    #[serde(default)]
    reference: String,
}

/// An enterprise's balance (`billing::service::balance`, as
/// `GET /api/v1/enterprises/{id}/balance`): billed, notes, paid, what is owed by age, its
/// payments; for the park office the form that records one.
#[get("/balances/{id}")]
pub async fn balance_page(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
    query: web::Query<BalanceQuery>,
) -> Result<HttpResponse, PageError> {
    let paid = query.paid.is_some();
    show_balance(
        &state,
        &v,
        id.into_inner(),
        StatusCode::OK,
        &PaymentForm::default(),
        &HashMap::new(),
        paid,
    )
    .await
}

async fn show_balance(
    state: &AppState,
    v: &Viewer,
    id: String,
    status: StatusCode,
    form: &PaymentForm,
    errors: &HashMap<String, String>,
    paid: bool,
) -> Result<HttpResponse, PageError> {
    let (now, principal) = (state.clock.now(), v.principal.clone());
    let (b, name) = state
        .db
        .snapshot(move |conn| {
            let b = crate::billing::service::balance(conn, now, &principal, &id)?;
            let mut names = Names::default();
            names.learn(conn, [b.enterprise_id.as_str()])?;
            let name = names.of(&b.enterprise_id);
            Ok((b, name))
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "账户余额", "Balance");
    let body = html! {
        @if paid && errors.is_empty() {
            p.banner.ok role="status" #paid { (t(l, "付款已登记。", "The payment was recorded.")) }
        }
        section.card {
            h2 #enterprise { (name) }
            dl.facts {
                dt { (t(l, "已出账", "Billed")) } dd #billed { (yuan(b.billed_fen)) }
                dt { (t(l, "调整", "Notes")) } dd { (yuan(b.notes_fen)) }
                dt { (t(l, "已付款", "Paid")) } dd #paid-total { (yuan(b.paid_fen)) }
                dt { (t(l, "应付余额", "Balance due")) } dd #balance-due { (yuan(b.balance_fen)) }
                dt { (t(l, "预付（多付）", "Credit")) } dd #credit { (yuan(b.credit_fen)) }
            }
        }
        section.card aria-labelledby="ageing-title" {
            h2 #ageing-title { (t(l, "欠款账龄（逾期天数）", "Owed by days past due")) }
            table #ageing {
                tbody {
                    @for a in &b.ageing {
                        tr data-bucket=(a.bucket) {
                            th scope="row" { (bucket_name(l, &a.bucket)) }
                            td.number { (yuan(a.amount_fen)) }
                        }
                    }
                }
            }
        }
        @if v.principal.role == Role::ParkOffice {
            (payment_form(v, &b.enterprise_id, form, errors, crate::domain::time::local_date(now, v.tz)))
        }
        (payments(v, &b))
        p { a href="/statements" { (t(l, "返回对账单", "Back to the statements")) } }
    };
    Ok(respond(status, page(v, title, "/statements", body)))
}

fn bucket_name(l: Locale, bucket: &str) -> &'static str {
    match bucket {
        "current" => t(l, "未到期", "not yet due"),
        "1-30" => t(l, "逾期 1–30 天", "1–30 days"),
        "31-60" => t(l, "逾期 31–60 天", "31–60 days"),
        "61-90" => t(l, "逾期 61–90 天", "61–90 days"),
        _ => t(l, "逾期 90 天以上", "over 90 days"),
    }
}

fn payment_form(
    v: &Viewer,
    enterprise_id: &str,
    form: &PaymentForm,
    errors: &HashMap<String, String>,
    today: NaiveDate,
) -> Markup {
    let l = v.locale;
    let input = |name: &str, value: &str, mode: &str, max: u32| {
        text_control(name, value, (mode, max, name != "reference"), errors)
    };
    let paid_on = if form.paid_on.is_empty() {
        today.to_string()
    } else {
        form.paid_on.clone()
    };
    html! {
        section.card aria-labelledby="pay-title" {
            h2 #pay-title { (t(l, "登记付款", "Record a payment")) }
            @if let Some(message) = errors.get("") {
                p.banner.bad role="alert" #pay-error { (message) }
            }
            form.stacked #pay method="post" action={ "/balances/" (url_escape(enterprise_id)) "/payments" } novalidate {
                (csrf(v))
                input type="hidden" name="key" value=(uuid::Uuid::new_v4().to_string());
                (field("amount_yuan", t(l, "金额（元）", "Amount (yuan)"), errors.get("amount_yuan"),
                    input("amount_yuan", &form.amount_yuan, "decimal", 24)))
                (field("paid_on", t(l, "付款日期（YYYY-MM-DD）", "Paid on (YYYY-MM-DD)"), errors.get("paid_on"),
                    input("paid_on", &paid_on, "text", 10)))
                (field("reference", t(l, "凭证号（可选）", "Reference (optional)"), errors.get("reference"),
                    input("reference", &form.reference, "text", 200)))
                button type="submit" { (t(l, "登记", "Record")) }
            }
        }
    }
}

fn payments(v: &Viewer, b: &BalanceView) -> Markup {
    let l = v.locale;
    html! {
        section.card aria-labelledby="payments-title" {
            h2 #payments-title { (t(l, "付款记录", "Payments")) }
            @if b.payments.is_empty() {
                p.muted #no-payments { (t(l, "还没有付款。", "No payments yet.")) }
            } @else {
                div.table-wrap { table #payments {
                    thead { tr {
                        th scope="col" { (t(l, "付款日期", "Paid on")) }
                        th.number scope="col" { (t(l, "金额", "Amount")) }
                        th scope="col" { (t(l, "凭证号", "Reference")) }
                        th.optional scope="col" { (t(l, "登记时间", "Recorded")) }
                    } }
                    tbody {
                        @for p in &b.payments {
                            tr data-payment=(p.id) {
                                td { (p.paid_on) }
                                td.number { (yuan(p.amount_fen)) }
                                td { (p.reference.as_deref().unwrap_or("")) }
                                td.optional { (when(p.created_at, v.tz)) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// The payment a form describes: the amount typed in yuan to fen, the day, then the API's
/// checks (`payment_command`); every invalid field reported at once.
fn payment(
    form: &PaymentForm,
    enterprise_id: &str,
    now: chrono::DateTime<chrono::Utc>,
    l: Locale,
) -> Result<crate::billing::routes::NewPayment, ApiError> {
    let mut typed = Vec::new();
    let amount = parse_yuan(&form.amount_yuan);
    if amount.is_none() {
        typed.push(FieldError::new("amount_yuan", "invalid", yuan_problem(l)));
    }
    let paid_on = form.paid_on.trim().parse::<NaiveDate>().ok();
    if paid_on.is_none() {
        typed.push(FieldError::new(
            "paid_on",
            "invalid",
            t(l, "请按 YYYY-MM-DD 填写日期", "enter a day as YYYY-MM-DD"),
        ));
    }
    match (amount, paid_on) {
        (Some(amount_fen), Some(paid_on)) if typed.is_empty() => payment_command(
            PaymentRequest {
                enterprise_id: enterprise_id.to_owned(),
                amount_fen,
                paid_on,
                reference: Some(form.reference.trim().to_owned()).filter(|r| !r.is_empty()),
            },
            now,
        ),
        _ => Err(ApiError::Validation(typed)),
    }
}

/// Records a payment (`billing::service::record_payment` after the API's checks, as
/// `POST /api/v1/payments`), once per form; a refusal shows the balance again with the
/// messages beside their fields.
#[post("/balances/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    v: Viewer,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<PaymentForm>,
) -> Result<HttpResponse, PageError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let l = v.locale;
    let fields = serde_json::to_vec(&serde_json::json!({
        "enterprise_id": id, "amount_yuan": form.amount_yuan, "paid_on": form.paid_on,
        "reference": form.reference, "via": "console",
    }))
    .unwrap_or_default();
    let outcome = crate::console::once::once(
        &state,
        &v.principal,
        (&req, &fields),
        &form.key,
        |p: &PaymentView| Some(format!("/api/v1/payments/{}", p.id)),
        || {
            let now = state.clock.now();
            let new = payment(&form, &id, now, l)?;
            Ok(
                move |conn: &mut crate::db::DbConn, p: &crate::auth::Principal| {
                    crate::billing::service::record_payment(
                        conn,
                        now,
                        p,
                        &new.enterprise_id,
                        new.amount_fen,
                        new.paid_on,
                        new.reference,
                    )
                },
            )
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/balances/{}?paid=1", url_escape(&id)))),
        Err(error @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            let errors = form_messages(&error, l, |f| match f {
                "amount_fen" | "amount_yuan" => Some("amount_yuan"),
                "paid_on" => Some("paid_on"),
                "reference" => Some("reference"),
                _ => None,
            });
            show_balance(&state, &v, id, status, &form, &errors, false).await
        }
        Err(error) => Err(v.fail()(error)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RemittanceForm {
    /// `YYYY-MM`; last month in the viewer's time zone by default.
    period: Option<String>,
    /// The other party: the disposal company for the park office, the park for the disposal
    /// company; the first of its contracts' by default.
    with: Option<String>,
}

struct Remitted {
    view: Option<RemittanceView>,
    /// The parties the viewer has contracts with, as (id, name).
    parties: Vec<(String, String)>,
}

impl RemittanceForm {
    /// The API's query for this form: the month, and the other party in its place.
    fn query(&self, v: &Viewer, now: chrono::DateTime<chrono::Utc>) -> RemittanceQuery {
        let period = given(&self.period).unwrap_or_else(|| last_month(now, v.tz));
        let with = given(&self.with);
        let (park_id, disposer_id) = match v.principal.role {
            Role::DisposerDispatcher => (with, None),
            _ => (None, with),
        };
        RemittanceQuery {
            park_id,
            disposer_id,
            period,
        }
    }
}

/// Remittances are the park office's (to its disposal companies) and the disposal company's
/// (from the parks); the API's `GET /remittances` needs both parties, which only these two
/// roles have one of.
fn remitting(v: &Viewer) -> Result<(), PageError> {
    match v.principal.role {
        Role::ParkOffice | Role::DisposerDispatcher => Ok(()),
        _ => Err(v.fail()(ApiError::Forbidden(
            "remittances are the park office's and the disposal company's",
        ))),
    }
}

/// The month before today's, `YYYY-MM`, in `tz`.
fn last_month(now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    Period::of(crate::domain::time::local_date(now, tz))
        .previous()
        .as_string()
}

/// The remittance of a month (`billing::service::remittance` after the API's checks, as
/// `GET /api/v1/remittances`): per enterprise, what was billed for the disposal company, what
/// the park office collected of it and what is outstanding.
#[get("/remittances")]
pub async fn remittance_page(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<RemittanceForm>,
) -> Result<HttpResponse, PageError> {
    remitting(&v)?;
    let form = query.into_inner();
    let mut q = form.query(&v, state.clock.now());
    let principal = v.principal.clone();
    let read = state
        .db
        .snapshot(move |conn| {
            let parties = crate::console::counterparts(conn, &principal)?;
            // The first counterpart when none was chosen.
            let first = parties.first().map(|(id, _)| id.clone());
            match principal.role {
                Role::DisposerDispatcher => q.park_id = q.park_id.take().or(first),
                _ => q.disposer_id = q.disposer_id.take().or(first),
            }
            let view = if q.park_id.is_some() || q.disposer_id.is_some() {
                let (period, park, disposer) =
                    crate::billing::routes::remittance_request(&principal, q)?;
                Some(crate::billing::service::remittance(
                    conn, &principal, &park, &disposer, period,
                )?)
            } else {
                None
            };
            Ok(Remitted { view, parties })
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "代收结算", "Remittances");
    let chosen = read.view.as_ref().map(|r| match v.principal.role {
        Role::DisposerDispatcher => r.park_id.clone(),
        _ => r.disposer_id.clone(),
    });
    let body = html! {
        form.filters #remittance-form method="get" action="/remittances" {
            div.field {
                label for="with" { (match v.principal.role {
                    Role::DisposerDispatcher => t(l, "园区", "Park"),
                    _ => t(l, "处置单位", "Disposal company"),
                }) }
                select #with name="with" {
                    @for (id, name) in &read.parties {
                        option value=(id) selected[Some(id) == chosen.as_ref()] { (name) }
                    }
                }
            }
            div.field {
                label for="period" { (t(l, "月份（YYYY-MM）", "Month (YYYY-MM)")) }
                input #period name="period" type="text" inputmode="numeric" maxlength="7" placeholder="2026-10"
                    value=(read.view.as_ref().map(|r| r.period.clone()).unwrap_or_default());
            }
            button type="submit" { (t(l, "查看", "Show")) }
        }
        @match &read.view {
            None => p.muted #no-parties { (t(l, "没有合同，也就没有结算。", "No contracts, so nothing to remit.")) },
            Some(r) => (remittance(l, r, chosen.as_deref().unwrap_or_default())),
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, title, "/remittances", body),
    ))
}

fn remittance(l: Locale, r: &RemittanceView, with: &str) -> Markup {
    let query = format!("with={}&period={}", url_escape(with), url_escape(&r.period));
    html! {
        section.card aria-labelledby="remittance-title" {
            h2 #remittance-title { (r.period) }
            dl.facts {
                dt { (t(l, "应收", "Billed")) } dd #billed { (yuan(r.billed_fen)) }
                dt { (t(l, "已收", "Collected")) } dd #collected { (yuan(r.collected_fen)) }
                dt { (t(l, "未收", "Outstanding")) } dd #outstanding { (yuan(r.outstanding_fen)) }
                dt { (t(l, "应付处置单位", "Owed to the disposal company")) } dd #owed { (yuan(r.owed_to_disposer_fen)) }
            }
            p {
                a #export-csv href={ "/remittances/export.csv?" (query) } download { (t(l, "下载 CSV", "Download CSV")) }
                " · "
                a #export-xlsx href={ "/remittances/export.xlsx?" (query) } download { (t(l, "下载 Excel", "Download Excel")) }
            }
            @if r.lines.is_empty() {
                p.muted #no-remittance-lines { (t(l, "这个月没有对账单。", "No statements this month.")) }
            } @else {
                div.table-wrap { table #remittance {
                    thead { tr {
                        th scope="col" { (t(l, "企业", "Enterprise")) }
                        th.optional scope="col" { (t(l, "对账单号", "Statement")) }
                        th.number scope="col" { (t(l, "应收", "Billed")) }
                        th.number scope="col" { (t(l, "已收", "Collected")) }
                        th.number scope="col" { (t(l, "未收", "Outstanding")) }
                    } }
                    tbody {
                        @for line in &r.lines {
                            tr data-enterprise=(line.enterprise_id) {
                                td { (line.enterprise_name) }
                                td.optional { (line.statement_number) }
                                td.number { (yuan(line.billed_fen)) }
                                td.number { (yuan(line.collected_fen)) }
                                td.number { (yuan(line.outstanding_fen)) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

async fn remittance_export(
    state: &AppState,
    v: &Viewer,
    form: RemittanceForm,
    xlsx: bool,
) -> Result<HttpResponse, PageError> {
    remitting(v)?;
    let q = form.query(v, state.clock.now());
    let principal = v.principal.clone();
    let view = state
        .db
        .snapshot(move |conn| {
            let (period, park, disposer) =
                crate::billing::routes::remittance_request(&principal, q)?;
            crate::billing::service::remittance(conn, &principal, &park, &disposer, period)
        })
        .await
        .map_err(v.fail())?;
    let (content_type, name, bytes) = if xlsx {
        (
            crate::http::export::XLSX,
            format!("remittance-{}.xlsx", view.period),
            crate::billing::export::remittance_xlsx(&view),
        )
    } else {
        (
            "text/csv; charset=utf-8",
            format!("remittance-{}.csv", view.period),
            crate::billing::export::remittance_csv(&view),
        )
    };
    let bytes = bytes.map_err(v.fail())?;
    Ok(crate::console::billing::download(
        content_type,
        &name,
        bytes,
    ))
}

/// The remittance as CSV, as `GET /api/v1/remittances/export.csv` gives it.
#[get("/remittances/export.csv")]
pub async fn remittance_csv(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<RemittanceForm>,
) -> Result<HttpResponse, PageError> {
    remittance_export(&state, &v, query.into_inner(), false).await
}

/// The remittance as an Excel workbook, as `GET /api/v1/remittances/export.xlsx` gives it.
#[get("/remittances/export.xlsx")]
pub async fn remittance_xlsx(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<RemittanceForm>,
) -> Result<HttpResponse, PageError> {
    remittance_export(&state, &v, query.into_inner(), true).await
}
