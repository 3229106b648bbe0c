//! The public verification page a label's QR code opens: anyone who scans a container — a road
//! check, a receiver's gate — sees what the physical label shows and where the container now
//! is, and nothing else: no prices, no contacts beyond the label's, no other lots.
//!
//! The URL carries only a random 128-bit token stored with the container (`lot_containers`), not
//! the digital identification code: that code is a credit code, a waste code, a date and a
//! three-digit sequence, all guessable, so it would let anyone walk through a producer's lots.
//! A stored random token was chosen over an HMAC of the code because it needs no server secret
//! to keep and rotate, and one container's token can be replaced without touching the others.
//! The page is rate limited per client address (`http::limits`). A signed-in user who may read
//! the lot gets its full record as well.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::db::schema::{manifest_lots, manifests};
use crate::domain::ids::LotId;
use crate::domain::label::is_verify_token;
use crate::domain::lot::LotStatus;
use crate::domain::manifest::ManifestStatus;
use crate::domain::waste::{Characteristic, WasteKind};
use crate::error::{ApiError, NOT_VISIBLE, Problem};
use crate::lots::containers;
use crate::lots::labels::{characteristic_zh, escape};
use crate::lots::service::{self, LotView};
use crate::state::AppState;

/// Where a container is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    /// In the park's warehouse.
    Stored,
    /// Declared at the producer's door, waiting for collection.
    Declared,
    /// Collected, on its way under the manifest named.
    Collected,
    /// Received by the disposer named on the manifest.
    Received,
    /// The lot was voided: the label is no longer valid.
    Voided,
}

impl PublicStatus {
    fn zh(self) -> &'static str {
        match self {
            Self::Stored => "贮存中",
            Self::Declared => "待收运",
            Self::Collected => "已收运",
            Self::Received => "已接收",
            Self::Voided => "已作废",
        }
    }
}

/// What the label of one container shows, and where the container now is.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "label_code": "91440300MA5F0001819002490820261128001",
    "waste_name": "其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物",
    "waste_code": "900-249-08",
    "category": "HW08",
    "kind": "hazardous",
    "characteristics": ["T", "I"],
    "producer": "Huaxin Electronics",
    "produced_on": "2026-11-28",
    "grams": 160000,
    "weight_shared": false,
    "container": 1,
    "containers": 2,
    "status": "collected",
    "manifest_number": "WT-2026-440307-000012"
}))]
pub struct PublicLabel {
    /// The container's digital identification code (hazardous waste).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
    pub waste_name: String,
    pub waste_code: String,
    pub category: String,
    pub kind: WasteKind,
    pub characteristics: Vec<Characteristic>,
    /// The producer's name, as on the label.
    pub producer: String,
    pub produced_on: NaiveDate,
    /// The container's weight in grams, as on the label.
    pub grams: i64,
    /// `true`: the lot's weight shared among its containers.
    pub weight_shared: bool,
    /// Which container of the lot (1 to `containers`).
    pub container: i32,
    pub containers: i32,
    pub status: PublicStatus,
    /// The manifest the container left on (collected or received).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_number: Option<String>,
    /// The full record of the lot: only for a signed-in user who may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<LotView>,
}

