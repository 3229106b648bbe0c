//! Charts where people would rather look than read: the park's stock at each month's end, and
//! the volumes it handed in, by month, by waste code and by enterprise, drawn as bars in SVG by the server (no script), each with its
//! figures as a table beneath for those who read rather than look.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::format::weight;
use crate::console::page::{PageError, given, page, respond, t};
use crate::console::session::Viewer;
use crate::error::ApiError;
use crate::figures::service::{StockHistory, VolumeFigures};
use crate::i18n::Locale;
use crate::state::AppState;

/// Bars a chart draws at most (the heaviest groups; the table lists them all).
const BARS: usize = 15;

#[derive(Debug, Default, Deserialize)]
pub struct MonthsQuery {
    from: Option<String>,
    to: Option<String>,
    /// The park, for whoever reads several (an inspector); a park's own office reads its own.
    park_id: Option<String>,
}

/// The charts of the viewer's park (`figures::service::read_charts`: its stock at each month's
/// end, and the volumes as `GET /api/v1/parks/{id}/figures/volumes` gives them by month, code
/// and enterprise), for the months asked (default: the API's).
#[get("/figures")]
pub async fn volume_charts(
    state: web::Data<AppState>,
    v: Viewer,
    query: web::Query<MonthsQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let park_id = q
        .park_id
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| v.principal.park_id.clone())
        .ok_or_else(|| {
            v.fail()(ApiError::Forbidden(
                "the charts are of a park: choose one among your parks",
            ))
        })?;
    let (now, principal) = (state.clock.now(), v.principal.clone());
    let (from, to) = (given(&q.from), given(&q.to));
    let charts = state
        .db
        .snapshot(move |conn| {
            crate::figures::service::read_charts(
                conn,
                now,
                &principal,
                &park_id,
                from.as_deref(),
                to.as_deref(),
            )
        })
        .await
        .map_err(v.fail())?;
    let l = v.locale;
    let title = t(l, "数量图表", "Charts");
    let body = html! {
        form.filters method="get" action="/figures" {
            div.field {
                label for="from" { (t(l, "起始月份", "From month")) }
                input #from name="from" type="text" inputmode="numeric" maxlength="7" placeholder="2026-01" value=(charts.by_month.from);
            }
            div.field {
                label for="to" { (t(l, "截止月份", "To month")) }
                input #to name="to" type="text" inputmode="numeric" maxlength="7" placeholder="2026-12" value=(charts.by_month.to);
            }
            @if let Some(park) = &q.park_id {
                input type="hidden" name="park_id" value=(park);
            }
            button type="submit" { (t(l, "查看", "Show")) }
        }
        p.muted #total {
            (charts.by_month.from) " – " (charts.by_month.to) " · "
            (t(l, "合计 ", "in all ")) (weight(charts.by_month.total_grams)) " · "
            (charts.by_month.total_lots) (t(l, " 批", " lots"))
        }
        (stock_chart(l, &charts.stock))
        (chart(l, "by-month", t(l, "按月", "By month"), &charts.by_month, false))
        (chart(l, "by-code", t(l, "按废物代码", "By waste code"), &charts.by_code, true))
        (chart(l, "by-enterprise", t(l, "按企业", "By enterprise"), &charts.by_enterprise, true))
    };
    Ok(respond(StatusCode::OK, page(&v, title, "/figures", body)))
}

/// A horizontal bar chart of `figures`' groups (the heaviest first when `heaviest`, else in
/// their order), scaled to the largest, with the figures as a table.
fn chart(l: Locale, id: &str, title: &str, figures: &VolumeFigures, heaviest: bool) -> Markup {
    let mut rows: Vec<_> = figures.rows.iter().collect();
    if heaviest {
        rows.sort_by_key(|r| std::cmp::Reverse(r.grams));
    }
    let name =
        |r: &crate::figures::service::VolumeRow| r.name.clone().unwrap_or_else(|| r.key.clone());
    let drawn: Vec<Bar> = rows
        .iter()
        .take(BARS)
        .map(|r| Bar {
            key: r.key.clone(),
            label: name(r),
            grams: r.grams,
        })
        .collect();
    let table = html! {
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t(l, "分组", "Group")) }
                th.number scope="col" { (t(l, "重量", "Weight")) }
                th.number scope="col" { (t(l, "批次", "Lots")) }
            } }
            tbody {
                @for r in &rows {
                    tr { td { (name(r)) } td.number { (weight(r.grams)) } td.number { (r.lots) } }
                }
            }
        } }
    };
    section(
        l,
        id,
        title,
        &drawn,
        table,
        t(l, "这段时间没有数量。", "Nothing in these months."),
    )
}

