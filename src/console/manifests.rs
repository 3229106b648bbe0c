//! Transfer manifests: the search of whoever may read them, with the API's filters and paging,
//! and each manifest's printable page.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::policy;
use crate::console::format::{kg_problem, parse_kg, weight, when};
use crate::console::lots::status_text;
use crate::console::page::{
    PageError, csrf, described_by, field, field_messages, form_messages, given, page, respond, t,
    text_control,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::identity::Role;
use crate::domain::ids::LotId;
use crate::domain::ids::ManifestId;
use crate::domain::manifest::{CaseStatus, Decision, ManifestStatus, Step};
use crate::error::{ApiError, FieldError, Validator};
use crate::http::pagination::PageQuery;
use crate::manifests::routes::{MAX_REFUSED_LOTS, ManifestQuery, manifest_filter};
use crate::manifests::service::{Receipt, RefusedLot, Resolution, ResolveAction, StepData};
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
                                td { a href={ "/manifests/" (url_escape(m.id.as_str())) } { (m.number) } }
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

/// What a manifest step's form sends.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    received_kg: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    refused_kg: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    treatment: String,
    /// Resolving a refusal: `return`, `forward` or `other`, the text, the next receiver.
    #[serde(default)]
    action: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    receiver_id: String,
    #[serde(default)]
    official_number: String,
    /// A partial refusal's lots: `refused.<lot id>` = the kg of it refused (empty: none).
    #[serde(flatten)]
    refused: HashMap<String, String>,
}

impl StepForm {
    /// The partial refusal's entries the form holds: `refused.<lot id>` and the kg typed, of
    /// every lot named (other unknown fields are ignored).
    fn refused_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.refused
            .iter()
            .filter_map(|(k, kg)| Some((k.strip_prefix("refused.")?, kg.trim())))
            .filter(|(_, kg)| !kg.is_empty())
    }
}

const STEP_FIELDS: &[&str] = &[
    "received_kg",
    "decision",
    "refused_kg",
    "note",
    "treatment",
    "action",
    "resolution",
    "receiver_id",
    "official_number",
];

/// Where the messages about a partial refusal's lots are shown: above the lots.
const REFUSED_LOTS: &str = "refused_lots";

/// Where the API's fields of a step are on its form.
fn step_field(api_field: &str) -> Option<&'static str> {
    match api_field {
        "received_grams" => Some("received_kg"),
        "refused_grams" => Some("refused_kg"),
        other if other.starts_with(REFUSED_LOTS) => Some(REFUSED_LOTS),
        other => STEP_FIELDS.iter().find(|f| **f == other).copied(),
    }
}

/// One manifest: its parties, waste, weights and signatures, the printable page, and the step
/// the viewer may sign now.
#[get("/manifests/{id}")]
pub async fn manifest_page(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = ManifestId::from(id.into_inner());
    show_manifest(
        &state,
        &v,
        &id,
        StatusCode::OK,
        &StepForm::default(),
        &HashMap::new(),
    )
    .await
}

