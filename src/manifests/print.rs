//! A manifest as a page designed for printing (A4, the browser's "print to PDF" makes the PDF),
//! with a QR code of its URL.

use std::fmt::Write;

use crate::lots::labels::{escape, qr_path};
use crate::manifests::service::ManifestView;

fn grams_as_kg(g: i64) -> String {
    format!("{}.{:03} kg", g / 1000, (g % 1000).abs())
}

fn row(out: &mut String, label: &str, value: &str) {
    // Lines of the value stay lines.
    let value = value.lines().map(escape).collect::<Vec<_>>().join("<br>");
    let _ = write!(out, "<tr><th>{}</th><td>{value}</td></tr>", escape(label));
}

/// The page. Every value is escaped; the QR code is drawn inline as SVG.
pub fn page(m: &ManifestView, url: &str) -> String {
    let title = if m.kind == "hazardous" {
        "危险废物转移联单"
    } else {
        "一般工业固体废物转移记录"
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title} {number}</title>\
<style>@page{{size:A4;margin:15mm}}body{{font-family:sans-serif;font-size:11pt}}\
table{{border-collapse:collapse;width:100%;margin-bottom:4mm}}th,td{{border:1px solid #000;padding:1.5mm;text-align:left;vertical-align:top}}\
th{{width:32%;background:#eee}}h1{{font-size:16pt}}.qr{{float:right;width:30mm;height:30mm}}</style></head><body>",
        number = escape(&m.number)
    );
    if let Some(path) = qr_path(url, 0.0, 0.0, 30.0) {
        let _ = write!(
            out,
            "<svg class=\"qr\" viewBox=\"0 0 30 30\" xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"30\" height=\"30\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
        );
    }
    let _ = write!(
        out,
        "<h1>{title}</h1><p>联单编号 No. <strong>{}</strong> · 本系统跟踪编号 {} · 状态 {} · 版本 {}</p>",
        escape(
            m.official_number
                .as_deref()
                .unwrap_or("（尚未录入全国系统编号）")
        ),
        escape(&m.number),
        escape(&m.status),
        m.version
    );
    out.push_str("<table>");
    row(
        &mut out,
        "移出人 Consignor",
        &format!(
            "{} {}",
            m.consignor.name,
            m.consignor.uscc.clone().unwrap_or_default()
        ),
    );
    row(
        &mut out,
        "收集经营许可证 Permit",
        m.consignor.permit.as_deref().unwrap_or("—"),
    );
    row(
        &mut out,
        "承运人 Carrier",
        &format!(
            "{} {}",
            m.carrier.name,
            m.carrier.uscc.clone().unwrap_or_default()
        ),
    );
    row(
        &mut out,
        "道路运输经营许可证 Transport permit",
        m.carrier.permit.as_deref().unwrap_or("—"),
    );
    row(
        &mut out,
        "车牌号 Vehicle",
        m.vehicle["plate"].as_str().unwrap_or("—"),
    );
    row(
        &mut out,
        "驾驶员 Driver",
        m.driver["name"].as_str().unwrap_or("—"),
    );
    row(
        &mut out,
        "接受人 Receiver",
        &format!(
            "{} {}",
            m.receiver.name,
            m.receiver.uscc.clone().unwrap_or_default()
        ),
    );
    row(
        &mut out,
        "经营许可证 Licence",
        m.receiver.permit.as_deref().unwrap_or("—"),
    );
    out.push_str("</table><table>");
    row(&mut out, "废物代码 Code", &m.waste_code);
    row(&mut out, "废物名称 Name", &m.waste_name);
    row(&mut out, "类别 Category", &m.category);
    row(
        &mut out,
        "危险特性 Characteristics",
        &m.characteristics.join(" / "),
    );
    row(&mut out, "形态 Form", &m.physical_form);
    row(&mut out, "包装 Packaging", &m.packaging);
    // The basis stands next to the figure: an allocated share is never shown as a weighing.
    let basis = match (&m.outbound_scale_id, m.outbound_captured_at) {
        _ if m.outbound_basis != crate::manifests::service::WEIGHED => {
            "分摊 (allocated from the vehicle's weighing in proportion to the inbound weights; not weighed)".to_owned()
        }
        (Some(scale), Some(at)) => format!(
            "称重 (weighed: {scale}, {})",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => "称重 (weighed)".to_owned(),
    };
    row(
        &mut out,
        "移出量 Outbound",
        &format!("{} — {basis}", grams_as_kg(m.mass_balance.outbound_grams)),
    );
    row(
        &mut out,
        "入库量 Inbound (lots)",
        &grams_as_kg(m.mass_balance.inbound_grams),
    );
    if let Some(received) = m.mass_balance.received_grams {
        row(&mut out, "接受量 Received", &grams_as_kg(received));
    }
    if let Some(decision) = &m.decision {
        row(&mut out, "接受意见 Decision", decision);
    }
    if let Some(refused) = m.refused_grams.filter(|r| *r > 0) {
        row(&mut out, "拒收量 Refused", &grams_as_kg(refused));
    }
    row(
        &mut out,
        "应急措施 Emergency measures",
        &m.emergency_measures,
    );
    out.push_str("</table><table><tr><th>来源企业 Enterprise</th><th>批次 Lot</th><th>入库量 Inbound</th></tr>");
    for o in &m.origins {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&o.enterprise_name),
            escape(o.label_code.as_deref().unwrap_or(&o.lot_id)),
            grams_as_kg(o.inbound_grams)
        );
    }
    out.push_str(
        "</table><table><tr><th>环节 Step</th><th>签署人 Signed by</th><th>时间 At</th></tr>",
    );
    for s in &m.signatures {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} ({}, {})</td><td>{}</td></tr>",
            escape(&s.step),
            escape(&s.user_id),
            escape(&s.organization_id),
            escape(&s.role),
            s.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    out.push_str("</table></body></html>");
    out
}
