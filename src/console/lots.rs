//! Lots: the list with its filters, paged like the API, and the park office's weigh-in form.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::policy;
use crate::console::format::{kg_problem, parse_kg, weight, when};
use crate::console::page::{
    PageError, csrf, described_by, field, field_messages, form_messages, given, page, respond,
    see_other, select_control, t, text_control,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::lot::{ContainerType, PhysicalForm};
use crate::error::{ApiError, FieldError, Validator};
use crate::http::pagination::PageQuery;
use crate::i18n::Locale;
use crate::lots::routes::{LotQuery, WeighInRequest, lot_filter, weigh_in_command};
use crate::lots::service::LotView;
use crate::state::AppState;

/// A status as people read it.
pub fn status_text(l: Locale, status: &str) -> &'static str {
    match status {
        "stored" => t(l, "在库", "stored"),
        "declared" => t(l, "已申报", "declared"),
        "voided" => t(l, "已作废", "voided"),
        "collected" => t(l, "已转移", "collected"),
        "requested" => t(l, "已申请", "requested"),
        "accepted" => t(l, "已接受", "accepted"),
        "scheduled" => t(l, "已排期", "scheduled"),
        "declined" => t(l, "已拒绝", "declined"),
        "cancelled" => t(l, "已取消", "cancelled"),
        "draft" => t(l, "待确认", "draft"),
        "confirmed" => t(l, "已确认", "confirmed"),
        "in_transit" => t(l, "运输中", "in transit"),
        "received" => t(l, "已接收", "received"),
        "completed" => t(l, "已办结", "completed"),
        _ => t(l, "其他", "other"),
    }
}

/// The filters a lot list page keeps in its links (as the API names them).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    waste_code: Option<String>,
    enterprise_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    /// The lot just weighed in, to confirm it.
    weighed: Option<String>,
}

