//! Container labels, storage-zone signs and facility signs as SVG, and printable pages, after
//! HJ 1276-2022.
//!
//! Every container of a lot has its own label. A hazardous lot's label has a yellow ground, the
//! words 危险废物 and every field of the standard's label: waste name, category, code, physical
//! form, hazard characteristics (with their pictograms: T, C, I, R, In), main components,
//! harmful constituents, precautions, the container's digital identification code, producer,
//! contact person and telephone, production date, weight and a remark (which container of how
//! many). A general lot gets a simpler label. The label is at least a square of 100, 150 or 200
//! mm with 3, 5 or 6 mm text, drawn in millimetre units so that it prints at its size; the
//! standard sets minimums, so a label with more text grows downwards rather than shrink its
//! text. The QR code holds the container's public verification page (`lots::verify`).

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

use crate::domain::label::copies_per_container;
use crate::domain::lot::LabelSize;
use crate::domain::waste::{Characteristic, WasteKind};
use crate::lots::containers::ContainerLabel;
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

pub(crate) fn characteristic_zh(c: Characteristic) -> &'static str {
    match c {
        Characteristic::T => "毒性",
        Characteristic::C => "腐蚀性",
        Characteristic::I => "易燃性",
        Characteristic::R => "反应性",
        Characteristic::In => "感染性",
    }
}

/// Width of a character in ems: CJK and full-width characters one, others a little over half.
fn char_em(c: char) -> f64 {
    if c.is_ascii() { 0.6 } else { 1.0 }
}

/// Splits `text` into lines at most `width` ems wide (CJK text has no spaces to break at).
fn wrap(text: &str, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = char_em(c);
        if used + w > width.max(1.0) && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The QR code of `url` as an SVG group: a white square with its quiet zone and one path of
/// unit squares (`M x,y h1v1h-1z` per dark module), scaled into a square of `side` at
/// (`x`, `y`).
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

/// The symbol of a hazard characteristic, drawn in a box of 100 × 100 units.
fn pictogram_symbol(c: Characteristic) -> &'static str {
    match c {
        // Skull and crossbones.
        Characteristic::T => {
            r##"<path d="M30 70L70 84M30 84L70 70" stroke="#000" stroke-width="6" stroke-linecap="round"/><circle cx="50" cy="44" r="15"/><rect x="42" y="54" width="16" height="9"/><circle cx="44" cy="43" r="4" fill="#fff"/><circle cx="56" cy="43" r="4" fill="#fff"/>"##
        }
        // Liquid from two tubes eating into a bar and a hand.
        Characteristic::C => {
            r##"<path d="M28 26l14 4-6 14-12-4zM58 26l14 4-6 14-12-4z"/><path d="M34 48v8M64 48v8" stroke="#000" stroke-width="3"/><path d="M24 66h22v8H24zM54 66h24l-4 8H54z"/><path d="M30 64l3-4 3 4M62 64l3-4 3 4" fill="none" stroke="#000" stroke-width="2"/>"##
        }
        // Flame over a base line.
        Characteristic::I => {
            r##"<path d="M50 20c8 14 20 22 16 40-2 10-10 16-16 16s-16-6-16-16c0-10 6-14 8-22 4 6 4 10 8 12 2-10 0-20 0-30z"/><rect x="30" y="78" width="40" height="4"/>"##
        }
        // A body bursting apart.
        Characteristic::R => {
            r##"<circle cx="50" cy="58" r="12"/><path d="M50 24l4 14 10-10-2 14 14-4-10 10M50 24l-4 14-10-10 2 14-14-4 10 10" fill="none" stroke="#000" stroke-width="3"/>"##
        }
        // Three rings about a centre (biohazard).
        Characteristic::In => {
            r##"<g fill="none" stroke="#000" stroke-width="5"><circle cx="50" cy="38" r="12"/><circle cx="38" cy="60" r="12"/><circle cx="62" cy="60" r="12"/></g><circle cx="50" cy="53" r="5"/>"##
        }
    }
}

