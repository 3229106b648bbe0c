//! Ledgers (台账): a park's, a warehouse's or an enterprise's, hazardous or general waste, for a
//! month — the summary per code, every movement paged like the API, and the exports as
//! downloads (streamed by the API's own export).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::format::weight;
use crate::console::page::{PageError, given, page, respond, t};
use crate::console::session::{Viewer, url_escape};
use crate::domain::identity::Role;
use crate::error::{ApiError, FieldError, Validator};
use crate::http::Page;
use crate::http::pagination::PageQuery;
use crate::i18n::Locale;
use crate::ledger::routes::LedgerQuery;
use crate::ledger::service::{Asked, Holder, LedgerLine, LedgerView, MovementView};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct LedgerForm {
    /// Whose ledger: `park:ID`, `warehouse:ID` or `enterprise:ID`; by default the viewer's
    /// enterprise, else the park (`park_id`, else the viewer's).
    subject: Option<String>,
    /// The park, for whoever reads several (an inspector).
    park_id: Option<String>,
    kind: Option<String>,
    month: Option<String>,
    cursor: Option<String>,
}

/// What the form asks for, checked: whose ledger, which kind, which month (this month in the
/// viewer's time zone when left out).
struct Chosen {
    holder: Holder,
    kind: String,
    month: String,
}

impl Chosen {
    fn of(
        v: &Viewer,
        q: &LedgerForm,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, ApiError> {
        let holder = match given(&q.subject) {
            Some(s) => match s.split_once(':') {
                Some(("park", id)) => Holder::Park(id.to_owned()),
                Some(("warehouse", id)) => Holder::Warehouse(id.to_owned()),
                Some(("enterprise", id)) => Holder::Enterprise(id.to_owned()),
                _ => {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "subject",
                        "invalid",
                        "must name a park, a warehouse or an enterprise",
                    )]));
                }
            },
            None if v.principal.role == Role::EnterpriseUser => {
                Holder::Enterprise(v.principal.organization_id.clone())
            }
            None => Holder::Park(
                given(&q.park_id)
                    .or_else(|| v.principal.park_id.clone())
                    .ok_or(ApiError::Forbidden(
                        "a ledger is of a park: choose one among your parks",
                    ))?,
            ),
        };
        let month = given(&q.month).unwrap_or_else(|| {
            crate::domain::time::local_date(now, v.tz)
                .format("%Y-%m")
                .to_string()
        });
        Ok(Self {
            holder,
            kind: given(&q.kind).unwrap_or_else(|| "hazardous".to_owned()),
            month,
        })
    }

    fn subject(&self) -> String {
        match &self.holder {
            Holder::Park(id) => format!("park:{id}"),
            Holder::Warehouse(id) => format!("warehouse:{id}"),
            Holder::Enterprise(id) => format!("enterprise:{id}"),
        }
    }

    /// The query string of this choice (without a cursor).
    fn query(&self) -> String {
        format!(
            "subject={}&kind={}&month={}",
            url_escape(&self.subject()),
            url_escape(&self.kind),
            url_escape(&self.month)
        )
    }

    fn asked(&self) -> Asked {
        Asked {
            kind: Some(self.kind.clone()),
            month: Some(self.month.clone()),
            from: None,
            to: None,
        }
    }
}

struct Read {
    ledger: LedgerView,
    lines: Page<MovementView>,
    /// The ledgers the viewer may switch to, as (subject, name).
    choices: Vec<(String, String)>,
}

/// The ledgers a viewer may pick among on the page: the park's and its warehouses' (the park
/// office and inspectors), the park's enterprises' (the park office), an enterprise its own.
fn choices(
    conn: &mut crate::db::DbConn,
    v: &crate::auth::Principal,
    park_id: &str,
    l: Locale,
) -> Result<Vec<(String, String)>, ApiError> {
    if v.role == Role::EnterpriseUser {
        return Ok(Vec::new());
    }
    let mut out = vec![(
        format!("park:{park_id}"),
        t(l, "整个园区", "The whole park").to_owned(),
    )];
    let scope = crate::auth::policy::warehouse_scope(v)?;
    for w in crate::console::every(|page| {
        crate::registry::warehouses::service::list_warehouses(conn, &scope, Some(park_id), page)
    })? {
        out.push((format!("warehouse:{}", w.id), w.name));
    }
    if v.role == Role::ParkOffice {
        let scope = crate::auth::policy::enterprise_scope(v)?;
        let mut enterprises: Vec<(String, String)> = crate::console::every(|page| {
            crate::registry::parks::service::list_enterprises(conn, &scope, Some(park_id), page)
        })?
        .into_iter()
        .map(|e| (format!("enterprise:{}", e.id), e.name))
        .collect();
        enterprises.sort_by(|a, b| a.1.cmp(&b.1));
        out.extend(enterprises);
    }
    Ok(out)
}

