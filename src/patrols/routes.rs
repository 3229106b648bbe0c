//! HTTP endpoints of patrols, findings, feedback and photos: extract, authorise, call, respond.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::policy;
use crate::domain::patrol::ThreadStatus;
use crate::domain::photo::{ImageType, MAX_PHOTO_BYTES};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::{check_declared_length, read_limited};
use crate::http::{Json, Page, PageQuery, created};
use crate::patrols::service::{
    self, ChecklistItem, NewFinding, NewPatrol, PatrolFilter, PatrolView, PhotoView, Severity,
    Target, ThreadKind, ThreadSummary, ThreadView,
};
use crate::state::AppState;

/// Most people named on a patrol.
pub const MAX_PEOPLE: usize = 10;
/// Longest name of a person on a patrol.
pub const PERSON_MAX: usize = 50;
/// Most checklist items of a patrol.
pub const MAX_CHECKLIST: usize = 30;
/// Longest checklist item.
pub const ITEM_MAX: usize = 100;
/// Most findings recorded with a patrol.
pub const MAX_FINDINGS: usize = 10;
/// Longest finding description, note, reason.
pub const DESCRIPTION_MAX: usize = 500;
/// Longest subject of feedback.
pub const SUBJECT_MAX: usize = 200;
/// Longest message of a thread.
pub const TEXT_MAX: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFindingRequest {
    /// What is wrong (1 to 500 characters).
    pub description: String,
    pub severity: Option<Severity>,
    /// The last day for rectification, in the park's time zone; not before the patrol's day.
    pub deadline: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "patrolled_on": "2026-11-20",
    "people": ["张伟", "李娜"],
    "checklist": [{"item": "危险废物贮存场所标识", "result": "not_ok"}, {"item": "台账记录", "result": "ok"}],
    "findings": [{"description": "废油桶未贴危险废物标签", "severity": "major", "deadline": "2026-12-15"}],
    "note": "园区环境安全委员会月度巡查"
}))]
pub struct RecordPatrolRequest {
    /// The enterprise patrolled; give this or `warehouse_id`, not both.
    pub enterprise_id: Option<String>,
    /// The park's warehouse patrolled; give this or `enterprise_id`, not both.
    pub warehouse_id: Option<String>,
    /// The day of the patrol in the park's time zone; not after today.
    pub patrolled_on: NaiveDate,
    /// Who patrolled: 1 to 10 names of up to 50 characters.
    pub people: Vec<String>,
    /// What was checked, at most 30 items.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// What was found wrong, each with a deadline for rectification; at most 10.
    #[serde(default)]
    pub findings: Vec<NewFindingRequest>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "findings": [{"description": "应急池液位计损坏", "severity": "minor", "deadline": "2026-12-20"}]
}))]
pub struct AddFindingsRequest {
    /// 1 to 10 findings, each due not before the patrol's day.
    pub findings: Vec<NewFindingRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "已按 HJ 1276-2022 补贴标签，见照片"}))]
pub struct ThreadTextRequest {
    /// 1 to 2000 characters.
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "现场复查已整改"}))]
pub struct CloseRequest {
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "标签信息不全，缺少废物代码"}))]
pub struct ReopenRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "危险废物收运时间", "text": "本月废油桶较多，能否提前安排收运？"}))]
pub struct FeedbackRequest {
    /// 1 to 200 characters.
    pub subject: String,
    /// 1 to 2000 characters.
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackFilter {
    /// Only threads of this status.
    #[param(example = "open", value_type = Option<ThreadStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatrolFilterQuery {
    /// Only patrols of this enterprise.
    pub enterprise_id: Option<String>,
    /// Only patrols of this warehouse.
    pub warehouse_id: Option<String>,
    /// Only patrols on or after this day (YYYY-MM-DD, the patrol's day in its park's time
    /// zone).
    #[param(example = "2026-11-01")]
    pub from: Option<String>,
    /// Only patrols on or before this day (YYYY-MM-DD, inclusive); not before `from`.
    #[param(example = "2026-11-30")]
    pub to: Option<String>,
}

/// A day `YYYY-MM-DD` of a list's filter; given empty, refused as every filter is.
fn day(v: &mut Validator, field: &str, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = raw.map(str::trim)?;
    if raw.is_empty() {
        v.push(crate::http::pagination::empty(field, "for no bound"));
        return None;
    }
    v.check(
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, "invalid", "must be a day YYYY-MM-DD")),
    )
}

