//! HTTP endpoints of manifests: search, read, print, the signed steps, the refused-waste case,
//! revisions and versions. The POSTs honour the `Idempotency-Key` header.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::ids::{LotId, ManifestId};
use crate::domain::manifest::{Decision, ManifestStatus, Step, parse_official_number};
use crate::domain::waste::WasteCode;
use crate::error::{ApiError, Problem, Validator};
use crate::http::query::{state_named, time_bound};
use crate::http::{Json, Page, PageQuery};
use crate::idempotency::{self, Idempotency};
use crate::manifests::filing::FilingView;
use crate::manifests::service::{
    self, Changes, ManifestFilter, ManifestView, Receipt, RefusedLot, Resolution, ResolveAction,
    RevisionView, StepData, VersionView,
};
use crate::state::AppState;

/// The longest note, in characters.
pub const TEXT_MAX: usize = 500;
/// Most lots a receipt names as refused.
pub const MAX_REFUSED_LOTS: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManifestQuery {
    /// The service's tracking number (exact).
    pub number: Option<String>,
    /// The official number the national system assigned (exact, 14 digits).
    pub official_number: Option<String>,
    /// The park the waste left.
    pub park_id: Option<String>,
    /// An organisation party to it: consignor, carrier, receiver, or an originating enterprise.
    pub party: Option<String>,
    pub waste_code: Option<String>,
    /// `draft`, `confirmed`, `in_transit`, `received` or `completed`.
    #[param(value_type = Option<ManifestStatus>)]
    pub status: Option<String>,
    /// `true`: only manifests whose mass balance is beyond the tolerance.
    pub flagged: Option<bool>,
    /// Created on or after this day (YYYY-MM-DD, China Standard Time) or instant (RFC 3339).
    pub from: Option<String>,
    /// Created before the end of this day or before this instant.
    pub to: Option<String>,
}

/// The filters of `GET /manifests` and its exports.
pub fn manifest_filter(v: &mut Validator, q: ManifestQuery) -> ManifestFilter {
    ManifestFilter {
        number: q.number.map(|n| v.text("number", &n, 1, 32)),
        official_number: q
            .official_number
            .and_then(|n| v.check(parse_official_number("official_number", &n))),
        park_id: q.park_id.map(|p| v.text("park_id", &p, 1, 64)),
        party: q.party.map(|p| v.text("party", &p, 1, 64)),
        waste_code: q
            .waste_code
            .as_deref()
            .and_then(|c| v.check(WasteCode::parse("waste_code", c)))
            .map(|c| c.as_str().to_owned()),
        status: state_named(v, "status", q.status),
        flagged: q.flagged,
        created_from: time_bound(v, "from", q.from.as_deref(), false),
        created_before: time_bound(v, "to", q.to.as_deref(), true),
        ..ManifestFilter::default()
    }
}

/// The manifests of `GET /manifests` (the same filters and scope) as CSV (UTF-8 with a
/// byte-order mark, Chinese headers, kilograms with three decimals), streamed.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(ManifestQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("联单编号,类型,状态,园区,移出人,承运人,接受人,废物代码,废物类别,…\n")),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ManifestQuery>,
) -> Result<HttpResponse, ApiError> {
    let (export, pages) = manifest_export(&principal, query.into_inner(), "csv")?;
    crate::http::export::csv_response(&state.db, export, pages).await
}