/// The manifest a lot last left on: its number and status.
fn manifest_of(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Option<(String, ManifestStatus)>> {
    manifest_lots::table
        .inner_join(manifests::table)
        .filter(manifest_lots::lot_id.eq(lot_id))
        .order(manifests::id.desc())
        .select((manifests::number, manifests::status))
        .first(conn)
        .optional()
}

fn public_label(
    conn: &mut DbConn,
    token: &str,
    principal: Option<&Principal>,
) -> Result<PublicLabel, ApiError> {
    let row = containers::find_by_token(conn, token)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let lot = service::load(conn, &row.lot_id)?;
    let record = match principal {
        Some(p) => match service::load_readable(conn, p, &row.lot_id) {
            Ok(lot) => Some(service::view(lot.lot)),
            Err(ApiError::NotFound(_) | ApiError::Forbidden(_)) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let data = service::label_data(conn, lot)?;
    let count = containers::count(conn, &row.lot_id)?;
    let (grams, weight_shared) = containers::weight(&row, &data.lot, count);
    let (status, manifest_number) = match data.lot.status {
        LotStatus::Stored => (PublicStatus::Stored, None),
        LotStatus::Declared => (PublicStatus::Declared, None),
        LotStatus::Voided => (PublicStatus::Voided, None),
        LotStatus::Collected => match manifest_of(conn, &row.lot_id)? {
            Some((number, ManifestStatus::Received | ManifestStatus::Completed)) => {
                (PublicStatus::Received, Some(number))
            }
            Some((number, _)) => (PublicStatus::Collected, Some(number)),
            None => (PublicStatus::Collected, None),
        },
    };
    let characteristics =
        crate::domain::waste::parse_characteristics("", &data.characteristics.join("/"))
            .unwrap_or_default()
            .into_iter()
            .collect();
    Ok(PublicLabel {
        label_code: row.label_code,
        waste_name: data.code_name,
        waste_code: data.lot.waste_code.clone(),
        category: data.lot.category.clone(),
        kind: data.lot.kind,
        characteristics,
        producer: data.producer,
        produced_on: data.lot.produced_on,
        grams,
        weight_shared,
        container: row.position,
        containers: i32::try_from(count).unwrap_or(1),
        status,
        manifest_number,
        record,
    })
}

fn html(label: &PublicLabel) -> String {
    let characteristics = label
        .characteristics
        .iter()
        .map(|c| format!("{} {}", c.as_str(), characteristic_zh(*c)))
        .collect::<Vec<_>>()
        .join("、");
    let status = match &label.manifest_number {
        Some(n) => format!("{}（转移联单 {n}）", label.status.zh()),
        None => label.status.zh().to_owned(),
    };
    let weight = format!(
        "{:.3} kg{}",
        label.grams as f64 / 1000.0,
        if label.weight_shared && label.containers > 1 {
            "（批次重量均分）"
        } else {
            ""
        }
    );
    let mut rows = vec![
        ("数字识别码", label.label_code.clone().unwrap_or_default()),
        ("废物名称", label.waste_name.clone()),
        ("废物类别", label.category.clone()),
        ("废物代码", label.waste_code.clone()),
        ("危险特性", characteristics),
        ("产生单位", label.producer.clone()),
        ("产生日期", label.produced_on.to_string()),
        ("废物重量", weight),
        (
            "容器",
            format!("第 {}/{} 件", label.container, label.containers),
        ),
        ("当前状态", status),
    ];
    rows.retain(|(_, v)| !v.is_empty());
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{}</td></tr>", escape(v)))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>标签核验</title>
<style>body {{ font-family: sans-serif; margin: 1em; }} th {{ text-align: left; padding-right: 1em; }}</style></head>
<body><h1>标签核验</h1><table>{rows}</table></body></html>
"#
    )
}

/// The public verification page of a container's label (the URL in its QR code): what the
/// label shows and the container's current status; no sign-in needed. HTML for a browser
/// (`Accept: text/html`), JSON otherwise; with a token of a user who may read the lot, the
/// lot's full record too. Rate limited per client address.
#[utoipa::path(
    tag = "lots",
    params(("token" = String, Path, description = "The token printed in the label's QR code")),
    responses(
        (status = 200, description = "What the label shows, and where the container is",
            content(
                (PublicLabel = "application/json"),
                (String = "text/html", example = json!("<!doctype html><html lang=\"zh-CN\">…</html>")),
            )),
        (status = 404, description = "No such label", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/verify/{token}")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Option<Principal>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    if !is_verify_token(&token) {
        return Err(ApiError::NotFound(NOT_VISIBLE));
    }
    let label = state
        .db
        .run(move |conn| public_label(conn, &token, principal.as_ref()))
        .await?;
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept, Authorization"));
    if wants_html {
        Ok(response
            .content_type("text/html; charset=utf-8")
            .body(html(&label)))
    } else {
        Ok(response.json(label))
    }
}
