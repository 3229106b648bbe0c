//! The warehouse's signs of HJ 1276-2022 as printable SVG, drawn from the registry's data: the
//! storage-zone sign (贮存分区标志) at each zone — the warehouse's plan of zones with "you are
//! here", the zone's name, the categories it takes and its capacity — and the facility sign
//! (贮存设施标志) at the warehouse's entrance — the warning triangle, the unit, the facility's
//! name, code and address, the categories stored and the capacity.
//!
//! The signs' dimensions here (zone sign 400 × 300 mm, facility sign 600 × 400 mm, with 10 and
//! 14 mm text) are this project's choice, not taken from the standard's text, which was not at
//! hand: they are constants of this module, to be corrected in one place.

use std::fmt::Write;

use actix_web::{HttpResponse, get, web};

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::domain::waste::{WasteKind, split_refs};
use crate::error::{ApiError, Problem};
use crate::lots::labels::escape;
use crate::registry::parks::service as parks;
use crate::registry::warehouses::store::ZoneRow;
use crate::registry::warehouses::{service as warehouses, store as warehouse_store};
use crate::state::AppState;

/// Zone sign: width, height and text height in millimetres.
const ZONE_SIGN: (f64, f64, f64) = (400.0, 300.0, 10.0);
/// Facility sign: width, height and text height in millimetres.
const FACILITY_SIGN: (f64, f64, f64) = (600.0, 400.0, 14.0);

/// Tonnes with three decimals (kilograms), exact from integer grams (capacities are never
/// negative).
fn tonnes(grams: impl Into<i128>) -> String {
    let grams = grams.into().max(0);
    format!("{}.{:03} t", grams / 1_000_000, grams % 1_000_000 / 1_000)
}

fn categories(zone: &ZoneRow) -> String {
    let refs = split_refs(&zone.categories);
    if refs.is_empty() {
        "不限类别".to_owned()
    } else {
        refs.iter()
            .map(|r| r.as_str().to_owned())
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn text_lines(body: &mut String, x: f64, mut y: f64, size: f64, lines: &[(&str, String)]) {
    for (name, value) in lines {
        let _ = write!(
            body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.1}">{}：{}</text>"#,
            name,
            escape(value)
        );
        y += size * 1.5;
    }
}

fn document(width: f64, height: f64, title: &str, ground: &str, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}" font-family="'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif"><title>{title}</title><rect x="2" y="2" width="{w}" height="{h}" fill="{ground}" stroke="#000" stroke-width="4"/>{body}</svg>"##,
        title = escape(title),
        w = width - 4.0,
        h = height - 4.0,
    )
}

/// The storage-zone sign of `zone` among the warehouse's open `zones`.
pub fn zone_sign(park: &str, warehouse: &str, zone: &ZoneRow, zones: &[ZoneRow]) -> String {
    let (width, height, text) = ZONE_SIGN;
    let hazardous = zone.kind == WasteKind::Hazardous.as_str();
    let title = if hazardous {
        "危险废物贮存分区标志"
    } else {
        "一般工业固体废物贮存分区标志"
    };
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<text x="{:.1}" y="{:.1}" font-size="{:.1}" font-weight="bold" text-anchor="middle">{title}</text>"#,
        width / 2.0,
        text * 2.5,
        text * 1.8
    );
    // The plan: the zones side by side in rows of four, this one filled and marked.
    let (plan_x, plan_y, plan_w) = (16.0, text * 4.0, width * 0.5);
    let per_row = 4usize;
    let cell_w = plan_w / per_row as f64;
    let cell_h = cell_w * 0.7;
    let _ = write!(
        body,
        r#"<text x="{plan_x:.1}" y="{:.1}" font-size="{:.1}">设施分区平面示意</text>"#,
        plan_y - text * 0.5,
        text * 0.8
    );
    for (i, z) in zones.iter().enumerate() {
        let x = plan_x + (i % per_row) as f64 * cell_w;
        let y = plan_y + (i / per_row) as f64 * cell_h;
        let here = z.id == zone.id;
        let _ = write!(
            body,
            r##"<g class="zone{}"><rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{ch:.1}" fill="{fill}" stroke="#000" stroke-width="1.5"/><text x="{tx:.1}" y="{ty:.1}" font-size="{fs:.1}" text-anchor="middle">{name}</text></g>"##,
            if here { " here" } else { "" },
            cw = cell_w,
            ch = cell_h,
            fill = if here { "#ffd200" } else { "#fff" },
            tx = x + cell_w / 2.0,
            ty = y + cell_h / 2.0,
            fs = text * 0.8,
            name = escape(&z.name),
        );
        if here {
            let _ = write!(
                body,
                r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" text-anchor="middle" fill="#e60012">您所在位置</text>"##,
                x + cell_w / 2.0,
                y + cell_h - text * 0.4,
                text * 0.6
            );
        }
    }
    text_lines(
        &mut body,
        plan_x + plan_w + 16.0,
        text * 5.0,
        text,
        &[
            ("分区名称", zone.name.clone()),
            ("贮存废物类别", categories(zone)),
            ("贮存能力", tonnes(zone.capacity_grams)),
            ("所属设施", warehouse.to_owned()),
            ("管理单位", park.to_owned()),
        ],
    );
    let ground = if hazardous { "#ffffff" } else { "#f0f7f0" };
    document(
        width,
        height,
        &format!("{title} {}", zone.name),
        ground,
        &body,
    )
}