/// Stock over time: what the park's warehouses held at the end of each month (hazardous and
/// general together in the bars, apart in the table).
fn stock_chart(l: Locale, history: &StockHistory) -> Markup {
    let drawn: Vec<Bar> = history
        .months
        .iter()
        .map(|m| Bar {
            key: m.month.clone(),
            label: month_label(l, m),
            grams: m.total_grams,
        })
        .collect();
    let empty = history.months.iter().all(|m| {
        m.hazardous_lots == 0
            && m.general_lots == 0
            && m.hazardous_grams == 0
            && m.general_grams == 0
    });
    let table = html! {
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t(l, "月末", "Month's end")) }
                th.number scope="col" { (t(l, "危险废物", "Hazardous")) }
                th.number scope="col" { (t(l, "批次", "Lots")) }
                th.number scope="col" { (t(l, "一般工业固废", "General")) }
                th.number scope="col" { (t(l, "批次", "Lots")) }
            } }
            tbody {
                @for m in &history.months {
                    tr data-month=(m.month) {
                        td { (month_label(l, m)) }
                        td.number { (weight(m.hazardous_grams)) }
                        td.number { (m.hazardous_lots) }
                        td.number { (weight(m.general_grams)) }
                        td.number { (m.general_lots) }
                    }
                }
            }
        } }
    };
    section(
        l,
        "stock",
        t(
            l,
            "库存变化（月末库存）",
            "Stock over time (at each month's end)",
        ),
        if empty { &[] } else { &drawn },
        table,
        t(
            l,
            "这段时间仓库里没有废物。",
            "Nothing was stored in these months.",
        ),
    )
}

/// A month as the stock chart names it: this month's figure is the stock now.
fn month_label(l: Locale, m: &crate::figures::service::MonthStock) -> String {
    if m.so_far {
        format!("{}{}", m.month, t(l, "（至今）", " (so far)"))
    } else {
        m.month.clone()
    }
}

/// One bar: its key (kept on the drawing for tests and scripts), its label and its weight.
struct Bar {
    key: String,
    label: String,
    grams: i64,
}

/// A titled card with `drawn` as horizontal bars scaled to the largest, and `table`, the
/// figures, beneath; `empty` instead when there is nothing to draw.
fn section(l: Locale, id: &str, title: &str, drawn: &[Bar], table: Markup, empty: &str) -> Markup {
    let largest = drawn.iter().map(|r| r.grams).max().unwrap_or(0).max(1);
    let (label_width, bar_width, row_height) = (150_i64, 420_i64, 24_i64);
    let height = row_height * i64::try_from(drawn.len()).unwrap_or(0) + 8;
    html! {
        section.card aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (title) }
            @if drawn.is_empty() {
                p.muted { (empty) }
            } @else {
                svg.chart id=(id) role="img" aria-labelledby={ (id) "-title" }
                    viewBox={ "0 0 " (label_width + bar_width + 110) " " (height) } width="100%"
                    xmlns="http://www.w3.org/2000/svg" {
                    @for (i, r) in drawn.iter().enumerate() {
                        @let y = row_height * i64::try_from(i).unwrap_or(0) + 4;
                        @let w = i64::try_from(i128::from(r.grams.max(0)) * i128::from(bar_width) / i128::from(largest)).unwrap_or(bar_width);
                        g data-key=(r.key) {
                            text x=(label_width - 6) y=(y + 15) text-anchor="end" font-size="12" fill="#1b1f24" { (r.label) }
                            rect x=(label_width) y=(y + 2) width=(w.max(1)) height=(row_height - 6) fill="#0b5cad" {}
                            text x=(label_width + w.max(1) + 6) y=(y + 15) font-size="12" fill="#4a5562" { (weight(r.grams)) }
                        }
                    }
                }
                details {
                    summary { (t(l, "数据表", "The figures")) }
                    (table)
                }
            }
        }
    }
}
