//! Declarations: general waste waiting at an enterprise's door, declared by the enterprise (or
//! its park office) with an estimate, to be weighed by the driver at pickup.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;

use crate::console::format::{kg_problem, parse_kg};
use crate::console::lots::{container_types, enterprise_names, packing, physical_forms};
use crate::console::page::{
    PageError, csrf, field, form_messages, page, respond, see_other, select_control, t,
    text_control,
};
use crate::console::session::{Viewer, url_escape};
use crate::domain::identity::Role;
use crate::error::{ApiError, FieldError};
use crate::i18n::Locale;
use crate::lots::routes::{DeclarationRequest, declaration_command};
use crate::lots::service::LotView;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct DeclarationForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// A key new with every form shown, sent as the declaration's `Idempotency-Key`.
    #[serde(default)]
    key: String,
    /// The park office's choice; an enterprise declares its own.
    #[serde(default)]
    enterprise_id: String,
    #[serde(default)]
    waste_code: String,
    #[serde(default)]
    physical_form: String,
    #[serde(default)]
    container_type: String,
    #[serde(default)]
    container_count: String,
    #[serde(default)]
    estimated_kg: String,
    #[serde(default)]
    note: String,
}

const FORM_FIELDS: &[&str] = &[
    "enterprise_id",
    "waste_code",
    "physical_form",
    "container_type",
    "container_count",
    "estimated_kg",
    "note",
];

/// Where the API's fields are on the form.
fn form_field(api_field: &str) -> Option<&'static str> {
    match api_field {
        "estimated_grams" => Some("estimated_kg"),
        other => FORM_FIELDS.iter().find(|f| **f == other).copied(),
    }
}

/// The declaration form of an enterprise (or of its park office, who chooses the enterprise).
#[get("/lots/declare")]
pub async fn declaration_form(
    state: web::Data<AppState>,
    v: Viewer,
) -> Result<HttpResponse, PageError> {
    show(
        &state,
        &v,
        StatusCode::OK,
        &DeclarationForm::default(),
        &HashMap::new(),
    )
    .await
}

async fn show(
    state: &AppState,
    v: &Viewer,
    status: StatusCode,
    form: &DeclarationForm,
    errors: &HashMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let principal = v.principal.clone();
    let enterprises = match principal.role {
        Role::EnterpriseUser => Vec::new(),
        Role::ParkOffice => {
            let mut names: Vec<(String, String)> = state
                .db
                .run(move |conn| enterprise_names(conn, &principal))
                .await
                .map_err(v.fail())?
                .into_iter()
                .collect();
            names.sort_by(|a, b| a.1.cmp(&b.1));
            names
        }
        _ => {
            return Err(v.fail()(ApiError::Forbidden(
                "general waste is declared by its enterprise or the park office",
            )));
        }
    };
    let l = v.locale;
    let count = if form.container_count.is_empty() {
        "1"
    } else {
        form.container_count.as_str()
    };
    let title = t(l, "申报待收废物", "Declare waste for pickup");
    let body = html! {
        p.muted { (t(l,
            "一般工业固废可在企业门口等待清运：填写估计重量，司机上门时称重。危险废物须送园区仓库称重入库。",
            "General industrial waste may wait at the enterprise's door: give an estimate, the driver weighs it at pickup. Hazardous waste is weighed in at the park's warehouse.")) }
        @if let Some(message) = errors.get("") {
            p.banner.bad role="alert" #form-error { (message) }
        }
        form.stacked #declare method="post" action="/lots/declare" novalidate {
            (csrf(v))
            input type="hidden" name="key" value=(uuid::Uuid::new_v4().to_string());
            @if v.principal.role == Role::ParkOffice {
                (field("enterprise_id", t(l, "产废企业", "Enterprise"), errors.get("enterprise_id"),
                    select_control(l, "enterprise_id", &enterprises, &form.enterprise_id, errors)))
            }
            (field("waste_code", t(l, "废物代码（如 900-001-S17）", "Waste code (e.g. 900-001-S17)"), errors.get("waste_code"),
                text_control("waste_code", &form.waste_code, ("text", 64, true), errors)))
            (field("physical_form", t(l, "形态", "Physical form"), errors.get("physical_form"),
                select_control(l, "physical_form", &physical_forms(l), &form.physical_form, errors)))
            (field("container_type", t(l, "包装方式", "Container"), errors.get("container_type"),
                select_control(l, "container_type", &container_types(l), &form.container_type, errors)))
            (field("container_count", t(l, "包装数量", "Number of containers"), errors.get("container_count"),
                text_control("container_count", count, ("numeric", 9, true), errors)))
            (field("estimated_kg", t(l, "估计重量（千克）", "Estimated weight (kg)"), errors.get("estimated_kg"),
                text_control("estimated_kg", &form.estimated_kg, ("decimal", 24, true), errors)))
            (field("note", t(l, "备注（可选）", "Note (optional)"), errors.get("note"),
                text_control("note", &form.note, ("text", 500, false), errors)))
            button type="submit" { (t(l, "申报", "Declare")) }
        }
    };
    Ok(respond(status, page(v, title, "/lots/declare", body)))
}