async fn show_manifest(
    state: &AppState,
    v: &Viewer,
    id: &ManifestId,
    status: StatusCode,
    form: &StepForm,
    errors: &HashMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let (now, principal, id) = (state.clock.now(), v.principal.clone(), id.clone());
    let tolerance = state.mass_balance_tolerance_percent;
    let (m, receivers) = state
        .db
        .run(move |conn| {
            let m = crate::manifests::service::read(conn, now, &principal, &id, tolerance)?;
            // Where refused waste may be forwarded: the park's disposal companies.
            let receivers = match (principal.role, m.case_status) {
                (Role::ParkOffice, Some(CaseStatus::Open)) => {
                    crate::console::counterparts(conn, &principal)?
                        .into_iter()
                        .filter(|(id, _)| *id != m.receiver.organization_id)
                        .collect()
                }
                _ => Vec::new(),
            };
            Ok((m, receivers))
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let path = format!("/manifests/{}", url_escape(m.id.as_str()));
    let role = v.principal.role;
    // The steps of the manifest's status, offered to the role that signs them (the use case
    // checks that this viewer is that party).
    let arrived = m.arrived_at.is_some();
    let steps: Vec<&str> = match (m.status, role) {
        (ManifestStatus::Draft, Role::ParkOffice | Role::EnterpriseUser) => vec!["confirm"],
        (ManifestStatus::Confirmed, Role::Driver) => vec!["take-over"],
        (ManifestStatus::InTransit, Role::DisposerDispatcher) if !arrived => {
            vec!["arrival", "receive"]
        }
        (ManifestStatus::InTransit, Role::DisposerDispatcher) => vec!["receive"],
        (ManifestStatus::InTransit, Role::Driver) if !arrived => vec!["arrival"],
        (ManifestStatus::Received, Role::DisposerDispatcher) => vec!["complete"],
        _ => Vec::new(),
    }
    .into_iter()
    .chain(
        (role == Role::ParkOffice && m.case_status == Some(CaseStatus::Open)).then_some("resolve"),
    )
    // The consignor records the national system's number of a hazardous-waste manifest once
    // it is filed there (correctable while a draft).
    .chain(
        (role == Role::ParkOffice
            && m.kind == "hazardous"
            && (m.official_number.is_none() || m.status == ManifestStatus::Draft))
            .then_some("official-number"),
    )
    .collect();
    let input =
        |name: &str, value: &str, mode: &str| text_control(name, value, (mode, 500, false), errors);
    let title = t(l, "转移联单", "Manifest");
    let body = html! {
        @if let Some(message) = errors.get("") {
            p.banner.bad role="alert" #step-error { (message) }
        }
        section.card {
            dl.facts {
                dt { (t(l, "联单编号", "Number")) } dd #number { (m.number) }
                @if let Some(official) = &m.official_number {
                    dt { (t(l, "国家系统编号", "Official number")) } dd { (official) }
                }
                dt { (t(l, "状态", "Status")) } dd #status { (status_text(l, m.status.as_str())) }
                dt { (t(l, "废物", "Waste")) } dd { (m.waste_code) " " (m.waste_name) }
                dt { (t(l, "移出人", "Consignor")) } dd { (m.consignor.name) }
                dt { (t(l, "承运人", "Carrier")) } dd { (m.carrier.name) }
                dt { (t(l, "接受人", "Receiver")) } dd { (m.receiver.name) }
                dt { (t(l, "出库重量", "Weighed out")) } dd #outbound { (weight(m.mass_balance.outbound_grams)) }
                @if let Some(received) = m.mass_balance.received_grams {
                    dt { (t(l, "接收重量", "Received")) } dd #received { (weight(received)) }
                }
                @if m.mass_balance.flagged {
                    dt { (t(l, "物料平衡", "Mass balance")) }
                    dd.alarm-exceeded #flagged { (t(l, "超出允许偏差", "beyond the tolerance")) }
                }
                @if let Some(arrived_at) = m.arrived_at {
                    dt { (t(l, "运抵时间", "Arrived")) } dd #arrived { (when(arrived_at, v.tz)) }
                }
                @if let Some(treatment) = &m.treatment {
                    dt { (t(l, "处置方式", "Treatment")) } dd { (treatment) }
                }
                @if let Some(case) = m.case_status {
                    dt { (t(l, "拒收处理", "Refusal case")) }
                    dd #case { (match case {
                        CaseStatus::Open => t(l, "待园区处理", "open: the park office resolves it"),
                        CaseStatus::Resolved => t(l, "已处理", "resolved"),
                    }) @if let Some(r) = &m.case_resolution { " · " (r) } }
                }
            }
            p { a #print href={ (path) "/print" } { (t(l, "打印联单", "Printable page")) } }
        }
        @if !m.signatures.is_empty() {
            section.card aria-labelledby="signatures" {
                h2 #signatures { (t(l, "签章记录", "Signatures")) }
                ol.signatures {
                    @for s in &m.signatures {
                        li { (when(s.at, v.tz)) " · " (step_text(l, &s.step)) " · " (s.organization_name) " · " (s.name) }
                    }
                }
            }
        }
        @if let Some(refusal) = &m.refusal {
            section.card aria-labelledby="refused-title" {
                h2 #refused-title { (t(l, "拒收批次", "Refused lots")) }
                ul #refused {
                    @for lot in &refusal.lots {
                        li data-lot=(lot.lot_id.as_str()) { (lot.lot_id.as_str()) " · " (weight(lot.grams)) }
                    }
                }
            }
        }
        @if !m.followed_by.is_empty() {
            section.card aria-labelledby="followers-title" {
                h2 #followers-title { (t(l, "后续联单", "Manifests that follow")) }
                ul #followers {
                    @for f in &m.followed_by {
                        li { a href={ "/manifests/" (url_escape(f.id.as_str())) } { (f.number) } }
                    }
                }
            }
        }
        @for step in &steps {
            @let step = *step;
            section.card aria-labelledby={ "title-" (step) } {
                h2 id={ "title-" (step) } { (step_text(l, step)) }
                form.stacked id={ "step-" (step) } method="post" action={ (path) "/" (step) } novalidate {
                    (csrf(v))
                    @if step == "receive" {
                        (field("received_kg", t(l, "接收重量（千克）", "Received (kg)"), errors.get("received_kg"),
                            input("received_kg", &form.received_kg, "decimal")))
                        (field("decision", t(l, "接收意见", "Decision"), errors.get("decision"), html! {
                            select #decision name="decision" {
                                @for (value, zh, en) in [("accepted", "接受", "accepted"), ("partially_refused", "部分拒收", "partly refused"), ("refused", "拒收", "refused")] {
                                    option value=(value) selected[form.decision == value] { (t(l, zh, en)) }
                                }
                            }
                        }))
                        (field("refused_kg", t(l, "拒收重量（千克，部分拒收时填写）", "Refused (kg, for a partial refusal)"), errors.get("refused_kg"),
                            input("refused_kg", &form.refused_kg, "decimal")))
                        fieldset #refused-lots {
                            legend { (t(l, "部分拒收的批次（千克，可不填）", "The lots partly refused (kg, optional)")) }
                            @if let Some(message) = errors.get(REFUSED_LOTS) {
                                p.error #refused_lots-error role="alert" { (message) }
                            }
                            @for o in &m.origins {
                                @let name = format!("refused.{}", o.lot_id.as_str());
                                div.field {
                                    label for=(name) {
                                        (o.label_code.as_deref().unwrap_or(o.lot_id.as_str())) " · " (o.enterprise_name) " · " (weight(o.inbound_grams))
                                    }
                                    input id=(name) name=(name) type="text" inputmode="decimal" maxlength="24"
                                        value=(form.refused.get(&name).map(String::as_str).unwrap_or_default())
                                        aria-describedby=[errors.get(REFUSED_LOTS).map(|_| "refused_lots-error")];
                                }
                            }
                        }
                        (field("note", t(l, "备注", "Note"), errors.get("note"), input("note", &form.note, "text")))
                    }
                    @if step == "complete" {
                        (field("treatment", t(l, "利用处置方式", "Treatment"), errors.get("treatment"),
                            input("treatment", &form.treatment, "text")))
                    }
                    @if step == "official-number" {
                        (field("official_number", t(l, "国家固废系统联单编号（14 位数字）", "The national system's number (14 digits)"), errors.get("official_number"),
                            input("official_number", &form.official_number, "numeric")))
                    }
                    @if step == "resolve" {
                        (field("action", t(l, "处理方式", "How"), errors.get("action"), html! {
                            select #action name="action" {
                                @for (value, zh, en) in [("return", "退回移出人（新联单）", "return to the consignor (a new manifest)"), ("forward", "转交其他处置单位（新联单）", "forward to another receiver (a new manifest)"), ("other", "其他（仅说明）", "otherwise (a text alone)")] {
                                    option value=(value) selected[form.action == value] { (t(l, zh, en)) }
                                }
                            }
                        }))
                        (field("receiver_id", t(l, "转交的处置单位（转交时选择）", "The receiver (for a forward)"), errors.get("receiver_id"), html! {
                            select #receiver_id name="receiver_id" aria-invalid=[errors.get("receiver_id").map(|_| "true")]
                                aria-describedby=[described_by("receiver_id", errors.get("receiver_id"))] {
                                option value="" { "—" }
                                @for (id, name) in &receivers {
                                    option value=(id) selected[form.receiver_id == *id] { (name) }
                                }
                            }
                        }))
                        (field("resolution", t(l, "处理说明", "Resolution"), errors.get("resolution"),
                            input("resolution", &form.resolution, "text")))
                    }
                    button type="submit" { (step_text(l, step)) }
                }
            }
        }
        p { a href="/manifests" { (t(l, "返回列表", "Back to the list")) } }
    };
    Ok(respond(status, page(v, title, "/manifests", body)))
}