/// The facility sign of a warehouse, for its entrance.
pub fn facility_sign(
    park: &str,
    warehouse: &warehouse_store::WarehouseRow,
    permit: Option<&str>,
    zones: &[ZoneRow],
) -> String {
    let (width, height, text) = FACILITY_SIGN;
    let hazardous: Vec<&ZoneRow> = zones
        .iter()
        .filter(|z| z.kind == WasteKind::Hazardous.as_str())
        .collect();
    let mut kinds: Vec<String> = hazardous.iter().map(|z| categories(z)).collect();
    kinds.sort();
    kinds.dedup();
    // In i128: each zone may hold up to 10^18 g, and their sum must not wrap.
    let capacity: i128 = hazardous.iter().map(|z| i128::from(z.capacity_grams)).sum();
    let mut body = String::new();
    // The warning triangle with its exclamation mark.
    let _ = write!(
        body,
        r##"<g class="warning" transform="translate(30 60)"><path d="M80 0L160 140H0Z" fill="#ffd200" stroke="#000" stroke-width="8" stroke-linejoin="round"/><rect x="72" y="40" width="16" height="55"/><circle cx="80" cy="115" r="9"/></g>"##
    );
    let _ = write!(
        body,
        r#"<text x="{:.1}" y="{:.1}" font-size="{:.1}" font-weight="bold">危险废物贮存设施</text>"#,
        220.0,
        text * 4.0,
        text * 2.2
    );
    let mut lines = vec![
        ("单位名称", park.to_owned()),
        ("设施名称", warehouse.name.clone()),
        ("设施编码", warehouse.id.clone()),
        ("设施地址", warehouse.address.clone()),
        (
            "贮存废物类别",
            if kinds.is_empty() {
                "—".to_owned()
            } else {
                kinds.join("、")
            },
        ),
        ("贮存能力", tonnes(capacity)),
    ];
    if let Some(permit) = permit {
        lines.push(("收集经营许可证编号", permit.to_owned()));
    }
    text_lines(&mut body, 220.0, text * 7.0, text, &lines);
    document(
        width,
        height,
        &format!("危险废物贮存设施 {}", warehouse.name),
        "#ffffff",
        &body,
    )
}

/// The storage-zone sign (贮存分区标志) of a zone, printable at its size in millimetres.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id")),
    responses(
        (status = 200, description = "The sign", content_type = "image/svg+xml", body = String,
            example = json!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400mm\" height=\"300mm\">…</svg>")),
        (status = 404, description = "No such zone, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/zones/{id}/sign.svg")]
pub async fn zone_sign_svg(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let svg = state
        .db
        .run(move |conn| {
            let (zone, w) = warehouses::load_zone(conn, &id)?;
            authorize(&principal, Action::ReadWarehouse(warehouses::place(&w)))?;
            let park = parks::load_park(conn, &w.warehouse.park_id)?;
            let zones: Vec<ZoneRow> = warehouse_store::zones_of(conn, &w.warehouse.id)?
                .into_iter()
                .filter(|z| z.closed_on.is_none() || z.id == zone.id)
                .collect();
            Ok(zone_sign(&park.name, &w.warehouse.name, &zone, &zones))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}

/// The facility sign (贮存设施标志) for the warehouse's entrance, printable at its size in
/// millimetres.
#[utoipa::path(
    tag = "warehouses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Warehouse id")),
    responses(
        (status = 200, description = "The sign", content_type = "image/svg+xml", body = String,
            example = json!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600mm\" height=\"400mm\">…</svg>")),
        (status = 404, description = "No such warehouse, or not one you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/warehouses/{id}/sign.svg")]
pub async fn facility_sign_svg(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let svg = state
        .db
        .run(move |conn| {
            let w = warehouses::load_warehouse(conn, &id)?;
            authorize(&principal, Action::ReadWarehouse(warehouses::place(&w)))?;
            let park = parks::load_park(conn, &w.warehouse.park_id)?;
            let zones: Vec<ZoneRow> = warehouse_store::zones_of(conn, &w.warehouse.id)?
                .into_iter()
                .filter(|z| z.closed_on.is_none())
                .collect();
            Ok(facility_sign(
                &park.name,
                &w.warehouse,
                park.park.collection_permit_number.as_deref(),
                &zones,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}
