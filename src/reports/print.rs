//! The report as a page designed for printing: A4 in Chinese (the browser's "print to PDF"
//! makes the PDF), server-rendered with the manifests' escaping; kilograms with three decimals
//! from integer grams.

use std::fmt::Write;

use crate::domain::billing::kilograms;
use crate::lots::labels::escape;
use crate::reports::service::{FindingCounts, ParkReport, RECTIFICATION_RULE_ZH, have_zh};

const STYLE: &str = "@page{size:A4;margin:12mm}\
*{box-sizing:border-box}body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;font-size:9pt;margin:0;color:#000}\
h1{font-size:15pt;margin:0 0 1mm}h2{font-size:11pt;margin:4mm 0 1mm}p{margin:0.5mm 0}\
table{border-collapse:collapse;width:100%;margin-bottom:2mm;page-break-inside:avoid}\
th,td{border:0.3mm solid #000;padding:0.8mm 1.2mm;text-align:left;vertical-align:top}\
th{background:#eee;font-weight:normal}td.n{text-align:right;white-space:nowrap}\
.note{font-size:8pt}@media screen{body{max-width:186mm;margin:8mm auto}}";

fn head(out: &mut String, cells: &[&str]) {
    out.push_str("<tr>");
    for c in cells {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr>");
}

/// One row: text cells then right-aligned figures.
fn row(out: &mut String, texts: &[&str], figures: &[String]) {
    out.push_str("<tr>");
    for t in texts {
        let _ = write!(out, "<td>{}</td>", escape(t));
    }
    for f in figures {
        let _ = write!(out, "<td class=\"n\">{}</td>", escape(f));
    }
    out.push_str("</tr>");
}

fn kg(g: i64) -> String {
    kilograms(g)
}

fn opt_percent(p: Option<i64>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{p}%"))
}

fn counts(c: &FindingCounts) -> Vec<String> {
    vec![
        c.patrols.to_string(),
        c.findings.to_string(),
        c.closed.to_string(),
        c.open.to_string(),
        c.overdue.to_string(),
        opt_percent(c.rectification_percent),
    ]
}

/// The page. Every value is escaped.
pub fn page(r: &ParkReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>园区固体废物管理报告 {name} {from}至{to}</title><style>{STYLE}</style></head><body>\
<h1>园区固体废物管理报告</h1><p>园区：<strong>{name}</strong></p>\
<p>统计期间：{from} 至 {to}（{tz}）· 生成时间：{at}</p>",
        name = escape(&r.park_name),
        from = escape(&r.from),
        to = escape(&r.to),
        tz = escape(&r.time_zone),
        at = escape(&r.generated_at.to_rfc3339()),
    );

    out.push_str("<h2>一、废物产生量与趋势（千克）</h2><table>");
    head(
        &mut out,
        &[
            "月份",
            "废物代码",
            "名称",
            "本月重量",
            "批次数",
            "去年同月",
            "预计重量",
            "回收利用",
            "处置",
        ],
    );
    for m in &r.trends.months {
        for t in &m.rows {
            row(
                &mut out,
                &[&m.month, &t.key, t.name.as_deref().unwrap_or("")],
                &[
                    kg(t.grams),
                    t.lots.to_string(),
                    kg(t.last_year_grams),
                    kg(t.expected_grams),
                    kg(t.recycled_grams),
                    kg(t.disposed_grams),
                ],
            );
        }
        row(
            &mut out,
            &[&m.month, "合计", ""],
            &[
                kg(m.grams),
                m.lots.to_string(),
                kg(m.last_year_grams),
                kg(m.expected_grams),
                kg(m.recycled_grams),
                kg(m.disposed_grams),
            ],
        );
    }
    row(
        &mut out,
        &["全期", "合计", ""],
        &[
            kg(r.trends.grams),
            String::new(),
            kg(r.trends.last_year_grams),
            kg(r.trends.expected_grams),
            kg(r.trends.recycled_grams),
            kg(r.trends.disposed_grams),
        ],
    );
    out.push_str("</table>");

    out.push_str("<h2>二、巡查与整改</h2><table>");
    head(
        &mut out,
        &[
            "范围",
            "巡查次数",
            "发现问题",
            "已整改（已关闭）",
            "未关闭",
            "逾期未整改",
            "整改率",
        ],
    );
    row(&mut out, &["全园区"], &counts(&r.patrols.counts));
    for e in &r.patrols.enterprises {
        row(
            &mut out,
            &[e.name.as_deref().unwrap_or("园区仓库")],
            &counts(&e.counts),
        );
    }
    let _ = write!(
        out,
        "</table><p class=\"note\">{}</p>",
        escape(RECTIFICATION_RULE_ZH)
    );

    let _ = write!(
        out,
        "<h2>三、企业“五个有”情况（统计日 {}，企业 {} 家）</h2><table>",
        escape(&r.five_haves.today.to_string()),
        r.five_haves.enterprises
    );
    head(&mut out, &["项目", "达标企业数", "企业总数"]);
    for h in &r.five_haves.haves {
        row(
            &mut out,
            &[have_zh(&h.have)],
            &[h.met.to_string(), r.five_haves.enterprises.to_string()],
        );
    }
    row(
        &mut out,
        &["五项全部达标"],
        &[
            r.five_haves.all_five.to_string(),
            r.five_haves.enterprises.to_string(),
        ],
    );
    out.push_str("</table></body></html>");
    out
}