/// A ledger (`ledger::service::ledger` and `lines_of` of one checked subject, as `GET /api/v1/…/ledger` and
/// `…/ledger/lines` answer them), read in one snapshot so the lines and the summary agree.
#[get("/ledgers")]
pub async fn ledger_page(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<LedgerForm>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let chosen = Chosen::of(&v, &q, state.clock.now()).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: given(&q.cursor),
    }
    .parse(&mut val);
    val.finish().map_err(v.fail())?;
    let after = page_request
        .after
        .as_deref()
        .map(crate::ledger::service::parse_cursor)
        .transpose()
        .map_err(|e| v.fail()(ApiError::Validation(vec![e])))?;
    let (principal, l) = (v.principal.clone(), v.locale);
    let (holder, asked) = (chosen.holder.clone(), chosen.asked());
    let read = state
        .db
        .snapshot(move |conn| {
            // The subject loaded and checked once, for the summary and the lines alike.
            let (subject, span) =
                crate::ledger::service::subject(conn, &principal, holder, &asked)?;
            let ledger = crate::ledger::service::ledger(conn, &subject, &span)?;
            let lines =
                crate::ledger::service::lines_of(conn, &subject, &span, after, page_request.limit)?;
            let choices = choices(conn, &principal, &ledger.park_id, l)?;
            Ok(Read {
                ledger,
                lines,
                choices,
            })
        })
        .await
        .map_err(v.fail())?;
    let title = t(l, "管理台账", "Ledgers");
    let path = format!("/ledgers?{}", chosen.query());
    let body = html! {
        (form(&v, &chosen, &read.choices))
        section.card aria-labelledby="summary-title" {
            h2 #summary-title {
                (match chosen.kind.as_str() {
                    "hazardous" => t(l, "危险废物管理台账", "Hazardous waste ledger"),
                    _ => t(l, "一般工业固体废物台账", "General industrial solid waste ledger"),
                })
                " · " (read.ledger.from) " – " (read.ledger.to)
            }
            p #exports {
                a #export-csv href={ "/ledgers/export.csv?" (chosen.query()) } download { (t(l, "下载 CSV", "Download CSV")) }
                " · "
                a #export-xlsx href={ "/ledgers/export.xlsx?" (chosen.query()) } download { (t(l, "下载 Excel", "Download Excel")) }
            }
            (summary(l, &read.ledger))
        }
        section.card aria-labelledby="lines-title" {
            h2 #lines-title { (t(l, "出入库明细", "Movements")) }
            (movements(&v, &read.lines))
            @if let Some(cursor) = &read.lines.next_cursor {
                p.pager { a rel="next" href={ (path) "&cursor=" (url_escape(cursor)) } { (t(l, "下一页", "Next page")) } }
            }
        }
    };
    let active = match v.principal.role {
        Role::Inspector => "/parks",
        _ => "/ledgers",
    };
    Ok(respond(StatusCode::OK, page(&v, title, active, body)))
}

fn form(v: &Viewer, chosen: &Chosen, choices: &[(String, String)]) -> Markup {
    let l = v.locale;
    let subject = chosen.subject();
    html! {
        form.filters #ledger-form method="get" action="/ledgers" {
            @if !choices.is_empty() {
                div.field {
                    label for="subject" { (t(l, "台账对象", "Whose ledger")) }
                    select #subject name="subject" {
                        @for (value, name) in choices {
                            option value=(value) selected[*value == subject] { (name) }
                        }
                    }
                }
            }
            div.field {
                label for="kind" { (t(l, "废物类别", "Kind of waste")) }
                select #kind name="kind" {
                    option value="hazardous" selected[chosen.kind == "hazardous"] { (t(l, "危险废物", "Hazardous")) }
                    option value="general" selected[chosen.kind == "general"] { (t(l, "一般工业固废", "General")) }
                }
            }
            div.field {
                label for="month" { (t(l, "月份（YYYY-MM）", "Month (YYYY-MM)")) }
                input #month name="month" type="text" inputmode="numeric" maxlength="7" placeholder="2026-10" value=(chosen.month);
            }
            button type="submit" { (t(l, "查看", "Show")) }
        }
    }
}