/// The pictogram of a hazard characteristic: a red-bordered diamond with its black symbol and
/// its name beneath, `side` wide at (`x`, `y`).
pub fn pictogram(c: Characteristic, x: f64, y: f64, side: f64) -> String {
    let scale = side / 100.0;
    format!(
        r##"<g class="pictogram" data-characteristic="{code}" transform="translate({x:.2} {y:.2}) scale({scale:.4})"><title>{zh}</title><path d="M50 2L98 50L50 98L2 50Z" fill="#fff" stroke="#e60012" stroke-width="6"/><g transform="translate(20 18) scale(0.6)">{symbol}</g><text x="50" y="86" font-size="13" text-anchor="middle">{zh}</text></g>"##,
        code = c.as_str(),
        zh = characteristic_zh(c),
        symbol = pictogram_symbol(c),
    )
}

fn kg(grams: i64) -> String {
    format!("{:.3} kg", grams as f64 / 1000.0)
}

/// One container's label as an SVG document of `size` (HJ 1276-2022's minimum side and text
/// height; a label with more text than fits grows downwards, never below the minimum text).
pub fn svg(data: &LabelData, label: &ContainerLabel, size: LabelSize) -> String {
    let side = f64::from(size.side_mm());
    let text = f64::from(size.text_mm());
    let line = text * 1.35;
    let margin = side * 0.04;
    let lot = &data.lot;
    let hazardous = lot.kind == WasteKind::Hazardous;
    let (title, ground) = if hazardous {
        ("危险废物", "#ffd200")
    } else {
        ("一般工业固体废物", "#ffffff")
    };
    let characteristics: Vec<Characteristic> =
        crate::domain::waste::parse_characteristics("", &data.characteristics.join("/"))
            .unwrap_or_default()
            .into_iter()
            .collect();
    let weight = if label.weight_shared && label.count > 1 {
        format!(
            "{}（批次 {} 共 {} 件均分）",
            kg(label.grams),
            kg(lot.net_grams),
            label.count
        )
    } else {
        kg(label.grams)
    };
    let weight = format!(
        "{weight}（{}）",
        if lot.weight_source == "scale" {
            "称重"
        } else {
            "估计"
        }
    );
    let remark = format!("第 {}/{} 件", label.position, label.count);
    // Each row: one field, or two short ones side by side.
    let mut rows: Vec<Vec<(&str, String)>> = vec![
        vec![("废物名称", data.code_name.clone())],
        vec![
            ("废物类别", lot.category.clone()),
            ("废物代码", lot.waste_code.clone()),
        ],
        vec![
            ("废物形态", lot.physical_form.label_zh().to_owned()),
            ("产生日期", lot.produced_on.to_string()),
        ],
    ];
    let main_components = lot
        .main_components
        .clone()
        .unwrap_or_else(|| data.code_name.clone());
    if hazardous {
        rows.push(vec![(
            "危险特性",
            characteristics
                .iter()
                .map(|c| format!("{} {}", c.as_str(), characteristic_zh(*c)))
                .collect::<Vec<_>>()
                .join("、"),
        )]);
        rows.push(vec![("主要成分", main_components)]);
        rows.push(vec![("有害成分", label.harmful_components.clone())]);
        rows.push(vec![("注意事项", label.precautions.clone())]);
        if let Some(code) = &label.label_code {
            rows.push(vec![("数字识别码", code.clone())]);
        }
        rows.push(vec![("产生/收集单位", data.producer.clone())]);
    } else {
        rows.push(vec![("主要成分", main_components)]);
        rows.push(vec![("产生单位", data.producer.clone())]);
    }
    rows.push(vec![
        ("联系人", data.contact_name.clone()),
        ("联系方式", data.contact_phone.clone()),
    ]);
    rows.push(vec![("废物重量", weight)]);
    rows.push(vec![("备注", remark)]);

    let mut body = String::new();
    let mut y = margin + text * 2.0;
    let _ = write!(
        body,
        r#"<text x="{:.2}" y="{y:.2}" font-size="{:.2}" font-weight="bold" text-anchor="middle">{}</text>"#,
        side / 2.0,
        text * 1.8,
        title
    );
    y += line * 0.8;
    // The pictograms (left) and the QR code (right) share a band under the title.
    let band = side * 0.26;
    let picto = if hazardous && !characteristics.is_empty() {
        (band * 0.8).min((side * 0.66 - margin) / characteristics.len() as f64)
    } else {
        0.0
    };
    for (i, c) in characteristics.iter().enumerate() {
        if hazardous {
            body.push_str(&pictogram(
                *c,
                margin + i as f64 * picto * 1.05,
                y + (band - picto) / 2.0,
                picto,
            ));
        }
    }
    let qr = qr_path(&label.url, side - margin - band, y, band).unwrap_or_default();
    y += band + line;
    let width_em = (side - 2.0 * margin) / text;
    for row in &rows {
        if row.len() == 2 {
            let halves: Vec<String> = row.iter().map(|(n, v)| format!("{n}：{v}")).collect();
            let fits = halves
                .iter()
                .all(|h| h.chars().map(char_em).sum::<f64>() <= width_em / 2.0 - 0.5);
            if fits {
                for (i, h) in halves.iter().enumerate() {
                    let x = margin + i as f64 * (side - 2.0 * margin) / 2.0;
                    let _ = write!(
                        body,
                        r#"<text x="{x:.2}" y="{y:.2}" font-size="{text:.2}">{}</text>"#,
                        escape(h)
                    );
                }
                y += line;
                continue;
            }
        }
        for (name, value) in row {
            for part in wrap(&format!("{name}：{value}"), width_em) {
                let _ = write!(
                    body,
                    r#"<text x="{margin:.2}" y="{y:.2}" font-size="{text:.2}">{}</text>"#,
                    escape(&part)
                );
                y += line;
            }
        }
    }
    let height = side.max(y + margin);
    let code = label.label_code.as_deref().unwrap_or(&lot.waste_code);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{side}mm" height="{height:.0}mm" viewBox="0 0 {side} {height:.0}" font-family="'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif"><title>{title} {code}</title><rect x="0.5" y="0.5" width="{inner}" height="{inner_h:.0}" fill="{ground}" stroke="#000" stroke-width="1"/>{body}{qr}</svg>"##,
        code = escape(code),
        inner = side - 1.0,
        inner_h = height.round() - 1.0,
    )
}

/// A page that prints the labels of a lot's containers: one per container, two (for two
/// opposite sides) where the container is over 450 L.
pub fn printable_page(data: &LabelData, labels: &[ContainerLabel], size: LabelSize) -> String {
    let copies = copies_per_container(data.lot.container_litres);
    let side = size.side_mm();
    let mut body = String::new();
    for label in labels {
        let svg = svg(data, label, size);
        for copy in 1..=copies {
            let _ = write!(
                body,
                r#"<div class="label" data-container="{}" data-copy="{copy}">{svg}</div>"#,
                label.position
            );
        }
    }
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ margin: 0; }}
.label {{ width: {side}mm; margin: 0 0 8mm 0; page-break-inside: avoid; }}
.label svg {{ width: {side}mm; height: auto; }}
</style></head>
<body onload="window.print()">
{body}
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
        assert_eq!(wrap("一二三四五", 2.0), vec!["一二", "三四", "五"]);
        assert_eq!(wrap("ab一", 1.2), vec!["ab", "一"]);
        let qr =
            qr_path("https://example.test/api/v1/lots/lot_1", 0.0, 0.0, 30.0).unwrap_or_default();
        assert!(qr.contains("h1v1h-1z"));
    }
}