fn step_text(l: crate::i18n::Locale, step: &str) -> &'static str {
    match step {
        "confirm" => t(l, "确认移出", "Confirm"),
        "take-over" | "take_over" => t(l, "承运接收", "Take over"),
        "arrival" => t(l, "运抵", "Arrival"),
        "receive" => t(l, "接受人接收", "Receive"),
        "complete" => t(l, "利用处置完毕", "Complete"),
        "resolve" => t(l, "异常处理", "Resolve"),
        "revise" => t(l, "修订", "Revise"),
        "official_number" | "official-number" => {
            t(l, "登记国家系统编号", "Record the official number")
        }
        _ => t(l, "其他", "Other"),
    }
}

/// Signs a step of a manifest through the use case the API's route of the same name calls.
#[post("/manifests/{id}/{step}")]
pub async fn manifest_step(
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    let (id, step) = path.into_inner();
    let form = form.into_inner();
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let id = ManifestId::from(id);
    let l = v.locale;
    let data = match step_data(&step, &form, l) {
        Ok(data) => data,
        Err(error @ ApiError::Validation(_)) => {
            let errors = form_messages(&error, l, step_field);
            return show_manifest(
                &state,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &errors,
            )
            .await;
        }
        Err(error) => return Err(v.fail()(error)),
    };
    let (now, principal, target) = (state.clock.now(), v.principal.clone(), id.clone());
    let tolerance = state.mass_balance_tolerance_percent;
    let object = format!("/api/v1/manifests/{id}/{step}");
    crate::audit::context::set_body(
        &serde_json::to_vec(&serde_json::json!({
            "received_kg": form.received_kg, "decision": form.decision, "refused_kg": form.refused_kg,
            "refused_lots_kg": form.refused_entries().collect::<HashMap<_, _>>(), "note": form.note, "treatment": form.treatment,
            "action": form.action, "resolution": form.resolution, "receiver_id": form.receiver_id,
            "official_number": form.official_number,
            "via": "console",
        }))
        .unwrap_or_default(),
    );
    let outcome = state
        .db
        .write(move |conn| {
            crate::audit::context::object_if_unnamed(&object);
            match data {
                Signed::Step(step, data) => crate::manifests::service::step(
                    conn,
                    now,
                    &principal,
                    &target,
                    (step, data),
                    tolerance,
                ),
                Signed::Arrival => crate::manifests::service::record_arrival(
                    conn, now, &principal, &target, None, tolerance,
                ),
                Signed::Resolve(resolution) => crate::manifests::service::resolve(
                    conn, now, &principal, &target, resolution, tolerance,
                ),
                Signed::OfficialNumber(number) => {
                    crate::manifests::service::record_official_number(
                        conn, now, &principal, &target, number, tolerance,
                    )
                }
            }
        })
        .await;
    match outcome {
        Ok(m) => Ok(crate::console::page::see_other(&format!(
            "/manifests/{}",
            url_escape(m.id.as_str())
        ))),
        Err(error @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            let errors = form_messages(&error, l, step_field);
            show_manifest(&state, &v, &id, status, &form, &errors).await
        }
        Err(error) => Err(v.fail()(error)),
    }
}