fn patrol_filter(v: &mut Validator, q: PatrolFilterQuery) -> PatrolFilter {
    let from = day(v, "from", q.from.as_deref());
    let to = day(v, "to", q.to.as_deref());
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        v.push(FieldError::new(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    PatrolFilter {
        enterprise_id: q.enterprise_id,
        warehouse_id: q.warehouse_id,
        from,
        to,
    }
}

/// The bytes of a photo: a JPEG, PNG or WebP image of at most 5 MiB.
// Only its schema is used: the handlers read the bytes from the payload.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PhotoBytes(#[allow(dead_code)] Vec<u8>);

fn text(v: &mut Validator, field: &str, value: &str, max: usize) -> String {
    v.text(field, value, 1, max)
}

fn optional(v: &mut Validator, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    value
        .map(|t| v.text(field, t, 0, max))
        .filter(|t| !t.is_empty())
}

/// A patrol's findings as given: at most [`MAX_FINDINGS`], each description 1 to 500
/// characters.
fn new_findings(v: &mut Validator, given: &[NewFindingRequest]) -> Vec<NewFinding> {
    if given.len() > MAX_FINDINGS {
        v.push(FieldError::new(
            "findings",
            "invalid_length",
            format!("must list at most {MAX_FINDINGS} findings"),
        ));
    }
    given
        .iter()
        .enumerate()
        .map(|(i, f)| NewFinding {
            description: text(
                v,
                &format!("findings[{i}].description"),
                &f.description,
                DESCRIPTION_MAX,
            ),
            severity: f.severity,
            deadline: f.deadline,
        })
        .collect()
}

/// Record a patrol of an enterprise or a warehouse of the park, with its checklist and
/// findings (the park office). Each finding opens a thread the enterprise answers
/// (`POST /findings/{id}/answer`); photos go to `POST /findings/{id}/photos`.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    request_body = RecordPatrolRequest,
    responses(
        (status = 201, description = "Recorded", body = PatrolView, headers(("Location" = String, description = "URL of the patrol"))),
        (status = 403, description = "You may read but not patrol this enterprise or warehouse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise or warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/patrols")]
pub async fn record_patrol(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<RecordPatrolRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    let target = match (&body.enterprise_id, &body.warehouse_id) {
        (Some(e), None) => Some(Target::Enterprise(v.text("enterprise_id", e, 1, 64))),
        (None, Some(w)) => Some(Target::Warehouse(v.text("warehouse_id", w, 1, 64))),
        (Some(_), Some(_)) => {
            v.push(FieldError::new(
                "warehouse_id",
                "both",
                "give enterprise_id or warehouse_id, not both",
            ));
            None
        }
        (None, None) => {
            v.push(FieldError::new(
                "enterprise_id",
                "required",
                "give the enterprise or the warehouse patrolled",
            ));
            None
        }
    };
    if body.people.is_empty() || body.people.len() > MAX_PEOPLE {
        v.push(FieldError::new(
            "people",
            "invalid_length",
            format!("must name 1 to {MAX_PEOPLE} people"),
        ));
    }
    let people: Vec<String> = body
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| text(&mut v, &format!("people[{i}]"), p, PERSON_MAX))
        .collect();
    if body.checklist.len() > MAX_CHECKLIST {
        v.push(FieldError::new(
            "checklist",
            "invalid_length",
            format!("must list at most {MAX_CHECKLIST} items"),
        ));
    }
    let checklist: Vec<ChecklistItem> = body
        .checklist
        .iter()
        .enumerate()
        .map(|(i, c)| ChecklistItem {
            item: text(&mut v, &format!("checklist[{i}].item"), &c.item, ITEM_MAX),
            result: c.result,
        })
        .collect();
    let findings = new_findings(&mut v, &body.findings);
    let note = optional(&mut v, "note", body.note.as_deref(), DESCRIPTION_MAX);
    let new = v.finish_with(|| {
        Some(NewPatrol {
            target: target?,
            patrolled_on: body.patrolled_on,
            people,
            checklist,
            note,
            findings,
        })
    })?;
    let view = state
        .db
        .write(move |conn| service::record_patrol(conn, now, &principal, new))
        .await?;
    Ok(created(format!("/api/v1/patrols/{}", view.id), &view))
}

/// The patrols you may see, oldest first: a park office its park's, an enterprise user its
/// own enterprise's, an inspector those of its jurisdiction; narrowed to an enterprise, a
/// warehouse, and the patrol's days from `from` to `to` (inclusive, in the park's time zone).
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(PatrolFilterQuery, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<PatrolView>),
        (status = 403, description = "Your role reads no patrols", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad from, to (or to before from), limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/patrols")]
pub async fn list_patrols(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<PatrolFilterQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<PatrolView>>, ApiError> {
    let now = state.clock.now();
    let scope = policy::patrol_scope(&principal)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let filter = patrol_filter(&mut v, filter.into_inner());
    v.finish()?;
    let found = state
        .db
        .snapshot(move |conn| service::list_patrols(conn, now, &scope, &filter, &page))
        .await?;
    Ok(web::Json(found))
}

/// A patrol with its findings: the park office, the enterprise patrolled, the inspectors of
/// the park's region.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patrol id")),
    responses(
        (status = 200, description = "The patrol", body = PatrolView),
        (status = 404, description = "No such patrol, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/patrols/{id}")]
pub async fn get_patrol(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<PatrolView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::read_patrol(conn, now, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Add findings to a patrol (the park office of its park), as when recording it: 1 to 10
/// findings, each due not before the patrol's day; a patrol holds at most 50. Each opens a
/// thread the enterprise is told of (`finding.recorded`).
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patrol id")),
    request_body = AddFindingsRequest,
    responses(
        (status = 201, description = "Added: the patrol with every finding", body = PatrolView, headers(("Location" = String, description = "URL of the patrol"))),
        (status = 403, description = "You may read but not add to this patrol", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patrol, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patrol would hold over 50 findings", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/patrols/{id}/findings")]
pub async fn add_findings(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<AddFindingsRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut v = Validator::new();
    if body.findings.is_empty() {
        v.push(FieldError::new(
            "findings",
            "invalid_length",
            format!("must list 1 to {MAX_FINDINGS} findings"),
        ));
    }
    let findings = new_findings(&mut v, &body.findings);
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::add_findings(conn, now, &principal, &id, findings))
        .await?;
    Ok(created(format!("/api/v1/patrols/{}", view.id), &view))
}

async fn read_thread(
    state: &AppState,
    principal: Principal,
    kind: ThreadKind,
    id: String,
) -> Result<web::Json<ThreadView>, ApiError> {
    let now = state.clock.now();
    let view = state
        .db
        .run(move |conn| service::read_thread(conn, now, &principal, kind, &id))
        .await?;
    Ok(web::Json(view))
}

/// A finding with its messages (the description, answers, closing, reopening) and photos:
/// the park office, the enterprise concerned, the inspectors of the park's region.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Finding id")),
    responses(
        (status = 200, description = "The finding", body = ThreadView),
        (status = 404, description = "No such finding, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/findings/{id}")]
pub async fn get_finding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ThreadView>, ApiError> {
    read_thread(&state, principal, ThreadKind::Finding, id.into_inner()).await
}

/// Answer a finding with what was done (the enterprise concerned; for a warehouse, the park
/// office): the finding becomes `answered` until the park office closes or reopens it.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Finding id")),
    request_body = ThreadTextRequest,
    responses(
        (status = 200, description = "The finding, answered", body = ThreadView),
        (status = 403, description = "You may read but not answer this finding", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The finding is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/findings/{id}/answer")]
pub async fn answer_finding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ThreadTextRequest>,
) -> Result<web::Json<ThreadView>, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let text = text(&mut v, "text", &body.into_inner().text, TEXT_MAX);
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::answer_finding(conn, now, &principal, &id, text))
        .await?;
    Ok(web::Json(view))
}

/// Close a finding: rectified (the park office).
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Finding id")),
    request_body = CloseRequest,
    responses(
        (status = 200, description = "The finding, closed", body = ThreadView),
        (status = 403, description = "You may read but not close this finding", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The finding is closed already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/findings/{id}/close")]
pub async fn close_finding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<CloseRequest>,
) -> Result<web::Json<ThreadView>, ApiError> {
    close(
        state,
        principal,
        ThreadKind::Finding,
        id.into_inner(),
        body.into_inner(),
    )
    .await
}

async fn close(
    state: web::Data<AppState>,
    principal: Principal,
    kind: ThreadKind,
    id: String,
    body: CloseRequest,
) -> Result<web::Json<ThreadView>, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let note = optional(&mut v, "note", body.note.as_deref(), DESCRIPTION_MAX);
    v.finish()?;
    let view = state
        .db
        .write(move |conn| service::close(conn, now, &principal, kind, &id, note))
        .await?;
    Ok(web::Json(view))
}

/// Reopen an answered or closed finding: not rectified after all (the park office). It is
/// open again, and overdue once its deadline has passed.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Finding id")),
    request_body = ReopenRequest,
    responses(
        (status = 200, description = "The finding, open again", body = ThreadView),
        (status = 403, description = "You may read but not reopen this finding", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The finding is open", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/findings/{id}/reopen")]
pub async fn reopen_finding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ReopenRequest>,
) -> Result<web::Json<ThreadView>, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let reason = text(&mut v, "reason", &body.into_inner().reason, DESCRIPTION_MAX);
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::reopen_finding(conn, now, &principal, &id, reason))
        .await?;
    Ok(web::Json(view))
}

