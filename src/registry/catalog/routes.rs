//! HTTP endpoints of the catalog.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::domain::waste::{Category, WasteCode, WasteKind};
use crate::error::{ApiError, FieldError, Problem, Validator};
use crate::http::json::{check_declared_length, read_limited};
use crate::http::{Page, PageQuery, created};
use crate::registry::catalog::service::{self, CategoryView, CodeFilter, CodeView, ImportReport};
use crate::state::AppState;

/// Largest catalog file accepted.
pub const IMPORT_LIMIT_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryFilter {
    /// `hazardous` or `general`.
    #[param(value_type = Option<WasteKind>)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    /// `hazardous` or `general`.
    #[param(value_type = Option<WasteKind>)]
    pub kind: Option<String>,
    /// A category, e.g. `HW08`.
    pub category: Option<String>,
    /// A code prefix (`900-04`) or part of the Chinese name (`废矿物油`), at most 50 characters.
    pub q: Option<String>,
    /// Include codes withdrawn from the catalog (default false).
    pub include_withdrawn: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The catalog edition the file holds, e.g. `2025` (at most 32 characters).
    pub edition: Option<String>,
    /// Check the file and report, storing nothing.
    pub dry_run: Option<bool>,
}

fn parse_kind(v: &mut Validator, raw: Option<&str>) -> Option<&'static str> {
    raw.and_then(|k| {
        v.check(
            WasteKind::parse_stored(k.trim())
                .map(WasteKind::as_str)
                .ok_or_else(|| FieldError::new("kind", "invalid", "must be hazardous or general")),
        )
    })
}

/// List the waste categories (HW and S).
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(CategoryFilter, PageQuery),
    responses(
        (status = 200, description = "One page, by code", body = Page<CategoryView>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<CategoryFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<CategoryView>>, ApiError> {
    authorize(&principal, Action::ReadCatalog)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let kind = parse_kind(&mut v, filter.kind.as_deref());
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list_categories(conn, kind, &page))
        .await?;
    Ok(web::Json(page))
}

/// Search the waste codes.
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(CodeQuery, PageQuery),
    responses(
        (status = 200, description = "One page, by code", body = Page<CodeView>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/codes")]
pub async fn list_codes(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<CodeQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<CodeView>>, ApiError> {
    authorize(&principal, Action::ReadCatalog)?;
    let query = query.into_inner();
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let kind = parse_kind(&mut v, query.kind.as_deref());
    let category = query
        .category
        .as_deref()
        .and_then(|c| v.check(Category::parse("category", c)));
    let search = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| v.text("q", q, 1, 50));
    v.finish()?;
    let filter = CodeFilter {
        kind: kind.map(str::to_owned),
        category: category.map(|c| c.as_str().to_owned()),
        search,
        include_withdrawn: query.include_withdrawn.unwrap_or(false),
    };
    let page = state
        .db
        .run(move |conn| service::list_codes(conn, &filter, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read one waste code.
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "A waste code, e.g. 900-041-49")),
    responses(
        (status = 200, description = "The code", body = CodeView),
        (status = 404, description = "Not in the catalog", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a waste code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/codes/{code}")]
pub async fn get_code(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<CodeView>, ApiError> {
    authorize(&principal, Action::ReadCatalog)?;
    let code = WasteCode::parse("code", &code).map_err(|e| ApiError::Validation(vec![e]))?;
    let view = state
        .db
        .run(move |conn| service::get_code(conn, &code))
        .await?;
    Ok(web::Json(view))
}

/// Import a catalog edition from CSV (platform administrators).
///
/// The body is CSV in UTF-8 with a header line naming the columns
/// `code,name_zh[,characteristics][,name_en][,withdrawn_on]`. Each line is a category (`HW08`,
/// `S17`) or a code (`900-249-08`, `900-001-S17`); hazardous codes need their characteristics
/// (`T`, `C`, `I`, `R`, `In`, several separated by commas in quotes, or by `/`). Valid lines are
/// created or updated, each invalid line is reported with its number, column and reason. With
/// `dry_run=true` the file is only checked.
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The catalog file",
        example = "code,name_zh,characteristics\nHW08,废矿物油与含矿物油废物,\n900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,T/I\n"),
    responses(
        (status = 201, description = "Imported; the report lists every rejected line", body = ImportReport),
        (status = 200, description = "Dry run: what an import would do", body = ImportReport),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 4 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unusable header, encoding or size", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/catalog/imports")]
pub async fn import(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    authorize(&principal, Action::ImportCatalog)?;
    let is_csv = matches!(req.mime_type(), Ok(Some(m))
        if (m.type_() == mime::TEXT && (m.subtype() == "csv" || m.subtype() == mime::PLAIN)) || (m.type_() == mime::APPLICATION && m.subtype() == "csv"));
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType(
            "a catalog import is CSV (Content-Type: text/csv)".to_owned(),
        ));
    }
    check_declared_length(&req, IMPORT_LIMIT_BYTES)?;
    let query = query.into_inner();
    let mut v = Validator::new();
    let edition = query
        .edition
        .as_deref()
        .map(|e| v.text("edition", e, 1, 32));
    v.finish()?;
    let body = read_limited(&mut payload, IMPORT_LIMIT_BYTES).await?;
    let dry_run = query.dry_run.unwrap_or(false);
    let by = principal.user_id.clone();
    let report = state
        .db
        .write(move |conn| service::import(conn, now, &by, &body, edition, dry_run))
        .await?;
    tracing::info!(
        lines = report.lines,
        accepted = report.accepted,
        rejected = report.rejected,
        dry_run,
        "catalog import"
    );
    Ok(match &report.id {
        Some(id) => created(format!("/api/v1/catalog/imports/{id}"), &report),
        None => HttpResponse::Ok().json(&report),
    })
}

/// Past imports, oldest first (platform administrators).
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of reports", body = Page<ImportReport>),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<ImportReport>>, ApiError> {
    authorize(&principal, Action::ImportCatalog)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list_imports(conn, &page))
        .await?;
    Ok(web::Json(page))
}

/// One import's report (platform administrators).
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Import id")),
    responses(
        (status = 200, description = "The report", body = ImportReport),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such import", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ImportReport>, ApiError> {
    authorize(&principal, Action::ImportCatalog)?;
    let id = id.into_inner();
    let report = state
        .db
        .run(move |conn| service::get_import(conn, &id))
        .await?;
    Ok(web::Json(report))
}