/// What a step's form has the manifest's use cases do.
enum Signed {
    /// A signature of the manifest's own sequence (`manifests::service::step`).
    Step(Step, StepData),
    /// The waste arrived at the receiver, now (`record_arrival`).
    Arrival,
    /// The park office resolves the case of refused waste (`resolve`).
    Resolve(Resolution),
    /// The consignor records the national system's number (`record_official_number`).
    OfficialNumber(String),
}

/// A partial refusal's lots as the form names them (`refused.<lot id>` = kg), by lot id; none
/// when no lot is named.
fn refused_lots(
    form: &StepForm,
    v: &mut Validator,
    l: crate::i18n::Locale,
) -> Option<Vec<RefusedLot>> {
    let mut named: Vec<(&str, &str)> = form.refused_entries().collect();
    if named.len() > MAX_REFUSED_LOTS {
        v.push(FieldError::new(
            REFUSED_LOTS,
            "too_many",
            format!("at most {MAX_REFUSED_LOTS} lots"),
        ));
        return None;
    }
    named.sort();
    let lots: Vec<RefusedLot> = named
        .into_iter()
        .filter_map(|(lot, kg)| match parse_kg(kg) {
            Some(grams) => Some(RefusedLot {
                lot_id: LotId::from(v.text(REFUSED_LOTS, lot, 1, 64)),
                grams,
            }),
            None => {
                v.push(FieldError::new(REFUSED_LOTS, "invalid", kg_problem(l)));
                None
            }
        })
        .collect();
    (!lots.is_empty()).then_some(lots)
}

