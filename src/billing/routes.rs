//! HTTP endpoints of billing: statements and their notes, payments, balances, remittances,
//! and their CSV and Excel exports. The POSTs honour the `Idempotency-Key` header.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::billing::export;
use crate::billing::service::{
    self, BalanceView, PaymentView, RemittanceView, StatementSummary, StatementView,
};
use crate::domain::billing::{Period, note_amount, payment_amount};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::{Json, Page, PageQuery};
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;

const TEXT_MAX: usize = 500;
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A month, YYYY-MM, or the field named as invalid.
pub fn period(v: &mut Validator, raw: &str) -> Option<Period> {
    let p = Period::parse(raw);
    if p.is_none() {
        v.push(FieldError::new("period", "invalid", "a month, YYYY-MM"));
    }
    p
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "period": "2026-10"}))]
pub struct IssueRequest {
    pub enterprise_id: String,
    /// The month, YYYY-MM, in the park's time zone; it must have ended, and must not have ended
    /// before the park's first day (the day the park was registered).
    pub period: String,
}

/// Issue an enterprise's statement for a month that has ended (the park office): one line per
/// billable lot not yet billed, at the contract price in force on its billable day, rounded
/// once per line. Issued once per enterprise and month; it never changes afterwards. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = IssueRequest,
    responses(
        (status = 201, description = "Issued", body = StatementView, headers(("Location" = String, description = "URL of the statement"))),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already issued for this enterprise and month", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid month, one that has not ended or that ended before the park's first day, lots without a price, or a total out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/statements")]
pub async fn issue(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    body: Json<IssueRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let enterprise_id = v.text("enterprise_id", &b.enterprise_id, 1, 64);
    let period = period(&mut v, &b.period);
    let period = v.finish_with(|| period)?;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        |s: &StatementView| Some(format!("/api/v1/statements/{}", s.id)),
        move |conn, p| service::issue(conn, now, p, &enterprise_id, period),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    pub enterprise_id: Option<String>,
    /// A month, YYYY-MM.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-10")]
    pub period: Option<String>,
}

/// List statements: the park office its park's, an enterprise its own. Cursor pages.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(StatementQuery, PageQuery),
    responses(
        (status = 200, description = "One page: each statement without its lines (`GET /statements/{id}` has them)", body = Page<StatementSummary>),
        (status = 403, description = "Your role reads no statements", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statements")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<StatementQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<StatementSummary>>, ApiError> {
    let q = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let period = q.period.as_deref().and_then(|p| period(&mut v, p));
    v.finish()?;
    let (park, enterprise) = crate::auth::policy::statement_scope(&principal, q.enterprise_id)?;
    let page = state
        .db
        .run(move |conn| {
            service::statements(conn, park.as_deref(), enterprise.as_deref(), period, &page)
        })
        .await?;
    Ok(web::Json(page))
}

/// Read a statement: its lines, totals per code, total, and the notes raised on it since.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Statement id")),
    responses(
        (status = 200, description = "The statement", body = StatementView),
        (status = 404, description = "No such statement, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statements/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<StatementView>, ApiError> {
    Ok(web::Json(
        statement(&state, principal, id.into_inner()).await?,
    ))
}

async fn statement(
    state: &web::Data<AppState>,
    principal: Principal,
    id: String,
) -> Result<StatementView, ApiError> {
    state
        .db
        .run(move |conn| service::read_statement(conn, &principal, &id))
        .await
}

/// A file to save under `name` (the API's exports and the console's downloads).
pub fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes)
}

/// A statement as CSV (UTF-8, Chinese headers, yuan with two decimals).
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Statement id")),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("类型,批次编号,废物代码,计费日期,重量（千克）,单价（元/吨）,金额（元）\n明细,lot_…,900-249-08,2026-10-28,320.000,2800.00,896.00\n")),
        (status = 404, description = "No such statement, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statements/{id}/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = statement(&state, principal, id.into_inner()).await?;
    let name = format!("statement-{}.csv", view.number);
    Ok(download(
        "text/csv; charset=utf-8",
        &name,
        export::statement_csv(&view)?,
    ))
}

/// A statement as an Excel workbook.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Statement id")),
    responses(
        (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
        (status = 404, description = "No such statement, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statements/{id}/export.xlsx")]
pub async fn export_xlsx(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = statement(&state, principal, id.into_inner()).await?;
    let name = format!("statement-{}.xlsx", view.number);
    Ok(download(XLSX, &name, export::statement_xlsx(&view)?))
}

/// Apply the prices now in force to an issued statement (after a price was corrected for a
/// past day): each difference becomes a note on it; the statement itself never changes.
/// Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Statement id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    responses(
        (status = 200, description = "The statement with its notes", body = StatementView),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such statement, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/statements/{id}/reprice")]
pub async fn reprice(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::OK,
        |_: &StatementView| None,
        move |conn, p| service::reprice(conn, now, p, &id),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_fen": -12000, "reason": "two refused drums returned to the enterprise"}))]
pub struct NoteRequest {
    /// Negative: a credit; positive: a debit. Not 0.
    pub amount_fen: i64,
    /// Needed when the statement has lines of several disposal companies.
    pub disposer_id: Option<String>,
    pub reason: String,
}

/// Raise a credit or debit note on an issued statement by hand (the park office). Honours
/// `Idempotency-Key`.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Statement id"), ("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = NoteRequest,
    responses(
        (status = 201, description = "The statement with its notes", body = StatementView),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such statement, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Amount 0 or out of range, no reason, unknown disposer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/statements/{id}/notes")]
pub async fn add_note(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    id: web::Path<String>,
    body: Json<NoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let b = body.into_inner();
    let mut v = Validator::new();
    let amount = v.check(note_amount("amount_fen", b.amount_fen));
    let reason = v.text("reason", &b.reason, 1, TEXT_MAX);
    let disposer_id = b.disposer_id.map(|d| v.text("disposer_id", &d, 1, 64));
    let amount = v.finish_with(|| amount)?;
    let id = id.into_inner();
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        |_: &StatementView| None,
        move |conn, p| service::add_note(conn, now, p, &id, amount, disposer_id, reason),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "amount_fen": 50000, "paid_on": "2026-11-05", "reference": "bank transfer 8812"}))]