/// The manifests of `GET /manifests` (the same filters and scope) as an Excel workbook.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(ManifestQuery),
    responses(
        (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/export.xlsx")]
pub async fn export_xlsx(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ManifestQuery>,
) -> Result<HttpResponse, ApiError> {
    let (export, pages) = manifest_export(&principal, query.into_inner(), "xlsx")?;
    crate::http::export::xlsx_response(&state.db, export, pages).await
}

fn manifest_export(
    principal: &Principal,
    q: ManifestQuery,
    ext: &str,
) -> Result<(crate::http::export::Export, service::ManifestPages), ApiError> {
    let scope = policy::manifest_scope(principal)?;
    let mut v = Validator::new();
    let filter = manifest_filter(&mut v, q);
    v.finish()?;
    Ok((
        crate::http::export::Export {
            file_name: format!("manifests.{ext}"),
            sheet: "转移联单".to_owned(),
            headers: service::EXPORT_HEADERS.to_vec(),
        },
        service::ManifestPages::new(scope, filter),
    ))
}

/// Search manifests: a park office its park's, an inspector those leaving a park of its
/// jurisdiction or reaching a receiver registered there, a driver those of its trips, any
/// other organisation those it is party to. By number, park, party, code, status, flag and
/// creation date; cursor pages, oldest first.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(ManifestQuery, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ManifestView>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests")]
pub async fn search(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ManifestQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<ManifestView>>, ApiError> {
    let now = state.clock.now();
    let scope = policy::manifest_scope(&principal)?;
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let filter = manifest_filter(&mut v, q);
    v.finish()?;
    let tolerance = state.mass_balance_tolerance_percent;
    let page = state
        .db
        .run(move |conn| service::search(conn, now, &principal, &scope, &filter, &page, tolerance))
        .await?;
    Ok(web::Json(page))
}

/// Read a manifest: parties, waste, the lots it groups back to each enterprise, the mass
/// balance, every signature.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "The manifest", body = ManifestView),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ManifestView>, ApiError> {
    let now = state.clock.now();
    let id = ManifestId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    let view = state
        .db
        .run(move |conn| service::read(conn, now, &principal, &id, tolerance))
        .await?;
    Ok(web::Json(view))
}

/// The manifest as a page designed for printing: one A4 page in Chinese (print to PDF from the
/// browser), every time in the park's time zone, people and organisations by name, with a QR
/// code of its URL.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "An HTML page", content_type = "text/html", body = String,
            example = json!("<!doctype html><html lang=\"zh-CN\">…</html>")),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/print.html")]
pub async fn print(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let id = ManifestId::from(id.into_inner());
    let tolerance = state.mass_balance_tolerance_percent;
    let url = format!("{}/api/v1/manifests/{id}/print.html", state.public_base_url);
    let (view, tz) = state
        .db
        .run(move |conn| service::read_for_print(conn, now, &principal, &id, tolerance))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::manifests::print::page(&view, &url, tz)))
}

/// The manifest with every field the national electronic transfer manifest asks for, in the
/// order of its three parts, so that the consignor files it by copying; the fields the service
/// does not hold are listed in `missing`. For those who read the manifest whole: an enterprise
/// only when it is the consignor.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "The fields of the national form", body = FilingView),
        (status = 403, description = "An enterprise that is not the consignor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/filing")]
pub async fn filing(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<FilingView>, ApiError> {
    Ok(web::Json(
        load_filing(&state, principal, ManifestId::from(id.into_inner())).await?,
    ))
}

/// The filing of `GET /manifests/{id}/filing` as CSV (UTF-8 with a byte-order mark): one line
/// per field, with the part of the form, the field's name and its content.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("部分,字段,内容\n移出信息,联单编号,\n移出信息,本系统跟踪编号,WT-20264403-000001\n")),
        (status = 403, description = "An enterprise that is not the consignor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/filing.csv")]
pub async fn filing_csv(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use crate::http::export::{Cell, attachment, csv_line};
    let view = load_filing(&state, principal, ManifestId::from(id.into_inner())).await?;
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(csv_line(&[
        Cell::text("部分"),
        Cell::text("字段"),
        Cell::text("内容"),
    ])?);
    for f in &view.fields {
        body.extend(csv_line(&[
            Cell::text(f.part),
            Cell::text(f.field),
            Cell::opt(f.value.clone()),
        ])?);
    }
    Ok(attachment(
        crate::http::export::CSV,
        &format!("filing-{}.csv", view.number),
    )
    .body(body))
}

async fn load_filing(
    state: &AppState,
    principal: Principal,
    id: ManifestId,
) -> Result<FilingView, ApiError> {
    let now = state.clock.now();
    let tolerance = state.mass_balance_tolerance_percent;
    state
        .db
        .run(move |conn| crate::manifests::filing::filing(conn, now, &principal, &id, tolerance))
        .await
}