/// The step a form names, with what it carries, checked as the API's routes check them.
fn step_data(step: &str, form: &StepForm, l: crate::i18n::Locale) -> Result<Signed, ApiError> {
    let mut v = Validator::new();
    let data = match step {
        "confirm" => Signed::Step(Step::Confirm, StepData::default()),
        "take-over" => Signed::Step(Step::TakeOver, StepData::default()),
        "arrival" => Signed::Arrival,
        "official-number" => {
            let number = v.check(crate::domain::manifest::parse_official_number(
                "official_number",
                &form.official_number,
            ));
            return v.finish_with(|| number.map(Signed::OfficialNumber));
        }
        "resolve" => {
            let action = match form.action.as_str() {
                "return" => Some(ResolveAction::Return),
                "forward" => Some(ResolveAction::Forward),
                "other" => Some(ResolveAction::Other),
                _ => {
                    v.push(FieldError::new(
                        "action",
                        "invalid",
                        "must be one of: return, forward, other",
                    ));
                    None
                }
            };
            let text = match form.resolution.trim() {
                "" => None,
                text => Some(v.text("resolution", text, 1, crate::manifests::routes::TEXT_MAX)),
            };
            let receiver_id = match form.receiver_id.trim() {
                "" => None,
                id => Some(v.text("receiver_id", id, 1, 64)),
            };
            return v.finish_with(|| {
                action.map(|action| {
                    Signed::Resolve(Resolution {
                        action,
                        text,
                        receiver_id,
                    })
                })
            });
        }
        "receive" => {
            let received = parse_kg(&form.received_kg).or_else(|| {
                v.push(FieldError::new("received_kg", "invalid", kg_problem(l)));
                None
            });
            let refused = match form.refused_kg.trim() {
                "" => None,
                text => parse_kg(text).or_else(|| {
                    v.push(FieldError::new("refused_kg", "invalid", kg_problem(l)));
                    None
                }),
            };
            let decision = Decision::parse_stored(&form.decision).or_else(|| {
                v.push(FieldError::new(
                    "decision",
                    "invalid",
                    "must be accepted, partially_refused or refused",
                ));
                None
            });
            let note = match form.note.trim() {
                "" => None,
                text => Some(v.text("note", text, 1, crate::manifests::routes::TEXT_MAX)),
            };
            let refused_lots = refused_lots(form, &mut v, l);
            let receipt = match (received, decision) {
                (Some(received_grams), Some(decision)) => Some(Receipt {
                    received_grams,
                    decision,
                    refused_grams: refused,
                    note,
                    refused_lots,
                }),
                _ => None,
            };
            Signed::Step(
                Step::Receive,
                StepData {
                    receipt,
                    ..StepData::default()
                },
            )
        }
        "complete" => {
            let treatment = v.text("treatment", &form.treatment, 1, 200);
            Signed::Step(
                Step::Complete,
                StepData {
                    treatment: Some(treatment),
                    ..StepData::default()
                },
            )
        }
        _ => return Err(ApiError::NotFound(crate::error::NOT_VISIBLE)),
    };
    v.finish()?;
    Ok(data)
}
