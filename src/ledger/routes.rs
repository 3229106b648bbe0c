//! HTTP endpoints of the ledgers: `GET /{parks|warehouses|enterprises}/{id}/ledger` (the
//! summary), `…/ledger/lines` (every movement, cursor-paged) and `…/ledger/export.csv|xlsx`.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::export::{self, Export};
use crate::http::{Page, PageQuery};
use crate::ledger::service::{
    self, Asked, Holder, LedgerPages, LedgerView, MovementView, Span, Subject,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// `hazardous` or `general` (required: each has its own ledger).
    #[param(example = "hazardous")]
    pub kind: Option<String>,
    /// A month `YYYY-MM` in the park's time zone, not ending before the park's first day; or
    /// give `from` and `to`.
    #[param(example = "2026-11")]
    pub month: Option<String>,
    /// First day `YYYY-MM-DD` (the park's time zone), with `to`.
    pub from: Option<String>,
    /// Last day `YYYY-MM-DD`, inclusive (at most 366 days after `from`).
    pub to: Option<String>,
}

impl LedgerQuery {
    fn asked(self) -> Asked {
        Asked {
            kind: self.kind,
            month: self.month,
            from: self.from,
            to: self.to,
        }
    }
}

async fn summary(
    state: &AppState,
    principal: Principal,
    holder: Holder,
    q: LedgerQuery,
) -> Result<LedgerView, ApiError> {
    let asked = q.asked();
    state
        .db
        .snapshot(move |conn| service::summary(conn, &principal, holder, &asked))
        .await
}

async fn lines(
    state: &AppState,
    principal: Principal,
    holder: Holder,
    q: LedgerQuery,
    page: PageQuery,
) -> Result<Page<MovementView>, ApiError> {
    let mut v = crate::error::Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let after = page
        .after
        .as_deref()
        .map(service::parse_cursor)
        .transpose()
        .map_err(|e: FieldError| ApiError::Validation(vec![e]))?;
    let asked = q.asked();
    state
        .db
        .run(move |conn| service::lines(conn, &principal, holder, &asked, after, page.limit))
        .await
}

fn file_name(s: &Subject, span: &Span, ext: &str) -> String {
    let holder = match s.holder {
        Holder::Park(_) => "park",
        Holder::Warehouse(_) => "warehouse",
        Holder::Enterprise(_) => "enterprise",
    };
    format!("ledger-{holder}-{}-{}-{}.{ext}", s.kind, span.from, span.to)
}

fn sheet_title(s: &Subject) -> String {
    match s.kind.as_str() {
        "hazardous" => "危险废物管理台账",
        _ => "一般工业固体废物台账",
    }
    .to_owned()
}

/// A ledger's export as the API answers it: the subject checked first (an error is a problem
/// document), then the rows streamed from one snapshot.
pub async fn download(
    state: &AppState,
    principal: Principal,
    holder: Holder,
    q: LedgerQuery,
    xlsx: bool,
) -> Result<HttpResponse, ApiError> {
    let asked = q.asked();
    let (s, span) = state
        .db
        .run(move |conn| service::subject(conn, &principal, holder, &asked))
        .await?;
    let ext = if xlsx { "xlsx" } else { "csv" };
    let export = Export {
        file_name: file_name(&s, &span, ext),
        sheet: sheet_title(&s),
        headers: service::EXPORT_HEADERS.to_vec(),
    };
    let pages = LedgerPages::new(s, span);
    if xlsx {
        export::xlsx_response(&state.db, export, pages).await
    } else {
        export::csv_response(&state.db, export, pages).await
    }
}