/// The declaration a form describes: its typed fields read (the estimate in kg to grams), then
/// the API's checks (`declaration_command`); every invalid field reported at once.
fn command(
    form: &DeclarationForm,
    v: &Viewer,
) -> Result<(crate::lots::service::Description, i64), ApiError> {
    let l = v.locale;
    let mut typed = Vec::new();
    let estimated = parse_kg(&form.estimated_kg);
    if estimated.is_none() {
        typed.push(FieldError::new("estimated_kg", "invalid", kg_problem(l)));
    }
    let packed = packing(
        l,
        [
            &form.container_count,
            &form.physical_form,
            &form.container_type,
        ],
        &mut typed,
    );
    let enterprise_id = match v.principal.role {
        Role::EnterpriseUser => v.principal.organization_id.clone(),
        _ => form.enterprise_id.clone(),
    };
    match (estimated, packed) {
        (Some(estimated_grams), Some((container_count, physical_form, container_type)))
            if typed.is_empty() =>
        {
            declaration_command(DeclarationRequest {
                enterprise_id,
                contract_id: None,
                waste_code: form.waste_code.clone(),
                physical_form,
                container_type,
                container_count,
                container_litres: None,
                estimated_grams,
                produced_on: None,
                main_components: None,
                note: Some(form.note.trim().to_owned()).filter(|n| !n.is_empty()),
            })
        }
        _ => Err(ApiError::Validation(typed)),
    }
}

fn audit_body(form: &DeclarationForm) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "enterprise_id": form.enterprise_id,
        "waste_code": form.waste_code,
        "physical_form": form.physical_form,
        "container_type": form.container_type,
        "container_count": form.container_count,
        "estimated_kg": form.estimated_kg,
        "note": form.note,
        "via": "console",
    }))
    .unwrap_or_default()
}

/// Records a declaration: the form's token first, then the API's checks and use case
/// (`lots::service::declare`), once per form. A refusal shows the form again with each message
/// beside its field, and changes nothing.
#[post("/lots/declare")]
pub async fn declare(
    state: web::Data<AppState>,
    v: Viewer,
    req: HttpRequest,
    form: web::Form<DeclarationForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    v.check_form(&state, &form.csrf).map_err(v.fail())?;
    let fields = audit_body(&form);
    let l: Locale = v.locale;
    let outcome = crate::console::once::once(
        &state,
        &v.principal,
        (&req, &fields),
        &form.key,
        |lot: &LotView| Some(format!("/api/v1/lots/{}", lot.id)),
        || {
            let now = state.clock.now();
            let (d, estimate) = command(&form, &v)?;
            Ok(
                move |conn: &mut crate::db::DbConn, principal: &crate::auth::Principal| {
                    crate::lots::service::declare(conn, now, principal, d, estimate)
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
            show(&state, &v, status, &form, &errors).await
        }
    }
}