/// Every version of a manifest, oldest first: the first as issued, then one per applied
/// revision.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "The versions", body = Vec<VersionView>),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/versions")]
pub async fn versions(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<VersionView>>, ApiError> {
    let id = ManifestId::from(id.into_inner());
    let versions = state
        .db
        .run(move |conn| service::versions(conn, &principal, &id))
        .await?;
    Ok(web::Json(versions))
}

/// The copy of record of one version of a manifest: its canonical JSON, byte for byte as
/// stored when it was last signed (or as it stood when a revision replaced it), with its
/// SHA-256 in the `Repr-Digest` header (RFC 9530, base64) and as the `ETag` (hex). Hashing the
/// body gives the hash kept with the signature and in the audit chain. The whole manifest: read
/// by whoever reads the manifest whole (an enterprise, which sees only its own lots, is refused).
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Manifest id"),
        ("n" = i32, Path, description = "Version number, from 1", minimum = 1, maximum = 2147483647),
    ),
    responses(
        (status = 200, description = "The copy of record, in canonical JSON", body = ManifestView,
            headers(
                ("Repr-Digest" = String, description = "`sha-256=:BASE64:` of the body (RFC 9530)"),
                ("ETag" = String, description = "The body's SHA-256 in hex, quoted"),
            )),
        (status = 403, description = "An enterprise: it reads only its own lots of the manifest", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest or version, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/versions/{n}")]
pub async fn version(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let number = n.parse().ok();
    let found = state
        .db
        .run(move |conn| service::version_record(conn, &principal, &ManifestId::from(id), number))
        .await?;
    Ok(copy_of_record(found))
}

/// One copy of record of a manifest, by its number: they are numbered from 1 in the order
/// they were made (the issue, then each signature, and each version replaced by a revision);
/// each signature's `document_sha256` is the hash of one of them. Returned byte for byte as
/// `GET /manifests/{id}/versions/{n}` returns a version's latest.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Manifest id"),
        ("seq" = i32, Path, description = "Number of the copy, from 1", minimum = 1, maximum = 2147483647),
    ),
    responses(
        (status = 200, description = "The copy of record, in canonical JSON", body = ManifestView,
            headers(
                ("Repr-Digest" = String, description = "`sha-256=:BASE64:` of the body (RFC 9530)"),
                ("ETag" = String, description = "The body's SHA-256 in hex, quoted"),
            )),
        (status = 403, description = "An enterprise: it reads only its own lots of the manifest", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest or copy, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/records/{seq}")]
pub async fn record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, seq) = path.into_inner();
    let number = seq.parse().ok();
    let found = state
        .db
        .run(move |conn| service::copy_of_record(conn, &principal, &ManifestId::from(id), number))
        .await?;
    Ok(copy_of_record(found))
}

/// Answers a copy of record (its document and stored hash), byte for byte.
fn copy_of_record((document, sha256): (String, Option<String>)) -> HttpResponse {
    use base64::Engine;
    // A version kept before copies of record has no stored hash: its bytes' own.
    let sha256 = sha256.unwrap_or_else(|| crate::domain::digest::sha256_hex(document.as_bytes()));
    let raw: Vec<u8> = (0..sha256.len() / 2)
        .filter_map(|i| u8::from_str_radix(sha256.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "repr-digest",
            format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ),
        ))
        .insert_header(("etag", format!("\"{sha256}\"")))
        .body(document)
}

/// The revisions proposed for a manifest, oldest first.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    responses(
        (status = 200, description = "The revisions", body = Vec<RevisionView>),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/manifests/{id}/revisions")]
pub async fn revisions(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<RevisionView>>, ApiError> {
    let id = ManifestId::from(id.into_inner());
    let found = state
        .db
        .run(move |conn| service::revisions(conn, &principal, &id))
        .await?;
    Ok(web::Json(found))
}

macro_rules! step_route {
    ($name:ident, $path:literal, $step:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "manifests",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
            responses(
                (status = 200, description = "The manifest, signed", body = ManifestView),
                (status = 403, description = "Not the party that signs this step", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Not at this step", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            principal: Principal,
            req: HttpRequest,
            key: Idempotency,
            id: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            let id = ManifestId::from(id.into_inner());
            let t = state.mass_balance_tolerance_percent;
            let transport_days = state.manifest_transport_days;
            let now = state.clock.now();
            idempotency::run(
        &state,
        principal, &req, key, StatusCode::OK, |_| None, move |conn, p| {
                service::step(conn, now, p, &id, ($step, StepData { transport_days, ..StepData::default() }), t)
            })
            .await
        }
    };
}

step_route!(
    confirm,
    "/manifests/{id}/confirm",
    Step::Confirm,
    "Confirm what leaves (the consignor: the park office when the park's warehouse consigns, else the enterprise). Honours `Idempotency-Key`."
);
step_route!(
    take_over,
    "/manifests/{id}/take-over",
    Step::TakeOver,
    "Take the waste over (the manifest's driver, for the carrier); the waste must then arrive within the configured transport days (`arrival_due_on`). Honours `Idempotency-Key`."
);

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"arrived_at": "2026-11-30T14:05:00+08:00"}))]
pub struct ArrivalRequest {
    /// When the waste arrived at the receiver, by the device's clock (RFC 3339): not before
    /// the take-over, not in the future. Absent: now, by the server's clock.
    pub arrived_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The waste arrived at the receiver (运抵): recorded by the receiver's dispatcher or by the
/// manifest's driver, once, while the manifest is in transit. The receipt is then due 5
/// working days after the day of arrival (in the park's time zone), counted on the
/// working-day calendar; `receipt_due_explanation` says how. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ArrivalRequest,
    responses(
        (status = 200, description = "The manifest, arrived", body = ManifestView),
        (status = 403, description = "Neither the receiver's dispatcher nor the manifest's driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in transit, or the arrival is recorded already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An arrival time in the future or before the take-over", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/manifests/{id}/arrival")]
pub async fn arrival(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ArrivalRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let arrived_at = body.into_inner().arrived_at;
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::record_arrival(conn, now, p, &id, arrived_at, t),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"received_grams": 1850000, "decision": "partially_refused", "refused_grams": 120000, "note": "two drums leaking"}))]
pub struct ReceiveRequest {
    /// What the receiver weighed on arrival: what it accepts and what it refuses.
    pub received_grams: i64,
    /// `accepted`, `partially_refused` or `refused`.
    pub decision: Decision,
    /// Required for a partial refusal (more than 0, less than received); all when refused.
    pub refused_grams: Option<i64>,
    pub note: Option<String>,
    /// The lots refused, each with the grams of it refused (1 up to the lot's inbound grams on
    /// the manifest), each a lot of the manifest named once, adding up to the refused grams.
    /// Required for a partial refusal of a manifest of several lots; a partial refusal of a
    /// manifest of one lot refuses that lot, and a whole refusal without it refuses every
    /// lot, each its share of the refused grams in proportion to its inbound grams. Absent
    /// when the waste is accepted.
    #[schema(max_items = 1000)]
    pub refused_lots: Option<Vec<RefusedLot>>,
}