macro_rules! ledger_routes {
    (
        $variant:ident,
        $summary:ident = $summary_path:literal, $summary_doc:literal,
        $lines:ident = $lines_path:literal, $lines_doc:literal,
        $csv:ident = $csv_path:literal, $csv_doc:literal,
        $xlsx:ident = $xlsx_path:literal, $xlsx_doc:literal
    ) => {
        #[doc = $summary_doc]
        ///
        #[doc = "Per waste code and category: the opening stock, in, out, corrections, voids and the closing stock (grams and lots), with totals, for a month or a range of days in the park's time zone. Hazardous and general waste have their own ledgers (`kind`). The park office and inspectors of the park's jurisdiction read it; an enterprise its own."]
        #[utoipa::path(
            tag = "ledgers",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), LedgerQuery),
            responses(
                (status = 200, description = "The ledger", body = LedgerView),
                (status = 404, description = "No such object, or not one whose ledger you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A missing or bad kind, month, from or to (a range over 366 days, a period before the park's first day)", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($summary_path)]
        pub async fn $summary(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<LedgerQuery>,
        ) -> Result<web::Json<LedgerView>, ApiError> {
            summary(&state, principal, Holder::$variant(id.into_inner()), query.into_inner())
                .await
                .map(web::Json)
        }

        #[doc = $lines_doc]
        ///
        #[doc = "Every movement in business-time order, each with its lot, and for what went out the manifest or transfer record number and the receiver. Cursor pages."]
        #[utoipa::path(
            tag = "ledgers",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), LedgerQuery, PageQuery),
            responses(
                (status = 200, description = "One page", body = Page<MovementView>),
                (status = 404, description = "No such object, or not one whose ledger you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A missing or bad kind, month, from, to, limit or cursor", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($lines_path)]
        pub async fn $lines(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<LedgerQuery>,
            page: web::Query<PageQuery>,
        ) -> Result<web::Json<Page<MovementView>>, ApiError> {
            lines(
                &state,
                principal,
                Holder::$variant(id.into_inner()),
                query.into_inner(),
                page.into_inner(),
            )
            .await
            .map(web::Json)
        }

        #[doc = $csv_doc]
        ///
        #[doc = "UTF-8 with a byte-order mark, Chinese headers, kilograms with three decimals, streamed: the summary rows (汇总, 合计), then every movement (明细)."]
        #[utoipa::path(
            tag = "ledgers",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), LedgerQuery),
            responses(
                (status = 200, description = "CSV", content_type = "text/csv", body = String,
                    example = json!("记录类型,业务日期,业务时间,废物代码,废物类别,项目,重量（千克，保留3位小数）,批次数,批次编号,产废单位,仓库,联单/转移记录编号,接收单位,经办人\n")),
                (status = 404, description = "No such object, or not one whose ledger you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A missing or bad kind, month, from or to", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($csv_path)]
        pub async fn $csv(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<LedgerQuery>,
        ) -> Result<HttpResponse, ApiError> {
            download(&state, principal, Holder::$variant(id.into_inner()), query.into_inner(), false).await
        }

        #[doc = $xlsx_doc]
        ///
        #[doc = "The rows of the CSV export, written in constant memory."]
        #[utoipa::path(
            tag = "ledgers",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Id"), LedgerQuery),
            responses(
                (status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
                    example = json!("(an xlsx workbook: a ZIP archive starting with PK)")),
                (status = 404, description = "No such object, or not one whose ledger you may read", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A missing or bad kind, month, from or to", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($xlsx_path)]
        pub async fn $xlsx(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            query: web::Query<LedgerQuery>,
        ) -> Result<HttpResponse, ApiError> {
            download(&state, principal, Holder::$variant(id.into_inner()), query.into_inner(), true).await
        }
    };
}

ledger_routes!(
    Park,
    park_ledger = "/parks/{id}/ledger",
    "The ledger (台账) of a park: all its warehouses.",
    park_ledger_lines = "/parks/{id}/ledger/lines",
    "The lines of a park's ledger.",
    park_ledger_csv = "/parks/{id}/ledger/export.csv",
    "A park's ledger as CSV.",
    park_ledger_xlsx = "/parks/{id}/ledger/export.xlsx",
    "A park's ledger as an Excel workbook."
);

ledger_routes!(
    Warehouse,
    warehouse_ledger = "/warehouses/{id}/ledger",
    "The ledger (台账) of a warehouse.",
    warehouse_ledger_lines = "/warehouses/{id}/ledger/lines",
    "The lines of a warehouse's ledger.",
    warehouse_ledger_csv = "/warehouses/{id}/ledger/export.csv",
    "A warehouse's ledger as CSV.",
    warehouse_ledger_xlsx = "/warehouses/{id}/ledger/export.xlsx",
    "A warehouse's ledger as an Excel workbook."
);

ledger_routes!(
    Enterprise,
    enterprise_ledger = "/enterprises/{id}/ledger",
    "The ledger (台账) of an enterprise: its lots in the park's warehouses.",
    enterprise_ledger_lines = "/enterprises/{id}/ledger/lines",
    "The lines of an enterprise's ledger.",
    enterprise_ledger_csv = "/enterprises/{id}/ledger/export.csv",
    "An enterprise's ledger as CSV.",
    enterprise_ledger_xlsx = "/enterprises/{id}/ledger/export.xlsx",
    "An enterprise's ledger as an Excel workbook."
);
