//! A manifest as a page designed for printing: one A4 page in Chinese (the browser's "print to
//! PDF" makes the PDF), with a QR code of its URL. Statuses, forms, packaging, decisions, steps
//! and roles in Chinese words; people and organisations by name; times in the park's time zone.

use std::fmt::Write;

use chrono_tz::Tz;

use crate::domain::billing::{kilograms, tonnes};
use crate::lots::labels::{escape, qr_path};
use crate::manifests::service::ManifestView;
use crate::manifests::words::{characteristics_zh, forms_zh, local, packaging_zh, zh};

/// Grams as kilograms with three decimals (exact: integer arithmetic).
fn kg(g: i64) -> String {
    format!("{} kg", kilograms(g))
}

/// Grams as kilograms and tonnes (the national manifest states tonnes).
fn kg_and_t(g: i64) -> String {
    format!("{}（{} 吨）", kg(g), tonnes(g))
}

/// The outbound figure with its basis beside it: an allocated share is never shown as a
/// weighing.
fn outbound(m: &ManifestView, tz: Tz) -> String {
    let figure = kg_and_t(m.mass_balance.outbound_grams);
    if m.outbound_basis != crate::manifests::service::WEIGHED {
        return format!("{figure} — 分摊（按入库重量分摊整车称重，非单独称重）");
    }
    match (&m.outbound_scale_id, m.outbound_captured_at) {
        (Some(scale), Some(at)) => format!("{figure} — 称重（{scale}，{}）", local(at, tz)),
        _ => format!("{figure} — 称重"),
    }
}

/// Cells of one row: `(label, value)` pairs side by side; values are escaped, their lines kept.
fn row(out: &mut String, cells: &[(&str, &str)]) {
    out.push_str("<tr>");
    for (label, value) in cells {
        let value = value.lines().map(escape).collect::<Vec<_>>().join("<br>");
        let _ = write!(out, "<th>{}</th><td>{value}</td>", escape(label));
    }
    out.push_str("</tr>");
}

fn section(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<tr><th class=\"sec\" colspan=\"4\">{}</th></tr>",
        escape(title)
    );
}

fn party(m: &crate::manifests::service::PartyView) -> String {
    match &m.uscc {
        Some(uscc) => format!("{}\n统一社会信用代码 {uscc}", m.name),
        None => m.name.clone(),
    }
}

const STYLE: &str = "@page{size:A4;margin:12mm}\
*{box-sizing:border-box}body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;font-size:9pt;margin:0;color:#000}\
header{display:flex;justify-content:space-between;align-items:flex-start;margin-bottom:2mm}\
h1{font-size:15pt;margin:0 0 1mm}header p{margin:0.5mm 0}.qrcode{flex:none;width:24mm;height:24mm}\
table{border-collapse:collapse;width:100%;margin-bottom:2mm;page-break-inside:avoid}\
th,td{border:0.3mm solid #000;padding:0.8mm 1.2mm;text-align:left;vertical-align:top}\
th{background:#eee;font-weight:normal;white-space:nowrap;width:14%}td{width:36%}\
th.sec{background:#ccc;font-weight:bold;width:auto}.list th,.list td{width:auto}\
.note{font-size:8pt}@media screen{body{max-width:186mm;margin:8mm auto}}";