/// Reads a photo upload: its declared type must be an accepted image type (415), its body 1
/// byte to 5 MiB (413; empty: 422), and its bytes' signature that type (415).
async fn read_photo_body(
    req: &HttpRequest,
    payload: &mut web::Payload,
) -> Result<(ImageType, web::BytesMut), ApiError> {
    let declared = match req.mime_type() {
        Ok(Some(m)) => ImageType::from_media_type(m.essence_str()),
        _ => None,
    };
    let Some(declared) = declared else {
        return Err(ApiError::UnsupportedMediaType(
            "a photo is a JPEG, PNG or WebP image (Content-Type: image/jpeg, image/png or image/webp)"
                .to_owned(),
        ));
    };
    check_declared_length(req, MAX_PHOTO_BYTES)?;
    let body = read_limited(payload, MAX_PHOTO_BYTES).await?;
    if body.is_empty() {
        return Err(ApiError::field("body", "empty", "the photo is empty"));
    }
    if ImageType::sniff(&body) != Some(declared) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body is not a {} image: its bytes do not begin as one",
            declared.media_type()
        )));
    }
    Ok((declared, body))
}

async fn upload(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    kind: ThreadKind,
    id: String,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (image, body) = read_photo_body(&req, &mut payload).await?;
    let view = state
        .db
        .write(move |conn| service::add_photo(conn, now, &principal, kind, &id, image, &body))
        .await?;
    Ok(created(view.url.clone(), &view))
}