pub struct PaymentRequest {
    pub enterprise_id: String,
    /// More than 0; a payment may be partial, full or more than owed.
    pub amount_fen: i64,
    /// The day it was paid; not in the future.
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
}

/// Record a payment of an enterprise (the park office, collecting for the disposal company).
/// Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unique per request")),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "Recorded", body = PaymentView),
        (status = 403, description = "Not the park office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Amount not positive or out of range, a day in the future", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: Idempotency,
    body: Json<PaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let payment = payment_command(body.into_inner(), now)?;
    idempotency::run(
        &state,
        principal,
        &req,
        key,
        StatusCode::CREATED,
        |_: &PaymentView| None,
        move |conn, p| {
            service::record_payment(
                conn,
                now,
                p,
                &payment.enterprise_id,
                payment.amount_fen,
                payment.paid_on,
                payment.reference,
            )
        },
    )
    .await
}

/// A payment as checked, ready to record.
pub struct NewPayment {
    pub enterprise_id: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
}

/// The checks of `POST /payments`, every bad field reported at once: an amount more than 0 and
/// within range, a day not in the future (a day's grace for time zones ahead of UTC), a
/// reference of at most 200 characters.
pub fn payment_command(
    b: PaymentRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<NewPayment, ApiError> {
    let mut v = Validator::new();
    let enterprise_id = v.text("enterprise_id", &b.enterprise_id, 1, 64);
    let amount = v.check(payment_amount("amount_fen", b.amount_fen));
    if b.paid_on > now.date_naive() + chrono::Duration::days(1) {
        v.push(FieldError::new(
            "paid_on",
            "in_future",
            "lies in the future",
        ));
    }
    let reference = b.reference.map(|r| v.text("reference", &r, 1, 200));
    let amount_fen = v.finish_with(|| amount)?;
    Ok(NewPayment {
        enterprise_id,
        amount_fen,
        paid_on: b.paid_on,
        reference,
    })
}

/// An enterprise's balance: billed, notes, paid, what is owed by age past due (payments cover
/// the oldest first), and any over-payment as credit. The park office and the enterprise.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The balance", body = BalanceView),
        (status = 404, description = "No such enterprise, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enterprises/{id}/balance")]
pub async fn balance(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<BalanceView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let view = state
        .db
        .snapshot(move |conn| service::balance(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemittanceQuery {
    /// The park; a park office's own by default.
    pub park_id: Option<String>,
    /// The disposal company; a dispatcher's own by default.
    pub disposer_id: Option<String>,
    /// A month, YYYY-MM.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: String,
}

async fn remittance_of(
    state: &web::Data<AppState>,
    principal: Principal,
    q: RemittanceQuery,
) -> Result<RemittanceView, ApiError> {
    let (period, park_id, disposer_id) = remittance_request(&principal, q)?;
    state
        .db
        .snapshot(move |conn| service::remittance(conn, &principal, &park_id, &disposer_id, period))
        .await
}

/// The checks of a remittance request: a month, and the park and the disposal company (each
/// the principal's own when it is one of them), every missing or bad field reported at once.
pub fn remittance_request(
    principal: &Principal,
    q: RemittanceQuery,
) -> Result<(Period, String, String), ApiError> {
    let mut v = Validator::new();
    let period = period(&mut v, &q.period);
    let (park_id, disposer_id) =
        crate::auth::policy::remittance_parties(principal, q.park_id, q.disposer_id);
    if park_id.is_none() {
        v.push(FieldError::new("park_id", "required", "name the park"));
    }
    if disposer_id.is_none() {
        v.push(FieldError::new(
            "disposer_id",
            "required",
            "name the disposal company",
        ));
    }
    v.finish_with(|| Some((period?, park_id?, disposer_id?)))
}

/// The park office's remittance statement to a disposal company for a month: billed, collected
/// and outstanding per enterprise. The park office and the disposal company.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(RemittanceQuery),
    responses(
        (status = 200, description = "The remittance", body = RemittanceView),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid month, or a missing park or disposer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/remittances")]
pub async fn remittance(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<RemittanceQuery>,
) -> Result<web::Json<RemittanceView>, ApiError> {
    Ok(web::Json(
        remittance_of(&state, principal, query.into_inner()).await?,
    ))
}

/// The remittance as CSV.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(RemittanceQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String,
            example = json!("企业,对账单号,应收（元）,已收（元）,未收（元）\n深圳市华信精密电子有限公司,202610-…,896.00,500.00,396.00\n")),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/remittances/export.csv")]
pub async fn remittance_csv(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<RemittanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = remittance_of(&state, principal, query.into_inner()).await?;
    let name = format!("remittance-{}.csv", view.period);
    Ok(download(
        "text/csv; charset=utf-8",
        &name,
        export::remittance_csv(&view)?,
    ))
}

/// The remittance as an Excel workbook.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(RemittanceQuery),
    responses(
        (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
        (status = 404, description = "No such park, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/remittances/export.xlsx")]
pub async fn remittance_xlsx(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<RemittanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = remittance_of(&state, principal, query.into_inner()).await?;
    let name = format!("remittance-{}.xlsx", view.period);
    Ok(download(XLSX, &name, export::remittance_xlsx(&view)?))
}
