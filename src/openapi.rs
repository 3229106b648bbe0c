//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! `openapi/openapi.json` in the repository is this document; a test fails when they differ.
//! Regenerate it with `cargo run -- openapi > openapi/openapi.json`.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

pub mod constraints;
pub mod links;
pub mod statuses;

/// The name of the bearer-token security scheme.
pub const BEARER_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wastetrack",
        description = "Tracks industrial solid waste from an industrial park's shared temporary-storage warehouse \
to a licensed disposal company. Every error is an RFC 9457 problem document (`application/problem+json`); \
every response carries an `x-request-id` header. A problem's `title`, `detail` and field `message`s are in Chinese (zh-CN) unless `Accept-Language` prefers English (`en`), as its `Content-Language` says; its `type`, `status` and each error's `field` and `code` are the same in every language.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout, password change"),
        (name = "organizations", description = "Organisations taking part in the flow"),
        (name = "users", description = "Users and their roles"),
        (name = "parks", description = "Parks, carried by their management office"),
        (name = "enterprises", description = "Waste-producing enterprises of a park"),
        (name = "disposers", description = "Licensed disposal companies and their licences"),
        (name = "carriers", description = "Road carriers of hazardous goods"),
        (name = "vehicles", description = "Vehicles of a carrier's or a disposer's fleet"),
        (name = "bureaus", description = "Environment bureaus and their jurisdictions"),
        (name = "warehouses", description = "Shared temporary-storage warehouses and their zones"),
        (name = "catalog", description = "The waste catalog: HW and S categories, waste codes, CSV imports"),
        (name = "contracts", description = "1+N contracts: members, prices, thresholds, terms on a day"),
        (name = "alerts", description = "Licences and contracts about to expire"),
        (name = "lots", description = "Waste lots: weighing in, declarations, labels, inventory, corrections, alarms"),
        (name = "pickups", description = "Pickup requests raised by the contract's thresholds; accepted, scheduled or declined by the disposer"),
        (name = "billing", description = "Billing by actual weight: statements, notes, payments, balances, remittances, CSV and Excel exports"),
        (name = "calendar", description = "The working-day calendar: public holidays and make-up working days of the State Council's notice, per year"),
        (name = "manifests", description = "Transfer manifests: signed steps, revisions and versions, mass balance, search, print"),
        (name = "inspection", description = "The inspector's desk: a lot's or a manifest's trace in one call; anomaly lists across a jurisdiction (lots past their storage limit, overdue receipts, flagged manifests, open refusals, licences ending, idle contract members, full zones, overdue findings of patrols)"),
        (name = "patrols", description = "Patrols of enterprises and warehouses by the park office: checklists, findings with a deadline for rectification, answered by the enterprise and closed or reopened by the office; enterprises' feedback to the park office; photos of both (JPEG, PNG, WebP up to 5 MiB)"),
        (name = "ledgers", description = "Ledgers (台账) per park, warehouse and enterprise by business date: opening, in, out, corrections, voids, closing stock; their lines and CSV and Excel exports"),
        (name = "figures", description = "A park's figures for a dashboard, computed by the database: stock against zone capacities and pickup thresholds, pickup and receipt latency per month, volumes per waste code, enterprise, disposer or month"),
        (name = "compliance", description = "Each enterprise's compliance: its waste profile and its versions, the five haves (五个有) computed from the data or recorded by the park office, monthly trends against the profile's expectation and the year before with the share recycled, and their CSV and Excel exports"),
        (name = "notifications", description = "Each organisation's inbox; webhooks (Standard Webhooks) with their delivery log"),
        (name = "audit", description = "The tamper-evident audit chain: an entry for every change of state, each carrying the hash of the one before; its verification"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document for the routes of [`crate::routes::configure`].
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    unique_operation_ids(&mut doc);
    document_paging_errors(&mut doc);
    statuses::document(&mut doc);
    constraints::document(&mut doc);
    links::document(&mut doc);
    doc
}

/// Every operation of a path item.
pub fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Operation ids are the handlers' names, which repeat across features (`get`, `list`): a name
/// used by more than one operation is prefixed with the operation's tag (`lots_get`,
/// `manifests_get`), so that every id is unique and stable as routes are added elsewhere.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    let mut uses = std::collections::BTreeMap::<String, usize>::new();
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            if let Some(id) = &op.operation_id {
                *uses.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let (Some(id), Some(tag)) = (&op.operation_id, op.tags.iter().flatten().next()) else {
                continue;
            };
            if uses.get(id).is_some_and(|n| *n > 1) {
                op.operation_id = Some(format!("{tag}_{id}"));
            }
        }
    }
}

/// Every list answers a bad `limit` or `cursor` (an empty one included) with a 422 naming it,
/// whether or not its own filters can be bad: documented here once for every operation paged
/// by [`crate::http::PageQuery`], rather than on each.
fn document_paging_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    for item in doc.paths.paths.values_mut() {
        let Some(op) = item.get.as_mut() else {
            continue;
        };
        let paged = op
            .parameters
            .iter()
            .flatten()
            .any(|p| p.name == "limit" && p.parameter_in == ParameterIn::Query);
        if paged && !op.responses.responses.contains_key("422") {
            let problem = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            op.responses.responses.insert(
                "422".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("A bad `limit` or `cursor` (an empty one included)")
                        .content(crate::error::PROBLEM_JSON, problem)
                        .build(),
                ),
            );
        }
    }
}

/// The document rendered once at start, served as is.
pub struct RenderedDocument(pub String);

/// This OpenAPI document.
#[utoipa::path(
    tag = "meta",
    responses((
        status = 200,
        description = "The OpenAPI 3.1 document",
        content_type = "application/json",
        example = json!({"openapi": "3.1.0", "info": {"title": "wastetrack", "version": "0.1.0"}, "paths": {}})
    ))
)]
#[get("/openapi.json")]
pub async fn serve(doc: web::Data<RenderedDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