impl ListQuery {
    /// The query string of these filters (without the cursor).
    fn filters(&self) -> String {
        [
            ("status", &self.status),
            ("waste_code", &self.waste_code),
            ("enterprise_id", &self.enterprise_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter_map(|(name, value)| given(value).map(|v| format!("{name}={}", url_escape(&v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

struct Listed {
    lots: crate::http::Page<LotView>,
    names: HashMap<String, String>,
    /// The lot just weighed in, if the viewer may read it.
    weighed: Option<LotView>,
}

/// The lots the viewer may see (`lots::service::list` under `policy::lot_scope`, as
/// `GET /api/v1/lots`), 50 a page, with the filters of the API.
#[get("/lots")]
pub async fn list(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let scope = policy::lot_scope(&v.principal).map_err(v.fail())?;
    let mut val = Validator::new();
    let page_request = PageQuery {
        limit: None,
        cursor: given(&q.cursor),
    }
    .parse(&mut val);
    let filter = lot_filter(
        &mut val,
        LotQuery {
            status: given(&q.status),
            route: None,
            park_id: None,
            zone_id: None,
            waste_code: given(&q.waste_code),
            enterprise_id: given(&q.enterprise_id),
            flagged: None,
            from: given(&q.from),
            to: given(&q.to),
            received_from: None,
            received_to: None,
        },
    );
    let l = v.locale;
    let checked = val.finish();
    let errors = match &checked {
        Err(e) => field_messages(e, l),
        Ok(()) => HashMap::new(),
    };
    let principal = v.principal.clone();
    let weighed = given(&q.weighed).map(crate::domain::ids::LotId::from);
    let listed = match checked {
        Err(_) => None,
        Ok(()) => Some(
            state
                .db
                .run(move |conn| {
                    let lots = crate::lots::service::list(conn, &scope, &filter, &page_request)?;
                    let names = enterprise_names(conn, &principal)?;
                    let weighed = weighed
                        .and_then(|id| crate::lots::service::read(conn, &principal, &id).ok());
                    Ok(Listed {
                        lots,
                        names,
                        weighed,
                    })
                })
                .await
                .map_err(v.fail())?,
        ),
    };
    let title = t(l, "废物批次", "Lots");
    let body = html! {
        @if let Some(lot) = listed.as_ref().and_then(|listed| listed.weighed.as_ref()) {
            p.banner.ok role="status" #weighed {
                @if lot.status == crate::domain::lot::LotStatus::Declared {
                    (t(l, "已申报，待司机上门称重：", "Declared, to be weighed by the driver at pickup: "))
                } @else {
                    (t(l, "已称重入库：", "Weighed in: "))
                }
                (lot.id.as_str()) " · " (weight(lot.net_grams))
                @if let Some(code) = &lot.label_code { " · " (code) }
                " · " a #print-labels href={ "/lots/" (url_escape(lot.id.as_str())) "/labels" } { (t(l, "打印标签", "Print the labels")) }
            }
        }
        (filters(&v, &q, &errors))
        @match &listed {
            None => p.muted { (t(l, "请修正筛选条件。", "Correct the filters.")) },
            Some(listed) => (table(&v, listed, &q)),
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(respond(status, page(&v, title, "/lots", body)))
}

/// The enterprises' names the viewer may read, for the tables and forms.
pub fn enterprise_names(
    conn: &mut crate::db::DbConn,
    principal: &crate::auth::Principal,
) -> Result<HashMap<String, String>, ApiError> {
    let Ok(scope) = policy::enterprise_scope(principal) else {
        return Ok(HashMap::new());
    };
    Ok(crate::console::every(|page| {
        crate::registry::parks::service::list_enterprises(conn, &scope, None, page)
    })?
    .into_iter()
    .map(|e| (e.id, e.name))
    .collect())
}

fn text_input(
    name: &str,
    value: &Option<String>,
    errors: &HashMap<String, String>,
    kind: &str,
) -> Markup {
    let error = errors.get(name);
    html! {
        input id=(name) name=(name) type=(kind) maxlength="64"
            value=(value.as_deref().unwrap_or(""))
            aria-invalid=[error.map(|_| "true")]
            aria-describedby=[described_by(name, error)];
    }
}

fn filters(v: &Viewer, q: &ListQuery, errors: &HashMap<String, String>) -> Markup {
    let l = v.locale;
    let statuses = ["stored", "declared", "collected", "voided"];
    let status = q.status.as_deref().unwrap_or("");
    html! {
        form.filters method="get" action="/lots" role="search" {
            (field("status", t(l, "状态", "Status"), errors.get("status"), html! {
                select #status name="status" {
                    option value="" selected[status.is_empty()] { (t(l, "全部", "All")) }
                    @for s in statuses {
                        option value=(s) selected[status == s] { (status_text(l, s)) }
                    }
                }
            }))
            (field("waste_code", t(l, "废物代码", "Waste code"), errors.get("waste_code"),
                text_input("waste_code", &q.waste_code, errors, "text")))
            (field("from", t(l, "称重日期自", "Weighed from"), errors.get("from"),
                text_input("from", &q.from, errors, "date")))
            (field("to", t(l, "至", "to"), errors.get("to"),
                text_input("to", &q.to, errors, "date")))
            @if let Some(e) = &q.enterprise_id {
                input type="hidden" name="enterprise_id" value=(e);
            }
            button type="submit" { (t(l, "筛选", "Filter")) }
        }
        @if let Some(message) = errors.get("cursor").or(errors.get("")) {
            p.banner.bad role="alert" { (message) }
        }
    }
}

fn table(v: &Viewer, listed: &Listed, q: &ListQuery) -> Markup {
    let l = v.locale;
    if listed.lots.items.is_empty() {
        return html! { p.muted #no-lots { (t(l, "没有符合条件的批次。", "No lots match.")) } };
    }
    let filters = q.filters();
    html! {
        div.table-wrap {
            table #lots {
                thead { tr {
                    th scope="col" { (t(l, "称重时间", "Weighed")) }
                    th scope="col" { (t(l, "企业", "Enterprise")) }
                    th scope="col" { (t(l, "废物代码", "Code")) }
                    th.number scope="col" { (t(l, "净重", "Net")) }
                    th scope="col" { (t(l, "状态", "Status")) }
                    th.optional scope="col" { (t(l, "标签识别码", "Label code")) }
                } }
                tbody {
                    @for lot in &listed.lots.items {
                        tr data-lot=(lot.id.as_str()) {
                            td { a href={ "/lots/" (url_escape(lot.id.as_str())) "/trace" } { (when(lot.captured_at, v.tz)) } }
                            td { (listed.names.get(&lot.enterprise_id).unwrap_or(&lot.enterprise_id)) }
                            td { (lot.waste_code) }
                            td.number { (weight(lot.net_grams)) }
                            td { (status_text(l, lot.status.as_str())) }
                            td.optional {
                                a href={ "/lots/" (url_escape(lot.id.as_str())) "/labels" } {
                                    (lot.label_code.as_deref().unwrap_or(t(l, "标签", "Labels")))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &listed.lots.next_cursor {
            p.pager {
                a rel="next" href={ "/lots?" (filters) @if !filters.is_empty() { "&" } "cursor=" (url_escape(cursor)) } {
                    (t(l, "下一页", "Next page"))
                }
            }
        }
    }
}

/// A lot's labels (one per container, HJ 1276-2022), the printable page of
/// `GET /api/v1/lots/{id}/label.html`, read by the same use case for the signed-in viewer.
#[get("/lots/{id}/labels")]
pub async fn lot_labels(
    state: web::Data<AppState>,
    v: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = crate::domain::ids::LotId::from(id.into_inner());
    let (principal, base_url) = (v.principal.clone(), state.public_base_url.clone());
    let (data, labels) = state
        .db
        .run(move |conn| crate::lots::service::labels(conn, &principal, &id, &base_url, None))
        .await
        .map_err(v.fail())?;
    let size = crate::domain::lot::LabelSize::for_container(data.lot.container_litres);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(crate::lots::labels::printable_page(&data, &labels, size)))
}

/// What the weigh-in form sends: every field as typed, checked here and by the API's rules.
#[derive(Debug, Default, Deserialize)]
pub struct WeighInForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// A key new with every form shown, sent as the weighing's `Idempotency-Key`.
    #[serde(default)]
    key: String,
    #[serde(default)]
    enterprise_id: String,
    #[serde(default)]
    waste_code: String,
    #[serde(default)]
    zone_id: String,
    #[serde(default)]
    physical_form: String,
    #[serde(default)]
    container_type: String,
    #[serde(default)]
    container_count: String,
    #[serde(default)]
    gross_kg: String,
    #[serde(default)]
    tare_kg: String,
    #[serde(default)]
    scale_id: String,
}

struct FormChoices {
    enterprises: Vec<(String, String)>,
    zones: Vec<(String, String)>,
}

/// The enterprises and zones a park office may weigh for and into.
fn choices(
    conn: &mut crate::db::DbConn,
    principal: &crate::auth::Principal,
) -> Result<FormChoices, ApiError> {
    let mut enterprises: Vec<(String, String)> =
        enterprise_names(conn, principal)?.into_iter().collect();
    enterprises.sort_by(|a, b| a.1.cmp(&b.1));
    let scope = policy::warehouse_scope(principal)?;
    let mut zones = Vec::new();
    let warehouses = crate::console::every(|page| {
        crate::registry::warehouses::service::list_warehouses(conn, &scope, None, page)
    })?;
    for w in warehouses {
        for z in crate::registry::warehouses::service::list_zones(conn, principal, &w.id)? {
            zones.push((z.id, format!("{} · {}", w.name, z.name)));
        }
    }
    Ok(FormChoices { enterprises, zones })
}

/// The weigh-in form of the park office.
#[get("/lots/new")]
pub async fn new_form(state: web::Data<AppState>, v: Viewer) -> Result<HttpResponse, PageError> {
    weigh_in_page(
        &state,
        &v,
        StatusCode::OK,
        &WeighInForm::default(),
        &HashMap::new(),
    )
    .await
}

async fn weigh_in_page(
    state: &AppState,
    v: &Viewer,
    status: StatusCode,
    form: &WeighInForm,
    errors: &HashMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let principal = v.principal.clone();
    if principal.role != crate::domain::identity::Role::ParkOffice {
        return Err(v.fail()(ApiError::Forbidden(
            "only the park office weighs lots in",
        )));
    }
    let choices = state
        .db
        .run(move |conn| choices(conn, &principal))
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let select = |name: &str, options: &[(String, String)], chosen: &str| {
        select_control(l, name, options, chosen, errors)
    };
    let input =
        |name: &str, value: &str, mode: &str| text_control(name, value, (mode, 64, true), errors);
    let forms = physical_forms(l);
    let containers = container_types(l);
    let count = if form.container_count.is_empty() {
        "1"
    } else {
        form.container_count.as_str()
    };
    let title = t(l, "称重入库", "Weigh in");
    let body = html! {
        @if let Some(message) = errors.get("") {
            p.banner.bad role="alert" #form-error { (message) }
        }
        form.stacked #weigh-in method="post" action="/lots" novalidate {
            (csrf(v))
            input type="hidden" name="key" value=(uuid::Uuid::new_v4().to_string());
            (field("enterprise_id", t(l, "产废企业", "Enterprise"), errors.get("enterprise_id"),
                select("enterprise_id", &choices.enterprises, &form.enterprise_id)))
            (field("waste_code", t(l, "废物代码（如 900-249-08）", "Waste code (e.g. 900-249-08)"), errors.get("waste_code"),
                input("waste_code", &form.waste_code, "text")))
            (field("zone_id", t(l, "贮存分区", "Zone"), errors.get("zone_id"),
                select("zone_id", &choices.zones, &form.zone_id)))
            (field("physical_form", t(l, "形态", "Physical form"), errors.get("physical_form"),
                select("physical_form", &forms, &form.physical_form)))
            (field("container_type", t(l, "包装方式", "Container"), errors.get("container_type"),
                select("container_type", &containers, &form.container_type)))
            (field("container_count", t(l, "包装数量", "Number of containers"), errors.get("container_count"),
                input("container_count", count, "numeric")))
            (field("gross_kg", t(l, "毛重（千克）", "Gross (kg)"), errors.get("gross_kg"),
                input("gross_kg", &form.gross_kg, "decimal")))
            (field("tare_kg", t(l, "皮重（千克）", "Tare (kg)"), errors.get("tare_kg"),
                input("tare_kg", &form.tare_kg, "decimal")))
            (field("scale_id", t(l, "衡器编号", "Scale"), errors.get("scale_id"),
                input("scale_id", &form.scale_id, "text")))
            button type="submit" { (t(l, "称重入库", "Record the weighing")) }
        }
    };
    Ok(respond(status, page(v, title, "/lots/new", body)))
}

/// The physical forms a lot may have, as (value, name).
pub fn physical_forms(l: Locale) -> Vec<(String, String)> {
    [
        PhysicalForm::Solid,
        PhysicalForm::SemiSolid,
        PhysicalForm::Liquid,
        PhysicalForm::Gas,
    ]
    .iter()
    .map(|f| (f.as_str().to_owned(), label(l, f.label_zh(), f.as_str())))
    .collect()
}

/// The containers a lot may come in, as (value, name).
pub fn container_types(l: Locale) -> Vec<(String, String)> {
    [
        ContainerType::Drum,
        ContainerType::Bag,
        ContainerType::Ibc,
        ContainerType::Box,
        ContainerType::Bottle,
        ContainerType::Bulk,
        ContainerType::Other,
    ]
    .iter()
    .map(|c| (c.as_str().to_owned(), label(l, c.label_zh(), c.as_str())))
    .collect()
}

fn label(l: Locale, zh: &'static str, en: &'static str) -> String {
    match l {
        Locale::ZhCn => zh.to_owned(),
        Locale::En => en.replace('_', " "),
    }
}

const FORM_FIELDS: &[&str] = &[
    "enterprise_id",
    "waste_code",
    "zone_id",
    "physical_form",
    "container_type",
    "container_count",
    "gross_kg",
    "tare_kg",
    "scale_id",
];

/// Where the API's fields are on the form.
fn form_field(api_field: &str) -> Option<&'static str> {
    match api_field {
        "gross_grams" | "net_grams" => Some("gross_kg"),
        "tare_grams" => Some("tare_kg"),
        other => FORM_FIELDS.iter().find(|f| **f == other).copied(),
    }
}

/// What the audit chain keeps of the form, as the API's entry keeps its JSON body (the form's
/// token left out).
fn audit_body(form: &WeighInForm) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "enterprise_id": form.enterprise_id,
        "waste_code": form.waste_code,
        "zone_id": form.zone_id,
        "physical_form": form.physical_form,
        "container_type": form.container_type,
        "container_count": form.container_count,
        "gross_kg": form.gross_kg,
        "tare_kg": form.tare_kg,
        "scale_id": form.scale_id,
        "via": "console",
    }))
    .unwrap_or_default()
}

/// How a lot is packed, as its form's fields give it (`[container_count, physical_form,
/// container_type]`): a whole number of containers, a form and a container chosen; each field
/// that is none of these is said in `typed`.
pub fn packing(
    l: Locale,
    [count, form, container]: [&str; 3],
    typed: &mut Vec<FieldError>,
) -> Option<(i32, PhysicalForm, ContainerType)> {
    let count = count.trim().parse::<i32>().ok().or_else(|| {
        typed.push(FieldError::new(
            "container_count",
            "invalid",
            t(l, "请填写整数", "enter a whole number"),
        ));
        None
    });
    let form = PhysicalForm::parse_stored(form).or_else(|| {
        typed.push(FieldError::new(
            "physical_form",
            "required",
            t(l, "请选择形态", "choose a form"),
        ));
        None
    });
    let container = ContainerType::parse_stored(container).or_else(|| {
        typed.push(FieldError::new(
            "container_type",
            "required",
            t(l, "请选择包装方式", "choose a container"),
        ));
        None
    });
    Some((count?, form?, container?))
}

/// The weighing a form describes: its typed fields read (weights in kg to grams), then the
/// API's checks (`weigh_in_command`); every invalid field reported at once.
fn command(
    form: &WeighInForm,
    now: chrono::DateTime<chrono::Utc>,
    l: Locale,
) -> Result<crate::lots::service::WeighIn, ApiError> {
    let mut typed = Vec::new();
    let grams = |name: &str, text: &str, typed: &mut Vec<FieldError>| {
        parse_kg(text).or_else(|| {
            typed.push(FieldError::new(name, "invalid", kg_problem(l)));
            None
        })
    };
    let gross = grams("gross_kg", &form.gross_kg, &mut typed);
    let tare = grams("tare_kg", &form.tare_kg, &mut typed);
    let packed = packing(
        l,
        [
            &form.container_count,
            &form.physical_form,
            &form.container_type,
        ],
        &mut typed,
    );
    let request = match (gross, tare, packed) {
        (Some(gross), Some(tare), Some((count, physical_form, container_type)))
            if typed.is_empty() =>
        {
            Some(WeighInRequest {
                enterprise_id: form.enterprise_id.clone(),
                contract_id: None,
                waste_code: form.waste_code.clone(),
                physical_form,
                container_type,
                container_count: count,
                container_litres: None,
                zone_id: form.zone_id.clone(),
                gross_grams: gross,
                tare_grams: tare,
                net_grams: None,
                scale_id: form.scale_id.clone(),
                captured_at: now,
                produced_on: None,
                main_components: None,
                note: None,
                container_grams: None,
                harmful_components: None,
                precautions: None,
            })
        }
        _ => None,
    };
    match request {
        None => Err(ApiError::Validation(typed)),
        Some(request) => weigh_in_command(request),
    }
}

/// Records a weighing: the form's token first, then the API's checks (`weigh_in_command`) and
/// use case (`lots::service::weigh_in`) in one write transaction. A refusal shows the form again
/// with each message beside its field, and changes nothing.
#[post("/lots")]
pub async fn weigh_in(
    state: web::Data<AppState>,
    v: Viewer,
    req: actix_web::HttpRequest,
    form: web::Form<WeighInForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let l = v.locale;
    let fields = audit_body(&form);
    // The form's key makes a second sending of the same form replay the first answer.
    let outcome = crate::console::once::once(
        &state,
        &v.principal,
        (&req, &fields),
        &form.key,
        |lot: &LotView| Some(format!("/api/v1/lots/{}", lot.id)),
        || {
            let now = state.clock.now();
            let new = command(&form, now, l)?;
            Ok(
                move |conn: &mut crate::db::DbConn, principal: &crate::auth::Principal| {
                    crate::lots::service::weigh_in(conn, now, principal, new)
                },
            )
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok(see_other(&format!("/lots?weighed={}", url_escape(&id)))),
        Err(ApiError::Internal(cause)) => Err(v.fail()(ApiError::Internal(cause))),
        Err(error) => {
            let status = actix_web::ResponseError::status_code(&error);
            let errors = form_messages(&error, l, form_field);
            weigh_in_page(&state, &v, status, &form, &errors).await
        }
    }
}
