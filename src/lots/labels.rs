//! Container labels as SVG, and a printable page, after HJ 1276-2022.
//!
//! A hazardous lot gets the hazardous-waste label: yellow ground, the words 危险废物, waste name,
//! category and code, physical form, hazard characteristics, main components, production date,
//! producer and contact, the digital identification code and a QR code. A general lot gets a
//! simpler label. The label is a square of 100, 150 or 200 mm with 3, 5 or 6 mm text, drawn in
//! millimetre units so that it prints at its size. The QR code holds the lot's URL, which answers
//! only to a signed-in user allowed to see the lot.

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

use crate::domain::lot::LabelSize;
use crate::domain::waste::WasteKind;
use crate::lots::service::LabelData;

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn characteristic_zh(c: &str) -> &'static str {
    match c {
        "T" => "毒性",
        "C" => "腐蚀性",
        "I" => "易燃性",
        "R" => "反应性",
        "In" => "感染性",
        _ => "",
    }
}

/// Splits `text` into lines of at most `width` characters (CJK text has no spaces to break at).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// The QR code of `url` as one SVG path of unit squares (`M x,y h1v1h-1z` per dark module),
/// scaled into a square of `side` at (`x`, `y`).
pub fn qr_path(url: &str, x: f64, y: f64, side: f64) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 2;
    let modules = width + 2 * quiet;
    let scale = side / modules as f64;
    let mut d = String::new();
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let _ = write!(d, "M{},{}h1v1h-1z", i % width + quiet, i / width + quiet);
        }
    }
    Some(format!(
        r##"<g transform="translate({x:.2} {y:.2}) scale({scale:.4})"><rect width="{modules}" height="{modules}" fill="#fff"/><path class="qr" d="{d}" fill="#000"/></g>"##
    ))
}

/// The label of a lot as an SVG document of `size`, whose QR code holds `url`.
pub fn svg(data: &LabelData, size: LabelSize, url: &str) -> String {
    let side = f64::from(size.side_mm());
    let text = f64::from(size.text_mm());
    let line = text * 1.45;
    let margin = side * 0.04;
    let lot = &data.lot;
    let hazardous = lot.kind == WasteKind::Hazardous;
    let (title, ground) = if hazardous {
        ("危险废物", "#ffd200")
    } else {
        ("一般工业固体废物", "#ffffff")
    };
    let characteristics = data
        .characteristics
        .iter()
        .map(|c| format!("{c} {}", characteristic_zh(c)))
        .collect::<Vec<_>>()
        .join("、");
    let mut fields: Vec<(&str, String)> = vec![
        ("废物名称", data.code_name.clone()),
        ("废物类别", lot.category.clone()),
        ("废物代码", lot.waste_code.clone()),
        ("废物形态", lot.physical_form.label_zh().to_owned()),
    ];
    if hazardous {
        fields.push(("危险特性", characteristics));
        fields.push((
            "主要成分",
            lot.main_components
                .clone()
                .unwrap_or_else(|| data.code_name.clone()),
        ));
    }
    fields.push(("产生日期", lot.produced_on.to_string()));
    fields.push(("产生单位", data.producer.clone()));
    fields.push((
        "联系人",
        format!("{} {}", data.contact_name, data.contact_phone),
    ));
    fields.push((
        "净重",
        format!(
            "{:.3} kg（{}）",
            lot.net_grams as f64 / 1000.0,
            if lot.weight_source == "scale" {
                "称重"
            } else {
                "估计"
            }
        ),
    ));
    if let Some(code) = &lot.label_code {
        fields.push(("数字识别码", code.clone()));
    }

    let qr_side = side * 0.3;
    let chars_per_line = ((side - 2.0 * margin) / text) as usize;
    let mut body = String::new();
    let mut y = margin + text * 2.0;
    let _ = write!(
        body,
        r#"<text x="{:.2}" y="{y:.2}" font-size="{:.2}" font-weight="bold" text-anchor="middle">{}</text>"#,
        side / 2.0,
        text * 1.8,
        title
    );
    y += line * 1.2;
    for (name, value) in &fields {
        // Lines beside the QR code (at the bottom right) are shorter.
        let beside_qr = y + line > side - margin - qr_side;
        let width = if beside_qr {
            ((side - 3.0 * margin - qr_side) / text) as usize
        } else {
            chars_per_line
        };
        for (i, part) in wrap(&format!("{name}：{value}"), width).iter().enumerate() {
            if i > 0 {
                y += line;
            }
            let _ = write!(
                body,
                r#"<text x="{margin:.2}" y="{y:.2}" font-size="{text:.2}">{}</text>"#,
                escape(part)
            );
        }
        y += line;
    }
    let qr = qr_path(
        url,
        side - margin - qr_side,
        side - margin - qr_side,
        qr_side,
    )
    .unwrap_or_default();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{side}mm" height="{side}mm" viewBox="0 0 {side} {side}" font-family="'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif"><title>{title} {code}</title><rect x="0.5" y="0.5" width="{inner}" height="{inner}" fill="{ground}" stroke="#000" stroke-width="1"/>{body}{qr}</svg>"##,
        code = escape(&lot.waste_code),
        inner = side - 1.0,
    )
}

/// A page that prints the label twice, for two opposite sides of the container.
pub fn printable_page(data: &LabelData, size: LabelSize, url: &str) -> String {
    let label = svg(data, size, url);
    let side = size.side_mm();
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ margin: 0; }}
.label {{ width: {side}mm; height: {side}mm; margin: 0 0 8mm 0; page-break-inside: avoid; }}
.label svg {{ width: {side}mm; height: {side}mm; }}
</style></head>
<body onload="window.print()">
<div class="label">{label}</div>
<div class="label">{label}</div>
</body></html>
"#,
        title = escape(&format!("Label {}", data.lot.id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_wrapped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(wrap("一二三四五", 2), vec!["一二", "三四", "五"]);
        let qr =
            qr_path("https://example.test/api/v1/lots/lot_1", 0.0, 0.0, 30.0).unwrap_or_default();
        assert!(qr.contains("h1v1h-1z"));
    }
}