/// The page. Every value is escaped; the QR code is drawn inline as SVG. `tz` is the park's
/// time zone, in which every time is shown.
pub fn page(m: &ManifestView, url: &str, tz: Tz) -> String {
    let title = if m.kind == "hazardous" {
        "危险废物转移联单"
    } else {
        "一般工业固体废物转移记录"
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} {number}</title><style>{STYLE}</style></head><body><header><div>",
        number = escape(&m.number)
    );
    let _ = write!(
        out,
        "<h1>{title}</h1><p>联单编号（全国固体废物管理信息系统）：<strong>{}</strong></p>\
<p>本系统跟踪编号：{} · 状态：{} · 第 {} 版</p>",
        escape(
            m.official_number
                .as_deref()
                .unwrap_or("（尚未录入全国系统联单编号）")
        ),
        escape(&m.number),
        escape(zh(m.status.as_str())),
        m.version
    );
    out.push_str("</div>");
    if let Some(group) = qr_path(url, 0.0, 0.0, 30.0) {
        let _ = write!(
            out,
            "<svg class=\"qrcode\" role=\"img\" aria-label=\"联单二维码\" viewBox=\"0 0 30 30\" xmlns=\"http://www.w3.org/2000/svg\">{group}</svg>"
        );
    }
    out.push_str("</header><table>");

    section(&mut out, "第一部分　移出信息（移出人填写）");
    row(
        &mut out,
        &[
            ("移出人", &party(&m.consignor)),
            ("移出人类型", zh(&m.consignor_type)),
        ],
    );
    row(
        &mut out,
        &[
            (
                "收集经营许可证",
                m.consignor.permit.as_deref().unwrap_or("—"),
            ),
            ("废物类型", zh(&m.kind)),
        ],
    );
    row(
        &mut out,
        &[
            ("废物名称", &m.waste_name),
            (
                "废物代码 / 类别",
                &format!("{} / {}", m.waste_code, m.category),
            ),
        ],
    );
    row(
        &mut out,
        &[
            ("危险特性", &characteristics_zh(&m.characteristics)),
            ("形态", &forms_zh(&m.physical_form)),
        ],
    );
    row(
        &mut out,
        &[
            ("包装方式及数量", &packaging_zh(&m.packaging)),
            ("移出量", &outbound(m, tz)),
        ],
    );
    row(
        &mut out,
        &[
            ("入库称重合计", &kg(m.mass_balance.inbound_grams)),
            (
                "物料平衡",
                &if m.mass_balance.flagged {
                    format!(
                        "超出允差 {}%：{}",
                        m.mass_balance.tolerance_percent,
                        m.mass_balance.detail.as_deref().unwrap_or("")
                    )
                } else {
                    format!("允差 {}% 以内", m.mass_balance.tolerance_percent)
                },
            ),
        ],
    );
    let _ = write!(
        out,
        "<tr><th>应急措施</th><td colspan=\"3\">{}</td></tr>",
        escape(&m.emergency_measures)
    );

    section(&mut out, "第二部分　运输信息（承运人填写）");
    row(
        &mut out,
        &[
            ("承运人", &party(&m.carrier)),
            (
                "道路运输经营许可证",
                m.carrier.permit.as_deref().unwrap_or("—"),
            ),
        ],
    );
    row(
        &mut out,
        &[
            (
                "车牌号 / 危险货物运输证",
                &format!(
                    "{} / {}",
                    m.vehicle["plate"].as_str().unwrap_or("—"),
                    m.vehicle["permit"].as_str().unwrap_or("—")
                ),
            ),
            ("驾驶员", m.driver["name"].as_str().unwrap_or("—")),
        ],
    );
    let or_dash = |s: &str| if s.is_empty() { "—" } else { s }.to_owned();
    row(
        &mut out,
        &[
            (
                "押运员",
                m.escort
                    .as_ref()
                    .and_then(|e| e["name"].as_str())
                    .unwrap_or("—"),
            ),
            ("起运地", &or_dash(&m.departure_address)),
        ],
    );
    let _ = write!(
        out,
        "<tr><th>目的地</th><td colspan=\"3\">{}</td></tr>",
        escape(&or_dash(&m.destination_address))
    );

    section(&mut out, "第三部分　接受信息（接受人填写）");
    row(
        &mut out,
        &[
            ("接受人", &party(&m.receiver)),
            (
                "危险废物经营许可证",
                m.receiver.permit.as_deref().unwrap_or("—"),
            ),
        ],
    );
    let arrived = m
        .arrived_at
        .map_or_else(|| "—".to_owned(), |a| local(a, tz));
    let due = match (m.receipt_due_on, m.arrival_due_on) {
        (Some(d), _) => format!("接收确认期限 {d}"),
        (None, Some(d)) => format!("应运抵日期 {d}"),
        (None, None) => "—".to_owned(),
    };
    row(&mut out, &[("运抵时间", &arrived), ("期限", &due)]);
    row(
        &mut out,
        &[
            (
                "接受量",
                &m.mass_balance
                    .received_grams
                    .map_or_else(|| "—".to_owned(), kg_and_t),
            ),
            ("接受意见", m.decision.as_deref().map_or("—", zh)),
        ],
    );
    row(
        &mut out,
        &[
            (
                "拒收量",
                &m.refused_grams
                    .filter(|r| *r > 0)
                    .map_or_else(|| "—".to_owned(), kg),
            ),
            ("利用处置方式", m.treatment.as_deref().unwrap_or("—")),
        ],
    );
    let mut links: Vec<String> = Vec::new();
    if let Some(f) = &m.follows {
        links.push(format!(
            "本联单处理联单 {} 的拒收（{}）",
            f.number,
            zh(&f.reason)
        ));
    }
    for f in &m.followed_by {
        links.push(format!("拒收部分由联单 {} {}", f.number, zh(&f.reason)));
    }
    if !links.is_empty() {
        let _ = write!(
            out,
            "<tr><th>关联联单</th><td colspan=\"3\">{}</td></tr>",
            links
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    if let Some(status) = &m.case_status {
        row(
            &mut out,
            &[
                ("拒收处理", zh(status.as_str())),
                ("处理说明", m.case_resolution.as_deref().unwrap_or("—")),
            ],
        );
    }
    out.push_str("</table>");

    // The enterprises whose lots the manifest groups: one line each, however many lots, with
    // the grams of their lots refused when the receiver refused some.
    let mut by_enterprise: Vec<(&str, &str, usize, i64)> = Vec::new();
    for o in &m.origins {
        match by_enterprise
            .iter_mut()
            .find(|(id, _, _, _)| *id == o.enterprise_id)
        {
            Some((_, _, n, g)) => {
                *n += 1;
                *g = g.saturating_add(o.inbound_grams);
            }
            None => by_enterprise.push((&o.enterprise_id, &o.enterprise_name, 1, o.inbound_grams)),
        }
    }
    let refused_of = |enterprise: &str| {
        m.refusal.as_ref().map(|r| {
            r.by_enterprise
                .iter()
                .filter(|s| s.enterprise_id == enterprise)
                .fold(0_i64, |total, s| total.saturating_add(s.grams))
        })
    };
    let refusal = m.refusal.is_some();
    let _ = write!(
        out,
        "<table class=\"list\"><tr><th class=\"sec\" colspan=\"{}\">废物来源（园区入库批次）</th></tr>\
<tr><th>产废企业</th><th>批次数</th><th>入库称重</th>{}</tr>",
        if refusal { 4 } else { 3 },
        if refusal { "<th>其中拒收</th>" } else { "" }
    );
    for (id, name, lots, grams) in &by_enterprise {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{lots}</td><td>{}</td>{}</tr>",
            escape(name),
            kg(*grams),
            refused_of(id).map_or_else(String::new, |g| format!("<td>{}</td>", kg(g)))
        );
    }
    out.push_str(
        "</table><table class=\"list\"><tr><th class=\"sec\" colspan=\"4\">签署记录</th></tr>\
<tr><th>环节</th><th>签署人</th><th>单位及身份</th><th>时间</th></tr>",
    );
    for s in &m.signatures {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}（{}）</td><td>{}</td></tr>",
            escape(zh(&s.step)),
            escape(if s.name.is_empty() {
                &s.user_id
            } else {
                &s.name
            }),
            escape(&s.organization_name),
            escape(zh(&s.role)),
            local(s.at, tz)
        );
    }
    let _ = write!(
        out,
        "</table><p class=\"note\">时间为园区所在时区（{}）。重量以整数克记录，此处以千克、吨显示。扫描二维码可查看电子联单。</p></body></html>",
        escape(tz.name())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_print_exactly_whatever_the_sign() {
        assert_eq!(kg(1_234_567), "1234.567 kg");
        assert_eq!(kg(-500), "-0.500 kg");
        assert_eq!(kg(i64::MIN), "-9223372036854775.808 kg");
        assert_eq!(kg_and_t(2_080_000), "2080.000 kg（2.080000 吨）");
    }
}