/// The receiver's dispatcher records the quantity received and its decision; with no arrival
/// recorded before, the arrival is recorded with it (now). A refusal opens a case for the park
/// office; a mass balance beyond the tolerance flags the manifest and tells
/// the park office and the inspectors. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ReceiveRequest,
    responses(
        (status = 200, description = "The manifest, received", body = ManifestView),
        (status = 403, description = "Not the receiver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in transit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Quantities inconsistent with the decision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/manifests/{id}/receive")]
pub async fn receive(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ReceiveRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let note = b.note.map(|n| v.text("note", &n, 1, TEXT_MAX));
    if b.refused_lots
        .as_ref()
        .is_some_and(|l| l.len() > MAX_REFUSED_LOTS)
    {
        v.push(crate::error::FieldError::new(
            "refused_lots",
            "too_many",
            format!("at most {MAX_REFUSED_LOTS} lots"),
        ));
    }
    let refused_lots = b.refused_lots.map(|lots| {
        lots.into_iter()
            .enumerate()
            .map(|(i, l)| RefusedLot {
                lot_id: LotId::from(v.text(
                    &format!("refused_lots[{i}].lot_id"),
                    l.lot_id.as_str(),
                    1,
                    64,
                )),
                grams: l.grams,
            })
            .collect::<Vec<_>>()
    });
    v.finish()?;
    let receipt = Receipt {
        received_grams: b.received_grams,
        decision: b.decision,
        refused_grams: b.refused_grams,
        note,
        refused_lots,
    };
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| {
            service::step(
                conn,
                now,
                p,
                &id,
                (
                    Step::Receive,
                    StepData {
                        receipt: Some(receipt),
                        ..StepData::default()
                    },
                ),
                t,
            )
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"official_number": "20264403000123"}))]
pub struct OfficialNumberRequest {
    /// The 14 digits the national solid-waste information system assigned when the manifest
    /// was filed there: year, province and city of departure, serial.
    pub official_number: String,
}

/// The consignor records the official number the national information system assigned to
/// this hazardous-waste manifest when it was filed there. It may be corrected while the
/// manifest is a draft; once recorded on a signed manifest it never changes. Recording the
/// same number again answers the manifest unchanged.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id")),
    request_body = OfficialNumberRequest,
    responses(
        (status = 200, description = "The manifest, with its official number", body = ManifestView),
        (status = 403, description = "Not the consignor's signer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another manifest has this number, or this one's is signed and differs", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an official number, or a transfer record of general waste", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/manifests/{id}/official-number")]
pub async fn record_official_number(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<OfficialNumberRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let number = parse_official_number("official_number", &body.into_inner().official_number)
        .map_err(|e| ApiError::Validation(vec![e]))?;
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    let view = state
        .db
        .write(move |conn| service::record_official_number(conn, now, &principal, &id, number, t))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"treatment": "D10 incineration"}))]
pub struct CompleteRequest {
    /// How the waste was treated or disposed of.
    pub treatment: String,
}