/// Upload a photo of a finding or of its rectification (the park office, the enterprise
/// concerned) as the raw body: a JPEG, PNG or WebP image of at most 5 MiB, known by its bytes
/// (a body that is not the image type its `Content-Type` names is refused with 415). At most
/// 20 photos per finding; none once it is closed.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Finding id")),
    request_body(description = "The image's bytes", content(
        (PhotoBytes = "image/jpeg", example = json!("(the bytes of a JPEG image)")),
        (PhotoBytes = "image/png", example = json!("(the bytes of a PNG image)")),
        (PhotoBytes = "image/webp", example = json!("(the bytes of a WebP image)")),
    )),
    responses(
        (status = 201, description = "Kept", body = PhotoView, headers(("Location" = String, description = "URL of the photo"))),
        (status = 403, description = "You may read but not add to this finding", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The finding is closed, or holds 20 photos", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG or WebP image, or not the type named", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/findings/{id}/photos")]
pub async fn finding_photo(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    upload(
        state,
        principal,
        req,
        ThreadKind::Finding,
        id.into_inner(),
        payload,
    )
    .await
}

/// Write feedback to the park office: a question or a complaint (enterprise users). The park
/// office answers in the thread (`POST /feedback/{id}/messages`) and closes it.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    request_body = FeedbackRequest,
    responses(
        (status = 201, description = "Written", body = ThreadView, headers(("Location" = String, description = "URL of the feedback"))),
        (status = 403, description = "Not an enterprise user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback")]
pub async fn open_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<FeedbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    policy::writes_feedback(&principal)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let subject = text(&mut v, "subject", &body.subject, SUBJECT_MAX);
    let text = text(&mut v, "text", &body.text, TEXT_MAX);
    v.finish()?;
    let view = state
        .db
        .write(move |conn| service::open_feedback(conn, now, &principal, subject, text))
        .await?;
    Ok(created(format!("/api/v1/feedback/{}", view.id), &view))
}

/// The feedback you may see, oldest first: a park office its park's, an enterprise user its
/// own enterprise's, an inspector that of the parks of its jurisdiction.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(FeedbackFilter, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ThreadSummary>),
        (status = 403, description = "Your role reads no feedback", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid status or page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<FeedbackFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<ThreadSummary>>, ApiError> {
    let scope = policy::patrol_scope(&principal)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let status: Option<ThreadStatus> =
        crate::http::query::state_named(&mut v, "status", filter.into_inner().status);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list_feedback(conn, &scope, status, &page))
        .await?;
    Ok(web::Json(page))
}

/// Feedback with its messages and photos: the park office, the enterprise that wrote it, the
/// inspectors of the park's region.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Feedback id")),
    responses(
        (status = 200, description = "The feedback", body = ThreadView),
        (status = 404, description = "No such feedback, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback/{id}")]
pub async fn get_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ThreadView>, ApiError> {
    read_thread(&state, principal, ThreadKind::Feedback, id.into_inner()).await
}

/// Write in a feedback thread (the park office: it becomes `answered`; the enterprise: `open`
/// again). A closed thread takes no message.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Feedback id")),
    request_body = ThreadTextRequest,
    responses(
        (status = 200, description = "The feedback with the message", body = ThreadView),
        (status = 403, description = "You may read but not write in this feedback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feedback, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The feedback is closed, or holds 200 messages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{id}/messages")]
pub async fn feedback_message(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ThreadTextRequest>,
) -> Result<web::Json<ThreadView>, ApiError> {
    let now = state.clock.now();
    let mut v = Validator::new();
    let text = text(&mut v, "text", &body.into_inner().text, TEXT_MAX);
    v.finish()?;
    let id = id.into_inner();
    let view = state
        .db
        .write(move |conn| service::feedback_message(conn, now, &principal, &id, text))
        .await?;
    Ok(web::Json(view))
}

/// Close a feedback thread (the park office).
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Feedback id")),
    request_body = CloseRequest,
    responses(
        (status = 200, description = "The feedback, closed", body = ThreadView),
        (status = 403, description = "You may read but not close this feedback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feedback, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The feedback is closed already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{id}/close")]
pub async fn close_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<CloseRequest>,
) -> Result<web::Json<ThreadView>, ApiError> {
    close(
        state,
        principal,
        ThreadKind::Feedback,
        id.into_inner(),
        body.into_inner(),
    )
    .await
}