fn summary(l: Locale, ledger: &LedgerView) -> Markup {
    let row = |line: &LedgerLine| {
        html! {
            td.number { (weight(line.opening_grams)) }
            td.number { (weight(line.in_grams)) }
            td.number { (weight(line.out_grams)) }
            td.number.optional { (weight(line.corrections_grams)) }
            td.number.optional { (weight(line.voids_grams)) }
            td.number { (weight(line.closing_grams)) }
            td.number.optional { (line.closing_lots) }
        }
    };
    html! {
        @if ledger.lines.is_empty() {
            p.muted #no-ledger-lines { (t(l, "这段时间没有库存，也没有出入库。", "No stock and no movements in this period.")) }
        } @else {
            div.table-wrap { table #ledger {
                thead { tr {
                    th scope="col" { (t(l, "废物代码", "Code")) }
                    th scope="col" { (t(l, "类别", "Category")) }
                    th.number scope="col" { (t(l, "期初库存", "Opening")) }
                    th.number scope="col" { (t(l, "入库", "In")) }
                    th.number scope="col" { (t(l, "出库", "Out")) }
                    th.number.optional scope="col" { (t(l, "更正", "Corrections")) }
                    th.number.optional scope="col" { (t(l, "作废", "Voided")) }
                    th.number scope="col" { (t(l, "期末库存", "Closing")) }
                    th.number.optional scope="col" { (t(l, "期末批次", "Lots")) }
                } }
                tbody {
                    @for line in &ledger.lines {
                        tr data-code=(line.waste_code) {
                            td { (line.waste_code) }
                            td { (line.category) }
                            (row(line))
                        }
                    }
                }
                tfoot {
                    tr #ledger-totals {
                        th scope="row" colspan="2" { (t(l, "合计", "Total")) }
                        (row(&ledger.totals))
                    }
                }
            } }
        }
    }
}

fn movement_name(l: Locale, movement: &str) -> &'static str {
    match movement {
        "in" => t(l, "入库", "in"),
        "out" => t(l, "出库", "out"),
        "correction" => t(l, "更正", "correction"),
        "void" => t(l, "作废", "void"),
        _ => t(l, "其他", "other"),
    }
}

fn movements(v: &Viewer, lines: &Page<MovementView>) -> Markup {
    let l = v.locale;
    html! {
        @if lines.items.is_empty() {
            p.muted #no-movements { (t(l, "这段时间没有出入库。", "No movements in this period.")) }
        } @else {
            div.table-wrap { table #movements {
                thead { tr {
                    th scope="col" { (t(l, "时间", "When")) }
                    th scope="col" { (t(l, "项目", "Movement")) }
                    th scope="col" { (t(l, "废物代码", "Code")) }
                    th.number scope="col" { (t(l, "重量", "Weight")) }
                    th scope="col" { (t(l, "批次", "Lot")) }
                    th.optional scope="col" { (t(l, "联单编号", "Manifest")) }
                    th.optional scope="col" { (t(l, "接收单位", "Receiver")) }
                } }
                tbody {
                    @for m in &lines.items {
                        tr data-movement=(m.movement) data-lot=(m.lot_id.as_str()) {
                            td { (crate::console::format::when(m.at, v.tz)) }
                            td { (movement_name(l, &m.movement)) }
                            td { (m.waste_code) }
                            td.number { (weight(m.grams)) }
                            td { a href={ "/lots/" (url_escape(m.lot_id.as_str())) "/trace" } { (t(l, "追溯", "trace")) } }
                            td.optional { (m.document_number.as_deref().unwrap_or("")) }
                            td.optional { (m.receiver_name.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        }
    }
}

async fn export(
    state: &AppState,
    v: &Viewer,
    q: LedgerForm,
    xlsx: bool,
) -> Result<HttpResponse, PageError> {
    let chosen = Chosen::of(v, &q, state.clock.now()).map_err(v.fail())?;
    let query = LedgerQuery {
        kind: Some(chosen.kind.clone()),
        month: Some(chosen.month.clone()),
        from: None,
        to: None,
    };
    let mut response =
        crate::ledger::routes::download(state, v.principal.clone(), chosen.holder, query, xlsx)
            .await
            .map_err(v.fail())?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// The ledger as CSV, as `GET /api/v1/…/ledger/export.csv` streams it.
#[get("/ledgers/export.csv")]
pub async fn ledger_csv(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<LedgerForm>,
) -> Result<HttpResponse, PageError> {
    export(&state, &v, query.into_inner(), false).await
}

/// The ledger as an Excel workbook, as `GET /api/v1/…/ledger/export.xlsx` gives it.
#[get("/ledgers/export.xlsx")]
pub async fn ledger_xlsx(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<LedgerForm>,
) -> Result<HttpResponse, PageError> {
    export(&state, &v, query.into_inner(), true).await
}