/// The receiver records the treatment: the manifest is completed. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = CompleteRequest,
    responses(
        (status = 200, description = "The manifest, completed", body = ManifestView),
        (status = 403, description = "Not the receiver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not received", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/manifests/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<CompleteRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let treatment = v.text("treatment", &body.into_inner().treatment, 1, 200);
    v.finish()?;
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| {
            service::step(
                conn,
                now,
                p,
                &id,
                (
                    Step::Complete,
                    StepData {
                        treatment: Some(treatment),
                        ..StepData::default()
                    },
                ),
                t,
            )
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "return", "resolution": "returned to the enterprise for repacking"}))]
pub struct ResolveRequest {
    /// `return`: the refused lots go back to the consignor under a new manifest (the
    /// consignor is its receiver); `forward`: they go on to `receiver_id` under a new
    /// manifest; `other` (when absent): resolved as `resolution` says, with no new manifest.
    pub action: Option<ResolveAction>,
    /// How the case was resolved: required for `other`; for a return or a forward, the
    /// service says so when absent.
    pub resolution: Option<String>,
    /// For `forward` only, and required then: the disposal company the refused waste goes on
    /// to, not the one that refused it, with a licence covering the waste code on the park's
    /// day (hazardous waste).
    pub receiver_id: Option<String>,
}

/// The park office resolves the case of refused waste: it returns the refused lots to the
/// consignor or forwards them to another licensed receiver, each under a new manifest that
/// follows the refused one (`followed_by` on this one, `follows` on the new one), or resolves
/// it otherwise with a text alone. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "The manifest, its case resolved", body = ManifestView),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No open case", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No resolution said, no refused lots recorded to return or forward, or a receiver not a licensed disposal company", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/manifests/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ResolveRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let text = b.resolution.map(|r| v.text("resolution", &r, 1, TEXT_MAX));
    let receiver_id = b.receiver_id.map(|r| v.text("receiver_id", &r, 1, 64));
    v.finish()?;
    let resolution = Resolution {
        action: b.action.unwrap_or(ResolveAction::Other),
        text,
        receiver_id,
    };
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_| None,
        move |conn, p| service::resolve(conn, now, p, &id, resolution, t),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "the scale ticket was misread", "changes": {"outbound_grams": 2090000}}))]
pub struct ProposeRequest {
    pub reason: String,
    pub changes: Changes,
}

/// Propose a change to a signed manifest (a party that signed it). It applies, as a new
/// version, once every other party that signed approves. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "manifests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Manifest id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = ProposeRequest,
    responses(
        (status = 201, description = "Proposed (or applied, when no other party signed)", body = RevisionView),
        (status = 403, description = "Not a party that signed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such manifest, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another revision awaits approval", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid changes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/manifests/{id}/revisions")]
pub async fn propose(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<ProposeRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let reason = v.text("reason", &b.reason, 1, TEXT_MAX);
    if let Some(p) = &b.changes.packaging {
        v.text("changes.packaging", p, 1, TEXT_MAX);
    }
    if let Some(e) = &b.changes.emergency_measures {
        v.text("changes.emergency_measures", e, 1, 2000);
    }
    v.finish()?;
    let id = ManifestId::from(id.into_inner());
    let t = state.mass_balance_tolerance_percent;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        |_| None,
        move |conn, p| service::propose(conn, now, p, &id, reason, b.changes, t),
    )
    .await
}

macro_rules! decide_route {
    ($name:ident, $path:literal, $approve:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "manifests",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Manifest id"), ("revision_id" = String, Path, description = "Revision id"),
                ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
            responses(
                (status = 200, description = "The revision", body = RevisionView),
                (status = 403, description = "Your approval is not needed", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such revision, or not one you may see", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Already applied or rejected", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            principal: Principal,
            req: HttpRequest,
            key: Idempotency,
            path: web::Path<(String, String)>,
        ) -> Result<HttpResponse, ApiError> {
            let (id, revision_id) = path.into_inner();
            let id = ManifestId::from(id);
            let t = state.mass_balance_tolerance_percent;
            let now = state.clock.now();
            idempotency::run(
        &state,
        principal, &req, key, StatusCode::OK, |_| None, move |conn, p| {
                service::decide(conn, now, p, &id, &revision_id, $approve, t)
            })
            .await
        }
    };
}

decide_route!(
    approve_revision,
    "/manifests/{id}/revisions/{revision_id}/approve",
    true,
    "Approve a proposed revision (a party whose approval it needs); it applies once all have. Honours `Idempotency-Key`."
);
decide_route!(
    reject_revision,
    "/manifests/{id}/revisions/{revision_id}/reject",
    false,
    "Reject a proposed revision (a party whose approval it needs). Honours `Idempotency-Key`."
);