/// Upload a photo to a feedback thread (the park office, the enterprise that wrote it), as
/// for a finding: a JPEG, PNG or WebP image of at most 5 MiB as the raw body.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Feedback id")),
    request_body(description = "The image's bytes", content(
        (PhotoBytes = "image/jpeg", example = json!("(the bytes of a JPEG image)")),
        (PhotoBytes = "image/png", example = json!("(the bytes of a PNG image)")),
        (PhotoBytes = "image/webp", example = json!("(the bytes of a WebP image)")),
    )),
    responses(
        (status = 201, description = "Kept", body = PhotoView, headers(("Location" = String, description = "URL of the photo"))),
        (status = 403, description = "You may read but not add to this feedback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feedback, or not one you may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The feedback is closed, or holds 20 photos", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG or WebP image, or not the type named", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{id}/photos")]
pub async fn feedback_photo(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    upload(
        state,
        principal,
        req,
        ThreadKind::Feedback,
        id.into_inner(),
        payload,
    )
    .await
}

/// No script, style, frame or fetch: the image is shown, nothing in it runs.
pub const PHOTO_CSP: &str = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'";

/// A photo's bytes, with its type: for whoever may read its finding or feedback.
#[utoipa::path(
    tag = "patrols",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Photo id")),
    responses(
        (status = 200, description = "The image", content(
            (PhotoBytes = "image/jpeg", example = json!("(the bytes of a JPEG image)")),
            (PhotoBytes = "image/png", example = json!("(the bytes of a PNG image)")),
            (PhotoBytes = "image/webp", example = json!("(the bytes of a WebP image)")),
        )),
        (status = 404, description = "No such photo, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/photos/{id}")]
pub async fn get_photo(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (content_type, bytes) = state
        .db
        .run(move |conn| service::read_photo(conn, &principal, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, PHOTO_CSP))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(bytes))
}
